// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "format.h"
#include "sipka.h"
#include "unit.h"

/* ADDR (text, as inet_pton reads it) in an event's or a connection's 16 bytes. */
static __u8 family_of(const char *text, __u8 *addr)
{
	memset(addr, 0xaa, 16); /* what follows an IPv4 address is not read */
	if (inet_pton(AF_INET, text, addr) == 1)
		return AF_INET;
	memset(addr, 0, 16);
	return inet_pton(AF_INET6, text, addr) == 1 ? AF_INET6 : 0;
}

static int addr_is(const char *in, const char *want, bool want_v4)
{
	char buf[INET6_ADDRSTRLEN];
	bool v4 = !want_v4;
	__u8 a[16];
	__u8 family = family_of(in, a);

	return family && !strcmp(addr_format(family, a, buf, &v4), want) && v4 == want_v4;
}

static int endpoint_is(const char *in, __u16 port, const char *want)
{
	char buf[ENDPOINT_LEN];
	__u8 a[16];
	__u8 family = family_of(in, a);

	return family && !strcmp(endpoint_format(family, a, port, buf), want);
}

static int duration_is(__u64 ns, const char *want)
{
	char buf[32];

	duration_format(ns, buf, sizeof(buf));
	return !strcmp(buf, want);
}

#define S 1000000000ULL

TEST(rule_name_is_a_dash_for_no_name)
{
	CHECK(!strcmp(rule_name(""), "-"));
	CHECK(!strcmp(rule_name("tcp"), "tcp"));
}

TEST(reason_name_says_each_reason_and_unknown_beyond)
{
	CHECK(!strcmp(reason_name(SIPKA_CLOSED), "closed"));
	CHECK(!strcmp(reason_name(SIPKA_DEAD_KEEPALIVE), "keepalive"));
	CHECK(!strcmp(reason_name(SIPKA_DEAD_RETRANSMIT), "retransmit"));
	CHECK(!strcmp(reason_name(SIPKA_RESET), "reset"));
	CHECK(!strcmp(reason_name(SIPKA_RESET + 1), "unknown"));
	CHECK(!strcmp(reason_name(255), "unknown"));
}

TEST(addr_format_ipv4)
{
	CHECK(addr_is("192.0.2.1", "192.0.2.1", true));
	CHECK(addr_is("0.0.0.0", "0.0.0.0", true));
	CHECK(addr_is("255.255.255.255", "255.255.255.255", true));
}

TEST(addr_format_v4_mapped_ipv6_as_ipv4)
{
	CHECK(addr_is("::ffff:198.51.100.7", "198.51.100.7", true));
	CHECK(addr_is("::ffff:127.0.0.1", "127.0.0.1", true));
}

TEST(addr_format_ipv6)
{
	CHECK(addr_is("2001:db8::1", "2001:db8::1", false));
	CHECK(addr_is("::1", "::1", false));
	CHECK(addr_is("::", "::", false));
	/* Almost mapped: one bit off is IPv6. */
	CHECK(addr_is("::fffe:198.51.100.7", "::fffe:c633:6407", false));
	CHECK(addr_is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false));
}

TEST(endpoint_format_brackets_ipv6_only)
{
	CHECK(endpoint_is("192.0.2.1", 5060, "192.0.2.1:5060"));
	CHECK(endpoint_is("::ffff:198.51.100.7", 65535, "198.51.100.7:65535"));
	CHECK(endpoint_is("2001:db8::1", 5061, "[2001:db8::1]:5061"));
	CHECK(endpoint_is("::1", 0, "[::1]:0"));
	/* The longest fits whole. */
	CHECK(endpoint_is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
			  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"));
}

TEST(duration_format_seconds_to_a_tenth_under_a_minute)
{
	CHECK(duration_is(0, "0.0s"));
	CHECK(duration_is(4200000000ULL, "4.2s"));
	CHECK(duration_is(12345678, "0.0s"));
	CHECK(duration_is(59 * S + 900000000ULL, "59.9s"));
}

TEST(duration_format_minutes_hours_days)
{
	CHECK(duration_is(60 * S, "1m00s"));
	CHECK(duration_is(185 * S + 999999999ULL, "3m05s")); /* whole seconds, not rounded */
	CHECK(duration_is(3599 * S, "59m59s"));
	CHECK(duration_is(3600 * S, "1h00m00s"));
	CHECK(duration_is(7260 * S, "2h01m00s"));
	CHECK(duration_is(86399 * S, "23h59m59s"));
	CHECK(duration_is(86400 * S, "1d00h00m"));
	CHECK(duration_is((3 * 86400 + 4 * 3600 + 5 * 60 + 7) * S, "3d04h05m"));
	CHECK(duration_is(400 * 86400 * S, "400d00h00m"));
}

TEST(duration_format_truncates_to_the_buffer)
{
	char buf[4] = "xxx";

	duration_format(185 * S, buf, sizeof(buf));
	CHECK(!strcmp(buf, "3m0"));
}

static int short_is(__u64 ns, const char *want)
{
	char buf[32];

	duration_short(ns, buf, sizeof(buf));
	return !strcmp(buf, want);
}

TEST(duration_short_in_two_units_at_most)
{
	CHECK(short_is(4200000000ULL, "4.2s"));
	CHECK(short_is(59 * S + 999999999ULL, "59.9s")); /* truncated, not "60.0s" */
	CHECK(short_is(185 * S, "3m05s"));
	CHECK(short_is(7260 * S + 59 * S, "2h01m"));
	CHECK(short_is(86399 * S, "23h59m"));
	CHECK(short_is((3 * 86400 + 4 * 3600 + 5 * 60) * S, "3d04h"));
	CHECK(short_is(49 * 86400 * S + 17 * 3600 * S, "49d17h"));
}

static int elided_is(const char *ep, size_t width, const char *want)
{
	char buf[ENDPOINT_LEN];

	snprintf(buf, sizeof(buf), "%s", ep);
	endpoint_elide(buf, width);
	return !strcmp(buf, want);
}

TEST(endpoint_elide_keeps_both_ends_and_the_port)
{
	CHECK(elided_is("198.18.0.1:5060", 15, "198.18.0.1:5060")); /* fits: whole */
	CHECK(elided_is("198.18.0.1:5060", 40, "198.18.0.1:5060"));
	CHECK(elided_is("[2001:db8:1234:5678:9abc:def0:1234:5678]:5060", 30,
			"[2001:db8:123...234:5678]:5060"));
	CHECK(elided_is("198.18.0.1:5060", 9, "1...:5060")); /* the port whole */
	CHECK(elided_is("[2001:db8::1]:65535", 11, "[...]:65535"));
	CHECK(elided_is("[2001:db8::1]:5060", 9, "...]:5060"));
	CHECK(elided_is("[::1]:5060", 3, "[::1]:5060")); /* too narrow: left whole */
}

TEST(elide_middle_keeps_the_larger_half_at_the_end)
{
	char s[] = "fifteen-chars-x";

	elide_middle(s, 10, 0);
	CHECK(!strcmp(s, "fif...rs-x"));
	elide_middle(s, 10, 0);
	CHECK(!strcmp(s, "fif...rs-x")); /* fits: left as it is */
}

static int time_is(const char *tz, __s64 wall_ns, const char *want)
{
	char buf[48];

	setenv("TZ", tz, 1);
	tzset();
	time_format(wall_ns, buf, sizeof(buf));
	unsetenv("TZ");
	tzset();
	return !strcmp(buf, want);
}

TEST(time_format_iso8601_local_to_the_millisecond)
{
	const __s64 t = 1795366992LL * 1000000000LL; /* 2026-11-22T17:03:12Z */

	CHECK(time_is("UTC0", t + 123456789, "2026-11-22T17:03:12.123+00:00"));
	CHECK(time_is("UTC0", t + 999999999, "2026-11-22T17:03:12.999+00:00"));
	CHECK(time_is("UTC0", t, "2026-11-22T17:03:12.000+00:00"));
	CHECK(time_is("CET-1", t + 5000000, "2026-11-22T18:03:12.005+01:00"));
	CHECK(time_is("IST-5:30", t, "2026-11-22T22:33:12.000+05:30"));
	CHECK(time_is("EST5", t, "2026-11-22T12:03:12.000-05:00"));
}

static int pbx_is(const char *path, const char *want)
{
	char buf[64];

	return !strcmp(pbx_label(path, buf, sizeof(buf)), want);
}

TEST(pbx_label_names_the_unit_the_container_or_the_path)
{
	const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char path[256];

	CHECK(pbx_is("/system.slice/kamailio.service", "kamailio.service"));
	CHECK(pbx_is("/user.slice/user-1000.slice/user@1000.service/app.slice/pbx.service",
		     "pbx.service"));
	CHECK(pbx_is("/system.slice/kamailio.service/worker", "kamailio.service"));
	CHECK(pbx_is("/user.slice/user-0.slice/session-4.scope", "session-4.scope"));
	snprintf(path, sizeof(path), "/system.slice/docker-%s.scope", id);
	CHECK(pbx_is(path, "docker:0123456789ab"));
	snprintf(path, sizeof(path), "/machine.slice/libpod-%s.scope/container", id);
	CHECK(pbx_is(path, "podman:0123456789ab"));
	snprintf(path, sizeof(path), "/kubepods.slice/x.slice/cri-containerd-%s.scope", id);
	CHECK(pbx_is(path, "containerd:0123456789ab"));
	/* Not a container id: a unit like any other. */
	CHECK(pbx_is("/system.slice/docker-compose.scope", "docker-compose.scope"));
	CHECK(pbx_is("/sipka-test-1/pbx", "/sipka-test-1/pbx"));
	CHECK(pbx_is("", "/"));
	CHECK(pbx_is("/", "/"));
	CHECK(pbx_is("/.service", "/.service"));
}
