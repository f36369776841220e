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

/* NS in at most UNITS units from the largest not zero; under a minute, seconds
 * to a tenth (truncated, as the units are). */
static void duration_units(__u64 ns, int units, char *buf, size_t len)
{
	unsigned long long s = ns / 1000000000ULL;
	const unsigned long long v[] = { s / 86400, s / 3600 % 24, s / 60 % 60, s % 60 };
	static const char unit[] = "dhms";
	int i = 0, k, n;

	if (s < 60) {
		snprintf(buf, len, "%llu.%llus", s, ns / 100000000ULL % 10);
		return;
	}
	while (!v[i]) /* s >= 60: a minute, an hour or a day is not zero */
		i++;
	n = snprintf(buf, len, "%llu%c", v[i], unit[i]);
	for (k = i + 1; k < 4 && k < i + units && n >= 0 && (size_t)n < len; k++)
		n += snprintf(buf + n, len - n, "%02llu%c", v[k], unit[k]);
}

void duration_format(__u64 ns, char *buf, size_t len)
{
	duration_units(ns, 3, buf, len);
}

void duration_short(__u64 ns, char *buf, size_t len)
{
	duration_units(ns, 2, buf, len);
}

void elide_middle(char *s, size_t width, size_t keep)
{
	size_t n = strlen(s), tail;

	if (n <= width || width < 4)
		return;
	tail = (width - 2) / 2; /* the larger half, when it is odd */
	if (tail < keep)
		tail = keep < width - 3 ? keep : width - 3;
	memcpy(s + (width - 3 - tail), "...", 3);
	memmove(s + (width - tail), s + n - tail, tail + 1);
}

void endpoint_elide(char *ep, size_t width)
{
	const char *port = strrchr(ep, ':');

	if (port && port > ep && port[-1] == ']')
		port--;
	elide_middle(ep, width, port ? strlen(port) : 0);
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

/* Whether NAME (LEN bytes) ends with SUFFIX. */
static bool ends_with(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !memcmp(name + len - n, suffix, n);
}

/* A container's scope (RUNTIME-ID.scope) as "RUNTIME:SHORT_ID", into BUF. */
static bool container_label(const char *name, size_t len, char *buf, size_t size)
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = { { "docker-", "docker" },
		       { "libpod-", "podman" },
		       { "cri-containerd-", "containerd" },
		       { "crio-", "cri-o" } };
	size_t i, p, id;

	if (!ends_with(name, len, ".scope"))
		return false;
	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		p = strlen(scopes[i].prefix);
		id = len - p - strlen(".scope");
		if (len > p + strlen(".scope") && !strncmp(name, scopes[i].prefix, p) &&
		    strspn(name + p, "0123456789abcdef") == id && id >= 12) {
			snprintf(buf, size, "%s:%.12s", scopes[i].runtime, name + p);
			return true;
		}
	}
	return false;
}

const char *pbx_label(const char *path, char *buf, size_t size)
{
	const char *end = path + strlen(path), *start;
	size_t len;

	/* From the last component up: a container, else a systemd unit. */
	while (end > path) {
		start = end;
		while (start > path && start[-1] != '/')
			start--;
		len = (size_t)(end - start);
		if (container_label(start, len, buf, size))
			return buf;
		if (ends_with(start, len, ".service") || ends_with(start, len, ".scope")) {
			snprintf(buf, size, "%.*s", (int)len, start);
			return buf;
		}
		end = start > path ? start - 1 : path;
	}
	snprintf(buf, size, "%s", path[0] ? path : "/");
	return buf;
}
