/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small pcapng reader for the unit tests' packet captures: enough to walk a
 * file that tshark/dumpcap wrote, not a general library.
 *
 * It reads the three blocks such a file needs (draft-ietf-opsawg-pcapng §4.1
 * Section Header, §4.2 Interface Description, §4.3 Enhanced Packet), in
 * little-endian sections only: a big-endian section is refused with -ENOTSUP
 * and says so. The whole file is in memory and every length is compared with
 * what is left before anything is read: a block's total length (at least 12,
 * a multiple of 4, inside the file and its section, repeated at its end), each
 * option inside its block, each packet's captured bytes inside its block.
 * Blocks that carry no packets (statistics, name resolution, secrets, custom)
 * are skipped; the packet blocks it does not read (Simple Packet Block, the
 * obsolete Packet Block) are refused, so a capture cannot lose packets
 * silently.
 */
#ifndef STAMPEDE_TEST_PCAPNG_H
#define STAMPEDE_TEST_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_LINKTYPE_ETHERNET 1
/* Interfaces per section: a capture of a few bridges needs a handful. */
#define PCAPNG_MAX_INTERFACES 16

struct pcapng_interface {
	uint16_t link_type;        /* LINKTYPE_*: 1 = Ethernet */
	uint32_t snap_len;         /* 0 = no limit */
	char name[64];             /* option if_name, "" when absent (truncated to fit) */
	uint64_t ticks_per_second; /* option if_tsresol; 10^6 when absent (§4.2) */
};

struct pcapng_packet {
	uint32_t interface_id;  /* index into the reader's interfaces (this section's) */
	uint64_t timestamp;     /* in ticks of that interface, since 1970 */
	const uint8_t *data;    /* captured_len bytes, into the file's buffer */
	uint32_t captured_len, original_len;
	size_t offset;          /* of the block in the file, for messages */
};

struct pcapng_reader {
	const uint8_t *buf;
	size_t len, pos;
	size_t section_end; /* where the current section ends (the file's end when its length is unknown) */
	bool in_section;
	struct pcapng_interface interfaces[PCAPNG_MAX_INTERFACES];
	unsigned n_interfaces;
	int failed;      /* 0, or the error every later call returns */
	char error[192]; /* "offset N: what is wrong" after a negative return */
};

/* Starts reading buf (len bytes, which must stay valid while packets are used). */
void pcapng_init(struct pcapng_reader *r, const uint8_t *buf, size_t len);

/*
 * The next packet. Returns 1 with *out filled, 0 at the end of the file, or
 * -EBADMSG (malformed: a length that disagrees with the file, a packet for an
 * undeclared interface, ...) or -ENOTSUP (big-endian section, major version
 * other than 1, Simple Packet Block, ...) with r->error set; after an error
 * every call returns the same error.
 */
int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *out);

#endif
