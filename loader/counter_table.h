/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one description of each counter of struct sipka_counters: its table
 * column, JSON name, Prometheus metric, type and help. The stats table, its
 * JSON and the Prometheus text all follow counters[]. Pure: unit-tested.
 */
#ifndef SIPKA_COUNTER_TABLE_H
#define SIPKA_COUNTER_TABLE_H

#include <stddef.h>

#include "conf.h"
#include "counters.h"
#include "sipka.h"

/* A metric with a NULL type continues the family above it (another reason label). */
struct counter {
	const char *column, *json;
	size_t off; /* in struct sipka_counters */
	const char *metric, *type, *help, *reason;
};
/* One row per field: struct sipka_counters is all __u64 (tests/unit/test_counter_table.c
 * finds a field without its row). */
#define NCOUNTERS (sizeof(struct sipka_counters) / sizeof(__u64))
extern const struct counter counters[NCOUNTERS];

static inline __u64 counter_value(const struct sipka_counters *c, const struct counter *k)
{
	return *(const __u64 *)((const char *)c + k->off);
}

/* One rule port's counters: its rule's name, or "" when the rule is gone. */
struct stats_row {
	__u32 port;
	char name[SIPKA_NAME_LEN];
	struct sipka_counters c;
	__u32 phantoms; /* the metrics only: CLOSE_WAIT connections held too long */
};

/* The rows of RULES and of the counters of NA ports (ALL), both in port
 * order: one per rule, and one per port whose rule is gone but whose
 * counters stay. ROWS: room for RULES->n + NA. Returns how many. */
int stats_rows(const struct conf *rules, const struct port_counters *all, int na,
	       struct stats_row *rows);

#endif
