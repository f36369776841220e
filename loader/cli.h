/* SPDX-License-Identifier: GPL-2.0 */
/* What every command shares: global options, messages, option parsing. */
#ifndef SIPKA_CLI_H
#define SIPKA_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "log.h"

struct globals {
	const char *pin_dir;
	bool json;
	int verbose;
};
extern struct globals cli_opts;

/* Exit codes: each means one thing in every command. The table is man/sipka.8's
 * EXIT STATUS; a new code goes there too. */
#define EXIT_OK		  0 /* done, or all checks ok */
#define EXIT_FAIL	  1 /* failed, said why; nothing changed (check: a check failed) */
#define EXIT_USAGE	  2 /* a usage error: bad option, argument or value */
#define EXIT_NOT_ATTACHED 3 /* status: not loaded, or attached to no live cgroup */
#define EXIT_PARTIAL	  4 /* done in part: the message says what not (attach, load, config) */
#define EXIT_WARN	  5 /* check: no check failed, some warned */

/* A command's name, synopsis and --help text. */
struct cmd_help {
	const char *name;  /* "config set" */
	const char *usage; /* "PORT [--time S] ..." */
	const char *text;  /* what it does and the options, one per line */
};

void print_help(const struct cmd_help *h);

/* getopt_long for a command: returns the next option, -1 at the end, or
 * OPT_EXIT once --help was printed (set *rc = 0) or a bad option reported
 * (*rc = EXIT_USAGE). */
#define OPT_EXIT 0x10000
int next_opt(int argc, char **argv, const struct cmd_help *h, const struct option *opts, int *rc);
/* Checks the positional arguments left after the options: MIN to MAX. */
int want_args(int argc, char **argv, int min, int max, const struct cmd_help *h);
/* PFX is a non-empty prefix of STR, as bpftool's is_prefix: for subcommands. */
bool is_prefix(const char *pfx, const char *str);

int cmd_attach(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_connections(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
