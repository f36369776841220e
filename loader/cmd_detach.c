// SPDX-License-Identifier: GPL-2.0
/* sipka detach: one cgroup, or everything sipka put in the kernel and bpffs. */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "direct.h"
#include "output.h"
#include "pins.h"
#include "sipka.h"

static const struct cmd_help help = {
	"detach", "[--cgroup PATH]",
	"Without --cgroup: detaches sipka from every cgroup and removes its program,\n"
	"maps and pin dir, so nothing of sipka is left in the kernel or in bpffs.\n"
	"With --cgroup: detaches from that cgroup only; rules and counters stay.\n\n"
	"  -c, --cgroup PATH  the cgroup to detach from (as given to 'sipka attach')\n",
};

/* Detaches even if another process holds the link open, then unpins it. */
static int drop_link(int fd, const char *pin)
{
	if (fd >= 0 && bpf_link_detach(fd) && errno != ENOLINK) {
		err("cannot detach %s: %s", pin, strerror(errno));
		return -1;
	}
	if (unlink(pin) && errno != ENOENT) {
		err("cannot remove %s: %s", pin, strerror(errno));
		return -1;
	}
	return 0;
}

/* An attachment of the program PROG made by bpftool or systemd. */
static int detach_direct(int prog, const char *cg_path)
{
	int cg, ret;

	cg = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = prog < 0 || cg < 0 ? -1 : bpf_prog_detach2(prog, cg, BPF_CGROUP_SOCK_OPS);
	if (cg >= 0)
		close(cg);
	return ret;
}

static int detach_one(const char *cg_arg)
{
	char cg_path[PATH_MAX], pin[PATH_MAX];
	int fd, ret;

	if (cgroup_resolve(cg_arg, cg_path) || pins_check_env())
		return EXIT_FAIL;
	link_pin_path(pin, cgroup_id(cg_path));
	fd = bpf_obj_get(pin);
	if (fd >= 0) {
		ret = drop_link(fd, pin);
		close(fd);
	} else {
		fd = pinned_prog();
		ret = detach_direct(fd, cg_path);
		if (fd >= 0)
			close(fd);
		if (ret) {
			err("sipka is not attached to %s; 'sipka status' shows where it is", cg_path);
			return EXIT_FAIL;
		}
	}
	if (ret)
		return EXIT_FAIL;
	if (g.json)
		return json_print(json_pack("{s:[s]}", "detached", cg_path));
	printf("sipka: detached from %s\n", cg_path);
	return EXIT_OK;
}

/* Direct attachments of the pinned program (bpftool, systemd) go too. */
static int detach_all_direct(json_t *done)
{
	int i, n, ret = 0, prog = pinned_prog();
	struct direct *d;

	if (prog < 0)
		return 0;
	n = direct_list(prog_id(prog), &d);
	for (i = 0; i < n; i++) {
		if (detach_direct(prog, d[i].path)) {
			err("cannot detach from %s: %s", d[i].path, strerror(errno));
			ret = -1;
			continue;
		}
		json_array_append_new(done, json_string(d[i].path));
		if (!g.json)
			printf("sipka: detached from %s (a direct attachment)\n", d[i].path);
	}
	free(d);
	close(prog);
	return ret;
}

static int detach_all(void)
{
	struct link_pin *links;
	json_t *done;
	int i, n, rc = EXIT_OK;

	if (pins_check_env())
		return EXIT_FAIL;
	if (access(g.pin_dir, F_OK)) {
		note("sipka: nothing to detach (%s does not exist)", g.pin_dir);
		return g.json ? json_print(json_pack("{s:[], s:b}", "detached", "removed", 0)) : EXIT_OK;
	}
	done = json_array();
	n = links_list(&links);
	if (n < 0) {
		err("cannot read %s: %s", g.pin_dir, strerror(errno));
		json_decref(done);
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (drop_link(links[i].fd, links[i].path)) {
			rc = EXIT_FAIL;
			continue;
		}
		json_array_append_new(done, json_string(links[i].cgroup));
		if (!g.json)
			printf("sipka: detached from %s\n", links[i].cgroup);
	}
	links_free(links, n);
	rc = detach_all_direct(done) ? EXIT_FAIL : rc;
	if (rc) {	/* keep the maps while a link may still use them */
		json_decref(done);
		return rc;
	}
	pins_remove();
	if (g.json)
		return json_print(json_pack("{s:o, s:b}", "detached", done, "removed", 1));
	json_decref(done);
	printf("sipka: removed %s\n", g.pin_dir);
	return EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ 0 }
	};
	const char *cg_arg = NULL;
	int c, rc;

	while ((c = next_opt(argc, argv, &help, opts, &rc)) != -1) {
		switch (c) {
		case 'c': cg_arg = optarg; break;
		default: return rc;
		}
	}
	if (want_args(argc, argv, 0, 0, &help))
		return EXIT_USAGE;
	return cg_arg ? detach_one(cg_arg) : detach_all();
}
