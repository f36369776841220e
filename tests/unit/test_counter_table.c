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

static void rule(struct conf *c, __u32 port, const char *name)
{
	memset(&c->rules[c->n], 0, sizeof(c->rules[c->n]));
	c->rules[c->n].port = port;
	strncpy(c->rules[c->n].rule.name, name, SIPKA_NAME_LEN - 1);
	c->n++;
}

TEST(stats_rows_one_per_rule_and_one_per_port_whose_rule_is_gone)
{
	static struct conf rules;
	struct port_counters all[3] = { { 5000, { .armed = 5 } },
					{ 5060, { .armed = 3, .closed = 2 } },
					{ 5070, { .armed = 1 } } };
	struct stats_row rows[6];

	rule(&rules, 5060, "tcp");
	rule(&rules, 5061, "tls");
	memset(rows, 0xff, sizeof(rows));
	CHECK(stats_rows(&rules, all, 3, rows) == 4);
	CHECK(rows[0].port == 5000 && !rows[0].name[0] && rows[0].c.armed == 5);
	CHECK(rows[1].port == 5060 && !strcmp(rows[1].name, "tcp") && rows[1].c.armed == 3 &&
	      rows[1].c.closed == 2);
	CHECK(rows[2].port == 5061 && !strcmp(rows[2].name, "tls") && rows[2].c.armed == 0 &&
	      rows[2].c.untracked == 0);
	CHECK(rows[3].port == 5070 && !rows[3].name[0] && rows[3].c.armed == 1);
}

TEST(stats_rows_of_nothing)
{
	static struct conf rules, one;
	struct port_counters all[1] = { { 5060, { .reset = 4 } } };
	struct stats_row rows[2];

	CHECK(stats_rows(&rules, all, 0, rows) == 0);
	CHECK(stats_rows(&rules, all, 1, rows) == 1);
	CHECK(rows[0].port == 5060 && !rows[0].name[0] && rows[0].c.reset == 4);
	rule(&one, 5061, "tls");
	CHECK(stats_rows(&one, all, 0, rows) == 1);
	CHECK(rows[0].port == 5061 && !strcmp(rows[0].name, "tls") && !rows[0].c.reset);
}
