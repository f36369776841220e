// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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
#include "direct.h"
#include "existing.h"
#include "pins.h"
#include "sipka.h"
#include "sipka.skel.h"

/*
 * A TCP iterator walks the sockets of the network namespace it is created
 * in, so it runs once in each namespace that a process of an attached cgroup
 * lives in. The cgroup filter itself is in the iterator (sipka_arm_cgroups).
 */
#define MAX_NETNS 256

static struct walk {
	int cgroups_fd;		/* sipka_arm_cgroups */
	ino_t netns[MAX_NETNS];	/* each namespace once */
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
		return;		/* gone meanwhile */
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

/* Runs the iterator in the network namespace of PID; adds up what it did. */
static int iterate_in(struct bpf_link *link, pid_t pid, struct existing *x)
{
	char path[64], buf[4096];
	int ns, fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return 0;	/* it exited meanwhile: so did its sockets, or another has them */
	if (setns(ns, CLONE_NEWNET)) {
		err("cannot enter the network namespace of process %d: %s", pid, strerror(errno));
		close(ns);
		return -1;
	}
	close(ns);
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err("cannot start the TCP iterator: %s", strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			switch (buf[i]) {
			case SIPKA_EXISTING_ARMED:   x->armed++; break;
			case SIPKA_EXISTING_RETUNED: x->retuned++; break;
			default:		     x->failed++; break;
			}
		}
	}
	close(fd);
	if (n < 0) {
		err("the TCP iterator failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The cgroups sipka is attached to: through its links, and directly. */
static int attached_cgroups(char (**paths)[PATH_MAX])
{
	struct link_pin *links;
	struct direct *direct = NULL;
	int i, n, nd = 0, k = 0, prog;

	n = links_list(&links);
	prog = pinned_prog();
	if (prog >= 0) {
		nd = direct_list(prog_id(prog), &direct);
		close(prog);
	}
	*paths = calloc((n > 0 ? n : 0) + (nd > 0 ? nd : 0) + 1, PATH_MAX);
	for (i = 0; *paths && i < n; i++)
		if (links[i].alive)
			snprintf((*paths)[k++], PATH_MAX, "%s", links[i].cgroup);
	for (i = 0; *paths && i < nd; i++)
		snprintf((*paths)[k++], PATH_MAX, "%s", direct[i].path);
	links_free(links, n);
	free(direct);
	return *paths ? k : -1;
}

int arm_existing(struct existing *x)
{
	struct sipka_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	char (*paths)[PATH_MAX];
	int i, n, home = -1, ret = -1;

	memset(x, 0, sizeof(*x));
	memset(&w, 0, sizeof(w));
	n = attached_cgroups(&paths);
	if (n <= 0) {
		x->supported = true;	/* attached nowhere: nothing to arm */
		free(paths);
		return n;
	}
	skel = sipka_bpf__open();
	if (!skel) {
		err("cannot open the embedded BPF object: %s", strerror(errno));
		goto out;
	}
	bpf_program__set_autoload(skel->progs.sipka_sockops, false);
	pins_reuse_maps(skel);
	if (sipka_bpf__load(skel)) {
		/* Connections made from now on are armed all the same. */
		note("warning: this kernel cannot arm connections that already exist (it needs a TCP iterator that may call bpf_setsockopt, with TCP_BPF_SOCK_OPS_CB_FLAGS; seen working on Linux 6.18); connections established from now on are armed. Run with -vv for the kernel's reason");
		ret = 0;
		goto out;
	}
	x->supported = true;
	w.cgroups_fd = bpf_map__fd(skel->maps.sipka_arm_cgroups);
	add_netns_of(getpid());
	for (i = 0; i < n; i++)
		nftw(paths[i], add_cgroup, 16, FTW_PHYS | FTW_MOUNT);
	link = bpf_program__attach_iter(skel->progs.sipka_existing, NULL);
	if (!link) {
		err("cannot create the TCP iterator: %s", strerror(errno));
		goto out;
	}
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		err("cannot open /proc/self/ns/net: %s", strerror(errno));
		goto out;
	}
	ret = 0;
	for (i = 0; i < w.nnetns && !ret; i++)
		ret = iterate_in(link, w.pid[i], x);
	if (setns(home, CLONE_NEWNET)) {
		err("cannot return to sipka's network namespace: %s", strerror(errno));
		ret = -1;
	}
out:
	if (home >= 0)
		close(home);
	bpf_link__destroy(link);
	sipka_bpf__destroy(skel);
	free(paths);
	return ret;
}

json_t *existing_json(const struct existing *x)
{
	if (!x->supported)
		return json_null();
	return json_pack("{s:i, s:i, s:i}", "armed", x->armed, "retuned", x->retuned,
			 "failed", x->failed);
}

void existing_print(const struct existing *x)
{
	if (!x->supported)
		return;
	printf("sipka: existing connections: %u armed, %u retuned", x->armed, x->retuned);
	if (x->failed)
		printf(", %u failed (see 'sipka stats', ERRORS)", x->failed);
	printf("\n");
}
