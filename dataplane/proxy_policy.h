/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxyDHCP policy: who gets an answer and what boot file it names.
 *
 * The control plane compiles it from the operator's configuration and sends it
 * to the dataplane as text (message "policy 1", one "key value" per line, then
 * "end"; see proxy_policy_parse). The dataplane parses it on its control thread
 * into this structure and swaps it in with one pointer store: the polling core
 * reads it and never waits.
 */
#ifndef STAMPEDE_PROXY_POLICY_H
#define STAMPEDE_PROXY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"

#define POLICY_VERSION        1
#define POLICY_MAX_LIST       65536 /* entries per MAC / UUID / subnet list */
#define POLICY_TEXT_MAX       255   /* boot files, URLs, menu text: one DHCP option */
#define POLICY_EXTRA_OPTS_MAX 1024  /* encoded pxelinux options (208-211) */

struct policy_subnet {
	uint32_t net, mask; /* host byte order */
};

struct policy_arch {
	char boot_file[POLICY_TEXT_MAX + 1]; /* "" = no boot file for this arch: stay silent */
	/* PXE 2.1 boot server discovery: the offer names this server as a boot
	 * server (option 43) instead of the boot file, and the client asks for the
	 * file on 4011. Firmware differ in which way they boot reliably. */
	bool via_boot_server;
};

struct policy_mac_list {
	uint64_t *macs; /* sorted, each the 48-bit address in the low bits */
	size_t n;
};

struct policy_uuid_list {
	uint8_t (*uuids)[16]; /* sorted with memcmp */
	size_t n;
};

struct policy_subnet_list {
	struct policy_subnet *subnets;
	size_t n;
};

struct proxy_policy {
	uint32_t server_ip; /* network order: option 54, siaddr, the 4011 boot server */
	/* What iPXE clients (option 175 or user class "iPXE") get as their boot
	 * file; iPXE expands its ${...} settings in it. "" = treat them like any
	 * firmware (they get the arch's boot file again: the loop DESIGN.md warns of,
	 * so the control plane always sets it). */
	char script_url[POLICY_TEXT_MAX + 1];
	struct policy_arch arch[PXE_ARCH_COUNT];
	char menu_text[POLICY_TEXT_MAX + 1]; /* the boot menu entry (sub-option 9) */
	char prompt[POLICY_TEXT_MAX + 1];    /* sub-option 10; "" = none */
	uint8_t prompt_timeout;
	/* Extra options written into every reply, encoded (code, len, data)...;
	 * pxelinux's 209 and 210. */
	uint8_t extra[POLICY_EXTRA_OPTS_MAX];
	size_t extra_len;
	/* Answer lists. An empty allow list allows everyone; deny wins over allow. */
	struct policy_mac_list allow_macs, deny_macs;
	struct policy_subnet_list allow_subnets, deny_subnets;
	/* Machine selectors from the configuration. When answer_unmatched is false
	 * only machines that match one (by MAC, UUID or architecture) are answered. */
	struct policy_mac_list select_macs;
	struct policy_uuid_list select_uuids;
	bool select_arch[PXE_ARCH_COUNT];
	bool answer_unmatched;
};

/*
 * Parse the text of a policy message: the lines after "policy 1" up to, not
 * including, "end". Returns a new policy, or NULL with err set to
 * "line N: what is wrong". Unknown keys are errors: a control plane newer than
 * the dataplane must not be half-understood.
 *
 *   server-ip A.B.C.D               (required)
 *   script-url TEXT
 *   boot-file ARCH TEXT             ARCH as pxe_arch_name(): bios, efi-x64, ...
 *   boot-server ARCH                send ARCH to the 4011 boot server
 *   menu TEXT / prompt SECONDS TEXT
 *   option CODE TEXT                CODE 209 or 210 (pxelinux, RFC 5071)
 *   allow-mac MAC / deny-mac MAC / allow-subnet A.B.C.D/N / deny-subnet A.B.C.D/N
 *   select-mac MAC / select-uuid UUID / select-arch ARCH
 *   unmatched answer|ignore         (default answer)
 */
struct proxy_policy *proxy_policy_parse(const char *text, size_t len, char *err, size_t err_len);
void proxy_policy_free(struct proxy_policy *policy);

bool policy_mac_listed(const struct policy_mac_list *list, const uint8_t mac[6]);
bool policy_uuid_listed(const struct policy_uuid_list *list, const uint8_t uuid[16]);
bool policy_subnet_listed(const struct policy_subnet_list *list, uint32_t ip_net_order);

/* "10.1.0.0/16" into network and mask (host order); 0 or -EINVAL. */
int policy_parse_subnet(const char *s, struct policy_subnet *out);

/* A boot file that is a URL (UEFI HTTP Boot), not a TFTP name. */
static inline bool policy_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* "52:54:00:12:34:56" (or with '-') into 6 bytes; 0 or -EINVAL. */
int policy_parse_mac(const char *s, uint8_t mac[6]);
/* "8-4-4-4-12" hex UUID, as iPXE and dmidecode print it, into the 16 bytes
 * of the wire (RFC 4578 §2.3 sends the SMBIOS byte order; the first three
 * fields are little-endian there, which is how iPXE prints them too). */
int policy_parse_uuid(const char *s, uint8_t uuid[16]);

#endif
