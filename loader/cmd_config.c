// SPDX-License-Identifier: GPL-2.0
/* sipka config show|set|del|load: the port rules in the pinned config map. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "existing.h"
#include "output.h"
#include "parse.h"
#include "pins.h"
#include "rules.h"

static const struct cmd_help help = {
	"config", "show | set PORT [OPTIONS] | del PORT | load FILE",
	"Shows or changes the port rules. set and load retune the connections that\n"
	"exist now in every attached cgroup too (arming those not armed yet), unless\n"
	"--new-only. 'sipka config COMMAND --help' for each.\n\n"
	"  show       the rules\n"
	"  set PORT   add or replace the rule for PORT\n"
	"  del PORT   remove the rule for PORT\n"
	"  load FILE  replace all rules with those of FILE; a file with any error changes nothing\n",
};

static const struct cmd_help show_help = {
	"config show", "", "Shows the rules: port, transport name, keepalive time, interval, probes,\nTCP_USER_TIMEOUT (ms; 0 = the kernel's) and whether resets make events.\n",
};

static const struct cmd_help set_help = {
	"config set", "PORT [--name NAME] [--time S] [--intvl S] [--probes N] [--user-timeout MS|auto|off]",
	"Adds or replaces the rule for PORT: connections accepted on PORT, and\n"
	"connections made to PORT, get these keepalive settings. Unset options take\n"
	"the defaults, not the old rule's values.\n\n"
	"  -n, --name NAME          transport name for output, e.g. tcp, tls, ws, wss\n"
	"  -t, --time S             idle seconds before the first probe, 1-32767 (default 60)\n"
	"  -i, --intvl S            seconds between probes, 1-32767 (default 10)\n"
	"  -p, --probes N           unanswered probes before the peer is dead, 1-127 (default 3)\n"
	"  -u, --user-timeout MS|auto|off\n"
	"                           TCP_USER_TIMEOUT: how long sent data may stay unacknowledged;\n"
	"                           auto = time + intvl x probes (default), off = the kernel's\n"
	"  -r, --reset-events       an event (sipka events) for each reset too, not only deaths\n"
	"  -N, --new-only           only connections established from now on\n",
};

static const struct cmd_help del_help = {
	"config del", "PORT",
	"Removes the rule for PORT: connections established from now on are left alone.\n"
	"Existing connections keep the keepalive they have (sipka cannot know what they\n"
	"had before it, and dropping it would expose them to the NAT again); they stay\n"
	"counted until they close. Its counters stay in 'sipka stats'.\n",
};

static const struct cmd_help load_help = {
	"config load", "FILE [--new-only]",
	"Replaces all rules with those of FILE (INI, see examples/sipka.conf), and\n"
	"retunes the existing connections of every attached cgroup to them.\n"
	"A file with any error changes nothing. Connections on ports whose rule is\n"
	"gone keep what they have, as with 'config del'.\n\n"
	"  -N, --new-only  only connections established from now on\n",
};

static int parse_port(const char *s, __u32 *port)
{
	struct draft d = { 0 };
	char why[192];

	if (setting_parse(SET_PORT, s, &d, why, sizeof(why))) {
		err("PORT: %s", why);
		return -1;
	}
	*port = d.port;
	return 0;
}

static int config_show(int argc, char **argv)
{
	struct pins p = PINS_INIT;
	struct conf rules;
	unsigned int i;
	json_t *j;
	int c, rc;

	while ((c = next_opt(argc, argv, &show_help, NULL, &rc)) != -1)
		return rc;
	if (want_args(argc, argv, 0, 0, &show_help))
		return EXIT_USAGE;
	if (pins_open(&p))
		return EXIT_FAIL;
	rules_read(p.config_fd, &rules);
	pins_close(&p);
	if (g.json) {
		j = json_array();
		for (i = 0; i < rules.n; i++) {
			const struct sipka_rule *r = &rules.rules[i].rule;

			json_array_append_new(j, json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:b}",
				"port", rules.rules[i].port, "name", r->name,
				"time", (json_int_t)r->time, "intvl", (json_int_t)r->intvl,
				"probes", (json_int_t)r->probes,
				"user_timeout_ms", (json_int_t)r->user_timeout_ms,
				"reset_events", !!(r->flags & SIPKA_RULE_RESET_EVENTS)));
		}
		return json_print(j);
	}
	printf("%-6s %-15s %6s %6s %6s %13s %12s\n", "PORT", "NAME", "TIME", "INTVL", "PROBES",
	       "USER_TIMEOUT", "RESET_EVENTS");
	for (i = 0; i < rules.n; i++) {
		const struct sipka_rule *r = &rules.rules[i].rule;

		printf("%-6u %-15s %5us %5us %6u %11ums %12s%s\n", rules.rules[i].port,
		       rule_name(r->name), r->time, r->intvl, r->probes, r->user_timeout_ms,
		       r->flags & SIPKA_RULE_RESET_EVENTS ? "yes" : "no",
		       sipka_rule_valid(r) ? "" : "  INVALID: skipped, counted in errors");
	}
	return EXIT_OK;
}

/* After a rule change: the existing connections follow, unless NEW_ONLY.
 * Prints the result; J (JSON object, or NULL) gets it as "existing". */
static int follow_existing(bool new_only, json_t *j)
{
	struct existing x;

	if (new_only) {
		if (j)
			json_object_set_new(j, "existing", json_null());
		return 0;
	}
	if (arm_existing(&x))
		return -1;
	if (j)
		json_object_set_new(j, "existing", existing_json(&x));
	else
		existing_print(&x);
	return 0;
}

static const char *opt_name(const struct option *o, int val)
{
	while (o->name && o->val != val)
		o++;
	return o->name;
}

static int config_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name",	  required_argument, NULL, 'n' },
		{ "time",	  required_argument, NULL, 't' },
		{ "intvl",	  required_argument, NULL, 'i' },
		{ "probes",	  required_argument, NULL, 'p' },
		{ "user-timeout", required_argument, NULL, 'u' },
		{ "reset-events", no_argument,	     NULL, 'r' },
		{ "new-only",	  no_argument,	     NULL, 'N' },
		{ 0 }
	};
	static const enum setting of[128] = {
		['n'] = SET_NAME, ['t'] = SET_TIME, ['i'] = SET_INTVL,
		['p'] = SET_PROBES, ['u'] = SET_USER_TIMEOUT, ['r'] = SET_RESET_EVENTS,
	};
	struct pins p = PINS_INIT;
	struct sipka_rule r;
	struct draft d = { 0 };
	bool new_only = false;
	struct conf rules;
	char why[192];
	json_t *j;
	int c, rc;

	while ((c = next_opt(argc, argv, &set_help, opts, &rc)) != -1) {
		if (c == OPT_EXIT)
			return rc;
		if (c == 'N') {
			new_only = true;
			continue;
		}
		if (setting_parse(of[c], c == 'r' ? "yes" : optarg, &d, why, sizeof(why))) {
			err("--%s: %s", opt_name(opts, c), why);
			return EXIT_USAGE;
		}
	}
	if (want_args(argc, argv, 1, 1, &set_help) || parse_port(argv[optind], &d.port))
		return EXIT_USAGE;
	draft_resolve(&d, &r);
	if (pins_open(&p))
		return EXIT_FAIL;
	rules_read(p.config_fd, &rules);
	if (rules.n == SIPKA_MAX_RULES && !conf_find(&rules, d.port)) {
		err("sipka holds at most %d rules; delete one first ('sipka config del PORT')", SIPKA_MAX_RULES);
		pins_close(&p);
		return EXIT_FAIL;
	}
	rc = bpf_map_update_elem(p.config_fd, &d.port, &r, BPF_ANY);
	pins_close(&p);
	if (rc) {
		err("cannot write the rule for port %u: %s", d.port, strerror(errno));
		return EXIT_FAIL;
	}
	j = g.json ? json_pack("{s:i}", "port", d.port) : NULL;
	if (!g.json)
		printf("sipka: port %u: time %us, intvl %us, probes %u, user timeout %ums\n",
		       d.port, r.time, r.intvl, r.probes, r.user_timeout_ms);
	rc = follow_existing(new_only, j) ? EXIT_FAIL : EXIT_OK;
	if (j)
		json_print(j);
	return rc;
}

static int config_del(int argc, char **argv)
{
	struct pins p = PINS_INIT;
	__u32 port;
	int c, rc;

	while ((c = next_opt(argc, argv, &del_help, NULL, &rc)) != -1)
		return rc;
	if (want_args(argc, argv, 1, 1, &del_help) || parse_port(argv[optind], &port))
		return EXIT_USAGE;
	if (pins_open(&p))
		return EXIT_FAIL;
	rc = bpf_map_delete_elem(p.config_fd, &port);
	pins_close(&p);
	if (rc) {
		err("there is no rule for port %u; 'sipka config show' lists them", port);
		return EXIT_FAIL;
	}
	if (g.json)
		return json_print(json_pack("{s:i, s:b}", "port", port, "deleted", 1));
	printf("sipka: port %u: rule deleted; existing connections keep their keepalive\n", port);
	return EXIT_OK;
}

static int config_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "new-only", no_argument, NULL, 'N' },
		{ 0 }
	};
	struct pins p = PINS_INIT;
	bool new_only = false;
	struct conf conf;
	char why[512];
	json_t *j;
	int c, rc;

	while ((c = next_opt(argc, argv, &load_help, opts, &rc)) != -1) {
		if (c != 'N')
			return rc;
		new_only = true;
	}
	if (want_args(argc, argv, 1, 1, &load_help))
		return EXIT_USAGE;
	if (conf_parse_file(argv[optind], &conf, why, sizeof(why))) {
		err("%s", why);
		return EXIT_FAIL;
	}
	if (pins_open(&p))
		return EXIT_FAIL;
	rc = rules_replace(p.config_fd, &conf) ? EXIT_FAIL : EXIT_OK;
	pins_close(&p);
	if (rc)
		return rc;
	j = g.json ? json_pack("{s:i, s:s}", "rules", conf.n, "file", argv[optind]) : NULL;
	if (!g.json)
		printf("sipka: %u rules loaded from %s\n", conf.n, argv[optind]);
	rc = follow_existing(new_only, j) ? EXIT_FAIL : EXIT_OK;
	if (j)
		json_print(j);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} subs[] = {
		{ "show", config_show }, { "set", config_set },
		{ "del", config_del }, { "load", config_load },
	};
	size_t i;

	optind = 0;
	if (argc < 2)	/* "sipka config" alone shows the rules */
		return config_show(argc, argv);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_help(&help);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(argc - 1, argv + 1);
	err("unknown config command '%s'; use show, set, del or load (see 'sipka config --help')", argv[1]);
	return EXIT_USAGE;
}
