/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TFTP read server: sessions, windows, retransmission and limits.
 *
 * It is driven from outside and never blocks: tftp_server_input() takes one
 * datagram (already stripped of its Ethernet/IP/UDP headers), tftp_server_tick()
 * fires retransmission timers, and replies leave through a struct tftp_tx that the
 * caller provides (DPDK mbufs in the dataplane, plain arrays in unit tests). Time
 * is passed in, in microseconds, so tests control it exactly.
 *
 * Each transfer gets its own server UDP port (its TID, RFC 1350 §4) from a fixed
 * range, so a session is found by indexing an array with the destination port.
 * Ports are reused oldest-freed first, so a late datagram for a finished transfer
 * is unlikely to land on a new one.
 *
 * Each session has one retransmission timer in a hashed timer wheel
 * (timer_wheel.h), so a tick costs what comes due, not what is idle, and its own
 * retransmission timeout, adapted to its round trip (rto.h).
 */
#ifndef STAMPEDE_TFTP_SERVER_H
#define STAMPEDE_TFTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "net.h"

/* Where replies go. alloc returns a payload buffer of at least payload_cap bytes
 * (or NULL when out of buffers: the timer retries later); send transmits len
 * bytes of it to `to` from our UDP port src_port and takes ownership.
 * payload_sum is net_sum() of those bytes when the server knows it (DATA), or
 * TFTP_TX_SUM_UNKNOWN. */
#define TFTP_TX_SUM_UNKNOWN (-1)
/* What a transfer did, for the boot timeline (optional: tftp_tx.event may be NULL). */
enum tftp_event_kind {
	TFTP_EVENT_STARTED,
	TFTP_EVENT_COMPLETED,
	TFTP_EVENT_TIMED_OUT,
	TFTP_EVENT_ABORTED,
	TFTP_EVENT_PROGRESS, /* every eighth of the file acknowledged (at least 64 KiB apart) */
};

#define TFTP_EVENT_NAME_MAX 63 /* longer names are cut in events (not in transfers) */

struct tftp_tx {
	uint8_t *(*alloc)(void *ctx, void **pkt);
	void (*send)(void *ctx, void *pkt, const struct net_endpoint *to, uint16_t src_port, size_t len,
		     int32_t payload_sum);
	/* Called on the polling core as transfers start and end; must not block.
	 * bytes: the file's size for STARTED, bytes acknowledged otherwise. */
	void (*event)(void *ctx, enum tftp_event_kind kind, const struct net_endpoint *peer, const char *name,
		      uint64_t bytes);
	void *ctx;
	size_t payload_cap;
};

struct tftp_config {
	uint16_t port_lo, port_hi;        /* session ports, inclusive */
	uint32_t max_sessions;            /* at most the size of the port range */
	uint32_t max_sessions_per_client; /* per client IPv4 address */
	uint16_t max_blksize;             /* MTU - 32, and what a buffer holds */
	uint16_t max_windowsize;          /* at most TFTP_SERVER_WINDOWSIZE_LIMIT */
	uint32_t retransmit_ms;           /* see min_retransmit_ms; at most 255000 */
	uint8_t max_retries;              /* consecutive timeouts, then the transfer is abandoned */
	/* Session ports are drawn at random from the free ones, so that a spoofer
	 * cannot guess the next one (RFC 6056 reasoning); 0 hands them out in order,
	 * oldest freed first, for tests that need to know them. */
	uint64_t port_seed;
	/* Without an RFC 2349 timeout option the retransmission timeout adapts to
	 * each transfer's round-trip time (rto.h) between min_retransmit_ms and
	 * retransmit_ms, starting at retransmit_ms. With the option it is the
	 * client's value, fixed. 0, or a value above retransmit_ms, makes
	 * retransmit_ms a fixed timeout too. */
	uint32_t min_retransmit_ms;
};

/* ACK numbers are 16 bits; an ACK is matched to the window by its distance from
 * the last acknowledged block, which is unambiguous only while the window is
 * under half the number space. */
#define TFTP_SERVER_WINDOWSIZE_LIMIT 32767

/* Default limits, chosen for hundreds of machines booting at once:
 * - 4096 sessions: one port each in 61440..65535, above Linux's default
 *   ephemeral range (32768..60999): the XDP program takes these ports away from
 *   the host, so they must not be ones the host's own UDP clients are given;
 * - 128 per client address: a single machine runs one or two transfers, but a
 *   NAT or a load generator may stand for many;
 * - windowsize up to 64: 64 x 1468 bytes is ~94 KB in flight, well inside socket
 *   buffers of every client we tested;
 * - 1 s retransmission (tftp-hpa's default) until a transfer has measured its
 *   round trip, then SRTT + 4 RTTVAR but at least 200 ms (Linux's TCP_RTO_MIN:
 *   a LAN answers in well under a millisecond, and the floor keeps a client
 *   that is slow for a moment, e.g. writing to disk, from seeing its window
 *   twice); each timeout doubles it, up to 1 s again;
 * - 5 retries: a silent client is dropped after at most 6 s (after 4.4 s if its
 *   timeout had come down to the floor: 0.2 + 0.4 + 0.8 + 1 + 1 + 1). */
#define TFTP_DEFAULT_PORT_LO         61440
#define TFTP_DEFAULT_PORT_HI         65535
#define TFTP_DEFAULT_MAX_SESSIONS    4096
#define TFTP_DEFAULT_MAX_PER_CLIENT  128
#define TFTP_DEFAULT_MAX_WINDOWSIZE  64
#define TFTP_DEFAULT_RETRANSMIT_MS   1000
#define TFTP_DEFAULT_MIN_RETRANSMIT_MS 200
#define TFTP_RETRANSMIT_MS_MAX       255000 /* RFC 2349's largest timeout, 255 s */
#define TFTP_DEFAULT_MAX_RETRIES     5

#define TFTP_COUNTERS(X)                                                                  \
	X(requests, "read requests received")                                              \
	X(write_requests_refused, "write requests refused (error 2)")                      \
	X(refused_malformed, "requests refused as malformed or with a bad mode (error 4)")  \
	X(refused_not_found, "requests for files not in the cache (error 1)")               \
	X(refused_access, "requests for names outside the root (error 2)")                  \
	X(refused_options, "requests with options refused (error 8)")                       \
	X(refused_busy, "requests refused by the session limits")                           \
	X(evicted_unacknowledged, "transfers never acknowledged, dropped for a new request on a full table") \
	X(transfers_revived, "transfers evicted before their first ACK, opened again by it (their client was real)") \
	X(shed_overloaded, "requests dropped unanswered on a full table while the dataplane was behind (its clients retry)") \
	X(transfers_resumed, "transfers a crashed dataplane left, carried on from the journal")         \
	X(resumes_refused, "journaled transfers not carried on (file changed, limits, options)")        \
	X(refused_no_memory, "netascii requests refused for lack of cache budget (error 3)")\
	X(transfers_started, "transfers started")                                           \
	X(transfers_completed, "transfers whose last block was acknowledged")               \
	X(transfers_timed_out, "transfers abandoned after the last retry")                  \
	X(transfers_aborted, "transfers ended by an error from the client")                 \
	X(oacks_sent, "option acknowledgements sent")                                       \
	X(data_packets, "DATA packets sent, first sends and retransmissions")               \
	X(data_bytes, "file bytes sent in DATA packets")                                    \
	X(retransmits, "DATA and OACK packets sent again")                                  \
	X(rtt_samples, "round trips measured (Karn's rule: none from the ACK of anything sent twice)") \
	X(rtt_sum_us, "sum of the round trips measured, microseconds (mean: / rtt_samples)") \
	X(rto_sum_us, "sum of the retransmission timeouts those samples set, microseconds (mean: / rtt_samples)") \
	X(rto_backoffs, "retransmission timeouts that resent, each doubling its transfer's timeout") \
	X(rto_backoffs_capped, "of those, the ones whose doubled timeout was held at the maximum") \
	X(duplicate_acks, "ACKs for a block already acknowledged (ignored, RFC 1123)")      \
	X(duplicate_requests, "RRQs repeated: answered from a transfer not started, or late copies ignored") \
	X(stray_packets, "ACKs beyond the window and other unexpected packets (ignored)")    \
	X(unknown_tid, "packets to a session port from the wrong peer or after the end")    \
	X(errors_sent, "ERROR packets sent")                                                \
	X(tx_no_buffer, "packets not sent for lack of a buffer (retried by the timer)")

struct tftp_counters {
#define TFTP_COUNTER_FIELD(name, help) uint64_t name;
	TFTP_COUNTERS(TFTP_COUNTER_FIELD)
#undef TFTP_COUNTER_FIELD
};

struct tftp_server;

/* Returns NULL with errno set: EINVAL for an inconsistent configuration, ENOMEM. */
struct tftp_server *tftp_server_create(const struct tftp_config *config, const struct tftp_tx *tx);
void tftp_server_destroy(struct tftp_server *server);

struct session_journal;
/* Record transfers in journal (session_journal.h) and carry on those a crashed
 * predecessor recorded there; NULL (the default): neither. */
void tftp_server_set_journal(struct tftp_server *server, struct session_journal *journal);

/* New requests are served from this cache version; running transfers keep theirs. */
void tftp_server_set_cache(struct tftp_server *server, struct cache *cache);

/*
 * Whether the caller is behind its receive queue (it found it full, burst
 * after burst). A request to port 69 then drops unanswered, without being
 * parsed, while the table is full with transfers nobody acknowledged yet (so
 * that a new one could only be served by an eviction; a repeated request of
 * one of those is dropped too, unparsed): in a flood of requests, answering
 * each one costs the time that lets the queue grow, and a real client's ACK,
 * queued behind them, would come too late to keep its transfer's place.
 * Shed, the queue drains, ACKs arrive in time, and a real client whose
 * request was shed retries it.
 */
void tftp_server_set_behind(struct tftp_server *server, bool behind);

bool tftp_server_owns_port(const struct tftp_server *server, uint16_t port);
void tftp_server_input(struct tftp_server *server, const struct net_endpoint *from, uint16_t dst_port,
		       const uint8_t *payload, size_t len, uint64_t now_us);
/* At most this many packets are retransmitted per tick; due sessions beyond it
 * wait for the next tick (a millisecond later), so that one synchronised
 * timeout of thousands of sessions never floods the transmit queue at once. */
#define TFTP_TICK_PACKET_BUDGET 4096

/* Fires due retransmissions and expiries; its cost follows the timers due, so it
 * can be called every millisecond whatever the number of sessions. */
void tftp_server_tick(struct tftp_server *server, uint64_t now_us);

uint32_t tftp_server_active_sessions(const struct tftp_server *server);
const struct tftp_counters *tftp_server_counters(const struct tftp_server *server);

#endif
