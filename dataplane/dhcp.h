/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyDHCP wire format: DHCP/BOOTP parsing, PXE client classification and the
 * proxy reply builder.
 *
 * RFC 2131 (DHCP), RFC 2132 (options), RFC 3396 (long options), RFC 3004 (user
 * class), RFC 4578 (options 93, 94, 97 for PXE), and the PXE specification 2.1
 * (option 60 "PXEClient", option 43 vendor sub-options, the 4011 boot server).
 *
 * Stampede never leases addresses: the site DHCP server does. A proxy reply
 * only adds boot information, so yiaddr is always 0 and no lease option (1, 3,
 * 6, 51, 58, 59) is ever written. Everything here is pure: plain buffers in,
 * codes and bytes out, no allocation, no I/O. The parser never reads past the
 * length it is given; pointers it returns point into the caller's buffer, which
 * must outlive the parsed message.
 */
#ifndef STAMPEDE_DHCP_H
#define STAMPEDE_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define PXE_BOOT_SERVER_PORT 4011 /* PXE 2.1 §2.2.4 */

/* RFC 2131 §2, figure 1: the fixed BOOTP header, then the options field. */
#define DHCP_CHADDR_LEN  16
#define DHCP_SNAME_LEN   64
#define DHCP_FILE_LEN    128
#define DHCP_HEADER_LEN  236
#define DHCP_COOKIE      0x63825363u /* RFC 2131 §3: 99.130.83.99 */
#define DHCP_OPTIONS_OFFSET (DHCP_HEADER_LEN + 4)
/* RFC 1542 §2.1: BOOTP messages are at least 300 bytes (RFC 951's 64-byte vend
 * field); some PXE ROMs drop shorter replies, so replies are padded to this. */
#define DHCP_MIN_REPLY_LEN 300
#define DHCP_FLAG_BROADCAST 0x8000 /* RFC 2131 §2, figure 2 */

enum dhcp_op { DHCP_BOOTREQUEST = 1, DHCP_BOOTREPLY = 2 };

/* Option 53 values, RFC 2132 §9.6. */
enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* The option codes this layer reads or writes (RFC 2132 unless noted). */
enum dhcp_option_code {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS_SERVER = 6,
	DHCP_OPT_VENDOR_ENCAP = 43, /* PXE sub-options, PXE 2.1 §2.4 */
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_REQUEST = 55,
	DHCP_OPT_RENEWAL_TIME = 58,
	DHCP_OPT_REBINDING_TIME = 59,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_BOOTFILE = 67,
	DHCP_OPT_USER_CLASS = 77,   /* RFC 3004 */
	DHCP_OPT_CLIENT_ARCH = 93,  /* RFC 4578 §2.1 */
	DHCP_OPT_CLIENT_NDI = 94,   /* RFC 4578 §2.2 */
	DHCP_OPT_CLIENT_UUID = 97,  /* RFC 4578 §2.3 */
	DHCP_OPT_IPXE_ENCAP = 175,  /* iPXE's encapsulated options: "I am iPXE" */
	DHCP_OPT_END = 255,
};

/* Option 52 values, RFC 2132 §9.3. */
#define DHCP_OVERLOAD_FILE  1
#define DHCP_OVERLOAD_SNAME 2

struct dhcp_option {
	const uint8_t *data; /* into the parsed buffer; len bytes */
	uint8_t len;
	bool present;
};

/*
 * A parsed message. Addresses are in network byte order (as in net.h's
 * net_endpoint); xid, secs and flags in host order.
 */
struct dhcp_message {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[DHCP_CHADDR_LEN]; /* all 16 bytes; the address is the first hlen */
	/* The raw fields (64 and 128 bytes, not necessarily NUL-terminated). When
	 * overload has DHCP_OVERLOAD_SNAME / _FILE set they hold options, not names. */
	const uint8_t *sname, *file;
	uint8_t overload; /* option 52's value, 0 when absent */
	struct dhcp_option options[256]; /* indexed by option code; 0 and 255 never present */
};

/*
 * Parse a DHCP message (BOOTREQUEST or BOOTREPLY). Returns 0, or -EBADMSG with
 * *why set: shorter than the header and cookie, op not 1 or 2, hlen above 16,
 * no magic cookie, an option whose length byte or data runs past the end of its
 * field, a malformed option 52.
 *
 * Decisions (documented because a client can send them):
 * - The end of the buffer counts as the end option: a missing option 255 is
 *   accepted (bytes after 255 are ignored, whatever they are).
 * - A repeated option keeps its FIRST occurrence; later ones are skipped (not
 *   concatenated as RFC 3396 would). No PXE client splits the short options
 *   this layer reads, and concatenation would need a copy.
 * - Option 52 (RFC 2132 §9.3) is honoured: when set in the options field, the
 *   file then the sname field are walked as options too (same first-wins rule).
 */
int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_message *msg, const char **why);

static inline const struct dhcp_option *dhcp_option(const struct dhcp_message *m, uint8_t code)
{
	return m->options[code].present ? &m->options[code] : NULL;
}

/*
 * Client system architecture classes (RFC 4578 §2.1 and IANA's "Processor
 * Architecture Types" registry), grouped by the boot program they need.
 */
enum pxe_arch {
	PXE_ARCH_UNKNOWN,        /* none given, or a code not below (see arch_code) */
	PXE_ARCH_BIOS,           /* 0: x86 BIOS */
	PXE_ARCH_EFI_IA32,       /* 6 */
	PXE_ARCH_EFI_X64,        /* 7 (x64), 9 (EFI BC, x64 in practice) */
	PXE_ARCH_EFI_ARM32,      /* 10 */
	PXE_ARCH_EFI_ARM64,      /* 11 */
	PXE_ARCH_EFI_IA32_HTTP,  /* 15 */
	PXE_ARCH_EFI_X64_HTTP,   /* 16 */
	PXE_ARCH_EFI_ARM64_HTTP, /* 19 */
	PXE_ARCH_COUNT
};

enum pxe_arch pxe_arch_from_code(uint16_t code);
/* "bios", "efi-ia32", "efi-x64", "efi-arm32", "efi-arm64", "efi-ia32-http",
 * "efi-x64-http", "efi-arm64-http", "unknown". */
const char *pxe_arch_name(enum pxe_arch arch);
/* The inverse of pxe_arch_name for the known architectures; -1 for any
 * other name ("unknown" included). */
int pxe_arch_from_name(const char *name);
/* UEFI HTTP Boot: these firmware fetch a URL, not a TFTP file. */
bool pxe_arch_is_http(enum pxe_arch arch);

/* What a PXE client is, read from its request. */
struct pxe_client {
	enum dhcp_msg_type msg_type; /* option 53 as sent: any byte, the caller checks */
	bool http;          /* option 60 starts with "HTTPClient" (UEFI HTTP Boot) */
	enum pxe_arch arch;
	uint16_t arch_code; /* the number itself; meaningful when arch_from != 0 */
	uint8_t arch_from;  /* 93, 60 (the "Arch:" field) or 0 when the client gave none */
	bool has_undi;      /* option 94: type 1 (UNDI), major, minor */
	uint8_t undi_major, undi_minor;
	/* Option 97 as sent (echoed in replies); guid_valid when it is type 0 plus
	 * 16 bytes, and then guid = uuid + 1. */
	const uint8_t *uuid;
	uint8_t uuid_len;
	bool guid_valid;
	bool ipxe;          /* option 175 present, or user class "iPXE" */
	bool ipxe_by_175, ipxe_by_user_class;
	bool has_mac;       /* htype 1 (Ethernet), hlen 6 */
	uint8_t mac[6];
	uint32_t giaddr;    /* network order; non-zero when relayed */
	bool relayed;
	bool broadcast;     /* the client asked for broadcast replies */
	uint32_t xid;
	/* PXE 2.1 boot server REQUEST (4011): option 43 sub-option 71, the boot
	 * item the client asks for; the ACK must carry the same type. */
	bool has_boot_item;
	uint16_t boot_item_type, boot_item_layer;
};

/*
 * Classify a parsed request (the caller checks op == DHCP_BOOTREQUEST first:
 * dhcp_parse also accepts replies). Returns 0; -ENOENT when option 60 does not start
 * with "PXEClient" or "HTTPClient" (not a PXE client: stay silent); -EBADMSG
 * when it is one but option 53 is missing or not 1 byte. Options 93/94/97/43
 * that are malformed are ignored rather than refused (a fallback applies for
 * 93: the Arch field of option 60).
 */
int dhcp_pxe_client(const struct dhcp_message *m, struct pxe_client *out);

/* ---- proxy replies ------------------------------------------------------- */

/* PXE 2.1 §2.4.2: PXE_DISCOVERY_CONTROL bits (sub-option 6). */
#define PXE_DISCOVERY_NO_BROADCAST 0x01
#define PXE_DISCOVERY_NO_MULTICAST 0x02
#define PXE_DISCOVERY_SERVER_LIST  0x04 /* only servers of sub-option 8 */
#define PXE_DISCOVERY_USE_BOOTFILE 0x08 /* boot file present: download it, no discovery */

/* PXE 2.1 vendor sub-option codes inside option 43. */
enum pxe_suboption {
	PXE_SUB_DISCOVERY_CONTROL = 6,
	PXE_SUB_BOOT_SERVERS = 8,
	PXE_SUB_BOOT_MENU = 9,
	PXE_SUB_MENU_PROMPT = 10,
	PXE_SUB_BOOT_ITEM = 71,
	PXE_SUB_END = 255,
};

#define PXE_MAX_SERVER_ADDRS 4

struct pxe_boot_server { /* one entry of sub-option 8 */
	uint16_t type;
	uint8_t n_addrs; /* 1..PXE_MAX_SERVER_ADDRS */
	uint32_t addrs[PXE_MAX_SERVER_ADDRS]; /* network order */
};

struct pxe_menu_item { /* one entry of sub-option 9 */
	uint16_t type;
	const char *description; /* never NULL; at most 252 bytes (sub-option 9 is one option) */
};

/* Option 43: which PXE sub-options to send. include = false: no option 43. */
struct pxe_vendor_options {
	bool include;
	uint8_t discovery_control; /* sub-option 6, always sent when include */
	const struct pxe_boot_server *servers; /* sub-option 8 when n_servers > 0 */
	unsigned n_servers;
	const struct pxe_menu_item *menu;      /* sub-option 9 when n_menu > 0 */
	unsigned n_menu;
	const char *prompt;                    /* sub-option 10 when not NULL */
	uint8_t prompt_timeout;                /* seconds; 255 = wait for a key */
	bool has_boot_item;                    /* sub-option 71 (4011 ACKs) */
	uint16_t boot_item_type, boot_item_layer;
};

struct proxy_reply {
	enum dhcp_msg_type type; /* DHCP_OFFER (to a DISCOVER on 67), DHCP_ACK (REQUEST on 4011) */
	uint32_t server_id;      /* option 54, network order */
	uint32_t next_server;    /* siaddr: the TFTP server, network order */
	/* NUL-terminated, at most 255 bytes; NULL or "" for none. For iPXE clients
	 * the caller passes the script URL here. */
	const char *boot_file;
	bool http_client;        /* option 60 "HTTPClient" instead of "PXEClient" */
	struct pxe_vendor_options pxe;
	/* Further options, already encoded (code, length, data)..., written
	 * before the end option: pxelinux's 208-211. */
	const uint8_t *extra;
	size_t extra_len;
};

/*
 * Build a BOOTREPLY answering request. Copied from the request: xid, flags,
 * giaddr, htype/hlen/chaddr, option 97 (RFC 4578 §2.3: echoed when sent), and
 * ciaddr for an ACK. yiaddr is 0. Options, in this order: 53, 54, 60, 97, 43,
 * 67, the extra options, 255; the message is zero-padded to DHCP_MIN_REPLY_LEN.
 *
 * The boot file goes in BOTH places: the BOOTP file field (when it fits in its
 * 128 bytes with a NUL; otherwise the field stays empty), read by PXE ROMs and
 * EDK2, and option 67, read by clients that prefer it and the only place an
 * iPXE script URL longer than 127 bytes fits.
 *
 * Returns the length, or 0 when cap is too small, the boot file is longer than
 * 255 bytes, or option 43 would exceed 255 bytes. Nothing is written at or past
 * buf + cap (on failure the bytes before cap are unspecified).
 */
size_t dhcp_build_proxy_reply(uint8_t *buf, size_t cap, const struct dhcp_message *request,
			      const struct proxy_reply *r);

#endif
