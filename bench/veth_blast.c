/*
 * veth-blast: send UDP/IPv4 frames as fast as one thread can, for a fixed time,
 * to measure the raw packet and byte limit of a veth pair (bench/veth_limit.sh).
 * The kernel has no pktgen here (CONFIG_NET_PKTGEN unset), hence this.
 *
 *   veth-blast --iface IF --dst-mac MAC --src-ip A --dst-ip B --payload N
 *              --duration S [--mode packet|udp] [--batch N]
 *
 * --mode packet (default): an AF_PACKET socket bound to IF with
 *   PACKET_QDISC_BYPASS, prebuilt Ethernet/IPv4/UDP frames (checksums
 *   complete), sendmmsg in batches (default 64): the cheapest way for user
 *   space to hand frames to the veth driver without AF_XDP.
 * --mode udp: a UDP socket, sendmmsg of N-byte datagrams to B:9 (the kernel's
 *   UDP/IP path, as a socket server would pay it).
 * Payload N = 1472 gives 1514-byte frames (MTU 1500); N = 18 gives 60-byte
 * frames, the Ethernet minimum without FCS.
 * Output: one JSON line: frames sent, seconds, frames/s, frame bytes/s.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
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
			"                  [--mode packet|udp] [--batch N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *dmac_s = NULL, *sip_s = NULL, *dip_s = NULL, *mode = "packet";
	unsigned payload = 1472, batch = 64;
	double duration = 5;
	static const struct option lo[] = {
		{ "iface", 1, 0, 'i' }, { "dst-mac", 1, 0, 'm' }, { "src-ip", 1, 0, 's' }, { "dst-ip", 1, 0, 'd' },
		{ "payload", 1, 0, 'p' }, { "duration", 1, 0, 't' }, { "mode", 1, 0, 'M' }, { "batch", 1, 0, 'b' },
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
		default: usage();
		}
	}
	struct in_addr sip, dip;
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
