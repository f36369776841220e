/* SPDX-License-Identifier: GPL-2.0 */
/* Strict number parsing: whole decimal numbers, range-checked, no junk. */
#ifndef SIPKA_PARSE_H
#define SIPKA_PARSE_H

#include <stddef.h>
#include <sys/socket.h>

/* Parses S into *OUT if it is a whole number in [MIN, MAX]. Returns 0, or -1
 * with WHY (LEN bytes) saying what is wrong, e.g. "'12x' is not a number". */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out, char *why, size_t len);

/* Parses S, an address to listen on: IPV4:PORT, [IPV6]:PORT, or :PORT for
 * 127.0.0.1 (PORT 0-65535; 0: any free port), into *ADDR and *ADDRLEN.
 * Names are refused: no lookup. Returns 0, or -1 with WHY (LEN bytes)
 * saying what is wrong and what to give. */
int parse_listen(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen, char *why,
		 size_t len);

#endif
