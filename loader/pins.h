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
/* What pins_load found and did. */
enum pins_state {
	PINS_LOADED,	/* nothing was pinned: loaded and pinned now */
	PINS_REUSED,	/* the same build was pinned */
	PINS_UPGRADED,	/* another build's program was replaced in every link */
};
extern const char *const pins_state_name[];

/* Loads sipka's program, reusing the pinned maps (or pinning new ones) and
 * the pinned program if it is the same build; another build's program is
 * replaced in every link. */
int pins_load(struct pins *p, enum pins_state *state);
/* Points SKEL's shared maps at their pins, to reuse them when it loads. */
struct sipka_bpf;
void pins_reuse_maps(struct sipka_bpf *skel);
/* Removes the program and map pins and the directory (links are the caller's). */
void pins_remove(void);
void pins_close(struct pins *p);
/* The pinned program (a new fd), or -1. */
int pinned_prog(void);
/* The id of the program FD, or 0. */
__u32 prog_id(int fd);

/* One pinned link: <pin dir>/link-<cgroup id>. */
struct link_pin {
	char path[PATH_MAX];
	__u64 cgroup_id;	/* from its name: the cgroup it was made for */
	int fd;			/* -1 if it cannot be opened */
	__u32 link_id, prog_id;
	bool alive;		/* false once its cgroup is gone: defunct */
	char cgroup[PATH_MAX];	/* the cgroup's path, or "(cgroup id N is gone)" */
};

/* The pinned links, in *LINKS (free with links_free); returns how many, or -1. */
int links_list(struct link_pin **links);
void links_free(struct link_pin *links, int n);

#endif
