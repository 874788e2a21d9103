/* SPDX-License-Identifier: BSD-2-Clause */
#include "tftp_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rto.h"
#include "session_journal.h"
#include "tftp_packet.h"
#include "timer_wheel.h"

#define US_PER_MS 1000u
#define US_PER_S  1000000u
#define NO_SESSION UINT32_MAX

/* The retransmission timers: slots of 1.024 ms (about the dataplane's tick),
 * 4096 of them, so a turn of the wheel (4.2 s) covers every timeout that is not
 * an RFC 2349 option above 4 s. */
#define WHEEL_SLOTS      4096
#define WHEEL_SLOT_SHIFT 10

/* Transfers evicted before their first ACK are remembered in a
 * set-associative table (evicted_remember()): 8 ways, so that a record gives
 * way only to 8 newer ones of its set. At 100,000 evictions a second (a
 * flood of new requests this dataplane can just take) a record lasts about
 * 0.65 s: far longer than a real client's round trip, queueing included.
 * 56 bytes a record, 3.5 MiB a polling loop. */
#define EVICTED_WAYS 8
#define EVICTED_SETS 8192

struct session {
	bool active;
	bool awaiting_oack_ack; /* OACK sent, waiting for ACK 0 (RFC 2347) */
	/* Karn's rule: the OACK or window in flight was sent more than once, so
	 * its ACK says nothing about the round trip. */
	bool resent;
	uint16_t port; /* our TID */
	/* This client address's sessions, a list through the session table. */
	uint32_t client_next, client_prev;
	struct net_endpoint peer;
	struct cache *version; /* the cache version this transfer reads from */
	uint32_t epoch;        /* that version's (tftp_server.cache_epoch) */
	const struct cache_file *file;
	bool netascii;
	const uint8_t *data;
	uint32_t *block_sums; /* per-block checksum sums (octet mode), or NULL */
	uint64_t size;
	struct tftp_params params;
	uint64_t tsize; /* size announced in the OACK */
	uint64_t last_block; /* blocks are numbered from 1; the last one is short */
	uint64_t acked;      /* highest block acknowledged, 0 before any */
	uint64_t sent_upto;  /* highest block sent */
	uint64_t sent_at_us; /* when the OACK or the window in flight went out first */
	struct rto rto;
	uint8_t retries;
	bool by_request;     /* opened by a request (not resumed from the journal): */
	uint32_t rrq_hash;   /* its hash (request_hash) */
	uint64_t progress_us; /* when it opened or an ACK last moved it on */
	bool unacked; /* on the list of sessions that never heard from their peer */
	uint32_t unacked_next, unacked_prev;
	char name[TFTP_EVENT_NAME_MAX + 1]; /* for events only */
	uint64_t next_progress; /* acknowledged bytes that trigger the next progress event */
};

/* What a transfer evicted before its first ACK was: enough to open it again
 * when its client's ACK proves it real (revive()). */
struct evicted {
	uint32_t peer_ip; /* 0: empty (0.0.0.0 never gets a transfer) */
	uint16_t peer_port;
	uint16_t port;    /* ours, its TID */
	uint32_t epoch;   /* the cache version's (tftp_server.cache_epoch): file is valid while it is current */
	uint32_t rrq_hash;
	const struct cache_file *file;
	uint64_t seq; /* order of eviction: the oldest of a set gives way */
	uint64_t evicted_us;
	struct tftp_params params;
	bool netascii;
};

/* Sessions per client address, open addressing with linear probing. */
struct client_slot {
	uint32_t ip; /* 0 = empty: 0.0.0.0 never sends a TFTP request */
	uint32_t sessions;
	uint32_t first; /* session index, head of the client's list */
};

struct tftp_server {
	struct tftp_config cfg;
	struct tftp_tx tx;
	struct cache *cache;
	struct session *sessions; /* indexed by port - port_lo */
	uint32_t n_ports;
	uint32_t n_active;
	struct timer_wheel *timers; /* one timer per session, named by its index */
	struct rto_limits rto_limits; /* for transfers without a timeout option */
	uint32_t *free_ring; /* free session indices, oldest freed first */
	uint32_t free_head, free_count;
	struct client_slot *clients;
	uint32_t client_mask;
	uint64_t rng; /* xorshift64 state for port choice; 0 = ports in order */
	uint32_t unacked_head, unacked_tail; /* oldest and newest session not acknowledged yet */
	struct session_journal *journal;     /* NULL: transfers do not survive a restart */
	bool behind;                         /* tftp_server_set_behind() */
	struct evicted *evicted;             /* EVICTED_SETS x EVICTED_WAYS */
	uint64_t evicted_seq;
	uint32_t cache_epoch;                /* bumped by every tftp_server_set_cache() */
	/* The journal's clock (system-wide seconds) minus ours (now_us), taken when
	 * a transfer starts or resumes, so that an ACK reads no clock. */
	int64_t journal_offset_us;
	struct tftp_counters counters;
};

static uint64_t next_random(struct tftp_server *s)
{
	s->rng ^= s->rng << 13; /* xorshift64 (Marsaglia) */
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static struct client_slot *client_find(struct tftp_server *s, uint32_t ip, bool insert)
{
	for (uint32_t i = net_hash_ip(ip) & s->client_mask;; i = (i + 1) & s->client_mask) {
		struct client_slot *slot = &s->clients[i];

		if (slot->ip == ip)
			return slot;
		if (slot->ip == 0) {
			if (!insert)
				return NULL;
			slot->ip = ip;
			slot->sessions = 0;
			slot->first = NO_SESSION;
			return slot;
		}
	}
}

/* Removal by backward shift keeps probe chains intact without tombstones. */
static void client_remove(struct tftp_server *s, struct client_slot *slot)
{
	uint32_t hole = (uint32_t)(slot - s->clients);
	uint32_t i = hole;

	for (;;) {
		uint32_t home;

		i = (i + 1) & s->client_mask;
		if (s->clients[i].ip == 0)
			break;
		home = net_hash_ip(s->clients[i].ip) & s->client_mask;
		/* Move entry i into the hole unless its home lies cyclically in (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
			s->clients[hole] = s->clients[i];
			hole = i;
		}
	}
	s->clients[hole].ip = 0;
	s->clients[hole].sessions = 0;
	s->clients[hole].first = NO_SESSION;
}

static uint32_t session_index(const struct tftp_server *s, const struct session *ss)
{
	return (uint32_t)(ss - s->sessions);
}

static void client_link(struct tftp_server *s, struct client_slot *slot, struct session *ss)
{
	uint32_t index = session_index(s, ss);

	ss->client_prev = NO_SESSION;
	ss->client_next = slot->first;
	if (slot->first != NO_SESSION)
		s->sessions[slot->first].client_prev = index;
	slot->first = index;
	slot->sessions++;
}

/* Unlinks ss from its client's list; the slot goes when its last session does. */
static void client_unlink(struct tftp_server *s, struct session *ss)
{
	struct client_slot *slot = client_find(s, ss->peer.ip, false);

	if (!slot)
		return;
	if (ss->client_prev != NO_SESSION)
		s->sessions[ss->client_prev].client_next = ss->client_next;
	else
		slot->first = ss->client_next;
	if (ss->client_next != NO_SESSION)
		s->sessions[ss->client_next].client_prev = ss->client_prev;
	if (--slot->sessions == 0)
		client_remove(s, slot);
}

struct tftp_server *tftp_server_create(const struct tftp_config *cfg, const struct tftp_tx *tx)
{
	struct tftp_server *s;
	uint32_t n_ports, table = 2;

	/* max_blksize below 512 would make a plain RFC 1350 client take the first
	 * (short) block for the end of the file. */
	if (cfg->port_hi < cfg->port_lo || cfg->port_lo <= 69 || cfg->max_sessions == 0 ||
	    cfg->max_sessions_per_client == 0 || cfg->max_blksize < TFTP_BLKSIZE_DEFAULT ||
	    cfg->max_windowsize == 0 || cfg->max_windowsize > TFTP_SERVER_WINDOWSIZE_LIMIT ||
	    cfg->retransmit_ms == 0 || cfg->retransmit_ms > TFTP_RETRANSMIT_MS_MAX ||
	    tx->payload_cap < (size_t)cfg->max_blksize + TFTP_HEADER_LEN) {
		errno = EINVAL;
		return NULL;
	}
	n_ports = (uint32_t)(cfg->port_hi - cfg->port_lo) + 1;
	if (cfg->max_sessions > n_ports) {
		errno = EINVAL; /* one port per session */
		return NULL;
	}
	while (table < 2 * cfg->max_sessions)
		table <<= 1;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->tx = *tx;
	s->n_ports = n_ports;
	s->sessions = calloc(n_ports, sizeof(*s->sessions));
	s->free_ring = calloc(n_ports, sizeof(*s->free_ring));
	s->clients = calloc(table, sizeof(*s->clients));
	s->client_mask = table - 1;
	s->timers = timer_wheel_create(n_ports, WHEEL_SLOTS, WHEEL_SLOT_SHIFT);
	s->evicted = calloc((size_t)EVICTED_SETS * EVICTED_WAYS, sizeof(*s->evicted));
	if (!s->sessions || !s->free_ring || !s->clients || !s->timers || !s->evicted) {
		tftp_server_destroy(s);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < n_ports; i++) {
		s->sessions[i].port = (uint16_t)(cfg->port_lo + i);
		s->free_ring[i] = i;
	}
	s->free_count = n_ports;
	s->unacked_head = s->unacked_tail = NO_SESSION;
	s->rng = cfg->port_seed;
	s->rto_limits = (struct rto_limits){
		.min_us = (cfg->min_retransmit_ms && cfg->min_retransmit_ms < cfg->retransmit_ms ? cfg->min_retransmit_ms
												 : cfg->retransmit_ms) * US_PER_MS,
		.max_us = cfg->retransmit_ms * US_PER_MS,
		.granularity_us = 1u << WHEEL_SLOT_SHIFT, /* a timer fires up to a slot late */
	};
	return s;
}

void tftp_server_destroy(struct tftp_server *s)
{
	if (!s)
		return;
	if (s->sessions)
		for (uint32_t i = 0; i < s->n_ports; i++)
			if (s->sessions[i].active)
				cache_unref(s->sessions[i].version);
	cache_unref(s->cache);
	free(s->sessions);
	free(s->free_ring);
	free(s->clients);
	free(s->evicted);
	timer_wheel_destroy(s->timers);
	free(s);
}

void tftp_server_set_cache(struct tftp_server *s, struct cache *cache)
{
	if (cache)
		cache_ref(cache);
	cache_unref(s->cache);
	s->cache = cache;
	s->cache_epoch++; /* records of evictions point into the old version */
}

void tftp_server_set_journal(struct tftp_server *s, struct session_journal *journal)
{
	s->journal = journal;
}

void tftp_server_set_behind(struct tftp_server *s, bool behind)
{
	s->behind = behind;
}

/* A new transfer would take the place of one not acknowledged yet. */
static bool table_full(const struct tftp_server *s)
{
	return s->n_active >= s->cfg.max_sessions || s->free_count == 0;
}

bool tftp_server_owns_port(const struct tftp_server *s, uint16_t port)
{
	return port == 69 || (port >= s->cfg.port_lo && port <= s->cfg.port_hi);
}

uint32_t tftp_server_active_sessions(const struct tftp_server *s)
{
	return s->n_active;
}

const struct tftp_counters *tftp_server_counters(const struct tftp_server *s)
{
	return &s->counters;
}

/* RFC 2349: a client that asked for a timeout gets exactly that interval. */
static struct rto_limits session_rto_limits(const struct tftp_server *s, const struct session *ss)
{
	uint32_t fixed;

	if (!ss->params.has_timeout)
		return s->rto_limits;
	fixed = (uint32_t)ss->params.timeout_s * US_PER_S;
	return (struct rto_limits){ fixed, fixed, s->rto_limits.granularity_us };
}

static void arm_timer(struct tftp_server *s, struct session *ss, uint64_t now_us)
{
	timer_wheel_schedule(s->timers, session_index(s, ss), now_us + ss->rto.rto_us);
}

/* The OACK or a new window goes out: remember when, for the RTT sample its ACK
 * gives, unless it (or part of it) went out before. */
static void start_round(struct tftp_server *s, struct session *ss, uint64_t now_us, bool resent)
{
	ss->sent_at_us = now_us;
	ss->resent = resent;
	arm_timer(s, ss, now_us);
}

/* An ACK that moved the transfer on: a round-trip sample unless Karn's rule
 * says it is ambiguous. */
static void ack_round(struct tftp_server *s, struct session *ss, uint64_t now_us)
{
	struct rto_limits lim = session_rto_limits(s, ss);

	ss->retries = 0;
	ss->progress_us = now_us;
	if (!ss->resent) {
		rto_sample(&ss->rto, &lim, now_us - ss->sent_at_us);
		/* What the estimate does, from outside: means over the samples. */
		s->counters.rtt_samples++;
		s->counters.rtt_sum_us += now_us - ss->sent_at_us;
		s->counters.rto_sum_us += ss->rto.rto_us;
	}
}

static void send_error(struct tftp_server *s, const struct net_endpoint *to, uint16_t src_port,
		       enum tftp_error_code code, const char *message)
{
	void *pkt;
	uint8_t *buf = s->tx.alloc(s->tx.ctx, &pkt);
	size_t len;

	if (!buf) {
		s->counters.tx_no_buffer++;
		return;
	}
	len = tftp_build_error(buf, s->tx.payload_cap, code, message);
	s->tx.send(s->tx.ctx, pkt, to, src_port, len, TFTP_TX_SUM_UNKNOWN);
	s->counters.errors_sent++;
}

static bool send_oack(struct tftp_server *s, struct session *ss)
{
	void *pkt;
	uint8_t *buf = s->tx.alloc(s->tx.ctx, &pkt);

	if (!buf) {
		s->counters.tx_no_buffer++;
		return false;
	}
	s->tx.send(s->tx.ctx, pkt, &ss->peer, ss->port,
		   tftp_build_oack(buf, s->tx.payload_cap, &ss->params, ss->tsize), TFTP_TX_SUM_UNKNOWN);
	s->counters.oacks_sent++;
	return true;
}

/* Sends blocks first..last; the ones at or below sent_upto count as retransmits. */
static void send_blocks(struct tftp_server *s, struct session *ss, uint64_t first, uint64_t last)
{
	const uint64_t blksize = ss->params.blksize;

	for (uint64_t block = first; block <= last; block++) {
		uint64_t offset = (block - 1) * blksize;
		size_t n = (size_t)(ss->size - offset < blksize ? ss->size - offset : blksize);
		uint32_t *known = ss->block_sums ? &ss->block_sums[block - 1] : NULL;
		uint32_t sum_known = 0;
		uint16_t data_sum;
		void *pkt;
		uint8_t *buf = s->tx.alloc(s->tx.ctx, &pkt);

		if (!buf) {
			s->counters.tx_no_buffer++;
			break;
		}
		/* Relaxed atomics: with --lcores N two lcores may fill the same entry,
		 * with the same value. */
		if (known && (sum_known = __atomic_load_n(known, __ATOMIC_RELAXED))) {
			data_sum = (uint16_t)sum_known;
		} else {
			data_sum = net_sum(ss->data + offset, n);
			if (known)
				__atomic_store_n(known, CACHE_BLOCK_SUM_KNOWN | data_sum, __ATOMIC_RELAXED);
		}
		/* RFC 1350 block numbers are 16 bits; like tftp-hpa, curl and atftp we
		 * let them roll over from 65535 to 0. */
		tftp_write_data_header(buf, (uint16_t)block);
		memcpy(buf + TFTP_HEADER_LEN, ss->data + offset, n);
		s->tx.send(s->tx.ctx, pkt, &ss->peer, ss->port, TFTP_HEADER_LEN + n,
			   net_sum_add(net_sum(buf, TFTP_HEADER_LEN), data_sum));
		s->counters.data_packets++;
		s->counters.data_bytes += n;
		if (block <= ss->sent_upto)
			s->counters.retransmits++;
		else
			ss->sent_upto = block;
	}
}

/* RFC 7440 §4: after an ACK the next window starts right after the acknowledged
 * block, whether that ACK closed the previous window or reported a gap in it. */
static void send_window(struct tftp_server *s, struct session *ss, uint64_t now_us)
{
	uint64_t first = ss->acked + 1;
	uint64_t last = ss->acked + ss->params.windowsize;

	if (last > ss->last_block)
		last = ss->last_block;
	start_round(s, ss, now_us, first <= ss->sent_upto);
	send_blocks(s, ss, first, last);
}

static uint64_t acked_bytes(const struct session *ss)
{
	uint64_t b = ss->acked * ss->params.blksize;

	return b < ss->size ? b : ss->size;
}

static void notify(struct tftp_server *s, const struct session *ss, enum tftp_event_kind kind, uint64_t bytes)
{
	if (s->tx.event)
		s->tx.event(s->tx.ctx, kind, &ss->peer, ss->name, bytes);
}

/*
 * Sessions whose peer has not acknowledged anything yet, oldest first. When
 * the table is full a new request takes the place of the oldest of them: a
 * flood of requests from forged addresses never acknowledges, so it cannot
 * hold the table against real clients, which answer within a round trip and
 * leave this list.
 */
static void unacked_append(struct tftp_server *s, struct session *ss)
{
	uint32_t index = session_index(s, ss);

	ss->unacked = true;
	ss->unacked_next = NO_SESSION;
	ss->unacked_prev = s->unacked_tail;
	if (s->unacked_tail != NO_SESSION)
		s->sessions[s->unacked_tail].unacked_next = index;
	else
		s->unacked_head = index;
	s->unacked_tail = index;
}

static void unacked_unlink(struct tftp_server *s, struct session *ss)
{
	if (!ss->unacked)
		return;
	ss->unacked = false;
	if (ss->unacked_prev != NO_SESSION)
		s->sessions[ss->unacked_prev].unacked_next = ss->unacked_next;
	else
		s->unacked_head = ss->unacked_next;
	if (ss->unacked_next != NO_SESSION)
		s->sessions[ss->unacked_next].unacked_prev = ss->unacked_prev;
	else
		s->unacked_tail = ss->unacked_prev;
}

/* ---- the journal (session_journal.h): stores to a shared mapping ---- */

static void journal_sync_clock(struct tftp_server *s, uint64_t now_us)
{
	s->journal_offset_us = (int64_t)(session_journal_now_s() * US_PER_S) - (int64_t)now_us;
}

static uint64_t journal_seconds(const struct tftp_server *s, uint64_t now_us)
{
	return (uint64_t)((int64_t)now_us + s->journal_offset_us) / US_PER_S;
}

static void journal_start(struct tftp_server *s, const struct session *ss, const struct cache_file *file,
			  const char *name, bool netascii, uint64_t now_us)
{
	struct session_journal_entry *e = session_journal_entry(s->journal, ss->port);
	const struct tftp_params *p = &ss->params;
	size_t name_len = strlen(name);

	if (!e)
		return;
	e->active = 0; /* never half written as live */
	if (name_len > SESSION_JOURNAL_NAME_MAX)
		return; /* a name that long (TFTP allows it) is not journaled: its transfer ends with us */
	e->peer_ip = ss->peer.ip;
	memcpy(e->peer_mac, ss->peer.mac, sizeof(e->peer_mac));
	e->peer_port = ss->peer.port;
	e->blksize = p->blksize;
	e->windowsize = p->windowsize;
	e->timeout_s = p->timeout_s;
	e->flags = (uint8_t)((netascii ? JOURNAL_NETASCII : 0) | (p->has_blksize ? JOURNAL_HAS_BLKSIZE : 0) |
			     (p->has_tsize ? JOURNAL_HAS_TSIZE : 0) | (p->has_timeout ? JOURNAL_HAS_TIMEOUT : 0) |
			     (p->has_windowsize ? JOURNAL_HAS_WINDOWSIZE : 0));
	e->file_identity = file->identity;
	e->size = ss->size;
	e->acked = 0;
	journal_sync_clock(s, now_us);
	e->touched_s = journal_seconds(s, now_us);
	memcpy(e->name, name, name_len + 1);
	__atomic_store_n(&e->active, 1, __ATOMIC_RELEASE);
}

static void journal_ack(struct tftp_server *s, const struct session *ss, uint64_t now_us)
{
	struct session_journal_entry *e = session_journal_entry(s->journal, ss->port);

	if (e) {
		e->acked = ss->acked;
		e->touched_s = journal_seconds(s, now_us);
	}
}

static void journal_end(struct tftp_server *s, const struct session *ss)
{
	struct session_journal_entry *e = session_journal_entry(s->journal, ss->port);

	if (e)
		e->active = 0;
}

static void end_session(struct tftp_server *s, struct session *ss)
{
	uint32_t index = session_index(s, ss);

	journal_end(s, ss);
	unacked_unlink(s, ss);
	s->n_active--;
	timer_wheel_cancel(s->timers, index);
	client_unlink(s, ss);
	cache_unref(ss->version);
	ss->version = NULL;
	ss->data = NULL;
	ss->block_sums = NULL;
	ss->active = false;
	s->free_ring[(s->free_head + s->free_count) % s->n_ports] = index;
	s->free_count++;
}

/* A free port whose journal entry is live belongs to a transfer of the
 * dataplane before this one, whose client may come back to it. */
static bool port_held(struct tftp_server *s, uint32_t index, uint64_t now_s)
{
	return s->journal && session_journal_live(session_journal_entry(s->journal, s->sessions[index].port), now_s);
}

/* The next session slot (and so port): a random free one, or the oldest freed;
 * a held port goes to the back of the ring, a few times at most (a full table
 * must not stall on them). */
static uint32_t take_free_port(struct tftp_server *s)
{
	uint64_t now_s = s->journal ? session_journal_now_s() : 0;
	uint32_t index;

	for (int tries = 0;; tries++) {
		if (s->rng) {
			uint32_t pick = (s->free_head + (uint32_t)(next_random(s) % s->free_count)) % s->n_ports;
			uint32_t tmp = s->free_ring[pick];

			s->free_ring[pick] = s->free_ring[s->free_head];
			s->free_ring[s->free_head] = tmp;
		}
		index = s->free_ring[s->free_head];
		if (tries == 8 || s->free_count == 1 || !port_held(s, index, now_s))
			break;
		s->free_head = (s->free_head + 1) % s->n_ports;
		s->free_ring[(s->free_head + s->free_count - 1) % s->n_ports] = index;
	}
	s->free_head = (s->free_head + 1) % s->n_ports;
	s->free_count--;
	return index;
}

/* Takes the slot of this very port out of the free ring (a resumed transfer
 * keeps its port). Linear, but only a restart's resumed transfers pay it. */
static bool take_port(struct tftp_server *s, uint32_t index)
{
	for (uint32_t k = 0; k < s->free_count; k++) {
		uint32_t at = (s->free_head + k) % s->n_ports;

		if (s->free_ring[at] == index) {
			s->free_ring[at] = s->free_ring[s->free_head];
			s->free_head = (s->free_head + 1) % s->n_ports;
			s->free_count--;
			return true;
		}
	}
	return false;
}

/* ---- transfers evicted before their first ACK, and their revival ---- */

static struct evicted *evicted_set(struct tftp_server *s, uint32_t ip, uint16_t peer_port, uint16_t port)
{
	uint32_t h = net_hash_ip(ip) ^ (uint32_t)peer_port * 0x9e3779b1u ^ (uint32_t)port * 0x85ebca6bu;

	h ^= h >> 15;
	return &s->evicted[(size_t)(h & (EVICTED_SETS - 1)) * EVICTED_WAYS];
}

static struct evicted *evicted_find(struct tftp_server *s, uint32_t ip, uint16_t peer_port, uint16_t port)
{
	struct evicted *set = evicted_set(s, ip, peer_port, port);

	for (int i = 0; i < EVICTED_WAYS; i++)
		if (set[i].peer_ip == ip && set[i].peer_port == peer_port && set[i].port == port)
			return &set[i];
	return NULL;
}

/*
 * A transfer nobody acknowledged gives its place to a new request. It goes
 * without a word to its peer: one that never answered is most likely forged,
 * and an error would only reflect the flood onto its victim. But it is
 * remembered (in place of the oldest record of its set), so that if its
 * client was real after all, only late, its ACK opens it again (revive()).
 */
static void evict_unacknowledged(struct tftp_server *s, struct session *ss, uint64_t now_us)
{
	struct evicted *set = evicted_set(s, ss->peer.ip, ss->peer.port, ss->port);
	struct evicted *slot = evicted_find(s, ss->peer.ip, ss->peer.port, ss->port);

	/* The same peer and port again replaces its record; else an empty way,
	 * else the oldest. */
	for (int i = 0; !slot && i < EVICTED_WAYS; i++)
		if (set[i].peer_ip == 0)
			slot = &set[i];
	for (int i = 0; !slot && i < EVICTED_WAYS; i++)
		if (i == 0 || set[i].seq < slot->seq)
			slot = &set[i];
	*slot = (struct evicted){ .peer_ip = ss->peer.ip, .peer_port = ss->peer.port, .port = ss->port,
				  .epoch = ss->epoch, .rrq_hash = ss->rrq_hash, .file = ss->file,
				  .seq = ++s->evicted_seq, .evicted_us = now_us, .params = ss->params,
				  .netascii = ss->netascii };
	s->counters.evicted_unacknowledged++;
	notify(s, ss, TFTP_EVENT_TIMED_OUT, 0);
	end_session(s, ss);
}

/* FNV-1a: tells a request from a copy of it. */
static uint32_t request_hash(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* A session of this peer (same address and port) that this request repeats:
 * - one that has not got past its first reply: our OACK or first block was
 *   late or lost, and the client asks again;
 * - one under way that the very same request opened, which has moved on
 *   less than its longest retransmission timeout ago (retransmit_ms, or the
 *   RFC 2349 timeout): a copy the network duplicated or delayed, or the
 *   client's own retransmission that crossed our (resent) first reply. Not
 *   the current timeout: early in a transfer it rests on a sample or two and
 *   may be shorter than the network's delay variation.
 * Anything else from that port is a new transfer, for one a client that gave
 * up on a stalled transfer asks for again. Only the address's own
 * sessions are looked at (at most max_sessions_per_client), however many
 * transfers run. */
static struct session *repeated_session(struct tftp_server *s, const struct client_slot *client,
					const struct net_endpoint *from, uint32_t hash, uint64_t now_us)
{
	for (uint32_t i = client->first; i != NO_SESSION; i = s->sessions[i].client_next) {
		struct session *ss = &s->sessions[i];

		if (ss->peer.port != from->port)
			continue;
		if (ss->acked == 0 || (ss->by_request && ss->rrq_hash == hash &&
					 now_us - ss->progress_us < session_rto_limits(s, ss).max_us))
			return ss;
	}
	return NULL;
}

static const char *const name_refusals[] = {
	[CACHE_NAME_EMPTY] = "file not found",
	[CACHE_NAME_TRAVERSAL] = "access violation: \"..\" leads outside the TFTP root",
	[CACHE_NAME_TOO_LONG] = "file not found: name too long",
	[CACHE_NAME_BAD_CHAR] = "access violation: control character in file name",
};

/* Sets up a free slot for a transfer of file (its data in the form sent: octet
 * or netascii) to from, nothing acknowledged yet. */
static void open_session(struct tftp_server *s, struct session *ss, struct client_slot *client,
			 const struct net_endpoint *from, const struct cache_file *file, const uint8_t *data,
			 uint64_t size, const struct tftp_params *params, bool octet, const char *name)
{
	ss->active = true;
	s->n_active++;
	client_link(s, client, ss);
	ss->peer = *from;
	ss->version = s->cache;
	ss->epoch = s->cache_epoch;
	ss->file = file;
	ss->netascii = !octet;
	cache_ref(ss->version);
	ss->data = data;
	ss->size = size;
	/* Tables only for the block sizes nearly every client uses (the RFC 1350
	 * default and the largest the link carries), so that odd sizes asked for
	 * on purpose cannot use up the table slots and the budget. */
	ss->block_sums = octet && (params->blksize == TFTP_BLKSIZE_DEFAULT || params->blksize == s->cfg.max_blksize)
				 ? cache_file_block_sums(s->cache, file, params->blksize)
				 : NULL;
	ss->params = *params;
	ss->tsize = size;
	ss->last_block = size / params->blksize + 1;
	ss->acked = 0;
	ss->sent_upto = 0;
	ss->retries = 0;
	ss->resent = false;
	ss->by_request = false;
	{
		struct rto_limits lim = session_rto_limits(s, ss);

		rto_init(&ss->rto, &lim);
	}
	{
		size_t n = strnlen(name, TFTP_EVENT_NAME_MAX); /* events carry a prefix of long names */

		memcpy(ss->name, name, n);
		ss->name[n] = '\0';
	}
	ss->next_progress = size / 8 > 65536 ? size / 8 : 65536;
}

static void handle_request(struct tftp_server *s, const struct net_endpoint *from,
			   const uint8_t *payload, size_t len, uint64_t now_us)
{
	const struct tftp_limits limits = { s->cfg.max_blksize, s->cfg.max_windowsize };
	char name[CACHE_NAME_MAX + 1];
	struct tftp_request req;
	struct tftp_params params;
	const struct cache_file *file;
	struct client_slot *client;
	struct session *ss;
	enum cache_name_status status;
	const uint8_t *data;
	uint64_t size;
	uint32_t hash;
	const char *why;
	int r;

	s->counters.requests++;
	if (s->behind && table_full(s) && s->unacked_head != NO_SESSION) {
		s->counters.shed_overloaded++;
		return;
	}
	r = tftp_parse_request(payload, len, &req, &why);
	if (r == -E2BIG) {
		s->counters.refused_options++;
		send_error(s, from, 69, TFTP_ERR_OPTION_REFUSED, why);
		return;
	}
	if (r < 0) {
		s->counters.refused_malformed++;
		send_error(s, from, 69, TFTP_ERR_ILLEGAL_OP, why);
		return;
	}
	if (req.opcode == TFTP_WRQ) {
		s->counters.write_requests_refused++;
		send_error(s, from, 69, TFTP_ERR_ACCESS, "access violation: this server does not accept writes");
		return;
	}
	status = cache_normalize_name(req.filename, req.filename_len, name);
	if (status == CACHE_NAME_TRAVERSAL || status == CACHE_NAME_BAD_CHAR) {
		s->counters.refused_access++;
		send_error(s, from, 69, TFTP_ERR_ACCESS, name_refusals[status]);
		return;
	}
	file = status == CACHE_NAME_OK && s->cache ? cache_find(s->cache, name) : NULL;
	if (!file) {
		s->counters.refused_not_found++;
		send_error(s, from, 69, TFTP_ERR_NOT_FOUND,
			   status == CACHE_NAME_OK ? "file not found" : name_refusals[status]);
		return;
	}
	if (tftp_negotiate(&req, &limits, &params, &why) < 0) {
		s->counters.refused_options++;
		send_error(s, from, 69, TFTP_ERR_OPTION_REFUSED, why);
		return;
	}
	data = file->data;
	size = file->size;
	if (req.mode == TFTP_MODE_NETASCII && cache_file_netascii(s->cache, file, &data, &size) < 0) {
		s->counters.refused_no_memory++;
		send_error(s, from, 69, TFTP_ERR_DISK_FULL, "no memory left for the netascii copy of this file");
		return;
	}
	hash = request_hash(payload, len);
	/* Only this client's sessions can match, so skip the scan when it has none
	 * (a flood from many addresses never pays for it). */
	client = client_find(s, from->ip, false);
	if (client && client->sessions) {
		struct session *again = repeated_session(s, client, from, hash, now_us);

		if (again && again->acked > 0) {
			/* A late copy: the transfer it asked for is under way. A second
			 * session would stream the file again to a port busy with the
			 * first; a client whose socket is connected to the first never
			 * answers it, and it would end timed out. */
			s->counters.duplicate_requests++;
			return;
		}
		if (again) {
			/* Answer the retransmitted RRQ from the session it opened: a second
			 * session would stream the same file to the same port. */
			s->counters.duplicate_requests++;
			again->resent = true; /* its ACK answers either copy: no RTT sample */
			if (again->awaiting_oack_ack) {
				if (send_oack(s, again))
					s->counters.retransmits++;
			} else {
				send_blocks(s, again, 1, again->sent_upto ? again->sent_upto : 1);
			}
			return;
		}
	}
	if (client && client->sessions >= s->cfg.max_sessions_per_client) {
		s->counters.refused_busy++;
		send_error(s, from, 69, TFTP_ERR_UNDEFINED, "server busy: too many transfers from this address");
		return;
	}
	if (table_full(s)) {
		struct session *oldest;

		if (s->unacked_head == NO_SESSION) {
			s->counters.refused_busy++;
			send_error(s, from, 69, TFTP_ERR_UNDEFINED, "server busy: too many transfers, retry later");
			return;
		}
		oldest = &s->sessions[s->unacked_head];
		evict_unacknowledged(s, oldest, now_us);
	}
	client = client_find(s, from->ip, true);
	ss = &s->sessions[take_free_port(s)];
	open_session(s, ss, client, from, file, data, size, &params, req.mode == TFTP_MODE_OCTET, name);
	ss->by_request = true;
	ss->rrq_hash = hash;
	ss->progress_us = now_us;
	s->counters.transfers_started++;
	unacked_append(s, ss);
	journal_start(s, ss, file, name, req.mode == TFTP_MODE_NETASCII, now_us);
	notify(s, ss, TFTP_EVENT_STARTED, size);

	if (tftp_params_need_oack(&params)) {
		ss->awaiting_oack_ack = true;
		start_round(s, ss, now_us, false);
		send_oack(s, ss);
	} else {
		ss->awaiting_oack_ack = false;
		send_window(s, ss, now_us);
	}
}

static void handle_ack(struct tftp_server *s, struct session *ss, uint16_t block, uint64_t now_us)
{
	uint16_t distance;

	if (ss->awaiting_oack_ack) {
		if (block != 0) {
			s->counters.stray_packets++;
			return;
		}
		ss->awaiting_oack_ack = false;
		unacked_unlink(s, ss);
		ack_round(s, ss, now_us);
		send_window(s, ss, now_us);
		return;
	}
	/* Distance from the last acknowledged block, modulo the 16-bit wrap. */
	distance = (uint16_t)(block - (uint16_t)ss->acked);
	if (distance == 0) {
		/* RFC 1123 §4.2.3.1: never answer a duplicate ACK with data, or every
		 * duplicated packet doubles the traffic (Sorcerer's Apprentice). The
		 * retransmission timer covers a genuinely lost window. */
		s->counters.duplicate_acks++;
		return;
	}
	if (ss->acked + distance > ss->sent_upto) {
		s->counters.stray_packets++; /* an old ACK, or one for a block never sent */
		return;
	}
	ss->acked += distance;
	unacked_unlink(s, ss);
	journal_ack(s, ss, now_us);
	ack_round(s, ss, now_us);
	if (s->tx.event && acked_bytes(ss) >= ss->next_progress && ss->acked != ss->last_block) {
		uint64_t step = ss->size / 8 > 65536 ? ss->size / 8 : 65536;

		notify(s, ss, TFTP_EVENT_PROGRESS, acked_bytes(ss));
		ss->next_progress = acked_bytes(ss) / step * step + step;
	}
	if (ss->acked == ss->last_block) {
		s->counters.transfers_completed++;
		notify(s, ss, TFTP_EVENT_COMPLETED, ss->size);
		end_session(s, ss);
		return;
	}
	send_window(s, ss, now_us);
}

/*
 * An ACK to a port with no transfer, from the very peer the journal says a
 * dataplane before this one (it crashed) was sending a file to: carry on where
 * that transfer stood, with the options it negotiated, if the file is the same
 * one and the limits allow. Returns false when the ACK is a stranger's after all.
 */
static bool resume(struct tftp_server *s, struct session *ss, const struct net_endpoint *from, uint16_t block,
		   uint64_t now_us)
{
	struct session_journal_entry *e = session_journal_entry(s->journal, ss->port);
	const struct cache_file *file;
	struct client_slot *client;
	struct tftp_params params;
	uint16_t distance;
	uint64_t acked;

	if (!session_journal_live(e, session_journal_now_s()) || e->peer_ip != from->ip ||
	    e->peer_port != from->port)
		return false;
	e->name[sizeof(e->name) - 1] = '\0';
	file = s->cache ? cache_find(s->cache, e->name) : NULL;
	params = (struct tftp_params){ .blksize = e->blksize, .windowsize = e->windowsize, .timeout_s = e->timeout_s,
				       .has_blksize = e->flags & JOURNAL_HAS_BLKSIZE,
				       .has_tsize = e->flags & JOURNAL_HAS_TSIZE,
				       .has_timeout = e->flags & JOURNAL_HAS_TIMEOUT,
				       .has_windowsize = e->flags & JOURNAL_HAS_WINDOWSIZE };
	client = client_find(s, from->ip, false);
	/* The ACK names a block within the window after the last one journaled
	 * (16 bits, so its distance from it); anything else is taken as that one. */
	distance = (uint16_t)(block - (uint16_t)e->acked);
	acked = e->acked + (distance <= e->windowsize ? distance : 0);
	if (!file || (e->flags & JOURNAL_NETASCII) || file->identity != e->file_identity || file->size != e->size ||
	    params.blksize < 8 || params.blksize > s->cfg.max_blksize || params.windowsize == 0 ||
	    params.windowsize > s->cfg.max_windowsize || acked > e->size / params.blksize + 1 ||
	    s->n_active >= s->cfg.max_sessions || (client && client->sessions >= s->cfg.max_sessions_per_client) ||
	    !take_port(s, session_index(s, ss))) {
		s->counters.resumes_refused++;
		e->active = 0;
		return false;
	}
	client = client_find(s, from->ip, true);
	open_session(s, ss, client, from, file, file->data, file->size, &params, true, e->name);
	ss->acked = ss->sent_upto = acked;
	ss->awaiting_oack_ack = false;
	ss->next_progress = ss->size / 8 > 65536 ? (acked_bytes(ss) / (ss->size / 8) + 1) * (ss->size / 8) : 65536;
	s->counters.transfers_resumed++;
	journal_sync_clock(s, now_us);
	journal_ack(s, ss, now_us);
	if (ss->acked == ss->last_block) { /* it was all there: only our end was lost */
		s->counters.transfers_completed++;
		notify(s, ss, TFTP_EVENT_COMPLETED, ss->size);
		end_session(s, ss);
		return true;
	}
	send_window(s, ss, now_us);
	return true;
}

/*
 * An ACK to port ss from a peer whose transfer there was evicted before its
 * first ACK: the ACK of its first reply (0 after an OACK, 1 after block 1)
 * proves the client real, so the transfer opens again on its port and goes on
 * as if never evicted. A transfer nobody has acknowledged that holds the
 * port now is evicted in turn; one that has been acknowledged keeps it (the
 * late client then gets error 5). Only within the time the transfer would
 * have waited for that ACK (its longest timeout, once and for each retry):
 * an off-path forger who guessed the port of a transfer it once forged cannot
 * bring it back later. Nothing is revived across a cache reload (the record
 * points into the old version). Returns false when the ACK is not such a one.
 */
static bool revive(struct tftp_server *s, struct session *ss, const struct net_endpoint *from, uint16_t block,
		   uint64_t now_us)
{
	struct evicted *rec = evicted_find(s, from->ip, from->port, ss->port), was;
	struct client_slot *client;
	const uint8_t *data;
	uint64_t size, wait_us;
	struct rto_limits lim;

	if (!rec || rec->epoch != s->cache_epoch || block != (tftp_params_need_oack(&rec->params) ? 0 : 1))
		return false;
	lim = rec->params.has_timeout ? (struct rto_limits){ .max_us = (uint32_t)rec->params.timeout_s * US_PER_S }
				      : s->rto_limits;
	wait_us = (uint64_t)lim.max_us * ((uint64_t)s->cfg.max_retries + 1);
	was = *rec;
	rec->peer_ip = 0;
	if (now_us - was.evicted_us > wait_us || (ss->active && !ss->unacked))
		return false;
	/* Every check before anything is evicted for it. */
	client = client_find(s, from->ip, false);
	data = was.file->data;
	size = was.file->size;
	if ((client && client->sessions >= s->cfg.max_sessions_per_client) ||
	    (was.netascii && cache_file_netascii(s->cache, was.file, &data, &size) < 0) ||
	    (!ss->active && table_full(s) && s->unacked_head == NO_SESSION))
		return false;
	if (ss->active)
		evict_unacknowledged(s, ss, now_us);
	else if (table_full(s))
		evict_unacknowledged(s, &s->sessions[s->unacked_head], now_us);
	if (!take_port(s, session_index(s, ss)))
		return false; /* cannot happen: the port is free now */
	client = client_find(s, from->ip, true);
	open_session(s, ss, client, from, was.file, data, size, &was.params, !was.netascii, was.file->name);
	ss->by_request = true;
	ss->rrq_hash = was.rrq_hash;
	ss->progress_us = now_us;
	ss->awaiting_oack_ack = tftp_params_need_oack(&was.params);
	ss->sent_upto = ss->awaiting_oack_ack ? 0 : 1; /* the first reply went out */
	ss->resent = true; /* when it did is forgotten: no round-trip sample (Karn) */
	ss->sent_at_us = now_us;
	s->counters.transfers_revived++;
	journal_start(s, ss, was.file, was.file->name, was.netascii, now_us);
	notify(s, ss, TFTP_EVENT_STARTED, size);
	handle_ack(s, ss, block, now_us);
	return true;
}

static void handle_session_packet(struct tftp_server *s, struct session *ss, const struct net_endpoint *from,
				  const uint8_t *payload, size_t len, uint64_t now_us)
{
	enum tftp_opcode opcode;
	uint16_t number;

	if (tftp_parse_header(payload, len, &opcode, &number) < 0) {
		s->counters.stray_packets++;
		return;
	}
	if (opcode == TFTP_ACK && (!ss->active || ss->peer.ip != from->ip || ss->peer.port != from->port) &&
	    revive(s, ss, from, number, now_us))
		return;
	if (!ss->active && opcode == TFTP_ACK && s->journal && resume(s, ss, from, number, now_us))
		return;
	if (!ss->active || ss->peer.ip != from->ip || ss->peer.port != from->port) {
		/* RFC 1350 §4: answer a stranger with error 5, leave the transfer alone. */
		s->counters.unknown_tid++;
		if (opcode != TFTP_ERROR)
			send_error(s, from, ss->port, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
		return;
	}
	switch (opcode) {
	case TFTP_ACK:
		handle_ack(s, ss, number, now_us);
		break;
	case TFTP_ERROR:
		/* The client gives up, e.g. error 8 when it refuses our OACK. */
		s->counters.transfers_aborted++;
		notify(s, ss, TFTP_EVENT_ABORTED, acked_bytes(ss));
		end_session(s, ss);
		break;
	default:
		s->counters.stray_packets++;
		break;
	}
}

void tftp_server_input(struct tftp_server *s, const struct net_endpoint *from, uint16_t dst_port,
		       const uint8_t *payload, size_t len, uint64_t now_us)
{
	enum tftp_opcode opcode;
	uint16_t number;

	/* 0.0.0.0 cannot be answered (RFC 1122 §3.2.1.3: never a destination), and
	 * it marks free slots in the client table: nothing from it gets a reply. */
	if (from->ip == 0) {
		if (dst_port == 69)
			s->counters.refused_malformed++;
		else
			s->counters.unknown_tid++;
		return;
	}
	if (dst_port != 69) {
		if (dst_port >= s->cfg.port_lo && dst_port <= s->cfg.port_hi)
			handle_session_packet(s, &s->sessions[dst_port - s->cfg.port_lo], from, payload,
					      len, now_us);
		return;
	}
	if (tftp_parse_header(payload, len, &opcode, &number) < 0) {
		s->counters.refused_malformed++;
		send_error(s, from, 69, TFTP_ERR_ILLEGAL_OP, "malformed request: truncated");
		return;
	}
	if (opcode == TFTP_RRQ || opcode == TFTP_WRQ) {
		handle_request(s, from, payload, len, now_us);
	} else if (opcode == TFTP_ERROR) {
		s->counters.stray_packets++; /* never answer an error */
	} else {
		s->counters.refused_malformed++;
		send_error(s, from, 69, TFTP_ERR_ILLEGAL_OP, "illegal TFTP operation: expected a request");
	}
}

struct tick {
	struct tftp_server *server;
	uint64_t now_us;
	uint64_t sent_before;
};

/* One due timer: retransmit with a doubled timeout, or give up. Returns false,
 * leaving the session due, once this tick has sent its budget. */
static bool fire_timer(void *ctx, uint32_t index)
{
	struct tick *t = ctx;
	struct tftp_server *s = t->server;
	struct session *ss = &s->sessions[index];
	struct rto_limits lim;

	if (s->counters.data_packets + s->counters.oacks_sent - t->sent_before >= TFTP_TICK_PACKET_BUDGET)
		return false; /* still due at the next tick */
	if (ss->retries >= s->cfg.max_retries) {
		s->counters.transfers_timed_out++;
		notify(s, ss, TFTP_EVENT_TIMED_OUT, acked_bytes(ss));
		send_error(s, &ss->peer, ss->port, TFTP_ERR_UNDEFINED, "transfer timed out");
		end_session(s, ss);
		return true;
	}
	ss->retries++;
	lim = session_rto_limits(s, ss);
	s->counters.rto_backoffs++;
	if ((uint64_t)ss->rto.rto_us * 2 > lim.max_us)
		s->counters.rto_backoffs_capped++;
	rto_backoff(&ss->rto, &lim);
	if (ss->awaiting_oack_ack) {
		if (send_oack(s, ss))
			s->counters.retransmits++;
		start_round(s, ss, t->now_us, true);
	} else {
		send_window(s, ss, t->now_us);
	}
	return true;
}

/* Only the sessions whose timer is due are looked at (timer_wheel.h), so the
 * cost of a tick does not grow with idle transfers. */
void tftp_server_tick(struct tftp_server *s, uint64_t now_us)
{
	struct tick t = { s, now_us, s->counters.data_packets + s->counters.oacks_sent };

	timer_wheel_expire(s->timers, now_us, fire_timer, &t);
}
