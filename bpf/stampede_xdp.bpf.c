/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * XDP steering for Stampede.
 *
 * The dataplane owns a handful of UDP ports on one address: DHCP (67, also when
 * broadcast) and the PXE boot server (4011) when it answers them (steer_dhcp),
 * TFTP (69) and its TFTP session range.
 * Those packets go to the AF_XDP socket of the receiving queue; everything else
 * (ARP, ICMP, TCP for HTTP, other UDP, other addresses) is passed to the kernel
 * untouched, so the host stays reachable while the dataplane runs.
 *
 * The program only steers; it does not validate. A malformed datagram to an owned
 * port (bad checksum, IP options, first fragment) is still redirected so that the
 * dataplane drops it under a named counter. Later fragments carry no UDP header
 * and are left to the kernel.
 *
 * As libxdp's default program does, the redirect uses XDP_PASS as its fallback:
 * with no socket bound to the queue, packets reach the kernel instead of vanishing.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "stampede_xdp.h"

#define IP_MF     0x2000
#define IP_OFFSET 0x1fff

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sp_xdp_config);
} sp_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SP_XDP_VERDICT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} sp_verdicts SEC(".maps");

static __always_inline int pass(enum sp_xdp_verdict why)
{
	__u32 key = why;
	__u64 *count = bpf_map_lookup_elem(&sp_verdicts, &key);

	if (count)
		*count += 1;
	return XDP_PASS;
}

static __always_inline int owned_port(const struct sp_xdp_config *cfg, __u16 port, int broadcast)
{
	if (port == SP_PORT_DHCP_SERVER)
		return cfg->steer_dhcp;
	if (broadcast)
		return 0;
	if (port == SP_PORT_PXE_BOOT)
		return cfg->steer_dhcp;
	return port == SP_PORT_TFTP || (port >= cfg->tftp_port_lo && port <= cfg->tftp_port_hi);
}

SEC("xdp")
int stampede_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	struct sp_xdp_config *cfg;
	__u32 zero = 0, queue = ctx->rx_queue_index;
	int broadcast;

	if ((void *)(eth + 1) > data_end)
		return pass(SP_XDP_PASS_MALFORMED);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return pass(SP_XDP_PASS_NOT_IPV4);

	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return pass(SP_XDP_PASS_MALFORMED);
	if (ip->version != 4 || ip->ihl < 5)
		return pass(SP_XDP_PASS_MALFORMED);
	if (ip->protocol != IPPROTO_UDP)
		return pass(SP_XDP_PASS_NOT_UDP);

	cfg = bpf_map_lookup_elem(&sp_config, &zero);
	if (!cfg || cfg->server_ip == 0)
		return pass(SP_XDP_PASS_UNCONFIGURED);
	broadcast = ip->daddr == 0xffffffff;
	if (ip->daddr != cfg->server_ip && !broadcast)
		return pass(SP_XDP_PASS_OTHER_ADDRESS);
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return pass(SP_XDP_PASS_LATER_FRAGMENT);

	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return pass(SP_XDP_PASS_MALFORMED);
	if (!owned_port(cfg, bpf_ntohs(udp->dest), broadcast))
		return pass(SP_XDP_PASS_OTHER_PORT);

	if (!bpf_map_lookup_elem(&xsks_map, &queue))
		return pass(SP_XDP_PASS_NO_SOCKET);
	{
		__u32 key = SP_XDP_REDIRECT;
		__u64 *count = bpf_map_lookup_elem(&sp_verdicts, &key);

		if (count)
			*count += 1;
	}
	return bpf_redirect_map(&xsks_map, queue, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
