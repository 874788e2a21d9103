/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stampede-dataplane: one DPDK port, one polling loop.
 *
 * The loop is the l2fwd shape: receive a burst, hand each datagram to its
 * protocol, flush the TX buffer, fire due timers. Everything slow happens on
 * the control thread (control_channel.c): reading the TFTP root for a reload,
 * answering stats requests. A new cache version reaches the loop through one
 * atomic pointer; the loop swaps it in between bursts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
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
#include "net.h"
#include "options.h"
#include "port.h"
#include "proxy_dhcp.h"
#include "proxy_policy.h"
#include "self_path.h"
#include "tftp_packet.h"
#include "tftp_server.h"
#include "xdp_maps.h"

#define BURST_SIZE        32
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
	X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes) X(tx_dropped) X(cache_swaps)

struct dp_counters {
#define DP_COUNTER_FIELD(name) uint64_t name;
	DP_COUNTERS(DP_COUNTER_FIELD)
#undef DP_COUNTER_FIELD
	uint64_t drops[NET_DROP_COUNT];
};

struct dataplane {
	struct dp_options opts;
	uint16_t port_id;
	struct net_endpoint self;
	struct rte_mempool *pool;
	struct rte_eth_dev_tx_buffer *tx_buffer;
	uint16_t ip_id;
	struct tftp_server *tftp;
	struct dp_counters counters;
	struct xdp_maps xdp;
	bool have_xdp;
	struct rte_mbuf *backlog[TX_BACKLOG];
	uint32_t backlog_n;
	/* Cache versions: the control thread keeps `latest` (one reference) and
	 * hands the loop another reference through `pending`. */
	struct cache *latest;
	struct cache *pending;
	struct rte_ring *retired; /* versions whose last reference went on the polling core */
	uint64_t reloads_ok, reloads_failed;
	uint64_t versions_freed; /* by the control thread, off the polling core */
	uint64_t tsc_per_us;
	/* proxyDHCP: the policy the control thread swapped in (NULL: none yet, 67
	 * and 4011 stay with the kernel), its scratch message and counters. */
	struct proxy_policy *policy;
	uint64_t loop_epoch; /* bumped every loop turn: when it moves, an old policy is unused */
	struct dhcp_message dhcp_msg;
	struct proxy_dhcp_counters dhcp;
	size_t dhcp_cap;
	/* Replies are built here and copied into an mbuf only when there is one:
	 * most of what reaches 67 is the site's DHCP traffic, answered by nobody. */
	uint8_t dhcp_reply[RTE_MBUF_DEFAULT_DATAROOM];
	uint64_t policies_applied, policies_refused;
	struct rte_ring *events;
	uint64_t events_lost; /* the ring was full */
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

static void backlog_push(struct dataplane *dp, struct rte_mbuf *m)
{
	if (dp->backlog_n < TX_BACKLOG) {
		dp->backlog[dp->backlog_n++] = m;
	} else {
		rte_pktmbuf_free(m);
		dp->counters.tx_dropped++;
	}
}

/* rte_eth_tx_buffer's callback for frames the driver refused. */
static void tx_unsent(struct rte_mbuf **pkts, uint16_t unsent, void *userdata)
{
	for (uint16_t i = 0; i < unsent; i++)
		backlog_push(userdata, pkts[i]);
}

static void drain_backlog(struct dataplane *dp)
{
	uint16_t sent;

	if (!dp->backlog_n)
		return;
	sent = rte_eth_tx_burst(dp->port_id, 0, dp->backlog,
				(uint16_t)(dp->backlog_n > UINT16_MAX ? UINT16_MAX : dp->backlog_n));
	dp->backlog_n -= sent;
	memmove(dp->backlog, dp->backlog + sent, dp->backlog_n * sizeof(dp->backlog[0]));
}

static uint8_t *tx_alloc(void *ctx, void **pkt)
{
	struct dataplane *dp = ctx;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

	if (!m)
		return NULL;
	*pkt = m;
	return rte_pktmbuf_mtod(m, uint8_t *) + NET_UDP_HEADERS_LEN;
}

static void tx_send(void *ctx, void *pkt, const struct net_endpoint *to, uint16_t src_port, size_t len,
		    int32_t payload_sum)
{
	struct dataplane *dp = ctx;
	struct rte_mbuf *m = pkt;
	struct net_endpoint src = dp->self;
	size_t frame_len;

	src.port = src_port;
	frame_len = payload_sum == TFTP_TX_SUM_UNKNOWN
			    ? net_build_udp(rte_pktmbuf_mtod(m, uint8_t *), &src, to, dp->ip_id++, len)
			    : net_build_udp_summed(rte_pktmbuf_mtod(m, uint8_t *), &src, to, dp->ip_id++, len,
						   (uint16_t)payload_sum);
	m->data_len = (uint16_t)frame_len;
	m->pkt_len = (uint32_t)frame_len;
	dp->counters.tx_packets++;
	dp->counters.tx_bytes += frame_len;
	if (dp->backlog_n)
		backlog_push(dp, m); /* behind what already waits, to keep the order */
	else
		rte_eth_tx_buffer(dp->port_id, 0, dp->tx_buffer, m);
}

static uint64_t now_us(const struct dataplane *dp)
{
	return rte_get_tsc_cycles() / dp->tsc_per_us;
}

static void push_event(struct dataplane *dp, const struct dp_event *e)
{
	if (dp->events && rte_ring_sp_enqueue_elem(dp->events, (void *)(uintptr_t)e, sizeof(*e)) != 0)
		dp->events_lost++;
}

static void tftp_event(void *ctx, enum tftp_event_kind kind, const struct net_endpoint *peer, const char *name,
		       uint64_t bytes)
{
	struct dataplane *dp = ctx;
	struct dp_event e = { .time_us = now_us(dp), .bytes = bytes, .peer = *peer, .type = DP_EVENT_TFTP,
			      .msg = (uint8_t)kind };

	snprintf(e.file, sizeof(e.file), "%s", name);
	push_event(dp, &e);
}

/* proxyDHCP: the answer is built and sent right here, no round trip. */
static void handle_dhcp(struct dataplane *dp, const struct net_udp_datagram *d, uint64_t now)
{
	const struct proxy_policy *policy = __atomic_load_n(&dp->policy, __ATOMIC_ACQUIRE);
	struct proxy_answer a;

	proxy_dhcp_handle(policy, d, dp->self.ip, &dp->dhcp_msg, dp->dhcp_reply, dp->dhcp_cap, &a, &dp->dhcp);
	if (a.len) {
		void *pkt = NULL;
		uint8_t *out = tx_alloc(dp, &pkt);

		if (out) {
			memcpy(out, dp->dhcp_reply, a.len);
			tx_send(dp, pkt, &a.to, a.src_port, a.len, TFTP_TX_SUM_UNKNOWN);
		} else {
			dp->counters.tx_dropped++;
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
		push_event(dp, &e);
	}
}

static void handle_frame(struct dataplane *dp, struct rte_mbuf *m, uint64_t now)
{
	struct net_udp_datagram d;
	enum net_drop r;

	dp->counters.rx_packets++;
	dp->counters.rx_bytes += rte_pktmbuf_pkt_len(m);
	r = m->nb_segs == 1 ? net_parse_udp(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &d)
			    : NET_DROP_bad_ip_length; /* our MTU never needs chained mbufs */
	if (r == NET_OK && (d.dst.port == DHCP_SERVER_PORT || d.dst.port == PXE_BOOT_SERVER_PORT) &&
	    (d.dst.ip == dp->self.ip || (d.dst.ip == INADDR_BROADCAST && d.dst.port == DHCP_SERVER_PORT))) {
		handle_dhcp(dp, &d, now);
		return;
	}
	if (r == NET_OK && d.dst.ip != dp->self.ip)
		r = NET_DROP_not_for_us;
	if (r == NET_OK && !tftp_server_owns_port(dp->tftp, d.dst.port))
		r = NET_DROP_no_handler;
	if (r != NET_OK) {
		dp->counters.drops[r]++;
		return;
	}
	tftp_server_input(dp->tftp, &d.src, d.dst.port, d.payload, d.payload_len, now);
}

static void swap_in_pending_cache(struct dataplane *dp)
{
	struct cache *next = __atomic_exchange_n(&dp->pending, NULL, __ATOMIC_ACQ_REL);

	if (!next)
		return;
	tftp_server_set_cache(dp->tftp, next); /* the server takes its own reference */
	cache_unref(next);
	dp->counters.cache_swaps++;
}

static void run_loop(struct dataplane *dp)
{
	struct rte_mbuf *burst[BURST_SIZE];
	uint64_t next_tick = 0;
	unsigned idle = 0;

	while (!stop_requested) {
		uint64_t now = now_us(dp);

		__atomic_store_n(&dp->loop_epoch, dp->loop_epoch + 1, __ATOMIC_RELEASE);
		uint16_t n = rte_eth_rx_burst(dp->port_id, 0, burst, BURST_SIZE);

		for (uint16_t i = 0; i < n; i++) {
			if (i + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(burst[i + 1], void *));
			handle_frame(dp, burst[i], now);
		}
		if (n)
			rte_pktmbuf_free_bulk(burst, n);
		if (now >= next_tick) {
			swap_in_pending_cache(dp);
			tftp_server_tick(dp->tftp, now);
			next_tick = now + TICK_INTERVAL_US;
		}
		rte_eth_tx_buffer_flush(dp->port_id, 0, dp->tx_buffer);
		drain_backlog(dp);

		if (n) {
			idle = 0;
		} else if (++idle >= IDLE_POLLS_BEFORE_NAP) {
			struct timespec nap = { .tv_nsec = IDLE_NAP_NS };

			nanosleep(&nap, NULL);
		}
	}
}

/* ---- control thread callbacks ---- */

static void print_stats(void *ctx, FILE *out)
{
	struct dataplane *dp = ctx;
	const struct tftp_counters *t = tftp_server_counters(dp->tftp);
	struct cache *latest = __atomic_load_n(&dp->latest, __ATOMIC_ACQUIRE);
	static const char *const verdict_names[] = SP_XDP_VERDICT_NAMES;

#define PRINT_DP(name) fprintf(out, #name " %llu\n", (unsigned long long)dp->counters.name);
	DP_COUNTERS(PRINT_DP)
#undef PRINT_DP
	for (int r = 1; r < NET_DROP_COUNT; r++)
		fprintf(out, "drop_%s %llu\n", net_drop_name(r), (unsigned long long)dp->counters.drops[r]);
#define PRINT_TFTP(name, help) fprintf(out, "tftp_" #name " %llu\n", (unsigned long long)t->name);
	TFTP_COUNTERS(PRINT_TFTP)
#undef PRINT_TFTP
	fprintf(out, "tftp_active_sessions %u\n", tftp_server_active_sessions(dp->tftp));
	fprintf(out, "tx_backlog %u\n", __atomic_load_n(&dp->backlog_n, __ATOMIC_RELAXED));
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
		fprintf(out, "dhcp_received_%s %llu\n", proxy_msg_kind_name(k), (unsigned long long)dp->dhcp.received[k]);
	for (int k = 0; k < PROXY_DECISION_COUNT; k++)
		fprintf(out, "dhcp_%s %llu\n", proxy_decision_name(k), (unsigned long long)dp->dhcp.decisions[k]);
	fprintf(out, "dhcp_policy_loaded %d\npolicies_applied %llu\npolicies_refused %llu\nevents_lost %llu\n",
		__atomic_load_n(&dp->policy, __ATOMIC_RELAXED) != NULL, (unsigned long long)dp->policies_applied,
		(unsigned long long)dp->policies_refused, (unsigned long long)dp->events_lost);
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
	cache_ref(fresh); /* one for `latest`, one for the loop */
	previous = __atomic_exchange_n(&dp->pending, fresh, __ATOMIC_ACQ_REL);
	cache_unref(previous); /* a version the loop never picked up */
	previous = __atomic_exchange_n(&dp->latest, fresh, __ATOMIC_ACQ_REL);
	cache_unref(previous);
	dp->reloads_ok++;
	describe_cache(fresh, dp->opts.tftp_root, msg, len);
	return 0;
}

/* The polling core may hold the old policy for the rest of one loop turn:
 * wait until the loop has turned twice (bounded: a loop stuck for a second is
 * a bug, and leaking one policy is better than freeing one in use). */
static void retire_policy(struct dataplane *dp, struct proxy_policy *old)
{
	uint64_t start = __atomic_load_n(&dp->loop_epoch, __ATOMIC_ACQUIRE);

	if (!old)
		return;
	for (int i = 0; i < 1000; i++) {
		struct timespec ms = { .tv_nsec = 1000000 };

		if (__atomic_load_n(&dp->loop_epoch, __ATOMIC_ACQUIRE) >= start + 2) {
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

static void steer_dhcp(struct dataplane *dp, bool on)
{
	struct sp_xdp_config cfg = {
		.server_ip = dp->self.ip,
		.tftp_port_lo = dp->opts.tftp.port_lo,
		.tftp_port_hi = dp->opts.tftp.port_hi,
		.steer_dhcp = on,
	};
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
	if ((r = iface_rx_queues(dp->opts.iface)) > 1 && dp->opts.pmd == DP_PMD_AF_XDP)
		fprintf(stderr,
			"stampede-dataplane: warning: %s has %d receive queues and only queue 0 is served: "
			"run `ethtool -L %s combined 1` (or steer UDP to queue 0 with ethtool -N)\n",
			dp->opts.iface, r, dp->opts.iface);
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
	struct sp_xdp_config cfg = {
		.server_ip = dp->self.ip,
		.tftp_port_lo = dp->opts.tftp.port_lo,
		.tftp_port_hi = dp->opts.tftp.port_hi,
	};
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
		fprintf(stderr, "stampede-dataplane: expected one DPDK port on %s, found %u\n", dp.opts.iface,
			rte_eth_dev_count_avail());
		goto out_eal;
	}
	RTE_ETH_FOREACH_DEV(dp.port_id) break;

	dp.pool = rte_pktmbuf_pool_create("stampede_mbufs", MBUF_COUNT, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!dp.pool) {
		fprintf(stderr, "stampede-dataplane: cannot create the mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out_eal;
	}
	dp.opts.tftp.max_blksize = max_blksize(mtu, dp.pool);
	memcpy(dp.images, dp.opts.images, dp.opts.n_images * sizeof(dp.images[0]));
	dp.n_images = dp.opts.n_images;
	dp.events = rte_ring_create_elem("stampede_events", sizeof(struct dp_event), EVENT_RING_SIZE,
					 (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	{
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		dp.wall_offset_us = (uint64_t)wall.tv_sec * 1000000u + (uint64_t)wall.tv_nsec / 1000u - now_us(&dp);
	}
	/* A handful of versions can be retired between two control-thread rounds;
	 * should the ring ever be full, the polling core frees inline instead. */
	dp.retired = rte_ring_create("stampede_retired", 64, (int)rte_socket_id(), RING_F_SC_DEQ); /* enqueued by both threads */
	if (load_cache(&dp, &first, err, sizeof(err)) < 0) {
		fprintf(stderr, "stampede-dataplane: %s\n", err);
		goto out_eal;
	}
	dp.latest = first;
	describe_cache(first, dp.opts.tftp_root, err, sizeof(err));
	fprintf(stderr, "stampede-dataplane: image cache: %s\n", err);

	tx = (struct tftp_tx){ .alloc = tx_alloc, .send = tx_send, .event = tftp_event, .ctx = &dp,
			       .payload_cap = rte_pktmbuf_data_room_size(dp.pool) - RTE_PKTMBUF_HEADROOM -
					      NET_UDP_HEADERS_LEN };
	/* A DHCP reply goes out in one frame, like a TFTP block. */
	dp.dhcp_cap = tx.payload_cap < mtu - 28 ? tx.payload_cap : mtu - 28;
	if (dp.dhcp_cap > sizeof(dp.dhcp_reply))
		dp.dhcp_cap = sizeof(dp.dhcp_reply);
	if (getrandom(&dp.opts.tftp.port_seed, sizeof(dp.opts.tftp.port_seed), 0) < 0 || !dp.opts.tftp.port_seed)
		dp.opts.tftp.port_seed = rte_get_tsc_cycles() | 1;
	dp.tftp = tftp_server_create(&dp.opts.tftp, &tx);
	if (!dp.tftp) {
		fprintf(stderr, "stampede-dataplane: invalid TFTP limits: %s\n", strerror(errno));
		goto out_cache;
	}
	tftp_server_set_cache(dp.tftp, first);

	dp.tx_buffer = rte_zmalloc_socket("tx_buffer", RTE_ETH_TX_BUFFER_SIZE(BURST_SIZE), 0, (int)rte_socket_id());
	if (!dp.tx_buffer || rte_eth_tx_buffer_init(dp.tx_buffer, BURST_SIZE) < 0 ||
	    rte_eth_tx_buffer_set_err_callback(dp.tx_buffer, tx_unsent, &dp) < 0) {
		fprintf(stderr, "stampede-dataplane: cannot set up the TX buffer\n");
		goto out_tftp;
	}
	if ((r = port_start(dp.port_id, dp.pool)) < 0) {
		fprintf(stderr, "stampede-dataplane: cannot start the port on %s: %s\n", dp.opts.iface, strerror(-r));
		r = 1;
		goto out_tftp;
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
		int cr = control_channel_start(socket_path, dp.opts.control_fd, &ops, &reload_requested, &channel);

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

	{
		char ready[160], ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &(struct in_addr){ dp.self.ip }, ip, sizeof(ip));
		snprintf(ready, sizeof(ready), "ready %d ip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x pid=%d\n",
			 CONTROL_PROTOCOL_VERSION, ip, dp.self.mac[0], dp.self.mac[1], dp.self.mac[2], dp.self.mac[3],
			 dp.self.mac[4], dp.self.mac[5], (int)getpid());
		control_channel_announce(channel, ready);
	}
	run_loop(&dp);
	fprintf(stderr, "stampede-dataplane: stopping\n");
	rte_pktmbuf_free_bulk(dp.backlog, dp.backlog_n);
	dp.backlog_n = 0;
	r = 0;

	control_channel_stop(channel);
	proxy_policy_free(__atomic_exchange_n(&dp.policy, NULL, __ATOMIC_ACQ_REL));
	for (unsigned i = 0; i < dp.n_stale_policies; i++)
		proxy_policy_free(dp.stale_policies[i]);
out_port:
	if (dp.have_xdp)
		xdp_maps_close(&dp.xdp);
	rte_eth_dev_stop(dp.port_id);
	rte_eth_dev_close(dp.port_id); /* net_af_xdp removes its XDP program here */
out_tftp:
	tftp_server_destroy(dp.tftp);
out_cache:
	cache_unref(__atomic_exchange_n(&dp.pending, NULL, __ATOMIC_ACQ_REL));
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
