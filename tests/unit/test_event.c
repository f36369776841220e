// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "unit.h"

static struct sipka_event ev(void)
{
	struct sipka_event e = { .time_ns = 0,
				 .lifetime_ns = 4200000000ULL,
				 .rule_port = 5060,
				 .local_port = 5060,
				 .remote_port = 40000,
				 .reason = SIPKA_DEAD_KEEPALIVE,
				 .family = AF_INET,
				 .probes = 3,
				 .name = "tcp" };

	memcpy(e.remote_addr, "\xc0\x00\x02\x01", 4);
	memcpy(e.local_addr, "\xc0\x00\x02\x02", 4);
	return e;
}

TEST(event_line_says_who_died_and_why)
{
	struct sipka_event e = ev();
	char line[400];

	CHECK(!event_line(&e, sizeof(e), 0, NULL, line, sizeof(line)));
	CHECK_HAS(line, "keepalive  peer 192.0.2.1:40000  local 192.0.2.2:5060 (tcp)  lived 4.2s");
	CHECK_HAS(line, "probes 3  retransmits 0");
	CHECK(event_line(&e, SIPKA_EVENT_MIN_SIZE - 1, 0, NULL, line, sizeof(line)) == -1);
}

/* A rule name written with bpftool fills all 16 bytes, without a NUL. */
TEST(event_name_without_nul_stops_at_its_field)
{
	struct sipka_event *e = malloc(sizeof(*e)); /* nothing after it to read */
	char line[400], *s;
	json_t *j;

	*e = ev();
	memset(e->name, 'n', sizeof(e->name));
	CHECK(!event_line(e, sizeof(*e), 0, NULL, line, sizeof(line)));
	CHECK_HAS(line, "(nnnnnnnnnnnnnnn)");
	j = event_json(e, sizeof(*e), 0, NULL, NULL);
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "name")), "nnnnnnnnnnnnnnn"));
	s = j ? json_dumps(j, 0) : NULL;
	CHECK(s && strstr(s, "\"lifetime_ms\": 4200"));
	free(s);
	json_decref(j);
	free(e);
}

TEST(event_names_the_pbx_by_its_cgroup)
{
	struct sipka_event e = ev();
	char line[400];
	json_t *j;

	e.cgroup_id = 1234;
	CHECK(!event_line(&e, sizeof(e), 0, "kamailio.service", line, sizeof(line)));
	CHECK_HAS(line, "(tcp)  pbx kamailio.service  lived 4.2s");
	j = event_json(&e, sizeof(e), 0, "/system.slice/kamailio.service", "kamailio.service");
	CHECK(j && json_integer_value(json_object_get(j, "cgroup_id")) == 1234);
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "cgroup")),
			   "/system.slice/kamailio.service"));
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "pbx")), "kamailio.service"));
	json_decref(j);
	/* Its cgroup is gone: the id is said (cgroup_pbx()). */
	CHECK(!event_line(&e, sizeof(e), 0, "cgroup 1234 (gone)", line, sizeof(line)));
	CHECK_HAS(line, "(tcp)  pbx cgroup 1234 (gone)  lived");
	j = event_json(&e, sizeof(e), 0, NULL, "cgroup 1234 (gone)");
	CHECK(j && json_is_null(json_object_get(j, "cgroup")));
	CHECK(j && json_integer_value(json_object_get(j, "cgroup_id")) == 1234);
	json_decref(j);
}

/* An event of sipka 0.3.0's program (no cgroup_id) on a ring buffer kept
 * across an upgrade: read whole, the PBX unknown; a longer one (a newer
 * program's) is read up to what this sipka knows. */
TEST(event_of_an_older_or_newer_program_is_read)
{
	unsigned char *old = malloc(SIPKA_EVENT_MIN_SIZE), *newer;
	struct sipka_event e = ev();
	char line[400];
	json_t *j;

	e.cgroup_id = 99; /* cut off below */
	memcpy(old, &e, SIPKA_EVENT_MIN_SIZE);
	CHECK(!event_line(old, SIPKA_EVENT_MIN_SIZE, 0, "x.service", line, sizeof(line)));
	CHECK_HAS(line, "(tcp)  lived 4.2s");
	CHECK(!strstr(line, "pbx"));
	j = event_json(old, SIPKA_EVENT_MIN_SIZE, 0, "/x.service", "x.service");
	CHECK(j && json_is_null(json_object_get(j, "cgroup_id")) &&
	      json_is_null(json_object_get(j, "pbx")));
	CHECK(j && json_integer_value(json_object_get(j, "lifetime_ms")) == 4200);
	json_decref(j);
	free(old);
	newer = calloc(1, sizeof(e) + 16);
	memcpy(newer, &e, sizeof(e));
	CHECK(!event_line(newer, sizeof(e) + 16, 0, "x.service", line, sizeof(line)));
	CHECK_HAS(line, "(tcp)  pbx x.service  lived 4.2s");
	free(newer);
}
