// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "direct.h"
#include "pins.h"
#include "sipka.h"
#include "sipka.skel.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

void pin_path(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", g.pin_dir, name);
}

void link_pin_path(char *buf, __u64 cgroup_id)
{
	snprintf(buf, PATH_MAX, "%s/%s%llu", g.pin_dir, SIPKA_PIN_LINK_PREFIX,
		 (unsigned long long)cgroup_id);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int pins_check_env(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
	char parent[PATH_MAX], *slash;
	struct statfs fs;

	if (syscall(SYS_capget, &h, d) ||
	    !(has_cap(d, CAP_SYS_ADMIN) || (has_cap(d, CAP_BPF) && has_cap(d, CAP_NET_ADMIN)))) {
		err("sipka needs root, or CAP_BPF and CAP_NET_ADMIN; run it with sudo");
		return -1;
	}
	/* The pin dir itself, or the directory it will be made in. */
	if (statfs(g.pin_dir, &fs)) {
		snprintf(parent, sizeof(parent), "%s", g.pin_dir);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (statfs(parent, &fs)) {
			err("%s does not exist: the pin dir must be inside a BPF filesystem; mount one with 'mount -t bpf bpf /sys/fs/bpf'",
			    parent);
			return -1;
		}
	}
	if (fs.f_type != BPF_FS_MAGIC) {
		err("%s is not on a BPF filesystem (bpffs is not mounted there); mount it with 'mount -t bpf bpf /sys/fs/bpf', or choose another --pin-dir",
		    g.pin_dir);
		return -1;
	}
	return 0;
}

static int open_pin(const char *name, int *fd)
{
	char path[PATH_MAX];

	pin_path(path, name);
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

int pins_open(struct pins *p)
{
	if (pins_check_env())
		return -1;
	if (open_pin(SIPKA_PIN_PROG, &p->prog_fd) ||
	    open_pin(SIPKA_PIN_CONFIG, &p->config_fd) ||
	    open_pin(SIPKA_PIN_STATS, &p->stats_fd) ||
	    open_pin(SIPKA_PIN_EVENTS, &p->events_fd)) {
		err("sipka is not loaded (nothing pinned in %s); run 'sipka attach' first", g.pin_dir);
		pins_close(p);
		return -1;
	}
	return 0;
}

void pins_reuse_maps(struct sipka_bpf *skel)
{
	char path[PATH_MAX];

	/* Maps already pinned are reused, so rules and counters survive a reload. */
	pin_path(path, SIPKA_PIN_CONFIG);
	bpf_map__set_pin_path(skel->maps.sipka_config, path);
	pin_path(path, SIPKA_PIN_STATS);
	bpf_map__set_pin_path(skel->maps.sipka_stats, path);
	pin_path(path, SIPKA_PIN_SOCKETS);
	bpf_map__set_pin_path(skel->maps.sipka_sockets, path);
	pin_path(path, SIPKA_PIN_EVENTS);
	bpf_map__set_pin_path(skel->maps.sipka_events, path);
}

/* Loads the program with its maps, reusing (or pinning) the maps. */
static int load(struct pins *p)
{
	struct sipka_bpf *skel;
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		err("this kernel has no BTF (/sys/kernel/btf/vmlinux): sipka needs Linux 5.10 or later built with CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	skel = sipka_bpf__open();
	if (!skel) {
		err("cannot open the embedded BPF object: %s", strerror(errno));
		return -1;
	}
	/* The iterator is loaded when it runs (existing.c), not kept. */
	bpf_program__set_autoload(skel->progs.sipka_existing, false);
	pins_reuse_maps(skel);
	ret = sipka_bpf__load(skel);
	if (ret) {
		err("the kernel refused sipka's BPF program or maps: %s. sipka needs Linux 5.10 or later with BPF, cgroup BPF and BTF; a map pinned by an incompatible sipka is refused too ('sipka detach' removes it). Run with -vv for libbpf's log",
		    strerror(-ret));
	} else {
		p->prog_fd = dup(bpf_program__fd(skel->progs.sipka_sockops));
		p->config_fd = dup(bpf_map__fd(skel->maps.sipka_config));
		p->stats_fd = dup(bpf_map__fd(skel->maps.sipka_stats));
		p->events_fd = dup(bpf_map__fd(skel->maps.sipka_events));
	}
	sipka_bpf__destroy(skel);
	return ret ? -1 : 0;
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

int pinned_prog(void)
{
	char pin[PATH_MAX];

	pin_path(pin, SIPKA_PIN_PROG);
	return bpf_obj_get(pin);
}

__u32 prog_id(int fd)
{
	struct bpf_prog_info info;

	return prog_info(fd, &info) ? 0 : info.id;
}

/* Another build's program is pinned: put ours in every link and direct
 * attachment (atomically, so no connection goes unarmed), then in the pin.
 * Maps, rules and counters are shared, so nothing is lost. */
static int upgrade(int old_fd, int new_fd)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE, .old_prog_fd = old_fd);
	struct link_pin *links;
	char pin[PATH_MAX];
	int i, n, updated = 0;

	n = links_list(&links);
	for (i = 0; i < n; i++) {
		if (!links[i].alive)
			continue;
		if (bpf_link_update(links[i].fd, new_fd, &opts)) {
			err("cannot put the new program in %s: %s", links[i].path, strerror(errno));
			links_free(links, n);
			return -1;
		}
		updated++;
	}
	links_free(links, n);
	n = direct_replace(prog_id(old_fd), old_fd, new_fd);
	if (n < 0)
		return -1;
	updated += n;
	/* bpffs cannot rename over a pin; the links hold the program meanwhile. */
	pin_path(pin, SIPKA_PIN_PROG);
	if ((unlink(pin) && errno != ENOENT) || bpf_obj_pin(new_fd, pin)) {
		err("cannot pin the new program at %s: %s", pin, strerror(errno));
		return -1;
	}
	note("sipka: upgraded the program in %d attachment%s; rules and counters kept",
	     updated, updated == 1 ? "" : "s");
	return 0;
}

/* The pinned program and its maps go together. */
static bool maps_pinned(void)
{
	static const char *const maps[] = { SIPKA_PIN_CONFIG, SIPKA_PIN_STATS, SIPKA_PIN_EVENTS };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		pin_path(path, maps[i]);
		if (access(path, F_OK))
			return false;
	}
	return true;
}

const char *const pins_state_name[] = {
	[PINS_LOADED] = "loaded", [PINS_REUSED] = "reused", [PINS_UPGRADED] = "upgraded",
};

int pins_load(struct pins *p, enum pins_state *state)
{
	struct bpf_prog_info old_info, new_info;
	char path[PATH_MAX];
	int old_fd;

	if (pins_check_env())
		return -1;
	if (mkdir(g.pin_dir, 0700) && errno != EEXIST) {
		err("cannot create the pin dir %s: %s", g.pin_dir, strerror(errno));
		return -1;
	}
	pin_path(path, SIPKA_PIN_PROG);
	old_fd = bpf_obj_get(path);
	if (old_fd >= 0 && !maps_pinned()) {
		close(old_fd);
		err("the pins in %s are incomplete (a map was removed by hand?); run 'sipka detach' to clear them, then attach again",
		    g.pin_dir);
		return -1;
	}
	if (load(p)) {
		if (old_fd >= 0)
			close(old_fd);
		return -1;
	}
	if (old_fd < 0) {
		if (bpf_obj_pin(p->prog_fd, path)) {
			err("cannot pin the program at %s: %s", path, strerror(errno));
			pins_close(p);
			return -1;
		}
		*state = PINS_LOADED;
		if (g.verbose)
			note("sipka: loaded the program and pinned it with its maps in %s", g.pin_dir);
		return 0;
	}
	/* Same build (same instructions, same tag): keep the running one. */
	if (!prog_info(old_fd, &old_info) && !prog_info(p->prog_fd, &new_info) &&
	    !memcmp(old_info.tag, new_info.tag, sizeof(old_info.tag))) {
		close(p->prog_fd);
		p->prog_fd = old_fd;
		*state = PINS_REUSED;
		if (g.verbose)
			note("sipka: reusing the program and maps pinned in %s", g.pin_dir);
		return 0;
	}
	if (upgrade(old_fd, p->prog_fd)) {
		close(old_fd);
		pins_close(p);
		return -1;
	}
	close(old_fd);
	*state = PINS_UPGRADED;
	return 0;
}

void pins_remove(void)
{
	static const char *const names[] = {
		SIPKA_PIN_PROG, SIPKA_PIN_CONFIG, SIPKA_PIN_STATS, SIPKA_PIN_SOCKETS,
		SIPKA_PIN_EVENTS,
	};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pin_path(path, names[i]);
		if (unlink(path) && errno != ENOENT)
			note("warning: cannot remove %s: %s", path, strerror(errno));
	}
	if (rmdir(g.pin_dir) && errno != ENOENT)
		note("warning: cannot remove %s: %s (something else is pinned there?)",
		     g.pin_dir, strerror(errno));
}

void pins_close(struct pins *p)
{
	int *fds[] = { &p->prog_fd, &p->config_fd, &p->stats_fd, &p->events_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int links_list(struct link_pin **links)
{
	size_t prefix = strlen(SIPKA_PIN_LINK_PREFIX);
	struct link_pin *l, *all = NULL;
	struct bpf_link_info info;
	struct dirent *e;
	int n = 0;
	__u32 len;
	DIR *d;

	*links = NULL;
	d = opendir(g.pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, SIPKA_PIN_LINK_PREFIX, prefix))
			continue;
		l = realloc(all, (n + 1) * sizeof(*all));
		if (!l)
			break;
		all = l;
		l = &all[n++];
		memset(l, 0, sizeof(*l));
		snprintf(l->path, sizeof(l->path), "%s/%s", g.pin_dir, e->d_name);
		l->cgroup_id = strtoull(e->d_name + prefix, NULL, 10);
		l->fd = bpf_obj_get(l->path);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (l->fd >= 0 && !bpf_obj_get_info_by_fd(l->fd, &info, &len)) {
			l->link_id = info.id;
			l->prog_id = info.prog_id;
			/* A removed cgroup may keep its id in the link a while. */
			l->alive = info.cgroup.cgroup_id &&
				   !cgroup_path(info.cgroup.cgroup_id, l->cgroup);
		}
		if (!l->alive)
			snprintf(l->cgroup, sizeof(l->cgroup), "(cgroup id %llu is gone)",
				 (unsigned long long)l->cgroup_id);
	}
	closedir(d);
	*links = all;
	return n;
}

void links_free(struct link_pin *links, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (links[i].fd >= 0)
			close(links[i].fd);
	free(links);
}
