// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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
