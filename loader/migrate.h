/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Migration: the pinned maps of an older layout (or of another conns table
 * size) opened loosely, and their rules, counters and tracked connections
 * carried into the maps of this layout, value by value.
 */
#ifndef SIPKA_MIGRATE_H
#define SIPKA_MIGRATE_H

#include <stdbool.h>
#include <linux/types.h>

#include "pindir.h"
#include "state.h"

/* The pinned maps of the layout being replaced: their values may differ
 * from this build's. */
struct old {
	int layout;
	struct state s; /* config (the live rule set), stats, slots, conns, events, untracked */
	struct sipka_conn *live; /* its tracked connections, in this layout's form */
	__u32 nlive;
};

/* Opens the maps of LAYOUT in PD into O (migrate_close() it, even on failure). */
int migrate_open(const struct pindir *pd, int layout, struct old *o);
void migrate_close(struct old *o);

/* Copies O's rules into the new rule set TO (a longer rule is zero-filled;
 * a port above 65535, which bpftool may write into a hash, is left behind). */
int migrate_rules(const struct old *o, int to);
/* Carries O's counters into the new STATS and SLOTS maps. READOPT: the old
 * layout tracked no connection (0.1.0), so its active ones are armed again. */
int migrate_stats(const struct old *o, int stats, int slots, bool readopt);
/* Puts the connections O tracks in the SLOTS slots of conns map FD. */
int migrate_conns(const struct old *o, int fd, __u32 slots);

#endif
