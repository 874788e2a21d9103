/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The retransmission timeout estimator (dataplane/rto.c) against RFC 6298's
 * formulas worked by hand: first sample, smoothing, the clock granularity
 * floor, the [min, max] clamp, backoff and its cap.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "rto.h"

static const struct rto_limits lim = { .min_us = 200000, .max_us = 1000000, .granularity_us = 1024 };
/* Limits that stay out of the way of the formulas. */
static const struct rto_limits wide = { .min_us = 1000, .max_us = 60000000, .granularity_us = 1024 };

Test(rto, starts_at_the_maximum_before_any_sample)
{
	struct rto r;

	rto_init(&r, &lim);
	cr_assert(eq(u32, r.rto_us, 1000000), "RFC 6298 §2.1: the initial RTO");
	cr_assert(eq(u32, r.srtt8, 0));
}

/* §2.2: SRTT = R, RTTVAR = R/2, RTO = R + 4 (R/2) = 3R. */
Test(rto, first_sample_gives_three_times_the_rtt)
{
	struct rto r;

	rto_init(&r, &wide);
	rto_sample(&r, &wide, 100000);
	cr_assert(eq(u32, r.srtt8 >> 3, 100000));
	cr_assert(eq(u32, r.rttvar4, 200000));
	cr_assert(eq(u32, r.rto_us, 300000));
}

/* §2.3 by hand: SRTT 100 ms, RTTVAR 50 ms, then R = 20 ms:
 * RTTVAR = 3/4 * 50 + 1/4 * 80 = 57.5 ms, SRTT = 7/8 * 100 + 1/8 * 20 = 90 ms,
 * RTO = 90 + 4 * 57.5 = 320 ms. */
Test(rto, later_samples_are_smoothed_as_rfc_6298_says)
{
	struct rto r;

	rto_init(&r, &wide);
	rto_sample(&r, &wide, 100000);
	rto_sample(&r, &wide, 20000);
	cr_assert(eq(u32, r.srtt8 >> 3, 90000));
	cr_assert(eq(u32, r.rttvar4, 230000));
	cr_assert(eq(u32, r.rto_us, 320000));
}

/* A LAN's steady 300 us round trips: the variance term shrinks below the clock
 * granularity, which then sets the margin, and the floor the result. */
Test(rto, steady_fast_link_settles_on_the_floor)
{
	const struct rto_limits low = { .min_us = 1000, .max_us = 1000000, .granularity_us = 1024 };
	struct rto r;

	rto_init(&r, &low);
	for (int i = 0; i < 100; i++)
		rto_sample(&r, &low, 300);
	cr_assert(eq(u32, r.srtt8 >> 3, 300));
	cr_assert(eq(u32, r.rto_us, 300 + 1024), "SRTT + G once 4 RTTVAR < G");
	rto_sample(&r, &lim, 300);
	cr_assert(eq(u32, r.rto_us, 200000), "never below min");
}

Test(rto, long_rtt_is_capped_at_the_maximum)
{
	struct rto r;

	rto_init(&r, &lim);
	rto_sample(&r, &lim, 5000000);
	cr_assert(eq(u32, r.rto_us, 1000000));
	rto_sample(&r, &lim, 3600ull * 1000000); /* clipped, no overflow */
	cr_assert(eq(u32, r.rto_us, 1000000));
	cr_assert(gt(u32, r.srtt8, 0));
}

/* §5.5: each timeout doubles the RTO, up to the maximum. */
Test(rto, backoff_doubles_up_to_the_maximum)
{
	struct rto r;

	rto_init(&r, &lim);
	rto_sample(&r, &lim, 1000); /* RTO at the 200 ms floor */
	cr_assert(eq(u32, r.rto_us, 200000));
	rto_backoff(&r, &lim);
	cr_assert(eq(u32, r.rto_us, 400000));
	rto_backoff(&r, &lim);
	cr_assert(eq(u32, r.rto_us, 800000));
	rto_backoff(&r, &lim);
	cr_assert(eq(u32, r.rto_us, 1000000));
	rto_backoff(&r, &lim);
	cr_assert(eq(u32, r.rto_us, 1000000));
	/* A fresh sample recomputes it from the estimate (§5.7 after Karn). */
	rto_sample(&r, &lim, 1000);
	cr_assert(eq(u32, r.rto_us, 200000));
}

/* min == max: the RFC 2349 timeout option, or a fixed --retransmit-ms. */
Test(rto, equal_limits_make_a_fixed_timeout)
{
	const struct rto_limits fixed = { .min_us = 3000000, .max_us = 3000000, .granularity_us = 1024 };
	struct rto r;

	rto_init(&r, &fixed);
	cr_assert(eq(u32, r.rto_us, 3000000));
	rto_sample(&r, &fixed, 100);
	cr_assert(eq(u32, r.rto_us, 3000000));
	rto_backoff(&r, &fixed);
	cr_assert(eq(u32, r.rto_us, 3000000));
}

Test(rto, zero_rtt_counts_as_a_sample)
{
	struct rto r;

	rto_init(&r, &lim);
	rto_sample(&r, &lim, 0);
	cr_assert(gt(u32, r.srtt8, 0), "0 must not read as 'no sample yet'");
	cr_assert(eq(u32, r.rto_us, 200000));
}
