/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TFTP wire format (dataplane/tftp_packet.c) and client file names
 * (cache_normalize_name): any bytes as a datagram to port 69 or a session port.
 *
 * Invariants beyond "no crash, no read outside the datagram":
 * - a parsed request's file name, mode and options are NUL-terminated strings
 *   inside the datagram, at most TFTP_MAX_OPTIONS of them;
 * - negotiation, under the limits of MTU 1500, 576 and the largest, grants
 *   only values inside RFC 2348/2349/7440's ranges and the server's limits;
 * - the OACK built from it reads back as exactly the options granted;
 * - a normalised name has no "..", "." or empty component, no backslash and
 *   no control character: nothing that could leave the TFTP root;
 * - an ERROR packet always fits its buffer and ends with a NUL.
 * Seeds: RRQs as the firmware of the captures and the usual clients send
 * them (options blksize, tsize, timeout, windowsize), ACKs, ERRORs.
 */
#include "fuzz.h"

#include <errno.h>

#include "cache.h"
#include "tftp_packet.h"
#include "tftp_server.h" /* TFTP_SERVER_WINDOWSIZE_LIMIT */

static bool inside_string(const char *s, const uint8_t *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	return p >= buf && p < buf + len && memchr(p, 0, (size_t)(buf + len - p)) != NULL;
}

/* The OACK read back: "name\0value\0" pairs after the opcode. */
static void check_oack(const uint8_t *oack, size_t len, const struct tftp_params *p, uint64_t tsize)
{
	struct tftp_params seen = { 0 };
	size_t pos = 2;

	FUZZ_CHECK(len >= 2 && oack[0] == 0 && oack[1] == TFTP_OACK, "not an OACK");
	while (pos < len) {
		const char *name = (const char *)oack + pos, *value;
		uint64_t v;

		FUZZ_CHECK(memchr(name, 0, len - pos), "OACK option name not terminated");
		pos += strlen(name) + 1;
		FUZZ_CHECK(pos < len, "OACK option %s without a value", name);
		value = (const char *)oack + pos;
		FUZZ_CHECK(memchr(value, 0, len - pos), "OACK value of %s not terminated", name);
		pos += strlen(value) + 1;
		FUZZ_CHECK(tftp_parse_decimal(value, &v) == 0, "OACK %s=%s is not a number", name, value);
		if (!strcmp(name, "blksize")) {
			FUZZ_CHECK(!seen.has_blksize && v == p->blksize, "OACK blksize %s", value);
			seen.has_blksize = true;
		} else if (!strcmp(name, "tsize")) {
			FUZZ_CHECK(!seen.has_tsize && v == tsize, "OACK tsize %s", value);
			seen.has_tsize = true;
		} else if (!strcmp(name, "timeout")) {
			FUZZ_CHECK(!seen.has_timeout && v == p->timeout_s, "OACK timeout %s", value);
			seen.has_timeout = true;
		} else if (!strcmp(name, "windowsize")) {
			FUZZ_CHECK(!seen.has_windowsize && v == p->windowsize, "OACK windowsize %s", value);
			seen.has_windowsize = true;
		} else {
			FUZZ_CHECK(false, "OACK carries an option nobody asked for: %s", name);
		}
	}
	FUZZ_CHECK(seen.has_blksize == p->has_blksize && seen.has_tsize == p->has_tsize &&
			   seen.has_timeout == p->has_timeout && seen.has_windowsize == p->has_windowsize,
		   "OACK options differ from those granted");
}

static void check_name(const char *raw, size_t len)
{
	char out[CACHE_NAME_MAX + 1];
	enum cache_name_status st = cache_normalize_name(raw, len, out);
	size_t n;

	if (st != CACHE_NAME_OK)
		return;
	n = strlen(out);
	FUZZ_CHECK(n > 0 && n <= CACHE_NAME_MAX, "normalised name of %zu bytes", n);
	FUZZ_CHECK(out[0] != '/' && out[n - 1] != '/' && !strstr(out, "//") && !strchr(out, '\\'),
		   "normalised name \"%s\" has an empty component or a backslash", out);
	FUZZ_CHECK(strcmp(out, "..") && strncmp(out, "../", 3) && !strstr(out, "/../") &&
			   (n < 3 || strcmp(out + n - 3, "/..")),
		   "normalised name \"%s\" climbs out of the root", out);
	FUZZ_CHECK(strcmp(out, ".") && strncmp(out, "./", 2) && !strstr(out, "/./") &&
			   (n < 2 || strcmp(out + n - 2, "/.")),
		   "normalised name \"%s\" keeps a \".\" component", out);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "control character in \"%s\"", out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tftp_limits limits[] = {
		{ 1468, 64 },                                      /* MTU 1500, the default window */
		{ 512, 1 },                                        /* MTU 576: lock-step */
		{ TFTP_BLKSIZE_MAX, TFTP_SERVER_WINDOWSIZE_LIMIT }, /* the largest a server may grant */
	};
	static uint8_t buf[1500];
	struct tftp_request req;
	enum tftp_opcode opcode;
	const char *why = NULL;
	uint16_t number;
	int r;

	if (tftp_parse_header(data, size, &opcode, &number) < 0)
		FUZZ_CHECK(size < TFTP_HEADER_LEN, "a header of %zu bytes refused", size);
	r = tftp_parse_request(data, size, &req, &why);
	if (r < 0) {
		FUZZ_CHECK(r == -EBADMSG || r == -EPROTONOSUPPORT || r == -E2BIG, "error %d", r);
		FUZZ_CHECK(why != NULL, "refused without a reason");
		FUZZ_CHECK(tftp_build_error(buf, sizeof(buf), TFTP_ERR_ILLEGAL_OP, why) <= sizeof(buf), "error length");
		return 0;
	}
	FUZZ_CHECK(req.opcode == TFTP_RRQ || req.opcode == TFTP_WRQ, "opcode %d", req.opcode);
	FUZZ_CHECK(inside_string(req.filename, data, size) && strlen(req.filename) == req.filename_len &&
			   req.filename_len > 0,
		   "file name outside the datagram or of the wrong length");
	FUZZ_CHECK(req.n_options <= TFTP_MAX_OPTIONS, "%u options", req.n_options);
	for (unsigned i = 0; i < req.n_options; i++)
		FUZZ_CHECK(inside_string(req.options[i].name, data, size) && inside_string(req.options[i].value, data, size),
			   "option %u outside the datagram", i);
	check_name(req.filename, req.filename_len);

	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		struct tftp_params p;
		uint64_t tsize = size * 1000003ull; /* any size; the input's own length keeps it reproducible */
		size_t n;

		why = NULL;
		if (tftp_negotiate(&req, &limits[l], &p, &why) < 0) {
			FUZZ_CHECK(why != NULL, "option refused without a reason");
			continue;
		}
		FUZZ_CHECK(p.blksize >= TFTP_BLKSIZE_MIN && p.blksize <= limits[l].max_blksize, "blksize %u", p.blksize);
		FUZZ_CHECK(p.windowsize >= 1 && p.windowsize <= limits[l].max_windowsize, "windowsize %u", p.windowsize);
		FUZZ_CHECK(!p.has_timeout || (p.timeout_s >= TFTP_TIMEOUT_MIN && p.timeout_s <= TFTP_TIMEOUT_MAX),
			   "timeout %u", p.timeout_s);
		FUZZ_CHECK(p.has_blksize || p.blksize == TFTP_BLKSIZE_DEFAULT, "blksize %u not asked for", p.blksize);
		FUZZ_CHECK(p.has_windowsize || p.windowsize == 1, "windowsize %u not asked for", p.windowsize);
		n = tftp_build_oack(buf, sizeof(buf), &p, tsize);
		FUZZ_CHECK(n > 0 && n <= sizeof(buf), "OACK of %zu bytes", n);
		check_oack(buf, n, &p, tsize);
	}
	return 0;
}
