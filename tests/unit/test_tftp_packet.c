/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TFTP wire format: request parsing (RFC 1350, RFC 2347), option negotiation
 * (RFC 2348 blksize, RFC 2349 timeout/tsize, RFC 7440 windowsize) and the OACK,
 * ERROR and DATA builders. Requests are built from string lists exactly as a
 * client lays them out: opcode, then NUL-terminated strings.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tftp_packet.h"
#include "support.h"

#define MAX_PACKET 1024

/* opcode, then each string with its NUL; the list ends with NULL. */
static size_t build_request(uint8_t *buf, uint16_t opcode, ...)
{
	size_t pos = 2;
	const char *s;
	va_list ap;

	buf[0] = (uint8_t)(opcode >> 8);
	buf[1] = (uint8_t)opcode;
	va_start(ap, opcode);
	while ((s = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(s) + 1;

		cr_assert(pos + n <= MAX_PACKET);
		memcpy(buf + pos, s, n);
		pos += n;
	}
	va_end(ap);
	return pos;
}

#define REQ(buf, opcode, ...) build_request(buf, opcode, __VA_ARGS__, (const char *)NULL)

static int parse(const uint8_t *buf, size_t len, struct tftp_request *req, const char **why)
{
	*why = NULL;
	return tftp_parse_request(buf, len, req, why);
}

/* ---- tftp_parse_request ---------------------------------------------------- */

Test(tftp_parse_request, rrq_octet_gives_name_mode_and_no_options)
{
	uint8_t buf[MAX_PACKET];
	size_t len = REQ(buf, TFTP_RRQ, "pxelinux.0", "octet");
	struct tftp_request req;
	const char *why;

	cr_assert(eq(sz, len, 2 + 11 + 6));
	cr_assert(eq(int, parse(buf, len, &req, &why), 0));
	cr_assert(eq(int, req.opcode, TFTP_RRQ));
	cr_assert(eq(ptr, (void *)req.filename, (void *)(buf + 2)), "the name points into the packet");
	cr_assert(eq(sz, req.filename_len, 10));
	cr_assert(eq(str, (char *)req.filename, "pxelinux.0"));
	cr_assert(eq(int, req.mode, TFTP_MODE_OCTET));
	cr_assert(eq(u32, req.n_options, 0));
}

Test(tftp_parse_request, wrq_is_parsed_with_its_opcode)
{
	uint8_t buf[MAX_PACKET];
	size_t len = REQ(buf, TFTP_WRQ, "upload.bin", "octet");
	struct tftp_request req;
	const char *why;

	cr_assert(eq(int, parse(buf, len, &req, &why), 0));
	cr_assert(eq(int, req.opcode, TFTP_WRQ));
}

Test(tftp_parse_request, modes_are_case_insensitive)
{
	static const struct {
		const char *mode;
		enum tftp_mode want;
	} cases[] = {
		{ "octet", TFTP_MODE_OCTET },       { "OCTET", TFTP_MODE_OCTET },
		{ "Octet", TFTP_MODE_OCTET },       { "netascii", TFTP_MODE_NETASCII },
		{ "NETASCII", TFTP_MODE_NETASCII }, { "NetAscii", TFTP_MODE_NETASCII },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[MAX_PACKET];
		size_t len = REQ(buf, TFTP_RRQ, "f", cases[i].mode);
		struct tftp_request req;
		const char *why;

		cr_expect(eq(int, parse(buf, len, &req, &why), 0), "mode %s", cases[i].mode);
		cr_expect(eq(int, req.mode, cases[i].want), "mode %s", cases[i].mode);
	}
}

Test(tftp_parse_request, mail_and_unknown_modes_are_eprotonosupport)
{
	static const char *const modes[] = { "mail", "MAIL", "binary", "octets", "", "octet " };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		uint8_t buf[MAX_PACKET];
		size_t len = REQ(buf, TFTP_RRQ, "f", modes[i]);
		struct tftp_request req;
		const char *why;

		cr_expect(eq(int, parse(buf, len, &req, &why), -EPROTONOSUPPORT), "mode \"%s\"", modes[i]);
		cr_expect(eq(str, (char *)why, "unsupported transfer mode (use octet or netascii)"));
	}
}

/* Malformed requests: the bytes, and the exact message for the ERROR packet. */
struct malformed_case {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	int want;
	const char *why;
};

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct malformed_case malformed[] = {
	{ "empty datagram", (const uint8_t *)"", 0, -EBADMSG, "malformed request: truncated" },
	{ "one byte", BYTES(0x00), -EBADMSG, "malformed request: truncated" },
	{ "opcode only", BYTES(0x00, 0x01), -EBADMSG, "malformed request: file name not terminated" },
	{ "file name not terminated", BYTES(0x00, 0x01, 'a', 'b'), -EBADMSG,
	  "malformed request: file name not terminated" },
	{ "empty file name", BYTES(0x00, 0x01, 0x00, 'o', 'c', 't', 'e', 't', 0x00), -EBADMSG,
	  "malformed request: empty file name" },
	{ "no mode", BYTES(0x00, 0x01, 'f', 0x00), -EBADMSG, "malformed request: mode not terminated" },
	{ "mode not terminated", BYTES(0x00, 0x01, 'f', 0x00, 'o', 'c', 't'), -EBADMSG,
	  "malformed request: mode not terminated" },
	{ "option name not terminated", BYTES(0x00, 0x01, 'f', 0x00, 'o', 'c', 't', 'e', 't', 0x00, 'b', 'l'),
	  -EBADMSG, "malformed request: option name not terminated" },
	{ "option without a value", BYTES(0x00, 0x01, 'f', 0x00, 'o', 'c', 't', 'e', 't', 0x00, 't', 's', 'i',
					  'z', 'e', 0x00),
	  -EBADMSG, "malformed request: option without a value" },
	{ "option value not terminated", BYTES(0x00, 0x01, 'f', 0x00, 'o', 'c', 't', 'e', 't', 0x00, 't', 's',
					       'i', 'z', 'e', 0x00, '0'),
	  -EBADMSG, "malformed request: option without a value" },
	{ "DATA opcode", BYTES(0x00, 0x03, 'f', 0x00, 'o', 'c', 't', 'e', 't', 0x00), -EBADMSG, "not a request" },
	{ "opcode 0", BYTES(0x00, 0x00, 'f', 0x00, 'o', 'c', 't', 'e', 't', 0x00), -EBADMSG, "not a request" },
	{ "opcode 0x0101", BYTES(0x01, 0x01, 'f', 0x00, 'o', 'c', 't', 'e', 't', 0x00), -EBADMSG,
	  "not a request" },
};

Test(tftp_parse_request, malformed_requests_are_ebadmsg_with_exact_reason)
{
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const struct malformed_case *c = &malformed[i];
		struct tftp_request req;
		const char *why;

		cr_expect(eq(int, parse(c->bytes, c->len, &req, &why), c->want), "case: %s", c->what);
		cr_expect(eq(str, (char *)(why ? why : "(null)"), (char *)c->why), "case: %s", c->what);
	}
}

Test(tftp_parse_request, option_pairs_are_collected_in_order)
{
	uint8_t buf[MAX_PACKET];
	size_t len = REQ(buf, TFTP_RRQ, "f", "octet", "blksize", "1468", "tsize", "0", "windowsize", "16");
	struct tftp_request req;
	const char *why;

	cr_assert(eq(int, parse(buf, len, &req, &why), 0));
	cr_assert(eq(u32, req.n_options, 3));
	cr_assert(eq(str, (char *)req.options[0].name, "blksize"));
	cr_assert(eq(str, (char *)req.options[0].value, "1468"));
	cr_assert(eq(str, (char *)req.options[1].name, "tsize"));
	cr_assert(eq(str, (char *)req.options[1].value, "0"));
	cr_assert(eq(str, (char *)req.options[2].name, "windowsize"));
	cr_assert(eq(str, (char *)req.options[2].value, "16"));
	cr_assert(eq(ptr, (void *)req.options[0].name, (void *)(buf + 2 + 2 + 6)));
}

Test(tftp_parse_request, one_trailing_nul_pad_is_accepted)
{
	uint8_t buf[MAX_PACKET];
	size_t len = REQ(buf, TFTP_RRQ, "f", "octet");
	struct tftp_request req;
	const char *why;

	buf[len++] = 0;
	cr_assert(eq(int, parse(buf, len, &req, &why), 0));
	cr_assert(eq(u32, req.n_options, 0));

	len = REQ(buf, TFTP_RRQ, "f", "octet", "blksize", "1024");
	buf[len++] = 0;
	cr_assert(eq(int, parse(buf, len, &req, &why), 0));
	cr_assert(eq(u32, req.n_options, 1));
	cr_assert(eq(str, (char *)req.options[0].value, "1024"));
}

static size_t request_with_options(uint8_t *buf, unsigned n)
{
	size_t len = REQ(buf, TFTP_RRQ, "f", "octet");

	for (unsigned i = 0; i < n; i++) {
		len += (size_t)sprintf((char *)buf + len, "opt%02u", i) + 1; /* unknown names: ignored */
		len += (size_t)sprintf((char *)buf + len, "%u", i) + 1;
	}
	return len;
}

Test(tftp_parse_request, sixteen_options_are_accepted)
{
	uint8_t buf[MAX_PACKET];
	size_t len = request_with_options(buf, TFTP_MAX_OPTIONS);
	struct tftp_request req;
	const char *why;

	cr_assert(eq(int, TFTP_MAX_OPTIONS, 16));
	cr_assert(eq(int, parse(buf, len, &req, &why), 0));
	cr_assert(eq(u32, req.n_options, 16));
	cr_assert(eq(str, (char *)req.options[15].name, "opt15"));
	cr_assert(eq(str, (char *)req.options[15].value, "15"));
}

Test(tftp_parse_request, seventeen_options_are_e2big)
{
	uint8_t buf[MAX_PACKET];
	size_t len = request_with_options(buf, TFTP_MAX_OPTIONS + 1);
	struct tftp_request req;
	const char *why;

	cr_assert(eq(int, parse(buf, len, &req, &why), -E2BIG));
	cr_assert(eq(str, (char *)why, "too many options"));
}

/* Every prefix of a full request, ending at a PROT_NONE page: no over-read, and
 * only a prefix that ends on a string boundary after the mode may parse. */
Test(tftp_parse_request, every_truncation_is_safe)
{
	uint8_t full[MAX_PACKET];
	size_t full_len = REQ(full, TFTP_RRQ, "boot/x.efi", "octet", "blksize", "1468", "tsize", "0");
	struct guard g;

	guard_open(&g);
	for (size_t len = 0; len <= full_len; len++) {
		uint8_t *p = guard_tail(&g, full, len);
		struct tftp_request req;
		const char *why;
		int r;

		r = parse(p, len, &req, &why);
		/* Complete at: after the mode (19), after each option pair (32, 40). */
		if (len == 19 || len == 32 || len == full_len)
			cr_expect(eq(int, r, 0), "len %zu", len);
		else
			cr_expect(eq(int, r, -EBADMSG), "len %zu", len);
	}
	guard_close(&g);
}

/* ---- tftp_negotiate ------------------------------------------------------ */

static const struct tftp_limits default_limits = { .max_blksize = 1468, .max_windowsize = 64 };

/* Negotiates the options given as name, value, name, value, ..., NULL. */
static int negotiate_with(const struct tftp_limits *limits, struct tftp_params *p, const char **why, ...)
{
	static uint8_t buf[MAX_PACKET];
	size_t len = REQ(buf, TFTP_RRQ, "f", "octet");
	struct tftp_request req;
	const char *s;
	va_list ap;

	va_start(ap, why);
	while ((s = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(s) + 1;

		memcpy(buf + len, s, n);
		len += n;
	}
	va_end(ap);
	cr_assert(eq(int, tftp_parse_request(buf, len, &req, why), 0));
	*why = NULL;
	return tftp_negotiate(&req, limits, p, why);
}

#define NEGOTIATE(limits, p, why, ...) negotiate_with(limits, p, why, __VA_ARGS__, (const char *)NULL)

Test(tftp_negotiate, no_options_gives_rfc1350_defaults_and_no_oack)
{
	struct tftp_params p;
	const char *why;

	memset(&p, 0xff, sizeof(p));
	cr_assert(eq(int, negotiate_with(&default_limits, &p, &why, (const char *)NULL), 0));
	cr_assert(eq(u16, p.blksize, 512));
	cr_assert(eq(u16, p.windowsize, 1));
	cr_assert(eq(u8, p.timeout_s, 0));
	cr_assert(not(p.has_blksize || p.has_tsize || p.has_timeout || p.has_windowsize));
	cr_assert(not(tftp_params_need_oack(&p)));
}

/* One option value per row; limits are default_limits unless max_* is set. */
struct option_case {
	const char *name, *value;
	uint16_t max_blksize, max_windowsize; /* 0: default_limits */
	int want;                            /* 0 or -EINVAL */
	uint64_t granted;                    /* blksize / windowsize / timeout when want == 0 */
	const char *why;                     /* when want < 0 */
};

#define BLK_WHY "blksize must be a number from 8 to 65464"
#define TMO_WHY "timeout must be a number of seconds from 1 to 255"
#define WIN_WHY "windowsize must be a number from 1 to 65535"

static const struct option_case option_cases[] = {
	/* RFC 2348: 8..65464; more than the link carries is lowered to max_blksize. */
	{ "blksize", "7", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "0", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "8", 0, 0, 0, 8, NULL },
	{ "blksize", "512", 0, 0, 0, 512, NULL },
	{ "blksize", "1468", 0, 0, 0, 1468, NULL },
	{ "blksize", "1469", 0, 0, 0, 1468, NULL },
	{ "blksize", "65464", 0, 0, 0, 1468, NULL },
	{ "blksize", "65464", 65464, 0, 0, 65464, NULL },
	{ "blksize", "8952", 8972, 0, 0, 8952, NULL },
	{ "blksize", "99999999999999999999999", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "abc", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "-512", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "+512", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", " 512", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "512 ", 0, 0, -EINVAL, 0, BLK_WHY },
	{ "blksize", "0x200", 0, 0, -EINVAL, 0, BLK_WHY },
	/* RFC 2349: 1..255 seconds, echoed exactly. */
	{ "timeout", "0", 0, 0, -EINVAL, 0, TMO_WHY },
	{ "timeout", "1", 0, 0, 0, 1, NULL },
	{ "timeout", "255", 0, 0, 0, 255, NULL },
	{ "timeout", "256", 0, 0, -EINVAL, 0, TMO_WHY },
	{ "timeout", "18446744073709551617", 0, 0, -EINVAL, 0, TMO_WHY },
	{ "timeout", "1s", 0, 0, -EINVAL, 0, TMO_WHY },
	{ "timeout", "", 0, 0, -EINVAL, 0, TMO_WHY },
	/* RFC 7440: 1..65535 blocks, lowered to the server's max_windowsize. */
	{ "windowsize", "0", 0, 0, -EINVAL, 0, WIN_WHY },
	{ "windowsize", "1", 0, 0, 0, 1, NULL },
	{ "windowsize", "64", 0, 0, 0, 64, NULL },
	{ "windowsize", "65", 0, 0, 0, 64, NULL },
	{ "windowsize", "65535", 0, 0, 0, 64, NULL },
	{ "windowsize", "65535", 0, 32767, 0, 32767, NULL },
	{ "windowsize", "65536", 0, 0, -EINVAL, 0, WIN_WHY },
	{ "windowsize", "x", 0, 0, -EINVAL, 0, WIN_WHY },
	{ "windowsize", "", 0, 0, -EINVAL, 0, WIN_WHY },
	/* RFC 2349: tsize is any number (0 in a read request). */
	{ "tsize", "0", 0, 0, 0, 0, NULL },
	{ "tsize", "123456789", 0, 0, 0, 0, NULL },
	{ "tsize", "18446744073709551615", 0, 0, 0, 0, NULL },
	{ "tsize", "18446744073709551616", 0, 0, -EINVAL, 0, "tsize must be a number" },
	{ "tsize", "", 0, 0, -EINVAL, 0, "tsize must be a number" },
	{ "tsize", "zero", 0, 0, -EINVAL, 0, "tsize must be a number" },
};

static uint64_t granted_value(const char *name, const struct tftp_params *p)
{
	if (strcmp(name, "blksize") == 0)
		return p->has_blksize ? p->blksize : 0;
	if (strcmp(name, "timeout") == 0)
		return p->has_timeout ? p->timeout_s : 0;
	if (strcmp(name, "windowsize") == 0)
		return p->has_windowsize ? p->windowsize : 0;
	return 0;
}

Test(tftp_negotiate, every_option_at_and_beyond_its_limits)
{
	for (size_t i = 0; i < sizeof(option_cases) / sizeof(option_cases[0]); i++) {
		const struct option_case *c = &option_cases[i];
		struct tftp_limits limits = default_limits;
		struct tftp_params p;
		const char *why;
		int r;

		if (c->max_blksize)
			limits.max_blksize = c->max_blksize;
		if (c->max_windowsize)
			limits.max_windowsize = c->max_windowsize;
		r = NEGOTIATE(&limits, &p, &why, c->name, c->value);
		cr_expect(eq(int, r, c->want), "%s \"%s\" (max_blksize %u, max_windowsize %u)", c->name, c->value,
			  limits.max_blksize, limits.max_windowsize);
		if (r != c->want)
			continue;
		if (r < 0) {
			cr_expect(eq(str, (char *)(why ? why : "(null)"), (char *)c->why), "%s \"%s\"", c->name,
				  c->value);
		} else {
			cr_expect(eq(u64, granted_value(c->name, &p), c->granted), "%s \"%s\"", c->name, c->value);
			cr_expect(tftp_params_need_oack(&p), "%s \"%s\" must be acknowledged", c->name, c->value);
		}
	}
}

/*
 * RFC 2348 calls values above 65464 invalid, but tftp-hpa and dnsmasq lower any
 * request above their maximum to that maximum, and so do we: a client that asks
 * too much still boots, with the largest block the link carries (RFC 2348 lets
 * the server answer with a smaller value than asked).
 */
Test(tftp_negotiate, blksize_above_65464_is_lowered_to_what_the_link_carries)
{
	static const char *const values[] = { "65465", "65535", "65536", "4294967296" };
	static const uint16_t max_blksize[] = { 1468, 65464 };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		for (size_t m = 0; m < 2; m++) {
			const struct tftp_limits limits = { max_blksize[m], 64 };
			struct tftp_params p;
			const char *why = NULL;

			cr_expect(eq(int, NEGOTIATE(&limits, &p, &why, "blksize", values[i]), 0),
				  "blksize %s with max_blksize %u refused: %s", values[i], max_blksize[m],
				  why ? why : "");
			cr_expect(eq(u16, p.blksize, max_blksize[m]));
			cr_expect(p.has_blksize);
		}
	}
}

Test(tftp_negotiate, tsize_is_acknowledged_without_changing_blksize_or_window)
{
	struct tftp_params p;
	const char *why;

	cr_assert(eq(int, NEGOTIATE(&default_limits, &p, &why, "tsize", "0"), 0));
	cr_assert(p.has_tsize);
	cr_assert(not(p.has_blksize || p.has_timeout || p.has_windowsize));
	cr_assert(eq(u16, p.blksize, 512));
	cr_assert(eq(u16, p.windowsize, 1));
}

Test(tftp_negotiate, same_option_twice_is_refused)
{
	static const char *const pairs[][4] = {
		{ "blksize", "1024", "blksize", "1024" },
		{ "blksize", "1024", "BLKSIZE", "512" },
		{ "tsize", "0", "tsize", "0" },
		{ "timeout", "3", "Timeout", "3" },
		{ "windowsize", "4", "windowsize", "8" },
	};
	static const char *const want[] = {
		"blksize given twice", "blksize given twice", "tsize given twice",
		"timeout given twice", "windowsize given twice",
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct tftp_params p;
		const char *why;

		cr_expect(eq(int, NEGOTIATE(&default_limits, &p, &why, pairs[i][0], pairs[i][1], pairs[i][2],
					    pairs[i][3]),
			     -EINVAL),
			  "%s then %s", pairs[i][0], pairs[i][2]);
		cr_expect(eq(str, (char *)(why ? why : "(null)"), (char *)want[i]));
	}
}

Test(tftp_negotiate, unknown_options_are_ignored_even_with_bad_values)
{
	struct tftp_params p;
	const char *why;

	cr_assert(eq(int, NEGOTIATE(&default_limits, &p, &why, "multicast", "", "rollover", "0", "utimeout",
				    "x", "blksize2", "9"),
		     0));
	cr_assert(not(tftp_params_need_oack(&p)));
	cr_assert(eq(u16, p.blksize, 512));
}

Test(tftp_negotiate, option_names_are_case_insensitive)
{
	struct tftp_params p;
	const char *why;

	cr_assert(eq(int, NEGOTIATE(&default_limits, &p, &why, "BlkSize", "1024", "TSIZE", "0", "TimeOut", "7",
				    "WINDOWSIZE", "4"),
		     0));
	cr_assert(p.has_blksize && p.has_tsize && p.has_timeout && p.has_windowsize);
	cr_assert(eq(u16, p.blksize, 1024));
	cr_assert(eq(u8, p.timeout_s, 7));
	cr_assert(eq(u16, p.windowsize, 4));
}

Test(tftp_negotiate, max_blksize_below_512_lowers_the_default_block)
{
	const struct tftp_limits small = { .max_blksize = 300, .max_windowsize = 64 };
	struct tftp_params p;
	const char *why;

	cr_assert(eq(int, negotiate_with(&small, &p, &why, (const char *)NULL), 0));
	cr_assert(eq(u16, p.blksize, 300));
	cr_assert(not(p.has_blksize), "no option asked: nothing to acknowledge");
	cr_assert(eq(int, NEGOTIATE(&small, &p, &why, "blksize", "1468"), 0));
	cr_assert(eq(u16, p.blksize, 300));
	cr_assert(eq(int, NEGOTIATE(&small, &p, &why, "blksize", "100"), 0));
	cr_assert(eq(u16, p.blksize, 100));
}

/* ---- builders ------------------------------------------------------------ */

Test(tftp_build_oack, all_four_options_in_fixed_order_exact_bytes)
{
	static const uint8_t want[] = "\x00\x06"
				      "blksize\0" "1468\0"
				      "tsize\0" "123456\0"
				      "timeout\0" "3\0"
				      "windowsize\0" "16";
	const struct tftp_params p = { .blksize = 1468, .windowsize = 16, .timeout_s = 3, .has_blksize = true,
				       .has_tsize = true, .has_timeout = true, .has_windowsize = true };
	uint8_t buf[128];

	memset(buf, 0xcc, sizeof(buf));
	cr_assert(eq(sz, tftp_build_oack(buf, sizeof(buf), &p, 123456), sizeof(want)));
	cr_assert(eq(u8[sizeof(want)], buf, (uint8_t *)want));
	cr_assert(eq(u8, buf[sizeof(want)], 0xcc), "nothing written past the OACK");
}

Test(tftp_build_oack, only_the_negotiated_options_appear)
{
	static const uint8_t tsize_only[] = "\x00\x06" "tsize\0" "18446744073709551615";
	static const uint8_t win_only[] = "\x00\x06" "windowsize\0" "32767";
	struct tftp_params p = { .blksize = 512, .windowsize = 1, .has_tsize = true };
	uint8_t buf[128];

	cr_assert(eq(sz, tftp_build_oack(buf, sizeof(buf), &p, UINT64_MAX), sizeof(tsize_only)));
	cr_assert(eq(u8[sizeof(tsize_only)], buf, (uint8_t *)tsize_only));
	p = (struct tftp_params){ .blksize = 512, .windowsize = 32767, .has_windowsize = true };
	cr_assert(eq(sz, tftp_build_oack(buf, sizeof(buf), &p, 0), sizeof(win_only)));
	cr_assert(eq(u8[sizeof(win_only)], buf, (uint8_t *)win_only));
}

Test(tftp_build_oack, every_cap_below_the_size_returns_zero_without_overflow)
{
	const struct tftp_params p = { .blksize = 1468, .windowsize = 16, .timeout_s = 3, .has_blksize = true,
				       .has_tsize = true, .has_timeout = true, .has_windowsize = true };
	uint8_t buf[128];
	size_t full = tftp_build_oack(buf, sizeof(buf), &p, 123456);

	cr_assert(eq(sz, full, 52));
	for (size_t cap = 0; cap < full; cap++) {
		memset(buf, 0xcc, sizeof(buf));
		cr_expect(eq(sz, tftp_build_oack(buf, cap, &p, 123456), 0), "cap %zu", cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			cr_expect(eq(u8, buf[i], 0xcc), "cap %zu: byte %zu written", cap, i);
	}
	cr_assert(eq(sz, tftp_build_oack(buf, full, &p, 123456), full));
}

Test(tftp_build_error, exact_bytes_with_code_and_message)
{
	static const uint8_t want[] = "\x00\x05\x00\x01" "file not found";
	uint8_t buf[64];

	memset(buf, 0xcc, sizeof(buf));
	cr_assert(eq(sz, tftp_build_error(buf, sizeof(buf), TFTP_ERR_NOT_FOUND, "file not found"), sizeof(want)));
	cr_assert(eq(u8[sizeof(want)], buf, (uint8_t *)want));
	cr_assert(eq(u8, buf[sizeof(want)], 0xcc));
}

Test(tftp_build_error, long_message_is_truncated_to_cap_and_stays_terminated)
{
	uint8_t buf[64];

	memset(buf, 0xcc, sizeof(buf));
	cr_assert(eq(sz, tftp_build_error(buf, 10, TFTP_ERR_OPTION_REFUSED, "blksize given twice"), 10));
	cr_assert(eq(u8[10], buf, ((uint8_t[]){ 0x00, 0x05, 0x00, 0x08, 'b', 'l', 'k', 's', 'i', 0x00 })));
	cr_assert(eq(u8, buf[10], 0xcc));

	memset(buf, 0xcc, sizeof(buf));
	cr_assert(eq(sz, tftp_build_error(buf, 5, TFTP_ERR_UNDEFINED, "busy"), 5));
	cr_assert(eq(u8[5], buf, ((uint8_t[]){ 0x00, 0x05, 0x00, 0x00, 0x00 })));
	cr_assert(eq(u8, buf[5], 0xcc));

	cr_assert(eq(sz, tftp_build_error(buf, 4, TFTP_ERR_UNDEFINED, "busy"), 0), "no room for the NUL");
	cr_assert(eq(sz, tftp_build_error(buf, 0, TFTP_ERR_UNDEFINED, "busy"), 0));
}

Test(tftp_build_error, empty_message_is_header_and_nul)
{
	uint8_t buf[8];

	cr_assert(eq(sz, tftp_build_error(buf, sizeof(buf), TFTP_ERR_UNKNOWN_TID, ""), 5));
	cr_assert(eq(u8[5], buf, ((uint8_t[]){ 0x00, 0x05, 0x00, 0x05, 0x00 })));
}

Test(tftp_write_data_header, opcode_3_then_block_big_endian)
{
	uint8_t buf[4];

	tftp_write_data_header(buf, 0x1234);
	cr_assert(eq(u8[4], buf, ((uint8_t[]){ 0x00, 0x03, 0x12, 0x34 })));
	tftp_write_data_header(buf, 65535);
	cr_assert(eq(u8[4], buf, ((uint8_t[]){ 0x00, 0x03, 0xff, 0xff })));
}

/* ---- tftp_parse_header --------------------------------------------------- */

Test(tftp_parse_header, ack_data_and_error_carry_their_number)
{
	static const struct {
		uint8_t bytes[6];
		size_t len;
		enum tftp_opcode opcode;
		uint16_t number;
	} cases[] = {
		{ { 0x00, 0x04, 0x00, 0x07 }, 4, TFTP_ACK, 7 },
		{ { 0x00, 0x04, 0xff, 0xff }, 4, TFTP_ACK, 65535 },
		{ { 0x00, 0x03, 0x01, 0x02, 'x' }, 5, TFTP_DATA, 0x0102 },
		{ { 0x00, 0x05, 0x00, 0x08, 'x', 0x00 }, 6, TFTP_ERROR, 8 },
		{ { 0x00, 0x06, 0x12, 0x34 }, 4, TFTP_OACK, 0 },
		{ { 0x00, 0x01 }, 2, TFTP_RRQ, 0 },
		{ { 0x00, 0x02, 0xaa, 0xbb }, 4, TFTP_WRQ, 0 },
		{ { 0x00, 0x09, 0x00, 0x01 }, 4, (enum tftp_opcode)9, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum tftp_opcode op;
		uint16_t number = 0xdead;

		cr_expect(eq(int, tftp_parse_header(cases[i].bytes, cases[i].len, &op, &number), 0), "case %zu", i);
		cr_expect(eq(int, op, cases[i].opcode), "case %zu", i);
		cr_expect(eq(u16, number, cases[i].number), "case %zu", i);
	}
}

Test(tftp_parse_header, too_short_is_ebadmsg)
{
	static const uint8_t ack[] = { 0x00, 0x04, 0x00, 0x01 };
	static const uint8_t err[] = { 0x00, 0x05, 0x00, 0x01 };
	static const uint8_t data[] = { 0x00, 0x03, 0x00, 0x01 };
	enum tftp_opcode op;
	uint16_t number;

	cr_assert(eq(int, tftp_parse_header(ack, 0, &op, &number), -EBADMSG));
	cr_assert(eq(int, tftp_parse_header(ack, 1, &op, &number), -EBADMSG));
	cr_assert(eq(int, tftp_parse_header(ack, 2, &op, &number), -EBADMSG));
	cr_assert(eq(int, tftp_parse_header(ack, 3, &op, &number), -EBADMSG));
	cr_assert(eq(int, tftp_parse_header(err, 3, &op, &number), -EBADMSG));
	cr_assert(eq(int, tftp_parse_header(data, 2, &op, &number), -EBADMSG));
}

/* ---- tftp_parse_decimal -------------------------------------------------- */

Test(tftp_parse_decimal, digits_only_up_to_uint64_max)
{
	static const struct {
		const char *text;
		int want;
		uint64_t value;
	} cases[] = {
		{ "0", 0, 0 },
		{ "7", 0, 7 },
		{ "007", 0, 7 },
		{ "65464", 0, 65464 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "18446744073709551620", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "1a", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0x5555;

		cr_expect(eq(int, tftp_parse_decimal(cases[i].text, &v), cases[i].want), "\"%s\"", cases[i].text);
		cr_expect(eq(u64, v, cases[i].want == 0 ? cases[i].value : 0x5555),
			  "\"%s\": value only written on success", cases[i].text);
	}
}
