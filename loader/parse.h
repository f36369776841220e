/* SPDX-License-Identifier: GPL-2.0 */
/* Strict number parsing: whole decimal numbers, range-checked, no junk. */
#ifndef SIPKA_PARSE_H
#define SIPKA_PARSE_H

#include <stddef.h>

/* Parses S into *OUT if it is a whole number in [MIN, MAX]. Returns 0, or -1
 * with WHY (LEN bytes) saying what is wrong, e.g. "'12x' is not a number". */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out, char *why, size_t len);

#endif
