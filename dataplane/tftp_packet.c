/* SPDX-License-Identifier: BSD-2-Clause */
#include "tftp_packet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Returns the NUL-terminated string at *pos and moves past it, or NULL if the
 * buffer ends before a NUL. */
static const char *take_string(const uint8_t *buf, size_t len, size_t *pos, size_t *slen)
{
	const uint8_t *start = buf + *pos;
	const uint8_t *nul = memchr(start, 0, len - *pos);

	if (!nul)
		return NULL;
	*slen = (size_t)(nul - start);
	*pos += *slen + 1;
	return (const char *)start;
}

int tftp_parse_request(const uint8_t *buf, size_t len, struct tftp_request *req, const char **why)
{
	size_t pos = 2, slen;
	const char *mode;
	uint16_t opcode;

	if (len < 2) {
		*why = "malformed request: truncated";
		return -EBADMSG;
	}
	opcode = get_be16(buf);
	if (opcode != TFTP_RRQ && opcode != TFTP_WRQ) {
		*why = "not a request";
		return -EBADMSG;
	}
	req->opcode = opcode;
	req->n_options = 0;

	req->filename = take_string(buf, len, &pos, &req->filename_len);
	if (!req->filename) {
		*why = "malformed request: file name not terminated";
		return -EBADMSG;
	}
	if (req->filename_len == 0) {
		*why = "malformed request: empty file name";
		return -EBADMSG;
	}
	mode = take_string(buf, len, &pos, &slen);
	if (!mode) {
		*why = "malformed request: mode not terminated";
		return -EBADMSG;
	}
	if (strcasecmp(mode, "octet") == 0) {
		req->mode = TFTP_MODE_OCTET;
	} else if (strcasecmp(mode, "netascii") == 0) {
		req->mode = TFTP_MODE_NETASCII;
	} else {
		*why = "unsupported transfer mode (use octet or netascii)";
		return -EPROTONOSUPPORT;
	}

	/* RFC 2347: options follow as name/value string pairs. */
	while (pos < len) {
		struct tftp_option opt;

		opt.name = take_string(buf, len, &pos, &slen);
		if (!opt.name) {
			*why = "malformed request: option name not terminated";
			return -EBADMSG;
		}
		if (slen == 0 && pos == len)
			break; /* some clients pad the request with one trailing NUL */
		if (pos >= len || !(opt.value = take_string(buf, len, &pos, &slen))) {
			*why = "malformed request: option without a value";
			return -EBADMSG;
		}
		if (req->n_options == TFTP_MAX_OPTIONS) {
			*why = "too many options";
			return -E2BIG;
		}
		req->options[req->n_options++] = opt;
	}
	return 0;
}

int tftp_parse_decimal(const char *s, uint64_t *value)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		unsigned digit;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		digit = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*value = v;
	return 0;
}

enum known_option { OPT_BLKSIZE, OPT_TSIZE, OPT_TIMEOUT, OPT_WINDOWSIZE, OPT_COUNT };

static const char *const option_names[OPT_COUNT] = {
	[OPT_BLKSIZE] = "blksize",
	[OPT_TSIZE] = "tsize",
	[OPT_TIMEOUT] = "timeout",
	[OPT_WINDOWSIZE] = "windowsize",
};

/* Messages for refused options, one per option and failure, so the client's
 * error says exactly what was wrong. */
static const char *const bad_value[OPT_COUNT] = {
	[OPT_BLKSIZE] = "blksize must be a number from 8 to 65464",
	[OPT_TSIZE] = "tsize must be a number",
	[OPT_TIMEOUT] = "timeout must be a number of seconds from 1 to 255",
	[OPT_WINDOWSIZE] = "windowsize must be a number from 1 to 65535",
};

static const char *const duplicate[OPT_COUNT] = {
	[OPT_BLKSIZE] = "blksize given twice",
	[OPT_TSIZE] = "tsize given twice",
	[OPT_TIMEOUT] = "timeout given twice",
	[OPT_WINDOWSIZE] = "windowsize given twice",
};

static int known_option(const char *name)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (strcasecmp(name, option_names[i]) == 0)
			return i;
	return -1;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int tftp_negotiate(const struct tftp_request *req, const struct tftp_limits *limits,
		   struct tftp_params *p, const char **why)
{
	bool seen[OPT_COUNT] = { false };

	*p = (struct tftp_params){ .blksize = TFTP_BLKSIZE_DEFAULT, .windowsize = 1 };
	/* An interface whose MTU is below 540 cannot even carry the default block. */
	if (limits->max_blksize < TFTP_BLKSIZE_DEFAULT)
		p->blksize = limits->max_blksize;

	for (unsigned i = 0; i < req->n_options; i++) {
		int which = known_option(req->options[i].name);
		uint64_t v;

		if (which < 0)
			continue; /* RFC 2347: unknown options are simply not acknowledged */
		if (seen[which]) {
			*why = duplicate[which];
			return -EINVAL;
		}
		seen[which] = true;
		if (tftp_parse_decimal(req->options[i].value, &v) < 0) {
			*why = bad_value[which];
			return -EINVAL;
		}
		switch (which) {
		case OPT_BLKSIZE:
			/* RFC 2348 says values above 65464 are invalid; lowering them to what
			 * the link carries is friendlier than refusing, and still correct. */
			if (v < TFTP_BLKSIZE_MIN) {
				*why = bad_value[which];
				return -EINVAL;
			}
			p->blksize = (uint16_t)min_u64(v, limits->max_blksize);
			p->has_blksize = true;
			break;
		case OPT_TSIZE:
			/* RFC 2349 §4: a read request carries 0; the OACK carries the size. */
			p->has_tsize = true;
			break;
		case OPT_TIMEOUT:
			/* The OACK must echo the timeout exactly, so it cannot be lowered. */
			if (v < TFTP_TIMEOUT_MIN || v > TFTP_TIMEOUT_MAX) {
				*why = bad_value[which];
				return -EINVAL;
			}
			p->timeout_s = (uint8_t)v;
			p->has_timeout = true;
			break;
		case OPT_WINDOWSIZE:
			if (v < TFTP_WINDOWSIZE_MIN || v > TFTP_WINDOWSIZE_MAX) {
				*why = bad_value[which];
				return -EINVAL;
			}
			p->windowsize = (uint16_t)min_u64(v, limits->max_windowsize);
			p->has_windowsize = true;
			break;
		}
	}
	return 0;
}

/* Appends "name\0value\0"; returns false when it does not fit. */
static bool put_option(uint8_t *buf, size_t cap, size_t *pos, const char *name, uint64_t value)
{
	char text[48];
	int n = snprintf(text, sizeof(text), "%s%c%llu", name, '\0', (unsigned long long)value);

	if (n < 0 || *pos + (size_t)n + 1 > cap)
		return false;
	memcpy(buf + *pos, text, (size_t)n + 1);
	*pos += (size_t)n + 1;
	return true;
}

size_t tftp_build_oack(uint8_t *buf, size_t cap, const struct tftp_params *p, uint64_t tsize)
{
	size_t pos = 2;

	if (cap < 2)
		return 0;
	put_be16(buf, TFTP_OACK);
	if (p->has_blksize && !put_option(buf, cap, &pos, "blksize", p->blksize))
		return 0;
	if (p->has_tsize && !put_option(buf, cap, &pos, "tsize", tsize))
		return 0;
	if (p->has_timeout && !put_option(buf, cap, &pos, "timeout", p->timeout_s))
		return 0;
	if (p->has_windowsize && !put_option(buf, cap, &pos, "windowsize", p->windowsize))
		return 0;
	return pos;
}

size_t tftp_build_error(uint8_t *buf, size_t cap, enum tftp_error_code code, const char *message)
{
	size_t mlen = strlen(message);

	if (cap < TFTP_HEADER_LEN + 1)
		return 0;
	if (mlen > cap - TFTP_HEADER_LEN - 1)
		mlen = cap - TFTP_HEADER_LEN - 1;
	put_be16(buf, TFTP_ERROR);
	put_be16(buf + 2, (uint16_t)code);
	memcpy(buf + TFTP_HEADER_LEN, message, mlen);
	buf[TFTP_HEADER_LEN + mlen] = 0;
	return TFTP_HEADER_LEN + mlen + 1;
}

void tftp_write_data_header(uint8_t *buf, uint16_t block)
{
	put_be16(buf, TFTP_DATA);
	put_be16(buf + 2, block);
}

int tftp_parse_header(const uint8_t *buf, size_t len, enum tftp_opcode *opcode, uint16_t *number)
{
	if (len < 2)
		return -EBADMSG;
	*opcode = (enum tftp_opcode)get_be16(buf);
	*number = 0;
	if (*opcode == TFTP_ACK || *opcode == TFTP_DATA || *opcode == TFTP_ERROR) {
		if (len < TFTP_HEADER_LEN)
			return -EBADMSG;
		*number = get_be16(buf + 2);
	}
	return 0;
}
