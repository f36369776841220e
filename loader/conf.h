/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Port rules: the settings they are made of, the config file (INI) and the
 * embedded default. Pure code, no BPF: unit-tested in tests/unit.
 */
#ifndef SIPKA_CONF_H
#define SIPKA_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include "sipka.h"

#define SIPKA_DEFAULT_TIME   60
#define SIPKA_DEFAULT_INTVL  10
#define SIPKA_DEFAULT_PROBES 3
#define SIPKA_UT_AUTO	     (-1LL) /* time + intvl x probes */

enum setting {
	SET_PORT,
	SET_NAME,
	SET_TIME,
	SET_INTVL,
	SET_PROBES,
	SET_USER_TIMEOUT,
	SET_RESET_EVENTS,
	SET_COUNT
};

/* A rule as written, before defaults fill the gaps and "auto" is resolved. */
struct draft {
	unsigned int given; /* bit (1 << enum setting) per setting written */
	__u32 port;
	char name[SIPKA_NAME_LEN];
	__u32 time, intvl, probes;
	long long user_timeout_ms; /* ms, 0 = off, or SIPKA_UT_AUTO */
	bool reset_events;
};

struct conf_rule {
	__u32 port;
	struct sipka_rule rule;
};

/* The [events] section: what 'sipka events --follow' runs for each event
 * (action.h), and its bounds. */
#define SIPKA_DEFAULT_EXEC_JOBS	   4	/* actions running at once */
#define SIPKA_DEFAULT_EXEC_TIMEOUT 10	/* seconds before an action is killed */
#define SIPKA_DEFAULT_EXEC_QUEUE   1024 /* events waiting for an action */
#define SIPKA_EXEC_JOBS_MAX	   64
#define SIPKA_EXEC_TIMEOUT_MAX	   3600
#define SIPKA_EXEC_QUEUE_MAX	   65536

enum events_setting { EV_EXEC, EV_JOBS, EV_TIMEOUT, EV_QUEUE, EV_COUNT };

struct conf_events {
	unsigned int given;  /* bit (1 << enum events_setting) per key written */
	char exec[PATH_MAX]; /* an absolute path, or "" */
	unsigned int jobs, timeout_s, queue;
};

struct conf {
	unsigned int n;
	struct conf_rule rules[SIPKA_MAX_RULES];
	struct conf_events events;
};

/* The bounds of the [events] section with nothing given: the defaults. */
void conf_events_init(struct conf_events *e);

/* Parses VALUE as events setting S (the key, or the option's value: the
 * same range) into E. Returns 0, or -1 with WHY (the caller names the key). */
int events_setting_parse(enum events_setting s, const char *value, struct conf_events *e, char *why,
			 size_t len);

/* Parses VALUE as setting S into D. Returns 0, or -1 with WHY saying what is
 * wrong and what is allowed (the caller names the key or option). */
int setting_parse(enum setting s, const char *value, struct draft *d, char *why, size_t len);

/* The resolved rule of D: where D is silent, BASE's values (a rule being
 * changed), or the built-in defaults when BASE is NULL. A TCP_USER_TIMEOUT
 * that BASE derived ("auto") is derived again from the new values. */
void draft_resolve(const struct draft *d, const struct sipka_rule *base, struct sipka_rule *r);

/* TCP_USER_TIMEOUT for "auto": the moment keepalive gives up, in ms. */
__u32 user_timeout_auto(__u32 time, __u32 intvl, __u32 probes);

/* Reads an INI config from F (called NAME in messages) into C. Returns 0, or
 * -1 with ERR as "NAME:LINE: problem; fix". conf_parse_file refuses what is
 * not a regular file (a FIFO or a device could block or never end). */
int conf_parse(FILE *f, const char *name, struct conf *c, char *err, size_t len);
int conf_parse_file(const char *path, struct conf *c, char *err, size_t len);

/* The embedded default: SIP over TCP (5060) and TLS (5061). */
int conf_default(struct conf *c, char *err, size_t len);

/* The rule set of an array of N rules indexed by port, as the kernel holds it
 * (a rule written with bpftool may be anything), into C: its present entries,
 * in port order, the SIPKA_MAX_RULES lowest; each name NUL-terminated.
 * Returns how many are present, which may be more than C holds. */
__u32 conf_from_array(const struct sipka_rule *all, __u32 n, struct conf *c);

/* The rule for PORT in C, or NULL. */
const struct sipka_rule *conf_find(const struct conf *c, __u32 port);

#endif
