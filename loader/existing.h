/* SPDX-License-Identifier: GPL-2.0 */
/* What the iterators are run for: arming the connections that already
 * exist, and listing the connections. */
#ifndef SIPKA_EXISTING_H
#define SIPKA_EXISTING_H

#include <jansson.h>
#include <stdbool.h>

#include "attachments.h"
#include "walk.h"
#include "state.h"

/* Arms every established connection with a rule in the cgroups of AS (and
 * their descendants), or retunes it to the current rule if armed already. */
int arm_existing(const struct state *s, const struct attachments *as, struct existing *x);

/* The connections (and listening sockets) of the cgroups of AS whose rule
 * port has a rule or that sipka armed, in *OUT (free() it). */
int connections_list(const struct state *s, const struct attachments *as,
		     struct sipka_conn_info **out, size_t *n, unsigned int *skipped);

/* How long the PBX has held connection C, in CLOSE_WAIT, in ns: exact (to
 * the second) when sipka saw the peer's FIN (*EXACT), else at least the idle
 * time, since the last packet from the peer came at or after its FIN. */
__u64 close_wait_held_ns(const struct sipka_conn_info *c, bool *exact);
/* Whether C is a phantom: in CLOSE_WAIT longer than AFTER_S seconds
 * (--close-wait-after). */
bool close_wait_phantom(const struct sipka_conn_info *c, unsigned int after_s);

/* For the JSON output of attach and config. */
json_t *existing_json(const struct existing *x);
/* "existing connections: 3 armed, 2 retuned" for people, on stdout. */
void existing_print(const struct existing *x);
/* Whether the result is partial (exit status EXIT_PARTIAL). */
bool existing_partial(const struct existing *x);

#endif
