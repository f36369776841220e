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
		"keepalive probes sent unanswered, retransmissions, RTT. BOUND is how long a\n"
		"silent peer lasts (time + intvl x probes); DEAD_IN, when it will be declared\n"
		"dead if it stays silent ('-' while it is not idle).\n",
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

static void print_row(const struct sipka_conn_info *c, const char *name)
{
	char local[ENDPOINT_LEN], remote[ENDPOINT_LEN];
	char armed[32], ka[32], dead[32], idle[32];
	__u64 idle_s = c->idle_ms / 1000;

	endpoint_format(c->family, c->remote_addr, c->remote_port, remote);
	endpoint_format(c->family, c->local_addr, c->local_port, local);
	if (c->armed_ns)
		duration_format(c->now_ns - c->armed_ns, armed, sizeof(armed));
	else
		snprintf(armed, sizeof(armed), "%s", c->untracked ? "untracked" : "no");
	if (c->keepalive)
		snprintf(ka, sizeof(ka), "%u/%u/%u", c->keepalive_time_s, c->keepalive_intvl_s,
			 c->keepalive_probes);
	else
		snprintf(ka, sizeof(ka), "off");
	duration_format((__u64)c->idle_ms * 1000000ULL, idle, sizeof(idle));
	if (!c->keepalive)
		snprintf(dead, sizeof(dead), "never");
	else if (idle_s < c->keepalive_time_s / 2 && !c->probes_out)
		snprintf(dead, sizeof(dead), "-");
	else
		duration_format((idle_s < bound_s(c) ? bound_s(c) - idle_s : 0) * 1000000000ULL,
				dead, sizeof(dead));
	printf("%-22s %-22s %5u %-6s %-10s %-12s %6us %-8s %-8s %3u %3u %7.1fms\n", remote, local,
	       c->rule_port, rule_name(name), armed, ka, bound_s(c), idle, dead, c->probes_out,
	       c->retransmits, c->srtt_us / 1000.0);
}

int cmd_connections(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct attachments as = { 0 };
	struct sipka_conn_info *list = NULL;
	size_t n = 0;
	unsigned long long port = 0;
	const char *peer = NULL;
	unsigned int skipped;
	bool all = false;
	struct conf rules;
	json_t *j = NULL;
	char why[128];
	int c, rc;
	size_t i;

	while ((c = opt_next(argc, argv, &cmd_connections_help, &rc)) != OPT_END) {
		switch (c) {
		case OPT_PORT:
			if (parse_uint(optarg, 1, 65535, &port, why, sizeof(why))) {
				p_err("--port: %s; give a TCP port from 1 to 65535", why);
				return EXIT_USAGE;
			}
			break;
		case OPT_PEER: peer = optarg; break;
		case 'a': all = true; break;
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
	if (cli_opts.json)
		j = json_array();
	else
		printf("%-22s %-22s %5s %-6s %-10s %-12s %7s %-8s %-8s %3s %3s %9s\n", "PEER",
		       "LOCAL", "RULE", "NAME", "ARMED", "KEEPALIVE", "BOUND", "IDLE", "DEAD_IN",
		       "PRB", "RTX", "RTT");
	for (i = 0; i < n; i++) {
		const struct sipka_conn_info *ci = &list[i];
		const struct sipka_rule *r = conf_find(&rules, ci->rule_port);

		if (ci->listening || (!all && !ci->armed_ns && !ci->untracked) ||
		    (port && ci->rule_port != port) || (peer && !peer_is(ci, peer)))
			continue;
		if (j)
			json_array_append_new(j, info_json(ci, r ? r->name : ""));
		else
			print_row(ci, r ? r->name : "");
	}
	rc = j ? print_json(j) : EXIT_OK;
out:
	free(list);
	attachments_free(&as);
	state_close(&s);
	pindir_close(&pd);
	return rc;
}
