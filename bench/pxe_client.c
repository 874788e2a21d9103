/* SPDX-License-Identifier: BSD-2-Clause */
#include "pxe_client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"

/* PXE 2.1 §2.4, table 2-1: sub-options of option 43. */
enum {
	PXE_DISCOVERY_CONTROL = 6,
	PXE_BOOT_SERVERS = 8,
	PXE_BOOT_MENU = 9,
	PXE_BOOT_ITEM = 71,
};
#define PXE_DISCOVERY_USE_BOOT_FILE 0x08 /* bit 3: "download the boot file in the offer" */

struct writer {
	uint8_t *p, *end;
};

static void put(struct writer *w, const void *data, size_t len)
{
	if ((size_t)(w->end - w->p) < len) {
		w->p = w->end; /* cannot happen with the fixed options below; truncate rather than overflow */
		return;
	}
	memcpy(w->p, data, len);
	w->p += len;
}

static void put_option(struct writer *w, uint8_t code, const void *data, uint8_t len)
{
	uint8_t head[2] = { code, len };

	put(w, head, 2);
	put(w, data, len);
}

size_t pxe_client_build(uint8_t *buf, enum pxe_client_stage stage, const struct pxe_client_identity *id,
			uint32_t xid, bool has_boot_item, uint16_t boot_item, uint32_t ciaddr)
{
	/* What firmware asks for; iPXE adds its own options (175 and friends). */
	static const uint8_t params[] = { 1, 3, 6, 12, 15, 17, 43, 54, 60, 66, 67, 97, 128, 175, 209, 210 };
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	struct writer w = { buf, buf + PXE_CLIENT_MSG_MAX };
	uint8_t msg_type = stage == PXE_STAGE_BOOT_SERVER ? DHCP_REQUEST : DHCP_DISCOVER;
	uint8_t arch[2] = { (uint8_t)(id->arch >> 8), (uint8_t)id->arch };
	uint8_t undi[3] = { 1, 3, 16 }; /* UNDI 3.16 */
	uint8_t guid[17] = { 0 };       /* type 0, then the GUID */
	uint8_t max_size[2] = { 0x05, 0xc0 }; /* 1472 */
	char vendor[48];
	int vlen;

	memset(buf, 0, PXE_CLIENT_MSG_MAX);
	buf[0] = DHCP_BOOTREQUEST;
	buf[1] = 1; /* Ethernet */
	buf[2] = 6;
	xid = htonl(xid);
	memcpy(buf + 4, &xid, 4);
	if (stage != PXE_STAGE_BOOT_SERVER)
		buf[10] = 0x80; /* broadcast flag: no address yet */
	else
		memcpy(buf + 12, &ciaddr, 4);
	memcpy(buf + 28, id->mac, 6);
	w.p = buf + DHCP_HEADER_LEN;
	put(&w, cookie, 4);
	put_option(&w, DHCP_OPT_MSG_TYPE, &msg_type, 1);
	put_option(&w, 57, max_size, 2);
	put_option(&w, DHCP_OPT_PARAM_REQUEST, params, sizeof(params));
	vlen = snprintf(vendor, sizeof(vendor), "PXEClient:Arch:%05u:UNDI:003016", id->arch);
	put_option(&w, DHCP_OPT_VENDOR_CLASS, vendor, (uint8_t)vlen);
	put_option(&w, DHCP_OPT_CLIENT_ARCH, arch, 2);
	put_option(&w, DHCP_OPT_CLIENT_NDI, undi, 3);
	memcpy(guid + 1, id->guid, 16);
	put_option(&w, DHCP_OPT_CLIENT_UUID, guid, 17);
	if (stage == PXE_STAGE_IPXE) {
		static const uint8_t ipxe_features[] = { 0x13, 1, 1, 0x15, 1, 1, 0x18, 1, 1 }; /* pxe, http, tftp */

		put_option(&w, DHCP_OPT_IPXE_ENCAP, ipxe_features, sizeof(ipxe_features));
		put_option(&w, DHCP_OPT_USER_CLASS, "iPXE", 4);
	}
	if (stage == PXE_STAGE_BOOT_SERVER && has_boot_item) {
		uint8_t item[7] = { PXE_BOOT_ITEM, 4, (uint8_t)(boot_item >> 8), (uint8_t)boot_item, 0, 0, 255 };

		put_option(&w, DHCP_OPT_VENDOR_ENCAP, item, sizeof(item));
	}
	put(&w, &(uint8_t){ DHCP_OPT_END }, 1);
	/* Firmware pads to the BOOTP minimum of 300 bytes; some servers insist. */
	return (size_t)(w.p - buf) < DHCP_MIN_REPLY_LEN ? DHCP_MIN_REPLY_LEN : (size_t)(w.p - buf);
}

static void read_vendor_options(const struct dhcp_option *o, struct pxe_offer *out)
{
	const uint8_t *p = o->data, *end = o->data + o->len;

	while (p < end && *p != 255) {
		uint8_t code = *p, len;

		if (code == 0) {
			p++;
			continue;
		}
		if (end - p < 2 || end - p - 2 < p[1])
			return; /* truncated: keep what was read */
		len = p[1];
		if (code == PXE_DISCOVERY_CONTROL && len >= 1)
			out->discovery_direct = (p[2] & PXE_DISCOVERY_USE_BOOT_FILE) != 0;
		else if ((code == PXE_BOOT_SERVERS || code == PXE_BOOT_MENU) && len >= 2) {
			if (!out->has_boot_menu)
				out->boot_item = (uint16_t)(p[2] << 8 | p[3]);
			out->has_boot_menu = true;
		} else if (code == PXE_BOOT_ITEM && len >= 2) {
			out->has_boot_item = true;
			out->boot_item = (uint16_t)(p[2] << 8 | p[3]);
		}
		p += 2 + len;
	}
}

static void copy_text(char *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
	size_t n = strnlen((const char *)src, src_len);

	if (n >= dst_len)
		n = dst_len - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

bool pxe_client_read_reply(const uint8_t *buf, size_t len, struct pxe_offer *out, const char **why)
{
	struct dhcp_message m;
	const struct dhcp_option *o;

	memset(out, 0, sizeof(*out));
	if (dhcp_parse(buf, len, &m, why) != 0)
		return false;
	if (m.op != DHCP_BOOTREPLY) {
		*why = "not a BOOTREPLY";
		return false;
	}
	if (!(o = dhcp_option(&m, DHCP_OPT_MSG_TYPE)) || o->len != 1) {
		*why = "no message type";
		return false;
	}
	out->msg_type = o->data[0];
	out->xid = m.xid;
	memcpy(out->chaddr, m.chaddr, 6);
	out->yiaddr = m.yiaddr;
	if ((o = dhcp_option(&m, DHCP_OPT_SERVER_ID)) && o->len == 4)
		memcpy(&out->server_id, o->data, 4);
	out->server = m.siaddr ? m.siaddr : out->server_id;
	if ((o = dhcp_option(&m, DHCP_OPT_VENDOR_CLASS)))
		out->pxe = (o->len >= 9 && !memcmp(o->data, "PXEClient", 9)) ||
			   (o->len >= 10 && !memcmp(o->data, "HTTPClient", 10));
	if ((o = dhcp_option(&m, DHCP_OPT_VENDOR_ENCAP)))
		read_vendor_options(o, out);
	if ((o = dhcp_option(&m, DHCP_OPT_BOOTFILE)))
		copy_text(out->boot_file, sizeof(out->boot_file), o->data, o->len);
	else if (!(m.overload & DHCP_OVERLOAD_FILE))
		copy_text(out->boot_file, sizeof(out->boot_file), m.file, DHCP_FILE_LEN);
	return true;
}

bool pxe_client_needs_boot_server(const struct pxe_offer *offer, uint16_t arch)
{
	if (offer->boot_file[0] && offer->discovery_direct)
		return false;
	if (offer->has_boot_menu)
		return true;
	/* EDK2 asks the boot server ("BINL") when a proxy offer has no option 43. */
	return arch != 0 || !offer->boot_file[0];
}
