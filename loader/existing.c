// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "existing.h"
#include "prog.h"

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
		p_err("cannot start the TCP iterator: %s", strerror(errno));
		return -1;
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
	int ns;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return 0; /* it exited meanwhile: so did its sockets, or another has them */
	if (setns(ns, CLONE_NEWNET)) {
		p_err("cannot enter the network namespace of process %d: %s", pid, strerror(errno));
		close(ns);
		return -1;
	}
	close(ns);
	return iterate(it, read_it, ctx);
}

int iter_walk(const struct state *s, const struct attachments *as, enum iter_kind which,
	      int (*read_it)(int fd, void *ctx), void *ctx, unsigned int *skipped)
{
	bool can_setns = pindir_can_setns();
	struct iter *it = NULL;
	int i, home = -1, ret = -1;
	struct stat self;

	*skipped = 0;
	memset(&w, 0, sizeof(w));
	if (!as->n)
		return 0; /* attached nowhere: nothing to walk */
	if (iter_open(s, which, &it))
		return -1;
	w.cgroups_fd = iter_cgroups_fd(it);
	if (stat("/proc/self/ns/net", &self)) {
		p_err("cannot read /proc/self/ns/net: %s", strerror(errno));
		goto out;
	}
	add_netns_of(getpid());
	for (i = 0; i < as->n; i++)
		if (!as->a[i].defunct)
			nftw(as->a[i].cgroup, add_cgroup, 16, FTW_PHYS | FTW_MOUNT);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		p_err("cannot open /proc/self/ns/net: %s", strerror(errno));
		goto out;
	}
	ret = 0;
	for (i = 0; i < w.nnetns && !ret; i++) {
		if (w.netns[i] == self.st_ino)
			ret = iterate(it, read_it, ctx);
		else if (!can_setns) /* entering a namespace needs CAP_SYS_ADMIN */
			(*skipped)++;
		else
			ret = iterate_in(it, w.pid[i], read_it, ctx);
	}
	if (w.nnetns > 1 && can_setns && setns(home, CLONE_NEWNET)) {
		p_err("cannot return to sipka's network namespace: %s", strerror(errno));
		ret = -1;
	}
out:
	if (home >= 0)
		close(home);
	iter_close(it);
	return ret;
}

/* Adds up the bytes (enum sipka_existing) of one iteration. */
static int count(int fd, void *ctx)
{
	struct existing *x = ctx;
	char buf[4096];
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			switch (buf[i]) {
			case SIPKA_EXISTING_ARMED: x->armed++; break;
			case SIPKA_EXISTING_RETUNED: x->retuned++; break;
			case SIPKA_EXISTING_UNTRACKED:
				x->armed++;
				x->untracked++;
				break;
			default: x->failed++; break;
			}
		}
	}
	if (n < 0) {
		p_err("the TCP iterator failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int arm_existing(const struct state *s, const struct attachments *as, struct existing *x)
{
	memset(x, 0, sizeof(*x));
	x->tracked = s->meta.features & SIPKA_FEAT_ITER_TRACK;
	if (!(s->meta.features & SIPKA_FEAT_ITER_ARM)) {
		p_info("warning: this kernel cannot arm connections that already exist (a TCP iterator may not set socket options: Linux 5.16 or later); connections established from now on are armed");
		return 0;
	}
	x->supported = true;
	return iter_walk(s, as, ITER_ARM, count, x, &x->netns_skipped);
}

json_t *existing_json(const struct existing *x)
{
	if (!x->supported)
		return json_null();
	return json_pack("{s:i, s:i, s:i, s:i, s:b, s:i}", "armed", x->armed, "retuned", x->retuned,
			 "untracked", x->untracked, "failed", x->failed, "closes_counted",
			 x->tracked, "netns_skipped", x->netns_skipped);
}

bool existing_partial(const struct existing *x)
{
	return x->netns_skipped > 0;
}

void existing_print(const struct existing *x)
{
	if (!x->supported)
		return;
	printf("sipka: existing connections: %u armed, %u retuned", x->armed, x->retuned);
	if (x->failed)
		printf(", %u failed (see 'sipka stats', ERRORS)", x->failed);
	printf("\n");
	if (x->untracked)
		p_info("sipka: %u of them are armed, but this kernel cannot tell sipka when they close (Linux 6.1 cannot; 6.12 can): their deaths are not counted. The kernel still closes a dead peer's connection; connections made from now on are counted",
		       x->untracked);
	if (x->netns_skipped)
		p_info("warning: existing connections in %u other network namespaces were not armed: entering them needs CAP_SYS_ADMIN. Connections made from now on are armed",
		       x->netns_skipped);
}

struct listing {
	struct sipka_conn_info *c;
	size_t n;
};

static int collect(int fd, void *ctx)
{
	struct listing *l = ctx;
	struct sipka_conn_info info, *more;
	ssize_t n;

	while ((n = read(fd, &info, sizeof(info))) == sizeof(info)) {
		more = realloc(l->c, (l->n + 1) * sizeof(*more));
		if (!more) {
			p_err("out of memory");
			return -1;
		}
		l->c = more;
		l->c[l->n++] = info;
	}
	if (n < 0) {
		p_err("the TCP iterator failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int connections_list(const struct state *s, const struct attachments *as,
		     struct sipka_conn_info **out, size_t *n, unsigned int *skipped)
{
	struct listing l = { 0 };
	int ret = iter_walk(s, as, ITER_LIST, collect, &l, skipped);

	if (ret) {
		free(l.c);
		l.c = NULL;
		l.n = 0;
	}
	*out = l.c;
	*n = l.n;
	return ret;
}
