/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Real firmware boots replayed through the proxyDHCP responder.
 *
 * Fixture provenance: tests/unit/captures/ holds three pcapng files that
 * tshark/dumpcap took on the e2e lab's bridges (filter "udp port 67 or udp
 * port 68 or udp port 4011") while tests/e2e/test_boot.sh booted QEMU guests
 * against Stampede (tests/e2e/stampede_server.sh: server 10.210.0.2, boot files
 * bios undionly.kpxe and efi-x64 ipxe.efi, HTTP port 8080) beside the lab's
 * site DHCP server, dnsmasq at 10.210.0.1:
 *   ovmf-edk2-pxe.pcapng         OVMF's own EDK2 PXE, then the ipxe.efi it loads
 *   seabios-ipxe.pcapng          SeaBIOS with QEMU's iPXE ROM, same segment
 *   seabios-ipxe-relayed.pcapng  the same behind isc-dhcp-relay (giaddr
 *                                10.211.0.1); both bridges were captured
 *
 * For each capture the tests check that:
 * - the capture holds the exchanges documented in the tables below (so that
 *   the other tests cannot pass on an empty or misread file);
 * - every request Stampede answered, run through proxy_dhcp_handle() with the
 *   lab's policy, gives back the captured reply byte for byte, to the captured
 *   destination (replies are deterministic: no time, no counter in them);
 * - every captured Stampede reply, decoded with dhcp_parse(), follows the PXE
 *   proxy rules (PXE 2.1 §2.2; dhcp.h's header comment);
 * - every request Stampede received and did not answer gets silence with
 *   the documented reason.
 *
 * "Received" follows dataplane/main.c's handle_frame(): a datagram on the
 * segment Stampede's port is on, to UDP 67 or 4011, addressed to the server's
 * IP, or broadcast to 67. Copies the relay sent to the site server and what
 * the client sent on the far segment never reach proxy_dhcp_handle(); the
 * tables list them as not delivered.
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
#include "pcapng.h"
#include "proxy_dhcp.h"
#include "proxy_policy.h"
#include "support.h"

#define COUNT(a)   (sizeof(a) / sizeof((a)[0]))
#define MAX_FRAMES 64   /* the captures hold 8 to 26 */
#define MAX_PACKET 1514 /* Ethernet frame without FCS at MTU 1500 */

/* The lab's configuration, as control/policy_compile.c turns it into policy text. */
#define SERVER_IP  "10.210.0.2"
#define SCRIPT_URL "http://10.210.0.2:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${platform}-${buildarch}"
#define BIOS_FILE  "undionly.kpxe"
#define EFI_FILE   "ipxe.efi"
#define LAB_POLICY                      \
	"server-ip " SERVER_IP "\n"     \
	"script-url " SCRIPT_URL "\n"   \
	"boot-file bios " BIOS_FILE "\n" \
	"boot-file efi-x64 " EFI_FILE "\n" \
	"menu Stampede network boot\n"

/* ---- what each capture holds ---------------------------------------------- */

/* Frame numbers count from 1 in file order, as tshark numbers them. */
struct answered {
	unsigned request, reply;
	enum proxy_decision decision;
	const char *what;
};

struct silent {
	unsigned request;
	enum proxy_decision decision;
	const char *what;
};

struct capture_spec {
	const char *file;
	unsigned frames;
	const struct answered *answered;
	size_t n_answered;
	const struct silent *silent;
	size_t n_silent;
	const unsigned *not_delivered; /* requests Stampede never received */
	size_t n_not_delivered;
};

/* OVMF: EDK2's PXE (DISCOVER, the site's lease, then the boot file from the
 * 4011 boot server since a UEFI offer has no option 43), then ipxe.efi's own
 * DHCP. Frames 3, 5, 10, 12 are the site server's offers and ACKs. */
static const struct answered ovmf_answered[] = {
	{ 1, 2, PROXY_offer, "EDK2 DISCOVER (arch 7) -> proxy OFFER naming ipxe.efi" },
	{ 6, 7, PROXY_ack, "EDK2 REQUEST to 10.210.0.2:4011 (BINL) -> ACK naming ipxe.efi" },
	{ 8, 9, PROXY_offer, "iPXE (EFI) DISCOVER -> proxy OFFER naming the script URL" },
};
static const struct silent ovmf_silent[] = {
	{ 4, PROXY_other_server, "EDK2 REQUEST for the site's lease (option 54 10.210.0.1)" },
	{ 11, PROXY_other_server, "iPXE REQUEST for the site's lease (option 54 10.210.0.1)" },
};
static const struct capture_spec ovmf = {
	.file = "ovmf-edk2-pxe.pcapng", .frames = 12,
	.answered = ovmf_answered, .n_answered = COUNT(ovmf_answered),
	.silent = ovmf_silent, .n_silent = COUNT(ovmf_silent),
};

/* SeaBIOS + QEMU's iPXE ROM: iPXE from the start (user class "iPXE", option
 * 175), so every offer names the script URL. It sent DISCOVER twice. Frames
 * 5, 6, 8 are the site server's. */
static const struct answered seabios_answered[] = {
	{ 1, 2, PROXY_offer, "iPXE (BIOS) DISCOVER -> proxy OFFER naming the script URL" },
	{ 3, 4, PROXY_offer, "iPXE (BIOS) DISCOVER, retransmitted -> the same OFFER" },
};
static const struct silent seabios_silent[] = {
	{ 7, PROXY_other_server, "iPXE REQUEST for the site's lease (option 54 10.210.0.1)" },
};
static const struct capture_spec seabios = {
	.file = "seabios-ipxe.pcapng", .frames = 8,
	.answered = seabios_answered, .n_answered = COUNT(seabios_answered),
	.silent = seabios_silent, .n_silent = COUNT(seabios_silent),
};

/* The same client on 10.211.0.0/24 behind isc-dhcp-relay (10.210.0.254 on
 * the server side, giaddr 10.211.0.1), which forwards every request to both
 * servers. Interface 0 is the server bridge, interface 1 the client's. */
static const struct answered relayed_answered[] = {
	{ 1, 2, PROXY_offer, "relayed iPXE DISCOVER -> OFFER to the relay (10.211.0.1:67)" },
	{ 6, 8, PROXY_offer, "relayed DISCOVER, retransmitted -> the same OFFER" },
	{ 13, 15, PROXY_offer, "relayed DISCOVER, third try -> the same OFFER" },
};
static const struct silent relayed_silent[] = {
	{ 16, PROXY_other_server, "relayed REQUEST for the site's lease, copy sent to 10.210.0.2" },
};
static const unsigned relayed_not_delivered[] = {
	3, 7, 14, 17,  /* the relay's copies to the site server 10.210.0.1 */
	4, 9, 22, 24,  /* the client's broadcasts on its own segment */
};
static const struct capture_spec relayed = {
	.file = "seabios-ipxe-relayed.pcapng", .frames = 26,
	.answered = relayed_answered, .n_answered = COUNT(relayed_answered),
	.silent = relayed_silent, .n_silent = COUNT(relayed_silent),
	.not_delivered = relayed_not_delivered, .n_not_delivered = COUNT(relayed_not_delivered),
};

/* ---- loading a capture -------------------------------------------------------- */

struct frame {
	unsigned number;
	uint32_t interface_id;
	uint64_t timestamp;
	struct net_udp_datagram d; /* points into the capture's file buffer */
	bool udp_sum_bad;          /* left to checksum offload by the sender's kernel */
	struct dhcp_message msg;
	int peer;                  /* request: its Stampede reply; reply: its request; -1 */
};

struct capture {
	const struct capture_spec *spec;
	uint8_t *file;
	struct frame *frames;
	unsigned n;
	uint32_t stampede_if; /* the interface Stampede's replies were captured on */
	uint8_t stampede_mac[6];
	unsigned n_answered;
};

static struct capture cap; /* one per test: Criterion runs each test in its own process */
static struct proxy_policy *policy;

static void release(void)
{
	free(cap.frames);
	free(cap.file);
	proxy_policy_free(policy);
}

TestSuite(firmware_captures, .fini = release);

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert(eq(int, inet_pton(AF_INET, s, &a), 1), "%s", s);
	return a.s_addr;
}

static const char *ip_str(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const struct proxy_policy *lab_policy(void)
{
	char err[256];

	if (!policy) {
		policy = proxy_policy_parse(LAB_POLICY, strlen(LAB_POLICY), err, sizeof(err));
		cr_assert(not(eq(ptr, (void *)policy, NULL)), "the lab's policy: %s", err);
	}
	return policy;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	cr_assert(not(eq(ptr, (void *)f, NULL)), "%s: %s", path, strerror(errno));
	cr_assert(eq(int, fseek(f, 0, SEEK_END), 0));
	size = ftell(f);
	cr_assert(gt(long, size, 0), "%s is empty", path);
	rewind(f);
	buf = malloc((size_t)size);
	cr_assert(not(eq(ptr, (void *)buf, NULL)));
	cr_assert(eq(sz, fread(buf, 1, (size_t)size, f), (size_t)size), "%s: short read", path);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static uint8_t *read_capture(const char *name, size_t *len)
{
	const char *dir = getenv("CAPTURES_DIR");
	char path[4096];

	cr_assert(dir != NULL && dir[0], "CAPTURES_DIR is not set: run this test through meson test");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_whole(path, len);
}

static bool is_dhcp_port(uint16_t port)
{
	return port == DHCP_SERVER_PORT || port == DHCP_CLIENT_PORT || port == PXE_BOOT_SERVER_PORT;
}

static bool is_request(const struct frame *f)
{
	return f->msg.op == DHCP_BOOTREQUEST &&
	       (f->d.dst.port == DHCP_SERVER_PORT || f->d.dst.port == PXE_BOOT_SERVER_PORT);
}

static bool is_stampede_reply(const struct frame *f)
{
	return f->msg.op == DHCP_BOOTREPLY && f->d.src.ip == ip(SERVER_IP);
}

/* dataplane/main.c handle_frame(): what reaches proxy_dhcp_handle(). */
static bool delivered(const struct capture *c, const struct frame *f)
{
	uint16_t port = f->d.dst.port;

	return f->interface_id == c->stampede_if && (port == DHCP_SERVER_PORT || port == PXE_BOOT_SERVER_PORT) &&
	       (f->d.dst.ip == ip(SERVER_IP) || (f->d.dst.ip == INADDR_BROADCAST && port == DHCP_SERVER_PORT));
}

static const char *msg_type_name(const struct dhcp_message *m)
{
	static const char *const names[] = { "?", "DISCOVER", "OFFER", "REQUEST", "DECLINE",
					      "ACK", "NAK", "RELEASE", "INFORM" };
	const struct dhcp_option *t = dhcp_option(m, DHCP_OPT_MSG_TYPE);

	return t && t->len == 1 && t->data[0] < COUNT(names) ? names[t->data[0]] : "?";
}

/*
 * Reads every packet of the capture: each must be an Ethernet/IPv4/UDP DHCP
 * datagram (the capture filter kept nothing else), then pairs each Stampede
 * reply with the request it answers: the latest request with the same xid
 * that Stampede received before it, on the same interface.
 */
static struct capture *open_capture(const struct capture_spec *spec)
{
	struct pcapng_reader r;
	struct pcapng_packet p;
	size_t len;
	bool found_stampede = false;
	int ret;

	cap = (struct capture){ .spec = spec };
	cap.file = read_capture(spec->file, &len);
	cap.frames = calloc(MAX_FRAMES, sizeof(*cap.frames));
	cr_assert(not(eq(ptr, (void *)cap.frames, NULL)));
	pcapng_init(&r, cap.file, len);
	while ((ret = pcapng_next(&r, &p)) == 1) {
		struct frame *f = &cap.frames[cap.n];
		const char *why = NULL;
		enum net_drop drop;

		cr_assert(lt(uint, cap.n, MAX_FRAMES), "%s: more than %d frames", spec->file, MAX_FRAMES);
		f->number = ++cap.n;
		f->interface_id = p.interface_id;
		f->timestamp = p.timestamp;
		f->peer = -1;
		cr_assert(eq(u16, r.interfaces[p.interface_id].link_type, PCAPNG_LINKTYPE_ETHERNET),
			  "%s frame %u: link type %u, not Ethernet", spec->file, f->number,
			  r.interfaces[p.interface_id].link_type);
		cr_assert(eq(u32, p.captured_len, p.original_len), "%s frame %u: truncated by the capture",
			  spec->file, f->number);
		drop = net_parse_udp(p.data, p.captured_len, &f->d);
		if (drop == NET_DROP_bad_udp_checksum) {
			f->udp_sum_bad = true;
			drop = net_parse_udp_unchecked(p.data, p.captured_len, &f->d);
		}
		cr_assert(eq(int, drop, NET_OK), "%s frame %u: not an IPv4/UDP datagram (%s)", spec->file, f->number,
			  net_drop_name(drop));
		cr_assert(is_dhcp_port(f->d.src.port) && is_dhcp_port(f->d.dst.port),
			  "%s frame %u: UDP %u -> %u, not DHCP", spec->file, f->number, f->d.src.port, f->d.dst.port);
		cr_assert(eq(int, dhcp_parse(f->d.payload, f->d.payload_len, &f->msg, &why), 0),
			  "%s frame %u: dhcp_parse refused it: %s", spec->file, f->number, why);
		if (f->d.src.ip == ip(SERVER_IP)) {
			/* Stampede computes its checksums itself (net_build_udp); the
			 * site server's are left to the veth's offload, and captured
			 * unfilled, which is why the unchecked parse exists here. */
			cr_assert(not(f->udp_sum_bad), "%s frame %u: Stampede's reply has a bad UDP checksum",
				  spec->file, f->number);
			if (!found_stampede) {
				cap.stampede_if = f->interface_id;
				memcpy(cap.stampede_mac, f->d.src.mac, 6);
				found_stampede = true;
			}
			cr_assert(eq(u32, f->interface_id, cap.stampede_if), "%s frame %u: Stampede on two interfaces",
				  spec->file, f->number);
			cr_assert(eq(u8[6], f->d.src.mac, cap.stampede_mac), "%s frame %u: Stampede with two MACs",
				  spec->file, f->number);
		}
		if (is_request(f))
			cr_assert(not(f->udp_sum_bad), "%s frame %u: a request with a bad UDP checksum",
				  spec->file, f->number);
	}
	cr_assert(eq(int, ret, 0), "%s: %s", spec->file, r.error);
	cr_assert(found_stampede, "%s: no reply from Stampede (%s) in the capture", spec->file, SERVER_IP);

	for (unsigned j = 0; j < cap.n; j++) {
		struct frame *reply = &cap.frames[j];
		int req = -1;

		if (!is_stampede_reply(reply))
			continue;
		for (unsigned i = 0; i < j; i++) {
			const struct frame *f = &cap.frames[i];

			/* One interface's packets are in time order in the file. */
			if (f->interface_id == reply->interface_id)
				cr_assert(le(u64, f->timestamp, reply->timestamp), "%s frames %u, %u out of order",
					  spec->file, f->number, reply->number);
			if (is_request(f) && delivered(&cap, f) && f->msg.xid == reply->msg.xid)
				req = (int)i;
		}
		cr_assert(ge(int, req, 0), "%s frame %u: a Stampede reply to no request it received (xid 0x%08x)",
			  spec->file, reply->number, reply->msg.xid);
		cr_assert(eq(int, cap.frames[req].peer, -1), "%s frames %u and %u: two replies to frame %u",
			  spec->file, cap.frames[cap.frames[req].peer].number, reply->number, cap.frames[req].number);
		cap.frames[req].peer = (int)j;
		reply->peer = req;
		cap.n_answered++;
	}
	/* Every capture must prove something: at least one answered request. */
	cr_assert(gt(uint, cap.n_answered, 0), "%s: no request answered by Stampede", spec->file);
	return &cap;
}

static const struct frame *frame_number(const struct capture *c, unsigned number)
{
	cr_assert(number >= 1 && number <= c->n, "%s has no frame %u", c->spec->file, number);
	return &c->frames[number - 1];
}

/* ---- 1. the capture holds what the tables say ------------------------------- */

static const struct silent *silence_of(const struct capture_spec *s, unsigned number)
{
	for (size_t i = 0; i < s->n_silent; i++)
		if (s->silent[i].request == number)
			return &s->silent[i];
	return NULL;
}

static bool listed(const unsigned *list, size_t n, unsigned number)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == number)
			return true;
	return false;
}

static void check_contents(const struct capture_spec *spec)
{
	const struct capture *c = open_capture(spec);
	unsigned requests = 0;

	cr_assert(eq(uint, c->n, spec->frames), "%s: %u frames, %u documented", spec->file, c->n, spec->frames);
	cr_assert(eq(uint, c->n_answered, spec->n_answered), "%s: %u answered requests, %zu documented",
		  spec->file, c->n_answered, spec->n_answered);
	for (size_t i = 0; i < spec->n_answered; i++) {
		const struct answered *a = &spec->answered[i];
		const struct frame *req = frame_number(c, a->request);

		cr_assert(is_request(req), "%s frame %u is not a request (%s)", spec->file, a->request, a->what);
		cr_assert(not(eq(int, req->peer, -1)), "%s frame %u went unanswered (%s)", spec->file, a->request,
			  a->what);
		cr_assert(eq(uint, c->frames[req->peer].number, a->reply), "%s frame %u: answered by frame %u, not %u (%s)",
			  spec->file, a->request, c->frames[req->peer].number, a->reply, a->what);
	}
	for (unsigned i = 0; i < c->n; i++) {
		const struct frame *f = &c->frames[i];

		if (!is_request(f))
			continue;
		requests++;
		if (f->peer >= 0)
			continue;
		if (delivered(c, f))
			cr_assert(not(eq(ptr, (void *)silence_of(spec, f->number), NULL)),
				  "%s frame %u: an unanswered %s that Stampede received, not documented", spec->file,
				  f->number, msg_type_name(&f->msg));
		else
			cr_assert(listed(spec->not_delivered, spec->n_not_delivered, f->number),
				  "%s frame %u: a %s Stampede never received, not documented", spec->file, f->number,
				  msg_type_name(&f->msg));
	}
	for (size_t i = 0; i < spec->n_silent; i++)
		cr_assert(delivered(c, frame_number(c, spec->silent[i].request)) &&
				  is_request(frame_number(c, spec->silent[i].request)),
			  "%s frame %u: documented as a request Stampede received (%s)", spec->file,
			  spec->silent[i].request, spec->silent[i].what);
	for (size_t i = 0; i < spec->n_not_delivered; i++) {
		const struct frame *f = frame_number(c, spec->not_delivered[i]);

		cr_assert(is_request(f) && !delivered(c, f), "%s frame %u: documented as a request Stampede never received",
			  spec->file, f->number);
	}
	cr_assert(eq(sz, requests, spec->n_answered + spec->n_silent + spec->n_not_delivered),
		  "%s: %u requests, documented %zu", spec->file, requests,
		  spec->n_answered + spec->n_silent + spec->n_not_delivered);
}

/* ---- 2. replayed byte for byte ---------------------------------------------- */

/* The BOOTP field an offset falls in, for messages about a differing byte. */
static const char *field_at(size_t off)
{
	static const struct { size_t end; const char *name; } fields[] = {
		{ 1, "op" }, { 2, "htype" }, { 3, "hlen" }, { 4, "hops" }, { 8, "xid" }, { 10, "secs" },
		{ 12, "flags" }, { 16, "ciaddr" }, { 20, "yiaddr" }, { 24, "siaddr" }, { 28, "giaddr" },
		{ 44, "chaddr" }, { 108, "sname" }, { 236, "file" }, { 240, "cookie" },
	};

	for (size_t i = 0; i < COUNT(fields); i++)
		if (off < fields[i].end)
			return fields[i].name;
	return "options";
}

static void check_replay(const struct capture_spec *spec)
{
	const struct capture *c = open_capture(spec);
	struct dhcp_message *scratch = malloc(sizeof(*scratch));
	unsigned replayed = 0;

	cr_assert(not(eq(ptr, (void *)scratch, NULL)));
	for (unsigned i = 0; i < c->n; i++) {
		const struct frame *req = &c->frames[i], *reply;
		struct proxy_dhcp_counters counters = { 0 };
		struct proxy_answer a;
		uint8_t out[MAX_PACKET];
		char want_ip[INET_ADDRSTRLEN], got_ip[INET_ADDRSTRLEN];
		enum proxy_decision want;

		if (!is_request(req) || req->peer < 0)
			continue;
		reply = &c->frames[req->peer];
		want = req->d.dst.port == PXE_BOOT_SERVER_PORT || strcmp(msg_type_name(&reply->msg), "ACK") == 0
			       ? PROXY_ack
			       : PROXY_offer;
		proxy_dhcp_handle(lab_policy(), &req->d, ip(SERVER_IP), scratch, out, sizeof(out), &a, &counters);
		cr_assert(eq(str, (char *)proxy_decision_name(a.decision), (char *)proxy_decision_name(want)),
			  "%s frame %u (%s): decided %s, captured frame %u is an %s", spec->file, req->number,
			  msg_type_name(&req->msg), proxy_decision_name(a.decision), reply->number,
			  msg_type_name(&reply->msg));
		cr_assert(eq(u64, counters.decisions[want], 1));
		cr_assert(eq(sz, a.len, reply->d.payload_len), "%s frame %u: %zu reply bytes, frame %u has %zu",
			  spec->file, req->number, a.len, reply->number, reply->d.payload_len);
		for (size_t k = 0; k < a.len; k++)
			cr_assert(eq(u8, out[k], reply->d.payload[k]),
				  "%s frame %u: reply byte %zu (%s) is 0x%02x, frame %u has 0x%02x", spec->file,
				  req->number, k, field_at(k), out[k], reply->number, reply->d.payload[k]);

		cr_assert(eq(u32, a.to.ip, reply->d.dst.ip), "%s frame %u: reply to %s, frame %u went to %s",
			  spec->file, req->number, ip_str(a.to.ip, got_ip), reply->number,
			  ip_str(reply->d.dst.ip, want_ip));
		cr_assert(eq(u16, a.to.port, reply->d.dst.port), "%s frame %u: reply to port %u, frame %u to %u",
			  spec->file, req->number, a.to.port, reply->number, reply->d.dst.port);
		cr_assert(eq(u8[6], a.to.mac, (uint8_t *)reply->d.dst.mac), "%s frame %u: reply to another MAC than frame %u",
			  spec->file, req->number, reply->number);
		cr_assert(eq(u16, a.src_port, reply->d.src.port), "%s frame %u: reply from port %u, frame %u from %u",
			  spec->file, req->number, a.src_port, reply->number, reply->d.src.port);
		replayed++;
	}
	free(scratch);
	cr_assert(eq(uint, replayed, spec->n_answered));
}

/* ---- 3. the captured replies follow the PXE rules --------------------------- */

/* What the client is, read from the request without dhcp_pxe_client(). */
static bool ipxe_client(const struct dhcp_message *m)
{
	const struct dhcp_option *uc = dhcp_option(m, DHCP_OPT_USER_CLASS);

	if (dhcp_option(m, DHCP_OPT_IPXE_ENCAP))
		return true;
	if (!uc)
		return false;
	/* iPXE sends "iPXE" bare; RFC 3004 would prefix each class with its length. */
	if (uc->len == 4 && memcmp(uc->data, "iPXE", 4) == 0)
		return true;
	for (size_t i = 0; i < uc->len; i += 1 + (size_t)uc->data[i])
		if (uc->data[i] == 4 && i + 5 <= uc->len && memcmp(uc->data + i + 1, "iPXE", 4) == 0)
			return true;
	return false;
}

static uint16_t arch_code(const struct dhcp_message *m)
{
	const struct dhcp_option *a = dhcp_option(m, DHCP_OPT_CLIENT_ARCH);

	cr_assert(a && a->len >= 2, "a request without option 93: no such client in the captures");
	return (uint16_t)(a->data[0] << 8 | a->data[1]);
}

/* RFC 4578 §2.1: 0 x86 BIOS, 7 x64 UEFI, 9 EFI BC (x64 in practice). */
static const char *expected_boot_file(const struct dhcp_message *req)
{
	uint16_t arch = arch_code(req);

	if (ipxe_client(req))
		return SCRIPT_URL;
	cr_assert(arch == 0 || arch == 7 || arch == 9, "client arch %u: not in the lab's policy", arch);
	return arch == 0 ? BIOS_FILE : EFI_FILE;
}

static void assert_option(const char *cf, const struct frame *reply, uint8_t code, const void *data, size_t len)
{
	const struct dhcp_option *o = dhcp_option(&reply->msg, code);

	cr_assert(not(eq(ptr, (void *)o, NULL)), "%s frame %u: no option %u", cf, reply->number, code);
	cr_assert(eq(sz, o->len, len), "%s frame %u: option %u of %u bytes, %zu expected", cf, reply->number, code,
		  o->len, len);
	cr_assert(eq(int, memcmp(o->data, data, len), 0), "%s frame %u: option %u differs", cf, reply->number, code);
}

static void assert_no_option(const char *cf, const struct frame *reply, uint8_t code, const char *why)
{
	cr_assert(eq(ptr, (void *)dhcp_option(&reply->msg, code), NULL), "%s frame %u: option %u %s", cf,
		  reply->number, code, why);
}

static void assert_mac(const char *cf, unsigned n, const uint8_t got[6], const uint8_t want[6], const char *what)
{
	cr_assert(eq(u8[6], (uint8_t *)got, (uint8_t *)want), "%s frame %u: not to %s MAC", cf, n, what);
}

static void check_pxe_reply(const struct capture *c, const struct frame *req, const struct frame *reply)
{
	static const uint8_t lease_options[] = { DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS_SERVER,
						 DHCP_OPT_LEASE_TIME, DHCP_OPT_RENEWAL_TIME,
						 DHCP_OPT_REBINDING_TIME };
	static const uint8_t use_bootfile[] = { PXE_SUB_DISCOVERY_CONTROL, 1, PXE_DISCOVERY_USE_BOOTFILE,
						PXE_SUB_END };
	static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct dhcp_message *q = &req->msg, *m = &reply->msg;
	const struct dhcp_option *uuid = dhcp_option(q, DHCP_OPT_CLIENT_UUID), *vendor;
	const char *file = expected_boot_file(q);
	bool to_4011 = req->d.dst.port == PXE_BOOT_SERVER_PORT;
	bool ack = strcmp(msg_type_name(q), "DISCOVER") != 0;
	uint32_t server = ip(SERVER_IP);
	unsigned n = reply->number;
	const char *cf = c->spec->file;

	/* RFC 2131 §4.3.1 table 3, as a proxy (PXE 2.1 §2.2): no address. */
	cr_assert(eq(u8, m->op, DHCP_BOOTREPLY), "%s frame %u: op", cf, n);
	cr_assert(eq(u8, m->htype, q->htype), "%s frame %u: htype", cf, n);
	cr_assert(eq(u8, m->hlen, q->hlen), "%s frame %u: hlen", cf, n);
	cr_assert(eq(u8, m->hops, 0), "%s frame %u: hops", cf, n);
	cr_assert(eq(u32, m->xid, q->xid), "%s frame %u: xid", cf, n);
	cr_assert(eq(u16, m->flags, q->flags), "%s frame %u: flags", cf, n);
	cr_assert(eq(u32, m->ciaddr, ack ? q->ciaddr : 0), "%s frame %u: ciaddr", cf, n);
	cr_assert(eq(u32, m->yiaddr, 0), "%s frame %u: yiaddr is set: a proxy leases nothing", cf, n);
	cr_assert(eq(u32, m->siaddr, server), "%s frame %u: siaddr is not " SERVER_IP, cf, n);
	cr_assert(eq(u32, m->giaddr, q->giaddr), "%s frame %u: giaddr", cf, n);
	cr_assert(eq(u8[DHCP_CHADDR_LEN], (uint8_t *)m->chaddr, (uint8_t *)q->chaddr), "%s frame %u: chaddr", cf,
		  n);
	cr_assert(eq(u8, m->overload, 0), "%s frame %u: option 52", cf, n);
	cr_assert(ge(sz, reply->d.payload_len, DHCP_MIN_REPLY_LEN), "%s frame %u: shorter than BOOTP's 300 bytes",
		  cf, n);

	assert_option(cf, reply, DHCP_OPT_MSG_TYPE, (uint8_t[]){ ack ? DHCP_ACK : DHCP_OFFER }, 1);
	assert_option(cf, reply, DHCP_OPT_SERVER_ID, &server, 4);
	vendor = dhcp_option(q, DHCP_OPT_VENDOR_CLASS);
	cr_assert(vendor && vendor->len >= 9 && memcmp(vendor->data, "PXEClient", 9) == 0,
		  "%s frame %u: the request is not from a PXEClient", cf, req->number);
	assert_option(cf, reply, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
	if (uuid) /* RFC 4578 §2.3 */
		assert_option(cf, reply, DHCP_OPT_CLIENT_UUID, uuid->data, uuid->len);
	else
		assert_no_option(cf, reply, DHCP_OPT_CLIENT_UUID, "that the client never sent");
	for (size_t i = 0; i < COUNT(lease_options); i++)
		assert_no_option(cf, reply, lease_options[i], "is a lease option: a proxy leases nothing");

	/* The boot file in both places: the BOOTP field and option 67. */
	cr_assert(lt(sz, strnlen((const char *)m->file, DHCP_FILE_LEN), DHCP_FILE_LEN),
		  "%s frame %u: file not terminated", cf, n);
	cr_assert(eq(str, (char *)m->file, (char *)file), "%s frame %u: file field", cf, n);
	assert_option(cf, reply, DHCP_OPT_BOOTFILE, file, strlen(file));

	/* Option 43: BIOS PXE ROMs get "use the boot file" (discovery control
	 * 8); UEFI and iPXE none; an ACK echoes the boot item asked for. */
	if (!ack && arch_code(q) == 0 && !ipxe_client(q))
		assert_option(cf, reply, DHCP_OPT_VENDOR_ENCAP, use_bootfile, sizeof(use_bootfile));
	else if (!(ack && dhcp_option(q, DHCP_OPT_VENDOR_ENCAP)))
		assert_no_option(cf, reply, DHCP_OPT_VENDOR_ENCAP, "for a UEFI or iPXE client");

	/* Where it went (RFC 2131 §4.1, PXE 2.1 §2.2.5). */
	cr_assert(eq(u32, reply->d.src.ip, server), "%s frame %u: source address", cf, n);
	cr_assert(eq(u8[6], (uint8_t *)reply->d.src.mac, (uint8_t *)c->stampede_mac), "%s frame %u: source MAC", cf,
		  n);
	if (to_4011) {
		cr_assert(eq(u16, reply->d.src.port, PXE_BOOT_SERVER_PORT), "%s frame %u: a 4011 ACK not from 4011",
			  cf, n);
		cr_assert(eq(u32, reply->d.dst.ip, req->d.src.ip), "%s frame %u: not to the client's address", cf, n);
		cr_assert(eq(u32, reply->d.dst.ip, q->ciaddr), "%s frame %u: not to the client's ciaddr", cf, n);
		cr_assert(not(eq(u32, reply->d.dst.ip, INADDR_BROADCAST)), "%s frame %u: a 4011 ACK broadcast", cf, n);
		cr_assert(eq(u16, reply->d.dst.port, req->d.src.port), "%s frame %u: not to the client's port", cf, n);
		assert_mac(cf, n, reply->d.dst.mac, req->d.src.mac, "the client's");
		return;
	}
	cr_assert(eq(u16, reply->d.src.port, DHCP_SERVER_PORT), "%s frame %u: source port", cf, n);
	if (q->giaddr) {
		cr_assert(eq(u32, reply->d.dst.ip, q->giaddr), "%s frame %u: not to the relay's giaddr", cf, n);
		cr_assert(eq(u16, reply->d.dst.port, DHCP_SERVER_PORT), "%s frame %u: not to the relay's port 67", cf,
			  n);
		assert_mac(cf, n, reply->d.dst.mac, req->d.src.mac, "the relay's");
	} else if (q->ciaddr && !(q->flags & DHCP_FLAG_BROADCAST)) {
		cr_assert(eq(u32, reply->d.dst.ip, q->ciaddr), "%s frame %u: not to the client's ciaddr", cf, n);
		cr_assert(eq(u16, reply->d.dst.port, DHCP_CLIENT_PORT), "%s frame %u: not to port 68", cf, n);
	} else {
		cr_assert(eq(u32, reply->d.dst.ip, INADDR_BROADCAST), "%s frame %u: not broadcast", cf, n);
		cr_assert(eq(u16, reply->d.dst.port, DHCP_CLIENT_PORT), "%s frame %u: not to port 68", cf, n);
		assert_mac(cf, n, reply->d.dst.mac, broadcast_mac, "the broadcast");
	}
}

static void check_pxe_rules(const struct capture_spec *spec)
{
	const struct capture *c = open_capture(spec);
	unsigned checked = 0;

	for (unsigned j = 0; j < c->n; j++) {
		const struct frame *reply = &c->frames[j];

		if (!is_stampede_reply(reply))
			continue;
		check_pxe_reply(c, &c->frames[reply->peer], reply);
		checked++;
	}
	cr_assert(eq(uint, checked, spec->n_answered));
}

/* ---- 4. silence where Stampede was silent ----------------------------------- */

static void check_silences(const struct capture_spec *spec)
{
	const struct capture *c = open_capture(spec);
	struct dhcp_message *scratch = malloc(sizeof(*scratch));
	unsigned silent = 0;

	cr_assert(not(eq(ptr, (void *)scratch, NULL)));
	for (unsigned i = 0; i < c->n; i++) {
		const struct frame *req = &c->frames[i];
		const struct silent *s = silence_of(spec, req->number);
		struct proxy_dhcp_counters counters = { 0 };
		struct proxy_answer a;
		uint8_t out[MAX_PACKET];

		if (!is_request(req) || req->peer >= 0 || !delivered(c, req))
			continue;
		cr_assert(not(eq(ptr, (void *)s, NULL)), "%s frame %u: undocumented", spec->file, req->number);
		proxy_dhcp_handle(lab_policy(), &req->d, ip(SERVER_IP), scratch, out, sizeof(out), &a, &counters);
		cr_assert(eq(sz, a.len, 0), "%s frame %u (%s): %zu reply bytes where Stampede was silent", spec->file,
			  req->number, s->what, a.len);
		cr_assert(eq(str, (char *)proxy_decision_name(a.decision), (char *)proxy_decision_name(s->decision)),
			  "%s frame %u (%s)", spec->file, req->number, s->what);
		cr_assert(eq(u64, counters.decisions[s->decision], 1));
		silent++;
	}
	free(scratch);
	cr_assert(eq(uint, silent, spec->n_silent));
}

/* ---- the tests ---------------------------------------------------------------- */

Test(firmware_captures, ovmf_edk2_pxe_holds_the_documented_exchanges) { check_contents(&ovmf); }
Test(firmware_captures, ovmf_edk2_pxe_replies_replayed_byte_for_byte) { check_replay(&ovmf); }
Test(firmware_captures, ovmf_edk2_pxe_replies_follow_the_pxe_rules) { check_pxe_rules(&ovmf); }
Test(firmware_captures, ovmf_edk2_pxe_unanswered_requests_stay_silent) { check_silences(&ovmf); }

Test(firmware_captures, seabios_ipxe_holds_the_documented_exchanges) { check_contents(&seabios); }
Test(firmware_captures, seabios_ipxe_replies_replayed_byte_for_byte) { check_replay(&seabios); }
Test(firmware_captures, seabios_ipxe_replies_follow_the_pxe_rules) { check_pxe_rules(&seabios); }
Test(firmware_captures, seabios_ipxe_unanswered_requests_stay_silent) { check_silences(&seabios); }

Test(firmware_captures, seabios_ipxe_relayed_holds_the_documented_exchanges) { check_contents(&relayed); }
Test(firmware_captures, seabios_ipxe_relayed_replies_replayed_byte_for_byte) { check_replay(&relayed); }
Test(firmware_captures, seabios_ipxe_relayed_replies_follow_the_pxe_rules) { check_pxe_rules(&relayed); }
Test(firmware_captures, seabios_ipxe_relayed_unanswered_requests_stay_silent) { check_silences(&relayed); }

/* What the client behind the relay received (frames 5, 10, 23 on its own
 * segment) is Stampede's reply unchanged: the relay forwarded our bytes. */
Test(firmware_captures, seabios_ipxe_relayed_client_receives_stampede_bytes)
{
	const struct capture *c = open_capture(&relayed);
	uint32_t server = ip(SERVER_IP);
	unsigned forwarded = 0;

	for (unsigned i = 0; i < c->n; i++) {
		const struct frame *f = &c->frames[i];
		const struct dhcp_option *sid = dhcp_option(&f->msg, DHCP_OPT_SERVER_ID);
		bool same = false;

		if (f->msg.op != DHCP_BOOTREPLY || f->interface_id == c->stampede_if || !sid || sid->len != 4 ||
		    memcmp(sid->data, &server, 4) != 0)
			continue;
		cr_assert(eq(u16, f->d.dst.port, DHCP_CLIENT_PORT), "frame %u: not to the client's port", f->number);
		for (unsigned j = 0; j < c->n; j++)
			same |= is_stampede_reply(&c->frames[j]) && c->frames[j].d.payload_len == f->d.payload_len &&
				memcmp(c->frames[j].d.payload, f->d.payload, f->d.payload_len) == 0;
		cr_assert(same, "frame %u: the relay changed Stampede's reply", f->number);
		forwarded++;
	}
	cr_assert(eq(uint, forwarded, 3));
}

/* ---- the pcapng reader itself ---------------------------------------------- */

/* Counts the packets of buf, or returns the reader's error. */
static int count_packets(const uint8_t *buf, size_t len, char *err, size_t err_len)
{
	struct pcapng_reader r;
	struct pcapng_packet p;
	int n = 0, ret;

	pcapng_init(&r, buf, len);
	while ((ret = pcapng_next(&r, &p)) == 1)
		n++;
	if (err)
		snprintf(err, err_len, "%s", r.error);
	cr_assert(eq(int, pcapng_next(&r, &p), ret), "an error or the end must stay put");
	return ret < 0 ? ret : n;
}

Test(pcapng, reads_all_three_captures)
{
	static const struct { const char *file; int packets; } files[] = {
		{ "ovmf-edk2-pxe.pcapng", 12 },
		{ "seabios-ipxe.pcapng", 8 },
		{ "seabios-ipxe-relayed.pcapng", 26 },
	};

	for (size_t i = 0; i < COUNT(files); i++) {
		size_t len;
		uint8_t *buf = read_capture(files[i].file, &len);
		char err[256];

		cr_assert(eq(int, count_packets(buf, len, err, sizeof(err)), files[i].packets), "%s: %s",
			  files[i].file, err);
		free(buf);
	}
}

/* The smallest file: a section header (no options, length unknown), one
 * Ethernet interface, one packet of 4 bytes. */
static const uint8_t tiny[] = {
	0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
	/* IDB: Ethernet, snap length 0 */
	1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
	/* EPB: interface 0, timestamp 0x100000002, 4 of 4 bytes */
	6, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0,
	0xde, 0xad, 0xbe, 0xef, 36, 0, 0, 0,
};
#define TINY_EPB 48 /* offset of the EPB */

Test(pcapng, reads_a_minimal_file)
{
	struct pcapng_reader r;
	struct pcapng_packet p;

	pcapng_init(&r, tiny, sizeof(tiny));
	cr_assert(eq(int, pcapng_next(&r, &p), 1), "%s", r.error);
	cr_assert(eq(u32, p.interface_id, 0));
	cr_assert(eq(u64, p.timestamp, 0x100000002ull));
	cr_assert(eq(u32, p.captured_len, 4));
	cr_assert(eq(u8[4], (uint8_t *)p.data, ((uint8_t[]){ 0xde, 0xad, 0xbe, 0xef })));
	cr_assert(eq(u64, r.interfaces[0].ticks_per_second, 1000000));
	cr_assert(eq(int, pcapng_next(&r, &p), 0));
}

Test(pcapng, refuses_a_big_endian_section)
{
	uint8_t buf[sizeof(tiny)];
	char err[256];

	memcpy(buf, tiny, sizeof(buf));
	memcpy(buf + 8, (uint8_t[]){ 0x1a, 0x2b, 0x3c, 0x4d }, 4);
	cr_assert(eq(int, count_packets(buf, sizeof(buf), err, sizeof(err)), -ENOTSUP));
	cr_assert(not(eq(ptr, strstr(err, "big-endian"), NULL)), "%s", err);
}

Test(pcapng, refuses_what_is_not_pcapng)
{
	static const uint8_t pcap[28] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 }; /* a classic pcap header */

	cr_assert(eq(int, count_packets(pcap, sizeof(pcap), NULL, 0), -EBADMSG));
	cr_assert(eq(int, count_packets(tiny, 0, NULL, 0), -EBADMSG));
}

Test(pcapng, refuses_lengths_that_disagree)
{
	uint8_t buf[sizeof(tiny)];

	memcpy(buf, tiny, sizeof(buf));
	buf[sizeof(buf) - 4] = 40; /* the EPB's trailing length */
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -EBADMSG));

	memcpy(buf, tiny, sizeof(buf));
	buf[TINY_EPB + 20] = 8; /* 8 bytes captured in a block with room for 4 */
	buf[TINY_EPB + 24] = 8;
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -EBADMSG));

	memcpy(buf, tiny, sizeof(buf));
	buf[TINY_EPB + 24] = 3; /* more captured than the packet had */
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -EBADMSG));

	memcpy(buf, tiny, sizeof(buf));
	buf[TINY_EPB + 8] = 1; /* interface 1 was never described */
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -EBADMSG));

	memcpy(buf, tiny, sizeof(buf));
	buf[TINY_EPB + 4] = 38; /* not a multiple of 4 */
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -EBADMSG));

	memcpy(buf, tiny, sizeof(buf));
	buf[16] = 4, memset(buf + 17, 0, 7); /* a section of 4 bytes: the IDB runs past it */
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -EBADMSG));
}

Test(pcapng, refuses_packet_blocks_it_does_not_read)
{
	uint8_t buf[sizeof(tiny)];

	memcpy(buf, tiny, sizeof(buf));
	buf[TINY_EPB] = 3; /* a Simple Packet Block would be skipped silently */
	cr_assert(eq(int, count_packets(buf, sizeof(buf), NULL, 0), -ENOTSUP));
}

/* Every prefix of a real capture, its last byte the last readable one: the
 * reader stops with an error or at a block boundary, never reads past. */
Test(pcapng, every_truncation_stops_cleanly_without_over_reading)
{
	struct guard g;
	size_t len;
	uint8_t *buf = read_capture("seabios-ipxe.pcapng", &len);

	guard_open(&g);
	cr_assert(le(sz, len, g.page), "the capture no longer fits one guarded page");
	for (size_t l = 0; l <= len; l++) {
		int n = count_packets(guard_tail(&g, buf, l), l, NULL, 0);

		if (l == len)
			cr_assert(eq(int, n, 8));
		else if (l % 4)
			cr_assert(eq(int, n, -EBADMSG), "prefix of %zu bytes", l);
		else
			cr_assert(n == -EBADMSG || (n >= 0 && n <= 8), "prefix of %zu bytes: %d", l, n);
	}
	guard_close(&g);
	free(buf);
}
