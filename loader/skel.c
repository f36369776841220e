// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hz.h"
#include "log.h"
#include "sipka.skel.h"
#include "skel.h"

static int reuse(struct bpf_map *map, int fd)
{
	return fd < 0 ? 0 : bpf_map__reuse_fd(map, fd);
}

void skel_set_conns(struct sipka_bpf *skel, __u32 slots)
{
	bpf_map__set_max_entries(skel->maps.sipka_conns, slots);
	skel->rodata->conns_mask = slots - 1;
}

struct sipka_bpf *skel_open(enum iter_kind which, const struct state *m, __u64 probe_cookie)
{
	struct sipka_bpf *skel = sipka_bpf__open();
	bool iterator = which != ITER_NONE;

	if (!skel) {
		p_err("cannot open the embedded BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->probe_cookie = probe_cookie;
	if (which == ITER_LIST) {
		int hz = hz_measure();

		if (hz < 0) {
			p_err("cannot measure the kernel's tick rate (HZ) with a socket timeout: %s",
			      strerror(-hz));
			sipka_bpf__destroy(skel);
			return NULL;
		}
		skel->rodata->kernel_hz = hz;
	}
	bpf_program__set_autoload(skel->progs.sipka_sockops, !iterator);
	bpf_program__set_autoload(skel->progs.sipka_existing, which == ITER_ARM);
	bpf_program__set_autoload(skel->progs.sipka_list, which == ITER_LIST);
	bpf_map__set_autocreate(skel->maps.sipka_arm_cgroups, iterator);
	bpf_map__set_autocreate(skel->maps.sipka_listening, iterator);
	if (reuse(skel->maps.sipka_rules, m->rules_fd) ||
	    reuse(skel->maps.sipka_stats, m->stats_fd) ||
	    reuse(skel->maps.sipka_slots, m->slots_fd) ||
	    reuse(skel->maps.sipka_conns, m->conns_fd) ||
	    reuse(skel->maps.sipka_events, m->events_fd) ||
	    reuse(skel->maps.sipka_meta, m->meta_fd) ||
	    reuse(skel->maps.sipka_untracked, m->untracked_fd)) {
		p_err("cannot reuse the pinned maps: %s", strerror(errno));
		sipka_bpf__destroy(skel);
		return NULL;
	}
	if (m->conns_fd >= 0) /* reused: its size is the pinned one's */
		skel_set_conns(skel, bpf_map__max_entries(skel->maps.sipka_conns));
	return skel;
}

int skel_try_load(struct sipka_bpf *skel)
{
	return sipka_bpf__load(skel);
}

int skel_load(struct sipka_bpf *skel)
{
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): sipka needs Linux 5.12 or later built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	err = sipka_bpf__load(skel);
	if (err)
		p_err("the kernel refused sipka's BPF program or maps: %s. sipka needs Linux 5.12 or later with BPF, cgroup BPF and BTF. Run with -vv for libbpf's log",
		      strerror(-err));
	return err;
}

void skel_fds(const struct sipka_bpf *skel, struct state *s)
{
	s->prog_fd = bpf_program__fd(skel->progs.sipka_sockops);
	s->rules_fd = bpf_map__fd(skel->maps.sipka_rules);
	s->stats_fd = bpf_map__fd(skel->maps.sipka_stats);
	s->slots_fd = bpf_map__fd(skel->maps.sipka_slots);
	s->conns_fd = bpf_map__fd(skel->maps.sipka_conns);
	s->events_fd = bpf_map__fd(skel->maps.sipka_events);
	s->meta_fd = bpf_map__fd(skel->maps.sipka_meta);
	s->untracked_fd = bpf_map__fd(skel->maps.sipka_untracked);
}

int skel_attach_iter(struct sipka_bpf *skel, enum iter_kind which)
{
	struct bpf_program *prog = which == ITER_LIST ? skel->progs.sipka_list :
							skel->progs.sipka_existing;
	struct bpf_link **link = which == ITER_LIST ? &skel->links.sipka_list :
						      &skel->links.sipka_existing;

	/* The link is the skeleton's: skel_close() destroys it. */
	*link = bpf_program__attach_iter(prog, NULL);
	return *link ? bpf_link__fd(*link) : -errno;
}

int skel_cgroups_fd(const struct sipka_bpf *skel)
{
	return bpf_map__fd(skel->maps.sipka_arm_cgroups);
}

void skel_close(struct sipka_bpf *skel)
{
	sipka_bpf__destroy(skel);
}
