/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The swarm's PXE client (bench/pxe_client.c): its requests are read back by
 * the dataplane's own parser and classifier (dhcp_parse, dhcp_pxe_client), so
 * a simulated client is what Stampede takes for firmware; replies are read as
 * firmware reads them; hostile replies never crash it.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp.h"
#include "pxe_client.h"

static const struct pxe_client_identity bios = {
	.mac = { 0x02, 0x5b, 0, 0, 0, 7 },
	.guid = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
	.arch = 0,
};

static void parse_request(const uint8_t *buf, size_t len, struct dhcp_message *m, struct pxe_client *c)
{
	const char *why = NULL;

	cr_assert(eq(int, dhcp_parse(buf, len, m, &why), 0), "%s", why ? why : "");
	cr_assert(eq(int, dhcp_pxe_client(m, c), 0));
}

Test(pxe_client, firmware_discover_is_what_stampede_takes_for_pxe_firmware)
{
	uint8_t buf[PXE_CLIENT_MSG_MAX];
	size_t len = pxe_client_build(buf, PXE_STAGE_FIRMWARE, &bios, 0x1234, false, 0, 0);
	struct dhcp_message m;
	struct pxe_client c;

	cr_expect(ge(sz, len, DHCP_MIN_REPLY_LEN));
	parse_request(buf, len, &m, &c);
	cr_expect(eq(u8, m.op, DHCP_BOOTREQUEST));
	cr_expect(eq(u32, m.xid, 0x1234));
	cr_expect(eq(u16, m.flags, DHCP_FLAG_BROADCAST));
	cr_expect(eq(u32, m.ciaddr, 0));
	cr_expect(eq(int, memcmp(m.chaddr, bios.mac, 6), 0));
	cr_expect(eq(int, c.msg_type, DHCP_DISCOVER));
	cr_expect(eq(int, c.arch, PXE_ARCH_BIOS));
	cr_expect(eq(int, c.ipxe, false));
	cr_expect(eq(int, c.guid_valid, true));
	cr_expect(eq(int, memcmp(c.uuid + 1, bios.guid, 16), 0));
	cr_expect(eq(int, memcmp(dhcp_option(&m, DHCP_OPT_VENDOR_CLASS)->data, "PXEClient:Arch:00000:UNDI:003016", 32),
		     0));
}

Test(pxe_client, ipxe_discover_carries_175_and_the_user_class)
{
	struct pxe_client_identity uefi = bios;
	uint8_t buf[PXE_CLIENT_MSG_MAX];
	size_t len;
	struct dhcp_message m;
	struct pxe_client c;

	uefi.arch = 7;
	len = pxe_client_build(buf, PXE_STAGE_IPXE, &uefi, 99, false, 0, 0);
	parse_request(buf, len, &m, &c);
	cr_expect(eq(int, c.msg_type, DHCP_DISCOVER));
	cr_expect(eq(int, c.arch, PXE_ARCH_EFI_X64));
	cr_expect(eq(int, c.ipxe_by_175, true));
	cr_expect(eq(int, c.ipxe_by_user_class, true));
}

Test(pxe_client, boot_server_request_has_the_address_and_the_boot_item)
{
	uint8_t buf[PXE_CLIENT_MSG_MAX];
	uint32_t ciaddr = inet_addr("10.1.2.3");
	size_t len = pxe_client_build(buf, PXE_STAGE_BOOT_SERVER, &bios, 7, true, 0x8000, ciaddr);
	struct dhcp_message m;
	struct pxe_client c;
	const struct dhcp_option *o;

	parse_request(buf, len, &m, &c);
	cr_expect(eq(int, c.msg_type, DHCP_REQUEST));
	cr_expect(eq(u32, m.ciaddr, ciaddr));
	cr_expect(eq(u16, m.flags, 0), "a client with an address asks for unicast");
	o = dhcp_option(&m, DHCP_OPT_VENDOR_ENCAP);
	cr_assert(not(eq(ptr, (void *)o, NULL)));
	cr_expect(eq(u8, o->data[0], 71));
	cr_expect(eq(u8, o->data[2], 0x80));
	cr_expect(eq(u8, o->data[3], 0x00));

	len = pxe_client_build(buf, PXE_STAGE_BOOT_SERVER, &bios, 7, false, 0, ciaddr);
	parse_request(buf, len, &m, &c);
	cr_expect(eq(ptr, (void *)dhcp_option(&m, DHCP_OPT_VENDOR_ENCAP), NULL), "no item: no option 43 (EDK2)");
}

/* A reply: header fields, then options (code, len, bytes...) ended by 255. */
static size_t reply(uint8_t *buf, uint32_t siaddr, const char *file, const uint8_t *opts, size_t opts_len)
{
	memset(buf, 0, 600);
	buf[0] = DHCP_BOOTREPLY;
	buf[1] = 1;
	buf[2] = 6;
	buf[4] = 0xab;
	memcpy(buf + 20, &siaddr, 4);
	memcpy(buf + 28, bios.mac, 6);
	if (file)
		memcpy(buf + 108, file, strlen(file));
	memcpy(buf + 236, (uint8_t[]){ 99, 130, 83, 99 }, 4);
	memcpy(buf + 240, opts, opts_len);
	return 240 + opts_len;
}

Test(pxe_client, offer_with_discovery_control_8_is_used_as_is)
{
	static const uint8_t opts[] = { 53, 1, 2, 54, 4, 10, 0, 0, 1, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't',
					43, 4, 6, 1, 8, 255, 255 };
	uint8_t buf[600];
	size_t len = reply(buf, 0, "undionly.kpxe", opts, sizeof(opts));
	struct pxe_offer o;
	const char *why;

	cr_assert(pxe_client_read_reply(buf, len, &o, &why));
	cr_expect(eq(u8, o.msg_type, 2));
	cr_expect(o.pxe);
	cr_expect(o.discovery_direct);
	cr_expect(eq(str, o.boot_file, "undionly.kpxe"));
	cr_expect(eq(u32, o.server, inet_addr("10.0.0.1")), "no siaddr: the server identifier");
	cr_expect(not(pxe_client_needs_boot_server(&o, 0)));
	cr_expect(not(pxe_client_needs_boot_server(&o, 7)));
}

Test(pxe_client, option_67_wins_over_the_file_field_and_siaddr_over_54)
{
	static const uint8_t opts[] = { 53, 1, 5, 54, 4, 10, 0, 0, 1, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't',
					67, 8, 'i', 'p', 'x', 'e', '.', 'e', 'f', 'i', 255 };
	uint8_t buf[600];
	size_t len = reply(buf, inet_addr("10.0.0.9"), "other", opts, sizeof(opts));
	struct pxe_offer o;
	const char *why;

	cr_assert(pxe_client_read_reply(buf, len, &o, &why));
	cr_expect(eq(str, o.boot_file, "ipxe.efi"));
	cr_expect(eq(u32, o.server, inet_addr("10.0.0.9")));
	cr_expect(eq(u32, o.server_id, inet_addr("10.0.0.1")));
}

Test(pxe_client, a_menu_sends_the_client_to_the_boot_server_with_its_first_item)
{
	/* dnsmasq's shape: discovery control 3, boot servers (type 0x8000), a menu, a prompt. */
	static const uint8_t opts[] = { 53, 1, 2, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't',
					43, 19, 6, 1, 3, 8, 7, 0x80, 0x00, 1, 10, 0, 0, 1, 9, 5, 0x80, 0x00, 2, 'o', 'k',
					255, 255 };
	uint8_t buf[600];
	size_t len = reply(buf, 0, NULL, opts, sizeof(opts));
	struct pxe_offer o;
	const char *why;

	cr_assert(pxe_client_read_reply(buf, len, &o, &why));
	cr_expect(o.has_boot_menu);
	cr_expect(not(o.discovery_direct));
	cr_expect(eq(u16, o.boot_item, 0x8000));
	cr_expect(pxe_client_needs_boot_server(&o, 0));
}

Test(pxe_client, uefi_without_option_43_asks_the_boot_server_as_edk2_does)
{
	static const uint8_t opts[] = { 53, 1, 2, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 255 };
	uint8_t buf[600];
	size_t len = reply(buf, inet_addr("10.0.0.1"), "ipxe.efi", opts, sizeof(opts));
	struct pxe_offer o;
	const char *why;

	cr_assert(pxe_client_read_reply(buf, len, &o, &why));
	cr_expect(pxe_client_needs_boot_server(&o, 7));
	cr_expect(not(pxe_client_needs_boot_server(&o, 0)), "a BIOS ROM takes the file");
}

Test(pxe_client, requests_and_garbage_are_not_replies)
{
	uint8_t buf[PXE_CLIENT_MSG_MAX];
	size_t len = pxe_client_build(buf, PXE_STAGE_FIRMWARE, &bios, 1, false, 0, 0);
	struct pxe_offer o;
	const char *why = NULL;

	cr_expect(not(pxe_client_read_reply(buf, len, &o, &why)));
	cr_expect(not(eq(ptr, (void *)why, NULL)));
	cr_expect(not(pxe_client_read_reply(buf, 10, &o, &why)));
}

Test(pxe_client, random_and_truncated_replies_never_crash)
{
	static const uint8_t opts[] = { 53, 1, 2, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't',
					43, 19, 6, 1, 3, 8, 7, 0x80, 0x00, 1, 10, 0, 0, 1, 9, 5, 0x80, 0x00, 2, 'o', 'k',
					67, 3, 'a', 'b', 'c', 255 };
	uint8_t base[600], buf[600];
	size_t len = reply(base, 0, "f", opts, sizeof(opts));
	struct pxe_offer o;
	const char *why;

	srand(7);
	for (size_t cut = 0; cut <= len; cut++)
		pxe_client_read_reply(base, cut, &o, &why);
	for (int i = 0; i < 20000; i++) {
		memcpy(buf, base, len);
		for (int k = 0; k < 4; k++)
			buf[236 + rand() % (int)(len - 236)] = (uint8_t)rand();
		if (pxe_client_read_reply(buf, len, &o, &why))
			cr_assert(lt(sz, strlen(o.boot_file), sizeof(o.boot_file)));
	}
}
