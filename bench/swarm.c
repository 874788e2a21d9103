/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * swarm: a boot storm from one machine. N simulated PXE clients, each with its
 * own MAC, GUID and architecture, run what firmware and iPXE do on the wire:
 *
 *   DISCOVER (PXE options) -> proxy OFFER -> [REQUEST to 4011 -> ACK]
 *   -> TFTP RRQ of the boot program (blksize, tsize, windowsize)
 *   -> iPXE's DISCOVER (option 175, user class "iPXE") -> the script URL
 *   -> GET script -> GET kernel -> GET each initrd
 *
 * all at once or on a ramp, and report per-stage latency, when the last one
 * was done, throughput, failures by reason and the swarm's own CPU.
 *
 * One thread, one epoll. DHCP goes through one UDP socket on port 68, batched
 * (recvmmsg/sendmmsg); TFTP through one AF_XDP socket (--xdp: the server's
 * datagrams skip the client's kernel stack, bench/xsk_transport.c) or one UDP
 * socket per transfer; HTTP through libcurl's multi interface on the same
 * epoll. --mode dhcp|tftp|http runs one stage alone, so the same client
 * measures each stage against the peers.
 *
 * Exit status: 0 every client booted, 1 some failed, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench_util.h"
#include "ipxe_client.h"
#include "pxe_client.h"
#include "self_path.h"
#include "swarm_http.h"
#include "swarm_report.h"
#include "tftp_client.h"
#include "xsk_transport.h"

#define MAX_CLIENTS 40000
#define XDP_PORT_LO 20000 /* --xdp: client i uses UDP port XDP_PORT_LO + i for its TFTP transfer */
#define DHCP_BATCH 64
#define TFTP_BATCH 32
#define PKTBUF 2048           /* DHCP replies and TFTP blocks up to blksize 1468 fit; larger is truncated */
#define TIMER_SCAN_NS 10000000ull  /* retransmission timers are checked every 10 ms */
#define SAMPLE_NS 10000000ull      /* the time series has a sample every 10 ms */
#define MAX_BOOT_FILES 16

/* epoll data: kind in the top 32 bits, a client index or a socket in the low 32. */
enum { EV_DHCP = 1, EV_TFTP_SOCKET = 2, EV_XSK = 3, EV_HTTP = 4 };
#define EV(kind, low) ((uint64_t)(kind) << 32 | (uint32_t)(low))

enum mode { MODE_BOOT, MODE_DHCP, MODE_TFTP, MODE_HTTP };
static const char *const mode_names[] = { "boot", "dhcp", "tftp", "http" };

/* DHCP transaction IDs: xid_base + 4 * client + phase. */
enum { PHASE_FIRMWARE, PHASE_BOOT_SERVER, PHASE_IPXE };

struct client {
	uint32_t index;
	enum swarm_stage stage;
	bool active;              /* started and not finished */
	struct pxe_client_identity id;
	struct ipxe_settings ipxe;
	uint32_t dhcp_tries;
	uint64_t dhcp_deadline;   /* next DISCOVER/REQUEST retransmission (absolute ns) */
	struct pxe_offer offer;   /* the reply that moved the client on */
	uint32_t tftp_server;     /* network order */
	struct tftp_xfer tftp;
	int tftp_fd;              /* socket mode */
	uint16_t tftp_port;       /* --xdp mode, host order */
	struct swarm_http_get http;
	char url[IPXE_URL_MAX];   /* what the current GET fetches (the script's base) */
	struct ipxe_boot boot;
	unsigned next_initrd;
};

/* A boot file every client of one architecture fetches over TFTP, and its local copy. */
struct boot_file {
	char name[256];
	struct tftp_request req;
};

struct opts {
	struct in_addr server;
	const char *server_text;
	const char *iface;
	unsigned long clients;
	enum mode mode;
	const char *arch_text;
	uint64_t ramp_ms;
	uint8_t mac_base[6];
	bool xdp;
	const char *xdp_prog;
	uint32_t blksize, windowsize;
	const char *tftp_root, *http_root;
	const char *tftp_file;       /* --mode tftp */
	const char *urls[IPXE_MAX_INITRDS + 1]; /* --mode http: fetched in order */
	unsigned n_urls;
	uint64_t dhcp_timeout_ns, tftp_timeout_ns;
	uint32_t dhcp_retries, tftp_retries;
	long http_timeout_ms;
	int http_rcvbuf;
	uint64_t duration_limit_ns;
	const char *json, *csv, *timeline;
	bool sha256;                 /* report each file's sha256 in the CSV */
};

static struct opts O;
static struct client *C;
static struct swarm_record *R;
static struct boot_file boot_files[MAX_BOOT_FILES];
static unsigned n_boot_files;
static struct xsk_transport *XT;
static struct swarm_http *H;
static int epoll_fd = -1, dhcp_fd = -1;
static uint32_t client_ip; /* --iface's address (network order): ciaddr of 4011 REQUESTs */
static uint32_t xid_base;
static uint64_t t0, pkts_rx, pkts_tx, tftp_bytes_done;
static unsigned long remaining;

/* ---- DHCP out: batched ------------------------------------------------------ */

static struct {
	uint8_t buf[DHCP_BATCH][PXE_CLIENT_MSG_MAX];
	struct sockaddr_in to[DHCP_BATCH];
	struct iovec iov[DHCP_BATCH];
	struct mmsghdr msg[DHCP_BATCH];
	unsigned n;
} dhcp_out;

static void dhcp_flush(void)
{
	unsigned sent = 0;

	while (sent < dhcp_out.n) {
		int r = sendmmsg(dhcp_fd, dhcp_out.msg + sent, dhcp_out.n - sent, 0);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break; /* ENOBUFS and friends: the retransmission timer covers it */
		}
		sent += (unsigned)r;
	}
	pkts_tx += sent;
	dhcp_out.n = 0;
}

static void dhcp_send(struct client *c, enum pxe_client_stage stage, int phase, uint32_t to_ip, uint16_t to_port)
{
	unsigned k;
	size_t len;

	if (dhcp_out.n == DHCP_BATCH)
		dhcp_flush();
	k = dhcp_out.n++;
	len = pxe_client_build(dhcp_out.buf[k], stage, &c->id, xid_base + 4 * c->index + (uint32_t)phase,
			       c->offer.has_boot_menu, c->offer.boot_item, client_ip);
	dhcp_out.to[k] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(to_port),
					       .sin_addr.s_addr = to_ip };
	dhcp_out.iov[k] = (struct iovec){ dhcp_out.buf[k], len };
	dhcp_out.msg[k].msg_hdr = (struct msghdr){ .msg_name = &dhcp_out.to[k], .msg_namelen = sizeof(dhcp_out.to[k]),
						   .msg_iov = &dhcp_out.iov[k], .msg_iovlen = 1 };
	R[c->index].dhcp_sends++;
}

/* ---- client life ------------------------------------------------------------- */

static uint64_t since_start(uint64_t now)
{
	return now > t0 ? now - t0 : 1;
}

static void finish(struct client *c, uint64_t now)
{
	struct swarm_record *r = &R[c->index];

	if (!c->active)
		return;
	c->active = false;
	r->t_end = since_start(now);
	r->done = !r->reason[0];
	r->failed = !r->done;
	remaining--;
	/* A completed transfer keeps its socket until the swarm exits: it dallies
	 * (tftp_input). */
	if (c->tftp_fd >= 0 && c->tftp.state != TFTP_XFER_DONE) {
		close(c->tftp_fd);
		c->tftp_fd = -1;
	}
}

static void fail(struct client *c, uint64_t now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct client *c, uint64_t now, const char *fmt, ...)
{
	struct swarm_record *r = &R[c->index];
	int n = snprintf(r->reason, sizeof(r->reason), "%s: ", swarm_stage_name(c->stage));
	va_list ap;

	if (!c->active)
		return;
	va_start(ap, fmt);
	vsnprintf(r->reason + n, sizeof(r->reason) - (size_t)n, fmt, ap);
	va_end(ap);
	finish(c, now);
}

static void enter(struct client *c, enum swarm_stage stage, uint64_t now)
{
	c->stage = stage;
	R[c->index].t_stage_begin[stage] = since_start(now);
}

static void leave(struct client *c, uint64_t now)
{
	R[c->index].t_stage_end[c->stage] = since_start(now);
}

static void send_discover(struct client *c, int phase, uint64_t now)
{
	enum pxe_client_stage stage = phase == PHASE_IPXE ? PXE_STAGE_IPXE : PXE_STAGE_FIRMWARE;

	dhcp_send(c, stage, phase, htonl(INADDR_BROADCAST), 67);
	c->dhcp_deadline = now + (O.dhcp_timeout_ns << (c->dhcp_tries < 4 ? c->dhcp_tries : 4));
}

static void send_boot_server_request(struct client *c, uint64_t now)
{
	uint32_t to = c->offer.server_id ? c->offer.server_id : c->offer.server;

	dhcp_send(c, PXE_STAGE_BOOT_SERVER, PHASE_BOOT_SERVER, to, 4011);
	c->dhcp_deadline = now + (O.dhcp_timeout_ns << (c->dhcp_tries < 4 ? c->dhcp_tries : 4));
}

static void start_dhcp(struct client *c, enum swarm_stage stage, uint64_t now)
{
	enter(c, stage, now);
	c->dhcp_tries = 0;
	if (stage == SWARM_BOOT_SERVER)
		send_boot_server_request(c, now);
	else
		send_discover(c, stage == SWARM_IPXE_DHCP ? PHASE_IPXE : PHASE_FIRMWARE, now);
}

static void tftp_send(void *ctx, struct tftp_xfer *x, const void *buf, size_t len, uint16_t port)
{
	struct client *c = ctx;

	(void)x;
	if (XT) {
		if (xsk_transport_send(XT, c->tftp_port, ntohs(port), buf, len) == 0)
			pkts_tx++;
		return;
	}
	if (c->tftp_fd >= 0) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = c->tftp_server };

		if (sendto(c->tftp_fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) >= 0)
			pkts_tx++;
	}
}

static const struct tftp_request *boot_file_request(const char *name, const char **why);

static void start_tftp(struct client *c, const char *file, uint32_t server, uint64_t now)
{
	const struct tftp_request *req;
	const char *why;

	enter(c, SWARM_TFTP, now);
	if (!(req = boot_file_request(file, &why))) {
		fail(c, now, "%s", why);
		return;
	}
	if (XT && server != O.server.s_addr) {
		fail(c, now, "the boot file is on another server than --server (AF_XDP steers only --server)");
		return;
	}
	c->tftp_server = server;
	if (!XT) {
		struct sockaddr_in any = { .sin_family = AF_INET };
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV(EV_TFTP_SOCKET, c->index) };

		c->tftp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->tftp_fd < 0 || bind(c->tftp_fd, (struct sockaddr *)&any, sizeof(any)) != 0 ||
		    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->tftp_fd, &ev) != 0) {
			fail(c, now, "socket: %s", strerror(errno));
			return;
		}
	}
	if (!tftp_xfer_init(&c->tftp, req, tftp_send, c)) {
		fail(c, now, "out of memory");
		return;
	}
	tftp_xfer_start(&c->tftp, htons(69), now);
}

/* Looks up the local copy of an HTTP URL's path under --http-root, if given. */
static const uint8_t *expected_http_content(const char *url, uint64_t *size, const char **why);

static void start_get(struct client *c, enum swarm_stage stage, const char *url, uint64_t now)
{
	const char *why = NULL;

	enter(c, stage, now);
	snprintf(c->url, sizeof(c->url), "%s", url);
	swarm_http_get_reset(&c->http);
	c->http.owner = c;
	c->http.keep_body = stage == SWARM_SCRIPT;
	c->http.digest = O.sha256 && stage != SWARM_SCRIPT;
	if (stage != SWARM_SCRIPT && O.http_root) {
		c->http.expect = expected_http_content(url, &c->http.expect_size, &why);
		if (!c->http.expect) {
			fail(c, now, "%s", why);
			return;
		}
	}
	if (swarm_http_start(H, &c->http, url) != 0)
		fail(c, now, "%s", c->http.reason);
}

static void start_client(struct client *c, uint64_t now)
{
	c->active = true;
	R[c->index].t_start = since_start(now);
	switch (O.mode) {
	case MODE_BOOT:
	case MODE_DHCP:
		start_dhcp(c, SWARM_DHCP, now);
		break;
	case MODE_TFTP:
		start_tftp(c, O.tftp_file, O.server.s_addr, now);
		break;
	case MODE_HTTP:
		c->next_initrd = 1;
		start_get(c, SWARM_KERNEL, O.urls[0], now);
		break;
	}
}

/* The firmware has its boot file: TFTP it, or (--mode dhcp) stop here. */
static void boot_file_known(struct client *c, uint64_t now)
{
	leave(c, now);
	if (O.mode == MODE_DHCP) {
		finish(c, now);
		return;
	}
	if (!c->offer.boot_file[0]) {
		fail(c, now, "no boot file in the reply");
		return;
	}
	start_tftp(c, c->offer.boot_file, c->offer.server, now);
}

static void on_dhcp_reply(struct client *c, const struct pxe_offer *o, int phase, uint64_t now)
{
	bool want_firmware = c->stage == SWARM_DHCP && phase == PHASE_FIRMWARE;
	bool want_boot_server = c->stage == SWARM_BOOT_SERVER && phase == PHASE_BOOT_SERVER;
	bool want_ipxe = c->stage == SWARM_IPXE_DHCP && phase == PHASE_IPXE;

	if (!c->active || !(want_firmware || want_boot_server || want_ipxe) || !o->pxe)
		return; /* late duplicates, and replies that are not a boot server's */
	/* A boot server may echo the address the client already has (dnsmasq does). */
	if (o->yiaddr && !(want_boot_server && o->yiaddr == client_ip)) {
		fail(c, now, "a proxy reply offered an address (yiaddr set)");
		return;
	}
	c->offer = *o;
	if (want_firmware) {
		if (o->msg_type != 2)
			return;
		if (pxe_client_needs_boot_server(o, c->id.arch)) {
			leave(c, now);
			start_dhcp(c, SWARM_BOOT_SERVER, now);
			return;
		}
		boot_file_known(c, now);
	} else if (want_boot_server) {
		if (o->msg_type != 5)
			return;
		boot_file_known(c, now);
	} else {
		char url[IPXE_URL_MAX];

		if (o->msg_type != 2)
			return;
		leave(c, now);
		if (strncmp(o->boot_file, "http://", 7) != 0 && strncmp(o->boot_file, "https://", 8) != 0) {
			fail(c, now, "iPXE was given \"%.100s\", not an HTTP script URL", o->boot_file);
			return;
		}
		if (!ipxe_expand(o->boot_file, &c->ipxe, url, sizeof(url))) {
			fail(c, now, "script URL too long");
			return;
		}
		start_get(c, SWARM_SCRIPT, url, now);
	}
}

static void on_tftp_progress(struct client *c, enum tftp_xfer_state before, uint64_t now)
{
	if (before != TFTP_XFER_ACTIVE || c->tftp.state == TFTP_XFER_ACTIVE)
		return;
	R[c->index].tftp_bytes = c->tftp.bytes;
	if (c->tftp.have_sha256) {
		memcpy(R[c->index].tftp_sha256, c->tftp.sha256, 32);
		R[c->index].have_tftp_sha256 = true;
	}
	if (c->tftp.state == TFTP_XFER_FAILED) {
		fail(c, now, "%s", c->tftp.reason);
		return;
	}
	tftp_bytes_done += c->tftp.bytes;
	leave(c, now);
	if (O.mode == MODE_TFTP) {
		finish(c, now);
		return;
	}
	start_dhcp(c, SWARM_IPXE_DHCP, now);
}

/* --sha256: what a kernel or initrd GET received. */
static void record_sha256(struct swarm_record *r, enum swarm_stage stage, const unsigned char sha256[32])
{
	if (stage == SWARM_KERNEL) {
		memcpy(r->kernel_sha256, sha256, 32);
		r->have_kernel_sha256 = true;
	} else if (stage == SWARM_INITRD && r->n_initrd_sha256 < SWARM_SHA_INITRDS) {
		memcpy(r->initrd_sha256[r->n_initrd_sha256++], sha256, 32);
	}
}

static void on_http_done(struct swarm_http_get *get, uint64_t now)
{
	struct client *c = get->owner;
	const char *why;

	R[c->index].http_bytes += get->bytes;
	if (!get->ok) {
		fail(c, now, "%s: %s", c->url, get->reason);
		return;
	}
	if (get->have_sha256)
		record_sha256(&R[c->index], c->stage, get->sha256);
	leave(c, now);
	if (O.mode == MODE_HTTP) {
		if (c->next_initrd < O.n_urls)
			start_get(c, SWARM_KERNEL, O.urls[c->next_initrd++], now);
		else
			finish(c, now);
		return;
	}
	switch (c->stage) {
	case SWARM_SCRIPT:
		if (!ipxe_read_script(get->body, c->url, &c->ipxe, &c->boot, &why)) {
			fail(c, now, "%s", why);
			return;
		}
		c->next_initrd = 0;
		start_get(c, SWARM_KERNEL, c->boot.kernel, now);
		return;
	case SWARM_KERNEL:
	case SWARM_INITRD:
		if (c->next_initrd < c->boot.n_initrds) {
			/* One stage for all initrds: its begin is the first one's. */
			uint64_t begin = c->stage == SWARM_INITRD ? R[c->index].t_stage_begin[SWARM_INITRD] : 0;

			start_get(c, SWARM_INITRD, c->boot.initrds[c->next_initrd++], now);
			if (begin)
				R[c->index].t_stage_begin[SWARM_INITRD] = begin;
			return;
		}
		finish(c, now);
		return;
	default:
		fail(c, now, "unexpected HTTP completion");
	}
}

/* ---- input ------------------------------------------------------------------ */

static void drain_dhcp(uint64_t now)
{
	static uint8_t bufs[DHCP_BATCH][PKTBUF];
	struct mmsghdr msgs[DHCP_BATCH];
	struct iovec iov[DHCP_BATCH];

	for (int rounds = 0; rounds < 64; rounds++) {
		int r;

		for (int k = 0; k < DHCP_BATCH; k++) {
			iov[k] = (struct iovec){ bufs[k], PKTBUF };
			msgs[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
		}
		r = recvmmsg(dhcp_fd, msgs, DHCP_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		pkts_rx += (uint64_t)r;
		for (int k = 0; k < r; k++) {
			struct pxe_offer o;
			const char *why;
			uint32_t rel;

			if (!pxe_client_read_reply(bufs[k], msgs[k].msg_len, &o, &why))
				continue;
			rel = o.xid - xid_base;
			if (rel / 4 >= O.clients || memcmp(o.chaddr, C[rel / 4].id.mac, 6) != 0)
				continue; /* not ours */
			on_dhcp_reply(&C[rel / 4], &o, (int)(rel % 4), now);
		}
		if (r < DHCP_BATCH)
			return;
	}
}

static void tftp_input(struct client *c, const uint8_t *p, size_t len, uint16_t from_port, uint64_t now)
{
	enum tftp_xfer_state before = c->tftp.state;

	/* A completed transfer dallies (tftp_client.h): a repeated last block means
	 * our last ACK was lost, and is ACKed again whatever stage the client has
	 * moved on to; otherwise the server resends it until it gives up on a
	 * transfer the client has whole. */
	if (before == TFTP_XFER_DONE) {
		tftp_xfer_input(&c->tftp, p, len, from_port, now);
		return;
	}
	if (!c->active || c->stage != SWARM_TFTP)
		return;
	tftp_xfer_input(&c->tftp, p, len, from_port, now);
	on_tftp_progress(c, before, now);
}

static void drain_tftp_socket(struct client *c, uint64_t now)
{
	static uint8_t bufs[TFTP_BATCH][PKTBUF];
	struct sockaddr_in from[TFTP_BATCH];
	struct mmsghdr msgs[TFTP_BATCH];
	struct iovec iov[TFTP_BATCH];

	for (int rounds = 0; rounds < 64 && c->tftp_fd >= 0; rounds++) {
		int r;

		for (int k = 0; k < TFTP_BATCH; k++) {
			iov[k] = (struct iovec){ bufs[k], PKTBUF };
			msgs[k].msg_hdr = (struct msghdr){ .msg_name = &from[k], .msg_namelen = sizeof(from[k]),
							   .msg_iov = &iov[k], .msg_iovlen = 1 };
		}
		r = recvmmsg(c->tftp_fd, msgs, TFTP_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		pkts_rx += (uint64_t)r;
		for (int k = 0; k < r; k++)
			if (from[k].sin_addr.s_addr == c->tftp_server && !(msgs[k].msg_hdr.msg_flags & MSG_TRUNC))
				tftp_input(c, bufs[k], msgs[k].msg_len, from[k].sin_port, now);
		if (r < TFTP_BATCH)
			return;
	}
}

struct xsk_delivery {
	uint64_t now;
};

static void xsk_deliver(void *ctx, uint16_t dst_port, uint16_t src_port, const uint8_t *payload, size_t len)
{
	struct xsk_delivery *d = ctx;
	unsigned long i = (unsigned long)(dst_port - XDP_PORT_LO);

	pkts_rx++;
	if (dst_port >= XDP_PORT_LO && i < O.clients)
		tftp_input(&C[i], payload, len, htons(src_port), d->now);
}

/* ---- timers ----------------------------------------------------------------- */

static void run_timers(uint64_t now)
{
	for (unsigned long i = 0; i < O.clients; i++) {
		struct client *c = &C[i];

		if (!c->active)
			continue;
		switch (c->stage) {
		case SWARM_DHCP:
		case SWARM_BOOT_SERVER:
		case SWARM_IPXE_DHCP:
			if (now < c->dhcp_deadline)
				break;
			if (++c->dhcp_tries > O.dhcp_retries) {
				fail(c, now, "no reply after %" PRIu32 " tries", c->dhcp_tries);
				break;
			}
			if (c->stage == SWARM_BOOT_SERVER)
				send_boot_server_request(c, now);
			else
				send_discover(c, c->stage == SWARM_IPXE_DHCP ? PHASE_IPXE : PHASE_FIRMWARE, now);
			break;
		case SWARM_TFTP: {
			enum tftp_xfer_state before = c->tftp.state;

			tftp_xfer_timer(&c->tftp, now, O.tftp_timeout_ns, O.tftp_retries, htons(69));
			on_tftp_progress(c, before, now);
			break;
		}
		default:
			break; /* HTTP: libcurl's own timeouts */
		}
	}
}

static void take_sample(struct swarm_sample *s, uint64_t now)
{
	s->t = since_start(now);
	s->tftp_bytes = tftp_bytes_done;
	s->http_bytes = swarm_http_bytes(H);
	for (unsigned long i = 0; i < O.clients; i++) {
		const struct swarm_record *r = &R[i];

		if (C[i].active && C[i].stage == SWARM_TFTP)
			s->tftp_bytes += C[i].tftp.bytes;
		for (int k = 0; k < SWARM_STAGE_COUNT; k++)
			s->stage_done[k] += r->t_stage_end[k] != 0;
		s->booted += r->done;
		s->failed += r->failed;
	}
}

/* ---- set-up ----------------------------------------------------------------- */

static const uint8_t *map_under(const char *root, const char *path, uint64_t *size, const char **why)
{
	static char msg[512];
	char full[4096];
	const uint8_t *p;

	path += strspn(path, "/");
	if (strstr(path, "..")) {
		*why = "a path with \"..\" (not verified)";
		return NULL;
	}
	snprintf(full, sizeof(full), "%s/%s", root, path);
	if (!(p = bench_map_file(full, size))) {
		snprintf(msg, sizeof(msg), "no local copy to compare with: %.300s: %s", full, strerror(errno));
		*why = msg;
	}
	return p;
}

/* A few distinct files, each mapped once. */
static struct {
	char path[512];
	const uint8_t *data;
	uint64_t size;
} http_files[MAX_BOOT_FILES];

static const uint8_t *expected_http_content(const char *url, uint64_t *size, const char **why)
{
	CURLU *u = curl_url();
	char *path = NULL;
	const uint8_t *data = NULL;
	unsigned k;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
		*why = "unparsable URL";
		goto out;
	}
	for (k = 0; k < MAX_BOOT_FILES && http_files[k].data; k++)
		if (!strcmp(http_files[k].path, path)) {
			data = http_files[k].data;
			*size = http_files[k].size;
			goto out;
		}
	if (k == MAX_BOOT_FILES) {
		*why = "more distinct files than the swarm verifies";
		goto out;
	}
	if ((data = map_under(O.http_root, path, size, why))) {
		snprintf(http_files[k].path, sizeof(http_files[k].path), "%s", path);
		http_files[k].data = data;
		http_files[k].size = *size;
	}
out:
	curl_free(path);
	curl_url_cleanup(u);
	return data;
}

static const struct tftp_request *boot_file_request(const char *name, const char **why)
{
	struct boot_file *b;

	for (unsigned k = 0; k < n_boot_files; k++)
		if (!strcmp(boot_files[k].name, name))
			return &boot_files[k].req;
	if (n_boot_files == MAX_BOOT_FILES) {
		*why = "too many distinct boot files";
		return NULL;
	}
	b = &boot_files[n_boot_files];
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->req = (struct tftp_request){
		.file = b->name, .blksize = O.blksize, .windowsize = O.windowsize, .digest = O.sha256
	};
	if (O.tftp_root) {
		if (!(b->req.verify = map_under(O.tftp_root, name, &b->req.verify_size, why)))
			return NULL;
		b->req.have_expect = true;
		b->req.expect_size = b->req.verify_size;
	}
	if (!tftp_request_init(&b->req)) {
		*why = "boot file name longer than 255 characters";
		return NULL;
	}
	n_boot_files++;
	return &b->req;
}

static int open_dhcp_socket(void)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(68) };
	int one = 1, rcvbuf = 8 << 20;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV(EV_DHCP, 0) };

	dhcp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (dhcp_fd < 0 || setsockopt(dhcp_fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) != 0 ||
	    setsockopt(dhcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(dhcp_fd, SOL_SOCKET, SO_BINDTODEVICE, O.iface, (socklen_t)strlen(O.iface)) != 0 ||
	    bind(dhcp_fd, (struct sockaddr *)&at, sizeof(at)) != 0) {
		fprintf(stderr, "swarm: DHCP socket on %s port 68: %s\n", O.iface, strerror(errno));
		return -1;
	}
	{
		struct ifreq ifr = { 0 };

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", O.iface);
		ifr.ifr_addr.sa_family = AF_INET;
		if (ioctl(dhcp_fd, SIOCGIFADDR, &ifr) != 0) {
			fprintf(stderr, "swarm: %s has no IPv4 address: %s\n", O.iface, strerror(errno));
			return -1;
		}
		client_ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	}
	if (setsockopt(dhcp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(dhcp_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, dhcp_fd, &ev);
}

static int open_xsk(void)
{
	char err[256], prog[4096];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV(EV_XSK, 0) };

	if (!O.xdp_prog)
		O.xdp_prog = self_sibling_path("../bpf/stampede_xdp.bpf.o", prog, sizeof(prog)) == 0
				     ? prog
				     : "build/bpf/stampede_xdp.bpf.o";
	if (xsk_transport_open(&XT, O.iface, O.xdp_prog, O.server.s_addr, XDP_PORT_LO,
			       (uint16_t)(XDP_PORT_LO + O.clients - 1), !O.tftp_root, err, sizeof(err)) < 0) {
		fprintf(stderr, "swarm: --xdp on %s: %s\n", O.iface, err);
		return -1;
	}
	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, xsk_transport_fd(XT), &ev);
}

static const struct {
	const char *name;
	uint16_t code;
	const char *platform, *buildarch;
} arches[] = {
	{ "bios", 0, "pcbios", "i386" },
	{ "efi64", 7, "efi", "x86_64" },
	{ "arm64", 11, "efi", "arm64" },
};

/* Client i's architecture: one of arches[], or "mix" (BIOS and UEFI x64 in turn). */
static int arch_for(unsigned long i)
{
	if (!strcmp(O.arch_text, "mix"))
		return (int)(i % 2);
	for (size_t k = 0; k < sizeof(arches) / sizeof(arches[0]); k++)
		if (!strcmp(O.arch_text, arches[k].name))
			return (int)k;
	return -1;
}

static void init_client(struct client *c, unsigned long i)
{
	int a = arch_for(i);
	uint8_t *m = c->id.mac;

	c->index = (uint32_t)i;
	c->tftp_fd = -1;
	c->tftp_port = (uint16_t)(XDP_PORT_LO + i);
	memcpy(m, O.mac_base, 6);
	m[3] = (uint8_t)(m[3] + (i >> 16));
	m[4] = (uint8_t)(m[4] + (i >> 8));
	m[5] = (uint8_t)(m[5] + i);
	for (int k = 0; k < 16; k++)
		c->id.guid[k] = (uint8_t)(0x5a ^ (k < 4 ? (i >> (8 * k)) : (unsigned long)k));
	c->id.arch = arches[a].code;
	memcpy(c->ipxe.mac, m, 6);
	memcpy(c->ipxe.uuid, c->id.guid, 16);
	c->ipxe.platform = arches[a].platform;
	c->ipxe.buildarch = arches[a].buildarch;
	memcpy(R[i].mac, m, 6);
	R[i].arch = c->id.arch;
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: swarm --server IP --iface IF --clients N [options]\n"
		"  --mode boot|dhcp|tftp|http  the whole boot (default), or one stage alone\n"
		"  --arch bios|efi64|arm64|mix the clients' architecture (default bios; mix: BIOS and UEFI in turn)\n"
		"  --ramp-ms MS                start the clients evenly over MS (default 0: all at once)\n"
		"  --mac-base MAC              first client's MAC (default 02:5b:00:00:00:00)\n"
		"  --xdp                       TFTP through AF_XDP on IF (else one UDP socket per transfer)\n"
		"  --xdp-prog FILE             the XDP object (default: build/bpf/stampede_xdp.bpf.o)\n"
		"  --blksize B --windowsize W  TFTP options asked for (1468, 64)\n"
		"  --tftp-root DIR             compare every boot file with DIR/NAME, byte for byte\n"
		"  --http-root DIR             compare kernels and initrds with DIR/URL-PATH\n"
		"  --sha256                    the sha256 of every file received in the CSV (tftp_sha256,\n"
		"                              kernel_sha256, initrd_sha256: initrds joined by ';')\n"
		"  --file NAME                 --mode tftp: the file to read\n"
		"  --url URL                   --mode http: a URL to GET (repeat: fetched in order)\n"
		"  --dhcp-timeout-ms T (1000) --dhcp-retries R (4)  DISCOVER/REQUEST resent after T, 2T, 4T...\n"
		"  --tftp-timeout-ms T (1000) --tftp-retries R (8)  --http-timeout-ms T (120000)\n"
		"  --http-rcvbuf BYTES (262144) each connection's SO_RCVBUF, bounded as firmware's is (0: kernel's)\n"
		"  --duration-limit S (300)    stop and count the unfinished as failed\n"
		"  --json FILE --csv FILE --timeline FILE           results (see bench/swarm_plot.sh)\n");
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

static int parse_options(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, 0, 's' },       { "iface", required_argument, 0, 'i' },
		{ "clients", required_argument, 0, 'n' },      { "mode", required_argument, 0, 'm' },
		{ "arch", required_argument, 0, 'a' },         { "ramp-ms", required_argument, 0, 'r' },
		{ "mac-base", required_argument, 0, 'M' },     { "xdp", no_argument, 0, 'X' },
		{ "xdp-prog", required_argument, 0, 'P' },     { "blksize", required_argument, 0, 'b' },
		{ "windowsize", required_argument, 0, 'w' },   { "tftp-root", required_argument, 0, 'T' },
		{ "http-root", required_argument, 0, 'H' },    { "file", required_argument, 0, 'f' },
		{ "url", required_argument, 0, 'u' },          { "dhcp-timeout-ms", required_argument, 0, 1 },
		{ "dhcp-retries", required_argument, 0, 2 },   { "tftp-timeout-ms", required_argument, 0, 3 },
		{ "tftp-retries", required_argument, 0, 4 },   { "http-timeout-ms", required_argument, 0, 5 },
		{ "duration-limit", required_argument, 0, 6 }, { "json", required_argument, 0, 'j' },
		{ "http-rcvbuf", required_argument, 0, 7 },    { "sha256", no_argument, 0, 8 },
		{ "csv", required_argument, 0, 'c' },          { "timeline", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },               { 0, 0, 0, 0 },
	};
	uint64_t v;
	int opt;

	O.arch_text = "bios";
	O.blksize = 1468;
	O.windowsize = 64;
	O.dhcp_timeout_ns = 1000000000ull;
	O.dhcp_retries = 4;
	O.tftp_timeout_ns = 1000000000ull;
	O.tftp_retries = 8;
	O.http_timeout_ms = 120000;
	O.http_rcvbuf = 256 * 1024;
	O.duration_limit_ns = 300 * 1000000000ull;
	memcpy(O.mac_base, (uint8_t[]){ 0x02, 0x5b, 0, 0, 0, 0 }, 6);
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (inet_pton(AF_INET, optarg, &O.server) != 1)
				goto bad;
			O.server_text = optarg;
			break;
		case 'i':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				goto bad;
			O.iface = optarg;
			break;
		case 'n':
			if (!bench_parse_u64(optarg, 1, MAX_CLIENTS, &v))
				goto bad;
			O.clients = (unsigned long)v;
			break;
		case 'm':
			for (v = 0; v < 4 && strcmp(optarg, mode_names[v]); v++)
				;
			if (v == 4)
				goto bad;
			O.mode = (enum mode)v;
			break;
		case 'a':
			O.arch_text = optarg;
			if (arch_for(0) < 0)
				goto bad;
			break;
		case 'r':
			if (!bench_parse_u64(optarg, 0, 3600000, &O.ramp_ms))
				goto bad;
			break;
		case 'M':
			if (!parse_mac(optarg, O.mac_base))
				goto bad;
			break;
		case 'X':
			O.xdp = true;
			break;
		case 'P':
			O.xdp_prog = optarg;
			break;
		case 'b':
			if (!bench_parse_u64(optarg, 8, 1468, &v))
				goto bad;
			O.blksize = (uint32_t)v;
			break;
		case 'w':
			if (!bench_parse_u64(optarg, 1, 65535, &v))
				goto bad;
			O.windowsize = (uint32_t)v;
			break;
		case 'T':
			O.tftp_root = optarg;
			break;
		case 'H':
			O.http_root = optarg;
			break;
		case 'f':
			O.tftp_file = optarg;
			break;
		case 'u':
			if (O.n_urls == sizeof(O.urls) / sizeof(O.urls[0]) || strlen(optarg) >= IPXE_URL_MAX)
				goto bad;
			O.urls[O.n_urls++] = optarg;
			break;
		case 1:
		case 3:
			if (!bench_parse_u64(optarg, 1, 600000, &v))
				goto bad;
			*(opt == 1 ? &O.dhcp_timeout_ns : &O.tftp_timeout_ns) = v * 1000000ull;
			break;
		case 2:
		case 4:
			if (!bench_parse_u64(optarg, 0, 100, &v))
				goto bad;
			*(opt == 2 ? &O.dhcp_retries : &O.tftp_retries) = (uint32_t)v;
			break;
		case 5:
			if (!bench_parse_u64(optarg, 1, 3600000, &v))
				goto bad;
			O.http_timeout_ms = (long)v;
			break;
		case 7:
			if (!bench_parse_u64(optarg, 0, 64 << 20, &v))
				goto bad;
			O.http_rcvbuf = (int)v;
			break;
		case 8:
			O.sha256 = true;
			break;
		case 6:
			if (!bench_parse_u64(optarg, 1, 86400, &v))
				goto bad;
			O.duration_limit_ns = v * 1000000000ull;
			break;
		case 'j':
			O.json = optarg;
			break;
		case 'c':
			O.csv = optarg;
			break;
		case 't':
			O.timeline = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "swarm: bad option value '%s'\n", optarg);
		usage(stderr);
		return -1;
	}
	if (optind != argc || !O.server_text || !O.iface || !O.clients) {
		fprintf(stderr, "swarm: --server, --iface and --clients are required\n");
		return -1;
	}
	if (O.mode == MODE_TFTP && !O.tftp_file) {
		fprintf(stderr, "swarm: --mode tftp needs --file\n");
		return -1;
	}
	if (O.mode == MODE_HTTP && !O.n_urls) {
		fprintf(stderr, "swarm: --mode http needs --url\n");
		return -1;
	}
	if (O.xdp && O.clients > 65535ul - XDP_PORT_LO) {
		fprintf(stderr, "swarm: --xdp supports at most %d clients\n", 65535 - XDP_PORT_LO);
		return -1;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------- */

static int run(struct swarm_sample *samples, size_t max_samples, size_t *n_samples)
{
	uint64_t now = bench_now_ns(), deadline = now + O.duration_limit_ns;
	uint64_t next_scan = now, next_sample = now + SAMPLE_NS;
	unsigned long started = 0;
	struct epoll_event evs[256];

	t0 = now;
	remaining = O.clients;
	while (remaining > 0 && now < deadline) {
		long wait_ms = 10, http_ms;
		int n;

		/* Start whoever is due: all at once, or evenly over the ramp. */
		while (started < O.clients &&
		       (!O.ramp_ms || now - t0 >= O.ramp_ms * 1000000ull * started / O.clients))
			start_client(&C[started++], now);
		dhcp_flush();
		if (XT)
			xsk_transport_flush(XT);
		http_ms = swarm_http_timeout_ms(H, now);
		if (http_ms >= 0 && http_ms < wait_ms)
			wait_ms = http_ms;
		if (started < O.clients && O.ramp_ms)
			wait_ms = wait_ms > 1 ? 1 : wait_ms;
		n = epoll_wait(epoll_fd, evs, 256, (int)wait_ms);
		if (n < 0 && errno != EINTR) {
			perror("swarm: epoll_wait");
			return -1;
		}
		now = bench_now_ns();
		for (int k = 0; k < n; k++) {
			uint32_t kind = (uint32_t)(evs[k].data.u64 >> 32), low = (uint32_t)evs[k].data.u64;

			if (kind == EV_DHCP) {
				drain_dhcp(now);
			} else if (kind == EV_TFTP_SOCKET) {
				drain_tftp_socket(&C[low], now);
			} else if (kind == EV_XSK) {
				struct xsk_delivery d = { now };

				for (int rounds = 0; rounds < 64 && xsk_transport_receive(XT, 64, xsk_deliver, &d); rounds++)
					;
			} else if (kind == EV_HTTP) {
				swarm_http_socket_event(H, (int)low, evs[k].events, now);
			}
		}
		swarm_http_timeout(H, now);
		if (now >= next_scan) {
			run_timers(now);
			next_scan = now + TIMER_SCAN_NS;
		}
		if (now >= next_sample && *n_samples < max_samples) {
			take_sample(&samples[(*n_samples)++], now);
			next_sample += SAMPLE_NS;
		}
	}
	for (unsigned long i = 0; i < O.clients; i++) {
		if (i >= started) {
			C[i].active = true;
			R[i].t_start = since_start(now);
		}
		if (C[i].active)
			fail(&C[i], now, "unfinished after --duration-limit");
	}
	if (*n_samples < max_samples)
		take_sample(&samples[(*n_samples)++], now);
	return 0;
}

int main(int argc, char **argv)
{
	struct swarm_run_info info = { 0 };
	struct swarm_sample *samples;
	size_t max_samples, n_samples = 0;
	struct rusage ru0, ru1;
	uint64_t loop_start;
	char err[256];
	int rc = 0;

	if (parse_options(argc, argv) != 0)
		return 2;
	bench_raise_nofile((long)O.clients * 2 + 256, "swarm");
	C = calloc(O.clients, sizeof(*C));
	R = calloc(O.clients, sizeof(*R));
	max_samples = (size_t)(O.duration_limit_ns / SAMPLE_NS) + 2;
	samples = calloc(max_samples, sizeof(*samples));
	if (!C || !R || !samples) {
		fprintf(stderr, "swarm: out of memory\n");
		return 1;
	}
	xid_base = (uint32_t)getpid() * 2654435761u ^ (uint32_t)bench_now_ns();
	for (unsigned long i = 0; i < O.clients; i++)
		init_client(&C[i], i);
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0 || open_dhcp_socket() != 0 || (O.xdp && open_xsk() != 0))
		return 1;
	if (!(H = swarm_http_create(epoll_fd, EV(EV_HTTP, 0), O.http_timeout_ms, O.http_rcvbuf, on_http_done, err,
					sizeof(err)))) {
		fprintf(stderr, "swarm: %s\n", err);
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru0);
	loop_start = bench_now_ns();
	if (run(samples, max_samples, &n_samples) != 0)
		rc = 1;
	getrusage(RUSAGE_SELF, &ru1);

	info.server = O.server_text;
	info.mode = mode_names[O.mode];
	info.arch = O.arch_text;
	info.clients = O.clients;
	info.ramp_ms = O.ramp_ms;
	info.loop_ns = bench_now_ns() - loop_start;
	for (unsigned long i = 0; i < O.clients; i++)
		if (R[i].t_end > info.wall_ns)
			info.wall_ns = R[i].t_end;
	info.cpu_user_s = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
			  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
	info.cpu_sys_s = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	info.pkts_rx = pkts_rx;
	info.pkts_tx = pkts_tx;
	swarm_report_text(stdout, &info, R, O.clients);
	if (XT)
		xsk_transport_print_stats(XT, stdout);
	fflush(stdout);
	if ((O.json && swarm_report_json(O.json, &info, R, O.clients) != 0) ||
	    (O.csv && swarm_report_csv(O.csv, R, O.clients, O.sha256) != 0) ||
	    (O.timeline && swarm_report_timeline(O.timeline, samples, n_samples) != 0))
		rc = 1;
	for (unsigned long i = 0; i < O.clients; i++) {
		if (!R[i].done)
			rc = rc ? rc : 1;
		if (C[i].tftp_fd >= 0)
			close(C[i].tftp_fd);
		tftp_xfer_release(&C[i].tftp);
		swarm_http_get_release(&C[i].http);
	}
	swarm_http_destroy(H);
	if (XT)
		xsk_transport_close(XT);
	close(dhcp_fd);
	close(epoll_fd);
	free(samples);
	free(R);
	free(C);
	return rc;
}
