/* SPDX-License-Identifier: GPL-2.0 */
/* Finding cgroup v2 directories: the mount, a path given by ops, an id. */
#ifndef SIPKA_CGROUP_H
#define SIPKA_CGROUP_H

#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

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

/* The paths of cgroups by id, relative to the cgroup v2 mount, found by a
 * walk of the tree (the id is a directory's file handle) and cached: a
 * miss walks again once per id, so a cgroup made since is found and one
 * that is gone costs one walk. */
struct cgroup_names {
	struct cgroup_name *v; /* sorted by id */
	size_t n, cap;
	char *pool; /* the paths, NUL-terminated, one after another */
	size_t used, size;
	char mnt[PATH_MAX]; /* "" until the first walk; "-": no cgroup v2 */
	bool host_root;	    /* mnt shows the host's root cgroup: a cgroup not found is gone */
};
#define CGROUP_NAMES_INIT                         \
	{                                         \
		NULL, 0, 0, NULL, 0, 0, "", false \
	}

/* The path of cgroup ID ("/system.slice/x.service", "/" for the root) in
 * N, or NULL when it is gone (or ID is 0, or cgroup v2 is not mounted).
 * Valid until the next call. Prints nothing. */
const char *cgroup_name(struct cgroup_names *n, __u64 id);

/* The PBX of cgroup ID as pbx_label() names it from its path, into BUF
 * (SIZE bytes); without a path, why: "cgroup ID (gone)", or "(not under
 * MOUNT)" when the mount shows a part of the tree only (a container's cgroup
 * namespace). Returns the path, or NULL. */
const char *cgroup_pbx(struct cgroup_names *n, __u64 id, char *buf, size_t size);
void cgroup_names_free(struct cgroup_names *n);

#endif
