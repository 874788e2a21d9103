/* SPDX-License-Identifier: BSD-2-Clause */
#include "rto.h"

/* RTTs above this are clipped: they only arise from a peer that sat on an ACK
 * for minutes, and the scaled sums must stay inside 32 bits. */
#define RTT_SAMPLE_MAX_US (60u * 1000u * 1000u)

static uint32_t clamp(uint64_t v, const struct rto_limits *lim)
{
	if (v < lim->min_us)
		return lim->min_us;
	if (v > lim->max_us)
		return lim->max_us;
	return (uint32_t)v;
}

void rto_init(struct rto *r, const struct rto_limits *lim)
{
	r->srtt8 = 0;
	r->rttvar4 = 0;
	r->rto_us = lim->max_us;
}

void rto_sample(struct rto *r, const struct rto_limits *lim, uint64_t rtt_us)
{
	uint32_t m = (uint32_t)(rtt_us < RTT_SAMPLE_MAX_US ? rtt_us : RTT_SAMPLE_MAX_US);

	if (r->srtt8 == 0) {
		/* RFC 6298 §2.2: SRTT = R, RTTVAR = R / 2 (a zero RTT is kept as 1 µs,
		 * since 0 marks "no sample"). */
		r->srtt8 = (m ? m : 1) << 3;
		r->rttvar4 = m << 1;
	} else {
		/* §2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|; SRTT = 7/8 SRTT + 1/8 R. */
		int64_t err = (int64_t)m - (int64_t)(r->srtt8 >> 3);
		uint32_t dev = (uint32_t)(err < 0 ? -err : err);

		r->srtt8 = (uint32_t)((int64_t)r->srtt8 + err);
		if (r->srtt8 == 0)
			r->srtt8 = 1;
		r->rttvar4 = r->rttvar4 - (r->rttvar4 >> 2) + dev;
	}
	r->rto_us = clamp((uint64_t)(r->srtt8 >> 3) + (r->rttvar4 > lim->granularity_us ? r->rttvar4
											 : lim->granularity_us),
			  lim);
}

void rto_backoff(struct rto *r, const struct rto_limits *lim)
{
	r->rto_us = clamp((uint64_t)r->rto_us * 2, lim);
}
