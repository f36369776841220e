// SPDX-License-Identifier: GPL-2.0
/*
 * How 'sipka attach' arms connections that already exist: N connections are
 * made first (server end in CGROUP, in a network namespace of their own),
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

#define PORT 5060

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

/* The PBX: accepts N connections in CGROUP, then counts those armed. */
static void server(const char *cgroup, int n, int to_parent, int from_parent)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lst, *fds, i, armed = 0, one = 1;
	char cmd;

	join_cgroup(cgroup);
	fds = calloc(n, sizeof(*fds));
	lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!fds || bind(lst, (void *)&a, sizeof(a)) || listen(lst, 4096))
		die("listen");
	if (write(to_parent, "L", 1) != 1)
		die("pipe");
	for (i = 0; i < n; i++)
		if ((fds[i] = accept(lst, NULL, NULL)) < 0)
			die("accept");
	if (write(to_parent, "A", 1) != 1 || read(from_parent, &cmd, 1) != 1)
		die("pipe");
	for (i = 0; i < n; i++)
		armed += opt(fds[i], SOL_SOCKET, SO_KEEPALIVE) == 1 &&
			 opt(fds[i], IPPROTO_TCP, TCP_KEEPIDLE) == 60 &&
			 opt(fds[i], IPPROTO_TCP, TCP_KEEPINTVL) == 10 &&
			 opt(fds[i], IPPROTO_TCP, TCP_KEEPCNT) == 3;
	if (write(to_parent, &armed, sizeof(armed)) != sizeof(armed))
		die("pipe");
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
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int up[2], down[2], i, n, fd, armed = -1, status, listed = 1;
	double t0, t1, target_ms = argc > 5 ? atof(argv[5]) : 0;
	bool list = argc == 9 && !strcmp(argv[6], "list");
	char cmd[8192], c;
	FILE *f;
	struct rlimit rl;
	pid_t pid;

	if ((argc != 5 && argc != 6 && !list) || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr,
			"usage: existing SIPKA PIN_DIR CGROUP N [TARGET_MS [list TARGET_MS TARGET_MB]]\n");
		return 2;
	}
	/* Each side holds N sockets, in its own process. */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	if (rl.rlim_max < (rlim_t)n + 64) {
		rl.rlim_max = n + 64; /* needs CAP_SYS_RESOURCE */
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("raising RLIMIT_NOFILE");
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	private_loopback();
	/* This netns only: room for more than the default range's 28,232 ephemeral ports. */
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
	if (!f || fprintf(f, "1024 65535\n") < 0 || fclose(f))
		die("ip_local_port_range");
	if (pipe(up) || pipe(down))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		server(argv[3], n, up[1], down[0]);
	if (read(up[0], &c, 1) != 1)
		die("server");
	for (i = 0; i < n; i++) { /* the phones, outside the cgroup */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
			die("connect");
	}
	if (read(up[0], &c, 1) != 1)
		die("server");

	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s attach --cgroup %s", argv[1], argv[2], argv[3]);
	t0 = now();
	if (system(cmd))
		die("sipka attach");
	t1 = now();
	/* While they are all still open: armed and active must both be N. */
	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s stats", argv[1], argv[2]);
	if (system(cmd))
		die("sipka stats");

	if (list) { /* a table line each, and its head; one JSON array, a line each */
		listed = listing(argv[1], argv[2], false, atof(argv[7]), atof(argv[8])) == n;
		listed &= listing(argv[1], argv[2], true, atof(argv[7]), atof(argv[8])) == n;
		printf("connections listed: %s\n", listed ? "all, a line each" : "NOT ALL");
	}
	if (write(down[1], "C", 1) != 1 || read(up[0], &armed, sizeof(armed)) != sizeof(armed))
		die("server");
	waitpid(pid, &status, 0);
	printf("existing connections: %d, armed by one attach: %d (%s)\n", n, armed,
	       armed == n ? "all" : "NOT ALL");
	printf("sipka attach took %.0f ms: %.1f us per connection (load, attach and iterator)\n",
	       (t1 - t0) * 1e3, (t1 - t0) * 1e6 / n);
	if (target_ms)
		printf("  target: one attach under %.0f ms: %s\n", target_ms,
		       (t1 - t0) * 1e3 < target_ms ? "PASS" : "MISS");
	return armed == n && listed ? 0 : 1;
}
