// SPDX-License-Identifier: GPL-2.0
/* sipka connections: every armed connection now, its keepalive in force and
 * the kernel's live state of its socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cli.h"
#include "existing.h"
#include "format.h"
#include "output.h"
#include "parse.h"
#include "rules.h"
#include "state.h"

enum { OPT_PORT = OPT_LONG_ONLY, OPT_PEER };

static const struct opt connections_opts[] = {
	{ .name = "port",
	  .key = OPT_PORT,
	  .value = "PORT",
	  .help = "only connections of this rule port" },
	{ .name = "peer",
	  .key = OPT_PEER,
	  .value = "ADDR",
	  .help = "only connections to this peer address" },
	{ .name = "all",
	  .key = 'a',
	  .help = "also connections on rule ports that sipka did not arm (made before a --new-only attach), with their keepalive" },
	{ 0 },
};

const struct cmd_help cmd_connections_help = {
	.name = "connections",
	.args = "",
	.nargs = 0,
	.text = "Lists every connection sipka armed in the attached cgroups: peer and local\n"
		"address, rule port and name, when it was armed, the keepalive in force, and\n"
		"the socket's live state: idle time since the peer last sent anything,\n"
		"keepalive probes sent unanswered, retransmissions, RTT. KEEPALIVE is\n"
		"time/intvl x probes in seconds (60/10x3); BOUND is how long a silent peer\n"
		"lasts (time + intvl x probes); DEAD_IN, when it will be declared dead if it\n"
		"stays silent ('-' while it is not idle). The table fits the terminal's width\n"
		"(100 columns when it is not a terminal): LOCAL, then NAME, then PEER are\n"
		"elided in the middle ('...') when a line would be wider; -j has every field.\n",
	.opts = connections_opts,
};

static int by_port_peer(const void *a, const void *b)
{
	const struct sipka_conn_info *x = a, *y = b;
	int c = (x->rule_port > y->rule_port) - (x->rule_port < y->rule_port);

	return c ? c : memcmp(x->remote_addr, y->remote_addr, sizeof(x->remote_addr));
}

/* The peer filter: ADDR in either notation matches IPv4 and v4-mapped IPv6. */
static bool peer_is(const struct sipka_conn_info *c, const char *want)
{
	char buf[INET6_ADDRSTRLEN];
	bool v4;

	return !strcmp(addr_format(c->family, c->remote_addr, buf, &v4), want);
}

static __u32 bound_s(const struct sipka_conn_info *c)
{
	return c->keepalive_time_s + c->keepalive_intvl_s * c->keepalive_probes;
}

static json_t *info_json(const struct sipka_conn_info *c, const char *name)
{
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
	bool v4;

	addr_format(c->family, c->local_addr, local, &v4);
	addr_format(c->family, c->remote_addr, remote, &v4);
	return json_pack(
		"{s:s, s:i, s:s, s:i, s:i, s:s, s:b, s:b, s:o, s:{s:b, s:i, s:i, s:i, s:i}, "
		"s:i, s:i, s:i, s:i, s:I}",
		"remote_addr", remote, "remote_port", c->remote_port, "local_addr", local,
		"local_port", c->local_port, "rule_port", c->rule_port, "name", name, "armed",
		c->armed_ns || c->untracked, "tracked", c->armed_ns != 0, "armed_s_ago",
		c->armed_ns ? json_integer((c->now_ns - c->armed_ns) / 1000000000ULL) : json_null(),
		"keepalive", "on", c->keepalive, "time", c->keepalive_time_s, "intvl",
		c->keepalive_intvl_s, "probes", c->keepalive_probes, "user_timeout_ms",
		c->user_timeout_ms, "idle_ms", c->idle_ms, "probes_out", c->probes_out,
		"retransmits", c->retransmits, "rtt_us", c->srtt_us, "cgroup_id",
		(json_int_t)c->cgroup_id);
}

/* The table's columns, each as wide as its widest cell. When a line would be
 * wider than out_width(), three give way, elided in the middle: LOCAL first
 * (down to its port), then NAME, then PEER (down to an IPv4 endpoint's
 * width). -j has every field whole. */
enum col { PEER, LOCAL, RULE, NAME, ARMED, KEEPALIVE, BOUND, IDLE, DEAD_IN, PRB, RTX, RTT, NCOLS };

static const struct {
	const char *head;
	bool right; /* aligned right: a number */
} cols[NCOLS] = {
	[PEER] = { "PEER" },	     [LOCAL] = { "LOCAL" },   [RULE] = { "RULE", true },
	[NAME] = { "NAME" },	     [ARMED] = { "ARMED" },   [KEEPALIVE] = { "KEEPALIVE" },
	[BOUND] = { "BOUND", true }, [IDLE] = { "IDLE" },     [DEAD_IN] = { "DEAD_IN" },
	[PRB] = { "PRB", true },     [RTX] = { "RTX", true }, [RTT] = { "RTT", true },
};

#define LOCAL_MIN 10 /* "...]:65535": an IPv6 endpoint down to its port */
#define NAME_MIN  6  /* "tc...p" */
#define PEER_MIN  21 /* "255.255.255.255:65535" */

typedef char row_cells[NCOLS][ENDPOINT_LEN];

/* A connection's row: KEEPALIVE "60/10x3" is time/intvl x probes; BOUND
 * (their sum), ARMED, IDLE and DEAD_IN are durations in two units at most. */
static void row_format(const struct sipka_conn_info *c, const char *name, row_cells cell)
{
	__u64 idle_s = c->idle_ms / 1000;

	endpoint_format(c->family, c->remote_addr, c->remote_port, cell[PEER]);
	endpoint_format(c->family, c->local_addr, c->local_port, cell[LOCAL]);
	snprintf(cell[RULE], ENDPOINT_LEN, "%u", c->rule_port);
	snprintf(cell[NAME], ENDPOINT_LEN, "%s", rule_name(name));
	if (c->armed_ns)
		duration_short(c->now_ns - c->armed_ns, cell[ARMED], ENDPOINT_LEN);
	else
		snprintf(cell[ARMED], ENDPOINT_LEN, "%s", c->untracked ? "untracked" : "no");
	if (c->keepalive)
		snprintf(cell[KEEPALIVE], ENDPOINT_LEN, "%u/%ux%u", c->keepalive_time_s,
			 c->keepalive_intvl_s, c->keepalive_probes);
	else
		snprintf(cell[KEEPALIVE], ENDPOINT_LEN, "off");
	duration_short(bound_s(c) * 1000000000ULL, cell[BOUND], ENDPOINT_LEN);
	duration_short((__u64)c->idle_ms * 1000000ULL, cell[IDLE], ENDPOINT_LEN);
	if (!c->keepalive)
		snprintf(cell[DEAD_IN], ENDPOINT_LEN, "never");
	else if (idle_s < c->keepalive_time_s / 2 && !c->probes_out)
		snprintf(cell[DEAD_IN], ENDPOINT_LEN, "-");
	else
		duration_short((idle_s < bound_s(c) ? bound_s(c) - idle_s : 0) * 1000000000ULL,
			       cell[DEAD_IN], ENDPOINT_LEN);
	snprintf(cell[PRB], ENDPOINT_LEN, "%u", c->probes_out);
	snprintf(cell[RTX], ENDPOINT_LEN, "%u", c->retransmits);
	snprintf(cell[RTT], ENDPOINT_LEN, "%.1fms", c->srtt_us / 1000.0);
}

/* Narrows a column of WIDTH by up to *OVER, not below MIN; *OVER less what it gave. */
static void give_way(size_t *width, size_t min, size_t *over)
{
	size_t by = *width > min ? *width - min : 0;

	by = by < *over ? by : *over;
	*width -= by;
	*over -= by;
}

/* Widens the columns of WIDTH to fit the cells of a row. */
static void widths_add(row_cells cell, size_t *width)
{
	size_t k;

	for (k = 0; k < NCOLS; k++)
		if (strlen(cell[k]) > width[k])
			width[k] = strlen(cell[k]);
}

/* Narrows the columns that give way for the table to fit out_width(). */
static void widths_fit(size_t *width)
{
	size_t k, total = NCOLS - 1, over;

	for (k = 0; k < NCOLS; k++)
		total += width[k];
	over = total > (size_t)out_width() ? total - out_width() : 0;
	give_way(&width[LOCAL], LOCAL_MIN, &over);
	give_way(&width[NAME], NAME_MIN, &over);
	give_way(&width[PEER], PEER_MIN, &over);
}

static void row_print(row_cells cell, const size_t *width)
{
	size_t k;

	endpoint_elide(cell[PEER], width[PEER]);
	endpoint_elide(cell[LOCAL], width[LOCAL]);
	elide_middle(cell[NAME], width[NAME], 0);
	for (k = 0; k < NCOLS; k++)
		printf(k + 1 < NCOLS ? "%*s " : "%*s\n",
		       cols[k].right ? (int)width[k] : -(int)width[k], cell[k]);
}

/* The connections the command line asks for. */
struct want {
	bool all;
	unsigned long long port;
	const char *peer;
};

static bool shown(const struct sipka_conn_info *c, const struct want *w)
{
	return !c->listening && (w->all || c->armed_ns || c->untracked) &&
	       (!w->port || c->rule_port == w->port) && (!w->peer || peer_is(c, w->peer));
}

static const char *rule_of(const struct conf *rules, const struct sipka_conn_info *c)
{
	const struct sipka_rule *r = conf_find(rules, c->rule_port);

	return r ? r->name : "";
}

static void heads(row_cells cell)
{
	size_t k;

	for (k = 0; k < NCOLS; k++)
		snprintf(cell[k], ENDPOINT_LEN, "%s", cols[k].head);
}

/* Two passes: the widest cell of each column, then the rows. */
static void table_print(const struct sipka_conn_info *list, size_t n, const struct conf *rules,
			const struct want *w)
{
	size_t width[NCOLS] = { 0 }, i;
	row_cells cell;

	heads(cell);
	widths_add(cell, width);
	for (i = 0; i < n; i++)
		if (shown(&list[i], w)) {
			row_format(&list[i], rule_of(rules, &list[i]), cell);
			widths_add(cell, width);
		}
	widths_fit(width);
	heads(cell);
	row_print(cell, width);
	for (i = 0; i < n; i++)
		if (shown(&list[i], w)) {
			row_format(&list[i], rule_of(rules, &list[i]), cell);
			row_print(cell, width);
		}
}

int cmd_connections(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct attachments as = { 0 };
	struct sipka_conn_info *list = NULL;
	size_t n = 0;
	struct want w = { 0 };
	unsigned int skipped;
	struct conf rules;
	json_t *j = NULL;
	char why[128];
	size_t i;
	int c, rc;

	while ((c = opt_next(argc, argv, &cmd_connections_help, &rc)) != OPT_END) {
		switch (c) {
		case OPT_PORT:
			if (parse_uint(optarg, 1, 65535, &w.port, why, sizeof(why))) {
				p_err("--port: %s; give a TCP port from 1 to 65535", why);
				return EXIT_USAGE;
			}
			break;
		case OPT_PEER: w.peer = optarg; break;
		case 'a': w.all = true; break;
		default: return rc;
		}
	}
	if (state_begin_read(&pd, &s))
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if (attachments_list(&pd, &as) || connections_list(&s, &as, &list, &n, &skipped))
		goto out;
	if (skipped)
		p_info("warning: connections in %u network namespaces are not listed: entering them needs CAP_SYS_ADMIN",
		       skipped);
	rules_read(s.config_fd, &rules);
	qsort(list, n, sizeof(*list), by_port_peer);
	if (cli_opts.json) {
		j = json_array();
		for (i = 0; i < n; i++)
			if (shown(&list[i], &w))
				json_array_append_new(j, info_json(&list[i],
								   rule_of(&rules, &list[i])));
	} else {
		table_print(list, n, &rules, &w);
	}
	rc = j ? print_json(j) : EXIT_OK;
out:
	free(list);
	attachments_free(&as);
	state_close(&s);
	pindir_close(&pd);
	return rc;
}
