/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet/IPv4/UDP parsing (dataplane/net.c): any bytes as a received frame.
 *
 * Invariants beyond "no crash, no read outside the frame":
 * - the payload lies inside the frame, after the 42 bytes of headers;
 * - a frame the checked parser accepts, the unchecked one accepts the same way;
 * - what is accepted survives a round trip: the same endpoints and payload
 *   rebuilt with net_build_udp() parse back to themselves, checksums included.
 * Seeds: every frame of the captures in tests/unit/captures/ (real firmware DHCP).
 */
#include "fuzz.h"

#include "net.h"

#define MAX_FRAME 65536

static bool same_endpoint(const struct net_endpoint *a, const struct net_endpoint *b)
{
	return !memcmp(a->mac, b->mac, NET_ETH_ALEN) && a->ip == b->ip && a->port == b->port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rebuilt[NET_UDP_HEADERS_LEN + MAX_FRAME];
	struct net_udp_datagram d, u, back;
	enum net_drop r, ru;

	if (size > MAX_FRAME)
		return 0;
	r = net_parse_udp(data, size, &d);
	ru = net_parse_udp_unchecked(data, size, &u);
	FUZZ_CHECK(r < NET_DROP_COUNT && ru < NET_DROP_COUNT, "drop reason out of range: %d, %d", r, ru);
	FUZZ_CHECK(strcmp(net_drop_name(r), "unknown") != 0, "drop reason %d has no name", r);
	if (r == NET_DROP_bad_udp_checksum)
		FUZZ_CHECK(ru == NET_OK, "a frame refused only for its UDP checksum is refused unchecked: %s",
			   net_drop_name(ru));
	else
		FUZZ_CHECK(r == ru, "checked %s, unchecked %s", net_drop_name(r), net_drop_name(ru));
	if (r != NET_OK)
		return 0;

	FUZZ_CHECK(d.payload == data + NET_UDP_HEADERS_LEN, "payload at offset %td", d.payload - data);
	FUZZ_CHECK(d.payload_len <= size - NET_UDP_HEADERS_LEN, "payload of %zu bytes in a frame of %zu",
		   d.payload_len, size);
	FUZZ_CHECK(same_endpoint(&d.src, &u.src) && same_endpoint(&d.dst, &u.dst) && d.payload_len == u.payload_len,
		   "checked and unchecked parses disagree");

	memcpy(rebuilt + NET_UDP_HEADERS_LEN, d.payload, d.payload_len);
	FUZZ_CHECK(net_build_udp(rebuilt, &d.src, &d.dst, 1, d.payload_len) == NET_UDP_HEADERS_LEN + d.payload_len,
		   "built length");
	r = net_parse_udp(rebuilt, NET_UDP_HEADERS_LEN + d.payload_len, &back);
	FUZZ_CHECK(r == NET_OK, "a rebuilt frame is refused: %s", net_drop_name(r));
	FUZZ_CHECK(same_endpoint(&back.src, &d.src) && same_endpoint(&back.dst, &d.dst), "endpoints changed");
	FUZZ_CHECK(back.payload_len == d.payload_len && !memcmp(back.payload, d.payload, d.payload_len),
		   "payload changed");
	return 0;
}
