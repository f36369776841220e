// SPDX-License-Identifier: GPL-2.0
/*
 * How 'sipka attach' arms connections that already exist: N connections are
 * made first (server end in CGROUP, in a network namespace of their own; each
 * side spread over processes when N is more than RLIMIT_NOFILE allows one),
 * then sipka is attached; it reports how many it armed, and how long it took,
 * against TARGET_MS when given. With "list", 'sipka connections' then lists
 * them, as a table and as JSON: its time and peak memory (the child's
 * ru_maxrss) against TARGET_MS and TARGET_MB, and every connection listed.
 *
 * Usage: existing SIPKA PIN_DIR CGROUP N [TARGET_MS [list TARGET_MS TARGET_MB]]
 *        (bench/run sets these up)
 */
#include "child.h" /* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

#define PORT 5060

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

/* Connections a process holds at most: RLIMIT_NOFILE's hard limit may not
 * be raised (no CAP_SYS_RESOURCE in a container). */
static int per_process(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	return rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur - 64;
}

/* The K-th of PROCS shares of N. */
static int share(int n, int procs, int k)
{
	return n / procs + (k < n % procs);
}

/* The PBX: listens in CGROUP; PROCS processes accept N connections between
 * them, say so with an 'A' each, and on a byte from the parent count those
 * armed (an int each). */
static void server(const char *cgroup, int n, int procs, int to_parent, int from_parent)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lst, *fds, i, k, m, armed = 0, one = 1;
	char cmd;

	join_cgroup(cgroup); /* the accepted sockets are the listener's cgroup's */
	lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lst, (void *)&a, sizeof(a)) || listen(lst, 4096))
		die("listen");
	if (write(to_parent, "L", 1) != 1)
		die("pipe");
	for (k = 0; k < procs; k++) {
		if (fork())
			continue;
		m = share(n, procs, k);
		fds = calloc(m, sizeof(*fds));
		for (i = 0; fds && i < m; i++)
			if ((fds[i] = accept(lst, NULL, NULL)) < 0)
				die("accept");
		if (!fds || write(to_parent, "A", 1) != 1 || read(from_parent, &cmd, 1) != 1)
			die("pipe");
		for (i = 0; i < m; i++)
			armed += opt(fds[i], SOL_SOCKET, SO_KEEPALIVE) == 1 &&
				 opt(fds[i], IPPROTO_TCP, TCP_KEEPIDLE) == 60 &&
				 opt(fds[i], IPPROTO_TCP, TCP_KEEPINTVL) == 10 &&
				 opt(fds[i], IPPROTO_TCP, TCP_KEEPCNT) == 3;
		if (write(to_parent, &armed, sizeof(armed)) != sizeof(armed))
			die("pipe");
		exit(0);
	}
	while (wait(NULL) > 0)
		;
	exit(0);
}

/* A phone process, outside the cgroup: connects M times, says so with an
 * 'a', and holds them until killed. */
static void phones(int m, int to_parent)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int i, fd;

	for (i = 0; i < m; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
			die("connect");
	}
	if (write(to_parent, "a", 1) != 1)
		die("pipe");
	pause();
	exit(0);
}

/* SIPKA --pin-dir PIN_DIR [-j] connections: says its time and peak memory
 * against the targets; returns the connections it listed (the table's lines
 * but its head; the JSON's records), or -1 if it failed. */
static long listing(const char *sipka, const char *pin_dir, bool json, double target_ms,
		    double target_mb)
{
	const char *argv[] = { sipka,
			       "--pin-dir",
			       pin_dir,
			       json ? "-j" : "connections",
			       json ? "connections" : NULL,
			       NULL };
	struct child c = child_run(argv, json ? "\"remote_addr\"" : "\n");
	long listed = json ? c.keys : c.keys - 1;

	printf("sipka %sconnections: %.0f ms (%.1f us per connection), peak memory %.1f MB (ru_maxrss), %ld bytes\n",
	       json ? "-j " : "", c.ms, c.ms * 1e3 / (listed > 0 ? listed : 1), c.mb, c.bytes);
	printf("  target: under %.0f ms and %.0f MB: %s\n", target_ms, target_mb,
	       c.ms < target_ms && c.mb < target_mb ? "PASS" : "MISS");
	return c.ok ? listed : -1;
}

int main(int argc, char **argv)
{
	int up[2], down[2], i, n, procs, got, armed = 0, listed = 1;
	double t0, t1, target_ms = argc > 5 ? atof(argv[5]) : 0;
	bool list = argc == 9 && !strcmp(argv[6], "list");
	pid_t pid, *clients;
	char cmd[8192], c;
	FILE *f;

	if ((argc != 5 && argc != 6 && !list) || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr,
			"usage: existing SIPKA PIN_DIR CGROUP N [TARGET_MS [list TARGET_MS TARGET_MB]]\n");
		return 2;
	}
	/* Each side's N sockets spread over as many processes as the fd limit asks. */
	procs = (n + per_process() - 1) / per_process();
	clients = calloc(procs, sizeof(*clients));
	private_loopback();
	/* This netns only: room for more than the default range's 28,232 ephemeral ports. */
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
	if (!clients || !f || fprintf(f, "1024 65535\n") < 0 || fclose(f))
		die("ip_local_port_range");
	if (pipe(up) || pipe(down))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		server(argv[3], n, procs, up[1], down[0]);
	if (read(up[0], &c, 1) != 1)
		die("server");
	for (i = 0; i < procs; i++)
		if (!(clients[i] = fork()))
			phones(share(n, procs, i), up[1]);
	for (i = 0; i < 2 * procs; i++) /* each acceptor's 'A', each phone process's 'a' */
		if (read(up[0], &c, 1) != 1)
			die("a side failed");

	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s attach --cgroup %s", argv[1], argv[2], argv[3]);
	t0 = now();
	if (system(cmd))
		die("sipka attach");
	t1 = now();
	/* While they are all still open: armed and active must both be N. */
	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s stats", argv[1], argv[2]);
	fflush(stdout);
	if (system(cmd))
		die("sipka stats");

	if (list) { /* a table line each, and its head; a JSON record each */
		listed = listing(argv[1], argv[2], false, atof(argv[7]), atof(argv[8])) == n;
		listed &= listing(argv[1], argv[2], true, atof(argv[7]), atof(argv[8])) == n;
		printf("connections listed: %s\n",
		       listed ? "all, a line or record each" : "NOT ALL");
	}
	for (i = 0; i < procs; i++) {
		if (write(down[1], "C", 1) != 1 || read(up[0], &got, sizeof(got)) != sizeof(got))
			die("server");
		armed += got;
	}
	waitpid(pid, NULL, 0);
	for (i = 0; i < procs; i++)
		kill(clients[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	printf("existing connections: %d (%d processes a side), armed by one attach: %d (%s)\n", n,
	       procs, armed, armed == n ? "all" : "NOT ALL");
	printf("sipka attach took %.0f ms: %.1f us per connection (load, attach and iterator)\n",
	       (t1 - t0) * 1e3, (t1 - t0) * 1e6 / n);
	if (target_ms)
		printf("  target: one attach under %.0f ms: %s\n", target_ms,
		       (t1 - t0) * 1e3 < target_ms ? "PASS" : "MISS");
	return armed == n && listed ? 0 : 1;
}
