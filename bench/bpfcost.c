// SPDX-License-Identifier: GPL-2.0
/*
 * What a sock_ops program costs per invocation, from the kernel's BPF
 * run-time statistics (BPF_ENABLE_STATS: run_time_ns / run_cnt), split by
 * phase: N connections set up (ESTABLISHED and the other setup callbacks),
 * then closed (state callbacks of armed sockets). Both ends are in CGROUP.
 *
 * Usage: bpfcost sipka PROG_PIN CGROUP N   (sipka attached by the caller)
 *        bpfcost bare  BARE_OBJ CGROUP N   (loads and attaches bare.bpf.o)
 */
#include "common.h"	/* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>

#define PORT 5060

struct sample {
	__u64 ns, cnt;
};

static struct sample stats(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct sample s;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		die("prog info");
	s.ns = info.run_time_ns;
	s.cnt = info.run_cnt;
	return s;
}

static void report(const char *phase, struct sample a, struct sample b)
{
	__u64 cnt = b.cnt - a.cnt, ns = b.ns - a.ns;

	printf("%s %llu %.1f\n", phase, (unsigned long long)cnt, cnt ? (double)ns / cnt : 0.0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct bpf_object *obj = NULL;
	struct bpf_link *link = NULL;
	struct sample s0, s1, s2;
	int prog_fd, stats_fd, lst, cg, n, i, one = 1;
	int *clients, *servers;
	struct rlimit rl;

	if (argc != 5 || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: bpfcost sipka|bare PROG_PIN|BARE_OBJ CGROUP N\n");
		return 2;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)2 * n + 64 > rl.rlim_cur) {
		fprintf(stderr, "bpfcost: N too large for RLIMIT_NOFILE %lu\n", (unsigned long)rl.rlim_cur);
		return 2;
	}
	if (!strcmp(argv[1], "bare")) {
		obj = bpf_object__open_file(argv[2], NULL);
		if (!obj || bpf_object__load(obj))
			die("loading the bare program");
		cg = open(argv[3], O_RDONLY | O_DIRECTORY);
		link = bpf_program__attach_cgroup(bpf_object__next_program(obj, NULL), cg);
		if (!link)
			die("attaching the bare program");
		prog_fd = bpf_program__fd(bpf_object__next_program(obj, NULL));
	} else {
		prog_fd = bpf_obj_get(argv[2]);
		if (prog_fd < 0)
			die("sipka's pinned program");
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		die("BPF_ENABLE_STATS");
	join_cgroup(argv[3]);
	private_loopback();

	clients = calloc(n, sizeof(int));
	servers = calloc(n, sizeof(int));
	lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!clients || !servers || bind(lst, (void *)&a, sizeof(a)) || listen(lst, 4096))
		die("listen");

	s0 = stats(prog_fd);
	for (i = 0; i < n; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (clients[i] < 0 || connect(clients[i], (void *)&a, sizeof(a)))
			die("connect");
		servers[i] = accept(lst, NULL, NULL);
		if (servers[i] < 0)
			die("accept");
	}
	s1 = stats(prog_fd);
	for (i = 0; i < n; i++) {
		close(clients[i]);
		close(servers[i]);
	}
	usleep(200000);		/* the last FINs and ACKs */
	s2 = stats(prog_fd);
	report("setup", s0, s1);
	report("close", s1, s2);
	report("all", s0, s2);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	close(stats_fd);
	return 0;
}
