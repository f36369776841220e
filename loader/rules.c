// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "maps.h"
#include "rules.h"

int rules_read(int fd, struct conf *c)
{
	struct sipka_rule *all = malloc(SIPKA_PORTS * sizeof(*all));
	int err = all ? array_read(fd, SIPKA_PORTS, sizeof(*all), all) : -ENOMEM;
	__u32 present;

	c->n = 0;
	if (err) {
		p_err("cannot read the rule set: %s", strerror(-err));
		free(all);
		return err;
	}
	present = conf_from_array(all, SIPKA_PORTS, c);
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
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sipka_config", sizeof(__u32),
			    sizeof(struct sipka_rule), SIPKA_PORTS, NULL);
	if (fd < 0) {
		err = -errno;
		p_err("cannot create a rule set: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < c->n; i++) {
		/* An array's entries all exist: BPF_NOEXIST would fail. */
		if (bpf_map_update_elem(fd, &c->rules[i].port, &c->rules[i].rule, BPF_ANY)) {
			err = -errno;
			p_err("cannot write the rule for port %u: %s", c->rules[i].port,
			      strerror(-err));
			close(fd);
			return err;
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
		return fd;
	/* The switch: one update of slot 0. */
	ret = bpf_map_update_elem(rules_fd, &slot, &fd, BPF_ANY) ? -errno : 0;
	if (ret)
		p_err("cannot switch to the new rules: %s", strerror(-ret));
	else
		ret = pin_replace(pd, fd, SIPKA_PIN_CONFIG);
	close(fd);
	return ret;
}
