// SPDX-License-Identifier: GPL-2.0
/* sipka: the command table and the global options. */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sipka.h"

struct globals g = { .pin_dir = SIPKA_PIN_DIR_DEFAULT };

void err(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void print_help(const struct cmd_help *h)
{
	printf("Usage: sipka [GLOBAL OPTIONS] %s %s\n\n%s", h->name, h->usage, h->text);
}

int next_opt(int argc, char **argv, const struct cmd_help *h,
	     const struct option *opts, int *rc)
{
	/* Every command takes --help: add it to the command's own list. */
	struct option all[16] = { { "help", no_argument, NULL, 'h' } };
	char shortopts[48] = ":h";
	int i, n = 1, c;

	for (i = 0; opts && opts[i].name && n < 15; i++, n++) {
		all[n] = opts[i];
		if (opts[i].val < 256) {
			size_t l = strlen(shortopts);

			shortopts[l] = opts[i].val;
			shortopts[l + 1] = opts[i].has_arg ? ':' : '\0';
			shortopts[l + 2] = '\0';
		}
	}
	opterr = 0;
	c = getopt_long(argc, argv, shortopts, all, NULL);
	switch (c) {
	case 'h':
		print_help(h);
		*rc = EXIT_OK;
		return OPT_EXIT;
	case '?':
		if (optopt)
			err("unknown option '-%c' for 'sipka %s'; see 'sipka %s --help'", optopt, h->name, h->name);
		else
			err("unknown option '%s' for 'sipka %s'; see 'sipka %s --help'", argv[optind - 1], h->name, h->name);
		*rc = EXIT_USAGE;
		return OPT_EXIT;
	case ':':
		err("option '%s' of 'sipka %s' needs a value; see 'sipka %s --help'", argv[optind - 1], h->name, h->name);
		*rc = EXIT_USAGE;
		return OPT_EXIT;
	}
	return c;
}

int want_args(int argc, char **argv, int min, int max, const struct cmd_help *h)
{
	int n = argc - optind;

	if (n < min) {
		err("'sipka %s' needs %s; see 'sipka %s --help'", h->name, h->usage, h->name);
		return -1;
	}
	if (n > max) {
		err("unexpected argument '%s' for 'sipka %s'; see 'sipka %s --help'", argv[optind + max], h->name, h->name);
		return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "attach", cmd_attach, "load sipka (or reuse it) and attach it to a cgroup" },
	{ "load",   cmd_load,   "load and pin sipka without attaching (for systemd's BPFProgram=)" },
	{ "detach", cmd_detach, "detach from one cgroup, or remove sipka entirely" },
	{ "status", cmd_status, "what is attached where" },
	{ "config", cmd_config, "show or change the port rules (show, set, del, load)" },
	{ "stats",  cmd_stats,  "connections armed, open, dead, reset and closed, per rule" },
	{ "events", cmd_events, "which peer died, when, why, and how long it was connected" },
	{ "check",  cmd_check,  "is this host able, and is sipka doing its job? ok/warn/fail, with fixes" },
	{ "connections", cmd_connections, "every armed connection: keepalive in force, idle, probes, RTT" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: sipka [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		"Keeps a PBX's SIP connections over TCP, TLS and WebSocket alive through NATs\n"
		"and finds dead peers, with the kernel's own TCP keepalive (eBPF sock_ops).\n\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\nGlobal options:\n"
		"  --pin-dir DIR  where sipka pins its program, maps and links (default %s)\n"
		"  -j, --json     JSON output for every read command\n"
		"  -v, --verbose  say more; twice: libbpf debug output\n"
		"  -h, --help     this help; 'sipka COMMAND --help' for a command\n"
		"  -V, --version  the version\n", SIPKA_PIN_DIR_DEFAULT);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && g.verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && g.verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);	/* libbpf's lines say "libbpf: " */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json",    no_argument,       NULL, 'j' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ 0 }
	};
	size_t i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (optarg[0] != '/') {
				err("--pin-dir '%s' must be an absolute path inside a BPF filesystem, such as %s",
				    optarg, SIPKA_PIN_DIR_DEFAULT);
				return EXIT_USAGE;
			}
			g.pin_dir = optarg;
			break;
		case 'j': g.json = true; break;
		case 'v': g.verbose++; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("sipka %s\n", SIPKA_VERSION); return EXIT_OK;
		case ':':
			err("option '%s' needs a value; see 'sipka --help'", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			err("unknown option '%s'; see 'sipka --help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	libbpf_set_print(libbpf_print);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			argv += optind;
			argc -= optind;
			optind = 0;	/* 0: getopt starts over for the command */
			return commands[i].run(argc, argv);
		}
	}
	err("unknown command '%s'; see 'sipka --help'", argv[optind]);
	return EXIT_USAGE;
}
