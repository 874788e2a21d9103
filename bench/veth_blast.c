/*
 * veth-blast: send UDP/IPv4 frames as fast as one thread can, for a fixed time,
 * to measure the raw packet and byte limit of a veth pair (bench/veth_limit.sh).
 * The kernel has no pktgen here (CONFIG_NET_PKTGEN unset), hence this.
 *
 *   veth-blast --iface IF --dst-mac MAC --src-ip A --dst-ip B --payload N
 *              --duration S [--mode packet|udp|xsk] [--batch N]
 *   veth-blast --mode xsk-rx --iface IF --src-ip A --duration S [--dst-port P]
 *
 * --mode packet (default): an AF_PACKET socket bound to IF with
 *   PACKET_QDISC_BYPASS, prebuilt Ethernet/IPv4/UDP frames (checksums
 *   complete), sendmmsg in batches (default 64): the cheapest way for user
 *   space to hand frames to the veth driver without AF_XDP.
 * --mode udp: a UDP socket, sendmmsg of N-byte datagrams to B:9 (the kernel's
 *   UDP/IP path, as a socket server would pay it).
 * --mode xsk: the path Stampede's dataplane transmits on (DPDK's net_af_xdp
 *   PMD, copy mode on a veth): an AF_XDP socket on IF opened through
 *   bench/xsk_transport.c (it attaches bpf/stampede_xdp.bpf.o to IF, resolves
 *   B's MAC through ARP, and sets IF's NAPI threaded, pinned to this thread's
 *   CPUs, until it closes), N-byte datagrams from --src-port (12345) to
 *   B:--dst-port (20000), queued --batch at a time, then kicked until the
 *   kernel has taken them (a copy-mode kick sends at most 32 and answers
 *   EAGAIN while more wait; DPDK's net_af_xdp loops the same way), as fast
 *   as the TX ring takes them. Each frame's headers and checksums are
 *   built and its payload copied into the UMEM as it is queued, as
 *   xsk_transport_send does for the load clients. --dst-mac and --src-ip are
 *   not used (IF's own address is the source).
 * --mode xsk-rx: the benchmark client's receive path (bench/xsk_transport.c on
 *   IF, as `swarm --xdp` uses it, UDP checksums verified): counts the
 *   datagrams from --src-ip A to IF's address, port --dst-port, and their
 *   bytes. It prints "veth-blast: receiving" on stderr once the socket is
 *   bound, waits (poll) when nothing is there, stops --idle-ms (500) after the
 *   last datagram or after --duration S, and reports the rate between the
 *   first and the last datagram.
 * Payload N = 1472 gives 1514-byte frames (MTU 1500); N = 18 gives 60-byte
 * frames, the Ethernet minimum without FCS.
 * Output: one JSON line: frames sent (or received), seconds, frames/s, frame
 * bytes/s.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_xdp.h>

#include "self_path.h"
#include "xsk_transport.h"

#define MAX_BATCH 256

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void usage(void)
{
	fprintf(stderr, "usage: veth-blast --iface IF --dst-mac MAC --src-ip A --dst-ip B --payload N --duration S\n"
			"                  [--mode packet|udp|xsk] [--batch N] [--src-port P] [--dst-port P]\n"
			"                  [--xdp-prog FILE]\n"
			"       veth-blast --mode xsk-rx --iface IF --src-ip A --duration S [--dst-port P]\n"
			"                  [--idle-ms MS] [--xdp-prog FILE]\n");
	exit(2);
}

static const char *default_xdp_prog(void)
{
	static char path[4096];

	/* build/bench/veth-blast -> build/bpf/stampede_xdp.bpf.o */
	return self_sibling_path("../bpf/stampede_xdp.bpf.o", path, sizeof path) == 0 ? path
										    : "build/bpf/stampede_xdp.bpf.o";
}

/* --mode xsk: AF_XDP transmit, as Stampede's dataplane does it. */
static int xsk_send_main(const char *iface, const char *xdp_prog, struct in_addr dip, unsigned payload,
			 unsigned batch, double duration, uint16_t sport, uint16_t dport)
{
	struct xsk_transport *t;
	char err[256];
	static uint8_t data[1472];
	int r;

	for (unsigned i = 0; i < payload; i++)
		data[i] = (uint8_t)i;
	/* The transport's "server" is the peer we send to; its port range (what its
	 * XDP program would steer to us) is our source port alone. */
	r = xsk_transport_open(&t, iface, xdp_prog, dip.s_addr, sport, sport, true, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "veth-blast: AF_XDP on %s: %s\n", iface, err);
		return 1;
	}
	unsigned long long sent = 0, full = 0, kicks = 0;
	double t0 = now_s(), t1 = t0;
	unsigned long iter = 0;
	while (t1 - t0 < duration) {
		unsigned n = 0;
		while (n < batch && xsk_transport_send(t, sport, dport, data, payload) == 0)
			n++;
		sent += n;
		full += n < batch; /* the TX ring was full */
		/* Kick for the batch. A copy-mode kick sends a bounded number of
		 * frames (32 by default) and answers EAGAIN while more wait, so kick
		 * again until it has taken them all, as DPDK's net_af_xdp does
		 * (kick_tx); give up after 64 kicks (the veth is pushing back) and
		 * queue the next batch when there is room. */
		for (int k = 0; k < 64; k++) {
			kicks++;
			if (sendto(xsk_transport_fd(t), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 ||
			    (errno != EAGAIN && errno != EBUSY && errno != EINTR))
				break;
		}
		xsk_transport_flush(t); /* reclaims completed frames */
		if ((++iter & 15) == 0)
			t1 = now_s();
	}
	t1 = now_s() - t0;
	xsk_transport_close(t); /* waits (up to 0.2 s) for the queued frames to go */
	printf("{\"mode\": \"xsk\", \"payload\": %u, \"frame_bytes\": %u, \"sent\": %llu, \"send_errors\": 0, "
	       "\"ring_full\": %llu, \"kicks\": %llu, \"seconds\": %.3f, \"pps\": %.0f, \"frame_Bps\": %.0f}\n",
	       payload, payload + 42, sent, full, kicks, t1, (double)sent / t1,
	       (double)sent * (double)(payload + 42) / t1);
	return 0;
}

struct rx_count {
	unsigned long long pkts, bytes;
};

static void rx_deliver(void *ctx, uint16_t dst_port, uint16_t src_port, const uint8_t *payload, size_t len)
{
	struct rx_count *c = ctx;

	(void)dst_port;
	(void)src_port;
	(void)payload;
	c->pkts++;
	c->bytes += len;
}

/* --mode xsk-rx: the benchmark client's AF_XDP receive path, counting. */
static int xsk_rx_main(const char *iface, const char *xdp_prog, struct in_addr sip, uint16_t dport, double duration,
		       unsigned idle_ms)
{
	struct xsk_transport *t;
	struct rx_count c = { 0 };
	char err[256];
	int r;

	r = xsk_transport_open(&t, iface, xdp_prog, sip.s_addr, dport, dport, true, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "veth-blast: AF_XDP on %s: %s\n", iface, err);
		return 1;
	}
	fprintf(stderr, "veth-blast: receiving\n");
	struct pollfd pfd = { .fd = xsk_transport_fd(t), .events = POLLIN };
	double start = now_s(), first = 0, last = 0, now = start;
	unsigned long long at_first = 0;
	while (now - start < duration) {
		unsigned n = xsk_transport_receive(t, 64, rx_deliver, &c);
		now = now_s();
		if (n) {
			if (!first) {
				first = now;
				at_first = c.pkts;
			}
			last = now;
			continue;
		}
		if (first && (now - last) * 1000 >= idle_ms)
			break;
		poll(&pfd, 1, 10); /* sleep as swarm does (epoll), leaving the core to NAPI */
		now = now_s();
	}
	struct xdp_statistics st = { 0 };
	socklen_t sl = sizeof st;
	getsockopt(xsk_transport_fd(t), SOL_XDP, XDP_STATISTICS, &st, &sl);
	xsk_transport_close(t);
	/* Rate over first .. last datagram; the first batch's datagrams arrived before "first". */
	double secs = last - first;
	unsigned long long counted = c.pkts - at_first;
	printf("{\"mode\": \"xsk-rx\", \"received\": %llu, \"payload_bytes\": %llu, \"frame_bytes\": %llu, "
	       "\"seconds\": %.3f, \"pps\": %.0f, \"payload_Bps\": %.0f, \"frame_Bps\": %.0f, \"rx_dropped\": %llu, "
	       "\"rx_ring_full\": %llu, \"fill_ring_empty\": %llu}\n",
	       c.pkts, c.bytes, c.bytes + 42 * c.pkts, secs, secs > 0 ? (double)counted / secs : 0,
	       secs > 0 && c.pkts ? (double)c.bytes * counted / c.pkts / secs : 0,
	       secs > 0 && c.pkts ? (double)(c.bytes + 42 * c.pkts) * counted / c.pkts / secs : 0,
	       (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
	       (unsigned long long)st.rx_fill_ring_empty_descs);
	return 0;
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *dmac_s = NULL, *sip_s = NULL, *dip_s = NULL, *mode = "packet", *xdp_prog = NULL;
	unsigned payload = 1472, batch = 64, sport = 12345, dport = 20000, idle_ms = 500;
	double duration = 5;
	static const struct option lo[] = {
		{ "iface", 1, 0, 'i' }, { "dst-mac", 1, 0, 'm' }, { "src-ip", 1, 0, 's' }, { "dst-ip", 1, 0, 'd' },
		{ "payload", 1, 0, 'p' }, { "duration", 1, 0, 't' }, { "mode", 1, 0, 'M' }, { "batch", 1, 0, 'b' },
		{ "src-port", 1, 0, 'S' }, { "dst-port", 1, 0, 'D' }, { "xdp-prog", 1, 0, 'x' }, { "idle-ms", 1, 0, 'I' },
		{ 0, 0, 0, 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'i': iface = optarg; break;
		case 'm': dmac_s = optarg; break;
		case 's': sip_s = optarg; break;
		case 'd': dip_s = optarg; break;
		case 'p': payload = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': duration = atof(optarg); break;
		case 'M': mode = optarg; break;
		case 'b': batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': sport = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'D': dport = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'x': xdp_prog = optarg; break;
		case 'I': idle_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	struct in_addr sip, dip;
	if (!xdp_prog)
		xdp_prog = default_xdp_prog();
	if (sport < 1 || sport > 65535 || dport < 1 || dport > 65535)
		usage();
	if (strcmp(mode, "xsk-rx") == 0) {
		if (!iface || !sip_s || inet_pton(AF_INET, sip_s, &sip) != 1 || duration <= 0 || duration > 600)
			usage();
		return xsk_rx_main(iface, xdp_prog, sip, (uint16_t)dport, duration, idle_ms);
	}
	if (strcmp(mode, "xsk") == 0) {
		if (!iface || !dip_s || inet_pton(AF_INET, dip_s, &dip) != 1 || payload < 18 || payload > 1472 ||
		    batch < 1 || batch > MAX_BATCH || duration <= 0 || duration > 600)
			usage();
		return xsk_send_main(iface, xdp_prog, dip, payload, batch, duration, (uint16_t)sport, (uint16_t)dport);
	}
	if (!iface || !sip_s || !dip_s || inet_pton(AF_INET, sip_s, &sip) != 1 || inet_pton(AF_INET, dip_s, &dip) != 1 ||
	    payload < 18 || payload > 1472 || batch < 1 || batch > MAX_BATCH || duration <= 0 || duration > 600)
		usage();
	int packet = strcmp(mode, "packet") == 0;
	if (!packet && strcmp(mode, "udp") != 0)
		usage();

	static uint8_t frame[1514];
	size_t flen = 14 + 20 + 8 + payload;
	int fd;
	struct sockaddr_ll ll = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = dip };
	if (packet) {
		unsigned m[6];
		if (!dmac_s || sscanf(dmac_s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
			usage();
		fd = socket(AF_PACKET, SOCK_RAW, 0);
		if (fd < 0) {
			perror("veth-blast: socket");
			return 1;
		}
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			perror("veth-blast: SIOCGIFHWADDR");
			return 1;
		}
		for (int i = 0; i < 6; i++)
			frame[i] = (uint8_t)m[i];
		memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
		frame[12] = 0x08; frame[13] = 0x00;
		uint8_t *ip = frame + 14;
		ip[0] = 0x45; ip[1] = 0;
		uint16_t tl = htons((uint16_t)(20 + 8 + payload));
		memcpy(ip + 2, &tl, 2);
		ip[6] = 0x40; ip[8] = 64; ip[9] = 17;
		memcpy(ip + 12, &sip, 4);
		memcpy(ip + 16, &dip, 4);
		uint16_t c = htons(csum(ip, 20, 0));
		memcpy(ip + 10, &c, 2);
		uint8_t *udp = ip + 20;
		udp[0] = 0x30; udp[1] = 0x39; /* 12345 */
		udp[2] = 0; udp[3] = 9;       /* discard */
		uint16_t ul = htons((uint16_t)(8 + payload));
		memcpy(udp + 4, &ul, 2);
		for (unsigned i = 0; i < payload; i++)
			udp[8 + i] = (uint8_t)i;
		/* Pseudo-header sum. */
		uint8_t ph[12];
		memcpy(ph, &sip, 4); memcpy(ph + 4, &dip, 4);
		ph[8] = 0; ph[9] = 17; memcpy(ph + 10, &ul, 2);
		uint32_t s = 0;
		for (int i = 0; i < 12; i += 2)
			s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
		c = htons(csum(udp, 8 + payload, s));
		if (!c)
			c = 0xffff;
		memcpy(udp + 6, &c, 2);
		ll.sll_family = AF_PACKET;
		ll.sll_protocol = htons(ETH_P_IP);
		ll.sll_ifindex = (int)if_nametoindex(iface);
		ll.sll_halen = 6;
		memcpy(ll.sll_addr, frame, 6);
		if (!ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0) {
			perror("veth-blast: bind");
			return 1;
		}
		int one = 1;
		if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
			perror("veth-blast: PACKET_QDISC_BYPASS (continuing)");
	} else {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = sip };
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			perror("veth-blast: udp socket");
			return 1;
		}
		for (unsigned i = 0; i < payload; i++)
			frame[i] = (uint8_t)i;
	}
	int sb = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof sb);

	static struct mmsghdr m[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	for (unsigned i = 0; i < batch; i++) {
		iov[i] = packet ? (struct iovec){ frame, flen } : (struct iovec){ frame, payload };
		m[i].msg_hdr = packet ? (struct msghdr){ .msg_name = &ll, .msg_namelen = sizeof ll, .msg_iov = &iov[i], .msg_iovlen = 1 }
				      : (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	unsigned long long sent = 0, errors = 0;
	double t0 = now_s(), t = t0;
	unsigned long iter = 0;
	while (t - t0 < duration) {
		int r = sendmmsg(fd, m, batch, 0);
		if (r > 0)
			sent += (unsigned long long)r;
		else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED)
			errors++;
		else {
			perror("veth-blast: sendmmsg");
			return 1;
		}
		if ((++iter & 63) == 0)
			t = now_s();
	}
	t = now_s() - t0;
	printf("{\"mode\": \"%s\", \"payload\": %u, \"frame_bytes\": %zu, \"sent\": %llu, \"send_errors\": %llu, "
	       "\"seconds\": %.3f, \"pps\": %.0f, \"frame_Bps\": %.0f}\n",
	       mode, payload, packet ? flen : (size_t)14 + 28 + payload, sent, errors, t, (double)sent / t,
	       (double)sent * (double)(packet ? flen : 14 + 28 + payload) / t);
	return 0;
}
