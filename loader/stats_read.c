// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "clock.h"
#include "counters.h"
#include "env.h"
#include "existing.h"
#include "log.h"
#include "rules.h"
#include "stats_read.h"

int stats_read_rows(const struct state *s, struct stats_row *rows)
{
	struct port_counters *all = malloc(SIPKA_MAX_STATS * sizeof(*all));
	struct conf *rules = malloc(sizeof(*rules));
	int na, n;

	na = all && rules ? counters_all(s->stats_fd, s->slots_fd, all) : -ENOMEM;
	if (na < 0)
		p_err("cannot read the counters: %s", strerror(-na));
	n = na < 0 ? na : rules_read(s->config_fd, rules); /* said why */
	if (!n)
		n = stats_rows(rules, all, na, rows);
	free(rules);
	free(all);
	return n;
}

void stats_read_health(const struct pindir *pd, const struct state *s, struct health *h)
{
	struct attachments as = { 0 };
	int i;

	memset(h, 0, sizeof(*h));
	h->up = true;
	rules_read(s->config_fd, &h->rules);
	if (!attachments_list(pd, &as)) {
		for (i = 0; i < as.n; i++) {
			h->attached += !as.a[i].defunct;
			h->defunct += as.a[i].defunct;
		}
	}
	attachments_free(&as);
	/* The loaded program's version, from the meta map: not this CLI's. */
	snprintf(h->version, sizeof(h->version), "%s", s->meta.version);
}

/* The phantoms of each rule port (CLOSE_WAIT connections held longer than
 * M->close_wait_after) into M->phantoms, from one walk of the sockets of the
 * attached cgroups' network namespaces (bench/RESULTS.md says what it
 * costs), at most every M->walk_every seconds; then into M's rows. A walk
 * that fails (said why) leaves the gauge out, never says 0. */
static void phantoms_read(const struct pindir *pd, const struct state *s, struct metrics *m)
{
	__u64 now = clock_ns(CLOCK_MONOTONIC);
	struct attachments as = { 0 };
	struct sipka_conn_info *list = NULL;
	unsigned int skipped;
	size_t n = 0, k;
	int i;

	if (m->nphantoms < 0 || !m->walk_every ||
	    now - m->walked_ns >= m->walk_every * 1000000000ULL) {
		m->nphantoms = -1;
		m->walked_ns = now;
		if (!attachments_list(pd, &as) && !connections_list(s, &as, &list, &n, &skipped)) {
			m->nphantoms = 0;
			for (k = 0; k < n; k++) {
				if (!close_wait_phantom(&list[k], m->close_wait_after))
					continue;
				for (i = 0; i < m->nphantoms; i++)
					if (m->phantoms[i].port == list[k].rule_port)
						break;
				if (i == m->nphantoms) {
					if (i == STATS_MAX_ROWS)
						continue;
					m->phantoms[m->nphantoms].port = list[k].rule_port;
					m->phantoms[m->nphantoms++].n = 0;
				}
				m->phantoms[i].n++;
			}
		}
		free(list);
		attachments_free(&as);
	}
	m->h.phantoms = m->nphantoms >= 0;
	for (i = 0; i < m->nphantoms; i++)
		for (k = 0; k < (size_t)m->n; k++)
			if (m->rows[k].port == m->phantoms[i].port)
				m->rows[k].phantoms = m->phantoms[i].n;
}

int metrics_read(const char *pin_dir, struct metrics *m, bool *said)
{
	struct pindir pd = PINDIR_INIT(pin_dir);
	struct state s = STATE_INIT;
	int ret;

	memset(&m->h, 0, sizeof(m->h));
	m->n = 0;
	ret = env_check(pin_dir);
	if (!ret)
		ret = pindir_open(&pd, false);
	if (!ret && state_loaded(&pd)) {
		ret = state_open(&pd, &s);
		if (!ret) {
			m->n = stats_read_rows(&s, m->rows);
			if (m->n < 0) { /* said why; the rules' metrics stay out */
				ret = m->n;
				m->n = 0;
			}
			stats_read_health(&pd, &s, &m->h);
			phantoms_read(&pd, &s, m);
		}
	} else if (!ret && !*said) {
		p_info("sipka is not loaded (nothing pinned in %s): the metrics say sipka_up 0",
		       pin_dir);
	}
	*said = !ret && !m->h.up;
	state_close(&s);
	pindir_close(&pd);
	return ret;
}
