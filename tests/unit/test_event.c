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

	CHECK(!event_line(&e, sizeof(e), 0, line, sizeof(line)));
	CHECK_HAS(line, "keepalive  peer 192.0.2.1:40000  local 192.0.2.2:5060 (tcp)  lived 4.2s");
	CHECK_HAS(line, "probes 3  retransmits 0");
	CHECK(event_line(&e, sizeof(e) - 1, 0, line, sizeof(line)) == -1);
}

/* A rule name written with bpftool fills all 16 bytes, without a NUL. */
TEST(event_name_without_nul_stops_at_its_field)
{
	struct sipka_event *e = malloc(sizeof(*e)); /* nothing after it to read */
	char line[400], *s;
	json_t *j;

	*e = ev();
	memset(e->name, 'n', sizeof(e->name));
	CHECK(!event_line(e, sizeof(*e), 0, line, sizeof(line)));
	CHECK_HAS(line, "(nnnnnnnnnnnnnnn)");
	j = event_json(e, sizeof(*e), 0);
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "name")), "nnnnnnnnnnnnnnn"));
	s = j ? json_dumps(j, 0) : NULL;
	CHECK(s && strstr(s, "\"lifetime_ms\": 4200"));
	free(s);
	json_decref(j);
	free(e);
}
