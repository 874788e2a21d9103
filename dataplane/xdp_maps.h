/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The loader's side of bpf/stampede_xdp.h. DPDK's net_af_xdp loads and attaches
 * the program itself (xdp_prog= devarg), so we find its maps afterwards through
 * the program attached to the interface, and fill the configuration map.
 */
#ifndef STAMPEDE_XDP_MAPS_H
#define STAMPEDE_XDP_MAPS_H

#include <stdint.h>

#include "../bpf/stampede_xdp.h"

struct xdp_maps {
	uint32_t prog_id;
	int config_fd;
	int verdicts_fd;
};

/* -ENOENT when no XDP program is attached to ifindex, -ESRCH when the attached
 * program is not ours (its maps are missing). */
int xdp_maps_open(int ifindex, struct xdp_maps *maps);
int xdp_maps_configure(const struct xdp_maps *maps, const struct sp_xdp_config *config);
/* Sums the per-CPU counters. */
int xdp_maps_read_verdicts(const struct xdp_maps *maps, uint64_t out[SP_XDP_VERDICT_COUNT]);
void xdp_maps_close(struct xdp_maps *maps);

#endif
