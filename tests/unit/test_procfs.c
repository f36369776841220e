// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <string.h>

#include "procfs.h"
#include "unit.h"

TEST(proc_locks_finds_the_flock_on_the_file)
{
	CHECK(proc_locks_flock_pid("1: FLOCK  ADVISORY  WRITE 1234 00:2a:567 0 EOF\n",
				   "00:2a:567") == 1234);
	CHECK(proc_locks_flock_pid("1: FLOCK  ADVISORY  WRITE 1234 00:2a:567 0 EOF\n",
				   "00:2a:568") == 0);
	CHECK(proc_locks_flock_pid("2: POSIX  ADVISORY  WRITE 99 00:2a:567 0 EOF\n", "00:2a:567") ==
	      0);
	/* A lock waited for: "1: -> FLOCK ..." does not parse as a holder. */
	CHECK(proc_locks_flock_pid("1: -> FLOCK  ADVISORY  WRITE 77 00:2a:567 0 EOF\n",
				   "00:2a:567") == 0);
	CHECK(proc_locks_flock_pid("", "00:2a:567") == 0);
	CHECK(proc_locks_flock_pid("1: FLOCK ADVISORY WRITE -5 00:2a:567 0 EOF", "00:2a:567") == 0);
}

TEST(proc_mountinfo_finds_cgroup2)
{
	char mnt[PATH_MAX] = "";

	CHECK(!proc_mountinfo_cgroup2(
		"36 35 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw\n",
		mnt, sizeof(mnt)));
	CHECK(!strcmp(mnt, "/sys/fs/cgroup/unified"));
	CHECK(proc_mountinfo_cgroup2("37 35 0:31 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
				     mnt, sizeof(mnt)) == -1);
	CHECK(proc_mountinfo_cgroup2(" - cgroup2 ", mnt, sizeof(mnt)) == -1);
	CHECK(proc_mountinfo_cgroup2("", mnt, sizeof(mnt)) == -1);
	/* Truncated to the caller's buffer. */
	CHECK(!proc_mountinfo_cgroup2("1 2 0:3 / /abcdef rw - cgroup2 x rw", mnt, 4));
	CHECK(!strcmp(mnt, "/ab"));
}
