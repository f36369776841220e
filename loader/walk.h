/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the arming walk of the TCP iterator writes, decoded: a byte per
 * connection (enum sipka_existing), added up. Pure: no BPF; unit-tested and
 * fuzzed (tests/fuzz).
 */
#ifndef SIPKA_WALK_H
#define SIPKA_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "sipka.h"

/* What an arming walk did. */
struct existing {
	bool supported; /* false: this kernel cannot, said why */
	bool tracked;	/* their closes are seen (SIPKA_FEAT_ITER_TRACK) */
	unsigned int armed, retuned, untracked, failed;
	unsigned int netns_skipped; /* namespaces not entered: no CAP_SYS_ADMIN */
};

/* Adds the N bytes of BUF (enum sipka_existing each) to X's counts: a byte
 * that is not armed, retuned or untracked counts as failed. */
void existing_count(struct existing *x, const void *buf, size_t n);

#endif
