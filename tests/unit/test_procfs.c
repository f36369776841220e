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

TEST(proc_mountinfo_reads_the_fields)
{
	struct mountinfo m;

	CHECK(!proc_mountinfo(
		"41 31 0:38 /.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n", &m));
	CHECK(!strcmp(m.dev, "0:38"));
	CHECK(!strcmp(m.root, "/.."));
	CHECK(!strcmp(m.point, "/sys/fs/cgroup/unified"));
	CHECK(!strcmp(m.fstype, "cgroup2"));
	/* Optional fields before the separator; a bpffs. */
	CHECK(!proc_mountinfo(
		"51 27 0:42 / /sys/fs/bpf rw,nosuid shared:7 master:3 - bpf bpf rw,mode=700", &m));
	CHECK(!strcmp(m.fstype, "bpf") && !strcmp(m.point, "/sys/fs/bpf") && !strcmp(m.root, "/"));
	/* Spaces and backslashes are escaped in octal. */
	CHECK(!proc_mountinfo("1 2 0:3 /a\\040b /mnt/x\\040y\\134z rw - tmpfs t rw", &m));
	CHECK(!strcmp(m.root, "/a b") && !strcmp(m.point, "/mnt/x y\\z"));
	/* A backslash not followed by three octal digits stays. */
	CHECK(!proc_mountinfo("1 2 0:3 / /m\\9x rw - tmpfs t rw", &m));
	CHECK(!strcmp(m.point, "/m\\9x"));
	/* Too few fields, no separator, no fstype, a device without ':'. */
	CHECK(proc_mountinfo("1 2 0:3 / - cgroup2 c rw", &m) == -1);
	CHECK(proc_mountinfo("1 2 0:3 / /m rw cgroup2 c rw", &m) == -1);
	CHECK(proc_mountinfo("1 2 0:3 / /m rw - ", &m) == -1);
	CHECK(proc_mountinfo("1 2 03 / /m rw - cgroup2 c rw", &m) == -1);
	CHECK(proc_mountinfo("", &m) == -1);
}

TEST(proc_cgroup_under_relates_a_cgroup_to_the_mount)
{
	char rel[PATH_MAX] = "x";

	/* The host's view: the mount shows everything. */
	CHECK(!proc_cgroup_under("/", "/system.slice/pbx.service", rel, sizeof(rel)));
	CHECK(!strcmp(rel, "system.slice/pbx.service"));
	CHECK(!proc_cgroup_under("/", "/", rel, sizeof(rel)));
	CHECK(!strcmp(rel, ""));
	/* A mount of a subtree. */
	CHECK(!proc_cgroup_under("/kubepods.slice", "/kubepods.slice/pod1/c", rel, sizeof(rel)));
	CHECK(!strcmp(rel, "pod1/c"));
	CHECK(!proc_cgroup_under("/kubepods.slice/", "/kubepods.slice", rel, sizeof(rel)));
	CHECK(!strcmp(rel, ""));
	CHECK(proc_cgroup_under("/kubepods.slice", "/kubepods.slice2/x", rel, sizeof(rel)) == -1);
	CHECK(proc_cgroup_under("/kubepods.slice", "/system.slice", rel, sizeof(rel)) == -1);
	/* A private cgroup namespace: a process outside it, or a mount made
	 * outside it, cannot be related ("/" here is not the mount's "/"). */
	CHECK(proc_cgroup_under("/", "/../../system.slice/pbx.service", rel, sizeof(rel)) == -1);
	CHECK(proc_cgroup_under("/..", "/", rel, sizeof(rel)) == -1);
	CHECK(proc_cgroup_under("/../..", "/../x", rel, sizeof(rel)) == -1);
	CHECK(proc_cgroup_under("/a/..", "/a/b", rel, sizeof(rel)) == -1);
	/* Names with dots are names. */
	CHECK(!proc_cgroup_under("/", "/a..b/...", rel, sizeof(rel)));
	CHECK(!strcmp(rel, "a..b/..."));
	/* Not paths; too long for REL. */
	CHECK(proc_cgroup_under("", "/x", rel, sizeof(rel)) == -1);
	CHECK(proc_cgroup_under("/", "x", rel, sizeof(rel)) == -1);
	CHECK(proc_cgroup_under("/", "/abcdef", rel, 4) == -1);
}
