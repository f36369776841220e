// SPDX-License-Identifier: GPL-2.0
/*
 * A yardstick for bench/churn.c (arm "bare"): a bare keepalive-only sock_ops program,
 * the least a keepalive tool can do (one port, fixed values, no maps, no
 * counters, no close tracking).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/uapi.h"

char LICENSE[] SEC("license") = "GPL";

static void set(struct bpf_sock_ops *skops, int level, int opt, int val)
{
	bpf_setsockopt(skops, level, opt, &val, sizeof(val));
}

SEC("sockops")
int bare_keepalive(struct bpf_sock_ops *skops)
{
	if ((skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB && skops->local_port == 5060) ||
	    (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	     bpf_ntohl(skops->remote_port) == 5060)) {
		set(skops, SOL_TCP, TCP_KEEPIDLE, 60);
		set(skops, SOL_TCP, TCP_KEEPINTVL, 10);
		set(skops, SOL_TCP, TCP_KEEPCNT, 3);
		set(skops, SOL_SOCKET, SO_KEEPALIVE, 1);
	}
	return 1;
}
