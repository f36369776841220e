/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What people read: addresses, durations, times and names as the commands
 * print them. Pure: no BPF, no CLI globals; unit-tested (tests/unit/test_format.c).
 */
#ifndef SIPKA_FORMAT_H
#define SIPKA_FORMAT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* A rule's transport name for people: "-" when it has none. */
const char *rule_name(const char *name);

/* How a connection ended (enum sipka_reason): "closed", "keepalive",
 * "retransmit", "reset"; "unknown" for a value this sipka does not know. */
const char *reason_name(unsigned int reason);

/* ADDR (FAMILY: AF_INET in its first 4 bytes, or AF_INET6) as people know it:
 * v4-mapped IPv6 as IPv4 (*V4 true). BUF: INET6_ADDRSTRLEN. */
const char *addr_format(__u8 family, const __u8 *addr, char *buf, bool *v4);

/* ADDR and PORT as an endpoint: "192.0.2.1:5060", "[2001:db8::1]:5060". */
#define ENDPOINT_LEN (INET6_ADDRSTRLEN + 8) /* "[" "]:" and 5 digits */
const char *endpoint_format(__u8 family, const __u8 *addr, __u16 port, char *buf);

/* "4.2s", "3m05s", "2h01m00s", "3d04h05m". */
void duration_format(__u64 ns, char *buf, size_t len);

/* The same in two units at most, for a table: "4.2s", "3m05s", "2h01m", "3d04h". */
void duration_short(__u64 ns, char *buf, size_t len);

/* S in at most WIDTH columns (at least 4; S is left whole below): its middle
 * replaced by "...", keeping at least its last KEEP characters. */
void elide_middle(char *s, size_t width, size_t keep);

/* The same for EP, an endpoint_format() string, keeping its port whole (with
 * IPv6's "]"): "[2001:db8:...:5678]:5060", "...]:5060". */
void endpoint_elide(char *ep, size_t width);

/* WALL_NS (CLOCK_REALTIME) in local time, ISO 8601 to the millisecond:
 * "2026-11-22T17:03:12.123+01:00". */
void time_format(__s64 wall_ns, char *buf, size_t len);

/* The PBX a cgroup v2 PATH (relative to the mount: "/system.slice/x.service")
 * belongs to, for people: the container of its last container scope
 * ("docker:0123456789ab" from docker-ID.scope; libpod-, cri-containerd-,
 * crio- likewise), else its last systemd unit (*.service, *.scope), else
 * PATH itself. Into BUF (SIZE); returns BUF. */
const char *pbx_label(const char *path, char *buf, size_t size);

#endif
