/* SPDX-License-Identifier: GPL-2.0 */
/* SIGINT and SIGTERM end a command that runs until stopped (events --follow,
 * stats --watch): it asks stopped() between rounds. */
#ifndef SIPKA_SIGNALS_H
#define SIPKA_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

/* From now on SIGINT and SIGTERM make stopped() true, and interrupt a sleep. */
void stop_on_signals(void);
bool stopped(void);
/* From now on SIGHUP asks for a reload (systemctl reload: ExecReload=kill
 * -HUP), and interrupts a wait; reload_asked() says whether one was asked
 * since it last said so. */
void reload_on_sighup(void);
bool reload_asked(void);
/* Sleeps SECS seconds plus NSECS, or until stopped. */
void sleep_unless_stopped(time_t secs, long nsecs);

/* For a command whose work is done by threads it starts: blocks SIGINT and
 * SIGTERM in this thread, so that the threads started from now on never
 * take them; *OLD gets the mask before. */
void block_stop_signals(sigset_t *old);
/* After block_stop_signals(OLD): waits until stopped, then restores OLD. */
void wait_for_stop(const sigset_t *old);

#endif
