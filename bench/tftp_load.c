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
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "self_path.h"
#include "xsk_transport.h"

#define XDP_PORT_LO 20000 /* client ports in --xdp mode: XDP_PORT_LO + transfer index */
#define XDP_SPIN_NS 200000 /* --xdp mode: busy-wait this long before sleeping in poll() */

#define OP_RRQ 1
#define OP_WRQ 2
#define OP_DATA 3
#define OP_ACK 4
#define OP_ERROR 5
#define OP_OACK 6

#define BATCH 32
#define PKTBUF 65536          /* any UDP payload fits */
#define MAX_CLIENTS 100000
#define REASON_LEN 160

enum state { ST_ACTIVE, ST_DONE, ST_FAILED };

struct xfer {
    int fd;                    /* -1 in --xdp mode */
    uint16_t local_port;       /* host order, --xdp mode */
    enum state state;
    bool locked;               /* peer TID known */
    bool gap_acked;            /* ACK already sent for the current gap */
    bool have_tsize;
    uint16_t peer_port;        /* network order */
    uint32_t blksize;          /* negotiated */
    uint32_t windowsize;       /* negotiated */
    uint32_t since_ack;        /* in-order blocks since our last ACK */
    uint32_t retries;          /* consecutive timeouts without progress */
    uint16_t last_acked;       /* block number of our last ACK */
    bool acked_any;            /* we have sent an ACK (vs only the RRQ) */
    uint64_t blocks;           /* in-order blocks received (64-bit) */
    uint64_t bytes;
    uint64_t tsize;
    uint64_t t_start_ns;
    uint64_t t_end_ns;
    uint64_t t_progress_ns;    /* last progress (or resend) */
    EVP_MD_CTX *md;
    char reason[REASON_LEN];
};

struct opts {
    struct in_addr server;
    uint16_t port;
    const char *file;
    long clients;
    uint32_t blksize;
    uint32_t windowsize;
    uint32_t timeout_ms;
    uint32_t retries;
    bool have_bind;
    struct in_addr bind;
    const char *xdp_iface;
    const char *xdp_prog;
    const uint8_t *verify;      /* mmap of --verify FILE */
    uint64_t verify_size;
    bool have_expect;
    uint64_t expect_size;
    bool have_sha;
    unsigned char sha[32];
    const char *sha_hex;
    uint32_t duration_limit_s;
    const char *json;
};

static struct opts O;
static struct xfer *X;
static struct xsk_transport *XT;
static uint64_t pkts_rx, pkts_tx;
static uint64_t spin_idle_ns; /* --xdp: busy-waiting with nothing received */

/* First OACK seen (for the report). */
static bool first_reply_seen;
static bool first_was_oack;
static uint32_t neg_blksize, neg_windowsize;
static bool neg_have_tsize;

/* CPU time of this thread: what spinning really costs, even when descheduled. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: tftp-load --server IP [--port 69] --file NAME --clients N\n"
        "                 [--blksize B (1468)] [--windowsize W (1; 0/1 = not requested)]\n"
        "                 [--timeout-ms T (1000)] [--retries R (8)] [--bind IP]\n"
        "                 [--expect-size BYTES] [--sha256 HEX] [--verify FILE]\n"
        "                 [--xdp IFACE [--xdp-prog FILE]]\n"
        "                 [--duration-limit S (120)] [--json FILE]\n"
        "Resends (last ACK, or the RRQ) after T ms without progress, then 2T, then\n"
        "every 4T; a transfer fails after R resends without progress.\n");
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void fail_xfer(struct xfer *x, uint64_t t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_xfer(struct xfer *x, uint64_t t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->reason, sizeof x->reason, fmt, ap);
    va_end(ap);
    x->state = ST_FAILED;
    x->t_end_ns = t;
    if (x->fd >= 0) {
        close(x->fd);           /* also removes it from epoll */
        x->fd = -1;
    }
}

static void send_to_peer(struct xfer *x, const void *buf, size_t len, uint16_t port)
{
    if (XT) {
        if (xsk_transport_send(XT, x->local_port, ntohs(port), buf, len) == 0)
            pkts_tx++;
        return; /* out of TX frames: the retransmission timer covers it */
    }
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

static void send_ack(struct xfer *x, uint16_t block)
{
    unsigned char p[4] = { 0, OP_ACK, (unsigned char)(block >> 8), (unsigned char)block };
    send_to_peer(x, p, 4, x->peer_port);
    x->last_acked = block;
    x->acked_any = true;
    x->since_ack = 0;
}

static void send_error_to(struct xfer *x, uint16_t port, uint16_t code, const char *msg)
{
    unsigned char p[64];
    size_t ml = strlen(msg);
    if (ml > sizeof p - 5)
        ml = sizeof p - 5;
    p[0] = 0; p[1] = OP_ERROR; p[2] = (unsigned char)(code >> 8); p[3] = (unsigned char)code;
    memcpy(p + 4, msg, ml);
    p[4 + ml] = 0;
    send_to_peer(x, p, 5 + ml, port);
}

static size_t rrq_len;
static unsigned char rrq_pkt[1024];

static void build_rrq(void)
{
    unsigned char *p = rrq_pkt;
    char num[24];
    *p++ = 0; *p++ = OP_RRQ;
#define PUTS(s) do { size_t l_ = strlen(s) + 1; memcpy(p, (s), l_); p += l_; } while (0)
    PUTS(O.file);
    PUTS("octet");
    PUTS("blksize");
    snprintf(num, sizeof num, "%u", O.blksize);
    PUTS(num);
    PUTS("tsize");
    PUTS("0");
    if (O.windowsize > 1) {
        PUTS("windowsize");
        snprintf(num, sizeof num, "%u", O.windowsize);
        PUTS(num);
    }
#undef PUTS
    rrq_len = (size_t)(p - rrq_pkt);
}

static void send_rrq(struct xfer *x)
{
    send_to_peer(x, rrq_pkt, rrq_len, htons(O.port));
}

/* Finish a transfer whose last block was received: size/hash checks. */
static void complete_xfer(struct xfer *x, uint64_t t)
{
    if (x->have_tsize && x->bytes != x->tsize) {
        fail_xfer(x, t, "size mismatch vs tsize (got %" PRIu64 ", tsize %" PRIu64 ")",
                  x->bytes, x->tsize);
        return;
    }
    if (O.have_expect && x->bytes != O.expect_size) {
        fail_xfer(x, t, "size mismatch (got %" PRIu64 ", expected %" PRIu64 ")",
                  x->bytes, O.expect_size);
        return;
    }
    if (O.have_sha) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dl = 0;
        EVP_DigestFinal_ex(x->md, d, &dl);
        if (dl != 32 || memcmp(d, O.sha, 32) != 0) {
            fail_xfer(x, t, "sha256 mismatch");
            return;
        }
    }
    x->state = ST_DONE;
    x->t_end_ns = t;
    /* Keep the socket open (dallying) so a retransmitted last block is re-ACKed. */
}

/* Parse an OACK; returns false (with reason set) if it is unacceptable. */
static bool parse_oack(struct xfer *x, const unsigned char *p, size_t len, char *why, size_t whylen)
{
    uint32_t bs = 512, ws = 1;
    bool ht = false;
    uint64_t ts = 0;
    size_t i = 2;
    while (i < len) {
        const char *name = (const char *)p + i;
        const void *z = memchr(p + i, 0, len - i);
        if (!z) { snprintf(why, whylen, "malformed OACK"); return false; }
        i = (size_t)((const unsigned char *)z - p) + 1;
        if (i >= len) { snprintf(why, whylen, "malformed OACK"); return false; }
        const char *val = (const char *)p + i;
        z = memchr(p + i, 0, len - i);
        if (!z) { snprintf(why, whylen, "malformed OACK"); return false; }
        i = (size_t)((const unsigned char *)z - p) + 1;
        uint64_t v;
        if (strcasecmp(name, "blksize") == 0) {
            if (!parse_u64(val, 8, O.blksize, &v)) {
                snprintf(why, whylen, "bad OACK blksize");
                return false;
            }
            bs = (uint32_t)v;
        } else if (strcasecmp(name, "windowsize") == 0) {
            uint64_t maxw = O.windowsize > 1 ? O.windowsize : 1;
            if (!parse_u64(val, 1, maxw, &v)) {
                snprintf(why, whylen, "bad OACK windowsize");
                return false;
            }
            ws = (uint32_t)v;
        } else if (strcasecmp(name, "tsize") == 0) {
            if (!parse_u64(val, 0, UINT64_MAX, &v)) {
                snprintf(why, whylen, "bad OACK tsize");
                return false;
            }
            ht = true;
            ts = v;
        }
        /* other options: ignore */
    }
    x->blksize = bs;
    x->windowsize = ws;
    x->have_tsize = ht;
    x->tsize = ts;
    return true;
}

static void note_first_reply(struct xfer *x, bool oack)
{
    if (first_reply_seen)
        return;
    first_reply_seen = true;
    first_was_oack = oack;
    neg_blksize = x->blksize;
    neg_windowsize = x->windowsize;
    neg_have_tsize = x->have_tsize;
}

static void handle_data(struct xfer *x, const unsigned char *p, size_t len, uint64_t t)
{
    uint16_t blk = (uint16_t)((p[2] << 8) | p[3]);
    size_t plen = len - 4;
    uint16_t expected = (uint16_t)(x->blocks + 1);

    if (blk == expected) {
        if (plen > x->blksize) {
            send_error_to(x, x->peer_port, 4, "block too large");
            fail_xfer(x, t, "data block larger than blksize");
            return;
        }
        x->blocks++;
        x->bytes += plen;
        if (O.have_sha && plen)
            EVP_DigestUpdate(x->md, p + 4, plen);
        if (O.verify && (x->bytes > O.verify_size || memcmp(p + 4, O.verify + x->bytes - plen, plen) != 0)) {
            send_error_to(x, x->peer_port, 0, "content mismatch");
            fail_xfer(x, t, "content differs from the --verify file at block %" PRIu64, x->blocks);
            return;
        }
        x->since_ack++;
        x->gap_acked = false;
        x->retries = 0;
        x->t_progress_ns = t;
        if (plen < x->blksize) {
            send_ack(x, blk);
            complete_xfer(x, t);
            return;
        }
        if (x->since_ack >= x->windowsize)
            send_ack(x, blk);
        return;
    }
    /* Out of order. */
    uint16_t ahead = (uint16_t)(blk - expected);
    if (ahead < 0x8000) {
        /* Gap: a block beyond the next expected one. ACK last in-order, once. */
        if (!x->gap_acked) {
            send_ack(x, (uint16_t)x->blocks);
            x->gap_acked = true;
        }
        return;
    }
    /* Old/duplicate block. Re-ACK if it is the block we last ACKed. */
    if (x->acked_any && blk == x->last_acked)
        send_ack(x, blk);
}

/* The server's TID is known: from now on only it may talk to this socket. */
static void lock_peer(struct xfer *x, uint16_t port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = O.server, .sin_port = port };

    x->locked = true;
    x->peer_port = port;
    if (x->fd >= 0 && connect(x->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fprintf(stderr, "tftp-load: connect: %s\n", strerror(errno));
}

static void handle_packet(struct xfer *x, const unsigned char *p, size_t len,
                          const struct sockaddr_in *from, uint64_t t)
{
    if (from->sin_addr.s_addr != O.server.s_addr)
        return;
    if (len < 4) {
        /* too short to be anything useful (ERROR needs >= 4 too) */
        return;
    }
    uint16_t op = (uint16_t)((p[0] << 8) | p[1]);

    if (x->state == ST_DONE) {
        /* Dallying: re-ACK a retransmitted last block. */
        if (op == OP_DATA && from->sin_port == x->peer_port &&
            (uint16_t)((p[2] << 8) | p[3]) == (uint16_t)x->blocks) {
            unsigned char a[4] = { 0, OP_ACK, p[2], p[3] };
            send_to_peer(x, a, 4, x->peer_port);
        }
        return;
    }
    if (x->state != ST_ACTIVE)
        return;

    if (x->locked && from->sin_port != x->peer_port) {
        if (op != OP_ERROR)
            send_error_to(x, from->sin_port, 5, "Unknown transfer ID");
        return;
    }

    switch (op) {
    case OP_ERROR: {
        uint16_t code = (uint16_t)((p[2] << 8) | p[3]);
        char msg[100];
        size_t ml = len - 4;
        if (ml > sizeof msg - 1)
            ml = sizeof msg - 1;
        memcpy(msg, p + 4, ml);
        msg[ml] = 0;
        for (size_t i = 0; i < ml && msg[i]; i++)
            if (!isprint((unsigned char)msg[i]))
                msg[i] = '?';
        fail_xfer(x, t, "error %u: %s", code, msg);
        return;
    }
    case OP_OACK: {
        if (x->locked) {
            /* Retransmitted OACK: our ACK 0 may have been lost. */
            if (x->blocks == 0)
                send_ack(x, 0);
            return;
        }
        char why[64];
        lock_peer(x, from->sin_port);
        if (!parse_oack(x, p, len, why, sizeof why)) {
            send_error_to(x, x->peer_port, 8, "option negotiation failed");
            fail_xfer(x, t, "%s", why);
            return;
        }
        note_first_reply(x, true);
        x->retries = 0;
        x->t_progress_ns = t;
        send_ack(x, 0);
        return;
    }
    case OP_DATA:
        if (!x->locked) {
            if ((uint16_t)((p[2] << 8) | p[3]) != 1)
                return;
            /* Server ignored our options: RFC 1350 defaults. */
            lock_peer(x, from->sin_port);
            x->blksize = 512;
            x->windowsize = 1;
            x->have_tsize = false;
            note_first_reply(x, false);
        }
        handle_data(x, p, len, t);
        return;
    default:
        return; /* ignore ACK/RRQ/WRQ/unknown */
    }
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
    struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(src_port), .sin_addr = O.server };

    if (i < 0 || i >= d->n)
        return;
    struct xfer *x = &X[i];
    enum state before = x->state;
    pkts_rx++;
    if (x->state != ST_FAILED)
        handle_packet(x, payload, len, &from, d->t);
    if (before == ST_ACTIVE && x->state != ST_ACTIVE)
        (*d->active)--;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    /* nearest-rank */
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)v[rank - 1] / 1e6;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

struct reason_count { const char *reason; long count; };

static void raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)need;
    if (rl.rlim_cur >= want)
        return;
    if (rl.rlim_max < want) {
        struct rlimit r2 = { want, want };
        if (setrlimit(RLIMIT_NOFILE, &r2) == 0)
            return;
        fprintf(stderr, "tftp-load: cannot raise RLIMIT_NOFILE to %ld (hard limit %llu): %s\n",
                need, (unsigned long long)rl.rlim_max, strerror(errno));
        rl.rlim_cur = rl.rlim_max;
    } else {
        rl.rlim_cur = want;
    }
    setrlimit(RLIMIT_NOFILE, &rl);
}

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
    O.blksize = 1468;
    O.windowsize = 1;
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
            if (!parse_u64(optarg, 1, 65535, &v)) goto bad;
            O.port = (uint16_t)v;
            break;
        case 'f':
            O.file = optarg;
            break;
        case 'n':
            if (!parse_u64(optarg, 1, MAX_CLIENTS, &v)) goto bad;
            O.clients = (long)v;
            break;
        case 'b':
            if (!parse_u64(optarg, 8, 65464, &v)) goto bad;
            O.blksize = (uint32_t)v;
            break;
        case 'w':
            if (!parse_u64(optarg, 0, 65535, &v)) goto bad;
            O.windowsize = (uint32_t)v;
            break;
        case 't':
            if (!parse_u64(optarg, 1, 600000, &v)) goto bad;
            O.timeout_ms = (uint32_t)v;
            break;
        case 'r':
            if (!parse_u64(optarg, 0, 1000, &v)) goto bad;
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
            if (!parse_u64(optarg, 0, UINT64_MAX, &v)) goto bad;
            O.expect_size = v;
            O.have_expect = true;
            break;
        case 'S':
            if (strlen(optarg) != 64) goto bad;
            for (int i = 0; i < 32; i++) {
                int hi = hexval(optarg[2 * i]), lw = hexval(optarg[2 * i + 1]);
                if (hi < 0 || lw < 0) goto bad;
                O.sha[i] = (unsigned char)(hi << 4 | lw);
            }
            O.have_sha = true;
            O.sha_hex = optarg;
            break;
        case 'd':
            if (!parse_u64(optarg, 1, 86400, &v)) goto bad;
            O.duration_limit_s = (uint32_t)v;
            break;
        case 'X':
            O.xdp_iface = optarg;
            break;
        case 'P':
            O.xdp_prog = optarg;
            break;
        case 'V': {
            int vfd = open(optarg, O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (vfd < 0 || fstat(vfd, &st) != 0) {
                fprintf(stderr, "tftp-load: --verify %s: %s\n", optarg, strerror(errno));
                return 2;
            }
            O.verify_size = (uint64_t)st.st_size;
            O.verify = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, vfd, 0) : (void *)"";
            close(vfd);
            if (O.verify == MAP_FAILED) {
                fprintf(stderr, "tftp-load: --verify %s: %s\n", optarg, strerror(errno));
                return 2;
            }
            O.have_expect = true;
            O.expect_size = O.verify_size;
            break;
        }
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
    if (optind != argc || !have_server || !O.file || O.clients <= 0) {
        usage(stderr);
        return 2;
    }
    if (!*O.file || strlen(O.file) > 255) {
        fprintf(stderr, "tftp-load: --file must be 1..255 characters\n");
        return 2;
    }
    if (O.windowsize == 0)
        O.windowsize = 1;

    long n = O.clients;
    raise_nofile(n + 64);
    build_rrq();

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
                               (uint16_t)(XDP_PORT_LO + n - 1), !O.verify, err, sizeof err) < 0) {
            fprintf(stderr, "tftp-load: --xdp %s: %s\n", O.xdp_iface, err);
            return 1;
        }
    }

    for (long i = 0; i < n; i++) {
        struct xfer *x = &X[i];
        x->blksize = O.blksize;
        x->windowsize = O.windowsize;
        x->fd = -1;
        x->local_port = (uint16_t)(XDP_PORT_LO + i);
        if (O.have_sha) {
            x->md = EVP_MD_CTX_new();
            if (!x->md || EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1) {
                fprintf(stderr, "tftp-load: EVP init failed\n");
                return 1;
            }
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

    uint64_t t0 = now_ns();
    uint64_t hard_deadline = t0 + (uint64_t)O.duration_limit_s * 1000000000ull;
    uint64_t tmo_ns = (uint64_t)O.timeout_ms * 1000000ull;
    uint64_t scan_ns = tmo_ns / 4;
    if (scan_ns > 50000000ull) scan_ns = 50000000ull;
    if (scan_ns < 1000000ull) scan_ns = 1000000ull;

    for (long i = 0; i < n; i++) {
        struct xfer *x = &X[i];
        x->t_start_ns = now_ns();
        x->t_progress_ns = x->t_start_ns;
        send_rrq(x);
    }

    long active = n;
    uint64_t next_scan = now_ns() + scan_ns;
    struct epoll_event evs[256];

    while (active > 0) {
        uint64_t t = now_ns();
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
            uint64_t spin_start = now_ns(), spin_end = spin_start + XDP_SPIN_NS;
            uint64_t spin_cpu = thread_cpu_ns();
            while (!xsk_transport_ready(XT) && now_ns() < spin_end)
                sched_yield(); /* the NAPI thread feeding us may share this core */
            spin_idle_ns += thread_cpu_ns() - spin_cpu;
            if (!xsk_transport_ready(XT)) {
                if (poll(&pfd, 1, to_ms) < 0 && errno != EINTR) {
                    perror("poll");
                    break;
                }
            }
            d.t = now_ns();
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
                uint64_t tr = now_ns();
                enum state before = x->state;
                for (int k = 0; k < r; k++) {
                    pkts_rx++;
                    if (x->state != ST_FAILED &&
                        !(msgs[k].msg_hdr.msg_flags & MSG_TRUNC) &&
                        msgs[k].msg_hdr.msg_namelen == sizeof froms[k])
                        handle_packet(x, bufs + (size_t)k * PKTBUF, msgs[k].msg_len, &froms[k], tr);
                    msgs[k].msg_hdr.msg_namelen = sizeof froms[k];   /* reset for reuse */
                }
                if (before == ST_ACTIVE && x->state != ST_ACTIVE)
                    active--;
                if (r < BATCH)
                    break;
            }
        }
    timers:
        t = now_ns();
        if (t >= next_scan) {
            for (long i = 0; i < n; i++) {
                struct xfer *x = &X[i];
                /* Back off: T, 2T, then 4T between resends.  A fixed short
                 * interval starves servers that restart their own
                 * retransmission timer on every (duplicate) packet. */
                uint32_t sh = x->retries < 2 ? x->retries : 2;
                if (x->state != ST_ACTIVE || t - x->t_progress_ns < (tmo_ns << sh))
                    continue;
                if (x->retries >= O.retries) {
                    fail_xfer(x, t, "timeout");
                    active--;
                    continue;
                }
                x->retries++;
                x->t_progress_ns = t;
                /* Re-ACK the last in-order block (RFC 7440 §4: it is the last
                 * ACK unless part of a window arrived since), or resend RRQ. */
                if (x->locked)
                    send_ack(x, (uint16_t)x->blocks);
                else
                    send_rrq(x);
            }
            next_scan = t + scan_ns;
        }
    }

    uint64_t t_end = now_ns();
    for (long i = 0; i < n; i++) {
        if (X[i].state == ST_ACTIVE)
            fail_xfer(&X[i], t_end, "deadline");
    }
    getrusage(RUSAGE_SELF, &ru1);

    /* ---- report ---- */
    long done = 0, failed = 0;
    uint64_t total_bytes = 0, last_end = t0;
    uint64_t *durs = malloc((size_t)n * sizeof *durs);
    struct reason_count *rc = calloc((size_t)n, sizeof *rc);
    size_t nrc = 0;
    if (!durs || !rc) { perror("malloc"); return 1; }
    for (long i = 0; i < n; i++) {
        struct xfer *x = &X[i];
        if (x->t_end_ns > last_end)
            last_end = x->t_end_ns;
        if (x->state == ST_DONE) {
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
    qsort(durs, (size_t)done, sizeof *durs, cmp_u64);
    double wall = (double)(last_end - t0) / 1e9;
    double mbps = wall > 0 ? (double)total_bytes / wall / 1e6 : 0.0;
    double cpu_user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
    double cpu_sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                     (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    double cpu = cpu_user + cpu_sys;
    double cpu_wall = (double)(t_end - t0) / 1e9;
    double cpu_pct = cpu_wall > 0 ? 100.0 * cpu / cpu_wall : 0.0;
    double p50 = pct(durs, (size_t)done, 50), p90 = pct(durs, (size_t)done, 90);
    double p99 = pct(durs, (size_t)done, 99), pmax = done ? (double)durs[done - 1] / 1e6 : 0.0;
    char srv[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &O.server, srv, sizeof srv);

    printf("server:          %s:%u\n", srv, O.port);
    printf("file:            %s\n", O.file);
    printf("clients:         %ld\n", n);
    printf("requested:       blksize %u, windowsize %u%s\n", O.blksize, O.windowsize,
           O.windowsize > 1 ? "" : " (not requested)");
    if (!first_reply_seen)
        printf("negotiated:      (no OACK or DATA received)\n");
    else if (first_was_oack)
        printf("negotiated:      blksize %u, windowsize %u, tsize %s (OACK)\n",
               neg_blksize, neg_windowsize, neg_have_tsize ? "yes" : "no");
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
            json_str(f, O.file);
            fprintf(f, ",\n  \"clients\": %ld,\n", n);
            fprintf(f, "  \"blksize_requested\": %u,\n  \"windowsize_requested\": %u,\n",
                    O.blksize, O.windowsize);
            fprintf(f, "  \"oack\": %s,\n", first_was_oack ? "true" : "false");
            if (first_reply_seen)
                fprintf(f, "  \"blksize_negotiated\": %u,\n  \"windowsize_negotiated\": %u,\n",
                        neg_blksize, neg_windowsize);
            else
                fprintf(f, "  \"blksize_negotiated\": null,\n  \"windowsize_negotiated\": null,\n");
            fprintf(f, "  \"completed\": %ld,\n  \"failed\": %ld,\n  \"failures\": {", done, failed);
            for (size_t k = 0; k < nrc; k++) {
                fprintf(f, "%s", k ? ", " : "");
                json_str(f, rc[k].reason);
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
        if (X[i].md)
            EVP_MD_CTX_free(X[i].md);
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
