/* SPDX-License-Identifier: BSD-2-Clause */
/* DPDK set-up: EAL arguments from our options, the one port we poll, its queues. */
#ifndef STAMPEDE_PORT_H
#define STAMPEDE_PORT_H

#include <stdint.h>

#include <rte_mempool.h>

#include "options.h"

#define PORT_EAL_MAX_ARGS 48

/* Fills argv (pointing into storage) with the EAL arguments for opts. */
int port_eal_args(const struct dp_options *opts, const char *xdp_prog, char *storage, size_t storage_len,
		  char **argv, int *argc);

/* Configures and starts the port with n RX and n TX queues; RX queue k takes
 * its buffers from pools[k] (with net_af_xdp, the UMEM of that queue). */
int port_start(uint16_t port_id, struct rte_mempool *const *pools, uint16_t n);

#endif
