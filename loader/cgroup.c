// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "parse.h"
#include "procfs.h"

int cgroup2_mount(char *buf)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = -ENOENT;

	if (!f) {
		found = -errno;
		p_err("cannot read /proc/self/mountinfo: %s", strerror(-found));
		return found;
	}
	while (found && fgets(line, sizeof(line), f))
		if (!proc_mountinfo_cgroup2(line, buf, PATH_MAX))
			found = 0;
	fclose(f);
	if (found)
		p_err("cgroup v2 is not mounted; mount it with 'mount -t cgroup2 none /sys/fs/cgroup' (or boot with systemd.unified_cgroup_hierarchy=1)");
	return found;
}

static int is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode) && !statfs(path, &fs) &&
	       fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_resolve(const char *arg, char *path)
{
	char mnt[PATH_MAX], rel[PATH_MAX];
	int err = cgroup2_mount(mnt);

	if (err)
		return err;
	if (!arg) {
		snprintf(path, PATH_MAX, "%s", mnt);
		return 0;
	}
	if (!*arg) {
		p_err("--cgroup needs a cgroup v2 directory; an empty one is refused (the root is what no --cgroup means)");
		return -EINVAL;
	}
	/* Else "system.slice/asterisk.service", as /proc/PID/cgroup shows it. */
	if (snprintf(rel, sizeof(rel), "%s/%s", mnt, arg + (arg[0] == '/')) >= (int)sizeof(rel))
		rel[0] = '\0';
	if (is_cgroup2_dir(arg) || is_cgroup2_dir(rel)) {
		if (!realpath(is_cgroup2_dir(arg) ? arg : rel, path)) {
			err = -errno;
			p_err("cannot resolve cgroup path %s: %s", arg, strerror(-err));
			return err;
		}
		return 0;
	}
	if (access(arg, F_OK) == 0) {
		p_err("%s is not a cgroup v2 directory (cgroup v2 is mounted at %s); give a directory under it, e.g. the PBX's from 'cat /proc/PID/cgroup'",
		      arg, mnt);
		return -ENOTDIR;
	}
	p_err("cgroup %s does not exist; give a cgroup v2 directory under %s, e.g. the PBX's from 'cat /proc/PID/cgroup'",
	      arg, mnt);
	return -ENOENT;
}

__u64 cgroup_id(const char *path)
{
	struct stat st;

	/* kernfs uses the cgroup id as the inode number. */
	return stat(path, &st) ? 0 : st.st_ino;
}

static __u64 wanted_id;
static char *found_path;

static int match_id(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D || st->st_ino != wanted_id)
		return 0;
	snprintf(found_path, PATH_MAX, "%s", path);
	return 1;
}

int cgroup_path(__u64 id, char *buf)
{
	char mnt[PATH_MAX];

	if (!id || cgroup2_mount(mnt))
		return -ENOENT;
	wanted_id = id;
	found_path = buf;
	return nftw(mnt, match_id, 16, FTW_PHYS | FTW_MOUNT) == 1 ? 0 : -ENOENT;
}

int cgroup_of(const char *pid, char *path)
{
	char file[64], line[PATH_MAX + 8], mnt[PATH_MAX];
	unsigned long long n;
	FILE *f;
	int found;
	bool seen = false;

	/* PID_MAX_LIMIT: 4194304. */
	if (strcmp(pid, "self") && parse_uint(pid, 1, 4194304, &n, line, sizeof(line))) {
		p_err("--cgroup-of takes a process id or 'self', not '%s'", pid);
		return -EINVAL;
	}
	found = cgroup2_mount(mnt);
	if (found)
		return found;
	found = -ENOENT;
	snprintf(file, sizeof(file), "/proc/%s/cgroup", pid);
	f = fopen(file, "r");
	if (!f) {
		found = -errno;
		p_err("cannot read %s: %s (is process %s running?)", file, strerror(-found), pid);
		return found;
	}
	/* The cgroup v2 line is "0::/system.slice/x.service", also on hybrid hosts. */
	while (found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::/", 4))
			continue;
		line[strcspn(line, "\n")] = '\0';
		seen = true;
		found = cgroup_resolve(line + 3, path);
	}
	fclose(f);
	if (!seen)
		p_err("%s has no cgroup v2 line (0::/...): the process is not in a cgroup v2 hierarchy",
		      file);
	return found;
}
