/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The XDP steering program, run in the kernel with BPF_PROG_TEST_RUN over a table
 * of packets (as katran's BpfTester and cilium's bpf/tests do). The object is the
 * one the build produces (meson passes its path in XDP_OBJECT); sp_config is set
 * to server 10.1.0.1 with TFTP session ports 49152-49160. No AF_XDP socket is in
 * xsks_map, so every packet must come back XDP_PASS: what the table checks is
 * which per-CPU counter in sp_verdicts says why, and that the packet is unchanged.
 *
 * Needs CAP_BPF (root): without it the tests skip and say so.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "stampede_xdp.h"

static const char *const verdict_names[SP_XDP_VERDICT_COUNT] = SP_XDP_VERDICT_NAMES;

static struct {
	struct bpf_object *obj;
	int prog_fd, config_fd, verdicts_fd;
	int ncpus;
} x;

/* ---- loading -------------------------------------------------------------- */

static void load_or_skip(void)
{
	const char *path = getenv("XDP_OBJECT");
	struct bpf_program *prog;
	int r;

	cr_assert(path != NULL && path[0], "XDP_OBJECT is not set: run this test through meson test");
	x.obj = bpf_object__open_file(path, NULL);
	cr_assert(x.obj != NULL, "cannot open %s: %s", path, strerror(errno));
	r = bpf_object__load(x.obj);
	if (r == -EPERM || r == -EACCES)
		cr_skip_test("loading BPF needs CAP_BPF/CAP_SYS_ADMIN (bpf_object__load: %s)", strerror(-r));
	cr_assert(eq(int, r, 0), "bpf_object__load(%s): %s", path, strerror(-r));
	prog = bpf_object__find_program_by_name(x.obj, "stampede_steer");
	cr_assert(prog != NULL, "no program stampede_steer in %s", path);
	x.prog_fd = bpf_program__fd(prog);
	x.config_fd = bpf_object__find_map_fd_by_name(x.obj, SP_XDP_MAP_CONFIG);
	x.verdicts_fd = bpf_object__find_map_fd_by_name(x.obj, SP_XDP_MAP_VERDICTS);
	cr_assert(ge(int, x.prog_fd, 0));
	cr_assert(ge(int, x.config_fd, 0));
	cr_assert(ge(int, x.verdicts_fd, 0));
	x.ncpus = libbpf_num_possible_cpus();
	cr_assert(gt(int, x.ncpus, 0));
}

static void unload(void)
{
	bpf_object__close(x.obj);
	x.obj = NULL;
}

TestSuite(xdp, .fini = unload);

static bool steer_dhcp = true;
static uint32_t dhcp_gap_ns, tftp_request_gap_ns; /* rate limits: off unless a test sets them */

static void configure(uint32_t server_ip_be, uint16_t lo, uint16_t hi)
{
	struct sp_xdp_config cfg = {
		.server_ip = server_ip_be, .tftp_port_lo = lo, .tftp_port_hi = hi, .steer_dhcp = steer_dhcp,
		.dhcp_gap_ns = dhcp_gap_ns, .tftp_request_gap_ns = tftp_request_gap_ns,
	};
	uint32_t key = 0;

	cr_assert(eq(int, bpf_map_update_elem(x.config_fd, &key, &cfg, BPF_ANY), 0), "%s", strerror(errno));
}

static void read_verdicts(uint64_t out[SP_XDP_VERDICT_COUNT])
{
	uint64_t *per_cpu = calloc((size_t)x.ncpus, sizeof(*per_cpu));

	cr_assert(per_cpu != NULL);
	for (uint32_t v = 0; v < SP_XDP_VERDICT_COUNT; v++) {
		out[v] = 0;
		cr_assert(eq(int, bpf_map_lookup_elem(x.verdicts_fd, &v, per_cpu), 0));
		for (int c = 0; c < x.ncpus; c++)
			out[v] += per_cpu[c];
	}
	free(per_cpu);
}

/* ---- packets ---------------------------------------------------------------- */

#define SERVER    "10.1.0.1"
#define CLIENT    "10.1.0.100"
#define BROADCAST "255.255.255.255"

struct pkt {
	uint8_t b[128];
	size_t len;
};

static uint32_t ip4(const char *dotted)
{
	struct in_addr a;

	cr_assert(eq(int, inet_pton(AF_INET, dotted, &a), 1));
	return a.s_addr;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t eth(struct pkt *p, uint16_t type)
{
	static const uint8_t macs[12] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

	memcpy(p->b, macs, 12);
	put16(p->b + 12, type);
	return 14;
}

/* IPv4 header of ihl words (options zero-filled), then an 8-byte L4 header. */
static struct pkt ipv4(uint8_t ihl, uint8_t proto, const char *dst, uint16_t frag, uint16_t dport)
{
	struct pkt p = { .len = 0 };
	size_t ip = eth(&p, 0x0800), hl = (size_t)ihl * 4, l4;
	uint32_t s = ip4(CLIENT), d = ip4(dst);

	if (hl < 20)
		hl = 20; /* a bogus IHL still comes with a full fixed header */
	l4 = ip + hl;
	p.b[ip] = (uint8_t)(0x40 | ihl);
	put16(p.b + ip + 2, (uint16_t)(hl + 8 + 4));
	put16(p.b + ip + 4, 0x1234);
	put16(p.b + ip + 6, frag);
	p.b[ip + 8] = 64;
	p.b[ip + 9] = proto;
	memcpy(p.b + ip + 12, &s, 4);
	memcpy(p.b + ip + 16, &d, 4);
	put16(p.b + l4, 2070);
	put16(p.b + l4 + 2, dport);
	put16(p.b + l4 + 4, 12);
	memcpy(p.b + l4 + 8, "\0\1x\0", 4);
	p.len = l4 + 8 + 4;
	return p;
}

static struct pkt udp(const char *dst, uint16_t dport)
{
	return ipv4(5, IPPROTO_UDP, dst, 0, dport);
}

static struct pkt arp(void)
{
	struct pkt p = { .len = 0 };
	size_t o = eth(&p, 0x0806);
	static const uint8_t req[28] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
					 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 10, 1, 0, 100,
					 0, 0, 0, 0, 0, 0, 10, 1, 0, 1 };

	memset(p.b, 0xff, 6); /* broadcast who-has 10.1.0.1 */
	memcpy(p.b + o, req, sizeof(req));
	p.len = o + sizeof(req);
	return p;
}

static struct pkt with_ethertype(struct pkt p, uint16_t type)
{
	put16(p.b + 12, type);
	return p;
}

static struct pkt with_version(struct pkt p, uint8_t version)
{
	p.b[14] = (uint8_t)(version << 4 | (p.b[14] & 0xf));
	return p;
}

static struct pkt truncated(struct pkt p, size_t len)
{
	p.len = len;
	return p;
}

static struct pkt with_source(struct pkt p, const char *src)
{
	uint32_t a = ip4(src);

	memcpy(p.b + 14 + 12, &a, 4);
	return p;
}

/* A BOOTP request far enough to hold chaddr (offset 28 of the payload), which
 * ends in mac_last. */
static struct pkt bootp(const char *dst, uint16_t dport, uint8_t mac_last)
{
	struct pkt p = udp(dst, dport);
	uint8_t *payload = p.b + 14 + 20 + 8;
	static const uint8_t chaddr[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x00 };

	memset(payload, 0, 34);
	payload[0] = 1; /* BOOTREQUEST */
	memcpy(payload + 28, chaddr, 6);
	payload[33] = mac_last;
	p.len = 14 + 20 + 8 + 34;
	return p;
}

/* ---- running ---------------------------------------------------------------- */

/* Runs the program once on p; returns the verdict whose counter moved, after
 * checking that exactly one counter moved by exactly one. */
static int run(const struct pkt *p, const char *what)
{
	uint64_t before[SP_XDP_VERDICT_COUNT], after[SP_XDP_VERDICT_COUNT];
	uint8_t out[256];
	int moved = -1;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = (uint32_t)p->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	read_verdicts(before);
	cr_assert(eq(int, bpf_prog_test_run_opts(x.prog_fd, &opts), 0), "%s: test run: %s", what, strerror(errno));
	read_verdicts(after);
	cr_expect(eq(u32, opts.data_size_out, (uint32_t)p->len), "%s: length changed", what);
	cr_expect(eq(int, memcmp(out, p->b, p->len), 0), "%s: packet modified", what);
	for (int v = 0; v < SP_XDP_VERDICT_COUNT; v++) {
		uint64_t delta = after[v] - before[v];

		if (!delta)
			continue;
		cr_expect(eq(u64, delta, 1), "%s: %s moved by %llu", what, verdict_names[v], (unsigned long long)delta);
		cr_expect(eq(int, moved, -1), "%s: both %s and %s moved", what, moved >= 0 ? verdict_names[moved] : "",
			  verdict_names[v]);
		moved = v;
	}
	cr_expect(eq(u32, opts.retval, moved == SP_XDP_DROP_RATE_LIMITED ? XDP_DROP : XDP_PASS), "%s: XDP action",
		  what);
	return moved;
}

static void expect_verdict(const struct pkt *p, enum sp_xdp_verdict want, const char *what)
{
	int got = run(p, what);

	cr_expect(eq(str, (char *)(got >= 0 ? verdict_names[got] : "(no counter)"), (char *)verdict_names[want]),
		  "%s", what);
}

/* ---- tests ------------------------------------------------------------------ */

Test(xdp, object_has_the_maps_and_program_the_loader_expects)
{
	struct bpf_map *xsks, *config, *verdicts;
	struct bpf_program *prog;

	load_or_skip();
	xsks = bpf_object__find_map_by_name(x.obj, SP_XDP_MAP_XSKS);
	config = bpf_object__find_map_by_name(x.obj, SP_XDP_MAP_CONFIG);
	verdicts = bpf_object__find_map_by_name(x.obj, SP_XDP_MAP_VERDICTS);
	cr_assert(xsks != NULL, "DPDK's xdp_prog= looks up \"xsks_map\"");
	cr_assert(config != NULL && verdicts != NULL);
	cr_assert(eq(int, bpf_map__type(xsks), BPF_MAP_TYPE_XSKMAP));
	cr_assert(eq(int, bpf_map__type(config), BPF_MAP_TYPE_ARRAY));
	cr_assert(eq(u32, bpf_map__value_size(config), sizeof(struct sp_xdp_config)));
	cr_assert(eq(int, bpf_map__type(verdicts), BPF_MAP_TYPE_PERCPU_ARRAY));
	cr_assert(eq(u32, bpf_map__max_entries(verdicts), SP_XDP_VERDICT_COUNT));
	prog = bpf_object__find_program_by_name(x.obj, "stampede_steer");
	cr_assert(eq(int, bpf_program__type(prog), BPF_PROG_TYPE_XDP));
}

struct xdp_case {
	const char *what;
	struct pkt pkt;
	enum sp_xdp_verdict want;
};

Test(xdp, each_packet_is_passed_with_the_counter_naming_why)
{
	load_or_skip();
	configure(ip4(SERVER), 49152, 49160);
	{
		const struct xdp_case cases[] = {
			{ "ARP who-has", arp(), SP_XDP_PASS_NOT_IPV4 },
			{ "IPv6 EtherType", with_ethertype(udp(SERVER, 69), 0x86dd), SP_XDP_PASS_NOT_IPV4 },
			{ "802.1Q tagged", with_ethertype(udp(SERVER, 69), 0x8100), SP_XDP_PASS_NOT_IPV4 },
			{ "ICMP to the server", ipv4(5, IPPROTO_ICMP, SERVER, 0, 0), SP_XDP_PASS_NOT_UDP },
			{ "TCP to port 80", ipv4(5, IPPROTO_TCP, SERVER, 0, 80), SP_XDP_PASS_NOT_UDP },
			{ "TCP to port 69", ipv4(5, IPPROTO_TCP, SERVER, 0, 69), SP_XDP_PASS_NOT_UDP },
			{ "UDP 69 (TFTP)", udp(SERVER, 69), SP_XDP_PASS_NO_SOCKET },
			{ "UDP 67 (DHCP)", udp(SERVER, 67), SP_XDP_PASS_NO_SOCKET },
			{ "UDP 4011 (PXE)", udp(SERVER, 4011), SP_XDP_PASS_NO_SOCKET },
			{ "UDP 49152 (first session port)", udp(SERVER, 49152), SP_XDP_PASS_NO_SOCKET },
			{ "UDP 49160 (last session port)", udp(SERVER, 49160), SP_XDP_PASS_NO_SOCKET },
			{ "UDP 49151", udp(SERVER, 49151), SP_XDP_PASS_OTHER_PORT },
			{ "UDP 49161", udp(SERVER, 49161), SP_XDP_PASS_OTHER_PORT },
			{ "UDP 53", udp(SERVER, 53), SP_XDP_PASS_OTHER_PORT },
			{ "UDP 68", udp(SERVER, 68), SP_XDP_PASS_OTHER_PORT },
			{ "UDP 69 to another address", udp("10.1.0.2", 69), SP_XDP_PASS_OTHER_ADDRESS },
			{ "UDP 67 to another address", udp("10.1.0.2", 67), SP_XDP_PASS_OTHER_ADDRESS },
			{ "broadcast to 67", udp(BROADCAST, 67), SP_XDP_PASS_NO_SOCKET },
			{ "broadcast to 69", udp(BROADCAST, 69), SP_XDP_PASS_OTHER_PORT },
			{ "broadcast to 4011", udp(BROADCAST, 4011), SP_XDP_PASS_OTHER_PORT },
			{ "broadcast to 49152", udp(BROADCAST, 49152), SP_XDP_PASS_OTHER_PORT },
			{ "subnet broadcast 10.1.0.255 to 67", udp("10.1.0.255", 67), SP_XDP_PASS_OTHER_ADDRESS },
			{ "later fragment", ipv4(5, IPPROTO_UDP, SERVER, 185, 69), SP_XDP_PASS_LATER_FRAGMENT },
			{ "later fragment, last", ipv4(5, IPPROTO_UDP, SERVER, 0x2000 | 1, 69),
			  SP_XDP_PASS_LATER_FRAGMENT },
			{ "later fragment to another address", ipv4(5, IPPROTO_UDP, "10.1.0.2", 185, 69),
			  SP_XDP_PASS_OTHER_ADDRESS },
			{ "first fragment (MF, offset 0) to 69", ipv4(5, IPPROTO_UDP, SERVER, 0x2000, 69),
			  SP_XDP_PASS_NO_SOCKET },
			{ "DF to 69", ipv4(5, IPPROTO_UDP, SERVER, 0x4000, 69), SP_XDP_PASS_NO_SOCKET },
			{ "IP options (ihl 6) to 69", ipv4(6, IPPROTO_UDP, SERVER, 0, 69), SP_XDP_PASS_NO_SOCKET },
			{ "IP options (ihl 15) to 53", ipv4(15, IPPROTO_UDP, SERVER, 0, 53), SP_XDP_PASS_OTHER_PORT },
			{ "ihl 4", ipv4(4, IPPROTO_UDP, SERVER, 0, 69), SP_XDP_PASS_MALFORMED },
			{ "ihl 0", ipv4(0, IPPROTO_UDP, SERVER, 0, 69), SP_XDP_PASS_MALFORMED },
			{ "IP version 6 under EtherType IPv4", with_version(udp(SERVER, 69), 6), SP_XDP_PASS_MALFORMED },
			{ "Ethernet header only", truncated(udp(SERVER, 69), 14), SP_XDP_PASS_MALFORMED },
			{ "IPv4 header cut at 19 bytes", truncated(udp(SERVER, 69), 14 + 19), SP_XDP_PASS_MALFORMED },
			{ "UDP header cut at 7 bytes", truncated(udp(SERVER, 69), 14 + 20 + 7), SP_XDP_PASS_MALFORMED },
			{ "ihl 6 with no room for UDP after the options", truncated(ipv4(6, IPPROTO_UDP, SERVER, 0, 69),
										    14 + 24 + 4),
			  SP_XDP_PASS_MALFORMED },
			{ "UDP header exactly present", truncated(udp(SERVER, 69), 14 + 20 + 8), SP_XDP_PASS_NO_SOCKET },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			expect_verdict(&cases[i].pkt, cases[i].want, cases[i].what);
	}
}

Test(xdp, all_zero_config_steers_nothing)
{
	load_or_skip();
	/* The map starts zeroed: the state before the dataplane is ready. */
	{
		const struct pkt tftp = udp(SERVER, 69), dhcp = udp(BROADCAST, 67);
		const struct pkt tcp = ipv4(5, IPPROTO_TCP, SERVER, 0, 80);

		expect_verdict(&tftp, SP_XDP_PASS_UNCONFIGURED, "TFTP before configuration");
		expect_verdict(&dhcp, SP_XDP_PASS_UNCONFIGURED, "DHCP broadcast before configuration");
		expect_verdict(&tcp, SP_XDP_PASS_NOT_UDP, "TCP before configuration");
		configure(ip4(SERVER), 49152, 49160);
		expect_verdict(&tftp, SP_XDP_PASS_NO_SOCKET, "TFTP once configured");
		configure(0, 0, 0);
		expect_verdict(&tftp, SP_XDP_PASS_UNCONFIGURED, "TFTP after configuration is cleared");
	}
}

Test(xdp, session_range_follows_the_config_map)
{
	load_or_skip();
	configure(ip4(SERVER), 60000, 60001);
	{
		const struct pkt old_lo = udp(SERVER, 49152), lo = udp(SERVER, 60000), hi = udp(SERVER, 60001);
		const struct pkt past = udp(SERVER, 60002), tftp = udp(SERVER, 69);

		expect_verdict(&old_lo, SP_XDP_PASS_OTHER_PORT, "49152 outside the new range");
		expect_verdict(&lo, SP_XDP_PASS_NO_SOCKET, "60000");
		expect_verdict(&hi, SP_XDP_PASS_NO_SOCKET, "60001");
		expect_verdict(&past, SP_XDP_PASS_OTHER_PORT, "60002");
		expect_verdict(&tftp, SP_XDP_PASS_NO_SOCKET, "69 is always owned");
	}
}

Test(xdp, verdict_names_match_the_enum)
{
	static const char *const want[] = { "pass_not_ipv4",      "pass_malformed",      "pass_not_udp",
					    "pass_unconfigured",  "pass_other_address",  "pass_later_fragment",
					    "pass_other_port",    "pass_no_socket",      "redirect",
					    "drop_rate_limited" };

	cr_assert(eq(int, SP_XDP_VERDICT_COUNT, 10));
	for (int i = 0; i < SP_XDP_VERDICT_COUNT; i++)
		cr_expect(eq(str, (char *)verdict_names[i], (char *)want[i]));
	cr_assert(eq(int, SP_XDP_PASS_NO_SOCKET, 7));
	cr_assert(eq(int, SP_XDP_REDIRECT, 8));
}

/* Without a DHCP responder the dataplane leaves steer_dhcp off: 67 (unicast or
 * broadcast) and 4011 go to the kernel, TFTP is still steered. */
Test(xdp, dhcp_ports_stay_with_the_kernel_unless_steered)
{
	load_or_skip();
	steer_dhcp = false;
	configure(ip4(SERVER), 49152, 49160);
	{
		const struct pkt dhcp = udp(SERVER, 67), bcast = udp(BROADCAST, 67), pxe = udp(SERVER, 4011),
				 tftp = udp(SERVER, 69);

		expect_verdict(&dhcp, SP_XDP_PASS_OTHER_PORT, "67 not steered");
		expect_verdict(&bcast, SP_XDP_PASS_OTHER_PORT, "broadcast 67 not steered");
		expect_verdict(&pxe, SP_XDP_PASS_OTHER_PORT, "4011 not steered");
		expect_verdict(&tftp, SP_XDP_PASS_NO_SOCKET, "69 still steered");
	}
	steer_dhcp = true;
}

/* One request a second per source: two seconds' worth (2) pass at once, the
 * third is dropped in XDP. A test run takes microseconds, far below the 1 s
 * in which a source earns its next request. */
Test(xdp, requests_over_their_sources_rate_are_dropped)
{
	load_or_skip();
	dhcp_gap_ns = 1000000000u;
	tftp_request_gap_ns = 1000000000u;
	configure(ip4(SERVER), 49152, 49160);
	{
		const struct pkt a = bootp(BROADCAST, 67, 0x0a), a_pxe = bootp(SERVER, 4011, 0x0a),
				 b = bootp(BROADCAST, 67, 0x0b), rrq = udp(SERVER, 69),
				 rrq_other = with_source(udp(SERVER, 69), "10.1.0.101"), ack = udp(SERVER, 49152),
				 relayed_c = with_source(bootp(SERVER, 67, 0x0c), "10.1.0.101"),
				 relayed_d = with_source(bootp(SERVER, 67, 0x0d), "10.1.0.101"),
				 stub = truncated(bootp(BROADCAST, 67, 0x0a), 14 + 20 + 8 + 33);

		expect_verdict(&a, SP_XDP_PASS_NO_SOCKET, "client A's first DISCOVER");
		expect_verdict(&a, SP_XDP_PASS_NO_SOCKET, "client A's second DISCOVER (the burst)");
		expect_verdict(&a, SP_XDP_DROP_RATE_LIMITED, "client A's third DISCOVER");
		expect_verdict(&a_pxe, SP_XDP_DROP_RATE_LIMITED, "client A's 4011 REQUEST: the same budget");
		expect_verdict(&b, SP_XDP_PASS_NO_SOCKET, "client B has a budget of its own");
		/* Relayed requests all come from the relay: the MAC names the client. */
		expect_verdict(&relayed_c, SP_XDP_PASS_NO_SOCKET, "relayed client C");
		expect_verdict(&relayed_c, SP_XDP_PASS_NO_SOCKET, "relayed client C again");
		expect_verdict(&relayed_d, SP_XDP_PASS_NO_SOCKET, "relayed client D, same relay address");
		expect_verdict(&stub, SP_XDP_PASS_NO_SOCKET, "too short to name its client: the dataplane judges it");

		expect_verdict(&rrq, SP_XDP_PASS_NO_SOCKET, "first RRQ");
		expect_verdict(&rrq, SP_XDP_PASS_NO_SOCKET, "second RRQ");
		expect_verdict(&rrq, SP_XDP_DROP_RATE_LIMITED, "third RRQ from the same address");
		expect_verdict(&rrq_other, SP_XDP_PASS_NO_SOCKET, "an RRQ from another address");
		for (int i = 0; i < 5; i++)
			expect_verdict(&ack, SP_XDP_PASS_NO_SOCKET, "session ports are not limited");

		dhcp_gap_ns = tftp_request_gap_ns = 0;
		configure(ip4(SERVER), 49152, 49160);
		expect_verdict(&a, SP_XDP_PASS_NO_SOCKET, "no limit once the rate is 0");
		expect_verdict(&rrq, SP_XDP_PASS_NO_SOCKET, "no RRQ limit once the rate is 0");
	}
}

Test(xdp, the_sources_table_is_a_fixed_size_lru)
{
	struct bpf_map *sources;

	load_or_skip();
	sources = bpf_object__find_map_by_name(x.obj, SP_XDP_MAP_SOURCES);
	cr_assert(sources != NULL);
	cr_assert(eq(int, bpf_map__type(sources), BPF_MAP_TYPE_LRU_HASH), "a flood of new sources evicts old ones");
	cr_assert(eq(u32, bpf_map__max_entries(sources), SP_RATE_SOURCES));
	cr_assert(eq(u32, bpf_map__key_size(sources), sizeof(struct sp_source_key)));
}
