/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The contract between the XDP program (stampede_xdp.bpf.c) and the process that
 * loads it (the dataplane, through DPDK's net_af_xdp). Both sides include this file
 * so that map names, the configuration record and the verdict numbering cannot
 * drift apart.
 */
#ifndef STAMPEDE_XDP_H
#define STAMPEDE_XDP_H

#include <linux/types.h>

/* Map names as the kernel reports them (BPF object names are cut at 15 bytes). */
#define SP_XDP_MAP_XSKS     "xsks_map" /* DPDK's xdp_prog= devarg looks it up by name */
#define SP_XDP_MAP_CONFIG   "sp_config"
#define SP_XDP_MAP_VERDICTS "sp_verdicts"
#define SP_XDP_MAP_SOURCES  "sp_sources"

/* Per-source rate limits: a source may send, at once, two seconds' worth of
 * its rate; beyond that, one request per 1/rate seconds. The sources table is
 * an LRU of this many entries, so its memory is fixed whatever a flood does. */
#define SP_RATE_BURST_NS    2000000000u
#define SP_RATE_SOURCES     65536

/* UDP ports the dataplane owns besides its TFTP session range. */
#define SP_PORT_DHCP_SERVER 67
#define SP_PORT_PXE_BOOT    4011
#define SP_PORT_TFTP        69

/* Filled by the loader once the program is attached; all zero means "steer nothing",
 * so the interface behaves as if the program were absent until the dataplane is ready. */
struct sp_xdp_config {
	__u32 server_ip;    /* network byte order */
	__u16 tftp_port_lo; /* host byte order, inclusive */
	__u16 tftp_port_hi; /* host byte order, inclusive */
	/* Steer DHCP (67, also broadcast) and the PXE boot server port (4011) only
	 * when the dataplane answers them: otherwise a DHCP server on the same host
	 * keeps receiving its requests. */
	__u8 steer_dhcp;
	__u8 pad[3];
	/* Nanoseconds between two requests of one source; 0: no limit. DHCP (67
	 * and 4011) counts per client MAC (BOOTP chaddr: relayed requests share
	 * the relay's address), TFTP requests (69) per source address. Session
	 * ports are not limited: they only reach sessions the dataplane accepted. */
	__u32 dhcp_gap_ns;
	__u32 tftp_request_gap_ns;
};

/* The key of the sources table: a client MAC (DHCP) or an address (TFTP). */
struct sp_source_key {
	__u8 kind; /* SP_SOURCE_DHCP_MAC or SP_SOURCE_TFTP_ADDRESS */
	__u8 mac[6];
	__u8 pad;
	__u32 ip;
};

#define SP_SOURCE_DHCP_MAC      1
#define SP_SOURCE_TFTP_ADDRESS  2

/* One per-CPU counter per verdict. Every PASS verdict names why the packet was left
 * to the kernel; REDIRECT means it went to the AF_XDP socket; DROP, that it went nowhere. */
enum sp_xdp_verdict {
	SP_XDP_PASS_NOT_IPV4 = 0,
	SP_XDP_PASS_MALFORMED,
	SP_XDP_PASS_NOT_UDP,
	SP_XDP_PASS_UNCONFIGURED,
	SP_XDP_PASS_OTHER_ADDRESS,
	SP_XDP_PASS_LATER_FRAGMENT,
	SP_XDP_PASS_OTHER_PORT,
	SP_XDP_PASS_NO_SOCKET,
	SP_XDP_REDIRECT,
	SP_XDP_DROP_RATE_LIMITED, /* over its source's rate: dropped here, the cheapest place */
	SP_XDP_VERDICT_COUNT
};

#define SP_XDP_VERDICT_NAMES                                                            \
	{ "pass_not_ipv4", "pass_malformed", "pass_not_udp", "pass_unconfigured",          \
	  "pass_other_address", "pass_later_fragment", "pass_other_port",                  \
	  "pass_no_socket", "redirect", "drop_rate_limited" }

#endif
