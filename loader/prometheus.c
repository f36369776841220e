// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prometheus.h"

/* A number of sipka.h in a help text. */
#define TEXT_(x) #x
#define TEXT(x)	 TEXT_(x)

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

static void family(FILE *f, const char *metric, const char *type, const char *help_text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help_text, metric, type);
}

static void gauge(FILE *f, const char *metric, const char *help_text)
{
	family(f, metric, "gauge", help_text);
}

/* METRIC{port="PORT",transport="NAME" and the closing brace is the caller's. */
static void port_labels(FILE *f, const char *metric, __u32 port, const char *name)
{
	fprintf(f, "%s{port=\"%u\",transport=\"", metric, port);
	print_label(f, name);
	fputc('"', f);
}

/* The gauges read from the sockets, not from counters: one per rule port. */
static const struct {
	const char *metric, *help;
} g_sockets[] = {
	{ "sipka_connections_close_wait_phantoms",
	  "Connections on the rule port that the peer closed and the PBX has held (CLOSE_WAIT) for more than the threshold of sipka stats --close-wait-after (" TEXT(
		  SIPKA_DEFAULT_CLOSE_WAIT_AFTER) " s by default): keepalive cannot see them." },
};

static void print_sockets(FILE *f, const struct stats_row *rows, int n)
{
	int i;

	gauge(f, g_sockets[0].metric, g_sockets[0].help);
	for (i = 0; i < n; i++) {
		port_labels(f, g_sockets[0].metric, rows[i].port, rows[i].name);
		fprintf(f, "} %u\n", rows[i].phantoms);
	}
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

			port_labels(f, g_rules[m].metric, c->rules[i].port, r->name);
			fputs("} ", f);
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

void prometheus_print(FILE *f, const struct stats_row *rows, int n, const struct health *h)
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
				family(f, k->metric, k->type, k->help);
			for (i = 0; i < n; i++) {
				port_labels(f, k->metric, rows[i].port, rows[i].name);
				if (k->reason)
					fprintf(f, ",reason=\"%s\"", k->reason);
				fprintf(f, "} %llu\n", counter_value(&rows[i].c, k));
			}
		}
		print_rules(f, &h->rules);
		if (h->phantoms)
			print_sockets(f, rows, n);
		if (h->version[0]) {
			gauge(f, "sipka_program_info", "The loaded program's version.");
			fputs("sipka_program_info{version=\"", f);
			print_label(f, h->version);
			fputs("\"} 1\n", f);
		}
	}
	gauge(f, "sipka_build_info", "The version of the sipka command that wrote this.");
	fprintf(f, "sipka_build_info{version=\"%s\"} 1\n", SIPKA_VERSION);
}

char *prometheus_text(const struct stats_row *rows, int n, const struct health *h, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	prometheus_print(f, rows, n, h);
	if (fclose(f)) { /* out of memory on the way */
		free(text);
		return NULL;
	}
	return text;
}

int prometheus_write(const char *path, const struct stats_row *rows, int n, const struct health *h,
		     char *why, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err;
	bool ok;
	FILE *f;

	/* Same directory, so rename() is atomic: the collector never reads half. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(why, len, "--output path is too long");
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
		err = errno;
		snprintf(why, len,
			 "cannot write %s: %s (does its directory exist and is it writable?)", tmp,
			 strerror(err));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return -err;
	}
	prometheus_print(f, rows, n, h);
	/* fclose() always, and a failed write or sync leaves no file behind. */
	ok = !fflush(f) && !fsync(fd);
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		err = errno;
		snprintf(why, len, "cannot write %s: %s", path, strerror(err));
		unlink(tmp);
		return -err;
	}
	return 0;
}
