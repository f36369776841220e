// SPDX-License-Identifier: GPL-2.0
/*
 * sipka: arm TCP keepalive on SIP connections and count how they end.
 *
 * Runs on every TCP callback of the cgroup, so the common case (a socket
 * with no rule) is one map lookup; only armed sockets ask for state
 * callbacks, and only their move to TCP_CLOSE does any work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sipka.h"

/* vmlinux.h carries types, not the UAPI macros. */
#define SOL_SOCKET		1
#define SOL_TCP			6
#define SO_KEEPALIVE		9
#define TCP_KEEPIDLE		4
#define TCP_KEEPINTVL		5
#define TCP_KEEPCNT		6
#define TCP_USER_TIMEOUT	18
#define EPIPE			32
#define ECONNRESET		104

char LICENSE[] SEC("license") = "GPL";

/* "config" is a typedef in vmlinux.h: the C name differs, the pin is "config". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPKA_MAX_RULES);
	__type(key, __u32);
	__type(value, struct sipka_rule);
} sipka_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
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

static int set_int(struct bpf_sock_ops *skops, int level, int opt, int val)
{
	return bpf_setsockopt(skops, level, opt, &val, sizeof(val));
}

static void arm(struct bpf_sock_ops *skops, __u32 port)
{
	struct sipka_rule *live = bpf_map_lookup_elem(&sipka_config, &port);
	struct sipka_counters *c;
	struct sipka_sock *s;
	struct sipka_rule r;
	struct bpf_sock *sk;
	int failed;

	if (!live)
		return;
	c = counters(port);
	if (!c)
		return;
	r = *live;	/* one consistent copy, even if ops rewrite it now */
	/* A value the kernel refuses (set by hand with bpftool) leaves the
	 * connection as it was: half a rule is worse than none. */
	if (!sipka_rule_valid(&r)) {
		add(c->errors, 1);
		return;
	}
	sk = skops->sk;
	if (!sk)
		return;
	s = bpf_sk_storage_get(&sipka_sockets, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		add(c->errors, 1);
		return;
	}
	s->born_ns = bpf_ktime_get_ns();
	s->port = port;

	failed = !!set_int(skops, SOL_TCP, TCP_KEEPIDLE, r.time);
	failed += !!set_int(skops, SOL_TCP, TCP_KEEPINTVL, r.intvl);
	failed += !!set_int(skops, SOL_TCP, TCP_KEEPCNT, r.probes);
	if (r.user_timeout_ms)
		failed += !!set_int(skops, SOL_TCP, TCP_USER_TIMEOUT, r.user_timeout_ms);
	if (set_int(skops, SOL_SOCKET, SO_KEEPALIVE, 1)) {
		add(c->errors, failed + 1);
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
static void on_close(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct sipka_counters *c;
	struct sipka_sock *s;
	struct tcp_sock *tp;
	int err;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&sipka_sockets, sk, 0, 0);
	if (!s)
		return;
	c = bpf_map_lookup_elem(&sipka_stats, &s->port);
	tp = bpf_skc_to_tcp_sock(sk);
	if (c && tp) {
		err = tp->inet_conn.icsk_inet.sk.sk_err;
		if (err == ECONNRESET || err == EPIPE)
			add(c->reset, 1);
		else if (err && tp->inet_conn.icsk_probes_out &&
			 !tp->inet_conn.icsk_retransmits)
			add(c->dead_keepalive, 1);
		else if (err)
			/* retransmission limit or TCP_USER_TIMEOUT */
			add(c->dead_retransmit, 1);
		add(c->closed, 1);
		add(c->active, -1);
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
