// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdbool.h>
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

/* Copies the next space-separated field of *S into OUT (LEN bytes, cut to
 * fit), decoding the octal escapes (\040) of mountinfo; advances *S. 0, or -1
 * if there is none. */
static int field(const char **s, char *out, size_t len)
{
	const char *p = *s;
	size_t n = 0;

	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return -1;
	for (; *p && *p != ' ' && *p != '\n'; p++) {
		char c = *p;

		if (c == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (n + 1 < len)
			out[n++] = c;
	}
	if (len)
		out[n] = '\0';
	*s = p;
	return 0;
}

int proc_mountinfo(const char *line, struct mountinfo *m)
{
	const char *p = line, *sep = strstr(line, " - ");
	char skip[32];

	if (!sep || field(&p, skip, sizeof(skip)) || field(&p, skip, sizeof(skip)) ||
	    field(&p, m->dev, sizeof(m->dev)) || field(&p, m->root, sizeof(m->root)) ||
	    field(&p, m->point, sizeof(m->point)) || p > sep)
		return -1;
	p = sep + 3;
	if (field(&p, m->fstype, sizeof(m->fstype)) || !strchr(m->dev, ':'))
		return -1;
	return 0;
}

/* Whether PATH has a ".." component. */
static bool has_dotdot(const char *path)
{
	const char *p;

	for (p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return true;
	return false;
}

int proc_cgroup_under(const char *root, const char *path, char *rel, size_t len)
{
	size_t n = strlen(root);

	if (root[0] != '/' || path[0] != '/' || has_dotdot(path))
		return -1;
	while (n && root[n - 1] == '/')
		n--;
	if (strncmp(path, root, n) || (path[n] != '/' && path[n]))
		return -1;
	path += n;
	while (*path == '/')
		path++;
	if ((size_t)snprintf(rel, len, "%s", path) >= len)
		return -1;
	return 0;
}
