/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP iterators: loading one against sipka's maps, running it in each
 * network namespace of the attached cgroups, and the feature probe (the
 * arming iterator run on a connection of our own).
 */
#ifndef SIPKA_ITER_H
#define SIPKA_ITER_H

#include <linux/types.h>

#include "attachments.h"
#include "skel.h"
#include "state.h"

/* Runs iterator WHICH, loaded against S's maps, in every network namespace
 * that a process of the cgroups of AS (and descendants) lives in, limited
 * to those cgroups; READ_IT reads each iteration. *SKIPPED: namespaces not
 * entered for want of CAP_SYS_ADMIN. */
int iter_walk(const struct state *s, const struct attachments *as, enum iter_kind which,
	      int (*read_it)(int fd, void *ctx), void *ctx, unsigned int *skipped);

/* What the kernel can do with existing connections (SIPKA_FEAT_*): the
 * arming iterator, loaded against S's maps, run on one loopback connection
 * of our own. Linux 6.1 lets it set keepalive but not
 * TCP_BPF_SOCK_OPS_CB_FLAGS, so their closes go unseen. */
__u32 iter_probe(const struct state *s);
/* SIPKA_FEAT_* names, for status. */
const char *feature_name(unsigned int bit);

#endif
