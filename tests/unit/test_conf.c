// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "unit.h"

static char err[512];

static int parse(const char *text, struct conf *c)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	err[0] = '\0';
	ret = conf_parse(f, "t.conf", c, err, sizeof(err));
	fclose(f);
	return ret;
}

/* TEXT is refused with a message containing WANT. */
static void refused(const char *text, const char *want, int line)
{
	struct conf c;

	if (parse(text, &c) != -1)
		unit_fail(__FILE__, line, "accepted a bad config");
	unit_check_has(__FILE__, line, err, want);
}
#define REFUSED(text, want) refused(text, want, __LINE__)

static int rule_is(const struct sipka_rule *r, const char *name, __u32 time, __u32 intvl,
		   __u32 probes, __u32 ut)
{
	return r && !strcmp(r->name, name) && r->time == time && r->intvl == intvl &&
	       r->probes == probes && r->user_timeout_ms == ut && r->flags == 0;
}

TEST(embedded_default_is_tcp_and_tls)
{
	struct conf c;

	CHECK(conf_default(&c, err, sizeof(err)) == 0);
	CHECK(c.n == 2);
	CHECK(rule_is(conf_find(&c, 5060), "tcp", 60, 10, 3, 90000));
	CHECK(rule_is(conf_find(&c, 5061), "tls", 60, 10, 3, 90000));
}

TEST(example_file_has_four_transports)
{
	struct conf c;

	CHECK(conf_parse_file("examples/sipka.conf", &c, err, sizeof(err)) == 0);
	CHECK(c.n == 4);
	CHECK(rule_is(conf_find(&c, 5060), "tcp", 60, 10, 3, 90000));
	CHECK(rule_is(conf_find(&c, 5061), "tls", 60, 10, 3, 90000));
	CHECK(rule_is(conf_find(&c, 8088), "ws", 30, 10, 3, 60000));
	CHECK(rule_is(conf_find(&c, 8089), "wss", 30, 10, 3, 60000));
}

TEST(defaults_section_fills_gaps_wherever_it_stands)
{
	struct conf c;

	CHECK(parse("[tcp]\nport = 5060\n"
		    "[trunk]\nport=5070\ntcp_keepalive_probes=5\ntcp_user_timeout=off\n"
		    "[defaults]\ntcp_keepalive_time = 20\ntcp_keepalive_intvl = 4\n",
		    &c) == 0);
	CHECK(c.n == 2);
	CHECK(rule_is(conf_find(&c, 5060), "tcp", 20, 4, 3, 32000));
	CHECK(rule_is(conf_find(&c, 5070), "trunk", 20, 4, 5, 0));
}

TEST(built_in_defaults_without_defaults_section)
{
	struct conf c;

	CHECK(parse("; a comment\n  # indented comment\n[ws]\nport = 8088  ; inline\n", &c) == 0);
	CHECK(rule_is(conf_find(&c, 8088), "ws", 60, 10, 3, 90000));
	CHECK(conf_find(&c, 5060) == NULL);
}

TEST(user_timeout_forms)
{
	struct conf c;

	CHECK(parse("[a]\nport=1\ntcp_user_timeout=1234\n[b]\nport=2\ntcp_user_timeout=0\n"
		    "[c]\nport=3\ntcp_user_timeout=auto\ntcp_keepalive_time=5\n"
		    "tcp_keepalive_intvl=2\ntcp_keepalive_probes=4\n",
		    &c) == 0);
	CHECK(conf_find(&c, 1)->user_timeout_ms == 1234);
	CHECK(conf_find(&c, 2)->user_timeout_ms == 0);
	CHECK(conf_find(&c, 3)->user_timeout_ms == 13000);
}

TEST(auto_user_timeout_is_clamped_to_int_max)
{
	CHECK(user_timeout_auto(60, 10, 3) == 90000);
	CHECK(user_timeout_auto(SIPKA_KEEPIDLE_MAX, SIPKA_KEEPINTVL_MAX, SIPKA_KEEPCNT_MAX) ==
	      SIPKA_USER_TIMEOUT_MAX);
}

TEST(limits_are_the_kernels)
{
	struct conf c;

	CHECK(parse("[x]\nport=65535\ntcp_keepalive_time=32767\ntcp_keepalive_intvl=32767\n"
		    "tcp_keepalive_probes=127\ntcp_user_timeout=2147483647\n",
		    &c) == 0);
	CHECK(sipka_rule_valid(conf_find(&c, 65535)));
	REFUSED("[x]\nport=1\ntcp_keepalive_time=32768\n",
		"t.conf:3: tcp_keepalive_time: 32768 is out of range; give seconds from 1 to 32767");
	REFUSED("[x]\nport=1\ntcp_keepalive_intvl=0\n", "t.conf:3: tcp_keepalive_intvl");
	REFUSED("[x]\nport=1\ntcp_keepalive_probes=128\n", "1 to 127");
	REFUSED("[x]\nport=1\ntcp_user_timeout=2147483648\n", "'auto' or 'off'");
	REFUSED("[x]\nport=0\n",
		"t.conf:2: port: 0 is out of range; give a TCP port from 1 to 65535");
	REFUSED("[x]\nport=65536\n", "out of range");
}

TEST(errors_name_file_and_line)
{
	REFUSED("[tcp]\nport = 5060\n\ntcp_keepalive_time = 6o\n",
		"t.conf:4: tcp_keepalive_time: '6o' is not a whole number");
	REFUSED("[tcp]\nport = 5060\nkeepalive = 1\n",
		"t.conf:3: unknown key 'keepalive'; use port,");
	REFUSED("[tcp]\nport = 5060\n[tls]\nport = 5060\n",
		"t.conf:3: port 5060 is already the rule of the section on line 1");
	REFUSED("[tcp]\ntcp_keepalive_time = 30\n",
		"t.conf:1: section [tcp] has no port; add port = N");
	REFUSED("port = 5060\n", "t.conf:1: 'port' is outside any section");
	REFUSED("[tcp]\nport = 5060\njunk\n", "t.conf:3: not 'key = value'");
	REFUSED("[tcp]\nport = 5060\n[broken\n", "t.conf:3:");
	REFUSED("[defaults]\nport = 5060\n", "t.conf:2: [defaults] cannot have a port");
	REFUSED("[tcp]\nport = 5060\nport = 5062\n", "t.conf:3: 'port' is set twice in [tcp]");
	REFUSED("[tcp]\nport = 5060\n\n[wss]\n", "t.conf:4: section has no keys");
	REFUSED("[defaults]\ntcp_keepalive_time=1\n[defaults]\ntcp_keepalive_time=2\n[a]\nport=1\n",
		"t.conf:3: [defaults] appears twice");
	REFUSED("", "t.conf:1: no rules");
	REFUSED("[defaults]\ntcp_keepalive_time = 30\n", "no rules");
	REFUSED("[a b]\nport = 1\n", "t.conf:1: section [a b]: name 'a b' must be");
	REFUSED("[averyveryverylongname]\nport = 1\n", "1 to 15");
}

/* What inih would take another way than meant is refused, with the line. */
TEST(ambiguous_input_is_refused)
{
	static char big[64 * 1024];
	size_t n = 0;
	int i;

	REFUSED("[tcp]\n  port = 5060\n", "t.conf:2: the line is indented");
	REFUSED("[tcp]\nport = 5060\n\t[tls]\nport = 5061\n", "t.conf:3: the line is indented");
	REFUSED("\xef\xbb\xbf[tcp]\nport = 5060\n",
		"t.conf:1: the file starts with a UTF-8 byte order mark");
	REFUSED("[tcp\nport = 5060\n", "t.conf:1: '[' without ']'");
	REFUSED("[tcp]\nport = 5060\n[tcp]\nport = 5062\n",
		"t.conf:3: section [tcp] appears twice (first on line 1)");
	/* The tail of a long comment must not be parsed as a key of its own. */
	memset(big, 0, sizeof(big));
	strcpy(big, "[tcp]\nport = 5060\n# ");
	memset(big + strlen(big), 'x', 300);
	strcat(big, " port = 1\n");
	REFUSED(big, "t.conf:3: the line is longer than");
	for (i = 0, n = 0; i <= SIPKA_MAX_RULES; i++)
		n += snprintf(big + n, sizeof(big) - n, "[r%d]\nport = %d\n", i, i + 1);
	REFUSED(big, "t.conf:513: more than 256 rules");
}

TEST(first_error_is_reported)
{
	REFUSED("[tcp]\nport = x\nbogus = 1\n", "t.conf:2: port");
}

TEST(nothing_returned_on_error_is_used)
{
	struct conf c = { .n = 7 };

	CHECK(parse("[tcp]\nport = 5060\nbogus = 1\n", &c) == -1);
	CHECK(c.n == 7); /* the caller's rules are untouched */
	CHECK(parse("[tcp]\nport = 5060\n[tls]\nport = 5060\n", &c) == -1);
	CHECK(c.n == 7);
}

TEST(settings_from_the_command_line)
{
	struct draft d = { 0 };
	struct sipka_rule r;
	char why[192];

	CHECK(setting_parse(SET_TIME, "25", &d, why, sizeof(why)) == 0);
	CHECK(setting_parse(SET_NAME, "trunk-a.1", &d, why, sizeof(why)) == 0);
	draft_resolve(&d, NULL, &r);
	CHECK(rule_is(&r, "trunk-a.1", 25, 10, 3, 55000));
	CHECK(setting_parse(SET_USER_TIMEOUT, "off", &d, why, sizeof(why)) == 0);
	draft_resolve(&d, NULL, &r);
	CHECK(r.user_timeout_ms == 0);
	CHECK(setting_parse(SET_PROBES, "0", &d, why, sizeof(why)) == -1);
	CHECK_HAS(why, "give probes from 1 to 127");
	CHECK(setting_parse(SET_USER_TIMEOUT, "Auto", &d, why, sizeof(why)) == -1);
	CHECK(setting_parse(SET_NAME, "", &d, why, sizeof(why)) == -1);
}

/* The rule set as the kernel holds it: an array indexed by port. */
TEST(conf_from_array_takes_present_rules_in_port_order)
{
	static struct sipka_rule all[SIPKA_PORTS];
	struct conf c;

	memset(all, 0, sizeof(all));
	all[5061] = (struct sipka_rule){ .time = 30, .intvl = 5, .probes = 3, .name = "tls" };
	all[5060] = (struct sipka_rule){ .time = 60, .intvl = 10, .probes = 3, .name = "tcp" };
	all[0] = (struct sipka_rule){ .probes = 1 }; /* present, even if invalid */
	CHECK(conf_from_array(all, SIPKA_PORTS, &c) == 3);
	CHECK(c.n == 3);
	CHECK(c.rules[0].port == 0 && c.rules[1].port == 5060 && c.rules[2].port == 5061);
	CHECK(!strcmp(c.rules[1].rule.name, "tcp") && c.rules[2].rule.time == 30);
}

/* bpftool may write a name without its NUL; more rules than sipka holds. */
TEST(conf_from_array_terminates_names_and_keeps_the_lowest_ports)
{
	static struct sipka_rule all[SIPKA_PORTS];
	struct conf c;
	__u32 p;

	memset(all, 0, sizeof(all));
	for (p = 1000; p < 1000 + SIPKA_MAX_RULES + 10; p++) {
		all[p].time = 1;
		memset(all[p].name, 'x', SIPKA_NAME_LEN);
	}
	CHECK(conf_from_array(all, SIPKA_PORTS, &c) == SIPKA_MAX_RULES + 10);
	CHECK(c.n == SIPKA_MAX_RULES);
	CHECK(c.rules[c.n - 1].port == 1000 + SIPKA_MAX_RULES - 1);
	CHECK(strlen(c.rules[0].rule.name) == SIPKA_NAME_LEN - 1);
}

TEST(events_section_sets_the_action_and_is_no_rule)
{
	struct conf c;

	CHECK(!parse("[tcp]\nport = 5060\n", &c));
	CHECK(!c.events.given && !c.events.exec[0] && c.events.jobs == SIPKA_DEFAULT_EXEC_JOBS &&
	      c.events.timeout_s == SIPKA_DEFAULT_EXEC_TIMEOUT &&
	      c.events.queue == SIPKA_DEFAULT_EXEC_QUEUE);
	CHECK(!parse("[events]\nexec = /etc/sipka/actions/kamailio\nexec_jobs = 2\n"
		     "exec_timeout = 30\nexec_queue = 100\n[tcp]\nport = 5060\n",
		     &c));
	CHECK(c.n == 1 && c.rules[0].port == 5060);
	CHECK(!strcmp(c.events.exec, "/etc/sipka/actions/kamailio"));
	CHECK(c.events.jobs == 2 && c.events.timeout_s == 30 && c.events.queue == 100);
	/* Its own defaults where it is silent; [defaults] does not reach it. */
	CHECK(!parse("[defaults]\ntcp_keepalive_time = 5\n[events]\nexec = /a\n[tcp]\nport = 1\n",
		     &c));
	CHECK(c.events.jobs == SIPKA_DEFAULT_EXEC_JOBS && c.rules[0].rule.time == 5);
}

TEST(events_section_refusals)
{
	REFUSED("[events]\nexec = act\n[tcp]\nport = 1\n",
		"t.conf:2: exec: 'act' is not an absolute path");
	REFUSED("[events]\nexec_jobs = 65\n[tcp]\nport = 1\n",
		"t.conf:2: exec_jobs: 65 is out of range; give actions at once from 1 to 64");
	REFUSED("[events]\nexec_timeout = 0\n[tcp]\nport = 1\n", "exec_timeout");
	REFUSED("[events]\nexec_queue = 65537\n[tcp]\nport = 1\n", "from 1 to 65536");
	REFUSED("[events]\nport = 5060\n", "t.conf:2: unknown key 'port' in [events]");
	REFUSED("[events]\nexec = /a\nexec = /b\n[tcp]\nport = 1\n",
		"t.conf:3: 'exec' is set twice");
	REFUSED("[tcp]\nport = 1\nexec = /a\n", "(exec and exec_* go under [events])");
	REFUSED("[events]\nexec = /a\n[tcp]\nport = 1\n[events]\nexec_jobs = 1\n",
		"t.conf:5: [events] appears twice (first on line 1)");
	REFUSED("[events]\nexec = /a\n", "no rules");
}
