/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The benchmark clients' TFTP reader (bench/tftp_client.c): what it sends for
 * each thing a server does, and how a transfer ends (complete, error,
 * mismatch, timeout).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <string.h>

#include "tftp_client.h"

#define MAX_SENT 64

static struct sent {
	unsigned char buf[600];
	size_t len;
	uint16_t port;
} sent[MAX_SENT];
static unsigned n_sent;

static void capture(void *ctx, struct tftp_xfer *x, const void *buf, size_t len, uint16_t port)
{
	(void)ctx;
	(void)x;
	cr_assert(lt(u32, n_sent, MAX_SENT));
	memcpy(sent[n_sent].buf, buf, len < 600 ? len : 600);
	sent[n_sent].len = len;
	sent[n_sent].port = port;
	n_sent++;
}

static uint8_t content[3000]; /* what the client expects */
static uint8_t served[3000];  /* what the fake server sends */
static struct tftp_request req;
static struct tftp_xfer x;

static void setup(void)
{
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7);
	memcpy(served, content, sizeof(served));
	memset(&req, 0, sizeof(req));
	req.file = "boot.img";
	req.blksize = 1000;
	req.windowsize = 2;
	req.verify = content;
	req.verify_size = sizeof(content);
	req.have_expect = true;
	req.expect_size = sizeof(content);
	cr_assert(tftp_request_init(&req));
	memset(&x, 0, sizeof(x));
	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	n_sent = 0;
}

static void teardown(void)
{
	tftp_xfer_release(&x);
}

static void oack(const char *opts, size_t len, uint16_t port)
{
	unsigned char p[200] = { 0, 6 };

	memcpy(p + 2, opts, len);
	tftp_xfer_input(&x, p, 2 + len, htons(port), 1000);
}

static void data(uint16_t block, size_t len, uint16_t port)
{
	unsigned char p[1004] = { 0, 3, (unsigned char)(block >> 8), (unsigned char)block };

	memcpy(p + 4, served + (size_t)(block - 1) * 1000, len);
	tftp_xfer_input(&x, p, 4 + len, htons(port), 2000 + block);
}

static uint16_t acked(unsigned i)
{
	cr_assert(eq(u8, sent[i].buf[1], 4), "packet %u is not an ACK", i);
	return (uint16_t)(sent[i].buf[2] << 8 | sent[i].buf[3]);
}

/* An OACK from a string literal: its own terminating NUL ends the last value. */
#define OACK(lit, port) oack(lit, sizeof(lit), port)

TestSuite(tftp_client, .init = setup, .fini = teardown);

Test(tftp_client, rrq_asks_for_every_option)
{
	static const char want[] = "\0\1boot.img\0octet\0blksize\0001000\0tsize\0000\0windowsize\0002";

	cr_expect(eq(sz, req.rrq_len, sizeof(want)), "the literal's own NUL ends the last value");
	cr_expect(eq(int, memcmp(req.rrq, want, sizeof(want)), 0));
	tftp_xfer_start(&x, htons(69), 5);
	cr_expect(eq(u32, n_sent, 1));
	cr_expect(eq(u16, ntohs(sent[0].port), 69));
}

Test(tftp_client, a_windowed_transfer_acks_once_per_window_and_completes)
{
	tftp_xfer_start(&x, htons(69), 5);
	OACK("blksize\0001000\0tsize\0003000\0windowsize\0002", 5000);
	cr_expect(eq(u16, acked(1), 0));
	cr_expect(eq(u16, ntohs(sent[1].port), 5000), "ACKs go to the server's TID");
	data(1, 1000, 5000);
	cr_expect(eq(u32, n_sent, 2), "no ACK in the middle of a window");
	data(2, 1000, 5000);
	cr_expect(eq(u16, acked(2), 2));
	data(3, 1000, 5000);
	data(4, 0, 5000);
	cr_expect(eq(u16, acked(3), 4), "the last (short) block is ACKed");
	cr_expect(eq(int, x.state, TFTP_XFER_DONE), "%s", x.reason);
	cr_expect(eq(u64, x.bytes, 3000));
	data(4, 0, 5000);
	cr_expect(eq(u16, acked(4), 4), "dallying: a repeated last block is ACKed again");
}

Test(tftp_client, a_gap_is_acked_once_and_a_stranger_gets_an_error)
{
	tftp_xfer_start(&x, htons(69), 5);
	OACK("blksize\0001000\0windowsize\0002", 5000);
	data(2, 1000, 5000);
	data(3, 1000, 5000);
	cr_expect(eq(u32, n_sent, 3));
	cr_expect(eq(u16, acked(2), 0));
	data(1, 1000, 6000);
	cr_expect(eq(u8, sent[3].buf[1], 5), "another TID gets ERROR 5");
	cr_expect(eq(u16, ntohs(sent[3].port), 6000));
	cr_expect(eq(int, x.state, TFTP_XFER_ACTIVE));
}

Test(tftp_client, errors_mismatches_and_bad_options_fail_the_transfer_with_a_reason)
{
	static const unsigned char err[] = { 0, 5, 0, 1, 'n', 'o', '\n', 0 };

	tftp_xfer_start(&x, htons(69), 5);
	tftp_xfer_input(&x, err, sizeof(err), htons(69), 10);
	cr_expect(eq(int, x.state, TFTP_XFER_FAILED));
	cr_expect(eq(str, x.reason, "error 1: no?"));

	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	OACK("windowsize\0009", 5000);
	cr_expect(eq(str, x.reason, "bad OACK windowsize"), "more than asked for");

	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	OACK("blksize\0001000\0tsize\0003000\0windowsize\0002", 5000);
	served[1500] ^= 1;
	data(1, 1000, 5000);
	data(2, 1000, 5000);
	served[1500] ^= 1;
	cr_expect(eq(int, x.state, TFTP_XFER_FAILED));
	cr_expect(eq(str, x.reason, "content differs from the expected file at block 2"));

	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	OACK("blksize\0001000\0tsize\0002000\0windowsize\0002", 5000);
	data(1, 1000, 5000);
	data(2, 1000, 5000);
	data(3, 1000, 5000);
	data(4, 0, 5000);
	cr_expect(eq(str, x.reason, "size mismatch vs tsize (got 3000, tsize 2000)"));
}

Test(tftp_client, timeouts_resend_with_backoff_then_fail)
{
	const uint64_t T = 1000;

	tftp_xfer_start(&x, htons(69), 0);
	cr_expect(not(tftp_xfer_timer(&x, T - 1, T, 2, htons(69))));
	cr_expect(eq(u32, n_sent, 1));
	cr_expect(not(tftp_xfer_timer(&x, T, T, 2, htons(69))));
	cr_expect(eq(u32, n_sent, 2), "the RRQ is resent after T");
	cr_expect(eq(u8, sent[1].buf[1], 1));
	cr_expect(not(tftp_xfer_timer(&x, T + 2 * T - 1, T, 2, htons(69))));
	cr_expect(eq(u32, n_sent, 2), "then only after 2T");
	cr_expect(not(tftp_xfer_timer(&x, T + 2 * T, T, 2, htons(69))));
	cr_expect(eq(u32, n_sent, 3));
	cr_expect(not(tftp_xfer_timer(&x, 3 * T + 4 * T - 1, T, 2, htons(69))));
	cr_expect(tftp_xfer_timer(&x, 3 * T + 4 * T, T, 2, htons(69)), "after 2 resends and 4T: failed");
	cr_expect(eq(str, x.reason, "timeout"));
}

/* Runs a whole transfer of `served` (3000 bytes: blocks of 1000, then an empty one). */
static void whole_transfer(void)
{
	tftp_xfer_start(&x, htons(69), 5);
	OACK("blksize\0001000\0tsize\0003000\0windowsize\0002", 5000);
	data(1, 1000, 5000);
	data(2, 1000, 5000);
	data(3, 1000, 5000);
	data(4, 0, 5000);
}

Test(tftp_client, digest_reports_the_sha256_of_the_bytes_received)
{
	unsigned char want[EVP_MAX_MD_SIZE];
	unsigned int want_len = 0;

	cr_assert(eq(int, EVP_Digest(content, sizeof(content), want, &want_len, EVP_sha256(), NULL), 1));
	whole_transfer();
	cr_expect(not(x.have_sha256), "no digest unless asked for");

	req.digest = true;
	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	whole_transfer();
	cr_assert(eq(int, x.state, TFTP_XFER_DONE), "%s", x.reason);
	cr_assert(x.have_sha256);
	cr_expect(eq(int, memcmp(x.sha256, want, 32), 0), "the digest of the file, block by block");

	/* The context is reused for the next transfer, which starts afresh. */
	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	cr_expect(not(x.have_sha256));
	whole_transfer();
	cr_expect(eq(int, memcmp(x.sha256, want, 32), 0));
}

Test(tftp_client, a_sha256_to_check_fails_a_transfer_whose_bytes_differ)
{
	unsigned int len = 0;

	req.verify = NULL; /* only the digest sees the difference */
	req.have_sha = true;
	cr_assert(eq(int, EVP_Digest(content, sizeof(content), req.sha, &len, EVP_sha256(), NULL), 1));
	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	whole_transfer();
	cr_expect(eq(int, x.state, TFTP_XFER_DONE), "%s", x.reason);
	cr_expect(x.have_sha256, "a checked digest is reported too");

	served[2999] ^= 0x80;
	cr_assert(tftp_xfer_init(&x, &req, capture, NULL));
	whole_transfer();
	served[2999] ^= 0x80;
	cr_expect(eq(int, x.state, TFTP_XFER_FAILED));
	cr_expect(eq(str, x.reason, "sha256 mismatch"));
}
