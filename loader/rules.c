// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

	c->n = 0;
	while (c->n < SIPKA_MAX_RULES && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &c->rules[c->n].rule))
			continue;	/* deleted meanwhile */
		c->rules[c->n].rule.name[SIPKA_NAME_LEN - 1] = '\0';	/* bpftool may not */
		c->rules[c->n].port = key;
		c->n++;
	}
	qsort(c->rules, c->n, sizeof(c->rules[0]), by_port);
	return 0;
}

int rules_replace(int fd, const struct conf *c)
{
	struct conf old;
	unsigned int i;

	rules_read(fd, &old);
	for (i = 0; i < c->n; i++) {
		if (bpf_map_update_elem(fd, &c->rules[i].port, &c->rules[i].rule, BPF_ANY)) {
			err("cannot write the rule for port %u: %s", c->rules[i].port, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < old.n; i++)
		if (!conf_find(c, old.rules[i].port))
			bpf_map_delete_elem(fd, &old.rules[i].port);
	return 0;
}
