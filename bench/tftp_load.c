/* tftp-load: a TFTP read (RRQ) load client for benchmarking TFTP servers.
 *
 * N concurrent transfers, each from its own UDP socket (its own client port),
 * driven by a single thread with epoll; readable sockets are drained with
 * recvmmsg in batches of 32.  Supports blksize/tsize (RFC 2347/2348/2349) and
 * windowsize (RFC 7440) on the receiving side.
 *
 * Keeping the client off the critical path: once the server's TID is known the
 * socket is connect()ed to it, so the kernel finds it by early demux instead of
 * a route lookup per datagram. That changes nothing on the wire.
 *
 * With --xdp IFACE the transfers bypass the client's kernel stack altogether
 * (xsk_transport.c): one AF_XDP socket carries every transfer, each still from
 * its own UDP port, demultiplexed here by destination port.
 *
 * --verify FILE compares every block with the file the server serves (a local
 * copy), byte for byte: exact, and far cheaper per byte than --sha256. With it,
 * --xdp mode leaves the UDP checksum unchecked (that comparison covers every
 * payload byte).
 *
 * Exit status: 0 all transfers succeeded, 1 some failed, 2 usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_util.h"
#include "self_path.h"
#include "tftp_client.h"
#include "xsk_transport.h"

#define XDP_PORT_LO 20000 /* client ports in --xdp mode: XDP_PORT_LO + transfer index */
#define XDP_SPIN_NS 200000 /* --xdp mode: busy-wait this long before sleeping in poll() */

#define BATCH 32
#define PKTBUF 65536          /* any UDP payload fits */
#define MAX_CLIENTS 100000

struct xfer {
    struct tftp_xfer t;
    int fd;                    /* -1 in --xdp mode, and once failed */
    uint16_t local_port;       /* host order, --xdp mode */
};

struct opts {
    struct in_addr server;
    uint16_t port;
    long clients;
    uint32_t timeout_ms;
    uint32_t retries;
    bool have_bind;
    struct in_addr bind;
    const char *xdp_iface;
    const char *xdp_prog;
    const char *sha_hex;
    uint32_t duration_limit_s;
    uint32_t dally_ms;
    const char *json;
    struct tftp_request req;
};

static struct opts O;
static struct xfer *X;
static struct xsk_transport *XT;
static uint64_t pkts_rx, pkts_tx;
static uint64_t spin_idle_ns; /* --xdp: busy-waiting with nothing received */

/* The first transfer to hear from the server (for the report). */
static const struct tftp_xfer *first_reply;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: tftp-load --server IP [--port 69] --file NAME --clients N\n"
        "                 [--blksize B (1468)] [--windowsize W (1; 0/1 = not requested)]\n"
        "                 [--timeout-ms T (1000)] [--retries R (8)] [--bind IP]\n"
        "                 [--expect-size BYTES] [--sha256 HEX] [--verify FILE]\n"
        "                 [--xdp IFACE [--xdp-prog FILE]]\n"
        "                 [--duration-limit S (120)] [--dally-ms MS (0)] [--json FILE]\n"
        "Resends (last ACK, or the RRQ) after T ms without progress, then 2T, then\n"
        "every 4T; a transfer fails after R resends without progress. --dally-ms: after\n"
        "the last transfer ends, keep ACKing repeated last blocks (our last ACK was lost)\n"
        "for MS, as every finished transfer does while others run.\n");
}

static void send_to_peer(void *ctx, struct tftp_xfer *t, const void *buf, size_t len, uint16_t port)
{
    struct xfer *x = ctx;
    (void)t;
    if (XT) {
        if (xsk_transport_send(XT, x->local_port, ntohs(port), buf, len) == 0)
            pkts_tx++;
        return; /* out of TX frames: the retransmission timer covers it */
    }
    if (x->fd < 0)
        return;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = O.server, .sin_port = port };
    for (int i = 0; i < 3; i++) {
        ssize_t r = sendto(x->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa);
        if (r >= 0) {
            pkts_tx++;
            return;
        }
        if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
            return; /* e.g. ECONNREFUSED from an earlier ICMP; the timeout handles it */
    }
}

/* One datagram for transfer x; returns true if x just stopped being active. */
static bool input(struct xfer *x, const unsigned char *p, size_t len, uint16_t from_port, uint64_t t)
{
    bool was_locked = x->t.locked;
    enum tftp_xfer_state before = x->t.state;

    tftp_xfer_input(&x->t, p, len, from_port, t);
    if (!was_locked && x->t.locked) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = O.server, .sin_port = x->t.peer_port };
        if (!first_reply)
            first_reply = &x->t;
        if (x->fd >= 0 && connect(x->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            fprintf(stderr, "tftp-load: connect: %s\n", strerror(errno));
    }
    if (x->t.state == TFTP_XFER_FAILED && x->fd >= 0) {
        close(x->fd);           /* also removes it from epoll */
        x->fd = -1;
    }
    /* A finished transfer keeps its socket (dallying) to re-ACK a lost last ACK. */
    return before == TFTP_XFER_ACTIVE && x->t.state != TFTP_XFER_ACTIVE;
}

/* --xdp mode: one received datagram, routed to its transfer by our port. */
struct delivery {
    uint64_t t;
    long *active;
    long n;
};

static void deliver(void *ctx, uint16_t dst_port, uint16_t src_port, const uint8_t *payload, size_t len)
{
    struct delivery *d = ctx;
    long i = (long)dst_port - XDP_PORT_LO;

    if (i < 0 || i >= d->n)
        return;
    pkts_rx++;
    if (input(&X[i], payload, len, htons(src_port), d->t))
        (*d->active)--;
}

struct reason_count { const char *reason; long count; };

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "server", required_argument, 0, 's' },
        { "port", required_argument, 0, 'p' },
        { "file", required_argument, 0, 'f' },
        { "clients", required_argument, 0, 'n' },
        { "blksize", required_argument, 0, 'b' },
        { "windowsize", required_argument, 0, 'w' },
        { "timeout-ms", required_argument, 0, 't' },
        { "retries", required_argument, 0, 'r' },
        { "bind", required_argument, 0, 'B' },

        { "expect-size", required_argument, 0, 'e' },
        { "sha256", required_argument, 0, 'S' },
        { "duration-limit", required_argument, 0, 'd' },
        { "dally-ms", required_argument, 0, 'D' },
        { "json", required_argument, 0, 'j' },
        { "xdp", required_argument, 0, 'X' },
        { "xdp-prog", required_argument, 0, 'P' },
        { "verify", required_argument, 0, 'V' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    bool have_server = false;
    uint64_t v;

    O.port = 69;
    O.req.blksize = 1468;
    O.req.windowsize = 1;
    O.timeout_ms = 1000;
    O.retries = 8;
    O.duration_limit_s = 120;
    O.clients = 0;

    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            if (inet_pton(AF_INET, optarg, &O.server) != 1) {
                fprintf(stderr, "tftp-load: bad --server address '%s'\n", optarg);
                return 2;
            }
            have_server = true;
            break;
        case 'p':
            if (!bench_parse_u64(optarg, 1, 65535, &v)) goto bad;
            O.port = (uint16_t)v;
            break;
        case 'f':
            O.req.file = optarg;
            break;
        case 'n':
            if (!bench_parse_u64(optarg, 1, MAX_CLIENTS, &v)) goto bad;
            O.clients = (long)v;
            break;
        case 'b':
            if (!bench_parse_u64(optarg, 8, 65464, &v)) goto bad;
            O.req.blksize = (uint32_t)v;
            break;
        case 'w':
            if (!bench_parse_u64(optarg, 0, 65535, &v)) goto bad;
            O.req.windowsize = (uint32_t)v;
            break;
        case 't':
            if (!bench_parse_u64(optarg, 1, 600000, &v)) goto bad;
            O.timeout_ms = (uint32_t)v;
            break;
        case 'r':
            if (!bench_parse_u64(optarg, 0, 1000, &v)) goto bad;
            O.retries = (uint32_t)v;
            break;
        case 'B':
            if (inet_pton(AF_INET, optarg, &O.bind) != 1) {
                fprintf(stderr, "tftp-load: bad --bind address '%s'\n", optarg);
                return 2;
            }
            O.have_bind = true;
            break;
        case 'e':
            if (!bench_parse_u64(optarg, 0, UINT64_MAX, &v)) goto bad;
            O.req.expect_size = v;
            O.req.have_expect = true;
            break;
        case 'S':
            if (!bench_parse_sha256(optarg, O.req.sha)) goto bad;
            O.req.have_sha = true;
            O.sha_hex = optarg;
            break;
        case 'd':
            if (!bench_parse_u64(optarg, 1, 86400, &v)) goto bad;
            O.duration_limit_s = (uint32_t)v;
            break;
        case 'D':
            if (!bench_parse_u64(optarg, 0, 600000, &v)) goto bad;
            O.dally_ms = (uint32_t)v;
            break;
        case 'X':
            O.xdp_iface = optarg;
            break;
        case 'P':
            O.xdp_prog = optarg;
            break;
        case 'V':
            O.req.verify = bench_map_file(optarg, &O.req.verify_size);
            if (!O.req.verify) {
                fprintf(stderr, "tftp-load: --verify %s: %s\n", optarg, strerror(errno));
                return 2;
            }
            O.req.have_expect = true;
            O.req.expect_size = O.req.verify_size;
            break;
        case 'j':
            O.json = optarg;
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
        fprintf(stderr, "tftp-load: bad option value '%s'\n", optarg);
        usage(stderr);
        return 2;
    }
    if (optind != argc || !have_server || !O.req.file || O.clients <= 0) {
        usage(stderr);
        return 2;
    }
    if (O.req.windowsize == 0)
        O.req.windowsize = 1;
    if (!tftp_request_init(&O.req)) {
        fprintf(stderr, "tftp-load: --file must be 1..255 characters\n");
        return 2;
    }

    long n = O.clients;
    bench_raise_nofile(n + 64, "tftp-load");

    X = calloc((size_t)n, sizeof *X);
    if (!X) { perror("calloc"); return 1; }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) { perror("epoll_create1"); return 1; }
    if (O.xdp_iface) {
        char err[256], prog[4096];
        if (n > 65535 - XDP_PORT_LO) {
            fprintf(stderr, "tftp-load: --xdp supports at most %d clients\n", 65535 - XDP_PORT_LO);
            return 2;
        }
        if (!O.xdp_prog) {
            /* build/bench/tftp-load -> build/bpf/stampede_xdp.bpf.o */
            O.xdp_prog = self_sibling_path("../bpf/stampede_xdp.bpf.o", prog, sizeof prog) == 0
                             ? prog : "build/bpf/stampede_xdp.bpf.o";
        }
        if (xsk_transport_open(&XT, O.xdp_iface, O.xdp_prog, O.server.s_addr, XDP_PORT_LO,
                               (uint16_t)(XDP_PORT_LO + n - 1), !O.req.verify, err, sizeof err) < 0) {
            fprintf(stderr, "tftp-load: --xdp %s: %s\n", O.xdp_iface, err);
            return 1;
        }
    }

    for (long i = 0; i < n; i++) {
        struct xfer *x = &X[i];
        x->fd = -1;
        x->local_port = (uint16_t)(XDP_PORT_LO + i);
        if (!tftp_xfer_init(&x->t, &O.req, send_to_peer, x)) {
            fprintf(stderr, "tftp-load: EVP init failed\n");
            return 1;
        }
        if (XT)
            continue;
        x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (x->fd < 0) {
            fprintf(stderr, "tftp-load: socket #%ld: %s\n", i, strerror(errno));
            return 1;
        }
        int rb = 1 << 20;
        if (setsockopt(x->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) != 0)
            setsockopt(x->fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
        sa.sin_addr.s_addr = O.have_bind ? O.bind.s_addr : htonl(INADDR_ANY);
        if (bind(x->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            fprintf(stderr, "tftp-load: bind #%ld: %s\n", i, strerror(errno));
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &ev) != 0) {
            fprintf(stderr, "tftp-load: epoll_ctl: %s\n", strerror(errno));
            return 1;
        }
    }

    /* Receive buffers, shared by all sockets (single thread). */
    unsigned char *bufs = malloc((size_t)BATCH * PKTBUF);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in froms[BATCH];
    if (!bufs) { perror("malloc"); return 1; }
    memset(msgs, 0, sizeof msgs);
    memset(froms, 0, sizeof froms);
    for (int k = 0; k < BATCH; k++) {
        iov[k].iov_base = bufs + (size_t)k * PKTBUF;
        iov[k].iov_len = PKTBUF;
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        msgs[k].msg_hdr.msg_name = &froms[k];
        msgs[k].msg_hdr.msg_namelen = sizeof froms[k];
    }

    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);

    uint64_t t0 = bench_now_ns();
    uint64_t hard_deadline = t0 + (uint64_t)O.duration_limit_s * 1000000000ull;
    uint64_t tmo_ns = (uint64_t)O.timeout_ms * 1000000ull;
    uint64_t scan_ns = tmo_ns / 4;
    if (scan_ns > 50000000ull) scan_ns = 50000000ull;
    if (scan_ns < 1000000ull) scan_ns = 1000000ull;

    for (long i = 0; i < n; i++) {
        struct xfer *x = &X[i];
        tftp_xfer_start(&x->t, htons(O.port), bench_now_ns());
    }

    long active = n;
    uint64_t next_scan = bench_now_ns() + scan_ns;
    uint64_t t_end = 0, dally_end = 0; /* set when the last transfer has ended */
    struct epoll_event evs[256];

    while (active > 0 || bench_now_ns() < dally_end) {
        uint64_t t = bench_now_ns();
        if (t >= hard_deadline)
            break;
        uint64_t wake = next_scan < hard_deadline ? next_scan : hard_deadline;
        int to_ms = t >= wake ? 0 : (int)((wake - t + 999999) / 1000000);
        if (XT) {
            struct delivery d = { .t = t, .active = &active, .n = n };
            struct pollfd pfd = { .fd = xsk_transport_fd(XT), .events = POLLIN };
            xsk_transport_flush(XT);
            /* Spin on the ring for a while before sleeping: a sleeping reader
             * costs the sender a wake-up (an IPI, dear under virtualisation)
             * for every burst. The spin time is reported as idle. */
            uint64_t spin_start = bench_now_ns(), spin_end = spin_start + XDP_SPIN_NS;
            uint64_t spin_cpu = bench_thread_cpu_ns();
            while (!xsk_transport_ready(XT) && bench_now_ns() < spin_end)
                sched_yield(); /* the NAPI thread feeding us may share this core */
            spin_idle_ns += bench_thread_cpu_ns() - spin_cpu;
            if (!xsk_transport_ready(XT)) {
                if (poll(&pfd, 1, to_ms) < 0 && errno != EINTR) {
                    perror("poll");
                    break;
                }
            }
            d.t = bench_now_ns();
            for (int rounds = 0; rounds < 64 && xsk_transport_receive(XT, BATCH * 2, deliver, &d); rounds++)
                ;
            xsk_transport_flush(XT);
            goto timers;
        }
        int ne = epoll_wait(ep, evs, 256, to_ms);
        if (ne < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            break;
        }
        for (int e = 0; e < ne; e++) {
            struct xfer *x = &X[evs[e].data.u64];
            /* drain */
            for (int rounds = 0; x->fd >= 0 && rounds < 64; rounds++) {
                int r = recvmmsg(x->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
                if (r <= 0) {
                    /* EAGAIN: drained; ECONNREFUSED etc.: ignore, timeouts handle it */
                    break;
                }
                uint64_t tr = bench_now_ns();
                for (int k = 0; k < r; k++) {
                    pkts_rx++;
                    if (x->fd >= 0 && !(msgs[k].msg_hdr.msg_flags & MSG_TRUNC) &&
                        msgs[k].msg_hdr.msg_namelen == sizeof froms[k] &&
                        froms[k].sin_addr.s_addr == O.server.s_addr &&
                        input(x, bufs + (size_t)k * PKTBUF, msgs[k].msg_len, froms[k].sin_port, tr))
                        active--;
                    msgs[k].msg_hdr.msg_namelen = sizeof froms[k];   /* reset for reuse */
                }
                if (r < BATCH)
                    break;
            }
        }
    timers:
        t = bench_now_ns();
        if (t >= next_scan) {
            for (long i = 0; i < n; i++) {
                struct xfer *x = &X[i];
                if (tftp_xfer_timer(&x->t, t, tmo_ns, O.retries, htons(O.port))) {
                    active--;
                    if (x->fd >= 0) {
                        close(x->fd);
                        x->fd = -1;
                    }
                }
            }
            next_scan = t + scan_ns;
        }
        if (active == 0 && !t_end) {
            /* Done: the figures stop here; dallying (--dally-ms) follows. */
            t_end = bench_now_ns();
            getrusage(RUSAGE_SELF, &ru1);
            dally_end = t_end + (uint64_t)O.dally_ms * 1000000ull;
        }
    }

    if (!t_end) {
        t_end = bench_now_ns();
        getrusage(RUSAGE_SELF, &ru1);
    }
    for (long i = 0; i < n; i++) {
        if (X[i].t.state == TFTP_XFER_ACTIVE)
            tftp_xfer_fail(&X[i].t, t_end, "deadline");
    }

    /* ---- report ---- */
    long done = 0, failed = 0;
    uint64_t total_bytes = 0, last_end = t0;
    uint64_t *durs = malloc((size_t)n * sizeof *durs);
    struct reason_count *rc = calloc((size_t)n, sizeof *rc);
    size_t nrc = 0;
    if (!durs || !rc) { perror("malloc"); return 1; }
    for (long i = 0; i < n; i++) {
        struct tftp_xfer *x = &X[i].t;
        if (x->t_end_ns > last_end)
            last_end = x->t_end_ns;
        if (x->state == TFTP_XFER_DONE) {
            durs[done++] = x->t_end_ns - x->t_start_ns;
            total_bytes += x->bytes;
        } else {
            failed++;
            size_t k;
            for (k = 0; k < nrc; k++)
                if (strcmp(rc[k].reason, x->reason) == 0)
                    break;
            if (k == nrc) {
                rc[nrc].reason = x->reason;
                nrc++;
            }
            rc[k].count++;
        }
    }
    bench_sort_u64(durs, (size_t)done);
    double wall = (double)(last_end - t0) / 1e9;
    double mbps = wall > 0 ? (double)total_bytes / wall / 1e6 : 0.0;
    double cpu_user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
    double cpu_sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                     (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    double cpu = cpu_user + cpu_sys;
    double cpu_wall = (double)(t_end - t0) / 1e9;
    double cpu_pct = cpu_wall > 0 ? 100.0 * cpu / cpu_wall : 0.0;
    double p50 = bench_percentile_ms(durs, (size_t)done, 50), p90 = bench_percentile_ms(durs, (size_t)done, 90);
    double p99 = bench_percentile_ms(durs, (size_t)done, 99), pmax = done ? (double)durs[done - 1] / 1e6 : 0.0;
    char srv[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &O.server, srv, sizeof srv);

    printf("server:          %s:%u\n", srv, O.port);
    printf("file:            %s\n", O.req.file);
    printf("clients:         %ld\n", n);
    printf("requested:       blksize %u, windowsize %u%s\n", O.req.blksize, O.req.windowsize,
           O.req.windowsize > 1 ? "" : " (not requested)");
    if (!first_reply)
        printf("negotiated:      (no OACK or DATA received)\n");
    else if (first_reply->oack)
        printf("negotiated:      blksize %u, windowsize %u, tsize %s (OACK)\n",
               first_reply->blksize, first_reply->windowsize, first_reply->have_tsize ? "yes" : "no");
    else
        printf("negotiated:      none (no OACK: blksize 512, windowsize 1)\n");
    printf("completed:       %ld\n", done);
    printf("failed:          %ld\n", failed);
    for (size_t k = 0; k < nrc; k++)
        printf("  %6ld x %s\n", rc[k].count, rc[k].reason);
    printf("total bytes:     %" PRIu64 "\n", total_bytes);
    printf("wall time:       %.3f s\n", wall);
    printf("aggregate:       %.2f MB/s\n", mbps);
    printf("duration ms:     p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", p50, p90, p99, pmax);
    printf("client CPU:      %.3f s (%.1f%% of wall; user %.3f s, sys %.3f s)\n",
           cpu, cpu_pct, cpu_user, cpu_sys);
    if (XT)
        xsk_transport_print_stats(XT, stdout);
    if (XT)
        printf("client busy:     %.1f%% of wall (CPU less the %.3f s spent spinning with nothing to read)\n",
               cpu_wall > 0 ? 100.0 * (cpu - spin_idle_ns / 1e9) / cpu_wall : 0.0, spin_idle_ns / 1e9);
    printf("packets:         rx %" PRIu64 "  tx %" PRIu64 "\n", pkts_rx, pkts_tx);
    fflush(stdout);

    if (O.json) {
        FILE *f = fopen(O.json, "w");
        if (!f) {
            fprintf(stderr, "tftp-load: %s: %s\n", O.json, strerror(errno));
        } else {
            fprintf(f, "{\n  \"server\": \"%s\",\n  \"port\": %u,\n  \"file\": ", srv, O.port);
            bench_json_str(f, O.req.file);
            fprintf(f, ",\n  \"clients\": %ld,\n", n);
            fprintf(f, "  \"blksize_requested\": %u,\n  \"windowsize_requested\": %u,\n",
                    O.req.blksize, O.req.windowsize);
            fprintf(f, "  \"oack\": %s,\n", first_reply && first_reply->oack ? "true" : "false");
            if (first_reply)
                fprintf(f, "  \"blksize_negotiated\": %u,\n  \"windowsize_negotiated\": %u,\n",
                        first_reply->blksize, first_reply->windowsize);
            else
                fprintf(f, "  \"blksize_negotiated\": null,\n  \"windowsize_negotiated\": null,\n");
            fprintf(f, "  \"completed\": %ld,\n  \"failed\": %ld,\n  \"failures\": {", done, failed);
            for (size_t k = 0; k < nrc; k++) {
                fprintf(f, "%s", k ? ", " : "");
                bench_json_str(f, rc[k].reason);
                fprintf(f, ": %ld", rc[k].count);
            }
            fprintf(f, "},\n");
            fprintf(f, "  \"total_bytes\": %" PRIu64 ",\n  \"wall_s\": %.6f,\n  \"mb_per_s\": %.3f,\n",
                    total_bytes, wall, mbps);
            fprintf(f, "  \"p50_ms\": %.3f,\n  \"p90_ms\": %.3f,\n  \"p99_ms\": %.3f,\n  \"max_ms\": %.3f,\n",
                    p50, p90, p99, pmax);
            fprintf(f, "  \"cpu_s\": %.3f,\n  \"cpu_user_s\": %.3f,\n  \"cpu_sys_s\": %.3f,\n"
                    "  \"cpu_pct\": %.1f,\n  \"spin_idle_s\": %.3f,\n", cpu, cpu_user, cpu_sys, cpu_pct,
                    spin_idle_ns / 1e9);
            fprintf(f, "  \"pkts_rx\": %" PRIu64 ",\n  \"pkts_tx\": %" PRIu64 "\n}\n", pkts_rx, pkts_tx);
            if (fclose(f) != 0)
                fprintf(stderr, "tftp-load: writing %s failed\n", O.json);
        }
    }

    for (long i = 0; i < n; i++) {
        if (X[i].fd >= 0)
            close(X[i].fd);
        tftp_xfer_release(&X[i].t);
    }
    free(rc);
    free(durs);
    free(bufs);
    free(X);
    close(ep);
    if (XT)
        xsk_transport_close(XT);
    return failed ? 1 : 0;
}
