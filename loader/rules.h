/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule sets: the live one is the map in slot 0 of the rules map. A
 * change fills a new map and swaps it in with one update, so the program
 * and every reader see the old rules or the new ones, never a mix.
 */
#ifndef SIPKA_RULES_H
#define SIPKA_RULES_H

#include "conf.h"
#include "pindir.h"

/* Every rule in rule set CONFIG_FD (its present entries, the SIPKA_MAX_RULES
 * lowest ports), sorted by port, each port once: 0, or -errno (said why). */
int rules_read(int config_fd, struct conf *c);
/* A new rule set holding exactly C: a new fd, or -errno (said why). */
int rules_new_set(const struct conf *c);
/* Makes C the live rule set of RULES_FD and pins it as config (under the
 * writers' lock). */
int rules_publish(const struct pindir *pd, int rules_fd, const struct conf *c);

#endif
