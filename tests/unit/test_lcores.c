/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How the session range and the clients are shared between polling lcores
 * (dataplane/lcores.c): parts cover the range exactly, every port has one
 * owner, a client's requests always go to the same lcore, and session limits
 * add up.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>

#include "lcores.h"

Test(lcores, one_lcore_owns_everything)
{
	struct lcore_split sp;
	uint16_t lo, hi;

	cr_assert(eq(int, lcore_split_init(&sp, 61440, 65535, 1), 0));
	lcore_split_range(&sp, 0, &lo, &hi);
	cr_assert(eq(u16, lo, 61440));
	cr_assert(eq(u16, hi, 65535));
	cr_assert(eq(u32, lcore_split_port_owner(&sp, 65535), 0));
	cr_assert(eq(u32, lcore_split_request_owner(&sp, 0x0100000a, 2070), 0));
	cr_assert(eq(u32, lcore_split_sessions(&sp, 0, 4096), 4096));
}

Test(lcores, bad_counts_are_refused)
{
	struct lcore_split sp;

	cr_expect(eq(int, lcore_split_init(&sp, 61440, 65535, 0), -EINVAL));
	cr_expect(eq(int, lcore_split_init(&sp, 61440, 65535, DP_MAX_LCORES + 1), -EINVAL));
	cr_expect(eq(int, lcore_split_init(&sp, 61440, 61442, 4), -EINVAL), "fewer ports than lcores");
	cr_expect(eq(int, lcore_split_init(&sp, 61440, 61443, 4), 0), "one port each");
}

/* Parts are contiguous, in order, cover the range exactly; the last takes the
 * remainder; every port's owner is the part that holds it. */
Test(lcores, parts_cover_the_range_and_every_port_has_its_part_as_owner)
{
	static const struct {
		uint16_t lo, hi;
		unsigned n;
	} cases[] = { { 61440, 65535, 2 }, { 61440, 65535, 3 }, { 1024, 65535, 16 }, { 50000, 50006, 7 }, { 70, 80, 4 } };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct lcore_split sp;
		uint32_t next = cases[c].lo;

		cr_assert(eq(int, lcore_split_init(&sp, cases[c].lo, cases[c].hi, cases[c].n), 0));
		for (unsigned k = 0; k < cases[c].n; k++) {
			uint16_t lo, hi;

			lcore_split_range(&sp, k, &lo, &hi);
			cr_assert(eq(u32, lo, next), "case %zu part %u starts where the previous ended", c, k);
			cr_assert(le(u16, lo, hi));
			for (uint32_t p = lo; p <= hi; p++)
				cr_assert(eq(u32, lcore_split_port_owner(&sp, (uint16_t)p), k), "case %zu port %u", c, p);
			next = (uint32_t)hi + 1;
		}
		cr_assert(eq(u32, next, (uint32_t)cases[c].hi + 1), "case %zu: the parts end at the range's end", c);
	}
}

/* Each lcore's share of max_sessions: even, rounded up, at most its ports, and
 * together at least max_sessions when the ports allow. */
Test(lcores, session_shares_add_up)
{
	struct lcore_split sp;
	uint32_t total = 0;

	cr_assert(eq(int, lcore_split_init(&sp, 61440, 65535, 3), 0));
	for (unsigned k = 0; k < 3; k++)
		total += lcore_split_sessions(&sp, k, 4096);
	cr_assert(ge(u32, total, 4096));
	cr_assert(le(u32, total, 4096 + 2));
	cr_assert(eq(u32, lcore_split_sessions(&sp, 0, 100), 34));
	cr_assert(eq(int, lcore_split_init(&sp, 70, 80, 4), 0)); /* parts of 2, 2, 2 and 5 ports */
	cr_assert(eq(u32, lcore_split_sessions(&sp, 0, 11), 2), "no more than its ports");
	cr_assert(eq(u32, lcore_split_sessions(&sp, 3, 11), 3));
}

/* The same client (address and port: a retransmitted RRQ) always lands on the
 * same lcore; the machines of a subnet, all asking from the same port as PXE
 * firmware often does, spread over all of them, and so do the ports of one
 * address (a load generator behind one address). */
Test(lcores, clients_spread_and_a_client_stays_put)
{
	struct lcore_split sp;
	unsigned by_host[4] = { 0 }, by_port[4] = { 0 };

	cr_assert(eq(int, lcore_split_init(&sp, 61440, 65535, 4), 0));
	for (uint32_t host = 1; host < 255; host++) {
		uint32_t ip = (host << 24) | 0x0000a8c0; /* 192.168.0.host, network byte order */
		unsigned k = lcore_split_request_owner(&sp, ip, 0x1008);

		cr_assert(lt(u32, k, 4));
		cr_assert(eq(u32, lcore_split_request_owner(&sp, ip, 0x1008), k));
		by_host[k]++;
	}
	for (uint32_t port = 40000; port < 40254; port++)
		by_port[lcore_split_request_owner(&sp, 0x0200000a, (uint16_t)port)]++;
	for (unsigned k = 0; k < 4; k++) {
		cr_expect(gt(u32, by_host[k], 254 / 8), "lcore %u gets %u of 254 hosts", k, by_host[k]);
		cr_expect(gt(u32, by_port[k], 254 / 8), "lcore %u gets %u of 254 ports", k, by_port[k]);
	}
}
