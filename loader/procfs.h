/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lines of the /proc files the loader reads, parsed: /proc/locks (who
 * holds a lock), /proc/PID/mountinfo (where cgroup v2 and bpffs are mounted,
 * and what of them) and the paths of /proc/PID/cgroup. Pure: no I/O;
 * unit-tested and fuzzed (tests/fuzz).
 */
#ifndef SIPKA_PROCFS_H
#define SIPKA_PROCFS_H

#include <limits.h>
#include <stddef.h>

/* The pid holding a FLOCK on the file DEV ("00:2a:567": major, minor, inode)
 * in LINE of /proc/locks, "1: FLOCK  ADVISORY  WRITE 1234 00:2a:567 0 EOF";
 * 0 if LINE is another lock or not such a line. */
int proc_locks_flock_pid(const char *line, const char *dev);

/* A line of /proc/PID/mountinfo,
 * "36 35 0:30 /x /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw". */
struct mountinfo {
	char dev[32];	      /* the file system's device, "0:30" (st_dev of its files) */
	char root[PATH_MAX];  /* what of the file system is mounted: "/" all of it; for
			       * cgroup2, relative to the reader's cgroup namespace, so
			       * "/.." when the mount shows more than the namespace */
	char point[PATH_MAX]; /* where ("\040" and the like decoded) */
	char fstype[32];      /* "cgroup2", "bpf", ... */
};

/* LINE into M (fields cut to fit): 0, or -1 if it is not such a line. */
int proc_mountinfo(const char *line, struct mountinfo *m);

/* Where the cgroup PATH, as a line "0::PATH" of /proc/PID/cgroup says it, is
 * under a cgroup v2 mount whose mountinfo root is ROOT: the path relative to
 * the mount into REL (LEN bytes; "" the mount itself), 0. -1 if the mount
 * does not show it: PATH is not under ROOT, or either is outside the
 * reader's cgroup namespace (a ".." component), where the two cannot be
 * related. */
int proc_cgroup_under(const char *root, const char *path, char *rel, size_t len);

#endif
