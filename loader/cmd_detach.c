// SPDX-License-Identifier: GPL-2.0
/* sipka detach: one cgroup, or everything sipka put in the kernel and bpffs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cgroup.h"
#include "cli.h"
#include "output.h"
#include "state.h"
#include "where.h"

enum { OPT_CGROUP_OF = OPT_LONG_ONLY };

static const struct opt detach_opts[] = {
	{ .name = "cgroup",
	  .key = 'c',
	  .value = "PATH",
	  .help = "the cgroup to detach from (as given to 'sipka attach')" },
	{ .name = "cgroup-of",
	  .key = OPT_CGROUP_OF,
	  .value = "PID|self",
	  .help = "the cgroup of process PID; 'self': sipka's own",
	  .flags = OPT_OR_PREV },
	{ 0 },
};

const struct cmd_help cmd_detach_help = {
	.name = "detach",
	.args = "",
	.nargs = 0,
	.text = "Without --cgroup: detaches sipka from every cgroup (its links, and direct\n"
		"attachments of its program made by bpftool or systemd) and removes its\n"
		"program, maps and pin dir, so nothing of sipka is left in the kernel or in\n"
		"bpffs. With --cgroup: detaches from that cgroup only; rules and counters\n"
		"stay. Detaching what is not attached is no error.\n",
	.opts = detach_opts,
};

static int detach_one(struct pindir *pd, const char *cg_path)
{
	struct attachments as;
	json_t *done = json_array();
	__u64 id = cgroup_id(cg_path);
	int i, rc = EXIT_OK;

	if (attachments_list(pd, &as)) {
		json_decref(done);
		return EXIT_FAIL;
	}
	attachments_warn_foreign(pd, &as);
	for (i = 0; i < as.n; i++) {
		if (as.a[i].defunct || as.a[i].cgroup_id != id)
			continue;
		if (attachment_detach(&as.a[i])) {
			rc = EXIT_FAIL;
			continue;
		}
		json_array_append_new(done, json_string(cg_path));
	}
	attachments_free(&as);
	if (cli_opts.json)
		return print_json(json_pack("{s:o}", "detached", done)) ? EXIT_FAIL : rc;
	if (!json_array_size(done) && !rc)
		printf("sipka: not attached to %s: nothing to detach ('sipka status' shows where it is)\n",
		       cg_path);
	else if (!rc)
		printf("sipka: detached from %s\n", cg_path);
	json_decref(done);
	return rc;
}

/* Every attachment first, then the program pin (sipka is unloaded from that
 * moment), then the maps: killed anywhere, the next command finds a state
 * that is whole, or leftovers it removes. */
static int detach_all(struct pindir *pd)
{
	struct attachments as;
	json_t *done = json_array(), *kept = json_array();
	struct entry *e = NULL;
	int i, n, rc = EXIT_OK;

	if (attachments_list(pd, &as)) {
		rc = EXIT_FAIL;
		goto out;
	}
	attachments_warn_foreign(pd, &as);
	for (i = 0; i < as.n; i++) {
		if (attachment_detach(&as.a[i])) {
			rc = EXIT_FAIL;
			continue;
		}
		json_array_append_new(done, json_string(as.a[i].cgroup));
		if (!cli_opts.json)
			printf("sipka: detached from %s%s\n", as.a[i].cgroup,
			       as.a[i].via_link ? "" : " (a direct attachment)");
	}
	attachments_free(&as);
	if (rc) /* keep the program and maps while an attachment may use them */
		goto out;
	if (pin_remove(pd, SIPKA_PIN_PROG)) {
		rc = EXIT_FAIL;
		goto out;
	}
	n = pindir_entries(pd, &e);
	for (i = 0; i < n; i++) {
		if (e[i].kind == ENTRY_OURS || e[i].kind == ENTRY_STAGED) {
			if (pin_remove(pd, e[i].name))
				rc = EXIT_FAIL;
		} else {
			json_array_append_new(kept, json_string(e[i].name));
		}
	}
	if (rmdir(pd->path) && errno != ENOENT && !json_array_size(kept)) {
		p_err("cannot remove %s: %s", pd->path, strerror(errno));
		rc = EXIT_FAIL;
	}
out:
	free(e);
	if (cli_opts.json) {
		print_json(json_pack("{s:O, s:b, s:O}", "detached", done, "removed",
				     !rc && !json_array_size(kept), "kept", kept));
	} else if (!rc && json_array_size(kept)) {
		printf("sipka: removed sipka's program and maps; kept %s: it holds %zu entries that are not sipka's (%s%s)\n",
		       pd->path, json_array_size(kept), json_string_value(json_array_get(kept, 0)),
		       json_array_size(kept) > 1 ? ", ..." : "");
	} else if (!rc) {
		printf("sipka: removed %s\n", pd->path);
	}
	json_decref(done);
	json_decref(kept);
	return rc;
}

/* Detaching everything needs the whole cgroup tree in view: a direct
 * attachment outside it would be left running a program no pin holds. */
static bool whole_tree(void)
{
	struct cgroup2_mount m;

	if (where_cgroup2(&m))
		return false;
	if (!m.host_root)
		p_err("the cgroup v2 mount here, %s, shows a part of the tree only%s: sipka's attachments outside it cannot be seen, and detaching everything would leave them running; %s",
		      m.path,
		      where_cgroupns() == WHERE_PRIVATE ? " (a private cgroup namespace)" : "",
		      WHERE_FIX_CGROUPNS);
	return m.host_root;
}

int cmd_detach(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	const char *cg_arg = NULL, *cg_of = NULL;
	char cg_path[PATH_MAX];
	int c, rc;

	while ((c = opt_next(argc, argv, &cmd_detach_help, &rc)) != OPT_END) {
		switch (c) {
		case 'c': cg_arg = optarg; break;
		case OPT_CGROUP_OF: cg_of = optarg; break;
		default: return rc;
		}
	}
	if (cg_arg && cg_of) {
		p_err("give --cgroup or --cgroup-of, not both");
		return EXIT_USAGE;
	}
	if ((cg_arg || cg_of) &&
	    (cg_of ? cgroup_of(cg_of, cg_path) : cgroup_resolve(cg_arg, cg_path)))
		return EXIT_FAIL;
	if (!cg_arg && !cg_of && !whole_tree())
		return EXIT_FAIL;
	if (state_begin_write(&pd, false))
		return EXIT_FAIL;
	if (pindir_missing(&pd)) {
		if (cli_opts.json)
			return print_json(json_pack("{s:[], s:b}", "detached", "removed", 0));
		printf("sipka: nothing to detach (%s does not exist)\n", pd.path);
		return EXIT_OK;
	}
	rc = cg_arg || cg_of ? detach_one(&pd, cg_path) : detach_all(&pd);
	pindir_close(&pd);
	return rc;
}
