// SPDX-License-Identifier: GPL-2.0
/* sipka stats: the counters of every rule port, as a table (once, or redrawn with
 * --watch), JSON, or Prometheus text (written by prometheus.c; to a file
 * rewritten with --watch; served over HTTP by metrics_http.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "counter_table.h"
#include "format.h"
#include "metrics_http.h"
#include "output.h"
#include "parse.h"
#include "prometheus.h"
#include "signals.h"
#include "state.h"
#include "stats_read.h"

enum { OPT_LISTEN = OPT_LONG_ONLY, OPT_CLOSE_WAIT_AFTER };

static const struct opt stats_opts[] = {
	{ .name = "prometheus",
	  .key = 'P',
	  .help = "the Prometheus text exposition format, with sipka_up, sipka_attached_cgroups, sipka_defunct_links and the rules; when sipka is not loaded: sipka_up 0, exit status 0" },
	{ .name = "output",
	  .key = 'o',
	  .value = "FILE",
	  .help = "with --prometheus: write FILE atomically (a temporary file in the same directory, then rename), for node_exporter's textfile collector",
	  .flags = OPT_WITH_PREV },
	{ .name = "watch",
	  .key = 'w',
	  .value = "N",
	  .help = "redraw every N seconds (1-3600) with the time and the change since the last draw, until interrupted or sipka is detached (exit 1); with --prometheus --output: rewrite FILE every N seconds" },
	{ .name = "listen",
	  .key = OPT_LISTEN,
	  .value = "ADDR:PORT",
	  .help = "serve the Prometheus text on http://ADDR:PORT/metrics, read at each scrape, until SIGINT or SIGTERM; ADDR: IPv4, or IPv6 in brackets; :PORT is 127.0.0.1:PORT" },
	{ .name = "close-wait-after",
	  .key = OPT_CLOSE_WAIT_AFTER,
	  .value = "SECS",
	  .def = OPT_STR(SIPKA_DEFAULT_CLOSE_WAIT_AFTER),
	  .help = "with --prometheus or --listen: sipka_connections_close_wait_phantoms counts the connections the peer closed that the PBX has held longer than SECS (1-86400); a walk of the sockets at each reading (bench/RESULTS.md: its cost)" },
	{ 0 },
};

const struct cmd_help cmd_stats_help = {
	.name = "stats",
	.args = "",
	.nargs = 0,
	.text = "Shows the counters of each rule port:\n"
		"  ARMED      connections keepalive was set on\n"
		"  ACTIVE     armed and still open\n"
		"  DEAD_KA    dead peers found by keepalive (probes went unanswered)\n"
		"  DEAD_RTX   dead peers found by retransmission (data unacknowledged:\n"
		"             retransmission limit or TCP_USER_TIMEOUT)\n"
		"  RESET      connections the peer reset\n"
		"  CLOSED     every close of an armed connection, whatever the reason\n"
		"  ERRORS     invalid rules, failed setsockopt, no memory\n"
		"  LOST       events lost because the ring buffer was full\n"
		"  UNTRACKED  armed, but their close cannot be counted (the connection table\n"
		"             was full, or an existing connection on a kernel that cannot)\n"
		"Counters of a deleted rule stay, with name '-', until 'sipka detach'.\n"
		"The table fits the terminal's width (100 columns when it is not a terminal).\n",
	.opts = stats_opts,
};

static json_t *rows_json(const struct stats_row *rows, int n)
{
	json_t *all = json_array(), *o;
	size_t k;
	int i;

	for (i = 0; i < n; i++) {
		o = json_pack("{s:i, s:s}", "port", rows[i].port, "name", rows[i].name);
		for (k = 0; k < NCOUNTERS; k++)
			json_object_set_new(o, counters[k].json,
					    json_integer(counter_value(&rows[i].c, &counters[k])));
		json_array_append_new(all, o);
	}
	return all;
}

static const struct stats_row *find_row(const struct stats_row *rows, int n, __u32 port)
{
	int i;

	for (i = 0; rows && i < n; i++)
		if (rows[i].port == port)
			return &rows[i];
	return NULL;
}

static long long delta(const struct stats_row *r, const struct stats_row *prev, int nprev,
		       const struct counter *k)
{
	const struct stats_row *was = find_row(prev, nprev, r->port);

	return counter_value(&r->c, k) - (was ? counter_value(&was->c, k) : 0);
}

/* The rows, read from the pins opened for this read only: a watch that kept
 * what it opened first would show the rule set of its start, and keep that
 * rule set and the program of its start in the kernel after a rule change,
 * an upgrade or a detach. Says why it fails. */
static int read_rows(const char *pin_dir, struct stats_row *rows)
{
	struct pindir pd = PINDIR_INIT(pin_dir);
	struct state s = STATE_INIT;
	int n;

	n = state_begin_read(&pd, &s);
	pindir_close(&pd);
	if (!n)
		n = stats_read_rows(&s, rows);
	state_close(&s);
	return n;
}

/* PREV (NPREV rows, or NULL): show each counter's change since then, beside
 * the count when that fits the width, else on a line of its own below. Each
 * column is as wide as its header or its widest cell, no wider. */
static void print_table(const struct stats_row *rows, int n, const struct stats_row *prev,
			int nprev)
{
	int wname = 4, wk[NCOUNTERS], wd[NCOUNTERS], inline_width, i, l;
	char cell[48];
	bool inline_delta, any;
	long long d;
	size_t k;

	for (i = 0; i < n; i++)
		if ((l = strlen(rule_name(rows[i].name))) > wname)
			wname = l;
	inline_width = 5 + 2 + wname;
	for (k = 0; k < NCOUNTERS; k++) {
		wk[k] = wd[k] = strlen(counters[k].column);
		for (i = 0; i < n; i++) {
			l = snprintf(cell, sizeof(cell), "%llu",
				     counter_value(&rows[i].c, &counters[k]));
			if (l > wk[k])
				wk[k] = l;
			d = prev ? delta(&rows[i], prev, nprev, &counters[k]) : 0;
			if (d)
				l += snprintf(cell, sizeof(cell), " (%+lld)", d);
			if (l > wd[k])
				wd[k] = l;
		}
		inline_width += 2 + wd[k];
	}
	inline_delta = inline_width <= out_width();
	if (inline_delta)
		memcpy(wk, wd, sizeof(wk));
	printf("%-5s  %-*s", "PORT", wname, "NAME");
	for (k = 0; k < NCOUNTERS; k++)
		printf("  %*s", wk[k], counters[k].column);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("%-5u  %-*s", rows[i].port, wname, rule_name(rows[i].name));
		any = false;
		for (k = 0; k < NCOUNTERS; k++) {
			d = prev ? delta(&rows[i], prev, nprev, &counters[k]) : 0;
			any |= d != 0;
			if (d && inline_delta)
				snprintf(cell, sizeof(cell), "%llu (%+lld)",
					 counter_value(&rows[i].c, &counters[k]), d);
			else
				snprintf(cell, sizeof(cell), "%llu",
					 counter_value(&rows[i].c, &counters[k]));
			printf("  %*s", wk[k], cell);
		}
		printf("\n");
		if (!any || inline_delta)
			continue;
		printf("%-5s  %-*s", "", wname, ""); /* the changes, under their counts */
		for (k = 0; k < NCOUNTERS; k++) {
			d = delta(&rows[i], prev, nprev, &counters[k]);
			cell[0] = '\0';
			if (d)
				snprintf(cell, sizeof(cell), "%+lld", d);
			printf("  %*s", wk[k], cell);
		}
		printf("\n");
	}
}

static int watch(const char *pin_dir, unsigned int secs)
{
	static struct stats_row rows[STATS_MAX_ROWS], prev[STATS_MAX_ROWS];
	bool tty = isatty(STDOUT_FILENO);
	int n, nprev = -1;
	char when[64];
	struct tm tm;
	time_t now;

	stop_on_signals();
	while (!stopped()) {
		n = read_rows(pin_dir, rows);
		if (n < 0)
			return EXIT_FAIL;
		if (cli_opts.json) {
			print_json(rows_json(rows, n));
		} else {
			if (tty)
				printf("\033[H\033[2J"); /* clear the screen */
			now = time(NULL);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z",
				 localtime_r(&now, &tm));
			printf("%s%s  (every %us; Ctrl-C to stop)\n", nprev < 0 ? "" : "\n", when,
			       secs);
			print_table(rows, n, nprev < 0 ? NULL : prev, nprev);
		}
		fflush(stdout);
		memcpy(prev, rows, n * sizeof(rows[0]));
		nprev = n;
		sleep_unless_stopped(secs, 0);
	}
	return EXIT_OK;
}

/* --prometheus [--output FILE] [--watch SECS]: never leaves an old file behind
 * (a collector would serve its numbers as if sipka were working): writes what
 * is known. With SECS, again every SECS seconds until stopped; a round that
 * cannot write FILE is said and tried again at the next, but the first one
 * ends the command, so that a wrong path is seen at once. */
static int stats_prometheus(const char *output, unsigned int secs, unsigned int close_wait_after)
{
	struct metrics *m = malloc(sizeof(*m));
	char why[PATH_MAX + 128];
	bool said = false;
	int rc, round;

	if (!m) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	m->close_wait_after = close_wait_after;
	m->walk_every = 0; /* each round: at least a second apart */
	m->nphantoms = -1;
	if (secs)
		stop_on_signals();
	for (round = 0; !round || (secs && !stopped()); round++) {
		rc = metrics_read(cli_opts.pin_dir, m, &said) ? EXIT_FAIL : EXIT_OK;
		if (!output) {
			prometheus_print(stdout, m->rows, m->n, &m->h);
		} else if (prometheus_write(output, m->rows, m->n, &m->h, why, sizeof(why))) {
			p_err("%s", why);
			rc = EXIT_FAIL;
			if (!round)
				break;
		}
		if (secs)
			sleep_unless_stopped(secs, 0);
	}
	free(m);
	return secs && round ? EXIT_OK : rc;
}

int cmd_stats(int argc, char **argv)
{
	static struct stats_row rows[STATS_MAX_ROWS];
	const char *output = NULL;
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state p = STATE_INIT;
	unsigned long long secs = 0, close_wait_after = SIPKA_DEFAULT_CLOSE_WAIT_AFTER;
	struct sockaddr_storage listen_addr = { 0 };
	socklen_t listen_len = 0;
	bool prometheus = false, after_given = false;
	char why[256];
	int c, n = 0, rc;

	while ((c = opt_next(argc, argv, &cmd_stats_help, &rc)) != OPT_END) {
		switch (c) {
		case 'P': prometheus = true; break;
		case 'o': output = optarg; break;
		case 'w':
			if (parse_uint(optarg, 1, 3600, &secs, why, sizeof(why))) {
				p_err("--watch: %s; give seconds from 1 to 3600", why);
				return EXIT_USAGE;
			}
			break;
		case OPT_CLOSE_WAIT_AFTER:
			if (parse_uint(optarg, 1, 86400, &close_wait_after, why, sizeof(why))) {
				p_err("--close-wait-after: %s; give seconds from 1 to 86400", why);
				return EXIT_USAGE;
			}
			after_given = true;
			break;
		case OPT_LISTEN:
			if (parse_listen(optarg, &listen_addr, &listen_len, why, sizeof(why))) {
				p_err("--listen: %s", why);
				return EXIT_USAGE;
			}
			break;
		default: return rc;
		}
	}
	if (output && !prometheus) {
		p_err("--output writes the Prometheus text; add --prometheus");
		return EXIT_USAGE;
	}
	if (after_given && !prometheus && !listen_len) {
		p_err("--close-wait-after sets the threshold of a metric; add --prometheus or --listen ADDR:PORT");
		return EXIT_USAGE;
	}
	if (listen_len && (output || secs)) {
		p_err("--listen serves the metrics at each scrape; leave out %s, or write a file with --prometheus --output FILE --watch N instead",
		      output ? "--output" : "--watch");
		return EXIT_USAGE;
	}
	if (listen_len) {
		rc = metrics_serve(cli_opts.pin_dir, close_wait_after, &listen_addr, listen_len);
		return rc ? EXIT_FAIL : EXIT_OK;
	}
	if (secs && prometheus && !output) {
		p_err("--watch with --prometheus rewrites a file, on a host without the timer: add --output FILE, or serve the metrics with --listen ADDR:PORT");
		return EXIT_USAGE;
	}
	if (prometheus)
		return stats_prometheus(output, secs, close_wait_after);
	if (secs)
		return watch(cli_opts.pin_dir, secs);
	rc = state_begin_read(&pd, &p);
	pindir_close(&pd);
	if (rc)
		return EXIT_FAIL;
	n = stats_read_rows(&p, rows);
	state_close(&p);
	if (n < 0)
		return EXIT_FAIL;
	if (cli_opts.json)
		return print_json(rows_json(rows, n));
	print_table(rows, n, NULL, 0);
	return EXIT_OK;
}
