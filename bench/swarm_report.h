/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The swarm's results: per-stage latency percentiles, when the last client was
 * done, throughput, failures by reason, the swarm's own CPU; as text, JSON, a
 * CSV row per client and a CSV time series for the plots (bench/swarm_plot.sh).
 */
#ifndef STAMPEDE_BENCH_SWARM_REPORT_H
#define STAMPEDE_BENCH_SWARM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The stages of one boot, in order. A client skips the ones its run does not have. */
#define SWARM_STAGES(X)                                                                     \
	X(DHCP, "dhcp")               /* DISCOVER until the proxy offer */                 \
	X(BOOT_SERVER, "boot_server") /* 4011 REQUEST until the ACK, when the offer asks */ \
	X(TFTP, "tftp")               /* the network boot program */                       \
	X(IPXE_DHCP, "ipxe_dhcp")     /* iPXE's DISCOVER until the script URL */           \
	X(SCRIPT, "script")           /* the iPXE script over HTTP */                      \
	X(KERNEL, "kernel")                                                                 \
	X(INITRD, "initrd")           /* all initrds, one after the other */

enum swarm_stage {
#define X(id, name) SWARM_##id,
	SWARM_STAGES(X)
#undef X
	SWARM_STAGE_COUNT
};

const char *swarm_stage_name(enum swarm_stage s);

#define SWARM_REASON_LEN 200
#define SWARM_SHA_INITRDS 8 /* initrds whose sha256 a record keeps (iPXE scripts name at most 8) */

/* One client's record; times in ns since the run started, 0 = never. */
struct swarm_record {
	uint8_t mac[6];
	uint16_t arch;
	bool done, failed;
	uint64_t t_start;
	uint64_t t_stage_begin[SWARM_STAGE_COUNT];
	uint64_t t_stage_end[SWARM_STAGE_COUNT];
	uint64_t t_end;
	uint64_t tftp_bytes, http_bytes;
	uint32_t dhcp_sends;  /* DISCOVERs and REQUESTs, retransmissions included */
	/* --sha256: the sha256 of each file as received (NBP, kernel, initrds in order). */
	bool have_tftp_sha256, have_kernel_sha256;
	uint8_t n_initrd_sha256;
	unsigned char tftp_sha256[32], kernel_sha256[32], initrd_sha256[SWARM_SHA_INITRDS][32];
	char reason[SWARM_REASON_LEN];
};

/* One sample of the time series. */
struct swarm_sample {
	uint64_t t;                 /* ns since start */
	uint64_t tftp_bytes, http_bytes;
	uint32_t stage_done[SWARM_STAGE_COUNT]; /* clients past each stage */
	uint32_t booted, failed;
};

struct swarm_run_info {
	const char *server;
	const char *mode;
	const char *arch;
	unsigned long clients;
	uint64_t ramp_ms;
	uint64_t wall_ns;           /* start to the last client's end */
	double cpu_user_s, cpu_sys_s;
	uint64_t loop_ns;           /* start to the end of the event loop */
	uint64_t pkts_rx, pkts_tx;  /* UDP datagrams the swarm received and sent */
};

void swarm_report_text(FILE *f, const struct swarm_run_info *info, const struct swarm_record *r, size_t n);
int swarm_report_json(const char *path, const struct swarm_run_info *info, const struct swarm_record *r, size_t n);
/* sha256: add the columns tftp_sha256, kernel_sha256 and initrd_sha256 (initrds
 * joined by ';'), before the reason, which stays last. */
int swarm_report_csv(const char *path, const struct swarm_record *r, size_t n, bool sha256);
int swarm_report_timeline(const char *path, const struct swarm_sample *s, size_t n);

#endif
