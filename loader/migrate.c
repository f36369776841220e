// SPDX-License-Identifier: GPL-2.0
/* Migration: the maps of an older layout (or another table size) carried
 * into a new set, value by value. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "counters.h"
#include "log.h"
#include "maps.h"
#include "migrate.h"

/* The old rule set is a hash up to layout 2, an array since. A port above
 * 65535 (bpftool writes any key into a hash) can match no connection: it is
 * left behind. */
int migrate_rules(const struct old *o, int to)
{
	__u32 ov = map_value_size(o->s.config_fd), key, next, *prev = NULL, steps;
	__u8 *ob = calloc(1, ov ? ov : 1);
	struct sipka_rule r;
	int ret = !ov ? -EBADF : !ob ? -ENOMEM : 0;

	for (steps = 0; !ret && steps < 2 * SIPKA_PORTS; steps++) {
		if (bpf_map_get_next_key(o->s.config_fd, prev, &next))
			break;
		key = next;
		prev = &key;
		if (key >= SIPKA_PORTS || bpf_map_lookup_elem(o->s.config_fd, &key, ob))
			continue;
		memset(&r, 0, sizeof(r));
		memcpy(&r, ob, ov < sizeof(r) ? ov : sizeof(r));
		if (sipka_rule_present(&r) && bpf_map_update_elem(to, &key, &r, BPF_ANY)) {
			ret = -errno;
			p_err("cannot copy the rule of port %u into the new rule set: %s", key,
			      strerror(-ret));
		}
	}
	free(ob);
	return ret;
}

/* Map pin NAME if it is a map of sipka's of TYPE: its fd, or -errno. */
static int old_map(const struct pindir *pd, const char *name, __u32 type)
{
	struct bpf_map_info info;
	int fd = pin_get(pd, name, "map");

	if (fd >= 0 &&
	    (map_info(fd, &info) || info.type != type || strncmp(info.name, "sipka_", 6))) {
		close(fd);
		return -EBADF;
	}
	return fd;
}

/* The live slots of conns map FD (this layout's array), into O->live. */
static int live_slots(int fd, __u32 slots, struct old *o)
{
	struct sipka_conn *all = calloc(slots, sizeof(*all));
	int err = all ? array_read(fd, slots, sizeof(*all), all) : -ENOMEM;
	__u32 i;

	if (err) {
		p_err("cannot read the tracked connections: %s", strerror(-err));
		free(all);
		return err;
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
	if (!o->live) {
		p_err("out of memory");
		return -ENOMEM;
	}
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

int migrate_open(const struct pindir *pd, int layout, struct old *o)
{
	struct state none = STATE_INIT;
	struct bpf_map_info info;
	int rules, ret = 0;

	o->layout = layout;
	o->s = none;
	o->live = NULL;
	o->nlive = 0;
	if (layout == 1) {
		o->s.config_fd = old_map(pd, SIPKA_PIN_CONFIG, BPF_MAP_TYPE_HASH);
	} else {
		rules = old_map(pd, SIPKA_PIN_RULES, BPF_MAP_TYPE_ARRAY_OF_MAPS);
		o->s.config_fd = rules < 0 ? rules : state_live_config(pd, rules);
		if (rules >= 0)
			close(rules);
		o->s.conns_fd = old_map(pd, SIPKA_PIN_CONNS,
					layout == 2 ? BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_ARRAY);
		if (o->s.conns_fd >= 0 && !map_info(o->s.conns_fd, &info)) {
			o->s.conns_max = layout == 2 ? info.max_entries : info.max_entries / 2;
			ret = layout == 2 ? live_hashed(o->s.conns_fd, info.max_entries, o) :
					    live_slots(o->s.conns_fd, info.max_entries, o);
		}
	}
	/* Counters: keyed by port up to layout 2, in slots since. */
	o->s.stats_fd = old_map(pd, SIPKA_PIN_STATS,
				layout < 3 ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_PERCPU_ARRAY);
	if (layout >= 3)
		o->s.slots_fd = old_map(pd, SIPKA_PIN_SLOTS, BPF_MAP_TYPE_ARRAY);
	o->s.events_fd = old_map(pd, SIPKA_PIN_EVENTS, BPF_MAP_TYPE_RINGBUF);
	o->s.untracked_fd = old_map(pd, SIPKA_PIN_UNTRACKED, BPF_MAP_TYPE_SK_STORAGE);
	if (ret)
		return ret;
	if (o->s.config_fd < 0 || o->s.stats_fd < 0 || (layout >= 3 && o->s.slots_fd < 0)) {
		p_err("the pins in %s (layout %d) are incomplete or not sipka's; run 'sipka detach' and attach again",
		      pd->path, layout);
		return -EBADF;
	}
	return 0;
}

void migrate_close(struct old *o)
{
	state_close(&o->s);
	free(o->live);
	o->live = NULL;
}

/* The ports OLD has counters for, into PORTS (SIPKA_MAX_STATS of them),
 * with their keys in OLD's stats map into KEYS: how many, or -errno. */
static int old_counted(const struct old *o, __u32 *ports, __u32 *keys)
{
	__u32 key, next, *prev = NULL, *slots, port;
	int n = 0, err;

	if (o->s.slots_fd < 0) { /* keyed by port */
		while (n < SIPKA_MAX_STATS && !bpf_map_get_next_key(o->s.stats_fd, prev, &next)) {
			key = next;
			prev = &key;
			ports[n] = keys[n] = key;
			n++;
		}
		return n;
	}
	slots = malloc(SIPKA_PORTS * sizeof(*slots));
	err = slots ? array_read(o->s.slots_fd, SIPKA_PORTS, sizeof(*slots), slots) : -ENOMEM;
	if (err) {
		free(slots);
		return err;
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
int migrate_stats(const struct old *o, int stats, int slots, bool readopt)
{
	__u32 ports[SIPKA_MAX_STATS], keys[SIPKA_MAX_STATS], slot, zero = 0;
	__u32 ov = map_value_size(o->s.stats_fd);
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
		ret = n < 0 ? n : -ENOMEM;
		p_err("cannot read the counters to carry over: %s", strerror(-ret));
	}
	for (i = 0; !ret && i < n; i++) {
		if (bpf_map_lookup_elem(o->s.stats_fd, &keys[i], ob))
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
			ret = -errno;
			p_err("cannot carry the counters over: %s", strerror(-ret));
		}
	}
	slot = n > 0 ? n : 0;
	if (!ret && bpf_map_update_elem(slots, &zero, &slot, BPF_ANY)) { /* slots handed out */
		ret = -errno;
		p_err("cannot carry the counters over: %s", strerror(-ret));
	}
	free(ob);
	free(nb);
	free(carried);
	return ret;
}

/* Puts the connections OLD tracks in the slots of FD (SLOTS of them, not in
 * use yet), each where the program looks for it. */
int migrate_conns(const struct old *o, int fd, __u32 slots)
{
	__u8 *taken = calloc(slots, 1);
	__u32 n, i, slot = 0;
	int ret = taken ? 0 : -ENOMEM;

	for (n = 0; taken && !ret && n < o->nlive; n++) {
		for (i = 0; i < SIPKA_CONN_PROBES; i++) {
			slot = sipka_conn_slot(o->live[n].cookie, i, slots - 1);
			if (!taken[slot])
				break;
		}
		if (i == SIPKA_CONN_PROBES) {
			p_err("the tracked connections do not fit in %u slots; give a larger --max-connections",
			      slots);
			ret = -ENOSPC;
		} else if (bpf_map_update_elem(fd, &slot, &o->live[n], BPF_ANY)) {
			ret = -errno;
			p_err("cannot carry a tracked connection over: %s", strerror(-ret));
		}
		taken[slot] = 1;
	}
	if (!taken)
		p_err("cannot carry the tracked connections over: %s", strerror(ENOMEM));
	free(taken);
	return ret;
}
