/* SPDX-License-Identifier: GPL-2.0 */
/* JSON output shared by the commands. What people read: format.h. */
#ifndef SIPKA_OUTPUT_H
#define SIPKA_OUTPUT_H

#include <jansson.h>

/* Prints J as one line of JSON on stdout and releases it; an exit status. */
int print_json(json_t *j);

#endif
