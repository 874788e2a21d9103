/*
 * dhcp-rate: an open-loop PXE DHCPDISCOVER load generator with per-reply
 * latency, for bench/dhcp_bench.sh.
 *
 * It plays a DHCP relay (as Kea's perfdhcp does): one UDP socket bound to
 * BIND:67, every DISCOVER carries giaddr = BIND and hops = 1, and the server
 * answers the relay at BIND:67. DISCOVERs look like PXE firmware's: option 53
 * (DISCOVER), 55 (1, 3, 43, 54, 60, 66, 67, 97, 128-135), 57, 60
 * "PXEClient:Arch:AAAAA:UNDI:002001", 93 (arch), 94, 97 (a GUID per client),
 * each client with its own MAC (--clients N, cycled).
 *
 * Sending is paced at --rate per second for --duration seconds (batches of
 * at most 32 via sendmmsg, the batch sized by how far behind the schedule the
 * sender is), replies are read with recvmmsg and matched by xid (xid = the
 * request's sequence number, so a match is an array index). Latency is the
 * kernel's receive timestamp of the reply (SO_TIMESTAMPNS) minus the time
 * taken just before the sendmmsg that carried the request: client scheduling
 * on the receive side is excluded, the send syscall (which on a veth also
 * delivers the request into the server's namespace) is included.
 * After the last send it keeps reading for --wait-ms. A request with no reply
 * by then is a drop. Output: one JSON line on stdout.
 *
 * Limits: one thread; at most 50 million requests per run; replies are
 * counted once (duplicates and unknown xids are "orphans").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAX_REQ 50000000u
#define XID_BASE 0x5a000000u

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dhcp-rate --server A.B.C.D --bind A.B.C.D --rate N --duration S\n"
		"                 [--clients N] [--arch N] [--wait-ms N] [--port N] [--mac-base N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *server = NULL, *bind_ip = NULL;
	double rate = 1000, duration = 5;
	unsigned clients = 1000, arch = 0, wait_ms = 500, port = 67, mac_base = 0;
	static const struct option lo[] = {
		{ "server", 1, 0, 's' }, { "bind", 1, 0, 'b' }, { "rate", 1, 0, 'r' },
		{ "duration", 1, 0, 'd' }, { "clients", 1, 0, 'c' }, { "arch", 1, 0, 'a' },
		{ "wait-ms", 1, 0, 'w' }, { "port", 1, 0, 'p' }, { "mac-base", 1, 0, 'm' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'b': bind_ip = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'c': clients = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'a': arch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': wait_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': port = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': mac_base = (unsigned)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!server || !bind_ip || rate <= 0 || duration <= 0 || clients == 0)
		usage();
	double total_d = rate * duration;
	if (total_d > MAX_REQ) {
		fprintf(stderr, "dhcp-rate: rate x duration above %u\n", MAX_REQ);
		return 2;
	}
	uint32_t total = (uint32_t)total_d;

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(67) }, da = sa;
	if (inet_pton(AF_INET, bind_ip, &sa.sin_addr) != 1 || inet_pton(AF_INET, server, &da.sin_addr) != 1)
		usage();
	da.sin_port = htons((uint16_t)port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int one = 1, big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("dhcp-rate: bind");
		return 1;
	}

	/* Request template. */
	uint8_t tpl[400];
	memset(tpl, 0, sizeof tpl);
	tpl[0] = 1; tpl[1] = 1; tpl[2] = 6; tpl[3] = 1;
	memcpy(tpl + 24, &sa.sin_addr, 4); /* giaddr */
	tpl[28] = 0x52; tpl[29] = 0x54; tpl[30] = 0x00;
	size_t n = 236;
	static const uint8_t cookie[] = { 99, 130, 83, 99 };
	memcpy(tpl + n, cookie, 4); n += 4;
	tpl[n++] = 53; tpl[n++] = 1; tpl[n++] = 1;
	static const uint8_t prl[] = { 1, 3, 43, 54, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135 };
	tpl[n++] = 55; tpl[n++] = sizeof prl; memcpy(tpl + n, prl, sizeof prl); n += sizeof prl;
	tpl[n++] = 57; tpl[n++] = 2; tpl[n++] = 0x04; tpl[n++] = 0xec;
	char vc[40];
	int vl = snprintf(vc, sizeof vc, "PXEClient:Arch:%05u:UNDI:002001", arch);
	tpl[n++] = 60; tpl[n++] = (uint8_t)vl; memcpy(tpl + n, vc, (size_t)vl); n += (size_t)vl;
	tpl[n++] = 93; tpl[n++] = 2; tpl[n++] = (uint8_t)(arch >> 8); tpl[n++] = (uint8_t)arch;
	tpl[n++] = 94; tpl[n++] = 3; tpl[n++] = 1; tpl[n++] = 2; tpl[n++] = 1;
	tpl[n++] = 97; tpl[n++] = 17; tpl[n++] = 0;
	size_t guid_off = n;
	for (int i = 0; i < 16; i++) tpl[n++] = (uint8_t)(0xa0 + i);
	tpl[n++] = 255;
	size_t plen = n < 300 ? 300 : n; /* BOOTP minimum */

	uint64_t *sent_at = calloc(total ? total : 1, sizeof *sent_at);
	uint32_t *lat = malloc((total ? total : 1) * sizeof *lat);
	uint8_t *got = calloc(total ? total : 1, 1);
	if (!sent_at || !lat || !got) {
		fprintf(stderr, "dhcp-rate: out of memory\n");
		return 1;
	}
	static uint8_t txbuf[BATCH][400], rxbuf[BATCH][1500];
	static char ctl[BATCH][64];
	struct mmsghdr tmsg[BATCH], rmsg[BATCH];
	struct iovec tiov[BATCH], riov[BATCH];
	for (int i = 0; i < BATCH; i++) {
		tiov[i] = (struct iovec){ txbuf[i], plen };
		tmsg[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &da, .msg_namelen = sizeof da, .msg_iov = &tiov[i], .msg_iovlen = 1 } };
		riov[i] = (struct iovec){ rxbuf[i], sizeof rxbuf[i] };
	}

	uint32_t seq = 0, answered = 0, orphans = 0, send_errors = 0;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), tend_send = 0;
	uint64_t wall0 = now_ns(CLOCK_REALTIME);
	uint64_t rt_off = wall0 - t0; /* realtime - monotonic, for SO_TIMESTAMPNS */
	double ns_per = 1e9 / rate;
	int sending = 1;
	uint64_t deadline = 0;
	for (;;) {
		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (sending) {
			uint64_t due = (uint64_t)((double)(t - t0) / ns_per) + 1;
			if (due > total) due = total;
			/* At most two batches before reading replies again. */
			for (int nb = 0; nb < 2 && seq < due; nb++) {
				unsigned b = due - seq > BATCH ? BATCH : due - seq;
				for (unsigned i = 0; i < b; i++) {
					uint32_t s = seq + i, c = (s % clients) + mac_base, xid = htonl(XID_BASE + s);
					memcpy(txbuf[i], tpl, plen);
					memcpy(txbuf[i] + 4, &xid, 4);
					txbuf[i][31] = (uint8_t)(c >> 16); txbuf[i][32] = (uint8_t)(c >> 8); txbuf[i][33] = (uint8_t)c;
					memcpy(txbuf[i] + guid_off, &c, 4);
				}
				uint64_t ts = now_ns(CLOCK_REALTIME);
				int r = sendmmsg(fd, tmsg, b, 0);
				if (r <= 0) {
					if (errno == EAGAIN || errno == ENOBUFS) { send_errors++; break; }
					perror("dhcp-rate: sendmmsg");
					return 1;
				}
				for (int i = 0; i < r; i++) sent_at[seq + (uint32_t)i] = ts;
				seq += (uint32_t)r;
				if ((unsigned)r < b) break;
			}
			if (seq >= total) {
				sending = 0;
				tend_send = now_ns(CLOCK_MONOTONIC);
				deadline = tend_send + (uint64_t)wait_ms * 1000000ull;
			}
		} else if (t >= deadline || answered >= total) {
			break;
		}
		/* Receive whatever is there. */
		for (;;) {
			for (int i = 0; i < BATCH; i++)
				rmsg[i].msg_hdr = (struct msghdr){ .msg_iov = &riov[i], .msg_iovlen = 1,
								    .msg_control = ctl[i], .msg_controllen = sizeof ctl[i] };
			int r = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0) break;
			uint64_t fallback = now_ns(CLOCK_REALTIME);
			for (int i = 0; i < r; i++) {
				uint8_t *p = rxbuf[i];
				if (rmsg[i].msg_len < 240 || p[0] != 2) { orphans++; continue; }
				uint32_t xid;
				memcpy(&xid, p + 4, 4);
				xid = ntohl(xid) - XID_BASE;
				if (xid >= seq || got[xid]) { orphans++; continue; }
				uint64_t rts = fallback;
				for (struct cmsghdr *cm = CMSG_FIRSTHDR(&rmsg[i].msg_hdr); cm; cm = CMSG_NXTHDR(&rmsg[i].msg_hdr, cm))
					if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
						struct timespec ts;
						memcpy(&ts, CMSG_DATA(cm), sizeof ts);
						rts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
					}
				got[xid] = 1;
				uint64_t d = rts > sent_at[xid] ? rts - sent_at[xid] : 0;
				lat[answered++] = d > 0xffffffffull ? 0xffffffffu : (uint32_t)d;
			}
			if (r < BATCH) break;
		}
		/* Sleep until the next send is due (or 1 ms while draining). */
		uint64_t t2 = now_ns(CLOCK_MONOTONIC);
		int64_t wait_ns = 1000000;
		if (sending) {
			uint64_t next = t0 + (uint64_t)((double)seq * ns_per);
			wait_ns = next > t2 ? (int64_t)(next - t2) : 0;
		}
		if (wait_ns > 0) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			struct timespec to = { wait_ns / 1000000000, wait_ns % 1000000000 };
			ppoll(&pfd, 1, &to, NULL);
		}
	}
	(void)rt_off;
	double send_s = (double)(tend_send - t0) / 1e9;
	qsort(lat, answered, sizeof *lat, cmp_u32);
#define PCT(p) (answered ? lat[(size_t)((double)(answered - 1) * (p))] / 1000.0 : 0.0)
	double sum = 0;
	for (uint32_t i = 0; i < answered; i++) sum += lat[i];
	printf("{\"sent\": %u, \"answered\": %u, \"drops\": %u, \"orphans\": %u, \"send_stalls\": %u, "
	       "\"offered_rate\": %.0f, \"send_s\": %.3f, \"sent_per_s\": %.1f, \"answered_per_s\": %.1f, "
	       "\"lat_us\": {\"min\": %.1f, \"avg\": %.1f, \"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}}\n",
	       seq, answered, seq - answered, orphans, send_errors, rate, send_s, send_s > 0 ? seq / send_s : 0,
	       send_s > 0 ? answered / send_s : 0, PCT(0), answered ? sum / answered / 1000.0 : 0, PCT(0.5), PCT(0.9),
	       PCT(0.99), PCT(0.999), PCT(1.0));
	return 0;
}
