/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net_parse_udp / net_build_udp: one real frame, then one field changed per way a
 * frame can be refused. Every case that must get past the IPv4 checksum to reach
 * the check it targets recomputes that checksum with the test's own RFC 1071
 * implementation, so each case proves exactly one drop reason.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net.h"
#include "support.h"

/*
 * A PXE client's TFTP read request, as iPXE sends it after DHCP:
 *   52:54:00:ab:cd:ef 10.1.0.100:2070 -> 52:54:00:12:34:56 10.1.0.1:69
 *   RRQ "undionly.kpxe" octet, blksize 1432, tsize 0
 *   IPv4 id 0x1c46, DF set, TTL 64.
 * Written byte by byte from the RFC 791/768/1350 layouts; both checksums were
 * computed with RFC 1071 and verified with
 *   tshark -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE
 * which reports "Header checksum status: Good" (0x09fa) and "Checksum Status: Good"
 * (0xe224) for this frame.
 */
static const uint8_t rrq_frame[] = {
	/* Ethernet: dst, src, type IPv4 */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x08, 0x00,
	/* IPv4: 45, tos 0, total 71, id 0x1c46, DF, ttl 64, UDP, csum 0x09fa */
	0x45, 0x00, 0x00, 0x47, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x09, 0xfa,
	0x0a, 0x01, 0x00, 0x64, /* 10.1.0.100 */
	0x0a, 0x01, 0x00, 0x01, /* 10.1.0.1 */
	/* UDP: 2070 -> 69, length 51, csum 0xe224 */
	0x08, 0x16, 0x00, 0x45, 0x00, 0x33, 0xe2, 0x24,
	/* TFTP RRQ */
	0x00, 0x01, 'u', 'n', 'd', 'i', 'o', 'n', 'l', 'y', '.', 'k', 'p', 'x', 'e', 0x00,
	'o', 'c', 't', 'e', 't', 0x00, 'b', 'l', 'k', 's', 'i', 'z', 'e', 0x00,
	'1', '4', '3', '2', 0x00, 't', 's', 'i', 'z', 'e', 0x00, '0', 0x00,
};

#define FRAME_LEN   sizeof(rrq_frame) /* 85 */
#define ETH_LEN     14
#define IP_OFF      ETH_LEN
#define UDP_OFF     (ETH_LEN + 20)
#define PAYLOAD_OFF (UDP_OFF + 8)
#define PAYLOAD_LEN (FRAME_LEN - PAYLOAD_OFF) /* 43 */

/* Offsets of the fields the edge cases change. */
#define OFF_ETHERTYPE  12
#define OFF_VER_IHL    (IP_OFF + 0)
#define OFF_TOTAL_LEN  (IP_OFF + 2)
#define OFF_FRAG       (IP_OFF + 6)
#define OFF_PROTO      (IP_OFF + 9)
#define OFF_IP_CSUM    (IP_OFF + 10)
#define OFF_UDP_LEN    (UDP_OFF + 4)
#define OFF_UDP_CSUM   (UDP_OFF + 6)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 one's complement sum, independent of DPDK's implementation. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void fix_ip_checksum(uint8_t *frame)
{
	size_t ihl = (size_t)(frame[OFF_VER_IHL] & 0xf) * 4;

	put16(frame + OFF_IP_CSUM, 0);
	put16(frame + OFF_IP_CSUM, fold(sum16(frame + IP_OFF, ihl, 0)));
}

static uint16_t udp_checksum(const uint8_t *frame)
{
	size_t udp_len = be16(frame + OFF_UDP_LEN);
	uint32_t sum = sum16(frame + IP_OFF + 12, 8, 0); /* source and destination */

	sum += 17 + (uint32_t)udp_len;
	return fold(sum16(frame + UDP_OFF, udp_len, sum));
}

static void copy_fixture(uint8_t *frame)
{
	memcpy(frame, rrq_frame, FRAME_LEN);
}

static enum net_drop parse(const uint8_t *frame, size_t len)
{
	struct net_udp_datagram d;

	return net_parse_udp(frame, len, &d);
}

static void assert_drop(enum net_drop got, enum net_drop want)
{
	cr_assert(eq(str, (char *)net_drop_name(got), (char *)net_drop_name(want)));
}

Test(net_fixture, checksums_of_the_fixture_are_valid_by_rfc1071)
{
	/* Guards the fixture itself: a typo in the table would make every case lie. */
	cr_assert(eq(u16, fold(sum16(rrq_frame + IP_OFF, 20, 0)), 0));
	cr_assert(eq(u16, udp_checksum(rrq_frame), 0)); /* the sum over a correct datagram */
	{
		uint8_t f[FRAME_LEN];

		copy_fixture(f);
		put16(f + OFF_UDP_CSUM, 0);
		cr_assert(eq(u16, udp_checksum(f), 0xe224));
	}
}

Test(net_parse, real_tftp_rrq_frame_parses_with_exact_fields)
{
	struct net_udp_datagram d;
	const uint8_t client_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	const uint8_t server_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	memset(&d, 0xa5, sizeof(d));
	assert_drop(net_parse_udp(rrq_frame, FRAME_LEN, &d), NET_OK);
	cr_assert(eq(u8[6], d.src.mac, (uint8_t *)client_mac));
	cr_assert(eq(u8[6], d.dst.mac, (uint8_t *)server_mac));
	cr_assert(eq(u8[4], (uint8_t *)&d.src.ip, ((uint8_t[]){ 10, 1, 0, 100 })));
	cr_assert(eq(u8[4], (uint8_t *)&d.dst.ip, ((uint8_t[]){ 10, 1, 0, 1 })));
	cr_assert(eq(u16, d.src.port, 2070));
	cr_assert(eq(u16, d.dst.port, 69));
	cr_assert(eq(ptr, (void *)d.payload, (void *)(rrq_frame + PAYLOAD_OFF)));
	cr_assert(eq(sz, d.payload_len, 43));
	cr_assert(eq(u8[2], (uint8_t *)d.payload, ((uint8_t[]){ 0x00, 0x01 })));
}

Test(net_parse, dont_fragment_flag_alone_is_accepted)
{
	/* The fixture has DF set: only MF and the offset mean "fragment". */
	cr_assert(eq(u8, rrq_frame[OFF_FRAG], 0x40));
	assert_drop(parse(rrq_frame, FRAME_LEN), NET_OK);
}

/* One field changed per case; fix says whether the IPv4 checksum is recomputed so
 * that the parse reaches the check the case is about. */
struct edge_case {
	const char *what;
	size_t offset;
	uint8_t value;
	bool fix_ip;
	enum net_drop want;
};

static const struct edge_case byte_cases[] = {
	{ "EtherType ARP 0x0806", OFF_ETHERTYPE + 1, 0x06, false, NET_DROP_not_ipv4 },
	{ "EtherType IPv6 0x86dd", OFF_ETHERTYPE, 0x86, false, NET_DROP_not_ipv4 },
	{ "EtherType 802.1Q 0x8100", OFF_ETHERTYPE, 0x81, false, NET_DROP_not_ipv4 },
	{ "IP version 6", OFF_VER_IHL, 0x65, true, NET_DROP_bad_ip_header },
	{ "IP version 0", OFF_VER_IHL, 0x05, true, NET_DROP_bad_ip_header },
	{ "IHL 4", OFF_VER_IHL, 0x44, true, NET_DROP_bad_ip_header },
	{ "IHL 0", OFF_VER_IHL, 0x40, true, NET_DROP_bad_ip_header },
	{ "IHL 6 (options)", OFF_VER_IHL, 0x46, false, NET_DROP_ip_options },
	{ "IHL 15 (options)", OFF_VER_IHL, 0x4f, false, NET_DROP_ip_options },
	{ "MF flag", OFF_FRAG, 0x20, true, NET_DROP_ip_fragment },
	{ "MF and DF", OFF_FRAG, 0x60, true, NET_DROP_ip_fragment },
	{ "fragment offset 1", OFF_FRAG + 1, 0x01, true, NET_DROP_ip_fragment },
	{ "fragment offset 0x1000 words", OFF_FRAG, 0x50, true, NET_DROP_ip_fragment },
	{ "IP checksum off by one", OFF_IP_CSUM + 1, 0xfb, false, NET_DROP_bad_ip_checksum },
	{ "IP checksum zero", OFF_IP_CSUM, 0x00, false, NET_DROP_bad_ip_checksum },
	{ "TTL changed without checksum", IP_OFF + 8, 0x3f, false, NET_DROP_bad_ip_checksum },
	{ "protocol TCP", OFF_PROTO, 6, true, NET_DROP_not_udp },
	{ "protocol ICMP", OFF_PROTO, 1, true, NET_DROP_not_udp },
	{ "UDP length 52 (> IP payload)", OFF_UDP_LEN + 1, 52, false, NET_DROP_bad_udp_length },
	{ "UDP length 50 (< IP payload)", OFF_UDP_LEN + 1, 50, false, NET_DROP_bad_udp_length },
	{ "UDP length 7 (< UDP header)", OFF_UDP_LEN + 1, 7, false, NET_DROP_bad_udp_length },
	{ "UDP length 0", OFF_UDP_LEN + 1, 0, false, NET_DROP_bad_udp_length },
	{ "UDP checksum off by one", OFF_UDP_CSUM + 1, 0x25, false, NET_DROP_bad_udp_checksum },
	{ "payload byte changed", PAYLOAD_OFF + 2, 'U', false, NET_DROP_bad_udp_checksum },
	{ "source port changed", UDP_OFF + 1, 0x17, false, NET_DROP_bad_udp_checksum },
};

Test(net_parse, each_changed_field_gives_its_own_drop_reason)
{
	for (size_t i = 0; i < sizeof(byte_cases) / sizeof(byte_cases[0]); i++) {
		const struct edge_case *c = &byte_cases[i];
		uint8_t f[FRAME_LEN];
		enum net_drop got;

		copy_fixture(f);
		f[c->offset] = c->value;
		if (c->fix_ip)
			fix_ip_checksum(f);
		got = parse(f, FRAME_LEN);
		cr_expect(eq(str, (char *)net_drop_name(got), (char *)net_drop_name(c->want)), "case: %s",
			  c->what);
	}
}

Test(net_parse, frame_shorter_than_eth_and_ip_headers_is_short_frame)
{
	assert_drop(parse(rrq_frame, 33), NET_DROP_short_frame);
	assert_drop(parse(rrq_frame, 0), NET_DROP_short_frame);
	/* 34 bytes hold both headers: the next complaint is the length field. */
	assert_drop(parse(rrq_frame, 34), NET_DROP_bad_ip_length);
}

Test(net_parse, ip_total_length_below_header_is_bad_ip_length)
{
	uint8_t f[FRAME_LEN];

	copy_fixture(f);
	put16(f + OFF_TOTAL_LEN, 19);
	fix_ip_checksum(f);
	assert_drop(parse(f, FRAME_LEN), NET_DROP_bad_ip_length);
	put16(f + OFF_TOTAL_LEN, 0);
	fix_ip_checksum(f);
	assert_drop(parse(f, FRAME_LEN), NET_DROP_bad_ip_length);
}

Test(net_parse, ip_total_length_beyond_frame_is_bad_ip_length)
{
	uint8_t f[FRAME_LEN];

	copy_fixture(f);
	put16(f + OFF_TOTAL_LEN, 72); /* one byte more than received */
	fix_ip_checksum(f);
	assert_drop(parse(f, FRAME_LEN), NET_DROP_bad_ip_length);
	put16(f + OFF_TOTAL_LEN, 0xffff);
	fix_ip_checksum(f);
	assert_drop(parse(f, FRAME_LEN), NET_DROP_bad_ip_length);
}

Test(net_parse, ip_payload_too_small_for_udp_header_is_bad_udp_length)
{
	/* Total length 20..27: a valid IPv4 header with no room for UDP's 8 bytes. */
	for (uint16_t total = 20; total < 28; total++) {
		uint8_t f[FRAME_LEN];

		copy_fixture(f);
		put16(f + OFF_TOTAL_LEN, total);
		fix_ip_checksum(f);
		cr_expect(eq(int, parse(f, FRAME_LEN), NET_DROP_bad_udp_length), "total length %u", total);
	}
}

Test(net_parse, udp_checksum_zero_means_none_and_is_accepted)
{
	uint8_t f[FRAME_LEN];
	struct net_udp_datagram d;

	copy_fixture(f);
	put16(f + OFF_UDP_CSUM, 0);
	f[PAYLOAD_OFF + 2] = 'U'; /* would fail any real checksum */
	assert_drop(net_parse_udp(f, FRAME_LEN, &d), NET_OK);
	cr_assert(eq(sz, d.payload_len, PAYLOAD_LEN));
	cr_assert(eq(u8, d.payload[2], 'U'));
}

Test(net_parse, udp_checksum_ffff_stands_for_computed_zero)
{
	/* RFC 768: a computed checksum of 0 is sent as 0xffff. Make the sum come out
	 * as zero by writing the checksum's complement into the first payload word
	 * (at an even offset, so it lands in the sum as one 16-bit word). */
	uint8_t f[FRAME_LEN];

	copy_fixture(f);
	put16(f + OFF_UDP_CSUM, 0);
	put16(f + PAYLOAD_OFF, 0);
	put16(f + PAYLOAD_OFF, udp_checksum(f));
	cr_assert(eq(u16, udp_checksum(f), 0));
	put16(f + OFF_UDP_CSUM, 0xffff);
	assert_drop(parse(f, FRAME_LEN), NET_OK);
}

Test(net_parse, ethernet_padding_beyond_ip_total_length_is_accepted)
{
	uint8_t f[FRAME_LEN + 11];
	struct net_udp_datagram d;

	memcpy(f, rrq_frame, FRAME_LEN);
	memset(f + FRAME_LEN, 0xee, 11); /* padding: not part of the datagram */
	assert_drop(net_parse_udp(f, sizeof(f), &d), NET_OK);
	cr_assert(eq(sz, d.payload_len, PAYLOAD_LEN));
	cr_assert(eq(ptr, (void *)d.payload, (void *)(f + PAYLOAD_OFF)));
}

Test(net_parse, tftp_ack_padded_to_60_byte_minimum_frame_is_accepted)
{
	/* 42 bytes of headers + a 4-byte ACK is below Ethernet's 60-byte minimum: the
	 * NIC pads it with zeros, which must not count as payload. */
	uint8_t f[60] = { 0 };
	struct net_endpoint src = { { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }, 0, 2070 };
	struct net_endpoint dst = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 0, 49152 };
	struct net_udp_datagram d;

	memcpy(&src.ip, (uint8_t[]){ 10, 1, 0, 100 }, 4);
	memcpy(&dst.ip, (uint8_t[]){ 10, 1, 0, 1 }, 4);
	memcpy(f + NET_UDP_HEADERS_LEN, (uint8_t[]){ 0x00, 0x04, 0x00, 0x01 }, 4);
	cr_assert(eq(sz, net_build_udp(f, &src, &dst, 7, 4), 46));
	assert_drop(net_parse_udp(f, sizeof(f), &d), NET_OK);
	cr_assert(eq(sz, d.payload_len, 4));
	cr_assert(eq(u16, d.dst.port, 49152));
}

/*
 * Truncation: every prefix of the frame, placed so that its last byte is the last
 * byte of a readable page and the next page is PROT_NONE. Any read past len
 * faults, so "never crashes" also proves "never over-reads".
 */
Test(net_parse, every_truncation_is_refused_without_reading_past_the_end)
{
	struct guard g;

	guard_open(&g);
	for (size_t len = 0; len <= FRAME_LEN; len++) {
		uint8_t *frame = guard_tail(&g, rrq_frame, len);
		struct net_udp_datagram d;
		enum net_drop got, want;

		got = net_parse_udp(frame, len, &d);
		want = len < 34 ? NET_DROP_short_frame : len < FRAME_LEN ? NET_DROP_bad_ip_length : NET_OK;
		cr_expect(eq(int, got, want), "len %zu: got %s", len, net_drop_name(got));
	}
	guard_close(&g);
}

/* What net_build_udp must write for the fixture's datagram: the fixture itself
 * with DF cleared (the builder sets no flags), hence IP checksum 0x49fa (recomputed
 * with RFC 1071 and verified with tshark like the fixture); the UDP checksum does
 * not cover the IP flags and stays 0xe224. */
static const uint8_t built_headers[NET_UDP_HEADERS_LEN] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x47, 0x1c, 0x46, 0x00, 0x00, 0x40, 0x11, 0x49, 0xfa,
	0x0a, 0x01, 0x00, 0x64, 0x0a, 0x01, 0x00, 0x01,
	0x08, 0x16, 0x00, 0x45, 0x00, 0x33, 0xe2, 0x24,
};

static void fixture_endpoints(struct net_endpoint *src, struct net_endpoint *dst)
{
	*src = (struct net_endpoint){ { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }, 0, 2070 };
	*dst = (struct net_endpoint){ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 0, 69 };
	memcpy(&src->ip, rrq_frame + IP_OFF + 12, 4);
	memcpy(&dst->ip, rrq_frame + IP_OFF + 16, 4);
}

Test(net_build, writes_exact_headers_and_checksums)
{
	uint8_t f[FRAME_LEN];
	struct net_endpoint src, dst;

	memset(f, 0xcc, sizeof(f));
	memcpy(f + PAYLOAD_OFF, rrq_frame + PAYLOAD_OFF, PAYLOAD_LEN);
	fixture_endpoints(&src, &dst);
	cr_assert(eq(sz, net_build_udp(f, &src, &dst, 0x1c46, PAYLOAD_LEN), FRAME_LEN));
	cr_assert(eq(u8[NET_UDP_HEADERS_LEN], f, (uint8_t *)built_headers));
	cr_assert(eq(u8[PAYLOAD_LEN], f + PAYLOAD_OFF, (uint8_t *)rrq_frame + PAYLOAD_OFF),
		  "the payload must be left untouched");
}

Test(net_build, round_trip_build_then_parse_gives_back_endpoints_and_payload)
{
	uint8_t f[NET_UDP_HEADERS_LEN + 512];
	struct net_endpoint src = { { 2, 0, 0, 0, 0, 1 }, 0, 49153 };
	struct net_endpoint dst = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 0xffffffff, 68 };
	struct net_udp_datagram d;

	memcpy(&src.ip, (uint8_t[]){ 192, 168, 7, 1 }, 4);
	for (size_t i = 0; i < 512; i++)
		f[NET_UDP_HEADERS_LEN + i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= 512; len += 73) {
		memset(&d, 0, sizeof(d));
		cr_assert(eq(sz, net_build_udp(f, &src, &dst, (uint16_t)len, len), NET_UDP_HEADERS_LEN + len));
		assert_drop(net_parse_udp(f, NET_UDP_HEADERS_LEN + len, &d), NET_OK);
		cr_assert(eq(u8[6], d.src.mac, src.mac));
		cr_assert(eq(u8[6], d.dst.mac, dst.mac));
		cr_assert(eq(u32, d.src.ip, src.ip));
		cr_assert(eq(u32, d.dst.ip, dst.ip));
		cr_assert(eq(u16, d.src.port, 49153));
		cr_assert(eq(u16, d.dst.port, 68));
		cr_assert(eq(sz, d.payload_len, len));
		cr_assert(eq(ptr, (void *)d.payload, (void *)(f + NET_UDP_HEADERS_LEN)));
		/* Independent check of both checksums. */
		cr_assert(eq(u16, fold(sum16(f + IP_OFF, 20, 0)), 0), "IP checksum, payload %zu", len);
		{
			uint16_t wire = be16(f + OFF_UDP_CSUM);

			put16(f + OFF_UDP_CSUM, 0);
			cr_assert(eq(u16, wire, udp_checksum(f) ? udp_checksum(f) : 0xffff), "payload %zu", len);
			put16(f + OFF_UDP_CSUM, wire);
		}
	}
}

Test(net_build, computed_udp_checksum_zero_is_sent_as_ffff)
{
	uint8_t f[NET_UDP_HEADERS_LEN + 4];
	struct net_endpoint src, dst;
	uint16_t c;

	fixture_endpoints(&src, &dst);
	memset(f + NET_UDP_HEADERS_LEN, 0, 4);
	net_build_udp(f, &src, &dst, 1, 4);
	/* Put the complement of the sum into the payload: the sum becomes 0xffff. */
	c = be16(f + OFF_UDP_CSUM);
	put16(f + NET_UDP_HEADERS_LEN, c);
	net_build_udp(f, &src, &dst, 1, 4);
	cr_assert(eq(u16, be16(f + OFF_UDP_CSUM), 0xffff));
	assert_drop(parse(f, sizeof(f)), NET_OK);
}

Test(net_drop_name, names_every_reason_and_survives_out_of_range)
{
	static const char *const want[NET_DROP_COUNT] = {
		"ok", "short_frame", "not_ipv4", "bad_ip_header", "ip_options", "bad_ip_length",
		"ip_fragment", "bad_ip_checksum", "not_udp", "bad_udp_length", "bad_udp_checksum",
		"not_for_us", "no_handler",
	};

	for (int i = 0; i < NET_DROP_COUNT; i++)
		cr_expect(eq(str, (char *)net_drop_name((enum net_drop)i), (char *)want[i]));
	cr_assert(eq(str, (char *)net_drop_name(NET_DROP_COUNT), "unknown"));
	cr_assert(eq(str, (char *)net_drop_name((enum net_drop)-1), "unknown"));
}

/* A frame built from a precomputed payload sum is byte-for-byte the frame built
 * by summing the payload, for even and odd payload lengths (an odd one is
 * padded with a zero byte, RFC 1071). */
Test(net_build, summed_build_equals_full_build)
{
	const struct net_endpoint a = { { 2, 0, 0, 0, 0, 1 }, 0x0100000a, 69 };
	const struct net_endpoint b = { { 2, 0, 0, 0, 0, 2 }, 0x0200000a, 2070 };

	for (size_t len = 0; len < 300; len += 37) {
		uint8_t one[NET_UDP_HEADERS_LEN + 300], two[NET_UDP_HEADERS_LEN + 300];

		for (size_t i = 0; i < len; i++)
			one[NET_UDP_HEADERS_LEN + i] = two[NET_UDP_HEADERS_LEN + i] = (uint8_t)(i * 31 + 7);
		net_build_udp(one, &a, &b, 9, len);
		net_build_udp_summed(two, &a, &b, 9, len, net_sum(two + NET_UDP_HEADERS_LEN, len));
		cr_assert(eq(int, memcmp(one, two, NET_UDP_HEADERS_LEN + len), 0), "payload length %zu", len);
	}
}

Test(net_sum, sums_of_even_pieces_add_up)
{
	uint8_t buf[101];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xF0 ^ i * 13);
	cr_expect(eq(u16, net_sum_add(net_sum(buf, 4), net_sum(buf + 4, 97)), net_sum(buf, 101)));
	cr_expect(eq(u16, net_sum_add(net_sum(buf, 50), net_sum(buf + 50, 51)), net_sum(buf, 101)));
}
