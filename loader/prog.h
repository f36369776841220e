/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading sipka: a first load, a reuse of the pinned program, an upgrade
 * (another build, same layout: its program put in every attachment) or a
 * migration (another layout or table size), each staged and committed.
 */
#ifndef SIPKA_PROG_H
#define SIPKA_PROG_H

#include <stdbool.h>
#include <linux/types.h>

#include "conf.h"
#include "pindir.h"

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

#endif
