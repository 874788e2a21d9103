/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Retransmission timeout of one TFTP transfer, adapted to its round-trip time.
 *
 * The estimator is Jacobson/Karels as RFC 6298 §2 states it: a smoothed RTT
 * and its mean deviation, RTO = SRTT + max(G, 4 * RTTVAR), kept within
 * [min, max]. Values are stored scaled (8 * SRTT, 4 * RTTVAR, as in Jacobson's
 * 1988 code) so that integer arithmetic loses nothing at microsecond scale.
 * Before the first sample the RTO is the maximum: the configured retransmission
 * timeout, which is what every transfer used before it had a measurement
 * (RFC 6298 §2.1 starts at 1 s, our default).
 *
 * The caller decides what is a sample. Karn's rule (Karn & Partridge 1987,
 * RFC 6298 §3): an acknowledgement of anything sent more than once gives none,
 * and the backed-off RTO is kept until a sample arrives (RFC 6298 §5.5–5.7).
 */
#ifndef STAMPEDE_RTO_H
#define STAMPEDE_RTO_H

#include <stdint.h>

struct rto_limits {
	uint32_t min_us;
	uint32_t max_us;
	uint32_t granularity_us; /* G: how late a timer may fire */
};

struct rto {
	uint32_t srtt8;   /* 8 x smoothed RTT in microseconds; 0: no sample yet */
	uint32_t rttvar4; /* 4 x RTT mean deviation in microseconds */
	uint32_t rto_us;  /* the current timeout, backed off after timeouts */
};

void rto_init(struct rto *r, const struct rto_limits *lim);
/* One measured round trip (microseconds); sets the RTO from the new estimate. */
void rto_sample(struct rto *r, const struct rto_limits *lim, uint64_t rtt_us);
/* A timeout: the RTO doubles, up to the maximum (RFC 6298 §5.5). */
void rto_backoff(struct rto *r, const struct rto_limits *lim);

#endif
