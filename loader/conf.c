// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "parse.h"

/* What each setting accepts: its INI key and its range. */
static const struct {
	const char *key;
	const char *unit;
	unsigned long long min, max;
} settings[SET_COUNT] = {
	[SET_PORT] = { "port", "a TCP port", 1, 65535 },
	[SET_NAME] = { "name", NULL, 0, 0 },
	[SET_TIME] = { "tcp_keepalive_time", "seconds", 1, SIPKA_KEEPIDLE_MAX },
	[SET_INTVL] = { "tcp_keepalive_intvl", "seconds", 1, SIPKA_KEEPINTVL_MAX },
	[SET_PROBES] = { "tcp_keepalive_probes", "probes", 1, SIPKA_KEEPCNT_MAX },
	[SET_USER_TIMEOUT] = { "tcp_user_timeout", "ms", 0, SIPKA_USER_TIMEOUT_MAX },
	[SET_RESET_EVENTS] = { "reset_events", NULL, 0, 0 },
};

/* The keys of [events], with their ranges. */
static const struct {
	const char *key;
	const char *unit;
	unsigned long long min, max;
} events_keys[EV_COUNT] = {
	[EV_EXEC] = { "exec", NULL, 0, 0 },
	[EV_JOBS] = { "exec_jobs", "actions at once", 1, SIPKA_EXEC_JOBS_MAX },
	[EV_TIMEOUT] = { "exec_timeout", "seconds", 1, SIPKA_EXEC_TIMEOUT_MAX },
	[EV_QUEUE] = { "exec_queue", "events", 1, SIPKA_EXEC_QUEUE_MAX },
};

void conf_events_init(struct conf_events *e)
{
	memset(e, 0, sizeof(*e));
	e->jobs = SIPKA_DEFAULT_EXEC_JOBS;
	e->timeout_s = SIPKA_DEFAULT_EXEC_TIMEOUT;
	e->queue = SIPKA_DEFAULT_EXEC_QUEUE;
}

int events_setting_parse(enum events_setting s, const char *value, struct conf_events *e, char *why,
			 size_t len)
{
	char reason[128];
	unsigned long long v;

	if (s == EV_EXEC) {
		if (value[0] != '/' || strlen(value) >= sizeof(e->exec)) {
			snprintf(
				why, len,
				"'%s' is not an absolute path; give the program's full path, e.g. /etc/sipka/actions/kamailio",
				value);
			return -1;
		}
		strcpy(e->exec, value);
		e->given |= 1u << s;
		return 0;
	}
	if (parse_uint(value, events_keys[s].min, events_keys[s].max, &v, reason, sizeof(reason))) {
		snprintf(why, len, "%s; give %s from %llu to %llu", reason, events_keys[s].unit,
			 events_keys[s].min, events_keys[s].max);
		return -1;
	}
	if (s == EV_JOBS)
		e->jobs = v;
	else if (s == EV_TIMEOUT)
		e->timeout_s = v;
	else
		e->queue = v;
	e->given |= 1u << s;
	return 0;
}

static int parse_name(const char *s, char *out, char *why, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SIPKA_NAME_LEN ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
		snprintf(why, len, "name '%s' must be 1 to %d letters, digits, '.', '_' or '-'", s,
			 SIPKA_NAME_LEN - 1);
		return -1;
	}
	memcpy(out, s, n + 1);
	return 0;
}

int setting_parse(enum setting s, const char *value, struct draft *d, char *why, size_t len)
{
	char reason[128];
	unsigned long long v;

	if (s == SET_NAME) {
		if (parse_name(value, d->name, why, len))
			return -1;
		d->given |= 1u << s;
		return 0;
	}
	if (s == SET_RESET_EVENTS) {
		if (strcmp(value, "yes") && strcmp(value, "no")) {
			snprintf(why, len, "'%s' is neither yes nor no", value);
			return -1;
		}
		d->reset_events = !strcmp(value, "yes");
		d->given |= 1u << s;
		return 0;
	}
	if (s == SET_USER_TIMEOUT && !strcmp(value, "auto")) {
		d->user_timeout_ms = SIPKA_UT_AUTO;
		d->given |= 1u << s;
		return 0;
	}
	if (s == SET_USER_TIMEOUT && !strcmp(value, "off")) {
		d->user_timeout_ms = 0;
		d->given |= 1u << s;
		return 0;
	}
	if (parse_uint(value, settings[s].min, settings[s].max, &v, reason, sizeof(reason))) {
		snprintf(why, len, "%s; give %s from %llu to %llu%s", reason, settings[s].unit,
			 (unsigned long long)settings[s].min, (unsigned long long)settings[s].max,
			 s == SET_USER_TIMEOUT ? ", 'auto' or 'off'" : "");
		return -1;
	}
	switch (s) {
	case SET_PORT: d->port = v; break;
	case SET_TIME: d->time = v; break;
	case SET_INTVL: d->intvl = v; break;
	case SET_PROBES: d->probes = v; break;
	default: d->user_timeout_ms = v; break;
	}
	d->given |= 1u << s;
	return 0;
}

__u32 user_timeout_auto(__u32 time, __u32 intvl, __u32 probes)
{
	__u64 ms = ((__u64)time + (__u64)intvl * probes) * 1000;

	return ms > SIPKA_USER_TIMEOUT_MAX ? SIPKA_USER_TIMEOUT_MAX : ms;
}

#define GIVEN(d, s) ((d)->given & (1u << (s)))

void draft_resolve(const struct draft *d, const struct sipka_rule *base, struct sipka_rule *r)
{
	static const struct sipka_rule defaults = {
		.time = SIPKA_DEFAULT_TIME,
		.intvl = SIPKA_DEFAULT_INTVL,
		.probes = SIPKA_DEFAULT_PROBES,
		.user_timeout_ms =
			((SIPKA_DEFAULT_TIME + SIPKA_DEFAULT_INTVL * SIPKA_DEFAULT_PROBES) * 1000),
	};
	const struct sipka_rule *b = base ? base : &defaults;
	bool was_auto = b->user_timeout_ms == user_timeout_auto(b->time, b->intvl, b->probes);
	long long ut;

	*r = *b;
	if (GIVEN(d, SET_TIME))
		r->time = d->time;
	if (GIVEN(d, SET_INTVL))
		r->intvl = d->intvl;
	if (GIVEN(d, SET_PROBES))
		r->probes = d->probes;
	ut = GIVEN(d, SET_USER_TIMEOUT) ? d->user_timeout_ms :
	     was_auto			? SIPKA_UT_AUTO :
					  b->user_timeout_ms;
	r->user_timeout_ms = ut == SIPKA_UT_AUTO ? user_timeout_auto(r->time, r->intvl, r->probes) :
						   (__u32)ut;
	if (GIVEN(d, SET_NAME))
		memcpy(r->name, d->name, sizeof(r->name));
	if (GIVEN(d, SET_RESET_EVENTS)) {
		r->flags &= ~SIPKA_RULE_RESET_EVENTS;
		if (d->reset_events)
			r->flags |= SIPKA_RULE_RESET_EVENTS;
	}
}

/* Fills what SECTION does not say from DEFAULTS. */
static void draft_inherit(struct draft *section, const struct draft *defaults)
{
	if (!GIVEN(section, SET_TIME) && GIVEN(defaults, SET_TIME))
		section->time = defaults->time;
	if (!GIVEN(section, SET_INTVL) && GIVEN(defaults, SET_INTVL))
		section->intvl = defaults->intvl;
	if (!GIVEN(section, SET_PROBES) && GIVEN(defaults, SET_PROBES))
		section->probes = defaults->probes;
	if (!GIVEN(section, SET_USER_TIMEOUT) && GIVEN(defaults, SET_USER_TIMEOUT))
		section->user_timeout_ms = defaults->user_timeout_ms;
	if (!GIVEN(section, SET_RESET_EVENTS) && GIVEN(defaults, SET_RESET_EVENTS))
		section->reset_events = defaults->reset_events;
	section->given |= defaults->given & ~(1u << SET_PORT | 1u << SET_NAME);
}

/* One [section] of the file. */
struct section {
	int line; /* of its header */
	bool is_defaults;
	bool is_events; /* [events]: its keys go to the conf's events */
	struct draft d;
};

struct parser {
	FILE *f;
	int line;				 /* the line inih is on: counted by reader() */
	int nsec;				 /* headers seen so far */
	struct section sec[SIPKA_MAX_RULES + 2]; /* the rules, [defaults], [events] */
	struct conf out;			 /* the caller's gets it only if all is well */
	int err_line;
	char err[256];
};

/* Keeps the first error (the one to fix first); returns 0 for inih. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int line, const char *fmt,
						      ...)
{
	va_list ap;

	if (!p->err_line) {
		p->err_line = line;
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* inih's line source; counting here gives the handler its line number.
 * It refuses what inih would take another way than ops meant: an over-long
 * line (its tail would be parsed as a line of its own), a byte order mark,
 * and indented lines (continuations of the line above in inih). */
static char *reader(char *buf, int size, void *stream)
{
	struct parser *p = stream;
	char *s = fgets(buf, size, p->f);
	size_t n;

	if (!s || p->err_line)
		return NULL;
	p->line++;
	n = strlen(s);
	if (n && s[n - 1] != '\n' && fgetc(p->f) != EOF) {
		fail(p, p->line, "the line is longer than %d characters; shorten it", size - 2);
		return NULL;
	}
	if (n != strnlen(s, size)) {
		fail(p, p->line, "the line holds a NUL byte: not a text file");
		return NULL;
	}
	if (p->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3)) {
		fail(p, 1, "the file starts with a UTF-8 byte order mark; save it without one");
		return NULL;
	}
	if ((s[0] == ' ' || s[0] == '\t') && s[strspn(s, " \t\r\n")] != '\0' &&
	    !strchr(";#", s[strspn(s, " \t")])) {
		fail(p, p->line,
		     "the line is indented; start keys and [sections] at the beginning of the line");
		return NULL;
	}
	if (*s != '[')
		return buf;
	if (!strchr(s, ']')) {
		fail(p, p->line, "'[' without ']'; write the section as [name]");
		return NULL;
	}
	if (p->nsec == SIPKA_MAX_RULES + 2) {
		fail(p, p->line, "more than %d sections; sipka holds %d rules", SIPKA_MAX_RULES + 2,
		     SIPKA_MAX_RULES);
		return NULL;
	}
	p->sec[p->nsec++].line = p->line;
	return buf;
}

/* A key of [events]. */
static int events_key(struct parser *p, const char *key, const char *value)
{
	struct conf_events *e = &p->out.events;
	char why[192];
	int i;

	for (i = 0; i < EV_COUNT; i++)
		if (!strcmp(key, events_keys[i].key))
			break;
	if (i == EV_COUNT)
		return fail(
			p, p->line,
			"unknown key '%s' in [events]; use exec, exec_jobs, exec_timeout or exec_queue",
			key);
	if (e->given & (1u << i))
		return fail(p, p->line, "'%s' is set twice in [events]; keep one", key);
	if (events_setting_parse(i, value, e, why, sizeof(why)))
		return fail(p, p->line, "%s: %s", key, why);
	return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parser *p = user;
	struct section *s;
	char why[192];
	int i;

	if (!p->nsec || !*section)
		return fail(
			p, p->line,
			"'%s' is outside any section; put it under [defaults] or a transport section such as [tcp]",
			key);
	s = &p->sec[p->nsec - 1];
	if (!s->d.given && !s->is_defaults && !s->is_events) { /* first key of this section */
		s->is_defaults = !strcmp(section, "defaults");
		s->is_events = !strcmp(section, "events");
		if (!s->is_defaults && !s->is_events) {
			if (parse_name(section, s->d.name, why, sizeof(why)))
				return fail(p, s->line, "section [%s]: %s", section, why);
			s->d.given |= 1u << SET_NAME;
		}
	}
	if (s->is_events)
		return events_key(p, key, value);
	for (i = 0; i < SET_COUNT; i++)
		if (i != SET_NAME && !strcmp(key, settings[i].key))
			break;
	if (i == SET_COUNT)
		return fail(
			p, p->line,
			"unknown key '%s'; use port, tcp_keepalive_time, tcp_keepalive_intvl, tcp_keepalive_probes, tcp_user_timeout or reset_events (exec and exec_* go under [events])",
			key);
	if (i == SET_PORT && s->is_defaults)
		return fail(
			p, p->line,
			"[defaults] cannot have a port; give each transport its own section with port = N");
	if (s->d.given & (1u << i))
		return fail(p, p->line, "'%s' is set twice in [%s]; keep one", key, section);
	if (setting_parse(i, value, &s->d, why, sizeof(why)))
		return fail(p, p->line, "%s: %s", key, why);
	return 1;
}

/* Whole-file checks, then the rules with [defaults] filled in. */
static void conf_finish(struct parser *p, struct conf *c)
{
	const struct section *defaults = NULL, *events = NULL;
	int i, j;

	c->n = 0;
	for (i = 0; i < p->nsec; i++) {
		struct section *s = &p->sec[i];

		for (j = 0; j < i; j++)
			if (!s->is_defaults && !p->sec[j].is_defaults && s->d.given &&
			    p->sec[j].d.given && !strcmp(s->d.name, p->sec[j].d.name))
				fail(p, s->line,
				     "section [%s] appears twice (first on line %d); give each transport one section, or another name",
				     s->d.name, p->sec[j].line);
		if (s->is_events) {
			if (events)
				fail(p, s->line,
				     "[events] appears twice (first on line %d); merge them",
				     events->line);
			events = s;
		} else if (s->is_defaults) {
			if (defaults)
				fail(p, s->line,
				     "[defaults] appears twice (first on line %d); merge them",
				     defaults->line);
			defaults = s;
		} else if (!s->d.given) {
			fail(p, s->line, "section has no keys; give it port = N or remove it");
		} else if (!GIVEN(&s->d, SET_PORT)) {
			fail(p, s->line, "section [%s] has no port; add port = N", s->d.name);
		}
		for (j = 0; j < i; j++)
			if (!s->is_defaults && !p->sec[j].is_defaults && GIVEN(&s->d, SET_PORT) &&
			    p->sec[j].d.port == s->d.port)
				fail(p, s->line,
				     "port %u is already the rule of the section on line %d; one section per port",
				     s->d.port, p->sec[j].line);
	}
	for (i = 0; i < p->nsec && !p->err_line; i++) {
		struct section *s = &p->sec[i];

		if (s->is_defaults || s->is_events)
			continue;
		if (c->n == SIPKA_MAX_RULES) {
			fail(p, s->line, "more than %d rules; sipka holds %d", SIPKA_MAX_RULES,
			     SIPKA_MAX_RULES);
			break;
		}
		if (defaults)
			draft_inherit(&s->d, &defaults->d);
		c->rules[c->n].port = s->d.port;
		draft_resolve(&s->d, NULL, &c->rules[c->n].rule);
		c->n++;
	}
	if (!c->n)
		fail(p, p->line ? p->line : 1,
		     "no rules; add a section such as [tcp] with port = 5060");
}

int conf_parse(FILE *f, const char *name, struct conf *c, char *err, size_t len)
{
	struct parser *p = calloc(1, sizeof(*p));
	int line, ret = 0;

	if (!p) {
		snprintf(err, len, "%s: out of memory", name);
		return -1;
	}
	p->f = f;
	conf_events_init(&p->out.events);
	line = ini_parse_stream(reader, p, handler, p);
	if (line > 0 && !p->err_line) /* inih's own syntax error */
		fail(p, line, "not 'key = value', '[section]' or a comment");
	if (!p->err_line)
		conf_finish(p, &p->out);
	if (p->err_line) {
		snprintf(err, len, "%s:%d: %s", name, p->err_line, p->err);
		ret = -1;
	} else {
		*c = p->out;
	}
	free(p);
	return ret;
}

#define CONF_MAX_BYTES (1 << 20)

int conf_parse_file(const char *path, struct conf *c, char *err, size_t len)
{
	struct stat st;
	int fd, ret;
	FILE *f;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, len, "cannot read config file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONF_MAX_BYTES) {
		snprintf(err, len, "config file %s is %s; give a regular file of at most %d bytes",
			 path,
			 S_ISDIR(st.st_mode)  ? "a directory" :
			 !S_ISREG(st.st_mode) ? "not a regular file (a FIFO, device or socket)" :
						"too large",
			 CONF_MAX_BYTES);
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, len, "cannot read config file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	ret = conf_parse(f, path, c, err, len);
	fclose(f);
	return ret;
}

/* The rest comes from the built-in defaults, so they live in one place. */
static const char default_conf[] = "[tcp]\n"
				   "port = 5060\n"
				   "[tls]\n"
				   "port = 5061\n";

int conf_default(struct conf *c, char *err, size_t len)
{
	FILE *f = fmemopen((void *)default_conf, sizeof(default_conf) - 1, "r");
	int ret;

	if (!f) {
		snprintf(err, len, "embedded config: %s", strerror(errno));
		return -1;
	}
	ret = conf_parse(f, "embedded config", c, err, len);
	fclose(f);
	return ret;
}

__u32 conf_from_array(const struct sipka_rule *all, __u32 n, struct conf *c)
{
	__u32 port, present = 0;

	c->n = 0;
	for (port = 0; port < n; port++) { /* in port order, each once */
		if (!sipka_rule_present(&all[port]) || ++present > SIPKA_MAX_RULES)
			continue;
		c->rules[c->n].port = port;
		c->rules[c->n].rule = all[port];
		c->rules[c->n].rule.name[SIPKA_NAME_LEN - 1] = '\0'; /* bpftool may not */
		c->n++;
	}
	return present;
}

const struct sipka_rule *conf_find(const struct conf *c, __u32 port)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (c->rules[i].port == port)
			return &c->rules[i].rule;
	return NULL;
}
