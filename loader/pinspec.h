/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pin schema: the one table of what sipka pins in its pin dir and what
 * each pin must be, the names older layouts left, and what an entry of the
 * pin dir is by its name.
 */
#ifndef SIPKA_PINSPEC_H
#define SIPKA_PINSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

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

/* An entry of the pin dir and what it is. */
enum entry_kind {
	ENTRY_OURS,   /* a name of pin_specs, or obsolete */
	ENTRY_STAGED, /* NAME-new or NAME-tmp of one of ours */
	ENTRY_LINK,   /* link-<number> */
	ENTRY_OTHER,  /* not a sipka name: left alone */
};
enum entry_kind pin_classify(const char *name);

/* Whether MAP_NAME (as the kernel keeps it, 15 characters) is "sipka_" + NAME. */
bool pin_map_named(const char *map_name, const char *name);
/* Checks that map FD is sipka's map SPEC (type, sizes, name): 0, or
 * -EINVAL with WHY saying what differs (nothing printed). */
int map_check(int fd, const struct pin_spec *spec, char *why, size_t len);

#endif
