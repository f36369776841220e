/* SPDX-License-Identifier: GPL-2.0 */
/* The counters: per-CPU values in the stats map, a slot per rule port (the
 * slots map says which), summed for people. */
#ifndef SIPKA_COUNTERS_H
#define SIPKA_COUNTERS_H

#include <stdbool.h>

#include "sipka.h"

struct port_counters {
	__u32 port;
	struct sipka_counters c; /* summed over every CPU */
};

/* Whether SLOT (a value of the slots map) holds a port's counters. */
static inline bool counters_slot_valid(__u32 slot)
{
	return slot && slot < SIPKA_MAX_STATS;
}

/* Every port that has counters, ascending, into OUT (SIPKA_MAX_STATS
 * entries): how many, or -errno (nothing printed). */
int counters_all(int stats_fd, int slots_fd, struct port_counters *out);

#endif
