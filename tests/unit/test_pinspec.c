// SPDX-License-Identifier: GPL-2.0
#include "pinspec.h"
#include "sipka.h"
#include "unit.h"

TEST(pin_classify_ours_and_obsolete)
{
	unsigned int i;

	for (i = 0; i < pin_specs_n; i++)
		CHECK(pin_classify(pin_specs[i].name) == ENTRY_OURS);
	CHECK(pin_classify("sockets") == ENTRY_OURS); /* layout 1's, left by a migration */
}

TEST(pin_classify_staged_and_temporary)
{
	CHECK(pin_classify("prog-new") == ENTRY_STAGED);
	CHECK(pin_classify("meta-new") == ENTRY_STAGED);
	CHECK(pin_classify("config-tmp") == ENTRY_STAGED);
	CHECK(pin_classify("sockets-new") == ENTRY_STAGED);
	CHECK(pin_classify("link-42-tmp") == ENTRY_STAGED);
	CHECK(pin_classify("link-tmp") == ENTRY_OTHER);
	CHECK(pin_classify("link-4x-tmp") == ENTRY_OTHER);
	CHECK(pin_classify("mine-new") == ENTRY_OTHER);
	CHECK(pin_classify("prog-new-new") == ENTRY_OTHER);
	CHECK(pin_classify("-new") == ENTRY_OTHER);
}

TEST(pin_classify_links)
{
	CHECK(pin_classify("link-1") == ENTRY_LINK);
	CHECK(pin_classify("link-18446744073709551615") == ENTRY_LINK);
	CHECK(pin_classify("link-") == ENTRY_OTHER);
	CHECK(pin_classify("link-12a") == ENTRY_OTHER);
	CHECK(pin_classify("link--1") == ENTRY_OTHER);
	CHECK(pin_classify("Link-1") == ENTRY_OTHER);
}

TEST(pin_classify_others_are_left_alone)
{
	CHECK(pin_classify("") == ENTRY_OTHER);
	CHECK(pin_classify("progs") == ENTRY_OTHER);
	CHECK(pin_classify("my-map") == ENTRY_OTHER);
	CHECK(pin_classify(".prog") == ENTRY_OTHER);
}
