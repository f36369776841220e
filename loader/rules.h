/* SPDX-License-Identifier: GPL-2.0 */
/* The rules in the pinned config map. */
#ifndef SIPKA_RULES_H
#define SIPKA_RULES_H

#include "conf.h"

/* Every rule in the map, sorted by port. */
int rules_read(int config_fd, struct conf *c);
/* Makes the map hold exactly the rules of C. */
int rules_replace(int config_fd, const struct conf *c);

#endif
