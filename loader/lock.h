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

/* The one reader of the events ring buffer of the pin dir PATH, gone with
 * the process (the pin dir's flock is the writers'): a lock on a byte of
 * the pin dir's parent directory (an OFD lock: a reader in a container that
 * shares the bpffs sees it, whatever its namespaces) and the abstract socket
 * named after the path of sipka 0.3.0's readers (per network namespace).
 * Returns 0, or -EADDRINUSE (nothing printed) when another reader holds
 * either. */
struct reader_lock {
	int sock, dir;
};
int pindir_reader_lock(const char *path, struct reader_lock *lk);
void pindir_reader_unlock(struct reader_lock *lk);

#endif
