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
#include "log.h"
#include "maps.h"
#include "sipka.h"

#define MAX_QUERY 64

static int append(struct attachments *as, const struct attachment *a)
{
	struct attachment *more = realloc(as->a, (as->n + 1) * sizeof(*more));

	if (!more) {
		p_err("out of memory");
		return -ENOMEM;
	}
	as->a = more;
	as->a[as->n++] = *a;
	return 0;
}

/* The pinned link NAME, if it is a cgroup sock_ops link of a sipka program:
 * 0, or -ENOENT if it is not (nothing printed). */
static int link_of(const struct pindir *pd, const char *name, const struct ours *o,
		   struct attachment *a)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err;

	memset(a, 0, sizeof(*a));
	fd = pin_get(pd, name, "link");
	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_CGROUP ||
	    info.cgroup.attach_type != BPF_CGROUP_SOCK_OPS || !ours_prog(o, info.prog_id)) {
		close(fd);
		return -ENOENT;
	}
	close(fd);
	a->via_link = true;
	pindir_path(pd, name, a->pin);
	a->link_id = info.id;
	a->prog_id = info.prog_id;
	a->cgroup_id = strtoull(name + strlen(SIPKA_PIN_LINK_PREFIX), NULL, 10);
	/* A removed cgroup may keep its id in the link a while. A cgroup the
	 * mount does not show (a container's cgroup namespace) is not gone. */
	err = info.cgroup.cgroup_id && info.cgroup.cgroup_id == a->cgroup_id ?
		      cgroup_path(a->cgroup_id, a->cgroup) :
		      -ENOENT;
	a->defunct = err && err != -EXDEV;
	if (a->defunct)
		snprintf(a->cgroup, sizeof(a->cgroup), "(cgroup id %llu is gone)",
			 (unsigned long long)a->cgroup_id);
	else if (err)
		snprintf(a->cgroup, sizeof(a->cgroup),
			 "(cgroup id %llu, not under this cgroup v2 mount)",
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

/* Notes the link-N pin NAME that is not sipka's link. */
static int add_foreign(struct attachments *as, const char *name)
{
	char(*more)[256] = realloc(as->foreign_pin, (as->foreign + 1) * sizeof(*more));

	if (!more) {
		p_err("out of memory");
		return -ENOMEM;
	}
	as->foreign_pin = more;
	snprintf(as->foreign_pin[as->foreign++], sizeof(*more), "%s", name);
	return 0;
}

int attachments_list(const struct pindir *pd, struct attachments *out)
{
	struct attachment a;
	struct entry *e = NULL;
	char mnt[PATH_MAX];
	int i, n, err;

	memset(out, 0, sizeof(*out));
	err = ours_collect(pd, &out->ours);
	if (err)
		return err;
	n = pindir_entries(pd, &e);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (e[i].kind != ENTRY_LINK)
			continue;
		if (e[i].symlink || link_of(pd, e[i].name, &out->ours, &a))
			err = add_foreign(out, e[i].name);
		else
			err = append(out, &a);
		if (err)
			goto fail;
	}
	free(e);
	e = NULL;
	err = cgroup2_mount(mnt);
	if (err)
		goto fail;
	walk.o = &out->ours;
	walk.as = out;
	walk.failed = 0;
	nftw(mnt, visit, 16, FTW_PHYS | FTW_MOUNT);
	err = walk.failed;
	if (err)
		goto fail;
	return 0;
fail:
	free(e);
	attachments_free(out);
	return err;
}

void attachments_warn_foreign(const struct pindir *pd, const struct attachments *as)
{
	int i;

	for (i = 0; i < as->foreign; i++)
		p_info("warning: %s/%s is not a link of sipka's program: left alone; remove it if it is stale",
		       pd->path, as->foreign_pin[i]);
}

void attachments_free(struct attachments *as)
{
	free(as->a);
	free(as->foreign_pin);
	memset(as, 0, sizeof(*as));
}

/* What acting on attachment A needs: its link, or its program and cgroup. */
struct handle {
	int link, prog, cg;
};

static void handle_close(struct handle *h)
{
	int *each[] = { &h->link, &h->prog, &h->cg };

	fds_close(each, sizeof(each) / sizeof(each[0]));
}

/* Opens what A needs: 0, or -errno (nothing printed). */
static int handle_open(const struct attachment *a, struct handle *h)
{
	int err = 0;

	h->link = h->prog = h->cg = -1;
	if (a->via_link) {
		h->link = bpf_obj_get(a->pin);
		return h->link < 0 ? -errno : 0;
	}
	h->prog = bpf_prog_get_fd_by_id(a->prog_id);
	if (h->prog >= 0)
		h->cg = open(a->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->prog < 0 || h->cg < 0) {
		err = -errno;
		handle_close(h);
	}
	return err;
}

int attachment_replace(const struct attachment *a, int new_fd)
{
	struct handle h;
	int err = handle_open(a, &h);

	if (!err && a->via_link) {
		err = bpf_link_update(h.link, new_fd, NULL) ? -errno : 0;
	} else if (!err) {
		LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
			    .replace_prog_fd = h.prog);
		/* One step: no connection made meanwhile goes unarmed. */
		err = bpf_prog_attach_opts(new_fd, h.cg, BPF_CGROUP_SOCK_OPS, &opts) ? -errno : 0;
	}
	if (err && a->via_link)
		p_err("cannot put the new program in %s: %s", a->pin, strerror(-err));
	else if (err)
		p_err("cannot put the new program in place of program %u in %s: %s", a->prog_id,
		      a->cgroup, strerror(-err));
	handle_close(&h);
	return err;
}

int attachment_detach(const struct attachment *a)
{
	struct handle h;
	int err = handle_open(a, &h);

	if (a->via_link) {
		/* Detach even if another process holds the link open, then unpin. */
		err = 0;
		if (h.link >= 0 && bpf_link_detach(h.link) && errno != ENOLINK) {
			err = -errno;
			p_err("cannot detach %s: %s", a->pin, strerror(-err));
		}
		if (!err && unlink(a->pin) && errno != ENOENT) {
			err = -errno;
			p_err("cannot remove %s: %s", a->pin, strerror(-err));
		}
	} else if (err || bpf_prog_detach2(h.prog, h.cg, BPF_CGROUP_SOCK_OPS)) {
		err = -errno;
		p_err("cannot detach program %u from %s: %s", a->prog_id, a->cgroup,
		      strerror(-err));
	}
	handle_close(&h);
	return err;
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

json_t *attachments_others(const char *cgroup, const struct ours *o, bool *nested)
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
	}
	return all;
}

void attachments_warn_others(const char *cgroup, json_t *others)
{
	const char *name, *runs;
	bool after;
	size_t i;
	json_t *x;

	for (i = 0; i < json_array_size(others); i++) {
		x = json_array_get(others, i);
		name = json_string_value(json_object_get(x, "name"));
		runs = json_string_value(json_object_get(x, "runs"));
		after = runs && !strcmp(runs, "after");
		p_info("warning: sock_ops program %lld (%s%s) attached to %s also runs on the sockets of %s, %s sipka: %s",
		       (long long)json_integer_value(json_object_get(x, "prog_id")),
		       name && name[0] ? name : "no name",
		       name && !strcmp(name, "sipka_sockops") ? ", another sipka" : "",
		       json_string_value(json_object_get(x, "cgroup")), cgroup,
		       after ? "after" : "before",
		       after ? "the keepalive settings it makes win over sipka's" :
			       "sipka's keepalive settings win over any it makes");
	}
}
