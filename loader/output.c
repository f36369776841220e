// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "event.h"
#include "exitcode.h"
#include "log.h"
#include "output.h"
#include "parse.h"

int print_json(json_t *j)
{
	int ret;

	if (!j) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	ret = json_dumpf(j, stdout, SIPKA_JSON_FLAGS);
	fputc('\n', stdout);
	json_decref(j);
	return ret ? EXIT_FAIL : EXIT_OK;
}

void out_array_begin(struct out_array *a)
{
	*a = (struct out_array){ 0 };
	log_json_array(&a->n);
	errno = 0;
	if (fputc('[', stdout) == EOF)
		a->err = errno ? errno : EIO;
	a->failed = a->err;
}

int out_array_add(struct out_array *a, json_t *j)
{
	if (!a->failed && !j) {
		p_err("out of memory"); /* the next element */
		a->failed = true;
	} else if (!a->failed) {
		errno = 0;
		if ((a->n && fputc(',', stdout) == EOF) || json_dumpf(j, stdout, SIPKA_JSON_FLAGS))
			a->err = errno ? errno : EIO;
		a->failed = a->err;
		a->n++;
	}
	json_decref(j);
	return a->failed ? -1 : 0;
}

int out_array_end(struct out_array *a)
{
	log_json_array(NULL);
	errno = 0;
	if (!a->err && (fputs("]\n", stdout) == EOF || fflush(stdout)))
		a->err = errno ? errno : EIO;
	if (a->err) {
		p_err("cannot write the output: %s", strerror(a->err));
		return EXIT_FAIL;
	}
	return a->failed ? EXIT_FAIL : EXIT_OK;
}

int out_width(void)
{
	const char *env = getenv("COLUMNS");
	unsigned long long cols;
	struct winsize ws;
	char why[64];

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	/* A terminal's width is an unsigned short; narrower than 40 is no table. */
	if (env && !parse_uint(env, 40, USHRT_MAX, &cols, why, sizeof(why)))
		return cols;
	return 100;
}
