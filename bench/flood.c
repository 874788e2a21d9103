/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flood: hostile traffic at a boot server, as fast as one thread can send it,
 * for the flood tests (tests/net/test_flood.sh) and for sizing a deployment.
 *
 *   flood --iface IF --dst-mac MAC --dst-ip A --duration S
 *         [--sources N] [--src-net 10.201.128.0] [--kinds discover,request,rrq,junk]
 *         [--file NAME] [--batch N] [--rate FRAMES_PER_S]
 *
 * Every frame comes from one of N forged sources: MAC 02:f1:XX:XX:XX:XX and
 * address src-net + 1 + i (the DISCOVERs from 0.0.0.0, as firmware sends them).
 * The kinds, taken in turn:
 *   discover  a PXE firmware DISCOVER, broadcast (bench/pxe_client.c builds it)
 *   request   a boot-server REQUEST to A:4011
 *   rrq       a TFTP read request for --file (default undionly.kpxe) with
 *             blksize, tsize and windowsize, to A:69, from a port that moves
 *             on at every pass over the frames: each one a new transfer the
 *             server opens and nobody acknowledges, never a retransmission
 *             of an earlier request (which the server answers from the
 *             transfer that request opened)
 *   junk      random bytes (0 to 300) to 67, 69 or 4011, a quarter of them
 *             with a wrong UDP checksum
 * The frames are built once (4096 of them, checksums complete) and sent over
 * and over through an AF_PACKET socket with PACKET_QDISC_BYPASS, --batch
 * (64) at a time with sendmmsg: no work per frame but the kernel's.
 * --rate caps the frames sent a second (default: as fast as it can), for a
 * server slower than this machine's sender (a sanitizer build). It stops
 * after --duration, or earlier on SIGINT or SIGTERM (a test ends it once its
 * clients are done).
 * Output: one JSON line: frames sent, seconds, frames/s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "net.h"
#include "pxe_client.h"

#define FRAMES    4096
#define UDP_SPORT 34 /* offsets in an Ethernet + IPv4 (no options) + UDP frame */
#define UDP_SUM   40
#define FRAME_MAX 1514
#define MAX_BATCH 256
#define MAX_KINDS 8

enum kind { KIND_DISCOVER, KIND_REQUEST, KIND_RRQ, KIND_JUNK };

struct flood {
	struct net_endpoint server; /* MAC and address */
	uint32_t src_net;           /* host order */
	uint32_t sources;
	const char *file;
	enum kind kinds[MAX_KINDS];
	unsigned n_kinds;
	uint64_t rng;
};

static uint64_t next_random(struct flood *f)
{
	f->rng ^= f->rng << 13; /* xorshift64 */
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static void usage(void)
{
	fprintf(stderr, "usage: flood --iface IF --dst-mac MAC --dst-ip A --duration S [--sources N]\n"
			"             [--src-net A] [--kinds discover,request,rrq,junk] [--file NAME] [--batch N]\n"
			"             [--rate FRAMES_PER_S]\n");
	exit(2);
}

static bool parse_kinds(struct flood *f, char *list)
{
	static const char *const names[] = { "discover", "request", "rrq", "junk" };

	f->n_kinds = 0;
	for (char *save, *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		unsigned i = 0;

		while (i < 4 && strcmp(k, names[i]) != 0)
			i++;
		if (i == 4 || f->n_kinds == MAX_KINDS)
			return false;
		f->kinds[f->n_kinds++] = (enum kind)i;
	}
	return f->n_kinds > 0;
}

static struct net_endpoint source(struct flood *f, uint32_t i)
{
	struct net_endpoint s = { .mac = { 0x02, 0xf1, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
					  (uint8_t)i },
				  .ip = htonl(f->src_net + 1 + i),
				  .port = (uint16_t)(1024 + next_random(f) % 64000) };

	return s;
}

static size_t put_rrq(uint8_t *p, const char *file)
{
	static const char opts[] = "octet\0blksize\0001468\0tsize\0000\0windowsize\00064";
	size_t n = strlen(file);

	p[0] = 0;
	p[1] = 1;
	memcpy(p + 2, file, n + 1);
	memcpy(p + 3 + n, opts, sizeof(opts));
	return 3 + n + sizeof(opts);
}

/* One frame of the given kind from source number i; returns its length. */
static size_t build(struct flood *f, uint8_t *frame, enum kind kind, uint32_t i)
{
	struct net_endpoint src = source(f, i), dst = f->server;
	uint8_t *payload = frame + NET_UDP_HEADERS_LEN;
	struct pxe_client_identity id = { .arch = kind == KIND_REQUEST ? 7 : 0 };
	size_t len, wrong_sum = 0;

	memcpy(id.mac, src.mac, 6);
	for (int b = 0; b < 16; b++)
		id.guid[b] = (uint8_t)next_random(f);
	switch (kind) {
	case KIND_DISCOVER:
		src.ip = 0;
		src.port = 68;
		memset(dst.mac, 0xff, 6);
		dst.ip = 0xffffffff;
		dst.port = 67;
		len = pxe_client_build(payload, PXE_STAGE_FIRMWARE, &id, (uint32_t)next_random(f), false, 0, 0);
		break;
	case KIND_REQUEST:
		src.port = 68;
		dst.port = 4011;
		len = pxe_client_build(payload, PXE_STAGE_BOOT_SERVER, &id, (uint32_t)next_random(f), true, 0x8000,
				       src.ip);
		break;
	case KIND_RRQ:
		dst.port = 69;
		len = put_rrq(payload, f->file);
		break;
	default: {
		static const uint16_t ports[] = { 67, 69, 4011 };

		dst.port = ports[next_random(f) % 3];
		len = (size_t)(next_random(f) % 301);
		for (size_t b = 0; b < len; b++)
			payload[b] = (uint8_t)next_random(f);
		wrong_sum = next_random(f) % 4 == 0;
		break;
	}
	}
	len = net_build_udp(frame, &src, &dst, (uint16_t)next_random(f), len);
	if (wrong_sum)
		frame[40] ^= 0x5a; /* the UDP checksum */
	return len;
}

/* RFC 1624: the checksum after a 16-bit field went from old to new. */
static uint16_t sum_update(uint16_t sum, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~sum + (uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The next source port of a read request (1024-65023), its checksum kept. */
static void next_rrq_port(uint8_t *frame)
{
	uint16_t port = (uint16_t)(frame[UDP_SPORT] << 8 | frame[UDP_SPORT + 1]);
	uint16_t moved = port >= 65023 ? 1024 : (uint16_t)(port + 1);
	uint16_t sum = (uint16_t)(frame[UDP_SUM] << 8 | frame[UDP_SUM + 1]);

	sum = sum_update(sum, port, moved);
	if (sum == 0)
		sum = 0xffff; /* RFC 768: 0 means no checksum */
	frame[UDP_SPORT] = (uint8_t)(moved >> 8);
	frame[UDP_SPORT + 1] = (uint8_t)moved;
	frame[UDP_SUM] = (uint8_t)(sum >> 8);
	frame[UDP_SUM + 1] = (uint8_t)sum;
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iface", required_argument, NULL, 'i' },   { "dst-mac", required_argument, NULL, 'm' },
		{ "dst-ip", required_argument, NULL, 'd' },  { "duration", required_argument, NULL, 't' },
		{ "sources", required_argument, NULL, 's' }, { "src-net", required_argument, NULL, 'n' },
		{ "kinds", required_argument, NULL, 'k' },   { "file", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },   { "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t frames[FRAMES][FRAME_MAX];
	static size_t lens[FRAMES];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static char default_kinds[] = "discover,request,rrq,junk";
	struct flood f = { .src_net = 0x0ac98000, .sources = 1000, .file = "undionly.kpxe", .rng = 88172645463325252ull };
	const char *iface = NULL;
	uint64_t duration_s = 0, batch = 64, rate = 0, v;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_halen = 6 };
	unsigned long long sent = 0, errors = 0;
	uint64_t start, end;
	struct in_addr a;
	int c, fd, one = 1;

	parse_kinds(&f, default_kinds);
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 'm': if (!parse_mac(optarg, f.server.mac)) usage(); break;
		case 'd': if (inet_pton(AF_INET, optarg, &a) != 1) usage(); f.server.ip = a.s_addr; break;
		case 't': if (!bench_parse_u64(optarg, 1, 3600, &duration_s)) usage(); break;
		case 's': if (!bench_parse_u64(optarg, 1, 1u << 24, &v)) usage(); f.sources = (uint32_t)v; break;
		case 'n': if (inet_pton(AF_INET, optarg, &a) != 1) usage(); f.src_net = ntohl(a.s_addr); break;
		case 'k': if (!parse_kinds(&f, optarg)) usage(); break;
		case 'f': if (!*optarg || strlen(optarg) > 200) usage(); f.file = optarg; break;
		case 'b': if (!bench_parse_u64(optarg, 1, MAX_BATCH, &batch)) usage(); break;
		case 'r': if (!bench_parse_u64(optarg, 1, 100000000, &rate)) usage(); break;
		default: usage();
		}
	}
	if (!iface || !f.server.ip || !duration_s)
		usage();
	for (uint32_t i = 0; i < FRAMES; i++)
		lens[i] = build(&f, frames[i], f.kinds[i % f.n_kinds], (uint32_t)(next_random(&f) % f.sources));

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	ll.sll_ifindex = (int)if_nametoindex(iface);
	if (fd < 0 || !ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		fprintf(stderr, "flood: %s: %s\n", iface, strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		perror("flood: PACKET_QDISC_BYPASS (continuing)");

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	start = bench_now_ns();
	end = start + duration_s * 1000000000ull;
	for (uint32_t next = 0; !stop_requested && bench_now_ns() < end;) {
		int r;

		if (next < batch) /* a new pass: every read request a new transfer */
			for (uint32_t i = 0; i < FRAMES; i++)
				if (f.kinds[i % f.n_kinds] == KIND_RRQ)
					next_rrq_port(frames[i]);
		for (unsigned b = 0; b < batch; b++, next = (next + 1) % FRAMES) {
			iov[b] = (struct iovec){ frames[next], lens[next] };
			msgs[b].msg_hdr = (struct msghdr){ .msg_name = &ll, .msg_namelen = sizeof(ll), .msg_iov = &iov[b],
							   .msg_iovlen = 1 };
		}
		r = sendmmsg(fd, msgs, (unsigned)batch, 0);
		if (r > 0)
			sent += (unsigned long long)r;
		else
			errors++; /* ENOBUFS when the device queue is full: go on */
		if (rate) { /* ahead of the schedule: wait for it */
			uint64_t due = start + sent * 1000000000ull / rate, now = bench_now_ns();

			if (due > now)
				nanosleep(&(struct timespec){ .tv_sec = (time_t)((due - now) / 1000000000ull),
							     .tv_nsec = (long)((due - now) % 1000000000ull) },
					  NULL);
		}
	}
	{
		double seconds = (double)(bench_now_ns() - start) / 1e9;

		printf("{\"sent\": %llu, \"seconds\": %.3f, \"frames_per_s\": %.0f, \"send_errors\": %llu}\n", sent,
		       seconds, (double)sent / seconds, errors);
	}
	close(fd);
	return 0;
}
