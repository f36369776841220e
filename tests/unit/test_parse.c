// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "unit.h"

static int ok(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long want)
{
	unsigned long long v = ~0ULL;
	char why[128] = "";

	return parse_uint(s, min, max, &v, why, sizeof(why)) == 0 && v == want && !why[0];
}

static int refused(const char *s, unsigned long long min, unsigned long long max,
		   const char *reason)
{
	unsigned long long v = 42;
	char why[128] = "";

	return parse_uint(s, min, max, &v, why, sizeof(why)) == -1 && v == 42 &&
	       strstr(why, reason);
}

TEST(parse_uint_accepts_whole_numbers_in_range)
{
	CHECK(ok("0", 0, 10, 0));
	CHECK(ok("10", 0, 10, 10));
	CHECK(ok("5060", 1, 65535, 5060));
	CHECK(ok("007", 1, 10, 7));
	CHECK(ok("18446744073709551615", 0, ~0ULL, ~0ULL));
}

TEST(parse_uint_refuses_junk)
{
	CHECK(refused("", 0, 10, "not a whole number"));
	CHECK(refused("12x", 0, 100, "'12x' is not a whole number"));
	CHECK(refused(" 12", 0, 100, "not a whole number"));
	CHECK(refused("12 ", 0, 100, "not a whole number"));
	CHECK(refused("-1", 0, 100, "not a whole number"));
	CHECK(refused("+1", 0, 100, "not a whole number"));
	CHECK(refused("0x10", 0, 100, "not a whole number"));
	CHECK(refused("1.5", 0, 100, "not a whole number"));
	CHECK(refused("1e3", 0, 10000, "not a whole number"));
}

TEST(parse_uint_refuses_out_of_range)
{
	CHECK(refused("0", 1, 10, "0 is out of range"));
	CHECK(refused("11", 1, 10, "out of range"));
	CHECK(refused("65536", 1, 65535, "out of range"));
	CHECK(refused("18446744073709551616", 0, ~0ULL, "out of range"));
	CHECK(refused("99999999999999999999999", 0, 100, "out of range"));
}

/* parse_listen's address as text (ADDR:PORT, [ADDR]:PORT), or its WHY. */
static const char *listen_as(const char *s)
{
	static char out[128];
	struct sockaddr_storage a;
	socklen_t len = 0;
	char ip[INET6_ADDRSTRLEN];

	if (parse_listen(s, &a, &len, out, sizeof(out)))
		return out;
	if (a.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a;

		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		snprintf(out, sizeof(out), "[%s]:%u", ip, ntohs(a6->sin6_port));
	} else if (a.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a;

		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		snprintf(out, sizeof(out), "%s:%u", ip, ntohs(a4->sin_port));
	} else {
		snprintf(out, sizeof(out), "family %d, length %u", a.ss_family, len);
	}
	return out;
}

TEST(parse_listen_takes_ipv4_bracketed_ipv6_and_a_bare_port)
{
	CHECK(!strcmp(listen_as(":9560"), "127.0.0.1:9560"));
	CHECK(!strcmp(listen_as("0.0.0.0:9560"), "0.0.0.0:9560"));
	CHECK(!strcmp(listen_as("192.0.2.7:0"), "192.0.2.7:0"));
	CHECK(!strcmp(listen_as("[::1]:9560"), "[::1]:9560"));
	CHECK(!strcmp(listen_as("[::]:65535"), "[::]:65535"));
}

TEST(parse_listen_refuses_names_bare_ipv6_and_bad_ports)
{
	CHECK(strstr(listen_as("9560"), "has no port; give ADDR:PORT"));
	CHECK(strstr(listen_as("localhost:9560"), "names are not looked up"));
	CHECK(strstr(listen_as("::1:9560"), "put an IPv6 address in brackets: [::1]:9560"));
	CHECK(strstr(listen_as("[::1]"), "has no port"));
	CHECK(strstr(listen_as("[127.0.0.1]:80"), "'127.0.0.1' is not an IPv6 address"));
	CHECK(strstr(listen_as(":65536"), "65536 is out of range"));
	CHECK(strstr(listen_as(":-1"), "not a whole number"));
	CHECK(strstr(listen_as("1.2.3:80"), "'1.2.3' is not an IPv4 address"));
	CHECK(strstr(listen_as("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24:80"),
		     "is not an IPv4 address"));
}
