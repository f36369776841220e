// SPDX-License-Identifier: GPL-2.0
/* sipka check: what this host can do, and whether sipka is doing its job. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cgroup.h"
#include "cli.h"
#include "env.h"
#include "existing.h"
#include "format.h"
#include "output.h"
#include "parse.h"
#include "rules.h"
#include "state.h"
#include "where.h"

enum { OPT_CLOSE_WAIT_AFTER = OPT_LONG_ONLY };

static const struct opt check_opts[] = {
	{ .name = "close-wait-after",
	  .key = OPT_CLOSE_WAIT_AFTER,
	  .value = "SECS",
	  .def = OPT_STR(SIPKA_DEFAULT_CLOSE_WAIT_AFTER),
	  .help = "phantoms: connections the peer closed that the PBX has held longer than SECS (1-86400)" },
	{ 0 },
};

const struct cmd_help cmd_check_help = {
	.name = "check",
	.args = "",
	.nargs = 0,
	.text = "Checks the host and sipka, one line each: ok, warn or fail, with the fix.\n"
		"  kernel       BTF, and what it can do with existing connections\n"
		"  cgroupns     the cgroup v2 mount shows the host's root cgroup (not a\n"
		"               container's cgroup namespace)\n"
		"  pidns        /proc numbers the host's processes (for --cgroup-of PID)\n"
		"  privileges   root, or the capabilities sipka needs\n"
		"  bpffs        the pin dir on the host's BPF filesystem, root's and 0700\n"
		"  loaded       sipka's program and maps pinned\n"
		"  attached     live attachments, and links whose cgroup is gone\n"
		"  rules        each rule port against the sockets listening in the attached\n"
		"               cgroups, and SIP-looking listeners without a rule\n"
		"  phantoms     connections the peer closed that the PBX still holds\n"
		"               (CLOSE_WAIT) after --close-wait-after, per PBX and rule port\n"
		"  others       other sock_ops programs whose keepalive settings win\n"
		"Exit status: 0 all ok, 5 warnings only, 1 any fail.\n",
	.opts = check_opts,
};

enum level { OK, WARN, FAIL };
static const char *const level_name[] = { "ok", "warn", "fail" };

struct report {
	json_t *lines;
	enum level worst;
};

__attribute__((format(printf, 4, 5))) static void line(struct report *r, const char *what,
						       enum level l, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (l > r->worst)
		r->worst = l;
	json_array_append_new(r->lines, json_pack("{s:s, s:s, s:s}", "check", what, "level",
						  level_name[l], "text", text));
	if (!cli_opts.json)
		printf("%-4s  %-10s %s\n", level_name[l], what, text);
}

/* Ports a PBX listens on for SIP: 5060-5099, and Asterisk's WS/WSS. */
static bool sip_looking(__u32 port)
{
	return (port >= 5060 && port <= 5099) || port == 8088 || port == 8089;
}

/* The phantoms of LIST (N): per PBX and rule port, the connections its
 * peers closed and it still holds, longer than AFTER seconds. */
static void check_phantoms(struct report *r, const struct sipka_conn_info *list, size_t n,
			   unsigned int after)
{
	struct cgroup_names names = CGROUP_NAMES_INIT;
	char pbx[PATH_MAX + 32], longest[32];
	__u64 held, most;
	size_t k, j, count;
	bool exact, seen, any = false;

	for (k = 0; k < n; k++) {
		if (!close_wait_phantom(&list[k], after))
			continue;
		for (j = 0, seen = false; j < k; j++)
			seen |= close_wait_phantom(&list[j], after) &&
				list[j].cgroup_id == list[k].cgroup_id &&
				list[j].rule_port == list[k].rule_port;
		if (seen) /* said with the first of its PBX and port */
			continue;
		for (j = k, count = 0, most = 0; j < n; j++) {
			if (!close_wait_phantom(&list[j], after) ||
			    list[j].cgroup_id != list[k].cgroup_id ||
			    list[j].rule_port != list[k].rule_port)
				continue;
			count++;
			held = close_wait_held_ns(&list[j], &exact);
			most = held > most ? held : most;
		}
		cgroup_pbx(&names, list[k].cgroup_id, pbx, sizeof(pbx));
		duration_short(most, longest, sizeof(longest));
		line(r, "phantoms", WARN,
		     "%s holds %zu connection%s on port %u that the peer closed, for more than %u s (the longest %s): the PBX never closed its end (CLOSE_WAIT), and keepalive cannot see them. List them: sipka connections --close-wait --port %u; then fix or restart the PBX",
		     pbx, count, count == 1 ? "" : "s", list[k].rule_port, after, longest,
		     list[k].rule_port);
		any = true;
	}
	if (!any)
		line(r, "phantoms", OK,
		     "no connection the peer closed is held longer than %u s by the PBX (CLOSE_WAIT)",
		     after);
	cgroup_names_free(&names);
}

static void check_rules(struct report *r, const struct state *s, const struct attachments *as,
			unsigned int after)
{
	struct sipka_conn_info *list = NULL;
	unsigned int skipped, i;
	struct conf rules;
	size_t n = 0, k;
	bool any;

	rules_read(s->config_fd, &rules);
	if (!rules.n) {
		line(r, "rules", FAIL,
		     "no rules: nothing is armed. Add one: sipka config set 5060 --name tcp");
		return;
	}
	if (connections_list(s, as, &list, &n, &skipped)) {
		line(r, "rules", WARN, "cannot list the listening sockets of the attached cgroups");
		return;
	}
	for (i = 0; i < rules.n; i++) {
		for (k = 0, any = false; k < n; k++)
			any |= list[k].listening && list[k].local_port == rules.rules[i].port;
		if (any)
			line(r, "rules", OK, "port %u (%s): the PBX listens on it",
			     rules.rules[i].port, rule_name(rules.rules[i].rule.name));
		else
			line(r, "rules", WARN,
			     "port %u (%s): nothing listens on it in the attached cgroups; fine for a trunk's port (connections the PBX opens to it), else fix the port: sipka config del %u",
			     rules.rules[i].port, rule_name(rules.rules[i].rule.name),
			     rules.rules[i].port);
	}
	for (k = 0; k < n; k++) {
		bool dup = false;
		size_t j;

		if (!list[k].listening || conf_find(&rules, list[k].local_port) ||
		    !sip_looking(list[k].local_port))
			continue;
		for (j = 0; j < k; j++)
			dup |= list[j].listening && list[j].local_port == list[k].local_port;
		if (!dup)
			line(r, "rules", WARN,
			     "port %u: the PBX listens on it, a SIP port by its number, and it has no rule; add one: sipka config set %u --name NAME",
			     list[k].local_port, list[k].local_port);
	}
	if (skipped)
		line(r, "rules", WARN,
		     "%u network namespaces not entered: this needs CAP_SYS_ADMIN", skipped);
	check_phantoms(r, list, n, after);
	free(list);
}

/* Where this sipka stands: the host's cgroups and process ids, or a
 * container's. */
static void where_lines(struct report *r)
{
	bool private_ns = where_cgroupns() == WHERE_PRIVATE;
	struct cgroup2_mount m;
	enum where pid;

	if (where_cgroup2(&m))
		line(r, "cgroupns", FAIL, "cgroup v2 is not mounted: see the error above");
	else if (!m.host_root)
		line(r, "cgroupns", WARN,
		     "%s is not the host's root cgroup (%s): attach and detach without --cgroup, and --cgroup-of a process outside it, are refused; %s",
		     m.path, private_ns ? "a private cgroup namespace" : "a part of the tree",
		     WHERE_FIX_CGROUPNS);
	else
		line(r, "cgroupns", OK, "%s%s is the host's root cgroup",
		     private_ns ? "a private cgroup namespace, but " :
				  "the host's cgroup namespace; ",
		     m.path);
	pid = where_pidns();
	if (pid == WHERE_HOST)
		line(r, "pidns", OK,
		     "the host's PID namespace: --cgroup-of PID finds the host's processes");
	else
		line(r, "pidns", WARN, "%s: --cgroup-of PID is refused; %s",
		     pid == WHERE_PRIVATE ? "a private PID namespace" :
					    "cannot tell the PID namespace of /proc",
		     WHERE_FIX_PIDNS);
}

int cmd_check(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct report r = { NULL, OK };
	struct state s = STATE_INIT;
	struct attachments as = { 0 };
	unsigned long long held_after = SIPKA_DEFAULT_CLOSE_WAIT_AFTER;
	int rc, i, live = 0, ret, c;
	enum where w;
	char why[128];

	while ((c = opt_next(argc, argv, &cmd_check_help, &rc)) != OPT_END) {
		switch (c) {
		case OPT_CLOSE_WAIT_AFTER:
			if (parse_uint(optarg, 1, 86400, &held_after, why, sizeof(why))) {
				p_err("--close-wait-after: %s; give seconds from 1 to 86400", why);
				return EXIT_USAGE;
			}
			break;
		default: return rc;
		}
	}
	r.lines = json_array();
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		line(&r, "kernel", FAIL,
		     "no BTF (/sys/kernel/btf/vmlinux): sipka needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's are)");
	else
		line(&r, "kernel", OK, "BTF present");
	where_lines(&r);
	if (env_check(pd.path)) {
		line(&r, "privileges", FAIL, "see the error above: run sipka as root");
		goto out;
	}
	line(&r, "privileges", env_can_setns() ? OK : WARN, "%s",
	     env_can_setns() ?
		     "root (or the capabilities sipka needs)" :
		     "no CAP_SYS_ADMIN: existing connections in the PBX's network namespace cannot be armed");
	w = where_bpffs(pd.path);
	if (w == WHERE_PRIVATE)
		line(&r, "bpffs", FAIL,
		     "%s is on a bpffs of this mount namespace only, not the host's: attach and load are refused; %s",
		     pd.path, WHERE_FIX_BPFFS);
	else if (w == WHERE_UNKNOWN)
		line(&r, "bpffs", WARN,
		     "cannot tell whether the bpffs of %s is the host's (/proc/1 is not the host's init): if it is the container's own, sipka's pins go with it; %s",
		     pd.path, WHERE_FIX_BPFFS);
	ret = pindir_open(&pd, false);
	if (!ret && pindir_missing(&pd)) {
		line(&r, "loaded", FAIL,
		     "not loaded: %s does not exist. Run: sipka attach --cgroup PBX_CGROUP",
		     pd.path);
		goto out;
	}
	if (ret) {
		line(&r, "bpffs", FAIL, "the pin dir is not safe: see the error above");
		goto out;
	}
	line(&r, "bpffs", OK, "%s is on bpffs, root's, mode 0700", pd.path);
	if (!state_loaded(&pd)) {
		line(&r, "loaded", FAIL,
		     "not loaded: nothing pinned. Run: sipka attach --cgroup PBX_CGROUP");
		goto out;
	}
	if (state_open(&pd, &s)) {
		line(&r, "loaded", FAIL, "the pins are not a whole sipka: see the error above");
		goto out;
	}
	line(&r, "loaded", OK, "program %u, loaded by sipka %s, layout %u", s.prog_id,
	     s.meta.version, s.meta.layout);
	if (!(s.meta.features & SIPKA_FEAT_ITER_ARM))
		line(&r, "kernel", WARN,
		     "existing connections cannot be armed (Linux 5.16 or later): only connections made after an attach are");
	else if (!(s.meta.features & SIPKA_FEAT_ITER_TRACK))
		line(&r, "kernel", WARN,
		     "existing connections are armed but their ends are not counted (Linux 6.1; 6.12 can)");
	else
		line(&r, "kernel", OK, "existing connections are armed and counted");
	if (attachments_list(&pd, &as)) {
		line(&r, "attached", FAIL, "cannot list the attachments");
		goto out;
	}
	for (i = 0; i < as.n; i++) {
		if (as.a[i].defunct) {
			line(&r, "attached", WARN,
			     "%s is DEFUNCT: its cgroup is gone (the PBX restarted?). 'sipka attach --cgroup NEW' removes it",
			     as.a[i].pin);
			continue;
		}
		live++;
		line(&r, "attached", OK, "%s (%s)", as.a[i].cgroup,
		     as.a[i].via_link ? "link" : "direct");
	}
	if (as.foreign)
		line(&r, "attached", WARN,
		     "%d link-N pins in %s are not sipka's: left alone; remove them if stale",
		     as.foreign, pd.path);
	if (!live) {
		line(&r, "attached", FAIL,
		     "attached to no live cgroup: nothing is armed. Run: sipka attach --cgroup PBX_CGROUP");
		goto out;
	}
	check_rules(&r, &s, &as, (unsigned int)held_after);
	for (i = 0; i < as.n; i++) {
		json_t *others;
		size_t k;
		bool nested;

		if (as.a[i].defunct)
			continue;
		others = attachments_others(as.a[i].cgroup, &as.ours, &nested);
		for (k = 0; k < json_array_size(others); k++) {
			json_t *x = json_array_get(others, k);
			bool after =
				!strcmp(json_string_value(json_object_get(x, "runs")), "after");

			line(&r, "others", after ? WARN : OK,
			     "sock_ops program %lld (%s) on %s runs %s sipka on the sockets of %s: %s",
			     (long long)json_integer_value(json_object_get(x, "prog_id")),
			     json_string_value(json_object_get(x, "name")),
			     json_string_value(json_object_get(x, "cgroup")),
			     after ? "after" : "before", as.a[i].cgroup,
			     after ? "its keepalive settings win; detach it, or attach sipka higher up" :
				     "sipka's keepalive settings win");
		}
		json_decref(others);
	}
out:
	attachments_free(&as);
	state_close(&s);
	pindir_close(&pd);
	if (cli_opts.json)
		print_json(
			json_pack("{s:s, s:o}", "result", level_name[r.worst], "checks", r.lines));
	else
		json_decref(r.lines);
	return r.worst == FAIL ? EXIT_FAIL : r.worst == WARN ? EXIT_WARN : EXIT_OK;
}
