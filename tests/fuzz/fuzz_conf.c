// SPDX-License-Identifier: GPL-2.0
/* The config file: INI through inih, then the rules' validation (conf_parse). */
#include <stdio.h>

#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	char err[512];
	FILE *f;

	if (!size) /* fmemopen refuses an empty buffer; conf_parse_file gives it a file */
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (!conf_parse(f, "fuzz.conf", &c, err, sizeof(err)))
		for (unsigned int i = 0; i < c.n; i++)
			if (!sipka_rule_valid(&c.rules[i].rule) ||
			    conf_find(&c, c.rules[i].port) != &c.rules[i].rule)
				abort(); /* a rule parsed from a file is always valid, each port once */
	fclose(f);
	return 0;
}
