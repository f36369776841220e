/* SPDX-License-Identifier: GPL-2.0 */
/* The command line, declared once: each command's options in a table (struct
 * opt) that drives parsing, --help and 'sipka -j help', the dump that
 * tests/docs/test_options.py checks the man page and the completion against.
 * The global options are taken out of the line in one place. As xdp-tools'
 * params.c (DEFINE_OPTION, DEFINE_COMMAND). */
#ifndef SIPKA_OPTIONS_H
#define SIPKA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The global options' values, set by opts_take_globals. */
struct globals {
	const char *pin_dir;
	bool json;
	int verbose;
};
extern struct globals cli_opts;

/* A constant as --help prints it: OPT_STR(SIPKA_DEFAULT_TIME) is "60". */
#define OPT_STR_(x) #x
#define OPT_STR(x)  OPT_STR_(x)

/* The key of an option without a short form: OPT_LONG_ONLY, + 1, ... (a
 * command's own enum), above any letter. */
#define OPT_LONG_ONLY 0x100

/* struct opt's flags. */
#define OPT_OPTIONAL  (1u << 0) /* the value is optional: --reset-events[=no] */
#define OPT_OR_PREV   (1u << 1) /* usage: an alternative to the option before, [--a X | --b Y] */
#define OPT_WITH_PREV (1u << 2) /* usage: only with the option before, [--a [--b Y]] */

struct opt {
	const char *name;  /* the long name, without "--" */
	int key;	   /* the short option's letter, or a key from OPT_LONG_ONLY */
	const char *value; /* the value's name in usage and --help ("FILE"); NULL: a flag */
	const char *def;   /* the default as printed, from a constant (OPT_STR); or NULL */
	const char *help;  /* one line, lower case, no full stop: --help wraps it */
	unsigned int flags;
};

/* A command: its name, arguments, what it does, its options. */
struct cmd_help {
	const char *name;		    /* "config set" */
	const char *args;		    /* its arguments in the usage line: "PORT", or "" */
	int nargs;			    /* how many arguments it takes; -1: it checks them */
	const char *text;		    /* what it does, said before the options */
	const struct opt *opts;		    /* ends with { NULL }; NULL: none of its own */
	const struct cmd_help *const *subs; /* its subcommands (config's), ends with NULL */
};

/* A line of the command table (main.c). */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* one line for 'sipka --help' */
	const struct cmd_help *help;
};

/* The global options (--pin-dir, -j, -v, -V, -h): for the top-level help. */
extern const struct opt global_opts[];

/* Takes the global options out of ARGV wherever they are (before "--") and
 * sets cli_opts; -h and --help stay, for the command they follow. CMDS (N)
 * say which words are the values of options. Returns the new ARGC, or -1 to
 * exit with *RC (--version printed, or a bad --pin-dir said). */
int opts_take_globals(int argc, char **argv, const struct command *cmds, size_t n, int *rc);

/* The next option of command H (getopt_long: reset optind to 0 before the
 * first call): its key, with its value in optarg; OPT_END after the last one,
 * the arguments' count checked; or OPT_EXIT once --help was printed (*RC 0)
 * or a bad option or argument said (*RC EXIT_USAGE). A command without
 * options of its own calls it once. */
#define OPT_END	 (-1)
#define OPT_EXIT 0x10000
int opt_next(int argc, char **argv, const struct cmd_help *h, int *rc);

/* The long name of KEY in H's options, for messages ("time"). */
const char *opt_name(const struct cmd_help *h, int key);

/* 'sipka CMD --help': the usage line, the text, the options. */
void print_help(const struct cmd_help *h);
/* The options of TABLE as --help lists them, on F. */
void print_options(FILE *f, const struct opt *table);

/* 'sipka -j help': every command (of N in CMDS) with its usage, arguments
 * and options, and the global options, as one JSON object. */
int print_commands_json(const struct command *cmds, size_t n);

#endif
