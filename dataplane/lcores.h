/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which polling lcore owns a datagram, when the dataplane runs several
 * (--lcores N, one receive queue and one TFTP server each).
 *
 * Every TFTP session lives on one lcore, and its port says which: the session
 * range is cut into N contiguous parts, part k for lcore k. A read request (to
 * port 69) goes to the lcore chosen by a hash of the client's address and port,
 * which then gives the transfer a port from its own part. A retransmitted RRQ
 * comes from the same address and port, so it meets the session it opened; the
 * transfers of one address (a NAT, a load generator) spread over the lcores,
 * each of which applies the per-client limit to its own share: with N lcores an
 * address may hold up to N times that limit (--max-sessions still bounds the
 * total). DHCP needs no state and is answered wherever it arrives.
 *
 * Where a datagram arrives is up to the NIC (RSS, ntuple rules) or, on a veth,
 * the sender's transmit queue; one that reaches another lcore's queue is handed
 * to its owner through a ring (main.c). Pure functions, unit-tested.
 */
#ifndef STAMPEDE_LCORES_H
#define STAMPEDE_LCORES_H

#include <stdint.h>

#define DP_MAX_LCORES 16

struct lcore_split {
	uint16_t port_lo, port_hi; /* the whole session range, inclusive */
	uint32_t n;                /* lcores */
	uint32_t per;              /* ports per part; the last part takes the rest */
};

/* -EINVAL unless 1 <= n <= DP_MAX_LCORES and every part gets a port. */
int lcore_split_init(struct lcore_split *sp, uint16_t port_lo, uint16_t port_hi, unsigned n);
/* Part k of the range, inclusive. */
void lcore_split_range(const struct lcore_split *sp, unsigned k, uint16_t *lo, uint16_t *hi);
/* The lcore whose part holds port (a port inside the range). */
unsigned lcore_split_port_owner(const struct lcore_split *sp, uint16_t port);
/* The lcore that serves the read requests of this client (address and port,
 * the address in network byte order). */
unsigned lcore_split_request_owner(const struct lcore_split *sp, uint32_t ip, uint16_t port);
/* The share of max_sessions lcore k gets: the total divided evenly (rounded
 * up), but never more than the ports of its part. */
uint32_t lcore_split_sessions(const struct lcore_split *sp, unsigned k, uint32_t max_sessions);

#endif
