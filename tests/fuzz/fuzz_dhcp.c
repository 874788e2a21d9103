/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyDHCP: any bytes as the payload of a datagram to UDP 67 or 4011, read
 * by dhcp_parse() and dhcp_pxe_client() and answered by proxy_dhcp_handle()
 * under each of a set of compiled policies (the e2e lab's, boot-server mode
 * with a menu, prompt and pxelinux options, allow/deny/select lists, texts at
 * their longest) and with no policy, at the dataplane's reply capacity for
 * MTU 1500 and for 576.
 *
 * Invariants beyond "no crash, no read outside the datagram":
 * - every option the parser returns lies inside the datagram;
 * - a reply is sent exactly for an offer or an ACK, fits its buffer, and
 *   decodes again as a BOOTREPLY with the request's xid and chaddr, option 53
 *   OFFER or ACK as decided, option 54 and siaddr the policy's server, option
 *   60 PXEClient or HTTPClient, and never an address: yiaddr 0 and none of
 *   options 1, 3, 6, 50, 51, 58, 59 (dhcp.h: Stampede never leases);
 * - an ACK on 4011 comes from 4011, everything else from 67.
 * Seeds: the DHCP payloads of the captures in tests/unit/captures/ (SeaBIOS + iPXE,
 * OVMF's EDK2 PXE, a relayed client): requests and the replies around them.
 */
#include "fuzz.h"

#include <arpa/inet.h>

#include "dhcp.h"
#include "proxy_dhcp.h"
#include "proxy_policy.h"

#define SERVER_IP "10.210.0.2"
#define LONG_TEXT                                                                                          \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 255 bytes: one DHCP option's worth */

static const char *const policy_texts[] = {
	/* The e2e lab's (tests/unit/test_firmware_captures.c). */
	"server-ip " SERVER_IP "\n"
	"script-url http://" SERVER_IP ":8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${platform}-${buildarch}\n"
	"boot-file bios undionly.kpxe\n"
	"boot-file efi-x64 ipxe.efi\n"
	"menu Stampede network boot\n",
	/* Boot-server mode, every architecture, a prompt, pxelinux's options. */
	"server-ip " SERVER_IP "\n"
	"script-url http://" SERVER_IP "/boot.ipxe\n"
	"boot-file bios pxelinux.0\nboot-server bios\n"
	"boot-file efi-ia32 ipxe-ia32.efi\nboot-file efi-x64 ipxe.efi\nboot-server efi-x64\n"
	"boot-file efi-arm32 arm32.efi\nboot-file efi-arm64 arm64.efi\nboot-server efi-arm64\n"
	"boot-file efi-ia32-http http://" SERVER_IP "/ia32.efi\nboot-file efi-x64-http http://" SERVER_IP "/x64.efi\n"
	"boot-file efi-arm64-http arm64-not-a-url.efi\n"
	"prompt 5 Press F8 for the menu\nmenu Install\n"
	"option 209 pxelinux.cfg/default\noption 210 http://" SERVER_IP "/pxelinux/\n",
	/* Lists: only 10/8, one MAC denied, only selected machines answered. */
	"server-ip " SERVER_IP "\n"
	"boot-file bios undionly.kpxe\nboot-file efi-x64 ipxe.efi\n"
	"allow-subnet 10.0.0.0/8\nallow-subnet 192.168.0.0/16\ndeny-subnet 10.99.0.0/16\n"
	"deny-mac 52:54:00:00:00:01\nallow-mac 52:54:00:12:34:56\nallow-mac 52:54:00:b1:3e:8f\n"
	"unmatched ignore\nselect-mac 52:54:00:12:34:56\n"
	"select-uuid 8a5e5d2c-0f6e-4c7d-9a1b-2c3d4e5f6a7b\nselect-arch efi-x64\n",
	/* Texts at their longest: replies that do not fit a small buffer. */
	"server-ip " SERVER_IP "\n"
	"script-url " LONG_TEXT "\n"
	"boot-file bios " LONG_TEXT "\nboot-server bios\nboot-file efi-x64 " LONG_TEXT "\n"
	"menu " LONG_TEXT "\nprompt 255 " LONG_TEXT "\n"
	"option 209 " LONG_TEXT "\noption 210 " LONG_TEXT "\n",
};
#define N_POLICIES (sizeof(policy_texts) / sizeof(policy_texts[0]))

static struct proxy_policy *policies[N_POLICIES + 1]; /* the last one NULL: no policy yet */
static uint32_t server_ip;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	inet_pton(AF_INET, SERVER_IP, &server_ip);
	for (size_t i = 0; i < N_POLICIES; i++) {
		policies[i] = proxy_policy_parse(policy_texts[i], strlen(policy_texts[i]), err, sizeof(err));
		FUZZ_CHECK(policies[i] != NULL, "policy %zu: %s", i, err);
	}
	return 0;
}

static bool inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
	return (const uint8_t *)p >= buf && (const uint8_t *)p + n <= buf + len;
}

static void check_parse(const uint8_t *data, size_t size, struct dhcp_message *m)
{
	struct pxe_client c;
	const char *why = NULL;

	if (dhcp_parse(data, size, m, &why) < 0) {
		FUZZ_CHECK(why != NULL, "refused without a reason");
		return;
	}
	FUZZ_CHECK(m->op == DHCP_BOOTREQUEST || m->op == DHCP_BOOTREPLY, "op %u", m->op);
	FUZZ_CHECK(m->hlen <= DHCP_CHADDR_LEN, "hlen %u", m->hlen);
	FUZZ_CHECK(inside(m->sname, DHCP_SNAME_LEN, data, size) && inside(m->file, DHCP_FILE_LEN, data, size),
		   "sname/file outside the message");
	FUZZ_CHECK(!m->options[DHCP_OPT_PAD].present && !m->options[DHCP_OPT_END].present, "pad or end kept");
	for (int code = 1; code < 255; code++)
		if (m->options[code].present)
			FUZZ_CHECK(inside(m->options[code].data, m->options[code].len, data, size),
				   "option %d outside the message", code);
	if (dhcp_pxe_client(m, &c) == 0) {
		FUZZ_CHECK((unsigned)c.arch < PXE_ARCH_COUNT, "arch %d", c.arch);
		FUZZ_CHECK(!c.uuid || inside(c.uuid, c.uuid_len, data, size), "uuid outside the message");
		FUZZ_CHECK(!c.guid_valid || c.uuid_len == 17, "guid_valid with %u bytes", c.uuid_len);
		FUZZ_CHECK(c.ipxe == (c.ipxe_by_175 || c.ipxe_by_user_class), "ipxe flags disagree");
	}
}

/* The reply, decoded as a client would. */
static void check_reply(const struct proxy_policy *p, const struct dhcp_message *req, const struct proxy_answer *a,
			const uint8_t *out, size_t cap, uint16_t port)
{
	static const uint8_t lease_options[] = { DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS_SERVER,
						 DHCP_OPT_REQUESTED_IP, DHCP_OPT_LEASE_TIME, DHCP_OPT_RENEWAL_TIME,
						 DHCP_OPT_REBINDING_TIME };
	static struct dhcp_message m;
	const struct dhcp_option *o;
	const char *why;
	uint32_t yiaddr;

	FUZZ_CHECK(a->len >= DHCP_MIN_REPLY_LEN && a->len <= cap, "reply of %zu bytes, cap %zu", a->len, cap);
	memcpy(&yiaddr, out + 16, 4);
	FUZZ_CHECK(yiaddr == 0, "a reply carries an address: yiaddr %08x", ntohl(yiaddr));
	FUZZ_CHECK(dhcp_parse(out, a->len, &m, &why) == 0, "the reply does not parse: %s", why);
	FUZZ_CHECK(m.op == DHCP_BOOTREPLY && m.yiaddr == 0, "op %u", m.op);
	FUZZ_CHECK(m.xid == req->xid && m.htype == req->htype && m.hlen == req->hlen &&
			   !memcmp(m.chaddr, req->chaddr, DHCP_CHADDR_LEN) && m.giaddr == req->giaddr,
		   "the reply is not for the request");
	FUZZ_CHECK(m.siaddr == p->server_ip, "siaddr is not the server");
	for (size_t i = 0; i < sizeof(lease_options); i++)
		FUZZ_CHECK(!dhcp_option(&m, lease_options[i]), "a reply carries lease option %u", lease_options[i]);
	o = dhcp_option(&m, DHCP_OPT_MSG_TYPE);
	FUZZ_CHECK(o && o->len == 1 && o->data[0] == (a->decision == PROXY_offer ? DHCP_OFFER : DHCP_ACK),
		   "option 53 disagrees with the decision %s", proxy_decision_name(a->decision));
	o = dhcp_option(&m, DHCP_OPT_SERVER_ID);
	FUZZ_CHECK(o && o->len == 4 && !memcmp(o->data, &p->server_ip, 4), "option 54 is not the server");
	o = dhcp_option(&m, DHCP_OPT_VENDOR_CLASS);
	FUZZ_CHECK(o && ((o->len == 9 && !memcmp(o->data, "PXEClient", 9)) ||
			 (o->len == 10 && !memcmp(o->data, "HTTPClient", 10))),
		   "option 60 is neither PXEClient nor HTTPClient");
	FUZZ_CHECK(a->src_port == (port == PXE_BOOT_SERVER_PORT ? PXE_BOOT_SERVER_PORT : DHCP_SERVER_PORT),
		   "reply from port %u to a request on %u", a->src_port, port);
	FUZZ_CHECK(a->to.ip != 0, "a reply to 0.0.0.0");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 1500 - 28, 576 - 28 };
	static const uint16_t ports[] = { DHCP_SERVER_PORT, PXE_BOOT_SERVER_PORT };
	static struct dhcp_message scratch, request;
	static uint8_t out[1500];
	struct proxy_dhcp_counters counters = { 0 };
	struct net_udp_datagram d = {
		.src = { .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, .port = DHCP_CLIENT_PORT },
		.dst = { .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 } },
		.payload = data,
		.payload_len = size,
	};

	check_parse(data, size, &request);
	/* Unconfigured clients send from 0.0.0.0; renewing and relayed ones not. */
	d.src.ip = size & 1 ? 0 : htonl(0x0a0a0032);
	for (size_t pi = 0; pi <= N_POLICIES; pi++) {
		for (size_t port = 0; port < 2; port++) {
			const struct proxy_policy *p = policies[pi];
			size_t cap = caps[(pi + port) % 2];
			struct proxy_answer a;

			d.dst.port = ports[port];
			d.dst.ip = port == 0 && (size & 2) ? INADDR_BROADCAST : server_ip;
			proxy_dhcp_handle(p, &d, server_ip, &scratch, out, cap, &a, &counters);
			FUZZ_CHECK((unsigned)a.decision < PROXY_DECISION_COUNT, "decision %d", a.decision);
			if (a.decision != PROXY_offer && a.decision != PROXY_ack) {
				FUZZ_CHECK(a.len == 0, "a reply for decision %s", proxy_decision_name(a.decision));
				continue;
			}
			FUZZ_CHECK(p != NULL, "an answer without a policy");
			FUZZ_CHECK(a.classified, "an answer to an unclassified client");
			check_reply(p, &request, &a, out, cap, d.dst.port);
		}
	}
	return 0;
}
