// SPDX-License-Identifier: GPL-2.0
/* sipka status: what is attached where. Exit 0 if attached to a live cgroup. */
#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "direct.h"
#include "output.h"
#include "pins.h"
#include "rules.h"

static const struct cmd_help help = {
	"status", "",
	"Shows the pinned program, each cgroup sipka is attached to (path, link and\n"
	"program ids, pin path) and the number of rules. Attachments of the pinned\n"
	"program made without sipka (bpftool, systemd's BPFProgram=) are listed as\n"
	"'direct'; a link whose cgroup was removed as DEFUNCT ('sipka attach' removes\n"
	"those). Exit status: 0 when attached to at least one live cgroup, 3 when not\n"
	"attached, 1 on error.\n",
};

int cmd_status(int argc, char **argv)
{
	struct pins p = PINS_INIT;
	struct link_pin *links;
	struct direct *direct;
	char prog_pin[PATH_MAX];
	json_t *jlinks;
	struct conf rules;
	int c, i, n, nd, rc, live = 0;
	__u32 id;

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
	id = prog_id(p.prog_fd);
	jlinks = json_array();
	if (!g.json)
		printf("program  id %u  pinned %s\nrules    %u (sipka config show)\n",
		       id, prog_pin, rules.n);
	for (i = 0; i < n; i++) {
		const struct link_pin *l = &links[i];

		live += l->alive;
		json_array_append_new(jlinks, json_pack("{s:s, s:I, s:s, s:I, s:I, s:s, s:b}",
			"cgroup", l->cgroup, "cgroup_id", (json_int_t)l->cgroup_id, "via", "link",
			"link_id", (json_int_t)l->link_id, "prog_id", (json_int_t)l->prog_id,
			"pin", l->path, "defunct", !l->alive));
		if (!g.json)
			printf("attached %s  link id %u  prog id %u  pinned %s%s\n", l->cgroup,
			       l->link_id, l->prog_id, l->path, l->alive ? "" : "  DEFUNCT");
	}
	nd = direct_list(id, &direct);
	for (i = 0; i < nd; i++) {
		live++;
		json_array_append_new(jlinks, json_pack("{s:s, s:I, s:s, s:n, s:I, s:n, s:b}",
			"cgroup", direct[i].path, "cgroup_id", (json_int_t)direct[i].cgroup_id,
			"via", "direct", "link_id", "prog_id", (json_int_t)id, "pin", "defunct", 0));
		if (!g.json)
			printf("attached %s  direct (bpftool or systemd BPFProgram=)  prog id %u\n",
			       direct[i].path, id);
	}
	free(direct);
	if (g.json)
		json_print(json_pack("{s:s, s:b, s:{s:I, s:s}, s:i, s:o}",
			"pin_dir", g.pin_dir, "loaded", 1,
			"prog", "id", (json_int_t)id, "pin", prog_pin,
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
