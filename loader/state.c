// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cli.h"
#include "state.h"

#define META_MAX_VALUE 4096

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

int array_read(int fd, __u32 entries, size_t vsize, void *out)
{
	enum { CHUNK = 4096 };
	__u32 keys[CHUNK], pos, n, done = 0;
	void *from = NULL;
	int err;

	/* An array walks its keys in order: batch after batch fills OUT. */
	while (done < entries) {
		n = entries - done < CHUNK ? entries - done : CHUNK;
		err = bpf_map_lookup_batch(fd, from, &pos, keys, (char *)out + (size_t)done * vsize,
					   &n, NULL);
		done += n;
		if (err && errno != ENOENT)
			return -1;
		if (err || !n) /* ENOENT: that was the last batch */
			break;
		from = &pos; /* on from where this batch left off */
	}
	if (done < entries) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* "sipka_" + NAME, as the kernel keeps it (15 characters). */
static bool named(const struct bpf_map_info *info, const char *name)
{
	char want[BPF_OBJ_NAME_LEN];

	snprintf(want, sizeof(want), "sipka_%s", name);
	return !strcmp(info->name, want);
}

int map_check(int fd, const struct pin_spec *spec, char *why, size_t len)
{
	struct bpf_map_info info;

	if (map_info(fd, &info)) {
		snprintf(why, len, "cannot read its map info: %s", strerror(errno));
		return -1;
	}
	if (info.type != spec->map_type || info.key_size != spec->key_size ||
	    info.value_size != spec->value_size ||
	    (spec->max_entries && info.max_entries != spec->max_entries) ||
	    !named(&info, spec->name)) {
		snprintf(
			why, len,
			"it is map '%s' of type %u, key %u B, value %u B, %u entries; sipka's is 'sipka_%s' of type %u, key %u B, value %u B",
			info.name, info.type, info.key_size, info.value_size, info.max_entries,
			spec->name, spec->map_type, spec->key_size, spec->value_size);
		return -1;
	}
	return 0;
}

static __u32 obj_id(int fd)
{
	struct bpf_map_info info; /* every info starts with type, then id */

	return map_info(fd, &info) ? 0 : info.id;
}

int ours_collect(const struct pindir *pd, struct ours *o)
{
	struct bpf_map_info info;
	struct entry *e;
	int i, n, fd;

	memset(o, 0, sizeof(*o));
	fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	if (fd >= 0) {
		o->prog_id = obj_id(fd);
		close(fd);
	}
	n = pindir_entries(pd, &e);
	if (n < 0)
		return -1;
	for (i = 0; i < n && o->n < (int)(sizeof(o->map_ids) / sizeof(o->map_ids[0])); i++) {
		if (e[i].symlink || (e[i].kind != ENTRY_OURS && e[i].kind != ENTRY_STAGED))
			continue;
		fd = pin_get(pd, e[i].name, "map");
		if (fd < 0)
			continue;
		/* A map of another tool pinned under our name makes nothing ours. */
		if (!map_info(fd, &info) && !strncmp(info.name, "sipka_", 6))
			o->map_ids[o->n++] = info.id;
		close(fd);
	}
	free(e);
	return 0;
}

bool ours_prog(const struct ours *o, __u32 prog_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 maps[32], len = sizeof(info), i;
	bool yes = false;
	int fd, k;

	if (!prog_id)
		return false;
	if (prog_id == o->prog_id)
		return true;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(maps) / sizeof(maps[0]);
	info.map_ids = (__u64)(unsigned long)maps;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < info.nr_map_ids && i < 32 && !yes; i++)
			for (k = 0; k < o->n && !yes; k++)
				yes = maps[i] == o->map_ids[k];
	close(fd);
	return yes;
}

/* sipka 0.1.0 pinned config (hash), stats, sockets and events; no meta. */
static bool layout1(const struct pindir *pd)
{
	struct bpf_map_info info;
	bool yes;
	int fd = pin_get(pd, SIPKA_PIN_CONFIG, "map");

	if (fd < 0)
		return false;
	yes = !map_info(fd, &info) && info.type == BPF_MAP_TYPE_HASH && info.key_size == 4 &&
	      info.value_size == 36 && named(&info, SIPKA_PIN_CONFIG);
	close(fd);
	return yes;
}

int state_layout(const struct pindir *pd, int *layout, struct sipka_meta *meta)
{
	static __u8 value[META_MAX_VALUE];
	struct bpf_map_info info;
	__u32 key = 0;
	int fd;

	*layout = 0;
	memset(meta, 0, sizeof(*meta));
	fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		p_err("%s/%s is not a BPF program: it is not sipka's; remove it (rm), or choose another --pin-dir",
		      pd->path, SIPKA_PIN_PROG);
		return -1;
	}
	close(fd);
	fd = pin_get(pd, SIPKA_PIN_META, "map");
	if (fd == -ENOENT && layout1(pd)) {
		*layout = 1;
		return 0;
	}
	/* Any layout's meta is an array of one value that starts with the layout. */
	if (fd < 0 || map_info(fd, &info) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != 4 || info.max_entries != 1 || info.value_size < 8 ||
	    info.value_size > META_MAX_VALUE || !named(&info, SIPKA_PIN_META) ||
	    bpf_map_lookup_elem(fd, &key, value)) {
		if (fd >= 0)
			close(fd);
		p_err("%s/%s is missing or not sipka's: the pins in %s are not a whole sipka. Run 'sipka detach' to remove sipka's pins, then attach again",
		      pd->path, SIPKA_PIN_META, pd->path);
		return -1;
	}
	close(fd);
	memcpy(meta, value, info.value_size < sizeof(*meta) ? info.value_size : sizeof(*meta));
	meta->version[sizeof(meta->version) - 1] = '\0';
	*layout = meta->layout;
	return 0;
}

int state_live_config(const struct pindir *pd, int rules_fd)
{
	__u32 key = 0, id = 0;
	int fd;

	if (bpf_map_lookup_elem(rules_fd, &key, &id) || !id)
		return -1;
	/* The config pin, when it is the live set: opening by id needs
	 * CAP_SYS_ADMIN. */
	fd = pin_get(pd, SIPKA_PIN_CONFIG, "map");
	if (fd >= 0 && obj_id(fd) == id)
		return fd;
	if (fd >= 0)
		close(fd);
	return bpf_map_get_fd_by_id(id);
}

/* Opens map pin NAME, checked against its spec. */
static int open_map(const struct pindir *pd, const char *name, int *fd)
{
	const struct pin_spec *spec = pin_spec(name);
	char why[400];

	*fd = pin_get(pd, name, "map");
	if (*fd == -ENOENT) {
		p_err("%s/%s is missing: the pins are not a whole sipka. 'sipka attach' or 'sipka load' repairs them",
		      pd->path, name);
		return -1;
	}
	if (*fd < 0) {
		p_err("%s/%s is not a BPF map: it is not sipka's. Remove it (rm) and run 'sipka attach' again, or choose another --pin-dir",
		      pd->path, name);
		return -1;
	}
	if (map_check(*fd, spec, why, sizeof(why))) {
		p_err("%s/%s is not sipka's: %s. Remove it (rm) and run 'sipka attach' again, or choose another --pin-dir",
		      pd->path, name, why);
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int state_open(const struct pindir *pd, struct state *s)
{
	struct bpf_map_info info;
	char why[400];
	int layout;

	if (state_layout(pd, &layout, &s->meta))
		return -1;
	if (!layout)
		return -ENOENT;
	if (layout != SIPKA_LAYOUT) {
		if (layout < SIPKA_LAYOUT)
			p_err("the maps in %s have layout %d, this sipka's have layout %d: run 'sipka attach' or 'sipka load' with this sipka to migrate them (rules and counters are kept)",
			      pd->path, layout, SIPKA_LAYOUT);
		else
			p_err("the maps in %s have layout %d, newer than this sipka's %d (sipka %s loaded them): use that sipka, or 'sipka detach' and attach again with this one (rules and counters are lost)",
			      pd->path, layout, SIPKA_LAYOUT, s->meta.version);
		return -1;
	}
	s->prog_fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	if (s->prog_fd < 0 || open_map(pd, SIPKA_PIN_RULES, &s->rules_fd) ||
	    open_map(pd, SIPKA_PIN_STATS, &s->stats_fd) ||
	    open_map(pd, SIPKA_PIN_SLOTS, &s->slots_fd) ||
	    open_map(pd, SIPKA_PIN_CONNS, &s->conns_fd) ||
	    open_map(pd, SIPKA_PIN_EVENTS, &s->events_fd) ||
	    open_map(pd, SIPKA_PIN_UNTRACKED, &s->untracked_fd) ||
	    open_map(pd, SIPKA_PIN_META, &s->meta_fd))
		goto fail;
	s->prog_id = obj_id(s->prog_fd);
	s->conns_max = map_info(s->conns_fd, &info) ? 0 : info.max_entries / 2; /* 2 slots each */
	/* The truth is slot 0 of rules; the config pin is its name for bpftool. */
	s->config_fd = state_live_config(pd, s->rules_fd);
	if (s->config_fd < 0 ||
	    map_check(s->config_fd, pin_spec(SIPKA_PIN_CONFIG), why, sizeof(why))) {
		p_err("%s/%s holds no rule set of sipka's; run 'sipka detach' and attach again",
		      pd->path, SIPKA_PIN_RULES);
		goto fail;
	}
	return 0;
fail:
	state_close(s);
	return -1;
}

void state_close(struct state *s)
{
	int *each[] = { &s->prog_fd,  &s->rules_fd,  &s->config_fd, &s->stats_fd,    &s->slots_fd,
			&s->conns_fd, &s->events_fd, &s->meta_fd,   &s->untracked_fd };
	size_t i;

	for (i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
		if (*each[i] >= 0)
			(void)close(*each[i]);
		*each[i] = -1;
	}
}

static bool pinned(const struct pindir *pd, const char *name)
{
	return !faccessat(pd->fd, name, F_OK, AT_SYMLINK_NOFOLLOW);
}

/* Every attachment of sipka runs program FD (the pinned one); returns how
 * many were changed, or -1. */
static int attachments_run(const struct pindir *pd, int fd)
{
	struct attachments as;
	struct ours o;
	__u32 id = obj_id(fd);
	int i, n = 0;

	if (ours_collect(pd, &o) || attachments_list(pd, &o, &as, true))
		return -1;
	for (i = 0; i < as.n && n >= 0; i++) {
		if (as.a[i].prog_id == id || as.a[i].defunct)
			continue;
		n = attachment_replace(&as.a[i], fd) ? -1 : n + 1;
	}
	attachments_free(&as);
	return n;
}

static void remove_obsolete(const struct pindir *pd)
{
	int i;

	for (i = 0; pin_obsolete[i]; i++)
		pin_remove(pd, pin_obsolete[i]);
}

int state_commit(struct pindir *pd, int *replaced)
{
	char staged[256], from[PATH_MAX], to[PATH_MAX];
	unsigned int i;
	int fd, ret;

	fd = pin_get(pd, SIPKA_PIN_PROG PIN_STAGED, "prog");
	if (fd == -ENOENT)
		fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	if (fd < 0) {
		p_err("no program to commit in %s; run 'sipka detach' and attach again", pd->path);
		return -1;
	}
	/* The program first, so no attachment runs one whose maps lose their pins. */
	ret = attachments_run(pd, fd);
	close(fd);
	if (ret < 0)
		return -1;
	if (replaced)
		*replaced = ret;
	for (i = 0; i < pin_specs_n; i++) { /* meta, the commit mark, last */
		snprintf(staged, sizeof(staged), "%s%s", pin_specs[i].name, PIN_STAGED);
		if (!pinned(pd, staged))
			continue;
		if (pindir_path(pd, staged, from) || pindir_path(pd, pin_specs[i].name, to) ||
		    rename(from, to)) {
			p_err("cannot rename %s to %s: %s", from, to, strerror(errno));
			return -1;
		}
	}
	remove_obsolete(pd);
	return 0;
}

/* Removes every staged or temporary pin: a change that never committed. */
static void roll_back(const struct pindir *pd, const struct entry *e, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].kind == ENTRY_STAGED)
			pin_remove(pd, e[i].name);
}

/* No program pinned: attachments of sipka that remain get their program
 * pinned again (a 0.1.0 upgrade killed between unpin and pin); with none,
 * the maps are leftovers of a detach or a first load that was killed. */
static int recover_unloaded(struct pindir *pd, const struct entry *e, int n)
{
	struct attachments as;
	struct ours o;
	int i, fd, ret = 0;

	if (ours_collect(pd, &o) || attachments_list(pd, &o, &as, true))
		return -1;
	for (i = 0; i < as.n && !ret; i++) {
		if (as.a[i].defunct)
			continue;
		fd = bpf_prog_get_fd_by_id(as.a[i].prog_id);
		ret = fd < 0 ? -1 : pin_replace(pd, fd, SIPKA_PIN_PROG);
		if (fd >= 0)
			close(fd);
		if (!ret)
			p_info("sipka: %s/%s was missing while sipka was attached to %s: pinned its program again",
			       pd->path, SIPKA_PIN_PROG, as.a[i].cgroup);
		attachments_free(&as);
		return ret;
	}
	attachments_free(&as);
	for (i = 0; i < n; i++)
		if (e[i].kind == ENTRY_OURS && !e[i].symlink)
			pin_remove(pd, e[i].name);
	return 0;
}

int state_recover(struct pindir *pd)
{
	struct sipka_meta meta;
	struct entry *e;
	int n, fd, live, layout, ret = 0;
	bool forward;

	n = pindir_entries(pd, &e);
	if (n < 0)
		return -1;
	forward = pinned(pd, SIPKA_PIN_META PIN_STAGED);
	if (forward) {
		p_info("sipka: finishing a change that was interrupted (staged pins in %s)",
		       pd->path);
		ret = state_commit(pd, NULL);
		free(e);
		n = pindir_entries(pd, &e);
		if (ret || n < 0)
			goto out;
	}
	roll_back(pd, e, n);
	if (!pinned(pd, SIPKA_PIN_PROG)) {
		ret = recover_unloaded(pd, e, n);
		if (ret || !pinned(pd, SIPKA_PIN_PROG))
			goto out;
	}
	if (state_layout(pd, &layout, &meta)) {
		ret = -1;
		goto out;
	}
	fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	ret = fd < 0 ? -1 : attachments_run(pd, fd) < 0 ? -1 : 0;
	if (fd >= 0)
		close(fd);
	if (ret || layout != SIPKA_LAYOUT)
		goto out;
	remove_obsolete(pd);
	/* The config pin names the live rule set; a killed swap may leave the old. */
	fd = pin_get(pd, SIPKA_PIN_RULES, "map");
	live = fd < 0 ? -1 : state_live_config(pd, fd);
	if (fd >= 0)
		close(fd);
	if (live >= 0) {
		int cfg = pin_get(pd, SIPKA_PIN_CONFIG, "map");
		char why[400];

		if (cfg == -ENOENT ||
		    (cfg >= 0 && obj_id(cfg) != obj_id(live) &&
		     !map_check(cfg, pin_spec(SIPKA_PIN_CONFIG), why, sizeof(why))))
			ret = pin_replace(pd, live, SIPKA_PIN_CONFIG); /* a stale rule set */
		else if (cfg < 0 || obj_id(cfg) != obj_id(live))
			p_info("warning: %s/%s is not sipka's rule set: left alone (sipka uses its live rule set all the same); remove it and run 'sipka status' to pin the live rule set there",
			       pd->path, SIPKA_PIN_CONFIG);
		if (cfg >= 0)
			close(cfg);
		close(live);
	}
out:
	free(e);
	return ret;
}

int state_begin_write(struct pindir *pd, bool create)
{
	int ret;

	if (pindir_check_env(pd))
		return -1;
	ret = pindir_open(pd, create);
	if (ret)
		return ret;
	if (pindir_lock(pd) || state_recover(pd)) {
		pindir_close(pd);
		return -1;
	}
	return 0;
}

int state_begin_read(struct pindir *pd, struct state *s)
{
	int ret;

	if (pindir_check_env(pd))
		return -1;
	ret = pindir_open(pd, false);
	if (!ret)
		ret = state_open(pd, s);
	if (ret == -ENOENT)
		p_err("sipka is not loaded (nothing pinned in %s); run 'sipka attach' first",
		      pd->path);
	return ret ? -1 : 0;
}
