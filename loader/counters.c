// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"

int counters_read(int stats_fd, __u32 port, struct sipka_counters *sum)
{
	int ncpus = libbpf_num_possible_cpus(), cpu, ret;
	struct sipka_counters *per_cpu;
	size_t k, n = sizeof(*sum) / sizeof(__u64);

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return -1;
	per_cpu = calloc(ncpus, sizeof(*per_cpu)); /* 8-byte multiple: no padding */
	if (!per_cpu)
		return -1;
	ret = bpf_map_lookup_elem(stats_fd, &port, per_cpu);
	for (cpu = 0; !ret && cpu < ncpus; cpu++)
		for (k = 0; k < n; k++)
			((__u64 *)sum)[k] +=
				((__u64 *)&per_cpu[cpu])[k]; /* active: +1 here, -1 there */
	free(per_cpu);
	return ret;
}
