// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "existing.h"
#include "iter.h"
#include "log.h"

/* Adds up the bytes (enum sipka_existing) of one iteration. */
static int count(int fd, void *ctx)
{
	struct existing *x = ctx;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		existing_count(x, buf, n);
	if (n < 0) {
		n = -errno;
		p_err("the TCP iterator failed: %s", strerror(-n));
		return n;
	}
	return 0;
}

int arm_existing(const struct state *s, const struct attachments *as, struct existing *x)
{
	memset(x, 0, sizeof(*x));
	x->tracked = s->meta.features & SIPKA_FEAT_ITER_TRACK;
	if (!(s->meta.features & SIPKA_FEAT_ITER_ARM)) {
		p_info("warning: this kernel cannot arm connections that already exist (a TCP iterator may not set socket options: Linux 5.16 or later); connections established from now on are armed");
		return 0;
	}
	x->supported = true;
	return iter_walk(s, as, ITER_ARM, count, x, &x->netns_skipped);
}

json_t *existing_json(const struct existing *x)
{
	if (!x->supported)
		return json_null();
	return json_pack("{s:i, s:i, s:i, s:i, s:b, s:i}", "armed", x->armed, "retuned", x->retuned,
			 "untracked", x->untracked, "failed", x->failed, "closes_counted",
			 x->tracked, "netns_skipped", x->netns_skipped);
}

bool existing_partial(const struct existing *x)
{
	return x->netns_skipped > 0;
}

void existing_print(const struct existing *x)
{
	if (!x->supported)
		return;
	printf("sipka: existing connections: %u armed, %u retuned", x->armed, x->retuned);
	if (x->failed)
		printf(", %u failed (see 'sipka stats', ERRORS)", x->failed);
	printf("\n");
	if (x->untracked)
		p_info("sipka: %u of them are armed, but this kernel cannot tell sipka when they close (Linux 6.1 cannot; 6.12 can): their deaths are not counted. The kernel still closes a dead peer's connection; connections made from now on are counted",
		       x->untracked);
	if (x->netns_skipped)
		p_info("warning: existing connections in %u other network namespaces were not armed: entering them needs CAP_SYS_ADMIN. Connections made from now on are armed",
		       x->netns_skipped);
}

struct listing {
	struct sipka_conn_info *c;
	size_t n;
};

static int collect(int fd, void *ctx)
{
	struct listing *l = ctx;
	struct sipka_conn_info info, *more;
	ssize_t n;

	while ((n = read(fd, &info, sizeof(info))) == sizeof(info)) {
		more = realloc(l->c, (l->n + 1) * sizeof(*more));
		if (!more) {
			p_err("out of memory");
			return -ENOMEM;
		}
		l->c = more;
		l->c[l->n++] = info;
	}
	if (n < 0) {
		n = -errno;
		p_err("the TCP iterator failed: %s", strerror(-n));
		return n;
	}
	return 0;
}

int connections_list(const struct state *s, const struct attachments *as,
		     struct sipka_conn_info **out, size_t *n, unsigned int *skipped)
{
	struct listing l = { 0 };
	int ret = iter_walk(s, as, ITER_LIST, collect, &l, skipped);

	if (ret) {
		free(l.c);
		l.c = NULL;
		l.n = 0;
	}
	*out = l.c;
	*n = l.n;
	return ret;
}

__u64 close_wait_held_ns(const struct sipka_conn_info *c, bool *exact)
{
	*exact = c->peer_closed_ns != 0;
	if (*exact)
		return c->now_ns > c->peer_closed_ns ? c->now_ns - c->peer_closed_ns : 0;
	return (__u64)c->idle_ms * 1000000ULL;
}

bool close_wait_phantom(const struct sipka_conn_info *c, unsigned int after_s)
{
	bool exact;

	return !c->listening && c->close_wait &&
	       close_wait_held_ns(c, &exact) > after_s * 1000000000ULL;
}
