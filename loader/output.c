// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "exitcode.h"
#include "log.h"
#include "output.h"

int print_json(json_t *j)
{
	int ret;

	if (!j) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	/* 15 digits: 0.729, not %.17g's 0.72899999999999998. */
	ret = json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(j);
	return ret ? EXIT_FAIL : EXIT_OK;
}
