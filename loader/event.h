/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A dead-peer event of the ring buffer (struct sipka_event) as people read
 * it and as JSON. Pure: no BPF, no CLI globals; unit-tested and fuzzed
 * (tests/fuzz).
 */
#ifndef SIPKA_EVENT_H
#define SIPKA_EVENT_H

#include <jansson.h>
#include <stddef.h>

#include "sipka.h"

/* How sipka writes JSON, events and everything else: one line, and 15
 * digits (0.729, not %.17g's 0.72899999999999998). */
#define SIPKA_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Event E (SIZE bytes, from the ring buffer: at least SIPKA_EVENT_MIN_SIZE,
 * an older program's shorter one or a newer one's longer) as a line for
 * people, into BUF (LEN bytes), its CLOCK_BOOTTIME shown as wall time (+
 * BOOT_TO_WALL_NS), its PBX named PBX (cgroup_pbx() of its cgroup_id; left
 * out when the event has none): 0, or -1 if SIZE is too short to be an event. */
int event_line(const void *e, size_t size, __s64 boot_to_wall_ns, const char *pbx, char *buf,
	       size_t len);
/* The same as a JSON object, with CGROUP, the path of its cgroup_id (NULL:
 * none here), or NULL (too short, out of memory). */
json_t *event_json(const void *e, size_t size, __s64 boot_to_wall_ns, const char *cgroup,
		   const char *pbx);

#endif
