// SPDX-License-Identifier: GPL-2.0
/*
 * sipka: arm TCP keepalive on SIP connections and count how they end.
 *
 * Three programs share the maps below:
 * - sipka_sockops (cgroup sock_ops) runs on every TCP callback of the
 *   attached cgroups: it arms new connections and counts how armed ones end.
 * - sipka_existing (a TCP iterator the loader runs at an attach and a rule
 *   change) arms the connections that were established before, with the same
 *   arm(), and retunes the ones armed already to the current rule. It also
 *   answers the loader's feature probe.
 * - sipka_list (a TCP iterator, for `sipka connections` and `sipka check`)
 *   writes a record per connection and listening socket of the attached
 *   cgroups, with the keepalive in force.
 *
 * The story of a connection:
 * 1. It becomes established. Its rule port is its local port if it was
 *    accepted, the remote port if it was opened. Most ports have no rule:
 *    two array lookups, and nothing more happens.
 * 2. Its port has a rule: arm() sets the keepalive options, claims a slot of
 *    the conns array with the socket's cookie (include/sipka.h), counts it
 *    armed and active, and the socket asks for state callbacks. No lock and
 *    no allocation; a socket whose cgroup and an ancestor both carry this
 *    sipka is armed and counted once (the second run finds its slot).
 * 3. It leaves ESTABLISHED. For FIN_WAIT1 (the PBX began the close) it is
 *    counted closed and asks for no more callbacks. For CLOSE_WAIT (the
 *    peer closed it) its slot keeps when, until the PBX closes its end too
 *    (TCP_CLOSE), when it is counted closed: a PBX that never does holds a
 *    phantom, which 'sipka connections --close-wait' lists. Straight into
 *    TCP_CLOSE, it was reset or its peer is dead (keepalive probes or
 *    retransmissions unanswered): counted as such, and an event goes to the
 *    ring buffer. Freeing its slot is what claims the close.
 * Rarely, a connection is armed untracked (its window of slots is full, or
 * an iterator cannot turn on its callbacks): counted in untracked, marked in
 * socket storage so that it is not armed twice, and its end is not seen.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sipka.h"
#include "uapi.h"

char LICENSE[] SEC("license") = "GPL";

/* The live rule set: an array indexed by the port, whose lookup the verifier
 * inlines (a hash costs a jhash and a bucket walk on every connection). The
 * loader swaps in a whole new one. The members are read by libbpf from BTF,
 * never by C code. */
struct rule_set {
	// cppcheck-suppress unusedStructMember
	__uint(type, BPF_MAP_TYPE_ARRAY);
	// cppcheck-suppress unusedStructMember
	__uint(max_entries, SIPKA_PORTS);
	/* Sizes, not types: clang leaves a pointee of an unused struct undefined. */
	// cppcheck-suppress unusedStructMember
	__uint(key_size, sizeof(__u32));
	// cppcheck-suppress unusedStructMember
	__uint(value_size, sizeof(struct sipka_rule));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct rule_set);
} sipka_rules SEC(".maps");

/* Per CPU: no cache line bounces between CPUs on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPKA_MAX_STATS);
	__type(key, __u32);
	__type(value, struct sipka_counters);
} sipka_stats SEC(".maps");

/* Port -> its slot in sipka_stats; entry 0: the slots handed out. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SIPKA_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} sipka_slots SEC(".maps");

/* Slots of the tracked connections; max_entries and conns_mask are set
 * by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sipka_conn);
} sipka_conns SEC(".maps");

const volatile __u32 conns_mask = 0; /* slots - 1 */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SIPKA_EVENTS_SIZE);
} sipka_events SEC(".maps");

/* Written by the loader; pinned with the maps so the layout can be checked. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sipka_meta);
} sipka_meta SEC(".maps");

/* Connections armed without close tracking (the conns table was full, or
 * an existing one on a kernel whose iterator cannot turn tracking on):
 * marked so that a retune does not count them as armed again. Socket
 * storage, freed with the socket; only this rare path pays for it. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} sipka_untracked SEC(".maps");

/* Adds N to a counter, atomically: on its own CPU's slot the program may
 * still be interrupted (by a softirq running it for another socket). */
static __always_inline void count_add(__u64 *counter, __u64 n)
{
	__sync_fetch_and_add(counter, n);
}

/* The slot that tracks the connection with COOKIE, or NULL. A connection's
 * callbacks hold its socket's lock, so its slot does not change under us. */
static __always_inline struct sipka_conn *conn_find(__u64 cookie)
{
	struct sipka_conn *e;
	__u32 i, slot;

	for (i = 0; i < SIPKA_CONN_PROBES; i++) {
		slot = sipka_conn_slot(cookie, i, conns_mask);
		e = bpf_map_lookup_elem(&sipka_conns, &slot);
		if (e && e->cookie == cookie)
			return e;
	}
	return NULL;
}

/* Tracks the connection with COOKIE (not tracked yet) in a free slot of its
 * windows: 0, or -ENOSPC if every slot of both is taken. */
static __always_inline int conn_claim(__u64 cookie, __u64 born_ns, __u32 port)
{
	struct sipka_conn *e;
	__u32 i, slot;

	for (i = 0; i < SIPKA_CONN_PROBES; i++) {
		slot = sipka_conn_slot(cookie, i, conns_mask);
		e = bpf_map_lookup_elem(&sipka_conns, &slot);
		/* Another CPU may claim the same free slot: the swap decides. */
		if (e && !e->cookie && !__sync_val_compare_and_swap(&e->cookie, 0, cookie)) {
			e->born_ns = born_ns;
			e->port = port;
			e->peer_closed_s = 0;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Whether this sipka armed the socket SK with COOKIE already (tracked, or
 * marked untracked): its run on a descendant cgroup, or an earlier attach. */
static __always_inline bool armed_before(__u64 cookie, void *sk)
{
	return conn_find(cookie) || bpf_sk_storage_get(&sipka_untracked, sk, 0, 0);
}

/* The counters of PORT; NULL if it has no slot of sipka_stats yet. */
static __always_inline struct sipka_counters *counters_find(__u32 port)
{
	__u32 *slot = bpf_map_lookup_elem(&sipka_slots, &port);

	return slot && *slot ? bpf_map_lookup_elem(&sipka_stats, slot) : NULL;
}

/* The counters of PORT, handing it a slot of sipka_stats the first time;
 * NULL when every slot is taken. */
static struct sipka_counters *counters_claim(__u32 port)
{
	__u32 zero = 0, *slot, *used, n;

	slot = bpf_map_lookup_elem(&sipka_slots, &port);
	if (!slot || !port)
		return NULL;
	if (!*slot) {
		used = bpf_map_lookup_elem(&sipka_slots, &zero);
		if (!used)
			return NULL;
		n = __sync_fetch_and_add(used, 1) + 1;
		if (n >= SIPKA_MAX_STATS)
			return NULL;
		/* Two CPUs may hand the same port a slot at once: the first
		 * swap wins, the other slot is never used. */
		__sync_val_compare_and_swap(slot, 0, n);
	}
	return bpf_map_lookup_elem(&sipka_stats, slot);
}

/* The rule of PORT in the live rule set, or NULL if it has none. */
static __always_inline struct sipka_rule *rule_lookup(__u32 port)
{
	__u32 slot = 0;
	void *set = bpf_map_lookup_elem(&sipka_rules, &slot);
	struct sipka_rule *r;

	if (!set)
		return NULL;
	r = bpf_map_lookup_elem(set, &port);
	return r && sipka_rule_present(r) ? r : NULL;
}

static __always_inline int set_int(void *sock, int level, int opt, int val)
{
	return bpf_setsockopt(sock, level, opt, &val, sizeof(val));
}

/* Sets R's keepalive on SOCK: the sock_ops context, or the socket itself in
 * the iterator. A TCP_USER_TIMEOUT of 0 is set only when RETUNE, to undo
 * ours; a new connection keeps what the PBX set. Returns how many options
 * failed, negative if SO_KEEPALIVE itself did. */
static __always_inline int set_keepalive(void *sock, const struct sipka_rule *r, bool retune)
{
	int failed;

	failed = !!set_int(sock, SOL_TCP, TCP_KEEPIDLE, r->time);
	failed += !!set_int(sock, SOL_TCP, TCP_KEEPINTVL, r->intvl);
	failed += !!set_int(sock, SOL_TCP, TCP_KEEPCNT, r->probes);
	if (r->user_timeout_ms || retune)
		failed += !!set_int(sock, SOL_TCP, TCP_USER_TIMEOUT, r->user_timeout_ms);
	if (set_int(sock, SOL_SOCKET, SO_KEEPALIVE, 1))
		return -(failed + 1);
	return failed;
}

/* What arm() is asked to do with a connection. */
enum arm_mode {
	ARM_TRACKED,   /* a new one whose close comes back to us: a slot of conns */
	ARM_UNTRACKED, /* a new one whose close we cannot see: marked in socket storage */
	ARM_RETUNE,    /* one this sipka armed before: set to the current rule */
};

/* What arm() did. The iterator tells the loader (enum sipka_existing). */
enum arm_result {
	ARM_NOTHING,	    /* no counters for the port, or an invalid rule (counted in errors) */
	ARM_FAILED,	    /* SO_KEEPALIVE failed (nothing set), or an option of a retune */
	ARM_DONE_TRACKED,   /* armed, its close tracked */
	ARM_DONE_PARTLY,    /* the same, but some options failed (counted in errors) */
	ARM_DONE_UNTRACKED, /* armed, its close unseen; options that failed are in errors */
	ARM_DONE_RETUNED,   /* set to the current rule */
};

/*
 * Arms one connection with LIVE, the rule of PORT the caller found, or
 * retunes it: both the sock_ops program (at establishment) and the iterator
 * (existing connections) come here. SOCK is what bpf_setsockopt takes, SK
 * the socket, NOW_NS the CLOCK_MONOTONIC time. A new connection (MODE
 * ARM_TRACKED or ARM_UNTRACKED) must not be armed by this sipka yet; one
 * whose window of slots is full is armed untracked all the same. Only
 * errors are counted when nothing is set.
 */
static __always_inline enum arm_result arm(void *sock, void *sk, __u64 cookie, __u32 port,
					   const struct sipka_rule *live, enum arm_mode mode,
					   __u64 now_ns)
{
	struct sipka_counters *c;
	struct sipka_rule r;
	int failed;

	c = counters_claim(port);
	if (!c)
		return ARM_NOTHING;
	r = *live; /* one consistent copy, even if ops rewrite it now */
	/* A value the kernel refuses (set by hand with bpftool) leaves the
	 * connection as it was: half a rule is worse than none. */
	if (!sipka_rule_valid(&r)) {
		count_add(&c->errors, 1);
		return ARM_NOTHING;
	}
	failed = set_keepalive(sock, &r, mode == ARM_RETUNE);
	if (failed) /* the connection is armed all the same, unless SO_KEEPALIVE failed */
		count_add(&c->errors, failed < 0 ? -failed : failed);
	if (mode == ARM_RETUNE)
		return failed ? ARM_FAILED : ARM_DONE_RETUNED;
	if (failed < 0)
		return ARM_FAILED;
	if (mode == ARM_TRACKED && conn_claim(cookie, now_ns, port))
		mode = ARM_UNTRACKED; /* its window is full */
	count_add(&c->armed, 1);
	if (mode == ARM_TRACKED) {
		count_add(&c->active, 1);
		return failed ? ARM_DONE_PARTLY : ARM_DONE_TRACKED;
	}
	count_add(&c->untracked, 1);
	/* No memory for the mark: a retune would count it armed again. */
	if (!bpf_sk_storage_get(&sipka_untracked, sk, &port, BPF_SK_STORAGE_GET_F_CREATE))
		count_add(&c->errors, 1);
	return ARM_DONE_UNTRACKED;
}

/* How an armed connection ended, from the socket as it enters TCP_CLOSE. */
static enum sipka_reason reason_of(struct tcp_sock *tp)
{
	int err = tp->inet_conn.icsk_inet.sk.sk_err;

	if (err == ECONNRESET || err == EPIPE)
		return SIPKA_RESET;
	if (!err)
		return SIPKA_CLOSED;
	if (tp->inet_conn.icsk_probes_out && !tp->inet_conn.icsk_retransmits)
		return SIPKA_DEAD_KEEPALIVE;
	return SIPKA_DEAD_RETRANSMIT; /* retransmission limit or TCP_USER_TIMEOUT */
}

/* An event for the connection S that ended for REASON (a reset only if its
 * rule asks), or events_lost counted in C. */
static void emit_event(struct bpf_sock_ops *skops, struct tcp_sock *tp, const struct sipka_conn *s,
		       struct sipka_counters *c, enum sipka_reason reason)
{
	struct sipka_rule *r = rule_lookup(s->port);
	struct sipka_event *e;
	__u32 *local, *remote;

	if (reason == SIPKA_RESET && !(r && (r->flags & SIPKA_RULE_RESET_EVENTS)))
		return;
	e = bpf_ringbuf_reserve(&sipka_events, sizeof(*e), 0);
	if (!e) { /* nobody reads, or too slowly: count, never wait */
		count_add(&c->events_lost, 1);
		return;
	}
	e->time_ns = bpf_ktime_get_boot_ns();
	e->lifetime_ns = bpf_ktime_get_ns() - s->born_ns; /* born: CLOCK_MONOTONIC */
	e->rule_port = s->port;
	e->local_port = skops->local_port;
	e->remote_port = bpf_ntohl(skops->remote_port);
	e->reason = reason;
	e->family = skops->family;
	e->probes = tp->inet_conn.icsk_probes_out;
	e->retransmits = tp->inet_conn.icsk_retransmits;
	/* The PBX: read at a death only, never on a connection's way in. */
	e->cgroup_id = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup->kn->id;
	/* Context fields are read one by one: the verifier allows no ctx pointer math. */
	local = (__u32 *)e->local_addr;
	remote = (__u32 *)e->remote_addr;
	if (skops->family == AF_INET6) {
		local[0] = skops->local_ip6[0];
		local[1] = skops->local_ip6[1];
		local[2] = skops->local_ip6[2];
		local[3] = skops->local_ip6[3];
		remote[0] = skops->remote_ip6[0];
		remote[1] = skops->remote_ip6[1];
		remote[2] = skops->remote_ip6[2];
		remote[3] = skops->remote_ip6[3];
	} else {
		__builtin_memset(e->local_addr, 0, sizeof(e->local_addr));
		__builtin_memset(e->remote_addr, 0, sizeof(e->remote_addr));
		local[0] = skops->local_ip4;
		remote[0] = skops->remote_ip4;
	}
	if (r)
		__builtin_memcpy(e->name, r->name, sizeof(e->name));
	else
		e->name[0] = '\0';
	bpf_ringbuf_submit(e, 0);
}

/*
 * An armed connection left a state for STATE (a BPF_TCP_* value):
 * - CLOSE_WAIT: the peer closed it. It is still open until the PBX closes
 *   its end too: its slot stays, with when the peer closed it (for 'sipka
 *   connections --close-wait': a PBX that never closes its end holds a
 *   phantom), and the state callbacks stay on for that close.
 * - FIN_WAIT1, or LAST_ACK (after CLOSE_WAIT): the PBX closed its end:
 *   counted closed now, and the socket asks for no more state callbacks
 *   (what follows its FIN is no dead peer of a SIP connection in use; and a
 *   run fewer per connection).
 * - TCP_CLOSE: after the peer's FIN (a reset in CLOSE_WAIT), an ordinary
 *   close whatever ended it. Straight from ESTABLISHED: reset, keepalive or
 *   retransmission death, classified here.
 */
static void on_close(struct bpf_sock_ops *skops, __u32 state)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct bpf_sock *sk = skops->sk;
	enum sipka_reason reason;
	struct sipka_counters *c;
	struct sipka_conn *s, conn;
	struct tcp_sock *tp;

	s = conn_find(cookie);
	if (!s)
		return;
	if (state == BPF_TCP_CLOSE_WAIT) { /* seconds + 1: 0 is "open" */
		s->peer_closed_s = bpf_ktime_get_coarse_ns() / 1000000000ULL + 1;
		return;
	}
	conn = *s;
	/* Freeing the slot claims the close: a second run of this sipka (an
	 * ancestor cgroup's attachment) finds nothing. A closed socket can
	 * connect again: it must be armed afresh. */
	s->peer_closed_s = 0;
	s->cookie = 0;
	c = counters_find(conn.port);
	if (!c)
		return;
	count_add(&c->closed, 1);
	count_add(&c->active, -1);
	if (state == BPF_TCP_FIN_WAIT1 || state == BPF_TCP_LAST_ACK) {
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
							 ~BPF_SOCK_OPS_STATE_CB_FLAG);
		return;
	}
	if (conn.peer_closed_s)
		return;
	tp = sk ? bpf_skc_to_tcp_sock(sk) : NULL;
	if (!tp)
		return;
	reason = reason_of(tp);
	switch (reason) {
	case SIPKA_DEAD_KEEPALIVE: count_add(&c->dead_keepalive, 1); break;
	case SIPKA_DEAD_RETRANSMIT: count_add(&c->dead_retransmit, 1); break;
	case SIPKA_RESET: count_add(&c->reset, 1); break;
	case SIPKA_CLOSED: return;
	}
	emit_event(skops, tp, &conn, c, reason);
}

/* The connection became established with the rule port PORT: armed if the
 * port has a rule and this sipka did not arm it yet. */
static __always_inline void on_established(struct bpf_sock_ops *skops, __u32 port)
{
	struct sipka_rule *live = rule_lookup(port);
	enum arm_result r;
	struct bpf_sock *sk;
	__u64 cookie;

	if (!live) /* the common case: no rule, no more work */
		return;
	sk = skops->sk;
	if (!sk)
		return;
	cookie = bpf_get_socket_cookie(skops);
	/* Every connection this sipka arms has its state callbacks on:
	 * without them, no need to look. */
	if ((skops->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_STATE_CB_FLAG) && armed_before(cookie, sk))
		return;
	/* The coarse clock: no clock source read; a tick is plenty for a lifetime. */
	r = arm(skops, sk, cookie, port, live, ARM_TRACKED, bpf_ktime_get_coarse_ns());
	/* Tracked: its close must come back to us, or its slot would stay
	 * taken. Untracked (its window full): for the check above. */
	if (r == ARM_DONE_TRACKED || r == ARM_DONE_PARTLY || r == ARM_DONE_UNTRACKED)
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
							 BPF_SOCK_OPS_STATE_CB_FLAG);
}

SEC("sockops")
int sipka_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB: /* accepted: our port */
		on_established(skops, skops->local_port);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB: /* connected: their port */
		on_established(skops, bpf_ntohl(skops->remote_port));
		break;
	case BPF_SOCK_OPS_STATE_CB: /* args[1]: the new state */
		if (skops->args[1] == BPF_TCP_CLOSE || skops->args[1] == BPF_TCP_FIN_WAIT1 ||
		    skops->args[1] == BPF_TCP_CLOSE_WAIT || skops->args[1] == BPF_TCP_LAST_ACK)
			on_close(skops, skops->args[1]);
		break;
	}
	return 1;
}

/*
 * The iterators. The TCP iterator walks a network namespace's listening
 * sockets before its established ones; the loader runs it in each network
 * namespace of the attached cgroups.
 */

/* Cgroups whose existing connections the iterator may arm: the attached ones
 * and their descendants, filled by the loader for one iteration. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPKA_MAX_CGROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} sipka_arm_cgroups SEC(".maps");

/* Listening ports seen by this iteration, per network namespace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64); /* netns inode << 16 | port */
	__type(value, __u8);
} sipka_listening SEC(".maps");

/* Set by the loader for its feature probe: only this socket is touched. */
const volatile __u64 probe_cookie = 0;

static __always_inline struct sock *sock_of(struct tcp_sock *tp)
{
	return &tp->inet_conn.icsk_inet.sk;
}

static __always_inline __u64 listen_key(struct sock_common *skc, __u16 port)
{
	return (__u64)skc->skc_net.net->ns.inum << 16 | port;
}

/* Remembers the port of SKC if it listens, for rule_port_of(); returns
 * whether it does. */
static __always_inline bool remember_listener(struct sock_common *skc)
{
	__u64 key;
	__u8 yes = 1;

	if (skc->skc_state != TCP_LISTEN)
		return false;
	key = listen_key(skc, skc->skc_num);
	bpf_map_update_elem(&sipka_listening, &key, &yes, BPF_ANY);
	return true;
}

/* The rule port of an established connection, chosen as at establishment:
 * the local port of one the PBX accepted, the remote port of one it opened.
 * The iterator cannot see how a connection began, so one whose local port
 * has a listening socket in its network namespace counts as accepted (the
 * README says so). */
static __always_inline __u32 rule_port_of(struct sock_common *skc)
{
	__u64 key = listen_key(skc, skc->skc_num);

	return bpf_map_lookup_elem(&sipka_listening, &key) ? skc->skc_num :
							     bpf_ntohs(skc->skc_dport);
}

/* SKC as a full TCP socket of a cgroup in sipka_arm_cgroups, with that
 * cgroup's id in *CGID; NULL if it is not one. */
static __always_inline struct tcp_sock *attached_tcp_sock(struct sock_common *skc, __u64 *cgid)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);

	if (!tp)
		return NULL;
	*cgid = sock_of(tp)->sk_cgrp_data.cgroup->kn->id;
	return bpf_map_lookup_elem(&sipka_arm_cgroups, cgid) ? tp : NULL;
}

/* Turns on the state callbacks of a connection the iterator arms (the
 * kernel may refuse): 0, or an error. */
static __always_inline int turn_on_tracking(struct tcp_sock *tp)
{
	if (tp->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_STATE_CB_FLAG)
		return 0; /* armed by an earlier sipka: it is on */
	return set_int(sock_of(tp), SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS,
		       tp->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* One byte to the loader per connection the iterator touched. */
static __always_inline void tell_loader(struct bpf_iter__tcp *ctx, enum sipka_existing what)
{
	__u8 byte = what;

	bpf_seq_write(ctx->meta->seq, &byte, sizeof(byte));
}

/* The loader's feature probe, on its one socket: can an iterator turn on
 * the state callbacks that tracking needs? */
static __always_inline void probe(struct bpf_iter__tcp *ctx, struct sock_common *skc)
{
	struct tcp_sock *tp;

	if (!skc || skc->skc_state != TCP_ESTABLISHED)
		return;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp || bpf_get_socket_cookie(sock_of(tp)) != probe_cookie)
		return;
	tell_loader(ctx, turn_on_tracking(tp) ? SIPKA_EXISTING_UNTRACKED : SIPKA_EXISTING_PROBED);
}

/*
 * Arms the connections that existed before sipka was attached, or retunes
 * armed ones to the current rule; tells the loader what it did to each
 * connection of an attached cgroup whose rule port has a rule.
 */
SEC("iter/tcp")
int sipka_existing(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sipka_rule *live;
	enum arm_result r;
	enum arm_mode mode;
	struct tcp_sock *tp;
	struct sock *sk;
	__u64 cookie, cgid;
	__u32 port;

	if (probe_cookie) {
		probe(ctx, skc);
		return 0;
	}
	if (!skc || remember_listener(skc) || skc->skc_state != TCP_ESTABLISHED)
		return 0;
	tp = attached_tcp_sock(skc, &cgid);
	if (!tp)
		return 0;
	port = rule_port_of(skc);
	live = rule_lookup(port);
	if (!live)
		return 0;
	sk = sock_of(tp);
	cookie = bpf_get_socket_cookie(sk);
	if (armed_before(cookie, sk))
		mode = ARM_RETUNE;
	else
		mode = turn_on_tracking(tp) ? ARM_UNTRACKED : ARM_TRACKED;
	r = arm(sk, sk, cookie, port, live, mode, bpf_ktime_get_ns());
	switch (r) {
	case ARM_NOTHING: break;
	case ARM_FAILED: tell_loader(ctx, SIPKA_EXISTING_FAILED); break;
	case ARM_DONE_TRACKED: tell_loader(ctx, SIPKA_EXISTING_ARMED); break;
	case ARM_DONE_PARTLY: tell_loader(ctx, SIPKA_EXISTING_TRACKED_PARTLY); break;
	case ARM_DONE_UNTRACKED: tell_loader(ctx, SIPKA_EXISTING_UNTRACKED); break;
	case ARM_DONE_RETUNED: tell_loader(ctx, SIPKA_EXISTING_RETUNED); break;
	}
	return 0;
}

/* sk_flags moved into struct sock_common (6.10); 6.1 has it in struct sock. */
struct sock___old {
	unsigned long sk_flags;
} __attribute__((preserve_access_index));

/* The kernel's HZ, for sipka_list: the loader measures it (loader/hz.h), as
 * libbpf's CONFIG_HZ would need a kernel config file to read. */
const volatile __u32 kernel_hz = 0;

static __always_inline __u32 jiffies_to_ms(__u64 j)
{
	return kernel_hz ? j * 1000 / kernel_hz : 0;
}

/*
 * sipka connections and sipka check: a record (struct sipka_conn_info) per
 * listening socket of an attached cgroup, and per established or CLOSE_WAIT
 * connection of one that sipka armed or whose rule port has a rule, with the
 * keepalive in force and the socket's live state.
 */
SEC("iter/tcp")
int sipka_list(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sipka_conn_info info = {};
	struct inet_connection_sock *icsk;
	struct sipka_conn *conn;
	struct tcp_sock *tp;
	unsigned long flags;
	bool listening;
	struct sock *sk;
	struct net *net;
	__u32 last, ka;

	if (!skc)
		return 0;
	listening = remember_listener(skc);
	if (!listening && skc->skc_state != TCP_ESTABLISHED && skc->skc_state != TCP_CLOSE_WAIT)
		return 0;
	tp = attached_tcp_sock(skc, &info.cgroup_id);
	if (!tp)
		return 0;
	if (listening) {
		info.listening = 1;
		info.local_port = skc->skc_num;
		info.rule_port = skc->skc_num;
		info.family = skc->skc_family;
		bpf_seq_write(ctx->meta->seq, &info, sizeof(info));
		return 0;
	}
	sk = sock_of(tp);
	icsk = &tp->inet_conn;
	info.cookie = bpf_get_socket_cookie(sk);
	conn = conn_find(info.cookie);
	info.untracked = bpf_sk_storage_get(&sipka_untracked, sk, 0, 0) != NULL;
	info.close_wait = skc->skc_state == TCP_CLOSE_WAIT;
	if (conn && conn->peer_closed_s)
		info.peer_closed_ns = (__u64)(conn->peer_closed_s - 1) * 1000000000ULL;
	info.rule_port = conn ? conn->port : rule_port_of(skc);
	if (!conn && !info.untracked && !rule_lookup(info.rule_port))
		return 0;
	info.armed_ns = conn ? conn->born_ns : 0;
	info.now_ns = bpf_ktime_get_ns();
	net = skc->skc_net.net;
	ka = tp->keepalive_time ? tp->keepalive_time : net->ipv4.sysctl_tcp_keepalive_time;
	info.keepalive_time_s = jiffies_to_ms(ka) / 1000;
	ka = tp->keepalive_intvl ? tp->keepalive_intvl : net->ipv4.sysctl_tcp_keepalive_intvl;
	info.keepalive_intvl_s = jiffies_to_ms(ka) / 1000;
	info.keepalive_probes = tp->keepalive_probes ? tp->keepalive_probes :
						       net->ipv4.sysctl_tcp_keepalive_probes;
	info.user_timeout_ms = icsk->icsk_user_timeout;
	last = icsk->icsk_ack.lrcvtime;
	if ((__s32)(tp->rcv_tstamp - last) > 0)
		last = tp->rcv_tstamp;
	info.idle_ms = jiffies_to_ms((__u32)bpf_jiffies64() - last);
	info.srtt_us = tp->srtt_us >> 3;
	if (bpf_core_field_exists(skc->skc_flags))
		flags = BPF_CORE_READ(skc, skc_flags);
	else
		flags = BPF_CORE_READ((struct sock___old *)sk, sk_flags);
	info.keepalive = !!(flags & (1UL << SOCK_KEEPOPEN));
	info.probes_out = icsk->icsk_probes_out;
	info.retransmits = icsk->icsk_retransmits;
	info.family = skc->skc_family;
	info.local_port = skc->skc_num;
	info.remote_port = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == AF_INET6) {
		BPF_CORE_READ_INTO(&info.local_addr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&info.remote_addr, skc, skc_v6_daddr.in6_u.u6_addr8);
	} else {
		__builtin_memcpy(info.local_addr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(info.remote_addr, &skc->skc_daddr, 4);
	}
	bpf_seq_write(ctx->meta->seq, &info, sizeof(info));
	return 0;
}
