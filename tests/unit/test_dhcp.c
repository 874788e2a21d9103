/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyDHCP wire format: dhcp_parse() (RFC 2131/2132, RFC 3396 first-wins),
 * dhcp_pxe_client() (PXE 2.1, RFC 4578, RFC 3004, iPXE's option 175) and
 * dhcp_build_proxy_reply(), whose output is decoded again with dhcp_parse().
 *
 * Fixture provenance:
 * (a) ipxe_bios_discover and (b) ovmf_discover are real bytes, the UDP payloads
 *     of the first DHCPDISCOVER captured here with QEMU's filter-dump:
 *     (a) SeaBIOS + QEMU's iPXE ROM (virtio-net, -uuid 8a1f3c2e-...),
 *     (b) OVMF_CODE_4M.fd's own EDK2 PXE (virtio-net with romfile= so no iPXE
 *         ROM, -uuid 5d3c2b1a-...). Note EDK2 sends UNDI 3.0 ("...:003000").
 * (c) ovmf_request_4011 is reconstructed: (b)'s options as EDK2's
 *     PxeBcDhcp4Discover sends them to a boot server (PXE 2.1 §2.2.4), with
 *     ciaddr set, option 53 REQUEST and option 43 carrying the boot item (71).
 * (d) dhclient_discover is reconstructed from ISC dhclient's defaults
 *     (53, 50, 12, 55; padded to 300 bytes as dhclient does).
 * (e) the relayed DISCOVER is (b) as a relay agent forwards it (RFC 1542
 *     §4.1.1: hops 1, giaddr set), built from (b) by relayed_discover().
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"
#include "dhcp_fixtures.h"
#include "support.h"

#define COUNT(a)        (sizeof(a) / sizeof((a)[0]))


#define MAX_PACKET 1500

/* (e) (b) as forwarded by a relay agent at 10.1.2.1. */
static size_t relayed_discover(uint8_t *buf)
{
	memcpy(buf, ovmf_discover, sizeof(ovmf_discover));
	buf[3] = 1;                                                 /* hops */
	memcpy(buf + 24, (const uint8_t[]){ 0x0a, 0x01, 0x02, 0x01 }, 4); /* giaddr */
	return sizeof(ovmf_discover);
}

/* (b)'s header and cookie followed by the given option bytes. */
static size_t with_options(uint8_t *buf, const uint8_t *opts, size_t n)
{
	cr_assert(le(sz, DHCP_OPTIONS_OFFSET + n, MAX_PACKET));
	memcpy(buf, ovmf_discover, DHCP_OPTIONS_OFFSET);
	memcpy(buf + DHCP_OPTIONS_OFFSET, opts, n);
	return DHCP_OPTIONS_OFFSET + n;
}

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define WITH(buf, ...) with_options(buf, BYTES(__VA_ARGS__))

static int parse(const uint8_t *buf, size_t len, struct dhcp_message *m, const char **why)
{
	*why = NULL;
	return dhcp_parse(buf, len, m, why);
}

static void parse_ok(const uint8_t *buf, size_t len, struct dhcp_message *m)
{
	const char *why = NULL;
	int r = dhcp_parse(buf, len, m, &why);

	cr_assert(eq(int, r, 0), "dhcp_parse: %s", why ? why : "");
}

static void classify_ok(const uint8_t *buf, size_t len, struct pxe_client *c)
{
	static struct dhcp_message m;

	parse_ok(buf, len, &m);
	cr_assert(eq(int, dhcp_pxe_client(&m, c), 0));
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert(eq(int, inet_pton(AF_INET, s, &a), 1));
	return a.s_addr;
}

/* The option's bytes equal want (n bytes) exactly. */
static void expect_option(const struct dhcp_message *m, uint8_t code, const void *want, size_t n)
{
	const struct dhcp_option *o = dhcp_option(m, code);

	cr_assert(not(eq(ptr, (void *)o, NULL)), "option %u missing", code);
	cr_assert(eq(sz, o->len, n), "option %u length", code);
	cr_assert(eq(int, memcmp(o->data, want, n), 0), "option %u bytes", code);
}

#define EXPECT_OPTION(m, code, ...) expect_option(m, code, BYTES(__VA_ARGS__))
#define EXPECT_OPTION_STR(m, code, s) expect_option(m, code, s, strlen(s))

/* ---- dhcp_parse: the fixtures ----------------------------------------------- */

Test(dhcp_parse, ovmf_discover_header_and_options)
{
	struct dhcp_message m;

	parse_ok(ovmf_discover, sizeof(ovmf_discover), &m);
	cr_assert(eq(u8, m.op, DHCP_BOOTREQUEST));
	cr_assert(eq(u8, m.htype, 1));
	cr_assert(eq(u8, m.hlen, 6));
	cr_assert(eq(u8, m.hops, 0));
	cr_assert(eq(u32, m.xid, 0x3d19a592));
	cr_assert(eq(u16, m.secs, 0));
	cr_assert(eq(u16, m.flags, DHCP_FLAG_BROADCAST));
	cr_assert(eq(u32, m.ciaddr | m.yiaddr | m.siaddr | m.giaddr, 0));
	cr_assert(eq(u8[6], m.chaddr, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x65, 0x43, 0x21 })));
	cr_assert(eq(ptr, (void *)m.sname, (void *)(ovmf_discover + 44)));
	cr_assert(eq(ptr, (void *)m.file, (void *)(ovmf_discover + 108)));
	cr_assert(eq(u8, m.overload, 0));

	EXPECT_OPTION(&m, DHCP_OPT_MSG_TYPE, DHCP_DISCOVER);
	EXPECT_OPTION(&m, 57, 0x05, 0xc0);
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_ARCH, 0x00, 0x07);
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_NDI, 0x01, 0x03, 0x00);
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003000");
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_UUID, 0x00, 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d, 0xb7, 0xa6,
		      0x95, 0x84, 0x73, 0x62, 0x51, 0x40);
	cr_assert(eq(sz, m.options[DHCP_OPT_PARAM_REQUEST].len, 35));
	cr_assert(eq(ptr, (void *)m.options[DHCP_OPT_MSG_TYPE].data, (void *)(ovmf_discover + 242)),
		  "option data points into the packet");

	/* Exactly the seven options sent, nothing else. */
	unsigned n = 0;
	for (unsigned code = 0; code < 256; code++)
		n += m.options[code].present;
	cr_assert(eq(u32, n, 7));
	cr_assert(not(m.options[0].present || m.options[255].present));
}

Test(dhcp_parse, ipxe_discover_options)
{
	struct dhcp_message m;

	parse_ok(ipxe_bios_discover, sizeof(ipxe_bios_discover), &m);
	cr_assert(eq(u32, m.xid, 0xaf70d002));
	cr_assert(eq(u16, m.secs, 4));
	cr_assert(eq(u16, m.flags, 0));
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_ARCH, 0x00, 0x00);
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_NDI, 0x01, 0x02, 0x01);
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001");
	EXPECT_OPTION_STR(&m, DHCP_OPT_USER_CLASS, "iPXE");
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_ID, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
	cr_assert(eq(sz, m.options[DHCP_OPT_IPXE_ENCAP].len, 48));
	cr_assert(eq(sz, m.options[DHCP_OPT_CLIENT_UUID].len, 17));
}

Test(dhcp_parse, dhclient_discover_with_trailing_padding)
{
	struct dhcp_message m;

	cr_assert(eq(sz, sizeof(dhclient_discover), 300));
	parse_ok(dhclient_discover, sizeof(dhclient_discover), &m);
	EXPECT_OPTION(&m, DHCP_OPT_REQUESTED_IP, 0xc0, 0xa8, 0x01, 0x32);
	EXPECT_OPTION_STR(&m, 12, "debian");
	cr_assert(not(m.options[DHCP_OPT_VENDOR_CLASS].present));
}

Test(dhcp_parse, relayed_discover_keeps_giaddr_and_hops)
{
	uint8_t buf[MAX_PACKET];
	size_t len = relayed_discover(buf);
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	cr_assert(eq(u8, m.hops, 1));
	cr_assert(eq(u32, m.giaddr, ip("10.1.2.1")));
}

/* ---- dhcp_parse: every truncation, against a PROT_NONE page ------------------ */

/* Walks a well-formed fixture: does a prefix of len bytes end between two
 * options (or anywhere after the end option)? */
static bool ends_between_options(const uint8_t *p, size_t len)
{
	size_t pos = DHCP_OPTIONS_OFFSET;

	while (pos < len) {
		if (p[pos] == DHCP_OPT_END)
			return true;
		pos += p[pos] == DHCP_OPT_PAD ? 1 : 2 + (size_t)p[pos + 1];
	}
	return pos == len;
}

/* Every option of the fixture whose bytes all lie in the prefix is present,
 * and no other. */
static void expect_options_of_prefix(const uint8_t *p, size_t full, size_t len, const struct dhcp_message *m)
{
	size_t pos = DHCP_OPTIONS_OFFSET;

	while (pos < full && p[pos] != DHCP_OPT_END) {
		size_t end;

		if (p[pos] == DHCP_OPT_PAD) {
			pos++;
			continue;
		}
		end = pos + 2 + p[pos + 1];
		cr_expect(eq(int, m->options[p[pos]].present, end <= len), "len %zu: option %u", len, p[pos]);
		pos = end;
	}
}

static void every_truncation(const uint8_t *full, size_t full_len)
{
	struct guard g;

	guard_open(&g);
	for (size_t len = 0; len <= full_len; len++) {
		const uint8_t *p = guard_tail(&g, full, len);
		struct dhcp_message m;
		const char *why;
		int r = parse(p, len, &m, &why);

		if (len >= DHCP_OPTIONS_OFFSET && ends_between_options(full, len)) {
			cr_expect(eq(int, r, 0), "len %zu: %s", len, why ? why : "");
			if (r == 0)
				expect_options_of_prefix(full, full_len, len, &m);
		} else {
			cr_expect(eq(int, r, -EBADMSG), "len %zu", len);
			cr_expect(not(eq(ptr, (void *)why, NULL)), "len %zu: no reason", len);
		}
	}
	guard_close(&g);
}

Test(dhcp_parse, every_truncation_of_each_fixture_is_safe)
{
	uint8_t relayed[MAX_PACKET];
	size_t relayed_len = relayed_discover(relayed);

	every_truncation(ipxe_bios_discover, sizeof(ipxe_bios_discover));
	every_truncation(ovmf_discover, sizeof(ovmf_discover));
	every_truncation(ovmf_request_4011, sizeof(ovmf_request_4011));
	every_truncation(dhclient_discover, sizeof(dhclient_discover));
	every_truncation(relayed, relayed_len);
}

Test(dhcp_parse, truncated_header_reason)
{
	struct dhcp_message m;
	const char *why;

	cr_assert(eq(int, parse(ovmf_discover, 0, &m, &why), -EBADMSG));
	cr_assert(eq(str, (char *)why, "malformed DHCP message: truncated header"));
	cr_assert(eq(int, parse(ovmf_discover, DHCP_OPTIONS_OFFSET - 1, &m, &why), -EBADMSG));
	cr_assert(eq(str, (char *)why, "malformed DHCP message: truncated header"));
	cr_assert(eq(int, parse(ovmf_discover, DHCP_OPTIONS_OFFSET, &m, &why), 0), "no options at all is fine");
}

/* ---- dhcp_parse: malformed and edge cases ----------------------------------- */

#define PAST_END "malformed DHCP message: option runs past the end"
#define NO_LENGTH "malformed DHCP message: option length missing"

Test(dhcp_parse, option_length_past_the_end_is_refused)
{
	static const struct {
		const char *what;
		uint8_t opts[8];
		size_t n;
		const char *why;
	} cases[] = {
		{ "length 32, 3 bytes left", { 0x35, 0x01, 0x01, 0x3c, 0x20, 'P', 'X', 'E' }, 8, PAST_END },
		{ "length 1, nothing left", { 0x35, 0x01 }, 2, PAST_END },
		{ "length 255, 1 byte left", { 0x2b, 0xff, 0x06 }, 3, PAST_END },
		{ "code without length", { 0x35, 0x01, 0x01, 0x3c }, 4, NO_LENGTH },
		{ "code without length after pads", { 0x00, 0x00, 0x61 }, 3, NO_LENGTH },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t buf[MAX_PACKET];
		size_t len = with_options(buf, cases[i].opts, cases[i].n);
		struct dhcp_message m;
		const char *why;

		cr_expect(eq(int, parse(buf, len, &m, &why), -EBADMSG), "%s", cases[i].what);
		cr_expect(eq(str, (char *)(why ? why : "(null)"), (char *)cases[i].why), "%s", cases[i].what);
	}
}

Test(dhcp_parse, missing_or_wrong_cookie_is_not_dhcp)
{
	static const uint8_t cookies[][4] = {
		{ 0x00, 0x00, 0x00, 0x00 }, { 0x63, 0x53, 0x82, 0x63 }, { 0x63, 0x82, 0x53, 0x64 },
	};

	for (size_t i = 0; i < COUNT(cookies); i++) {
		uint8_t buf[MAX_PACKET];
		struct dhcp_message m;
		const char *why;

		memcpy(buf, ovmf_discover, sizeof(ovmf_discover));
		memcpy(buf + DHCP_HEADER_LEN, cookies[i], 4);
		cr_expect(eq(int, parse(buf, sizeof(ovmf_discover), &m, &why), -EBADMSG), "cookie %zu", i);
		cr_expect(eq(str, (char *)(why ? why : "(null)"), "not DHCP: no magic cookie"));
	}
}

Test(dhcp_parse, hlen_up_to_16_only)
{
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;
	const char *why;

	memcpy(buf, ovmf_discover, sizeof(ovmf_discover));
	buf[2] = 16;
	cr_assert(eq(int, parse(buf, sizeof(ovmf_discover), &m, &why), 0));
	cr_assert(eq(u8, m.hlen, 16));
	buf[2] = 17;
	cr_assert(eq(int, parse(buf, sizeof(ovmf_discover), &m, &why), -EBADMSG));
	cr_assert(eq(str, (char *)why, "malformed DHCP message: hardware address longer than 16 bytes"));
	buf[2] = 255;
	cr_assert(eq(int, parse(buf, sizeof(ovmf_discover), &m, &why), -EBADMSG));
}

Test(dhcp_parse, op_must_be_request_or_reply)
{
	static const uint8_t ops[] = { 0, 3, 255 };

	for (size_t i = 0; i < COUNT(ops); i++) {
		uint8_t buf[MAX_PACKET];
		struct dhcp_message m;
		const char *why;

		memcpy(buf, ovmf_discover, sizeof(ovmf_discover));
		buf[0] = ops[i];
		cr_expect(eq(int, parse(buf, sizeof(ovmf_discover), &m, &why), -EBADMSG), "op %u", ops[i]);
		cr_expect(eq(str, (char *)(why ? why : "(null)"),
			     "malformed DHCP message: op is neither BOOTREQUEST nor BOOTREPLY"));
	}
}

/* Decision: the end of the buffer stands for the end option. */
Test(dhcp_parse, missing_end_option_is_accepted)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x35, 0x01, 0x01, 0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't');
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	EXPECT_OPTION(&m, DHCP_OPT_MSG_TYPE, 0x01);
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "PXEClient");
}

Test(dhcp_parse, bytes_after_end_are_ignored_even_if_garbage)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x35, 0x01, 0x01, 0xff, 0x3c, 0xff, 0x61);
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	cr_assert(m.options[DHCP_OPT_MSG_TYPE].present);
	cr_assert(not(m.options[DHCP_OPT_VENDOR_CLASS].present));
}

Test(dhcp_parse, pad_runs_anywhere)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x00, 0x00, 0x00, 0x00, 0x35, 0x01, 0x01, 0x00, 0x00, 0x5d, 0x02, 0x00, 0x07, 0x00,
			  0x00, 0x00, 0xff, 0x00, 0x00);
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	EXPECT_OPTION(&m, DHCP_OPT_MSG_TYPE, 0x01);
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_ARCH, 0x00, 0x07);

	uint8_t only_pads[64] = { 0 };
	len = with_options(buf, only_pads, sizeof(only_pads));
	parse_ok(buf, len, &m);
	for (unsigned code = 0; code < 256; code++)
		cr_expect(not(m.options[code].present), "option %u", code);
}

Test(dhcp_parse, pad_and_end_bytes_inside_option_data_are_data)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x2b, 0x03, 0xff, 0x00, 0xff, 0x35, 0x01, 0x01, 0xff);
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	EXPECT_OPTION(&m, DHCP_OPT_VENDOR_ENCAP, 0xff, 0x00, 0xff);
	EXPECT_OPTION(&m, DHCP_OPT_MSG_TYPE, 0x01);
}

Test(dhcp_parse, zero_length_option_is_present_and_empty)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x35, 0x01, 0x01, 0xaf, 0x00);
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	cr_assert(m.options[DHCP_OPT_IPXE_ENCAP].present);
	cr_assert(eq(u8, m.options[DHCP_OPT_IPXE_ENCAP].len, 0));
}

/* Decision: first occurrence wins; no RFC 3396 concatenation. */
Test(dhcp_parse, repeated_option_keeps_the_first)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x3c, 0x03, 'a', 'b', 'c', 0x35, 0x01, 0x01, 0x3c, 0x03, 'x', 'y', 'z', 0xff);
	struct dhcp_message m;

	parse_ok(buf, len, &m);
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "abc");
}

/* RFC 2132 §9.3: with option 52, file then sname carry more options. */
Test(dhcp_parse, overloaded_file_and_sname_are_walked)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x35, 0x01, 0x01, 0x34, 0x01, 0x03, 0xff);
	struct dhcp_message m;

	memcpy(buf + 108, BYTES(0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 0xff));
	memcpy(buf + 44, BYTES(0x00, 0x5d, 0x02, 0x00, 0x0b, 0x3c, 0x01, 'x')); /* no end: field end */
	parse_ok(buf, len, &m);
	cr_assert(eq(u8, m.overload, 3));
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "PXEClient"); /* file before sname: first wins */
	EXPECT_OPTION(&m, DHCP_OPT_CLIENT_ARCH, 0x00, 0x0b);
	cr_assert(eq(ptr, (void *)m.options[DHCP_OPT_VENDOR_CLASS].data, (void *)(buf + 110)));

	/* Only file overloaded: sname is a name, its bytes are not options. */
	buf[DHCP_OPTIONS_OFFSET + 5] = DHCP_OVERLOAD_FILE;
	parse_ok(buf, len, &m);
	cr_assert(eq(u8, m.overload, 1));
	cr_assert(not(m.options[DHCP_OPT_CLIENT_ARCH].present));

	/* Without option 52 the fields are never walked. */
	len = WITH(buf, 0x35, 0x01, 0x01, 0xff);
	parse_ok(buf, len, &m);
	cr_assert(eq(u8, m.overload, 0));
	cr_assert(not(m.options[DHCP_OPT_VENDOR_CLASS].present));
}

Test(dhcp_parse, overloaded_field_is_bounded_by_its_own_size)
{
	uint8_t buf[MAX_PACKET];
	size_t len = WITH(buf, 0x35, 0x01, 0x01, 0x34, 0x01, 0x02, 0xff);
	struct dhcp_message m;
	const char *why;

	/* An option at the end of sname whose length reaches into file. */
	memset(buf + 44, 0, 64);
	buf[44 + 60] = 0x3c;
	buf[44 + 61] = 0x04;
	cr_assert(eq(int, parse(buf, len, &m, &why), -EBADMSG));
	cr_assert(eq(str, (char *)why, PAST_END));
	buf[44 + 61] = 0x02;
	cr_assert(eq(int, parse(buf, len, &m, &why), 0));
	buf[44 + 63] = 0x3c; /* a code in the last byte of sname */
	buf[44 + 61] = 0x01;
	cr_assert(eq(int, parse(buf, len, &m, &why), -EBADMSG));
	cr_assert(eq(str, (char *)why, NO_LENGTH));
}

Test(dhcp_parse, malformed_option_52_is_refused)
{
	static const uint8_t bad[][5] = {
		{ 0x34, 0x01, 0x00, 0xff }, { 0x34, 0x01, 0x04, 0xff }, { 0x34, 0x02, 0x01, 0x01, 0xff },
		{ 0x34, 0x00, 0xff },
	};

	for (size_t i = 0; i < COUNT(bad); i++) {
		uint8_t buf[MAX_PACKET];
		size_t len = with_options(buf, bad[i], sizeof(bad[i]));
		struct dhcp_message m;
		const char *why;

		cr_expect(eq(int, parse(buf, len, &m, &why), -EBADMSG), "case %zu", i);
		cr_expect(eq(str, (char *)(why ? why : "(null)"),
			     "malformed DHCP message: option 52 must be one byte, 1 to 3"));
	}
}

/* ---- dhcp_pxe_client ----------------------------------------------------------- */

Test(dhcp_pxe_client, ipxe_bios_is_ipxe_by_175_and_user_class)
{
	struct pxe_client c;

	classify_ok(ipxe_bios_discover, sizeof(ipxe_bios_discover), &c);
	cr_assert(eq(int, c.msg_type, DHCP_DISCOVER));
	cr_assert(not(c.http));
	cr_assert(eq(int, c.arch, PXE_ARCH_BIOS));
	cr_assert(eq(u16, c.arch_code, 0));
	cr_assert(eq(u8, c.arch_from, DHCP_OPT_CLIENT_ARCH));
	cr_assert(c.has_undi);
	cr_assert(eq(u8, c.undi_major, 2));
	cr_assert(eq(u8, c.undi_minor, 1));
	cr_assert(c.ipxe && c.ipxe_by_175 && c.ipxe_by_user_class);
	cr_assert(c.has_mac);
	cr_assert(eq(u8[6], c.mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 })));
	cr_assert(c.guid_valid);
	cr_assert(eq(u8, c.uuid_len, 17));
	cr_assert(eq(ptr, (void *)c.uuid, (void *)(ipxe_bios_discover + 382)));
	cr_assert(not(c.relayed || c.broadcast || c.has_boot_item));
	cr_assert(eq(u32, c.xid, 0xaf70d002));
}

Test(dhcp_pxe_client, ovmf_discover_is_uefi_x64_not_ipxe)
{
	struct pxe_client c;
	static const uint8_t guid[16] = { 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d,
					  0xb7, 0xa6, 0x95, 0x84, 0x73, 0x62, 0x51, 0x40 };

	classify_ok(ovmf_discover, sizeof(ovmf_discover), &c);
	cr_assert(eq(int, c.msg_type, DHCP_DISCOVER));
	cr_assert(eq(int, c.arch, PXE_ARCH_EFI_X64));
	cr_assert(eq(u16, c.arch_code, 7));
	cr_assert(eq(u8, c.arch_from, DHCP_OPT_CLIENT_ARCH));
	cr_assert(eq(str, (char *)pxe_arch_name(c.arch), "efi-x64"));
	cr_assert(c.has_undi && c.undi_major == 3 && c.undi_minor == 0);
	cr_assert(c.guid_valid);
	cr_assert(eq(u8, c.uuid[0], 0));
	cr_assert(eq(u8[16], (uint8_t *)c.uuid + 1, (uint8_t *)guid));
	cr_assert(not(c.ipxe || c.ipxe_by_175 || c.ipxe_by_user_class));
	cr_assert(c.broadcast);
	cr_assert(not(c.relayed));
	cr_assert(eq(u32, c.giaddr, 0));
}

Test(dhcp_pxe_client, ovmf_request_on_4011_asks_for_boot_item)
{
	struct pxe_client c;

	classify_ok(ovmf_request_4011, sizeof(ovmf_request_4011), &c);
	cr_assert(eq(int, c.msg_type, DHCP_REQUEST));
	cr_assert(eq(int, c.arch, PXE_ARCH_EFI_X64));
	cr_assert(c.has_boot_item);
	cr_assert(eq(u16, c.boot_item_type, 0x8001));
	cr_assert(eq(u16, c.boot_item_layer, 0));
	cr_assert(not(c.broadcast));
}

Test(dhcp_pxe_client, relayed_discover)
{
	uint8_t buf[MAX_PACKET];
	size_t len = relayed_discover(buf);
	struct pxe_client c;

	classify_ok(buf, len, &c);
	cr_assert(c.relayed);
	cr_assert(eq(u32, c.giaddr, ip("10.1.2.1")));
}

Test(dhcp_pxe_client, plain_dhcp_clients_are_enoent)
{
	static const char *const classes[] = { "MSFT 5.0", "PXECli", "pxeclient", "android-dhcp-13", "HTTPClien",
					       " PXEClient" };
	struct dhcp_message m;

	parse_ok(dhclient_discover, sizeof(dhclient_discover), &m);
	struct pxe_client c;
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), -ENOENT), "no option 60");

	for (size_t i = 0; i < COUNT(classes); i++) {
		uint8_t buf[MAX_PACKET], opts[64] = { 0x35, 0x01, 0x01, 0x3c };
		size_t n = strlen(classes[i]);

		opts[4] = (uint8_t)n;
		memcpy(opts + 5, classes[i], n);
		opts[5 + n] = 0xff;
		parse_ok(buf, with_options(buf, opts, 6 + n), &m);
		cr_expect(eq(int, dhcp_pxe_client(&m, &c), -ENOENT), "vendor class \"%s\"", classes[i]);
	}
}

Test(dhcp_pxe_client, pxe_client_without_message_type_is_ebadmsg)
{
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;
	struct pxe_client c;

	parse_ok(buf, WITH(buf, 0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 0xff), &m);
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), -EBADMSG));
	parse_ok(buf, WITH(buf, 0x35, 0x00, 0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 0xff), &m);
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), -EBADMSG), "option 53 of length 0");
}

/* Option 93 missing or unusable: the Arch field of option 60 decides. */
Test(dhcp_pxe_client, arch_falls_back_to_option_60)
{
	static const struct {
		const char *vendor_class;
		uint8_t opt93[4];
		uint8_t opt93_len; /* 0xff: no option 93 */
		uint8_t from;
		uint16_t code;
		enum pxe_arch arch;
	} cases[] = {
		{ "PXEClient:Arch:00007:UNDI:003000", { 0 }, 0xff, 60, 7, PXE_ARCH_EFI_X64 },
		{ "PXEClient:Arch:00000:UNDI:002001", { 0 }, 0xff, 60, 0, PXE_ARCH_BIOS },
		{ "PXEClient:Arch:00011", { 0 }, 0xff, 60, 11, PXE_ARCH_EFI_ARM64 },
		{ "PXEClient:Arch:00009:UNDI:003016", { 0 }, 0xff, 60, 9, PXE_ARCH_EFI_X64 },
		{ "PXEClient:Arch:00025:UNDI:003000", { 0 }, 0xff, 60, 25, PXE_ARCH_UNKNOWN },
		{ "HTTPClient:Arch:00016:UNDI:003000", { 0 }, 0xff, 60, 16, PXE_ARCH_EFI_X64_HTTP },
		{ "PXEClient:Arch:00007:UNDI:003000", { 0x07 }, 1, 60, 7, PXE_ARCH_EFI_X64 }, /* 93 too short */
		{ "PXEClient", { 0 }, 0xff, 0, 0, PXE_ARCH_UNKNOWN },
		{ "PXEClient:Arch:", { 0 }, 0xff, 0, 0, PXE_ARCH_UNKNOWN },
		{ "PXEClient:Arch:0000x:UNDI:003000", { 0 }, 0xff, 0, 0, PXE_ARCH_UNKNOWN },
		{ "PXEClient:Arch:99999:UNDI:003000", { 0 }, 0xff, 0, 0, PXE_ARCH_UNKNOWN },
		{ "PXEClient:Arch:000007:UNDI:003000", { 0 }, 0xff, 0, 0, PXE_ARCH_UNKNOWN },
		/* 93 present wins over option 60; its first entry counts. */
		{ "PXEClient:Arch:00000:UNDI:002001", { 0x00, 0x07 }, 2, 93, 7, PXE_ARCH_EFI_X64 },
		{ "PXEClient:Arch:00000", { 0x00, 0x0b, 0x00, 0x07 }, 4, 93, 11, PXE_ARCH_EFI_ARM64 },
		{ "PXEClient", { 0x12, 0x34 }, 2, 93, 0x1234, PXE_ARCH_UNKNOWN },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t buf[MAX_PACKET], opts[80] = { 0x35, 0x01, 0x01 };
		size_t n = 3, vlen = strlen(cases[i].vendor_class);
		struct dhcp_message m;
		struct pxe_client c;

		if (cases[i].opt93_len != 0xff) {
			opts[n++] = DHCP_OPT_CLIENT_ARCH;
			opts[n++] = cases[i].opt93_len;
			memcpy(opts + n, cases[i].opt93, cases[i].opt93_len);
			n += cases[i].opt93_len;
		}
		opts[n++] = DHCP_OPT_VENDOR_CLASS;
		opts[n++] = (uint8_t)vlen;
		memcpy(opts + n, cases[i].vendor_class, vlen);
		n += vlen;
		opts[n++] = 0xff;
		parse_ok(buf, with_options(buf, opts, n), &m);
		cr_expect(eq(int, dhcp_pxe_client(&m, &c), 0), "case %zu", i);
		cr_expect(eq(u8, c.arch_from, cases[i].from), "case %zu (%s)", i, cases[i].vendor_class);
		cr_expect(eq(u16, c.arch_code, cases[i].code), "case %zu", i);
		cr_expect(eq(int, c.arch, cases[i].arch), "case %zu", i);
	}
}

Test(dhcp_pxe_client, http_client_is_uefi_http_boot)
{
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;
	struct pxe_client c;

	parse_ok(buf,
		 WITH(buf, 0x35, 0x01, 0x01, 0x5d, 0x02, 0x00, 0x10, 0x3c, 0x21, 'H', 'T', 'T', 'P', 'C', 'l', 'i', 'e',
		      'n', 't', ':', 'A', 'r', 'c', 'h', ':', '0', '0', '0', '1', '6', ':', 'U', 'N', 'D', 'I', ':', '0',
		      '0', '3', '0', '0', '0', 0xff),
		 &m);
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), 0));
	cr_assert(c.http);
	cr_assert(eq(int, c.arch, PXE_ARCH_EFI_X64_HTTP));
	cr_assert(eq(str, (char *)pxe_arch_name(c.arch), "efi-x64-http"));
	cr_assert(not(c.ipxe));
}

/* iPXE by option 175 or by user class, in both encodings of option 77. */
Test(dhcp_pxe_client, ipxe_detection)
{
	static const struct {
		const char *what;
		uint8_t opts[16];
		size_t n;
		bool by_175, by_user_class;
	} cases[] = {
		{ "175 only", { 0xaf, 0x03, 0xeb, 0x01, 0x01 }, 5, true, false },
		{ "empty 175", { 0xaf, 0x00 }, 2, true, false },
		{ "77 plain iPXE", { 0x4d, 0x04, 'i', 'P', 'X', 'E' }, 6, false, true },
		{ "77 RFC 3004 iPXE", { 0x4d, 0x05, 0x04, 'i', 'P', 'X', 'E' }, 7, false, true },
		{ "77 RFC 3004, iPXE second", { 0x4d, 0x08, 0x02, 'a', 'b', 0x04, 'i', 'P', 'X', 'E' }, 10, false, true },
		{ "77 and 175", { 0x4d, 0x04, 'i', 'P', 'X', 'E', 0xaf, 0x00 }, 8, true, true },
		{ "77 gPXE", { 0x4d, 0x04, 'g', 'P', 'X', 'E' }, 6, false, false },
		{ "77 ipxe (case matters)", { 0x4d, 0x04, 'i', 'p', 'x', 'e' }, 6, false, false },
		{ "77 iPXEx", { 0x4d, 0x05, 'i', 'P', 'X', 'E', 'x' }, 7, false, false },
		{ "77 RFC 3004 entry too long", { 0x4d, 0x05, 0x05, 'i', 'P', 'X', 'E' }, 7, false, false },
		{ "77 RFC 3004 iPXE prefix", { 0x4d, 0x06, 0x05, 'i', 'P', 'X', 'E', 'x' }, 8, false, false },
		{ "77 empty", { 0x4d, 0x00 }, 2, false, false },
		{ "neither", { 0x00 }, 1, false, false },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t buf[MAX_PACKET], opts[64] = { 0x35, 0x01, 0x01, 0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e',
						      'n', 't' };
		struct dhcp_message m;
		struct pxe_client c;

		memcpy(opts + 14, cases[i].opts, cases[i].n);
		opts[14 + cases[i].n] = 0xff;
		parse_ok(buf, with_options(buf, opts, 15 + cases[i].n), &m);
		cr_expect(eq(int, dhcp_pxe_client(&m, &c), 0), "%s", cases[i].what);
		cr_expect(eq(int, c.ipxe_by_175, cases[i].by_175), "%s", cases[i].what);
		cr_expect(eq(int, c.ipxe_by_user_class, cases[i].by_user_class), "%s", cases[i].what);
		cr_expect(eq(int, c.ipxe, cases[i].by_175 || cases[i].by_user_class), "%s", cases[i].what);
	}
}

Test(dhcp_pxe_client, malformed_pxe_options_are_ignored_not_fatal)
{
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;
	struct pxe_client c;

	/* 94 of the wrong type and length, 97 of type 1, 43 with a short 71. */
	parse_ok(buf,
		 WITH(buf, 0x35, 0x01, 0x03, 0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 0x5e, 0x03, 0x02,
		      0x03, 0x01, 0x61, 0x03, 0x01, 0xaa, 0xbb, 0x2b, 0x05, 0x47, 0x02, 0x80, 0x01, 0xff, 0xff),
		 &m);
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), 0));
	cr_assert(not(c.has_undi));
	cr_assert(not(c.guid_valid));
	cr_assert(eq(u8, c.uuid_len, 3), "kept raw, to be echoed");
	cr_assert(not(c.has_boot_item));

	/* 43 whose sub-option runs past the option. */
	parse_ok(buf,
		 WITH(buf, 0x35, 0x01, 0x03, 0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 0x2b, 0x04, 0x47,
		      0x04, 0x80, 0x01, 0xff),
		 &m);
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), 0));
	cr_assert(not(c.has_boot_item));
}

Test(pxe_arch, codes_names_and_unknowns)
{
	static const struct {
		uint16_t code;
		enum pxe_arch arch;
		const char *name;
	} cases[] = {
		{ 0, PXE_ARCH_BIOS, "bios" },
		{ 6, PXE_ARCH_EFI_IA32, "efi-ia32" },
		{ 7, PXE_ARCH_EFI_X64, "efi-x64" },
		{ 9, PXE_ARCH_EFI_X64, "efi-x64" },
		{ 10, PXE_ARCH_EFI_ARM32, "efi-arm32" },
		{ 11, PXE_ARCH_EFI_ARM64, "efi-arm64" },
		{ 15, PXE_ARCH_EFI_IA32_HTTP, "efi-ia32-http" },
		{ 16, PXE_ARCH_EFI_X64_HTTP, "efi-x64-http" },
		{ 19, PXE_ARCH_EFI_ARM64_HTTP, "efi-arm64-http" },
		{ 1, PXE_ARCH_UNKNOWN, "unknown" },
		{ 8, PXE_ARCH_UNKNOWN, "unknown" },
		{ 0x1234, PXE_ARCH_UNKNOWN, "unknown" },
		{ 0xffff, PXE_ARCH_UNKNOWN, "unknown" },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		cr_expect(eq(int, pxe_arch_from_code(cases[i].code), cases[i].arch), "code %u", cases[i].code);
		cr_expect(eq(str, (char *)pxe_arch_name(pxe_arch_from_code(cases[i].code)), (char *)cases[i].name));
	}
	cr_expect(eq(str, (char *)pxe_arch_name(PXE_ARCH_COUNT), "unknown"));
	cr_expect(eq(str, (char *)pxe_arch_name((enum pxe_arch)-1), "unknown"));
}

/* ---- dhcp_build_proxy_reply ----------------------------------------------------- */

static const uint8_t ovmf_uuid_option[] = { 0x61, 0x11, 0x00, 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d,
					    0xb7, 0xa6, 0x95, 0x84, 0x73, 0x62, 0x51, 0x40 };

/* Never an address, never a lease: the site DHCP server owns those. */
static void expect_no_lease_options(const struct dhcp_message *m)
{
	static const uint8_t lease[] = { DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS_SERVER,
					 DHCP_OPT_REQUESTED_IP, DHCP_OPT_LEASE_TIME, DHCP_OPT_RENEWAL_TIME,
					 DHCP_OPT_REBINDING_TIME };

	cr_expect(eq(u32, m->yiaddr, 0), "yiaddr must be 0");
	for (size_t i = 0; i < COUNT(lease); i++)
		cr_expect(not(m->options[lease[i]].present), "lease option %u present", lease[i]);
}

/* Builds a reply to request and parses it back. */
static size_t build_and_parse(const uint8_t *req_bytes, size_t req_len, const struct proxy_reply *r, uint8_t *out,
			      struct dhcp_message *reply)
{
	static struct dhcp_message req;
	size_t n;

	parse_ok(req_bytes, req_len, &req);
	n = dhcp_build_proxy_reply(out, MAX_PACKET, &req, r);
	cr_assert(gt(sz, n, 0));
	cr_assert(ge(sz, n, DHCP_MIN_REPLY_LEN));
	parse_ok(out, n, reply);
	cr_assert(eq(u8, reply->op, DHCP_BOOTREPLY));
	expect_no_lease_options(reply);
	return n;
}

Test(dhcp_build_proxy_reply, offer_to_ovmf_exact_bytes)
{
	static const uint8_t want_options[] = {
		0x63, 0x82, 0x53, 0x63,                         /* cookie */
		0x35, 0x01, 0x02,                               /* 53 OFFER */
		0x36, 0x04, 0x0a, 0x00, 0x02, 0x0a,             /* 54 server id */
		0x3c, 0x09, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't',
		0x61, 0x11, 0x00, 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d, /* 97 echoed */
		0xb7, 0xa6, 0x95, 0x84, 0x73, 0x62, 0x51, 0x40,
		0x2b, 0x04, 0x06, 0x01, 0x08, 0xff,             /* 43: discovery control 8, end */
		0x43, 0x08, 'i', 'p', 'x', 'e', '.', 'e', 'f', 'i', /* 67 boot file */
		0xff,
		0x00, 0x00, 0x00, 0x00,                         /* padding to 300 */
	};
	static const uint8_t want_header[44] = {
		0x02, 0x01, 0x06, 0x00, 0x3d, 0x19, 0xa5, 0x92, 0x00, 0x00, 0x80, 0x00, /* op..flags */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                         /* ciaddr, yiaddr */
		0x0a, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x00, 0x00,                         /* siaddr, giaddr */
		0x52, 0x54, 0x00, 0x65, 0x43, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	const struct proxy_reply r = {
		.type = DHCP_OFFER,
		.server_id = ip("10.0.2.10"),
		.next_server = ip("10.0.2.10"),
		.boot_file = "ipxe.efi",
		.pxe = { .include = true, .discovery_control = PXE_DISCOVERY_USE_BOOTFILE },
	};
	struct dhcp_message req;
	uint8_t buf[MAX_PACKET], file[DHCP_FILE_LEN] = "ipxe.efi", sname[DHCP_SNAME_LEN] = { 0 };

	parse_ok(ovmf_discover, sizeof(ovmf_discover), &req);
	memset(buf, 0xcc, sizeof(buf));
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, sizeof(buf), &req, &r), DHCP_MIN_REPLY_LEN));
	cr_assert(eq(u8[44], buf, (uint8_t *)want_header));
	cr_assert(eq(u8[DHCP_SNAME_LEN], buf + 44, sname));
	cr_assert(eq(u8[DHCP_FILE_LEN], buf + 108, file));
	cr_assert(eq(sz, DHCP_HEADER_LEN + sizeof(want_options), DHCP_MIN_REPLY_LEN));
	cr_assert(eq(u8[sizeof(want_options)], buf + DHCP_HEADER_LEN, (uint8_t *)want_options));
	cr_assert(eq(u8, buf[DHCP_MIN_REPLY_LEN], 0xcc), "nothing written past the reply");
}

Test(dhcp_build_proxy_reply, offer_decodes_field_by_field)
{
	const struct proxy_reply r = {
		.type = DHCP_OFFER,
		.server_id = ip("10.0.2.10"),
		.next_server = ip("10.0.2.11"),
		.boot_file = "efi/x64/ipxe.efi",
		.pxe = { .include = true, .discovery_control = PXE_DISCOVERY_USE_BOOTFILE },
	};
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;
	struct pxe_client c;

	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	cr_assert(eq(u8, m.htype, 1));
	cr_assert(eq(u8, m.hlen, 6));
	cr_assert(eq(u8, m.hops, 0));
	cr_assert(eq(u32, m.xid, 0x3d19a592));
	cr_assert(eq(u16, m.flags, DHCP_FLAG_BROADCAST));
	cr_assert(eq(u32, m.ciaddr, 0));
	cr_assert(eq(u32, m.siaddr, ip("10.0.2.11")));
	cr_assert(eq(u32, m.giaddr, 0));
	cr_assert(eq(u8[16], m.chaddr, (uint8_t *)(ovmf_discover + 28)));
	cr_assert(eq(str, (char *)m.file, "efi/x64/ipxe.efi"));
	EXPECT_OPTION(&m, DHCP_OPT_MSG_TYPE, DHCP_OFFER);
	EXPECT_OPTION(&m, DHCP_OPT_SERVER_ID, 10, 0, 2, 10);
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "PXEClient");
	expect_option(&m, DHCP_OPT_CLIENT_UUID, ovmf_uuid_option + 2, 17);
	EXPECT_OPTION(&m, DHCP_OPT_VENDOR_ENCAP, 0x06, 0x01, 0x08, 0xff);
	EXPECT_OPTION_STR(&m, DHCP_OPT_BOOTFILE, "efi/x64/ipxe.efi");

	/* A proxy offer still looks like a PXE server's answer to a client. */
	cr_assert(eq(int, dhcp_pxe_client(&m, &c), 0));
	cr_assert(eq(int, c.msg_type, DHCP_OFFER));
}

Test(dhcp_build_proxy_reply, ack_on_4011_carries_the_boot_item_and_ciaddr)
{
	const struct proxy_reply r = {
		.type = DHCP_ACK,
		.server_id = ip("10.0.2.10"),
		.next_server = ip("10.0.2.10"),
		.boot_file = "ipxe.efi",
		.pxe = { .include = true, .discovery_control = 0x07, .has_boot_item = true,
			 .boot_item_type = 0x8001, .boot_item_layer = 0 },
	};
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;

	build_and_parse(ovmf_request_4011, sizeof(ovmf_request_4011), &r, buf, &m);
	cr_assert(eq(u32, m.xid, 0x3d19a593));
	cr_assert(eq(u16, m.flags, 0));
	cr_assert(eq(u32, m.ciaddr, ip("10.0.2.15")), "RFC 2131 table 3: ACK copies ciaddr");
	EXPECT_OPTION(&m, DHCP_OPT_MSG_TYPE, DHCP_ACK);
	EXPECT_OPTION(&m, DHCP_OPT_VENDOR_ENCAP, 0x06, 0x01, 0x07, 0x47, 0x04, 0x80, 0x01, 0x00, 0x00, 0xff);
	cr_assert(eq(str, (char *)m.file, "ipxe.efi"));
}

Test(dhcp_build_proxy_reply, menu_prompt_and_boot_servers_exact_bytes)
{
	static const struct pxe_boot_server servers[] = {
		{ .type = 0x8001, .n_addrs = 1, .addrs = { 0 } },
		{ .type = 0x0000, .n_addrs = 2, .addrs = { 0 } },
	};
	static const struct pxe_menu_item menu[] = { { 0x8001, "Stampede" }, { 0x0000, "Local" } };
	struct pxe_boot_server s[2];
	struct proxy_reply r = {
		.type = DHCP_OFFER,
		.server_id = ip("10.0.2.10"),
		.pxe = { .include = true, .discovery_control = 0x07, .servers = s, .n_servers = 2, .menu = menu,
			 .n_menu = 2, .prompt = "PXE", .prompt_timeout = 5 },
	};
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;

	memcpy(s, servers, sizeof(s));
	s[0].addrs[0] = ip("10.0.2.10");
	s[1].addrs[0] = ip("10.0.2.10");
	s[1].addrs[1] = ip("192.168.7.1");
	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	EXPECT_OPTION(&m, DHCP_OPT_VENDOR_ENCAP,
		      0x06, 0x01, 0x07,                                     /* discovery control */
		      0x08, 0x12,                                           /* boot servers */
		      0x80, 0x01, 0x01, 10, 0, 2, 10,
		      0x00, 0x00, 0x02, 10, 0, 2, 10, 192, 168, 7, 1,
		      0x09, 0x13,                                           /* boot menu */
		      0x80, 0x01, 0x08, 'S', 't', 'a', 'm', 'p', 'e', 'd', 'e',
		      0x00, 0x00, 0x05, 'L', 'o', 'c', 'a', 'l',
		      0x0a, 0x04, 0x05, 'P', 'X', 'E',                      /* prompt: 5 s */
		      0xff);
	cr_assert(not(m.options[DHCP_OPT_BOOTFILE].present), "no boot file given: no option 67");
	cr_assert(eq(u8, m.file[0], 0));
	cr_assert(eq(u32, m.siaddr, 0));
}

Test(dhcp_build_proxy_reply, http_client_gets_httpclient_vendor_class)
{
	const struct proxy_reply r = {
		.type = DHCP_OFFER,
		.server_id = ip("10.0.2.10"),
		.boot_file = "http://10.0.2.10:8080/efi/x64/ipxe.efi",
		.http_client = true,
	};
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;

	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	EXPECT_OPTION_STR(&m, DHCP_OPT_VENDOR_CLASS, "HTTPClient");
	EXPECT_OPTION_STR(&m, DHCP_OPT_BOOTFILE, "http://10.0.2.10:8080/efi/x64/ipxe.efi");
	cr_assert(not(m.options[DHCP_OPT_VENDOR_ENCAP].present), "pxe.include false: no option 43");
}

Test(dhcp_build_proxy_reply, relayed_request_keeps_giaddr_and_flags)
{
	const struct proxy_reply r = { .type = DHCP_OFFER, .server_id = ip("10.0.2.10"), .boot_file = "ipxe.efi" };
	uint8_t req[MAX_PACKET], buf[MAX_PACKET];
	size_t len = relayed_discover(req);
	struct dhcp_message m;

	build_and_parse(req, len, &r, buf, &m);
	cr_assert(eq(u32, m.giaddr, ip("10.1.2.1")));
	cr_assert(eq(u16, m.flags, DHCP_FLAG_BROADCAST));
	cr_assert(eq(u8, m.hops, 0));
}

/* The script URL of an iPXE client: the caller's string, carried as is. */
Test(dhcp_build_proxy_reply, ipxe_script_url_in_file_and_option_67)
{
	const char *url = "http://10.0.2.10:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}";
	struct proxy_reply r = { .type = DHCP_OFFER, .server_id = ip("10.0.2.10"), .boot_file = url };
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;

	build_and_parse(ipxe_bios_discover, sizeof(ipxe_bios_discover), &r, buf, &m);
	cr_assert(eq(str, (char *)m.file, (char *)url));
	EXPECT_OPTION_STR(&m, DHCP_OPT_BOOTFILE, url);
	expect_option(&m, DHCP_OPT_CLIENT_UUID, ipxe_bios_discover + 382, 17);
}

Test(dhcp_build_proxy_reply, long_boot_file_goes_only_in_option_67)
{
	char name[257];
	struct proxy_reply r = { .type = DHCP_OFFER, .server_id = ip("10.0.2.10"), .boot_file = name };
	uint8_t buf[MAX_PACKET], zero[DHCP_FILE_LEN] = { 0 };
	struct dhcp_message m, req;

	memset(name, 'a', sizeof(name));
	name[127] = '\0'; /* 127 bytes: fits the file field with its NUL */
	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	cr_assert(eq(str, (char *)m.file, name));
	EXPECT_OPTION_STR(&m, DHCP_OPT_BOOTFILE, name);

	name[127] = 'a';
	name[128] = '\0'; /* 128: no room for the NUL */
	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	cr_assert(eq(u8[DHCP_FILE_LEN], (uint8_t *)m.file, zero));
	EXPECT_OPTION_STR(&m, DHCP_OPT_BOOTFILE, name);

	memset(name, 'a', 255);
	name[255] = '\0';
	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	EXPECT_OPTION_STR(&m, DHCP_OPT_BOOTFILE, name);

	name[255] = 'a';
	name[256] = '\0';
	parse_ok(ovmf_discover, sizeof(ovmf_discover), &req);
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, sizeof(buf), &req, &r), 0), "256 bytes do not fit option 67");
}

Test(dhcp_build_proxy_reply, no_uuid_in_request_means_none_in_reply)
{
	const struct proxy_reply r = { .type = DHCP_OFFER, .server_id = ip("10.0.2.10"), .boot_file = "x" };
	uint8_t buf[MAX_PACKET];
	struct dhcp_message m;

	build_and_parse(dhclient_discover, sizeof(dhclient_discover), &r, buf, &m);
	cr_assert(not(m.options[DHCP_OPT_CLIENT_UUID].present));
	cr_assert(not(m.options[DHCP_OPT_REQUESTED_IP].present), "nothing else is echoed");
	cr_assert(not(m.options[DHCP_OPT_PARAM_REQUEST].present));
}

Test(dhcp_build_proxy_reply, request_fields_never_leak_into_yiaddr)
{
	const struct proxy_reply r = { .type = DHCP_OFFER, .server_id = ip("10.0.2.10") };
	uint8_t req[MAX_PACKET], buf[MAX_PACKET];
	struct dhcp_message m;

	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	memcpy(req + 12, BYTES(10, 0, 2, 15, 10, 0, 2, 16)); /* ciaddr, yiaddr set by a confused client */
	build_and_parse(req, sizeof(ovmf_discover), &r, buf, &m);
	cr_assert(eq(u32, m.yiaddr, 0));
	cr_assert(eq(u32, m.ciaddr, 0), "an OFFER has no ciaddr");
}

Test(dhcp_build_proxy_reply, option_43_over_255_bytes_is_refused)
{
	static const char d[] = "a description of fifty-eight bytes, filled with words.....";
	const struct pxe_menu_item menu[] = { { 1, d }, { 2, d }, { 3, d }, { 4, d }, { 5, d } };
	struct proxy_reply r = {
		.type = DHCP_OFFER,
		.server_id = ip("10.0.2.10"),
		.pxe = { .include = true, .menu = menu, .n_menu = 4 },
	};
	uint8_t buf[MAX_PACKET];
	struct dhcp_message req, m;

	cr_assert(eq(sz, strlen(d), 58));
	/* 3 (sub-option 6) + 2 + 4 * 61 (menu) + 1 (end) = 250: fits. */
	build_and_parse(ovmf_discover, sizeof(ovmf_discover), &r, buf, &m);
	cr_assert(eq(u8, m.options[DHCP_OPT_VENDOR_ENCAP].len, 250));
	cr_assert(eq(u8, m.options[DHCP_OPT_VENDOR_ENCAP].data[4], 244));
	parse_ok(ovmf_discover, sizeof(ovmf_discover), &req);
	r.pxe.n_menu = 5;
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, sizeof(buf), &req, &r), 0), "sub-option 9 over 255");
	r.pxe.n_menu = 4;
	r.pxe.prompt = "xxxxx"; /* + 8 = 258 */
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, sizeof(buf), &req, &r), 0), "option 43 over 255");
	r.pxe.prompt = "xx"; /* + 5 = 255 */
	cr_assert(gt(sz, dhcp_build_proxy_reply(buf, sizeof(buf), &req, &r), 0), "option 43 of exactly 255");
}

Test(dhcp_build_proxy_reply, every_cap_below_the_size_returns_zero_without_overflow)
{
	static const struct pxe_boot_server servers[] = { { .type = 0x8001, .n_addrs = 1, .addrs = { 0x0a02000a } } };
	static const struct pxe_menu_item menu[] = { { 0x8001, "Stampede" } };
	const char *url = "http://10.0.2.10:8080/boot.ipxe?mac=52:54:00:12:34:56&uuid=8a1f3c2e-6b4d-4e5f-9a0b-"
			  "1c2d3e4f5a6b&arch=x86_64&build=ipxe-2019";
	const struct proxy_reply r = {
		.type = DHCP_ACK,
		.server_id = ip("10.0.2.10"),
		.next_server = ip("10.0.2.10"),
		.boot_file = url,
		.pxe = { .include = true, .discovery_control = 7, .servers = servers, .n_servers = 1, .menu = menu,
			 .n_menu = 1, .prompt = "Press F8", .prompt_timeout = 3, .has_boot_item = true,
			 .boot_item_type = 0x8001 },
	};
	uint8_t buf[MAX_PACKET];
	struct dhcp_message req;
	size_t full;

	parse_ok(ipxe_bios_discover, sizeof(ipxe_bios_discover), &req);
	full = dhcp_build_proxy_reply(buf, sizeof(buf), &req, &r);
	cr_assert(gt(sz, full, DHCP_MIN_REPLY_LEN), "long enough to need more than the minimum");
	for (size_t cap = 0; cap < full; cap++) {
		memset(buf, 0xcc, sizeof(buf));
		cr_expect(eq(sz, dhcp_build_proxy_reply(buf, cap, &req, &r), 0), "cap %zu", cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			if (buf[i] != 0xcc) {
				cr_expect(eq(u8, buf[i], 0xcc), "cap %zu: byte %zu written", cap, i);
				break;
			}
	}
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, full, &req, &r), full));

	/* A short reply still needs the 300-byte minimum. */
	const struct proxy_reply small = { .type = DHCP_OFFER, .server_id = ip("10.0.2.10") };
	parse_ok(dhclient_discover, sizeof(dhclient_discover), &req);
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, DHCP_MIN_REPLY_LEN - 1, &req, &small), 0));
	cr_assert(eq(sz, dhcp_build_proxy_reply(buf, DHCP_MIN_REPLY_LEN, &req, &small), DHCP_MIN_REPLY_LEN));
}
