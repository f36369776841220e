// SPDX-License-Identifier: GPL-2.0
#include "walk.h"

void existing_count(struct existing *x, const void *buf, size_t n)
{
	const __u8 *b = buf;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (b[i]) {
		case SIPKA_EXISTING_ARMED: x->armed++; break;
		case SIPKA_EXISTING_RETUNED: x->retuned++; break;
		case SIPKA_EXISTING_UNTRACKED:
			x->armed++;
			x->untracked++;
			break;
		default: x->failed++; break;
		}
	}
}
