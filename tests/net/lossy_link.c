/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lossy-link: netem in user space, between two interfaces, for
 * tests/net/test_lossy.sh on kernels built without sch_netem.
 *
 * Every frame received on one interface leaves by the other after the
 * impairments netem applies on a device's egress (tc-netem(8),
 * net/sched/sch_netem.c), decided in netem's order for each frame:
 *
 *   duplicate P   a second copy is made, and goes through loss, reordering and
 *                 delay on its own (netem enqueues it again at the root qdisc);
 *   loss P        the copy is dropped;
 *   reorder P     the copy is sent at once, ahead of the delayed ones (netem puts
 *                 it at the head of its queue; like netem, only with a delay);
 *   delay D J     otherwise it is held D +- J ms, uniformly (netem's jitter without
 *                 a distribution table), never less than 0; frames leave in the
 *                 order of their send times, so jitter reorders too (netem's
 *                 time-sorted queue).
 *
 * Each direction is impaired independently with the same parameters, as netem
 * on both ends of a link would be. Frames are relayed whole, MAC addresses
 * untouched: the two sides see one Ethernet segment.
 *
 * On SIGTERM or SIGINT (or after --duration-limit) it prints, for each
 * direction, what it received, lost, duplicated, sent at once, delayed and
 * sent, and the frames it lost itself (queue full, send errors, socket
 * overruns), so a test can tell the loss it asked for from any other.
 *
 * usage: lossy-link IF_A IF_B [--loss PCT] [--duplicate PCT] [--reorder PCT]
 *                   [--delay-ms D] [--jitter-ms J] [--limit FRAMES] [--seed N]
 *                   [--duration-limit S]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 2048  /* a 1500-byte MTU frame and then some; larger ones are counted and dropped */
#define BATCH     64
#define NS_PER_MS UINT64_C(1000000)

struct direction_stats {
	uint64_t received, lost, duplicated, immediate, delayed, sent;
	uint64_t overflow;  /* queue full (--limit) */
	uint64_t oversize;  /* larger than FRAME_MAX: offloads left on? */
	uint64_t tx_errors; /* send() refused */
};

struct slot {
	uint64_t due; /* CLOCK_MONOTONIC ns */
	uint64_t seq; /* ties keep arrival order */
	uint16_t len;
	uint8_t out;  /* index of the socket it leaves by */
	uint8_t data[FRAME_MAX];
};

static struct {
	double loss, duplicate, reorder; /* probabilities, 0..1 */
	uint64_t delay_ns, jitter_ns;
	uint32_t limit;
	uint64_t seed;
	uint64_t duration_ns;
} O = { .limit = 32768, .duration_ns = 600 * 1000 * NS_PER_MS };

static volatile sig_atomic_t stop;
static uint64_t rng;
static struct slot *slots;
static uint32_t *heap, heap_n, *free_list, free_n;
static uint64_t next_seq;
static struct direction_stats stats[2];
static const char *names[2];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64 (Steele, Lea, Flood): plenty for coin flips. */
static uint64_t next_random(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform01(void)
{
	return (double)(next_random() >> 11) * 0x1.0p-53;
}

static bool coin(double p)
{
	return p > 0 && uniform01() < p;
}

/* ---- the queue: a binary min-heap of slots by (due, seq) ---------------------- */

static bool before(uint32_t a, uint32_t b)
{
	return slots[a].due < slots[b].due || (slots[a].due == slots[b].due && slots[a].seq < slots[b].seq);
}

static void heap_push(uint32_t s)
{
	uint32_t i = heap_n++;

	while (i > 0 && before(s, heap[(i - 1) / 2])) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = s;
}

static uint32_t heap_pop(void)
{
	uint32_t top = heap[0], last = heap[--heap_n], i = 0;

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= heap_n)
			break;
		if (child + 1 < heap_n && before(heap[child + 1], heap[child]))
			child++;
		if (!before(heap[child], last))
			break;
		heap[i] = heap[child];
		i = child;
	}
	if (heap_n)
		heap[i] = last;
	return top;
}

/* ---- sockets ------------------------------------------------------------------ */

static int open_socket(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	/* Room for bursts: the link is one thread on a shared machine; a frame it
	 * could not take in time is counted (socket_drops), not hidden. */
	int one = 1, rcvbuf = 256 << 20, sndbuf = 16 << 20;
	struct sockaddr_ll at = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq promisc = { .mr_type = PACKET_MR_PROMISC };

	if (fd < 0) {
		fprintf(stderr, "lossy-link: AF_PACKET socket: %s\n", strerror(errno));
		return -1;
	}
	at.sll_ifindex = (int)if_nametoindex(ifname);
	promisc.mr_ifindex = at.sll_ifindex;
	if (!at.sll_ifindex) {
		fprintf(stderr, "lossy-link: no interface %s\n", ifname);
		close(fd);
		return -1;
	}
	/* Only what arrives: our own sends on this interface are not input. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof(promisc)) != 0 ||
	    bind(fd, (struct sockaddr *)&at, sizeof(at)) != 0) {
		fprintf(stderr, "lossy-link: %s: %s\n", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

/* One copy of a frame that came in on side `in`: lost, or queued to leave by the other side. */
static void impair_copy(int in, const uint8_t *frame, size_t len, uint64_t now)
{
	struct direction_stats *st = &stats[in];
	struct slot *s;
	uint32_t k;

	if (coin(O.loss)) {
		st->lost++;
		return;
	}
	if (free_n == 0) {
		st->overflow++;
		return;
	}
	k = free_list[--free_n];
	s = &slots[k];
	if (O.delay_ns && coin(O.reorder)) {
		s->due = now; /* ahead of everything delayed */
		st->immediate++;
	} else {
		int64_t d = (int64_t)O.delay_ns;

		if (O.jitter_ns)
			d += (int64_t)(uniform01() * 2.0 * (double)O.jitter_ns) - (int64_t)O.jitter_ns;
		s->due = now + (uint64_t)(d > 0 ? d : 0);
		st->delayed++;
	}
	s->seq = next_seq++;
	s->len = (uint16_t)len;
	s->out = (uint8_t)!in;
	memcpy(s->data, frame, len);
	heap_push(k);
}

static void receive(int fds[2], int in, uint64_t now)
{
	static uint8_t bufs[BATCH][FRAME_MAX + 1];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	for (int rounds = 0; rounds < 16; rounds++) {
		int r;

		for (int k = 0; k < BATCH; k++) {
			iov[k] = (struct iovec){ bufs[k], sizeof(bufs[k]) };
			msgs[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
		}
		r = recvmmsg(fds[in], msgs, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		for (int k = 0; k < r; k++) {
			size_t len = msgs[k].msg_len;

			stats[in].received++;
			if (len > FRAME_MAX || (msgs[k].msg_hdr.msg_flags & MSG_TRUNC)) {
				stats[in].oversize++;
				continue;
			}
			if (coin(O.duplicate)) {
				stats[in].duplicated++;
				impair_copy(in, bufs[k], len, now);
			}
			impair_copy(in, bufs[k], len, now);
		}
		if (r < BATCH)
			return;
	}
}

/* Sends what is due, a batch per socket at a time. */
static void send_due(int fds[2], uint64_t now)
{
	struct mmsghdr msgs[2][BATCH];
	struct iovec iov[2][BATCH];
	uint32_t taken[2][BATCH];
	unsigned n[2] = { 0, 0 };

	for (;;) {
		bool more = heap_n && slots[heap[0]].due <= now;

		if (more) {
			uint32_t k = heap_pop();
			struct slot *s = &slots[k];
			unsigned i = n[s->out]++;

			iov[s->out][i] = (struct iovec){ s->data, s->len };
			msgs[s->out][i].msg_hdr = (struct msghdr){ .msg_iov = &iov[s->out][i], .msg_iovlen = 1 };
			taken[s->out][i] = k;
		}
		for (int out = 0; out < 2; out++) {
			unsigned done = 0;

			if (n[out] == 0 || (more && n[out] < BATCH))
				continue;
			while (done < n[out]) {
				int r = sendmmsg(fds[out], msgs[out] + done, n[out] - done, MSG_DONTWAIT);

				if (r <= 0) {
					stats[!out].tx_errors++; /* the one refused: counted, dropped */
					done++;
					continue;
				}
				stats[!out].sent += (uint64_t)r;
				done += (unsigned)r;
			}
			for (unsigned i = 0; i < n[out]; i++)
				free_list[free_n++] = taken[out][i];
			n[out] = 0;
		}
		if (!more)
			return;
	}
}

static void socket_drops(int fd, unsigned *drops)
{
	struct tpacket_stats st = { 0 };
	socklen_t len = sizeof(st);

	*drops = getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 ? st.tp_drops : 0;
}

static void report(int fds[2])
{
	for (int in = 0; in < 2; in++) {
		const struct direction_stats *s = &stats[in];
		unsigned drops;

		socket_drops(fds[in], &drops);
		printf("%s->%s received %" PRIu64 " lost %" PRIu64 " duplicated %" PRIu64 " immediate %" PRIu64
		       " delayed %" PRIu64 " sent %" PRIu64 " overflow %" PRIu64 " oversize %" PRIu64
		       " tx_errors %" PRIu64 " socket_drops %u\n",
		       names[in], names[!in], s->received, s->lost, s->duplicated, s->immediate, s->delayed, s->sent,
		       s->overflow, s->oversize, s->tx_errors, drops);
	}
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lossy-link IF_A IF_B [--loss PCT] [--duplicate PCT] [--reorder PCT]\n"
		   "                  [--delay-ms D] [--jitter-ms J] [--limit FRAMES (32768)] [--seed N]\n"
		   "                  [--duration-limit S (600)]\n"
		   "Relays every frame between IF_A and IF_B with netem's impairments, each direction\n"
		   "on its own; prints what it did on SIGTERM/SIGINT.\n");
}

static bool parse_pct(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0 || v > 100)
		return false;
	*out = v / 100.0;
	return true;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *end || errno || v > max || *s == '-')
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "loss", required_argument, 0, 'l' },      { "duplicate", required_argument, 0, 'd' },
		{ "reorder", required_argument, 0, 'r' },   { "delay-ms", required_argument, 0, 'D' },
		{ "jitter-ms", required_argument, 0, 'J' }, { "limit", required_argument, 0, 'L' },
		{ "seed", required_argument, 0, 's' },      { "duration-limit", required_argument, 0, 'T' },
		{ "help", no_argument, 0, 'h' },            { 0, 0, 0, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t v, start, deadline;
	int fds[2], opt;
	bool have_seed = false;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (!parse_pct(optarg, &O.loss))
				goto bad;
			break;
		case 'd':
			if (!parse_pct(optarg, &O.duplicate))
				goto bad;
			break;
		case 'r':
			if (!parse_pct(optarg, &O.reorder))
				goto bad;
			break;
		case 'D':
		case 'J':
			if (!parse_u64(optarg, 60000, &v))
				goto bad;
			*(opt == 'D' ? &O.delay_ns : &O.jitter_ns) = v * NS_PER_MS;
			break;
		case 'L':
			if (!parse_u64(optarg, 1u << 20, &v) || v == 0)
				goto bad;
			O.limit = (uint32_t)v;
			break;
		case 's':
			if (!parse_u64(optarg, UINT64_MAX, &O.seed))
				goto bad;
			have_seed = true;
			break;
		case 'T':
			if (!parse_u64(optarg, 86400, &v) || v == 0)
				goto bad;
			O.duration_ns = v * 1000 * NS_PER_MS;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "lossy-link: bad value '%s'\n", optarg);
		usage(stderr);
		return 2;
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (O.reorder > 0 && !O.delay_ns) {
		/* tc-netem(8): "to use reordering, a delay option must be specified" */
		fprintf(stderr, "lossy-link: --reorder needs --delay-ms\n");
		return 2;
	}
	names[0] = argv[optind];
	names[1] = argv[optind + 1];
	if (!have_seed)
		O.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	rng = O.seed;
	slots = calloc(O.limit, sizeof(*slots));
	heap = calloc(O.limit, sizeof(*heap));
	free_list = calloc(O.limit, sizeof(*free_list));
	if (!slots || !heap || !free_list) {
		fprintf(stderr, "lossy-link: out of memory for %u frames\n", O.limit);
		return 1;
	}
	for (uint32_t k = 0; k < O.limit; k++)
		free_list[free_n++] = O.limit - 1 - k;
	if ((fds[0] = open_socket(names[0])) < 0 || (fds[1] = open_socket(names[1])) < 0)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("lossy-link %s <-> %s: loss %.2f%% duplicate %.2f%% reorder %.2f%% delay %" PRIu64 "ms jitter %" PRIu64
	       "ms limit %u seed %" PRIu64 "\n",
	       names[0], names[1], O.loss * 100, O.duplicate * 100, O.reorder * 100, O.delay_ns / NS_PER_MS,
	       O.jitter_ns / NS_PER_MS, O.limit, O.seed);
	fflush(stdout);

	start = now_ns();
	deadline = start + O.duration_ns;
	while (!stop) {
		struct pollfd pfd[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = fds[1], .events = POLLIN } };
		uint64_t now = now_ns(), wait = 100 * NS_PER_MS;
		struct timespec ts;

		if (now >= deadline)
			break;
		send_due(fds, now);
		if (heap_n)
			wait = slots[heap[0]].due > now ? slots[heap[0]].due - now : 0;
		if (wait > 100 * NS_PER_MS)
			wait = 100 * NS_PER_MS;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		if (ppoll(pfd, 2, &ts, NULL) < 0 && errno != EINTR) {
			perror("lossy-link: ppoll");
			break;
		}
		now = now_ns();
		for (int in = 0; in < 2; in++)
			if (pfd[in].revents & POLLIN)
				receive(fds, in, now);
		send_due(fds, now_ns());
	}
	report(fds);
	close(fds[0]);
	close(fds[1]);
	free(slots);
	free(heap);
	free(free_list);
	return 0;
}
