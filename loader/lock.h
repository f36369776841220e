/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The locks: the writers' lock on the pin dir (one command changes sipka's
 * state at a time) and the events reader's lock (one reader of the ring
 * buffer at a time).
 */
#ifndef SIPKA_LOCK_H
#define SIPKA_LOCK_H

#include "pindir.h"

/* Takes the writers' lock (flock on the directory), waiting at most
 * PINDIR_LOCK_WAIT_S (or $SIPKA_LOCK_WAIT seconds); says who holds it when
 * it gives up. Released by pindir_close(). */
#define PINDIR_LOCK_WAIT_S 10
int pindir_lock(struct pindir *pd);

/* The one reader of the events ring buffer of the pin dir PATH: an
 * abstract socket named after the path, gone with the process (the pin
 * dir's flock is the writers'). Returns its fd, or -EADDRINUSE (nothing
 * printed) when another reader holds it. */
int pindir_reader_lock(const char *path);

#endif
