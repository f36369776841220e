/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What sipka stats reports, read from the kernel: the rows (rules and
 * counters merged) and sipka's health; for the metrics (--prometheus, the
 * HTTP server), a whole reading from the pin dir, "not loaded" included.
 */
#ifndef SIPKA_STATS_READ_H
#define SIPKA_STATS_READ_H

#include <stdbool.h>

#include "counter_table.h"
#include "pindir.h"
#include "prometheus.h"
#include "state.h"

/* A row per rule, and one per port whose rule is gone but counters stay. */
#define STATS_MAX_ROWS (SIPKA_MAX_RULES + SIPKA_MAX_STATS)

/* The rows of S into ROWS (STATS_MAX_ROWS): how many, or -errno (said). */
int stats_read_rows(const struct state *s, struct stats_row *rows);

/* What the metrics say besides the counters (up: true). */
void stats_read_health(const struct pindir *pd, const struct state *s, struct health *h);

/* What the metrics say at one moment. */
struct metrics {
	unsigned int close_wait_after; /* s: the caller's (--close-wait-after) */
	unsigned int walk_every;       /* s: walk the sockets at most this often (0: each read) */
	/* The last walk's phantoms, per rule port, reused until walk_every passes. */
	struct {
		__u32 port, n;
	} phantoms[STATS_MAX_ROWS];
	int nphantoms;	 /* -1: no walk yet, or the last one failed */
	__u64 walked_ns; /* CLOCK_MONOTONIC of the last walk */
	struct stats_row rows[STATS_MAX_ROWS];
	int n;
	struct health h; /* h.up: sipka is loaded */
};

/* Reads M from pin dir PIN_DIR (the caller sets close_wait_after and
 * walk_every, and nphantoms to -1, once): 0 (M->h.up false when sipka is not
 * loaded: a state, not an error), or -errno (said), M then holding what is
 * known. "Not loaded" is said once while *SAID (the caller's, false at
 * first) stays true, and said again after sipka was loaded in between. */
int metrics_read(const char *pin_dir, struct metrics *m, bool *said);

#endif
