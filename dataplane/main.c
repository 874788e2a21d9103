/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stampede-dataplane: one DPDK port, one polling loop per lcore (--lcores N,
 * default 1), each with its own queue.
 *
 * A loop is the l2fwd shape: receive a burst, hand each datagram to its
 * protocol, flush the TX buffer, fire due timers. Each loop owns a TFTP server
 * over its part of the session ports (lcores.h); a datagram that arrives on
 * another loop's queue is passed to its owner through the owner's inbox ring.
 * Everything slow happens on the control thread (control_channel.c): reading
 * the TFTP root for a reload, answering stats requests. A new cache version
 * reaches each loop through one atomic pointer; the loop swaps it in between
 * bursts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "cache.h"
#include "config_message.h"
#include "control_channel.h"
#include "events.h"
#include "iface.h"
#include "instance_lock.h"
#include "session_journal.h"
#include "lcores.h"
#include "net.h"
#include "options.h"
#include "port.h"
#include "privileges.h"
#include "proxy_dhcp.h"
#include "proxy_policy.h"
#include "self_path.h"
#include "tftp_packet.h"
#include "tftp_server.h"
#include "xdp_maps.h"

#define BURST_SIZE        32
#define BEHIND_AFTER_FULL_BURSTS 2
/* Transmit buffers are taken from the pool this many at a time: one window of
 * the default windowsize (64) costs one bulk get instead of 64 single ones. */
#define TX_STASH_SIZE     64
#define MBUF_COUNT        65535 /* 2^n - 1 is the mempool's optimum; see below */
#define MBUF_CACHE        256
#define TICK_INTERVAL_US  1000
/* After this many empty polls in a row the loop naps, so an idle server does not
 * burn its core; under load it never sleeps. */
#define IDLE_POLLS_BEFORE_NAP 1024
#define IDLE_NAP_NS           50000
/* Frames the driver could not take yet: kept, in order, rather than dropped (a
 * dropped block costs its transfer a retransmission timeout). 4096 is the most
 * one tick may queue (TFTP_TICK_PACKET_BUDGET) with room to spare. */
#define TX_BACKLOG 8192
/* Boot events waiting for the control thread (every 20 ms): room for a storm. */
#define EVENT_RING_SIZE 16384
#define CONTROL_FD_TIMEOUT_MS 10000
#define STALE_POLICIES_MAX    16

#define DP_COUNTERS(X)                                                                  \
	X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes) X(tx_dropped) X(cache_swaps)        \
	X(handoff_packets) X(handoff_dropped)

struct dp_counters {
#define DP_COUNTER_FIELD(name) uint64_t name;
	DP_COUNTERS(DP_COUNTER_FIELD)
#undef DP_COUNTER_FIELD
	uint64_t drops[NET_DROP_COUNT];
};

/* Datagrams received by another lcore for this one's sessions (lcores.h). */
#define INBOX_SIZE 4096

struct dataplane;

/* One polling loop: its queue (RX and TX, numbered like the worker), its TFTP
 * server over its part of the session ports, its buffers and counters. Only
 * its own lcore writes to it; the control thread reads the counters (64-bit
 * loads do not tear on x86-64) and hands it cache versions through `pending`. */
struct worker {
	struct dataplane *dp;
	uint16_t queue;
	struct rte_mempool *pool; /* its queue's UMEM: its mbufs go out without a copy */
	struct tftp_server *tftp;
	struct rte_eth_dev_tx_buffer *tx_buffer;
	struct rte_ring *inbox; /* NULL with one lcore */
	uint16_t ip_id;
	unsigned full_bursts; /* receive bursts in a row that came back full: the queue is behind */
	struct dp_counters counters;
	struct proxy_dhcp_counters dhcp;
	uint64_t events_lost; /* the ring was full */
	uint64_t loop_epoch;  /* bumped every loop turn: when it moves, an old policy is unused */
	struct cache *pending; /* a new cache version from the control thread */
	struct rte_mbuf *backlog[TX_BACKLOG];
	uint32_t backlog_n;
	struct rte_mbuf *tx_stash[TX_STASH_SIZE]; /* allocated, not yet used: taken from the end */
	uint32_t tx_stash_n;
	struct dhcp_message dhcp_msg;
	/* Replies are built here and copied into an mbuf only when there is one:
	 * most of what reaches 67 is the site's DHCP traffic, answered by nobody. */
	uint8_t dhcp_reply[RTE_MBUF_DEFAULT_DATAROOM];
} __rte_cache_aligned;

struct dataplane {
	struct dp_options opts;
	uint16_t port_id;
	struct net_endpoint self;
	struct worker *workers[DP_MAX_LCORES];
	unsigned n_workers;
	struct lcore_split split; /* which worker owns which session port and client */
	struct xdp_maps xdp;
	bool have_xdp;
	struct session_journal *journal; /* transfers a restarted dataplane carries on */
	/* Cache versions: the control thread keeps `latest` (one reference) and
	 * hands each loop another reference through its `pending`. */
	struct cache *latest;
	struct rte_ring *retired; /* versions whose last reference went on a polling core */
	uint64_t reloads_ok, reloads_failed;
	uint64_t versions_freed; /* by the control thread, off the polling cores */
	uint64_t tsc_per_us;
	/* proxyDHCP: the policy the control thread swapped in (NULL: none yet, 67
	 * and 4011 stay with the kernel). */
	struct proxy_policy *policy;
	size_t dhcp_cap;
	uint64_t policies_applied, policies_refused;
	struct rte_ring *events; /* every loop enqueues, the control thread dequeues */
	struct proxy_policy *stale_policies[STALE_POLICIES_MAX]; /* retired while stopping */
	/* The images of the next cache load (--image at start, "images 1"
	 * later); only the control thread touches them once it runs. */
	struct cache_image images[DP_MAX_IMAGES];
	size_t n_images;
	char *images_storage;
	unsigned n_stale_policies;
	uint64_t wall_offset_us;
	struct control_channel *channel;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static void *hugepage_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return rte_malloc_socket("stampede_image", size, RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
}

static void hugepage_free(void *ctx, void *ptr)
{
	(void)ctx;
	rte_free(ptr);
}

static const struct cache_allocator hugepage_allocator = { hugepage_alloc, hugepage_free, NULL };

static void backlog_push(struct worker *w, struct rte_mbuf *m)
{
	if (w->backlog_n < TX_BACKLOG) {
		w->backlog[w->backlog_n++] = m;
	} else {
		rte_pktmbuf_free(m);
		w->counters.tx_dropped++;
	}
}

/* rte_eth_tx_buffer's callback for frames the driver refused. */
static void tx_unsent(struct rte_mbuf **pkts, uint16_t unsent, void *userdata)
{
	for (uint16_t i = 0; i < unsent; i++)
		backlog_push(userdata, pkts[i]);
}

static void drain_backlog(struct worker *w)
{
	uint16_t sent;

	if (!w->backlog_n)
		return;
	sent = rte_eth_tx_burst(w->dp->port_id, w->queue, w->backlog,
				(uint16_t)(w->backlog_n > UINT16_MAX ? UINT16_MAX : w->backlog_n));
	w->backlog_n -= sent;
	memmove(w->backlog, w->backlog + sent, w->backlog_n * sizeof(w->backlog[0]));
}

/* An mbuf from the stash, refilled in bulk; when the pool cannot fill a whole
 * stash, one at a time, so the last free buffers are still used. */
static struct rte_mbuf *take_mbuf(struct worker *w)
{
	if (w->tx_stash_n == 0) {
		if (rte_pktmbuf_alloc_bulk(w->pool, w->tx_stash, TX_STASH_SIZE) == 0)
			w->tx_stash_n = TX_STASH_SIZE;
		else
			return rte_pktmbuf_alloc(w->pool);
	}
	return w->tx_stash[--w->tx_stash_n];
}

static uint8_t *tx_alloc(void *ctx, void **pkt)
{
	struct worker *w = ctx;
	struct rte_mbuf *m = take_mbuf(w);

	if (!m)
		return NULL;
	*pkt = m;
	return rte_pktmbuf_mtod(m, uint8_t *) + NET_UDP_HEADERS_LEN;
}

static void tx_send(void *ctx, void *pkt, const struct net_endpoint *to, uint16_t src_port, size_t len,
		    int32_t payload_sum)
{
	struct worker *w = ctx;
	struct rte_mbuf *m = pkt;
	struct net_endpoint src = w->dp->self;
	size_t frame_len;

	src.port = src_port;
	frame_len = payload_sum == TFTP_TX_SUM_UNKNOWN
			    ? net_build_udp(rte_pktmbuf_mtod(m, uint8_t *), &src, to, w->ip_id++, len)
			    : net_build_udp_summed(rte_pktmbuf_mtod(m, uint8_t *), &src, to, w->ip_id++, len,
						   (uint16_t)payload_sum);
	m->data_len = (uint16_t)frame_len;
	m->pkt_len = (uint32_t)frame_len;
	w->counters.tx_packets++;
	w->counters.tx_bytes += frame_len;
	if (w->backlog_n)
		backlog_push(w, m); /* behind what already waits, to keep the order */
	else
		rte_eth_tx_buffer(w->dp->port_id, w->queue, w->tx_buffer, m);
}

static uint64_t now_us(const struct dataplane *dp)
{
	return rte_get_tsc_cycles() / dp->tsc_per_us;
}

static void push_event(struct worker *w, const struct dp_event *e)
{
	struct rte_ring *events = w->dp->events;

	if (events && rte_ring_enqueue_elem(events, (void *)(uintptr_t)e, sizeof(*e)) != 0)
		w->events_lost++;
}

static void tftp_event(void *ctx, enum tftp_event_kind kind, const struct net_endpoint *peer, const char *name,
		       uint64_t bytes)
{
	struct worker *w = ctx;
	struct dp_event e = { .time_us = now_us(w->dp), .bytes = bytes, .peer = *peer, .type = DP_EVENT_TFTP,
			      .msg = (uint8_t)kind };

	snprintf(e.file, sizeof(e.file), "%s", name);
	push_event(w, &e);
}

/* proxyDHCP: the answer is built and sent right here, no round trip. */
static void handle_dhcp(struct worker *w, const struct net_udp_datagram *d, uint64_t now)
{
	struct dataplane *dp = w->dp;
	const struct proxy_policy *policy = __atomic_load_n(&dp->policy, __ATOMIC_ACQUIRE);
	struct proxy_answer a;

	proxy_dhcp_handle(policy, d, dp->self.ip, &w->dhcp_msg, w->dhcp_reply, dp->dhcp_cap, &a, &w->dhcp);
	if (a.len) {
		void *pkt = NULL;
		uint8_t *out = tx_alloc(w, &pkt);

		if (out) {
			memcpy(out, w->dhcp_reply, a.len);
			tx_send(w, pkt, &a.to, a.src_port, a.len, TFTP_TX_SUM_UNKNOWN);
		} else {
			w->counters.tx_dropped++;
		}
	}
	if (a.classified) { /* PXE clients only: other DHCP traffic is the site's business */
		struct dp_event e = {
			.time_us = now, .peer = d->src, .type = DP_EVENT_DHCP, .arch = (uint8_t)a.client.arch,
			.decision = (uint8_t)a.decision, .ipxe = a.client.ipxe, .has_mac = a.client.has_mac,
		};

		e.msg = (uint8_t)proxy_msg_kind((uint8_t)a.client.msg_type);
		memcpy(e.client_mac, a.client.mac, sizeof(e.client_mac));
		if (a.boot_file)
			snprintf(e.file, sizeof(e.file), "%s", a.boot_file);
		push_event(w, &e);
	}
}

static bool is_tftp_port(const struct dataplane *dp, uint16_t port)
{
	return port == 69 || (port >= dp->opts.tftp.port_lo && port <= dp->opts.tftp.port_hi);
}

/* The worker whose TFTP server must see this datagram (lcores.h). */
static unsigned tftp_owner(const struct dataplane *dp, const struct net_udp_datagram *d)
{
	if (dp->n_workers == 1)
		return 0;
	return d->dst.port == 69 ? lcore_split_request_owner(&dp->split, d->src.ip, d->src.port)
				 : lcore_split_port_owner(&dp->split, d->dst.port);
}

/* Gives m to its owner's inbox. Returns false (m stays the caller's to free)
 * when the inbox is full: a counted drop, which the transfer's retransmission
 * timer covers like any lost datagram. */
static bool hand_off(struct worker *w, struct worker *owner, struct rte_mbuf *m)
{
	if (rte_ring_mp_enqueue(owner->inbox, m) != 0) {
		w->counters.handoff_dropped++;
		return false;
	}
	w->counters.handoff_packets++;
	return true;
}

/* Returns true when m went to another worker (it is theirs to free). */
static bool handle_frame(struct worker *w, struct rte_mbuf *m, uint64_t now)
{
	struct dataplane *dp = w->dp;
	struct net_udp_datagram d;
	enum net_drop r;
	unsigned owner;

	r = m->nb_segs == 1 ? net_parse_udp(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &d)
			    : NET_DROP_bad_ip_length; /* our MTU never needs chained mbufs */
	if (r == NET_OK && (d.dst.port == DHCP_SERVER_PORT || d.dst.port == PXE_BOOT_SERVER_PORT) &&
	    (d.dst.ip == dp->self.ip || (d.dst.ip == INADDR_BROADCAST && d.dst.port == DHCP_SERVER_PORT))) {
		handle_dhcp(w, &d, now);
		return false;
	}
	if (r == NET_OK && d.dst.ip != dp->self.ip)
		r = NET_DROP_not_for_us;
	if (r == NET_OK && !is_tftp_port(dp, d.dst.port))
		r = NET_DROP_no_handler;
	if (r != NET_OK) {
		w->counters.drops[r]++;
		return false;
	}
	owner = tftp_owner(dp, &d);
	if (owner != w->queue)
		return hand_off(w, dp->workers[owner], m);
	tftp_server_input(w->tftp, &d.src, d.dst.port, d.payload, d.payload_len, now);
	return false;
}

static void swap_in_pending_cache(struct worker *w)
{
	struct cache *next = __atomic_exchange_n(&w->pending, NULL, __ATOMIC_ACQ_REL);

	if (!next)
		return;
	tftp_server_set_cache(w->tftp, next); /* the server takes its own reference */
	cache_unref(next);
	w->counters.cache_swaps++;
}

/* Receives a burst on the worker's queue; what belongs to another worker goes
 * to its inbox rather than back to the pool. */
static uint16_t poll_queue(struct worker *w, uint64_t now)
{
	struct rte_mbuf *burst[BURST_SIZE];
	uint16_t n = rte_eth_rx_burst(w->dp->port_id, w->queue, burst, BURST_SIZE);
	unsigned full = n == BURST_SIZE ? w->full_bursts + 1 : 0;

	/* Behind after two full bursts in a row (64 datagrams waited at least):
	 * the TFTP server sheds the requests a flood sends (tftp_server.h). */
	if ((full >= BEHIND_AFTER_FULL_BURSTS) != (w->full_bursts >= BEHIND_AFTER_FULL_BURSTS))
		tftp_server_set_behind(w->tftp, full >= BEHIND_AFTER_FULL_BURSTS);
	w->full_bursts = full;
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(burst[i + 1], void *));
		w->counters.rx_packets++;
		w->counters.rx_bytes += rte_pktmbuf_pkt_len(burst[i]);
		if (handle_frame(w, burst[i], now))
			burst[i] = NULL; /* rte_pktmbuf_free_bulk skips it */
	}
	if (n)
		rte_pktmbuf_free_bulk(burst, n);
	return n;
}

/* Datagrams other workers received for this one (they counted them as received). */
static unsigned poll_inbox(struct worker *w, uint64_t now)
{
	struct rte_mbuf *burst[BURST_SIZE];
	unsigned n;

	if (!w->inbox)
		return 0;
	n = rte_ring_sc_dequeue_burst(w->inbox, (void **)burst, BURST_SIZE, NULL);
	for (unsigned i = 0; i < n; i++)
		handle_frame(w, burst[i], now); /* the owner is this worker: never handed on again */
	if (n)
		rte_pktmbuf_free_bulk(burst, n);
	return n;
}

static void run_loop(struct worker *w)
{
	uint64_t next_tick = 0;
	unsigned idle = 0;

	while (!stop_requested) {
		uint64_t now = now_us(w->dp);
		unsigned n;

		__atomic_store_n(&w->loop_epoch, w->loop_epoch + 1, __ATOMIC_RELEASE);
		n = poll_queue(w, now);
		n += poll_inbox(w, now);
		if (now >= next_tick) {
			swap_in_pending_cache(w);
			tftp_server_tick(w->tftp, now);
			next_tick = now + TICK_INTERVAL_US;
		}
		rte_eth_tx_buffer_flush(w->dp->port_id, w->queue, w->tx_buffer);
		drain_backlog(w);

		if (n) {
			idle = 0;
		} else if (++idle >= IDLE_POLLS_BEFORE_NAP) {
			struct timespec nap = { .tv_nsec = IDLE_NAP_NS };

			nanosleep(&nap, NULL);
		}
	}
}

static int run_worker(void *arg)
{
	run_loop(arg);
	return 0;
}

/* ---- control thread callbacks ---- */

/* The workers' counters added up: they are per lcore so that no loop ever
 * writes a cache line another one writes (DESIGN.md: summed only when read). */
struct totals {
	struct dp_counters dp;
	struct tftp_counters tftp;
	struct proxy_dhcp_counters dhcp;
	uint64_t events_lost;
	uint32_t active_sessions, backlog;
};

static void add_up(const struct dataplane *dp, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct worker *w = dp->workers[i];
		const struct tftp_counters *tc = tftp_server_counters(w->tftp);

#define ADD_DP(name) t->dp.name += w->counters.name;
		DP_COUNTERS(ADD_DP)
#undef ADD_DP
#define ADD_TFTP(name, help) t->tftp.name += tc->name;
		TFTP_COUNTERS(ADD_TFTP)
#undef ADD_TFTP
		for (int r = 0; r < NET_DROP_COUNT; r++)
			t->dp.drops[r] += w->counters.drops[r];
		for (int k = 0; k < PROXY_RX_COUNT; k++)
			t->dhcp.received[k] += w->dhcp.received[k];
		for (int k = 0; k < PROXY_DECISION_COUNT; k++)
			t->dhcp.decisions[k] += w->dhcp.decisions[k];
		t->events_lost += w->events_lost;
		t->active_sessions += tftp_server_active_sessions(w->tftp);
		t->backlog += __atomic_load_n(&w->backlog_n, __ATOMIC_RELAXED);
	}
}

static void print_stats(void *ctx, FILE *out)
{
	struct dataplane *dp = ctx;
	struct totals sum;
	const struct tftp_counters *t = &sum.tftp;
	struct cache *latest = __atomic_load_n(&dp->latest, __ATOMIC_ACQUIRE);
	static const char *const verdict_names[] = SP_XDP_VERDICT_NAMES;

	add_up(dp, &sum);
#define PRINT_DP(name) fprintf(out, #name " %llu\n", (unsigned long long)sum.dp.name);
	DP_COUNTERS(PRINT_DP)
#undef PRINT_DP
	for (int r = 1; r < NET_DROP_COUNT; r++)
		fprintf(out, "drop_%s %llu\n", net_drop_name(r), (unsigned long long)sum.dp.drops[r]);
#define PRINT_TFTP(name, help) fprintf(out, "tftp_" #name " %llu\n", (unsigned long long)t->name);
	TFTP_COUNTERS(PRINT_TFTP)
#undef PRINT_TFTP
	fprintf(out, "tftp_active_sessions %u\n", sum.active_sessions);
	fprintf(out, "tx_backlog %u\n", sum.backlog);
	fprintf(out, "lcores %u\n", dp->n_workers);
	for (unsigned i = 0; dp->n_workers > 1 && i < dp->n_workers; i++) /* how the load spreads */
		fprintf(out, "lcore%u_rx_packets %llu\nlcore%u_tx_packets %llu\nlcore%u_tftp_transfers_started %llu\n", i,
			(unsigned long long)dp->workers[i]->counters.rx_packets, i,
			(unsigned long long)dp->workers[i]->counters.tx_packets, i,
			(unsigned long long)tftp_server_counters(dp->workers[i]->tftp)->transfers_started);
	{
		/* What the driver lost before we saw it: no RX descriptor or mbuf free. */
		struct rte_eth_stats ps;

		if (rte_eth_stats_get(dp->port_id, &ps) == 0)
			fprintf(out, "port_rx_missed %llu\nport_rx_errors %llu\nport_rx_nombuf %llu\nport_tx_errors %llu\n",
				(unsigned long long)ps.imissed, (unsigned long long)ps.ierrors,
				(unsigned long long)ps.rx_nombuf, (unsigned long long)ps.oerrors);
	}
	if (latest) {
		const struct cache_stats *cs = cache_stats(latest);

		fprintf(out, "cache_files %llu\ncache_bytes %llu\ncache_budget_bytes %llu\n",
			(unsigned long long)cs->files, (unsigned long long)cs->bytes,
			(unsigned long long)cache_budget(latest));
		fprintf(out, "cache_skipped_outside_root %llu\ncache_skipped_special %llu\n"
			     "cache_skipped_unreadable %llu\n",
			(unsigned long long)cs->skipped_outside_root, (unsigned long long)cs->skipped_special,
			(unsigned long long)cs->skipped_unreadable);
	}
	fprintf(out, "cache_reloads_ok %llu\ncache_reloads_failed %llu\ncache_versions_freed %llu\n",
		(unsigned long long)dp->reloads_ok, (unsigned long long)dp->reloads_failed,
		(unsigned long long)dp->versions_freed);
	for (int k = 0; k < PROXY_RX_COUNT; k++)
		fprintf(out, "dhcp_received_%s %llu\n", proxy_msg_kind_name(k), (unsigned long long)sum.dhcp.received[k]);
	for (int k = 0; k < PROXY_DECISION_COUNT; k++)
		fprintf(out, "dhcp_%s %llu\n", proxy_decision_name(k), (unsigned long long)sum.dhcp.decisions[k]);
	fprintf(out, "dhcp_policy_loaded %d\npolicies_applied %llu\npolicies_refused %llu\nevents_lost %llu\n",
		__atomic_load_n(&dp->policy, __ATOMIC_RELAXED) != NULL, (unsigned long long)dp->policies_applied,
		(unsigned long long)dp->policies_refused, (unsigned long long)sum.events_lost);
	if (dp->have_xdp) {
		uint64_t verdicts[SP_XDP_VERDICT_COUNT];

		if (xdp_maps_read_verdicts(&dp->xdp, verdicts) == 0)
			for (int v = 0; v < SP_XDP_VERDICT_COUNT; v++)
				fprintf(out, "xdp_%s %llu\n", verdict_names[v], (unsigned long long)verdicts[v]);
	}
}

/* Runs where the last reference is dropped (usually the polling core): queue the
 * version for the control thread, which frees it (free_retired). */
static bool retire_version(void *ctx, struct cache *version)
{
	struct dataplane *dp = ctx;

	return dp->retired && rte_ring_enqueue(dp->retired, version) == 0;
}

static void free_retired(void *ctx)
{
	struct dataplane *dp = ctx;
	void *version;

	while (dp->retired && rte_ring_dequeue(dp->retired, &version) == 0) {
		cache_free(version);
		dp->versions_freed++;
	}
}

static int load_cache(struct dataplane *dp, struct cache **out, char *msg, size_t len)
{
	int r = cache_load_with_images(dp->opts.tftp_root, dp->images, dp->n_images,
				       (uint64_t)dp->opts.cache_mb << 20, &hugepage_allocator, out, msg, len);

	if (r == 0)
		cache_set_release(*out, retire_version, dp);
	return r;
}

static void describe_cache(const struct cache *c, const char *root, char *msg, size_t len)
{
	const struct cache_stats *s = cache_stats(c);

	snprintf(msg, len, "%llu files, %.1f MiB from %s (skipped: %llu outside the root, %llu special, %llu unreadable)",
		 (unsigned long long)s->files, (double)s->bytes / 1048576.0, root,
		 (unsigned long long)s->skipped_outside_root, (unsigned long long)s->skipped_special,
		 (unsigned long long)s->skipped_unreadable);
}

static int reload_cache(void *ctx, char *msg, size_t len)
{
	struct dataplane *dp = ctx;
	struct cache *fresh, *previous;
	int r = load_cache(dp, &fresh, msg, len);

	if (r < 0) {
		dp->reloads_failed++;
		return r;
	}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		cache_ref(fresh); /* one per loop, and the load's own for `latest` */
		previous = __atomic_exchange_n(&dp->workers[i]->pending, fresh, __ATOMIC_ACQ_REL);
		cache_unref(previous); /* a version the loop never picked up */
	}
	previous = __atomic_exchange_n(&dp->latest, fresh, __ATOMIC_ACQ_REL);
	cache_unref(previous);
	dp->reloads_ok++;
	describe_cache(fresh, dp->opts.tftp_root, msg, len);
	return 0;
}

/* Whether every loop has turned twice since the epochs in start were read. */
static bool all_loops_turned(const struct dataplane *dp, const uint64_t *start)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (__atomic_load_n(&dp->workers[i]->loop_epoch, __ATOMIC_ACQUIRE) < start[i] + 2)
			return false;
	return true;
}

/* A polling core may hold the old policy for the rest of one loop turn:
 * wait until every loop has turned twice (bounded: a loop stuck for a second
 * is a bug, and leaking one policy is better than freeing one in use). */
static void retire_policy(struct dataplane *dp, struct proxy_policy *old)
{
	uint64_t start[DP_MAX_LCORES];

	if (!old)
		return;
	for (unsigned i = 0; i < dp->n_workers; i++)
		start[i] = __atomic_load_n(&dp->workers[i]->loop_epoch, __ATOMIC_ACQUIRE);
	for (int i = 0; i < 1000; i++) {
		struct timespec ms = { .tv_nsec = 1000000 };

		if (all_loops_turned(dp, start)) {
			proxy_policy_free(old);
			return;
		}
		if (stop_requested && dp->n_stale_policies < STALE_POLICIES_MAX) {
			/* The loop may be in its last burst: freed after it returns. */
			dp->stale_policies[dp->n_stale_policies++] = old;
			return;
		}
		nanosleep(&ms, NULL);
	}
	fprintf(stderr, "stampede-dataplane: warning: the polling loop did not turn in 1 s; "
				"an old policy is left allocated\n");
}

static struct sp_xdp_config xdp_config(const struct dataplane *dp, bool steer)
{
	return (struct sp_xdp_config){
		.server_ip = dp->self.ip,
		.tftp_port_lo = dp->opts.tftp.port_lo,
		.tftp_port_hi = dp->opts.tftp.port_hi,
		.steer_dhcp = steer,
		.dhcp_gap_ns = dp->opts.dhcp_rate ? 1000000000u / dp->opts.dhcp_rate : 0,
		.tftp_request_gap_ns = dp->opts.tftp_request_rate ? 1000000000u / dp->opts.tftp_request_rate : 0,
	};
}

static void steer_dhcp(struct dataplane *dp, bool on)
{
	struct sp_xdp_config cfg = xdp_config(dp, on);
	int r;

	if (dp->have_xdp && (r = xdp_maps_configure(&dp->xdp, &cfg)) < 0)
		fprintf(stderr, "stampede-dataplane: warning: cannot update the XDP filter: %s\n", strerror(-r));
}

static int apply_policy(void *ctx, const char *text, size_t text_len, char *msg, size_t len)
{
	struct dataplane *dp = ctx;
	char err[256];
	struct proxy_policy *fresh = proxy_policy_parse(text, text_len, err, sizeof(err)), *old;
	char ip[INET_ADDRSTRLEN];
	unsigned archs = 0;

	if (!fresh) {
		dp->policies_refused++;
		snprintf(msg, len, "policy: %s", err);
		return -EINVAL;
	}
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		archs += fresh->arch[a].boot_file[0] != 0;
	old = __atomic_exchange_n(&dp->policy, fresh, __ATOMIC_ACQ_REL);
	/* 67 and 4011 come to us only once there is something to answer with. */
	if (!old)
		steer_dhcp(dp, true);
	retire_policy(dp, old);
	dp->policies_applied++;
	inet_ntop(AF_INET, &(struct in_addr){ fresh->server_ip }, ip, sizeof(ip));
	snprintf(msg, len,
		 "policy applied: proxyDHCP answers as %s, boot files for %u architectures, iPXE script %s, "
		 "%zu allowed and %zu denied MACs, %zu allowed and %zu denied subnets, unmatched machines %s",
		 ip, archs, fresh->script_url[0] ? fresh->script_url : "(none)", fresh->allow_macs.n,
		 fresh->deny_macs.n, fresh->allow_subnets.n, fresh->deny_subnets.n,
		 fresh->answer_unmatched ? "answered" : "ignored");
	return 0;
}

/* "images 1": NAME=/absolute/path lines; they take effect at the next reload. */
static int apply_images(void *ctx, const char *text, size_t text_len, char *msg, size_t len)
{
	struct dataplane *dp = ctx;
	struct cache_image images[DP_MAX_IMAGES];
	char *storage = malloc(text_len + 1), *line, *next;
	size_t n = 0;

	if (!storage) {
		snprintf(msg, len, "images: out of memory");
		return -ENOMEM;
	}
	memcpy(storage, text, text_len);
	storage[text_len] = '\0';
	for (line = storage; line && *line; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq || eq == line || eq[1] != '/' || n == DP_MAX_IMAGES) {
			snprintf(msg, len, "images: \"%.60s\": expected NAME=/absolute/path, at most %d", line,
				 DP_MAX_IMAGES);
			free(storage);
			return -EINVAL;
		}
		*eq = '\0';
		images[n++] = (struct cache_image){ line, eq + 1 };
	}
	free(dp->images_storage);
	dp->images_storage = storage;
	memcpy(dp->images, images, n * sizeof(images[0]));
	dp->n_images = n;
	snprintf(msg, len, "images: %zu boot files from outside the root, read at the next reload", n);
	return 0;
}

static size_t drain_events(void *ctx, char *buf, size_t cap)
{
	struct dataplane *dp = ctx;
	struct dp_event e;
	size_t used = 0;

	if (!dp->events)
		return 0;
	/* 512 bytes is more than any formatted line: stop before one could not fit. */
	while (cap - used > 512 && rte_ring_sc_dequeue_elem(dp->events, &e, sizeof(e)) == 0)
		used += dp_event_format(&e, dp->wall_offset_us, buf + used, cap - used);
	return used;
}

/* ---- the polling loops ---- */

/* Mbufs per queue's pool: 2^n - 1 (the mempool's optimum), split between the
 * queues so that memory does not grow with --lcores. */
static unsigned pool_size(unsigned n_workers)
{
	unsigned size = MBUF_COUNT;

	while (n_workers > 1 && size > 4095) {
		size = (size - 1) / 2;
		n_workers = (n_workers + 1) / 2;
	}
	return size;
}

/* Everything a worker needs but its TFTP server (that waits for the cache). */
static int create_worker(struct dataplane *dp, unsigned k)
{
	char name[RTE_MEMZONE_NAMESIZE];
	struct worker *w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE, (int)rte_socket_id());

	if (!w)
		return -ENOMEM;
	dp->workers[k] = w;
	w->dp = dp;
	w->queue = (uint16_t)k;
	snprintf(name, sizeof(name), "stampede_mbufs%u", k);
	w->pool = rte_pktmbuf_pool_create(name, pool_size(dp->n_workers), MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	w->tx_buffer = rte_zmalloc_socket("tx_buffer", RTE_ETH_TX_BUFFER_SIZE(BURST_SIZE), 0, (int)rte_socket_id());
	if (!w->pool || !w->tx_buffer || rte_eth_tx_buffer_init(w->tx_buffer, BURST_SIZE) < 0 ||
	    rte_eth_tx_buffer_set_err_callback(w->tx_buffer, tx_unsent, w) < 0)
		return -ENOMEM;
	if (dp->n_workers > 1) {
		snprintf(name, sizeof(name), "stampede_inbox%u", k);
		w->inbox = rte_ring_create(name, INBOX_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
		if (!w->inbox)
			return -ENOMEM;
	}
	return 0;
}

/* Worker k's TFTP server: its part of the session ports and its share of the
 * session limit (lcores.h), its own port seed. */
static int start_tftp(struct dataplane *dp, unsigned k, const struct tftp_tx *tx_template, struct cache *first)
{
	struct worker *w = dp->workers[k];
	struct tftp_config cfg = dp->opts.tftp;
	struct tftp_tx tx = *tx_template;

	lcore_split_range(&dp->split, k, &cfg.port_lo, &cfg.port_hi);
	cfg.max_sessions = lcore_split_sessions(&dp->split, k, dp->opts.tftp.max_sessions);
	cfg.port_seed = dp->opts.tftp.port_seed + k * 0x9e3779b97f4a7c15ull;
	if (!cfg.port_seed)
		cfg.port_seed = 1;
	tx.ctx = w;
	w->tftp = tftp_server_create(&cfg, &tx);
	if (!w->tftp)
		return -errno;
	tftp_server_set_cache(w->tftp, first);
	tftp_server_set_journal(w->tftp, dp->journal);
	return 0;
}

/* The journal beside the instance lock: whoever holds the lock owns it. A
 * dataplane without one still serves; its transfers just end with it. */
static void open_journal(struct dataplane *dp)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), INSTANCE_LOCK_DIR "/%s.sessions", dp->opts.iface);
	r = session_journal_open(path, dp->opts.tftp.port_lo, dp->opts.tftp.port_hi, &dp->journal);
	if (r < 0)
		fprintf(stderr, "stampede-dataplane: warning: no transfer journal (%s: %s): transfers will not "
				"survive a restart\n", path, strerror(-r));
}

static void destroy_worker(struct worker *w)
{
	void *m = NULL;

	if (!w)
		return;
	rte_pktmbuf_free_bulk(w->backlog, w->backlog_n);
	rte_pktmbuf_free_bulk(w->tx_stash, w->tx_stash_n);
	while (w->inbox && rte_ring_sc_dequeue(w->inbox, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(w->inbox);
	tftp_server_destroy(w->tftp);
	cache_unref(__atomic_exchange_n(&w->pending, NULL, __ATOMIC_ACQ_REL));
	rte_free(w->tx_buffer);
	rte_free(w); /* the pool goes with EAL */
}

/* Worker 0 runs on the main lcore, the others on the worker lcores in order. */
static int run_workers(struct dataplane *dp)
{
	unsigned k = 1, lcore;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (k == dp->n_workers)
			break;
		if (rte_eal_remote_launch(run_worker, dp->workers[k++], lcore) != 0) {
			stop_requested = 1;
			rte_eal_mp_wait_lcore();
			return -EBUSY;
		}
	}
	run_loop(dp->workers[0]);
	rte_eal_mp_wait_lcore();
	return 0;
}

/* ---- start-up ---- */

static const char *default_xdp_prog(char *buf, size_t len)
{
	return self_sibling_path("bpf/stampede_xdp.bpf.o", buf, len) == 0 ? buf : "bpf/stampede_xdp.bpf.o";
}

/* Before EAL: everything the kernel can tell us about the interface, so that a
 * typo gets a clear message rather than a DPDK probe failure. */
static int resolve_interface(struct dataplane *dp, unsigned *mtu, char *err, size_t len)
{
	struct in_addr a;
	int r;

	if (if_nametoindex(dp->opts.iface) == 0) {
		snprintf(err, len, "no such interface: %s (see ip link)", dp->opts.iface);
		return -ENODEV;
	}
	if (dp->opts.addr) {
		if (inet_pton(AF_INET, dp->opts.addr, &a) != 1) {
			snprintf(err, len, "--addr %s: not an IPv4 address", dp->opts.addr);
			return -EINVAL;
		}
		dp->self.ip = a.s_addr;
	} else if ((r = iface_ipv4(dp->opts.iface, &dp->self.ip)) < 0) {
		snprintf(err, len, "interface %s has no IPv4 address: give it one (ip addr add ...) or pass --addr",
			 dp->opts.iface);
		return r;
	}
	*mtu = dp->opts.mtu;
	if (!*mtu && (r = iface_mtu(dp->opts.iface, mtu)) < 0) {
		snprintf(err, len, "cannot read the MTU of %s: %s", dp->opts.iface, strerror(-r));
		return r;
	}
	if (*mtu < TFTP_BLKSIZE_DEFAULT + 32) {
		snprintf(err, len, "MTU %u of %s is too small for 512-byte TFTP blocks (needs at least %u)", *mtu,
			 dp->opts.iface, TFTP_BLKSIZE_DEFAULT + 32);
		return -EINVAL;
	}
	if ((r = iface_check_private_ports(dp->opts.tftp.port_lo, dp->opts.tftp.port_hi, err, len)) < 0)
		return r;
	r = iface_rx_queues(dp->opts.iface);
	if (dp->opts.pmd == DP_PMD_AF_XDP && r > 0 && (unsigned)r < dp->opts.lcores) {
		snprintf(err, len, "--lcores %u needs as many receive queues, and %s has %d (ethtool -L, or "
				   "numrxqueues/numtxqueues for a veth)",
			 dp->opts.lcores, dp->opts.iface, r);
		return -EINVAL;
	}
	if (r > (int)dp->opts.lcores && dp->opts.pmd == DP_PMD_AF_XDP)
		fprintf(stderr,
			"stampede-dataplane: warning: %s has %d receive queues and only %u %s served: "
			"run `ethtool -L %s combined %u` (or steer UDP to them with ethtool -N)\n",
			dp->opts.iface, r, dp->opts.lcores, dp->opts.lcores == 1 ? "is" : "are", dp->opts.iface,
			dp->opts.lcores);
	return 0;
}

/* RFC 2348: a block must fit one datagram (MTU - IPv4 20 - UDP 8 - TFTP 4) and one mbuf. */
static uint16_t max_blksize(unsigned mtu, const struct rte_mempool *pool)
{
	size_t room = rte_pktmbuf_data_room_size((struct rte_mempool *)(uintptr_t)pool) - RTE_PKTMBUF_HEADROOM -
		      NET_UDP_HEADERS_LEN - TFTP_HEADER_LEN;
	size_t max = mtu - 32;

	if (max > room)
		max = room;
	if (max > TFTP_BLKSIZE_MAX)
		max = TFTP_BLKSIZE_MAX;
	return (uint16_t)max;
}

/* EAL keeps a runtime directory per file prefix (only used with --no-huge here)
 * and leaves it behind; remove what it put there. */
static void remove_runtime_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

static void configure_xdp(struct dataplane *dp)
{
	/* steer_dhcp stays 0 until a policy arrives (apply_policy): until then 67
	 * and 4011 remain the kernel's (a DHCP server on this host keeps working). */
	struct sp_xdp_config cfg = xdp_config(dp, false);
	int r;

	if (dp->opts.pmd != DP_PMD_AF_XDP)
		return;
	r = xdp_maps_open((int)if_nametoindex(dp->opts.iface), &dp->xdp);
	if (r == 0)
		r = xdp_maps_configure(&dp->xdp, &cfg);
	if (r < 0) {
		/* Not fatal: the PMD's own program, if any, still delivers everything. */
		fprintf(stderr, "stampede-dataplane: warning: cannot configure the XDP filter on %s: %s\n",
			dp->opts.iface, strerror(-r));
		return;
	}
	dp->have_xdp = true;
}

/*
 * The control thread (events, stats, reloads, the control socket) is created
 * after EAL pinned this thread to the polling core, and a thread inherits its
 * creator's CPUs: left there, every event it formats preempts the busy loop
 * for a scheduler slice (milliseconds of added DHCP and TFTP latency). So it is
 * created on the CPUs the process started with, less every polling lcore's;
 * when no CPU is left (every core polls), it stays where it is. Returns true
 * if this thread was moved (and *polling holds where to move it back).
 */
static bool move_off_polling_cores(const cpu_set_t *startup, cpu_set_t *polling)
{
	cpu_set_t others = *startup;
	unsigned lcore;

	if (sched_getaffinity(0, sizeof(*polling), polling) != 0)
		return false;
	RTE_LCORE_FOREACH(lcore) {
		rte_cpuset_t set = rte_lcore_cpuset(lcore);

		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &set))
				CPU_CLR(cpu, &others);
	}
	return CPU_COUNT(&others) > 0 && sched_setaffinity(0, sizeof(others), &others) == 0;
}

int main(int argc, char **argv)
{
	static struct dataplane dp;
	char err[512], eal_storage[2048], prog_buf[PATH_MAX], socket_path[108];
	char *eal_argv[PORT_EAL_MAX_ARGS];
	static char config_storage[CONFIG_MESSAGE_MAX];
	char *all_argv[256];
	int all_argc = 0;
	struct control_channel *channel = NULL;
	struct tftp_tx tx;
	struct cache *first;
	char runtime_dir[PATH_MAX];
	cpu_set_t startup_cpus;
	bool startup_cpus_known;
	unsigned mtu;
	int eal_argc, r;

	/* Started by the control plane: the settings arrive on its channel, and
	 * go before the command line's own options so that those win. */
	all_argv[all_argc++] = argv[0];
	all_argv[all_argc] = NULL;
	{
		int fd = config_message_fd(argc, argv);

		if (fd >= 0 && config_message_read(fd, CONTROL_FD_TIMEOUT_MS, config_storage, sizeof(config_storage),
						   all_argv, &all_argc, 128, err, sizeof(err)) < 0) {
			fprintf(stderr, "stampede-dataplane: %s\n", err);
			return 2;
		}
	}
	for (int i = 1; i < argc && all_argc < 255; i++)
		all_argv[all_argc++] = argv[i];
	all_argv[all_argc] = NULL;
	if (dp_options_parse(all_argc, all_argv, &dp.opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "stampede-dataplane: %s\n", err);
		return 2;
	}
	if (dp.opts.help) {
		dp_options_usage(stdout);
		return 0;
	}
	if (!dp.opts.xdp_prog)
		dp.opts.xdp_prog = default_xdp_prog(prog_buf, sizeof(prog_buf));
	if (dp.opts.pmd == DP_PMD_AF_XDP && access(dp.opts.xdp_prog, R_OK) < 0) {
		fprintf(stderr, "stampede-dataplane: XDP program %s: %s (build it, or pass --xdp-prog)\n",
			dp.opts.xdp_prog, strerror(errno));
		return 1;
	}
	if (resolve_interface(&dp, &mtu, err, sizeof(err)) < 0) {
		fprintf(stderr, "stampede-dataplane: %s\n", err);
		return 1;
	}
	if ((r = instance_lock(dp.opts.iface)) < 0) {
		fprintf(stderr, "stampede-dataplane: %s\n",
			r == -EWOULDBLOCK ? "another stampede-dataplane already serves this interface"
					  : "cannot take the lock in " INSTANCE_LOCK_DIR);
		return 1;
	}
	/* held (its descriptor open) until the process ends */
	if (port_eal_args(&dp.opts, dp.opts.xdp_prog, eal_storage, sizeof(eal_storage), eal_argv, &eal_argc) < 0) {
		fprintf(stderr, "stampede-dataplane: too many EAL arguments\n");
		return 2;
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGHUP, on_hup);
	signal(SIGPIPE, SIG_IGN); /* a control client that went away is an error code, not a death */
	startup_cpus_known = sched_getaffinity(0, sizeof(startup_cpus), &startup_cpus) == 0;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "stampede-dataplane: DPDK EAL init failed: %s "
				"(hugepages: run scripts/setup.sh, or pass --no-huge)\n",
			rte_strerror(rte_errno));
		return 1;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	dp.tsc_per_us = rte_get_tsc_hz() / 1000000u;
	if (dp.tsc_per_us == 0)
		dp.tsc_per_us = 1;
	r = 1;

	if (rte_eth_dev_count_avail() != 1) {
		fprintf(stderr, "stampede-dataplane: expected one DPDK port on %s, found %u%s\n", dp.opts.iface,
			rte_eth_dev_count_avail(),
			dp.opts.lcores > 1 && dp.opts.pmd == DP_PMD_AF_XDP
				? " (--lcores with af_xdp: DPDK 22.11's net_af_xdp wants as many *combined* channels, "
				  "see ethtool -l; a veth has separate RX and TX channels only)"
				: "");
		goto out_eal;
	}
	RTE_ETH_FOREACH_DEV(dp.port_id) break;

	dp.n_workers = dp.opts.lcores;
	if (rte_lcore_count() != dp.n_workers ||
	    lcore_split_init(&dp.split, dp.opts.tftp.port_lo, dp.opts.tftp.port_hi, dp.n_workers) < 0) {
		fprintf(stderr, "stampede-dataplane: %u polling loops need %u lcores and as many session ports; "
				"EAL has %u lcores\n",
			dp.n_workers, dp.n_workers, rte_lcore_count());
		goto out_eal;
	}
	for (unsigned k = 0; k < dp.n_workers; k++)
		if (create_worker(&dp, k) < 0) {
			fprintf(stderr, "stampede-dataplane: cannot create the buffers of polling loop %u: %s\n", k,
				rte_strerror(rte_errno));
			goto out_workers;
		}
	dp.opts.tftp.max_blksize = max_blksize(mtu, dp.workers[0]->pool);
	memcpy(dp.images, dp.opts.images, dp.opts.n_images * sizeof(dp.images[0]));
	dp.n_images = dp.opts.n_images;
	dp.events = rte_ring_create_elem("stampede_events", sizeof(struct dp_event), EVENT_RING_SIZE,
					 (int)rte_socket_id(), RING_F_SC_DEQ); /* every loop enqueues */
	{
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		dp.wall_offset_us = (uint64_t)wall.tv_sec * 1000000u + (uint64_t)wall.tv_nsec / 1000u - now_us(&dp);
	}
	/* A handful of versions can be retired between two control-thread rounds;
	 * should the ring ever be full, the polling core frees inline instead.
	 * Enqueued by every loop and the control thread. */
	dp.retired = rte_ring_create("stampede_retired", 64, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (load_cache(&dp, &first, err, sizeof(err)) < 0) {
		fprintf(stderr, "stampede-dataplane: %s\n", err);
		goto out_workers;
	}
	dp.latest = first;
	describe_cache(first, dp.opts.tftp_root, err, sizeof(err));
	fprintf(stderr, "stampede-dataplane: image cache: %s\n", err);

	tx = (struct tftp_tx){ .alloc = tx_alloc, .send = tx_send, .event = tftp_event,
			       .payload_cap = rte_pktmbuf_data_room_size(dp.workers[0]->pool) - RTE_PKTMBUF_HEADROOM -
					      NET_UDP_HEADERS_LEN };
	/* A DHCP reply goes out in one frame, like a TFTP block. */
	dp.dhcp_cap = tx.payload_cap < mtu - 28 ? tx.payload_cap : mtu - 28;
	if (dp.dhcp_cap > sizeof(dp.workers[0]->dhcp_reply))
		dp.dhcp_cap = sizeof(dp.workers[0]->dhcp_reply);
	if (getrandom(&dp.opts.tftp.port_seed, sizeof(dp.opts.tftp.port_seed), 0) < 0 || !dp.opts.tftp.port_seed)
		dp.opts.tftp.port_seed = rte_get_tsc_cycles() | 1;
	open_journal(&dp);
	for (unsigned k = 0; k < dp.n_workers; k++)
		if (start_tftp(&dp, k, &tx, first) < 0) {
			fprintf(stderr, "stampede-dataplane: invalid TFTP limits: %s\n", strerror(errno));
			goto out_workers;
		}
	{
		struct rte_mempool *pools[DP_MAX_LCORES];

		for (unsigned k = 0; k < dp.n_workers; k++)
			pools[k] = dp.workers[k]->pool;
		r = port_start(dp.port_id, pools, (uint16_t)dp.n_workers);
	}
	if (r < 0) {
		fprintf(stderr, "stampede-dataplane: cannot start the port on %s: %s\n", dp.opts.iface, strerror(-r));
		r = 1;
		goto out_workers;
	}
	r = 1;
	{
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(dp.port_id, &mac);
		memcpy(dp.self.mac, mac.addr_bytes, NET_ETH_ALEN);
	}
	configure_xdp(&dp);

	if (dp.opts.stats_socket)
		snprintf(socket_path, sizeof(socket_path), "%s", dp.opts.stats_socket);
	else
		snprintf(socket_path, sizeof(socket_path), "/run/stampede/%s.sock", dp.opts.iface);
	{
		const struct control_ops ops = { .stats = print_stats, .reload = reload_cache, .policy = apply_policy,
						 .images = apply_images,
						 .events = drain_events, .housekeeping = free_retired, .ctx = &dp };
		cpu_set_t polling;
		bool moved = startup_cpus_known && move_off_polling_cores(&startup_cpus, &polling);
		int cr = control_channel_start(socket_path, dp.opts.control_fd, &ops, &reload_requested, &channel);

		if (moved)
			sched_setaffinity(0, sizeof(polling), &polling);

		if (cr < 0) {
			fprintf(stderr, "stampede-dataplane: control socket %s: %s\n", socket_path, strerror(-cr));
			goto out_port;
		}
	}
	{
		char ip[INET_ADDRSTRLEN];
		struct in_addr a = { dp.self.ip };

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		fprintf(stderr,
			"stampede-dataplane: serving TFTP on %s (%s), %s, blksize up to %u, windowsize up to %u, "
			"%u sessions (%u per client) on ports %u-%u, control socket %s%s\n",
			dp.opts.iface, ip,
			dp.opts.pmd == DP_PMD_AF_XDP ? (dp.have_xdp ? "af_xdp with XDP steering" : "af_xdp")
						     : (dp.opts.pmd == DP_PMD_PCAP ? "pcap" : "af_packet"),
			dp.opts.tftp.max_blksize, dp.opts.tftp.max_windowsize, dp.opts.tftp.max_sessions,
			dp.opts.tftp.max_sessions_per_client, dp.opts.tftp.port_lo, dp.opts.tftp.port_hi,
			socket_path, dp.opts.no_huge ? ", without hugepages" : "");
	}

	/* Everything that needed privileges is done; a control plane detaches the
	 * XDP program once we have exited, alone we must keep what that takes. */
	if (privileges_drop_dataplane(dp.opts.pmd == DP_PMD_AF_XDP && dp.opts.control_fd < 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "stampede-dataplane: %s\n", err);
		control_channel_stop(channel);
		goto out_port;
	}
	fprintf(stderr, "stampede-dataplane: %s\n", err);
	{
		char ready[200], ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &(struct in_addr){ dp.self.ip }, ip, sizeof(ip));
		snprintf(ready, sizeof(ready), "ready %d ip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x pid=%d tag=%s\n",
			 CONTROL_PROTOCOL_VERSION, ip, dp.self.mac[0], dp.self.mac[1], dp.self.mac[2], dp.self.mac[3],
			 dp.self.mac[4], dp.self.mac[5], (int)getpid(), dp.opts.instance_tag ? dp.opts.instance_tag : "-");
		control_channel_announce(channel, ready);
	}
	if (run_workers(&dp) < 0)
		fprintf(stderr, "stampede-dataplane: cannot start the polling loops on their lcores\n");
	else
		r = 0;
	fprintf(stderr, "stampede-dataplane: stopping\n");

	control_channel_stop(channel);
	proxy_policy_free(__atomic_exchange_n(&dp.policy, NULL, __ATOMIC_ACQ_REL));
	for (unsigned i = 0; i < dp.n_stale_policies; i++)
		proxy_policy_free(dp.stale_policies[i]);
out_port:
	if (dp.have_xdp)
		xdp_maps_close(&dp.xdp);
	rte_eth_dev_stop(dp.port_id);
	if (!privileges_may_detach_xdp()) /* its control plane does it: no error for the attempt */
		rte_log_set_level_pattern("pmd.net.af_xdp", RTE_LOG_CRIT);
	rte_eth_dev_close(dp.port_id); /* net_af_xdp removes its XDP program here */
out_workers:
	for (unsigned k = 0; k < dp.n_workers; k++)
		destroy_worker(dp.workers[k]); /* after the port: the driver held some of their mbufs */
	/* Its entries stay: a dataplane started after this one carries them on. */
	session_journal_close(dp.journal);
	cache_unref(dp.latest);
	free_retired(&dp);
	rte_ring_free(dp.retired);
	rte_ring_free(dp.events);
	free(dp.images_storage);
out_eal:
	rte_eal_cleanup();
	if (dp.opts.no_huge)
		remove_runtime_dir(runtime_dir);
	return r;
}
