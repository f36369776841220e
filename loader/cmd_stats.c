// SPDX-License-Identifier: GPL-2.0
/* sipka stats: the counters of every rule port, as a table, JSON or Prometheus text. */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "counters.h"
#include "output.h"
#include "parse.h"
#include "attachments.h"
#include "pins.h"
#include "rules.h"

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

struct row {
	__u32 port;
	char name[SIPKA_NAME_LEN];
	struct sipka_counters c;
};

#define MAX_ROWS (SIPKA_MAX_RULES + SIPKA_MAX_STATS)

/* One row per rule, and one per port whose rule is gone but counters stay;
 * -1 having said why. */
static int read_rows(const struct pins *p, struct row *rows)
{
	struct port_counters *all = malloc(SIPKA_MAX_STATS * sizeof(*all));
	struct conf rules;
	int n = 0, na, i = 0;
	unsigned int r = 0;

	na = all ? counters_all(p->stats_fd, p->slots_fd, all) : -1;
	if (na < 0) {
		p_err("cannot read the counters: %s", strerror(all ? errno : ENOMEM));
		free(all);
		return -1;
	}
	if (rules_read(p->config_fd, &rules)) {
		free(all);
		return -1;
	}
	/* Both come in port order: merged. */
	while (r < rules.n || i < na) {
		memset(&rows[n], 0, sizeof(rows[n]));
		if (i < na && (r == rules.n || all[i].port < rules.rules[r].port)) {
			rows[n].port = all[i].port; /* its rule is gone */
			rows[n++].c = all[i++].c;
			continue;
		}
		rows[n].port = rules.rules[r].port;
		memcpy(rows[n].name, rules.rules[r].rule.name, SIPKA_NAME_LEN);
		if (i < na && all[i].port == rows[n].port)
			rows[n].c = all[i++].c;
		n++;
		r++;
	}
	free(all);
	return n;
}

#define OFF(field) offsetof(struct sipka_counters, field)

/* Each counter: its table column, JSON name and Prometheus metric. A metric
 * with a NULL type continues the family above it (another reason label). */
static const struct counter {
	const char *column, *json;
	size_t off;
	const char *metric, *type, *help, *reason;
} counters[] = {
	{ "ARMED", "armed", OFF(armed), "sipka_connections_armed_total", "counter",
	  "Connections sipka set TCP keepalive on.", NULL },
	{ "ACTIVE", "active", OFF(active), "sipka_connections_active", "gauge",
	  "Armed connections still open.", NULL },
	{ "DEAD_KA", "dead_keepalive", OFF(dead_keepalive), "sipka_dead_peers_total", "counter",
	  "Dead peers found: keepalive probes unanswered, or sent data unacknowledged (retransmission limit or TCP_USER_TIMEOUT).",
	  "keepalive" },
	{ "DEAD_RTX", "dead_retransmit", OFF(dead_retransmit), "sipka_dead_peers_total", NULL, NULL,
	  "retransmit" },
	{ "RESET", "reset", OFF(reset), "sipka_connections_reset_total", "counter",
	  "Armed connections reset by the peer.", NULL },
	{ "CLOSED", "closed", OFF(closed), "sipka_connections_closed_total", "counter",
	  "Closes of armed connections, whatever the reason.", NULL },
	{ "ERRORS", "errors", OFF(errors), "sipka_errors_total", "counter",
	  "Invalid rules, failed setsockopt calls, no memory for socket state.", NULL },
	{ "LOST", "events_lost", OFF(events_lost), "sipka_events_lost_total", "counter",
	  "Dead-peer events lost because the ring buffer was full.", NULL },
	{ "UNTRACKED", "untracked", OFF(untracked), "sipka_connections_untracked_total", "counter",
	  "Armed connections whose close cannot be counted (the table was full, or an existing connection on a kernel that cannot track it).",
	  NULL },
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static __u64 value(const struct sipka_counters *c, const struct counter *k)
{
	return *(const __u64 *)((const char *)c + k->off);
}

static json_t *rows_json(const struct row *rows, int n)
{
	json_t *all = json_array(), *o;
	size_t k;
	int i;

	for (i = 0; i < n; i++) {
		o = json_pack("{s:i, s:s}", "port", rows[i].port, "name", rows[i].name);
		for (k = 0; k < NCOUNTERS; k++)
			json_object_set_new(o, counters[k].json,
					    json_integer(value(&rows[i].c, &counters[k])));
		json_array_append_new(all, o);
	}
	return all;
}

/* The width to fit: the terminal's, else $COLUMNS, else 100. */
static int out_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	if (env && atoi(env) >= 40)
		return atoi(env);
	return 100;
}

static const struct row *find_row(const struct row *rows, int n, __u32 port)
{
	int i;

	for (i = 0; rows && i < n; i++)
		if (rows[i].port == port)
			return &rows[i];
	return NULL;
}

static long long delta(const struct row *r, const struct row *prev, int nprev,
		       const struct counter *k)
{
	const struct row *was = find_row(prev, nprev, r->port);

	return value(&r->c, k) - (was ? value(&was->c, k) : 0);
}

/* PREV (NPREV rows, or NULL): show each counter's change since then, beside
 * the count when that fits the width, else on a line of its own below. Each
 * column is as wide as its header or its widest cell, no wider. */
static void print_table(const struct row *rows, int n, const struct row *prev, int nprev)
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
			l = snprintf(cell, sizeof(cell), "%llu", value(&rows[i].c, &counters[k]));
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
					 value(&rows[i].c, &counters[k]), d);
			else
				snprintf(cell, sizeof(cell), "%llu",
					 value(&rows[i].c, &counters[k]));
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

/* A label value: a name written by hand with bpftool may hold anything. */
static void print_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* What the Prometheus output says besides the counters. */
struct health {
	bool up;      /* sipka's pins are there */
	int attached; /* live cgroups: links and direct attachments */
	int defunct;  /* pinned links whose cgroup is gone */
	struct conf rules;
	char version[64]; /* the loaded program's */
};

static void read_health(const struct pins *p, struct health *h)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct attachments as = { 0 };
	struct ours o;
	int i;

	memset(h, 0, sizeof(*h));
	h->up = true;
	rules_read(p->config_fd, &h->rules);
	if (!pindir_open(&pd, false) && !ours_collect(&pd, &o) &&
	    !attachments_list(&pd, &o, &as, true)) {
		for (i = 0; i < as.n; i++) {
			h->attached += !as.a[i].defunct;
			h->defunct += as.a[i].defunct;
		}
	}
	attachments_free(&as);
	pindir_close(&pd);
	/* The loaded program's version, from the meta map: not this CLI's. */
	snprintf(h->version, sizeof(h->version), "%s", p->s.meta.version);
}

static void gauge(FILE *f, const char *metric, const char *help_text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", metric, help_text, metric);
}

static void rule_labels(FILE *f, const char *metric, const struct conf_rule *r)
{
	fprintf(f, "%s{port=\"%u\",transport=\"", metric, r->port);
	print_label(f, r->rule.name);
	fputs("\"} ", f);
}

/* The rules as gauges, so a dashboard shows what is in force and an alert can
 * compare it with what was meant. */
static void print_rules(FILE *f, const struct conf *c)
{
	static const struct {
		const char *metric, *help;
	} g_rules[] = {
		{ "sipka_rule_keepalive_time_seconds",
		  "Idle seconds before the first keepalive probe (TCP_KEEPIDLE)." },
		{ "sipka_rule_keepalive_intvl_seconds",
		  "Seconds between keepalive probes (TCP_KEEPINTVL)." },
		{ "sipka_rule_keepalive_probes",
		  "Unanswered probes before the peer is dead (TCP_KEEPCNT)." },
		{ "sipka_rule_user_timeout_seconds",
		  "TCP_USER_TIMEOUT; 0: the kernel's (not set)." },
		{ "sipka_rule_reset_events", "1 when resets make events too." },
		{ "sipka_rule_valid",
		  "1 when the rule is valid; 0: the program skips it and counts an error." },
	};
	unsigned int i, m;

	for (m = 0; m < sizeof(g_rules) / sizeof(g_rules[0]); m++) {
		gauge(f, g_rules[m].metric, g_rules[m].help);
		for (i = 0; i < c->n; i++) {
			const struct sipka_rule *r = &c->rules[i].rule;

			rule_labels(f, g_rules[m].metric, &c->rules[i]);
			switch (m) {
			case 0: fprintf(f, "%u\n", r->time); break;
			case 1: fprintf(f, "%u\n", r->intvl); break;
			case 2: fprintf(f, "%u\n", r->probes); break;
			case 3:
				if (r->user_timeout_ms % 1000)
					fprintf(f, "%u.%03u\n", r->user_timeout_ms / 1000,
						r->user_timeout_ms % 1000);
				else
					fprintf(f, "%u\n", r->user_timeout_ms / 1000);
				break;
			case 4: fprintf(f, "%d\n", !!(r->flags & SIPKA_RULE_RESET_EVENTS)); break;
			default: fprintf(f, "%d\n", sipka_rule_valid(r)); break;
			}
		}
	}
}

/* The Prometheus text exposition format, version 0.0.4. H: what is loaded
 * and attached; when !H->up only that is said (no counters to read). */
static void print_prometheus(FILE *f, const struct row *rows, int n, const struct health *h)
{
	const struct counter *k;
	int i;

	gauge(f, "sipka_up", "1 when sipka's program and maps are loaded (pinned), 0 when not.");
	fprintf(f, "sipka_up %d\n", h->up);
	gauge(f, "sipka_attached_cgroups",
	      "Live cgroups sipka's program is attached to (sipka's links and direct attachments).");
	fprintf(f, "sipka_attached_cgroups %d\n", h->attached);
	gauge(f, "sipka_defunct_links",
	      "Pinned links whose cgroup is gone; 'sipka attach' removes them.");
	fprintf(f, "sipka_defunct_links %d\n", h->defunct);
	if (h->up) {
		for (k = counters; k < counters + NCOUNTERS; k++) {
			if (k->type)
				fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", k->metric, k->help,
					k->metric, k->type);
			for (i = 0; i < n; i++) {
				fprintf(f, "%s{port=\"%u\",transport=\"", k->metric, rows[i].port);
				print_label(f, rows[i].name);
				fputc('"', f);
				if (k->reason)
					fprintf(f, ",reason=\"%s\"", k->reason);
				fprintf(f, "} %llu\n", value(&rows[i].c, k));
			}
		}
		print_rules(f, &h->rules);
		if (h->version[0]) {
			gauge(f, "sipka_program_info", "The loaded program's version.");
			fputs("sipka_program_info{version=\"", f);
			print_label(f, h->version);
			fputs("\"} 1\n", f);
		}
	}
	fprintf(f,
		"# HELP sipka_build_info The version of the sipka command that wrote this.\n"
		"# TYPE sipka_build_info gauge\n"
		"sipka_build_info{version=\"%s\"} 1\n",
		SIPKA_VERSION);
}

static int prometheus_to_file(const char *path, const struct row *rows, int n,
			      const struct health *h)
{
	char tmp[PATH_MAX];
	bool ok;
	FILE *f;
	int fd;

	/* Same directory, so rename() is atomic: the collector never reads half. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		p_err("--output path is too long");
		return EXIT_FAIL;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
		p_err("cannot write %s: %s (does its directory exist and is it writable?)", tmp,
		      strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return EXIT_FAIL;
	}
	print_prometheus(f, rows, n, h);
	/* fclose() always, and a failed write or sync leaves no file behind. */
	ok = !fflush(f) && !fsync(fd);
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		p_err("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int watch(const struct pins *p, unsigned int secs)
{
	static struct row rows[MAX_ROWS], prev[MAX_ROWS];
	struct timespec left = { 0 };
	bool tty = isatty(STDOUT_FILENO);
	int n, nprev = -1;
	char when[64];
	struct tm tm;
	time_t now;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
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
		left.tv_sec = secs;
		while (!stop && nanosleep(&left, &left) && errno == EINTR)
			;
	}
	return EXIT_OK;
}

/* For --prometheus: sipka not loaded is a state to report (sipka_up 0), not
 * an error; *LOADED says which. Other problems are errors (-1). */
static int open_for_metrics(struct pins *p, bool *loaded)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	int ret;

	*loaded = false;
	if (pindir_check_env(&pd))
		return -1;
	ret = pindir_open(&pd, false);
	if (!ret) {
		ret = state_open(&pd, &s);
		state_close(&s);
	}
	pindir_close(&pd);
	if (ret == -ENOENT)
		return 0;
	if (ret || pins_open(p))
		return -1;
	*loaded = true;
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static struct row rows[MAX_ROWS];
	static struct health h;
	const char *output = NULL;
	struct pins p = PINS_INIT;
	unsigned long long secs = 0;
	bool prometheus = false, loaded;
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
	if (prometheus) {
		/* Never leave an old file behind: a collector would serve its
		 * numbers as if sipka were working. Write what is known. */
		rc = open_for_metrics(&p, &loaded) ? EXIT_FAIL : EXIT_OK;
		memset(&h, 0, sizeof(h));
		if (loaded) {
			n = read_rows(&p, rows);
			if (n < 0) { /* said why; the rules' metrics stay out */
				rc = EXIT_FAIL;
				n = 0;
			}
			read_health(&p, &h);
		} else if (rc == EXIT_OK) {
			p_info("sipka is not loaded (nothing pinned in %s): the metrics say sipka_up 0",
			       cli_opts.pin_dir);
		}
		pins_close(&p);
		if (output) {
			if (prometheus_to_file(output, rows, n, &h))
				return EXIT_FAIL;
		} else {
			print_prometheus(stdout, rows, n, &h);
		}
		return rc;
	}
	if (pins_open(&p))
		return EXIT_FAIL;
	if (secs) {
		rc = watch(&p, secs);
		pins_close(&p);
		return rc;
	}
	n = read_rows(&p, rows);
	pins_close(&p);
	if (n < 0)
		return EXIT_FAIL;
	if (cli_opts.json)
		return print_json(rows_json(rows, n));
	print_table(rows, n, NULL, 0);
	return EXIT_OK;
}
