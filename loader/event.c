// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "format.h"

/* What a line and the JSON share: the event copied out (the ring buffer's
 * record need not be aligned), its time and its name, NUL-terminated (a rule
 * written with bpftool may fill all SIPKA_NAME_LEN bytes). */
struct event_text {
	struct sipka_event e;
	char when[48], name[SIPKA_NAME_LEN];
	char pbx[PATH_MAX + 32]; /* "" when the event does not say (an older program's) */
	__u64 ms;		 /* lifetime */
};

static int event_text(const void *data, size_t size, __s64 boot_to_wall_ns, const char *pbx,
		      struct event_text *t)
{
	if (size < SIPKA_EVENT_MIN_SIZE)
		return -1;
	/* An older program's event is shorter, a newer one's longer. */
	memset(&t->e, 0, sizeof(t->e));
	memcpy(&t->e, data, size < sizeof(t->e) ? size : sizeof(t->e));
	snprintf(t->pbx, sizeof(t->pbx), "%s", t->e.cgroup_id && pbx ? pbx : "");
	time_format((__s64)(t->e.time_ns + (__u64)boot_to_wall_ns), t->when, sizeof(t->when));
	snprintf(t->name, sizeof(t->name), "%.*s", (int)sizeof(t->e.name), t->e.name);
	t->ms = (t->e.lifetime_ns + 500000) / 1000000;
	return 0;
}

int event_line(const void *data, size_t size, __s64 boot_to_wall_ns, const char *pbx, char *buf,
	       size_t len)
{
	char peer[ENDPOINT_LEN], end[ENDPOINT_LEN], lived[32];
	const struct sipka_event *e;
	struct event_text t;

	if (event_text(data, size, boot_to_wall_ns, pbx, &t))
		return -1;
	e = &t.e;
	duration_format(e->lifetime_ns, lived, sizeof(lived));
	snprintf(buf, len,
		 "%s %-10s peer %s  local %s (%s)%s%s  lived %s  probes %u  retransmits %u", t.when,
		 reason_name(e->reason),
		 endpoint_format(e->family, e->remote_addr, e->remote_port, peer),
		 endpoint_format(e->family, e->local_addr, e->local_port, end), rule_name(t.name),
		 t.pbx[0] ? "  pbx " : "", t.pbx, lived, e->probes, e->retransmits);
	return 0;
}

json_t *event_json(const void *data, size_t size, __s64 boot_to_wall_ns, const char *cgroup,
		   const char *pbx)
{
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
	const struct sipka_event *e;
	struct event_text t;
	bool v4;

	if (event_text(data, size, boot_to_wall_ns, pbx, &t))
		return NULL;
	e = &t.e;
	addr_format(e->family, e->local_addr, local, &v4);
	addr_format(e->family, e->remote_addr, remote, &v4);
	/* Milliseconds are what matters, and all a reader should see. */
	/* cgroup_id, cgroup and pbx are null when the event does not say (an
	 * older program's); cgroup is null when it has no path here (gone, or
	 * out of this cgroup namespace's sight). */
	return json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:s, s:i, s:i, s:o, s:I, s:o, s:o, s:o}",
		"time", t.when, "reason", reason_name(e->reason), "family", v4 ? "ipv4" : "ipv6",
		"remote_addr", remote, "remote_port", e->remote_port, "local_addr", local,
		"local_port", e->local_port, "rule_port", e->rule_port, "name", t.name, "probes",
		e->probes, "retransmits", e->retransmits, "lifetime_s", json_real(t.ms / 1e3),
		"lifetime_ms", (json_int_t)t.ms, "cgroup_id",
		e->cgroup_id ? json_integer((json_int_t)e->cgroup_id) : json_null(), "cgroup",
		e->cgroup_id && cgroup ? json_string(cgroup) : json_null(), "pbx",
		t.pbx[0] ? json_string(t.pbx) : json_null());
}
