// SPDX-License-Identifier: GPL-2.0
/* sipka events: which peer died, when, why, and how long it had been connected. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "counters.h"
#include "output.h"
#include "pins.h"
#include "sipka.h"

static const struct cmd_help help = {
	"events", "[--follow]",
	"Prints the dead-peer events waiting in the ring buffer, one line each: time\n"
	"(ISO 8601), reason (keepalive, retransmit, reset), the peer, the local end\n"
	"and rule, how long the connection lived. With -j, one JSON object per line.\n"
	"Resets make events only for rules set with --reset-events (reset_events = yes).\n"
	"The ring buffer has one reader at a time: a second 'sipka events' is refused.\n\n"
	"  -f, --follow  wait for new events until SIGINT or SIGTERM\n",
};

static const char *const reasons[] = {
	[SIPKA_CLOSED] = "closed", [SIPKA_DEAD_KEEPALIVE] = "keepalive",
	[SIPKA_DEAD_RETRANSMIT] = "retransmit", [SIPKA_RESET] = "reset",
};

static volatile sig_atomic_t stop;
static __s64 boot_to_wall_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __s64 now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "2026-11-22T17:03:12.123+01:00", local time. */
static void iso8601(__u64 boot_ns, char *buf, size_t len)
{
	__s64 wall = boot_ns + boot_to_wall_ns;
	time_t secs = wall / 1000000000LL;
	char zone[8];
	struct tm tm;
	size_t n;

	localtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);	/* +0100 */
	snprintf(buf + n, len - n, ".%03lld%.3s:%.2s", (long long)(wall % 1000000000LL) / 1000000,
		 zone, zone + 3);
}

static int print_event(void *ctx, void *data, size_t size)
{
	const struct sipka_event *e = data;
	char when[48], local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN], lived[32];
	char name[SIPKA_NAME_LEN];
	const char *reason;
	bool v4;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	iso8601(e->time_ns, when, sizeof(when));
	addr_format(e->family, e->local_addr, local, &v4);
	addr_format(e->family, e->remote_addr, remote, &v4);
	snprintf(name, sizeof(name), "%s", e->name);
	reason = e->reason < sizeof(reasons) / sizeof(reasons[0]) ? reasons[e->reason] : "unknown";
	if (g.json) {
		json_print(json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:s, s:i, s:i, s:f}",
			"time", when, "reason", reason, "family", v4 ? "ipv4" : "ipv6",
			"remote_addr", remote, "remote_port", e->remote_port,
			"local_addr", local, "local_port", e->local_port,
			"rule_port", e->rule_port, "name", name,
			"probes", e->probes, "retransmits", e->retransmits,
			"lifetime_s", e->lifetime_ns / 1e9));
	} else {
		duration_format(e->lifetime_ns, lived, sizeof(lived));
		printf(v4 ? "%s %-10s peer %s:%u  local %s:%u (%s)  lived %s  probes %u  retransmits %u\n"
			  : "%s %-10s peer [%s]:%u  local [%s]:%u (%s)  lived %s  probes %u  retransmits %u\n",
		       when, reason, remote, e->remote_port, local, e->local_port,
		       rule_name(name), lived, e->probes, e->retransmits);
	}
	fflush(stdout);
	return 0;
}

/* Events lost since sipka was loaded, over every rule port. */
static __u64 events_lost(int stats_fd)
{
	__u32 key, next, *prev = NULL;
	struct sipka_counters c;
	__u64 lost = 0;

	while (!bpf_map_get_next_key(stats_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!counters_read(stats_fd, key, &c))
			lost += c.events_lost;
	}
	return lost;
}

static void report_lost(int stats_fd, __u64 *seen)
{
	__u64 lost = events_lost(stats_fd);

	if (lost > *seen)
		note("warning: %llu events lost since sipka was loaded: the ring buffer (%d KiB) was full; read it more often ('sipka events --follow')",
		     (unsigned long long)lost, SIPKA_EVENTS_SIZE / 1024);
	*seen = lost;
}

int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ 0 }
	};
	struct pins p = PINS_INIT;
	struct ring_buffer *rb = NULL;
	bool follow = false;
	__u64 lost_seen = 0;
	int c, rc, dir = -1;

	while ((c = next_opt(argc, argv, &help, opts, &rc)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		default: return rc;
		}
	}
	if (want_args(argc, argv, 0, 0, &help))
		return EXIT_USAGE;
	if (pins_open(&p))
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	/* Two consumers of one ring buffer race for each event: allow one. */
	dir = pindir_reader_lock(g.pin_dir);
	if (dir < 0) {
		err("another 'sipka events' is reading the ring buffer, which has one reader at a time; stop it, or share its output (e.g. 'sipka -j events --follow | tee FILE')");
		goto out;
	}
	boot_to_wall_ns = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_BOOTTIME);
	rb = ring_buffer__new(p.events_fd, print_event, NULL, NULL);
	if (!rb) {
		err("cannot read the events ring buffer: %s", strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (ring_buffer__consume(rb) < 0) {
		err("cannot read the events ring buffer: %s", strerror(errno));
		goto out;
	}
	report_lost(p.stats_fd, &lost_seen);
	while (follow && !stop) {
		if (ring_buffer__poll(rb, 500) < 0 && errno != EINTR) {
			err("cannot read the events ring buffer: %s", strerror(errno));
			goto out;
		}
		report_lost(p.stats_fd, &lost_seen);
	}
	rc = EXIT_OK;
out:
	ring_buffer__free(rb);
	if (dir >= 0)
		close(dir);
	pins_close(&p);
	return rc;
}
