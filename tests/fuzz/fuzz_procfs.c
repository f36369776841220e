// SPDX-License-Identifier: GPL-2.0
/* Lines of /proc/locks, /proc/PID/mountinfo and /proc/PID/cgroup paths, each
 * given to every parser as lock.c, where.c and cgroup.c read them (fgets: a
 * line at most 8191 bytes). */
#include <limits.h>

#include "fuzz.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *line, *next, rel[PATH_MAX];
	struct mountinfo m;

	if (!text)
		return 0;
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		proc_locks_flock_pid(line, "00:2a:567");
		if (!proc_mountinfo(line, &m) && (!m.point[0] || !strchr(m.dev, ':')))
			abort(); /* a mount point is never empty, a device is major:minor */
		/* The line as a cgroup path under "/" and under its own root. */
		if (!proc_cgroup_under("/", line, rel, sizeof(rel)) &&
		    (rel[0] == '/' || strstr(line, "/../") ||
		     strcmp(rel, line + strspn(line, "/"))))
			abort(); /* relative, and the path itself under "/" */
		if (!proc_mountinfo(line, &m))
			proc_cgroup_under(m.root, m.point, rel, sizeof(rel));
	}
	free(text);
	return 0;
}
