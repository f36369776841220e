// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
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
#include "format.h"
#include "log.h"
#include "parse.h"
#include "procfs.h"
#include "where.h"

int cgroup2_mount(char *buf)
{
	struct cgroup2_mount m;
	int err = where_cgroup2(&m);

	if (!err)
		snprintf(buf, PATH_MAX, "%s", m.path);
	return err;
}

/* No --cgroup means the host's root: refused where the mount shows another. */
static int cgroup_root(const struct cgroup2_mount *m, char *path)
{
	bool private_ns = where_cgroupns() == WHERE_PRIVATE;

	if (!m->host_root) {
		p_err("the cgroup v2 root seen here, %s, is not the host's root cgroup: %s; attaching there would arm only that subtree. To arm the whole host, %s",
		      m->path,
		      private_ns ? "this process is in a private cgroup namespace (a container's)" :
				   "the mount shows a part of the tree only",
		      WHERE_FIX_CGROUPNS);
		return -EXDEV;
	}
	if (private_ns)
		p_info("sipka: this process is in a private cgroup namespace, but %s is the host's root cgroup: using it",
		       m->path);
	snprintf(path, PATH_MAX, "%s", m->path);
	return 0;
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
	char rel[PATH_MAX], *mnt;
	struct cgroup2_mount m;
	int err = where_cgroup2(&m);

	if (err)
		return err;
	if (!arg)
		return cgroup_root(&m, path);
	mnt = m.path;
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
	struct cgroup2_mount m;

	if (!id || where_cgroup2(&m))
		return -ENOENT;
	wanted_id = id;
	found_path = buf;
	if (nftw(m.path, match_id, 16, FTW_PHYS | FTW_MOUNT) == 1)
		return 0;
	return m.host_root ? -ENOENT : -EXDEV;
}

int cgroup_of(const char *pid, char *path)
{
	char file[64], line[PATH_MAX + 8], rel[PATH_MAX];
	struct cgroup2_mount m;
	unsigned long long n;
	FILE *f;
	int found;
	bool seen = false;

	/* PID_MAX_LIMIT: 4194304. */
	if (strcmp(pid, "self") && parse_uint(pid, 1, 4194304, &n, line, sizeof(line))) {
		p_err("--cgroup-of takes a process id or 'self', not '%s'", pid);
		return -EINVAL;
	}
	if (strcmp(pid, "self") && where_pidns() == WHERE_PRIVATE) {
		p_err("--cgroup-of %s: /proc here numbers the processes of a private PID namespace (a container's), not the host's, so %s may be another process than the PBX; %s",
		      pid, pid, WHERE_FIX_PIDNS);
		return -EXDEV;
	}
	found = where_cgroup2(&m);
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
	/* The cgroup v2 line is "0::/system.slice/x.service", also on hybrid
	 * hosts; its path is relative to this process's cgroup namespace, the
	 * mount's root field too: the path under the mount is the one in the other. */
	while (found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::/", 4))
			continue;
		line[strcspn(line, "\n")] = '\0';
		seen = true;
		if (proc_cgroup_under(m.root, line + 3, rel, sizeof(rel))) {
			p_err("process %s is in cgroup %s, which the cgroup v2 mount at %s (root %s) does not show: %s; %s",
			      pid, line + 3, m.path, m.root,
			      where_cgroupns() == WHERE_PRIVATE ?
				      "this process is in a private cgroup namespace (a container's)" :
				      "the mount shows another part of the tree",
			      WHERE_FIX_CGROUPNS);
			found = -EXDEV;
			break;
		}
		found = cgroup_resolve(*rel ? rel : m.path, path);
	}
	fclose(f);
	if (!seen)
		p_err("%s has no cgroup v2 line (0::/...): the process is not in a cgroup v2 hierarchy",
		      file);
	return found;
}

struct cgroup_name {
	__u64 id;
	size_t path; /* its offset in the pool; GONE: not there */
};
#define GONE ((size_t)-1)

/* The id of cgroup directory PATH: its file handle on cgroup v2, which is
 * the cgroup id (kernfs), or 0. */
static __u64 handle_id(const char *path)
{
	union {
		struct file_handle h;
		// cppcheck-suppress unusedStructMember ; room for the handle's 8 bytes
		char room[sizeof(struct file_handle) + sizeof(__u64)];
	} fh;
	int mount_id;
	__u64 id;

	fh.h.handle_bytes = sizeof(id);
	if (name_to_handle_at(AT_FDCWD, path, &fh.h, &mount_id, 0) ||
	    fh.h.handle_bytes != sizeof(id))
		return 0;
	memcpy(&id, fh.h.f_handle, sizeof(id));
	return id;
}

static int by_id(const void *a, const void *b)
{
	const struct cgroup_name *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static struct cgroup_name *name_find(struct cgroup_names *n, __u64 id)
{
	struct cgroup_name key = { id, GONE };

	return n->n ? bsearch(&key, n->v, n->n, sizeof(key), by_id) : NULL;
}

/* Appends ID at PATH (NULL: gone) to N, unsorted: 0, or -ENOMEM. */
static int name_append(struct cgroup_names *n, __u64 id, const char *path)
{
	size_t len = path ? strlen(path) + 1 : 0, size;
	struct cgroup_name *more;
	char *pool;

	if (n->n == n->cap) {
		more = realloc(n->v, (n->cap ? 2 * n->cap : 64) * sizeof(*more));
		if (!more)
			return -ENOMEM;
		n->v = more;
		n->cap = n->cap ? 2 * n->cap : 64;
	}
	if (n->used + len > n->size) {
		size = n->size ? 2 * n->size : 4096;
		while (size < n->used + len)
			size *= 2;
		pool = realloc(n->pool, size);
		if (!pool)
			return -ENOMEM;
		n->pool = pool;
		n->size = size;
	}
	n->v[n->n].id = id;
	n->v[n->n].path = path ? n->used : GONE;
	if (path)
		memcpy(n->pool + n->used, path, len);
	n->used += len;
	n->n++;
	return 0;
}

/* Drops the cgroups N knows to be there (the walk finds them again), keeping
 * those known to be gone: an id is never used again. */
static void names_forget_live(struct cgroup_names *n)
{
	size_t i, kept = 0;

	for (i = 0; i < n->n; i++)
		if (n->v[i].path == GONE)
			n->v[kept++] = n->v[i];
	n->n = kept;
	n->used = 0;
}

/* Whether N, not sorted yet, has ID. */
static bool name_find_unsorted(const struct cgroup_names *n, __u64 id)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (n->v[i].id == id)
			return true;
	return false;
}

/* Adds the cgroup at PATH (PATH_MAX bytes; its first M are the mount's) and
 * every one below it to N. */
static void names_walk(struct cgroup_names *n, char *path, size_t m)
{
	__u64 id = handle_id(path);
	struct dirent *de;
	size_t len;
	DIR *d;

	if (id && name_append(n, id, path[m] ? path + m : "/"))
		return; /* out of memory: what was found is kept */
	d = opendir(path);
	if (!d)
		return; /* removed meanwhile */
	while ((de = readdir(d))) {
		len = strlen(path);
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    len + 1 + strlen(de->d_name) >= PATH_MAX)
			continue;
		snprintf(path + len, PATH_MAX - len, "/%s", de->d_name);
		names_walk(n, path, m);
		path[len] = '\0';
	}
	closedir(d);
}

const char *cgroup_name(struct cgroup_names *n, __u64 id)
{
	struct cgroup2_mount m;
	char path[PATH_MAX];
	struct cgroup_name *e;

	if (!id)
		return NULL;
	e = name_find(n, id);
	if (e)
		return e->path == GONE ? NULL : n->pool + e->path;
	if (!n->mnt[0]) { /* quietly: the commands that need the mount say it */
		snprintf(n->mnt, sizeof(n->mnt), "-");
		if (!where_cgroup2_quiet(&m)) {
			snprintf(n->mnt, sizeof(n->mnt), "%s", m.path);
			n->host_root = m.host_root;
		}
	}
	if (strcmp(n->mnt, "-")) {
		names_forget_live(n);
		snprintf(path, sizeof(path), "%s", n->mnt);
		names_walk(n, path, strlen(n->mnt));
	}
	if (!name_find_unsorted(n, id))
		(void)name_append(n, id, NULL); /* gone: not walked for again */
	if (n->n) /* none when out of memory: qsort must not be given NULL */
		qsort(n->v, n->n, sizeof(*n->v), by_id);
	e = name_find(n, id);
	return e && e->path != GONE ? n->pool + e->path : NULL;
}

const char *cgroup_pbx(struct cgroup_names *n, __u64 id, char *buf, size_t size)
{
	const char *path = cgroup_name(n, id);

	if (path)
		pbx_label(path, buf, size);
	else if (n->host_root)
		snprintf(buf, size, "cgroup %llu (gone)", (unsigned long long)id);
	else if (strcmp(n->mnt, "-"))
		snprintf(buf, size, "cgroup %llu (not under %s)", (unsigned long long)id, n->mnt);
	else
		snprintf(buf, size, "cgroup %llu (no cgroup v2 mount here)",
			 (unsigned long long)id);
	return path;
}

void cgroup_names_free(struct cgroup_names *n)
{
	free(n->v);
	free(n->pool);
	n->v = NULL;
	n->pool = NULL;
	n->n = n->cap = n->used = n->size = 0;
}
