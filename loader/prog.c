// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iter.h"
#include "log.h"
#include "maps.h"
#include "migrate.h"
#include "prog.h"
#include "rules.h"
#include "skel.h"
#include "state.h"

const char *const load_result_name[] = {
	[LOAD_LOADED] = "loaded",
	[LOAD_REUSED] = "reused",
	[LOAD_UPGRADED] = "upgraded",
	[LOAD_MIGRATED] = "migrated",
};

/* The meta map FD says this layout, this build and the kernel's FEATURES. */
static int write_meta(int fd, __u32 features)
{
	struct sipka_meta meta = { .layout = SIPKA_LAYOUT, .features = features };
	__u32 key = 0;
	int err;

	snprintf(meta.version, sizeof(meta.version), "%s", SIPKA_VERSION);
	if (bpf_map_update_elem(fd, &key, &meta, BPF_ANY)) {
		err = -errno;
		p_err("cannot write the meta map: %s", strerror(-err));
		return err;
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

/* Stages every pin of the new state N (rule set SET; EVENTS, UNTRACKED:
 * whether those maps are new), then commits. */
static int stage_all(struct pindir *pd, const struct state *n, int set, bool events, bool untracked)
{
	const struct {
		const char *name;
		int fd;
		bool new;
	} pins[] = {
		/* In the order of pin_specs: meta, the commit mark, last. */
		{ SIPKA_PIN_RULES, n->rules_fd, true },
		{ SIPKA_PIN_CONFIG, set, true },
		{ SIPKA_PIN_STATS, n->stats_fd, true },
		{ SIPKA_PIN_SLOTS, n->slots_fd, true },
		{ SIPKA_PIN_CONNS, n->conns_fd, true },
		{ SIPKA_PIN_EVENTS, n->events_fd, events },
		{ SIPKA_PIN_UNTRACKED, n->untracked_fd, untracked },
		{ SIPKA_PIN_PROG, n->prog_fd, true },
		{ SIPKA_PIN_META, n->meta_fd, true },
	};
	size_t i;
	int err = 0;

	for (i = 0; !err && i < sizeof(pins) / sizeof(pins[0]); i++)
		if (pins[i].new)
			err = pin_stage(pd, pins[i].fd, pins[i].name);
	return err ? err : state_commit(pd, NULL);
}

/*
 * A whole new set of maps and the program: a first load (OLD NULL), or a
 * migration from OLD. RULES: the rule set to start with (NULL: OLD's).
 */
static int load_new(struct pindir *pd, struct old *old, const struct conf *rules, __u32 max_conns,
		    bool *readopt)
{
	struct state none = STATE_INIT, n = STATE_INIT;
	static const struct conf none_rules;
	struct sipka_bpf *skel;
	int set = -1, err;
	__u32 slot = 0;

	*readopt = false;
	/* The same ring buffer, so readers go on, and the same marks of
	 * untracked connections, which live with their sockets. */
	if (old && old->s.events_fd >= 0 && map_value_size(old->s.events_fd) == 0)
		none.events_fd = old->s.events_fd;
	if (old && old->s.untracked_fd >= 0 && map_value_size(old->s.untracked_fd) == sizeof(__u32))
		none.untracked_fd = old->s.untracked_fd;
	skel = skel_open(ITER_NONE, &none, 0);
	if (!skel)
		return -ENOMEM;
	skel_set_conns(skel, sipka_conns_slots(max_conns));
	err = skel_load(skel);
	if (err)
		goto out;
	skel_fds(skel, &n);
	/* OLD's rules are copied value by value: a longer rule is zero-filled. */
	set = rules_new_set(rules ? rules : &none_rules);
	err = set < 0 ? set : 0;
	if (!err && !rules && old)
		err = migrate_rules(old, set);
	if (!err && bpf_map_update_elem(n.rules_fd, &slot, &set, BPF_ANY)) {
		err = -errno;
		p_err("cannot switch to the new rules: %s", strerror(-err));
	}
	if (!err && old) {
		*readopt = old->s.conns_fd < 0;
		err = migrate_stats(old, n.stats_fd, n.slots_fd, *readopt);
		if (!err)
			err = migrate_conns(old, n.conns_fd, sipka_conns_slots(max_conns));
	}
	if (!err)
		err = write_meta(n.meta_fd, iter_probe(&n));
	if (!err)
		err = stage_all(pd, &n, set, none.events_fd < 0, none.untracked_fd < 0);
out:
	if (set >= 0)
		close(set);
	skel_close(skel);
	return err;
}

/* This layout, this size: load this build's program against the pinned maps. */
static int load_same(struct pindir *pd, const struct state *s, enum load_result *res)
{
	struct state n = STATE_INIT;
	struct sipka_bpf *skel;
	int err, replaced = 0;

	skel = skel_open(ITER_NONE, s, 0);
	if (!skel)
		return -ENOMEM;
	err = skel_load(skel);
	if (err)
		goto out;
	skel_fds(skel, &n);
	if (same_program(n.prog_fd, s->prog_fd)) {
		*res = LOAD_REUSED;
		goto out;
	}
	/* Another build: its program goes in every attachment at the commit. */
	*res = LOAD_UPGRADED;
	err = write_meta(s->meta_fd, iter_probe(s));
	if (!err)
		err = pin_stage(pd, n.prog_fd, SIPKA_PIN_PROG);
	if (!err)
		err = pin_stage(pd, s->meta_fd, SIPKA_PIN_META);
	if (!err)
		err = state_commit(pd, &replaced);
	if (!err)
		p_info("sipka: upgraded the program in %d attachment%s; rules and counters kept",
		       replaced, replaced == 1 ? "" : "s");
out:
	skel_close(skel);
	return err;
}

int prog_load(struct pindir *pd, const struct load_opts *opts, enum load_result *res, bool *readopt)
{
	struct sipka_meta meta;
	struct state s = STATE_INIT;
	struct old old;
	int layout, err;
	__u32 max;

	*readopt = false;
	err = state_layout(pd, &layout, &meta);
	if (err)
		return err;
	if (!layout) {
		*res = LOAD_LOADED;
		return load_new(pd, NULL, opts->rules,
				opts->max_conns ? opts->max_conns : SIPKA_CONNS_DEFAULT, readopt);
	}
	if (layout > SIPKA_LAYOUT)
		return state_newer(pd, layout, &meta);
	if (layout == SIPKA_LAYOUT) {
		err = state_open(pd, &s);
		if (err)
			return err;
		/* Sizes round up to a power of two: an equal one is no change. */
		if (!opts->max_conns ||
		    sipka_conns_slots(opts->max_conns) == sipka_conns_slots(s.conns_max)) {
			err = load_same(pd, &s, res);
			state_close(&s);
			return err;
		}
		state_close(&s);
	}
	err = migrate_open(pd, layout, &old);
	if (err) {
		migrate_close(&old);
		return err;
	}
	max = opts->max_conns ? opts->max_conns :
	      old.s.conns_max ? old.s.conns_max :
				SIPKA_CONNS_DEFAULT;
	if (old.nlive > max) {
		p_err("%u connections are tracked now; --max-connections must be at least that",
		      old.nlive);
		migrate_close(&old);
		return -ENOSPC;
	}
	*res = LOAD_MIGRATED;
	err = load_new(pd, &old, NULL, max, readopt);
	if (!err)
		p_info("sipka: moved the maps from layout %d to layout %d (room for %u tracked connections); rules and counters kept",
		       layout, SIPKA_LAYOUT, sipka_conns_slots(max) / 2);
	migrate_close(&old);
	return err;
}
