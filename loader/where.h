/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where sipka stands: in the host's namespaces or a container's. A private
 * cgroup namespace shows a subtree as "the root" and gives /proc/PID/cgroup
 * paths relative to it; a private PID namespace gives /proc its own process
 * ids; a private mount namespace may hold a bpffs of its own, whose pins
 * (and the links they hold) go with it. Each is told apart here; the
 * commands refuse what would go wrong, with the fix these strings name.
 */
#ifndef SIPKA_WHERE_H
#define SIPKA_WHERE_H

#include <limits.h>
#include <stdbool.h>

enum where {
	WHERE_HOST,    /* the host's: the initial namespace, the host's bpffs */
	WHERE_PRIVATE, /* a container's own */
	WHERE_UNKNOWN, /* cannot tell (/proc/1 not the host's init, or unreadable) */
};

/* The fixes, as the messages of the commands and of check name them. */
#define WHERE_FIX_CGROUPNS \
	"run sipka in the host's cgroup namespace (docker/podman run --cgroupns=host) with the host's cgroup v2 mount, or give --cgroup PATH"
#define WHERE_FIX_PIDNS \
	"run sipka in the host's PID namespace (docker/podman run --pid=host; Kubernetes hostPID: true), or give --cgroup PATH"
#define WHERE_FIX_BPFFS \
	"mount the host's bpffs into the container (docker/podman run -v /sys/fs/bpf:/sys/fs/bpf; Kubernetes: a hostPath volume of /sys/fs/bpf)"

/* This process's cgroup namespace. */
enum where where_cgroupns(void);

/* The PID namespace whose process ids /proc shows (PID 1's there). */
enum where where_pidns(void);

/* This process's mount namespace: the host's if it is PID 1's, PID 1 the
 * host's init. */
enum where where_mntns(void);

/* The bpffs holding PIN_DIR (or where it will be made): the host's when
 * /proc/1 is the host's init and the same bpffs (its device) is mounted in
 * PID 1's mount namespace; private when it is not. */
enum where where_bpffs(const char *pin_dir);

/* A cgroup v2 mount, as /proc/self/mountinfo says it. */
struct cgroup2_mount {
	char path[PATH_MAX]; /* where it is mounted */
	char root[PATH_MAX]; /* its root field (see struct mountinfo) */
	bool host_root;	     /* PATH is the host's root cgroup (it has no cgroup.type) */
};

/* The cgroup v2 mount to use: the first that shows the host's root cgroup,
 * else the first whose root is this namespace's, else the first. 0, or
 * -ENOENT (said: cgroup v2 is not mounted; _quiet: nothing said). */
int where_cgroup2(struct cgroup2_mount *m);
int where_cgroup2_quiet(struct cgroup2_mount *m);

#endif
