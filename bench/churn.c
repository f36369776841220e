// SPDX-License-Identifier: GPL-2.0
/*
 * Connection churn on loopback for SECONDS: connect, accept, close, both ends
 * in CGROUP (which the caller attaches sipka to, or not), in a network
 * namespace of its own. Prints connections per second.
 *
 * Usage: churn none|setsockopt CGROUP SECONDS
 *   none        nothing sets keepalive (with or without sipka attached)
 *   setsockopt  both ends set keepalive 60/10/3 + user timeout with
 *               setsockopt, as a PBX does itself
 */
#include "common.h"	/* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>

#define PORT 5060

static bool user_space;
static volatile bool done;
static int lst;

static void keepalive(int fd)
{
	int one = 1, idle = 60, intvl = 10, cnt = 3, ut = 90000;

	if (!user_space)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

static void *server(void *arg)
{
	char b;
	int c;

	(void)arg;
	while ((c = accept(lst, NULL, NULL)) >= 0) {
		keepalive(c);
		while (read(c, &b, 1) > 0)	/* until the client's FIN */
			;
		close(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double start, secs, elapsed;
	long n = 0;
	pthread_t t;
	int fd, one = 1;

	if (argc != 4 || (strcmp(argv[1], "none") && strcmp(argv[1], "setsockopt"))) {
		fprintf(stderr, "usage: churn none|setsockopt CGROUP SECONDS\n");
		return 2;
	}
	user_space = !strcmp(argv[1], "setsockopt");
	secs = atof(argv[3]);
	join_cgroup(argv[2]);
	private_loopback();
	lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lst, (void *)&a, sizeof(a)) || listen(lst, 4096))
		die("listen");
	pthread_create(&t, NULL, server, NULL);
	start = now();
	do {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
			die("connect");
		keepalive(fd);
		close(fd);
		n++;
	} while ((elapsed = now() - start) < secs);
	printf("%.0f\n", n / elapsed);
	return 0;
}
