/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lines of the /proc files the loader reads, parsed: /proc/locks (who
 * holds a lock) and /proc/self/mountinfo (where cgroup v2 is mounted). Pure:
 * no I/O; unit-tested and fuzzed (tests/fuzz).
 */
#ifndef SIPKA_PROCFS_H
#define SIPKA_PROCFS_H

#include <stddef.h>

/* The pid holding a FLOCK on the file DEV ("00:2a:567": major, minor, inode)
 * in LINE of /proc/locks, "1: FLOCK  ADVISORY  WRITE 1234 00:2a:567 0 EOF";
 * 0 if LINE is another lock or not such a line. */
int proc_locks_flock_pid(const char *line, const char *dev);

/* The mount point of LINE of /proc/self/mountinfo if it is a cgroup v2 mount,
 * "36 35 0:30 / /sys/fs/cgroup rw,... - cgroup2 cgroup2 rw", into MNT (LEN
 * bytes): 0, or -1 (another file system, or not such a line). */
int proc_mountinfo_cgroup2(const char *line, char *mnt, size_t len);

#endif
