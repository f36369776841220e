// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "output.h"

int print_json(json_t *j)
{
	int ret;

	if (!j) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	/* 15 digits: 0.729, not %.17g's 0.72899999999999998. */
	ret = json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(j);
	return ret ? EXIT_FAIL : EXIT_OK;
}

const char *rule_name(const char *name)
{
	return name[0] ? name : "-";
}

const char *addr_format(__u8 family, const __u8 *a, char *buf, bool *v4)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	*v4 = family != AF_INET6 || !memcmp(a, mapped, sizeof(mapped));
	if (*v4)
		return inet_ntop(AF_INET, family == AF_INET6 ? a + 12 : a, buf, INET6_ADDRSTRLEN);
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

void duration_format(__u64 ns, char *buf, size_t len)
{
	unsigned long long s = ns / 1000000000ULL;

	if (s < 60)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum%02llus", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%llud%02lluh%02llum", s / 86400, s / 3600 % 24, s / 60 % 60);
}
