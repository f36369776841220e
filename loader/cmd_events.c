// SPDX-License-Identifier: GPL-2.0
/* sipka events: which peer died, when, why, and how long it had been connected. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "cli.h"
#include "cgroup.h"
#include "clock.h"
#include "conf.h"
#include "counters.h"
#include "env.h"
#include "execenv.h"
#include "lock.h"
#include "output.h"
#include "event.h"
#include "signals.h"
#include "sipka.h"
#include "state.h"

enum { OPT_EXEC = OPT_LONG_ONLY, OPT_EXEC_JOBS, OPT_EXEC_TIMEOUT, OPT_EXEC_QUEUE };

static const struct opt events_opts[] = {
	{ .name = "follow",
	  .key = 'f',
	  .help = "wait for new events until SIGINT or SIGTERM; across detach, attach and upgrade (a new ring buffer is opened, and said on stderr), and while sipka is not loaded (said once)" },
	{ .name = "exec",
	  .key = OPT_EXEC,
	  .value = "PROG",
	  .help = "with --follow: run PROG for each event, as root, without a shell: the event's JSON on its stdin, its fields as SIPKA_* variables; PROG and the directories above it must be root's and writable by no one else" },
	{ .name = "exec-jobs",
	  .key = OPT_EXEC_JOBS,
	  .value = "N",
	  .def = OPT_STR(SIPKA_DEFAULT_EXEC_JOBS),
	  .help = "actions running at once, 1-64" },
	{ .name = "exec-timeout",
	  .key = OPT_EXEC_TIMEOUT,
	  .value = "SECONDS",
	  .def = OPT_STR(SIPKA_DEFAULT_EXEC_TIMEOUT),
	  .help = "an action still running after this is killed, with its process group, and logged with its stderr, 1-3600" },
	{ .name = "exec-queue",
	  .key = OPT_EXEC_QUEUE,
	  .value = "N",
	  .def = OPT_STR(SIPKA_DEFAULT_EXEC_QUEUE),
	  .help = "events waiting for an action, 1-65536; past it an event gets no action, counted and said (reading never waits for an action)" },
	{ .name = "config",
	  .key = 'C',
	  .value = "FILE",
	  .help = "with --follow: the action from FILE's [events] section (exec, exec_jobs, exec_timeout, exec_queue; the command line's options win), read again on SIGHUP" },
	{ 0 },
};

const struct cmd_help cmd_events_help = {
	.name = "events",
	.args = "",
	.nargs = 0,
	.text = "Prints the dead-peer events waiting in the ring buffer, one line each: time\n"
		"(ISO 8601), reason (keepalive, retransmit, reset), the peer, the local end\n"
		"and rule, how long the connection lived. With -j, one JSON object per line.\n"
		"Resets make events only for rules set with --reset-events (reset_events = yes).\n"
		"The ring buffer has one reader at a time: a second 'sipka events' is refused.\n"
		"With --exec (or an [events] exec = PROG in --config's file) each event also\n"
		"runs PROG; its output and failures are logged on stderr.\n",
	.opts = events_opts,
};

static __s64 boot_to_wall_ns;				/* CLOCK_REALTIME - CLOCK_BOOTTIME */
static struct cgroup_names cgroups = CGROUP_NAMES_INIT; /* the PBXes, by cgroup id */
static struct actions *actions;				/* --exec: each event is handed over too */

static int print_event(void *ctx, void *data, size_t size)
{
	char line[PATH_MAX + 400], pbx[PATH_MAX + 64];
	struct sipka_event e = { 0 };
	const char *cgroup;
	json_t *j = NULL;

	(void)ctx;
	if (size < SIPKA_EVENT_MIN_SIZE) /* not an event: skipped */
		return 0;
	memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
	cgroup = cgroup_pbx(&cgroups, e.cgroup_id, pbx, sizeof(pbx));
	if (cli_opts.json || actions)
		j = event_json(data, size, boot_to_wall_ns, cgroup, pbx);
	if (cli_opts.json)
		print_json(json_incref(j));
	else if (!event_line(data, size, boot_to_wall_ns, pbx, line, sizeof(line)))
		printf("%s\n", line);
	fflush(stdout);
	if (actions && j)
		actions_submit(actions, j);
	json_decref(j);
	return 0;
}

/* The action's settings: FILE's [events] (when FILE), the command line's
 * (those CLI gives) over them, and the program checked and resolved. 0, or
 * -1 with WHY. */
static int exec_settings(const char *file, const struct conf_events *cli, struct conf_events *out,
			 char *why, size_t len)
{
	char real[PATH_MAX], reason[PATH_MAX + 256];
	struct conf *conf = NULL;

	conf_events_init(out);
	if (file) {
		conf = malloc(sizeof(*conf));
		if (!conf) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		if (conf_parse_file(file, conf, why, len)) {
			free(conf);
			return -1;
		}
		*out = conf->events;
		free(conf);
	}
	if (cli->given & (1u << EV_EXEC))
		memcpy(out->exec, cli->exec, sizeof(out->exec));
	if (cli->given & (1u << EV_JOBS))
		out->jobs = cli->jobs;
	if (cli->given & (1u << EV_TIMEOUT))
		out->timeout_s = cli->timeout_s;
	if (cli->given & (1u << EV_QUEUE))
		out->queue = cli->queue;
	if (!out->exec[0])
		return 0;
	if (exec_trusted(out->exec, real, reason, sizeof(reason))) {
		snprintf(why, len, "refusing to run the action: %s", reason);
		return -1;
	}
	memcpy(out->exec, real, sizeof(out->exec));
	return 0;
}

static void say_action(const struct conf_events *c)
{
	if (c->exec[0])
		p_info("action: %s for each event (at most %u at once, killed after %u s, %u events queued at most)",
		       c->exec, c->jobs, c->timeout_s, c->queue);
	else
		p_info("action: none");
}

/* SIGHUP: the config file read again; a bad one changes nothing. */
static void reload_action(const char *file, const struct conf_events *cli)
{
	char why[PATH_MAX + 512];
	struct conf_events c;

	if (exec_settings(file, cli, &c, why, sizeof(why))) {
		p_info("warning: reload refused, the action stays as it was: %s", why);
		return;
	}
	actions_set(actions, &c);
	p_info("reloaded %s", file);
	say_action(&c);
}

/* Events lost since sipka was loaded, over every rule port. */
static __u64 events_lost(int stats_fd, int slots_fd)
{
	struct port_counters *all = malloc(SIPKA_MAX_STATS * sizeof(*all));
	int n = all ? counters_all(stats_fd, slots_fd, all) : -1, i;
	__u64 lost = 0;

	for (i = 0; i < n; i++)
		lost += all[i].c.events_lost;
	free(all);
	return lost;
}

static void report_lost(int stats_fd, int slots_fd, __u64 *seen)
{
	__u64 lost = events_lost(stats_fd, slots_fd);

	if (lost > *seen)
		p_info("warning: %llu events lost since sipka was loaded: the ring buffer (%d KiB) was full; read it more often ('sipka events --follow')",
		       (unsigned long long)lost, SIPKA_EVENTS_SIZE / 1024);
	*seen = lost;
}

/* The id of the ring buffer pinned in PIN_DIR, or 0 when there is none (not loaded). */
static __u32 pinned_events_id(const char *pin_dir)
{
	struct pindir pd = PINDIR_INIT(pin_dir);
	struct bpf_map_info info;
	char path[PATH_MAX];
	__u32 len = sizeof(info);
	int fd;

	if (pindir_path(&pd, SIPKA_PIN_EVENTS, path))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* The ring buffer being read, the maps it needs (events, stats, slots),
 * and the events map's id. */
struct reader {
	struct ring_buffer *rb;
	struct state s;
	__u32 id;
	__u64 lost_seen;
};

static void reader_close(struct reader *r)
{
	ring_buffer__free(r->rb);
	state_close(&r->s);
	r->rb = NULL;
	r->id = 0;
	r->lost_seen = 0;
}

/* Opens the ring buffer pinned in PIN_DIR (the one with id ID) and the
 * stats map. While sipka is being loaded, one may be pinned before the
 * other: then nothing is open (r->rb NULL), to try again. Fails (-errno,
 * said why) only when the ring buffer cannot be read. */
static int reader_open(struct reader *r, const char *pin_dir, __u32 id)
{
	struct pindir pd = PINDIR_INIT(pin_dir);
	char why[400];
	int err;

	if (pindir_open(&pd, false) || pindir_missing(&pd))
		return 0;
	/* Each checked to be sipka's, as every pin is before use. */
	r->s.events_fd = pin_get(&pd, SIPKA_PIN_EVENTS, "map");
	r->s.stats_fd = pin_get(&pd, SIPKA_PIN_STATS, "map");
	r->s.slots_fd = pin_get(&pd, SIPKA_PIN_SLOTS, "map");
	pindir_close(&pd);
	if (r->s.events_fd < 0 || r->s.stats_fd < 0 || r->s.slots_fd < 0 ||
	    map_check(r->s.events_fd, pin_spec(SIPKA_PIN_EVENTS), why, sizeof(why)) ||
	    map_check(r->s.stats_fd, pin_spec(SIPKA_PIN_STATS), why, sizeof(why)) ||
	    map_check(r->s.slots_fd, pin_spec(SIPKA_PIN_SLOTS), why, sizeof(why))) {
		reader_close(r);
		return 0;
	}
	r->rb = ring_buffer__new(r->s.events_fd, print_event, NULL, NULL);
	if (!r->rb) {
		err = -errno;
		p_err("cannot read the events ring buffer: %s", strerror(-err));
		reader_close(r);
		return err;
	}
	r->id = id;
	return 0;
}

/* The single reader's lock of PIN_DIR, for as long as this reader runs. */
static int reader_lock(struct reader_lock *lk, const char *pin_dir)
{
	/* Two consumers of one ring buffer race for each event: allow one. */
	int err = pindir_reader_lock(pin_dir, lk);

	if (err && err != -EADDRINUSE) {
		p_err("cannot take the events reader's lock of %s: %s", pin_dir, strerror(-err));
		return -1;
	}
	if (err) {
		p_err("another 'sipka events' is reading the ring buffer, which has one reader at a time; stop it, or share its output (e.g. 'sipka -j events --follow | tee FILE')");
		return -1;
	}
	return 0;
}

/* --follow: reads until stopped, and follows the ring buffer pin: a detach
 * and attach (or a load after a detach) pins a new one, which the old fd
 * would never see an event in. Each round compares the pinned map's id. */
static int follow_events(struct reader *r, const char *pin_dir, const char *file,
			 const struct conf_events *cli)
{
	bool waiting = false, first = true;
	__u32 id;
	int ret;

	while (!stopped()) {
		if (file && reload_asked())
			reload_action(file, cli);
		if (actions)
			actions_report(actions);
		id = pinned_events_id(pin_dir);
		if (id != r->id) {
			if (r->id)
				ring_buffer__consume(r->rb); /* what the old one still holds */
			reader_close(r);
			ret = id ? reader_open(r, pin_dir, id) : 0;
			if (ret < 0)
				return EXIT_FAIL;
			if (r->rb) {
				if (waiting)
					p_info("sipka is loaded: reading its ring buffer (map id %u)",
					       id);
				else if (!first)
					p_info("the ring buffer was replaced (sipka detached and attached again): reading the new one (map id %u)",
					       id);
				waiting = first = false;
			}
		}
		if (!id && !waiting) {
			p_info("sipka is not loaded (nothing pinned in %s): waiting for 'sipka attach' or 'sipka load'",
			       pin_dir);
			waiting = true;
		}
		if (!r->rb) {
			sleep_unless_stopped(0, 500000000);
			continue;
		}
		if (ring_buffer__poll(r->rb, 500) < 0 && errno != EINTR) {
			p_err("cannot read the events ring buffer: %s", strerror(errno));
			return EXIT_FAIL;
		}
		report_lost(r->s.stats_fd, r->s.slots_fd, &r->lost_seen);
	}
	return EXIT_OK;
}

int cmd_events(int argc, char **argv)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	struct reader r = { NULL, STATE_INIT, 0, 0 };
	struct state s = STATE_INIT;
	struct conf_events cli, ex;
	const char *file = NULL;
	char why[PATH_MAX + 512];
	bool follow = false;
	struct reader_lock lk = { -1, -1 };
	int c, rc;
	enum events_setting es;

	memset(&cli, 0, sizeof(cli));
	while ((c = opt_next(argc, argv, &cmd_events_help, &rc)) != OPT_END) {
		switch (c) {
		case 'f': follow = true; break;
		case 'C': file = optarg; break;
		case OPT_EXEC:
			if (!*optarg || strlen(optarg) >= sizeof(cli.exec)) {
				p_err("--exec: give the path of the program to run for each event");
				return EXIT_USAGE;
			}
			strcpy(cli.exec, optarg); /* may be relative: resolved when checked */
			cli.given |= 1u << EV_EXEC;
			break;
		case OPT_EXEC_JOBS:
		case OPT_EXEC_TIMEOUT:
		case OPT_EXEC_QUEUE:
			es = c == OPT_EXEC_JOBS	   ? EV_JOBS :
			     c == OPT_EXEC_TIMEOUT ? EV_TIMEOUT :
						     EV_QUEUE;
			if (events_setting_parse(es, optarg, &cli, why, sizeof(why))) {
				p_err("--%s: %s", opt_name(&cmd_events_help, c), why);
				return EXIT_USAGE;
			}
			break;
		default: return rc;
		}
	}
	if (!follow && (cli.given || file)) {
		p_err("--exec, --exec-* and --config act on events as they come: add --follow");
		return EXIT_USAGE;
	}
	boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	stop_on_signals();
	if (follow) {
		if (exec_settings(file, &cli, &ex, why, sizeof(why))) {
			p_err("%s", why);
			return EXIT_USAGE;
		}
		if (env_check(pd.path))
			return EXIT_FAIL;
		/* The lock is named after the pin dir's path: held from the
		 * start, across detach and attach, while waiting too. */
		if (reader_lock(&lk, pd.path))
			return EXIT_FAIL;
		if (file)
			reload_on_sighup();
		if (file || ex.exec[0]) {
			actions = actions_start(&ex);
			if (!actions) {
				rc = EXIT_FAIL;
				goto out;
			}
			say_action(&ex);
		}
		rc = follow_events(&r, pd.path, file, &cli);
		actions_stop(actions);
		actions = NULL;
		goto out;
	}
	/* Once: what is in the ring buffer now. */
	rc = state_begin_read(&pd, &s);
	pindir_close(&pd);
	if (rc)
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if (reader_lock(&lk, pd.path))
		goto out;
	r.rb = ring_buffer__new(s.events_fd, print_event, NULL, NULL);
	if (!r.rb || ring_buffer__consume(r.rb) < 0) {
		p_err("cannot read the events ring buffer: %s", strerror(errno));
		goto out;
	}
	report_lost(s.stats_fd, s.slots_fd, &r.lost_seen);
	rc = EXIT_OK;
out:
	reader_close(&r);
	pindir_reader_unlock(&lk);
	state_close(&s);
	cgroup_names_free(&cgroups);
	return rc;
}
