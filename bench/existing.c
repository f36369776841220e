// SPDX-License-Identifier: GPL-2.0
/*
 * How 'sipka attach' arms connections that already exist: N connections are
 * made first (server end in CGROUP, in a network namespace of their own),
 * then sipka is attached; it reports how many it armed, and how long it took.
 *
 * Usage: existing SIPKA PIN_DIR CGROUP N    (bench/run sets these up)
 */
#include "common.h" /* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/wait.h>

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

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int up[2], down[2], i, n, fd, armed = -1, status;
	char cmd[8192], c;
	double t0, t1;
	struct rlimit rl;
	pid_t pid;

	if (argc != 5 || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: existing SIPKA PIN_DIR CGROUP N\n");
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

	if (write(down[1], "C", 1) != 1 || read(up[0], &armed, sizeof(armed)) != sizeof(armed))
		die("server");
	waitpid(pid, &status, 0);
	printf("existing connections: %d, armed by one attach: %d (%s)\n", n, armed,
	       armed == n ? "all" : "NOT ALL");
	printf("sipka attach took %.0f ms: %.1f us per connection (load, attach and iterator)\n",
	       (t1 - t0) * 1e3, (t1 - t0) * 1e6 / n);
	return armed == n ? 0 : 1;
}
