// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pindir.h"
#include "sipka.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

const struct pin_spec pin_specs[] = {
	{ SIPKA_PIN_RULES, PIN_MAP, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1 },
	{ SIPKA_PIN_CONFIG, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sipka_rule),
	  SIPKA_PORTS },
	{ SIPKA_PIN_STATS, PIN_MAP, BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct sipka_counters),
	  SIPKA_MAX_STATS },
	{ SIPKA_PIN_SLOTS, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, 4, SIPKA_PORTS },
	{ SIPKA_PIN_CONNS, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sipka_conn), 0 },
	{ SIPKA_PIN_EVENTS, PIN_MAP, BPF_MAP_TYPE_RINGBUF, 0, 0, SIPKA_EVENTS_SIZE },
	{ SIPKA_PIN_UNTRACKED, PIN_MAP, BPF_MAP_TYPE_SK_STORAGE, 4, 4, 0 },
	{ SIPKA_PIN_PROG, PIN_PROG, 0, 0, 0, 0 },
	{ SIPKA_PIN_META, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sipka_meta), 1 },
};
const unsigned int pin_specs_n = sizeof(pin_specs) / sizeof(pin_specs[0]);

/* Layout 1 (sipka 0.1.0) kept per-socket state in socket storage. */
const char *const pin_obsolete[] = { "sockets", NULL };

const struct pin_spec *pin_spec(const char *name)
{
	unsigned int i;

	for (i = 0; i < pin_specs_n; i++)
		if (!strcmp(pin_specs[i].name, name))
			return &pin_specs[i];
	return NULL;
}

int pindir_path(const struct pindir *pd, const char *name, char *buf)
{
	return snprintf(buf, PATH_MAX, "%s/%s", pd->path, name) >= PATH_MAX ? -1 : 0;
}

int pindir_link_path(const struct pindir *pd, __u64 cgroup_id, char *buf)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%llu", SIPKA_PIN_LINK_PREFIX,
		 (unsigned long long)cgroup_id);
	return pindir_path(pd, name, buf);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static int caps(struct __user_cap_data_struct *d)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, sizeof(*d) * _LINUX_CAPABILITY_U32S_3);
	return syscall(SYS_capget, &h, d);
}

bool pindir_can_setns(void)
{
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	return !caps(d) && has_cap(d, CAP_SYS_ADMIN);
}

int pindir_check_env(const struct pindir *pd)
{
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	char parent[PATH_MAX], *slash;
	const char *missing = NULL;
	struct statfs fs;

	if (caps(d))
		missing = "root";
	else if (!has_cap(d, CAP_SYS_ADMIN) && !has_cap(d, CAP_BPF))
		missing = "CAP_BPF";
	else if (!has_cap(d, CAP_SYS_ADMIN) && !has_cap(d, CAP_NET_ADMIN))
		missing = "CAP_NET_ADMIN";
	else if (!has_cap(d, CAP_SYS_ADMIN) && !has_cap(d, CAP_PERFMON))
		missing = "CAP_PERFMON (the program reads the socket's TCP state)";
	if (missing) {
		p_err("sipka needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON; this process lacks %s. Run it with sudo",
		      missing);
		return -1;
	}
	/* The pin dir itself, or the directory it will be made in. */
	if (statfs(pd->path, &fs)) {
		snprintf(parent, sizeof(parent), "%s", pd->path);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		if (statfs(parent, &fs)) {
			p_err("%s: %s: the pin dir must be inside a BPF filesystem; mount one with 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf'",
			      parent, strerror(errno));
			return -1;
		}
	}
	if (fs.f_type != BPF_FS_MAGIC) {
		p_err("%s is not on a BPF filesystem (bpffs is not mounted there); mount it with 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf', or choose another --pin-dir",
		      pd->path);
		return -1;
	}
	return 0;
}

int pindir_open(struct pindir *pd, bool create)
{
	struct stat st;

	pd->create = create;
	if (create && mkdir(pd->path, 0700) && errno != EEXIST) {
		p_err("cannot create the pin dir %s: %s", pd->path, strerror(errno));
		return -1;
	}
	if (lstat(pd->path, &st)) {
		if (errno == ENOENT)
			return -ENOENT;
		p_err("cannot open the pin dir %s: %s%s", pd->path, strerror(errno),
		      errno == EACCES ? " (run sipka as root)" : "");
		return -1;
	}
	/* Anyone who can write here can detach sipka or plant a link of another
	 * tool for root's 'sipka detach' to remove. */
	if (!S_ISDIR(st.st_mode)) {
		p_err("the pin dir %s is not a directory%s; remove it, or choose another --pin-dir",
		      pd->path, S_ISLNK(st.st_mode) ? " (a symbolic link: never followed)" : "");
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		p_err("the pin dir %s is %s (owner uid %u, mode %04o): others could remove or replace sipka's pins. Fix it with 'chown root:root %s && chmod 0700 %s', or remove it if you did not make it",
		      pd->path, st.st_uid ? "not root's" : "writable by group or others", st.st_uid,
		      st.st_mode & 07777, pd->path, pd->path);
		return -1;
	}
	pd->fd = open(pd->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pd->fd < 0) {
		p_err("cannot open the pin dir %s: %s%s", pd->path, strerror(errno),
		      errno == EACCES ? " (run sipka as root)" : "");
		return -1;
	}
	return 0;
}

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
		char type[16], dev[64];
		int p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:2a:567 0 EOF" */
		if (sscanf(line, "%*d: %15s %*s %*s %d %63s", type, &p, dev) == 3 &&
		    !strcmp(type, "FLOCK") && !strcmp(dev, want) && p != getpid()) {
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
	int i, wait_s = PINDIR_LOCK_WAIT_S;
	char holder[200];

	if (env && atoi(env) > 0 && atoi(env) <= 3600)
		wait_s = atoi(env);
	for (i = 0; i < wait_s * 20; i++) {
		if (!flock(pd->fd, LOCK_EX | LOCK_NB)) {
			if (!still_there(pd)) {
				/* Start over on the directory that is there now. */
				pindir_close(pd);
				if (pindir_open(pd, pd->create) == -ENOENT)
					p_err("sipka was removed from %s meanwhile: nothing is loaded",
					      pd->path);
				if (pd->fd < 0)
					return -1;
				continue;
			}
			pd->locked = true;
			return 0;
		}
		if (errno != EWOULDBLOCK) {
			p_err("cannot lock %s: %s", pd->path, strerror(errno));
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	lock_holder(pd, holder, sizeof(holder));
	p_err("%s is changing sipka's state in %s; waited %d s. Try again when it is done (or stop it if it hangs)",
	      holder, pd->path, wait_s);
	return -1;
}

void pindir_close(struct pindir *pd)
{
	if (pd->fd >= 0)
		close(pd->fd); /* releases the lock */
	pd->fd = -1;
	pd->locked = false;
}

int pindir_reader_lock(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	__u64 hash = 1469598103934665603ULL; /* FNV-1a of the path */
	const char *c;
	int fd;

	/* Named after the path, not the directory: a follower keeps it while
	 * a detach and attach make the pin dir anew. sun_path[0] = 0: the
	 * abstract namespace, nothing on disk. */
	for (c = path; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 1099511628211ULL;
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "sipka-events-%016llx",
		 (unsigned long long)hash);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool ours_name(const char *name)
{
	int i;

	if (pin_spec(name))
		return true;
	for (i = 0; pin_obsolete[i]; i++)
		if (!strcmp(name, pin_obsolete[i]))
			return true;
	return false;
}

static enum entry_kind classify(const char *name)
{
	size_t n = strlen(name), p = strlen(SIPKA_PIN_LINK_PREFIX);
	char base[256];

	if (ours_name(name))
		return ENTRY_OURS;
	if (n > 4 && n < sizeof(base) &&
	    (!strcmp(name + n - 4, PIN_STAGED) || !strcmp(name + n - 4, PIN_TEMP))) {
		memcpy(base, name, n - 4);
		base[n - 4] = '\0';
		if (ours_name(base))
			return ENTRY_STAGED;
		name = base; /* link-N-tmp */
		n -= 4;
		if (!strncmp(name, SIPKA_PIN_LINK_PREFIX, p) && n > p &&
		    strspn(name + p, "0123456789") == n - p)
			return ENTRY_STAGED;
		return ENTRY_OTHER;
	}
	if (!strncmp(name, SIPKA_PIN_LINK_PREFIX, p) && n > p &&
	    strspn(name + p, "0123456789") == n - p)
		return ENTRY_LINK;
	return ENTRY_OTHER;
}

int pindir_entries(const struct pindir *pd, struct entry **out)
{
	struct entry *all = NULL, *more;
	struct dirent *e;
	struct stat st;
	int n = 0, fd;
	DIR *d;

	*out = NULL;
	fd = openat(pd->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		p_err("cannot read %s: %s", pd->path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		more = realloc(all, (n + 1) * sizeof(*all));
		if (!more) {
			free(all);
			closedir(d);
			p_err("out of memory");
			return -1;
		}
		all = more;
		snprintf(all[n].name, sizeof(all[n].name), "%s", e->d_name);
		all[n].kind = classify(e->d_name);
		all[n].symlink = !fstatat(pd->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
				 !S_ISREG(st.st_mode);
		n++;
	}
	closedir(d);
	*out = all;
	return n;
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

	if (fstatat(pd->fd, name, &st, AT_SYMLINK_NOFOLLOW))
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

int pin_replace(const struct pindir *pd, int fd, const char *name)
{
	char tmp[PATH_MAX], path[PATH_MAX], tname[256];

	snprintf(tname, sizeof(tname), "%s" PIN_TEMP, name);
	if (pindir_path(pd, tname, tmp) || pindir_path(pd, name, path))
		return -1;
	unlink(tmp); /* a leftover of a process killed here */
	/* bpffs renames over an existing pin atomically. */
	if (bpf_obj_pin(fd, tmp) || rename(tmp, path)) {
		p_err("cannot pin %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int pin_remove(const struct pindir *pd, const char *name)
{
	if (unlinkat(pd->fd, name, 0) && errno != ENOENT) {
		p_err("cannot remove %s/%s: %s", pd->path, name, strerror(errno));
		return -1;
	}
	return 0;
}
