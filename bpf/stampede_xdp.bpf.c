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
 *
 * The one thing it drops: requests over their source's rate (rate_limited), so
 * that a flood from a few sources costs the dataplane nothing.
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SP_RATE_SOURCES);
	__type(key, struct sp_source_key);
	__type(value, __u64); /* when the source's next request is due (GCRA's theoretical arrival time) */
} sp_sources SEC(".maps");

static __always_inline void count(enum sp_xdp_verdict verdict)
{
	__u32 key = verdict;
	__u64 *n = bpf_map_lookup_elem(&sp_verdicts, &key);

	if (n)
		*n += 1;
}

static __always_inline int pass(enum sp_xdp_verdict why)
{
	count(why);
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

/* The generic cell rate algorithm: one timestamp per source, no timer. Two
 * CPUs updating one source at once may let a request or two more through:
 * harmless for a limit. */
static __always_inline int over_rate(const struct sp_source_key *key, __u32 gap_ns)
{
	__u64 now = bpf_ktime_get_ns(), due, *tat;

	tat = bpf_map_lookup_elem(&sp_sources, key);
	if (!tat) {
		due = now + gap_ns;
		bpf_map_update_elem(&sp_sources, key, &due, BPF_ANY);
		return 0;
	}
	due = *tat > now ? *tat : now;
	if (due - now > SP_RATE_BURST_NS - gap_ns)
		return 1;
	*tat = due + gap_ns;
	return 0;
}

/* Requests that start work in the dataplane (a DHCP answer, a TFTP session)
 * are limited per source; anything too short to name its source goes on to
 * the dataplane, which drops it under a counter. */
static __always_inline int rate_limited(const struct sp_xdp_config *cfg, struct udphdr *udp, void *data_end,
					__u32 saddr)
{
	__u16 port = bpf_ntohs(udp->dest);
	struct sp_source_key key = {};

	if ((port == SP_PORT_DHCP_SERVER || port == SP_PORT_PXE_BOOT) && cfg->dhcp_gap_ns) {
		__u8 *bootp = (void *)(udp + 1);

		if ((void *)(bootp + 34) > data_end)
			return 0;
		key.kind = SP_SOURCE_DHCP_MAC;
		__builtin_memcpy(key.mac, bootp + 28, 6); /* chaddr */
		return over_rate(&key, cfg->dhcp_gap_ns);
	}
	if (port == SP_PORT_TFTP && cfg->tftp_request_gap_ns) {
		key.kind = SP_SOURCE_TFTP_ADDRESS;
		key.ip = saddr;
		return over_rate(&key, cfg->tftp_request_gap_ns);
	}
	return 0;
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
	if (rate_limited(cfg, udp, data_end, ip->saddr)) {
		count(SP_XDP_DROP_RATE_LIMITED);
		return XDP_DROP;
	}

	if (!bpf_map_lookup_elem(&xsks_map, &queue))
		return pass(SP_XDP_PASS_NO_SOCKET);
	count(SP_XDP_REDIRECT);
	return bpf_redirect_map(&xsks_map, queue, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
