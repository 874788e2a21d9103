/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TFTP wire format: request parsing, option negotiation and packet building.
 *
 * RFC 1350 (the protocol), RFC 2347 (option extension, OACK), RFC 2348 (blksize),
 * RFC 2349 (timeout, tsize), RFC 7440 (windowsize). Everything here works on plain
 * buffers and returns codes; the session logic that uses it lives in tftp_server.c.
 */
#ifndef STAMPEDE_TFTP_PACKET_H
#define STAMPEDE_TFTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tftp_opcode {
	TFTP_RRQ = 1,
	TFTP_WRQ = 2,
	TFTP_DATA = 3,
	TFTP_ACK = 4,
	TFTP_ERROR = 5,
	TFTP_OACK = 6,
};

/* RFC 1350 §5 and RFC 2347 (code 8). */
enum tftp_error_code {
	TFTP_ERR_UNDEFINED = 0,
	TFTP_ERR_NOT_FOUND = 1,
	TFTP_ERR_ACCESS = 2,
	TFTP_ERR_DISK_FULL = 3,
	TFTP_ERR_ILLEGAL_OP = 4,
	TFTP_ERR_UNKNOWN_TID = 5,
	TFTP_ERR_EXISTS = 6,
	TFTP_ERR_NO_USER = 7,
	TFTP_ERR_OPTION_REFUSED = 8,
	TFTP_ERR_CODE_COUNT
};

enum tftp_mode { TFTP_MODE_OCTET, TFTP_MODE_NETASCII };

/* RFC 2348: "valid values range between 8 and 65464 octets, inclusive". */
#define TFTP_BLKSIZE_MIN     8
#define TFTP_BLKSIZE_MAX     65464
#define TFTP_BLKSIZE_DEFAULT 512
/* RFC 2349 §2: timeout is 1..255 seconds. */
#define TFTP_TIMEOUT_MIN 1
#define TFTP_TIMEOUT_MAX 255
/* RFC 7440 §3: windowsize is 1..65535 blocks. */
#define TFTP_WINDOWSIZE_MIN 1
#define TFTP_WINDOWSIZE_MAX 65535
/* A request carries a handful of options in practice (blksize, tsize, timeout,
 * windowsize, sometimes multicast or rollover); more than this is refused. */
#define TFTP_MAX_OPTIONS 16
#define TFTP_HEADER_LEN  4 /* opcode + block number, or opcode + error code */

struct tftp_option {
	const char *name; /* NUL-terminated inside the packet */
	const char *value;
};

struct tftp_request {
	enum tftp_opcode opcode; /* TFTP_RRQ or TFTP_WRQ */
	const char *filename;    /* NUL-terminated inside the packet */
	size_t filename_len;
	enum tftp_mode mode;
	unsigned n_options;
	struct tftp_option options[TFTP_MAX_OPTIONS];
};

/*
 * Parse an RRQ or WRQ. Returns 0, or a negative errno with *why set to a message
 * fit for an ERROR packet: -EBADMSG (malformed: answer with code 4), -EPROTONOSUPPORT
 * (unknown or mail mode: code 4), -E2BIG (too many options: code 8).
 */
int tftp_parse_request(const uint8_t *buf, size_t len, struct tftp_request *req, const char **why);

/* What the server is willing to grant. */
struct tftp_limits {
	uint16_t max_blksize;    /* derived from the interface MTU */
	uint16_t max_windowsize; /* server policy, at most 32767 (see tftp_server.c) */
};

/* The outcome of negotiation; has_* says which options go into the OACK. */
struct tftp_params {
	uint16_t blksize;
	uint16_t windowsize;
	uint8_t timeout_s; /* 0 when the client did not ask */
	bool has_blksize, has_tsize, has_timeout, has_windowsize;
};

/*
 * RFC 2347 negotiation. Unknown options are ignored (left out of the OACK).
 * Returns 0, or -EINVAL with *why set when the request must be refused with
 * error 8: a value that is not a decimal number, blksize below 8, timeout
 * outside 1..255, windowsize outside 1..65535, or the same option twice.
 * A blksize or windowsize larger than the server grants is lowered, as RFC 2348
 * and RFC 7440 allow; like tftp-hpa and dnsmasq, that includes a blksize above
 * RFC 2348's 65464.
 */
int tftp_negotiate(const struct tftp_request *req, const struct tftp_limits *limits,
		   struct tftp_params *params, const char **why);

static inline bool tftp_params_need_oack(const struct tftp_params *p)
{
	return p->has_blksize || p->has_tsize || p->has_timeout || p->has_windowsize;
}

/* Builders return the number of bytes written, or 0 if cap is too small. */
size_t tftp_build_oack(uint8_t *buf, size_t cap, const struct tftp_params *params, uint64_t tsize);
size_t tftp_build_error(uint8_t *buf, size_t cap, enum tftp_error_code code, const char *message);
void tftp_write_data_header(uint8_t *buf, uint16_t block);

/* Parse a packet that is not a request: returns its opcode and, for ACK and DATA,
 * the block number, for ERROR the code. Returns -EBADMSG when too short. */
int tftp_parse_header(const uint8_t *buf, size_t len, enum tftp_opcode *opcode, uint16_t *number);

/* Decimal digits only, no sign or spaces; -ERANGE on overflow, -EINVAL otherwise. */
int tftp_parse_decimal(const char *s, uint64_t *value);

#endif
