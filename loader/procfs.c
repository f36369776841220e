// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "procfs.h"

int proc_locks_flock_pid(const char *line, const char *dev)
{
	char type[16], d[64];
	int pid;

	if (sscanf(line, "%*d: %15s %*s %*s %d %63s", type, &pid, d) != 3 ||
	    strcmp(type, "FLOCK") || strcmp(d, dev) || pid <= 0)
		return 0;
	return pid;
}

int proc_mountinfo_cgroup2(const char *line, char *mnt, size_t len)
{
	const char *sep = strstr(line, " - ");
	char m[PATH_MAX];

	if (!sep || strncmp(sep, " - cgroup2 ", 11) ||
	    sscanf(line, "%*s %*s %*s %*s %4095s", m) != 1)
		return -1;
	snprintf(mnt, len, "%s", m);
	return 0;
}
