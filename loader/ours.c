// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "ours.h"
#include "sipka.h"

int ours_collect(const struct pindir *pd, struct ours *o)
{
	struct bpf_map_info info;
	struct entry *e;
	int i, n, fd;

	memset(o, 0, sizeof(*o));
	fd = pin_get(pd, SIPKA_PIN_PROG, "prog");
	if (fd >= 0) {
		o->prog_id = obj_id(fd);
		close(fd);
	}
	n = pindir_entries(pd, &e);
	if (n < 0)
		return n;
	for (i = 0; i < n && o->n < (int)(sizeof(o->map_ids) / sizeof(o->map_ids[0])); i++) {
		if (e[i].symlink || (e[i].kind != ENTRY_OURS && e[i].kind != ENTRY_STAGED))
			continue;
		fd = pin_get(pd, e[i].name, "map");
		if (fd < 0)
			continue;
		/* A map of another tool pinned under our name makes nothing ours. */
		if (!map_info(fd, &info) && !strncmp(info.name, "sipka_", 6))
			o->map_ids[o->n++] = info.id;
		close(fd);
	}
	free(e);
	return 0;
}

bool ours_prog(const struct ours *o, __u32 prog_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 maps[32], len = sizeof(info), i;
	bool yes = false;
	int fd, k;

	if (!prog_id)
		return false;
	if (prog_id == o->prog_id)
		return true;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(maps) / sizeof(maps[0]);
	info.map_ids = (__u64)(unsigned long)maps;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < info.nr_map_ids && i < 32 && !yes; i++)
			for (k = 0; k < o->n && !yes; k++)
				yes = maps[i] == o->map_ids[k];
	close(fd);
	return yes;
}
