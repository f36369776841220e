// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "iter.h"
#include "log.h"

const char *feature_name(unsigned int bit)
{
	switch (bit) {
	case SIPKA_FEAT_ITER_ARM: return "arm_existing";
	case SIPKA_FEAT_ITER_TRACK: return "track_existing";
	default: return NULL;
	}
}

/* An iterator program loaded, and attached (its link is the skeleton's). */
struct iter {
	struct sipka_bpf *skel;
	int link_fd;
};

static void iter_close(struct iter *it)
{
	skel_close(it->skel);
	it->skel = NULL;
	it->link_fd = -1;
}

/* Iterator WHICH against S's maps; PROBE_COOKIE: the probe's connection.
 * SAY: print why it fails (the probe takes a refusal as an answer). */
static int iter_load(const struct state *s, enum iter_kind which, __u64 probe_cookie, bool say,
		     struct iter *it)
{
	int err;

	it->link_fd = -1;
	it->skel = skel_open(which, s, probe_cookie);
	if (!it->skel)
		return -ENOMEM;
	err = say ? skel_load(it->skel) : skel_try_load(it->skel);
	if (!err) {
		it->link_fd = skel_attach_iter(it->skel, which);
		err = it->link_fd < 0 ? it->link_fd : 0;
		if (err && say)
			p_err("cannot create the TCP iterator: %s", strerror(-err));
	}
	if (err)
		iter_close(it);
	return err;
}

/* A new iteration (read it to run it), in the caller's network namespace:
 * its fd, or -errno. */
static int iter_create(const struct iter *it)
{
	int fd = bpf_iter_create(it->link_fd);

	return fd < 0 ? -errno : fd;
}

__u32 iter_probe(const struct state *m)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = -1, c = -1, s = -1, fd;
	__u64 cookie = 0;
	__u32 features = 0;
	struct iter it;
	__u8 r;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) ||
	    (s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		goto out;
	len = sizeof(cookie);
	if (getsockopt(c, SOL_SOCKET, SO_COOKIE, &cookie, &len) || !cookie)
		goto out;
	if (iter_load(m, ITER_ARM, cookie, false, &it))
		goto out;
	fd = iter_create(&it);
	while (fd >= 0 && read(fd, &r, 1) == 1) {
		features |= SIPKA_FEAT_ITER_ARM;
		if (r == SIPKA_EXISTING_PROBED)
			features |= SIPKA_FEAT_ITER_TRACK;
	}
	if (fd >= 0)
		close(fd);
	iter_close(&it);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	return features;
}

/*
 * A TCP iterator walks the sockets of the network namespace it is created
 * in, so it runs once in each namespace that a process of an attached cgroup
 * lives in. The cgroup filter itself is in the iterator (sipka_arm_cgroups).
 */
#define MAX_NETNS 256

static struct walk {
	int cgroups_fd;		/* sipka_arm_cgroups */
	ino_t netns[MAX_NETNS]; /* each namespace once */
	pid_t pid[MAX_NETNS];	/* a process in it */
	int nnetns;
} w;

static void add_netns_of(pid_t pid)
{
	char path[64];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st))
		return; /* gone meanwhile */
	for (i = 0; i < w.nnetns; i++)
		if (w.netns[i] == st.st_ino)
			return;
	if (w.nnetns < MAX_NETNS) {
		w.pid[w.nnetns] = pid;
		w.netns[w.nnetns++] = st.st_ino;
	}
}

static int add_cgroup(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char procs[PATH_MAX];
	__u64 id = st->st_ino;
	__u8 yes = 1;
	FILE *f;
	int pid;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	bpf_map_update_elem(w.cgroups_fd, &id, &yes, BPF_ANY);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "r");
	while (f && fscanf(f, "%d", &pid) == 1)
		add_netns_of(pid);
	if (f)
		fclose(f);
	return 0;
}

/* Runs the iterator once in the current network namespace; READ gets it. */
static int iterate(const struct iter *it, int (*read_it)(int fd, void *ctx), void *ctx)
{
	int fd, ret;

	fd = iter_create(it);
	if (fd < 0) {
		p_err("cannot start the TCP iterator: %s", strerror(-fd));
		return fd;
	}
	ret = read_it(fd, ctx);
	close(fd);
	return ret;
}

/* Runs the iterator in the network namespace of PID. */
static int iterate_in(const struct iter *it, pid_t pid, int (*read_it)(int fd, void *ctx),
		      void *ctx)
{
	char path[64];
	int ns, err;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return 0; /* it exited meanwhile: so did its sockets, or another has them */
	if (setns(ns, CLONE_NEWNET)) {
		err = -errno;
		p_err("cannot enter the network namespace of process %d: %s", pid, strerror(-err));
		close(ns);
		return err;
	}
	close(ns);
	return iterate(it, read_it, ctx);
}

int iter_walk(const struct state *s, const struct attachments *as, enum iter_kind which,
	      int (*read_it)(int fd, void *ctx), void *ctx, unsigned int *skipped)
{
	bool can_setns = env_can_setns();
	int i, home = -1, ret;
	struct stat self;
	struct iter it;

	*skipped = 0;
	memset(&w, 0, sizeof(w));
	if (!as->n)
		return 0; /* attached nowhere: nothing to walk */
	ret = iter_load(s, which, 0, true, &it);
	if (ret)
		return ret;
	w.cgroups_fd = skel_cgroups_fd(it.skel);
	if (stat("/proc/self/ns/net", &self)) {
		ret = -errno;
		p_err("cannot read /proc/self/ns/net: %s", strerror(-ret));
		goto out;
	}
	add_netns_of(getpid());
	for (i = 0; i < as->n; i++)
		if (!as->a[i].defunct)
			nftw(as->a[i].cgroup, add_cgroup, 16, FTW_PHYS | FTW_MOUNT);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		ret = -errno;
		p_err("cannot open /proc/self/ns/net: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < w.nnetns && !ret; i++) {
		if (w.netns[i] == self.st_ino)
			ret = iterate(&it, read_it, ctx);
		else if (!can_setns) /* entering a namespace needs CAP_SYS_ADMIN */
			(*skipped)++;
		else
			ret = iterate_in(&it, w.pid[i], read_it, ctx);
	}
	if (w.nnetns > 1 && can_setns && setns(home, CLONE_NEWNET)) {
		ret = -errno;
		p_err("cannot return to sipka's network namespace: %s", strerror(-ret));
	}
out:
	if (home >= 0)
		close(home);
	iter_close(&it);
	return ret;
}
