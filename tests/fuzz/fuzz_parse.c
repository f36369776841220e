// SPDX-License-Identifier: GPL-2.0
/* Numbers and settings as the command line and the config give them:
 * parse_uint, setting_parse, then the rule resolved from them. */
#include "conf.h"
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long min, max, v;
	struct sipka_rule r;
	struct draft d;
	char why[256], *s;
	int i;

	fuzz_take(&data, &size, &min, sizeof(min));
	fuzz_take(&data, &size, &max, sizeof(max));
	s = fuzz_string(data, size);
	if (!s)
		return 0;
	if (!parse_uint(s, min, max, &v, why, sizeof(why)) && (v < min || v > max))
		abort();
	memset(&d, 0, sizeof(d));
	for (i = 0; i < SET_COUNT; i++)
		setting_parse(i, s, &d, why, sizeof(why));
	draft_resolve(&d, NULL, &r);
	if (!sipka_rule_valid(&r)) /* whatever was accepted makes a valid rule */
		abort();
	free(s);
	return 0;
}
