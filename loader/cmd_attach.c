// SPDX-License-Identifier: GPL-2.0
/* sipka attach: load (or reuse) the program and attach it with a pinned link. */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "conf.h"
#include "existing.h"
#include "output.h"
#include "pins.h"
#include "rules.h"
#include "sipka.h"

static const struct cmd_help help = {
	"attach", "[--cgroup PATH] [--config FILE] [--new-only]",
	"Loads sipka's program and maps (or reuses the pinned ones) and attaches the\n"
	"program to a cgroup with a pinned bpf_link: it stays attached after sipka exits.\n"
	"Attaching again to the same cgroup keeps one attachment.\n\n"
	"  -c, --cgroup PATH  the PBX's cgroup v2 directory, absolute or relative to the\n"
	"                     cgroup v2 mount (default: the root; only rule ports are touched)\n"
	"  -f, --config FILE  load these rules (INI, see examples/sipka.conf); without it\n"
	"                     the live rules stay, and a first attach gets the embedded\n"
	"                     default: 5060 (tcp) and 5061 (tls), 60 s, 10 s, 3 probes\n"
	"  -n, --new-only     leave the connections that exist now alone; by default\n"
	"                     those with a rule are armed too, as if made after the attach\n",
};

/* Links whose cgroup is gone (a PBX restart removes and remakes its cgroup)
 * hold nothing any more: unpin them. */
static void remove_defunct(void)
{
	struct link_pin *links;
	int i, n = links_list(&links);

	for (i = 0; i < n; i++) {
		if (links[i].alive)
			continue;
		if (!unlink(links[i].path))
			note("sipka: removed %s: its cgroup (id %llu) is gone", links[i].path,
			     (unsigned long long)links[i].cgroup_id);
	}
	links_free(links, n);
}

static int attach_link(int prog_fd, const char *cg_path, __u64 cg_id, bool *existed)
{
	char pin[PATH_MAX];
	int cg_fd, fd, ret = 0;

	/* Cgroup ids are not reused, and defunct links are gone (remove_defunct):
	 * a pin for this id is this cgroup's live link. */
	link_pin_path(pin, cg_id);
	fd = bpf_obj_get(pin);
	*existed = fd >= 0;
	if (fd >= 0) {
		/* Keep the attachment; make sure it runs the pinned program. */
		if (bpf_link_update(fd, prog_fd, NULL))
			note("warning: cannot update the program of %s: %s", pin, strerror(errno));
		close(fd);
		return 0;
	}
	cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY);
	if (cg_fd < 0) {
		err("cannot open cgroup %s: %s", cg_path, strerror(errno));
		return -1;
	}
	fd = bpf_link_create(prog_fd, cg_fd, BPF_CGROUP_SOCK_OPS, NULL);
	if (fd < 0) {
		err("cannot attach to %s: %s (the kernel needs cgroup BPF links: Linux 5.7 or later)",
		    cg_path, strerror(errno));
		ret = -1;
	} else if (bpf_obj_pin(fd, pin)) {
		err("cannot pin the link at %s: %s", pin, strerror(errno));
		ret = -1;
	} else if (g.verbose) {
		note("sipka: attached with a bpf_link pinned at %s", pin);
	}
	if (fd >= 0)
		close(fd);
	close(cg_fd);
	return ret;
}

/* Loads sipka (or reuses or upgrades it) and sets its rules: those of CONF
 * (parsed from a file by the caller, or NULL), else the live ones, else the
 * embedded default. *SOURCE says where they came from (NULL: live). On
 * failure, what was newly made is removed. */
static int load_with_rules(const struct conf *conf, const char *conf_file, struct pins *p,
			   enum pins_state *state, const char **source)
{
	struct conf def, live;
	char why[512];

	if (pins_load(p, state))
		return -1;
	*source = conf_file;
	rules_read(p->config_fd, &live);
	if (!conf && !live.n) {
		if (conf_default(&def, why, sizeof(why))) {
			err("%s", why);
			goto fail;
		}
		conf = &def;
		*source = "the embedded default";
	}
	if (conf && rules_replace(p->config_fd, conf))
		goto fail;
	remove_defunct();
	return 0;
fail:
	if (*state == PINS_LOADED)
		pins_remove();
	pins_close(p);
	return -1;
}

/* --config FILE, read before the kernel is touched. */
static int read_conf(const char *file, struct conf *conf)
{
	char why[512];

	if (!file)
		return 0;
	if (conf_parse_file(file, conf, why, sizeof(why))) {
		err("%s", why);
		return -1;
	}
	return 0;
}

static unsigned int rules_count(int config_fd)
{
	struct conf live;

	rules_read(config_fd, &live);
	return live.n;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "config", required_argument, NULL, 'f' },
		{ "new-only", no_argument,     NULL, 'n' },
		{ 0 }
	};
	const char *cg_arg = NULL, *conf_file = NULL, *source;
	struct pins p = PINS_INIT;
	struct existing x = { 0 };
	bool existed, new_only = false;
	enum pins_state state;
	char cg_path[PATH_MAX];
	int c, rc = EXIT_FAIL;
	struct conf conf;
	__u64 cg_id;

	while ((c = next_opt(argc, argv, &help, opts, &rc)) != -1) {
		switch (c) {
		case 'c': cg_arg = optarg; break;
		case 'f': conf_file = optarg; break;
		case 'n': new_only = true; break;
		default: return rc;
		}
	}
	if (want_args(argc, argv, 0, 0, &help))
		return EXIT_USAGE;

	/* Everything the user gave is checked before the kernel is touched. */
	if (cgroup_resolve(cg_arg, cg_path) || read_conf(conf_file, &conf))
		return EXIT_FAIL;
	cg_id = cgroup_id(cg_path);
	if (load_with_rules(conf_file ? &conf : NULL, conf_file, &p, &state, &source))
		return EXIT_FAIL;
	if (attach_link(p.prog_fd, cg_path, cg_id, &existed)) {
		if (state == PINS_LOADED)	/* leave nothing half-made behind */
			pins_remove();
		goto out;
	}
	/* The link first: connections made from now on are armed by it. */
	if (!new_only && arm_existing(&x)) {
		note("sipka is attached; only the connections that already existed may not be armed");
		goto out;
	}
	if (g.json) {
		rc = json_print(json_pack("{s:s, s:I, s:s, s:b, s:i, s:s?, s:o}",
					  "cgroup", cg_path, "cgroup_id", (json_int_t)cg_id,
					  "program", pins_state_name[state], "already_attached", existed,
					  "rules", rules_count(p.config_fd), "rules_from", source,
					  "existing", new_only ? json_null() : existing_json(&x)));
	} else {
		rc = printf("sipka: %s %s; %u rules%s%s\n",
			    existed ? "already attached to" : "attached to", cg_path,
			    rules_count(p.config_fd), source ? " from " : "", source ? source : "") < 0;
		existing_print(&x);
	}
out:
	pins_close(&p);
	return rc;
}

static const struct cmd_help load_help = {
	"load", "[--config FILE]",
	"Loads sipka's program and maps (or reuses the pinned ones, or upgrades the\n"
	"program in every attachment) and sets the rules, without attaching to any\n"
	"cgroup: for systemd, whose BPFProgram=sock_ops:<pin dir>/prog attaches the\n"
	"pinned program to a PBX's cgroup each time the PBX starts (see systemd/).\n\n"
	"  -f, --config FILE  load these rules; without it the live rules stay, and a\n"
	"                     first load gets the embedded default\n",
};

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ 0 }
	};
	const char *conf_file = NULL, *source;
	struct pins p = PINS_INIT;
	enum pins_state state;
	char prog[PATH_MAX];
	struct conf conf;
	int c, rc;

	while ((c = next_opt(argc, argv, &load_help, opts, &rc)) != -1) {
		switch (c) {
		case 'f': conf_file = optarg; break;
		default: return rc;
		}
	}
	if (want_args(argc, argv, 0, 0, &load_help))
		return EXIT_USAGE;
	if (read_conf(conf_file, &conf) ||
	    load_with_rules(conf_file ? &conf : NULL, conf_file, &p, &state, &source))
		return EXIT_FAIL;
	pin_path(prog, SIPKA_PIN_PROG);
	if (g.json)
		rc = json_print(json_pack("{s:s, s:s, s:i, s:s?}", "program", pins_state_name[state],
					  "pin", prog, "rules", rules_count(p.config_fd),
					  "rules_from", source));
	else
		rc = printf("sipka: program %s, pinned at %s; %u rules%s%s\n",
			    pins_state_name[state], prog, rules_count(p.config_fd),
			    source ? " from " : "", source ? source : "") < 0;
	pins_close(&p);
	return rc;
}
