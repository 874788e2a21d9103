/* SPDX-License-Identifier: BSD-2-Clause */
#include "tftp_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tftp_packet.h"

#define US_PER_MS 1000u
#define US_PER_S  1000000u

struct session {
	bool active;
	bool awaiting_oack_ack; /* OACK sent, waiting for ACK 0 (RFC 2347) */
	uint16_t port;          /* our TID */
	uint32_t active_pos;    /* index in server->active */
	struct net_endpoint peer;
	struct cache *version; /* the cache version this transfer reads from */
	const uint8_t *data;
	uint32_t *block_sums; /* per-block checksum sums (octet mode), or NULL */
	uint64_t size;
	struct tftp_params params;
	uint64_t tsize; /* size announced in the OACK */
	uint64_t last_block; /* blocks are numbered from 1; the last one is short */
	uint64_t acked;      /* highest block acknowledged, 0 before any */
	uint64_t sent_upto;  /* highest block sent */
	uint64_t timeout_us;
	uint64_t deadline_us;
	uint8_t retries;
	char name[TFTP_EVENT_NAME_MAX + 1]; /* for events only */
	uint64_t next_progress; /* acknowledged bytes that trigger the next progress event */
};

/* Sessions per client address, open addressing with linear probing. */
struct client_slot {
	uint32_t ip; /* 0 = empty: 0.0.0.0 never sends a TFTP request */
	uint32_t sessions;
};

struct tftp_server {
	struct tftp_config cfg;
	struct tftp_tx tx;
	struct cache *cache;
	struct session *sessions; /* indexed by port - port_lo */
	uint32_t n_ports;
	uint32_t *active; /* dense list of active session indices */
	uint32_t n_active;
	uint32_t *free_ring; /* free session indices, oldest freed first */
	uint32_t free_head, free_count;
	struct client_slot *clients;
	uint32_t client_mask;
	uint64_t rng; /* xorshift64 state for port choice; 0 = ports in order */
	struct tftp_counters counters;
};

/* The address is in network byte order, so the octet that varies most inside a
 * subnet sits in the top bits: mix them all down (murmur3's finaliser). */
static uint64_t next_random(struct tftp_server *s)
{
	s->rng ^= s->rng << 13; /* xorshift64 (Marsaglia) */
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static uint32_t hash_ip(uint32_t ip)
{
	ip ^= ip >> 16;
	ip *= 0x85ebca6bu;
	ip ^= ip >> 13;
	ip *= 0xc2b2ae35u;
	ip ^= ip >> 16;
	return ip;
}

static struct client_slot *client_find(struct tftp_server *s, uint32_t ip, bool insert)
{
	for (uint32_t i = hash_ip(ip) & s->client_mask;; i = (i + 1) & s->client_mask) {
		struct client_slot *slot = &s->clients[i];

		if (slot->ip == ip)
			return slot;
		if (slot->ip == 0) {
			if (!insert)
				return NULL;
			slot->ip = ip;
			slot->sessions = 0;
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
		home = hash_ip(s->clients[i].ip) & s->client_mask;
		/* Move entry i into the hole unless its home lies cyclically in (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
			s->clients[hole] = s->clients[i];
			hole = i;
		}
	}
	s->clients[hole].ip = 0;
	s->clients[hole].sessions = 0;
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
	    cfg->retransmit_ms == 0 || tx->payload_cap < (size_t)cfg->max_blksize + TFTP_HEADER_LEN) {
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
	s->active = calloc(n_ports, sizeof(*s->active));
	s->free_ring = calloc(n_ports, sizeof(*s->free_ring));
	s->clients = calloc(table, sizeof(*s->clients));
	s->client_mask = table - 1;
	if (!s->sessions || !s->active || !s->free_ring || !s->clients) {
		tftp_server_destroy(s);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < n_ports; i++) {
		s->sessions[i].port = (uint16_t)(cfg->port_lo + i);
		s->free_ring[i] = i;
	}
	s->free_count = n_ports;
	s->rng = cfg->port_seed;
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
	free(s->active);
	free(s->free_ring);
	free(s->clients);
	free(s);
}

void tftp_server_set_cache(struct tftp_server *s, struct cache *cache)
{
	if (cache)
		cache_ref(cache);
	cache_unref(s->cache);
	s->cache = cache;
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
		uint16_t data_sum;
		void *pkt;
		uint8_t *buf = s->tx.alloc(s->tx.ctx, &pkt);

		if (!buf) {
			s->counters.tx_no_buffer++;
			break;
		}
		if (known && *known) {
			data_sum = (uint16_t)*known;
		} else {
			data_sum = net_sum(ss->data + offset, n);
			if (known)
				*known = CACHE_BLOCK_SUM_KNOWN | data_sum;
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
	send_blocks(s, ss, first, last);
	ss->deadline_us = now_us + ss->timeout_us;
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

static void end_session(struct tftp_server *s, struct session *ss)
{
	uint32_t index = (uint32_t)(ss - s->sessions);
	uint32_t moved = s->active[--s->n_active];
	struct client_slot *slot = client_find(s, ss->peer.ip, false);

	s->active[ss->active_pos] = moved;
	s->sessions[moved].active_pos = ss->active_pos;
	if (slot && --slot->sessions == 0)
		client_remove(s, slot);
	cache_unref(ss->version);
	ss->version = NULL;
	ss->data = NULL;
	ss->block_sums = NULL;
	ss->active = false;
	s->free_ring[(s->free_head + s->free_count) % s->n_ports] = index;
	s->free_count++;
}

/* The next session slot (and so port): a random free one, or the oldest freed. */
static uint32_t take_free_port(struct tftp_server *s)
{
	uint32_t index;

	if (s->rng) {
		uint32_t pick = (s->free_head + (uint32_t)(next_random(s) % s->free_count)) % s->n_ports;
		uint32_t tmp = s->free_ring[pick];

		s->free_ring[pick] = s->free_ring[s->free_head];
		s->free_ring[s->free_head] = tmp;
	}
	index = s->free_ring[s->free_head];
	s->free_head = (s->free_head + 1) % s->n_ports;
	s->free_count--;
	return index;
}

/* A session of this peer (same address and port) that has not got past its first
 * reply: a retransmitted RRQ, when our OACK or first block was late or lost. */
static struct session *opening_session_of(struct tftp_server *s, const struct net_endpoint *from)
{
	for (uint32_t i = 0; i < s->n_active; i++) {
		struct session *ss = &s->sessions[s->active[i]];

		if (ss->peer.ip == from->ip && ss->peer.port == from->port && ss->acked == 0)
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
	const char *why;
	int r;

	s->counters.requests++;
	if (from->ip == 0) {
		/* 0.0.0.0 cannot be answered, and it marks free slots in the client table. */
		s->counters.refused_malformed++;
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
	/* Only this client's sessions can match, so skip the scan when it has none
	 * (a flood from many addresses never pays for it). */
	client = client_find(s, from->ip, false);
	if (client && client->sessions) {
		struct session *again = opening_session_of(s, from);

		if (again) {
			/* Answer the retransmitted RRQ from the session it opened: a second
			 * session would stream the same file to the same port. */
			s->counters.duplicate_requests++;
			if (again->awaiting_oack_ack) {
				if (send_oack(s, again))
					s->counters.retransmits++;
			} else {
				send_blocks(s, again, 1, again->sent_upto ? again->sent_upto : 1);
			}
			return;
		}
	}
	if (s->n_active >= s->cfg.max_sessions || s->free_count == 0) {
		s->counters.refused_busy++;
		send_error(s, from, 69, TFTP_ERR_UNDEFINED, "server busy: too many transfers, retry later");
		return;
	}
	client = client_find(s, from->ip, true);
	if (client->sessions >= s->cfg.max_sessions_per_client) {
		s->counters.refused_busy++;
		send_error(s, from, 69, TFTP_ERR_UNDEFINED, "server busy: too many transfers from this address");
		return;
	}
	client->sessions++;

	ss = &s->sessions[take_free_port(s)];
	ss->active = true;
	ss->active_pos = s->n_active;
	s->active[s->n_active++] = (uint32_t)(ss - s->sessions);
	ss->peer = *from;
	ss->version = s->cache;
	cache_ref(ss->version);
	ss->data = data;
	ss->size = size;
	/* Tables only for the block sizes nearly every client uses (the RFC 1350
	 * default and the largest the link carries), so that odd sizes asked for
	 * on purpose cannot use up the table slots and the budget. */
	ss->block_sums = req.mode == TFTP_MODE_OCTET &&
				 (params.blksize == TFTP_BLKSIZE_DEFAULT || params.blksize == s->cfg.max_blksize)
			 ? cache_file_block_sums(s->cache, file, params.blksize)
			 : NULL;
	ss->params = params;
	ss->tsize = size;
	ss->last_block = size / params.blksize + 1;
	ss->acked = 0;
	ss->sent_upto = 0;
	ss->retries = 0;
	ss->timeout_us = params.has_timeout ? (uint64_t)params.timeout_s * US_PER_S
					    : (uint64_t)s->cfg.retransmit_ms * US_PER_MS;
	s->counters.transfers_started++;
	{
		size_t n = strnlen(name, TFTP_EVENT_NAME_MAX); /* events carry a prefix of long names */

		memcpy(ss->name, name, n);
		ss->name[n] = '\0';
	}
	ss->next_progress = size / 8 > 65536 ? size / 8 : 65536;
	notify(s, ss, TFTP_EVENT_STARTED, size);

	if (tftp_params_need_oack(&params)) {
		ss->awaiting_oack_ack = true;
		send_oack(s, ss);
		ss->deadline_us = now_us + ss->timeout_us;
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
		ss->retries = 0;
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
	ss->retries = 0;
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

static void handle_session_packet(struct tftp_server *s, struct session *ss, const struct net_endpoint *from,
				  const uint8_t *payload, size_t len, uint64_t now_us)
{
	enum tftp_opcode opcode;
	uint16_t number;

	if (tftp_parse_header(payload, len, &opcode, &number) < 0) {
		s->counters.stray_packets++;
		return;
	}
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

void tftp_server_tick(struct tftp_server *s, uint64_t now_us)
{
	const uint64_t sent_before = s->counters.data_packets + s->counters.oacks_sent;

	/* Walk backwards: end_session() moves the last active entry into the slot it frees. */
	for (uint32_t i = s->n_active; i-- > 0;) {
		struct session *ss = &s->sessions[s->active[i]];

		if (now_us < ss->deadline_us)
			continue;
		if (s->counters.data_packets + s->counters.oacks_sent - sent_before >= TFTP_TICK_PACKET_BUDGET)
			break; /* the rest are still due at the next tick */
		if (ss->retries >= s->cfg.max_retries) {
			s->counters.transfers_timed_out++;
			notify(s, ss, TFTP_EVENT_TIMED_OUT, acked_bytes(ss));
			send_error(s, &ss->peer, ss->port, TFTP_ERR_UNDEFINED, "transfer timed out");
			end_session(s, ss);
			continue;
		}
		ss->retries++;
		if (ss->awaiting_oack_ack) {
			if (send_oack(s, ss))
				s->counters.retransmits++;
			ss->deadline_us = now_us + ss->timeout_us;
		} else {
			send_window(s, ss, now_us);
		}
	}
}
