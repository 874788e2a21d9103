/* SPDX-License-Identifier: BSD-2-Clause */
#include "tftp_client.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { OP_RRQ = 1, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };

static bool parse_number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || !isdigit((unsigned char)*s))
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool tftp_request_init(struct tftp_request *req)
{
	unsigned char *p = req->rrq, *end = req->rrq + sizeof(req->rrq);
	char blksize[16], windowsize[16];
	const char *parts[10];
	size_t n = 0, len = req->file ? strlen(req->file) : 0;

	if (len == 0 || len > 255)
		return false;
	snprintf(blksize, sizeof(blksize), "%u", req->blksize);
	snprintf(windowsize, sizeof(windowsize), "%u", req->windowsize);
	parts[n++] = req->file;
	parts[n++] = "octet";
	parts[n++] = "blksize";
	parts[n++] = blksize;
	parts[n++] = "tsize";
	parts[n++] = "0";
	if (req->windowsize > 1) {
		parts[n++] = "windowsize";
		parts[n++] = windowsize;
	}
	*p++ = 0;
	*p++ = OP_RRQ;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]) + 1;

		if ((size_t)(end - p) < l)
			return false;
		memcpy(p, parts[i], l);
		p += l;
	}
	req->rrq_len = (size_t)(p - req->rrq);
	return true;
}

static bool wants_digest(const struct tftp_request *req)
{
	return req->have_sha || req->digest;
}

bool tftp_xfer_init(struct tftp_xfer *x, const struct tftp_request *req, tftp_send_fn send, void *ctx)
{
	EVP_MD_CTX *md = x->md;

	memset(x, 0, sizeof(*x));
	x->req = req;
	x->send = send;
	x->ctx = ctx;
	x->blksize = req->blksize;
	x->windowsize = req->windowsize;
	x->md = md; /* kept for the next transfer, freed by tftp_xfer_release */
	if (!wants_digest(req))
		return true;
	x->md = md ? md : EVP_MD_CTX_new();
	return x->md && EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) == 1;
}

void tftp_xfer_release(struct tftp_xfer *x)
{
	EVP_MD_CTX_free(x->md);
	x->md = NULL;
}

void tftp_xfer_fail(struct tftp_xfer *x, uint64_t now_ns, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
	va_end(ap);
	x->state = TFTP_XFER_FAILED;
	x->t_end_ns = now_ns;
}

static void send_ack(struct tftp_xfer *x, uint16_t block)
{
	unsigned char p[4] = { 0, OP_ACK, (unsigned char)(block >> 8), (unsigned char)block };

	x->send(x->ctx, x, p, 4, x->peer_port);
	x->last_acked = block;
	x->acked_any = true;
	x->since_ack = 0;
}

static void send_error(struct tftp_xfer *x, uint16_t port, uint16_t code, const char *msg)
{
	unsigned char p[64];
	size_t ml = strlen(msg);

	if (ml > sizeof(p) - 5)
		ml = sizeof(p) - 5;
	p[0] = 0;
	p[1] = OP_ERROR;
	p[2] = (unsigned char)(code >> 8);
	p[3] = (unsigned char)code;
	memcpy(p + 4, msg, ml);
	p[4 + ml] = 0;
	x->send(x->ctx, x, p, 5 + ml, port);
}

void tftp_xfer_start(struct tftp_xfer *x, uint16_t port, uint64_t now_ns)
{
	x->t_start_ns = now_ns;
	x->t_progress_ns = now_ns;
	x->send(x->ctx, x, x->req->rrq, x->req->rrq_len, port);
}

/* The last block arrived: size and hash checks. */
static void complete(struct tftp_xfer *x, uint64_t t)
{
	const struct tftp_request *req = x->req;

	if (x->have_tsize && x->bytes != x->tsize) {
		tftp_xfer_fail(x, t, "size mismatch vs tsize (got %" PRIu64 ", tsize %" PRIu64 ")", x->bytes,
			       x->tsize);
		return;
	}
	if (req->have_expect && x->bytes != req->expect_size) {
		tftp_xfer_fail(x, t, "size mismatch (got %" PRIu64 ", expected %" PRIu64 ")", x->bytes,
			       req->expect_size);
		return;
	}
	if (wants_digest(req)) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;

		if (EVP_DigestFinal_ex(x->md, d, &dl) != 1 || dl != 32) {
			tftp_xfer_fail(x, t, "sha256 failed");
			return;
		}
		memcpy(x->sha256, d, 32);
		x->have_sha256 = true;
		if (req->have_sha && memcmp(d, req->sha, 32) != 0) {
			tftp_xfer_fail(x, t, "sha256 mismatch");
			return;
		}
	}
	x->state = TFTP_XFER_DONE;
	x->t_end_ns = t;
}

/* An OACK; false (with why set) if it is unacceptable. */
static bool parse_oack(struct tftp_xfer *x, const unsigned char *p, size_t len, char *why, size_t whylen)
{
	uint32_t bs = 512, ws = 1;
	bool have_tsize = false;
	uint64_t tsize = 0;
	size_t i = 2;

	while (i < len) {
		const char *name = (const char *)p + i, *val;
		const unsigned char *z = memchr(p + i, 0, len - i);
		uint64_t v;

		if (!z || (i = (size_t)(z - p) + 1) >= len)
			goto malformed;
		val = (const char *)p + i;
		z = memchr(p + i, 0, len - i);
		if (!z)
			goto malformed;
		i = (size_t)(z - p) + 1;
		if (strcasecmp(name, "blksize") == 0) {
			if (!parse_number(val, 8, x->req->blksize, &v)) {
				snprintf(why, whylen, "bad OACK blksize");
				return false;
			}
			bs = (uint32_t)v;
		} else if (strcasecmp(name, "windowsize") == 0) {
			if (!parse_number(val, 1, x->req->windowsize > 1 ? x->req->windowsize : 1, &v)) {
				snprintf(why, whylen, "bad OACK windowsize");
				return false;
			}
			ws = (uint32_t)v;
		} else if (strcasecmp(name, "tsize") == 0) {
			if (!parse_number(val, 0, UINT64_MAX, &v)) {
				snprintf(why, whylen, "bad OACK tsize");
				return false;
			}
			have_tsize = true;
			tsize = v;
		}
	}
	x->blksize = bs;
	x->windowsize = ws;
	x->have_tsize = have_tsize;
	x->tsize = tsize;
	return true;
malformed:
	snprintf(why, whylen, "malformed OACK");
	return false;
}

static void handle_data(struct tftp_xfer *x, const unsigned char *p, size_t len, uint64_t t)
{
	const struct tftp_request *req = x->req;
	uint16_t blk = (uint16_t)((p[2] << 8) | p[3]);
	uint16_t expected = (uint16_t)(x->blocks + 1);
	size_t plen = len - 4;

	if (blk == expected) {
		if (plen > x->blksize) {
			send_error(x, x->peer_port, 4, "block too large");
			tftp_xfer_fail(x, t, "data block larger than blksize");
			return;
		}
		x->blocks++;
		x->bytes += plen;
		if (wants_digest(req) && plen)
			EVP_DigestUpdate(x->md, p + 4, plen);
		if (req->verify &&
		    (x->bytes > req->verify_size || memcmp(p + 4, req->verify + x->bytes - plen, plen) != 0)) {
			send_error(x, x->peer_port, 0, "content mismatch");
			tftp_xfer_fail(x, t, "content differs from the expected file at block %" PRIu64, x->blocks);
			return;
		}
		x->since_ack++;
		x->gap_acked = false;
		x->retries = 0;
		x->t_progress_ns = t;
		if (plen < x->blksize) {
			send_ack(x, blk);
			complete(x, t);
		} else if (x->since_ack >= x->windowsize) {
			send_ack(x, blk);
		}
		return;
	}
	if ((uint16_t)(blk - expected) < 0x8000) {
		/* A gap: ACK the last in-order block, once per gap. */
		if (!x->gap_acked) {
			send_ack(x, (uint16_t)x->blocks);
			x->gap_acked = true;
		}
		return;
	}
	/* An old block: re-ACK it if it is the one we last ACKed (our ACK was lost). */
	if (x->acked_any && blk == x->last_acked)
		send_ack(x, blk);
}

static void handle_error(struct tftp_xfer *x, const unsigned char *p, size_t len, uint64_t t)
{
	char msg[100];
	size_t ml = len - 4;

	if (ml > sizeof(msg) - 1)
		ml = sizeof(msg) - 1;
	memcpy(msg, p + 4, ml);
	msg[ml] = 0;
	for (size_t i = 0; i < ml && msg[i]; i++)
		if (!isprint((unsigned char)msg[i]))
			msg[i] = '?';
	tftp_xfer_fail(x, t, "error %u: %s", (unsigned)((p[2] << 8) | p[3]), msg);
}

void tftp_xfer_input(struct tftp_xfer *x, const unsigned char *p, size_t len, uint16_t from_port,
		     uint64_t now_ns)
{
	uint16_t op;

	if (len < 4 || x->state == TFTP_XFER_FAILED)
		return;
	op = (uint16_t)((p[0] << 8) | p[1]);
	if (x->state == TFTP_XFER_DONE) {
		/* Dallying: re-ACK a retransmitted last block. */
		if (op == OP_DATA && from_port == x->peer_port && (uint16_t)((p[2] << 8) | p[3]) == (uint16_t)x->blocks)
			send_ack(x, (uint16_t)x->blocks);
		return;
	}
	if (x->locked && from_port != x->peer_port) {
		if (op != OP_ERROR)
			send_error(x, from_port, 5, "Unknown transfer ID");
		return;
	}
	switch (op) {
	case OP_ERROR:
		handle_error(x, p, len, now_ns);
		return;
	case OP_OACK: {
		char why[64];

		if (x->locked) {
			/* A retransmitted OACK: our ACK 0 was lost. */
			if (x->blocks == 0)
				send_ack(x, 0);
			return;
		}
		x->locked = true;
		x->peer_port = from_port;
		if (!parse_oack(x, p, len, why, sizeof(why))) {
			send_error(x, x->peer_port, 8, "option negotiation failed");
			tftp_xfer_fail(x, now_ns, "%s", why);
			return;
		}
		x->oack = true;
		x->retries = 0;
		x->t_progress_ns = now_ns;
		send_ack(x, 0);
		return;
	}
	case OP_DATA:
		if (!x->locked) {
			if ((uint16_t)((p[2] << 8) | p[3]) != 1)
				return;
			/* The server ignored our options: RFC 1350 defaults. */
			x->locked = true;
			x->peer_port = from_port;
			x->blksize = 512;
			x->windowsize = 1;
			x->have_tsize = false;
		}
		handle_data(x, p, len, now_ns);
		return;
	default:
		return; /* ACK, RRQ, WRQ, unknown: not for a reader */
	}
}

bool tftp_xfer_timer(struct tftp_xfer *x, uint64_t now_ns, uint64_t timeout_ns, uint32_t max_retries,
		     uint16_t rrq_port)
{
	/* A fixed short interval starves servers that restart their own
	 * retransmission timer on every duplicate, hence T, 2T, then 4T. */
	uint32_t shift = x->retries < 2 ? x->retries : 2;

	if (x->state != TFTP_XFER_ACTIVE || now_ns - x->t_progress_ns < (timeout_ns << shift))
		return false;
	if (x->retries >= max_retries) {
		tftp_xfer_fail(x, now_ns, "timeout");
		return true;
	}
	x->retries++;
	x->t_progress_ns = now_ns;
	/* Re-ACK the last in-order block (RFC 7440 §4), or resend the RRQ. */
	if (x->locked)
		send_ack(x, (uint16_t)x->blocks);
	else
		x->send(x->ctx, x, x->req->rrq, x->req->rrq_len, rrq_port);
	return false;
}
