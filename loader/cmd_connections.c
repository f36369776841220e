// SPDX-License-Identifier: GPL-2.0
/* sipka connections: every armed connection now, its keepalive in force and
 * the kernel's live state of its socket. */
#include <arpa/inet.h>
#include <limits.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cgroup.h"
#include "cli.h"
#include "existing.h"
#include "format.h"
#include "output.h"
#include "parse.h"
#include "rules.h"
#include "state.h"

enum { OPT_PORT = OPT_LONG_ONLY, OPT_PEER, OPT_CLOSE_WAIT };

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
	{ .name = "close-wait",
	  .key = OPT_CLOSE_WAIT,
	  .help = "instead, the connections the peer closed and the PBX still holds (CLOSE_WAIT), with how long each has been held" },
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
		"elided in the middle ('...') when a line would be wider; -j has every field.\n"
		"PBX, when the connections are of more than one cgroup, names the one that\n"
		"holds each: its systemd unit, its container, or its cgroup's path.\n"
		"--close-wait lists the phantoms keepalive cannot see: connections the peer\n"
		"closed that the PBX never closed, and HELD, since the peer's FIN (to the\n"
		"second; '>=' when sipka did not see the FIN: then at least the idle time).\n",
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

/* The cgroup of C and its PBX (cgroup_pbx()). */
struct pbx {
	const char *cgroup; /* NULL: no path here */
	char label[PATH_MAX + 32];
};

static void pbx_of(struct cgroup_names *names, const struct sipka_conn_info *c, struct pbx *p)
{
	p->cgroup = cgroup_pbx(names, c->cgroup_id, p->label, sizeof(p->label));
}

static json_t *info_json(const struct sipka_conn_info *c, const char *name, const struct pbx *p)
{
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
	json_t *j;
	bool v4, exact;
	__u64 held;

	addr_format(c->family, c->local_addr, local, &v4);
	addr_format(c->family, c->remote_addr, remote, &v4);
	if (c->close_wait) {
		held = close_wait_held_ns(c, &exact);
		return json_pack("{s:s, s:s, s:i, s:s, s:i, s:i, s:s, s:I, s:b, s:I, s:o, s:s}",
				 "state", "close_wait", "remote_addr", remote, "remote_port",
				 c->remote_port, "local_addr", local, "local_port", c->local_port,
				 "rule_port", c->rule_port, "name", name, "held_s",
				 (json_int_t)(held / 1000000000ULL), "held_exact", exact,
				 "cgroup_id", (json_int_t)c->cgroup_id, "cgroup",
				 p->cgroup ? json_string(p->cgroup) : json_null(), "pbx", p->label);
	}
	j = json_pack("{s:s, s:i, s:s, s:i, s:i, s:s, s:b, s:b, s:o, s:{s:b, s:i, s:i, s:i, s:i}, "
		      "s:i, s:i, s:i, s:i, s:I}",
		      "remote_addr", remote, "remote_port", c->remote_port, "local_addr", local,
		      "local_port", c->local_port, "rule_port", c->rule_port, "name", name, "armed",
		      c->armed_ns || c->untracked, "tracked", c->armed_ns != 0, "armed_s_ago",
		      c->armed_ns ? json_integer((c->now_ns - c->armed_ns) / 1000000000ULL) :
				    json_null(),
		      "keepalive", "on", c->keepalive, "time", c->keepalive_time_s, "intvl",
		      c->keepalive_intvl_s, "probes", c->keepalive_probes, "user_timeout_ms",
		      c->user_timeout_ms, "idle_ms", c->idle_ms, "probes_out", c->probes_out,
		      "retransmits", c->retransmits, "rtt_us", c->srtt_us, "cgroup_id",
		      (json_int_t)c->cgroup_id);
	if (j) {
		json_object_set_new(j, "state", json_string("established"));
		json_object_set_new(j, "cgroup", p->cgroup ? json_string(p->cgroup) : json_null());
		json_object_set_new(j, "pbx", json_string(p->label));
	}
	return j;
}

/* The table's columns, each as wide as its widest cell. When a line would be
 * wider than out_width(), four give way, elided in the middle: PBX first,
 * then LOCAL (down to its port), then NAME, then PEER (down to an IPv4
 * endpoint's width). -j has every field whole. */
enum col {
	PEER,
	LOCAL,
	RULE,
	NAME,
	ARMED,
	KEEPALIVE,
	BOUND,
	HELD, /* --close-wait only */
	IDLE,
	DEAD_IN,
	PRB,
	RTX,
	RTT,
	PBX, /* connections of more than one cgroup */
	NCOLS
};

static const struct {
	const char *head;
	bool right; /* aligned right: a number */
} cols[NCOLS] = {
	[PEER] = { "PEER" },	     [LOCAL] = { "LOCAL" },   [RULE] = { "RULE", true },
	[NAME] = { "NAME" },	     [ARMED] = { "ARMED" },   [KEEPALIVE] = { "KEEPALIVE" },
	[BOUND] = { "BOUND", true }, [IDLE] = { "IDLE" },     [DEAD_IN] = { "DEAD_IN" },
	[PRB] = { "PRB", true },     [RTX] = { "RTX", true }, [RTT] = { "RTT", true },
	[HELD] = { "HELD" },	     [PBX] = { "PBX" },
};

#define LOCAL_MIN 10 /* "...]:65535": an IPv6 endpoint down to its port */
#define NAME_MIN  6  /* "tc...p" */
#define PEER_MIN  21 /* "255.255.255.255:65535" */
#define PBX_MIN	  12 /* "kama...rvice" */

typedef char row_cells[NCOLS][PATH_MAX + 32];
typedef bool col_set[NCOLS]; /* the columns the table shows */

/* A connection's row: KEEPALIVE "60/10x3" is time/intvl x probes; BOUND
 * (their sum), ARMED, IDLE, DEAD_IN and HELD are durations in two units at
 * most. */
static void row_format(const struct sipka_conn_info *c, const char *name, const struct pbx *p,
		       row_cells cell)
{
	const size_t len = sizeof(cell[0]);
	__u64 idle_s = c->idle_ms / 1000;
	bool exact;

	endpoint_format(c->family, c->remote_addr, c->remote_port, cell[PEER]);
	endpoint_format(c->family, c->local_addr, c->local_port, cell[LOCAL]);
	snprintf(cell[RULE], len, "%u", c->rule_port);
	snprintf(cell[NAME], len, "%s", rule_name(name));
	snprintf(cell[PBX], len, "%s", p->label);
	if (c->armed_ns)
		duration_short(c->now_ns - c->armed_ns, cell[ARMED], len);
	else
		snprintf(cell[ARMED], len, "%s", c->untracked ? "untracked" : "no");
	if (c->keepalive)
		snprintf(cell[KEEPALIVE], len, "%u/%ux%u", c->keepalive_time_s,
			 c->keepalive_intvl_s, c->keepalive_probes);
	else
		snprintf(cell[KEEPALIVE], len, "off");
	duration_short(bound_s(c) * 1000000000ULL, cell[BOUND], len);
	duration_short((__u64)c->idle_ms * 1000000ULL, cell[IDLE], len);
	if (!c->keepalive)
		snprintf(cell[DEAD_IN], len, "never");
	else if (idle_s < c->keepalive_time_s / 2 && !c->probes_out)
		snprintf(cell[DEAD_IN], len, "-");
	else
		duration_short((idle_s < bound_s(c) ? bound_s(c) - idle_s : 0) * 1000000000ULL,
			       cell[DEAD_IN], len);
	snprintf(cell[PRB], len, "%u", c->probes_out);
	snprintf(cell[RTX], len, "%u", c->retransmits);
	snprintf(cell[RTT], len, "%.1fms", c->srtt_us / 1000.0);
	duration_short(close_wait_held_ns(c, &exact), cell[HELD] + 2, len - 2);
	memcpy(cell[HELD], ">=", 2);
	if (exact)
		memmove(cell[HELD], cell[HELD] + 2, strlen(cell[HELD] + 2) + 1);
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
static void widths_fit(size_t *width, const col_set on)
{
	size_t k, total = 0, over;

	for (k = 0; k < NCOLS; k++)
		if (on[k])
			total += width[k] + 1;
	total--;
	over = total > (size_t)out_width() ? total - out_width() : 0;
	if (on[PBX])
		give_way(&width[PBX], PBX_MIN, &over);
	give_way(&width[LOCAL], LOCAL_MIN, &over);
	give_way(&width[NAME], NAME_MIN, &over);
	give_way(&width[PEER], PEER_MIN, &over);
}

static void row_print(row_cells cell, const size_t *width, const col_set on)
{
	size_t k, last = 0;

	endpoint_elide(cell[PEER], width[PEER]);
	endpoint_elide(cell[LOCAL], width[LOCAL]);
	elide_middle(cell[NAME], width[NAME], 0);
	elide_middle(cell[PBX], width[PBX], 0);
	for (k = 0; k < NCOLS; k++)
		if (on[k])
			last = k;
	for (k = 0; k < NCOLS; k++) /* the last column left-aligned: no trailing blanks */
		if (on[k])
			printf(k < last ? "%*s " : "%*s\n",
			       cols[k].right ? (int)width[k] :
			       k < last	     ? -(int)width[k] :
					       0,
			       cell[k]);
}

/* The connections the command line asks for. */
struct want {
	bool all, close_wait;
	unsigned long long port;
	const char *peer;
};

static bool shown(const struct sipka_conn_info *c, const struct want *w)
{
	if (c->listening || c->close_wait != w->close_wait)
		return false;
	return (w->close_wait || w->all || c->armed_ns || c->untracked) &&
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
		snprintf(cell[k], sizeof(cell[k]), "%s", cols[k].head);
}

/* The columns of the table W asks for; PBX when the connections shown are
 * of more than one cgroup. */
static void columns_of(const struct sipka_conn_info *list, size_t n, const struct want *w,
		       col_set on)
{
	static const enum col phantom[] = { PEER, LOCAL, RULE, NAME, HELD, IDLE, PBX };
	__u64 first = 0;
	size_t i, k;

	for (k = 0; k < NCOLS; k++)
		on[k] = !w->close_wait && k != HELD && k != PBX;
	for (k = 0; w->close_wait && k < sizeof(phantom) / sizeof(phantom[0]); k++)
		on[phantom[k]] = true;
	for (i = 0; i < n; i++)
		if (shown(&list[i], w)) {
			if (first && list[i].cgroup_id != first)
				on[PBX] = true;
			first = list[i].cgroup_id;
		}
}

/* Two passes: the widest cell of each column, then the rows. */
static void table_print(const struct sipka_conn_info *list, size_t n, const struct conf *rules,
			const struct want *w, struct cgroup_names *names)
{
	size_t width[NCOLS] = { 0 }, i, pass;
	row_cells *cell = malloc(sizeof(*cell));
	struct pbx *p = malloc(sizeof(*p));
	col_set on;

	if (!cell || !p) {
		p_err("out of memory");
		goto out;
	}
	columns_of(list, n, w, on);
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			widths_fit(width, on);
		heads(*cell);
		if (pass)
			row_print(*cell, width, on);
		else
			widths_add(*cell, width);
		for (i = 0; i < n; i++) {
			if (!shown(&list[i], w))
				continue;
			pbx_of(names, &list[i], p);
			row_format(&list[i], rule_of(rules, &list[i]), p, *cell);
			if (pass)
				row_print(*cell, width, on);
			else
				widths_add(*cell, width);
		}
	}
out:
	free(cell);
	free(p);
}

int cmd_connections(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct cgroup_names names = CGROUP_NAMES_INIT;
	struct state s = STATE_INIT;
	struct attachments as = { 0 };
	struct sipka_conn_info *list = NULL;
	size_t n = 0;
	struct want w = { 0 };
	unsigned int skipped;
	struct conf rules;
	struct out_array out;
	struct pbx p;
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
		case OPT_CLOSE_WAIT: w.close_wait = true; break;
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
	if (n) /* qsort must not be given NULL, even for nothing */
		qsort(list, n, sizeof(*list), by_port_peer);
	if (cli_opts.json) { /* an object at a time: the records are the list's memory */
		out_array_begin(&out);
		for (i = 0; i < n; i++) {
			if (!shown(&list[i], &w))
				continue;
			pbx_of(&names, &list[i], &p);
			if (out_array_add(&out, info_json(&list[i], rule_of(&rules, &list[i]), &p)))
				break;
		}
		rc = out_array_end(&out);
	} else {
		table_print(list, n, &rules, &w, &names);
		rc = EXIT_OK;
	}
out:
	free(list);
	cgroup_names_free(&names);
	attachments_free(&as);
	state_close(&s);
	pindir_close(&pd);
	return rc;
}
