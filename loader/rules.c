// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rules.h"
#include "state.h"

int rules_read(int fd, struct conf *c)
{
	struct sipka_rule *all = malloc(SIPKA_PORTS * sizeof(*all));
	__u32 port, present = 0;

	c->n = 0;
	if (!all || array_read(fd, SIPKA_PORTS, sizeof(*all), all)) {
		p_err("cannot read the rule set: %s", strerror(all ? errno : ENOMEM));
		free(all);
		return -1;
	}
	for (port = 0; port < SIPKA_PORTS; port++) { /* in port order, each once */
		if (!sipka_rule_present(&all[port]) || ++present > SIPKA_MAX_RULES)
			continue;
		c->rules[c->n].port = port;
		c->rules[c->n].rule = all[port];
		c->rules[c->n].rule.name[SIPKA_NAME_LEN - 1] = '\0'; /* bpftool may not */
		c->n++;
	}
	free(all);
	/* Only bpftool can write more: the program arms them all, but sipka's
	 * commands see (and a change keeps) the lowest ports' only. */
	if (present > SIPKA_MAX_RULES)
		p_info("warning: the live rule set holds %u rules, written by hand; sipka holds %d: its commands see ports up to %u only, and a 'sipka config' change keeps those only",
		       present, SIPKA_MAX_RULES, c->rules[c->n - 1].port);
	return 0;
}

int rules_new_set(const struct conf *c)
{
	unsigned int i;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sipka_config", sizeof(__u32),
			    sizeof(struct sipka_rule), SIPKA_PORTS, NULL);
	if (fd < 0) {
		p_err("cannot create a rule set: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		/* An array's entries all exist: BPF_NOEXIST would fail. */
		if (bpf_map_update_elem(fd, &c->rules[i].port, &c->rules[i].rule, BPF_ANY)) {
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
