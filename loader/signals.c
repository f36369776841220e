// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>

#include "signals.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
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
