/*
 * trivial-responder: the simplest fast PXE server we could write, to measure
 * the ceiling of the load clients (bench/swarm, tftp-load, dhcp-rate): if a
 * client cannot go faster against this, it is the client that limits.
 *
 *   trivial-responder [--addr A.B.C.D] [--size BYTES | --file PATH]
 *                     [--boot-file NAME] [--dump PATH] [--max-windowsize N]
 *                     [--dhcp-port 67] [--pxe-port 4011] [--tftp-port 69]
 *                     [--rto-ms 1000] [--xdp IFACE --peer A.B.C.D [--xdp-prog FILE]]
 *
 * DHCP (UDP 67, bound to 0.0.0.0 so broadcasts arrive): every DISCOVER gets a
 * canned proxy OFFER: op 2, same xid/flags/chaddr/giaddr, yiaddr 0, siaddr =
 * --addr, option 53 = 2, 54 = --addr, 60 "PXEClient", 43 = discovery control
 * 8, 97 echoed, the boot file in the BOOTP file field and option 67. It goes to
 * 255.255.255.255:68 (SO_BROADCAST), or to giaddr:67 when the request came
 * through a relay (giaddr set), as a DHCP server would. A REQUEST on 67 naming
 * --addr in option 54 gets the same reply as an ACK (53 = 5), same destination.
 * A REQUEST on 4011 gets an ACK back to its source address and port.
 *
 * TFTP (UDP 69): an RRQ for any name (every name is the one in-memory image:
 * --size BYTES of a deterministic pattern, byte i = (i * 7 + (i >> 10)) & 0xff,
 * which --dump PATH writes out for clients that verify, or a file mmapped with
 * --file) gets, from a fresh ephemeral socket connected to the client, an
 * OACK for the options it asked for (blksize clamped to 8..1468, tsize,
 * windowsize clamped to 1..--max-windowsize, default 64), or block 1 straight
 * away without options. Then windows of DATA: each ACK of block n sends blocks
 * n+1 .. n+windowsize (one sendmmsg, header and payload as two iovecs pointing
 * into the image: no copy in user space). Block numbers roll over past 65535.
 * A duplicate ACK is ignored (no Sorcerer's Apprentice); a transfer that
 * heard nothing for --rto-ms (default 1 s) after its window went out resends
 * the window; after 10 silent seconds it is dropped. WRQ is refused with
 * error 4.
 *
 * One thread, epoll, recvmmsg/sendmmsg in batches of 32.
 *
 * --xdp IFACE --peer A.B.C.D: TFTP through AF_XDP instead (bench/xsk_transport.c,
 * Stampede's XDP program, copy mode on a veth), the way Stampede's dataplane
 * sends, so that a load client's ceiling is not capped by the kernel's UDP
 * transmit path: UDP to --addr port 69 and 70..3999 (the session ports, one
 * per transfer) from the load client at --peer (one address; any ports) comes
 * to the AF_XDP socket on IFACE; each block is copied with its header into a
 * UMEM frame (checksums computed per frame). Transfers with a window to send
 * wait in a queue served in turn, 16 datagrams each, while the TX ring has
 * room, and the kernel is kicked until it has sent them all (as DPDK's
 * net_af_xdp does); what does not fit waits for the next round, so nothing is
 * dropped on the sending side. DHCP stays on kernel
 * sockets. IFACE's threaded-NAPI setting is left as it was (the transport
 * turns it on; it is put back right away) and restored to off on exit.
 * At most 3929 concurrent transfers in this mode.
 *
 * Limits: at most 4096 concurrent transfers (more RRQs get error 3); no
 * per-client limits, no access control, no retransmission finesse (a lost
 * last DATA of a window costs its transfer an --rto-ms timeout); 4011 and 67 answers carry no boot
 * server menu; options other than blksize/tsize/windowsize are ignored; the
 * ACK of the last block closes the transfer (no dallying); IPv4 only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "self_path.h"
#include "xsk_transport.h"

#define BATCH 32
#define MAX_SESSIONS 4096
#define MAX_BLKSIZE 1468
#define MAX_WINDOW_LIMIT 256

static const uint8_t *image;
static uint64_t image_size;
static struct in_addr srv_addr;
static const char *boot_file = "boot.img";
static unsigned max_window = 64;
static unsigned rto_ms = 1000;
static unsigned long long st_dup_ack;
static volatile sig_atomic_t stop;
static int epfd;

struct session {
	int fd;            /* kernel socket mode; -1 with --xdp */
	uint16_t port;     /* --xdp: our port for this transfer (XDP_SESSION_LO + slot) */
	uint16_t cport;    /* --xdp: the client's port */
	uint64_t next, wend; /* --xdp: blocks next..wend still to send (0: the OACK) */
	int queued;        /* --xdp: in the send queue */
	unsigned blksize, window;
	uint64_t nblocks;  /* DATA blocks in the transfer (the last one short) */
	uint64_t acked;    /* highest block acknowledged (0 = OACK or nothing yet) */
	int oack;          /* an OACK is outstanding (acked == 0) */
	uint8_t oack_buf[128];
	size_t oack_len;
	uint64_t last_heard_ms, last_sent_ms;
};
static struct session *sessions[MAX_SESSIONS];
/* --xdp: the transport, and the transfer of each session port. */
#define XDP_SESSION_LO 70
#define XDP_SESSION_HI 3999 /* below 4011 (PXE), which stays with the kernel */
static struct xsk_transport *xt;
static struct in_addr peer_addr;
static struct session *slots[XDP_SESSION_HI - XDP_SESSION_LO + 1];
static unsigned slot_next;
/* --xdp: transfers with blocks to send, served in turn while the TX ring has room. */
#define QCAP (XDP_SESSION_HI - XDP_SESSION_LO + 2)
static struct session *sendq[QCAP];
static unsigned q_head, q_len;
static int tx_busy; /* frames left in the TX ring after the last kicks */
static unsigned nsessions;
static unsigned long long st_resend;
static unsigned long long st_discover, st_offer, st_ack, st_rrq, st_done, st_timeout;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int udp_socket(uint32_t addr, uint16_t port, int broadcast)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, buf = 4 << 20;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = addr };
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (broadcast) {
		setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- DHCP --------------------------------------------------------------- */

/* Finds option CODE in a request's options; returns its value and length. */
static const uint8_t *dhcp_opt(const uint8_t *p, size_t len, uint8_t code, uint8_t *olen)
{
	size_t i = 240;
	while (i < len) {
		uint8_t c = p[i];
		if (c == 255)
			break;
		if (c == 0) {
			i++;
			continue;
		}
		if (i + 1 >= len || i + 2 + p[i + 1] > len)
			break;
		if (c == code) {
			*olen = p[i + 1];
			return p + i + 2;
		}
		i += 2 + (size_t)p[i + 1];
	}
	return NULL;
}

/* Builds the reply to request REQ into OUT; returns its length, 0 for none.
 * FROM_4011: the request came to the boot-server port. */
static size_t dhcp_reply(const uint8_t *req, size_t len, int from_4011, uint8_t *out, struct sockaddr_in *dst,
			 const struct sockaddr_in *src)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	uint8_t l53 = 0, l54 = 0, l97 = 0;
	if (len < 240 || req[0] != 1 || memcmp(req + 236, cookie, 4) != 0)
		return 0;
	const uint8_t *t = dhcp_opt(req, len, 53, &l53);
	if (!t || l53 != 1)
		return 0;
	uint8_t type;
	if (*t == 1 && !from_4011) {
		type = 2;
		st_discover++;
	} else if (*t == 3) {
		const uint8_t *sid = dhcp_opt(req, len, 54, &l54);
		if (!from_4011 && !(sid && l54 == 4 && memcmp(sid, &srv_addr, 4) == 0))
			return 0;
		type = 5;
	} else {
		return 0;
	}
	memset(out, 0, 300);
	out[0] = 2;
	memcpy(out + 1, req + 1, 3);        /* htype, hlen, hops */
	memcpy(out + 4, req + 4, 8);        /* xid, secs, flags */
	memcpy(out + 12, req + 12, 4);      /* ciaddr */
	memcpy(out + 20, &srv_addr, 4);     /* siaddr */
	memcpy(out + 24, req + 24, 4 + 16); /* giaddr, chaddr */
	snprintf((char *)out + 108, 128, "%s", boot_file);
	size_t n = 236;
	memcpy(out + n, cookie, 4);
	n += 4;
	out[n++] = 53; out[n++] = 1; out[n++] = type;
	out[n++] = 54; out[n++] = 4; memcpy(out + n, &srv_addr, 4); n += 4;
	out[n++] = 60; out[n++] = 9; memcpy(out + n, "PXEClient", 9); n += 9;
	const uint8_t *uuid = dhcp_opt(req, len, 97, &l97);
	if (uuid && l97 <= 32) {
		out[n++] = 97; out[n++] = l97; memcpy(out + n, uuid, l97); n += l97;
	}
	out[n++] = 43; out[n++] = 4; out[n++] = 6; out[n++] = 1; out[n++] = 8; out[n++] = 255;
	size_t bl = strlen(boot_file);
	if (bl > 120)
		bl = 120;
	out[n++] = 67; out[n++] = (uint8_t)bl; memcpy(out + n, boot_file, bl); n += bl;
	out[n++] = 255;
	if (n < 300)
		n = 300;
	*dst = (struct sockaddr_in){ .sin_family = AF_INET };
	uint32_t giaddr;
	memcpy(&giaddr, req + 24, 4);
	if (from_4011) {
		*dst = *src;
	} else if (giaddr) {
		dst->sin_addr.s_addr = giaddr;
		dst->sin_port = htons(67);
	} else {
		dst->sin_addr.s_addr = htonl(INADDR_BROADCAST);
		dst->sin_port = htons(68);
	}
	if (type == 2)
		st_offer++;
	else
		st_ack++;
	return n;
}

static void serve_dhcp(int fd, int from_4011)
{
	static uint8_t rx[BATCH][1500], tx[BATCH][600];
	static struct sockaddr_in src[BATCH], dst[BATCH];
	/* IP_PKTINFO: a limited broadcast leaves by the interface the request came in on. */
	static union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} rc[BATCH], tc[BATCH];
	struct mmsghdr rm[BATCH], tm[BATCH];
	struct iovec ri[BATCH], ti[BATCH];
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < BATCH; i++) {
			ri[i] = (struct iovec){ rx[i], sizeof rx[i] };
			rm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &src[i], .msg_namelen = sizeof src[i],
							       .msg_iov = &ri[i], .msg_iovlen = 1,
							       .msg_control = rc[i].buf, .msg_controllen = sizeof rc[i].buf } };
		}
		int n = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		unsigned k = 0;
		for (int i = 0; i < n; i++) {
			size_t len = dhcp_reply(rx[i], rm[i].msg_len, from_4011, tx[k], &dst[k], &src[i]);
			if (!len)
				continue;
			ti[k] = (struct iovec){ tx[k], len };
			tm[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = &dst[k], .msg_namelen = sizeof dst[k],
							       .msg_iov = &ti[k], .msg_iovlen = 1 } };
			int ifindex = 0;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&rm[i].msg_hdr); c; c = CMSG_NXTHDR(&rm[i].msg_hdr, c))
				if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
					struct in_pktinfo pi;
					memcpy(&pi, CMSG_DATA(c), sizeof pi);
					ifindex = pi.ipi_ifindex;
				}
			if (ifindex) {
				struct in_pktinfo pi = { .ipi_ifindex = ifindex, .ipi_spec_dst = srv_addr };
				tm[k].msg_hdr.msg_control = tc[k].buf;
				tm[k].msg_hdr.msg_controllen = sizeof tc[k].buf;
				struct cmsghdr *c = CMSG_FIRSTHDR(&tm[k].msg_hdr);
				c->cmsg_level = IPPROTO_IP;
				c->cmsg_type = IP_PKTINFO;
				c->cmsg_len = CMSG_LEN(sizeof pi);
				memcpy(CMSG_DATA(c), &pi, sizeof pi);
			}
			k++;
		}
		for (unsigned off = 0; off < k;) {
			int s = sendmmsg(fd, tm + off, k - off, 0);
			if (s <= 0)
				break; /* full socket buffer: drop the rest, the client retries */
			off += (unsigned)s;
		}
		if (n < BATCH)
			return;
	}
}

/* ---- TFTP --------------------------------------------------------------- */

static void dequeue(struct session *s);

static void session_free(struct session *s)
{
	for (unsigned i = 0; i < nsessions; i++)
		if (sessions[i] == s) {
			sessions[i] = sessions[--nsessions];
			break;
		}
	if (s->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	} else if (xt) {
		slots[s->port - XDP_SESSION_LO] = NULL;
		if (s->queued)
			dequeue(s);
	}
	free(s);
}

/* --xdp: kicks the kernel until it has sent everything queued, as DPDK's
 * net_af_xdp does (kick_tx): a copy-mode kick sends a bounded batch (32 frames
 * by default) and answers EAGAIN while more are waiting. 0 when the TX ring is
 * empty, -1 if frames are still queued after 256 kicks (the veth is pushing
 * back); completed frames are reclaimed either way. */
static int kick_all(void)
{
	int r = -1;
	for (int i = 0; i < 256; i++) {
		if (sendto(xsk_transport_fd(xt), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			r = 0;
			break;
		}
		if (errno != EAGAIN && errno != EBUSY && errno != EINTR)
			break;
	}
	xsk_transport_flush(xt);
	return r;
}

/* --xdp: one datagram from sport to the peer's dport; 0, or -ENOBUFS with the TX ring full. */
static int xsend(uint16_t sport, uint16_t dport, const void *buf, size_t len)
{
	return xsk_transport_send(xt, sport, dport, buf, len);
}

static void enqueue(struct session *s)
{
	if (!s->queued && q_len < QCAP) {
		sendq[(q_head + q_len++) % QCAP] = s;
		s->queued = 1;
	}
}

static void dequeue(struct session *s)
{
	for (unsigned i = 0; i < q_len; i++)
		if (sendq[(q_head + i) % QCAP] == s) {
			for (unsigned j = i; j + 1 < q_len; j++)
				sendq[(q_head + j) % QCAP] = sendq[(q_head + j + 1) % QCAP];
			q_len--;
			break;
		}
	s->queued = 0;
}

/* --xdp: sends from the queued transfers, up to 16 datagrams per turn, until
 * the queue is empty or the TX ring is full (then the kernel is kicked and the
 * rest waits for the next round: no datagram is dropped here). */
static void pump(void)
{
	static uint8_t buf[4 + MAX_BLKSIZE];
	int full = 0;

	if (!q_len && !tx_busy)
		return;
	while (q_len && !full) {
		struct session *s = sendq[q_head];
		for (unsigned k = 0; k < 16 && s->next <= s->wend; k++) {
			int r;
			if (s->next == 0) {
				r = xsend(s->port, s->cport, s->oack_buf, s->oack_len);
			} else {
				uint64_t b = s->next, off = (b - 1) * s->blksize;
				size_t len = off >= image_size ? 0
								: (image_size - off < s->blksize ? image_size - off : s->blksize);
				buf[0] = 0; buf[1] = 3; buf[2] = (uint8_t)(b >> 8); buf[3] = (uint8_t)b;
				memcpy(buf + 4, image + (len ? off : 0), len);
				r = xsend(s->port, s->cport, buf, 4 + len);
			}
			if (r < 0) {
				full = 1;
				break;
			}
			s->next++;
		}
		q_head = (q_head + 1) % QCAP;
		q_len--;
		if (s->next <= s->wend) { /* more to send: back of the queue */
			sendq[(q_head + q_len++) % QCAP] = s;
		} else {
			s->queued = 0;
			s->last_sent_ms = now_ms(); /* the timeout runs from the window's end */
		}
	}
	tx_busy = kick_all() < 0;
}

/* --xdp: (re)start the window after acked (or the OACK). */
static void session_send_xdp(struct session *s)
{
	if (s->oack) {
		s->next = s->wend = 0;
	} else {
		s->next = s->acked + 1;
		s->wend = s->acked + s->window < s->nblocks ? s->acked + s->window : s->nblocks;
	}
	enqueue(s);
}

/* Sends the OACK, or blocks acked+1 .. acked+window. */
static void session_send(struct session *s)
{
	s->last_sent_ms = now_ms();
	if (s->fd < 0) {
		session_send_xdp(s);
		return;
	}
	if (s->oack) {
		send(s->fd, s->oack_buf, s->oack_len, 0);
		return;
	}
	static uint8_t hdr[MAX_WINDOW_LIMIT][4];
	static struct iovec iov[MAX_WINDOW_LIMIT][2];
	static struct mmsghdr m[MAX_WINDOW_LIMIT];
	unsigned k = 0;
	for (uint64_t b = s->acked + 1; b <= s->nblocks && k < s->window; b++, k++) {
		uint64_t off = (b - 1) * s->blksize;
		size_t len = off >= image_size ? 0 : (image_size - off < s->blksize ? image_size - off : s->blksize);
		hdr[k][0] = 0; hdr[k][1] = 3; hdr[k][2] = (uint8_t)(b >> 8); hdr[k][3] = (uint8_t)b;
		iov[k][0] = (struct iovec){ hdr[k], 4 };
		iov[k][1] = (struct iovec){ (void *)(image + (len ? off : 0)), len };
		m[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = iov[k], .msg_iovlen = 2 } };
	}
	for (unsigned off = 0; off < k;) {
		int r = sendmmsg(s->fd, m + off, k - off, 0);
		if (r <= 0)
			break; /* the timeout resends */
		off += (unsigned)r;
	}
}

static void send_error(int fd, const struct sockaddr_in *to, uint16_t code, const char *msg)
{
	uint8_t b[128] = { 0, 5, (uint8_t)(code >> 8), (uint8_t)code };
	size_t n = 4 + (size_t)snprintf((char *)b + 4, sizeof b - 4, "%s", msg) + 1;
	if (fd < 0) { /* --xdp: from port 69 (dropped if the TX ring is full: the client retries) */
		xsend(69, ntohs(to->sin_port), b, n);
		return;
	}
	sendto(fd, b, n, 0, (const struct sockaddr *)to, sizeof *to);
}

static void handle_rrq(int lfd, const uint8_t *p, size_t len, const struct sockaddr_in *from)
{
	if (len < 4 || p[0] != 0 || (p[1] != 1 && p[1] != 2))
		return;
	if (p[1] == 2) {
		send_error(lfd, from, 4, "read-only server");
		return;
	}
	if (nsessions >= (xt ? sizeof slots / sizeof slots[0] : MAX_SESSIONS)) {
		send_error(lfd, from, 3, "too many transfers");
		return;
	}
	/* filename, mode, then option/value pairs, all NUL-terminated. */
	const char *f[2 + 2 * 8];
	unsigned nf = 0;
	size_t i = 2;
	while (i < len && nf < sizeof f / sizeof f[0]) {
		const char *s = (const char *)p + i;
		size_t l = strnlen(s, len - i);
		if (i + l >= len)
			break;
		f[nf++] = s;
		i += l + 1;
	}
	if (nf < 2)
		return;
	struct session *s = calloc(1, sizeof *s);
	if (!s)
		return;
	s->blksize = 512;
	s->window = 1;
	size_t o = 2;
	s->oack_buf[0] = 0;
	s->oack_buf[1] = 6;
	for (unsigned k = 2; k + 1 < nf; k += 2) {
		const char *name = f[k], *val = f[k + 1];
		char v[32];
		if (strcasecmp(name, "blksize") == 0) {
			long b = strtol(val, NULL, 10);
			s->blksize = b < 8 ? 8 : b > MAX_BLKSIZE ? MAX_BLKSIZE : (unsigned)b;
			snprintf(v, sizeof v, "%u", s->blksize);
		} else if (strcasecmp(name, "windowsize") == 0) {
			long w = strtol(val, NULL, 10);
			s->window = w < 1 ? 1 : w > (long)max_window ? max_window : (unsigned)w;
			snprintf(v, sizeof v, "%u", s->window);
		} else if (strcasecmp(name, "tsize") == 0) {
			snprintf(v, sizeof v, "%llu", (unsigned long long)image_size);
		} else {
			continue;
		}
		size_t nl = strlen(name), vl = strlen(v);
		if (o + nl + vl + 2 > sizeof s->oack_buf)
			break;
		memcpy(s->oack_buf + o, name, nl + 1);
		o += nl + 1;
		memcpy(s->oack_buf + o, v, vl + 1);
		o += vl + 1;
	}
	s->oack_len = o;
	s->oack = o > 2;
	s->nblocks = image_size / s->blksize + 1;
	if (xt) {
		unsigned nslots = sizeof slots / sizeof slots[0], k;
		for (k = 0; k < nslots && slots[(slot_next + k) % nslots]; k++)
			;
		k = (slot_next + k) % nslots; /* a free one: nsessions < nslots */
		slot_next = k + 1;
		slots[k] = s;
		s->fd = -1;
		s->port = (uint16_t)(XDP_SESSION_LO + k);
		s->cport = ntohs(from->sin_port);
		sessions[nsessions++] = s;
		s->last_heard_ms = now_ms();
		st_rrq++;
		session_send(s);
		return;
	}
	s->fd = udp_socket(srv_addr.s_addr, 0, 0);
	if (s->fd < 0 || connect(s->fd, (const struct sockaddr *)from, sizeof *from) < 0) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		send_error(lfd, from, 0, "no socket");
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev);
	sessions[nsessions++] = s;
	s->last_heard_ms = now_ms();
	st_rrq++;
	session_send(s);
}

static void serve_tftp_listen(int fd)
{
	static uint8_t rx[BATCH][600];
	static struct sockaddr_in src[BATCH];
	struct mmsghdr rm[BATCH];
	struct iovec ri[BATCH];
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < BATCH; i++) {
			ri[i] = (struct iovec){ rx[i], sizeof rx[i] };
			rm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &src[i], .msg_namelen = sizeof src[i],
							       .msg_iov = &ri[i], .msg_iovlen = 1 } };
		}
		int n = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			handle_rrq(fd, rx[i], rm[i].msg_len, &src[i]);
		if (n < BATCH)
			return;
	}
}

/* ACKs (or an ERROR) for a transfer, n datagrams at once. */
static void session_acks(struct session *s, const uint8_t *const *b, const size_t *blen, int n)
{
	uint64_t best = s->acked;
	int any = 0;
	for (int i = 0; i < n; i++) {
		if (blen[i] < 4 || b[i][0] != 0)
			continue;
		if (b[i][1] == 5) { /* ERROR from the client: give up */
			session_free(s);
			return;
		}
		if (b[i][1] != 4)
			continue;
		uint16_t a = (uint16_t)(b[i][2] << 8 | b[i][3]);
		/* Unroll the 16-bit block number to the one nearest the last ACK. */
		uint64_t c = (s->acked & ~0xffffull) | a;
		if (c + 32768 < s->acked)
			c += 65536;
		else if (c > s->acked + 32768 && c >= 65536)
			c -= 65536;
		if (c > s->nblocks)
			continue;
		any = 1;
		if (c > best)
			best = c;
	}
	if (!any)
		return;
	s->last_heard_ms = now_ms();
	if (s->oack) {
		s->oack = 0; /* ACK 0 (or anything) acknowledges the OACK */
	} else if (best == s->acked) {
		/* A duplicate ACK: the timeout handles loss. (Resending on it would
		 * be the Sorcerer's Apprentice: a duplicated window makes the client
		 * re-ACK its end, which would duplicate the next one, and so on.) */
		st_dup_ack++;
		return;
	}
	s->acked = best;
	if (s->acked >= s->nblocks) {
		st_done++;
		session_free(s);
		return;
	}
	session_send(s);
}

static void serve_session(struct session *s)
{
	uint8_t b[BATCH][64];
	const uint8_t *bp[BATCH];
	size_t bl[BATCH];
	struct mmsghdr rm[BATCH];
	struct iovec ri[BATCH];
	for (int i = 0; i < BATCH; i++) {
		ri[i] = (struct iovec){ b[i], sizeof b[i] };
		rm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &ri[i], .msg_iovlen = 1 } };
	}
	int n = recvmmsg(s->fd, rm, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	for (int i = 0; i < n; i++) {
		bp[i] = b[i];
		bl[i] = rm[i].msg_len;
	}
	session_acks(s, bp, bl, n);
}

/* --xdp: a datagram from the peer to port 69 or a session port. */
static void xdp_deliver(void *ctx, uint16_t dst_port, uint16_t src_port, const uint8_t *payload, size_t len)
{
	(void)ctx;
	if (dst_port == 69) {
		struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(src_port), .sin_addr = peer_addr };
		handle_rrq(-1, payload, len, &from);
		return;
	}
	if (dst_port < XDP_SESSION_LO || dst_port > XDP_SESSION_HI)
		return;
	struct session *s = slots[dst_port - XDP_SESSION_LO];
	if (s && s->cport == src_port)
		session_acks(s, &payload, &len, 1);
}

static void tick(void)
{
	uint64_t t = now_ms();
	for (unsigned i = 0; i < nsessions;) {
		struct session *s = sessions[i];
		if (t - s->last_heard_ms > 10000) {
			st_timeout++;
			session_free(s); /* sessions[i] is now another one */
			continue;
		}
		if (!s->queued && t - s->last_sent_ms >= rto_ms) {
			st_resend++;
			session_send(s);
		}
		i++;
	}
}

/* ---- main --------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: trivial-responder [--addr A.B.C.D] [--size BYTES | --file PATH] [--boot-file NAME]\n"
			"                         [--dump PATH] [--max-windowsize N] [--dhcp-port N] [--pxe-port N]\n"
			"                         [--tftp-port N] [--rto-ms MS] [--xdp IFACE --peer A.B.C.D [--xdp-prog FILE]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0", *file = NULL, *dump = NULL, *xdp_if = NULL, *peer = NULL, *xdp_prog = NULL;
	uint64_t size = 1 << 20;
	unsigned dhcp_port = 67, pxe_port = 4011, tftp_port = 69;
	static const struct option lo[] = {
		{ "addr", 1, 0, 'a' }, { "size", 1, 0, 's' }, { "file", 1, 0, 'f' }, { "boot-file", 1, 0, 'b' },
		{ "dump", 1, 0, 'd' }, { "max-windowsize", 1, 0, 'w' }, { "dhcp-port", 1, 0, 'D' },
		{ "pxe-port", 1, 0, 'P' }, { "tftp-port", 1, 0, 'T' }, { "rto-ms", 1, 0, 'R' }, { "xdp", 1, 0, 'X' }, { "peer", 1, 0, 'E' }, { "xdp-prog", 1, 0, 'G' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'a': addr = optarg; break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'f': file = optarg; break;
		case 'b': boot_file = optarg; break;
		case 'd': dump = optarg; break;
		case 'w': max_window = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'D': dhcp_port = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'P': pxe_port = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'T': tftp_port = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'R': rto_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'X': xdp_if = optarg; break;
		case 'E': peer = optarg; break;
		case 'G': xdp_prog = optarg; break;
		default: usage();
		}
	}
	if (inet_pton(AF_INET, addr, &srv_addr) != 1 || max_window < 1 || max_window > MAX_WINDOW_LIMIT ||
	    rto_ms < 1 || rto_ms > 60000 || (xdp_if && (!peer || inet_pton(AF_INET, peer, &peer_addr) != 1)))
		usage();
	if (file) {
		int fd = open(file, O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			perror(file);
			return 1;
		}
		image_size = (uint64_t)st.st_size;
		image = image_size ? mmap(NULL, image_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : (void *)"";
		if (image == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		close(fd);
	} else {
		uint8_t *m = malloc(size ? size : 1);
		if (!m)
			return 1;
		for (uint64_t i = 0; i < size; i++)
			m[i] = (uint8_t)((i * 7 + (i >> 10)) & 0xff);
		image = m;
		image_size = size;
	}
	if (dump) {
		FILE *f = fopen(dump, "wb");
		if (!f || fwrite(image, 1, image_size, f) != image_size || fclose(f) != 0) {
			perror(dump);
			return 1;
		}
	}
	struct rlimit rl = { MAX_SESSIONS + 64, MAX_SESSIONS + 64 };
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* DHCP on 0.0.0.0 so that broadcast DISCOVERs arrive; TFTP on --addr. */
	int dfd = udp_socket(INADDR_ANY, (uint16_t)dhcp_port, 1);
	int pfd = udp_socket(INADDR_ANY, (uint16_t)pxe_port, 1);
	int tfd = udp_socket(srv_addr.s_addr, (uint16_t)tftp_port, 0);
	if (dfd < 0 || pfd < 0 || tfd < 0) {
		perror("trivial-responder: bind");
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	static int tag_d, tag_p, tag_t; /* addresses distinguish listeners from sessions */
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.ptr = &tag_d; epoll_ctl(epfd, EPOLL_CTL_ADD, dfd, &ev);
	ev.data.ptr = &tag_p; epoll_ctl(epfd, EPOLL_CTL_ADD, pfd, &ev);
	ev.data.ptr = &tag_t; epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	static int tag_x;
	if (xdp_if) {
		char err[256], path[4096], thr[8] = "", tpath[300];
		if (!xdp_prog)
			xdp_prog = self_sibling_path("../bpf/stampede_xdp.bpf.o", path, sizeof path) == 0
					   ? path : "build/bpf/stampede_xdp.bpf.o";
		if (tftp_port != 69) {
			fprintf(stderr, "trivial-responder: --xdp serves TFTP on port 69 only\n");
			return 2;
		}
		snprintf(tpath, sizeof tpath, "/sys/class/net/%s/threaded", xdp_if);
		FILE *f = fopen(tpath, "r");
		if (f) {
			if (!fgets(thr, sizeof thr, f))
				thr[0] = '\0';
			fclose(f);
		}
		if (xsk_transport_open(&xt, xdp_if, xdp_prog, peer_addr.s_addr, 69, XDP_SESSION_HI, true, err,
				       sizeof err) < 0) {
			fprintf(stderr, "trivial-responder: --xdp %s: %s\n", xdp_if, err);
			return 1;
		}
		/* The transport turned threaded NAPI on for its own receive; Stampede's
		 * dataplane does not, so put it back. */
		if (thr[0] && (f = fopen(tpath, "w"))) {
			fputs(thr, f);
			fclose(f);
		}
		ev.data.ptr = &tag_x;
		epoll_ctl(epfd, EPOLL_CTL_ADD, xsk_transport_fd(xt), &ev);
	}
	fprintf(stderr, "trivial-responder: %s, image %llu bytes, DHCP :%u/:%u, TFTP :%u%s%s\n", addr,
		(unsigned long long)image_size, dhcp_port, pxe_port, tftp_port, xdp_if ? " through AF_XDP on " : "",
		xdp_if ? xdp_if : "");
	/* The retransmission check runs every 100 ms, or every rto/2 for a short rto. */
	unsigned tick_ms = rto_ms < 200 ? (rto_ms / 2 ? rto_ms / 2 : 1) : 100;
	uint64_t last_tick = now_ms();
	while (!stop) {
		struct epoll_event evs[64];
		int busy = 0;
		if (xt) {
			/* Drain the AF_XDP socket first; do not sleep while it is busy. */
			for (int round = 0; round < 16; round++) {
				unsigned got = xsk_transport_receive(xt, 64, xdp_deliver, NULL);
				if (got < 64)
					break;
				busy = 1;
			}
			pump();
			busy |= q_len > 0 || tx_busy;
		}
		int n = epoll_wait(epfd, evs, 64, busy ? 0 : (int)tick_ms);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &tag_d)
				serve_dhcp(dfd, 0);
			else if (p == &tag_p)
				serve_dhcp(pfd, 1);
			else if (p == &tag_t)
				serve_tftp_listen(tfd);
			else if (p == &tag_x)
				; /* drained at the top of the loop */
			else
				serve_session(p);
		}
		if (now_ms() - last_tick >= tick_ms) {
			tick();
			last_tick = now_ms();
		}
	}
	if (xt) {
		xsk_transport_print_stats(xt, stderr);
		xsk_transport_close(xt);
	}
	fprintf(stderr, "trivial-responder: %llu DISCOVERs, %llu offers, %llu acks, %llu RRQs, %llu transfers done, "
			"%llu timed out, %llu duplicate ACKs, %llu windows resent on a timeout\n",
		st_discover, st_offer, st_ack, st_rrq, st_done, st_timeout, st_dup_ack, st_resend);
	return 0;
}
