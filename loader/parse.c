// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

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

int parse_listen(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen, char *why,
		 size_t len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
	struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
	const char *colon = strrchr(s, ':'), *host = s;
	unsigned long long port;
	char ip[INET6_ADDRSTRLEN + 2];
	size_t n;

	if (!colon || (s[0] == '[' && !strstr(s, "]:"))) {
		snprintf(why, len,
			 "'%s' has no port; give ADDR:PORT, [IPV6]:PORT, or :PORT for 127.0.0.1",
			 s);
		return -1;
	}
	if (parse_uint(colon + 1, 0, 65535, &port, why, len))
		return -1;
	n = colon - s;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { /* [IPV6] */
		host++;
		n -= 2;
	}
	if (n >= sizeof(ip))
		n = sizeof(ip) - 1; /* too long for an address: refused below */
	memcpy(ip, host, n);
	ip[n] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (host == s && !n) {
		snprintf(ip, sizeof(ip), "127.0.0.1");
	} else if (host != s) {
		if (inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1) {
			snprintf(why, len, "'%s' is not an IPv6 address", ip);
			return -1;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*addrlen = sizeof(*a6);
		return 0;
	} else if (strchr(ip, ':')) {
		snprintf(why, len, "put an IPv6 address in brackets: [%s]:%llu", ip, port);
		return -1;
	}
	if (inet_pton(AF_INET, ip, &a4->sin_addr) != 1) {
		snprintf(
			why, len,
			"'%s' is not an IPv4 address; give one (127.0.0.1:%llu), or an IPv6 one in brackets ([::1]:%llu): names are not looked up",
			ip, port, port);
		return -1;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	*addrlen = sizeof(*a4);
	return 0;
}
