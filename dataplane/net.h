/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet / IPv4 / UDP parsing and building for the dataplane.
 *
 * Pure functions over plain buffers (no EAL, no mbuf), so that unit tests and
 * fuzzers exercise exactly the code that runs on the fast path. The parser never
 * reads past the length it is given and never trusts a length field from the wire
 * without comparing it to what was received; every way a frame can be refused has
 * its own drop reason, which the caller counts.
 */
#ifndef STAMPEDE_NET_H
#define STAMPEDE_NET_H

#include <stddef.h>
#include <stdint.h>

#define NET_ETH_ALEN        6
#define NET_UDP_HEADERS_LEN 42 /* Ethernet 14 + IPv4 20 (no options) + UDP 8 */

/* Why a frame was not handed to a protocol handler. */
#define NET_DROP_REASONS(X)                                                             \
	X(short_frame)      /* shorter than Ethernet + IPv4 headers */                   \
	X(not_ipv4)         /* EtherType is not IPv4 (the XDP program passes those on) */ \
	X(bad_ip_header)    /* version is not 4, or header length below 5 words */        \
	X(ip_options)       /* IPv4 options: PXE clients never send them */              \
	X(bad_ip_length)    /* total length smaller than the header or than the frame */  \
	X(ip_fragment)      /* fragments are never reassembled */                         \
	X(bad_ip_checksum)                                                              \
	X(not_udp)                                                                      \
	X(bad_udp_length)   /* UDP length disagrees with the IP payload */               \
	X(bad_udp_checksum)                                                             \
	X(not_for_us)       /* other destination address (or broadcast to a non-DHCP port) */ \
	X(no_handler)       /* a port the dataplane does not serve (af_packet/pcap see every port) */

enum net_drop {
	NET_OK = 0,
#define NET_DROP_ENUM(name) NET_DROP_##name,
	NET_DROP_REASONS(NET_DROP_ENUM)
#undef NET_DROP_ENUM
	NET_DROP_COUNT
};

const char *net_drop_name(enum net_drop reason);

/* One side of a UDP exchange as seen on the wire. */
struct net_endpoint {
	uint8_t mac[NET_ETH_ALEN];
	uint32_t ip;   /* network byte order */
	uint16_t port; /* host byte order */
};

struct net_udp_datagram {
	struct net_endpoint src;
	struct net_endpoint dst;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Parse one Ethernet frame carrying IPv4/UDP. On NET_OK, *out describes the
 * datagram and out->payload points into frame. Checksums are verified (a UDP
 * checksum of zero means "none", RFC 768).
 */
enum net_drop net_parse_udp(const uint8_t *frame, size_t len, struct net_udp_datagram *out);

/* The same without verifying the UDP checksum (the IPv4 header checksum still
 * is), for a receiver that checks every payload byte another way: the
 * benchmark client comparing blocks with the file it expects. */
enum net_drop net_parse_udp_unchecked(const uint8_t *frame, size_t len, struct net_udp_datagram *out);

/*
 * Write Ethernet, IPv4 and UDP headers in the first NET_UDP_HEADERS_LEN bytes of
 * frame, for a payload of payload_len bytes already placed right after them, and
 * fill both checksums. Returns the frame length.
 */
size_t net_build_udp(uint8_t *frame, const struct net_endpoint *src, const struct net_endpoint *dst,
		     uint16_t ip_id, size_t payload_len);

/*
 * The same, given payload_sum = net_sum(payload): the payload is not read. A
 * server that sends the same bytes many times (every client of one boot file)
 * computes each block's sum once.
 */
size_t net_build_udp_summed(uint8_t *frame, const struct net_endpoint *src, const struct net_endpoint *dst,
			    uint16_t ip_id, size_t payload_len, uint16_t payload_sum);

/* RFC 1071 ones-complement sum of len bytes, not complemented. The sum of a
 * buffer is the net_sum_add() of the sums of its pieces, provided every piece
 * but the last has an even length. */
uint16_t net_sum(const void *buf, size_t len);
uint16_t net_sum_add(uint16_t a, uint16_t b);

/* A hash of an IPv4 address (network byte order, so the octet that varies most
 * inside a subnet sits in the top bits): murmur3's finaliser mixes them all down. */
static inline uint32_t net_hash_ip(uint32_t ip)
{
	ip ^= ip >> 16;
	ip *= 0x85ebca6bu;
	ip ^= ip >> 13;
	ip *= 0xc2b2ae35u;
	ip ^= ip >> 16;
	return ip;
}

#endif
