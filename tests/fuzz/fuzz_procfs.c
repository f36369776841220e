// SPDX-License-Identifier: GPL-2.0
/* Lines of /proc/locks and /proc/self/mountinfo, each given to both parsers
 * as lock.c and cgroup.c read them (fgets: a line at most 4095 bytes). */
#include <limits.h>

#include "fuzz.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *line, *next, mnt[PATH_MAX];

	if (!text)
		return 0;
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		proc_locks_flock_pid(line, "00:2a:567");
		if (!proc_mountinfo_cgroup2(line, mnt, sizeof(mnt)) && !mnt[0])
			abort();		      /* a mount point is never empty */
		proc_mountinfo_cgroup2(line, mnt, 8); /* truncated */
	}
	free(text);
	return 0;
}
