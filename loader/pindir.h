/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pin directory: the one table of what sipka pins there, its safety
 * (root's, 0700, on bpffs) and the writers' lock.
 */
#ifndef SIPKA_PINDIR_H
#define SIPKA_PINDIR_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

struct pindir {
	const char *path;
	int fd;	     /* the directory, -1 until opened */
	bool locked; /* this process holds the writers' lock */
	bool create; /* opened to be made if missing */
};
#define PINDIR_INIT(p)                \
	{                             \
		(p), -1, false, false \
	}

/* What a pin must be to be sipka's. */
enum pin_kind { PIN_PROG, PIN_MAP };
struct pin_spec {
	const char *name; /* also the map's name after "sipka_" */
	enum pin_kind kind;
	__u32 map_type, key_size, value_size;
	__u32 max_entries; /* 0: set at load (conns), any */
};

/* The pins of this layout, in the order a commit renames them: maps
 * first, then the program, the meta map (the commit mark) last. */
extern const struct pin_spec pin_specs[];
extern const unsigned int pin_specs_n;
const struct pin_spec *pin_spec(const char *name);

/* Staged pins are NAME + this suffix (bpffs refuses dots) until the commit renames them. */
#define PIN_STAGED "-new"
#define PIN_TEMP   "-tmp" /* bpffs refuses names with a dot */
/* Names of the older layouts that a migration leaves behind. */
extern const char *const pin_obsolete[];

/* DIR/NAME into BUF (PATH_MAX); -1 if too long. */
int pindir_path(const struct pindir *pd, const char *name, char *buf);
/* DIR/link-<cgroup id>. */
int pindir_link_path(const struct pindir *pd, __u64 cgroup_id, char *buf);

/* Root, or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON; the pin dir on bpffs.
 * Says what is missing and how to get it. */
int pindir_check_env(const struct pindir *pd);
/* Whether this process may enter other network namespaces. */
bool pindir_can_setns(void);

/* Opens the pin dir, refusing one that is not a directory, not root's, or
 * writable by group or others. CREATE: make it (0700) if missing. Returns
 * 0, -ENOENT if missing (and not CREATE; nothing said), -1 said why. */
int pindir_open(struct pindir *pd, bool create);
/* Takes the writers' lock (flock on the directory), waiting at most
 * PINDIR_LOCK_WAIT_S (or $SIPKA_LOCK_WAIT seconds); says who holds it when
 * it gives up. */
#define PINDIR_LOCK_WAIT_S 10
int pindir_lock(struct pindir *pd);
void pindir_close(struct pindir *pd);
/* The one reader of the events ring buffer of PATH: an abstract socket
 * named after the pin dir's path, gone with the process (the pin dir's
 * flock is the writers'). Returns its fd, or -1 when another reader holds it. */
int pindir_reader_lock(const char *path);

/* An entry of the pin dir and what it is. */
enum entry_kind {
	ENTRY_OURS,   /* a name of pin_specs, or obsolete */
	ENTRY_STAGED, /* NAME-new or NAME-tmp of one of ours */
	ENTRY_LINK,   /* link-<number> */
	ENTRY_OTHER,  /* not a sipka name: left alone */
};
struct entry {
	char name[256];
	enum entry_kind kind;
	bool symlink; /* never followed */
};
/* The entries (free() them); returns how many, or -1. */
int pindir_entries(const struct pindir *pd, struct entry **out);

/* The kind of bpf object behind FD: "map", "prog", "link", or NULL. */
const char *pin_obj_kind(int fd);
/* Opens pin NAME if it is a bpf object of KIND (not a symlink); returns
 * the fd, -ENOENT if missing, -EBADF if it is something else. */
int pin_get(const struct pindir *pd, const char *name, const char *kind);
/* Pins FD as NAME atomically: NAME-tmp, then rename over NAME. */
int pin_replace(const struct pindir *pd, int fd, const char *name);
/* Removes pin NAME; 0 also if it was not there. */
int pin_remove(const struct pindir *pd, const char *name);

#endif
