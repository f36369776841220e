// SPDX-License-Identifier: GPL-2.0
/* Where a connection sits in the conns table (include/sipka.h): the
 * program's claim, modelled over consecutive cookies as the kernel hands
 * them out. */
#include <stdbool.h>
#include <string.h>

#include "sipka.h"
#include "unit.h"

#define SLOTS 1024U

typedef __u32 (*slot_fn)(__u64 cookie, __u32 i, __u32 mask);

/* 0.3.0's window: from the cookie itself. */
static __u32 unhashed(__u64 cookie, __u32 i, __u32 mask)
{
	return (__u32)(cookie + i) & mask;
}

/* The program's conn_claim: a free slot of COOKIE's PROBES slots, or -1. */
static int claim(__u64 *table, slot_fn slot, __u32 probes, __u64 cookie)
{
	__u32 i, s;

	for (i = 0; i < probes; i++) {
		s = slot(cookie, i, SLOTS - 1);
		if (!table[s]) {
			table[s] = cookie;
			return (int)s;
		}
	}
	return -1;
}

/* 200 phones registered one after another and held, then 3,000 short
 * connections, each closed before the next: how many found no slot. */
static unsigned int untracked_after_a_burst(slot_fn slot, __u32 probes)
{
	static __u64 table[SLOTS];
	__u64 cookie = 22470520; /* any start: cookies are consecutive from it */
	unsigned int n, missed = 0;
	int s;

	memset(table, 0, sizeof(table));
	for (n = 0; n < 200; n++)
		if (claim(table, slot, probes, cookie++) < 0)
			missed++;
	for (n = 0; n < 3000; n++) {
		s = claim(table, slot, probes, cookie++);
		if (s < 0)
			missed++;
		else
			table[s] = 0;
	}
	return missed;
}

TEST(conn_slot_spreads_consecutive_cookies)
{
	/* The model sees the clustering: 0.3.0's one window missed many. */
	CHECK(untracked_after_a_burst(unhashed, SIPKA_CONN_WINDOW) > 300);
	CHECK(untracked_after_a_burst(sipka_conn_slot, SIPKA_CONN_PROBES) == 0);
}

TEST(conn_slot_first_window_from_the_cookie_second_scattered_from_its_hash)
{
	__u32 i;

	for (i = 0; i < SIPKA_CONN_WINDOW; i++) {
		CHECK(sipka_conn_slot(7, i, SLOTS - 1) == 7 + i);
		CHECK(sipka_conn_slot(7, SIPKA_CONN_WINDOW + i, SLOTS - 1) ==
		      ((__u32)sipka_conn_hash(7) + i * SIPKA_CONN_STRIDE) % SLOTS);
	}
	CHECK(sipka_conn_hash(7) % SLOTS != sipka_conn_hash(8) % SLOTS);
}
