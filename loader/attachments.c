// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cgroup.h"
#include "cli.h"

#define MAX_QUERY 64

static int append(struct attachments *as, const struct attachment *a)
{
	struct attachment *more = realloc(as->a, (as->n + 1) * sizeof(*more));

	if (!more) {
		p_err("out of memory");
		return -1;
	}
	as->a = more;
	as->a[as->n++] = *a;
	return 0;
}

/* The pinned link NAME, if it is a cgroup sock_ops link of a sipka program. */
static int link_of(const struct pindir *pd, const char *name, const struct ours *o,
		   struct attachment *a)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;

	memset(a, 0, sizeof(*a));
	fd = pin_get(pd, name, "link");
	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_CGROUP ||
	    info.cgroup.attach_type != BPF_CGROUP_SOCK_OPS || !ours_prog(o, info.prog_id)) {
		close(fd);
		return -1;
	}
	close(fd);
	a->via_link = true;
	pindir_path(pd, name, a->pin);
	a->link_id = info.id;
	a->prog_id = info.prog_id;
	a->cgroup_id = strtoull(name + strlen(SIPKA_PIN_LINK_PREFIX), NULL, 10);
	/* A removed cgroup may keep its id in the link a while. */
	a->defunct = !info.cgroup.cgroup_id || info.cgroup.cgroup_id != a->cgroup_id ||
		     cgroup_path(a->cgroup_id, a->cgroup);
	if (a->defunct)
		snprintf(a->cgroup, sizeof(a->cgroup), "(cgroup id %llu is gone)",
			 (unsigned long long)a->cgroup_id);
	return 0;
}

static struct {
	const struct ours *o;
	struct attachments *as;
	int failed;
} walk;

/* Direct attachments: programs of ours in the cgroup's own list that no
 * link of ours accounts for. */
static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	__u32 ids[MAX_QUERY], cnt = MAX_QUERY, i;
	struct attachment a;
	int fd, j, direct;
	bool dup;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (bpf_prog_query(fd, BPF_CGROUP_SOCK_OPS, 0, NULL, ids, &cnt))
		cnt = 0;
	close(fd);
	for (i = 0; i < cnt; i++) {
		if (!ours_prog(walk.o, ids[i]))
			continue;
		/* Each program once; the query lists link attachments too. */
		for (j = 0, dup = false; j < (int)i; j++)
			dup |= ids[j] == ids[i];
		if (dup)
			continue;
		direct = 0;
		for (j = 0; j < (int)cnt; j++)
			direct += ids[j] == ids[i];
		for (j = 0; j < walk.as->n; j++)
			direct -= walk.as->a[j].via_link && walk.as->a[j].cgroup_id == st->st_ino &&
				  walk.as->a[j].prog_id == ids[i];
		for (; direct > 0 && !walk.failed; direct--) {
			memset(&a, 0, sizeof(a));
			snprintf(a.cgroup, sizeof(a.cgroup), "%s", path);
			a.cgroup_id = st->st_ino;
			a.prog_id = ids[i];
			walk.failed = append(walk.as, &a);
		}
	}
	return walk.failed;
}

int attachments_list(const struct pindir *pd, const struct ours *o, struct attachments *out,
		     bool quiet)
{
	struct attachment a;
	struct entry *e;
	char mnt[PATH_MAX];
	int i, n;

	memset(out, 0, sizeof(*out));
	n = pindir_entries(pd, &e);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (e[i].kind != ENTRY_LINK)
			continue;
		if (e[i].symlink || link_of(pd, e[i].name, o, &a)) {
			out->foreign++;
			if (!quiet)
				p_info("warning: %s/%s is not a link of sipka's program: left alone; remove it if it is stale",
				       pd->path, e[i].name);
			continue;
		}
		if (append(out, &a))
			goto fail;
	}
	free(e);
	e = NULL;
	if (cgroup2_mount(mnt))
		goto fail;
	walk.o = o;
	walk.as = out;
	walk.failed = 0;
	nftw(mnt, visit, 16, FTW_PHYS | FTW_MOUNT);
	if (walk.failed)
		goto fail;
	return 0;
fail:
	free(e);
	attachments_free(out);
	return -1;
}

void attachments_free(struct attachments *as)
{
	free(as->a);
	memset(as, 0, sizeof(*as));
}

int attachment_replace(const struct attachment *a, int new_fd)
{
	int fd, cg, ret;

	if (a->via_link) {
		fd = bpf_obj_get(a->pin);
		ret = fd < 0 ? -1 : bpf_link_update(fd, new_fd, NULL);
		if (ret)
			p_err("cannot put the new program in %s: %s", a->pin, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	fd = bpf_prog_get_fd_by_id(a->prog_id);
	cg = open(a->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || cg < 0) {
		ret = -1;
	} else {
		LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
			    .replace_prog_fd = fd);
		/* One step: no connection made meanwhile goes unarmed. */
		ret = bpf_prog_attach_opts(new_fd, cg, BPF_CGROUP_SOCK_OPS, &opts);
	}
	if (ret)
		p_err("cannot put the new program in place of program %u in %s: %s", a->prog_id,
		      a->cgroup, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (cg >= 0)
		close(cg);
	return ret;
}

int attachment_detach(const struct pindir *pd, const struct attachment *a)
{
	int fd, cg, ret = 0;

	(void)pd;
	if (a->via_link) {
		/* Detach even if another process holds the link open, then unpin. */
		fd = bpf_obj_get(a->pin);
		if (fd >= 0 && bpf_link_detach(fd) && errno != ENOLINK) {
			p_err("cannot detach %s: %s", a->pin, strerror(errno));
			ret = -1;
		}
		if (fd >= 0)
			close(fd);
		if (!ret && unlink(a->pin) && errno != ENOENT) {
			p_err("cannot remove %s: %s", a->pin, strerror(errno));
			ret = -1;
		}
		return ret;
	}
	fd = bpf_prog_get_fd_by_id(a->prog_id);
	cg = open(a->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || cg < 0 || bpf_prog_detach2(fd, cg, BPF_CGROUP_SOCK_OPS)) {
		p_err("cannot detach program %u from %s: %s", a->prog_id, a->cgroup,
		      strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	if (cg >= 0)
		close(cg);
	return ret;
}

/* The nearest cgroup from PATH up to the mount MNT with ID in its own list. */
static void attached_where(const char *path, const char *mnt, __u32 id, char *out)
{
	__u32 ids[MAX_QUERY], cnt, i;
	char dir[PATH_MAX], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(out, PATH_MAX, "an ancestor of %s", path);
	for (;;) {
		cnt = MAX_QUERY;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && !bpf_prog_query(fd, BPF_CGROUP_SOCK_OPS, 0, NULL, ids, &cnt)) {
			for (i = 0; i < cnt; i++) {
				if (ids[i] == id) {
					close(fd);
					snprintf(out, PATH_MAX, "%s", dir);
					return;
				}
			}
		}
		if (fd >= 0)
			close(fd);
		if (!strcmp(dir, mnt) || !(slash = strrchr(dir, '/')) || slash == dir)
			return;
		*slash = '\0';
	}
}

json_t *attachments_others(const char *cgroup, const struct ours *o, bool *nested, bool quiet)
{
	__u32 ids[MAX_QUERY], cnt = MAX_QUERY, i, first = MAX_QUERY, seen = 0;
	char mnt[PATH_MAX], where[PATH_MAX];
	json_t *all = json_array();
	struct bpf_prog_info info;
	__u32 len;
	int fd, pfd;

	*nested = false;
	fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || cgroup2_mount(mnt) ||
	    bpf_prog_query(fd, BPF_CGROUP_SOCK_OPS, BPF_F_QUERY_EFFECTIVE, NULL, ids, &cnt))
		cnt = 0;
	if (fd >= 0)
		close(fd);
	for (i = 0; i < cnt; i++) {
		if (ours_prog(o, ids[i])) {
			seen++;
			if (first == MAX_QUERY)
				first = i;
		}
	}
	*nested = seen > 1;
	for (i = 0; i < cnt; i++) {
		bool after = i > first;

		if (ours_prog(o, ids[i]))
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		pfd = bpf_prog_get_fd_by_id(ids[i]);
		if (pfd >= 0) {
			bpf_obj_get_info_by_fd(pfd, &info, &len);
			close(pfd);
		}
		attached_where(cgroup, mnt, ids[i], where);
		json_array_append_new(all,
				      json_pack("{s:I, s:s, s:s, s:s}", "prog_id",
						(json_int_t)ids[i], "name", info.name, "cgroup",
						where, "runs", after ? "after" : "before"));
		if (!quiet)
			p_info("warning: sock_ops program %u (%s%s) attached to %s also runs on the sockets of %s, %s sipka: %s",
			       ids[i], info.name[0] ? info.name : "no name",
			       !strcmp(info.name, "sipka_sockops") ? ", another sipka" : "", where,
			       cgroup, after ? "after" : "before",
			       after ? "the keepalive settings it makes win over sipka's" :
				       "sipka's keepalive settings win over any it makes");
	}
	return all;
}
