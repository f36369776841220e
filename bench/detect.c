// SPDX-License-Identifier: GPL-2.0
/*
 * Detection precision: N idle phones (connections from the PHONE network
 * namespace to a PBX in CGROUP and the PBX namespace) are black-holed at
 * once; each death event is compared with the bound time + intvl x probes
 * after that phone's last packet (its connection's establishment).
 *
 * Usage: detect SIPKA PIN_DIR CGROUP PBX_NETNS PHONE_NETNS N BOUND_S
 */
#include "common.h" /* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>

#define PORT 5060

static void enter(const char *netns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die(path);
	close(fd);
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "2026-11-22T17:03:12.123+01:00" to seconds since the epoch. */
static double iso8601(const char *s)
{
	int y, mo, d, h, mi, sec, ms, oh, om;
	char sign;
	struct tm tm = { 0 };

	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%d%c%d:%d", &y, &mo, &d, &h, &mi, &sec, &ms, &sign, &oh,
		   &om) != 10)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm) + ms / 1e3 - (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	double *born, *late, bound, seen;
	int n, i, k, got = 0, ready[2], lst, fd, one = 1;
	char cmd[8192], line[1024], *p;
	unsigned short *ports;
	struct sockaddr_in me;
	socklen_t len;
	pid_t pbx;
	FILE *f;

	if (argc != 8 || (n = atoi(argv[6])) <= 0) {
		fprintf(stderr,
			"usage: detect SIPKA PIN_DIR CGROUP PBX_NETNS PHONE_NETNS N BOUND_S\n");
		return 2;
	}
	bound = atof(argv[7]);
	inet_pton(AF_INET, "198.18.0.1", &a.sin_addr);
	if (pipe(ready))
		die("pipe");
	pbx = fork();
	if (!pbx) { /* the PBX: accepts and holds, silent */
		join_cgroup(argv[3]);
		enter(argv[4]);
		lst = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lst, (void *)&a, sizeof(a)) || listen(lst, 4096))
			die("listen");
		if (write(ready[1], "L", 1) != 1)
			die("pipe");
		for (i = 0; i < n; i++)
			if (accept(lst, NULL, NULL) < 0)
				die("accept");
		pause();
		exit(0);
	}
	if (read(ready[0], cmd, 1) != 1)
		die("pbx");
	enter(argv[5]);
	born = calloc(n, sizeof(*born));
	late = calloc(n, sizeof(*late));
	ports = calloc(n, sizeof(*ports));
	for (i = 0; i < n; i++) {
		born[i] = wall(); /* no later than the PBX's last packet from it */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
			die("connect");
		len = sizeof(me);
		getsockname(fd, (void *)&me, &len);
		ports[i] = ntohs(me.sin_port);
	}
	/* The NAT forgets them all at once. */
	f = popen("nft -f -", "w");
	if (!f)
		die("nft");
	fprintf(f, "table inet sipka_bench_bh {\n"
		   " chain in { type filter hook input priority 0; policy drop; }\n"
		   " chain out { type filter hook output priority 0; policy drop; }\n}\n");
	if (pclose(f))
		die("nft black hole");

	snprintf(cmd, sizeof(cmd), "timeout %.0f %s --pin-dir %s -j events --follow", bound + 15,
		 argv[1], argv[2]);
	f = popen(cmd, "r");
	while (f && got < n && fgets(line, sizeof(line), f)) {
		p = strstr(line, "\"remote_port\":");
		if (!p || !strstr(line, "\"reason\":\"keepalive\""))
			continue;
		k = atoi(p + 14);
		seen = iso8601(strstr(line, "\"time\":\"") + 8);
		for (i = 0; i < n; i++) {
			if (ports[i] == k && late[i] == 0) {
				late[i] = seen - born[i] - bound;
				got++;
			}
		}
	}
	if (f)
		pclose(f);
	kill(pbx, SIGKILL);
	waitpid(pbx, NULL, 0);
	printf("phones black-holed: %d, detected: %d (%s)\n", n, got, got == n ? "all" : "NOT ALL");
	if (!got)
		return 1;
	for (i = 0, k = 0; i < n; i++)
		if (late[i] != 0)
			late[k++] = late[i];
	printf("detected after the bound (%.0f s), in seconds: min %.3f, median %.3f, p99 %.3f, max %.3f\n",
	       bound, quantile(late, k, 0), quantile(late, k, 0.5), quantile(late, k, 0.99),
	       quantile(late, k, 1));
	return got == n ? 0 : 1;
}
