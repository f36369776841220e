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
#define SIPKA_MAX_CGROUPS	65536	/* cgroups whose connections are armed */

/* What the kernel accepts for each option (include/net/tcp.h). */
#define SIPKA_KEEPIDLE_MAX	32767
#define SIPKA_KEEPINTVL_MAX	32767
#define SIPKA_KEEPCNT_MAX	127
#define SIPKA_USER_TIMEOUT_MAX	2147483647U	/* INT_MAX ms */

#define SIPKA_NAME_LEN		16	/* transport name, NUL included */

#define SIPKA_EVENTS_SIZE	(256 * 1024)	/* ring buffer bytes: ~2900 events */

/* sipka_rule.flags */
#define SIPKA_RULE_RESET_EVENTS	(1u << 0)	/* an event for resets too */

/* config map: key __u32 port (host order) -> value. */
struct sipka_rule {
	__u32 time;		/* TCP_KEEPIDLE, s */
	__u32 intvl;		/* TCP_KEEPINTVL, s */
	__u32 probes;		/* TCP_KEEPCNT */
	__u32 user_timeout_ms;	/* TCP_USER_TIMEOUT, ms; 0 = leave the kernel's */
	__u32 flags;		/* SIPKA_RULE_* */
	char name[SIPKA_NAME_LEN];
};

/* stats map (per CPU): key __u32 rule port -> value, updated atomically
 * (a softirq may interrupt the program on the same CPU); readers sum the CPUs. */
struct sipka_counters {
	__u64 armed;		/* connections keepalive was set on */
	__u64 active;		/* armed and still open */
	__u64 dead_keepalive;	/* keepalive probes went unanswered */
	__u64 dead_retransmit;	/* sent data went unacknowledged */
	__u64 reset;		/* the peer sent RST */
	__u64 closed;		/* every close of an armed connection */
	__u64 errors;		/* invalid rule, failed setsockopt, no memory */
	__u64 events_lost;	/* the ring buffer was full */
};

/* How an armed connection ended. */
enum sipka_reason {
	SIPKA_CLOSED,		/* an ordinary close */
	SIPKA_DEAD_KEEPALIVE,
	SIPKA_DEAD_RETRANSMIT,
	SIPKA_RESET,
};

/* What the iterator did to one existing connection (one byte each). */
enum sipka_existing {
	SIPKA_EXISTING_ARMED = 1,	/* keepalive set now */
	SIPKA_EXISTING_RETUNED,		/* armed before, set to the current rule */
	SIPKA_EXISTING_FAILED,		/* counted in errors */
};

/* events ring buffer: one per dead peer (and reset, if the rule asks). */
struct sipka_event {
	__u64 time_ns;		/* CLOCK_BOOTTIME at the close */
	__u64 lifetime_ns;	/* since the connection was armed */
	__u32 rule_port;
	__u16 local_port;	/* host order */
	__u16 remote_port;	/* host order */
	__u8 reason;		/* enum sipka_reason */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 probes;		/* keepalive probes sent unanswered */
	__u8 retransmits;	/* retransmissions of unacknowledged data */
	__u8 local_addr[16];	/* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	char name[SIPKA_NAME_LEN];	/* the rule's transport name at the close */
};

/* Per-socket state of an armed connection (socket storage). */
struct sipka_sock {
	__u64 born_ns;		/* CLOCK_BOOTTIME when armed */
	__u32 port;		/* the rule port it was armed by */
	__u32 pad;
};

/* Names under the pin directory. */
#define SIPKA_PIN_DIR_DEFAULT	"/sys/fs/bpf/sipka"
#define SIPKA_PIN_PROG		"prog"
#define SIPKA_PIN_CONFIG	"config"
#define SIPKA_PIN_STATS		"stats"
#define SIPKA_PIN_SOCKETS	"sockets"
#define SIPKA_PIN_EVENTS	"events"
#define SIPKA_PIN_LINK_PREFIX	"link-"	/* + cgroup id */

static inline int sipka_rule_valid(const struct sipka_rule *r)
{
	return r->time >= 1 && r->time <= SIPKA_KEEPIDLE_MAX &&
	       r->intvl >= 1 && r->intvl <= SIPKA_KEEPINTVL_MAX &&
	       r->probes >= 1 && r->probes <= SIPKA_KEEPCNT_MAX &&
	       r->user_timeout_ms <= SIPKA_USER_TIMEOUT_MAX;
}

#endif
