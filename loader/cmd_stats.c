// SPDX-License-Identifier: GPL-2.0
/* sipka stats: the counters of every rule port, as a table (once, or redrawn with
 * --watch), JSON, or Prometheus text (written by prometheus.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attachments.h"
#include "cli.h"
#include "counter_table.h"
#include "counters.h"
#include "format.h"
#include "output.h"
#include "parse.h"
#include "env.h"
#include "prometheus.h"
#include "state.h"
#include "rules.h"
#include "signals.h"

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
	  .help = "redraw every N seconds (1-3600) with the time and the change since the last draw, until interrupted" },
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

#define MAX_ROWS (SIPKA_MAX_RULES + SIPKA_MAX_STATS)

/* One row per rule, and one per port whose rule is gone but counters stay;
 * -1 having said why. */
static int read_rows(const struct state *p, struct stats_row *rows)
{
	struct port_counters *all = malloc(SIPKA_MAX_STATS * sizeof(*all));
	struct conf rules;
	int n, na;

	na = all ? counters_all(p->stats_fd, p->slots_fd, all) : -ENOMEM;
	if (na < 0) {
		p_err("cannot read the counters: %s", strerror(-na));
		free(all);
		return -1;
	}
	if (rules_read(p->config_fd, &rules)) {
		free(all);
		return -1;
	}
	n = stats_rows(&rules, all, na, rows);
	free(all);
	return n;
}

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

static void read_health(const struct pindir *pd, const struct state *p, struct health *h)
{
	struct attachments as = { 0 };
	int i;

	memset(h, 0, sizeof(*h));
	h->up = true;
	rules_read(p->config_fd, &h->rules);
	if (!attachments_list(pd, &as)) {
		for (i = 0; i < as.n; i++) {
			h->attached += !as.a[i].defunct;
			h->defunct += as.a[i].defunct;
		}
	}
	attachments_free(&as);
	/* The loaded program's version, from the meta map: not this CLI's. */
	snprintf(h->version, sizeof(h->version), "%s", p->meta.version);
}

static int watch(const struct state *p, unsigned int secs)
{
	static struct stats_row rows[MAX_ROWS], prev[MAX_ROWS];
	bool tty = isatty(STDOUT_FILENO);
	int n, nprev = -1;
	char when[64];
	struct tm tm;
	time_t now;

	stop_on_signals();
	while (!stopped()) {
		n = read_rows(p, rows);
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

/* For --prometheus: sipka not loaded is a state to report (sipka_up 0), not
 * an error; *LOADED says which. Other problems are errors (-errno, said). */
static int open_for_metrics(struct pindir *pd, struct state *s, bool *loaded)
{
	int ret;

	*loaded = false;
	ret = env_check(pd->path);
	if (!ret)
		ret = pindir_open(pd, false);
	if (ret || !state_loaded(pd))
		return ret;
	ret = state_open(pd, s);
	*loaded = !ret;
	return ret;
}

/* --prometheus [--output FILE]: never leaves an old file behind (a collector
 * would serve its numbers as if sipka were working): writes what is known. */
static int stats_prometheus(struct pindir *pd, const char *output)
{
	static struct stats_row rows[MAX_ROWS];
	static struct health h;
	struct state p = STATE_INIT;
	char why[PATH_MAX + 128];
	bool loaded;
	int n = 0, rc;

	rc = open_for_metrics(pd, &p, &loaded) ? EXIT_FAIL : EXIT_OK;
	memset(&h, 0, sizeof(h));
	if (loaded) {
		n = read_rows(&p, rows);
		if (n < 0) { /* said why; the rules' metrics stay out */
			rc = EXIT_FAIL;
			n = 0;
		}
		read_health(pd, &p, &h);
	} else if (rc == EXIT_OK) {
		p_info("sipka is not loaded (nothing pinned in %s): the metrics say sipka_up 0",
		       pd->path);
	}
	state_close(&p);
	pindir_close(pd);
	if (!output) {
		prometheus_print(stdout, rows, n, &h);
		return rc;
	}
	if (prometheus_write(output, rows, n, &h, why, sizeof(why))) {
		p_err("%s", why);
		return EXIT_FAIL;
	}
	return rc;
}

int cmd_stats(int argc, char **argv)
{
	static struct stats_row rows[MAX_ROWS];
	const char *output = NULL;
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state p = STATE_INIT;
	unsigned long long secs = 0;
	bool prometheus = false;
	char why[128];
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
		default: return rc;
		}
	}
	if (output && !prometheus) {
		p_err("--output writes the Prometheus text; add --prometheus");
		return EXIT_USAGE;
	}
	if (secs && prometheus) {
		p_err("--watch redraws a table; for Prometheus run 'sipka stats --prometheus --output FILE' from a timer");
		return EXIT_USAGE;
	}
	if (prometheus)
		return stats_prometheus(&pd, output);
	rc = state_begin_read(&pd, &p);
	pindir_close(&pd);
	if (rc)
		return EXIT_FAIL;
	if (secs) {
		rc = watch(&p, secs);
		state_close(&p);
		return rc;
	}
	n = read_rows(&p, rows);
	state_close(&p);
	if (n < 0)
		return EXIT_FAIL;
	if (cli_opts.json)
		return print_json(rows_json(rows, n));
	print_table(rows, n, NULL, 0);
	return EXIT_OK;
}
