// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pindir.h"
#include "sipka.h"

int pindir_path(const struct pindir *pd, const char *name, char *buf)
{
	return snprintf(buf, PATH_MAX, "%s/%s", pd->path, name) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int pindir_link_path(const struct pindir *pd, __u64 cgroup_id, char *buf)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%llu", SIPKA_PIN_LINK_PREFIX,
		 (unsigned long long)cgroup_id);
	return pindir_path(pd, name, buf);
}

int pindir_open(struct pindir *pd, bool create)
{
	struct stat st;
	int err;

	pd->create = create;
	pd->missing = false;
	if (create && mkdir(pd->path, 0700) && errno != EEXIST) {
		err = -errno;
		p_err("cannot create the pin dir %s: %s", pd->path, strerror(-err));
		return err;
	}
	if (lstat(pd->path, &st)) {
		err = -errno;
		if (err == -ENOENT) {
			pd->missing = true;
			return 0;
		}
		p_err("cannot open the pin dir %s: %s%s", pd->path, strerror(-err),
		      err == -EACCES ? " (run sipka as root)" : "");
		return err;
	}
	/* Anyone who can write here can detach sipka or plant a link of another
	 * tool for root's 'sipka detach' to remove. */
	if (!S_ISDIR(st.st_mode)) {
		p_err("the pin dir %s is not a directory%s; remove it, or choose another --pin-dir",
		      pd->path, S_ISLNK(st.st_mode) ? " (a symbolic link: never followed)" : "");
		return -ENOTDIR;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		p_err("the pin dir %s is %s (owner uid %u, mode %04o): others could remove or replace sipka's pins. Fix it with 'chown root:root %s && chmod 0700 %s', or remove it if you did not make it",
		      pd->path, st.st_uid ? "not root's" : "writable by group or others", st.st_uid,
		      st.st_mode & 07777, pd->path, pd->path);
		return -EPERM;
	}
	pd->fd = open(pd->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pd->fd < 0) {
		err = -errno;
		p_err("cannot open the pin dir %s: %s%s", pd->path, strerror(-err),
		      err == -EACCES ? " (run sipka as root)" : "");
		return err;
	}
	return 0;
}

void pindir_close(struct pindir *pd)
{
	if (pd->fd >= 0)
		close(pd->fd); /* releases the lock */
	pd->fd = -1;
	pd->locked = false;
}

int pindir_entries(const struct pindir *pd, struct entry **out)
{
	struct entry *all = NULL, *more;
	struct dirent *e;
	struct stat st;
	int n = 0, fd, err;
	DIR *d;

	*out = NULL;
	fd = openat(pd->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		p_err("cannot read %s: %s", pd->path, strerror(-err));
		return err;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		more = realloc(all, (n + 1) * sizeof(*all));
		if (!more) {
			free(all);
			closedir(d);
			p_err("out of memory");
			return -ENOMEM;
		}
		all = more;
		snprintf(all[n].name, sizeof(all[n].name), "%s", e->d_name);
		all[n].kind = pin_classify(e->d_name);
		all[n].symlink = !fstatat(pd->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
				 !S_ISREG(st.st_mode);
		n++;
	}
	closedir(d);
	*out = all;
	return n;
}

bool pin_exists(const struct pindir *pd, const char *name)
{
	return pd->fd >= 0 && !faccessat(pd->fd, name, F_OK, AT_SYMLINK_NOFOLLOW);
}

const char *pin_obj_kind(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	if (!strcmp(target, "anon_inode:bpf-map"))
		return "map";
	if (!strcmp(target, "anon_inode:bpf-prog"))
		return "prog";
	if (!strcmp(target, "anon_inode:bpf-link"))
		return "link";
	return NULL;
}

int pin_get(const struct pindir *pd, const char *name, const char *kind)
{
	char path[PATH_MAX];
	const char *k;
	struct stat st;
	int fd;

	if (pd->fd < 0 || fstatat(pd->fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -ENOENT;
	if (!S_ISREG(st.st_mode) || pindir_path(pd, name, path))
		return -EBADF;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EBADF;
	k = pin_obj_kind(fd);
	if (!k || strcmp(k, kind)) {
		close(fd);
		return -EBADF;
	}
	return fd;
}

/* Pins FD at PATH, where nothing may be: 0, or -errno said why (WHAT: "the
 * link at " or ""). */
static int pin_at(int fd, const char *path, const char *what)
{
	int err;

	if (!bpf_obj_pin(fd, path))
		return 0;
	err = -errno;
	p_err("cannot pin %s%s: %s", what, path, strerror(-err));
	return err;
}

int pin_stage(const struct pindir *pd, int fd, const char *name)
{
	char staged[256], path[PATH_MAX];
	int err;

	snprintf(staged, sizeof(staged), "%s%s", name, PIN_STAGED);
	err = pindir_path(pd, staged, path);
	if (err)
		return err;
	unlink(path);
	return pin_at(fd, path, "");
}

int pin_commit(const struct pindir *pd, const char *name)
{
	char staged[256], from[PATH_MAX], to[PATH_MAX];
	int err;

	snprintf(staged, sizeof(staged), "%s%s", name, PIN_STAGED);
	if (!pin_exists(pd, staged))
		return 0;
	err = pindir_path(pd, staged, from);
	if (!err)
		err = pindir_path(pd, name, to);
	if (err)
		return err;
	if (rename(from, to)) {
		err = -errno;
		p_err("cannot rename %s to %s: %s", from, to, strerror(-err));
		return err;
	}
	return 0;
}

int pin_replace(const struct pindir *pd, int fd, const char *name)
{
	char tmp[PATH_MAX], path[PATH_MAX], tname[256];
	int err;

	snprintf(tname, sizeof(tname), "%s" PIN_TEMP, name);
	if (pindir_path(pd, tname, tmp) || pindir_path(pd, name, path))
		return -ENAMETOOLONG;
	unlink(tmp); /* a leftover of a process killed here */
	/* bpffs renames over an existing pin atomically. */
	if (bpf_obj_pin(fd, tmp) || rename(tmp, path)) {
		err = -errno;
		p_err("cannot pin %s: %s", path, strerror(-err));
		unlink(tmp);
		return err;
	}
	return 0;
}

int pin_link(const struct pindir *pd, int fd, __u64 cgroup_id)
{
	char path[PATH_MAX];
	int err = pindir_link_path(pd, cgroup_id, path);

	return err ? err : pin_at(fd, path, "the link at ");
}

int pin_remove(const struct pindir *pd, const char *name)
{
	int err;

	if (unlinkat(pd->fd, name, 0) && errno != ENOENT) {
		err = -errno;
		p_err("cannot remove %s/%s: %s", pd->path, name, strerror(-err));
		return err;
	}
	return 0;
}
