/* SPDX-License-Identifier: GPL-2.0 */
/* Output shared by the commands: JSON, and the width a table fits. What
 * people read: format.h. */
#ifndef SIPKA_OUTPUT_H
#define SIPKA_OUTPUT_H

#include <jansson.h>

/* Prints J as one line of JSON on stdout and releases it; an exit status. */
int print_json(json_t *j);

/* The width a table fits: the terminal's, else $COLUMNS (40 or more), else 100. */
int out_width(void);

#endif
