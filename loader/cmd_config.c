// SPDX-License-Identifier: GPL-2.0
/* sipka config show|set|del|load: the port rules in the pinned config map. */
#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "attachments.h"
#include "existing.h"
#include "format.h"
#include "output.h"
#include "parse.h"
#include "rules.h"
#include "state.h"

static const struct cmd_help show_help = {
	.name = "config show",
	.args = "",
	.nargs = 0,
	.text = "Shows the rules: port, transport name, keepalive time, interval, probes,\n"
		"TCP_USER_TIMEOUT (ms; 0 = the kernel's) and whether resets make events.\n",
};

static const struct opt set_opts[] = {
	{ .name = "name",
	  .key = 'n',
	  .value = "NAME",
	  .help = "transport name for output, e.g. tcp, tls, ws, wss" },
	{ .name = "time",
	  .key = 't',
	  .value = "S",
	  .def = OPT_STR(SIPKA_DEFAULT_TIME),
	  .help = "idle seconds before the first probe, 1-" OPT_STR(SIPKA_KEEPIDLE_MAX) },
	{ .name = "intvl",
	  .key = 'i',
	  .value = "S",
	  .def = OPT_STR(SIPKA_DEFAULT_INTVL),
	  .help = "seconds between probes, 1-" OPT_STR(SIPKA_KEEPINTVL_MAX) },
	{ .name = "probes",
	  .key = 'p',
	  .value = "N",
	  .def = OPT_STR(SIPKA_DEFAULT_PROBES),
	  .help = "unanswered probes before the peer is dead, 1-" OPT_STR(SIPKA_KEEPCNT_MAX) },
	{ .name = "user-timeout",
	  .key = 'u',
	  .value = "MS|auto|off",
	  .def = "auto", /* SIPKA_UT_AUTO, the word the parser takes */
	  .help = "TCP_USER_TIMEOUT: how long sent data may stay unacknowledged; auto = time + intvl x probes, off = the kernel's" },
	{ .name = "reset-events",
	  .key = 'r',
	  .value = "no",
	  .help = "an event (sipka events) for each reset too, not only deaths; --reset-events=no turns it off",
	  .flags = OPT_OPTIONAL },
	{ .name = "new-only", .key = 'N', .help = "only connections established from now on" },
	{ 0 },
};

static const struct cmd_help set_help = {
	.name = "config set",
	.args = "PORT",
	.nargs = 1,
	.text = "Adds a rule for PORT, or changes the fields given of its rule: connections\n"
		"accepted on PORT, and connections made to PORT, get these keepalive settings.\n"
		"A new rule takes the defaults for what is not given; an existing rule keeps\n"
		"its values (a user timeout that was 'auto' follows the new values).\n",
	.opts = set_opts,
};

static const struct cmd_help del_help = {
	.name = "config del",
	.args = "PORT",
	.nargs = 1,
	.text = "Removes the rule for PORT: connections established from now on are left alone.\n"
		"Existing connections keep the keepalive they have (sipka cannot know what they\n"
		"had before it, and dropping it would expose them to the NAT again); they stay\n"
		"counted until they close. Its counters stay in 'sipka stats'.\n",
};

static const struct opt load_opts[] = {
	{ .name = "new-only", .key = 'N', .help = "only connections established from now on" },
	{ 0 },
};

static const struct cmd_help load_help = {
	.name = "config load",
	.args = "FILE",
	.nargs = 1,
	.text = "Replaces all rules with those of FILE (INI, see examples/sipka.conf), and\n"
		"retunes the existing connections of every attached cgroup to them.\n"
		"A file with any error changes nothing. Connections on ports whose rule is\n"
		"gone keep what they have, as with 'config del'.\n",
	.opts = load_opts,
};

static const struct cmd_help check_help = {
	.name = "config check",
	.args = "FILE",
	.nargs = 1,
	.text = "Checks FILE as 'sipka config load' would, without touching the kernel: exit 0\n"
		"and the number of rules when it is good, else the first problem as FILE:LINE.\n",
};

const struct cmd_help cmd_config_help = {
	.name = "config",
	.args = "show | set PORT [OPTIONS] | del PORT | load FILE | check FILE",
	.nargs = -1,
	.text = "Shows or changes the port rules. Each change is all or nothing: the program\n"
		"sees the old rules or the new ones, never a mix. set and load retune the\n"
		"connections that exist now in every attached cgroup too (arming those not\n"
		"armed yet), unless --new-only. 'sipka config COMMAND --help' for each.\n\n"
		"  show        the rules\n"
		"  set PORT    add a rule for PORT, or change the given fields of its rule\n"
		"  del PORT    remove the rule for PORT\n"
		"  load FILE   replace all rules with those of FILE; a file with any error changes nothing\n"
		"  check FILE  check FILE without touching the kernel\n",
	.subs = (const struct cmd_help *const[]){ &show_help, &set_help, &del_help, &load_help,
						  &check_help, NULL },
};

static int parse_port(const char *s, __u32 *port)
{
	struct draft d = { 0 };
	char why[192];

	if (setting_parse(SET_PORT, s, &d, why, sizeof(why))) {
		p_err("PORT: %s", why);
		return -1;
	}
	*port = d.port;
	return 0;
}

/* A rule as JSON, as config show and config set print it. */
static json_t *rule_json(__u32 port, const struct sipka_rule *r)
{
	return json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:b}", "port", port, "name", r->name,
			 "time", (json_int_t)r->time, "intvl", (json_int_t)r->intvl, "probes",
			 (json_int_t)r->probes, "user_timeout_ms", (json_int_t)r->user_timeout_ms,
			 "reset_events", !!(r->flags & SIPKA_RULE_RESET_EVENTS));
}

static int config_show(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct conf rules;
	unsigned int i;
	json_t *j, *o;
	int rc;

	if (opt_next(argc, argv, &show_help, &rc) != OPT_END)
		return rc;
	rc = state_begin_read(&pd, &s);
	if (!rc)
		rules_read(s.config_fd, &rules);
	state_close(&s);
	pindir_close(&pd);
	if (rc)
		return EXIT_FAIL;
	if (cli_opts.json) {
		j = json_array();
		for (i = 0; i < rules.n; i++) {
			const struct sipka_rule *r = &rules.rules[i].rule;

			o = rule_json(rules.rules[i].port, r);
			json_object_set_new(o, "valid", json_boolean(sipka_rule_valid(r)));
			json_array_append_new(j, o);
		}
		return print_json(j);
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
 * Prints the result; J (JSON object, or NULL) gets it as "existing".
 * Returns the exit status. */
static int follow_existing(const struct pindir *pd, const struct state *s, bool new_only, json_t *j)
{
	struct attachments as;
	struct existing x;
	int ret;

	if (new_only) {
		if (j)
			json_object_set_new(j, "existing", json_null());
		return EXIT_OK;
	}
	if (attachments_list(pd, &as))
		return EXIT_FAIL;
	ret = arm_existing(s, &as, &x);
	attachments_free(&as);
	if (ret)
		return EXIT_FAIL;
	if (j)
		json_object_set_new(j, "existing", existing_json(&x));
	else
		existing_print(&x);
	return existing_partial(&x) ? EXIT_PARTIAL : EXIT_OK;
}

/* The rules a change starts from: the live ones, under the writers' lock. */
static int begin_change(struct pindir *pd, struct state *s, struct conf *live)
{
	int rc = state_begin_write(pd, false);

	if (!rc)
		rc = state_open(pd, s); /* says so when sipka is not loaded */
	if (rc) {
		pindir_close(pd);
		return -1;
	}
	rules_read(s->config_fd, live);
	return 0;
}

static void end_change(struct pindir *pd, struct state *s)
{
	state_close(s);
	pindir_close(pd);
}

/* The end of config set and config load: publishes RULES, says SAID (a line
 * for people; under -j, J is printed last, with "existing"), then the
 * existing connections follow unless NEW_ONLY. Returns the exit status. */
static int finish_change(struct pindir *pd, struct state *s, const struct conf *rules,
			 bool new_only, json_t *j, const char *said)
{
	int rc;

	if (rules_publish(pd, s->rules_fd, rules)) {
		end_change(pd, s);
		json_decref(j);
		return EXIT_FAIL;
	}
	if (!cli_opts.json)
		printf("%s\n", said);
	rc = follow_existing(pd, s, new_only, j);
	end_change(pd, s);
	if (j)
		print_json(j);
	return rc;
}

static int config_set(int argc, char **argv)
{
	static const enum setting of[128] = {
		['n'] = SET_NAME,   ['t'] = SET_TIME,	      ['i'] = SET_INTVL,
		['p'] = SET_PROBES, ['u'] = SET_USER_TIMEOUT, ['r'] = SET_RESET_EVENTS,
	};
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	const struct sipka_rule *old;
	struct draft d = { 0 };
	struct conf rules;
	bool new_only = false;
	struct sipka_rule r;
	char why[192], said[256];
	int c, rc;

	while ((c = opt_next(argc, argv, &set_help, &rc)) != OPT_END) {
		if (c == OPT_EXIT)
			return rc;
		if (c == 'N') {
			new_only = true;
			continue;
		}
		if (setting_parse(of[c], c == 'r' && !optarg ? "yes" : optarg, &d, why,
				  sizeof(why))) {
			p_err("--%s: %s", opt_name(&set_help, c), why);
			return EXIT_USAGE;
		}
	}
	if (parse_port(argv[optind], &d.port))
		return EXIT_USAGE;
	if (begin_change(&pd, &s, &rules))
		return EXIT_FAIL;
	old = conf_find(&rules, d.port);
	if (!old && rules.n == SIPKA_MAX_RULES) {
		p_err("sipka holds at most %d rules; delete one first ('sipka config del PORT')",
		      SIPKA_MAX_RULES);
		end_change(&pd, &s);
		return EXIT_FAIL;
	}
	draft_resolve(&d, old, &r);
	if (old) {
		*(struct sipka_rule *)old = r;
	} else {
		rules.rules[rules.n].port = d.port;
		rules.rules[rules.n++].rule = r;
	}
	snprintf(said, sizeof(said),
		 "sipka: port %u%s%s: time %us, intvl %us, probes %u, user timeout %ums", d.port,
		 r.name[0] ? " " : "", r.name, r.time, r.intvl, r.probes, r.user_timeout_ms);
	return finish_change(&pd, &s, &rules, new_only,
			     cli_opts.json ? rule_json(d.port, &r) : NULL, said);
}

static int config_del(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct conf rules;
	unsigned int i, n = 0;
	__u32 port;
	int rc;

	if (opt_next(argc, argv, &del_help, &rc) != OPT_END)
		return rc;
	if (parse_port(argv[optind], &port))
		return EXIT_USAGE;
	if (begin_change(&pd, &s, &rules))
		return EXIT_FAIL;
	for (i = 0; i < rules.n; i++)
		if (rules.rules[i].port != port)
			rules.rules[n++] = rules.rules[i];
	if (n == rules.n) {
		p_err("there is no rule for port %u; 'sipka config show' lists them", port);
		end_change(&pd, &s);
		return EXIT_FAIL;
	}
	rules.n = n;
	rc = rules_publish(&pd, s.rules_fd, &rules) ? EXIT_FAIL : EXIT_OK;
	end_change(&pd, &s);
	if (rc)
		return rc;
	if (cli_opts.json)
		return print_json(json_pack("{s:i, s:b}", "port", port, "deleted", 1));
	printf("sipka: port %u: rule deleted; existing connections keep their keepalive\n", port);
	return EXIT_OK;
}

static int config_load(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct conf conf, live;
	bool new_only = false;
	char why[512], said[PATH_MAX + 64];
	json_t *j;
	int c, rc;

	while ((c = opt_next(argc, argv, &load_help, &rc)) != OPT_END) {
		if (c != 'N')
			return rc;
		new_only = true;
	}
	if (conf_parse_file(argv[optind], &conf, why, sizeof(why))) {
		p_err("%s", why);
		return EXIT_FAIL;
	}
	if (begin_change(&pd, &s, &live))
		return EXIT_FAIL;
	j = cli_opts.json ? json_pack("{s:i, s:s}", "rules", conf.n, "file", argv[optind]) : NULL;
	snprintf(said, sizeof(said), "sipka: %u rules loaded from %s", conf.n, argv[optind]);
	return finish_change(&pd, &s, &conf, new_only, j, said);
}

static int config_check(int argc, char **argv)
{
	struct conf conf;
	char why[512];
	int rc;

	if (opt_next(argc, argv, &check_help, &rc) != OPT_END)
		return rc;
	if (conf_parse_file(argv[optind], &conf, why, sizeof(why))) {
		p_err("%s", why);
		return EXIT_FAIL;
	}
	if (cli_opts.json)
		return print_json(json_pack("{s:s, s:b, s:i}", "file", argv[optind], "valid", 1,
					    "rules", conf.n));
	printf("sipka: %s is good: %u rules\n", argv[optind], conf.n);
	return EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} subs[] = {
		{ "show", config_show }, { "set", config_set },	    { "del", config_del },
		{ "load", config_load }, { "check", config_check },
	};
	size_t i;

	optind = 0;
	if (argc < 2) /* "sipka config" alone shows the rules */
		return config_show(argc, argv);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_help(&cmd_config_help);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(argc - 1, argv + 1);
	p_err("unknown config command '%s'; use show, set, del, load or check (see 'sipka config --help')",
	      argv[1]);
	return EXIT_USAGE;
}
