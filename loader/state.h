/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipka's objects in the kernel, reached through the pin dir: opened only
 * after each is checked to be sipka's, and brought back to a whole state
 * after a command was killed half-way.
 *
 * Loaded means the prog pin exists. Every change is staged as NAME-new pins
 * and committed by renaming them over the old ones (bpffs renames
 * atomically), meta-new last: a pin dir with meta-new holds a complete new
 * state to roll forward to; staged pins without it are rolled back.
 */
#ifndef SIPKA_STATE_H
#define SIPKA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "pindir.h"
#include "sipka.h"

/* sipka's objects: the one bundle of fds (-1: not open), closed by state_close. */
struct state {
	int prog_fd, rules_fd, config_fd, stats_fd, slots_fd, conns_fd, events_fd, meta_fd,
		untracked_fd;
	__u32 prog_id;
	__u32 conns_max; /* capacity of the conns table */
	struct sipka_meta meta;
};
#define STATE_INIT                                        \
	{                                                 \
		-1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, \
		{                                         \
			0                                 \
		}                                         \
	}

/* The layout of the committed pins into *LAYOUT: 0 when nothing is loaded,
 * 1 for sipka 0.1.0's pins; META gets the meta map's value (layout >= 2). */
int state_layout(const struct pindir *pd, int *layout, struct sipka_meta *meta);
/* Says that the maps in PD have LAYOUT, newer than this sipka's (META's
 * sipka loaded them); returns -EPROTONOSUPPORT. */
int state_newer(const struct pindir *pd, int layout, const struct sipka_meta *meta);

/* Whether sipka is loaded in PD: the pin dir is there and holds the prog pin. */
bool state_loaded(const struct pindir *pd);
/* Opens the committed pins of this build's layout, each checked. Says why
 * it fails, "not loaded" too (-ENOENT). */
int state_open(const struct pindir *pd, struct state *s);
void state_close(struct state *s);
/* The live rule set (slot 0 of the rules map): a new fd, or -errno
 * (nothing printed). */
int state_live_config(const struct pindir *pd, int rules_fd);

/* Under the writers' lock: finishes or undoes what a killed command left
 * (staged pins, attachments running another program than the pinned one,
 * a config pin that is not the live rule set, leftovers of a detach). */
int state_recover(struct pindir *pd);
/* Under the lock: puts the staged program in every attachment of sipka
 * (*REPLACED: how many, if not NULL), then renames the staged pins over the
 * committed ones. */
int state_commit(struct pindir *pd, int *replaced);

/* For a command that changes state: checks the environment, opens the pin
 * dir (CREATE: makes it, refused on a container's own bpffs), takes the
 * writers' lock and recovers. A missing pin dir (not CREATE) is no error:
 * pindir_missing() says so. */
int state_begin_write(struct pindir *pd, bool create);
/* For a command that reads: checks the environment, opens the pin dir and
 * the state, or says that sipka is not loaded. */
int state_begin_read(struct pindir *pd, struct state *s);

#endif
