// SPDX-License-Identifier: GPL-2.0
/* sipka status: what is attached where. Exit 0 if attached to a live cgroup. */
#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "output.h"
#include "pins.h"
#include "rules.h"

static const struct cmd_help help = {
	"status", "",
	"Shows the pinned program, each cgroup sipka is attached to (path, link and\n"
	"program ids, pin path) and the number of rules. Exit status: 0 when attached\n"
	"to at least one live cgroup, 3 when not attached, 1 on error.\n",
};

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int cmd_status(int argc, char **argv)
{
	struct pins p = PINS_INIT;
	struct link_pin *links;
	char path[PATH_MAX], prog_pin[PATH_MAX];
	json_t *jlinks;
	struct conf rules;
	int c, i, n, rc, live = 0;

	while ((c = next_opt(argc, argv, &help, NULL, &rc)) != -1)
		return rc;
	if (want_args(argc, argv, 0, 0, &help))
		return EXIT_USAGE;
	if (pins_check_env())
		return EXIT_FAIL;
	if (access(g.pin_dir, F_OK)) {
		if (g.json)
			json_print(json_pack("{s:s, s:b}", "pin_dir", g.pin_dir, "loaded", 0));
		else
			printf("sipka: not loaded (%s does not exist)\n", g.pin_dir);
		return EXIT_NOT_ATTACHED;
	}
	if (pins_open(&p))
		return EXIT_FAIL;
	rules_read(p.config_fd, &rules);
	n = links_list(&links);
	if (n < 0) {
		err("cannot read %s: %s", g.pin_dir, strerror(errno));
		pins_close(&p);
		return EXIT_FAIL;
	}
	pin_path(prog_pin, SIPKA_PIN_PROG);
	jlinks = json_array();
	if (!g.json)
		printf("program  id %u  pinned %s\nrules    %u (sipka config show)\n",
		       prog_id(p.prog_fd), prog_pin, rules.n);
	for (i = 0; i < n; i++) {
		const struct link_pin *l = &links[i];
		bool alive = l->live_cgroup_id && !cgroup_path(l->live_cgroup_id, path);

		if (!alive)
			snprintf(path, sizeof(path), "(cgroup id %llu is gone)",
				 (unsigned long long)l->cgroup_id);
		live += alive;
		json_array_append_new(jlinks, json_pack("{s:s, s:I, s:I, s:I, s:s, s:b}",
			"cgroup", path, "cgroup_id", (json_int_t)l->cgroup_id,
			"link_id", (json_int_t)l->link_id, "prog_id", (json_int_t)l->prog_id,
			"pin", l->path, "defunct", !alive));
		if (!g.json)
			printf("attached %s  link id %u  prog id %u  pinned %s%s\n", path,
			       l->link_id, l->prog_id, l->path, alive ? "" : "  DEFUNCT");
	}
	if (g.json)
		json_print(json_pack("{s:s, s:b, s:{s:I, s:s}, s:i, s:o}",
			"pin_dir", g.pin_dir, "loaded", 1,
			"prog", "id", (json_int_t)prog_id(p.prog_fd), "pin", prog_pin,
			"rules", rules.n, "attachments", jlinks));
	else {
		json_decref(jlinks);
		if (!live)
			printf("not attached to any live cgroup ('sipka attach --cgroup PATH')\n");
	}
	links_free(links, n);
	pins_close(&p);
	return live ? EXIT_OK : EXIT_NOT_ATTACHED;
}
