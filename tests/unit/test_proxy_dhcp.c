/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxyDHCP responder, proxy_dhcp_handle(): a datagram and a policy in, a
 * reply, its destination and a counted decision out. Every reply is decoded
 * again with dhcp_parse() and checked field by field; every silence is checked
 * to be a silence (length 0) with its reason.
 *
 * Fixture provenance (the bytes are copies of those in tests/unit/test_dhcp.c):
 * (a) ipxe_bios_discover and (b) ovmf_discover are real bytes, the UDP payloads
 *     of the first DHCPDISCOVER captured with QEMU's filter-dump:
 *     (a) SeaBIOS + QEMU's iPXE ROM (virtio-net, -uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b),
 *     (b) OVMF_CODE_4M.fd's own EDK2 PXE (virtio-net, no iPXE ROM,
 *         -uuid 5d3c2b1a-0f9e-4d8c-b7a6-958473625140).
 * (c) ovmf_request_4011 is reconstructed: (b)'s options as EDK2 sends them to a
 *     boot server (PXE 2.1 §2.2.4), ciaddr set, option 53 REQUEST and option 43
 *     carrying the boot item (71) type 0x8001.
 * (d) dhclient_discover is reconstructed from ISC dhclient's defaults.
 * Derived from them, one field changed each: (a) without its iPXE identity
 * (options 77 and 175 overwritten with pads: what the same machine's PXE ROM
 * would send without iPXE), (b) relayed (hops 1, giaddr), (c) asking for
 * Stampede's boot item type 0x8000. Other requests come from build_request(),
 * which writes the options in the order EDK2 does.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp.h"
#include "net.h"
#include "proxy_dhcp.h"
#include "proxy_policy.h"
#include "dhcp_fixtures.h"
#include "support.h"

#define COUNT(a)        (sizeof(a) / sizeof((a)[0]))
#define BYTES(...)      (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define MAX_PACKET      1500


static const uint8_t ipxe_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t ovmf_mac[6] = { 0x52, 0x54, 0x00, 0x65, 0x43, 0x21 };
static const uint8_t relay_mac[6] = { 0x02, 0x00, 0x0a, 0x01, 0x02, 0x01 };
static const uint8_t server_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x02, 0x0a };
static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ovmf_guid[16] = { 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d,
				       0xb7, 0xa6, 0x95, 0x84, 0x73, 0x62, 0x51, 0x40 };

#define SERVER_IP  "10.0.2.10"
#define SCRIPT_URL "http://10.0.2.10:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}"
#define HTTP_NBP   "http://10.0.2.10:8080/efi/x64/ipxe.efi"

/* What the control plane sends for a typical lab; tests add lines to it. */
#define BASE_POLICY                             \
	"server-ip " SERVER_IP "\n"             \
	"script-url " SCRIPT_URL "\n"           \
	"boot-file bios undionly.kpxe\n"        \
	"boot-file efi-x64 ipxe.efi\n"          \
	"boot-file efi-x64-http " HTTP_NBP "\n"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert(eq(int, inet_pton(AF_INET, s, &a), 1), "%s", s);
	return a.s_addr;
}

/* ---- policies --------------------------------------------------------------- */

static struct proxy_policy *policies[64];
static size_t n_policies;

static void free_policies(void)
{
	while (n_policies)
		proxy_policy_free(policies[--n_policies]);
}

TestSuite(proxy_dhcp, .fini = free_policies);

/* BASE_POLICY followed by more lines; freed after the test. */
static struct proxy_policy *policy_with(const char *more)
{
	char text[4096], err[256];
	struct proxy_policy *p;

	snprintf(text, sizeof(text), "%s%s", BASE_POLICY, more);
	p = proxy_policy_parse(text, strlen(text), err, sizeof(err));
	cr_assert(not(eq(ptr, (void *)p, NULL)), "policy: %s", err);
	cr_assert(lt(sz, n_policies, COUNT(policies)));
	policies[n_policies++] = p;
	return p;
}

/* Exactly this text, no base. */
static struct proxy_policy *policy_exactly(const char *text)
{
	char err[256];
	struct proxy_policy *p = proxy_policy_parse(text, strlen(text), err, sizeof(err));

	cr_assert(not(eq(ptr, (void *)p, NULL)), "policy: %s", err);
	cr_assert(lt(sz, n_policies, COUNT(policies)));
	policies[n_policies++] = p;
	return p;
}

/* ---- requests --------------------------------------------------------------- */

/* Offset of the option's data in a well-formed request (options field only), or 0. */
static size_t find_option(const uint8_t *p, size_t len, uint8_t code)
{
	size_t pos = DHCP_OPTIONS_OFFSET;

	while (pos < len && p[pos] != DHCP_OPT_END) {
		if (p[pos] == DHCP_OPT_PAD) {
			pos++;
			continue;
		}
		if (p[pos] == code)
			return pos + 2;
		pos += 2 + (size_t)p[pos + 1];
	}
	return 0;
}

/* Overwrites an option (code, length and data) with pad bytes. */
static void strip_option(uint8_t *p, size_t len, uint8_t code)
{
	size_t at = find_option(p, len, code);

	cr_assert(gt(sz, at, 0), "option %u not in the fixture", code);
	memset(p + at - 2, DHCP_OPT_PAD, 2 + (size_t)p[at - 1]);
}

/* (a) without options 77 and 175: the PXE ROM of the same machine. */
static size_t bios_rom_discover(uint8_t *buf)
{
	memcpy(buf, ipxe_bios_discover, sizeof(ipxe_bios_discover));
	strip_option(buf, sizeof(ipxe_bios_discover), DHCP_OPT_USER_CLASS);
	strip_option(buf, sizeof(ipxe_bios_discover), DHCP_OPT_IPXE_ENCAP);
	return sizeof(ipxe_bios_discover);
}

/* (b) forwarded by a relay agent at 10.1.2.1 (RFC 1542 §4.1.1: hops 1, giaddr). */
static size_t relayed_discover(uint8_t *buf)
{
	memcpy(buf, ovmf_discover, sizeof(ovmf_discover));
	buf[3] = 1;
	memcpy(buf + 24, (const uint8_t[]){ 10, 1, 2, 1 }, 4);
	return sizeof(ovmf_discover);
}

/* (c) asking for a boot item of the given type and layer. */
static size_t boot_item_request(uint8_t *buf, uint16_t type, uint16_t layer)
{
	size_t at;

	memcpy(buf, ovmf_request_4011, sizeof(ovmf_request_4011));
	at = find_option(buf, sizeof(ovmf_request_4011), DHCP_OPT_VENDOR_ENCAP);
	cr_assert(eq(u8, buf[at], PXE_SUB_BOOT_ITEM));
	buf[at + 2] = (uint8_t)(type >> 8), buf[at + 3] = (uint8_t)type;
	buf[at + 4] = (uint8_t)(layer >> 8), buf[at + 5] = (uint8_t)layer;
	return sizeof(ovmf_request_4011);
}

struct req_spec {
	uint8_t op;            /* 0: BOOTREQUEST */
	uint8_t type;          /* option 53; 0: none */
	uint32_t xid;
	uint16_t flags;
	const char *ciaddr, *giaddr; /* NULL: 0.0.0.0 */
	const uint8_t *mac;    /* NULL: ovmf_mac */
	const char *server_id; /* option 54; NULL: none */
	bool has_arch;         /* option 93 */
	uint16_t arch;
	const uint8_t *guid;   /* option 97, type 0 + 16 bytes; NULL: none */
	const char *vendor;    /* option 60; NULL: none */
	const uint8_t *user_class; /* option 77, user_class_len bytes as given */
	size_t user_class_len;
	bool ipxe_175;         /* option 175 with one iPXE setting */
	bool boot_item;        /* option 43 with sub-option 71 */
	uint16_t item_type, item_layer;
};

/* A request in EDK2's option order: 53, 54, 57, 97, 94, 93, 60, 77, 175, 43, end. */
static size_t build_request(uint8_t *buf, const struct req_spec *s)
{
	static const uint8_t cookie[4] = { 0x63, 0x82, 0x53, 0x63 };
	size_t n = 0;
	uint32_t a;

	memset(buf, 0, DHCP_OPTIONS_OFFSET);
	buf[0] = s->op ? s->op : DHCP_BOOTREQUEST;
	buf[1] = 1, buf[2] = 6;
	buf[4] = (uint8_t)(s->xid >> 24), buf[5] = (uint8_t)(s->xid >> 16);
	buf[6] = (uint8_t)(s->xid >> 8), buf[7] = (uint8_t)s->xid;
	buf[10] = (uint8_t)(s->flags >> 8), buf[11] = (uint8_t)s->flags;
	a = s->ciaddr ? ip(s->ciaddr) : 0;
	memcpy(buf + 12, &a, 4);
	a = s->giaddr ? ip(s->giaddr) : 0;
	memcpy(buf + 24, &a, 4);
	memcpy(buf + 28, s->mac ? s->mac : ovmf_mac, 6);
	memcpy(buf + DHCP_HEADER_LEN, cookie, 4);
	n = DHCP_OPTIONS_OFFSET;

	if (s->type)
		buf[n++] = DHCP_OPT_MSG_TYPE, buf[n++] = 1, buf[n++] = s->type;
	if (s->server_id) {
		a = ip(s->server_id);
		buf[n++] = DHCP_OPT_SERVER_ID, buf[n++] = 4;
		memcpy(buf + n, &a, 4);
		n += 4;
	}
	buf[n++] = 57, buf[n++] = 2, buf[n++] = 0x05, buf[n++] = 0xc0;
	if (s->guid) {
		buf[n++] = DHCP_OPT_CLIENT_UUID, buf[n++] = 17, buf[n++] = 0;
		memcpy(buf + n, s->guid, 16);
		n += 16;
	}
	buf[n++] = DHCP_OPT_CLIENT_NDI, buf[n++] = 3, buf[n++] = 1, buf[n++] = 3, buf[n++] = 1;
	if (s->has_arch)
		buf[n++] = DHCP_OPT_CLIENT_ARCH, buf[n++] = 2, buf[n++] = (uint8_t)(s->arch >> 8),
		buf[n++] = (uint8_t)s->arch;
	if (s->vendor) {
		size_t l = strlen(s->vendor);

		buf[n++] = DHCP_OPT_VENDOR_CLASS, buf[n++] = (uint8_t)l;
		memcpy(buf + n, s->vendor, l);
		n += l;
	}
	if (s->user_class) {
		buf[n++] = DHCP_OPT_USER_CLASS, buf[n++] = (uint8_t)s->user_class_len;
		memcpy(buf + n, s->user_class, s->user_class_len);
		n += s->user_class_len;
	}
	if (s->ipxe_175) /* 175: 177 (bus id) would follow; one setting is enough: 0xeb HTTP = 1 */
		buf[n++] = DHCP_OPT_IPXE_ENCAP, buf[n++] = 3, buf[n++] = 0x13, buf[n++] = 1, buf[n++] = 1;
	if (s->boot_item) {
		buf[n++] = DHCP_OPT_VENDOR_ENCAP, buf[n++] = 7, buf[n++] = PXE_SUB_BOOT_ITEM, buf[n++] = 4;
		buf[n++] = (uint8_t)(s->item_type >> 8), buf[n++] = (uint8_t)s->item_type;
		buf[n++] = (uint8_t)(s->item_layer >> 8), buf[n++] = (uint8_t)s->item_layer;
		buf[n++] = PXE_SUB_END;
	}
	buf[n++] = DHCP_OPT_END;
	cr_assert(le(sz, n, MAX_PACKET));
	return n;
}

#define REQ(buf, ...) build_request(buf, &(const struct req_spec){ __VA_ARGS__ })

#define UEFI_X64_VENDOR "PXEClient:Arch:00007:UNDI:003001"
#define HTTP_VENDOR     "HTTPClient:Arch:00016:UNDI:003001"

/* ---- datagrams -------------------------------------------------------------- */

/* A broadcast from an address-less client (src 0.0.0.0:68) to port. */
static struct net_udp_datagram from_client(const uint8_t *p, size_t len, const uint8_t mac[6], uint16_t port)
{
	struct net_udp_datagram d = { .payload = p, .payload_len = len };

	memcpy(d.src.mac, mac, 6);
	d.src.ip = 0;
	d.src.port = DHCP_CLIENT_PORT;
	memcpy(d.dst.mac, broadcast_mac, 6);
	d.dst.ip = INADDR_BROADCAST;
	d.dst.port = port;
	return d;
}

/* A unicast from src_ip:src_port to the server. */
static struct net_udp_datagram unicast(const uint8_t *p, size_t len, const uint8_t mac[6], const char *src_ip,
				       uint16_t src_port, uint16_t port)
{
	struct net_udp_datagram d = { .payload = p, .payload_len = len };

	memcpy(d.src.mac, mac, 6);
	d.src.ip = ip(src_ip);
	d.src.port = src_port;
	memcpy(d.dst.mac, server_mac, 6);
	d.dst.ip = ip(SERVER_IP);
	d.dst.port = port;
	return d;
}

/* ---- the harness ------------------------------------------------------------ */

static struct dhcp_message scratch; /* the caller's 4.4 KB per polling core */
static struct dhcp_message reply;   /* the last reply, decoded */
static uint8_t out[MAX_PACKET];
static struct proxy_answer ans;
static struct proxy_dhcp_counters counters;

static bool is_reply(enum proxy_decision d)
{
	return d == PROXY_offer || d == PROXY_ack;
}

/* Never an address, never a lease: the site DHCP server owns those. */
static void expect_no_lease(const struct dhcp_message *m)
{
	static const uint8_t lease[] = { DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS_SERVER,
					 DHCP_OPT_REQUESTED_IP, DHCP_OPT_LEASE_TIME, DHCP_OPT_RENEWAL_TIME,
					 DHCP_OPT_REBINDING_TIME };

	cr_expect(eq(u32, m->yiaddr, 0), "yiaddr must be 0");
	for (size_t i = 0; i < COUNT(lease); i++)
		cr_expect(not(m->options[lease[i]].present), "lease option %u present", lease[i]);
}

/* Handles d with policy p (self_ip = the server), checks that the answer is
 * consistent (a reply exactly when offer/ack, decodable, no lease) and that
 * the decision was counted once. */
static enum proxy_decision handle_cap(const struct proxy_policy *p, const struct net_udp_datagram *d, size_t cap)
{
	struct proxy_dhcp_counters before = counters;
	uint64_t total_before = 0, total_after = 0;
	const char *why = NULL;

	memset(out, 0xcc, sizeof(out));
	proxy_dhcp_handle(p, d, ip(SERVER_IP), &scratch, out, cap, &ans, &counters);
	for (int i = 0; i < PROXY_DECISION_COUNT; i++) {
		total_before += before.decisions[i];
		total_after += counters.decisions[i];
	}
	cr_assert(eq(u64, total_after, total_before + 1), "one decision per call");
	cr_assert(eq(u64, counters.decisions[ans.decision], before.decisions[ans.decision] + 1),
		  "the decision returned is the one counted");
	if (!is_reply(ans.decision)) {
		cr_assert(eq(sz, ans.len, 0), "%s: silence has no bytes", proxy_decision_name(ans.decision));
		return ans.decision;
	}
	cr_assert(ge(sz, ans.len, DHCP_MIN_REPLY_LEN), "RFC 1542 minimum");
	cr_assert(le(sz, ans.len, cap));
	cr_assert(eq(int, dhcp_parse(out, ans.len, &reply, &why), 0), "reply does not parse: %s", why ? why : "");
	cr_assert(eq(u8, reply.op, DHCP_BOOTREPLY));
	expect_no_lease(&reply);
	return ans.decision;
}

static enum proxy_decision handle(const struct proxy_policy *p, const struct net_udp_datagram *d)
{
	return handle_cap(p, d, sizeof(out));
}

static void expect_decision(enum proxy_decision got, enum proxy_decision want, const char *what)
{
	cr_expect(eq(str, (char *)proxy_decision_name(got), (char *)proxy_decision_name(want)), "%s", what);
}

static void expect_option(const struct dhcp_message *m, uint8_t code, const void *want, size_t n)
{
	const struct dhcp_option *o = dhcp_option(m, code);

	cr_assert(not(eq(ptr, (void *)o, NULL)), "option %u missing", code);
	cr_assert(eq(sz, o->len, n), "option %u length", code);
	cr_assert(eq(int, memcmp(o->data, want, n), 0), "option %u bytes", code);
}

#define EXPECT_OPTION(m, code, ...) expect_option(m, code, BYTES(__VA_ARGS__))
#define EXPECT_OPTION_STR(m, code, s) expect_option(m, code, s, strlen(s))

/* The reply's options, in wire order, are exactly these (end excluded). */
static void expect_option_order(const uint8_t *buf, size_t len, const uint8_t *want, size_t n)
{
	size_t pos = DHCP_OPTIONS_OFFSET, i = 0;

	while (pos < len && buf[pos] != DHCP_OPT_END) {
		if (buf[pos] == DHCP_OPT_PAD) {
			pos++;
			continue;
		}
		cr_assert(lt(sz, i, n), "more options than expected: %u", buf[pos]);
		cr_assert(eq(u8, buf[pos], want[i]), "option #%zu", i);
		pos += 2 + (size_t)buf[pos + 1];
		i++;
	}
	cr_assert(lt(sz, pos, len), "no end option");
	cr_assert(eq(sz, i, n), "fewer options than expected");
	for (pos++; pos < len; pos++)
		cr_assert(eq(u8, buf[pos], 0), "padding after the end option is zero");
}

#define EXPECT_ORDER(...) expect_option_order(out, ans.len, BYTES(__VA_ARGS__))

static void expect_broadcast_to_68(void)
{
	cr_assert(eq(u8[6], ans.to.mac, (uint8_t *)broadcast_mac));
	cr_assert(eq(u32, ans.to.ip, INADDR_BROADCAST));
	cr_assert(eq(u16, ans.to.port, DHCP_CLIENT_PORT));
	cr_assert(eq(u16, ans.src_port, DHCP_SERVER_PORT));
}

/* ---- OFFERs to DISCOVERs on 67 ------------------------------------------------ */

Test(proxy_dhcp, bios_pxe_rom_discover_gets_boot_file_and_discovery_control_8)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	size_t len = bios_rom_discover(req);
	struct net_udp_datagram d = from_client(req, len, ipxe_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(ans.classified);
	cr_assert(eq(int, ans.client.arch, PXE_ARCH_BIOS));
	cr_assert(not(ans.client.ipxe));
	cr_assert(eq(str, (char *)ans.boot_file, "undionly.kpxe"));
	cr_assert(eq(ptr, (void *)ans.boot_file, (void *)p->arch[PXE_ARCH_BIOS].boot_file), "points into the policy");

	cr_assert(eq(u8, reply.htype, 1));
	cr_assert(eq(u8, reply.hlen, 6));
	cr_assert(eq(u8, reply.hops, 0));
	cr_assert(eq(u32, reply.xid, 0xaf70d002));
	cr_assert(eq(u16, reply.flags, 0));
	cr_assert(eq(u32, reply.ciaddr, 0));
	cr_assert(eq(u32, reply.yiaddr, 0));
	cr_assert(eq(u32, reply.siaddr, ip(SERVER_IP)), "next-server");
	cr_assert(eq(u32, reply.giaddr, 0));
	cr_assert(eq(u8[16], reply.chaddr, (uint8_t *)(ipxe_bios_discover + 28)));
	cr_assert(eq(str, (char *)reply.file, "undionly.kpxe"));
	cr_assert(eq(u8, reply.sname[0], 0));
	EXPECT_OPTION(&reply, DHCP_OPT_MSG_TYPE, DHCP_OFFER);
	EXPECT_OPTION(&reply, DHCP_OPT_SERVER_ID, 10, 0, 2, 10);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_VENDOR_CLASS, "PXEClient");
	expect_option(&reply, DHCP_OPT_CLIENT_UUID, ipxe_bios_discover + 382, 17);
	EXPECT_OPTION(&reply, DHCP_OPT_VENDOR_ENCAP, PXE_SUB_DISCOVERY_CONTROL, 1, PXE_DISCOVERY_USE_BOOTFILE,
		      PXE_SUB_END);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, "undionly.kpxe");
	EXPECT_ORDER(53, 54, 60, 97, 43, 67);
	/* 240 + 53 (3) + 54 (6) + 60 (11) + 97 (19) + 43 (6) + 67 (15) + end (1) */
	cr_assert(eq(sz, ans.len, 301));
	expect_broadcast_to_68();
}

Test(proxy_dhcp, ovmf_discover_gets_boot_file_without_option_43)
{
	const struct proxy_policy *p = policy_with("");
	struct net_udp_datagram d = from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(int, ans.client.arch, PXE_ARCH_EFI_X64));
	cr_assert(eq(str, (char *)ans.boot_file, "ipxe.efi"));
	cr_assert(eq(u32, reply.xid, 0x3d19a592));
	cr_assert(eq(u16, reply.flags, DHCP_FLAG_BROADCAST), "flags echoed");
	cr_assert(eq(u32, reply.yiaddr, 0));
	cr_assert(eq(u32, reply.siaddr, ip(SERVER_IP)));
	cr_assert(eq(u32, reply.giaddr, 0));
	cr_assert(eq(u8[16], reply.chaddr, (uint8_t *)(ovmf_discover + 28)));
	cr_assert(eq(str, (char *)reply.file, "ipxe.efi"));
	EXPECT_OPTION(&reply, DHCP_OPT_MSG_TYPE, DHCP_OFFER);
	EXPECT_OPTION(&reply, DHCP_OPT_SERVER_ID, 10, 0, 2, 10);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_VENDOR_CLASS, "PXEClient");
	expect_option(&reply, DHCP_OPT_CLIENT_UUID, BYTES(0x00, 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d, 0xb7,
							   0xa6, 0x95, 0x84, 0x73, 0x62, 0x51, 0x40));
	cr_assert(not(reply.options[DHCP_OPT_VENDOR_ENCAP].present), "UEFI: no option 43");
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, "ipxe.efi");
	EXPECT_ORDER(53, 54, 60, 97, 67);
	expect_broadcast_to_68();
}

Test(proxy_dhcp, uefi_http_boot_gets_url_and_httpclient)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	size_t len = REQ(req, .type = DHCP_DISCOVER, .xid = 0x11223344, .flags = DHCP_FLAG_BROADCAST, .has_arch = true,
			 .arch = 16, .guid = ovmf_guid, .vendor = HTTP_VENDOR);
	struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(ans.client.http);
	cr_assert(eq(int, ans.client.arch, PXE_ARCH_EFI_X64_HTTP));
	cr_assert(eq(str, (char *)ans.boot_file, HTTP_NBP));
	cr_assert(eq(u32, reply.xid, 0x11223344));
	cr_assert(eq(u16, reply.flags, DHCP_FLAG_BROADCAST));
	cr_assert(eq(u32, reply.siaddr, ip(SERVER_IP)));
	cr_assert(eq(str, (char *)reply.file, HTTP_NBP));
	EXPECT_OPTION(&reply, DHCP_OPT_MSG_TYPE, DHCP_OFFER);
	EXPECT_OPTION(&reply, DHCP_OPT_SERVER_ID, 10, 0, 2, 10);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_VENDOR_CLASS, "HTTPClient");
	expect_option(&reply, DHCP_OPT_CLIENT_UUID, req + find_option(req, len, DHCP_OPT_CLIENT_UUID), 17);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, HTTP_NBP);
	EXPECT_ORDER(53, 54, 60, 97, 67);
	expect_broadcast_to_68();
}

Test(proxy_dhcp, https_url_is_a_url_for_http_boot)
{
	const struct proxy_policy *p = policy_with("boot-file efi-x64-http https://boot.example/ipxe.efi\n");
	uint8_t req[MAX_PACKET];
	size_t len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 16, .vendor = HTTP_VENDOR);
	struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, "https://boot.example/ipxe.efi");
	cr_assert(not(reply.options[DHCP_OPT_CLIENT_UUID].present), "none sent, none echoed");
}

Test(proxy_dhcp, http_client_whose_file_is_not_a_url_is_silent)
{
	static const char *const not_urls[] = { "ipxe.efi", "/efi/ipxe.efi", "tftp://10.0.2.10/ipxe.efi", "http:/x",
						"ftp://x/y" };
	uint8_t req[MAX_PACKET];
	size_t len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 16, .vendor = HTTP_VENDOR);
	struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

	for (size_t i = 0; i < COUNT(not_urls); i++) {
		char line[128];

		snprintf(line, sizeof(line), "boot-file efi-x64-http %s\n", not_urls[i]);
		expect_decision(handle(policy_with(line), &d), PROXY_no_boot_file, not_urls[i]);
	}
	/* And an HTTP client with no file for its arch at all. */
	expect_decision(handle(policy_exactly("server-ip 10.0.2.10\nboot-file efi-x64 ipxe.efi\n"), &d),
			PROXY_no_boot_file, "no efi-x64-http file");
}

/* ---- iPXE: the loop breaker ------------------------------------------------- */

Test(proxy_dhcp, captured_ipxe_gets_the_script_url_not_the_nbp)
{
	const struct proxy_policy *p = policy_with("");
	struct net_udp_datagram d = from_client(ipxe_bios_discover, sizeof(ipxe_bios_discover), ipxe_mac,
						DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(ans.client.ipxe && ans.client.ipxe_by_175 && ans.client.ipxe_by_user_class);
	cr_assert(eq(ptr, (void *)ans.boot_file, (void *)p->script_url));
	cr_assert(eq(str, (char *)reply.file, SCRIPT_URL));
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, SCRIPT_URL);
	cr_assert(not(reply.options[DHCP_OPT_VENDOR_ENCAP].present), "iPXE needs no PXE option 43");
	EXPECT_OPTION_STR(&reply, DHCP_OPT_VENDOR_CLASS, "PXEClient");
	expect_option(&reply, DHCP_OPT_CLIENT_UUID, ipxe_bios_discover + 382, 17);
	EXPECT_ORDER(53, 54, 60, 97, 67);
	expect_broadcast_to_68();
}

Test(proxy_dhcp, ipxe_is_recognised_by_175_or_by_either_user_class_form)
{
	static const struct {
		const char *what;
		bool by_175;
		const uint8_t *uc;
		size_t uc_len;
		bool ipxe;
	} cases[] = {
		{ "option 175", true, NULL, 0, true },
		{ "user class, bare", false, (const uint8_t *)"iPXE", 4, true },
		{ "user class, RFC 3004", false, (const uint8_t *)"\x04iPXE", 5, true },
		{ "user class, RFC 3004, second entry", false, (const uint8_t *)"\x03" "abc\x04iPXE", 9, true },
		{ "user class gPXE", false, (const uint8_t *)"gPXE", 4, false },
		{ "user class ipxe (case)", false, (const uint8_t *)"ipxe", 4, false },
		{ "user class iPXE2", false, (const uint8_t *)"iPXE2", 5, false },
		{ "neither", false, NULL, 0, false },
	};
	const struct proxy_policy *p = policy_with("");

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t req[MAX_PACKET];
		size_t len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR,
				 .ipxe_175 = cases[i].by_175, .user_class = cases[i].uc,
				 .user_class_len = cases[i].uc_len);
		struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

		expect_decision(handle(p, &d), PROXY_offer, cases[i].what);
		cr_expect(eq(int, ans.client.ipxe, cases[i].ipxe), "%s", cases[i].what);
		cr_expect(eq(str, (char *)reply.file, cases[i].ipxe ? SCRIPT_URL : "ipxe.efi"), "%s", cases[i].what);
	}
}

Test(proxy_dhcp, ipxe_of_unknown_arch_still_gets_its_script)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	size_t len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 0x0008,
			 .vendor = "PXEClient:Arch:00008:UNDI:003001", .ipxe_175 = true);
	struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(int, ans.client.arch, PXE_ARCH_UNKNOWN));
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, SCRIPT_URL);
}

/* Documented in proxy_policy.h: without a script URL iPXE gets the NBP again. */
Test(proxy_dhcp, without_script_url_ipxe_gets_the_nbp)
{
	const struct proxy_policy *p = policy_exactly("server-ip 10.0.2.10\nboot-file bios undionly.kpxe\n");
	struct net_udp_datagram d = from_client(ipxe_bios_discover, sizeof(ipxe_bios_discover), ipxe_mac,
						DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(str, (char *)reply.file, "undionly.kpxe"));
	cr_assert(not(reply.options[DHCP_OPT_VENDOR_ENCAP].present), "iPXE: no option 43 either way");
}

/* ---- boot-server mode (PXE 2.1 discovery, port 4011) --------------------------- */

Test(proxy_dhcp, boot_server_offer_names_the_server_not_the_file)
{
	const struct proxy_policy *p = policy_with("boot-server efi-x64\n");
	struct net_udp_datagram d = from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(ptr, (void *)ans.boot_file, NULL));
	cr_assert(eq(u32, reply.siaddr, ip(SERVER_IP)));
	cr_assert(eq(u8, reply.file[0], 0), "no boot file in the file field");
	cr_assert(not(reply.options[DHCP_OPT_BOOTFILE].present), "nor in option 67");
	EXPECT_OPTION(&reply, DHCP_OPT_VENDOR_ENCAP,
		      PXE_SUB_DISCOVERY_CONTROL, 1, 0x07, /* no broadcast, no multicast, server list only */
		      PXE_SUB_BOOT_SERVERS, 7, 0x80, 0x00, 1, 10, 0, 2, 10,
		      PXE_SUB_BOOT_MENU, 24, 0x80, 0x00, 21, 'S', 't', 'a', 'm', 'p', 'e', 'd', 'e', ' ', 'n', 'e', 't',
		      'w', 'o', 'r', 'k', ' ', 'b', 'o', 'o', 't',
		      PXE_SUB_MENU_PROMPT, 9, 0, 'S', 't', 'a', 'm', 'p', 'e', 'd', 'e', /* timeout 0 */
		      PXE_SUB_END);
	EXPECT_ORDER(53, 54, 60, 97, 43);
	expect_broadcast_to_68();
}

Test(proxy_dhcp, boot_server_menu_and_prompt_come_from_the_policy)
{
	const struct proxy_policy *p = policy_with("boot-server efi-x64\nmenu Install\nprompt 3 Press F8\n");
	struct net_udp_datagram d = from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	EXPECT_OPTION(&reply, DHCP_OPT_VENDOR_ENCAP, PXE_SUB_DISCOVERY_CONTROL, 1, 0x07,
		      PXE_SUB_BOOT_SERVERS, 7, 0x80, 0x00, 1, 10, 0, 2, 10,
		      PXE_SUB_BOOT_MENU, 10, 0x80, 0x00, 7, 'I', 'n', 's', 't', 'a', 'l', 'l',
		      PXE_SUB_MENU_PROMPT, 9, 3, 'P', 'r', 'e', 's', 's', ' ', 'F', '8',
		      PXE_SUB_END);
}

Test(proxy_dhcp, boot_server_mode_is_per_arch_and_not_for_ipxe)
{
	const struct proxy_policy *p = policy_with("boot-server efi-x64\n");
	uint8_t req[MAX_PACKET];
	size_t len = bios_rom_discover(req);
	struct net_udp_datagram d = from_client(req, len, ipxe_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer), "BIOS is not in boot-server mode");
	cr_assert(eq(str, (char *)reply.file, "undionly.kpxe"));
	EXPECT_OPTION(&reply, DHCP_OPT_VENDOR_ENCAP, 0x06, 0x01, 0x08, 0xff);

	len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR, .ipxe_175 = true);
	d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);
	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, SCRIPT_URL);
	cr_assert(not(reply.options[DHCP_OPT_VENDOR_ENCAP].present), "iPXE skips discovery: its script now");
}

Test(proxy_dhcp, request_on_4011_with_boot_item_gets_ack_from_4011)
{
	const struct proxy_policy *p = policy_with("boot-server efi-x64\n");
	uint8_t req[MAX_PACKET];
	size_t len = boot_item_request(req, PROXY_BOOT_ITEM_TYPE, 0);
	struct net_udp_datagram d = unicast(req, len, ovmf_mac, "10.0.2.15", DHCP_CLIENT_PORT, PXE_BOOT_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	cr_assert(ans.client.has_boot_item);
	cr_assert(eq(str, (char *)ans.boot_file, "ipxe.efi"));
	cr_assert(eq(u16, ans.src_port, PXE_BOOT_SERVER_PORT), "iPXE accepts the ACK only from 4011");
	cr_assert(eq(u8[6], ans.to.mac, (uint8_t *)ovmf_mac));
	cr_assert(eq(u32, ans.to.ip, ip("10.0.2.15")));
	cr_assert(eq(u16, ans.to.port, DHCP_CLIENT_PORT));

	cr_assert(eq(u32, reply.xid, 0x3d19a593));
	cr_assert(eq(u16, reply.flags, 0));
	cr_assert(eq(u32, reply.ciaddr, ip("10.0.2.15")), "an ACK copies ciaddr");
	cr_assert(eq(u32, reply.yiaddr, 0));
	cr_assert(eq(u32, reply.siaddr, ip(SERVER_IP)));
	cr_assert(eq(u8[16], reply.chaddr, (uint8_t *)(ovmf_request_4011 + 28)));
	cr_assert(eq(str, (char *)reply.file, "ipxe.efi"));
	EXPECT_OPTION(&reply, DHCP_OPT_MSG_TYPE, DHCP_ACK);
	EXPECT_OPTION(&reply, DHCP_OPT_SERVER_ID, 10, 0, 2, 10);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_VENDOR_CLASS, "PXEClient");
	expect_option(&reply, DHCP_OPT_CLIENT_UUID, req + find_option(req, len, DHCP_OPT_CLIENT_UUID), 17);
	/* PXE 2.1 §2.2.5: the boot item the client asked for, type and layer. */
	EXPECT_OPTION(&reply, DHCP_OPT_VENDOR_ENCAP, PXE_SUB_DISCOVERY_CONTROL, 1, 0, PXE_SUB_BOOT_ITEM, 4, 0x80, 0x00,
		      0x00, 0x00, PXE_SUB_END);
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, "ipxe.efi");
	EXPECT_ORDER(53, 54, 60, 97, 43, 67);
}

Test(proxy_dhcp, ack_echoes_the_boot_item_layer)
{
	const struct proxy_policy *p = policy_with("boot-server efi-x64\n");
	uint8_t req[MAX_PACKET];
	size_t len = boot_item_request(req, PROXY_BOOT_ITEM_TYPE, 0x0003);
	struct net_udp_datagram d = unicast(req, len, ovmf_mac, "10.0.2.15", PXE_BOOT_SERVER_PORT, PXE_BOOT_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	EXPECT_OPTION(&reply, DHCP_OPT_VENDOR_ENCAP, 0x06, 0x01, 0x00, 0x47, 0x04, 0x80, 0x00, 0x00, 0x03, 0xff);
	cr_assert(eq(u16, ans.to.port, PXE_BOOT_SERVER_PORT), "back to the port it came from");
}

Test(proxy_dhcp, request_on_4011_without_boot_item_gets_ack_without_option_43)
{
	const struct proxy_policy *p = policy_with("boot-server efi-x64\n");
	uint8_t req[MAX_PACKET];
	struct net_udp_datagram d;

	memcpy(req, ovmf_request_4011, sizeof(ovmf_request_4011));
	strip_option(req, sizeof(ovmf_request_4011), DHCP_OPT_VENDOR_ENCAP);
	d = unicast(req, sizeof(ovmf_request_4011), ovmf_mac, "10.0.2.15", DHCP_CLIENT_PORT, PXE_BOOT_SERVER_PORT);
	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	cr_assert(not(ans.client.has_boot_item));
	cr_assert(not(reply.options[DHCP_OPT_VENDOR_ENCAP].present));
	cr_assert(eq(str, (char *)reply.file, "ipxe.efi"));
	EXPECT_ORDER(53, 54, 60, 97, 67);
}

Test(proxy_dhcp, inform_on_4011_gets_ack_discover_and_others_do_not)
{
	static const struct {
		uint8_t type;
		enum proxy_decision want;
	} cases[] = {
		{ DHCP_INFORM, PROXY_ack },        { DHCP_REQUEST, PROXY_ack },      { DHCP_DISCOVER, PROXY_other_type },
		{ DHCP_DECLINE, PROXY_other_type }, { DHCP_RELEASE, PROXY_other_type }, { DHCP_OFFER, PROXY_other_type },
		{ DHCP_ACK, PROXY_other_type },     { 0xff, PROXY_other_type },
	};
	const struct proxy_policy *p = policy_with("boot-server efi-x64\n");

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t req[MAX_PACKET];
		size_t len = REQ(req, .type = cases[i].type, .xid = 0x77, .ciaddr = "10.0.2.15", .has_arch = true,
				 .arch = 7, .vendor = UEFI_X64_VENDOR);
		struct net_udp_datagram d = unicast(req, len, ovmf_mac, "10.0.2.15", DHCP_CLIENT_PORT,
						    PXE_BOOT_SERVER_PORT);
		char what[32];

		snprintf(what, sizeof(what), "type %u", cases[i].type);
		expect_decision(handle(p, &d), cases[i].want, what);
		if (cases[i].want == PROXY_ack) {
			EXPECT_OPTION(&reply, DHCP_OPT_MSG_TYPE, DHCP_ACK);
			cr_expect(eq(str, (char *)reply.file, "ipxe.efi"), "%s", what);
			cr_expect(eq(u16, ans.src_port, PXE_BOOT_SERVER_PORT), "%s", what);
		}
	}
}

Test(proxy_dhcp, ack_on_4011_goes_to_ciaddr_or_broadcast_when_source_has_no_address)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	size_t len = REQ(req, .type = DHCP_REQUEST, .ciaddr = "10.0.2.15", .has_arch = true, .arch = 7,
			 .vendor = UEFI_X64_VENDOR, .boot_item = true, .item_type = 0x8000);
	struct net_udp_datagram d = from_client(req, len, ovmf_mac, PXE_BOOT_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	cr_assert(eq(u32, ans.to.ip, ip("10.0.2.15")));
	cr_assert(eq(u16, ans.to.port, DHCP_CLIENT_PORT));
	cr_assert(eq(u8[6], ans.to.mac, (uint8_t *)ovmf_mac));
	cr_assert(eq(u16, ans.src_port, PXE_BOOT_SERVER_PORT));

	len = REQ(req, .type = DHCP_REQUEST, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR, .boot_item = true,
		  .item_type = 0x8000);
	d = from_client(req, len, ovmf_mac, PXE_BOOT_SERVER_PORT);
	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	cr_assert(eq(u32, ans.to.ip, INADDR_BROADCAST));
	cr_assert(eq(u16, ans.src_port, PXE_BOOT_SERVER_PORT));
}

/* ---- REQUESTs on 67 ---------------------------------------------------------- */

Test(proxy_dhcp, request_on_67_naming_us_gets_ack_others_are_the_sites)
{
	const struct proxy_policy *p = policy_with("");
	static const struct {
		const char *server_id;
		enum proxy_decision want;
	} cases[] = {
		{ SERVER_IP, PROXY_ack },
		{ "10.0.2.2", PROXY_other_server },  /* QEMU's / the site's DHCP server */
		{ "10.0.2.11", PROXY_other_server },
		{ NULL, PROXY_other_server },         /* INIT-REBOOT: no option 54 */
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t req[MAX_PACKET];
		size_t len = REQ(req, .type = DHCP_REQUEST, .xid = 0xabcdef01, .flags = DHCP_FLAG_BROADCAST,
				 .server_id = cases[i].server_id, .has_arch = true, .arch = 7, .guid = ovmf_guid,
				 .vendor = UEFI_X64_VENDOR);
		struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

		expect_decision(handle(p, &d), cases[i].want, cases[i].server_id ? cases[i].server_id : "none");
		cr_expect(eq(int, ans.classified, true));
	}

	/* The ACK itself. */
	uint8_t req[MAX_PACKET];
	size_t len = REQ(req, .type = DHCP_REQUEST, .xid = 0xabcdef01, .flags = DHCP_FLAG_BROADCAST,
			 .server_id = SERVER_IP, .has_arch = true, .arch = 7, .guid = ovmf_guid, .vendor = UEFI_X64_VENDOR);
	struct net_udp_datagram d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	EXPECT_OPTION(&reply, DHCP_OPT_MSG_TYPE, DHCP_ACK);
	EXPECT_OPTION(&reply, DHCP_OPT_SERVER_ID, 10, 0, 2, 10);
	cr_assert(eq(u32, reply.xid, 0xabcdef01));
	cr_assert(eq(str, (char *)reply.file, "ipxe.efi"));
	EXPECT_OPTION_STR(&reply, DHCP_OPT_BOOTFILE, "ipxe.efi");
	expect_broadcast_to_68();

	/* Option 54 of the wrong length never names us. */
	len = REQ(req, .type = DHCP_REQUEST, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR);
	memmove(req + DHCP_OPTIONS_OFFSET + 3 + 5, req + DHCP_OPTIONS_OFFSET + 3, len - DHCP_OPTIONS_OFFSET - 3);
	memcpy(req + DHCP_OPTIONS_OFFSET + 3, BYTES(DHCP_OPT_SERVER_ID, 3, 10, 0, 2));
	d = from_client(req, len + 5, ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_other_server, "3-byte option 54");
}

Test(proxy_dhcp, other_types_on_67_are_not_answered)
{
	static const uint8_t types[] = { DHCP_INFORM, DHCP_DECLINE, DHCP_RELEASE, DHCP_OFFER, DHCP_ACK, DHCP_NAK, 0, 9,
					 0xff };
	const struct proxy_policy *p = policy_with("");

	for (size_t i = 0; i < COUNT(types); i++) {
		uint8_t req[MAX_PACKET];
		size_t len;
		struct net_udp_datagram d;

		/* type 0 is written as a one-byte option 53 of value 0 */
		len = REQ(req, .type = types[i] ? types[i] : 1, .server_id = SERVER_IP, .has_arch = true, .arch = 7,
			  .vendor = UEFI_X64_VENDOR);
		req[DHCP_OPTIONS_OFFSET + 2] = types[i];
		d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);
		expect_decision(handle(p, &d), PROXY_other_type, "type");
	}
}

/* ---- where replies go ------------------------------------------------------- */

Test(proxy_dhcp, relayed_discover_is_answered_through_the_relay)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	size_t len = relayed_discover(req);
	struct net_udp_datagram d = unicast(req, len, relay_mac, "10.1.2.1", DHCP_SERVER_PORT, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(ans.client.relayed);
	cr_assert(eq(u8[6], ans.to.mac, (uint8_t *)relay_mac), "the relay's MAC: no ARP needed");
	cr_assert(eq(u32, ans.to.ip, ip("10.1.2.1")));
	cr_assert(eq(u16, ans.to.port, DHCP_SERVER_PORT), "relays listen on 67");
	cr_assert(eq(u16, ans.src_port, DHCP_SERVER_PORT));
	cr_assert(eq(u32, reply.giaddr, ip("10.1.2.1")), "giaddr echoed");
	cr_assert(eq(u16, reply.flags, DHCP_FLAG_BROADCAST));
	cr_assert(eq(u8, reply.hops, 0));
	cr_assert(eq(str, (char *)reply.file, "ipxe.efi"));

	/* giaddr wins over the source address and over ciaddr. */
	memcpy(req + 12, (const uint8_t[]){ 10, 1, 2, 77 }, 4);
	d = unicast(req, len, relay_mac, "10.9.9.9", 3067, DHCP_SERVER_PORT);
	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(u32, ans.to.ip, ip("10.1.2.1")));
	cr_assert(eq(u16, ans.to.port, DHCP_SERVER_PORT));
	cr_assert(eq(u8[6], ans.to.mac, (uint8_t *)relay_mac));
}

Test(proxy_dhcp, ciaddr_is_unicast_to_ciaddr_68_whatever_the_flag)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	struct net_udp_datagram d;

	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	memcpy(req + 12, (const uint8_t[]){ 10, 0, 2, 15 }, 4);
	req[10] = 0; /* flags: no broadcast */
	d = unicast(req, sizeof(ovmf_discover), ovmf_mac, "10.0.2.15", DHCP_CLIENT_PORT, DHCP_SERVER_PORT);
	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(u8[6], ans.to.mac, (uint8_t *)ovmf_mac));
	cr_assert(eq(u32, ans.to.ip, ip("10.0.2.15")));
	cr_assert(eq(u16, ans.to.port, DHCP_CLIENT_PORT));
	cr_assert(eq(u16, ans.src_port, DHCP_SERVER_PORT));
	cr_assert(eq(u32, reply.ciaddr, 0), "an OFFER has no ciaddr");

	/* The broadcast flag set: still unicast to ciaddr (RFC 2131 §4.1: the
	 * flag matters only while the client has no address). */
	req[10] = 0x80;
	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(u32, ans.to.ip, ip("10.0.2.15")));
	cr_assert(eq(u16, ans.to.port, DHCP_CLIENT_PORT));

	/* ACK on 67 to a REQUEST with ciaddr, no broadcast flag. */
	size_t len = REQ(req, .type = DHCP_REQUEST, .ciaddr = "10.0.2.15", .server_id = SERVER_IP, .has_arch = true,
			 .arch = 7, .vendor = UEFI_X64_VENDOR);
	d = unicast(req, len, ovmf_mac, "10.0.2.15", DHCP_CLIENT_PORT, DHCP_SERVER_PORT);
	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	cr_assert(eq(u32, ans.to.ip, ip("10.0.2.15")));
	cr_assert(eq(u16, ans.to.port, DHCP_CLIENT_PORT));
	cr_assert(eq(u32, reply.ciaddr, ip("10.0.2.15")));
}

/* ---- silence: not ours, not well-formed, no policy ---------------------------------- */

Test(proxy_dhcp, non_pxe_clients_are_never_answered)
{
	const struct proxy_policy *p = policy_with("");
	static const char *const vendors[] = { "MSFT 5.0", "PXEClien", "pxeclient:Arch:00007", "udhcp 1.36.1",
					       "HTTPClien", " PXEClient", "" };
	uint8_t req[MAX_PACKET];
	struct net_udp_datagram d = from_client(dhclient_discover, sizeof(dhclient_discover), broadcast_mac,
						DHCP_SERVER_PORT);
	struct proxy_dhcp_counters zero = { 0 };

	expect_decision(handle(p, &d), PROXY_not_pxe, "dhclient");
	cr_assert(not(ans.classified));
	for (size_t i = 0; i < COUNT(vendors); i++) {
		size_t len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 7, .vendor = vendors[i]);

		d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);
		expect_decision(handle(p, &d), PROXY_not_pxe, vendors[i]);
		cr_expect(not(ans.classified), "%s", vendors[i]);
	}
	/* OVMF's own DISCOVER without option 60 (93, 94, 97 are not enough). */
	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	strip_option(req, sizeof(ovmf_discover), DHCP_OPT_VENDOR_CLASS);
	d = from_client(req, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_not_pxe, "ovmf without 60");
	/* Not PXE on 4011 either. */
	d = unicast(dhclient_discover, sizeof(dhclient_discover), ovmf_mac, "10.0.2.15", 68, PXE_BOOT_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_not_pxe, "dhclient on 4011");
	cr_assert(eq(u64[PROXY_RX_COUNT], counters.received, zero.received), "only PXE clients count as received");
	cr_assert(eq(u64, counters.decisions[PROXY_not_pxe], COUNT(vendors) + 3));
}

Test(proxy_dhcp, bootreply_is_not_a_request)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	struct net_udp_datagram d;

	/* Another proxy's OFFER seen on 67 (our own, say): op 2. */
	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	req[0] = DHCP_BOOTREPLY;
	d = from_client(req, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_not_request, "op 2");
	cr_assert(not(ans.classified));
	d.dst.port = PXE_BOOT_SERVER_PORT;
	expect_decision(handle(p, &d), PROXY_not_request, "op 2 on 4011");
}

Test(proxy_dhcp, malformed_requests_are_counted_and_dropped)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	struct net_udp_datagram d;
	size_t len;

	d = from_client(ovmf_discover, 100, ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "truncated header");
	d = from_client(ovmf_discover, 0, ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "empty");
	d = from_client(ovmf_discover, sizeof(ovmf_discover) - 10, ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "cut in option 60");

	for (size_t i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)(i * 37 + 11);
	d = from_client(req, sizeof(req), ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "garbage");

	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	req[DHCP_HEADER_LEN + 3] = 0x64;
	d = from_client(req, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "no magic cookie");

	/* A PXE client without option 53, or with a 2-byte one. */
	len = REQ(req, .type = 0, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR);
	d = from_client(req, len, ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "no option 53");
	len = REQ(req, .type = DHCP_DISCOVER, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR);
	memmove(req + DHCP_OPTIONS_OFFSET + 4, req + DHCP_OPTIONS_OFFSET + 3, len - DHCP_OPTIONS_OFFSET - 3);
	req[DHCP_OPTIONS_OFFSET + 1] = 2;
	req[DHCP_OPTIONS_OFFSET + 3] = 0;
	d = from_client(req, len + 1, ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_malformed, "2-byte option 53");

	uint64_t received = 0;
	for (int k = 0; k < PROXY_RX_COUNT; k++)
		received += counters.received[k];
	cr_assert(eq(u64, received, 0), "malformed messages are not counted as received");
	cr_assert(eq(u64, counters.decisions[PROXY_malformed], 7));
}

Test(proxy_dhcp, no_policy_yet_means_silence)
{
	struct net_udp_datagram d = from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);

	expect_decision(handle(NULL, &d), PROXY_no_policy, "NULL policy");
	cr_assert(ans.classified, "classified before the policy is looked at");
	cr_assert(eq(u64, counters.received[PROXY_RX_DISCOVER], 1));
	d = from_client(dhclient_discover, sizeof(dhclient_discover), ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(NULL, &d), PROXY_not_pxe, "not PXE comes first");
	d = unicast(ovmf_request_4011, sizeof(ovmf_request_4011), ovmf_mac, "10.0.2.15", 68, PXE_BOOT_SERVER_PORT);
	expect_decision(handle(NULL, &d), PROXY_no_policy, "4011");
	cr_assert(eq(u64, counters.received[PROXY_RX_REQUEST], 1));
}

/* ---- allow / deny / select ---------------------------------------------------- */

enum which_request { LOCAL_UEFI, RELAYED_UEFI, LOCAL_BIOS, UNICAST_4011 };

static struct net_udp_datagram which(enum which_request w, uint8_t *buf)
{
	size_t len;

	switch (w) {
	case LOCAL_UEFI:
		return from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);
	case RELAYED_UEFI:
		len = relayed_discover(buf);
		return unicast(buf, len, relay_mac, "10.1.2.1", DHCP_SERVER_PORT, DHCP_SERVER_PORT);
	case LOCAL_BIOS:
		len = bios_rom_discover(buf);
		return from_client(buf, len, ipxe_mac, DHCP_SERVER_PORT);
	case UNICAST_4011:
	default:
		return unicast(ovmf_request_4011, sizeof(ovmf_request_4011), ovmf_mac, "10.0.2.15", 68,
			       PXE_BOOT_SERVER_PORT);
	}
}

Test(proxy_dhcp, allow_deny_and_select_lists)
{
	static const struct {
		const char *lines;
		enum which_request req;
		enum proxy_decision want;
	} cases[] = {
		{ "", LOCAL_UEFI, PROXY_offer },
		{ "deny-mac 52:54:00:65:43:21\n", LOCAL_UEFI, PROXY_denied_mac },
		{ "deny-mac 52:54:00:65:43:21\n", LOCAL_BIOS, PROXY_offer },
		{ "deny-mac 52:54:00:65:43:21\n", UNICAST_4011, PROXY_denied_mac },
		{ "allow-mac 52:54:00:12:34:56\n", LOCAL_UEFI, PROXY_not_allowed },
		{ "allow-mac 52:54:00:12:34:56\n", LOCAL_BIOS, PROXY_offer },
		{ "allow-mac 52:54:00:65:43:21\ndeny-mac 52-54-00-65-43-21\n", LOCAL_UEFI, PROXY_denied_mac },
		/* unrelayed, address-less: the server's own address places the client */
		{ "deny-subnet 10.0.2.0/24\n", LOCAL_UEFI, PROXY_denied_subnet },
		{ "deny-subnet 10.0.2.10/32\n", LOCAL_UEFI, PROXY_denied_subnet },
		{ "deny-subnet 10.0.2.11/32\n", LOCAL_UEFI, PROXY_offer },
		/* relayed: the relay's address (giaddr) */
		{ "deny-subnet 10.0.2.0/24\n", RELAYED_UEFI, PROXY_offer },
		{ "deny-subnet 10.1.2.0/24\n", RELAYED_UEFI, PROXY_denied_subnet },
		{ "deny-subnet 10.1.2.0/24\n", LOCAL_UEFI, PROXY_offer },
		{ "allow-subnet 10.1.0.0/16\n", RELAYED_UEFI, PROXY_offer },
		{ "allow-subnet 10.1.0.0/16\n", LOCAL_UEFI, PROXY_not_allowed },
		{ "allow-subnet 0.0.0.0/0\ndeny-subnet 10.1.2.1/32\n", RELAYED_UEFI, PROXY_denied_subnet },
		{ "allow-subnet 0.0.0.0/0\ndeny-subnet 10.1.2.1/32\n", LOCAL_UEFI, PROXY_offer },
		/* a client with an address: its own */
		{ "deny-subnet 10.0.2.15/32\n", UNICAST_4011, PROXY_denied_subnet },
		{ "deny-subnet 10.0.2.10/32\n", UNICAST_4011, PROXY_ack },
		/* both allow lists must admit the client */
		{ "allow-mac 52:54:00:65:43:21\nallow-subnet 10.1.0.0/16\n", LOCAL_UEFI, PROXY_not_allowed },
		{ "allow-mac 52:54:00:65:43:21\nallow-subnet 10.1.0.0/16\n", RELAYED_UEFI, PROXY_offer },
		{ "deny-mac 52:54:00:65:43:21\nallow-subnet 10.1.0.0/16\n", RELAYED_UEFI, PROXY_denied_mac },
		{ "deny-mac 52:54:00:65:43:21\ndeny-subnet 10.1.0.0/16\n", RELAYED_UEFI, PROXY_denied_mac },
		/* selectors */
		{ "unmatched ignore\n", LOCAL_UEFI, PROXY_unmatched },
		{ "unmatched ignore\n", UNICAST_4011, PROXY_unmatched },
		{ "unmatched ignore\nselect-mac 52:54:00:65:43:21\n", LOCAL_UEFI, PROXY_offer },
		{ "unmatched ignore\nselect-mac 52:54:00:65:43:21\n", LOCAL_BIOS, PROXY_unmatched },
		{ "unmatched ignore\nselect-uuid 5d3c2b1a-0f9e-4d8c-b7a6-958473625140\n", LOCAL_UEFI, PROXY_offer },
		{ "unmatched ignore\nselect-uuid 5D3C2B1A-0F9E-4D8C-B7A6-958473625140\n", RELAYED_UEFI, PROXY_offer },
		{ "unmatched ignore\nselect-uuid 1a2b3c5d-9e0f-8c4d-b7a6-958473625140\n", LOCAL_UEFI, PROXY_unmatched },
		{ "unmatched ignore\nselect-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\n", LOCAL_BIOS, PROXY_offer },
		{ "unmatched ignore\nselect-arch efi-x64\n", LOCAL_UEFI, PROXY_offer },
		{ "unmatched ignore\nselect-arch efi-x64\n", LOCAL_BIOS, PROXY_unmatched },
		{ "unmatched ignore\nselect-arch bios\n", LOCAL_BIOS, PROXY_offer },
		{ "unmatched ignore\nselect-mac 52:54:00:65:43:21\ndeny-mac 52:54:00:65:43:21\n", LOCAL_UEFI,
		  PROXY_denied_mac },
		{ "unmatched ignore\nselect-mac 52:54:00:65:43:21\nallow-subnet 10.1.0.0/16\n", LOCAL_UEFI,
		  PROXY_not_allowed },
		{ "unmatched answer\nselect-mac 52:54:00:12:34:56\n", LOCAL_UEFI, PROXY_offer },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint8_t buf[MAX_PACKET];
		struct net_udp_datagram d = which(cases[i].req, buf);
		char what[256];

		snprintf(what, sizeof(what), "case %zu: request %d, policy \"%s\"", i, cases[i].req, cases[i].lines);
		expect_decision(handle(policy_with(cases[i].lines), &d), cases[i].want, what);
		free_policies();
	}
}

Test(proxy_dhcp, no_boot_file_for_the_arch_is_silence)
{
	const struct proxy_policy *p = policy_with("");
	uint8_t req[MAX_PACKET];
	struct net_udp_datagram d;
	size_t at;

	/* OVMF's DISCOVER claiming ARM64 (11): no boot-file efi-arm64 here. */
	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	at = find_option(req, sizeof(ovmf_discover), DHCP_OPT_CLIENT_ARCH);
	req[at + 1] = 11;
	d = from_client(req, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);
	expect_decision(handle(p, &d), PROXY_no_boot_file, "arm64");
	cr_assert(eq(int, ans.client.arch, PXE_ARCH_EFI_ARM64));
	cr_assert(eq(ptr, (void *)ans.boot_file, NULL));

	/* An architecture code nobody registered (8). */
	req[at + 1] = 8;
	expect_decision(handle(p, &d), PROXY_no_boot_file, "unknown arch");
	cr_assert(eq(int, ans.client.arch, PXE_ARCH_UNKNOWN));

	/* Without option 93 the Arch field of option 60 is used (00007). */
	memcpy(req, ovmf_discover, sizeof(ovmf_discover));
	strip_option(req, sizeof(ovmf_discover), DHCP_OPT_CLIENT_ARCH);
	expect_decision(handle(p, &d), PROXY_offer, "arch from option 60");
	cr_assert(eq(str, (char *)reply.file, "ipxe.efi"));

	/* BIOS with a policy for UEFI only; on 4011 too. */
	p = policy_exactly("server-ip 10.0.2.10\nboot-file efi-x64 ipxe.efi\n");
	d = which(LOCAL_BIOS, req);
	expect_decision(handle(p, &d), PROXY_no_boot_file, "bios without boot-file bios");
	p = policy_exactly("server-ip 10.0.2.10\nboot-file bios undionly.kpxe\n");
	d = which(UNICAST_4011, req);
	expect_decision(handle(p, &d), PROXY_no_boot_file, "4011 without boot-file efi-x64");
}

/* ---- pxelinux options, RFC 5071 ------------------------------------------------ */

Test(proxy_dhcp, pxelinux_options_209_and_210_follow_the_boot_file)
{
	const struct proxy_policy *p =
		policy_with("boot-file bios pxelinux.0\noption 209 pxelinux.cfg/default\noption 210 http://10.0.2.10/\n");
	uint8_t req[MAX_PACKET];
	size_t len = bios_rom_discover(req);
	struct net_udp_datagram d = from_client(req, len, ipxe_mac, DHCP_SERVER_PORT);

	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(str, (char *)reply.file, "pxelinux.0"));
	EXPECT_OPTION_STR(&reply, 209, "pxelinux.cfg/default");
	EXPECT_OPTION_STR(&reply, 210, "http://10.0.2.10/");
	EXPECT_ORDER(53, 54, 60, 97, 43, 67, 209, 210);

	/* In ACKs too. */
	len = boot_item_request(req, PROXY_BOOT_ITEM_TYPE, 0);
	d = unicast(req, len, ovmf_mac, "10.0.2.15", 68, PXE_BOOT_SERVER_PORT);
	p = policy_with("option 209 pxelinux.cfg/default\n");
	cr_assert(eq(int, handle(p, &d), PROXY_ack));
	EXPECT_OPTION_STR(&reply, 209, "pxelinux.cfg/default");
	EXPECT_ORDER(53, 54, 60, 97, 43, 67, 209);
}

/* ---- reply too large ---------------------------------------------------------- */

static void every_short_cap(const struct proxy_policy *p, const struct net_udp_datagram *d, enum proxy_decision ok)
{
	struct guard g;
	size_t full;

	cr_assert(eq(int, handle(p, d), ok));
	full = ans.len;
	cr_assert(gt(sz, full, DHCP_MIN_REPLY_LEN));
	guard_open(&g);
	for (size_t cap = 0; cap < full; cap++) {
		/* The buffer ends at a PROT_NONE page: a write at or past cap faults. */
		uint8_t *buf = g.map + g.page - cap;
		struct proxy_dhcp_counters before = counters;

		proxy_dhcp_handle(p, d, ip(SERVER_IP), &scratch, buf, cap, &ans, &counters);
		cr_expect(eq(int, ans.decision, PROXY_reply_too_large), "cap %zu", cap);
		cr_expect(eq(sz, ans.len, 0), "cap %zu", cap);
		cr_expect(eq(u64, counters.decisions[PROXY_reply_too_large],
			     before.decisions[PROXY_reply_too_large] + 1));
	}
	memset(g.map, 0, g.page);
	proxy_dhcp_handle(p, d, ip(SERVER_IP), &scratch, g.map + g.page - full, full, &ans, &counters);
	cr_expect(eq(int, ans.decision, ok), "cap == length");
	cr_expect(eq(sz, ans.len, full));
	guard_close(&g);
}

Test(proxy_dhcp, reply_too_large_for_every_short_cap_writes_nothing_past_it)
{
	char lines[2048], url[256], text[256];
	const struct proxy_policy *p;
	struct net_udp_datagram d;

	memset(url, 'u', 255);
	memcpy(url, "http://", 7);
	url[255] = '\0';
	memset(text, 't', 255);
	text[255] = '\0';
	snprintf(lines, sizeof(lines), "script-url %s\noption 209 %s\noption 210 %s\n", url, text, text);
	p = policy_with(lines);

	/* iPXE: a 255-byte script URL, two 255-byte options. */
	d = from_client(ipxe_bios_discover, sizeof(ipxe_bios_discover), ipxe_mac, DHCP_SERVER_PORT);
	every_short_cap(p, &d, PROXY_offer);
	/* Boot-server discovery: option 43 with servers, menu, prompt. */
	p = policy_with("boot-server efi-x64\nmenu Install Debian 12 over HTTP from the lab mirror\n");
	d = from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);
	every_short_cap(p, &d, PROXY_offer);
	/* 4011 ACK with the boot item. */
	d = unicast(ovmf_request_4011, sizeof(ovmf_request_4011), ovmf_mac, "10.0.2.15", 68, PXE_BOOT_SERVER_PORT);
	p = policy_with("option 209 pxelinux.cfg/default\n");
	every_short_cap(p, &d, PROXY_ack);
}

Test(proxy_dhcp, menu_too_long_for_option_43_is_reply_too_large)
{
	char lines[512], menu[256];
	const struct proxy_policy *p;
	struct net_udp_datagram d = from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, DHCP_SERVER_PORT);

	/* 3 + 9 + (5 + n) + 11 + 1 = 29 + n bytes of option 43: n = 226 fits. */
	memset(menu, 'm', 226);
	menu[226] = '\0';
	snprintf(lines, sizeof(lines), "boot-server efi-x64\nmenu %s\n", menu);
	p = policy_with(lines);
	cr_assert(eq(int, handle(p, &d), PROXY_offer));
	cr_assert(eq(u8, reply.options[DHCP_OPT_VENDOR_ENCAP].len, 255));
	memset(menu, 'm', 227);
	menu[227] = '\0';
	snprintf(lines, sizeof(lines), "boot-server efi-x64\nmenu %s\n", menu);
	p = policy_with(lines);
	expect_decision(handle(p, &d), PROXY_reply_too_large, "option 43 of 256 bytes");
}

/* ---- counters ----------------------------------------------------------------- */

Test(proxy_dhcp, names_of_decisions_and_kinds)
{
	static const char *const names[] = { "offer",       "ack",          "malformed",     "not_request",
					     "not_pxe",     "no_policy",    "other_type",    "other_server",
					     "denied_mac",  "denied_subnet", "not_allowed",  "unmatched",
					     "no_boot_file", "reply_too_large" };

	cr_assert(eq(sz, COUNT(names), PROXY_DECISION_COUNT));
	for (int i = 0; i < PROXY_DECISION_COUNT; i++)
		cr_expect(eq(str, (char *)proxy_decision_name(i), (char *)names[i]));
	cr_expect(eq(str, (char *)proxy_decision_name(PROXY_DECISION_COUNT), "unknown"));
	cr_expect(eq(str, (char *)proxy_decision_name((enum proxy_decision)-1), "unknown"));
	cr_expect(eq(str, (char *)proxy_msg_kind_name(PROXY_RX_DISCOVER), "discover"));
	cr_expect(eq(str, (char *)proxy_msg_kind_name(PROXY_RX_REQUEST), "request"));
	cr_expect(eq(str, (char *)proxy_msg_kind_name(PROXY_RX_INFORM), "inform"));
	cr_expect(eq(str, (char *)proxy_msg_kind_name(PROXY_RX_OTHER), "other"));
	cr_expect(eq(str, (char *)proxy_msg_kind_name(PROXY_RX_COUNT), "unknown"));
}

Test(proxy_dhcp, every_call_counts_one_decision_and_at_most_one_received)
{
	enum { NONE = -1 };
	const struct proxy_policy *p = policy_with("deny-mac 02:00:00:aa:bb:cc\n");
	uint8_t bufs[8][MAX_PACKET];
	struct {
		struct net_udp_datagram d;
		const struct proxy_policy *p;
		enum proxy_decision want;
		int kind;
	} seq[12];
	struct proxy_dhcp_counters model = { 0 };
	size_t n = 0, len;

	seq[n++] = (typeof(seq[0])){ from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, 67), p, PROXY_offer,
				     PROXY_RX_DISCOVER };
	seq[n++] = (typeof(seq[0])){ from_client(ovmf_discover, sizeof(ovmf_discover), ovmf_mac, 67), NULL,
				     PROXY_no_policy, PROXY_RX_DISCOVER };
	seq[n++] = (typeof(seq[0])){ unicast(ovmf_request_4011, sizeof(ovmf_request_4011), ovmf_mac, "10.0.2.15", 68,
					     PXE_BOOT_SERVER_PORT),
				     p, PROXY_ack, PROXY_RX_REQUEST };
	len = REQ(bufs[0], .type = DHCP_INFORM, .ciaddr = "10.0.2.15", .has_arch = true, .arch = 7,
		  .vendor = UEFI_X64_VENDOR);
	seq[n++] = (typeof(seq[0])){ unicast(bufs[0], len, ovmf_mac, "10.0.2.15", 68, PXE_BOOT_SERVER_PORT), p,
				     PROXY_ack, PROXY_RX_INFORM };
	seq[n++] = (typeof(seq[0])){ unicast(bufs[0], len, ovmf_mac, "10.0.2.15", 68, DHCP_SERVER_PORT), p,
				     PROXY_other_type, PROXY_RX_INFORM };
	len = REQ(bufs[1], .type = DHCP_RELEASE, .has_arch = true, .arch = 7, .vendor = UEFI_X64_VENDOR);
	seq[n++] = (typeof(seq[0])){ from_client(bufs[1], len, ovmf_mac, 67), p, PROXY_other_type, PROXY_RX_OTHER };
	len = REQ(bufs[2], .type = DHCP_REQUEST, .server_id = "10.0.2.2", .has_arch = true, .arch = 7,
		  .vendor = UEFI_X64_VENDOR);
	seq[n++] = (typeof(seq[0])){ from_client(bufs[2], len, ovmf_mac, 67), p, PROXY_other_server, PROXY_RX_REQUEST };
	seq[n++] = (typeof(seq[0])){ from_client(dhclient_discover, sizeof(dhclient_discover), broadcast_mac, 67), p,
				     PROXY_not_pxe, NONE };
	seq[n++] = (typeof(seq[0])){ from_client(ovmf_discover, 99, ovmf_mac, 67), p, PROXY_malformed, NONE };
	memcpy(bufs[3], ovmf_discover, sizeof(ovmf_discover));
	bufs[3][0] = DHCP_BOOTREPLY;
	seq[n++] = (typeof(seq[0])){ from_client(bufs[3], sizeof(ovmf_discover), ovmf_mac, 67), p, PROXY_not_request,
				     NONE };
	len = REQ(bufs[4], .type = DHCP_DISCOVER, .mac = (const uint8_t[]){ 0x02, 0, 0, 0xaa, 0xbb, 0xcc },
		  .has_arch = true, .arch = 0, .vendor = "PXEClient:Arch:00000:UNDI:002001");
	seq[n++] = (typeof(seq[0])){ from_client(bufs[4], len, broadcast_mac, 67), p, PROXY_denied_mac,
				     PROXY_RX_DISCOVER };
	len = REQ(bufs[5], .type = DHCP_DISCOVER, .has_arch = true, .arch = 11, .vendor = UEFI_X64_VENDOR);
	seq[n++] = (typeof(seq[0])){ from_client(bufs[5], len, ovmf_mac, 67), p, PROXY_no_boot_file,
				     PROXY_RX_DISCOVER };
	cr_assert(le(sz, n, COUNT(seq)));

	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < n; i++) {
			handle(seq[i].p, &seq[i].d);
			expect_decision(ans.decision, seq[i].want, "sequence");
			model.decisions[seq[i].want]++;
			if (seq[i].kind != NONE)
				model.received[seq[i].kind]++;
			cr_assert(eq(u64[PROXY_DECISION_COUNT], counters.decisions, model.decisions), "after call %zu", i);
			cr_assert(eq(u64[PROXY_RX_COUNT], counters.received, model.received), "after call %zu", i);
		}
	cr_assert(eq(u64, counters.received[PROXY_RX_DISCOVER], 12));
	cr_assert(eq(u64, counters.decisions[PROXY_offer], 3));
}

/* ---- robustness ---------------------------------------------------------------- */

/* Whatever the bytes, a reply is a well-formed proxy answer to them: never an
 * address, never a lease, the request's xid and chaddr. */
static void check_any_answer(const uint8_t *req, size_t req_len, size_t cap)
{
	uint32_t xid;

	if (!is_reply(ans.decision)) {
		cr_assert(eq(sz, ans.len, 0), "silence (%s) with bytes", proxy_decision_name(ans.decision));
		return;
	}
	cr_assert(ge(sz, req_len, DHCP_OPTIONS_OFFSET));
	cr_assert(ge(sz, ans.len, DHCP_MIN_REPLY_LEN));
	cr_assert(le(sz, ans.len, cap));
	cr_assert(eq(int, dhcp_parse(out, ans.len, &reply, &(const char *){ NULL }), 0));
	cr_assert(eq(u8, reply.op, DHCP_BOOTREPLY));
	cr_assert(eq(u32, reply.yiaddr, 0), "yiaddr is never set");
	expect_no_lease(&reply);
	xid = (uint32_t)req[4] << 24 | (uint32_t)req[5] << 16 | (uint32_t)req[6] << 8 | req[7];
	cr_assert(eq(u32, reply.xid, xid));
	cr_assert(eq(int, memcmp(reply.chaddr, req + 28, 16), 0));
	cr_assert(ans.classified);
}

struct robust_input {
	const uint8_t *bytes;
	size_t len;
};

static size_t robust_inputs(struct robust_input in[6], uint8_t bufs[3][MAX_PACKET])
{
	size_t n = 0;

	in[n++] = (struct robust_input){ ipxe_bios_discover, sizeof(ipxe_bios_discover) };
	in[n++] = (struct robust_input){ ovmf_discover, sizeof(ovmf_discover) };
	in[n++] = (struct robust_input){ ovmf_request_4011, sizeof(ovmf_request_4011) };
	in[n++] = (struct robust_input){ dhclient_discover, sizeof(dhclient_discover) };
	in[n].len = relayed_discover(bufs[0]);
	in[n].bytes = bufs[0];
	n++;
	in[n].len = bios_rom_discover(bufs[1]);
	in[n].bytes = bufs[1];
	n++;
	return n;
}

Test(proxy_dhcp, every_truncation_of_real_requests_is_safe)
{
	const struct proxy_policy *policies_to_try[2];
	static const uint16_t ports[] = { DHCP_SERVER_PORT, PXE_BOOT_SERVER_PORT };
	struct robust_input in[6];
	uint8_t bufs[3][MAX_PACKET];
	size_t n_in = robust_inputs(in, bufs);
	uint64_t calls = 0, total = 0;
	struct guard g;

	policies_to_try[0] = policy_with("option 209 pxelinux.cfg/default\n");
	policies_to_try[1] = policy_with("boot-server efi-x64\nboot-server bios\n");
	guard_open(&g);
	for (size_t i = 0; i < n_in; i++)
		for (size_t len = 0; len <= in[i].len; len++)
			for (size_t pi = 0; pi < 2; pi++)
				for (size_t k = 0; k < COUNT(ports); k++) {
					/* The request ends at a PROT_NONE page: no over-read. */
					const uint8_t *req = guard_tail(&g, in[i].bytes, len);
					struct net_udp_datagram d = from_client(req, len, ovmf_mac, ports[k]);

					proxy_dhcp_handle(policies_to_try[pi], &d, ip(SERVER_IP), &scratch, out,
							  sizeof(out), &ans, &counters);
					calls++;
					check_any_answer(req, len, sizeof(out));
					if (len < DHCP_OPTIONS_OFFSET)
						cr_assert(eq(int, ans.decision, PROXY_malformed), "len %zu", len);
				}
	guard_close(&g);
	for (int i = 0; i < PROXY_DECISION_COUNT; i++)
		total += counters.decisions[i];
	cr_assert(eq(u64, total, calls));
	cr_assert(gt(u64, counters.decisions[PROXY_offer], 0), "some prefixes are whole requests");
	cr_assert(gt(u64, counters.decisions[PROXY_ack], 0));
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

Test(proxy_dhcp, random_byte_flips_never_crash_or_lease)
{
	const struct proxy_policy *pols[2];
	struct robust_input in[6];
	uint8_t bufs[3][MAX_PACKET], req[MAX_PACKET];
	size_t n_in = robust_inputs(in, bufs);
	uint32_t seed = 0x5eed1234;
	uint64_t total = 0, answered = 0;
	enum { ROUNDS = 30000 };

	pols[0] = policy_with("option 210 http://10.0.2.10/\n");
	pols[1] = policy_with("boot-server efi-x64\nprompt 2 Hello\n");
	for (int r = 0; r < ROUNDS; r++) {
		const struct robust_input *src = &in[xorshift32(&seed) % n_in];
		size_t len = src->len, flips = 1 + xorshift32(&seed) % 8;
		uint16_t port = xorshift32(&seed) & 1 ? DHCP_SERVER_PORT : PXE_BOOT_SERVER_PORT;
		struct net_udp_datagram d;

		memcpy(req, src->bytes, len);
		for (size_t f = 0; f < flips; f++) {
			uint32_t x = xorshift32(&seed);
			/* Mostly in the header and options that decide (0..len), sometimes the op/length fields. */
			size_t at = x % len;

			req[at] ^= (uint8_t)(1 + (x >> 16) % 255);
		}
		if (xorshift32(&seed) % 4 == 0)
			len = xorshift32(&seed) % (len + 1);
		d = from_client(req, len, ovmf_mac, port);
		proxy_dhcp_handle(pols[r & 1], &d, ip(SERVER_IP), &scratch, out, sizeof(out), &ans, &counters);
		check_any_answer(req, len, sizeof(out));
		answered += is_reply(ans.decision);
	}
	for (int i = 0; i < PROXY_DECISION_COUNT; i++)
		total += counters.decisions[i];
	cr_assert(eq(u64, total, ROUNDS));
	cr_assert(gt(u64, answered, 0), "some mutants are still answered (and were checked)");
	cr_assert(gt(u64, counters.decisions[PROXY_malformed], 0));
}
