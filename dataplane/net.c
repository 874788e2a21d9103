/* SPDX-License-Identifier: BSD-2-Clause */
#include "net.h"

#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#define IPV4_VERSION       4
#define IPV4_MIN_IHL       5
#define IPV4_DEFAULT_TTL   64
#define IPV4_FRAGMENT_MASK (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)

static const char *const drop_names[NET_DROP_COUNT] = {
	[NET_OK] = "ok",
#define NET_DROP_NAME(name) [NET_DROP_##name] = #name,
	NET_DROP_REASONS(NET_DROP_NAME)
#undef NET_DROP_NAME
};

const char *net_drop_name(enum net_drop reason)
{
	if ((unsigned)reason >= NET_DROP_COUNT)
		return "unknown";
	return drop_names[reason];
}

static enum net_drop parse_udp(const uint8_t *frame, size_t len, struct net_udp_datagram *out, bool verify_udp);

enum net_drop net_parse_udp(const uint8_t *frame, size_t len, struct net_udp_datagram *out)
{
	return parse_udp(frame, len, out, true);
}

enum net_drop net_parse_udp_unchecked(const uint8_t *frame, size_t len, struct net_udp_datagram *out)
{
	return parse_udp(frame, len, out, false);
}

static enum net_drop parse_udp(const uint8_t *frame, size_t len, struct net_udp_datagram *out, bool verify_udp)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	size_t ip_len, udp_len;

	if (len < sizeof(*eth) + sizeof(*ip))
		return NET_DROP_short_frame;
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return NET_DROP_not_ipv4;

	ip = (const void *)(eth + 1);
	if ((ip->version_ihl >> 4) != IPV4_VERSION || (ip->version_ihl & 0xf) < IPV4_MIN_IHL)
		return NET_DROP_bad_ip_header;
	if ((ip->version_ihl & 0xf) != IPV4_MIN_IHL)
		return NET_DROP_ip_options;
	ip_len = rte_be_to_cpu_16(ip->total_length);
	/* Ethernet pads short frames, so the frame may be longer than the packet. */
	if (ip_len < sizeof(*ip) || ip_len > len - sizeof(*eth))
		return NET_DROP_bad_ip_length;
	if (ip->fragment_offset & rte_cpu_to_be_16(IPV4_FRAGMENT_MASK))
		return NET_DROP_ip_fragment;
	if (rte_ipv4_cksum(ip) != 0)
		return NET_DROP_bad_ip_checksum;
	if (ip->next_proto_id != IPPROTO_UDP)
		return NET_DROP_not_udp;

	if (ip_len < sizeof(*ip) + sizeof(*udp))
		return NET_DROP_bad_udp_length;
	udp = (const void *)(ip + 1);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len < sizeof(*udp) || udp_len != ip_len - sizeof(*ip))
		return NET_DROP_bad_udp_length;
	if (verify_udp && udp->dgram_cksum != 0 && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0)
		return NET_DROP_bad_udp_checksum;

	memcpy(out->src.mac, eth->src_addr.addr_bytes, NET_ETH_ALEN);
	memcpy(out->dst.mac, eth->dst_addr.addr_bytes, NET_ETH_ALEN);
	out->src.ip = ip->src_addr;
	out->dst.ip = ip->dst_addr;
	out->src.port = rte_be_to_cpu_16(udp->src_port);
	out->dst.port = rte_be_to_cpu_16(udp->dst_port);
	out->payload = (const uint8_t *)(udp + 1);
	out->payload_len = udp_len - sizeof(*udp);
	return NET_OK;
}

uint16_t net_sum(const void *buf, size_t len)
{
	return rte_raw_cksum(buf, len);
}

uint16_t net_sum_add(uint16_t a, uint16_t b)
{
	uint32_t sum = (uint32_t)a + b;

	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

size_t net_build_udp(uint8_t *frame, const struct net_endpoint *src, const struct net_endpoint *dst,
		     uint16_t ip_id, size_t payload_len)
{
	return net_build_udp_summed(frame, src, dst, ip_id, payload_len,
				    net_sum(frame + NET_UDP_HEADERS_LEN, payload_len));
}

size_t net_build_udp_summed(uint8_t *frame, const struct net_endpoint *src, const struct net_endpoint *dst,
			    uint16_t ip_id, size_t payload_len, uint16_t payload_sum)
{
	uint16_t sum;

	struct rte_ether_hdr *eth = (void *)frame;
	struct rte_ipv4_hdr *ip = (void *)(eth + 1);
	struct rte_udp_hdr *udp = (void *)(ip + 1);

	memcpy(eth->dst_addr.addr_bytes, dst->mac, NET_ETH_ALEN);
	memcpy(eth->src_addr.addr_bytes, src->mac, NET_ETH_ALEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = (IPV4_VERSION << 4) | IPV4_MIN_IHL;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + payload_len));
	ip->packet_id = rte_cpu_to_be_16(ip_id);
	ip->fragment_offset = 0;
	ip->time_to_live = IPV4_DEFAULT_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	ip->src_addr = src->ip;
	ip->dst_addr = dst->ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	udp->src_port = rte_cpu_to_be_16(src->port);
	udp->dst_port = rte_cpu_to_be_16(dst->port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + payload_len));
	udp->dgram_cksum = 0;
	/* Pseudo-header, UDP header (8 bytes: even), then the payload. */
	sum = net_sum_add(net_sum_add(rte_ipv4_phdr_cksum(ip, 0), net_sum(udp, sizeof(*udp))), payload_sum);
	sum = (uint16_t)~sum;
	udp->dgram_cksum = sum ? sum : 0xffff; /* RFC 768: 0 means "no checksum" */

	return NET_UDP_HEADERS_LEN + payload_len;
}
