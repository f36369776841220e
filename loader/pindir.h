/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pin directory and the pins in it: opening it safely (root's, 0700, a
 * directory), its entries, and every pin sipka makes, reads or removes
 * there. The pin dir is passed explicitly (struct pindir), never read from
 * the command line's options.
 */
#ifndef SIPKA_PINDIR_H
#define SIPKA_PINDIR_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

#include "pinspec.h"

struct pindir {
	const char *path;
	int fd;	      /* the directory, -1 until opened */
	bool locked;  /* this process holds the writers' lock */
	bool create;  /* opened to be made if missing */
	bool missing; /* pindir_open found no directory (and made none) */
};
#define PINDIR_INIT(p)                       \
	{                                    \
		(p), -1, false, false, false \
	}

/* DIR/NAME into BUF (PATH_MAX); -ENAMETOOLONG if too long. */
int pindir_path(const struct pindir *pd, const char *name, char *buf);
/* DIR/link-<cgroup id>. */
int pindir_link_path(const struct pindir *pd, __u64 cgroup_id, char *buf);

/* Opens the pin dir, refusing one that is not a directory, not root's, or
 * writable by group or others. CREATE: make it (0700) if missing. A
 * missing one (not CREATE) is no error: 0, and pindir_missing() says so. */
int pindir_open(struct pindir *pd, bool create);
static inline bool pindir_missing(const struct pindir *pd)
{
	return pd->missing;
}
void pindir_close(struct pindir *pd);

struct entry {
	char name[256];
	enum entry_kind kind;
	bool symlink; /* never followed */
};
/* The entries (free() them); returns how many, or -errno. */
int pindir_entries(const struct pindir *pd, struct entry **out);

/* Whether NAME is in the pin dir (a symbolic link is not followed). */
bool pin_exists(const struct pindir *pd, const char *name);
/* The kind of bpf object behind FD: "map", "prog", "link", or NULL. */
const char *pin_obj_kind(int fd);
/* Opens pin NAME if it is a bpf object of KIND (not a symlink); returns
 * the fd, -ENOENT if missing, -EBADF if it is something else (nothing
 * printed: the caller knows what it means). */
int pin_get(const struct pindir *pd, const char *name, const char *kind);
/* Pins FD as NAME-new, for a commit (pin_commit) to rename over NAME. */
int pin_stage(const struct pindir *pd, int fd, const char *name);
/* Renames the staged pin NAME-new over NAME, if there is one. */
int pin_commit(const struct pindir *pd, const char *name);
/* Pins FD as NAME atomically: NAME-tmp, then rename over NAME. */
int pin_replace(const struct pindir *pd, int fd, const char *name);
/* Pins link FD as link-<CGROUP_ID>, which must not exist. */
int pin_link(const struct pindir *pd, int fd, __u64 cgroup_id);
/* Removes pin NAME; 0 also if it was not there. */
int pin_remove(const struct pindir *pd, const char *name);

#endif
