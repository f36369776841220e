// SPDX-License-Identifier: GPL-2.0
/*
 * sipka stats at its largest: NPORTS rule ports with counters, one armed
 * connection each. A rule set holds at most SIPKA_MAX_RULES (256) rules, and
 * a port's counters stay after its rule goes (until detach), so the rule
 * ports come in rounds of up to 250: each round's rule set loaded, then a
 * connection made to each of its ports (the server end in CGROUP, in a network
 * namespace of our own). Then 'sipka stats', 'sipka -j stats' and 'sipka
 * stats --prometheus' are run: their time and peak memory against TARGET_MS
 * and TARGET_MB, and every port in each with armed 1 and active 1.
 *
 * Usage: ports SIPKA PIN_DIR CGROUP NPORTS BASE TARGET_MS TARGET_MB
 */
#include "child.h" /* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>

#define ROUND 250

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return a;
}

/* The PBX: listens on every port, says so on READY, accepts one connection
 * on each in order, and holds them. */
static void server(const char *cgroup, int base, int nports, int ready)
{
	int *lst = calloc(nports, sizeof(*lst)), i, one = 1;
	struct sockaddr_in a;

	join_cgroup(cgroup);
	for (i = 0; lst && i < nports; i++) {
		a = loopback(base + i);
		lst[i] = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lst[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (lst[i] < 0 || bind(lst[i], (void *)&a, sizeof(a)) || listen(lst[i], 8))
			die("listen");
	}
	if (!lst || write(ready, "L", 1) != 1)
		die("server");
	for (i = 0; i < nports; i++)
		if (accept(lst[i], NULL, NULL) < 0)
			die("accept");
	pause();
	exit(0);
}

/* sipka config load with the rules of ports FROM..TO-1. */
static void load_rules(const char *sipka, const char *pin_dir, int from, int to)
{
	char path[] = "/tmp/sipka-bench-ports-XXXXXX", cmd[8192];
	int fd = mkstemp(path), port;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f)
		die("config file");
	for (port = from; port < to; port++)
		fprintf(f, "[p%d]\nport = %d\n", port, port);
	if (fclose(f))
		die("config file");
	snprintf(cmd, sizeof(cmd), "%s --pin-dir %s config load %s >/dev/null", sipka, pin_dir,
		 path);
	if (system(cmd))
		die("sipka config load");
	unlink(path);
}

/* Runs ARGV, a 'sipka stats', counting KEY in its output: says its time and
 * peak memory against the targets; returns the count, or -1 if it failed. */
static long stats(const char *const argv[], const char *what, const char *key, double target_ms,
		  double target_mb)
{
	struct child c = child_run(argv, key);

	printf("sipka %-20s %4.0f ms, peak memory %5.1f MB (ru_maxrss), %7ld bytes, %ld rows\n",
	       what, c.ms, c.mb, c.bytes, c.keys);
	printf("  target: under %.0f ms and %.0f MB: %s\n", target_ms, target_mb,
	       c.ms < target_ms && c.mb < target_mb ? "PASS" : "MISS");
	return c.ok ? c.keys : -1;
}

int main(int argc, char **argv)
{
	int nports, base, pipes[2], i, from, to, fd, all;
	double target_ms, target_mb;
	struct sockaddr_in a;
	struct rlimit rl;
	char c;
	pid_t pid;

	if (argc != 8 || (nports = atoi(argv[4])) <= 0 || (base = atoi(argv[5])) <= 0) {
		fprintf(stderr,
			"usage: ports SIPKA PIN_DIR CGROUP NPORTS BASE TARGET_MS TARGET_MB\n");
		return 2;
	}
	target_ms = atof(argv[6]);
	target_mb = atof(argv[7]);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < (rlim_t)2 * nports + 64)
		die("RLIMIT_NOFILE too low");
	private_loopback();
	if (pipe(pipes))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		server(argv[3], base, nports, pipes[1]);
	if (read(pipes[0], &c, 1) != 1)
		die("server");
	for (from = base; from < base + nports; from = to) {
		to = from + ROUND < base + nports ? from + ROUND : base + nports;
		load_rules(argv[1], argv[2], from, to);
		for (i = from; i < to; i++) { /* the phones, outside the cgroup */
			a = loopback(i);
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
				die("connect");
		}
	}
	printf("rule ports with counters: %d (in rounds of %d rules; the last round's rules live)\n",
	       nports, ROUND);
	/* Each port's row, counted where it says armed 1, active 1. */
	{
		const char *table[] = { argv[1], "--pin-dir", argv[2], "stats", NULL };
		const char *json[] = { argv[1], "--pin-dir", argv[2], "-j", "stats", NULL };
		const char *prom[] = {
			argv[1], "--pin-dir", argv[2], "stats", "--prometheus", NULL
		};
		long t = stats(table, "stats", "\n", target_ms, target_mb);
		long j = stats(json, "-j stats", "\"armed\":1,\"active\":1,", target_ms, target_mb);
		long p = stats(prom, "stats --prometheus", "sipka_connections_armed_total{",
			       target_ms, target_mb);

		/* The table: a head and a line per port; the metrics: a sample per port. */
		all = t == nports + 1 && j == nports && p == nports;
		printf("every port in each, armed 1 and active 1 (-j): %s\n", all ? "yes" : "NO");
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return all ? 0 : 1;
}
