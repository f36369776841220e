/* SPDX-License-Identifier: GPL-2.0 */
/* Output shared by the commands: JSON, and the width a table fits. What
 * people read: format.h. */
#ifndef SIPKA_OUTPUT_H
#define SIPKA_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>

/* Prints J as one line of JSON on stdout and releases it; an exit status. */
int print_json(json_t *j);

/* A JSON array on stdout written an element at a time, for a list of any
 * length: one element in memory at a time (jansson's objects take about
 * 3 KB each), and byte for byte what print_json() writes of the whole array.
 * A failure in the middle is plain to a script, as with bpftool's writer:
 * an error p_err() says while the array is open is its next element
 * ({"error": "..."}), so stdout stays one document; out of memory is said
 * so and ends the array; a write that failed is said on stderr; either
 * way the exit status is 1. */
struct out_array {
	size_t n;    /* elements written, an error included */
	int err;     /* 0, or the errno of a failed write */
	bool failed; /* out of memory or a failed write: nothing more is written */
};

void out_array_begin(struct out_array *a);
/* Writes J as the next element and releases it; J NULL (out of memory) is
 * said as the next element. 0, or -1 after a failure: write no more. */
int out_array_add(struct out_array *a, json_t *j);
/* Closes the array and its line, and says why when stdout could not be
 * written; an exit status: EXIT_FAIL after any failure. */
int out_array_end(struct out_array *a);

/* The width a table fits: the terminal's, else $COLUMNS (40 or more), else 100. */
int out_width(void);

#endif
