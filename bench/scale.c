// SPDX-License-Identifier: GPL-2.0
/*
 * N concurrent armed connections in one cgroup: the server ends in CGROUP,
 * spread over PROCS processes (one port each, 5060 up: RLIMIT_NOFILE), the
 * clients outside it. Prints sipka's armed and active counts against N, and
 * the memory sipka uses: its maps' memlock and the socket storage each armed
 * socket carries (its sk_omem_alloc against an unarmed one's, from ss -m).
 *
 * Usage: scale SIPKA PIN_DIR CGROUP N PROCS
 */
#include "common.h"	/* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <bpf/bpf.h>
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
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
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

	snprintf(cmd, sizeof(cmd), "ss -tmnH state established '( %s >= :%d and %s <= :%d )'",
		 dir, lo, dir, hi);
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
			if (sscanf(row, "{\"port\":%d,%*[^,],\"armed\":%ld,\"active\":%ld", &port, &a, &b) == 3 &&
			    port >= PORT && port < PORT + procs) {
				*armed += a;
				*active += b;
			}
		}
	}
	if (f)
		pclose(f);
}

static long memlock(const char *pin_dir, const char *name)
{
	char path[4096], line[256];
	long v = 0;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "memlock: %ld", &v);
	if (f)
		fclose(f);
	close(fd);
	return v;
}

int main(int argc, char **argv)
{
	int n, procs, per, k, pipes[2], i;
	long armed, active, armed0, active0, maps = 0;
	double armed_omem, plain_omem;
	const char *maps_names[] = { "config", "stats", "sockets", "events" };
	pid_t *pids;
	FILE *f;
	char c;

	if (argc != 6 || (n = atoi(argv[4])) <= 0 || (procs = atoi(argv[5])) <= 0) {
		fprintf(stderr, "usage: scale SIPKA PIN_DIR CGROUP N PROCS\n");
		return 2;
	}
	per = n / procs;
	for (i = 0; i < 50; i++) {	/* a run before may still be closing */
		counts(argv[1], argv[2], procs, &armed0, &active0);
		if (!active0)
			break;
		usleep(100000);
	}
	if (active0) {
		fprintf(stderr, "scale: %ld connections on ports %d.. are open already\n", active0, PORT);
		return 2;
	}
	private_loopback();
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");	/* this netns only */
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
	armed -= armed0;	/* only this run's; active starts at 0 */
	for (i = 0; i < 4; i++)
		maps += memlock(argv[2], maps_names[i]);

	printf("connections held: %d (%d processes x %d, server ends in the cgroup)\n", per * procs, procs, per);
	printf("sipka: armed %ld, active %ld (%s)\n", armed, active,
	       armed == per * procs && active == per * procs ? "exact" : "NOT EXACT");
	printf("maps' memlock: %ld bytes in all, %.1f bytes per connection\n", maps, (double)maps / (per * procs));
	armed_omem = omem("sport", PORT, PORT + procs - 1);
	plain_omem = omem("dport", PORT, PORT + procs - 1);
	printf("socket storage: sk_omem_alloc %.0f bytes per armed socket, %.0f per unarmed one: %+.0f bytes\n",
	       armed_omem, plain_omem, armed_omem - plain_omem);
	for (i = 0; i < 2 * procs; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return armed == per * procs && active == per * procs ? 0 : 1;
}
