/* SPDX-License-Identifier: BSD-2-Clause */
/* Command line of stampede-dataplane: parsed and validated without EAL, so that
 * every limit it accepts is unit-tested. */
#ifndef STAMPEDE_OPTIONS_H
#define STAMPEDE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cache.h"
#include "lcores.h"
#include "tftp_server.h"

enum dp_pmd { DP_PMD_AF_XDP, DP_PMD_AF_PACKET, DP_PMD_PCAP };

#define DP_DEFAULT_CACHE_MB 512   /* the Debian ipxe package is ~10 MB; images vary */
#define DP_MAX_CACHE_MB     (1u << 20)
#define DP_DEFAULT_TFTP_ROOT "/usr/lib/ipxe"
#define DP_MAX_IMAGES       64
#define DP_MAX_INSTANCE_TAG 32
/* Per-source request rates enforced by the XDP program (bpf/stampede_xdp.h).
 * Firmware and iPXE send a handful of DHCP requests per boot, a second or more
 * apart; a lab client may fetch many files at once from one address. */
#define DP_DEFAULT_DHCP_RATE         20
#define DP_DEFAULT_TFTP_REQUEST_RATE 200
#define DP_MAX_RATE                  1000000

struct dp_options {
	const char *iface;
	const char *addr; /* dotted quad, or NULL for the interface's first IPv4 address */
	const char *tftp_root;
	const char *xdp_prog; /* NULL: next to the binary */
	const char *stats_socket; /* NULL: /run/stampede/IFACE.sock */
	const char *extra_eal;    /* appended to the EAL arguments, split on spaces */
	int control_fd;           /* the control plane's channel (config_message.h), or -1 */
	const char *instance_tag; /* the control plane's digest of the settings, or NULL */
	/* --image NAME=PATH: files cached under NAME wherever they are (the boot
	 * files the configuration names; cache.h). Pointers into argv. */
	struct cache_image images[DP_MAX_IMAGES];
	unsigned n_images;
	enum dp_pmd pmd;
	bool no_huge;
	unsigned lcore; /* the first polling core */
	bool lcore_set;
	unsigned lcores; /* polling loops, each with its own queue (lcores.h) */
	uint32_t cache_mb;
	uint32_t mtu; /* 0: the interface's */
	uint32_t dhcp_rate;         /* requests a second per client MAC; 0: no limit */
	uint32_t tftp_request_rate; /* requests a second per source address; 0: no limit */
	struct tftp_config tftp;
	bool help;
};

/* Returns 0, or -EINVAL with a message in err naming the option and the range. */
int dp_options_parse(int argc, char **argv, struct dp_options *opts, char *err, size_t err_len);
void dp_options_usage(FILE *out);

#endif
