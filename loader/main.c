// SPDX-License-Identifier: GPL-2.0
/* sipka: the command table and the global options. */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sipka.h"

struct globals cli_opts = { .pin_dir = SIPKA_PIN_DIR_DEFAULT };

void print_help(const struct cmd_help *h)
{
	printf("Usage: sipka [GLOBAL OPTIONS] %s %s\n\n%s", h->name, h->usage, h->text);
}

/* Long-only global options: values past any character. */
#define OPT_PIN_DIR 0x100

static const struct option global_opts[] = {
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
};
#define NGLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))

static int set_pin_dir(const char *dir)
{
	if (dir[0] != '/') {
		p_err("--pin-dir '%s' must be an absolute path inside a BPF filesystem, such as %s",
		      dir, SIPKA_PIN_DIR_DEFAULT);
		return -1;
	}
	cli_opts.pin_dir = dir;
	return 0;
}

/* A global option C (with ARG) seen anywhere on the line: 1 if it was one and
 * is done, 0 if C is not a global option, -1 to exit with *RC. */
static int global_opt(int c, const char *arg, int *rc)
{
	switch (c) {
	case OPT_PIN_DIR:
		if (set_pin_dir(arg)) {
			*rc = EXIT_USAGE;
			return -1;
		}
		return 1;
	case 'j':
		cli_opts.json = true;
		log_set_json(true);
		return 1;
	case 'v': log_set_verbose(++cli_opts.verbose); return 1;
	case 'V':
		printf("sipka %s\n", SIPKA_VERSION);
		*rc = EXIT_OK;
		return -1;
	default: return 0;
	}
}

int next_opt(int argc, char **argv, const struct cmd_help *h, const struct option *opts, int *rc)
{
	/* Every command takes --help and the global options (as bpftool does, -j
	 * may come after the command): add them to the command's own list. */
	struct option all[32] = { { "help", no_argument, NULL, 'h' } };
	char shortopts[64] = ":hjvV";
	int i, n = 1, c, done;

	for (i = 0; i < (int)NGLOBAL; i++)
		all[n++] = global_opts[i];
	for (i = 0; opts && opts[i].name && n < 31; i++, n++) {
		all[n] = opts[i];
		if (opts[i].val < 256 && strlen(shortopts) + 3 < sizeof(shortopts)) {
			size_t l = strlen(shortopts);

			shortopts[l] = opts[i].val;
			shortopts[l + 1] = opts[i].has_arg ? ':' : '\0';
			shortopts[l + 2] = '\0';
		}
	}
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, shortopts, all, NULL);
		done = global_opt(c, optarg, rc);
		if (done < 0)
			return OPT_EXIT;
		if (!done)
			break;
	}
	switch (c) {
	case 'h':
		print_help(h);
		*rc = EXIT_OK;
		return OPT_EXIT;
	case '?':
		if (optopt)
			p_err("unknown option '-%c' for 'sipka %s'; see 'sipka %s --help'", optopt,
			      h->name, h->name);
		else
			p_err("unknown option '%s' for 'sipka %s'; see 'sipka %s --help'",
			      argv[optind - 1], h->name, h->name);
		*rc = EXIT_USAGE;
		return OPT_EXIT;
	case ':':
		p_err("option '%s' of 'sipka %s' needs a value; see 'sipka %s --help'",
		      argv[optind - 1], h->name, h->name);
		*rc = EXIT_USAGE;
		return OPT_EXIT;
	default: return c;
	}
}

bool is_prefix(const char *pfx, const char *str)
{
	return pfx[0] && !strncmp(str, pfx, strlen(pfx));
}

int want_args(int argc, char **argv, int min, int max, const struct cmd_help *h)
{
	int n = argc - optind;

	if (n < min) {
		p_err("'sipka %s' needs %s; see 'sipka %s --help'", h->name, h->usage, h->name);
		return -1;
	}
	if (n > max) {
		p_err("unexpected argument '%s' for 'sipka %s'; see 'sipka %s --help'",
		      argv[optind + max], h->name, h->name);
		return -1;
	}
	return 0;
}

static int cmd_help_cmd(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "attach", cmd_attach, "load sipka (or reuse it) and attach it to a cgroup" },
	{ "load", cmd_load, "load and pin sipka without attaching (sipka.service, at boot)" },
	{ "detach", cmd_detach, "detach from one cgroup, or remove sipka entirely" },
	{ "status", cmd_status, "what is attached where" },
	{ "config", cmd_config,
	  "show, change or check the port rules (show, set, del, load, check)" },
	{ "stats", cmd_stats, "connections armed, open, dead, reset and closed, per rule" },
	{ "events", cmd_events, "which peer died, when, why, and how long it was connected" },
	{ "connections", cmd_connections,
	  "every armed connection: keepalive in force, idle, probes, RTT" },
	{ "check", cmd_check,
	  "is this host able, and is sipka doing its job? ok/warn/fail, with fixes" },
	{ "help", cmd_help_cmd, "this help, or a command's: 'sipka help COMMAND'" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* WORD names a command in full or by an unambiguous prefix, as in bpftool
 * ('sipka att' is attach); otherwise says why and returns NULL. */
static const struct command *find_command(const char *word)
{
	const struct command *found = NULL;
	char names[256] = "";
	size_t i, n = 0;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(word, commands[i].name))
			return &commands[i];
	for (i = 0; i < NCOMMANDS; i++) {
		if (!is_prefix(word, commands[i].name))
			continue;
		found = &commands[i];
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 n++ ? ", " : "", commands[i].name);
	}
	if (n == 1)
		return found;
	if (n > 1)
		p_err("'%s' is ambiguous: it may be %s; type more of the command", word, names);
	else
		p_err("unknown command '%s'; see 'sipka --help'", word);
	return NULL;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: sipka [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		   "Keeps a PBX's SIP connections over TCP, TLS and WebSocket alive through NATs\n"
		   "and finds dead peers, with the kernel's own TCP keepalive (eBPF sock_ops).\n\n"
		   "Commands (any unambiguous prefix will do):\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\nGlobal options (anywhere on the line):\n"
		"  --pin-dir DIR  where sipka pins its program, maps and links (default %s)\n"
		"  -j, --json     JSON output for every read command; errors as {\"error\": ...}\n"
		"  -v, --verbose  say more; twice: libbpf debug output\n"
		"  -h, --help     this help; 'sipka help COMMAND' for a command\n"
		"  -V, --version  the version\n",
		SIPKA_PIN_DIR_DEFAULT);
}

/* sipka help [COMMAND [SUBCOMMAND]]: the command's own --help. */
static int cmd_help_cmd(int argc, char **argv)
{
	static char help_arg[] = "--help";
	const struct command *c;
	char *args[8];
	int i, n = 0;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c)
		return EXIT_USAGE;
	if (c->run == cmd_help_cmd) {
		usage(stdout);
		return EXIT_OK;
	}
	args[n++] = (char *)c->name;
	for (i = 2; i < argc && n < 6; i++)
		args[n++] = argv[i]; /* 'sipka help config set' */
	args[n++] = help_arg;
	args[n] = NULL;
	optind = 0;
	return c->run(n, args);
}

/* Takes the global options right after the command out of ARGV (next_opt
 * sees those further on), so 'sipka config -j show' works too. Returns the
 * new ARGC, or -1 to exit with *RC. */
static int strip_globals(int argc, char **argv, int *rc)
{
	int i = 1, c, drop;
	const char *arg;

	while (i < argc) {
		arg = NULL;
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			c = 'j';
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			c = 'v';
		else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version"))
			c = 'V';
		else if (!strncmp(argv[i], "--pin-dir=", 10))
			c = OPT_PIN_DIR, arg = argv[i] + 10;
		else if (!strcmp(argv[i], "--pin-dir") && i + 1 < argc)
			c = OPT_PIN_DIR, arg = argv[i + 1];
		else
			break;
		drop = c == OPT_PIN_DIR && arg == argv[i + 1] ? 2 : 1;
		if (global_opt(c, arg, rc) < 0)
			return -1;
		memmove(&argv[i], &argv[i + drop], (argc - i - drop + 1) * sizeof(char *));
		argc -= drop;
	}
	return argc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "pin-dir", required_argument, NULL, OPT_PIN_DIR },
					      { "json", no_argument, NULL, 'j' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { 0 } };
	const struct command *cmd;
	int c, i, rc = EXIT_OK;

	/* An error about the line itself is JSON too when -j is anywhere on it,
	 * and the pin dir is known before any command looks at cli_opts.pin_dir, even
	 * when --pin-dir comes after the command's own options. */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			cli_opts.json = true;
			log_set_json(true);
		}
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *dir = NULL;

		if (!strncmp(argv[i], "--pin-dir=", 10))
			dir = argv[i] + 10;
		else if (!strcmp(argv[i], "--pin-dir") && i + 1 < argc)
			dir = argv[++i];
		if (dir && set_pin_dir(dir))
			return EXIT_USAGE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return EXIT_OK;
		case ':':
			p_err("option '%s' needs a value; see 'sipka --help'", argv[optind - 1]);
			return EXIT_USAGE;
		case '?':
			p_err("unknown option '%s'; see 'sipka --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (global_opt(c, optarg, &rc) < 0)
				return rc;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	libbpf_set_print(log_libbpf_print);
	cmd = find_command(argv[optind]);
	if (!cmd)
		return EXIT_USAGE;
	argv += optind;
	argc -= optind;
	argv[0] = (char *)cmd->name; /* a prefix stands for the whole name */
	argc = strip_globals(argc, argv, &rc);
	if (argc < 0)
		return rc;
	optind = 0; /* 0: getopt starts over for the command */
	return cmd->run(argc, argv);
}
