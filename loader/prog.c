// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "prog.h"
#include "rules.h"
#include "sipka.skel.h"

const char *const load_result_name[] = {
	[LOAD_LOADED] = "loaded",
	[LOAD_REUSED] = "reused",
	[LOAD_UPGRADED] = "upgraded",
	[LOAD_MIGRATED] = "migrated",
};

const char *feature_name(unsigned int bit)
{
	switch (bit) {
	case SIPKA_FEAT_ITER_ARM: return "arm_existing";
	case SIPKA_FEAT_ITER_TRACK: return "track_existing";
	default: return NULL;
	}
}

/* The maps a program is loaded against; -1: let libbpf create it. */
struct maps {
	int rules, stats, conns, events, meta, untracked;
};
#define MAPS_NONE                      \
	{                              \
		-1, -1, -1, -1, -1, -1 \
	}

static struct maps maps_of(const struct state *s)
{
	struct maps m = { s->rules_fd,	s->stats_fd, s->conns_fd,
			  s->events_fd, s->meta_fd,  s->untracked_fd };

	return m;
}

static int reuse(struct bpf_map *map, int fd)
{
	return fd < 0 ? 0 : bpf_map__reuse_fd(map, fd);
}

/* The skeleton with only program WHICH to be loaded, against M. */
static struct sipka_bpf *open_skel(enum iter_kind which, const struct maps *m, __u64 probe_cookie)
{
	struct sipka_bpf *skel = sipka_bpf__open();
	bool iterator = which != ITER_NONE;

	if (!skel) {
		p_err("cannot open the embedded BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->probe_cookie = probe_cookie;
	bpf_program__set_autoload(skel->progs.sipka_sockops, !iterator);
	bpf_program__set_autoload(skel->progs.sipka_existing, which == ITER_ARM);
	bpf_program__set_autoload(skel->progs.sipka_list, which == ITER_LIST);
	bpf_map__set_autocreate(skel->maps.sipka_arm_cgroups, iterator);
	bpf_map__set_autocreate(skel->maps.sipka_listening, iterator);
	if (reuse(skel->maps.sipka_rules, m->rules) || reuse(skel->maps.sipka_stats, m->stats) ||
	    reuse(skel->maps.sipka_conns, m->conns) || reuse(skel->maps.sipka_events, m->events) ||
	    reuse(skel->maps.sipka_meta, m->meta) ||
	    reuse(skel->maps.sipka_untracked, m->untracked)) {
		p_err("cannot reuse the pinned maps: %s", strerror(errno));
		sipka_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int load_skel(struct sipka_bpf *skel)
{
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): sipka needs Linux 5.10 or later built with CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	ret = sipka_bpf__load(skel);
	if (ret)
		p_err("the kernel refused sipka's BPF program or maps: %s. sipka needs Linux 5.10 or later with BPF, cgroup BPF and BTF. Run with -vv for libbpf's log",
		      strerror(-ret));
	return ret ? -1 : 0;
}

struct iter {
	struct sipka_bpf *skel;
	struct bpf_link *link;
};

static int iter_load(enum iter_kind which, const struct maps *m, __u64 probe_cookie,
		     struct iter **out, bool quiet)
{
	struct iter *it = calloc(1, sizeof(*it));

	*out = NULL;
	if (!it)
		return -1;
	it->skel = open_skel(which, m, probe_cookie);
	if (!it->skel || (quiet ? sipka_bpf__load(it->skel) : load_skel(it->skel)))
		goto fail;
	it->link = bpf_program__attach_iter(which == ITER_LIST ? it->skel->progs.sipka_list :
								 it->skel->progs.sipka_existing,
					    NULL);
	if (!it->link) {
		if (!quiet)
			p_err("cannot create the TCP iterator: %s", strerror(errno));
		goto fail;
	}
	*out = it;
	return 0;
fail:
	iter_close(it);
	return -1;
}

int iter_open(const struct state *s, enum iter_kind which, struct iter **it)
{
	struct maps m = maps_of(s);

	return iter_load(which, &m, 0, it, false);
}

int iter_cgroups_fd(const struct iter *it)
{
	return bpf_map__fd(it->skel->maps.sipka_arm_cgroups);
}

int iter_create(const struct iter *it)
{
	return bpf_iter_create(bpf_link__fd(it->link));
}

void iter_close(struct iter *it)
{
	if (!it)
		return;
	bpf_link__destroy(it->link);
	sipka_bpf__destroy(it->skel);
	free(it);
}

/*
 * What the kernel can do with existing connections: the iterator is loaded
 * and run on one loopback connection of our own. Linux 6.1 lets it set
 * keepalive but not TCP_BPF_SOCK_OPS_CB_FLAGS, so their closes go unseen.
 */
static __u32 probe(const struct maps *m)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = -1, c = -1, s = -1, fd;
	__u64 cookie = 0;
	__u32 features = 0;
	struct iter *it;
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
	if (iter_load(ITER_ARM, m, cookie, &it, true))
		goto out;
	fd = iter_create(it);
	while (fd >= 0 && read(fd, &r, 1) == 1) {
		features |= SIPKA_FEAT_ITER_ARM;
		if (r == SIPKA_EXISTING_PROBED)
			features |= SIPKA_FEAT_ITER_TRACK;
	}
	if (fd >= 0)
		close(fd);
	iter_close(it);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	return features;
}

static int write_meta(int fd, __u32 features)
{
	struct sipka_meta meta = { .layout = SIPKA_LAYOUT, .features = features };
	__u32 key = 0;

	snprintf(meta.version, sizeof(meta.version), "%s", SIPKA_VERSION);
	if (bpf_map_update_elem(fd, &key, &meta, BPF_ANY)) {
		p_err("cannot write the meta map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Pins FD as NAME-new, for state_commit. */
static int stage(const struct pindir *pd, int fd, const char *name)
{
	char staged[256], path[PATH_MAX];

	snprintf(staged, sizeof(staged), "%s%s", name, PIN_STAGED);
	if (pindir_path(pd, staged, path))
		return -1;
	unlink(path);
	if (bpf_obj_pin(fd, path)) {
		p_err("cannot pin %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static bool same_program(int a, int b)
{
	struct bpf_prog_info x = { 0 }, y = { 0 };
	__u32 lx = sizeof(x), ly = sizeof(y);

	/* The tag hashes the instructions, whatever maps they use. */
	return !bpf_obj_get_info_by_fd(a, &x, &lx) && !bpf_obj_get_info_by_fd(b, &y, &ly) &&
	       !memcmp(x.tag, y.tag, sizeof(x.tag));
}

static __u32 value_size(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.value_size;
}

/*
 * Copies every entry of map FROM into map TO, whose values may be longer
 * (zero-filled) or shorter. STATS: the connections counted active are not
 * carried, so they leave armed too (re-arming counts them again).
 */
static int copy_entries(int from, int to, bool percpu, bool stats)
{
	__u32 ov = value_size(from), nv = value_size(to), steps, cpu;
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	size_t os = percpu ? (ov + 7) / 8 * 8 : ov, ns = percpu ? (nv + 7) / 8 * 8 : nv;
	__u64 key[2], next[2];
	void *prev = NULL;
	__u8 *ob, *nb;
	int ret = 0;

	if (!ov || !nv || ncpu <= 0)
		return -1;
	ob = calloc(ncpu, os);
	nb = calloc(ncpu, ns);
	for (steps = 0; ob && nb && steps < 4 * SIPKA_CONNS_MAX; steps++) {
		if (bpf_map_get_next_key(from, prev, next))
			break;
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(from, key, ob))
			continue;
		memset(nb, 0, (size_t)ncpu * ns);
		for (cpu = 0; cpu < (__u32)ncpu; cpu++) {
			memcpy(nb + cpu * ns, ob + cpu * os, ov < nv ? ov : nv);
			if (stats) {
				struct sipka_counters *c = (void *)(nb + cpu * ns);

				c->armed -= c->active; /* per CPU: wraps back in the sum */
				c->active = 0;
			}
		}
		if (bpf_map_update_elem(to, key, nb, BPF_ANY)) {
			p_err("cannot copy an entry into the new map: %s", strerror(errno));
			ret = -1;
			break;
		}
	}
	if (!ob || !nb)
		ret = -1;
	free(ob);
	free(nb);
	return ret;
}

/* The pinned maps of the layout being replaced, opened loosely: their
 * values may differ from this build's. */
struct old {
	int layout;
	int config, stats, conns, events, untracked;
	__u32 conns_max;
};

static int old_map(const struct pindir *pd, const char *name, __u32 type)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = pin_get(pd, name, "map");

	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != type ||
			strncmp(info.name, "sipka_", 6))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int old_open(const struct pindir *pd, int layout, struct old *o)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int rules;

	o->layout = layout;
	o->conns = o->untracked = -1;
	o->conns_max = 0;
	if (layout == 1) {
		o->config = old_map(pd, SIPKA_PIN_CONFIG, BPF_MAP_TYPE_HASH);
	} else {
		rules = old_map(pd, SIPKA_PIN_RULES, BPF_MAP_TYPE_ARRAY_OF_MAPS);
		o->config = rules < 0 ? -1 : state_live_config(pd, rules);
		if (rules >= 0)
			close(rules);
		o->conns = old_map(pd, SIPKA_PIN_CONNS, BPF_MAP_TYPE_HASH);
		if (o->conns >= 0 && !bpf_obj_get_info_by_fd(o->conns, &info, &len))
			o->conns_max = info.max_entries;
	}
	o->stats = old_map(pd, SIPKA_PIN_STATS, BPF_MAP_TYPE_PERCPU_HASH);
	o->events = old_map(pd, SIPKA_PIN_EVENTS, BPF_MAP_TYPE_RINGBUF);
	o->untracked = old_map(pd, SIPKA_PIN_UNTRACKED, BPF_MAP_TYPE_SK_STORAGE);
	if (o->config < 0 || o->stats < 0) {
		p_err("the pins in %s (layout %d) are incomplete or not sipka's; run 'sipka detach' and attach again",
		      pd->path, layout);
		return -1;
	}
	return 0;
}

static void old_close(struct old *o)
{
	int *each[] = { &o->config, &o->stats, &o->conns, &o->events, &o->untracked };
	size_t i;

	for (i = 0; i < sizeof(each) / sizeof(each[0]); i++)
		if (*each[i] >= 0)
			(void)close(*each[i]);
}

/* Live entries in map FD, counted (bounded). */
static __u32 entries(int fd)
{
	__u64 key[2], next[2];
	void *prev = NULL;
	__u32 n = 0;

	while (n < SIPKA_CONNS_MAX && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/*
 * A whole new set of maps and the program: a first load (OLD NULL), or a
 * migration from OLD. RULES: the rule set to start with (NULL: OLD's).
 */
static int load_new(struct pindir *pd, struct old *old, const struct conf *rules, __u32 max_conns,
		    bool *readopt)
{
	struct maps none = MAPS_NONE;
	struct sipka_bpf *skel;
	static const struct conf none_rules;
	int set = -1, ret = -1, fd;
	__u32 slot = 0;

	*readopt = false;
	/* The same ring buffer, so readers go on, and the same marks of
	 * untracked connections, which live with their sockets. */
	if (old && old->events >= 0 && value_size(old->events) == 0)
		none.events = old->events;
	if (old && old->untracked >= 0 && value_size(old->untracked) == sizeof(__u32))
		none.untracked = old->untracked;
	skel = open_skel(ITER_NONE, &none, 0);
	if (!skel)
		return -1;
	bpf_map__set_max_entries(skel->maps.sipka_conns, max_conns);
	if (load_skel(skel))
		goto out;
	/* OLD's rules are copied value by value: a longer rule is zero-filled. */
	set = rules_new_set(rules ? rules : &none_rules);
	if (set < 0 || (!rules && old && copy_entries(old->config, set, false, false)) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.sipka_rules), &slot, &set, BPF_ANY))
		goto out;
	if (old) {
		*readopt = old->conns < 0;
		if (copy_entries(old->stats, bpf_map__fd(skel->maps.sipka_stats), true, *readopt) ||
		    (old->conns >= 0 &&
		     copy_entries(old->conns, bpf_map__fd(skel->maps.sipka_conns), false, false)))
			goto out;
	}
	{
		struct maps m = {
			bpf_map__fd(skel->maps.sipka_rules),
			bpf_map__fd(skel->maps.sipka_stats),
			bpf_map__fd(skel->maps.sipka_conns),
			bpf_map__fd(skel->maps.sipka_events),
			bpf_map__fd(skel->maps.sipka_meta),
			bpf_map__fd(skel->maps.sipka_untracked),
		};

		if (write_meta(m.meta, probe(&m)))
			goto out;
		fd = bpf_program__fd(skel->progs.sipka_sockops);
		ret = stage(pd, m.rules, SIPKA_PIN_RULES) || stage(pd, set, SIPKA_PIN_CONFIG) ||
				      stage(pd, m.stats, SIPKA_PIN_STATS) ||
				      stage(pd, m.conns, SIPKA_PIN_CONNS) ||
				      (none.events < 0 && stage(pd, m.events, SIPKA_PIN_EVENTS)) ||
				      (none.untracked < 0 &&
				       stage(pd, m.untracked, SIPKA_PIN_UNTRACKED)) ||
				      stage(pd, fd, SIPKA_PIN_PROG) ||
				      stage(pd, m.meta, SIPKA_PIN_META) || state_commit(pd, NULL) ?
			      -1 :
			      0;
	}
out:
	if (set >= 0)
		close(set);
	sipka_bpf__destroy(skel);
	return ret;
}

/* This layout, this size: load this build's program against the pinned maps. */
static int load_same(struct pindir *pd, const struct state *s, enum load_result *res)
{
	struct maps m = maps_of(s);
	struct sipka_bpf *skel;
	int ret = -1, fd, n = 0;

	skel = open_skel(ITER_NONE, &m, 0);
	if (!skel || load_skel(skel))
		goto out;
	fd = bpf_program__fd(skel->progs.sipka_sockops);
	if (same_program(fd, s->prog_fd)) {
		*res = LOAD_REUSED;
		ret = 0;
		goto out;
	}
	/* Another build: its program goes in every attachment at the commit. */
	*res = LOAD_UPGRADED;
	ret = write_meta(s->meta_fd, probe(&m)) || stage(pd, fd, SIPKA_PIN_PROG) ||
			      stage(pd, s->meta_fd, SIPKA_PIN_META) || state_commit(pd, &n) ?
		      -1 :
		      0;
	if (!ret)
		p_info("sipka: upgraded the program in %d attachment%s; rules and counters kept", n,
		       n == 1 ? "" : "s");
out:
	sipka_bpf__destroy(skel);
	return ret;
}

int prog_load(struct pindir *pd, const struct load_opts *opts, enum load_result *res, bool *readopt)
{
	struct sipka_meta meta;
	struct state s = STATE_INIT;
	struct old old;
	int layout, ret;
	__u32 max;

	*readopt = false;
	if (state_layout(pd, &layout, &meta))
		return -1;
	if (!layout) {
		*res = LOAD_LOADED;
		return load_new(pd, NULL, opts->rules,
				opts->max_conns ? opts->max_conns : SIPKA_CONNS_DEFAULT, readopt);
	}
	if (layout > SIPKA_LAYOUT) {
		p_err("the maps in %s have layout %d, newer than this sipka's %d (sipka %s loaded them): use that sipka, or 'sipka detach' and attach again with this one (rules and counters are lost)",
		      pd->path, layout, SIPKA_LAYOUT, meta.version);
		return -1;
	}
	if (layout == SIPKA_LAYOUT) {
		if (state_open(pd, &s))
			return -1;
		if (!opts->max_conns || opts->max_conns == s.conns_max) {
			ret = load_same(pd, &s, res);
			state_close(&s);
			return ret;
		}
		state_close(&s);
	}
	if (old_open(pd, layout, &old)) {
		old_close(&old);
		return -1;
	}
	max = opts->max_conns ? opts->max_conns :
	      old.conns_max   ? old.conns_max :
				SIPKA_CONNS_DEFAULT;
	if (old.conns >= 0 && entries(old.conns) > max) {
		p_err("%u connections are tracked now; --max-connections must be at least that",
		      entries(old.conns));
		old_close(&old);
		return -1;
	}
	*res = LOAD_MIGRATED;
	ret = load_new(pd, &old, NULL, max, readopt);
	if (!ret)
		p_info("sipka: moved the maps from layout %d to layout %d (%u connections tracked at most); rules and counters kept",
		       layout, SIPKA_LAYOUT, max);
	old_close(&old);
	return ret;
}
