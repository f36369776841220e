/* SPDX-License-Identifier: GPL-2.0 */
/* A command run as the benchmarks' child: its output read and counted, its
 * wall time and peak memory (ru_maxrss) taken. */
#ifndef SIPKA_BENCH_CHILD_H
#define SIPKA_BENCH_CHILD_H

#include "common.h" /* first: it asks for _GNU_SOURCE */

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

struct child {
	double ms, mb;	  /* wall time; peak resident memory */
	long bytes, keys; /* of its stdout; occurrences of KEY in it */
	bool ok;	  /* exited 0 */
};

/* Runs ARGV (ARGV[0] a path), counting KEY in what it writes to stdout. */
static inline struct child child_run(const char *const argv[], const char *key)
{
	struct child c = { 0 };
	size_t at = 0, len = strlen(key); /* how much of KEY the output ends with */
	char buf[65536];
	struct rusage ru;
	int p[2], status;
	ssize_t got, i;
	double t0;
	pid_t pid;

	if (pipe(p))
		die("pipe");
	t0 = now();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		die("exec");
	}
	close(p[1]);
	while ((got = read(p[0], buf, sizeof(buf))) > 0) {
		c.bytes += got;
		for (i = 0; i < got; i++) {
			at = buf[i] == key[at] ? at + 1 : buf[i] == key[0];
			if (at == len) {
				c.keys++;
				at = 0;
			}
		}
	}
	close(p[0]);
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4");
	c.ms = (now() - t0) * 1e3;
	c.mb = ru.ru_maxrss / 1024.0;
	c.ok = WIFEXITED(status) && !WEXITSTATUS(status);
	return c;
}

#endif
