/* SPDX-License-Identifier: GPL-2.0 */
/* Finding cgroup v2 directories: the mount, a path given by ops, an id. */
#ifndef SIPKA_CGROUP_H
#define SIPKA_CGROUP_H

#include <limits.h>
#include <linux/types.h>

/* Where cgroup v2 is mounted (from /proc/self/mountinfo), into BUF (PATH_MAX). */
int cgroup2_mount(char *buf);

/* Resolves ARG (NULL: the cgroup v2 root) to a cgroup v2 directory: an
 * absolute path, or a path under the cgroup v2 mount ("system.slice/x"). */
int cgroup_resolve(const char *arg, char *path);

/* The cgroup v2 directory of process PID ("self": this one), from the
 * "0::" line of /proc/PID/cgroup, into PATH. */
int cgroup_of(const char *pid, char *path);

/* The cgroup id of PATH (the id bpf links and bpftool report), or 0. */
__u64 cgroup_id(const char *path);

/* The path of the cgroup with id ID into BUF (PATH_MAX); -ENOENT if it is gone,
 * -EXDEV if the mount shows a part of the tree only and not it. */
int cgroup_path(__u64 id, char *buf);

#endif
