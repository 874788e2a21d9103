/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DHCP side of a PXE client, as firmware behaves (PXE 2.1, RFC 4578, and
 * what iPXE and EDK2 do on the wire): the DISCOVER of the firmware's first
 * stage, the boot-server REQUEST to port 4011, the DISCOVER iPXE sends once it
 * runs (option 175, user class "iPXE"), and how a reply is read: which boot
 * file, from which server, and whether the firmware must ask the boot server
 * first. Pure: buffers in, buffers out.
 */
#ifndef STAMPEDE_BENCH_PXE_CLIENT_H
#define STAMPEDE_BENCH_PXE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXE_CLIENT_MSG_MAX 576 /* RFC 2131's minimum maximum message size */

enum pxe_client_stage {
	PXE_STAGE_FIRMWARE,    /* DISCOVER from the NIC's PXE ROM or EDK2 */
	PXE_STAGE_BOOT_SERVER, /* REQUEST to the boot server on 4011 */
	PXE_STAGE_IPXE,        /* DISCOVER from iPXE, chain-loaded */
};

struct pxe_client_identity {
	uint8_t mac[6];
	uint8_t guid[16];
	uint16_t arch; /* RFC 4578 option 93: 0 BIOS, 7 UEFI x64, 11 ARM64 ... */
};

/* What a server's reply tells the client to do next. */
struct pxe_offer {
	uint8_t msg_type;       /* option 53: 2 OFFER, 5 ACK */
	uint32_t xid;
	uint8_t chaddr[6];
	uint32_t yiaddr;        /* a proxy never sets it; kept to check that */
	uint32_t server;        /* where to fetch from: siaddr, else option 54 (network order) */
	uint32_t server_id;     /* option 54 (network order), 0 if absent */
	bool pxe;               /* option 60 "PXEClient" (or "HTTPClient"): a boot server's reply */
	bool has_boot_menu;     /* option 43 with boot servers / a menu: ask the boot server */
	bool discovery_direct;  /* option 43 discovery control bit 3: use the boot file as is */
	uint16_t boot_item;     /* the menu's first item type, for the 4011 REQUEST */
	bool has_boot_item;     /* option 43 sub-option 71 (an ACK from the boot server) */
	char boot_file[256];    /* file field or option 67 (option 67 wins), NUL-terminated */
};

/* A request for stage, transaction xid; returns its length (<= PXE_CLIENT_MSG_MAX).
 * boot_item is used by PXE_STAGE_BOOT_SERVER when has_boot_item; so is ciaddr
 * (network order): by then firmware has its address from the site's server,
 * and boot servers (dnsmasq among them) answer only a client that has one. */
size_t pxe_client_build(uint8_t *buf, enum pxe_client_stage stage, const struct pxe_client_identity *id,
			uint32_t xid, bool has_boot_item, uint16_t boot_item, uint32_t ciaddr);

/* Reads a BOOTREPLY; false with *why set when it is not one. */
bool pxe_client_read_reply(const uint8_t *buf, size_t len, struct pxe_offer *out, const char **why);

/* Whether the firmware asks the boot server (4011) before it downloads:
 * a menu or boot-server list, or — as EDK2 does — a reply to a UEFI client
 * without option 43. */
bool pxe_client_needs_boot_server(const struct pxe_offer *offer, uint16_t arch);

#endif
