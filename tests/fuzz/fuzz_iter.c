// SPDX-License-Identifier: GPL-2.0
/* What the TCP iterators write: the arming walk's bytes (existing_count), and
 * the listing's struct sipka_conn_info records formatted as `sipka
 * connections` formats them (addresses, endpoints, durations). */
#include <stdio.h>

#include "format.h"
#include "fuzz.h"
#include "walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[INET6_ADDRSTRLEN], e[ENDPOINT_LEN], d[32];
	struct existing x = { 0 };
	struct sipka_conn_info c;
	size_t off;
	bool v4;

	existing_count(&x, data, size);
	if (x.armed + x.retuned + x.failed != size || x.untracked > x.armed)
		abort();
	for (off = 0; off + sizeof(c) <= size; off += sizeof(c)) {
		memcpy(&c, data + off, sizeof(c));
		addr_format(c.family, c.remote_addr, a, &v4);
		endpoint_format(c.family, c.remote_addr, c.remote_port, e);
		endpoint_format(c.family, c.local_addr, c.local_port, e);
		duration_format(c.now_ns - c.armed_ns, d, sizeof(d));
		duration_format((__u64)c.idle_ms * 1000000ULL, d, sizeof(d));
		duration_format(
			(__u64)(c.keepalive_time_s + c.keepalive_intvl_s * c.keepalive_probes) *
				1000000000ULL,
			d, sizeof(d));
		snprintf(d, sizeof(d), "%-6s", rule_name(""));
	}
	return 0;
}
