/* SPDX-License-Identifier: GPL-2.0 */
/* Generic helpers for BPF maps and objects, whoever's they are. */
#ifndef SIPKA_MAPS_H
#define SIPKA_MAPS_H

#include <bpf/bpf.h>
#include <stddef.h>
#include <linux/types.h>

/* The info of map FD into *INFO: 0, or -errno. */
int map_info(int fd, struct bpf_map_info *info);
/* The id of the BPF object (map, program or link) FD, or 0. */
__u32 obj_id(int fd);
/* The value size of map FD, or 0. */
__u32 map_value_size(int fd);

/* Every value of array map FD (keys 0 to ENTRIES - 1, VSIZE bytes each)
 * into OUT, in a few batched reads: 0, or -errno. */
int array_read(int fd, __u32 entries, size_t vsize, void *out);

/* Closes each fd that is open (>= 0) and sets it to -1: how every bundle
 * of fds (struct state, ...) is closed. */
void fds_close(int *const *each, size_t n);

#endif
