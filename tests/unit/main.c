// SPDX-License-Identifier: GPL-2.0
/* Runs every TEST; ends with "unit: N passed, N failed". */
#include <stdio.h>
#include <string.h>

#include "unit.h"

static struct unit_test *head, **tail = &head;
static int failures;

void unit_register(struct unit_test *t)
{
	*tail = t; /* in file order */
	tail = &t->next;
}

void unit_fail(const char *file, int line, const char *what)
{
	printf("    %s:%d: %s\n", file, line, what);
	failures++;
}

void unit_check_has(const char *file, int line, const char *s, const char *sub)
{
	if (!strstr(s, sub)) {
		printf("    %s:%d: '%s' not in '%s'\n", file, line, sub, s);
		failures++;
	}
}

int main(void)
{
	int passed = 0, failed = 0, before;
	struct unit_test *t;

	for (t = head; t; t = t->next) {
		before = failures;
		t->fn();
		if (failures == before) {
			passed++;
			printf("ok   %s\n", t->name);
		} else {
			failed++;
			printf("FAIL %s\n", t->name);
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
