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
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "counters.h"
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
	int rules, stats, slots, conns, events, meta, untracked;
};
#define MAPS_NONE                          \
	{                                  \
		-1, -1, -1, -1, -1, -1, -1 \
	}

static struct maps maps_of(const struct state *s)
{
	struct maps m = { s->rules_fd,	s->stats_fd, s->slots_fd,    s->conns_fd,
			  s->events_fd, s->meta_fd,  s->untracked_fd };

	return m;
}

static int reuse(struct bpf_map *map, int fd)
{
	return fd < 0 ? 0 : bpf_map__reuse_fd(map, fd);
}

/* The conns table of SKEL has SLOTS slots (a power of two): the program
 * finds a slot by masking. */
static void conns_size(struct sipka_bpf *skel, __u32 slots)
{
	bpf_map__set_max_entries(skel->maps.sipka_conns, slots);
	skel->rodata->conns_mask = slots - 1;
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
	    reuse(skel->maps.sipka_slots, m->slots) || reuse(skel->maps.sipka_conns, m->conns) ||
	    reuse(skel->maps.sipka_events, m->events) || reuse(skel->maps.sipka_meta, m->meta) ||
	    reuse(skel->maps.sipka_untracked, m->untracked)) {
		p_err("cannot reuse the pinned maps: %s", strerror(errno));
		sipka_bpf__destroy(skel);
		return NULL;
	}
	if (m->conns >= 0) /* reused: its size is the pinned one's */
		conns_size(skel, bpf_map__max_entries(skel->maps.sipka_conns));
	return skel;
}

static int load_skel(struct sipka_bpf *skel)
{
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): sipka needs Linux 5.12 or later built with CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	ret = sipka_bpf__load(skel);
	if (ret)
		p_err("the kernel refused sipka's BPF program or maps: %s. sipka needs Linux 5.12 or later with BPF, cgroup BPF and BTF. Run with -vv for libbpf's log",
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

/* Copies the rules of the old rule set FROM (a hash up to layout 2, an
 * array since) into the new set TO; a longer rule is zero-filled. A port
 * above 65535 (bpftool writes any key into a hash) can match no connection:
 * it is left behind. */
static int rules_carry(int from, int to)
{
	__u32 ov = value_size(from), key, next, *prev = NULL, steps;
	__u8 *ob = calloc(1, ov ? ov : 1);
	struct sipka_rule r;
	int ret = ob && ov ? 0 : -1;

	for (steps = 0; !ret && steps < 2 * SIPKA_PORTS; steps++) {
		if (bpf_map_get_next_key(from, prev, &next))
			break;
		key = next;
		prev = &key;
		if (key >= SIPKA_PORTS || bpf_map_lookup_elem(from, &key, ob))
			continue;
		memset(&r, 0, sizeof(r));
		memcpy(&r, ob, ov < sizeof(r) ? ov : sizeof(r));
		if (sipka_rule_present(&r) && bpf_map_update_elem(to, &key, &r, BPF_ANY)) {
			p_err("cannot copy the rule of port %u into the new rule set: %s", key,
			      strerror(errno));
			ret = -1;
		}
	}
	free(ob);
	return ret;
}

/* The pinned maps of the layout being replaced, opened loosely: their
 * values may differ from this build's. */
struct old {
	int layout;
	int config, stats, slots, conns, events, untracked;
	__u32 conns_max;
	struct sipka_conn *live; /* its tracked connections, in this layout's form */
	__u32 nlive;
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

static __s64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The live slots of conns map FD (this layout's array), into O->live. */
static int live_slots(int fd, __u32 slots, struct old *o)
{
	struct sipka_conn *all = calloc(slots, sizeof(*all));
	__u32 i;

	if (!all || array_read(fd, slots, sizeof(*all), all)) {
		p_err("cannot read the tracked connections: %s", strerror(all ? errno : ENOMEM));
		free(all);
		return -1;
	}
	for (i = 0; i < slots; i++) /* compacted in place: nlive <= i */
		if (all[i].cookie)
			all[o->nlive++] = all[i];
	o->live = all;
	return 0;
}

/* The entries of layout 2's conns map FD (a hash keyed by the cookie,
 * CLOCK_BOOTTIME), into O->live. */
static int live_hashed(int fd, __u32 max, struct old *o)
{
	struct {
		__u64 born_ns;
		__u32 port, pad;
	} v;
	__s64 boot_to_mono = clock_ns(CLOCK_MONOTONIC) - clock_ns(CLOCK_BOOTTIME);
	__u64 key, next, *prev = NULL;
	__s64 born;

	o->live = calloc(max, sizeof(*o->live));
	if (!o->live)
		return -1;
	while (o->nlive < max && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue; /* closed meanwhile */
		born = (__s64)v.born_ns + boot_to_mono;
		o->live[o->nlive++] = (struct sipka_conn){ .cookie = key,
							   .born_ns = born > 0 ? born : 1,
							   .port = v.port };
	}
	return 0;
}

static int old_open(const struct pindir *pd, int layout, struct old *o)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int rules, ret = 0;

	o->layout = layout;
	o->slots = o->conns = o->untracked = -1;
	o->conns_max = 0;
	o->live = NULL;
	o->nlive = 0;
	if (layout == 1) {
		o->config = old_map(pd, SIPKA_PIN_CONFIG, BPF_MAP_TYPE_HASH);
	} else {
		rules = old_map(pd, SIPKA_PIN_RULES, BPF_MAP_TYPE_ARRAY_OF_MAPS);
		o->config = rules < 0 ? -1 : state_live_config(pd, rules);
		if (rules >= 0)
			close(rules);
		o->conns = old_map(pd, SIPKA_PIN_CONNS,
				   layout == 2 ? BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_ARRAY);
		if (o->conns >= 0 && !bpf_obj_get_info_by_fd(o->conns, &info, &len)) {
			o->conns_max = layout == 2 ? info.max_entries : info.max_entries / 2;
			ret = layout == 2 ? live_hashed(o->conns, info.max_entries, o) :
					    live_slots(o->conns, info.max_entries, o);
		}
	}
	/* Counters: keyed by port up to layout 2, in slots since. */
	o->stats = old_map(pd, SIPKA_PIN_STATS,
			   layout < 3 ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_PERCPU_ARRAY);
	if (layout >= 3)
		o->slots = old_map(pd, SIPKA_PIN_SLOTS, BPF_MAP_TYPE_ARRAY);
	o->events = old_map(pd, SIPKA_PIN_EVENTS, BPF_MAP_TYPE_RINGBUF);
	o->untracked = old_map(pd, SIPKA_PIN_UNTRACKED, BPF_MAP_TYPE_SK_STORAGE);
	if (ret)
		return -1;
	if (o->config < 0 || o->stats < 0 || (layout >= 3 && o->slots < 0)) {
		p_err("the pins in %s (layout %d) are incomplete or not sipka's; run 'sipka detach' and attach again",
		      pd->path, layout);
		return -1;
	}
	return 0;
}

static void old_close(struct old *o)
{
	int *each[] = { &o->config, &o->stats, &o->slots, &o->conns, &o->events, &o->untracked };
	size_t i;

	for (i = 0; i < sizeof(each) / sizeof(each[0]); i++)
		if (*each[i] >= 0)
			(void)close(*each[i]);
	free(o->live);
}

/* The ports OLD has counters for, into PORTS (SIPKA_MAX_STATS of them),
 * with their keys in OLD's stats map into KEYS: how many, or -1. */
static int old_counted(const struct old *o, __u32 *ports, __u32 *keys)
{
	__u32 key, next, *prev = NULL, *slots, port;
	int n = 0;

	if (o->slots < 0) { /* keyed by port */
		while (n < SIPKA_MAX_STATS && !bpf_map_get_next_key(o->stats, prev, &next)) {
			key = next;
			prev = &key;
			ports[n] = keys[n] = key;
			n++;
		}
		return n;
	}
	slots = malloc(SIPKA_PORTS * sizeof(*slots));
	if (!slots || array_read(o->slots, SIPKA_PORTS, sizeof(*slots), slots)) {
		free(slots);
		return -1;
	}
	for (port = 1; port < SIPKA_PORTS && n < SIPKA_MAX_STATS; port++)
		if (counters_slot_valid(slots[port])) {
			ports[n] = port;
			keys[n++] = slots[port];
		}
	free(slots);
	return n;
}

/*
 * Carries OLD's counters into the new STATS and SLOTS maps, a slot per port
 * (values may grow, zero-filled). A port's active count becomes the number
 * of its connections carried in the table: the old program goes on arming
 * and closing while the maps are copied, and a count that disagreed with
 * the table would never come back to 0. READOPT: the old layout tracked
 * none (0.1.0), so its active ones leave armed too: re-arming counts them
 * again.
 */
static int stats_carry(const struct old *o, int stats, int slots, bool readopt)
{
	__u32 ports[SIPKA_MAX_STATS], keys[SIPKA_MAX_STATS], slot, zero = 0;
	__u32 ov = value_size(o->stats);
	int ncpu = libbpf_num_possible_cpus(), n, i, cpu, ret = 0;
	size_t os = (ov + 7) / 8 * 8; /* per-CPU values are 8-byte aligned */
	__u32 *carried = calloc(SIPKA_PORTS, sizeof(*carried)); /* per port */
	struct sipka_counters *nb = NULL;
	__u8 *ob = NULL;

	n = old_counted(o, ports, keys);
	if (ncpu > 0 && ov) {
		ob = calloc(ncpu, os);
		nb = calloc(ncpu, sizeof(*nb));
	}
	for (i = 0; carried && i < (int)o->nlive; i++)
		carried[o->live[i].port % SIPKA_PORTS]++;
	if (n < 0 || !ob || !nb || !carried) {
		p_err("cannot read the counters to carry over: %s", strerror(errno));
		ret = -1;
	}
	for (i = 0; !ret && i < n; i++) {
		if (bpf_map_lookup_elem(o->stats, &keys[i], ob))
			continue;
		memset(nb, 0, ncpu * sizeof(*nb));
		for (cpu = 0; cpu < ncpu; cpu++) {
			memcpy(&nb[cpu], ob + cpu * os, ov < sizeof(*nb) ? ov : sizeof(*nb));
			if (readopt) /* per CPU: wraps back in the sum */
				nb[cpu].armed -= nb[cpu].active;
			nb[cpu].active = 0;
		}
		nb[0].active = readopt ? 0 : carried[ports[i]];
		slot = i + 1; /* slot 0 is never used */
		if (bpf_map_update_elem(stats, &slot, nb, BPF_ANY) ||
		    bpf_map_update_elem(slots, &ports[i], &slot, BPF_ANY)) {
			p_err("cannot carry the counters over: %s", strerror(errno));
			ret = -1;
		}
	}
	slot = n > 0 ? n : 0;
	if (!ret && bpf_map_update_elem(slots, &zero, &slot, BPF_ANY)) /* slots handed out */
		ret = -1;
	free(ob);
	free(nb);
	free(carried);
	return ret;
}

/* Puts the connections OLD tracks in the slots of FD (SLOTS of them, not in
 * use yet), each where the program looks for it. */
static int conns_carry(const struct old *o, int fd, __u32 slots)
{
	__u8 *taken = calloc(slots, 1);
	__u32 n, i, slot = 0;
	int ret = 0;

	for (n = 0; taken && !ret && n < o->nlive; n++) {
		for (i = 0; i < SIPKA_CONN_WINDOW; i++) {
			slot = sipka_conn_slot(o->live[n].cookie, i, slots - 1);
			if (!taken[slot])
				break;
		}
		if (i == SIPKA_CONN_WINDOW) {
			p_err("the tracked connections do not fit in %u slots; give a larger --max-connections",
			      slots);
			ret = -1;
		} else if (bpf_map_update_elem(fd, &slot, &o->live[n], BPF_ANY)) {
			p_err("cannot carry a tracked connection over: %s", strerror(errno));
			ret = -1;
		}
		taken[slot] = 1;
	}
	if (!taken)
		ret = -1;
	free(taken);
	return ret;
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
	conns_size(skel, sipka_conns_slots(max_conns));
	if (load_skel(skel))
		goto out;
	/* OLD's rules are copied value by value: a longer rule is zero-filled. */
	set = rules_new_set(rules ? rules : &none_rules);
	if (set < 0 || (!rules && old && rules_carry(old->config, set)) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.sipka_rules), &slot, &set, BPF_ANY))
		goto out;
	if (old) {
		*readopt = old->conns < 0;
		if (stats_carry(old, bpf_map__fd(skel->maps.sipka_stats),
				bpf_map__fd(skel->maps.sipka_slots), *readopt) ||
		    conns_carry(old, bpf_map__fd(skel->maps.sipka_conns),
				sipka_conns_slots(max_conns)))
			goto out;
	}
	{
		struct maps m = {
			bpf_map__fd(skel->maps.sipka_rules),
			bpf_map__fd(skel->maps.sipka_stats),
			bpf_map__fd(skel->maps.sipka_slots),
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
				      stage(pd, m.slots, SIPKA_PIN_SLOTS) ||
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
		/* Sizes round up to a power of two: an equal one is no change. */
		if (!opts->max_conns ||
		    sipka_conns_slots(opts->max_conns) == sipka_conns_slots(s.conns_max)) {
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
	if (old.nlive > max) {
		p_err("%u connections are tracked now; --max-connections must be at least that",
		      old.nlive);
		old_close(&old);
		return -1;
	}
	*res = LOAD_MIGRATED;
	ret = load_new(pd, &old, NULL, max, readopt);
	if (!ret)
		p_info("sipka: moved the maps from layout %d to layout %d (room for %u tracked connections); rules and counters kept",
		       layout, SIPKA_LAYOUT, sipka_conns_slots(max) / 2);
	old_close(&old);
	return ret;
}
