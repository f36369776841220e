/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages for the person at the terminal and for scripts, as bpftool's
 * p_err()/p_info(): every file of the loader says what went wrong through
 * these. main sets the mode (-j, -v) once the options are read.
 */
#ifndef SIPKA_LOG_H
#define SIPKA_LOG_H

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* -j: an error is also a JSON object on stdout ({"error": "..."}). */
void log_set_json(bool json);
/* Under -j, an array being written on stdout an element at a time
 * (out_array_begin() in output.h), ELEMENTS its count so far; NULL when it
 * is closed. Meanwhile p_err()'s object is its next element (counted). */
void log_json_array(size_t *elements);
/* -v: 1 shows libbpf's info lines, 2 its debug lines too. */
void log_set_verbose(int verbose);

/* "Error: ..." on stderr, as bpftool does (and JSON on stdout under -j). */
__attribute__((format(printf, 1, 2))) void p_err(const char *fmt, ...);
/* A note for the person at the terminal (stderr, so JSON stays clean). */
__attribute__((format(printf, 1, 2))) void p_info(const char *fmt, ...);

/* libbpf's messages, as many as -v asks for: for libbpf_set_print(). */
int log_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

#endif
