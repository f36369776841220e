/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What makes a BPF program sipka's: it uses a map pinned in the pin dir
 * under one of sipka's names (committed, staged, or of an older layout).
 */
#ifndef SIPKA_OURS_H
#define SIPKA_OURS_H

#include <stdbool.h>
#include <linux/types.h>

#include "pindir.h"

struct ours {
	__u32 map_ids[32];
	int n;
	__u32 prog_id; /* the pinned program, 0 if none */
};
int ours_collect(const struct pindir *pd, struct ours *o);
bool ours_prog(const struct ours *o, __u32 prog_id);

#endif
