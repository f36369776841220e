// SPDX-License-Identifier: GPL-2.0
/* sipka status: what is loaded, what the kernel can do, what is attached where. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cli.h"
#include "iter.h"
#include "output.h"
#include "rules.h"
#include "state.h"

const struct cmd_help cmd_status_help = {
	.name = "status",
	.args = "",
	.nargs = 0,
	.text = "Shows the pinned program (id, the sipka that loaded it, map layout), what the\n"
		"kernel can do, each cgroup sipka is attached to (path, link and program ids,\n"
		"pin path), the number of rules, and any other sock_ops program that runs on\n"
		"the same sockets (and whose keepalive settings win). Attachments of sipka's\n"
		"program made without sipka (bpftool, systemd's BPFProgram=) are listed as\n"
		"'direct'; a link whose cgroup was removed as DEFUNCT ('sipka attach' removes\n"
		"those). A command killed half-way is finished or undone first.\n"
		"Exit status: 0 when attached to at least one live cgroup, 3 when not loaded\n"
		"or attached nowhere, 1 on error.\n",
};

static json_t *features_json(__u32 features)
{
	json_t *j = json_object();
	unsigned int bit;

	for (bit = 1; feature_name(bit); bit <<= 1)
		json_object_set_new(j, feature_name(bit), json_boolean(features & bit));
	return j;
}

static void print_features(__u32 features)
{
	printf("kernel   existing connections: %s\n",
	       !(features & SIPKA_FEAT_ITER_ARM) ? "not armed (no TCP iterator that sets options)" :
	       !(features & SIPKA_FEAT_ITER_TRACK) ? "armed, their closes not counted" :
						     "armed and counted");
}

static int not_loaded(const struct pindir *pd, const char *why)
{
	if (cli_opts.json)
		print_json(json_pack("{s:s, s:b}", "pin_dir", pd->path, "loaded", 0));
	else
		printf("sipka: not loaded (%s)\n", why);
	return EXIT_NOT_ATTACHED;
}

int cmd_status(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct attachments as = { 0 };
	json_t *jatt, *jothers;
	char prog_pin[PATH_MAX];
	struct conf rules;
	int i, rc, live = 0;

	if (opt_next(argc, argv, &cmd_status_help, &rc) != OPT_END)
		return rc;
	/* A writer: a command killed half-way is brought to a whole state. */
	if (state_begin_write(&pd, false))
		return EXIT_FAIL;
	if (pindir_missing(&pd))
		return not_loaded(&pd, "no pin dir");
	if (!state_loaded(&pd)) {
		pindir_close(&pd);
		return not_loaded(&pd, "nothing pinned");
	}
	if (state_open(&pd, &s) || attachments_list(&pd, &as)) {
		state_close(&s);
		pindir_close(&pd);
		return EXIT_FAIL;
	}
	if (!cli_opts.json)
		attachments_warn_foreign(&pd, &as);
	rules_read(s.config_fd, &rules);
	pindir_path(&pd, SIPKA_PIN_PROG, prog_pin);
	jatt = json_array();
	jothers = json_array();
	if (!cli_opts.json) {
		printf("program  id %u  pinned %s  loaded by sipka %s  layout %u\n", s.prog_id,
		       prog_pin, s.meta.version, s.meta.layout);
		print_features(s.meta.features);
		printf("rules    %u (sipka config show)\nconns    room for %u tracked (%u slots)\n",
		       rules.n, s.conns_max, 2 * s.conns_max);
	}
	for (i = 0; i < as.n; i++) {
		const struct attachment *a = &as.a[i];
		bool nested;
		json_t *others = a->defunct ? json_array() :
					      attachments_others(a->cgroup, &as.ours, &nested);

		if (!cli_opts.json)
			attachments_warn_others(a->cgroup, others);
		live += !a->defunct;
		json_array_extend(jothers, others);
		json_array_append_new(
			jatt, json_pack("{s:s, s:I, s:s, s:I, s:I, s:s?, s:b, s:o}", "cgroup",
					a->cgroup, "cgroup_id", (json_int_t)a->cgroup_id, "via",
					a->via_link ? "link" : "direct", "link_id",
					(json_int_t)a->link_id, "prog_id", (json_int_t)a->prog_id,
					"pin", a->via_link ? a->pin : NULL, "defunct", a->defunct,
					"other_programs", others));
		if (cli_opts.json)
			continue;
		if (a->via_link)
			printf("attached %s  link id %u  prog id %u  pinned %s%s\n", a->cgroup,
			       a->link_id, a->prog_id, a->pin, a->defunct ? "  DEFUNCT" : "");
		else
			printf("attached %s  direct (bpftool or systemd BPFProgram=)  prog id %u\n",
			       a->cgroup, a->prog_id);
	}
	if (cli_opts.json) {
		print_json(json_pack(
			"{s:s, s:b, s:{s:I, s:s, s:s, s:i}, s:o, s:i, s:i, s:o, s:i}", "pin_dir",
			pd.path, "loaded", 1, "prog", "id", (json_int_t)s.prog_id, "pin", prog_pin,
			"version", s.meta.version, "layout", s.meta.layout, "kernel",
			features_json(s.meta.features), "rules", rules.n, "max_connections",
			s.conns_max, "attachments", jatt, "foreign_pins", as.foreign));
	} else {
		json_decref(jatt);
		if (!live)
			printf("not attached to any live cgroup ('sipka attach --cgroup PATH')\n");
	}
	json_decref(jothers);
	attachments_free(&as);
	state_close(&s);
	pindir_close(&pd);
	return live ? EXIT_OK : EXIT_NOT_ATTACHED;
}
