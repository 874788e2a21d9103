/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcapng.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Block types, draft-ietf-opsawg-pcapng §10.1. */
#define BT_SHB        0x0A0D0D0Au /* a palindrome: readable before the byte order is known */
#define BT_IDB        0x00000001u
#define BT_PB         0x00000002u /* obsolete Packet Block */
#define BT_SPB        0x00000003u
#define BT_EPB        0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Fixed sizes: type + total length before the body, total length after it. */
#define BLOCK_OVERHEAD 12
#define SHB_MIN_LEN    28 /* + magic 4, versions 2+2, section length 8 */
#define IDB_MIN_LEN    20 /* + link type 2, reserved 2, snap length 4 */
#define EPB_MIN_LEN    32 /* + interface 4, timestamp 8, captured 4, original 4 */

/* Option codes (§4.2). */
#define OPT_ENDOFOPT  0
#define OPT_IF_NAME   2
#define OPT_IF_TSRESOL 9

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static int fail(struct pcapng_reader *r, int err, size_t offset, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->error, sizeof(r->error), "offset %zu: ", offset);

	va_start(ap, fmt);
	vsnprintf(r->error + n, sizeof(r->error) - (size_t)n, fmt, ap);
	va_end(ap);
	r->failed = err;
	return err;
}

void pcapng_init(struct pcapng_reader *r, const uint8_t *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	r->section_end = len;
}

/*
 * Walks the options of the block at `block` from offset `start` to `end`
 * (both relative to the block; end = total length - 4), checking each
 * option's length against the block. When ifc is not NULL, fills the
 * interface fields the options carry.
 */
static int walk_options(struct pcapng_reader *r, size_t block, size_t start, size_t end,
			struct pcapng_interface *ifc)
{
	const uint8_t *b = r->buf + block;
	size_t pos = start;

	while (pos < end) {
		uint16_t code, len;

		if (end - pos < 4)
			return fail(r, -EBADMSG, block + pos, "option header cut by the end of its block");
		code = le16(b + pos);
		len = le16(b + pos + 2);
		if (code == OPT_ENDOFOPT)
			return 0; /* §3.5: the rest of the options area is ignored */
		if (pad4(len) > end - pos - 4)
			return fail(r, -EBADMSG, block + pos, "option %u of %u bytes runs past its block (%zu left)",
				    code, len, end - pos - 4);
		if (ifc && code == OPT_IF_NAME) {
			size_t n = len < sizeof(ifc->name) - 1 ? len : sizeof(ifc->name) - 1;

			memcpy(ifc->name, b + pos + 4, n);
			ifc->name[n] = '\0';
		} else if (ifc && code == OPT_IF_TSRESOL) {
			uint8_t v;

			if (len != 1)
				return fail(r, -EBADMSG, block + pos, "if_tsresol of %u bytes (1 expected)", len);
			v = b[pos + 4];
			/* Bit 7: a negative power of 2, else of 10; both must fit 64 bits. */
			if (v & 0x80) {
				if ((v & 0x7f) > 63)
					return fail(r, -ENOTSUP, block + pos, "if_tsresol 2^-%u is too fine", v & 0x7f);
				ifc->ticks_per_second = (uint64_t)1 << (v & 0x7f);
			} else {
				if (v > 19)
					return fail(r, -ENOTSUP, block + pos, "if_tsresol 10^-%u is too fine", v);
				ifc->ticks_per_second = 1;
				while (v--)
					ifc->ticks_per_second *= 10;
			}
		}
		pos += 4 + pad4(len);
	}
	return 0;
}

/* Reads and checks the type and total length of the block at r->pos, which
 * must fit before limit. */
static int block_bounds(struct pcapng_reader *r, size_t limit, uint32_t *type, uint32_t *total)
{
	size_t left = limit - r->pos;

	if (left < BLOCK_OVERHEAD)
		return fail(r, -EBADMSG, r->pos, "%zu bytes left, too few for a block", left);
	*type = le32(r->buf + r->pos);
	*total = le32(r->buf + r->pos + 4);
	if (*total < BLOCK_OVERHEAD || *total % 4)
		return fail(r, -EBADMSG, r->pos, "block 0x%08x: total length %u is below 12 or not a multiple of 4",
			    *type, *total);
	if (*total > left)
		return fail(r, -EBADMSG, r->pos, "block 0x%08x of %u bytes runs past the %s (%zu bytes left)", *type,
			    *total, limit == r->len ? "file" : "section", left);
	if (le32(r->buf + r->pos + *total - 4) != *total)
		return fail(r, -EBADMSG, r->pos, "block 0x%08x: trailing length %u differs from the leading %u",
			    *type, le32(r->buf + r->pos + *total - 4), *total);
	return 0;
}

static int read_shb(struct pcapng_reader *r)
{
	const uint8_t *b = r->buf + r->pos;
	size_t left = r->len - r->pos;
	uint32_t type, total, magic;
	uint64_t section_len;
	int err;

	if (left < SHB_MIN_LEN)
		return fail(r, -EBADMSG, r->pos, "%zu bytes left, too few for a section header block", left);
	magic = le32(b + 8);
	if (le32(b) != BT_SHB || (magic != BYTE_ORDER_MAGIC && magic != __builtin_bswap32(BYTE_ORDER_MAGIC)))
		return fail(r, -EBADMSG, r->pos, "no section header block here: not a pcapng file");
	if (magic != BYTE_ORDER_MAGIC)
		return fail(r, -ENOTSUP, r->pos,
			    "big-endian section: this reader takes little-endian captures only "
			    "(convert with editcap, or capture on a little-endian host)");
	err = block_bounds(r, r->len, &type, &total);
	if (err)
		return err;
	if (total < SHB_MIN_LEN)
		return fail(r, -EBADMSG, r->pos, "section header block of %u bytes (at least 28)", total);
	if (le16(b + 12) != 1)
		return fail(r, -ENOTSUP, r->pos, "pcapng version %u.%u (1.x expected)", le16(b + 12), le16(b + 14));
	err = walk_options(r, r->pos, 24, total - 4, NULL);
	if (err)
		return err;
	section_len = le64(b + 16);
	r->section_end = r->len;
	if (section_len != UINT64_MAX) { /* -1: unknown, the section runs to the next SHB */
		if (section_len % 4 || section_len > r->len - r->pos - total)
			return fail(r, -EBADMSG, r->pos, "section length %llu disagrees with the %zu bytes that follow",
				    (unsigned long long)section_len, r->len - r->pos - total);
		r->section_end = r->pos + total + (size_t)section_len;
	}
	r->in_section = true;
	r->n_interfaces = 0; /* §4.2: interface ids count from 0 in each section */
	r->pos += total;
	return 0;
}

static int read_idb(struct pcapng_reader *r, uint32_t total)
{
	const uint8_t *b = r->buf + r->pos;
	struct pcapng_interface *ifc;
	int err;

	if (total < IDB_MIN_LEN)
		return fail(r, -EBADMSG, r->pos, "interface description block of %u bytes (at least 20)", total);
	if (r->n_interfaces == PCAPNG_MAX_INTERFACES)
		return fail(r, -ENOTSUP, r->pos, "more than %d interfaces in one section", PCAPNG_MAX_INTERFACES);
	ifc = &r->interfaces[r->n_interfaces];
	*ifc = (struct pcapng_interface){
		.link_type = le16(b + 8),
		.snap_len = le32(b + 12),
		.ticks_per_second = 1000000,
	};
	err = walk_options(r, r->pos, 16, total - 4, ifc);
	if (err)
		return err;
	r->n_interfaces++;
	return 0;
}

static int read_epb(struct pcapng_reader *r, uint32_t total, struct pcapng_packet *out)
{
	const uint8_t *b = r->buf + r->pos;
	uint32_t id, captured, original;

	if (total < EPB_MIN_LEN)
		return fail(r, -EBADMSG, r->pos, "enhanced packet block of %u bytes (at least 32)", total);
	id = le32(b + 8);
	captured = le32(b + 20);
	original = le32(b + 24);
	if (id >= r->n_interfaces)
		return fail(r, -EBADMSG, r->pos, "packet on interface %u, but the section declares %u", id,
			    r->n_interfaces);
	if (pad4(captured) > total - EPB_MIN_LEN)
		return fail(r, -EBADMSG, r->pos, "packet of %u captured bytes in a block of %u", captured, total);
	if (captured > original)
		return fail(r, -EBADMSG, r->pos, "%u bytes captured of a %u-byte packet", captured, original);
	if (r->interfaces[id].snap_len && captured > r->interfaces[id].snap_len)
		return fail(r, -EBADMSG, r->pos, "%u bytes captured, above the interface's snap length %u", captured,
			    r->interfaces[id].snap_len);
	*out = (struct pcapng_packet){
		.interface_id = id,
		.timestamp = (uint64_t)le32(b + 12) << 32 | le32(b + 16),
		.data = b + 28,
		.captured_len = captured,
		.original_len = original,
		.offset = r->pos,
	};
	return walk_options(r, r->pos, 28 + pad4(captured), total - 4, NULL);
}

int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *out)
{
	if (r->failed)
		return r->failed;
	for (;;) {
		uint32_t type, total;
		int err;

		if (r->pos == r->len)
			return r->in_section ? 0 : fail(r, -EBADMSG, 0, "empty file");
		if (!r->in_section || r->pos == r->section_end ||
		    (r->len - r->pos >= 4 && le32(r->buf + r->pos) == BT_SHB)) {
			if (r->in_section && r->pos != r->section_end)
				return fail(r, -EBADMSG, r->pos, "section header block inside a section of known length");
			err = read_shb(r);
			if (err)
				return err;
			continue;
		}
		err = block_bounds(r, r->section_end, &type, &total);
		if (err)
			return err;
		switch (type) {
		case BT_IDB:
			err = read_idb(r, total);
			break;
		case BT_EPB:
			err = read_epb(r, total, out);
			if (!err) {
				r->pos += total;
				return 1;
			}
			break;
		case BT_SPB:
		case BT_PB:
			return fail(r, -ENOTSUP, r->pos, "%s block: not read here (packets would be lost)",
				    type == BT_SPB ? "simple packet" : "obsolete packet");
		default: /* no packets in it: statistics, name resolution, secrets, custom */
			break;
		}
		if (err)
			return err;
		r->pos += total;
	}
}
