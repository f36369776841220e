// SPDX-License-Identifier: GPL-2.0
/* sipka stats: the counters of every rule port. */
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "pins.h"
#include "rules.h"

static const struct cmd_help help = {
	"stats", "",
	"Shows the counters of each rule port:\n"
	"  ARMED      connections keepalive was set on\n"
	"  ACTIVE     armed and still open\n"
	"  DEAD_KA    dead peers found by keepalive (probes went unanswered)\n"
	"  DEAD_RTX   dead peers found by retransmission (data unacknowledged:\n"
	"             retransmission limit or TCP_USER_TIMEOUT)\n"
	"  RESET      connections the peer reset\n"
	"  CLOSED     every close of an armed connection, whatever the reason\n"
	"  ERRORS     invalid rules, failed setsockopt, no memory\n"
	"Counters of a deleted rule stay, with name '-', until 'sipka detach'.\n",
};

struct row {
	__u32 port;
	char name[SIPKA_NAME_LEN];
	struct sipka_counters c;
};

static int by_port(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return (x->port > y->port) - (x->port < y->port);
}

/* One row per rule, and one per port whose rule is gone but counters stay. */
static int read_rows(const struct pins *p, struct row *rows)
{
	const struct sipka_rule *r;
	__u32 key, next, *prev = NULL;
	struct conf rules;
	unsigned int i;
	int n = 0;

	rules_read(p->config_fd, &rules);
	for (i = 0; i < rules.n; i++) {
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].port = rules.rules[i].port;
		memcpy(rows[n].name, rules.rules[i].rule.name, SIPKA_NAME_LEN);
		bpf_map_lookup_elem(p->stats_fd, &rows[n].port, &rows[n].c);
		n++;
	}
	while (n < SIPKA_MAX_RULES + SIPKA_MAX_STATS &&
	       !bpf_map_get_next_key(p->stats_fd, prev, &next)) {
		key = next;
		prev = &key;
		r = conf_find(&rules, key);
		if (r)
			continue;
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].port = key;
		if (!bpf_map_lookup_elem(p->stats_fd, &key, &rows[n].c))
			n++;
	}
	qsort(rows, n, sizeof(rows[0]), by_port);
	return n;
}

int cmd_stats(int argc, char **argv)
{
	static struct row rows[SIPKA_MAX_RULES + SIPKA_MAX_STATS];
	struct pins p = PINS_INIT;
	json_t *j;
	int c, i, n, rc;

	while ((c = next_opt(argc, argv, &help, NULL, &rc)) != -1)
		return rc;
	if (want_args(argc, argv, 0, 0, &help))
		return EXIT_USAGE;
	if (pins_open(&p))
		return EXIT_FAIL;
	n = read_rows(&p, rows);
	pins_close(&p);
	if (g.json) {
		j = json_array();
		for (i = 0; i < n; i++) {
			const struct sipka_counters *s = &rows[i].c;

			json_array_append_new(j, json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				"port", rows[i].port, "name", rows[i].name,
				"armed", (json_int_t)s->armed, "active", (json_int_t)s->active,
				"dead_keepalive", (json_int_t)s->dead_keepalive,
				"dead_retransmit", (json_int_t)s->dead_retransmit,
				"reset", (json_int_t)s->reset, "closed", (json_int_t)s->closed,
				"errors", (json_int_t)s->errors));
		}
		return json_print(j);
	}
	printf("%-6s %-15s %10s %10s %10s %10s %10s %10s %8s\n", "PORT", "NAME", "ARMED",
	       "ACTIVE", "DEAD_KA", "DEAD_RTX", "RESET", "CLOSED", "ERRORS");
	for (i = 0; i < n; i++) {
		const struct sipka_counters *s = &rows[i].c;

		printf("%-6u %-15s %10llu %10llu %10llu %10llu %10llu %10llu %8llu\n",
		       rows[i].port, rule_name(rows[i].name), s->armed, s->active,
		       s->dead_keepalive, s->dead_retransmit, s->reset, s->closed, s->errors);
	}
	return EXIT_OK;
}
