// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "format.h"
#include "sipka.h"

const char *rule_name(const char *name)
{
	return name[0] ? name : "-";
}

const char *reason_name(unsigned int reason)
{
	static const char *const reasons[] = {
		[SIPKA_CLOSED] = "closed",
		[SIPKA_DEAD_KEEPALIVE] = "keepalive",
		[SIPKA_DEAD_RETRANSMIT] = "retransmit",
		[SIPKA_RESET] = "reset",
	};

	return reason < sizeof(reasons) / sizeof(reasons[0]) ? reasons[reason] : "unknown";
}

const char *addr_format(__u8 family, const __u8 *a, char *buf, bool *v4)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	*v4 = family != AF_INET6 || !memcmp(a, mapped, sizeof(mapped));
	if (*v4)
		return inet_ntop(AF_INET, family == AF_INET6 ? a + 12 : a, buf, INET6_ADDRSTRLEN);
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

const char *endpoint_format(__u8 family, const __u8 *addr, __u16 port, char *buf)
{
	char a[INET6_ADDRSTRLEN];
	bool v4;

	addr_format(family, addr, a, &v4);
	snprintf(buf, ENDPOINT_LEN, v4 ? "%s:%u" : "[%s]:%u", a, port);
	return buf;
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

void time_format(__s64 wall_ns, char *buf, size_t len)
{
	time_t secs = wall_ns / 1000000000LL;
	char zone[8];
	struct tm tm;
	size_t n;

	localtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm); /* +0100 */
	snprintf(buf + n, len - n, ".%03lld%.3s:%.2s",
		 (long long)(wall_ns % 1000000000LL) / 1000000, zone, zone + 3);
}
