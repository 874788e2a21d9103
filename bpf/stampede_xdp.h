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
};

/* One per-CPU counter per verdict. Every PASS verdict names why the packet was left
 * to the kernel; REDIRECT means it went to the AF_XDP socket. */
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
	SP_XDP_VERDICT_COUNT
};

#define SP_XDP_VERDICT_NAMES                                                            \
	{ "pass_not_ipv4", "pass_malformed", "pass_not_udp", "pass_unconfigured",          \
	  "pass_other_address", "pass_later_fragment", "pass_other_port",                  \
	  "pass_no_socket", "redirect" }

#endif
