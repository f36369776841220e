// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse.h"

int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out, char *why, size_t len)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts spaces, signs and "0x": a config value must not. */
	if (!isdigit((unsigned char)s[0])) {
		snprintf(why, len, "'%s' is not a whole number", s);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end) {
		snprintf(why, len, "'%s' is not a whole number", s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		snprintf(why, len, "%s is out of range", s);
		return -1;
	}
	*out = v;
	return 0;
}
