// SPDX-License-Identifier: GPL-2.0
/* Messages: errors and notes on stderr, errors as JSON on stdout under -j. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static struct {
	bool json;
	int verbose;
	size_t *array; /* under -j, the elements of the array open on stdout; NULL: none */
} mode;

void log_set_json(bool json)
{
	mode.json = json;
}

void log_set_verbose(int verbose)
{
	mode.verbose = verbose;
}

void log_json_array(size_t *elements)
{
	mode.array = elements;
}

void p_err(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fprintf(stderr, "Error: %s\n", msg ? msg : fmt);
	/* Under -j a script reads stdout: the error is a JSON object there too,
	 * as bpftool does ({"error": "..."}); stderr keeps the line for people.
	 * In the middle of an array it is the array's next element, as in
	 * bpftool's writer: stdout stays one document. */
	if (mode.json) {
		j = json_pack("{s:s}", "error", msg ? msg : fmt);
		if (j) {
			if (mode.array && (*mode.array)++)
				fputc(',', stdout);
			json_dumpf(j, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			fflush(stdout);
			json_decref(j);
		}
	}
	free(msg);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int log_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && mode.verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && mode.verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap); /* libbpf's lines say "libbpf: " */
}
