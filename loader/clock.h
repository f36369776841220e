/* SPDX-License-Identifier: GPL-2.0 */
/* The time on a clock, in nanoseconds. */
#ifndef SIPKA_CLOCK_H
#define SIPKA_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __s64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
