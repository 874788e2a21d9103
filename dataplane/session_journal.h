/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where each TFTP transfer stands, kept in a file that outlives the dataplane
 * (/run/stampede/IFACE.sessions, one entry per session port, a shared mapping:
 * recording is a store to memory, never a system call).
 *
 * A dataplane that crashed is restarted by its control plane within a second,
 * with empty session tables; its clients are in the middle of their transfers
 * and soon retransmit their last ACK to a session port the new process knows
 * nothing about. Instead of "unknown transfer ID", the new process finds the
 * transfer in the journal (same client address and port, same file — same
 * size, inode and modification time — options as negotiated, blocks
 * acknowledged) and carries on from there. Entries untouched for
 * SESSION_JOURNAL_HOLD_S are stale: never resumed, and their ports are free
 * for new transfers again.
 *
 * The file holds no secret: client addresses, file names, counters. It is
 * created 0600 beside the instance lock; a journal of another geometry (another
 * port range) is started afresh.
 */
#ifndef STAMPEDE_SESSION_JOURNAL_H
#define STAMPEDE_SESSION_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#define SESSION_JOURNAL_NAME_MAX 255
#define SESSION_JOURNAL_HOLD_S   30 /* longer than a client's retries, shorter than a reboot */

enum { JOURNAL_NETASCII = 1, JOURNAL_HAS_BLKSIZE = 2, JOURNAL_HAS_TSIZE = 4, JOURNAL_HAS_TIMEOUT = 8,
       JOURNAL_HAS_WINDOWSIZE = 16 };

struct session_journal_entry {
	uint32_t active;        /* 1 while a transfer runs on this port */
	uint32_t peer_ip;       /* network order */
	uint8_t peer_mac[6];
	uint16_t peer_port;     /* host order */
	uint16_t blksize, windowsize;
	uint8_t timeout_s, flags; /* JOURNAL_* */
	uint16_t pad;
	uint64_t file_identity; /* cache_file.identity */
	uint64_t size;
	uint64_t acked;         /* highest block acknowledged */
	uint64_t touched_s;     /* CLOCK_MONOTONIC seconds (system-wide): the last start or ACK */
	char name[SESSION_JOURNAL_NAME_MAX + 1]; /* normalized cache name */
};

struct session_journal;

/* Maps path (created if missing), keeping its entries when it was written for
 * the same port range. Returns 0 or -errno. */
int session_journal_open(const char *path, uint16_t port_lo, uint16_t port_hi, struct session_journal **out);
void session_journal_close(struct session_journal *journal);
/* The entry of a session port, or NULL outside the range. */
struct session_journal_entry *session_journal_entry(struct session_journal *journal, uint16_t port);
/* CLOCK_MONOTONIC in seconds: comparable between the processes of one boot. */
uint64_t session_journal_now_s(void);
/* Whether e describes a transfer a restarted dataplane may still carry on. */
bool session_journal_live(const struct session_journal_entry *e, uint64_t now_s);

#endif
