// SPDX-License-Identifier: GPL-2.0
/* Map values as bpftool may write them by hand: a rule set (the config
 * map's array, indexed by port) read back with conf_from_array and checked
 * with sipka_rule_valid, a rule changed from a live one (draft_resolve with
 * a base), and per-port counters merged with the rules (stats_rows) and
 * printed as Prometheus text.
 *
 * Input: a byte N, then N records of (port: 2 bytes, copies: 1 byte, struct
 * sipka_rule), the rule written at port and the COPIES ports after it (so
 * that a few records make more rules than sipka holds), then records of
 * (port: 2 bytes, struct sipka_counters). Ports are taken modulo PORTS, the
 * array's size here: the kernel's has SIPKA_PORTS, a pass over which would
 * make each run 16 times slower for no other path. */
#include <stdio.h>

#include "conf.h"
#include "counter_table.h"
#include "fuzz.h"
#include "prometheus.h"

#define PORTS 4096

static struct sipka_rule all[PORTS];
static struct sipka_counters counted[PORTS];
static bool has[PORTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct port_counters pc[PORTS];
	static struct health h;
	static __u16 touched[PORTS];
	struct stats_row *rows;
	struct sipka_rule changed;
	struct draft d = { 0 };
	unsigned int i, j, nt = 0;
	int n, na = 0, p;
	__u8 nrules = 0, copies;
	struct sipka_rule rule;
	__u16 port;
	size_t len;
	char *text;
	FILE *f;

	fuzz_take(&data, &size, &nrules, 1);
	for (i = 0; i < nrules && size; i++) {
		fuzz_take(&data, &size, &port, sizeof(port));
		fuzz_take(&data, &size, &copies, sizeof(copies));
		fuzz_take(&data, &size, &rule, sizeof(rule));
		for (j = 0; j <= copies && nt < PORTS; j++) {
			all[(port + j) % PORTS] = rule;
			touched[nt++] = (port + j) % PORTS;
		}
	}
	while (size && nt < PORTS) {
		fuzz_take(&data, &size, &port, sizeof(port));
		port %= PORTS;
		fuzz_take(&data, &size, &counted[port], sizeof(counted[port]));
		has[port] = true;
		touched[nt++] = port;
	}
	if (conf_from_array(all, PORTS, &h.rules) < h.rules.n || h.rules.n > SIPKA_MAX_RULES)
		abort();
	for (i = 0; i < h.rules.n; i++) {
		sipka_rule_valid(&h.rules.rules[i].rule);
		if (strlen(h.rules.rules[i].rule.name) >= SIPKA_NAME_LEN)
			abort();
		d.given = h.rules.rules[i].rule.flags; /* any settings given */
		d.time = h.rules.rules[i].rule.intvl;
		draft_resolve(&d, &h.rules.rules[i].rule, &changed);
	}
	for (p = 1; p < PORTS && na < SIPKA_MAX_STATS; p++) /* as counters_all gives them */
		if (has[p]) {
			pc[na].port = p;
			pc[na++].c = counted[p];
		}
	rows = calloc(h.rules.n + na + 1, sizeof(*rows));
	f = open_memstream(&text, &len);
	if (rows && f) {
		n = stats_rows(&h.rules, pc, na, rows);
		if (n < 0 || (unsigned int)n > h.rules.n + na)
			abort();
		h.up = true;
		/* The meta map's version, NUL-terminated by state.c: any bytes. */
		snprintf(h.version, sizeof(h.version), "%s",
			 h.rules.n ? h.rules.rules[0].rule.name : "");
		prometheus_print(f, rows, n, &h);
	}
	if (f) {
		fclose(f);
		free(text);
	}
	free(rows);
	for (i = 0; i < nt; i++) { /* as zero as the next input expects */
		memset(&all[touched[i]], 0, sizeof(all[0]));
		memset(&counted[touched[i]], 0, sizeof(counted[0]));
		has[touched[i]] = false;
	}
	return 0;
}
