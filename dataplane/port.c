/* SPDX-License-Identifier: BSD-2-Clause */
#include "port.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#define RX_DESCRIPTORS 2048
#define TX_DESCRIPTORS 2048
/* --no-huge: EAL memory must hold the mbuf pool and two cache versions (the one
 * serving and the one a reload is building). */
#define NO_HUGE_OVERHEAD_MB 320

static int append(char **argv, int *argc, char *storage, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int append(char **argv, int *argc, char *storage, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*argc >= PORT_EAL_MAX_ARGS - 1)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(storage + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -E2BIG;
	argv[(*argc)++] = storage + *used;
	*used += (size_t)n + 1;
	argv[*argc] = NULL;
	return 0;
}

int port_eal_args(const struct dp_options *o, const char *xdp_prog, char *storage, size_t len, char **argv,
		  int *argc)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = o->lcores ? o->lcores : 1;
	unsigned lcore = o->lcore_set ? o->lcore : (unsigned)(cores > (long)n ? cores - (long)n : 0);
	size_t used = 0;
	int r = 0;

	*argc = 0;
	r |= append(argv, argc, storage, len, &used, "stampede-dataplane");
	r |= append(argv, argc, storage, len, &used, "-l");
	if (n == 1)
		r |= append(argv, argc, storage, len, &used, "%u", lcore);
	else
		r |= append(argv, argc, storage, len, &used, "%u-%u", lcore, lcore + n - 1);
	/* Several instances (one per interface, or tests in parallel) must never
	 * share EAL runtime files: --in-memory keeps none, but EAL refuses it with
	 * --no-huge (which implies legacy memory), so that mode gets its own
	 * prefix, and no shared configuration files: nothing of this process's
	 * memory may be a file another process of its user could map (serve runs
	 * as that user too; see control/launcher.h). */
	if (o->no_huge) {
		r |= append(argv, argc, storage, len, &used, "--file-prefix=stampede-%ld", (long)getpid());
		r |= append(argv, argc, storage, len, &used, "--no-shconf");
	} else
		r |= append(argv, argc, storage, len, &used, "--in-memory");
	r |= append(argv, argc, storage, len, &used, "--no-pci");
	r |= append(argv, argc, storage, len, &used, "--no-telemetry");
	/* Addresses as the process sees them: none of these drivers hands the device
	 * physical addresses, and finding a new hugepage's (for a reload that grows
	 * the heap) takes /proc/self/pagemap, that is CAP_SYS_ADMIN, which the
	 * dataplane no longer holds once it serves (privileges.h). */
	r |= append(argv, argc, storage, len, &used, "--iova-mode=va");
	r |= append(argv, argc, storage, len, &used, "--log-level=lib.eal:warning");
	r |= append(argv, argc, storage, len, &used, "--vdev");
	switch (o->pmd) {
	case DP_PMD_AF_XDP:
		r |= append(argv, argc, storage, len, &used,
			    "net_af_xdp0,iface=%s,start_queue=0,queue_count=%u,xdp_prog=%s", o->iface, n, xdp_prog);
		break;
	case DP_PMD_AF_PACKET:
		/* qpairs: one socket per queue in a PACKET_FANOUT_HASH group. */
		r |= append(argv, argc, storage, len, &used, "net_af_packet0,iface=%s,qpairs=%u", o->iface, n);
		break;
	case DP_PMD_PCAP:
		r |= append(argv, argc, storage, len, &used, "net_pcap0,iface=%s", o->iface);
		break;
	}
	if (o->no_huge) {
		r |= append(argv, argc, storage, len, &used, "--no-huge");
		r |= append(argv, argc, storage, len, &used, "-m");
		r |= append(argv, argc, storage, len, &used, "%u", 2 * o->cache_mb + NO_HUGE_OVERHEAD_MB);
	}
	if (o->extra_eal) {
		char copy[512], *save = NULL;

		snprintf(copy, sizeof(copy), "%s", o->extra_eal);
		for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			r |= append(argv, argc, storage, len, &used, "%s", tok);
	}
	return r ? -E2BIG : 0;
}

int port_start(uint16_t port_id, struct rte_mempool *const *pools, uint16_t n)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t rxd = RX_DESCRIPTORS, txd = TX_DESCRIPTORS;
	int socket = rte_eth_dev_socket_id(port_id);
	int r;

	if (socket < 0)
		socket = (int)rte_socket_id();
	if ((r = rte_eth_dev_configure(port_id, n, n, &conf)) < 0)
		return r;
	if ((r = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd)) < 0)
		return r;
	for (uint16_t q = 0; q < n; q++) {
		if ((r = rte_eth_rx_queue_setup(port_id, q, rxd, (unsigned)socket, NULL, pools[q])) < 0)
			return r;
		if ((r = rte_eth_tx_queue_setup(port_id, q, txd, (unsigned)socket, NULL)) < 0)
			return r;
	}
	if ((r = rte_eth_dev_start(port_id)) < 0)
		return r;
	/* af_packet and pcap see only our MAC's frames otherwise; harmless for af_xdp. */
	rte_eth_promiscuous_enable(port_id);
	return 0;
}
