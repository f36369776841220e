/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's tick rate, HZ (CONFIG_HZ), measured exactly, without its
 * config file. A socket keeps its receive timeout (SO_RCVTIMEO) in jiffies:
 * it keeps U microseconds as U / (1000000 / HZ) jiffies rounded up, and gives
 * J jiffies back as J / HZ seconds and (J % HZ) * 1000000 / HZ microseconds.
 * So one microsecond comes back as one jiffy's length, 1000000 / HZ rounded
 * down, which leaves one candidate for HZ up to 1000 (a few above), and a
 * timeout of exactly H jiffies comes back as 1 s only when H is HZ. Every
 * kernel does this, on any socket, without privilege.
 */
#ifndef SIPKA_HZ_H
#define SIPKA_HZ_H

#include <sys/time.h>

/* Sets a receive timeout of USEC microseconds (0 s and USEC, under one
 * second) and reads back the one kept into BACK: 0, or -errno. */
typedef int (*hz_roundtrip)(void *ctx, long usec, struct timeval *back);

/* HZ found through RT (the socket's, or the unit tests' model of it): HZ,
 * or -errno: RT's, or -ERANGE when no HZ explains what came back. Nothing
 * printed. */
int hz_find(hz_roundtrip rt, void *ctx);
/* The running kernel's HZ, through a socket of its own: HZ, or -errno
 * (nothing printed). */
int hz_measure(void);

#endif
