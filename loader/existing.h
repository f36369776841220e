/* SPDX-License-Identifier: GPL-2.0 */
/* Arming the connections that already exist, with a TCP iterator. */
#ifndef SIPKA_EXISTING_H
#define SIPKA_EXISTING_H

#include <jansson.h>
#include <stdbool.h>

struct existing {
	bool supported;		/* false: this kernel cannot, said why */
	unsigned int armed, retuned, failed;
};

/* Arms every established connection with a rule in every attached cgroup
 * (and descendants), or retunes it to the current rule if armed already. */
int arm_existing(struct existing *x);

/* For the JSON output of attach and config. */
json_t *existing_json(const struct existing *x);
/* "armed 3 existing connections, retuned 2" for people, on stdout. */
void existing_print(const struct existing *x);

#endif
