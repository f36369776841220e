// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "maps.h"
#include "pinspec.h"
#include "sipka.h"

const struct pin_spec pin_specs[] = {
	{ SIPKA_PIN_RULES, PIN_MAP, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1 },
	{ SIPKA_PIN_CONFIG, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sipka_rule),
	  SIPKA_PORTS },
	{ SIPKA_PIN_STATS, PIN_MAP, BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct sipka_counters),
	  SIPKA_MAX_STATS },
	{ SIPKA_PIN_SLOTS, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, 4, SIPKA_PORTS },
	{ SIPKA_PIN_CONNS, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sipka_conn), 0 },
	{ SIPKA_PIN_EVENTS, PIN_MAP, BPF_MAP_TYPE_RINGBUF, 0, 0, SIPKA_EVENTS_SIZE },
	{ SIPKA_PIN_UNTRACKED, PIN_MAP, BPF_MAP_TYPE_SK_STORAGE, 4, 4, 0 },
	{ SIPKA_PIN_PROG, PIN_PROG, 0, 0, 0, 0 },
	{ SIPKA_PIN_META, PIN_MAP, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sipka_meta), 1 },
};
const unsigned int pin_specs_n = sizeof(pin_specs) / sizeof(pin_specs[0]);

/* Layout 1 (sipka 0.1.0) kept per-socket state in socket storage. */
const char *const pin_obsolete[] = { "sockets", NULL };

const struct pin_spec *pin_spec(const char *name)
{
	unsigned int i;

	for (i = 0; i < pin_specs_n; i++)
		if (!strcmp(pin_specs[i].name, name))
			return &pin_specs[i];
	return NULL;
}

static bool ours_name(const char *name)
{
	int i;

	if (pin_spec(name))
		return true;
	for (i = 0; pin_obsolete[i]; i++)
		if (!strcmp(name, pin_obsolete[i]))
			return true;
	return false;
}

enum entry_kind pin_classify(const char *name)
{
	size_t n = strlen(name), p = strlen(SIPKA_PIN_LINK_PREFIX);
	char base[256];

	if (ours_name(name))
		return ENTRY_OURS;
	if (n > 4 && n < sizeof(base) &&
	    (!strcmp(name + n - 4, PIN_STAGED) || !strcmp(name + n - 4, PIN_TEMP))) {
		memcpy(base, name, n - 4);
		base[n - 4] = '\0';
		if (ours_name(base))
			return ENTRY_STAGED;
		name = base; /* link-N-tmp */
		n -= 4;
		if (!strncmp(name, SIPKA_PIN_LINK_PREFIX, p) && n > p &&
		    strspn(name + p, "0123456789") == n - p)
			return ENTRY_STAGED;
		return ENTRY_OTHER;
	}
	if (!strncmp(name, SIPKA_PIN_LINK_PREFIX, p) && n > p &&
	    strspn(name + p, "0123456789") == n - p)
		return ENTRY_LINK;
	return ENTRY_OTHER;
}

bool pin_map_named(const char *map_name, const char *name)
{
	char want[BPF_OBJ_NAME_LEN];

	snprintf(want, sizeof(want), "sipka_%s", name);
	return !strcmp(map_name, want);
}

int map_check(int fd, const struct pin_spec *spec, char *why, size_t len)
{
	struct bpf_map_info info;
	int err = map_info(fd, &info);

	if (err) {
		snprintf(why, len, "cannot read its map info: %s", strerror(-err));
		return err;
	}
	if (info.type != spec->map_type || info.key_size != spec->key_size ||
	    info.value_size != spec->value_size ||
	    (spec->max_entries && info.max_entries != spec->max_entries) ||
	    !pin_map_named(info.name, spec->name)) {
		snprintf(
			why, len,
			"it is map '%s' of type %u, key %u B, value %u B, %u entries; sipka's is 'sipka_%s' of type %u, key %u B, value %u B",
			info.name, info.type, info.key_size, info.value_size, info.max_entries,
			spec->name, spec->map_type, spec->key_size, spec->value_size);
		return -EINVAL;
	}
	return 0;
}
