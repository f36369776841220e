// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for a connection sipka has no rule for (bench/churn.c, arm
 * "return"): a sock_ops program that does nothing, so what remains is what
 * the kernel pays to run any program on each callback.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("sockops")
int return_only(struct bpf_sock_ops *skops)
{
	(void)skops;
	return 1;
}
