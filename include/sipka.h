/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that crosses the BPF/user-space boundary: map layouts, limits
 * and pin names. The layouts of struct sipka_rule and struct sipka_counters
 * are a documented interface (README: "Editing a rule by hand"): append
 * fields, never reorder them.
 */
#ifndef SIPKA_H
#define SIPKA_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Map sizes. */
#define SIPKA_MAX_RULES		256
#define SIPKA_MAX_STATS		1024	/* rules come and go; their counters stay */

/* What the kernel accepts for each option (include/net/tcp.h). */
#define SIPKA_KEEPIDLE_MAX	32767
#define SIPKA_KEEPINTVL_MAX	32767
#define SIPKA_KEEPCNT_MAX	127
#define SIPKA_USER_TIMEOUT_MAX	2147483647U	/* INT_MAX ms */

#define SIPKA_NAME_LEN		16	/* transport name, NUL included */

/* config map: key __u32 port (host order) -> value. */
struct sipka_rule {
	__u32 time;		/* TCP_KEEPIDLE, s */
	__u32 intvl;		/* TCP_KEEPINTVL, s */
	__u32 probes;		/* TCP_KEEPCNT */
	__u32 user_timeout_ms;	/* TCP_USER_TIMEOUT, ms; 0 = leave the kernel's */
	__u32 flags;		/* reserved, 0 */
	char name[SIPKA_NAME_LEN];
};

/* stats map: key __u32 rule port -> value, updated atomically. */
struct sipka_counters {
	__u64 armed;		/* connections keepalive was set on */
	__u64 active;		/* armed and still open */
	__u64 dead_keepalive;	/* keepalive probes went unanswered */
	__u64 dead_retransmit;	/* sent data went unacknowledged */
	__u64 reset;		/* the peer sent RST */
	__u64 closed;		/* every close of an armed connection */
	__u64 errors;		/* invalid rule, failed setsockopt, no memory */
};

/* Per-socket state of an armed connection (socket storage). */
struct sipka_sock {
	__u64 born_ns;		/* CLOCK_MONOTONIC at establishment */
	__u32 port;		/* the rule port it was armed by */
	__u32 pad;
};

/* Names under the pin directory. */
#define SIPKA_PIN_DIR_DEFAULT	"/sys/fs/bpf/sipka"
#define SIPKA_PIN_PROG		"prog"
#define SIPKA_PIN_CONFIG	"config"
#define SIPKA_PIN_STATS		"stats"
#define SIPKA_PIN_SOCKETS	"sockets"
#define SIPKA_PIN_LINK_PREFIX	"link-"	/* + cgroup id */

static inline int sipka_rule_valid(const struct sipka_rule *r)
{
	return r->time >= 1 && r->time <= SIPKA_KEEPIDLE_MAX &&
	       r->intvl >= 1 && r->intvl <= SIPKA_KEEPINTVL_MAX &&
	       r->probes >= 1 && r->probes <= SIPKA_KEEPCNT_MAX &&
	       r->user_timeout_ms <= SIPKA_USER_TIMEOUT_MAX;
}

#endif
