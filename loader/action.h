/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipka events --exec: a program run for each event, beside the reading.
 * The reader hands each event over with actions_submit(), which never
 * blocks: it queues the event (up to a bound; past it the event is counted
 * as dropped) and a thread of its own starts the program for it, at most
 * `jobs` at once, each with the event's JSON on standard input and its
 * fields in the environment (execenv.h), no shell, and a time limit after
 * which its process group is killed. What the program prints is logged
 * (stderr, the journal under systemd): its standard output line by line, and
 * on a non-zero exit or a timeout its standard error. No CLI globals.
 */
#ifndef SIPKA_ACTION_H
#define SIPKA_ACTION_H

#include <jansson.h>
#include <stdbool.h>

#include "conf.h"

struct actions;

/* Starts the runner for C (C->exec: a path exec_trusted() accepted, or ""
 * for none yet). NULL, said why, when it cannot. */
struct actions *actions_start(const struct conf_events *c);
/* From now on C: new limits, and the program for the events not started yet
 * (those running keep theirs). An empty C->exec drops what is queued. */
void actions_set(struct actions *a, const struct conf_events *c);
/* Queues the event EVENT (a JSON object; a reference is taken). Never
 * blocks. Returns 0 queued, 1 dropped (the queue was full: counted). */
int actions_submit(struct actions *a, json_t *event);
/* Says how many events were dropped so far, if that grew: the first drop at
 * once, then at most every 10 s (and at actions_stop). */
void actions_report(struct actions *a);
/* Stops: what is queued is not run (said, with its count); what runs gets
 * SIGTERM (its process group) and is waited for until it ends or its time
 * limit kills it. Frees A. */
void actions_stop(struct actions *a);

#endif
