/* SPDX-License-Identifier: GPL-2.0 */
/* The read side of sipka's objects for stats and events (over state.h). */
#ifndef SIPKA_PINS_H
#define SIPKA_PINS_H

#include "state.h"

struct pins {
	int prog_fd;
	int config_fd;
	int stats_fd;
	int slots_fd;
	int events_fd;
	struct state s;
};
#define PINS_INIT                              \
	{                                      \
		-1, -1, -1, -1, -1, STATE_INIT \
	}

/* Opens what sipka pinned; says so and fails when sipka is not loaded. */
int pins_open(struct pins *p);
void pins_close(struct pins *p);

#endif
