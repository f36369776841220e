// SPDX-License-Identifier: GPL-2.0
/*
 * N concurrent armed connections in one cgroup: the server ends in CGROUP,
 * spread over PROCS processes (one port each, 5060 up: RLIMIT_NOFILE), the
 * clients outside it. Prints sipka's armed and active counts against N, and
 * the memory sipka uses: the memlock of the program attached to CGROUP and
 * of each of its maps (fixed), and per armed connection what the maps grew
 * by plus the socket storage each armed socket carries (its sk_omem_alloc
 * against an unarmed one's, from ss -m). Then what a reading of the
 * phantoms gauge costs with the N connections (2N sockets) there: 'sipka
 * stats --prometheus', which walks the sockets, against 'sipka -j stats',
 * which reads the same maps without the walk (wall and CPU, median of 7).
 *
 * Usage: scale SIPKA PIN_DIR CGROUP N PROCS
 */
#include "common.h" /* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define PORT 5060

static void nofile(int n)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < (rlim_t)n + 64)
		die("RLIMIT_NOFILE too low for the connections of one process");
}

/* Holds N connections to or from PORT; says so on READY, then waits. */
static void side(bool server, const char *cgroup, int port, int n, int ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lst = -1, i, fd, one = 1;

	nofile(n);
	if (server) {
		join_cgroup(cgroup);
		lst = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lst, (void *)&a, sizeof(a)) || listen(lst, 4096))
			die("listen");
		if (write(ready, "L", 1) != 1)
			die("pipe");
	}
	for (i = 0; i < n; i++) {
		if (server) {
			fd = accept(lst, NULL, NULL);
		} else {
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd >= 0 && connect(fd, (void *)&a, sizeof(a)))
				fd = -1;
		}
		if (fd < 0)
			die(server ? "accept" : "connect");
	}
	if (write(ready, "A", 1) != 1)
		die("pipe");
	pause();
	exit(0);
}

/* The mean sk_omem_alloc of established sockets whose DIR ("sport": the
 * servers', "dport": the clients') is in [LO, HI], from ss -m (skmem "o"). */
static double omem(const char *dir, int lo, int hi)
{
	char cmd[256], line[1024], *o;
	double sum = 0;
	long n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ss -tmnH state established '( %s >= :%d and %s <= :%d )'", dir,
		 lo, dir, hi);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		o = strstr(line, ",o");
		if (o) {
			sum += atof(o + 2);
			n++;
		}
	}
	if (f)
		pclose(f);
	return n ? sum / n : 0;
}

/* Armed and active of ports PORT.. PORT+PROCS-1, from 'sipka -j stats'. */
static void counts(const char *sipka, const char *pin_dir, int procs, long *armed, long *active)
{
	char cmd[8192], line[65536], *row;
	long a, b;
	int port;
	FILE *f;

	*armed = *active = 0;
	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s -j stats", sipka, pin_dir);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		for (row = line; (row = strstr(row, "{\"port\":")); row++) {
			if (sscanf(row, "{\"port\":%d,%*[^,],\"armed\":%ld,\"active\":%ld", &port,
				   &a, &b) == 3 &&
			    port >= PORT && port < PORT + procs) {
				*armed += a;
				*active += b;
			}
		}
	}
	if (f)
		pclose(f);
}

/* The memlock fdinfo shows for a BPF object's FD (the kernel's estimate of
 * its memory, as bpftool shows it). */
static double cpu_ms(const struct rusage *r)
{
	return (r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e3 +
	       (r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e3;
}

/* The median wall and CPU (user + system of the child) milliseconds of
 * 'SIPKA --pin-dir PIN_DIR ARGS', output thrown away. */
static void reading_ms(const char *sipka, const char *pin_dir, const char *args, double *wall,
		       double *cpu)
{
	struct rusage before, after;
	double w[7], c[7], t0;
	char cmd[8192];
	int i;

	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s %s >/dev/null", sipka, pin_dir, args);
	for (i = 0; i < 7; i++) {
		getrusage(RUSAGE_CHILDREN, &before);
		t0 = now();
		if (system(cmd))
			die(args);
		w[i] = (now() - t0) * 1e3;
		getrusage(RUSAGE_CHILDREN, &after);
		c[i] = cpu_ms(&after) - cpu_ms(&before);
	}
	*wall = quantile(w, 7, 0.5);
	*cpu = quantile(c, 7, 0.5);
}

static long memlock_of(int fd)
{
	char path[64], line[256];
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "memlock: %ld", &v);
	if (f)
		fclose(f);
	return v;
}

#define MAX_MAPS 32

struct mem {
	long prog, maps, map[MAX_MAPS];
	int nmaps;
	struct bpf_map_info info[MAX_MAPS];
};

/* The memlock of the sock_ops program attached to CG and of its maps. */
static struct mem memory(const char *cg)
{
	__u32 ids[4], cnt = 4, flags = 0, map_ids[MAX_MAPS], len, key, inner;
	struct bpf_prog_info pi = { 0 };
	struct mem m = { 0 };
	int cgfd, fd, i;

	cgfd = open(cg, O_RDONLY | O_DIRECTORY);
	if (cgfd < 0 || bpf_prog_query(cgfd, BPF_CGROUP_SOCK_OPS, 0, &flags, ids, &cnt) || cnt != 1)
		die("the one sock_ops program attached to the cgroup");
	close(cgfd);
	fd = bpf_prog_get_fd_by_id(ids[0]);
	pi.nr_map_ids = MAX_MAPS;
	pi.map_ids = (__u64)(unsigned long)map_ids;
	len = sizeof(pi);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &pi, &len))
		die("prog info");
	m.prog = memlock_of(fd);
	close(fd);
	m.nmaps = pi.nr_map_ids < MAX_MAPS ? pi.nr_map_ids : MAX_MAPS;
	for (i = 0; i < m.nmaps; i++) {
		fd = bpf_map_get_fd_by_id(map_ids[i]);
		len = sizeof(m.info[i]);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &m.info[i], &len))
			die("map info");
		m.map[i] = memlock_of(fd);
		m.maps += m.map[i];
		/* The program names only the outer map of a map-in-map: its
		 * inner maps (an array's, key 0 up) are listed after it. */
		if (m.info[i].type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
			for (key = 0; key < m.info[i].max_entries && m.nmaps < MAX_MAPS; key++)
				if (!bpf_map_lookup_elem(fd, &key, &inner))
					map_ids[m.nmaps++] = inner;
		close(fd);
	}
	return m;
}

int main(int argc, char **argv)
{
	int n, procs, per, k, pipes[2], i;
	long armed, active, armed0, active0;
	double armed_omem, plain_omem, grew;
	struct mem m0, m1;
	pid_t *pids;
	FILE *f;
	char c;

	if (argc != 6 || (n = atoi(argv[4])) <= 0 || (procs = atoi(argv[5])) <= 0) {
		fprintf(stderr, "usage: scale SIPKA PIN_DIR CGROUP N PROCS\n");
		return 2;
	}
	per = n / procs;
	for (i = 0; i < 50; i++) { /* a run before may still be closing */
		counts(argv[1], argv[2], procs, &armed0, &active0);
		if (!active0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	if (active0) {
		fprintf(stderr, "scale: %ld connections on ports %d.. are open already\n", active0,
			PORT);
		return 2;
	}
	m0 = memory(argv[3]);
	private_loopback();
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w"); /* this netns only */
	if (!f || fprintf(f, "1024 65535\n") < 0 || fclose(f))
		die("ip_local_port_range");
	if (pipe(pipes))
		die("pipe");
	pids = calloc(2 * procs, sizeof(*pids));
	/* Every listener first: a client's ephemeral port could take a later one's. */
	for (k = 0; k < procs; k++) {
		if (!(pids[2 * k] = fork()))
			side(true, argv[3], PORT + k, per, pipes[1]);
		if (read(pipes[0], &c, 1) != 1)
			die("server");
	}
	for (k = 0; k < procs; k++)
		if (!(pids[2 * k + 1] = fork()))
			side(false, argv[3], PORT + k, per, pipes[1]);
	for (i = 0; i < 2 * procs; i++)
		if (read(pipes[0], &c, 1) != 1)
			die("a side failed");

	counts(argv[1], argv[2], procs, &armed, &active);
	armed -= armed0; /* only this run's; active starts at 0 */
	m1 = memory(argv[3]);

	printf("connections held: %d (%d processes x %d, server ends in the cgroup)\n", per * procs,
	       procs, per);
	printf("sipka: armed %ld, active %ld (%s)\n", armed, active,
	       armed == per * procs && active == per * procs ? "exact" : "NOT EXACT");
	printf("memlock before the connections: program %ld bytes, maps %ld bytes:\n", m0.prog,
	       m0.maps);
	printf("  %-16s %-13s %8s %11s %9s %9s %12s\n", "map", "type", "entries", "key+value",
	       "memlock", "per entry", "with the N");
	for (i = 0; i < m0.nmaps; i++) {
		printf("  %-16s %-13s %8u %5u+%-5u %9ld", m0.info[i].name,
		       libbpf_bpf_map_type_str(m0.info[i].type), m0.info[i].max_entries,
		       m0.info[i].key_size, m0.info[i].value_size, m0.map[i]);
		/* A ring buffer's max_entries are bytes, a socket storage's 0. */
		if (m0.info[i].type != BPF_MAP_TYPE_RINGBUF && m0.info[i].max_entries)
			printf(" %9.0f", (double)m0.map[i] / m0.info[i].max_entries);
		else
			printf(" %9s", "-");
		printf(" %12ld\n", i < m1.nmaps ? m1.map[i] : -1);
	}
	grew = (double)(m1.maps - m0.maps) / (per * procs);
	armed_omem = omem("sport", PORT, PORT + procs - 1);
	plain_omem = omem("dport", PORT, PORT + procs - 1);
	printf("per armed connection: maps grew %.1f bytes; socket storage (sk_omem_alloc, armed %.0f - unarmed %.0f) %+.0f bytes; in all %.0f bytes\n",
	       grew, armed_omem, plain_omem, armed_omem - plain_omem,
	       grew + armed_omem - plain_omem);
	{
		double pw, pc, jw, jc;

		reading_ms(argv[1], argv[2], "stats --prometheus", &pw, &pc);
		reading_ms(argv[1], argv[2], "-j stats", &jw, &jc);
		printf("a reading of the phantoms gauge with %d sockets (stats --prometheus, median of 7): %.1f ms wall, %.1f ms CPU; without the walk (-j stats) %.1f ms wall, %.1f ms CPU: the walk %+.1f ms wall, %+.1f ms CPU, %.2f us CPU per socket\n",
		       2 * per * procs, pw, pc, jw, jc, pw - jw, pc - jc,
		       (pc - jc) * 1e3 / (2 * per * procs));
	}
	for (i = 0; i < 2 * procs; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return armed == per * procs && active == per * procs ? 0 : 1;
}
