// SPDX-License-Identifier: GPL-2.0
/* sipka stats: the counters of every rule port, as a table, JSON or Prometheus text. */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "counters.h"
#include "output.h"
#include "parse.h"
#include "pins.h"
#include "rules.h"

static const struct cmd_help help = {
	"stats", "[--prometheus [--output FILE]] [--watch N]",
	"Shows the counters of each rule port:\n"
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
	"Counters of a deleted rule stay, with name '-', until 'sipka detach'.\n\n"
	"  -p, --prometheus   the Prometheus text exposition format\n"
	"  -o, --output FILE  with --prometheus: write FILE atomically (a temporary file\n"
	"                     in the same directory, then rename), for node_exporter's\n"
	"                     textfile collector\n"
	"  -w, --watch N      redraw every N seconds (1-3600) with the change since the\n"
	"                     last draw, until interrupted\n",
};

struct row {
	__u32 port;
	char name[SIPKA_NAME_LEN];
	struct sipka_counters c;
};

#define MAX_ROWS (SIPKA_MAX_RULES + SIPKA_MAX_STATS)

static int by_port(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return (x->port > y->port) - (x->port < y->port);
}

/* One row per rule, and one per port whose rule is gone but counters stay. */
static int read_rows(const struct pins *p, struct row *rows)
{
	__u32 key, next, *prev = NULL;
	struct conf rules;
	unsigned int i;
	int n = 0;

	rules_read(p->config_fd, &rules);
	for (i = 0; i < rules.n; i++) {
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].port = rules.rules[i].port;
		memcpy(rows[n].name, rules.rules[i].rule.name, SIPKA_NAME_LEN);
		counters_read(p->stats_fd, rows[n].port, &rows[n].c);
		n++;
	}
	while (n < MAX_ROWS && !bpf_map_get_next_key(p->stats_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (conf_find(&rules, key))
			continue;
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].port = key;
		if (!counters_read(p->stats_fd, key, &rows[n].c))
			n++;
	}
	qsort(rows, n, sizeof(rows[0]), by_port);
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
	{ "DEAD_RTX", "dead_retransmit", OFF(dead_retransmit), "sipka_dead_peers_total", NULL,
	  NULL, "retransmit" },
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

/* PREV (NPREV rows, or NULL): show each counter's change since then. */
static void print_table(const struct row *rows, int n, const struct row *prev, int nprev)
{
	const struct row *was;
	char cell[48];
	long long d;
	size_t k;
	int i, j;

	printf("%-6s %-15s", "PORT", "NAME");
	for (k = 0; k < NCOUNTERS; k++)
		printf(" %*s", prev ? 16 : 10, counters[k].column);
	printf("\n");
	for (i = 0; i < n; i++) {
		was = NULL;
		for (j = 0; prev && j < nprev; j++)
			if (prev[j].port == rows[i].port)
				was = &prev[j];
		printf("%-6u %-15s", rows[i].port, rule_name(rows[i].name));
		for (k = 0; k < NCOUNTERS; k++) {
			d = value(&rows[i].c, &counters[k]) - (was ? value(&was->c, &counters[k]) : 0);
			if (prev && d)
				snprintf(cell, sizeof(cell), "%llu (%+lld)",
					 value(&rows[i].c, &counters[k]), d);
			else
				snprintf(cell, sizeof(cell), "%llu", value(&rows[i].c, &counters[k]));
			printf(" %*s", prev ? 16 : 10, cell);
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

/* The Prometheus text exposition format, version 0.0.4. */
static void print_prometheus(FILE *f, const struct row *rows, int n)
{
	const struct counter *k;
	int i;

	for (k = counters; k < counters + NCOUNTERS; k++) {
		if (k->type)
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", k->metric, k->help, k->metric, k->type);
		for (i = 0; i < n; i++) {
			fprintf(f, "%s{port=\"%u\",transport=\"", k->metric, rows[i].port);
			print_label(f, rows[i].name);
			fputc('"', f);
			if (k->reason)
				fprintf(f, ",reason=\"%s\"", k->reason);
			fprintf(f, "} %llu\n", value(&rows[i].c, k));
		}
	}
	fprintf(f, "# HELP sipka_build_info The running sipka's version.\n"
		   "# TYPE sipka_build_info gauge\n"
		   "sipka_build_info{version=\"%s\"} 1\n", SIPKA_VERSION);
}

static int prometheus_to_file(const char *path, const struct row *rows, int n)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd;

	/* Same directory, so rename() is atomic: the collector never reads half. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		err("--output path is too long");
		return EXIT_FAIL;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
		err("cannot write %s: %s (does its directory exist and is it writable?)", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return EXIT_FAIL;
	}
	print_prometheus(f, rows, n);
	if (fflush(f) || fsync(fd) || fclose(f) || rename(tmp, path)) {
		err("cannot write %s: %s", path, strerror(errno));
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

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		n = read_rows(p, rows);
		if (g.json) {
			json_print(rows_json(rows, n));
		} else {
			if (tty)
				printf("\033[H\033[2J");	/* clear the screen */
			printf("%s(every %us; Ctrl-C to stop)\n", nprev < 0 ? "" : "\n", secs);
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

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prometheus", no_argument,	   NULL, 'p' },
		{ "output",	required_argument, NULL, 'o' },
		{ "watch",	required_argument, NULL, 'w' },
		{ 0 }
	};
	static struct row rows[MAX_ROWS];
	const char *output = NULL;
	struct pins p = PINS_INIT;
	unsigned long long secs = 0;
	bool prometheus = false;
	char why[128];
	int c, n, rc;

	while ((c = next_opt(argc, argv, &help, opts, &rc)) != -1) {
		switch (c) {
		case 'p': prometheus = true; break;
		case 'o': output = optarg; break;
		case 'w':
			if (parse_uint(optarg, 1, 3600, &secs, why, sizeof(why))) {
				err("--watch: %s; give seconds from 1 to 3600", why);
				return EXIT_USAGE;
			}
			break;
		default: return rc;
		}
	}
	if (want_args(argc, argv, 0, 0, &help))
		return EXIT_USAGE;
	if (output && !prometheus) {
		err("--output writes the Prometheus text; add --prometheus");
		return EXIT_USAGE;
	}
	if (secs && prometheus) {
		err("--watch redraws a table; for Prometheus run 'sipka stats --prometheus --output FILE' from a timer");
		return EXIT_USAGE;
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
	if (output)
		return prometheus_to_file(output, rows, n);
	if (prometheus) {
		print_prometheus(stdout, rows, n);
		return EXIT_OK;
	}
	if (g.json)
		return json_print(rows_json(rows, n));
	print_table(rows, n, NULL, 0);
	return EXIT_OK;
}
