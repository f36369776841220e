/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attachments of sipka's program made without sipka's links: with bpftool or
 * systemd's BPFProgram=sock_ops:<pin dir>/prog (BPF_PROG_ATTACH, multi).
 */
#ifndef SIPKA_DIRECT_H
#define SIPKA_DIRECT_H

#include <limits.h>
#include <linux/types.h>

struct direct {
	char path[PATH_MAX];	/* the cgroup */
	__u64 cgroup_id;
};

/* The cgroups where PROG_ID is attached directly; returns how many (in
 * *OUT, to free()), or -1. */
int direct_list(__u32 prog_id, struct direct **out);

/* Puts NEW_FD in place of OLD_FD in every direct attachment of OLD_ID;
 * returns how many, or -1. */
int direct_replace(__u32 old_id, int old_fd, int new_fd);

#endif
