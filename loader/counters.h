/* SPDX-License-Identifier: GPL-2.0 */
/* The stats map: per-CPU counters, summed for people. */
#ifndef SIPKA_COUNTERS_H
#define SIPKA_COUNTERS_H

#include "sipka.h"

/* The counters of PORT, summed over every CPU; -1 if PORT has none. */
int counters_read(int stats_fd, __u32 port, struct sipka_counters *sum);

#endif
