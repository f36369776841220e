// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"
#include "where.h"

/* The initial namespaces' inode numbers, fixed since Linux 3.8 (PID) and
 * 4.6 (cgroup): include/linux/proc_ns.h. systemd tells them apart the same
 * way (namespace_is_init()). */
#define PROC_PID_INIT_INO    0xEFFFFFFCU
#define PROC_CGROUP_INIT_INO 0xEFFFFFFBU

static enum where ns_is_init(const char *link, unsigned int init_ino)
{
	struct stat st;

	if (stat(link, &st))
		return WHERE_UNKNOWN;
	return st.st_ino == init_ino ? WHERE_HOST : WHERE_PRIVATE;
}

enum where where_cgroupns(void)
{
	return ns_is_init("/proc/self/ns/cgroup", PROC_CGROUP_INIT_INO);
}

enum where where_pidns(void)
{
	enum where w = ns_is_init("/proc/1/ns/pid", PROC_PID_INIT_INO);

	/* Without the right to look at PID 1 (no CAP_SYS_PTRACE), this process's
	 * own: /proc shows the ids of the namespace it was mounted in, ours. */
	return w == WHERE_UNKNOWN ? ns_is_init("/proc/self/ns/pid", PROC_PID_INIT_INO) : w;
}

/* The id of the first mount of FILE (a mountinfo), or -1. Mount ids are
 * unique on the host: two namespaces share none. */
static long first_mount_id(const char *file)
{
	FILE *f = fopen(file, "r");
	long id = -1;

	if (f) {
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		fclose(f);
	}
	return id;
}

enum where where_mntns(void)
{
	struct stat self, init;
	long a, b;

	/* The mount namespace has no fixed initial inode before Linux 6.18:
	 * the host's is the one of its init. */
	if (where_pidns() != WHERE_HOST)
		return WHERE_UNKNOWN;
	if (!stat("/proc/self/ns/mnt", &self) && !stat("/proc/1/ns/mnt", &init))
		return self.st_dev == init.st_dev && self.st_ino == init.st_ino ? WHERE_HOST :
										  WHERE_PRIVATE;
	/* Without the right to look at PID 1's namespaces: its mounts. */
	a = first_mount_id("/proc/self/mountinfo");
	b = first_mount_id("/proc/1/mountinfo");
	if (a < 0 || b < 0)
		return WHERE_UNKNOWN;
	return a == b ? WHERE_HOST : WHERE_PRIVATE;
}

enum where where_bpffs(const char *pin_dir)
{
	char dir[PATH_MAX], dev[32], line[8192], *slash;
	enum where w;
	struct mountinfo m;
	struct stat st;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", pin_dir);
	if (stat(dir, &st)) {
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		if (stat(dir, &st))
			return WHERE_UNKNOWN;
	}
	if (where_pidns() != WHERE_HOST)
		return WHERE_UNKNOWN;
	/* The host's bpffs if PID 1 has the same one mounted, wherever it is
	 * there: a bpffs is a file system of its own at each mount -t bpf, its
	 * device unique. (Its mountinfo needs no right to trace PID 1, its
	 * ns/mnt does.) */
	w = WHERE_PRIVATE;
	f = fopen("/proc/1/mountinfo", "r");
	if (!f)
		return WHERE_UNKNOWN;
	snprintf(dev, sizeof(dev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	while (w != WHERE_HOST && fgets(line, sizeof(line), f))
		if (!proc_mountinfo(line, &m) && !strcmp(m.fstype, "bpf") && !strcmp(m.dev, dev))
			w = WHERE_HOST;
	fclose(f);
	return w;
}

static bool is_host_root(const char *path)
{
	char file[PATH_MAX + 16];
	struct stat st;

	/* Every cgroup but the root has cgroup.type (Linux 4.14), also the
	 * root of a cgroup namespace: what the directory is, not how it is seen. */
	snprintf(file, sizeof(file), "%s/cgroup.type", path);
	return !stat(path, &st) && S_ISDIR(st.st_mode) && stat(file, &st) && errno == ENOENT;
}

int where_cgroup2_quiet(struct cgroup2_mount *out)
{
	char line[8192];
	struct mountinfo m;
	int found = 0, rank, best = 0;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return -errno;
	/* Rank 3: the host's root; 2: this namespace's root; 1: any. */
	while (best < 3 && fgets(line, sizeof(line), f)) {
		if (proc_mountinfo(line, &m) || strcmp(m.fstype, "cgroup2"))
			continue;
		rank = is_host_root(m.point) ? 3 : !strcmp(m.root, "/") ? 2 : 1;
		if (rank <= best)
			continue;
		best = rank;
		snprintf(out->path, sizeof(out->path), "%s", m.point);
		snprintf(out->root, sizeof(out->root), "%s", m.root);
		out->host_root = rank == 3;
		found = 1;
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

int where_cgroup2(struct cgroup2_mount *out)
{
	int err = where_cgroup2_quiet(out);

	if (err == -ENOENT)
		p_err("cgroup v2 is not mounted; mount it with 'mount -t cgroup2 none /sys/fs/cgroup' (or boot with systemd.unified_cgroup_hierarchy=1)");
	else if (err)
		p_err("cannot read /proc/self/mountinfo: %s", strerror(-err));
	return err;
}
