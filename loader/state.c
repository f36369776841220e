// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "env.h"
#include "lock.h"
#include "log.h"
#include "maps.h"
#include "state.h"
#include "where.h"

#define META_MAX_VALUE 4096

/* sipka 0.1.0 pinned config (hash), stats, sockets and events; no meta. */
static bool layout1(const struct pindir *pd)
{
	struct bpf_map_info info;
	bool yes;
	int fd = pin_get(pd, SIPKA_PIN_CONFIG, "map");

	if (fd < 0)
		return false;
	yes = !map_info(fd, &info) && info.type == BPF_MAP_TYPE_HASH && info.key_size == 4 &&
	      info.value_size == 36 && pin_map_named(info.name, SIPKA_PIN_CONFIG);
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
		return fd;
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
	    info.value_size > META_MAX_VALUE || !pin_map_named(info.name, SIPKA_PIN_META) ||
	    bpf_map_lookup_elem(fd, &key, value)) {
		if (fd >= 0)
			close(fd);
		p_err("%s/%s is missing or not sipka's: the pins in %s are not a whole sipka. Run 'sipka detach' to remove sipka's pins, then attach again",
		      pd->path, SIPKA_PIN_META, pd->path);
		return -EBADF;
	}
	close(fd);
	memcpy(meta, value, info.value_size < sizeof(*meta) ? info.value_size : sizeof(*meta));
	meta->version[sizeof(meta->version) - 1] = '\0';
	*layout = meta->layout;
	return 0;
}

int state_newer(const struct pindir *pd, int layout, const struct sipka_meta *meta)
{
	p_err("the maps in %s have layout %d, newer than this sipka's %d (sipka %s loaded them): use that sipka, or 'sipka detach' and attach again with this one (rules and counters are lost)",
	      pd->path, layout, SIPKA_LAYOUT, meta->version);
	return -EPROTONOSUPPORT;
}

int state_live_config(const struct pindir *pd, int rules_fd)
{
	__u32 key = 0, id = 0;
	int fd;

	if (bpf_map_lookup_elem(rules_fd, &key, &id))
		return -errno;
	if (!id)
		return -ENOENT;
	/* The config pin, when it is the live set: opening by id needs
	 * CAP_SYS_ADMIN. */
	fd = pin_get(pd, SIPKA_PIN_CONFIG, "map");
	if (fd >= 0 && obj_id(fd) == id)
		return fd;
	if (fd >= 0)
		close(fd);
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/* Opens map pin NAME, checked against its spec. */
static int open_map(const struct pindir *pd, const char *name, int *fd)
{
	const struct pin_spec *spec = pin_spec(name);
	char why[400];
	int err;

	*fd = pin_get(pd, name, "map");
	if (*fd == -ENOENT) {
		p_err("%s/%s is missing: the pins are not a whole sipka. 'sipka attach' or 'sipka load' repairs them",
		      pd->path, name);
		return -ENOENT;
	}
	if (*fd < 0) {
		err = *fd;
		p_err("%s/%s is not a BPF map: it is not sipka's. Remove it (rm) and run 'sipka attach' again, or choose another --pin-dir",
		      pd->path, name);
		return err;
	}
	err = map_check(*fd, spec, why, sizeof(why));
	if (err) {
		p_err("%s/%s is not sipka's: %s. Remove it (rm) and run 'sipka attach' again, or choose another --pin-dir",
		      pd->path, name, why);
		close(*fd);
		*fd = -1;
	}
	return err;
}

bool state_loaded(const struct pindir *pd)
{
	return pin_exists(pd, SIPKA_PIN_PROG);
}

int state_open(const struct pindir *pd, struct state *s)
{
	const struct {
		const char *name;
		int *fd;
	} maps[] = {
		{ SIPKA_PIN_RULES, &s->rules_fd },   { SIPKA_PIN_STATS, &s->stats_fd },
		{ SIPKA_PIN_SLOTS, &s->slots_fd },   { SIPKA_PIN_CONNS, &s->conns_fd },
		{ SIPKA_PIN_EVENTS, &s->events_fd }, { SIPKA_PIN_UNTRACKED, &s->untracked_fd },
		{ SIPKA_PIN_META, &s->meta_fd },
	};
	struct bpf_map_info info;
	char why[400];
	int layout, err;
	size_t i;

	err = state_layout(pd, &layout, &s->meta);
	if (err)
		return err;
	if (!layout) {
		p_err("sipka is not loaded (nothing pinned in %s); run 'sipka attach' first",
		      pd->path);
		return -ENOENT;
	}
	if (layout > SIPKA_LAYOUT)
		return state_newer(pd, layout, &s->meta);
	if (layout < SIPKA_LAYOUT) {
		p_err("the maps in %s have layout %d, this sipka's have layout %d: run 'sipka attach' or 'sipka load' with this sipka to migrate them (rules and counters are kept)",
		      pd->path, layout, SIPKA_LAYOUT);
		return -EPROTONOSUPPORT;
	}
	s->prog_fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	err = s->prog_fd < 0 ? s->prog_fd : 0;
	for (i = 0; !err && i < sizeof(maps) / sizeof(maps[0]); i++)
		err = open_map(pd, maps[i].name, maps[i].fd);
	if (err)
		goto fail;
	s->prog_id = obj_id(s->prog_fd);
	s->conns_max = map_info(s->conns_fd, &info) ? 0 : info.max_entries / 2; /* 2 slots each */
	/* The truth is slot 0 of rules; the config pin is its name for bpftool. */
	s->config_fd = state_live_config(pd, s->rules_fd);
	err = s->config_fd < 0 ?
		      s->config_fd :
		      map_check(s->config_fd, pin_spec(SIPKA_PIN_CONFIG), why, sizeof(why));
	if (err) {
		p_err("%s/%s holds no rule set of sipka's; run 'sipka detach' and attach again",
		      pd->path, SIPKA_PIN_RULES);
		goto fail;
	}
	return 0;
fail:
	state_close(s);
	return err;
}

void state_close(struct state *s)
{
	int *each[] = { &s->prog_fd,  &s->rules_fd,  &s->config_fd, &s->stats_fd,    &s->slots_fd,
			&s->conns_fd, &s->events_fd, &s->meta_fd,   &s->untracked_fd };

	fds_close(each, sizeof(each) / sizeof(each[0]));
}

/* Every attachment of sipka runs program FD (the pinned one); returns how
 * many were changed, or -errno. */
static int attachments_run(const struct pindir *pd, int fd)
{
	struct attachments as;
	__u32 id = obj_id(fd);
	int i, n = 0, err;

	err = attachments_list(pd, &as);
	if (err)
		return err;
	for (i = 0; i < as.n && n >= 0; i++) {
		if (as.a[i].prog_id == id || as.a[i].defunct)
			continue;
		err = attachment_replace(&as.a[i], fd);
		n = err ? err : n + 1;
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
	unsigned int i;
	int fd, ret;

	fd = pin_get(pd, SIPKA_PIN_PROG PIN_STAGED, "prog");
	if (fd == -ENOENT)
		fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	if (fd < 0) {
		p_err("no program to commit in %s; run 'sipka detach' and attach again", pd->path);
		return fd;
	}
	/* The program first, so no attachment runs one whose maps lose their pins. */
	ret = attachments_run(pd, fd);
	close(fd);
	if (ret < 0)
		return ret;
	if (replaced)
		*replaced = ret;
	for (i = 0; i < pin_specs_n; i++) { /* meta, the commit mark, last */
		ret = pin_commit(pd, pin_specs[i].name);
		if (ret)
			return ret;
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
	int i, fd, ret;

	ret = attachments_list(pd, &as);
	if (ret)
		return ret;
	for (i = 0; i < as.n; i++) {
		if (as.a[i].defunct)
			continue;
		fd = bpf_prog_get_fd_by_id(as.a[i].prog_id);
		ret = fd < 0 ? -errno : pin_replace(pd, fd, SIPKA_PIN_PROG);
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

/* The config pin names the live rule set; a killed swap may leave the old. */
static int recover_config(const struct pindir *pd)
{
	int fd, live, cfg, ret = 0;
	char why[400];

	fd = pin_get(pd, SIPKA_PIN_RULES, "map");
	live = fd < 0 ? -1 : state_live_config(pd, fd);
	if (fd >= 0)
		close(fd);
	if (live < 0)
		return 0;
	cfg = pin_get(pd, SIPKA_PIN_CONFIG, "map");
	if (cfg == -ENOENT || (cfg >= 0 && obj_id(cfg) != obj_id(live) &&
			       !map_check(cfg, pin_spec(SIPKA_PIN_CONFIG), why, sizeof(why))))
		ret = pin_replace(pd, live, SIPKA_PIN_CONFIG); /* a stale rule set */
	else if (cfg < 0 || obj_id(cfg) != obj_id(live))
		p_info("warning: %s/%s is not sipka's rule set: left alone (sipka uses its live rule set all the same); remove it and run 'sipka status' to pin the live rule set there",
		       pd->path, SIPKA_PIN_CONFIG);
	if (cfg >= 0)
		close(cfg);
	close(live);
	return ret;
}

int state_recover(struct pindir *pd)
{
	struct sipka_meta meta;
	struct entry *e;
	int n, fd, layout, ret = 0;

	n = pindir_entries(pd, &e);
	if (n < 0)
		return n;
	if (pin_exists(pd, SIPKA_PIN_META PIN_STAGED)) {
		p_info("sipka: finishing a change that was interrupted (staged pins in %s)",
		       pd->path);
		ret = state_commit(pd, NULL);
		free(e);
		n = pindir_entries(pd, &e);
		if (!ret && n < 0)
			ret = n;
		if (ret)
			goto out;
	}
	roll_back(pd, e, n);
	if (!state_loaded(pd)) {
		ret = recover_unloaded(pd, e, n);
		if (ret || !state_loaded(pd))
			goto out;
	}
	ret = state_layout(pd, &layout, &meta);
	if (ret)
		goto out;
	fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	ret = fd < 0 ? fd : attachments_run(pd, fd);
	if (fd >= 0)
		close(fd);
	if (ret < 0 || layout != SIPKA_LAYOUT)
		goto out;
	remove_obsolete(pd);
	ret = recover_config(pd);
out:
	free(e);
	return ret < 0 ? ret : 0;
}

int state_begin_write(struct pindir *pd, bool create)
{
	int err;

	err = env_check(pd->path);
	if (!err && create && where_bpffs(pd->path) == WHERE_PRIVATE) {
		p_err("%s is on a bpffs of this mount namespace only, not the host's: its pins, and the attachments they hold, would go with the namespace (when the container exits); %s",
		      pd->path, WHERE_FIX_BPFFS);
		err = -EXDEV;
	}
	if (!err)
		err = pindir_open(pd, create);
	if (err || pindir_missing(pd))
		return err;
	err = pindir_lock(pd);
	if (!err)
		err = state_recover(pd);
	if (err)
		pindir_close(pd);
	return err;
}

int state_begin_read(struct pindir *pd, struct state *s)
{
	int err;

	err = env_check(pd->path);
	if (!err)
		err = pindir_open(pd, false);
	if (!err)
		err = state_open(pd, s);
	return err;
}
