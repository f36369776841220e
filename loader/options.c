// SPDX-License-Identifier: GPL-2.0
/* The command line from the tables of options (options.h): the global
 * options taken out of the line, a command's options parsed, --help and the
 * JSON dump of every command written. */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "sipka.h"

#define WIDTH	   80 /* --help wraps its lines at */
#define OPT_COLUMN 28 /* where the options' help starts, at most */
#define MAX_OPTS   32 /* options of one command */
#define MAX_TABLES 32 /* tables of options: the globals', the commands' */

enum { OPT_PIN_DIR = OPT_LONG_ONLY };

struct globals cli_opts = { .pin_dir = SIPKA_PIN_DIR_DEFAULT };

const struct opt global_opts[] = {
	{ .name = "pin-dir",
	  .key = OPT_PIN_DIR,
	  .value = "DIR",
	  .def = SIPKA_PIN_DIR_DEFAULT,
	  .help = "where sipka pins its objects" },
	{ .name = "json",
	  .key = 'j',
	  .help = "JSON output; errors as {\"error\": ...} on stdout too" },
	{ .name = "verbose", .key = 'v', .help = "say more; twice: libbpf debug output" },
	{ .name = "help", .key = 'h', .help = "this help; 'sipka help COMMAND' for a command" },
	{ .name = "version", .key = 'V', .help = "the version" },
	{ 0 },
};

static bool has_short(const struct opt *o)
{
	return o->key < OPT_LONG_ONLY;
}

/* O takes the next word as its value when it is not attached. */
static bool takes_value(const struct opt *o)
{
	return o->value && !(o->flags & OPT_OPTIONAL);
}

static bool is_global(const struct opt *o)
{
	return o >= global_opts && o < global_opts + sizeof(global_opts) / sizeof(global_opts[0]);
}

/* The globals' table and every command's and subcommand's: *T, the count. */
static int all_tables(const struct command *cmds, size_t n, const struct opt **t)
{
	const struct cmd_help *const *sub;
	int nt = 0;
	size_t i;

	t[nt++] = global_opts;
	for (i = 0; i < n && nt < MAX_TABLES; i++) {
		if (!cmds[i].help)
			continue;
		if (cmds[i].help->opts)
			t[nt++] = cmds[i].help->opts;
		for (sub = cmds[i].help->subs; sub && *sub && nt < MAX_TABLES; sub++)
			if ((*sub)->opts)
				t[nt++] = (*sub)->opts;
	}
	return nt;
}

/* What the option NAME (LEN bytes, maybe a prefix, as getopt_long takes it)
 * or the short letter KEY (NAME NULL) is in any command: a short option means
 * one thing in every command. *AMBIGUOUS: NAME is a prefix of several. */
static const struct opt *lookup(const struct command *cmds, size_t n, const char *name, size_t len,
				int key, bool *ambiguous)
{
	const struct opt *t[MAX_TABLES], *o, *prefix = NULL;
	int nt = all_tables(cmds, n, t), i;

	*ambiguous = false;
	for (i = 0; i < nt; i++) {
		for (o = t[i]; o->name; o++) {
			if (!name) {
				if (o->key == key && has_short(o))
					return o;
			} else if (!strncmp(o->name, name, len)) {
				if (!o->name[len])
					return o; /* exact */
				*ambiguous |= prefix && strcmp(prefix->name, o->name);
				if (!prefix || takes_value(o))
					prefix = o;
			}
		}
	}
	return prefix;
}

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

/* The global options seen on the line, applied once all are seen: an error
 * is JSON when -j comes after it too. */
struct globals_seen {
	const char *missing; /* an option given without its value */
	const char *pin_dir; /* the first bad --pin-dir, else the last */
	bool version;
};

static void set_global(int key, const char *value, struct globals_seen *g)
{
	switch (key) {
	case OPT_PIN_DIR:
		if (!g->pin_dir || g->pin_dir[0] == '/')
			g->pin_dir = value;
		break;
	case 'j':
		cli_opts.json = true;
		log_set_json(true);
		break;
	case 'v': log_set_verbose(++cli_opts.verbose); break;
	case 'V': g->version = true; break;
	default: break;
	}
}

/* "--name[=value]" at ARGV[*I]: taken out if it is a global option (with its
 * value), else kept at ARGV[(*OUT)++], with the next word if it is its value. */
static void take_long(int argc, char **argv, int *i, int *out, const struct command *cmds, size_t n,
		      struct globals_seen *g)
{
	const char *w = argv[*i] + 2, *eq = strchr(w, '=');
	const struct opt *o;
	bool ambiguous;

	o = lookup(cmds, n, w, eq ? (size_t)(eq - w) : strlen(w), 0, &ambiguous);
	if (o && !ambiguous && is_global(o) && o->key != 'h' && (o->value || !eq)) {
		if (!o->value)
			set_global(o->key, NULL, g);
		else if (eq)
			set_global(o->key, eq + 1, g);
		else if (*i + 1 < argc)
			set_global(o->key, argv[++*i], g);
		else
			g->missing = argv[*i];
		return;
	}
	argv[(*out)++] = argv[*i];
	if (o && takes_value(o) && !eq && *i + 1 < argc)
		argv[(*out)++] = argv[++*i]; /* its value, whatever it looks like */
}

/* "-abc" at ARGV[*I]: its global letters taken out; the rest kept at
 * ARGV[(*OUT)++], with the next word if its last option takes it as value. */
static void take_shorts(int argc, char **argv, int *i, int *out, const struct command *cmds,
			size_t n, struct globals_seen *g)
{
	char *w = argv[*i], *dst = w + 1, *s;
	const struct opt *o;
	bool ambiguous, value_next = false;

	for (s = w + 1; *s; s++) {
		o = lookup(cmds, n, NULL, 0, *s, &ambiguous);
		if (o && is_global(o) && o->key != 'h') {
			set_global(o->key, NULL, g);
			continue;
		}
		if (o && o->value) { /* the rest of the word is its value */
			value_next = !s[1] && takes_value(o);
			memmove(dst, s, strlen(s) + 1);
			dst += strlen(dst);
			break;
		}
		*dst++ = *s;
	}
	*dst = '\0';
	if (dst > w + 1)
		argv[(*out)++] = w;
	if (value_next && *i + 1 < argc)
		argv[(*out)++] = argv[++*i];
}

int opts_take_globals(int argc, char **argv, const struct command *cmds, size_t n, int *rc)
{
	struct globals_seen g = { NULL, NULL, false };
	int i, out = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) { /* the rest are arguments */
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (argv[i][0] != '-' || !argv[i][1])
			argv[out++] = argv[i];
		else if (argv[i][1] == '-')
			take_long(argc, argv, &i, &out, cmds, n, &g);
		else
			take_shorts(argc, argv, &i, &out, cmds, n, &g);
	}
	argv[out] = NULL;
	*rc = EXIT_USAGE;
	if (g.missing) {
		p_err("option '%s' needs a value; see 'sipka --help'", g.missing);
		return -1;
	}
	if (g.pin_dir && set_pin_dir(g.pin_dir))
		return -1;
	if (g.version) {
		printf("sipka %s\n", SIPKA_VERSION);
		*rc = EXIT_OK;
		return -1;
	}
	return out;
}

/* The arguments left after the options: as many as H takes. */
static int want_args(int argc, char **argv, const struct cmd_help *h)
{
	int n = argc - optind;

	if (h->nargs < 0 || n == h->nargs)
		return 0;
	if (n < h->nargs)
		p_err("'sipka %s' needs %s; see 'sipka %s --help'", h->name, h->args, h->name);
	else
		p_err("unexpected argument '%s' for 'sipka %s'; see 'sipka %s --help'",
		      argv[optind + h->nargs], h->name, h->name);
	return -1;
}

int opt_next(int argc, char **argv, const struct cmd_help *h, int *rc)
{
	/* H's options, and --help, which every command takes. */
	struct option all[MAX_OPTS + 2] = { { "help", no_argument, NULL, 'h' } };
	char shorts[3 * MAX_OPTS + 4] = ":h";
	size_t l = strlen(shorts);
	const struct opt *o;
	int n = 1, c;

	for (o = h->opts; o && o->name && n <= MAX_OPTS; o++, n++) {
		all[n].name = o->name;
		all[n].has_arg = !o->value		   ? no_argument :
				 (o->flags & OPT_OPTIONAL) ? optional_argument :
							     required_argument;
		all[n].val = o->key;
		if (!has_short(o))
			continue;
		shorts[l++] = o->key;
		if (o->value)
			shorts[l++] = ':';
		if (o->flags & OPT_OPTIONAL)
			shorts[l++] = ':';
	}
	shorts[l] = '\0';
	opterr = 0;
	c = getopt_long(argc, argv, shorts, all, NULL);
	switch (c) {
	case -1:
		if (!want_args(argc, argv, h))
			return OPT_END;
		break;
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
		break;
	case ':':
		p_err("option '%s' of 'sipka %s' needs a value; see 'sipka %s --help'",
		      argv[optind - 1], h->name, h->name);
		break;
	default: return c; /* *RC untouched: commands keep their own in it */
	}
	*rc = EXIT_USAGE;
	return OPT_EXIT;
}

const char *opt_name(const struct cmd_help *h, int key)
{
	const struct opt *o;

	for (o = h->opts; o && o->name; o++)
		if (o->key == key)
			return o->name;
	return "?";
}

/* "--name VALUE", "--name[=VALUE]" or "--name" into BUF. */
static void opt_word(const struct opt *o, char *buf, size_t len)
{
	if (!o->value)
		snprintf(buf, len, "--%s", o->name);
	else if (o->flags & OPT_OPTIONAL)
		snprintf(buf, len, "--%s[=%s]", o->name, o->value);
	else
		snprintf(buf, len, "--%s %s", o->name, o->value);
}

/* "config set PORT [--name NAME] ... [--new-only]" into BUF. */
static void usage_line(const struct cmd_help *h, char *buf, size_t len)
{
	const struct opt *o;
	size_t l;
	char w[96];

	snprintf(buf, len, "%s%s%s", h->name, h->args[0] ? " " : "", h->args);
	for (o = h->opts; o && o->name; o++) {
		opt_word(o, w, sizeof(w));
		l = strlen(buf);
		/* Into the brackets of the option before: "[--a X | --b Y]", "[--a [--b Y]]". */
		if (o->flags & (OPT_OR_PREV | OPT_WITH_PREV) && l && buf[l - 1] == ']')
			snprintf(buf + l - 1, len - l + 1,
				 (o->flags & OPT_OR_PREV) ? " | %s]" : " [%s]]", w);
		else
			snprintf(buf + l, len - l, " [%s]", w);
	}
}

void print_help(const struct cmd_help *h)
{
	char usage[1024];

	usage_line(h, usage, sizeof(usage));
	printf("Usage: sipka [GLOBAL OPTIONS] %s\n\n%s", usage, h->text);
	if (h->opts && h->opts->name) {
		putchar('\n');
		print_options(stdout, h->opts);
	}
}

/* "  -c, --cgroup PATH" or "      --cgroup-of PID" into BUF; its length. */
static int opt_left(const struct opt *o, char *buf, size_t len)
{
	char w[96];

	opt_word(o, w, sizeof(w));
	if (has_short(o))
		return snprintf(buf, len, "  -%c, %s", o->key, w);
	return snprintf(buf, len, "      %s", w);
}

void print_options(FILE *f, const struct opt *table)
{
	int col = 0, at, l;
	const struct opt *o;
	char left[128], text[512], *word, *save;

	for (o = table; o->name; o++)
		if ((l = opt_left(o, left, sizeof(left)) + 2) > col)
			col = l;
	if (col > OPT_COLUMN)
		col = OPT_COLUMN;
	for (o = table; o->name; o++) {
		opt_left(o, left, sizeof(left));
		at = fprintf(f, "%s", left);
		if (at + 2 > col) {
			fputc('\n', f);
			at = 0;
		}
		snprintf(text, sizeof(text), "%s%s%s%s", o->help, o->def ? " (default " : "",
			 o->def ? o->def : "", o->def ? ")" : "");
		/* The help from column COL, wrapped at WIDTH. */
		for (word = strtok_r(text, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
			l = strlen(word);
			if (at > col && at + 1 + l > WIDTH) {
				fputc('\n', f);
				at = 0;
			}
			if (at < col)
				at += fprintf(f, "%*s", col - at, "");
			else
				at += fprintf(f, " ");
			at += fprintf(f, "%s", word);
		}
		fputc('\n', f);
	}
}

static json_t *options_json(const struct opt *table)
{
	json_t *all = json_array();
	const struct opt *o;
	char lng[64], shrt[4];

	for (o = table; o && o->name; o++) {
		snprintf(lng, sizeof(lng), "--%s", o->name);
		snprintf(shrt, sizeof(shrt), "-%c", has_short(o) ? o->key : '?');
		json_array_append_new(all,
				      json_pack("{s:s, s:s?, s:s?, s:b, s:s?, s:s}", "long", lng,
						"short", has_short(o) ? shrt : NULL, "value",
						o->value, "optional", !!(o->flags & OPT_OPTIONAL),
						"default", o->def, "help", o->help));
	}
	return all;
}

static json_t *command_json(const struct cmd_help *h, const char *summary)
{
	const struct cmd_help *const *sub;
	char usage[1024];
	json_t *j, *subs;

	usage_line(h, usage, sizeof(usage));
	j = json_pack("{s:s, s:s?, s:s, s:s, s:o}", "name", h->name, "summary", summary, "usage",
		      usage, "args", h->args, "options", options_json(h->opts));
	if (j && h->subs) {
		subs = json_array();
		for (sub = h->subs; *sub; sub++)
			json_array_append_new(subs, command_json(*sub, NULL));
		json_object_set_new(j, "subcommands", subs);
	}
	return j;
}

int print_commands_json(const struct command *cmds, size_t n)
{
	json_t *all = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(all, command_json(cmds[i].help, cmds[i].summary));
	return print_json(json_pack("{s:o, s:o}", "global_options", options_json(global_opts),
				    "commands", all));
}
