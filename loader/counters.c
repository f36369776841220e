// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "maps.h"

/* The counters in SLOT, summed over every CPU into SUM. */
static int read_slot(int stats_fd, __u32 slot, struct sipka_counters *per_cpu, int ncpus,
		     struct sipka_counters *sum)
{
	size_t k, n = sizeof(*sum) / sizeof(__u64);
	int cpu;

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(stats_fd, &slot, per_cpu))
		return -errno;
	for (cpu = 0; cpu < ncpus; cpu++)
		for (k = 0; k < n; k++) /* active: +1 on one CPU, -1 on another */
			((__u64 *)sum)[k] += ((__u64 *)&per_cpu[cpu])[k];
	return 0;
}

int counters_all(int stats_fd, int slots_fd, struct port_counters *out)
{
	int ncpus = libbpf_num_possible_cpus(), n, err;
	__u32 *slots = malloc(SIPKA_PORTS * sizeof(*slots)), port;
	struct sipka_counters *per_cpu = NULL; /* 8-byte multiple: no padding */

	if (ncpus > 0)
		per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!slots || !per_cpu)
		n = -ENOMEM;
	else
		n = array_read(slots_fd, SIPKA_PORTS, sizeof(*slots), slots);
	/* Entry 0 counts the slots handed out: no port is 0. */
	for (port = 1; n >= 0 && port < SIPKA_PORTS && n < SIPKA_MAX_STATS; port++) {
		if (!counters_slot_valid(slots[port]))
			continue;
		out[n].port = port;
		err = read_slot(stats_fd, slots[port], per_cpu, ncpus, &out[n].c);
		n = err ? err : n + 1;
	}
	free(slots);
	free(per_cpu);
	return n;
}
