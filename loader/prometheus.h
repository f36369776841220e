/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipka stats --prometheus: the Prometheus text exposition format (0.0.4) of
 * the counters (counter_table.h), the rules and sipka's health, to a stream or
 * atomically to a file. Pure: no BPF, no CLI globals; unit-tested.
 */
#ifndef SIPKA_PROMETHEUS_H
#define SIPKA_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "counter_table.h"

/* What the Prometheus output says besides the counters. */
struct health {
	bool up;      /* sipka's pins are there */
	int attached; /* live cgroups: links and direct attachments */
	int defunct;  /* pinned links whose cgroup is gone */
	struct conf rules;
	char version[64]; /* the loaded program's */
	bool phantoms;	  /* the rows' phantoms were counted (the connections listed) */
};

/* ROWS (N) and H to F; when !H->up only the health is said (no counters to read). */
void prometheus_print(FILE *f, const struct stats_row *rows, int n, const struct health *h);

/* The same into memory: the text (free() it) and its length in *LEN, or
 * NULL when out of memory. */
char *prometheus_text(const struct stats_row *rows, int n, const struct health *h, size_t *len);

/* The same to PATH atomically (a temporary file in its directory, then
 * rename), for node_exporter's textfile collector: a collector never reads
 * half, and a failed write leaves no file behind. Returns 0, or -errno with
 * WHY (LEN bytes) saying what failed. */
int prometheus_write(const char *path, const struct stats_row *rows, int n, const struct health *h,
		     char *why, size_t len);

#endif
