// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rules.h"

static int by_port(const void *a, const void *b)
{
	const struct conf_rule *x = a, *y = b;

	return (x->port > y->port) - (x->port < y->port);
}

int rules_read(int fd, struct conf *c)
{
	__u32 key, next, *prev = NULL;
	unsigned int i, n = 0, steps;

	c->n = 0;
	/* Bounded: a hash walked while bpftool edits it may restart. */
	for (steps = 0; steps < 4 * SIPKA_MAX_RULES && c->n < SIPKA_MAX_RULES; steps++) {
		if (bpf_map_get_next_key(fd, prev, &next))
			break;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &c->rules[c->n].rule))
			continue;				     /* deleted meanwhile */
		c->rules[c->n].rule.name[SIPKA_NAME_LEN - 1] = '\0'; /* bpftool may not */
		c->rules[c->n].port = key;
		c->n++;
	}
	qsort(c->rules, c->n, sizeof(c->rules[0]), by_port);
	for (i = 0; i < c->n; i++) /* each port once, whatever the walk did */
		if (!n || c->rules[n - 1].port != c->rules[i].port)
			c->rules[n++] = c->rules[i];
	c->n = n;
	return 0;
}

int rules_new_set(const struct conf *c)
{
	unsigned int i;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sipka_config", sizeof(__u32),
			    sizeof(struct sipka_rule), SIPKA_MAX_RULES, NULL);
	if (fd < 0) {
		p_err("cannot create a rule set: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		if (bpf_map_update_elem(fd, &c->rules[i].port, &c->rules[i].rule, BPF_NOEXIST)) {
			p_err("cannot write the rule for port %u: %s", c->rules[i].port,
			      strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int rules_publish(const struct pindir *pd, int rules_fd, const struct conf *c)
{
	__u32 slot = 0;
	int fd, ret;

	fd = rules_new_set(c);
	if (fd < 0)
		return -1;
	/* The switch: one update of slot 0. */
	ret = bpf_map_update_elem(rules_fd, &slot, &fd, BPF_ANY);
	if (ret)
		p_err("cannot switch to the new rules: %s", strerror(errno));
	else
		ret = pin_replace(pd, fd, SIPKA_PIN_CONFIG);
	close(fd);
	return ret;
}
