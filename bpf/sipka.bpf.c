// SPDX-License-Identifier: GPL-2.0
/*
 * sipka: arm TCP keepalive on SIP connections and count how they end.
 *
 * sipka_sockops runs on every TCP callback of the cgroup, so the common case
 * (a socket with no rule) is one map lookup; only armed sockets ask for state
 * callbacks, and only their move to TCP_CLOSE does any work.
 * sipka_existing (a TCP iterator, run by the loader) does the same for the
 * connections that were established before.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sipka.h"
#include "uapi.h"

char LICENSE[] SEC("license") = "GPL";

/* "config" is a typedef in vmlinux.h: the C name differs, the pin is "config". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPKA_MAX_RULES);
	__type(key, __u32);
	__type(value, struct sipka_rule);
} sipka_config SEC(".maps");

/* Per CPU: no cache line bounces between CPUs on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SIPKA_MAX_STATS);
	__type(key, __u32);
	__type(value, struct sipka_counters);
} sipka_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sipka_sock);
} sipka_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SIPKA_EVENTS_SIZE);
} sipka_events SEC(".maps");

#define add(field, n) __sync_fetch_and_add(&(field), (n))

static struct sipka_counters *counters(__u32 port)
{
	static const struct sipka_counters zero;
	struct sipka_counters *c = bpf_map_lookup_elem(&sipka_stats, &port);

	if (c)
		return c;
	/* Two CPUs may race here: NOEXIST lets one win, both then find it. */
	bpf_map_update_elem(&sipka_stats, &port, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sipka_stats, &port);
}

/* The valid rule of PORT into R, and its counters; NULL if there is none. */
static __always_inline struct sipka_counters *rule_of(__u32 port, struct sipka_rule *r)
{
	struct sipka_rule *live = bpf_map_lookup_elem(&sipka_config, &port);
	struct sipka_counters *c;

	if (!live)
		return NULL;
	c = counters(port);
	if (!c)
		return NULL;
	*r = *live;	/* one consistent copy, even if ops rewrite it now */
	/* A value the kernel refuses (set by hand with bpftool) leaves the
	 * connection as it was: half a rule is worse than none. */
	if (!sipka_rule_valid(r)) {
		add(c->errors, 1);
		return NULL;
	}
	return c;
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

/* Socket storage for a connection armed now by the rule of PORT. */
static __always_inline struct sipka_sock *track(void *sk, __u32 port, struct sipka_counters *c)
{
	struct sipka_sock *s = bpf_sk_storage_get(&sipka_sockets, sk, 0,
						  BPF_SK_STORAGE_GET_F_CREATE);

	if (!s) {
		add(c->errors, 1);
		return NULL;
	}
	s->born_ns = bpf_ktime_get_boot_ns();
	s->port = port;
	return s;
}

static void arm(struct bpf_sock_ops *skops, __u32 port)
{
	struct sipka_counters *c;
	struct sipka_rule r;
	struct bpf_sock *sk;
	int failed;

	c = rule_of(port, &r);
	sk = skops->sk;
	if (!c || !sk || !track(sk, port, c))
		return;
	failed = set_keepalive(skops, &r, false);
	if (failed < 0) {
		add(c->errors, -failed);
		bpf_sk_storage_delete(&sipka_sockets, sk);
		return;
	}
	if (failed)
		add(c->errors, failed);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					 BPF_SOCK_OPS_STATE_CB_FLAG);
	add(c->armed, 1);
	add(c->active, 1);
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
	return SIPKA_DEAD_RETRANSMIT;	/* retransmission limit or TCP_USER_TIMEOUT */
}

static void emit(struct bpf_sock_ops *skops, struct tcp_sock *tp, struct sipka_sock *s,
		 struct sipka_counters *c, enum sipka_reason reason)
{
	struct sipka_rule *r = bpf_map_lookup_elem(&sipka_config, &s->port);
	struct sipka_event *e;
	__u32 *local, *remote;

	if (reason == SIPKA_RESET && !(r && (r->flags & SIPKA_RULE_RESET_EVENTS)))
		return;
	e = bpf_ringbuf_reserve(&sipka_events, sizeof(*e), 0);
	if (!e) {	/* nobody reads, or too slowly: count, never wait */
		add(c->events_lost, 1);
		return;
	}
	e->time_ns = bpf_ktime_get_boot_ns();
	e->lifetime_ns = e->time_ns - s->born_ns;
	e->rule_port = s->port;
	e->local_port = skops->local_port;
	e->remote_port = bpf_ntohl(skops->remote_port);
	e->reason = reason;
	e->family = skops->family;
	e->probes = tp->inet_conn.icsk_probes_out;
	e->retransmits = tp->inet_conn.icsk_retransmits;
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

static void on_close(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	enum sipka_reason reason;
	struct sipka_counters *c;
	struct sipka_sock *s;
	struct tcp_sock *tp;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&sipka_sockets, sk, 0, 0);
	if (!s)
		return;
	c = bpf_map_lookup_elem(&sipka_stats, &s->port);
	tp = bpf_skc_to_tcp_sock(sk);
	if (c && tp) {
		reason = reason_of(tp);
		switch (reason) {
		case SIPKA_DEAD_KEEPALIVE:  add(c->dead_keepalive, 1); break;
		case SIPKA_DEAD_RETRANSMIT: add(c->dead_retransmit, 1); break;
		case SIPKA_RESET:	    add(c->reset, 1); break;
		case SIPKA_CLOSED:	    break;
		}
		add(c->closed, 1);
		add(c->active, -1);
		if (reason != SIPKA_CLOSED)
			emit(skops, tp, s, c, reason);
	}
	/* A closed socket can connect again: it must be armed afresh. */
	bpf_sk_storage_delete(&sipka_sockets, sk);
}

SEC("sockops")
int sipka_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:	/* accepted: our port */
		arm(skops, skops->local_port);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:	/* connected: their port */
		arm(skops, bpf_ntohl(skops->remote_port));
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			on_close(skops);
		break;
	}
	return 1;
}

/* Cgroups whose existing connections the iterator may arm: the attached ones
 * and their descendants, filled by the loader for one iteration. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPKA_MAX_CGROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} sipka_arm_cgroups SEC(".maps");

/*
 * Arms the connections that existed before sipka was attached, or retunes
 * armed ones to the current rule; one byte (enum sipka_existing) per
 * connection touched goes to the reader. A connection counts once in
 * armed/active, however often it is retuned.
 */
SEC("iter/tcp")
int sipka_existing(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sipka_counters *c;
	struct sipka_rule r;
	struct sipka_sock *s;
	struct tcp_sock *tp;
	struct sock *sk;
	__u32 port, remote;
	__u8 result;
	__u64 cgid;
	int failed, flags;

	if (!skc || skc->skc_state != TCP_ESTABLISHED)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);	/* full sockets only */
	if (!tp)
		return 0;
	sk = &tp->inet_conn.icsk_inet.sk;
	cgid = sk->sk_cgrp_data.cgroup->kn->id;
	if (!bpf_map_lookup_elem(&sipka_arm_cgroups, &cgid))
		return 0;
	/* Accepted on a rule port (local), or made to one (remote), as at
	 * establishment, which the iterator cannot see any more. */
	port = skc->skc_num;
	if (!bpf_map_lookup_elem(&sipka_config, &port)) {
		remote = bpf_ntohs(skc->skc_dport);
		port = remote;
	}
	c = rule_of(port, &r);
	if (!c)
		return 0;
	s = bpf_sk_storage_get(&sipka_sockets, sk, 0, 0);
	if (s) {
		failed = set_keepalive(sk, &r, true);
		result = SIPKA_EXISTING_RETUNED;
	} else {
		/* Close tracking first: without it, leave the connection alone. */
		flags = tp->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG;
		if (set_int(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, flags)) {
			add(c->errors, 1);
			result = SIPKA_EXISTING_FAILED;
			bpf_seq_write(ctx->meta->seq, &result, sizeof(result));
			return 0;
		}
		if (!track(sk, port, c))
			return 0;
		failed = set_keepalive(sk, &r, false);
		if (failed >= 0) {
			add(c->armed, 1);
			add(c->active, 1);
		} else {
			bpf_sk_storage_delete(&sipka_sockets, sk);
		}
		result = SIPKA_EXISTING_ARMED;
	}
	if (failed) {
		add(c->errors, failed < 0 ? -failed : failed);
		result = SIPKA_EXISTING_FAILED;
	}
	bpf_seq_write(ctx->meta->seq, &result, sizeof(result));
	return 0;
}
