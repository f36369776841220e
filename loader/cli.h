/* SPDX-License-Identifier: GPL-2.0 */
/* What every command shares: global options, messages, exit codes, the
 * command line (options.h). */
#ifndef SIPKA_CLI_H
#define SIPKA_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "log.h"
#include "options.h"

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

/* PFX is a non-empty prefix of STR, as bpftool's is_prefix: for subcommands. */
bool is_prefix(const char *pfx, const char *str);

/* The commands, each declared in its file: its options, --help, and run. */
extern const struct cmd_help cmd_attach_help, cmd_load_help, cmd_detach_help, cmd_status_help,
	cmd_config_help, cmd_stats_help, cmd_events_help, cmd_connections_help, cmd_check_help;
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
