/* SPDX-License-Identifier: GPL-2.0 */
/* sipka's objects in the kernel, reached through the pin directory. */
#ifndef SIPKA_PINS_H
#define SIPKA_PINS_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

struct pins {
	int prog_fd;
	int config_fd;
	int stats_fd;
	int events_fd;
};
#define PINS_INIT { -1, -1, -1, -1 }

/* <pin dir>/<name> into BUF (PATH_MAX). */
void pin_path(char *buf, const char *name);
/* <pin dir>/link-<cgroup id> into BUF (PATH_MAX). */
void link_pin_path(char *buf, __u64 cgroup_id);

/* Root (or CAP_BPF + CAP_NET_ADMIN) and a BPF filesystem under the pin dir;
 * says what is missing and how to get it. */
int pins_check_env(void);

/* Opens what sipka pinned; says so and fails when sipka is not loaded. */
int pins_open(struct pins *p);
/* Opens the pinned objects, or loads the program and pins what is missing;
 * *CREATED tells whether the program was loaded now. */
int pins_load(struct pins *p, bool *created);
/* Points SKEL's shared maps at their pins, to reuse them when it loads. */
struct sipka_bpf;
void pins_reuse_maps(struct sipka_bpf *skel);
/* Removes the program and map pins and the directory (links are the caller's). */
void pins_remove(void);
void pins_close(struct pins *p);

/* One pinned link: <pin dir>/link-<cgroup id>. */
struct link_pin {
	char path[PATH_MAX];
	__u64 cgroup_id;	/* from its name: the cgroup it was made for */
	int fd;			/* -1 if it cannot be opened */
	__u32 link_id, prog_id;
	__u64 live_cgroup_id;	/* 0 once its cgroup is gone (defunct) */
};

/* The pinned links, in *LINKS (free with links_free); returns how many, or -1. */
int links_list(struct link_pin **links);
void links_free(struct link_pin *links, int n);

#endif
