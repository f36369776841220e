/* SPDX-License-Identifier: GPL-2.0 */
/* Output shared by the read commands. */
#ifndef SIPKA_OUTPUT_H
#define SIPKA_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Prints J as one line of JSON on stdout and releases it. */
int print_json(json_t *j);

/* A rule's transport name for people: "-" when it has none. */
const char *rule_name(const char *name);

/* ADDR (FAMILY: AF_INET in its first 4 bytes, or AF_INET6) as people know it:
 * v4-mapped IPv6 as IPv4 (*V4 true). BUF: INET6_ADDRSTRLEN. */
const char *addr_format(__u8 family, const __u8 *addr, char *buf, bool *v4);

/* "4.2s", "3m05s", "2h01m00s", "3d04h05m". */
void duration_format(__u64 ns, char *buf, size_t len);

#endif
