// SPDX-License-Identifier: GPL-2.0
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
