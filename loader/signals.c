// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "signals.h"

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload = 1;
}

void reload_on_sighup(void)
{
	signal(SIGHUP, on_hup);
}

bool reload_asked(void)
{
	bool asked = reload;

	reload = 0;
	return asked;
}

void stop_on_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

bool stopped(void)
{
	return stop;
}

void sleep_unless_stopped(time_t secs, long nsecs)
{
	struct timespec left = { secs, nsecs };

	while (!stop && nanosleep(&left, &left) && errno == EINTR)
		;
}

void block_stop_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

void wait_for_stop(const sigset_t *old)
{
	sigset_t wait = *old;

	/* Blocked but in sigsuspend: one between the test and the wait is not lost. */
	sigdelset(&wait, SIGINT);
	sigdelset(&wait, SIGTERM);
	while (!stop)
		sigsuspend(&wait);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}
