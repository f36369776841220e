// SPDX-License-Identifier: GPL-2.0
/* sipka: the command table, the top-level help and the help command. */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sipka.h"

bool is_prefix(const char *pfx, const char *str)
{
	return pfx[0] && !strncmp(str, pfx, strlen(pfx));
}

static int cmd_help_cmd(int argc, char **argv);

static const struct cmd_help help_help = {
	.name = "help",
	.args = "[COMMAND [SUBCOMMAND]]",
	.nargs = -1,
	.text = "Lists the commands, or prints a command's help, as 'sipka COMMAND --help'.\n"
		"With -j: every command, its arguments and options, as JSON.\n",
};

static const struct command commands[] = {
	{ "attach", cmd_attach, "load sipka (or reuse it) and attach it to a cgroup",
	  &cmd_attach_help },
	{ "load", cmd_load, "load and pin sipka without attaching (sipka.service, at boot)",
	  &cmd_load_help },
	{ "detach", cmd_detach, "detach from one cgroup, or remove sipka entirely",
	  &cmd_detach_help },
	{ "status", cmd_status, "what is attached where", &cmd_status_help },
	{ "config", cmd_config,
	  "show, change or check the port rules (show, set, del, load, check)", &cmd_config_help },
	{ "stats", cmd_stats, "connections armed, open, dead, reset and closed, per rule",
	  &cmd_stats_help },
	{ "events", cmd_events, "which peer died, when, why, and how long it was connected",
	  &cmd_events_help },
	{ "connections", cmd_connections,
	  "every armed connection: keepalive in force, idle, probes, RTT", &cmd_connections_help },
	{ "check", cmd_check,
	  "is this host able, and is sipka doing its job? ok/warn/fail, with fixes",
	  &cmd_check_help },
	{ "help", cmd_help_cmd, "this help, or a command's: 'sipka help COMMAND'", &help_help },
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
	fprintf(f, "\nGlobal options (anywhere on the line):\n");
	print_options(f, global_opts);
}

/* sipka help [COMMAND [SUBCOMMAND]]: the command's own --help. */
static int cmd_help_cmd(int argc, char **argv)
{
	static char help_arg[] = "--help";
	const struct command *c;
	char *args[8];
	int i, n = 0;

	if (cli_opts.json)
		return print_commands_json(commands, NCOMMANDS);
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

int main(int argc, char **argv)
{
	const struct command *cmd;
	int rc;

	/* The global options, wherever they are: an error about the line is
	 * JSON when -j is anywhere on it, and the pin dir is known before a
	 * command looks at cli_opts.pin_dir. */
	argc = opts_take_globals(argc, argv, commands, NCOMMANDS, &rc);
	if (argc < 0)
		return rc;
	if (argc > 1 && !strcmp(argv[1], "--")) {
		argv++;
		argc--;
	} else if (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-h") ||
		    (strlen(argv[1]) > 2 && is_prefix(argv[1], "--help"))) {
			usage(stdout);
			return EXIT_OK;
		}
		p_err("unknown option '%s'; see 'sipka --help'", argv[1]);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	libbpf_set_print(log_libbpf_print);
	cmd = find_command(argv[1]);
	if (!cmd)
		return EXIT_USAGE;
	argv[1] = (char *)cmd->name; /* a prefix stands for the whole name */
	optind = 0;		     /* 0: getopt starts over for the command */
	return cmd->run(argc - 1, argv + 1);
}
