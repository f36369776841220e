/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipka's BPF object (the one file that embeds it): loading the program
 * against the pinned maps, upgrading it, migrating the maps of an older
 * layout, probing the kernel's features, and the iterator for existing
 * connections.
 */
#ifndef SIPKA_PROG_H
#define SIPKA_PROG_H

#include <stdbool.h>
#include <linux/types.h>

#include "conf.h"
#include "pindir.h"
#include "state.h"

enum load_result {
	LOAD_LOADED,   /* nothing was loaded: loaded and pinned now */
	LOAD_REUSED,   /* this build's program was pinned */
	LOAD_UPGRADED, /* another build's: replaced in every attachment */
	LOAD_MIGRATED, /* maps of another layout or size: copied, then upgraded */
};
extern const char *const load_result_name[];

struct load_opts {
	const struct conf *rules; /* a first load's rules (else the default) */
	__u32 max_conns;	  /* conns capacity; 0: keep, or the default */
};

/* Under the writers' lock, after state_recover: makes this build's program
 * the pinned one, with maps of this layout. *READOPT: the connections
 * armed before must be armed again to be tracked (the conns table was not
 * carried over). */
int prog_load(struct pindir *pd, const struct load_opts *opts, enum load_result *res,
	      bool *readopt);

/* The iterators, loaded against S's maps: ITER_ARM arms existing
 * connections (one byte of enum sipka_existing each), ITER_LIST lists them
 * (struct sipka_conn_info each). */
enum iter_kind { ITER_NONE, ITER_ARM, ITER_LIST };
struct iter;
int iter_open(const struct state *s, enum iter_kind which, struct iter **it);
int iter_cgroups_fd(const struct iter *it);
/* A new iteration (read it to run it), in the caller's network namespace. */
int iter_create(const struct iter *it);
void iter_close(struct iter *it);

/* SIPKA_FEAT_* names, for status. */
const char *feature_name(unsigned int bit);

#endif
