/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipka's BPF object, the one file that embeds it (build/sipka.skel.h):
 * opened with only the program one job needs, against maps that exist
 * (pinned) or are made at load.
 */
#ifndef SIPKA_SKEL_H
#define SIPKA_SKEL_H

#include <stdbool.h>
#include <linux/types.h>

#include "state.h"

/* The program to load: the sock_ops program, or one of the iterators:
 * ITER_ARM arms existing connections (one byte of enum sipka_existing
 * each), ITER_LIST lists them (struct sipka_conn_info each). */
enum iter_kind { ITER_NONE, ITER_ARM, ITER_LIST };

struct sipka_bpf;

/* The object with only program WHICH to be loaded, against the maps of M
 * whose fd is open (the others are made at load); PROBE_COOKIE: the
 * feature probe's connection. ITER_LIST gets the kernel's HZ (hz.h) to turn
 * jiffies into time. NULL said why. */
struct sipka_bpf *skel_open(enum iter_kind which, const struct state *m, __u64 probe_cookie);
/* The conns table gets SLOTS slots (a power of two): the program finds a
 * slot by masking. */
void skel_set_conns(struct sipka_bpf *skel, __u32 slots);
/* Loads it into the kernel: 0, or -errno said why. */
int skel_load(struct sipka_bpf *skel);
/* The same, saying nothing: for the feature probe, where a refusal is an answer. */
int skel_try_load(struct sipka_bpf *skel);
/* The fds of SKEL's maps and program into S (SKEL's own: not to be closed). */
void skel_fds(const struct sipka_bpf *skel, struct state *s);
/* Attaches iterator WHICH: its link fd (SKEL's own), or -errno (nothing printed). */
int skel_attach_iter(struct sipka_bpf *skel, enum iter_kind which);
/* The map of cgroups an iterator run is limited to. */
int skel_cgroups_fd(const struct sipka_bpf *skel);
void skel_close(struct sipka_bpf *skel);

#endif
