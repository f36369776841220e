// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <string.h>

#include "counter_table.h"
#include "unit.h"

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && !strcmp(s + n - m, end);
}

TEST(counters_has_one_row_per_field_of_sipka_counters)
{
	bool seen[NCOUNTERS] = { false };
	size_t k;

	CHECK(sizeof(struct sipka_counters) == NCOUNTERS * sizeof(__u64));
	for (k = 0; k < NCOUNTERS; k++) {
		/* A field added to struct sipka_counters without its row is a row of zeros. */
		CHECK(counters[k].column && counters[k].json && counters[k].metric);
		CHECK(counters[k].off % sizeof(__u64) == 0);
		CHECK(counters[k].off < sizeof(struct sipka_counters));
		if (counters[k].off < sizeof(struct sipka_counters)) {
			CHECK(!seen[counters[k].off / sizeof(__u64)]);
			seen[counters[k].off / sizeof(__u64)] = true;
		}
	}
	for (k = 0; k < NCOUNTERS; k++)
		CHECK(seen[k]);
}

TEST(counters_reads_the_field_it_names)
{
	struct sipka_counters c = { .armed = 1, .dead_retransmit = 4, .untracked = 9 };
	size_t k;

	for (k = 0; k < NCOUNTERS; k++) {
		if (!strcmp(counters[k].json, "armed"))
			CHECK(counter_value(&c, &counters[k]) == 1);
		else if (!strcmp(counters[k].json, "dead_retransmit"))
			CHECK(counter_value(&c, &counters[k]) == 4);
		else if (!strcmp(counters[k].json, "untracked"))
			CHECK(counter_value(&c, &counters[k]) == 9);
		else
			CHECK(counter_value(&c, &counters[k]) == 0);
	}
}

TEST(counters_names_are_unique_and_metrics_well_typed)
{
	size_t k, j;

	CHECK(counters[0].type != NULL);
	for (k = 0; k < NCOUNTERS; k++) {
		for (j = 0; j < k; j++) {
			CHECK(strcmp(counters[k].column, counters[j].column));
			CHECK(strcmp(counters[k].json, counters[j].json));
		}
		CHECK(!strncmp(counters[k].metric, "sipka_", 6));
		if (!counters[k].type) {
			/* Another label of the family above: same metric, a reason each. */
			CHECK(k > 0 && !strcmp(counters[k].metric, counters[k - 1].metric));
			CHECK(counters[k].reason && counters[k - 1].reason);
			CHECK(!counters[k].help);
			continue;
		}
		CHECK(counters[k].help && counters[k].help[0]);
		for (j = 0; j < k; j++) /* a family is declared once */
			CHECK(strcmp(counters[k].metric, counters[j].metric));
		if (!strcmp(counters[k].type, "counter"))
			CHECK(ends_with(counters[k].metric, "_total"));
		else
			CHECK(!strcmp(counters[k].type, "gauge") &&
			      !ends_with(counters[k].metric, "_total"));
	}
}
