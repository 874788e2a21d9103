/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyDHCP: parse what PXE firmware sends, decide what kind of client it is,
 * and build the boot-information-only reply.
 *
 * The parser walks the options like a cursor over a bounded field (systemd's
 * dhcp-option.c, xdp-tutorial's parsing helpers): every length byte is compared
 * with what remains of the field before the data is touched. Options are kept as
 * pointers into the packet in a 256-entry table, so a lookup is an index and
 * parsing allocates nothing. The builder writes through a cursor that refuses
 * to move past cap, so a reply that does not fit is a 0, never an overflow.
 */
#include "dhcp.h"

#include <errno.h>
#include <string.h>

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- parsing ------------------------------------------------------------- */

/*
 * Walk one options area (the options field, or file/sname when overloaded).
 * RFC 2132 §2: pad (0) and end (255) are single bytes; every other option is
 * code, length, data. Returns 0 or -EBADMSG.
 */
static int walk_options(const uint8_t *p, size_t len, struct dhcp_message *msg, const char **why)
{
	size_t pos = 0;

	while (pos < len) {
		uint8_t code = p[pos++], olen;

		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return 0;
		if (pos == len) {
			*why = "malformed DHCP message: option length missing";
			return -EBADMSG;
		}
		olen = p[pos++];
		if (olen > len - pos) {
			*why = "malformed DHCP message: option runs past the end";
			return -EBADMSG;
		}
		/* First occurrence wins (see dhcp.h). */
		if (!msg->options[code].present)
			msg->options[code] = (struct dhcp_option){ .data = p + pos, .len = olen, .present = true };
		pos += olen;
	}
	return 0; /* the end of the area stands for the end option */
}

int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_message *msg, const char **why)
{
	const struct dhcp_option *ovl;
	int r;

	if (len < DHCP_OPTIONS_OFFSET) {
		*why = "malformed DHCP message: truncated header";
		return -EBADMSG;
	}
	msg->op = buf[0];
	msg->htype = buf[1];
	msg->hlen = buf[2];
	msg->hops = buf[3];
	if (msg->op != DHCP_BOOTREQUEST && msg->op != DHCP_BOOTREPLY) {
		*why = "malformed DHCP message: op is neither BOOTREQUEST nor BOOTREPLY";
		return -EBADMSG;
	}
	if (msg->hlen > DHCP_CHADDR_LEN) {
		*why = "malformed DHCP message: hardware address longer than 16 bytes";
		return -EBADMSG;
	}
	if (get_be32(buf + DHCP_HEADER_LEN) != DHCP_COOKIE) {
		*why = "not DHCP: no magic cookie";
		return -EBADMSG;
	}
	msg->xid = get_be32(buf + 4);
	msg->secs = get_be16(buf + 8);
	msg->flags = get_be16(buf + 10);
	memcpy(&msg->ciaddr, buf + 12, 4);
	memcpy(&msg->yiaddr, buf + 16, 4);
	memcpy(&msg->siaddr, buf + 20, 4);
	memcpy(&msg->giaddr, buf + 24, 4);
	memcpy(msg->chaddr, buf + 28, DHCP_CHADDR_LEN);
	msg->sname = buf + 44;
	msg->file = buf + 44 + DHCP_SNAME_LEN;
	msg->overload = 0;
	memset(msg->options, 0, sizeof(msg->options));

	r = walk_options(buf + DHCP_OPTIONS_OFFSET, len - DHCP_OPTIONS_OFFSET, msg, why);
	if (r < 0)
		return r;

	/* RFC 2132 §9.3: option 52 is only meaningful in the options field, so it
	 * is read before the overloaded fields are walked (one found there is
	 * ignored). RFC 2131 §4.1: options, then file, then sname. */
	ovl = dhcp_option(msg, DHCP_OPT_OVERLOAD);
	if (!ovl)
		return 0;
	if (ovl->len != 1 || ovl->data[0] < 1 || ovl->data[0] > 3) {
		*why = "malformed DHCP message: option 52 must be one byte, 1 to 3";
		return -EBADMSG;
	}
	msg->overload = ovl->data[0];
	if (msg->overload & DHCP_OVERLOAD_FILE) {
		r = walk_options(msg->file, DHCP_FILE_LEN, msg, why);
		if (r < 0)
			return r;
	}
	if (msg->overload & DHCP_OVERLOAD_SNAME)
		return walk_options(msg->sname, DHCP_SNAME_LEN, msg, why);
	return 0;
}

/* ---- classification ------------------------------------------------------ */

static const struct {
	uint16_t code;
	enum pxe_arch arch;
} arch_codes[] = {
	{ 0, PXE_ARCH_BIOS },           { 6, PXE_ARCH_EFI_IA32 },       { 7, PXE_ARCH_EFI_X64 },
	{ 9, PXE_ARCH_EFI_X64 },        { 10, PXE_ARCH_EFI_ARM32 },     { 11, PXE_ARCH_EFI_ARM64 },
	{ 15, PXE_ARCH_EFI_IA32_HTTP }, { 16, PXE_ARCH_EFI_X64_HTTP }, { 19, PXE_ARCH_EFI_ARM64_HTTP },
};

enum pxe_arch pxe_arch_from_code(uint16_t code)
{
	for (size_t i = 0; i < sizeof(arch_codes) / sizeof(arch_codes[0]); i++)
		if (arch_codes[i].code == code)
			return arch_codes[i].arch;
	return PXE_ARCH_UNKNOWN;
}

static const char *const arch_names[PXE_ARCH_COUNT] = {
	[PXE_ARCH_UNKNOWN] = "unknown",
	[PXE_ARCH_BIOS] = "bios",
	[PXE_ARCH_EFI_IA32] = "efi-ia32",
	[PXE_ARCH_EFI_X64] = "efi-x64",
	[PXE_ARCH_EFI_ARM32] = "efi-arm32",
	[PXE_ARCH_EFI_ARM64] = "efi-arm64",
	[PXE_ARCH_EFI_IA32_HTTP] = "efi-ia32-http",
	[PXE_ARCH_EFI_X64_HTTP] = "efi-x64-http",
	[PXE_ARCH_EFI_ARM64_HTTP] = "efi-arm64-http",
};

const char *pxe_arch_name(enum pxe_arch arch)
{
	if ((unsigned)arch >= PXE_ARCH_COUNT)
		return "unknown";
	return arch_names[arch];
}

int pxe_arch_from_name(const char *name)
{
	for (int a = PXE_ARCH_UNKNOWN + 1; a < PXE_ARCH_COUNT; a++)
		if (strcmp(name, arch_names[a]) == 0)
			return a;
	return -1;
}

bool pxe_arch_is_http(enum pxe_arch arch)
{
	return arch == PXE_ARCH_EFI_IA32_HTTP || arch == PXE_ARCH_EFI_X64_HTTP || arch == PXE_ARCH_EFI_ARM64_HTTP;
}

static bool has_prefix(const struct dhcp_option *o, const char *prefix)
{
	size_t n = strlen(prefix);

	return o && o->len >= n && memcmp(o->data, prefix, n) == 0;
}

/*
 * PXE 2.1 §2.2.1: option 60 is "PXEClient:Arch:xxxxx:UNDI:yyyzzz", the
 * architecture in five decimal digits. Looks for ":Arch:" followed by 1 to 5
 * digits ending the option or followed by ':'. Returns false when absent.
 */
static bool arch_from_vendor_class(const struct dhcp_option *o, uint16_t *code)
{
	static const char tag[] = ":Arch:";
	const size_t tag_len = sizeof(tag) - 1;

	for (size_t i = 0; i + tag_len <= o->len; i++) {
		uint32_t v = 0;
		size_t j, digits = 0;

		if (memcmp(o->data + i, tag, tag_len) != 0)
			continue;
		for (j = i + tag_len; j < o->len && o->data[j] >= '0' && o->data[j] <= '9' && digits < 6; j++, digits++)
			v = v * 10 + (uint32_t)(o->data[j] - '0');
		if (digits == 0 || digits > 5 || v > UINT16_MAX || (j < o->len && o->data[j] != ':'))
			return false;
		*code = (uint16_t)v;
		return true;
	}
	return false;
}

/* RFC 3004 §4: user class is a list of (length, data) entries; iPXE sends the
 * bare string "iPXE" instead. Either form naming "iPXE" counts. */
static bool user_class_is_ipxe(const struct dhcp_option *o)
{
	size_t pos = 0;

	if (!o)
		return false;
	if (o->len == 4 && memcmp(o->data, "iPXE", 4) == 0)
		return true;
	while (pos < o->len) {
		uint8_t n = o->data[pos++];

		if (n == 0 || n > o->len - pos)
			return false; /* not an RFC 3004 list */
		if (n == 4 && memcmp(o->data + pos, "iPXE", 4) == 0)
			return true;
		pos += n;
	}
	return false;
}

/* PXE 2.1 §2.4: the boot item (sub-option 71) in a request's option 43. */
static bool find_boot_item(const struct dhcp_option *o, uint16_t *type, uint16_t *layer)
{
	size_t pos = 0;

	if (!o)
		return false;
	while (pos < o->len) {
		uint8_t sub = o->data[pos++], n;

		if (sub == 0)
			continue;
		if (sub == PXE_SUB_END || pos == o->len)
			return false;
		n = o->data[pos++];
		if (n > o->len - pos)
			return false;
		if (sub == PXE_SUB_BOOT_ITEM && n == 4) {
			*type = get_be16(o->data + pos);
			*layer = get_be16(o->data + pos + 2);
			return true;
		}
		pos += n;
	}
	return false;
}

int dhcp_pxe_client(const struct dhcp_message *m, struct pxe_client *out)
{
	const struct dhcp_option *vc = dhcp_option(m, DHCP_OPT_VENDOR_CLASS);
	const struct dhcp_option *type = dhcp_option(m, DHCP_OPT_MSG_TYPE);
	const struct dhcp_option *arch = dhcp_option(m, DHCP_OPT_CLIENT_ARCH);
	const struct dhcp_option *ndi = dhcp_option(m, DHCP_OPT_CLIENT_NDI);
	const struct dhcp_option *uuid = dhcp_option(m, DHCP_OPT_CLIENT_UUID);
	bool http = has_prefix(vc, "HTTPClient");
	uint16_t code;

	if (!has_prefix(vc, "PXEClient") && !http)
		return -ENOENT;
	if (!type || type->len != 1)
		return -EBADMSG;

	memset(out, 0, sizeof(*out));
	out->msg_type = (enum dhcp_msg_type)type->data[0];
	out->http = http;

	/* RFC 4578 §2.1: a list of 2-byte types; the first is the one to serve. */
	if (arch && arch->len >= 2) {
		out->arch_code = get_be16(arch->data);
		out->arch_from = DHCP_OPT_CLIENT_ARCH;
	} else if (arch_from_vendor_class(vc, &code)) {
		out->arch_code = code;
		out->arch_from = DHCP_OPT_VENDOR_CLASS;
	}
	out->arch = out->arch_from ? pxe_arch_from_code(out->arch_code) : PXE_ARCH_UNKNOWN;

	/* RFC 4578 §2.2: type 1 (UNDI), major, minor. */
	if (ndi && ndi->len == 3 && ndi->data[0] == 1) {
		out->has_undi = true;
		out->undi_major = ndi->data[1];
		out->undi_minor = ndi->data[2];
	}
	/* RFC 4578 §2.3: type 0, then a 16-byte GUID. Kept raw for the echo. */
	if (uuid) {
		out->uuid = uuid->data;
		out->uuid_len = uuid->len;
		out->guid_valid = uuid->len == 17 && uuid->data[0] == 0;
	}

	out->ipxe_by_175 = m->options[DHCP_OPT_IPXE_ENCAP].present;
	out->ipxe_by_user_class = user_class_is_ipxe(dhcp_option(m, DHCP_OPT_USER_CLASS));
	out->ipxe = out->ipxe_by_175 || out->ipxe_by_user_class;

	if (m->htype == 1 && m->hlen == 6) {
		out->has_mac = true;
		memcpy(out->mac, m->chaddr, 6);
	}
	out->giaddr = m->giaddr;
	out->relayed = m->giaddr != 0;
	out->broadcast = (m->flags & DHCP_FLAG_BROADCAST) != 0;
	out->xid = m->xid;
	out->has_boot_item = find_boot_item(dhcp_option(m, DHCP_OPT_VENDOR_ENCAP), &out->boot_item_type,
					    &out->boot_item_layer);
	return 0;
}

/* ---- building ------------------------------------------------------------ */

/* A write cursor that never moves past cap; once full, every write fails. */
struct writer {
	uint8_t *buf;
	size_t cap, pos;
	bool full;
};

static bool room(struct writer *w, size_t n)
{
	if (w->full || n > w->cap - w->pos)
		w->full = true;
	return !w->full;
}

static void put(struct writer *w, const void *p, size_t n)
{
	if (room(w, n)) {
		memcpy(w->buf + w->pos, p, n);
		w->pos += n;
	}
}

static void put_u8(struct writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_be16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 2);
}

static void put_option(struct writer *w, uint8_t code, const void *data, size_t len)
{
	put_u8(w, code);
	put_u8(w, (uint8_t)len);
	put(w, data, len);
}

/*
 * Option 43 (PXE 2.1 §2.4) into a scratch area; returns its length, or 0 when
 * it would exceed one option's 255 bytes (RFC 3396 splitting is not done).
 */
static size_t build_pxe_options(uint8_t out[255], const struct pxe_vendor_options *v)
{
	struct writer w = { .buf = out, .cap = 255 };

	put_option(&w, PXE_SUB_DISCOVERY_CONTROL, &v->discovery_control, 1);
	if (v->n_servers > 0) {
		size_t n = 0;

		for (unsigned i = 0; i < v->n_servers; i++)
			n += 3 + 4 * (size_t)v->servers[i].n_addrs;
		if (n > 255)
			return 0;
		put_u8(&w, PXE_SUB_BOOT_SERVERS);
		put_u8(&w, (uint8_t)n);
		for (unsigned i = 0; i < v->n_servers; i++) {
			const struct pxe_boot_server *s = &v->servers[i];

			if (s->n_addrs == 0 || s->n_addrs > PXE_MAX_SERVER_ADDRS)
				return 0;
			put_be16(&w, s->type);
			put_u8(&w, s->n_addrs);
			put(&w, s->addrs, 4 * (size_t)s->n_addrs);
		}
	}
	if (v->n_menu > 0) {
		size_t n = 0;

		for (unsigned i = 0; i < v->n_menu; i++)
			n += 3 + strlen(v->menu[i].description);
		if (n > 255)
			return 0;
		put_u8(&w, PXE_SUB_BOOT_MENU);
		put_u8(&w, (uint8_t)n);
		for (unsigned i = 0; i < v->n_menu; i++) {
			size_t dlen = strlen(v->menu[i].description);

			put_be16(&w, v->menu[i].type);
			put_u8(&w, (uint8_t)dlen);
			put(&w, v->menu[i].description, dlen);
		}
	}
	if (v->prompt) {
		size_t plen = strlen(v->prompt);

		if (plen + 1 > 255)
			return 0;
		put_u8(&w, PXE_SUB_MENU_PROMPT);
		put_u8(&w, (uint8_t)(plen + 1));
		put_u8(&w, v->prompt_timeout);
		put(&w, v->prompt, plen);
	}
	if (v->has_boot_item) {
		put_u8(&w, PXE_SUB_BOOT_ITEM);
		put_u8(&w, 4);
		put_be16(&w, v->boot_item_type);
		put_be16(&w, v->boot_item_layer);
	}
	put_u8(&w, PXE_SUB_END);
	return w.full ? 0 : w.pos;
}

size_t dhcp_build_proxy_reply(uint8_t *buf, size_t cap, const struct dhcp_message *req,
			      const struct proxy_reply *r)
{
	static const uint8_t cookie[4] = { 0x63, 0x82, 0x53, 0x63 };
	const char *vendor = r->http_client ? "HTTPClient" : "PXEClient";
	const struct dhcp_option *uuid = dhcp_option(req, DHCP_OPT_CLIENT_UUID);
	size_t file_len = r->boot_file ? strlen(r->boot_file) : 0;
	struct writer w = { .buf = buf, .cap = cap };
	uint8_t pxe[255], type = (uint8_t)r->type;
	size_t pxe_len = 0;
	uint32_t zero = 0;
	uint8_t hdr[8];

	if (cap < DHCP_MIN_REPLY_LEN || file_len > 255)
		return 0;
	if (r->pxe.include && (pxe_len = build_pxe_options(pxe, &r->pxe)) == 0)
		return 0;

	/* RFC 2131 §4.3.1, table 3, with PXE 2.1's proxy rules: no yiaddr. */
	hdr[0] = DHCP_BOOTREPLY;
	hdr[1] = req->htype;
	hdr[2] = req->hlen;
	hdr[3] = 0; /* hops */
	hdr[4] = (uint8_t)(req->xid >> 24);
	hdr[5] = (uint8_t)(req->xid >> 16);
	hdr[6] = (uint8_t)(req->xid >> 8);
	hdr[7] = (uint8_t)req->xid;
	put(&w, hdr, 8);
	put_be16(&w, 0); /* secs */
	put_be16(&w, req->flags);
	put(&w, r->type == DHCP_ACK ? &req->ciaddr : &zero, 4); /* ciaddr */
	put(&w, &zero, 4);                                      /* yiaddr: never an address */
	put(&w, &r->next_server, 4);                            /* siaddr */
	put(&w, &req->giaddr, 4);
	put(&w, req->chaddr, DHCP_CHADDR_LEN);
	/* sname and file: zeroed, then the boot file when it fits with its NUL.
	 * cap >= DHCP_MIN_REPLY_LEN covers the whole fixed header. */
	memset(buf + w.pos, 0, DHCP_SNAME_LEN + DHCP_FILE_LEN);
	if (file_len > 0 && file_len < DHCP_FILE_LEN)
		memcpy(buf + w.pos + DHCP_SNAME_LEN, r->boot_file, file_len);
	w.pos += DHCP_SNAME_LEN + DHCP_FILE_LEN;
	put(&w, cookie, 4);

	put_option(&w, DHCP_OPT_MSG_TYPE, &type, 1);
	put_option(&w, DHCP_OPT_SERVER_ID, &r->server_id, 4);
	put_option(&w, DHCP_OPT_VENDOR_CLASS, vendor, strlen(vendor));
	if (uuid) /* RFC 4578 §2.3: echoed as received */
		put_option(&w, DHCP_OPT_CLIENT_UUID, uuid->data, uuid->len);
	if (pxe_len)
		put_option(&w, DHCP_OPT_VENDOR_ENCAP, pxe, pxe_len);
	if (file_len > 0)
		put_option(&w, DHCP_OPT_BOOTFILE, r->boot_file, file_len);
	if (r->extra_len)
		put(&w, r->extra, r->extra_len);
	put_u8(&w, DHCP_OPT_END);
	if (w.full)
		return 0;
	if (w.pos < DHCP_MIN_REPLY_LEN) {
		memset(buf + w.pos, 0, DHCP_MIN_REPLY_LEN - w.pos);
		w.pos = DHCP_MIN_REPLY_LEN;
	}
	return w.pos;
}
