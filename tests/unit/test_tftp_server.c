/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TFTP session state machine, driven exactly as the dataplane drives it:
 * datagrams in through tftp_server_input(), timers through tftp_server_tick(),
 * time in microseconds chosen by the test (never the wall clock), and replies out
 * through a fake struct tftp_tx that records every datagram (bytes, destination,
 * source port). Files come from a real cache_load() over a temporary directory
 * with a malloc allocator that counts its calls.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "tftp_packet.h"
#include "tftp_server.h"
#include "session_journal.h"
#include "support.h"

#define US_PER_S 1000000ull
#define PORT_LO  49152
#define PORT_HI  49160
#define MAX_REQ  1468 /* one datagram */

/* ---- a struct tftp_tx that records ---------------------------------------- */

struct sent {
	uint8_t *bytes;
	size_t len;
	struct net_endpoint to;
	uint16_t src_port;
};

struct recorder {
	uint64_t summed; /* sends that came with a payload sum */
	struct sent *pkts;
	size_t n, cap;
	size_t payload_cap;
	unsigned fail_allocs; /* the next n allocs return NULL */
	uint64_t allocs, sends;
};

static uint8_t *rec_alloc(void *ctx, void **pkt)
{
	struct recorder *r = ctx;
	uint8_t *buf;

	if (r->fail_allocs) {
		r->fail_allocs--;
		return NULL;
	}
	buf = malloc(r->payload_cap);
	cr_assert(buf != NULL);
	memset(buf, 0xcc, r->payload_cap);
	r->allocs++;
	*pkt = buf;
	return buf;
}

/* Every sum the server announces must be the sum of the bytes it sends: the
 * dataplane writes it into the UDP checksum without looking at the payload. */
static void rec_send(void *ctx, void *pkt, const struct net_endpoint *to, uint16_t src_port, size_t len,
		     int32_t payload_sum)
{
	struct recorder *r = ctx;

	if (payload_sum != TFTP_TX_SUM_UNKNOWN) {
		cr_assert(eq(u16, (uint16_t)payload_sum, net_sum(pkt, len)), "announced payload sum is wrong");
		r->summed++;
	}

	cr_assert(le(sz, len, r->payload_cap), "datagram longer than the buffer");
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->pkts = realloc(r->pkts, r->cap * sizeof(*r->pkts));
		cr_assert(r->pkts != NULL);
	}
	r->pkts[r->n++] = (struct sent){ .bytes = pkt, .len = len, .to = *to, .src_port = src_port };
	r->sends++;
}

static void rec_clear(struct recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->pkts[i].bytes);
	r->n = 0;
}

/* ---- fixture: temp root, recorder, server --------------------------------- */

static struct {
	char root[64];
	struct recorder rec;
	struct counting_allocator counts;
	struct cache_allocator allocator;
	struct tftp_server *srv;
	struct tftp_tx tx;
} fx;

static const struct tftp_config base_config = {
	.port_lo = PORT_LO,
	.port_hi = PORT_HI,
	.max_sessions = PORT_HI - PORT_LO + 1,
	.max_sessions_per_client = 4,
	.max_blksize = 1468,
	.max_windowsize = 64,
	.retransmit_ms = 1000,
	.max_retries = 3,
};

static const struct net_endpoint client = {
	.mac = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }, .ip = 0x6400010a /* 10.1.0.100 */, .port = 2070
};

static void setup(void)
{
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.root, "/tmp/stampede-tftp-server-XXXXXX");
	cr_assert(mkdtemp(fx.root) != NULL, "mkdtemp: %s", strerror(errno));
	fx.allocator = counting_allocator(&fx.counts);
	fx.rec.payload_cap = 1468 + TFTP_HEADER_LEN;
	fx.tx = (struct tftp_tx){ .alloc = rec_alloc, .send = rec_send, .ctx = &fx.rec, .payload_cap = fx.rec.payload_cap };
}

static void teardown(void)
{
	tftp_server_destroy(fx.srv);
	fx.srv = NULL;
	rec_clear(&fx.rec);
	free(fx.rec.pkts);
	remove_tree(fx.root);
}

TestSuite(tftp_server, .init = setup, .fini = teardown);

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fx.root, name);
	write_bytes(path, data, len);
}

/* File contents that differ at every offset, so a wrong block is always seen. */
static uint8_t *pattern(size_t len, uint8_t seed)
{
	uint8_t *p = malloc(len ? len : 1);

	cr_assert(p != NULL);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + (i >> 8) + seed);
	return p;
}

static struct cache *load_cache(uint64_t budget)
{
	struct cache *c = NULL;
	char err[256] = "";

	cr_assert(eq(int, cache_load(fx.root, budget, &fx.allocator, &c, err, sizeof(err)), 0), "%s", err);
	return c;
}

/* Creates the server on cfg and gives it a fresh load of the root. */
static void start_server(const struct tftp_config *cfg)
{
	struct cache *c = load_cache(1 << 30);

	fx.srv = tftp_server_create(cfg, &fx.tx);
	cr_assert(fx.srv != NULL, "tftp_server_create: %s", strerror(errno));
	tftp_server_set_cache(fx.srv, c);
	cache_unref(c);
}

static const struct tftp_counters *counters(void)
{
	return tftp_server_counters(fx.srv);
}

/* ---- client side: requests and ACKs --------------------------------------- */

/* Sends an RRQ for name/mode with option strings name, value, ..., NULL. */
static void rrq_from(const struct net_endpoint *from, uint64_t now, const char *name, const char *mode, ...)
{
	uint8_t buf[MAX_REQ] = { 0x00, TFTP_RRQ };
	size_t len = 2;
	const char *s = name;
	va_list ap;

	va_start(ap, mode);
	for (int i = 0; s; i++) {
		size_t n = strlen(s) + 1;

		cr_assert(le(sz, len + n, sizeof(buf)));
		memcpy(buf + len, s, n);
		len += n;
		s = i == 0 ? mode : va_arg(ap, const char *);
	}
	va_end(ap);
	tftp_server_input(fx.srv, from, 69, buf, len, now);
}

#define RRQ(now, ...)         rrq_from(&client, now, __VA_ARGS__, (const char *)NULL)
#define RRQ_FROM(c, now, ...) rrq_from(c, now, __VA_ARGS__, (const char *)NULL)

static void packet_from(const struct net_endpoint *from, uint16_t port, uint16_t opcode, uint16_t number,
			uint64_t now)
{
	const uint8_t pkt[] = { (uint8_t)(opcode >> 8), (uint8_t)opcode, (uint8_t)(number >> 8),
				(uint8_t)number, 0 };

	/* An ERROR carries a message: the trailing NUL is an empty one. */
	tftp_server_input(fx.srv, from, port, pkt, opcode == TFTP_ERROR ? 5 : 4, now);
}

static void ack(uint16_t port, uint16_t block, uint64_t now)
{
	packet_from(&client, port, TFTP_ACK, block, now);
}

/* ---- what the server sent ------------------------------------------------- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static const struct sent *pkt(size_t i)
{
	cr_assert(lt(sz, i, fx.rec.n), "expected a datagram #%zu, only %zu sent", i, fx.rec.n);
	return &fx.rec.pkts[i];
}

static void expect_to(const struct sent *p, const struct net_endpoint *to, uint16_t src_port)
{
	cr_assert(eq(u16, p->src_port, src_port));
	cr_assert(eq(u32, p->to.ip, to->ip));
	cr_assert(eq(u16, p->to.port, to->port));
	cr_assert(eq(u8[6], (uint8_t *)p->to.mac, (uint8_t *)to->mac));
}

static void expect_data_to(const struct sent *p, const struct net_endpoint *to, uint16_t src_port,
			   uint16_t block, const uint8_t *data, size_t n)
{
	expect_to(p, to, src_port);
	cr_assert(eq(sz, p->len, TFTP_HEADER_LEN + n), "DATA %u length", block);
	cr_assert(eq(u8[4], p->bytes, ((uint8_t[]){ 0x00, 0x03, (uint8_t)(block >> 8), (uint8_t)block })));
	if (n)
		cr_assert(eq(u8[n], p->bytes + TFTP_HEADER_LEN, (uint8_t *)data), "DATA %u bytes", block);
}

static void expect_data(const struct sent *p, uint16_t src_port, uint16_t block, const uint8_t *data,
			size_t n)
{
	expect_data_to(p, &client, src_port, block, data, n);
}

static void expect_error_to(const struct sent *p, const struct net_endpoint *to, uint16_t src_port,
			    uint16_t code, const char *message)
{
	size_t mlen = strlen(message);
	uint8_t want[256] = { 0x00, 0x05, (uint8_t)(code >> 8), (uint8_t)code };

	memcpy(want + 4, message, mlen + 1);
	expect_to(p, to, src_port);
	cr_assert(eq(sz, p->len, 4 + mlen + 1), "ERROR length for \"%s\"", message);
	cr_assert(eq(u8[4 + mlen + 1], p->bytes, want));
}

static void expect_error(const struct sent *p, uint16_t src_port, uint16_t code, const char *message)
{
	expect_error_to(p, &client, src_port, code, message);
}

/* OACK with option strings name, value, ..., NULL. */
static void expect_oack(const struct sent *p, uint16_t src_port, ...)
{
	uint8_t want[256] = { 0x00, 0x06 };
	size_t len = 2;
	const char *s;
	va_list ap;

	va_start(ap, src_port);
	while ((s = va_arg(ap, const char *)) != NULL) {
		memcpy(want + len, s, strlen(s) + 1);
		len += strlen(s) + 1;
	}
	va_end(ap);
	expect_to(p, &client, src_port);
	cr_assert(eq(sz, p->len, len));
	cr_assert(eq(u8[len], p->bytes, want));
}

#define EXPECT_OACK(p, port, ...) expect_oack(p, port, __VA_ARGS__, (const char *)NULL)

static uint16_t block_of(const struct sent *p)
{
	cr_assert(eq(u16, be16(p->bytes), TFTP_DATA));
	return be16(p->bytes + 2);
}

/* ---- a well-behaved RFC 7440 client --------------------------------------- */

/*
 * Receives from the session on port: ACKs 0 after an OACK, takes every DATA in
 * order, acknowledges the last in-order block of each burst, and stops after the
 * short block. Wire block numbers are recorded in blocks[] (when non-NULL).
 * Every round consumes and clears what was sent. Returns the bytes received.
 */
struct download {
	uint8_t *bytes;
	size_t len, cap;
	uint16_t *blocks;
	size_t n_blocks, blocks_cap;
	uint64_t next; /* next block expected, counting past 65535 */
};

static void download(uint16_t port, uint16_t blksize, uint64_t now, struct download *dl, size_t max_rounds)
{
	bool done = false;

	if (!dl->next)
		dl->next = 1;
	for (size_t round = 0; round < max_rounds && !done; round++) {
		bool oack = false, got = false;

		cr_assert(gt(sz, fx.rec.n, 0), "transfer stalled at block %llu", (unsigned long long)dl->next);
		for (size_t i = 0; i < fx.rec.n; i++) {
			const struct sent *p = &fx.rec.pkts[i];
			size_t n = p->len - TFTP_HEADER_LEN;

			cr_assert(eq(u16, p->src_port, port));
			if (be16(p->bytes) == TFTP_OACK) {
				oack = true;
				continue;
			}
			cr_assert(eq(u16, be16(p->bytes), TFTP_DATA), "unexpected opcode %u", be16(p->bytes));
			if (be16(p->bytes + 2) != (uint16_t)dl->next)
				continue; /* a duplicate: ignore */
			cr_assert(le(sz, dl->len + n, dl->cap), "more bytes than the file holds");
			memcpy(dl->bytes + dl->len, p->bytes + TFTP_HEADER_LEN, n);
			dl->len += n;
			if (dl->blocks && dl->n_blocks < dl->blocks_cap)
				dl->blocks[dl->n_blocks++] = be16(p->bytes + 2);
			dl->next++;
			got = true;
			if (n < blksize) {
				done = true;
				break;
			}
		}
		rec_clear(&fx.rec);
		if (got)
			ack(port, (uint16_t)(dl->next - 1), now);
		else if (oack)
			ack(port, 0, now);
		else
			cr_fatal("no new DATA for block %llu", (unsigned long long)dl->next);
	}
	cr_assert(done, "transfer not finished after %zu rounds", max_rounds);
}

static struct download new_download(size_t cap)
{
	struct download dl = { .bytes = malloc(cap ? cap : 1), .cap = cap };

	cr_assert(dl.bytes != NULL);
	return dl;
}

/* ---- plain transfers ------------------------------------------------------ */

Test(tftp_server, rrq_without_options_sends_block_1_at_once_in_512_byte_blocks)
{
	uint8_t *file = pattern(1300, 1);

	write_file("pxelinux.0", file, 1300);
	start_server(&base_config);
	RRQ(0, "pxelinux.0", "octet");
	cr_assert(eq(sz, fx.rec.n, 1), "exactly DATA 1, no OACK");
	expect_data(pkt(0), PORT_LO, 1, file, 512);
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 1));
	rec_clear(&fx.rec);

	ack(PORT_LO, 1, 1000);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 2, file + 512, 512);
	rec_clear(&fx.rec);

	ack(PORT_LO, 2, 2000);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 3, file + 1024, 276);
	rec_clear(&fx.rec);

	ack(PORT_LO, 3, 3000);
	cr_assert(eq(sz, fx.rec.n, 0), "nothing after the last ACK");
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
	cr_assert(eq(u64, counters()->requests, 1));
	cr_assert(eq(u64, counters()->transfers_started, 1));
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	cr_assert(eq(u64, counters()->data_packets, 3));
	cr_assert(eq(u64, counters()->data_bytes, 1300));
	cr_assert(eq(u64, counters()->retransmits, 0));
	cr_assert(eq(u64, counters()->oacks_sent, 0));
	free(file);
}

Test(tftp_server, zero_length_file_is_one_empty_data_block)
{
	write_file("empty", "", 0);
	start_server(&base_config);
	RRQ(0, "empty", "octet");
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 1, NULL, 0);
	rec_clear(&fx.rec);
	ack(PORT_LO, 1, 10);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
}

Test(tftp_server, file_of_exact_multiple_of_blksize_ends_with_empty_block)
{
	uint8_t *file = pattern(1024, 2);

	write_file("f", file, 1024);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	expect_data(pkt(0), PORT_LO, 1, file, 512);
	rec_clear(&fx.rec);
	ack(PORT_LO, 1, 1);
	expect_data(pkt(0), PORT_LO, 2, file + 512, 512);
	rec_clear(&fx.rec);
	ack(PORT_LO, 2, 2);
	cr_assert(eq(sz, fx.rec.n, 1), "RFC 1350 §6: a full last block is followed by an empty one");
	expect_data(pkt(0), PORT_LO, 3, NULL, 0);
	rec_clear(&fx.rec);
	cr_assert(eq(u64, counters()->transfers_completed, 0));
	ack(PORT_LO, 3, 3);
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	free(file);
}

/* ---- options, OACK and windows -------------------------------------------- */

Test(tftp_server, oack_then_ack0_then_windows_of_windowsize)
{
	const size_t size = 10 * 1024 + 100;
	uint8_t *file = pattern(size, 3);

	write_file("big", file, size);
	start_server(&base_config);
	RRQ(0, "big", "octet", "blksize", "1024", "tsize", "0", "windowsize", "4");
	cr_assert(eq(sz, fx.rec.n, 1), "only the OACK before ACK 0 (RFC 2347)");
	EXPECT_OACK(pkt(0), PORT_LO, "blksize", "1024", "tsize", "10340", "windowsize", "4");
	cr_assert(eq(u64, counters()->oacks_sent, 1));
	rec_clear(&fx.rec);

	ack(PORT_LO, 0, 100);
	cr_assert(eq(sz, fx.rec.n, 4));
	for (uint16_t b = 1; b <= 4; b++)
		expect_data(pkt(b - 1u), PORT_LO, b, file + (b - 1u) * 1024, 1024);
	rec_clear(&fx.rec);

	ack(PORT_LO, 4, 200);
	cr_assert(eq(sz, fx.rec.n, 4));
	for (uint16_t b = 5; b <= 8; b++)
		expect_data(pkt(b - 5u), PORT_LO, b, file + (b - 1u) * 1024, 1024);
	rec_clear(&fx.rec);

	ack(PORT_LO, 8, 300);
	cr_assert(eq(sz, fx.rec.n, 3), "the last window stops at the short block");
	expect_data(pkt(0), PORT_LO, 9, file + 8 * 1024, 1024);
	expect_data(pkt(1), PORT_LO, 10, file + 9 * 1024, 1024);
	expect_data(pkt(2), PORT_LO, 11, file + 10 * 1024, 100);
	rec_clear(&fx.rec);

	ack(PORT_LO, 11, 400);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	cr_assert(eq(u64, counters()->data_packets, 11));
	cr_assert(eq(u64, counters()->retransmits, 0));
	free(file);
}

Test(tftp_server, blksize_larger_than_mtu_allows_is_lowered_in_the_oack)
{
	uint8_t *file = pattern(3000, 4);

	write_file("f", file, 3000);
	start_server(&base_config);
	RRQ(0, "f", "octet", "blksize", "65464");
	EXPECT_OACK(pkt(0), PORT_LO, "blksize", "1468");
	rec_clear(&fx.rec);
	ack(PORT_LO, 0, 1);
	expect_data(pkt(0), PORT_LO, 1, file, 1468);
	free(file);
}

Test(tftp_server, only_unknown_options_means_no_oack_and_data_at_once)
{
	write_file("f", "abc", 3);
	start_server(&base_config);
	RRQ(0, "f", "octet", "multicast", "", "rollover", "0");
	cr_assert(eq(sz, fx.rec.n, 1), "RFC 2347: nothing to acknowledge, so DATA 1 directly");
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"abc", 3);
	cr_assert(eq(u64, counters()->oacks_sent, 0));
}

Test(tftp_server, ack_other_than_0_while_oack_is_pending_is_ignored)
{
	write_file("f", "abc", 3);
	start_server(&base_config);
	RRQ(0, "f", "octet", "tsize", "0");
	EXPECT_OACK(pkt(0), PORT_LO, "tsize", "3");
	rec_clear(&fx.rec);
	ack(PORT_LO, 1, 1);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->stray_packets, 1));
	ack(PORT_LO, 0, 2);
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"abc", 3);
}

/* ---- loss, retransmission, expiry ----------------------------------------- */

Test(tftp_server, lost_window_is_sent_again_after_the_timeout)
{
	uint8_t *file = pattern(8 * 512, 5);

	write_file("f", file, 8 * 512);
	start_server(&base_config);
	RRQ(0, "f", "octet", "windowsize", "4");
	rec_clear(&fx.rec);
	ack(PORT_LO, 0, 0);
	cr_assert(eq(sz, fx.rec.n, 4));
	rec_clear(&fx.rec);

	tftp_server_tick(fx.srv, US_PER_S - 1);
	cr_assert(eq(sz, fx.rec.n, 0), "not before retransmit_ms");
	tftp_server_tick(fx.srv, US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 4), "the whole window again");
	for (uint16_t b = 1; b <= 4; b++)
		expect_data(pkt(b - 1u), PORT_LO, b, file + (b - 1u) * 512, 512);
	cr_assert(eq(u64, counters()->retransmits, 4));
	cr_assert(eq(u64, counters()->data_packets, 8));
	rec_clear(&fx.rec);

	tftp_server_tick(fx.srv, US_PER_S + 1);
	cr_assert(eq(sz, fx.rec.n, 0), "the deadline moved to 2 s");
	ack(PORT_LO, 4, US_PER_S + 10);
	cr_assert(eq(sz, fx.rec.n, 4));
	expect_data(pkt(0), PORT_LO, 5, file + 4 * 512, 512);
	cr_assert(eq(u64, counters()->retransmits, 4), "new blocks are not retransmits");
	free(file);
}

Test(tftp_server, negotiated_timeout_sets_the_retransmission_interval)
{
	write_file("f", "hello", 5);
	start_server(&base_config);
	RRQ(0, "f", "octet", "timeout", "3");
	EXPECT_OACK(pkt(0), PORT_LO, "timeout", "3");
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 3 * US_PER_S - 1);
	cr_assert(eq(sz, fx.rec.n, 0));
	tftp_server_tick(fx.srv, 3 * US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 1), "the OACK is retransmitted while ACK 0 is missing");
	EXPECT_OACK(pkt(0), PORT_LO, "timeout", "3");
	cr_assert(eq(u64, counters()->retransmits, 1));
	cr_assert(eq(u64, counters()->oacks_sent, 2));
	rec_clear(&fx.rec);
	ack(PORT_LO, 0, 3 * US_PER_S + 5);
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"hello", 5);
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 6 * US_PER_S + 4);
	cr_assert(eq(sz, fx.rec.n, 0));
	tftp_server_tick(fx.srv, 6 * US_PER_S + 5);
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"hello", 5);
}

Test(tftp_server, retries_exhausted_sends_error_and_frees_the_session)
{
	write_file("f", "hello", 5);
	start_server(&base_config); /* max_retries 3 */
	RRQ(0, "f", "octet");
	rec_clear(&fx.rec);
	for (uint64_t t = 1; t <= 3; t++) {
		tftp_server_tick(fx.srv, t * US_PER_S);
		cr_assert(eq(sz, fx.rec.n, 1), "retry %llu", (unsigned long long)t);
		expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"hello", 5);
		rec_clear(&fx.rec);
	}
	tftp_server_tick(fx.srv, 4 * US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_error(pkt(0), PORT_LO, TFTP_ERR_UNDEFINED, "transfer timed out");
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
	cr_assert(eq(u64, counters()->transfers_timed_out, 1));
	cr_assert(eq(u64, counters()->retransmits, 3));
	cr_assert(eq(u64, counters()->errors_sent, 1));
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 100 * US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 0), "nothing left to time out");
}

Test(tftp_server, unanswered_oack_expires_like_data)
{
	write_file("f", "hello", 5);
	start_server(&base_config);
	RRQ(0, "f", "octet", "tsize", "0");
	rec_clear(&fx.rec);
	for (uint64_t t = 1; t <= 4; t++)
		tftp_server_tick(fx.srv, t * US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 4));
	for (size_t i = 0; i < 3; i++)
		EXPECT_OACK(pkt(i), PORT_LO, "tsize", "5");
	expect_error(pkt(3), PORT_LO, TFTP_ERR_UNDEFINED, "transfer timed out");
	cr_assert(eq(u64, counters()->transfers_timed_out, 1));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
}

Test(tftp_server, ack_resets_the_retry_count)
{
	uint8_t *file = pattern(2048, 6);

	write_file("f", file, 2048);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	for (uint64_t t = 1; t <= 3; t++)
		tftp_server_tick(fx.srv, t * US_PER_S); /* three retries of block 1 */
	ack(PORT_LO, 1, 3 * US_PER_S + 1);
	rec_clear(&fx.rec);
	for (uint64_t t = 4; t <= 6; t++)
		tftp_server_tick(fx.srv, t * US_PER_S + 1);
	cr_assert(eq(sz, fx.rec.n, 3), "three fresh retries of block 2, no error yet");
	for (size_t i = 0; i < 3; i++)
		cr_assert(eq(u16, block_of(pkt(i)), 2));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 1));
	free(file);
}

Test(tftp_server, out_of_buffers_is_counted_and_the_timer_sends_later)
{
	write_file("f", "hello", 5);
	start_server(&base_config);
	fx.rec.fail_allocs = 1;
	RRQ(0, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->tx_no_buffer, 1));
	tftp_server_tick(fx.srv, US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"hello", 5);
}

/* counters.retransmits is "DATA and OACK packets sent again": an OACK that found
 * no buffer was not sent, and tx_no_buffer already counts it. */
Test(tftp_server, oack_retransmission_without_a_buffer_is_not_counted_as_sent)
{
	write_file("f", "hello", 5);
	start_server(&base_config);
	RRQ(0, "f", "octet", "tsize", "0");
	rec_clear(&fx.rec);
	fx.rec.fail_allocs = 1;
	tftp_server_tick(fx.srv, US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->tx_no_buffer, 1));
	cr_assert(eq(u64, counters()->oacks_sent, 1));
	cr_assert(eq(u64, counters()->retransmits, 0), "nothing was sent again");
}

/* ---- adaptive retransmission timeout (rto.h) ------------------------------ */

/* base_config's timeout is fixed (min_retransmit_ms 0); these run as the
 * dataplane does by default: 200 ms floor, 1 s ceiling and start. */
static struct tftp_config adaptive_config(void)
{
	struct tftp_config cfg = base_config;

	cfg.min_retransmit_ms = 200;
	cfg.max_retries = 5;
	return cfg;
}

#define MS 1000ull

/* The OACK is answered after 1 ms: the timeout drops from 1 s to the 200 ms
 * floor for the window that follows. */
Test(tftp_server, measured_round_trip_brings_the_timeout_down_to_the_floor)
{
	const struct tftp_config cfg = adaptive_config();
	uint8_t *file = pattern(8 * 512, 5);

	write_file("f", file, 8 * 512);
	start_server(&cfg);
	RRQ(0, "f", "octet", "windowsize", "4");
	rec_clear(&fx.rec);
	ack(PORT_LO, 0, 1 * MS);
	cr_assert(eq(sz, fx.rec.n, 4));
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1 * MS + 200 * MS - 1);
	cr_assert(eq(sz, fx.rec.n, 0));
	tftp_server_tick(fx.srv, 1 * MS + 200 * MS);
	cr_assert(eq(sz, fx.rec.n, 4), "the window again after 200 ms, not 1 s");
	cr_assert(eq(u16, block_of(pkt(0)), 1));
	cr_assert(eq(u64, counters()->retransmits, 4));
	free(file);
}

/* RFC 6298 §5.5: each timeout doubles the timeout, up to retransmit_ms; after
 * max_retries in a row the transfer ends. */
Test(tftp_server, consecutive_timeouts_back_off_up_to_retransmit_ms_then_give_up)
{
	const struct tftp_config cfg = adaptive_config();
	const uint64_t start = 1 * MS; /* when the first window went out */
	const uint64_t due[] = { 200 * MS, 600 * MS, 1400 * MS, 2400 * MS, 3400 * MS }; /* after start */
	uint8_t *file = pattern(8 * 512, 5);

	write_file("f", file, 8 * 512);
	start_server(&cfg);
	RRQ(0, "f", "octet", "windowsize", "4");
	ack(PORT_LO, 0, start);
	rec_clear(&fx.rec);
	for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
		tftp_server_tick(fx.srv, start + due[i] - 1);
		cr_assert(eq(sz, fx.rec.n, 0), "retry %zu early", i + 1);
		tftp_server_tick(fx.srv, start + due[i]);
		cr_assert(eq(sz, fx.rec.n, 4), "retry %zu at +%llu ms", i + 1, (unsigned long long)(due[i] / MS));
		rec_clear(&fx.rec);
	}
	tftp_server_tick(fx.srv, start + 4400 * MS - 1);
	cr_assert(eq(sz, fx.rec.n, 0));
	tftp_server_tick(fx.srv, start + 4400 * MS);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_error(pkt(0), PORT_LO, TFTP_ERR_UNDEFINED, "transfer timed out");
	cr_assert(eq(u64, counters()->transfers_timed_out, 1));
	free(file);
}

/* What the estimator does, seen from outside (tftp_rtt_*, tftp_rto_*): each
 * round-trip sample adds itself and the timeout it set; each timeout that
 * resends is a backoff, "capped" once doubling would pass retransmit_ms. */
Test(tftp_server, counters_expose_round_trips_timeouts_and_backoffs)
{
	const struct tftp_config cfg = adaptive_config();
	uint8_t *file = pattern(8 * 512, 5);
	/* RFC 6298 with samples of 30 ms then 400 ms: SRTT 30, RTTVAR 15, RTO 90 ->
	 * the 200 ms floor; then SRTT 76.25, 4 RTTVAR 415: RTO 491.25 ms. */
	const uint64_t rto1 = 200 * MS, rto2 = 491250, sent = 430 * MS;

	write_file("f", file, 8 * 512);
	start_server(&cfg);
	RRQ(0, "f", "octet", "windowsize", "4");
	ack(PORT_LO, 0, 30 * MS);
	cr_expect(eq(u64, counters()->rtt_samples, 1));
	cr_expect(eq(u64, counters()->rtt_sum_us, 30 * MS));
	cr_expect(eq(u64, counters()->rto_sum_us, rto1));
	ack(PORT_LO, 4, sent); /* window 1-4 went out at 30 ms */
	cr_expect(eq(u64, counters()->rtt_samples, 2));
	cr_expect(eq(u64, counters()->rtt_sum_us, 30 * MS + 400 * MS));
	cr_expect(eq(u64, counters()->rto_sum_us, rto1 + rto2));
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, sent + rto2 - 1);
	cr_assert(eq(sz, fx.rec.n, 0), "the timeout is the one counted");
	tftp_server_tick(fx.srv, sent + rto2);
	cr_assert(eq(sz, fx.rec.n, 4));
	cr_expect(eq(u64, counters()->rto_backoffs, 1));
	cr_expect(eq(u64, counters()->rto_backoffs_capped, 0), "491.25 -> 982.5 ms: under 1 s");
	tftp_server_tick(fx.srv, sent + rto2 + 2 * rto2);
	cr_expect(eq(u64, counters()->rto_backoffs, 2));
	cr_expect(eq(u64, counters()->rto_backoffs_capped, 1), "982.5 ms -> held at 1 s");
	tftp_server_tick(fx.srv, sent + rto2 + 2 * rto2 + 1000 * MS);
	cr_expect(eq(u64, counters()->rto_backoffs, 3));
	cr_expect(eq(u64, counters()->rto_backoffs_capped, 2));
	cr_expect(eq(u64, counters()->rtt_samples, 2), "timeouts give no sample");
	free(file);
}

/* Karn's rule: the ACK of a block sent twice gives no round-trip sample (it
 * may answer either copy), and the backed-off timeout stays; the next clean
 * round trip brings it down. */
Test(tftp_server, ack_of_a_retransmitted_block_gives_no_rtt_sample)
{
	const struct tftp_config cfg = adaptive_config();
	uint8_t *file = pattern(4 * 512, 9);

	write_file("f", file, 4 * 512);
	start_server(&cfg);
	RRQ(0, "f", "octet");                /* block 1 at 0 */
	tftp_server_tick(fx.srv, 1000 * MS); /* block 1 again */
	rec_clear(&fx.rec);
	ack(PORT_LO, 1, 1000 * MS + 500);    /* 0.5 ms after the copy: ambiguous */
	cr_assert(eq(u16, block_of(pkt(0)), 2));
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1000 * MS + 500 + 200 * MS);
	cr_assert(eq(sz, fx.rec.n, 0), "no sample was taken: still 1 s");
	ack(PORT_LO, 2, 1001 * MS); /* block 2 went out once: a clean sample */
	cr_assert(eq(u16, block_of(pkt(0)), 3));
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1001 * MS + 200 * MS);
	cr_assert(eq(sz, fx.rec.n, 1), "down to the floor");
	cr_assert(eq(u16, block_of(pkt(0)), 3));
	free(file);
}

/* An OACK sent twice (here for a retransmitted RRQ) makes ACK 0 ambiguous too. */
Test(tftp_server, ack_of_an_oack_sent_twice_gives_no_rtt_sample)
{
	const struct tftp_config cfg = adaptive_config();

	write_file("f", "0123456789", 10);
	start_server(&cfg);
	RRQ(0, "f", "octet", "tsize", "0");
	RRQ(100 * MS, "f", "octet", "tsize", "0");
	ack(PORT_LO, 0, 100 * MS + 500); /* taken as 100.5 ms, it would give 301.5 ms */
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 100 * MS + 500 + 999 * MS);
	cr_assert(eq(sz, fx.rec.n, 0), "no sample: still 1 s");
	tftp_server_tick(fx.srv, 100 * MS + 500 + 1000 * MS);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"0123456789", 10);
}

/* RFC 2349: "the number of seconds to wait before retransmitting". A client
 * that asked for 2 s gets 2 s, however fast it answers and however many
 * timeouts in a row. */
Test(tftp_server, negotiated_timeout_is_neither_adapted_nor_backed_off)
{
	const struct tftp_config cfg = adaptive_config();
	uint8_t *file = pattern(8 * 512, 5);

	write_file("f", file, 8 * 512);
	start_server(&cfg);
	RRQ(0, "f", "octet", "timeout", "2", "windowsize", "4");
	ack(PORT_LO, 0, 1 * MS); /* a 1 ms round trip */
	rec_clear(&fx.rec);
	for (uint64_t k = 1; k <= 3; k++) {
		tftp_server_tick(fx.srv, 1 * MS + k * 2000 * MS - 1);
		cr_assert(eq(sz, fx.rec.n, 0));
		tftp_server_tick(fx.srv, 1 * MS + k * 2000 * MS);
		cr_assert(eq(sz, fx.rec.n, 4), "retry %llu after exactly 2 s", (unsigned long long)k);
		rec_clear(&fx.rec);
	}
	free(file);
}

/* Sessions with different round trips keep their own timeouts. */
Test(tftp_server, each_transfer_has_its_own_timeout)
{
	const struct tftp_config cfg = adaptive_config();
	struct net_endpoint slow = client;
	uint8_t *file = pattern(8 * 512, 5);

	slow.port = 3000;
	write_file("f", file, 8 * 512);
	start_server(&cfg);
	RRQ(0, "f", "octet", "windowsize", "4");            /* PORT_LO: fast */
	RRQ_FROM(&slow, 0, "f", "octet", "windowsize", "4"); /* PORT_LO + 1: slow */
	ack(PORT_LO, 0, 1 * MS);
	packet_from(&slow, PORT_LO + 1, TFTP_ACK, 0, 400 * MS); /* RTO 3 x 400 ms, capped at 1 s */
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 201 * MS);
	cr_assert(eq(sz, fx.rec.n, 4));
	cr_assert(eq(u16, pkt(0)->src_port, PORT_LO));
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1400 * MS - 1);
	for (size_t i = 0; i < fx.rec.n; i++)
		cr_assert(eq(u16, pkt(i)->src_port, PORT_LO), "the slow one waits its 1 s");
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1400 * MS);
	cr_assert(eq(sz, fx.rec.n, 4));
	cr_assert(eq(u16, pkt(0)->src_port, PORT_LO + 1));
	free(file);
}

/* ---- ACK handling: duplicates, strays, gaps, reordering ------------------- */

Test(tftp_server, duplicate_ack_never_causes_a_packet)
{
	uint8_t *file = pattern(20 * 512, 7);

	write_file("f", file, 20 * 512);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	rec_clear(&fx.rec);
	ack(PORT_LO, 0, 1); /* acked is 0: an ACK 0 in a plain transfer is a duplicate */
	cr_assert(eq(sz, fx.rec.n, 0));
	ack(PORT_LO, 1, 2);
	cr_assert(eq(sz, fx.rec.n, 1));
	rec_clear(&fx.rec);
	for (int i = 0; i < 5; i++)
		ack(PORT_LO, 1, 3); /* Sorcerer's Apprentice: each would double the traffic */
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->duplicate_acks, 6));
	cr_assert(eq(u64, counters()->data_packets, 2));
	free(file);
}

Test(tftp_server, duplicate_ack_of_a_window_never_causes_a_packet)
{
	uint8_t *file = pattern(20 * 512, 8);

	write_file("f", file, 20 * 512);
	start_server(&base_config);
	RRQ(0, "f", "octet", "windowsize", "4");
	ack(PORT_LO, 0, 1);
	ack(PORT_LO, 4, 2);
	rec_clear(&fx.rec);
	ack(PORT_LO, 4, 3);
	ack(PORT_LO, 4, 4);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->duplicate_acks, 2));
	free(file);
}

Test(tftp_server, old_ack_and_ack_beyond_the_window_are_ignored)
{
	uint8_t *file = pattern(20 * 512, 9);

	write_file("f", file, 20 * 512);
	start_server(&base_config);
	RRQ(0, "f", "octet", "windowsize", "4");
	ack(PORT_LO, 0, 1); /* blocks 1..4 out */
	rec_clear(&fx.rec);
	ack(PORT_LO, 5, 2); /* never sent */
	ack(PORT_LO, 65535, 2);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->stray_packets, 2));

	ack(PORT_LO, 4, 3); /* blocks 5..8 out */
	rec_clear(&fx.rec);
	ack(PORT_LO, 2, 4); /* older than the last ACK */
	ack(PORT_LO, 3, 4);
	ack(PORT_LO, 9, 4);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->stray_packets, 5));
	ack(PORT_LO, 8, 5);
	cr_assert(eq(sz, fx.rec.n, 4));
	cr_assert(eq(u16, block_of(pkt(0)), 9));
	free(file);
}

Test(tftp_server, partial_window_ack_restarts_right_after_the_acked_block)
{
	uint8_t *file = pattern(20 * 512, 10);

	write_file("f", file, 20 * 512);
	start_server(&base_config);
	RRQ(0, "f", "octet", "windowsize", "4");
	ack(PORT_LO, 0, 1); /* 1..4 */
	rec_clear(&fx.rec);
	/* RFC 7440 §4: the client saw a gap after block 2. */
	ack(PORT_LO, 2, 2);
	cr_assert(eq(sz, fx.rec.n, 4));
	for (uint16_t i = 0; i < 4; i++)
		expect_data(pkt(i), PORT_LO, (uint16_t)(3 + i), file + (2u + i) * 512, 512);
	cr_assert(eq(u64, counters()->retransmits, 2), "3 and 4 again, 5 and 6 new");
	cr_assert(eq(u64, counters()->data_packets, 8));
	free(file);
}

Test(tftp_server, late_reordered_ack_is_ignored_and_transfer_continues)
{
	uint8_t *file = pattern(12 * 512 + 1, 11);

	write_file("f", file, 12 * 512 + 1);
	start_server(&base_config);
	RRQ(0, "f", "octet", "windowsize", "4");
	ack(PORT_LO, 0, 1);
	ack(PORT_LO, 4, 2); /* 5..8 */
	rec_clear(&fx.rec);
	ack(PORT_LO, 3, 3); /* overtaken by ACK 4 */
	cr_assert(eq(sz, fx.rec.n, 0));
	ack(PORT_LO, 6, 4); /* gap after 6, then ACK 8 arrives before ACK 6 is answered */
	ack(PORT_LO, 8, 4);
	cr_assert(eq(sz, fx.rec.n, 4 + 4));
	cr_assert(eq(u16, block_of(pkt(0)), 7));
	cr_assert(eq(u16, block_of(pkt(4)), 9));
	rec_clear(&fx.rec);
	ack(PORT_LO, 12, 5);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 13, file + 12 * 512, 1);
	rec_clear(&fx.rec);
	ack(PORT_LO, 13, 6);
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	free(file);
}

/* ---- block number rollover ------------------------------------------------ */

static void rollover_transfer(const char *windowsize)
{
	const size_t blocks = 70000, size = blocks * 8;
	uint8_t *file = pattern(size, 12);
	struct download dl = new_download(size);
	size_t wrap;

	dl.blocks = calloc(blocks + 1, sizeof(*dl.blocks));
	dl.blocks_cap = blocks + 1;
	cr_assert(dl.blocks != NULL);
	write_file("many", file, size);
	start_server(&base_config);
	RRQ(0, "many", "octet", "blksize", "8", "windowsize", windowsize);
	EXPECT_OACK(pkt(0), PORT_LO, "blksize", "8", "windowsize", windowsize);
	download(PORT_LO, 8, 1, &dl, 2 * blocks + 10);

	/* 70000 full blocks and the empty 70001st: wire numbers 1..65535, 0, 1, .. 4465. */
	cr_assert(eq(sz, dl.n_blocks, blocks + 1));
	wrap = 65534; /* index of block 65535 */
	cr_assert(eq(u16, dl.blocks[wrap], 65535));
	cr_assert(eq(u16, dl.blocks[wrap + 1], 0));
	cr_assert(eq(u16, dl.blocks[wrap + 2], 1));
	cr_assert(eq(u16, dl.blocks[blocks], (uint16_t)(blocks + 1)));
	cr_assert(eq(sz, dl.len, size));
	cr_assert(eq(int, memcmp(dl.bytes, file, size), 0), "exact bytes across the wrap");
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
	cr_assert(eq(u64, counters()->retransmits, 0));
	free(dl.blocks);
	free(dl.bytes);
	free(file);
}

Test(tftp_server, rollover_past_65535_blocks_lockstep)
{
	rollover_transfer("1");
}

Test(tftp_server, rollover_past_65535_blocks_with_window_of_7)
{
	/* 7 does not divide 65536: windows straddle the wrap. */
	rollover_transfer("7");
}

/* ---- netascii ------------------------------------------------------------- */

Test(tftp_server, netascii_converts_line_ends_and_tsize_reports_converted_size)
{
	static const uint8_t text[] = "a\nb\rc\n";             /* 6 bytes */
	static const uint8_t wire[] = "a\r\nb\r\0c\r\n"; /* 9 bytes */

	write_file("t.txt", text, 6);
	start_server(&base_config);
	RRQ(0, "t.txt", "netascii", "tsize", "0");
	EXPECT_OACK(pkt(0), PORT_LO, "tsize", "9");
	rec_clear(&fx.rec);
	ack(PORT_LO, 0, 1);
	expect_data(pkt(0), PORT_LO, 1, wire, 9);
	rec_clear(&fx.rec);
	ack(PORT_LO, 1, 2);
	cr_assert(eq(u64, counters()->transfers_completed, 1));
}

Test(tftp_server, netascii_without_budget_is_error_3)
{
	struct cache *c;

	write_file("t.txt", "a\nb\n", 4);
	c = load_cache(4); /* exactly the file: no room for its 6-byte netascii form */
	fx.srv = tftp_server_create(&base_config, &fx.tx);
	cr_assert(fx.srv != NULL);
	tftp_server_set_cache(fx.srv, c);
	cache_unref(c);
	RRQ(0, "t.txt", "netascii");
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_error(pkt(0), 69, TFTP_ERR_DISK_FULL, "no memory left for the netascii copy of this file");
	cr_assert(eq(u64, counters()->refused_no_memory, 1));
	rec_clear(&fx.rec);
	RRQ(0, "t.txt", "octet");
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"a\nb\n", 4);
}

/* ---- refusals: one request, one ERROR from port 69, no session ------------ */

struct refusal {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	uint16_t code;
	const char *message;
};

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1 /* keeps embedded NULs */

static const struct refusal refusals[] = {
	{ "file not found", S("\0\1nothere\0octet\0"), 1, "file not found" },
	{ "traversal", S("\0\1../etc/passwd\0octet\0"), 2,
	  "access violation: \"..\" leads outside the TFTP root" },
	{ "traversal in the middle", S("\0\1boot/../../x\0octet\0"), 2,
	  "access violation: \"..\" leads outside the TFTP root" },
	{ "backslash traversal", S("\0\1\\..\\f\0octet\0"), 2,
	  "access violation: \"..\" leads outside the TFTP root" },
	{ "control character", S("\0\1f\x01g\0octet\0"), 2, "access violation: control character in file name" },
	{ "DEL character", S("\0\1f\x7f\0octet\0"), 2, "access violation: control character in file name" },
	{ "write request", S("\0\2f\0octet\0"), 2, "access violation: this server does not accept writes" },
	{ "name that normalises to nothing", S("\0\1//./\0octet\0"), 1, "file not found" },
	{ "no mode", S("\0\1f\0"), 4, "malformed request: mode not terminated" },
	{ "empty file name", S("\0\1\0octet\0"), 4, "malformed request: empty file name" },
	{ "one byte", B(0x00), 4, "malformed request: truncated" },
	{ "mail mode", S("\0\1f\0mail\0"), 4, "unsupported transfer mode (use octet or netascii)" },
	{ "unknown mode", S("\0\1f\0binary\0"), 4, "unsupported transfer mode (use octet or netascii)" },
	{ "DATA to port 69", S("\0\3\0\1abc"), 4, "illegal TFTP operation: expected a request" },
	{ "ACK to port 69", S("\0\4\0\1"), 4, "illegal TFTP operation: expected a request" },
	{ "OACK to port 69", S("\0\6"), 4, "illegal TFTP operation: expected a request" },
	{ "blksize 7", S("\0\1f\0octet\0blksize\0" "7\0"), 8, "blksize must be a number from 8 to 65464" },
	{ "timeout 0", S("\0\1f\0octet\0timeout\0" "0\0"), 8, "timeout must be a number of seconds from 1 to 255" },
	{ "windowsize 65536", S("\0\1f\0octet\0windowsize\0" "65536\0"), 8,
	  "windowsize must be a number from 1 to 65535" },
	{ "duplicate option", S("\0\1f\0octet\0tsize\0" "0\0tsize\0" "0\0"), 8, "tsize given twice" },
	{ "17 options", S("\0\1f\0octet\0a\0" "1\0b\0" "1\0c\0" "1\0d\0" "1\0e\0" "1\0f\0" "1\0g\0" "1\0h\0" "1\0"
			  "i\0" "1\0j\0" "1\0k\0" "1\0l\0" "1\0m\0" "1\0n\0" "1\0o\0" "1\0p\0" "1\0q\0" "1\0"),
	  8, "too many options" },
};

Test(tftp_server, refused_requests_get_exact_error_code_and_message)
{
	char longname[CACHE_NAME_MAX + 2];

	write_file("f", "data", 4);
	start_server(&base_config);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];

		rec_clear(&fx.rec);
		tftp_server_input(fx.srv, &client, 69, r->bytes, r->len, 0);
		cr_assert(eq(sz, fx.rec.n, 1), "case %s: one ERROR", r->what);
		expect_error(pkt(0), 69, r->code, r->message);
		cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0), "case %s", r->what);
	}
	/* A name longer than the cache holds. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	rec_clear(&fx.rec);
	RRQ(0, longname, "octet");
	expect_error(pkt(0), 69, TFTP_ERR_NOT_FOUND, "file not found: name too long");

	cr_assert(eq(u64, counters()->refused_not_found, 3));
	cr_assert(eq(u64, counters()->refused_access, 5));
	cr_assert(eq(u64, counters()->write_requests_refused, 1));
	cr_assert(eq(u64, counters()->refused_malformed, 8));
	cr_assert(eq(u64, counters()->refused_options, 5));
	cr_assert(eq(u64, counters()->transfers_started, 0));
	cr_assert(eq(u64, counters()->errors_sent, sizeof(refusals) / sizeof(refusals[0]) + 1));
}

Test(tftp_server, request_with_no_cache_set_is_file_not_found)
{
	fx.srv = tftp_server_create(&base_config, &fx.tx);
	cr_assert(fx.srv != NULL);
	RRQ(0, "f", "octet");
	expect_error(pkt(0), 69, TFTP_ERR_NOT_FOUND, "file not found");
}

Test(tftp_server, names_are_normalised_and_matched_case_insensitively)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/boot", fx.root);
	cr_assert(eq(int, mkdir(dir, 0755), 0));
	write_file("boot/bcd", "BCD", 3);
	start_server(&base_config);
	RRQ(0, "\\Boot\\BCD", "octet");
	expect_data(pkt(0), PORT_LO, 1, (const uint8_t *)"BCD", 3);
}

Test(tftp_server, error_packet_to_port_69_is_never_answered)
{
	write_file("f", "data", 4);
	start_server(&base_config);
	packet_from(&client, 69, TFTP_ERROR, 0, 0);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->stray_packets, 1));
	cr_assert(eq(u64, counters()->errors_sent, 0));
}

/* ---- limits --------------------------------------------------------------- */

static struct net_endpoint client_n(uint32_t host, uint16_t port)
{
	struct net_endpoint c = client;

	c.ip = (host << 24) | 0x0001000a; /* 10.1.0.host */
	c.port = port;
	return c;
}

static char two_blocks[600]; /* ACK 1 acknowledges a transfer without ending it */

Test(tftp_server, busy_total_limit_refuses_with_code_0)
{
	struct tftp_config cfg = base_config;

	cfg.max_sessions = 2;
	write_file("f", two_blocks, sizeof(two_blocks));
	start_server(&cfg);
	for (uint32_t h = 1; h <= 2; h++) {
		struct net_endpoint c = client_n(h, 2000);

		RRQ_FROM(&c, 0, "f", "octet");
		packet_from(&c, pkt(fx.rec.n - 1)->src_port, TFTP_ACK, 1, 1);
	}
	cr_assert(eq(sz, fx.rec.n, 4));
	rec_clear(&fx.rec);
	{
		struct net_endpoint c3 = client_n(3, 2000);

		RRQ_FROM(&c3, 2, "f", "octet");
		cr_assert(eq(sz, fx.rec.n, 1));
		expect_error_to(pkt(0), &c3, 69, TFTP_ERR_UNDEFINED, "server busy: too many transfers, retry later");
	}
	cr_assert(eq(u64, counters()->refused_busy, 1));
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 0), "both transfers are acknowledged: neither goes");
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 2));
}

/* A full table of transfers nobody acknowledged (a flood of requests from
 * forged addresses): a new request takes the place of the oldest of them. */
Test(tftp_server, a_full_table_gives_the_oldest_unacknowledged_transfer_to_a_new_request)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint c1 = client_n(1, 2000), c2 = client_n(2, 2000), c3 = client_n(3, 2000),
			    c4 = client_n(4, 2000);
	uint16_t port1, port2;

	cfg.max_sessions = 2;
	write_file("f", two_blocks, sizeof(two_blocks));
	start_server(&cfg);
	RRQ_FROM(&c1, 0, "f", "octet");
	port1 = pkt(0)->src_port;
	RRQ_FROM(&c2, 1, "f", "octet");
	port2 = pkt(1)->src_port;
	packet_from(&c2, port2, TFTP_ACK, 1, 2); /* c2 answers; c1 never does */
	rec_clear(&fx.rec);

	/* The evicted transfer goes without a word: its peer never answered,
	 * so an error would most likely go to a forged address. */
	RRQ_FROM(&c3, 3, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_assert(eq(u32, pkt(0)->to.ip, c3.ip));
	cr_assert(eq(u16, block_of(pkt(0)), 1), "the new request is served");
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 1));
	cr_assert(eq(u64, counters()->errors_sent, 0), "nothing to the evicted peer");
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 2));

	/* Now c2 (acknowledged) and c3 (not yet): c4 takes c3's place, never c2's. */
	rec_clear(&fx.rec);
	RRQ_FROM(&c4, 4, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_assert(eq(u32, pkt(0)->to.ip, c4.ip));
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 2));
	rec_clear(&fx.rec);
	packet_from(&c2, port2, TFTP_ACK, 2, 5);
	cr_assert(eq(u64, counters()->transfers_completed, 1), "the acknowledged transfer runs to its end");

	/* A real client whose place went to another gets it back with its late
	 * ACK: its transfer opens again (there is room: c2's has ended) and goes
	 * on; the next test has it take the place of another. */
	rec_clear(&fx.rec);
	packet_from(&c1, port1, TFTP_ACK, 1, 6);
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_assert(eq(u32, pkt(0)->to.ip, c1.ip));
	cr_assert(eq(u16, pkt(0)->src_port, port1), "on its own port");
	cr_assert(eq(u16, block_of(pkt(0)), 2), "block 2 follows its ACK of block 1");
	cr_assert(eq(u64, counters()->transfers_revived, 1));
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 2));
	rec_clear(&fx.rec);
	packet_from(&c1, port1, TFTP_ACK, 2, 7);
	cr_assert(eq(u64, counters()->transfers_completed, 2), "and ends");
}

/* Revival: the ACK of an evicted transfer's first reply (0 after an OACK)
 * opens it again where it stood; the transfer nobody has acknowledged that
 * holds its port now is evicted in turn, and that one's client, when it ACKs
 * late, finds the port held by a transfer that was acknowledged: error 5. */
Test(tftp_server, an_evicted_transfer_is_revived_by_the_ack_of_its_oack)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint c1 = client_n(1, 2000), c2 = client_n(2, 2000), c3 = client_n(3, 2000);
	uint8_t *data = pattern(3000, 7);
	uint16_t port0;

	cfg.port_hi = PORT_LO + 1; /* two ports: an evicted transfer's port is the next one's */
	cfg.max_sessions = 2;
	write_file("f", data, 3000);
	start_server(&cfg);
	RRQ_FROM(&c1, 0, "f", "octet", "blksize", "1000", "windowsize", "2");
	port0 = pkt(0)->src_port;
	RRQ_FROM(&c2, 1, "f", "octet", "blksize", "1000");
	rec_clear(&fx.rec);
	RRQ_FROM(&c3, 2, "f", "octet", "blksize", "1000"); /* c1 goes, c3 takes its port */
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_assert(eq(u16, pkt(0)->src_port, port0));
	cr_assert(eq(u32, pkt(0)->to.ip, c3.ip));

	rec_clear(&fx.rec);
	packet_from(&c1, port0, TFTP_ACK, 0, 3);
	cr_assert(eq(sz, fx.rec.n, 2), "c1's first window of 2");
	cr_assert(eq(u32, pkt(0)->to.ip, c1.ip));
	cr_assert(eq(u16, block_of(pkt(0)), 1));
	cr_assert(eq(sz, pkt(0)->len, 4 + 1000), "with the blksize it negotiated");
	cr_assert(eq(u64, counters()->transfers_revived, 1));
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 2), "c3 went in turn");

	/* c3's late ACK: its port is held by c1's transfer, acknowledged now. */
	rec_clear(&fx.rec);
	packet_from(&c3, port0, TFTP_ACK, 0, 4);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_error_to(pkt(0), &c3, port0, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	cr_assert(eq(u64, counters()->transfers_revived, 1));

	rec_clear(&fx.rec);
	packet_from(&c1, port0, TFTP_ACK, 2, 5);
	cr_assert(eq(sz, fx.rec.n, 2), "blocks 3 and 4 (empty: 3000 is a multiple of 1000)");
	cr_assert(eq(u16, block_of(pkt(0)), 3));
	cr_assert(eq(int, memcmp(pkt(0)->bytes + 4, data + 2000, 1000), 0), "the file's own bytes");
	cr_assert(eq(sz, pkt(1)->len, 4));
	packet_from(&c1, port0, TFTP_ACK, 4, 6);
	cr_assert(eq(u64, counters()->transfers_completed, 1), "c1 gets its whole file");
	free(data);
}

Test(tftp_server, no_revival_for_another_block_another_peer_or_after_a_reload)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint c1 = client_n(1, 2000), c2 = client_n(2, 2000), c3 = client_n(3, 2000);
	struct net_endpoint stranger = client_n(1, 2001);
	struct cache *v2;
	uint16_t port1;

	cfg.max_sessions = 2;
	write_file("f", two_blocks, sizeof(two_blocks));
	start_server(&cfg);
	RRQ_FROM(&c1, 0, "f", "octet", "tsize", "0");
	port1 = pkt(0)->src_port;
	RRQ_FROM(&c2, 1, "f", "octet");
	RRQ_FROM(&c3, 2, "f", "octet"); /* c1 evicted */
	rec_clear(&fx.rec);

	packet_from(&c1, port1, TFTP_ACK, 1, 3);
	expect_error_to(pkt(0), &c1, port1, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	rec_clear(&fx.rec);
	packet_from(&stranger, port1, TFTP_ACK, 0, 3);
	expect_error_to(pkt(0), &stranger, port1, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	cr_assert(eq(u64, counters()->transfers_revived, 0), "ACK 1 after an OACK, or another port: no");

	write_file("f", two_blocks, sizeof(two_blocks));
	v2 = load_cache(1 << 30);
	tftp_server_set_cache(fx.srv, v2);
	cache_unref(v2);
	rec_clear(&fx.rec);
	packet_from(&c1, port1, TFTP_ACK, 0, 4);
	expect_error_to(pkt(0), &c1, port1, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	cr_assert(eq(u64, counters()->transfers_revived, 0), "the record points into the old version: no");
}

/* A record serves only while the transfer would have waited for its ACK:
 * retransmit_ms (1 s here) for the first send and each of 3 retries. */
Test(tftp_server, no_revival_after_the_transfer_would_have_timed_out)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint c1 = client_n(1, 2000), c2 = client_n(2, 2000), c3 = client_n(3, 2000),
			    c4 = client_n(4, 2000);
	uint16_t port1, port2;

	cfg.max_sessions = 2;
	write_file("f", two_blocks, sizeof(two_blocks));
	start_server(&cfg);
	RRQ_FROM(&c1, 0, "f", "octet");
	port1 = pkt(0)->src_port;
	RRQ_FROM(&c2, 0, "f", "octet");
	port2 = pkt(1)->src_port;
	RRQ_FROM(&c3, 0, "f", "octet"); /* c1 evicted at 0 */
	RRQ_FROM(&c4, 0, "f", "octet"); /* c2 evicted at 0 */
	rec_clear(&fx.rec);
	packet_from(&c1, port1, TFTP_ACK, 1, 4 * US_PER_S + 1);
	expect_error_to(pkt(0), &c1, port1, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	rec_clear(&fx.rec);
	packet_from(&c2, port2, TFTP_ACK, 1, 4 * US_PER_S);
	cr_assert(eq(u16, block_of(pkt(0)), 2), "at the very end of the wait: revived");
	cr_assert(eq(u64, counters()->transfers_revived, 1));
}

/* Behind its receive queue (a flood), the server drops a request that could
 * only evict an unacknowledged transfer, unparsed and unanswered; with room
 * in the table, or once caught up, requests are served as ever. */
Test(tftp_server, behind_a_full_table_of_unacknowledged_transfers_new_requests_are_shed)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint c1 = client_n(1, 2000), c2 = client_n(2, 2000), c3 = client_n(3, 2000);

	cfg.max_sessions = 2;
	write_file("f", two_blocks, sizeof(two_blocks));
	start_server(&cfg);
	tftp_server_set_behind(fx.srv, true);
	RRQ_FROM(&c1, 0, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 1), "room in the table: served though behind");
	rec_clear(&fx.rec);
	RRQ_FROM(&c2, 1, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 1));
	rec_clear(&fx.rec);

	RRQ_FROM(&c3, 2, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 0), "shed: no reply at all");
	cr_assert(eq(u64, counters()->shed_overloaded, 1));
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 0), "nobody lost a place");
	cr_assert(eq(u64, counters()->transfers_started, 2));

	tftp_server_set_behind(fx.srv, false);
	RRQ_FROM(&c3, 3, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 1), "caught up: the retried request is served");
	cr_assert(eq(u32, pkt(0)->to.ip, c3.ip));
	cr_assert(eq(u64, counters()->evicted_unacknowledged, 1));
}

Test(tftp_server, busy_per_client_limit_refuses_with_code_0_and_frees_on_end)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint a1 = client_n(100, 3001), a2 = client_n(100, 3002), a3 = client_n(100, 3003);
	struct net_endpoint other = client_n(101, 3001);

	cfg.max_sessions_per_client = 2;
	write_file("f", "data", 4);
	start_server(&cfg);
	RRQ_FROM(&a1, 0, "f", "octet");
	RRQ_FROM(&a2, 0, "f", "octet");
	RRQ_FROM(&a3, 0, "f", "octet");
	RRQ_FROM(&other, 0, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 4));
	expect_error_to(pkt(2), &a3, 69, TFTP_ERR_UNDEFINED, "server busy: too many transfers from this address");
	cr_assert(eq(u16, block_of(pkt(3)), 1), "another address is still served");
	cr_assert(eq(u16, pkt(3)->src_port, PORT_LO + 2));
	cr_assert(eq(u64, counters()->refused_busy, 1));

	/* a1 finishes: the address may start one more. */
	packet_from(&a1, PORT_LO, TFTP_ACK, 1, 1);
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	rec_clear(&fx.rec);
	RRQ_FROM(&a3, 2, "f", "octet");
	cr_assert(eq(u16, block_of(pkt(0)), 1));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 3));
}

/*
 * The per-address counts live in an open-addressing table with backward-shift
 * deletion. Many addresses that share probe chains start and end transfers in a
 * scrambled order; after every step the server's refusals must match a plain
 * array model exactly, which fails if a deletion ever breaks a probe chain.
 */
Test(tftp_server, per_client_counts_stay_exact_through_many_starts_and_ends)
{
	enum { CLIENTS = 40, PORTS = 32, PER_CLIENT = 2, STEPS = 4000, BASE = 40000 };
	struct tftp_config cfg = base_config;
	unsigned model[CLIENTS] = { 0 }, total = 0;
	struct {
		bool busy;
		unsigned client;
		struct net_endpoint peer;
	} ports[PORTS] = { { 0 } };
	uint32_t rng = 12345;

	cfg.port_lo = BASE;
	cfg.port_hi = BASE + PORTS - 1;
	cfg.max_sessions = PORTS;
	cfg.max_sessions_per_client = PER_CLIENT;
	/* Two blocks: ACK 1 right after the start acknowledges a transfer (so a full
	 * table refuses rather than evicts), ACK 2 ends it. */
	write_file("f", two_blocks, sizeof(two_blocks));
	start_server(&cfg);
	for (int step = 0; step < STEPS; step++) {
		unsigned k, p;

		rng = rng * 1103515245u + 12345u;
		k = (rng >> 16) % CLIENTS;
		p = (rng >> 8) % PORTS;
		rec_clear(&fx.rec);
		if (!ports[p].busy || (rng & 0x10)) {
			struct net_endpoint c = client_n(k + 1, (uint16_t)(1000 + step));
			bool may = model[k] < PER_CLIENT && total < PORTS;

			RRQ_FROM(&c, (uint64_t)step, "f", "octet");
			cr_assert(eq(sz, fx.rec.n, 1));
			cr_assert(eq(u16, be16(pkt(0)->bytes), may ? TFTP_DATA : TFTP_ERROR),
				  "step %d: client %u with %u transfers (total %u)", step, k, model[k], total);
			if (may) {
				unsigned got = pkt(0)->src_port - BASE;

				cr_assert(not(ports[got].busy), "step %d: port in use handed out again", step);
				ports[got].busy = true;
				ports[got].client = k;
				ports[got].peer = c;
				model[k]++;
				total++;
				packet_from(&c, (uint16_t)(BASE + got), TFTP_ACK, 1, (uint64_t)step);
			}
		} else {
			packet_from(&ports[p].peer, (uint16_t)(BASE + p), TFTP_ACK, 2, (uint64_t)step);
			cr_assert(eq(sz, fx.rec.n, 0), "step %d", step);
			ports[p].busy = false;
			model[ports[p].client]--;
			total--;
		}
		cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), total), "step %d", step);
	}
	cr_assert(gt(u64, counters()->transfers_completed, 500));
	cr_assert(gt(u64, counters()->refused_busy, 100));
}

/*
 * 0.0.0.0 cannot be answered (and marks free slots in the per-address table), so
 * a request from it is dropped without a reply and counted as malformed, however
 * often it comes; other clients are unaffected.
 */
Test(tftp_server, request_from_0_0_0_0_is_dropped_without_reply)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint zero = client;

	cfg.max_sessions_per_client = 1;
	zero.ip = 0;
	write_file("f", "data", 4);
	start_server(&cfg);
	for (int i = 0; i < 5; i++) {
		rec_clear(&fx.rec);
		RRQ_FROM(&zero, 0, "f", "octet");
		cr_assert(eq(sz, fx.rec.n, 0), "round %d: a reply went to 0.0.0.0", i);
	}
	cr_expect(eq(u64, tftp_server_counters(fx.srv)->refused_malformed, 5));
	cr_expect(eq(u32, tftp_server_active_sessions(fx.srv), 0));
	rec_clear(&fx.rec);
	RRQ(0, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_expect(eq(u16, be16(pkt(0)->bytes), TFTP_DATA));
}

/*
 * Nor is anything else from 0.0.0.0: a datagram to port 69 that is not a
 * request, or is cut short, and one to a session port (free or in use) once
 * got an ERROR addressed to 0.0.0.0 (found by tests/fuzz/fuzz_tftp_server).
 */
Test(tftp_server, nothing_from_0_0_0_0_is_answered)
{
	struct net_endpoint zero = client;
	const uint8_t one_byte[] = { 0x00 };

	zero.ip = 0;
	write_file("f", "data", 4);
	start_server(&base_config);
	RRQ(0, "f", "octet"); /* a transfer on PORT_LO, waiting for ACK 1 */
	rec_clear(&fx.rec);
	packet_from(&zero, 69, TFTP_ACK, 1, 0);
	tftp_server_input(fx.srv, &zero, 69, one_byte, sizeof(one_byte), 0);
	packet_from(&zero, PORT_LO, TFTP_ACK, 1, 0);
	packet_from(&zero, PORT_LO + 1, TFTP_ACK, 1, 0);
	cr_assert(eq(sz, fx.rec.n, 0), "%zu replies went to 0.0.0.0", fx.rec.n);
	cr_expect(eq(u64, counters()->refused_malformed, 2));
	cr_expect(eq(u64, counters()->unknown_tid, 2));
	cr_expect(eq(u64, counters()->errors_sent, 0));
	ack(PORT_LO, 1, 0);
	cr_expect(eq(u64, counters()->transfers_completed, 1), "the real transfer is unaffected");
}

/* ---- transfer IDs --------------------------------------------------------- */

Test(tftp_server, unknown_tid_gets_error_5_and_the_real_transfer_is_unaffected)
{
	uint8_t *file = pattern(2000, 13);
	struct net_endpoint other_port = client, other_addr = client_n(200, 2070);

	other_port.port = 2071;
	write_file("f", file, 2000);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	rec_clear(&fx.rec);

	packet_from(&other_port, PORT_LO, TFTP_ACK, 1, 1);
	packet_from(&other_addr, PORT_LO, TFTP_ACK, 1, 1);
	cr_assert(eq(sz, fx.rec.n, 2));
	expect_error_to(pkt(0), &other_port, PORT_LO, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	expect_error_to(pkt(1), &other_addr, PORT_LO, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	rec_clear(&fx.rec);

	packet_from(&other_port, PORT_LO, TFTP_ERROR, 0, 1); /* never answer an ERROR */
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->unknown_tid, 3));
	cr_assert(eq(u64, counters()->transfers_aborted, 0), "a stranger's ERROR does not end the transfer");

	ack(PORT_LO, 1, 2);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 2, file + 512, 512);
	free(file);
}

Test(tftp_server, packet_to_a_session_port_after_the_end_gets_error_5)
{
	write_file("f", "data", 4);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	ack(PORT_LO, 1, 1);
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	rec_clear(&fx.rec);
	ack(PORT_LO, 1, 2); /* the client's ACK was duplicated on the wire */
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_error(pkt(0), PORT_LO, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	rec_clear(&fx.rec);
	ack(PORT_HI, 1, 2); /* a port never used */
	expect_error(pkt(0), PORT_HI, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	rec_clear(&fx.rec);
	packet_from(&client, PORT_LO, TFTP_ERROR, 0, 3);
	cr_assert(eq(sz, fx.rec.n, 0), "never answer an ERROR, even on a dead port");
	cr_assert(eq(u64, counters()->unknown_tid, 3));
}

Test(tftp_server, error_from_the_client_aborts_the_session_without_reply)
{
	write_file("f", "data", 4);
	start_server(&base_config);
	RRQ(0, "f", "octet", "blksize", "9000"); /* a client that then refuses our OACK */
	rec_clear(&fx.rec);
	packet_from(&client, PORT_LO, TFTP_ERROR, TFTP_ERR_OPTION_REFUSED, 1);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->transfers_aborted, 1));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
	tftp_server_tick(fx.srv, 100 * US_PER_S);
	cr_assert(eq(sz, fx.rec.n, 0), "no timer left behind");
}

Test(tftp_server, unexpected_opcodes_on_a_session_port_are_stray)
{
	write_file("f", "data", 4);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	rec_clear(&fx.rec);
	packet_from(&client, PORT_LO, TFTP_DATA, 1, 1);
	packet_from(&client, PORT_LO, TFTP_RRQ, 0, 1);
	tftp_server_input(fx.srv, &client, PORT_LO, (const uint8_t *)"\0", 1, 1);
	cr_assert(eq(sz, fx.rec.n, 0));
	cr_assert(eq(u64, counters()->stray_packets, 3));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 1));
}

/* ---- ports ---------------------------------------------------------------- */

Test(tftp_server, session_ports_come_from_the_range_and_oldest_freed_is_reused_first)
{
	struct tftp_config cfg = base_config;
	struct net_endpoint c[4];

	cfg.port_lo = 50000;
	cfg.port_hi = 50002;
	cfg.max_sessions = 3;
	write_file("f", "data", 4);
	start_server(&cfg);
	for (uint16_t i = 0; i < 4; i++)
		c[i] = client_n(10u + i, 1000);
	for (uint16_t i = 0; i < 3; i++) {
		RRQ_FROM(&c[i], 0, "f", "octet");
		cr_assert(eq(u16, pkt(i)->src_port, 50000 + i));
	}
	rec_clear(&fx.rec);
	/* End the second, then the first: 50001 was freed first. */
	packet_from(&c[1], 50001, TFTP_ACK, 1, 1);
	packet_from(&c[0], 50000, TFTP_ACK, 1, 2);
	cr_assert(eq(u64, counters()->transfers_completed, 2));
	RRQ_FROM(&c[3], 3, "f", "octet");
	RRQ_FROM(&c[0], 3, "f", "octet");
	cr_assert(eq(sz, fx.rec.n, 2));
	cr_assert(eq(u16, pkt(0)->src_port, 50001));
	cr_assert(eq(u16, pkt(1)->src_port, 50000));
}

Test(tftp_server, a_freed_port_waits_behind_never_used_ones)
{
	write_file("f", "data", 4);
	start_server(&base_config);
	RRQ(0, "f", "octet");
	ack(PORT_LO, 1, 1); /* PORT_LO is free again */
	rec_clear(&fx.rec);
	for (uint16_t p = PORT_LO + 1; p <= PORT_HI; p++) {
		struct net_endpoint c = client_n(p - PORT_LO, 1000);

		RRQ_FROM(&c, 2, "f", "octet");
		cr_assert(eq(u16, fx.rec.pkts[fx.rec.n - 1].src_port, p));
	}
	RRQ(3, "f", "octet");
	cr_assert(eq(u16, fx.rec.pkts[fx.rec.n - 1].src_port, PORT_LO));
}

Test(tftp_server, owns_69_and_exactly_the_session_range)
{
	start_server(&base_config);
	cr_assert(tftp_server_owns_port(fx.srv, 69));
	cr_assert(tftp_server_owns_port(fx.srv, PORT_LO));
	cr_assert(tftp_server_owns_port(fx.srv, PORT_HI));
	cr_assert(not(tftp_server_owns_port(fx.srv, PORT_LO - 1)));
	cr_assert(not(tftp_server_owns_port(fx.srv, PORT_HI + 1)));
	cr_assert(not(tftp_server_owns_port(fx.srv, 67)));
	cr_assert(not(tftp_server_owns_port(fx.srv, 4011)));
}

/* ---- cache versions ------------------------------------------------------- */

Test(tftp_server, new_cache_version_serves_new_requests_while_running_transfer_keeps_old_bytes)
{
	uint8_t *old = pattern(1000, 14), *new = pattern(700, 99);
	struct download dl_old = new_download(1000), dl_new = new_download(700);
	struct cache *v2;
	uint64_t frees_before;

	write_file("kernel", old, 1000);
	start_server(&base_config);
	RRQ(0, "kernel", "octet");
	expect_data(pkt(0), PORT_LO, 1, old, 512); /* first block of the old file on its way */

	write_file("kernel", new, 700);
	v2 = load_cache(1 << 30);
	frees_before = fx.counts.frees;
	tftp_server_set_cache(fx.srv, v2);
	cache_unref(v2);
	cr_assert(eq(u64, fx.counts.frees, frees_before), "the old version is still in use");

	/* The running transfer goes on with the old bytes. */
	download(PORT_LO, 512, 1, &dl_old, 10);
	cr_assert(eq(sz, dl_old.len, 1000));
	cr_assert(eq(int, memcmp(dl_old.bytes, old, 1000), 0));
	cr_assert(eq(u64, fx.counts.frees, frees_before + 2),
		  "its last transfer ended: old version freed (the file and its block-sum table)");

	/* A new request gets the new file. */
	RRQ(2, "kernel", "octet");
	download(PORT_LO + 1, 512, 3, &dl_new, 10);
	cr_assert(eq(sz, dl_new.len, 700));
	cr_assert(eq(int, memcmp(dl_new.bytes, new, 700), 0));
	free(dl_old.bytes);
	free(dl_new.bytes);
	free(old);
	free(new);
}

Test(tftp_server, new_request_during_running_transfer_gets_new_bytes_before_old_one_ends)
{
	uint8_t *old = pattern(1000, 15), *new = pattern(1500, 98);
	struct download dl_new = new_download(1500);
	struct cache *v2;

	struct net_endpoint first = client;

	first.port = 3070; /* each transfer from its own client port, as clients do */
	write_file("kernel", old, 1000);
	start_server(&base_config);
	RRQ_FROM(&first, 0, "kernel", "octet");
	write_file("kernel", new, 1500);
	v2 = load_cache(1 << 30);
	tftp_server_set_cache(fx.srv, v2);
	cache_unref(v2);
	rec_clear(&fx.rec);
	RRQ(1, "kernel", "octet");
	download(PORT_LO + 1, 512, 2, &dl_new, 10);
	cr_assert(eq(int, memcmp(dl_new.bytes, new, 1500), 0));
	packet_from(&first, PORT_LO, TFTP_ACK, 1, 3);
	expect_data_to(pkt(0), &first, PORT_LO, 2, old + 512, 488);
	free(dl_new.bytes);
	free(old);
	free(new);
}

Test(tftp_server, destroy_with_running_transfers_releases_every_cache_buffer)
{
	write_file("a", "aaaa", 4);
	write_file("b", "bbbb", 4);
	struct net_endpoint second = client;

	second.port = 3070;
	start_server(&base_config);
	RRQ(0, "a", "octet");
	RRQ_FROM(&second, 0, "b", "netascii");
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 2));
	tftp_server_destroy(fx.srv);
	fx.srv = NULL;
	cr_assert(eq(u64, fx.counts.allocs, 4), "two files, one netascii copy, one block-sum table for a");
	cr_assert(eq(u64, fx.counts.frees, fx.counts.allocs));
	cr_assert(eq(u64, fx.rec.allocs, fx.rec.sends), "every tx buffer was sent");
}

/* ---- configuration -------------------------------------------------------- */

Test(tftp_server, create_rejects_inconsistent_configs_with_einval)
{
	static const struct {
		const char *what;
		struct tftp_config cfg;
		size_t payload_cap;
	} bad[] = {
		{ "port_hi < port_lo", { 50000, 49999, 1, 1, 1468, 64, 1000, 3, 0, 0 }, 1472 },
		{ "port_lo 69", { 69, 100, 1, 1, 1468, 64, 1000, 3, 0, 0 }, 1472 },
		{ "port_lo 0", { 0, 100, 1, 1, 1468, 64, 1000, 3, 0, 0 }, 1472 },
		{ "max_sessions 0", { 50000, 50010, 0, 1, 1468, 64, 1000, 3, 0, 0 }, 1472 },
		{ "max_sessions above the range", { 50000, 50010, 12, 1, 1468, 64, 1000, 3, 0, 0 }, 1472 },
		{ "per client 0", { 50000, 50010, 11, 0, 1468, 64, 1000, 3, 0, 0 }, 1472 },
		{ "max_blksize 7", { 50000, 50010, 11, 1, 7, 64, 1000, 3, 0, 0 }, 1472 },
		{ "max_blksize 511 (RFC 1350 clients need 512)", { 50000, 50010, 11, 1, 511, 64, 1000, 3, 0, 0 }, 1472 },
		{ "max_windowsize 0", { 50000, 50010, 11, 1, 1468, 0, 1000, 3, 0, 0 }, 1472 },
		{ "max_windowsize 32768", { 50000, 50010, 11, 1, 1468, 32768, 1000, 3, 0, 0 }, 1472 },
		{ "retransmit_ms 0", { 50000, 50010, 11, 1, 1468, 64, 0, 3, 0, 0 }, 1472 },
		{ "retransmit_ms above 255 s", { 50000, 50010, 11, 1, 1468, 64, 255001, 3, 0, 0 }, 1472 },
		{ "buffer smaller than a block", { 50000, 50010, 11, 1, 1468, 64, 1000, 3, 0, 0 }, 1471 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tftp_tx tx = fx.tx;
		struct tftp_server *s;

		tx.payload_cap = bad[i].payload_cap;
		errno = 0;
		s = tftp_server_create(&bad[i].cfg, &tx);
		cr_expect(eq(ptr, (void *)s, NULL), "case %s accepted", bad[i].what);
		cr_expect(eq(int, errno, EINVAL), "case %s", bad[i].what);
		tftp_server_destroy(s);
	}
}

Test(tftp_server, create_accepts_configs_at_the_limits)
{
	static const struct tftp_config ok[] = {
		{ 70, 70, 1, 1, 512, 1, 1, 0, 0, 0 },
		{ 1024, 65535, 64512, 64512, 1468, 32767, 255000, 50, 0, 0 },
		{ 70, 70, 1, 1, 512, 1, 1000, 0, 0, 1 },        /* adaptive, 1 ms floor */
		{ 70, 70, 1, 1, 512, 1, 1000, 0, 0, 255000 },   /* floor above the ceiling: fixed */
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct tftp_tx tx = fx.tx;
		struct tftp_server *s;

		tx.payload_cap = ok[i].max_blksize + TFTP_HEADER_LEN;
		s = tftp_server_create(&ok[i], &tx);
		cr_expect(ne(ptr, (void *)s, NULL), "case %zu: %s", i, strerror(errno));
		tftp_server_destroy(s);
	}
}

/* ---- per-block checksum sums ---------------------------------------------- */

/* The first transfer fills the file's table of block sums; a second transfer of
 * the same file at the same blksize sends every block with a known sum (and
 * rec_send checks each one against the bytes). Netascii copies get none. */
Test(tftp_server, block_sums_are_computed_once_and_reused)
{
	uint8_t *file = pattern(5000, 7); /* 10 blocks of 512, the last short */
	struct cache *cache;
	const struct cache_file *f;
	uint32_t *sums;

	write_file("f", file, 5000);
	start_server(&base_config);
	for (int transfer = 0; transfer < 2; transfer++) {
		uint16_t port;

		rec_clear(&fx.rec);
		fx.rec.summed = 0;
		RRQ(0, "f", "octet");
		port = pkt(0)->src_port;
		for (uint16_t block = 1; block <= 10; block++)
			packet_from(&client, port, TFTP_ACK, block, 0);
		cr_assert(eq(u64, fx.rec.summed, 10), "transfer %d: every DATA carries its sum", transfer);
	}
	cr_assert(eq(int, cache_load(fx.root, 1 << 20, &fx.allocator, &cache, (char[256]){ 0 }, 256), 0));
	f = cache_find(cache, "f");
	sums = cache_file_block_sums(cache, f, 512);
	cr_assert(sums != NULL);
	cr_expect(eq(u32, sums[0], 0), "a fresh cache version starts with an empty table");
	cache_unref(cache);
	free(file);
}

Test(tftp_server, netascii_transfers_send_correct_sums_without_a_table)
{
	write_file("t", "a\nb\rc", 5);
	start_server(&base_config);
	rec_clear(&fx.rec);
	RRQ(0, "t", "netascii");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_expect(eq(u64, fx.rec.summed, 1), "the sum is still given, and checked by rec_send");
}

/* ---- retransmitted requests and port choice ------------------------------ */

/* A client whose OACK or first block is late sends its RRQ again from the same
 * port: the server answers from the session it opened instead of opening a
 * second one that would stream the same file to the same port. */
Test(tftp_server, retransmitted_rrq_is_answered_by_the_session_it_opened)
{
	write_file("f", "0123456789", 10);
	start_server(&base_config);
	RRQ(0, "f", "octet", "tsize", "0");
	cr_assert(eq(u16, be16(pkt(0)->bytes), TFTP_OACK));
	rec_clear(&fx.rec);
	RRQ(100, "f", "octet", "tsize", "0");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_expect(eq(u16, be16(pkt(0)->bytes), TFTP_OACK), "the OACK again");
	cr_expect(eq(u16, pkt(0)->src_port, PORT_LO), "from the same session port");
	cr_expect(eq(u32, tftp_server_active_sessions(fx.srv), 1));
	cr_expect(eq(u64, tftp_server_counters(fx.srv)->duplicate_requests, 1));

	/* Without options the first block is sent again. */
	{
		struct net_endpoint other = client;

		other.port = 3070;
		RRQ_FROM(&other, 0, "f", "octet");
		rec_clear(&fx.rec);
		RRQ_FROM(&other, 200, "f", "octet");
		cr_assert(eq(sz, fx.rec.n, 1));
		expect_data_to(pkt(0), &other, PORT_LO + 1, 1, (const uint8_t *)"0123456789", 10);
		cr_expect(eq(u32, tftp_server_active_sessions(fx.srv), 2));
	}
}

/* Once the transfer has made progress, the same client port asking again is a
 * new transfer (the old one is then the client's business, and times out). */
Test(tftp_server, rrq_after_progress_opens_a_new_session)
{
	uint8_t *file = pattern(600, 3); /* two blocks */

	write_file("f", file, 600);
	free(file);
	start_server(&base_config);
	RRQ(0, "f", "octet", "tsize", "0");
	ack(PORT_LO, 0, 1);
	ack(PORT_LO, 1, 1); /* a data block acknowledged: the transfer is under way */
	rec_clear(&fx.rec);
	RRQ(2, "f", "octet");
	cr_expect(eq(u16, pkt(0)->src_port, PORT_LO + 1));
	cr_expect(eq(u64, tftp_server_counters(fx.srv)->duplicate_requests, 0));
}

/* A copy of the request that the network duplicated or delayed, arriving once
 * the transfer is under way but within its longest retransmission timeout
 * (retransmit_ms, whatever the current one), is ignored:
 * a second session would stream the file again to a port busy with the first,
 * and a client whose socket is connected to the first never answers it, so it
 * ended timed out (seen through a lossy link: loss, duplication, 50 ms jitter). */
Test(tftp_server, late_copy_of_the_request_of_a_transfer_under_way_is_ignored)
{
	uint8_t *file = pattern(4 * 512, 3);

	write_file("f", file, 4 * 512);
	start_server(&base_config); /* fixed 1 s timeout */
	RRQ(1000, "f", "octet", "windowsize", "2");
	ack(PORT_LO, 0, 2000);
	ack(PORT_LO, 2, 3000); /* blocks 1-2 acknowledged, 3-4 on their way */
	rec_clear(&fx.rec);
	RRQ(1000 + 999 * MS, "f", "octet", "windowsize", "2");
	cr_expect(eq(sz, fx.rec.n, 0), "no reply to the copy");
	cr_expect(eq(u32, tftp_server_active_sessions(fx.srv), 1), "no second session");
	cr_expect(eq(u64, counters()->transfers_started, 1));
	cr_expect(eq(u64, counters()->duplicate_requests, 1));
	ack(PORT_LO, 4, 1000 + 999 * MS + 1);
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_data(pkt(0), PORT_LO, 5, NULL, 0);
	ack(PORT_LO, 5, 1000 + 999 * MS + 2);
	cr_expect(eq(u64, counters()->transfers_completed, 1), "the transfer itself goes on to its end");
	free(file);
}

/* The client's own retransmission of its request can cross our first reply
 * when that was lost and resent: it arrives more than retransmit_ms after the
 * transfer opened, just after the resent reply moved it on, and is a copy too
 * (through a lossy link, about one run in ten of 250 transfers opened a second
 * session here, which ended timed out). */
Test(tftp_server, client_retransmission_crossing_the_resent_reply_is_a_copy)
{
	uint8_t *file = pattern(4 * 512, 3);

	write_file("f", file, 4 * 512);
	start_server(&base_config); /* fixed 1 s timeout */
	RRQ(1000, "f", "octet", "windowsize", "2"); /* its OACK is lost */
	tftp_server_tick(fx.srv, 1000 + 1000 * MS);  /* the OACK again */
	ack(PORT_LO, 0, 1000 + 1000 * MS + 1);
	ack(PORT_LO, 2, 1000 + 1000 * MS + 2);
	rec_clear(&fx.rec);
	RRQ(1000 + 1100 * MS, "f", "octet", "windowsize", "2"); /* sent by the client at about 1 s */
	cr_expect(eq(sz, fx.rec.n, 0));
	cr_expect(eq(u32, tftp_server_active_sessions(fx.srv), 1));
	cr_expect(eq(u64, counters()->duplicate_requests, 1));
	free(file);
}

/* The window for copies is the longest timeout, not the current one: here the
 * timeout has come down to its 200 ms floor after two quick round trips, and a
 * copy 500 ms late is still a copy. */
Test(tftp_server, late_copy_is_judged_by_the_longest_timeout_not_the_current_one)
{
	const struct tftp_config cfg = adaptive_config();
	uint8_t *file = pattern(8 * 512, 3);

	write_file("f", file, 8 * 512);
	start_server(&cfg);
	RRQ(1000, "f", "octet", "windowsize", "2");
	ack(PORT_LO, 0, 2000);
	ack(PORT_LO, 2, 3000);
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 3000 + 200 * MS);
	cr_assert(eq(sz, fx.rec.n, 2), "the current timeout is the 200 ms floor");
	rec_clear(&fx.rec);
	RRQ(1000 + 500 * MS, "f", "octet", "windowsize", "2");
	cr_expect(eq(sz, fx.rec.n, 0));
	cr_expect(eq(u32, tftp_server_active_sessions(fx.srv), 1));
	cr_expect(eq(u64, counters()->duplicate_requests, 1));
	free(file);
}

/* The same request from the same port once the transfer has not moved on for
 * retransmit_ms is a new transfer: a client that gave up on a stalled transfer
 * asks again (another request is a new transfer at any time:
 * rrq_after_progress_opens_a_new_session). */
Test(tftp_server, same_request_after_the_timeout_is_a_new_transfer)
{
	uint8_t *file = pattern(4 * 512, 3);

	write_file("f", file, 4 * 512);
	start_server(&base_config);
	RRQ(1000, "f", "octet", "windowsize", "2");
	ack(PORT_LO, 0, 2000);
	ack(PORT_LO, 2, 3000); /* the last progress */
	rec_clear(&fx.rec);
	RRQ(3000 + 1000 * MS, "f", "octet", "windowsize", "2");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_expect(eq(u16, pkt(0)->src_port, PORT_LO + 1), "a second session");
	cr_expect(eq(u64, counters()->duplicate_requests, 0));
	free(file);
}

/* With a seed, session ports are drawn at random from the free ones: all in the
 * range, all different while in use, and not simply in order. */
Test(tftp_server, seeded_server_picks_session_ports_at_random)
{
	struct tftp_config cfg = base_config;
	bool used[PORT_HI - PORT_LO + 1] = { false };
	unsigned in_order = 0;
	uint16_t last = 0;

	cfg.port_seed = 0x9e3779b97f4a7c15ull;
	cfg.max_sessions_per_client = PORT_HI - PORT_LO + 1;
	write_file("f", "data", 4);
	start_server(&cfg);
	for (uint16_t i = 0; i <= PORT_HI - PORT_LO; i++) {
		struct net_endpoint c = client;
		uint16_t port;

		c.port = (uint16_t)(5000 + i);
		rec_clear(&fx.rec);
		RRQ_FROM(&c, 0, "f", "octet");
		port = pkt(0)->src_port;
		cr_assert(ge(u16, port, PORT_LO));
		cr_assert(le(u16, port, PORT_HI));
		cr_assert(not(used[port - PORT_LO]), "port %u handed out twice", port);
		used[port - PORT_LO] = true;
		in_order += i > 0 && port == last + 1;
		last = port;
	}
	cr_expect(lt(u32, in_order, PORT_HI - PORT_LO), "ports came out in order");
}

/* 80 transfers with windows of 64 all time out together: the first tick resends
 * about TFTP_TICK_PACKET_BUDGET packets (it finishes the window it is on), the
 * next tick the rest, and nobody is skipped for good. */
Test(tftp_server, one_tick_resends_at_most_its_budget)
{
	struct tftp_config cfg = base_config;
	uint8_t *file = pattern(64 * 512 + 1, 5);
	const unsigned n = 80;
	size_t first, second;

	cfg.port_lo = 50000;
	cfg.port_hi = 50099;
	cfg.max_sessions = 100;
	cfg.max_sessions_per_client = 100;
	write_file("f", file, 64 * 512 + 1);
	free(file);
	start_server(&cfg);
	for (unsigned i = 0; i < n; i++) {
		struct net_endpoint c = client;

		c.port = (uint16_t)(6000 + i);
		RRQ_FROM(&c, 0, "f", "octet", "windowsize", "64");
		packet_from(&c, (uint16_t)(50000 + i), TFTP_ACK, 0, 0); /* first window out */
	}
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1000 * 1000); /* every session's 1 s deadline */
	first = fx.rec.n;
	cr_expect(ge(sz, first, TFTP_TICK_PACKET_BUDGET));
	cr_expect(lt(sz, first, TFTP_TICK_PACKET_BUDGET + 64), "stopped within one window of the budget");
	rec_clear(&fx.rec);
	tftp_server_tick(fx.srv, 1000 * 1000 + 1000);
	second = fx.rec.n;
	cr_expect(eq(sz, first + second, (size_t)n * 64), "every due window resent over the two ticks");
}

/* ---- surviving a restart: the journal (session_journal.h) ------------------- */

static char journal_path[96];

static struct session_journal *open_journal(void)
{
	struct session_journal *j = NULL;

	snprintf(journal_path, sizeof(journal_path), "%s.journal", fx.root); /* beside the root, not in it */
	cr_assert(eq(int, session_journal_open(journal_path, PORT_LO, PORT_HI, &j), 0));
	return j;
}

/* What a kill -9 leaves: no transfer was ended, the journal stays as it was;
 * a new server starts on a fresh load of the root and the same journal. */
static struct session_journal *crash_and_restart(struct session_journal *old)
{
	struct session_journal *j;

	tftp_server_destroy(fx.srv);
	fx.srv = NULL;
	session_journal_close(old);
	j = open_journal();
	start_server(&base_config);
	tftp_server_set_journal(fx.srv, j);
	rec_clear(&fx.rec);
	return j;
}

/* A 10-block file (512-byte blocks) sent two blocks a window, acknowledged up
 * to block 2 before the crash. */
static struct session_journal *transfer_cut_at_block_2(const uint8_t *file)
{
	struct session_journal *j = open_journal();

	write_file("boot.img", file, 5000);
	start_server(&base_config);
	tftp_server_set_journal(fx.srv, j);
	RRQ(0, "boot.img", "octet", "windowsize", "2");
	ack(PORT_LO, 0, 1000);
	ack(PORT_LO, 2, 2000);
	cr_assert(eq(u64, counters()->data_packets, 4), "blocks 1 to 4 went out");
	return crash_and_restart(j);
}

Test(tftp_server, a_transfer_carries_on_from_the_journal_after_a_crash)
{
	uint8_t *file = pattern(5000, 7);
	struct session_journal *j = transfer_cut_at_block_2(file);

	/* The client got blocks 3 and 4 and says so, to a server that never saw them. */
	ack(PORT_LO, 4, 3000);
	cr_assert(eq(u64, counters()->transfers_resumed, 1));
	cr_assert(eq(sz, fx.rec.n, 2));
	expect_data(pkt(0), PORT_LO, 5, file + 4 * 512, 512);
	expect_data(pkt(1), PORT_LO, 6, file + 5 * 512, 512);
	rec_clear(&fx.rec);
	ack(PORT_LO, 6, 4000);
	ack(PORT_LO, 8, 5000);
	expect_data(pkt(3), PORT_LO, 10, file + 9 * 512, 5000 - 9 * 512);
	ack(PORT_LO, 10, 6000);
	cr_assert(eq(u64, counters()->transfers_completed, 1));
	cr_assert(eq(u32, tftp_server_active_sessions(fx.srv), 0));
	/* Ended: its journal entry is free, a second copy of the last ACK is a stranger's. */
	rec_clear(&fx.rec);
	ack(PORT_LO, 10, 7000);
	cr_assert(eq(u64, counters()->transfers_resumed, 1));
	cr_assert(eq(u64, counters()->unknown_tid, 1));
	session_journal_close(j);
	unlink(journal_path);
	free(file);
}

Test(tftp_server, an_ack_repeated_from_before_the_crash_resends_what_followed_it)
{
	uint8_t *file = pattern(5000, 9);
	struct session_journal *j = transfer_cut_at_block_2(file);

	ack(PORT_LO, 2, 3000); /* blocks 3 and 4 were lost with the old process */
	cr_assert(eq(sz, fx.rec.n, 2));
	expect_data(pkt(0), PORT_LO, 3, file + 2 * 512, 512);
	expect_data(pkt(1), PORT_LO, 4, file + 3 * 512, 512);
	session_journal_close(j);
	unlink(journal_path);
	free(file);
}

Test(tftp_server, no_resumption_for_a_changed_file_or_another_peer)
{
	uint8_t *file = pattern(5000, 7), *other = pattern(5000, 8);
	struct session_journal *j = transfer_cut_at_block_2(file);
	struct net_endpoint stranger = client;

	stranger.port = 2071;
	packet_from(&stranger, PORT_LO, TFTP_ACK, 4, 3000);
	cr_assert(eq(u64, counters()->transfers_resumed, 0), "another port of the same host is not the client");
	cr_assert(eq(u64, counters()->unknown_tid, 1));

	/* The operator replaced the file: the same name and size, other bytes. */
	write_file("boot.img", other, 5000);
	j = crash_and_restart(j);
	rec_clear(&fx.rec);
	ack(PORT_LO, 4, 4000);
	cr_assert(eq(u64, counters()->transfers_resumed, 0));
	cr_assert(eq(u64, counters()->resumes_refused, 1));
	cr_assert(eq(sz, fx.rec.n, 1));
	expect_error(pkt(0), PORT_LO, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	session_journal_close(j);
	unlink(journal_path);
	free(file);
	free(other);
}

Test(tftp_server, new_requests_pass_over_ports_a_crashed_transfer_may_come_back_to)
{
	uint8_t *file = pattern(5000, 7);
	struct session_journal *j = transfer_cut_at_block_2(file);
	struct net_endpoint other = client;

	other.ip = 0x6500010a; /* 10.1.0.101 */
	RRQ_FROM(&other, 3000, "boot.img", "octet");
	cr_assert(eq(sz, fx.rec.n, 1));
	cr_assert(eq(u16, pkt(0)->src_port, PORT_LO + 1), "PORT_LO is held for the journaled transfer");
	session_journal_close(j);
	unlink(journal_path);
	free(file);
}
