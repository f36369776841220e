// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prometheus.h"
#include "unit.h"

/* What prometheus_print writes, through prometheus_text: free() it. */
static char *printed(const struct stats_row *rows, int n, const struct health *h)
{
	size_t len = 0;
	char *text = prometheus_text(rows, n, h, &len);

	CHECK(text && len == strlen(text));
	return text ? text : strdup("");
}

/* Whether LINE is a whole line of TEXT, once. */
static bool once(const char *text, const char *line)
{
	size_t m = strlen(line);
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, line))) {
		n += (p == text || p[-1] == '\n') && p[m] == '\n';
		p += m;
	}
	return n == 1;
}

static void one_rule(struct health *h, __u32 port, const char *name, __u32 ut_ms)
{
	struct sipka_rule *r = &h->rules.rules[h->rules.n].rule;

	memset(r, 0, sizeof(*r));
	h->rules.rules[h->rules.n++].port = port;
	r->time = 60;
	r->intvl = 10;
	r->probes = 3;
	r->user_timeout_ms = ut_ms;
	snprintf(r->name, sizeof(r->name), "%s", name);
}

TEST(prometheus_not_loaded_says_up_0_and_no_counters)
{
	static struct health h; /* up false */
	char *t = printed(NULL, 0, &h);

	CHECK(once(t, "sipka_up 0"));
	CHECK(once(t, "# TYPE sipka_up gauge"));
	CHECK(once(t, "sipka_attached_cgroups 0"));
	CHECK(once(t, "sipka_defunct_links 0"));
	CHECK(once(t, "sipka_build_info{version=\"" SIPKA_VERSION "\"} 1"));
	CHECK(!strstr(t, "sipka_connections_armed_total"));
	CHECK(!strstr(t, "sipka_rule_"));
	CHECK(!strstr(t, "sipka_program_info"));
	free(t);
}

TEST(prometheus_counters_rules_and_health)
{
	static struct health h;
	struct stats_row rows[2] = { { 5060, "tcp", { .armed = 3, .dead_retransmit = 2 }, 4 },
				     { 5070, "", { .untracked = 7 }, 0 } };
	char *t;

	h.up = true;
	h.attached = 2;
	h.defunct = 1;
	one_rule(&h, 5060, "tcp", 90500);
	one_rule(&h, 5061, "tls", 90000);
	snprintf(h.version, sizeof(h.version), "0.3.0");
	t = printed(rows, 2, &h);
	CHECK(once(t, "sipka_up 1"));
	CHECK(once(t, "sipka_attached_cgroups 2"));
	CHECK(once(t, "sipka_defunct_links 1"));
	CHECK(once(t, "# TYPE sipka_connections_armed_total counter"));
	CHECK(once(t, "sipka_connections_armed_total{port=\"5060\",transport=\"tcp\"} 3"));
	CHECK(once(t, "sipka_connections_armed_total{port=\"5070\",transport=\"\"} 0"));
	CHECK(once(t, "sipka_connections_untracked_total{port=\"5070\",transport=\"\"} 7"));
	CHECK(once(t, "# TYPE sipka_connections_active gauge"));
	/* One family, two reasons. */
	CHECK(once(t, "# TYPE sipka_dead_peers_total counter"));
	CHECK(once(
		t,
		"sipka_dead_peers_total{port=\"5060\",transport=\"tcp\",reason=\"keepalive\"} 0"));
	CHECK(once(
		t,
		"sipka_dead_peers_total{port=\"5060\",transport=\"tcp\",reason=\"retransmit\"} 2"));
	CHECK(once(t, "sipka_rule_keepalive_time_seconds{port=\"5061\",transport=\"tls\"} 60"));
	CHECK(once(t, "sipka_rule_user_timeout_seconds{port=\"5060\",transport=\"tcp\"} 90.500"));
	CHECK(once(t, "sipka_rule_user_timeout_seconds{port=\"5061\",transport=\"tls\"} 90"));
	CHECK(once(t, "sipka_rule_reset_events{port=\"5060\",transport=\"tcp\"} 0"));
	CHECK(once(t, "sipka_program_info{version=\"0.3.0\"} 1"));
	CHECK(once(t, "sipka_build_info{version=\"" SIPKA_VERSION "\"} 1"));
	/* The phantoms only when the sockets were listed. */
	CHECK(!strstr(t, "sipka_connections_close_wait_phantoms"));
	free(t);
	h.phantoms = true;
	t = printed(rows, 2, &h);
	CHECK(once(t, "# TYPE sipka_connections_close_wait_phantoms gauge"));
	CHECK(once(t, "sipka_connections_close_wait_phantoms{port=\"5060\",transport=\"tcp\"} 4"));
	CHECK(once(t, "sipka_connections_close_wait_phantoms{port=\"5070\",transport=\"\"} 0"));
	free(t);
}

TEST(prometheus_escapes_label_values)
{
	static struct health h;
	struct stats_row row = { 5060, "a\"b\\c\nd", { .armed = 1 }, 0 };
	char *t;

	h.up = true;
	t = printed(&row, 1, &h);
	CHECK(once(t,
		   "sipka_connections_armed_total{port=\"5060\",transport=\"a\\\"b\\\\c\\nd\"} 1"));
	free(t);
}

TEST(prometheus_write_replaces_the_file_whole)
{
	static struct health h;
	char dir[] = "/tmp/sipka-unit-XXXXXX", path[64], why[256] = "", buf[4096];
	struct stat st;
	char *want;
	size_t n = 0;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/sipka.prom", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("old\n", f);
		fclose(f);
	}
	CHECK(prometheus_write(path, NULL, 0, &h, why, sizeof(why)) == 0);
	CHECK(!why[0]);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	want = printed(NULL, 0, &h);
	CHECK(!strcmp(buf, want));
	free(want);
	CHECK(!stat(path, &st) && (st.st_mode & 07777) == 0644);
	unlink(path);
	CHECK(!rmdir(dir)); /* no temporary file left */
}

TEST(prometheus_write_says_why_it_cannot)
{
	static struct health h;
	char why[256] = "", path[PATH_MAX + 8];

	CHECK(prometheus_write("/nonexistent-sipka-dir/sipka.prom", NULL, 0, &h, why,
			       sizeof(why)) == -ENOENT);
	CHECK_HAS(why, "cannot write /nonexistent-sipka-dir/sipka.prom.");
	CHECK_HAS(why, "does its directory exist and is it writable?");
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	CHECK(prometheus_write(path, NULL, 0, &h, why, sizeof(why)) == -ENAMETOOLONG);
	CHECK_HAS(why, "--output path is too long");
}
