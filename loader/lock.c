// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lock.h"
#include "log.h"
#include "parse.h"
#include "procfs.h"

/* Who holds the flock on the pin dir, from /proc/locks, into BUF. */
static void lock_holder(const struct pindir *pd, char *buf, size_t len)
{
	char line[256], want[64], cmd[128] = "", path[64];
	struct stat st;
	FILE *f;
	int pid = 0, n;

	snprintf(buf, len, "another process");
	if (fstat(pd->fd, &st))
		return;
	snprintf(want, sizeof(want), "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
		 (unsigned long long)st.st_ino);
	f = fopen("/proc/locks", "r");
	while (f && fgets(line, sizeof(line), f)) {
		int p = proc_locks_flock_pid(line, want);

		if (p && p != getpid()) {
			pid = p;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		for (int i = 0; i < n - 1; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[n > 0 ? n : 0] = '\0';
	}
	snprintf(buf, len, "process %d (%s)", pid, cmd[0] ? cmd : "?");
}

/* Whether the directory locked is still the one at the path: a detach that
 * held the lock before may have removed it. */
static bool still_there(const struct pindir *pd)
{
	struct stat a, b;

	return !fstat(pd->fd, &a) && !lstat(pd->path, &b) && a.st_nlink > 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int pindir_lock(struct pindir *pd)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	const char *env = getenv("SIPKA_LOCK_WAIT");
	int i, err, wait_s = PINDIR_LOCK_WAIT_S;
	unsigned long long secs;
	char holder[200];

	if (env && !parse_uint(env, 1, 3600, &secs, holder, sizeof(holder)))
		wait_s = (int)secs;
	else if (env)
		p_info("SIPKA_LOCK_WAIT: %s (seconds, 1 to 3600); waiting the default %d s", holder,
		       wait_s);
	for (i = 0; i < wait_s * 20; i++) {
		if (!flock(pd->fd, LOCK_EX | LOCK_NB)) {
			if (!still_there(pd)) {
				/* Start over on the directory that is there now. */
				pindir_close(pd);
				err = pindir_open(pd, pd->create);
				if (err)
					return err;
				if (pindir_missing(pd)) {
					p_err("sipka was removed from %s meanwhile: nothing is loaded",
					      pd->path);
					return -ENOENT;
				}
				continue;
			}
			pd->locked = true;
			return 0;
		}
		if (errno != EWOULDBLOCK) {
			err = -errno;
			p_err("cannot lock %s: %s", pd->path, strerror(-err));
			return err;
		}
		nanosleep(&nap, NULL);
	}
	lock_holder(pd, holder, sizeof(holder));
	p_err("%s is changing sipka's state in %s; waited %d s. Try again when it is done (or stop it if it hangs)",
	      holder, pd->path, wait_s);
	return -EWOULDBLOCK;
}

static __u64 fnv1a(const char *s)
{
	__u64 hash = 1469598103934665603ULL;

	for (; *s; s++)
		hash = (hash ^ (unsigned char)*s) * 1099511628211ULL;
	return hash;
}

/* The byte of the pin dir's parent directory that stands for its reader:
 * past 0, within off_t. */
static __u64 reader_byte(const char *name)
{
	return 1 + (fnv1a(name) >> 2);
}

/* Whether another open file description holds a lock on the byte. */
static int byte_held(int fd, __u64 byte, bool *held)
{
	struct flock q = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)byte, .l_len = 1
	};

	if (fcntl(fd, F_OFD_GETLK, &q))
		return -errno;
	*held = q.l_type != F_UNLCK;
	return 0;
}

/* A read lock (the directory cannot be opened for writing) taken when no one
 * holds one, and kept when no one took one at the same moment; both back
 * off and try again otherwise. */
static int lock_byte(int fd, __u64 byte)
{
	struct flock l = {
		.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = (off_t)byte, .l_len = 1
	};
	struct timespec nap = { 0, 0 };
	bool held;
	int i, err;

	for (i = 0; i < 8; i++) {
		err = byte_held(fd, byte, &held);
		if (err || held)
			return err ? err : -EADDRINUSE;
		l.l_type = F_RDLCK;
		if (fcntl(fd, F_OFD_SETLK, &l))
			return -errno;
		err = byte_held(fd, byte, &held);
		if (err || !held)
			return err;
		l.l_type = F_UNLCK;
		if (fcntl(fd, F_OFD_SETLK, &l))
			return -errno;
		/* 1 to 50 ms, not the same in both: the pid and the clock's nanoseconds. */
		nap.tv_nsec =
			(long)(((__u64)clock_ns(CLOCK_MONOTONIC) ^ (__u64)getpid()) % 50 + 1) *
			1000 * 1000;
		nanosleep(&nap, NULL);
	}
	return -EADDRINUSE;
}

/* An abstract socket: what sipka 0.3.0's reader takes, and sees. */
static int reader_socket(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, err;

	/* sun_path[0] = 0: the abstract namespace, nothing on disk. */
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "sipka-events-%016llx",
		 (unsigned long long)fnv1a(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pindir_reader_lock(const char *path, struct reader_lock *lk)
{
	char parent[PATH_MAX];
	const char *name = strrchr(path, '/');
	int err;

	lk->sock = lk->dir = -1;
	/* Named after the path, not the pin dir: a follower keeps it while a
	 * detach and attach make the pin dir anew. */
	if (!name || snprintf(parent, sizeof(parent), "%.*s", (int)(name - path), path) >=
			     (int)sizeof(parent))
		return -EINVAL;
	lk->dir = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lk->dir < 0) {
		err = -errno;
		goto fail;
	}
	err = lock_byte(lk->dir, reader_byte(name + 1));
	if (err)
		goto fail;
	/* The socket last: a reader that has it holds both. */
	lk->sock = reader_socket(path);
	if (lk->sock >= 0)
		return 0;
	err = lk->sock;
fail:
	pindir_reader_unlock(lk);
	return err;
}

void pindir_reader_unlock(struct reader_lock *lk)
{
	if (lk->sock >= 0)
		close(lk->sock);
	if (lk->dir >= 0)
		close(lk->dir);
	lk->sock = lk->dir = -1;
}
