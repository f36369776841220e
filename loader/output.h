/* SPDX-License-Identifier: GPL-2.0 */
/* Output shared by the read commands. */
#ifndef SIPKA_OUTPUT_H
#define SIPKA_OUTPUT_H

#include <jansson.h>

/* Prints J as one line of JSON on stdout and releases it. */
int json_print(json_t *j);

/* A rule's transport name for people: "-" when it has none. */
const char *rule_name(const char *name);

#endif
