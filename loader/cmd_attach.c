// SPDX-License-Identifier: GPL-2.0
/* sipka attach and load: load (or reuse, upgrade, migrate) the program, set
 * the rules, and attach with a pinned link. */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "cgroup.h"
#include "cli.h"
#include "conf.h"
#include "existing.h"
#include "output.h"
#include "parse.h"
#include "prog.h"
#include "rules.h"
#include "state.h"

enum { OPT_CGROUP_OF = OPT_LONG_ONLY, OPT_MAX_CONNS };

/* --max-connections, as attach and load take it. */
#define MAX_CONNS_OPT                                                                                                                           \
	{                                                                                                                                       \
		.name = "max-connections", .key = OPT_MAX_CONNS, .value = "N",                                                                  \
		.def = OPT_STR(SIPKA_CONNS_DEFAULT),                                                                                            \
		.help = "connections tracked at once, rounded up to a power of two; a full table arms the rest untracked, counted in UNTRACKED" \
	}

static const struct opt attach_opts[] = {
	{ .name = "cgroup",
	  .key = 'c',
	  .value = "PATH",
	  .help = "the PBX's cgroup v2 directory, absolute or relative to the cgroup v2 mount (default: the root; only rule ports are touched)" },
	{ .name = "cgroup-of",
	  .key = OPT_CGROUP_OF,
	  .value = "PID|self",
	  .help = "the cgroup of process PID; 'self': sipka's own, as in a systemd ExecStartPre= of the PBX's unit",
	  .flags = OPT_OR_PREV },
	{ .name = "config",
	  .key = 'C',
	  .value = "FILE",
	  .help = "load these rules (INI, see examples/sipka.conf); without it the live rules stay, and a first attach gets the embedded default: 5060 (tcp) and 5061 (tls), 60 s, 10 s, 3 probes" },
	{ .name = "new-only",
	  .key = 'N',
	  .help = "leave the connections that exist now alone; by default those with a rule are armed too, as if made after the attach" },
	MAX_CONNS_OPT,
	{ 0 },
};

const struct cmd_help cmd_attach_help = {
	.name = "attach",
	.args = "",
	.nargs = 0,
	.text = "Loads sipka's program and maps (or reuses the pinned ones) and attaches the\n"
		"program to a cgroup with a pinned bpf_link: it stays attached after sipka exits.\n"
		"Attaching again to the same cgroup keeps one attachment.\n"
		"Exit status: 0 done, 1 failed (nothing changed), 4 attached but existing\n"
		"connections only partly armed (the message says why).\n",
	.opts = attach_opts,
};

/* Links whose cgroup is gone (a PBX restart removes and remakes its cgroup)
 * hold nothing any more: unpin them. */
static void remove_defunct(const struct pindir *pd, const struct attachments *as)
{
	int i;

	for (i = 0; i < as->n; i++)
		if (as->a[i].defunct && !unlink(as->a[i].pin))
			p_info("sipka: removed %s: its cgroup (id %llu) is gone", as->a[i].pin,
			       (unsigned long long)as->a[i].cgroup_id);
	(void)pd;
}

/* The link of CG_ID among AS, or NULL. */
static const struct attachment *link_for(const struct attachments *as, __u64 cg_id)
{
	int i;

	for (i = 0; i < as->n; i++)
		if (as->a[i].via_link && !as->a[i].defunct && as->a[i].cgroup_id == cg_id)
			return &as->a[i];
	return NULL;
}

static int attach_link(const struct pindir *pd, int prog_fd, const char *cg_path, __u64 cg_id)
{
	char pin[PATH_MAX];
	int cg_fd, fd, ret = 0;

	if (pindir_link_path(pd, cg_id, pin))
		return -1;
	if (!access(pin, F_OK)) {
		p_err("%s exists but is not sipka's link: remove it (rm %s) if it is stale", pin,
		      pin);
		return -1;
	}
	cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		p_err("cannot open cgroup %s: %s", cg_path, strerror(errno));
		return -1;
	}
	/* Killed before the pin, the link dies with this process: no orphan. */
	fd = bpf_link_create(prog_fd, cg_fd, BPF_CGROUP_SOCK_OPS, NULL);
	if (fd < 0) {
		p_err("cannot attach to %s: %s (the kernel needs cgroup BPF links: Linux 5.7 or later)",
		      cg_path, strerror(errno));
		ret = -1;
	} else if (pin_link(pd, fd, cg_id)) {
		ret = -1;
	} else if (cli_opts.verbose) {
		p_info("sipka: attached with a bpf_link pinned at %s", pin);
	}
	if (fd >= 0)
		close(fd);
	close(cg_fd);
	return ret;
}

/* Says where the same sipka runs above or below CG, and which other
 * programs meet it there. */
static json_t *neighbours(const struct pindir *pd, const char *cg)
{
	struct attachments as;
	json_t *others;
	size_t n = strlen(cg), m;
	bool nested;
	int i;

	if (attachments_list(pd, &as))
		return json_array();
	for (i = 0; i < as.n; i++) {
		if (as.a[i].defunct)
			continue;
		m = strlen(as.a[i].cgroup);
		if (m < n && !strncmp(cg, as.a[i].cgroup, m) && (cg[m] == '/' || m == 1))
			p_info("sipka: %s is inside %s, where this sipka is attached too: each socket is armed and counted once",
			       cg, as.a[i].cgroup);
		else if (m > n && !strncmp(as.a[i].cgroup, cg, n) && as.a[i].cgroup[n] == '/')
			p_info("sipka: %s is above %s, where this sipka is attached too: each socket is armed and counted once",
			       cg, as.a[i].cgroup);
	}
	others = attachments_others(cg, &as.ours, &nested);
	attachments_warn_others(cg, others);
	attachments_free(&as);
	return others;
}

/* Loads sipka and sets its rules: CONF's (parsed from a file by the
 * caller), or the live ones, or the embedded default for a first load.
 * *SOURCE: where the rules came from (NULL: live). */
static int load_with_rules(struct pindir *pd, const struct conf *conf, const char *conf_file,
			   __u32 max_conns, enum load_result *res, bool *readopt,
			   const char **source)
{
	struct load_opts opts = { conf, max_conns };
	struct conf def;
	struct state s = STATE_INIT;
	char why[512];
	int ret;

	*source = conf_file;
	if (!conf) {
		if (conf_default(&def, why, sizeof(why))) {
			p_err("%s", why);
			return -1;
		}
		opts.rules = &def;
	}
	if (prog_load(pd, &opts, res, readopt))
		return -1;
	if (*res == LOAD_LOADED) {
		if (!conf)
			*source = "the embedded default";
		return 0;
	}
	if (!conf)
		return 0;
	ret = state_open(pd, &s);
	if (!ret)
		ret = rules_publish(pd, s.rules_fd, conf);
	state_close(&s);
	return ret ? -1 : 0;
}

/* --config FILE, read before the kernel is touched. */
static int read_conf(const char *file, struct conf *conf)
{
	char why[512];

	if (!file)
		return 0;
	if (conf_parse_file(file, conf, why, sizeof(why))) {
		p_err("%s", why);
		return -1;
	}
	return 0;
}

/* The options attach and load share. */
struct load_args {
	const char *conf_file;
	bool new_only;
	__u32 max_conns;
};

/* Takes option C if it is one of those: 1, 0 if not, -1 if its value is bad. */
static int load_option(int c, struct load_args *a)
{
	unsigned long long v;
	char why[128];

	switch (c) {
	case 'C': a->conf_file = optarg; return 1;
	case 'N': a->new_only = true; return 1;
	case OPT_MAX_CONNS:
		if (parse_uint(optarg, SIPKA_CONNS_MIN, SIPKA_CONNS_MAX, &v, why, sizeof(why))) {
			p_err("--max-connections: %s; give %u to %u", why, SIPKA_CONNS_MIN,
			      SIPKA_CONNS_MAX);
			return -1;
		}
		a->max_conns = v;
		return 1;
	default: return 0;
	}
}

/* The existing connections of every attachment follow the rules now. */
static int follow(const struct pindir *pd, struct existing *x)
{
	struct state s = STATE_INIT;
	struct attachments as;
	int ret = -1;

	memset(x, 0, sizeof(*x));
	if (state_open(pd, &s))
		return -1;
	if (!attachments_list(pd, &as)) {
		ret = arm_existing(&s, &as, x);
		attachments_free(&as);
	}
	state_close(&s);
	return ret;
}

int cmd_attach(int argc, char **argv)
{
	const char *cg_arg = NULL, *cg_of = NULL, *source;
	struct load_args a = { NULL, false, 0 };
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct state s = STATE_INIT;
	struct existing x = { 0 };
	bool existed, readopt;
	struct attachments as = { 0 };
	char cg_path[PATH_MAX];
	enum load_result res;
	json_t *others = NULL;
	int c, ret, rc = EXIT_FAIL;
	struct conf conf, live;
	__u64 cg_id;

	while ((c = opt_next(argc, argv, &cmd_attach_help, &rc)) != OPT_END) {
		if (c == 'c')
			cg_arg = optarg;
		else if (c == OPT_CGROUP_OF)
			cg_of = optarg;
		else if ((ret = load_option(c, &a)) <= 0)
			return ret < 0 ? EXIT_USAGE : rc;
	}
	if (cg_arg && cg_of) {
		p_err("give --cgroup or --cgroup-of, not both");
		return EXIT_USAGE;
	}

	/* Everything the user gave is checked before the kernel is touched. */
	if ((cg_of ? cgroup_of(cg_of, cg_path) : cgroup_resolve(cg_arg, cg_path)) ||
	    read_conf(a.conf_file, &conf))
		return EXIT_FAIL;
	cg_id = cgroup_id(cg_path);
	if (state_begin_write(&pd, true))
		return EXIT_FAIL;
	if (load_with_rules(&pd, a.conf_file ? &conf : NULL, a.conf_file, a.max_conns, &res,
			    &readopt, &source))
		goto out;
	if (state_open(&pd, &s) || attachments_list(&pd, &as))
		goto out;
	attachments_warn_foreign(&pd, &as);
	remove_defunct(&pd, &as);
	existed = link_for(&as, cg_id) != NULL;
	if (!existed && attach_link(&pd, s.prog_fd, cg_path, cg_id))
		goto out;
	others = neighbours(&pd, cg_path);
	/* The link first: connections made from now on are armed by it. */
	if ((!a.new_only || readopt) && follow(&pd, &x)) {
		p_info("sipka is attached; only the connections that already existed may not be armed");
		goto out;
	}
	rc = existing_partial(&x) ? EXIT_PARTIAL : EXIT_OK;
	rules_read(s.config_fd, &live);
	if (cli_opts.json) {
		print_json(json_pack("{s:s, s:I, s:s, s:b, s:i, s:s?, s:o, s:O}", "cgroup", cg_path,
				     "cgroup_id", (json_int_t)cg_id, "program",
				     load_result_name[res], "already_attached", existed, "rules",
				     live.n, "rules_from", source, "existing",
				     a.new_only && !readopt ? json_null() : existing_json(&x),
				     "other_programs", others));
	} else {
		printf("sipka: %s %s; %u rules%s%s\n",
		       existed ? "already attached to" : "attached to", cg_path, live.n,
		       source ? " from " : "", source ? source : "");
		existing_print(&x);
	}
out:
	json_decref(others);
	attachments_free(&as);
	state_close(&s);
	pindir_close(&pd);
	return rc;
}

static const struct opt load_opts[] = {
	{ .name = "config",
	  .key = 'C',
	  .value = "FILE",
	  .help = "load these rules; without it the live rules stay, and a first load gets the embedded default" },
	{ .name = "new-only",
	  .key = 'N',
	  .help = "with --config: only connections established from now on",
	  .flags = OPT_WITH_PREV },
	MAX_CONNS_OPT,
	{ 0 },
};

const struct cmd_help cmd_load_help = {
	.name = "load",
	.args = "",
	.nargs = 0,
	.text = "Loads sipka's program and maps (or reuses the pinned ones, or upgrades the\n"
		"program in every attachment) and sets the rules, without attaching to any\n"
		"cgroup. With --config the connections that exist now in every attached\n"
		"cgroup follow the new rules, as with 'sipka config load'.\n",
	.opts = load_opts,
};

int cmd_load(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct load_args a = { NULL, false, 0 };
	const char *source;
	struct state s = STATE_INIT;
	struct existing x = { 0 };
	bool readopt, arm;
	char prog[PATH_MAX];
	enum load_result res;
	struct conf conf, live;
	int c, ret, rc;

	while ((c = opt_next(argc, argv, &cmd_load_help, &rc)) != OPT_END)
		if ((ret = load_option(c, &a)) <= 0)
			return ret < 0 ? EXIT_USAGE : rc;
	if (read_conf(a.conf_file, &conf) || state_begin_write(&pd, true))
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if (load_with_rules(&pd, a.conf_file ? &conf : NULL, a.conf_file, a.max_conns, &res,
			    &readopt, &source))
		goto out;
	arm = readopt || (a.conf_file && !a.new_only && res != LOAD_LOADED);
	if (arm && follow(&pd, &x))
		goto out;
	if (state_open(&pd, &s))
		goto out;
	rules_read(s.config_fd, &live);
	rc = existing_partial(&x) ? EXIT_PARTIAL : EXIT_OK;
	pindir_path(&pd, SIPKA_PIN_PROG, prog);
	if (cli_opts.json) {
		print_json(json_pack("{s:s, s:s, s:i, s:s?, s:o}", "program", load_result_name[res],
				     "pin", prog, "rules", live.n, "rules_from", source, "existing",
				     arm ? existing_json(&x) : json_null()));
	} else {
		printf("sipka: program %s, pinned at %s; %u rules%s%s\n", load_result_name[res],
		       prog, live.n, source ? " from " : "", source ? source : "");
		if (arm)
			existing_print(&x);
	}
out:
	state_close(&s);
	pindir_close(&pd);
	return rc;
}
