/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The input format of fuzz_tftp_server, shared with make_seeds.c, which
 * writes seeds in it: one configuration byte, then records.
 *
 *   config byte   bits 0-1 max windowsize 1, 4, 16 or 64; bit 2 max blksize
 *                 512 (else 1468); bit 3 random session ports (else in order,
 *                 from TFTP_SCRIPT_PORT_LO); bits 4-5 max retries 0, 1, 3 or 5;
 *                 bit 6 a fixed retransmission timeout (no adaptation);
 *                 bit 7 a session table of TFTP_SCRIPT_SMALL_TABLE (of the
 *                 ports): new requests evict, late ACKs revive
 *   record        a byte whose low 2 bits say what it is:
 *     0 datagram  then: client (byte, mod TFTP_SCRIPT_CLIENTS), destination
 *                 (byte: 0 is port 69, n is session port PORT_LO + n - 1),
 *                 length (2 bytes, big-endian, cut to what is left), payload
 *     1 time      then: milliseconds to advance (2 bytes), and a tick
 *     2 buffers   then: how many of the next buffer allocations fail (byte)
 *     3 reload    the root is loaded again and swapped in (new transfers use it)
 */
#ifndef STAMPEDE_FUZZ_TFTP_SCRIPT_H
#define STAMPEDE_FUZZ_TFTP_SCRIPT_H

#define TFTP_SCRIPT_PORT_LO 61440
#define TFTP_SCRIPT_PORTS   4 /* sessions at once, so the limits are reached */
#define TFTP_SCRIPT_PER_CLIENT 2
#define TFTP_SCRIPT_SMALL_TABLE 2
#define TFTP_SCRIPT_CLIENTS 4 /* two ports of one address, another address, 0.0.0.0 */

enum tftp_script_record {
	TFTP_SCRIPT_DATAGRAM = 0,
	TFTP_SCRIPT_TIME = 1,
	TFTP_SCRIPT_BUFFERS = 2,
	TFTP_SCRIPT_RELOAD = 3,
};

/* The files of the root (name, size); content is a pattern, and "text.txt"
 * has CR, LF and CR LF for netascii. */
#define TFTP_SCRIPT_FILES(X)       \
	X("ipxe.efi", 5000)        \
	X("undionly.kpxe", 1024)   \
	X("empty", 0)              \
	X("boot/grub/grub.cfg", 300) \
	X("text.txt", 700)         \
	X("big.img", 70000)

#endif
