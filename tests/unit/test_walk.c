// SPDX-License-Identifier: GPL-2.0
#include "walk.h"
#include "unit.h"

TEST(existing_count_adds_each_byte)
{
	const __u8 b[] = { SIPKA_EXISTING_ARMED,
			   SIPKA_EXISTING_ARMED,
			   SIPKA_EXISTING_RETUNED,
			   SIPKA_EXISTING_UNTRACKED,
			   SIPKA_EXISTING_FAILED,
			   0,
			   200 };
	struct existing x = { 0 };

	existing_count(&x, b, sizeof(b));
	CHECK(x.armed == 3 && x.retuned == 1 && x.untracked == 1 && x.failed == 3);
}
