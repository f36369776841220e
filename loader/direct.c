// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "direct.h"
#include "pins.h"

static struct {
	__u32 prog_id;
	struct direct *found;
	int n;
} walk;

/* Whether sipka's link for CGROUP_ID runs PROG_ID. */
static bool own_link_runs(__u64 cgroup_id, __u32 prog_id)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	char pin[PATH_MAX];
	bool runs;
	int fd;

	link_pin_path(pin, cgroup_id);
	fd = bpf_obj_get(pin);
	if (fd < 0)
		return false;
	runs = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.prog_id == prog_id;
	close(fd);
	return runs;
}

/* How often PROG_ID is attached to the cgroup FD, less sipka's own link. */
static int direct_count(int fd, __u64 cgroup_id)
{
	__u32 ids[64], cnt = 64, i;
	int n = 0;

	if (bpf_prog_query(fd, BPF_CGROUP_SOCK_OPS, 0, NULL, ids, &cnt))
		return 0;
	for (i = 0; i < cnt; i++)
		n += ids[i] == walk.prog_id;
	return n - (n && own_link_runs(cgroup_id, walk.prog_id));
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct direct *more;
	int fd;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (direct_count(fd, st->st_ino) > 0) {
		more = realloc(walk.found, (walk.n + 1) * sizeof(*more));
		if (more) {
			walk.found = more;
			snprintf(more[walk.n].path, PATH_MAX, "%s", path);
			more[walk.n++].cgroup_id = st->st_ino;
		}
	}
	close(fd);
	return 0;
}

int direct_list(__u32 prog_id, struct direct **out)
{
	char mnt[PATH_MAX];

	*out = NULL;
	if (cgroup2_mount(mnt))
		return -1;
	memset(&walk, 0, sizeof(walk));
	walk.prog_id = prog_id;
	nftw(mnt, visit, 16, FTW_PHYS | FTW_MOUNT);
	*out = walk.found;
	return walk.n;
}

/* Runs FN on every cgroup where PROG_ID is attached directly; how many. */
static int each_direct(__u32 prog_id, int (*fn)(int cg_fd, const char *path, void *ctx), void *ctx)
{
	struct direct *d;
	int i, n, fd, done = 0;

	n = direct_list(prog_id, &d);
	for (i = 0; i < n; i++) {
		fd = open(d[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fn(fd, d[i].path, ctx)) {
			close(fd);
			free(d);
			return -1;
		}
		close(fd);
		done++;
	}
	free(d);
	return n < 0 ? -1 : done;
}

struct replace {
	int old_fd, new_fd;
};

static int replace_one(int cg_fd, const char *path, void *ctx)
{
	const struct replace *r = ctx;
	LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
		    .replace_prog_fd = r->old_fd);

	if (bpf_prog_attach_opts(r->new_fd, cg_fd, BPF_CGROUP_SOCK_OPS, &opts)) {
		err("cannot put the new program in place of the old one in %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int direct_replace(__u32 old_id, int old_fd, int new_fd)
{
	struct replace r = { old_fd, new_fd };

	return each_direct(old_id, replace_one, &r);
}
