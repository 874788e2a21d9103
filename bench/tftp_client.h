/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client side of one TFTP read (RFC 1350 with the options of RFC 2347,
 * 2348, 2349 and 7440), as used by the benchmark clients: tftp-load and the
 * swarm. Pure protocol: the caller owns sockets or AF_XDP, passes in each
 * datagram from the server and the time, and gets packets to send back through
 * a callback. Windowed: one ACK per window, a gap ACKed once, duplicates of the
 * last ACKed block re-ACKed, dallying after the last block.
 */
#ifndef STAMPEDE_BENCH_TFTP_CLIENT_H
#define STAMPEDE_BENCH_TFTP_CLIENT_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TFTP_CLIENT_REASON_LEN 160

enum tftp_xfer_state { TFTP_XFER_ACTIVE, TFTP_XFER_DONE, TFTP_XFER_FAILED };

struct tftp_xfer;

/* Sends one datagram to the server's port (network byte order). */
typedef void (*tftp_send_fn)(void *ctx, struct tftp_xfer *x, const void *buf, size_t len, uint16_t port);

/* What every transfer of a run asks for and checks; shared, read-only. */
struct tftp_request {
	const char *file;
	uint32_t blksize;         /* asked for */
	uint32_t windowsize;      /* asked for; 1 = not asked */
	const uint8_t *verify;    /* expected content, or NULL */
	uint64_t verify_size;
	bool have_expect;         /* check the size */
	uint64_t expect_size;
	bool have_sha;            /* check the sha256 */
	unsigned char sha[32];
	bool digest;              /* compute each transfer's sha256 (tftp_xfer.sha256), to report it */
	unsigned char rrq[1024];  /* built by tftp_request_init */
	size_t rrq_len;
};

struct tftp_xfer {
	const struct tftp_request *req;
	tftp_send_fn send;
	void *ctx;
	enum tftp_xfer_state state;
	bool locked;               /* peer TID known */
	bool gap_acked;            /* ACK already sent for the current gap */
	bool have_tsize;
	bool oack;                 /* the server answered with an OACK (else RFC 1350 defaults) */
	bool acked_any;            /* we have sent an ACK (vs only the RRQ) */
	uint16_t peer_port;        /* network order */
	uint16_t last_acked;       /* block number of our last ACK */
	uint32_t blksize;          /* negotiated */
	uint32_t windowsize;       /* negotiated */
	uint32_t since_ack;        /* in-order blocks since our last ACK */
	uint32_t retries;          /* consecutive timeouts without progress */
	uint64_t blocks;           /* in-order blocks received (64-bit) */
	uint64_t bytes;
	uint64_t tsize;
	uint64_t t_start_ns;
	uint64_t t_end_ns;
	uint64_t t_progress_ns;    /* last progress (or resend) */
	EVP_MD_CTX *md;            /* when req->have_sha or req->digest */
	bool have_sha256;          /* complete, and req->have_sha or req->digest: */
	unsigned char sha256[32];  /* the sha256 of the bytes received */
	char reason[TFTP_CLIENT_REASON_LEN];
};

/* Builds the RRQ; false if the file name does not fit (1..255 characters). */
bool tftp_request_init(struct tftp_request *req);
/* Resets x for a new transfer; false if the sha256 context cannot be made. */
bool tftp_xfer_init(struct tftp_xfer *x, const struct tftp_request *req, tftp_send_fn send, void *ctx);
void tftp_xfer_release(struct tftp_xfer *x);
/* Sends the RRQ to port (network order) and starts the clock. */
void tftp_xfer_start(struct tftp_xfer *x, uint16_t port, uint64_t now_ns);
/* One datagram from the server's address, from port (network order). */
void tftp_xfer_input(struct tftp_xfer *x, const unsigned char *p, size_t len, uint16_t from_port,
		     uint64_t now_ns);
/* Retransmission: T, 2T, then 4T between resends of the last ACK (or the RRQ
 * to rrq_port); fails with "timeout" after max_retries. Returns true if the
 * transfer just failed. */
bool tftp_xfer_timer(struct tftp_xfer *x, uint64_t now_ns, uint64_t timeout_ns, uint32_t max_retries,
		     uint16_t rrq_port);
void tftp_xfer_fail(struct tftp_xfer *x, uint64_t now_ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
