/* SPDX-License-Identifier: GPL-2.0 */
/* What every command shares: the command line and its global options
 * (options.h), messages (log.h), exit codes (exitcode.h), the commands. */
#ifndef SIPKA_CLI_H
#define SIPKA_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "exitcode.h"
#include "log.h"
#include "options.h"

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
