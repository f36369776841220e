/* SPDX-License-Identifier: GPL-2.0 */
/* The stats map: per-CPU counters, summed for people. */
#ifndef SIPKA_COUNTERS_H
#define SIPKA_COUNTERS_H

#include <stddef.h>

#include "pins.h"
#include "sipka.h"

/* The counters of PORT, summed over every CPU; -1 if PORT has none. */
int counters_read(int stats_fd, __u32 port, struct sipka_counters *sum);

/* The version of the program sipka has loaded (not of this CLI) into BUF, for
 * sipka_program_info; 0, or -1 if it cannot be told. */
int loaded_program_version(const struct pins *p, char *buf, size_t len);

#endif
