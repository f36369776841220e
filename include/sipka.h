/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that crosses the BPF/user-space boundary: map layouts, limits
 * and pin names.
 *
 * The layout has a version (SIPKA_LAYOUT), pinned with the maps in the meta
 * map. A build whose layout differs from the pinned one migrates the maps
 * (sipka attach/load): rules and counters are copied value by value, a value
 * that grew is zero-filled, so a field may be appended to struct sipka_rule
 * or struct sipka_counters as long as its zero means "as before". Bump
 * SIPKA_LAYOUT with every change to a map's type, key or value.
 */
#ifndef SIPKA_H
#define SIPKA_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifndef SIPKA_LAYOUT
/* 1: sipka 0.1.0 (socket storage, no meta); 2: sipka 0.2.0 (conns and config
 * hashes, CLOCK_BOOTTIME in conns); 3: slots for conns, an array for config;
 * 4: a second window of slots from the cookie's hash. */
#define SIPKA_LAYOUT 4
#endif

/* Map sizes. */
#define SIPKA_MAX_RULES	    256	  /* rules in a rule set: the loader's limit */
#define SIPKA_PORTS	    65536 /* entries of a rule set: one per port */
#define SIPKA_MAX_STATS	    1024  /* counter slots: rules come and go, their counters stay */
#define SIPKA_MAX_CGROUPS   65536 /* cgroups whose connections are armed */
#define SIPKA_CONNS_DEFAULT 65536 /* armed connections tracked; --max-connections */
#define SIPKA_CONNS_MIN	    8U
#define SIPKA_CONNS_MAX	    (1U << 24)

/* What the kernel accepts for each option (include/net/tcp.h). */
#define SIPKA_KEEPIDLE_MAX     32767
#define SIPKA_KEEPINTVL_MAX    32767
#define SIPKA_KEEPCNT_MAX      127
#define SIPKA_USER_TIMEOUT_MAX 2147483647U /* INT_MAX ms */

#define SIPKA_NAME_LEN 16 /* transport name, NUL included */

#define SIPKA_EVENTS_SIZE (256 * 1024) /* ring buffer bytes: ~2700 events of 96 B */

/* sipka_rule.flags */
#define SIPKA_RULE_RESET_EVENTS (1u << 0) /* an event for resets too */

/* The live rule set is the one map in slot 0 of the rules map (an array of
 * maps), pinned as "config": an array of SIPKA_PORTS values indexed by the
 * port (a __u32 key, host order), so the program's lookup is inlined; a port
 * has a rule when its value is present (sipka_rule_present). A change fills a
 * new map and swaps it in with one update, so the program sees the old rule
 * set or the new one, never a mix. */
struct sipka_rule {
	__u32 time;	       /* TCP_KEEPIDLE, s */
	__u32 intvl;	       /* TCP_KEEPINTVL, s */
	__u32 probes;	       /* TCP_KEEPCNT */
	__u32 user_timeout_ms; /* TCP_USER_TIMEOUT, ms; 0 = leave the kernel's */
	__u32 flags;	       /* SIPKA_RULE_* */
	char name[SIPKA_NAME_LEN];
#ifdef SIPKA_TEST_APPENDED_FIELD
	__u32 appended; /* a later layout, for the upgrade test only */
#endif
};

/*
 * The counters of a rule port sit in a slot of the stats map (a per-CPU array,
 * so that lookups are a few instructions): the slots map (an array indexed by
 * port) holds each port's slot, 0 while it has none; its entry 0 (no port is
 * 0) holds the number of slots handed out. The program hands a port its slot
 * the first time it arms a connection on it; slot 0 is never used. Values are
 * updated atomically (a softirq may interrupt the program on the same CPU);
 * readers sum the CPUs.
 */
struct sipka_counters {
	__u64 armed;	       /* connections keepalive was set on */
	__u64 active;	       /* armed, tracked and still open */
	__u64 dead_keepalive;  /* keepalive probes went unanswered */
	__u64 dead_retransmit; /* sent data went unacknowledged */
	__u64 reset;	       /* the peer sent RST */
	__u64 closed;	       /* every close of a tracked connection */
	__u64 errors;	       /* invalid rule, failed setsockopt */
	__u64 events_lost;     /* the ring buffer was full */
	__u64 untracked;       /* armed, but its close cannot be seen (table full, or
				 * an existing connection on a kernel that cannot) */
};

/*
 * The conns map: an array of slots, one per armed connection it tracks. The
 * connection with socket cookie C sits in one of SIPKA_CONN_PROBES slots:
 * first the SIPKA_CONN_WINDOW slots from C mod the number of slots (a power
 * of two), then as many scattered from hash(C). A program claims a free slot with an
 * atomic compare-and-swap of its cookie, so arming takes no lock and no
 * allocation. The kernel hands cookies out in runs of consecutive numbers:
 * connections made one after another take neighbouring slots of the first
 * window, which keeps arming and closing in the same cache lines and pages
 * (a slot from the hash alone cost about 400 ns of BPF time per connection
 * with both ends armed, bench section 1). But
 * connections held since a burst of registrations fill a run of slots, and
 * every later cookie coming round onto that run finds its first window
 * taken: the second, from the hash, is spread over the table (without it
 * such a connection was armed untracked with the table almost empty).
 */
struct sipka_conn {
	__u64 cookie;  /* the socket's cookie; 0: a free slot */
	__u64 born_ns; /* CLOCK_MONOTONIC when armed (coarse: at most a tick early) */
	__u32 port;    /* the rule port it was armed by */
	/* CLOCK_MONOTONIC seconds + 1 when the peer closed it (CLOSE_WAIT); 0
	 * while it is established. It was padding, always 0, in sipka 0.3.0:
	 * zero means as before (no new layout for it). */
	__u32 peer_closed_s;
};

#define SIPKA_CONN_WINDOW 16			  /* slots of each of the two windows */
#define SIPKA_CONN_PROBES (2 * SIPKA_CONN_WINDOW) /* slots a connection may sit in */
/* The second window's slots are this far apart: odd, so they are distinct
 * in any table of a power of two slots (16 at least), and scattered, so a
 * run of taken slots holds few of them (consecutive ones would all fall in
 * a run as often as their start does). */
#define SIPKA_CONN_STRIDE 0x9e3779b1U

/* Where the second window of the connection with COOKIE starts (before the
 * mask): the 64-bit finalizer of MurmurHash3, so neighbouring cookies start
 * far apart. */
static inline __u64 sipka_conn_hash(__u64 cookie)
{
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdULL;
	cookie ^= cookie >> 33;
	cookie *= 0xc4ceb9fe1a85ec53ULL;
	return cookie ^ (cookie >> 33);
}

/* The I-th slot (0 <= I < SIPKA_CONN_PROBES) a connection with COOKIE may sit
 * in; MASK: slots - 1. */
static inline __u32 sipka_conn_slot(__u64 cookie, __u32 i, __u32 mask)
{
	if (i < SIPKA_CONN_WINDOW)
		return (__u32)(cookie + i) & mask;
	return (__u32)(sipka_conn_hash(cookie) + (i - SIPKA_CONN_WINDOW) * SIPKA_CONN_STRIDE) &
	       mask;
}

/* Slots for a capacity of MAX connections: twice as many, a power of two,
 * so that a window is rarely full while the table is not. */
static inline __u32 sipka_conns_slots(__u32 max)
{
	__u32 n = 1;

	while (n < 2 * max)
		n <<= 1;
	return n;
}

/* meta map: one entry, written by the loader that made the maps. */
struct sipka_meta {
	__u32 layout;	  /* SIPKA_LAYOUT of the maps */
	__u32 features;	  /* SIPKA_FEAT_*: what the kernel can do, probed at load */
	char version[32]; /* the sipka that loaded the program */
};

#define SIPKA_FEAT_ITER_ARM   (1u << 0) /* a TCP iterator may set keepalive */
#define SIPKA_FEAT_ITER_TRACK (1u << 1) /* ... and turn on close tracking */

/* sipka connections: one record per connection on a rule port in an
 * attached cgroup, written by the listing iterator. */
struct sipka_conn_info {
	__u64 cookie;
	__u64 armed_ns; /* CLOCK_MONOTONIC when sipka armed it; 0: not by sipka */
	__u64 now_ns;	/* CLOCK_MONOTONIC of the walk */
	__u64 cgroup_id;
	__u32 rule_port;	/* the port its rule is chosen by */
	__u32 keepalive_time_s; /* in force: the socket's, else its namespace's */
	__u32 keepalive_intvl_s;
	__u32 keepalive_probes;
	__u32 user_timeout_ms;
	__u32 idle_ms; /* since the last packet from the peer */
	__u32 srtt_us;
	__u16 local_port; /* host order */
	__u16 remote_port;
	__u8 family;	 /* AF_INET or AF_INET6 */
	__u8 keepalive;	 /* SO_KEEPALIVE is on */
	__u8 probes_out; /* keepalive probes sent unanswered */
	__u8 retransmits;
	__u8 untracked;	 /* armed, its close not counted */
	__u8 listening;	 /* a listening socket (sipka check), not a connection */
	__u8 close_wait; /* TCP_CLOSE_WAIT: the peer closed, the PBX still holds it */
	__u8 pad[5];
	__u8 local_addr[16]; /* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	__u64 peer_closed_ns; /* close_wait: CLOCK_MONOTONIC of the peer's FIN (to the
			       * second), 0: unknown (not seen by this sipka) */
};

/* How an armed connection ended. */
enum sipka_reason {
	SIPKA_CLOSED, /* an ordinary close */
	SIPKA_DEAD_KEEPALIVE,
	SIPKA_DEAD_RETRANSMIT,
	SIPKA_RESET,
};

/* What the iterator did to one existing connection (one byte each). */
enum sipka_existing {
	SIPKA_EXISTING_ARMED = 1,      /* keepalive set now, close tracked */
	SIPKA_EXISTING_RETUNED,	       /* armed before, set to the current rule */
	SIPKA_EXISTING_FAILED,	       /* counted in errors */
	SIPKA_EXISTING_UNTRACKED,      /* keepalive set; its close will not be seen (options
					* that failed are counted in errors) */
	SIPKA_EXISTING_PROBED,	       /* the feature probe's socket: tracking works */
	SIPKA_EXISTING_TRACKED_PARTLY, /* tracked, but some options failed: counted in errors */
};

/*
 * events ring buffer: one per dead peer (and reset, if the rule asks). Each
 * record carries its size, so the event grows only by fields appended at its
 * end: a reader takes any record of at least SIPKA_EVENT_MIN_SIZE bytes and
 * reads the fields beyond the record's end as 0 (an older program's event),
 * and an older reader reads the fields it knows and skips the rest. The ring
 * buffer is kept across upgrades, so both happen while 'events --follow' runs.
 */
struct sipka_event {
	__u64 time_ns;	   /* CLOCK_BOOTTIME at the close */
	__u64 lifetime_ns; /* since the connection was armed */
	__u32 rule_port;
	__u16 local_port;    /* host order */
	__u16 remote_port;   /* host order */
	__u8 reason;	     /* enum sipka_reason */
	__u8 family;	     /* AF_INET or AF_INET6 */
	__u8 probes;	     /* keepalive probes sent unanswered */
	__u8 retransmits;    /* retransmissions of unacknowledged data */
	__u8 local_addr[16]; /* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	char name[SIPKA_NAME_LEN]; /* the rule's transport name at the close */
	/* Appended after sipka 0.3.0 (0: an older program's event). */
	__u64 cgroup_id; /* the socket's cgroup v2 at the close: the PBX */
};

/* The event of sipka 0.1.0 to 0.3.0: every field up to name. */
#define SIPKA_EVENT_MIN_SIZE __builtin_offsetof(struct sipka_event, cgroup_id)

/* Names under the pin directory (loader/pindir.c holds the one table). */
#define SIPKA_PIN_DIR_DEFAULT "/sys/fs/bpf/sipka"
#define SIPKA_PIN_PROG	      "prog"
#define SIPKA_PIN_RULES	      "rules"
#define SIPKA_PIN_CONFIG      "config"
#define SIPKA_PIN_STATS	      "stats"
#define SIPKA_PIN_SLOTS	      "slots"
#define SIPKA_PIN_CONNS	      "conns"
#define SIPKA_PIN_EVENTS      "events"
#define SIPKA_PIN_META	      "meta"
#define SIPKA_PIN_UNTRACKED   "untracked"

/* A connection in CLOSE_WAIT held longer than this is a phantom: its peer
 * closed it, and the PBX did not (sipka check and stats --close-wait-after). */
#define SIPKA_DEFAULT_CLOSE_WAIT_AFTER 60
#define SIPKA_PIN_LINK_PREFIX	       "link-" /* + cgroup id */

/* A port has a rule unless its entry is all zero where a rule cannot be: an
 * array has every port, so zeros (time, intvl, probes) mean "no rule". A
 * present rule may still be invalid (counted in errors). */
static inline int sipka_rule_present(const struct sipka_rule *r)
{
	return r->time || r->intvl || r->probes;
}

static inline int sipka_rule_valid(const struct sipka_rule *r)
{
	return r->time >= 1 && r->time <= SIPKA_KEEPIDLE_MAX && r->intvl >= 1 &&
	       r->intvl <= SIPKA_KEEPINTVL_MAX && r->probes >= 1 &&
	       r->probes <= SIPKA_KEEPCNT_MAX && r->user_timeout_ms <= SIPKA_USER_TIMEOUT_MAX;
}

#endif
