/* SPDX-License-Identifier: BSD-2-Clause */
#include "xsk_transport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/xsk.h>

#include "iface.h"
#include "net.h"
#include "stampede_xdp.h"

/* Sized for the worst burst a server can send us: 1,000 transfers with a window
 * of 64 blocks each is 64,000 datagrams in flight; a ring that overflows drops
 * at the XDP redirect and costs the server a retransmission timeout, which
 * would be the client's doing, not the server's. 256 MiB of UMEM. */
#define FRAME_SIZE  2048 /* a 1500-byte frame fits */
#define RX_FRAMES   131072
#define TX_FRAMES   4096
#define NUM_FRAMES  (RX_FRAMES + TX_FRAMES)
#define RX_RING     65536
#define TX_RING     4096
#define ARP_WAIT_MS 3000

struct xsk_transport {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	void *area;
	uint64_t tx_free[TX_FRAMES]; /* stack of free TX frame addresses */
	uint32_t n_tx_free;
	uint32_t tx_pending; /* submitted, not yet kicked */
	struct bpf_object *obj;
	int ifindex;
	uint32_t xdp_flags;
	struct net_endpoint self, server;
	uint16_t port_lo, port_hi;
	uint16_t ip_id;
	uint64_t dropped;
	char ifname[IF_NAMESIZE];
	bool threaded_napi;
	bool verify_udp;
};

static int fail(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return r;
}

static int own_mac(const char *ifname, uint8_t mac[NET_ETH_ALEN])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		r = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, NET_ETH_ALEN);
	close(fd);
	return r;
}

/* Makes the kernel resolve the server's MAC (a datagram to the discard port
 * triggers ARP) and reads it from the neighbour table. */
static int server_mac(uint32_t ip, const char *ifname, uint8_t mac[NET_ETH_ALEN])
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = ip };
	char want[INET_ADDRSTRLEN], line[256];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	inet_ntop(AF_INET, &sa.sin_addr, want, sizeof(want));
	for (int waited = 0; waited < ARP_WAIT_MS; waited += 50) {
		FILE *f;

		if (waited % 500 == 0 && sendto(fd, "", 0, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			/* ECONNREFUSED from the ICMP of an earlier try is fine: ARP worked */
		}
		if ((f = fopen("/proc/net/arp", "r"))) {
			while (fgets(line, sizeof(line), f)) {
				char ip_text[64], hw[64], dev[64];
				unsigned type, flags;
				unsigned m[NET_ETH_ALEN];

				if (sscanf(line, "%63s 0x%x 0x%x %63s %*s %63s", ip_text, &type, &flags, hw, dev) != 5 ||
				    strcmp(ip_text, want) != 0 || strcmp(dev, ifname) != 0 || !(flags & 0x2))
					continue;
				if (sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
					for (int i = 0; i < NET_ETH_ALEN; i++)
						mac[i] = (uint8_t)m[i];
					fclose(f);
					close(fd);
					return 0;
				}
			}
			fclose(f);
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000 }, NULL);
	}
	close(fd);
	return -EHOSTUNREACH;
}

static int attach_program(struct xsk_transport *t, const char *path, char *err, size_t len)
{
	struct sp_xdp_config cfg = { .server_ip = t->self.ip, .tftp_port_lo = t->port_lo, .tftp_port_hi = t->port_hi };
	struct bpf_program *prog;
	uint32_t key = 0;
	int r;

	t->obj = bpf_object__open_file(path, NULL);
	if (!t->obj || libbpf_get_error(t->obj)) {
		t->obj = NULL;
		return fail(err, len, -ENOENT, "cannot open XDP object %s", path);
	}
	if ((r = bpf_object__load(t->obj)) < 0)
		return fail(err, len, r, "cannot load %s: %s", path, strerror(-r));
	prog = bpf_object__find_program_by_name(t->obj, "stampede_steer");
	if (!prog)
		return fail(err, len, -ENOENT, "%s has no stampede_steer program", path);
	r = bpf_map_update_elem(bpf_object__find_map_fd_by_name(t->obj, SP_XDP_MAP_CONFIG), &key, &cfg, BPF_ANY);
	if (r < 0)
		return fail(err, len, -errno, "cannot configure the XDP program: %s", strerror(errno));
	t->xdp_flags = XDP_FLAGS_DRV_MODE;
	r = bpf_xdp_attach(t->ifindex, bpf_program__fd(prog), t->xdp_flags, NULL);
	if (r < 0) {
		t->xdp_flags = XDP_FLAGS_SKB_MODE;
		r = bpf_xdp_attach(t->ifindex, bpf_program__fd(prog), t->xdp_flags, NULL);
	}
	if (r < 0) {
		t->xdp_flags = 0;
		return fail(err, len, r, "cannot attach XDP to the client interface: %s", strerror(-r));
	}
	return 0;
}

static int write_sysfs(const char *ifname, const char *attr, const char *value)
{
	char path[128];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	if (!(f = fopen(path, "w")))
		return -errno;
	if (fputs(value, f) < 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

/*
 * On a veth, the receiving side's NAPI (here: our XDP program and the copy into
 * the UMEM) runs on the CPU of the *sender*, i.e. on the server's core. On real
 * hardware that work happens on the client machine; threaded NAPI pinned to the
 * client's own CPUs puts it back on the client's side of the bench.
 */
static int pin_napi_threads(struct xsk_transport *t)
{
	char prefix[32], comm[32], path[300];
	cpu_set_t mine;
	struct dirent *de;
	DIR *proc;
	int pinned = 0;

	if (write_sysfs(t->ifname, "threaded", "1") < 0)
		return -errno;
	t->threaded_napi = true;
	if (sched_getaffinity(0, sizeof(mine), &mine) < 0 || !(proc = opendir("/proc")))
		return -errno;
	/* Kernel thread names are cut at 15 bytes: "napi/IFNAME-ID". */
	snprintf(prefix, sizeof(prefix), "napi/%s-", t->ifname);
	prefix[15] = '\0';
	while ((de = readdir(proc))) {
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, prefix, strlen(prefix)) == 0 &&
		    sched_setaffinity(atoi(de->d_name), sizeof(mine), &mine) == 0)
			pinned++;
		fclose(f);
	}
	closedir(proc);
	return pinned;
}

static int create_socket(struct xsk_transport *t, const char *ifname, char *err, size_t len)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RX_FRAMES,
		.comp_size = TX_RING,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RX_RING,
		.tx_size = TX_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	uint32_t idx;
	int r;

	t->area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->area == MAP_FAILED) {
		t->area = NULL;
		return fail(err, len, -errno, "cannot map the UMEM: %s", strerror(errno));
	}
	r = xsk_umem__create(&t->umem, t->area, (uint64_t)NUM_FRAMES * FRAME_SIZE, &t->fill, &t->comp, &ucfg);
	if (r < 0)
		return fail(err, len, r, "xsk_umem__create: %s", strerror(-r));
	r = xsk_socket__create(&t->xsk, ifname, 0, t->umem, &t->rx, &t->tx, &scfg);
	if (r < 0)
		return fail(err, len, r, "xsk_socket__create on %s queue 0: %s", ifname, strerror(-r));
	r = xsk_socket__update_xskmap(t->xsk, bpf_object__find_map_fd_by_name(t->obj, SP_XDP_MAP_XSKS));
	if (r < 0)
		return fail(err, len, r, "cannot add the socket to xsks_map: %s", strerror(-r));

	/* The first RX_FRAMES frames receive, the rest transmit. */
	if (xsk_ring_prod__reserve(&t->fill, RX_FRAMES, &idx) != RX_FRAMES)
		return fail(err, len, -ENOMEM, "cannot fill the fill ring");
	for (uint32_t i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&t->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&t->fill, RX_FRAMES);
	for (uint32_t i = 0; i < TX_FRAMES; i++)
		t->tx_free[t->n_tx_free++] = (uint64_t)(RX_FRAMES + i) * FRAME_SIZE;
	return 0;
}

int xsk_transport_open(struct xsk_transport **out, const char *ifname, const char *xdp_object,
		       uint32_t server_ip, uint16_t port_lo, uint16_t port_hi, bool verify_udp_checksums,
		       char *err, size_t len)
{
	struct xsk_transport *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return fail(err, len, -ENOMEM, "out of memory");
	t->verify_udp = verify_udp_checksums;
	t->port_lo = port_lo;
	t->port_hi = port_hi;
	t->server.ip = server_ip;
	t->ifindex = (int)if_nametoindex(ifname);
	if (!t->ifindex) {
		free(t);
		return fail(err, len, -ENODEV, "no such interface: %s", ifname);
	}
	if ((r = iface_ipv4(ifname, &t->self.ip)) < 0 || (r = own_mac(ifname, t->self.mac)) < 0) {
		free(t);
		return fail(err, len, r, "%s: no IPv4 address or MAC", ifname);
	}
	if ((r = server_mac(server_ip, ifname, t->server.mac)) < 0) {
		free(t);
		return fail(err, len, r, "the server's MAC did not resolve on %s (ARP)", ifname);
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	if ((r = attach_program(t, xdp_object, err, len)) < 0 || (r = create_socket(t, ifname, err, len)) < 0) {
		xsk_transport_close(t);
		return r;
	}
	if (pin_napi_threads(t) <= 0)
		fprintf(stderr, "tftp-load: note: receive processing for %s stays on the sender's CPU "
				"(threaded NAPI unavailable)\n", ifname);
	*out = t;
	return 0;
}

static void reclaim_tx(struct xsk_transport *t)
{
	uint32_t idx, n = xsk_ring_cons__peek(&t->comp, TX_RING, &idx);

	for (uint32_t i = 0; i < n; i++)
		t->tx_free[t->n_tx_free++] = *xsk_ring_cons__comp_addr(&t->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&t->comp, n);
}

int xsk_transport_send(struct xsk_transport *t, uint16_t src_port, uint16_t dst_port, const void *payload,
		       size_t len)
{
	struct net_endpoint src = t->self, dst = t->server;
	struct xdp_desc *desc;
	uint8_t *frame;
	uint32_t idx;

	if (len > FRAME_SIZE - NET_UDP_HEADERS_LEN)
		return -EMSGSIZE;
	if (!t->n_tx_free)
		reclaim_tx(t);
	if (!t->n_tx_free || xsk_ring_prod__reserve(&t->tx, 1, &idx) != 1) {
		xsk_transport_flush(t);
		return -ENOBUFS;
	}
	desc = xsk_ring_prod__tx_desc(&t->tx, idx);
	desc->addr = t->tx_free[--t->n_tx_free];
	frame = xsk_umem__get_data(t->area, desc->addr);
	memcpy(frame + NET_UDP_HEADERS_LEN, payload, len);
	src.port = src_port;
	dst.port = dst_port;
	desc->len = (uint32_t)net_build_udp(frame, &src, &dst, t->ip_id++, len);
	xsk_ring_prod__submit(&t->tx, 1);
	t->tx_pending++;
	return 0;
}

void xsk_transport_flush(struct xsk_transport *t)
{
	if (t->tx_pending) {
		/* Copy mode transmits only when kicked. */
		sendto(xsk_socket__fd(t->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
		t->tx_pending = 0;
	}
	reclaim_tx(t);
}

unsigned xsk_transport_receive(struct xsk_transport *t, unsigned max, xsk_deliver_fn deliver, void *ctx)
{
	uint32_t idx_rx, idx_fill, n = xsk_ring_cons__peek(&t->rx, max, &idx_rx);

	if (!n) {
		if (xsk_ring_prod__needs_wakeup(&t->fill))
			recvfrom(xsk_socket__fd(t->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&t->rx, idx_rx + i);
		struct net_udp_datagram d;

		const uint8_t *frame = xsk_umem__get_data(t->area, desc->addr);

		if ((t->verify_udp ? net_parse_udp(frame, desc->len, &d) : net_parse_udp_unchecked(frame, desc->len, &d)) !=
			    NET_OK ||
		    d.src.ip != t->server.ip || d.dst.port < t->port_lo || d.dst.port > t->port_hi) {
			t->dropped++;
			continue;
		}
		deliver(ctx, d.dst.port, d.src.port, d.payload, d.payload_len);
	}
	/* Give the frames back to the kernel for the next packets. The fill ring
	 * holds all RX_FRAMES, so there is always room for the ones we return. */
	if (xsk_ring_prod__reserve(&t->fill, n, &idx_fill) != n) {
		xsk_ring_cons__release(&t->rx, n);
		return n; /* not reached; frames would only be lost, never reused twice */
	}
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&t->fill, idx_fill + i) = xsk_ring_cons__rx_desc(&t->rx, idx_rx + i)->addr;
	xsk_ring_prod__submit(&t->fill, n);
	xsk_ring_cons__release(&t->rx, n);
	return n;
}

bool xsk_transport_ready(struct xsk_transport *t)
{
	uint32_t idx;

	return xsk_ring_cons__peek(&t->rx, 1, &idx) > 0 ? (xsk_ring_cons__cancel(&t->rx, 1), true) : false;
}

int xsk_transport_fd(const struct xsk_transport *t)
{
	return xsk_socket__fd(t->xsk);
}

void xsk_transport_print_stats(const struct xsk_transport *t, FILE *out)
{
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);

	if (getsockopt(xsk_socket__fd(t->xsk), SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
		return;
	fprintf(out, "af_xdp socket:   rx_dropped %llu, rx_ring_full %llu, fill_ring_empty %llu, tx_invalid %llu; "
		     "%llu frames dropped here (malformed or stray)\n",
		(unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
		(unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.tx_invalid_descs,
		(unsigned long long)t->dropped);
}

/* Frames still queued when the socket closes are never sent: the last ACKs of a
 * run would be lost and the server would resend the final windows. */
static void drain_tx(struct xsk_transport *t)
{
	for (int waited = 0; waited < 200 && t->n_tx_free < TX_FRAMES; waited++) {
		t->tx_pending = 1;
		xsk_transport_flush(t);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

void xsk_transport_close(struct xsk_transport *t)
{
	if (!t)
		return;
	if (t->xsk)
		drain_tx(t);
	if (t->xsk)
		xsk_socket__delete(t->xsk);
	if (t->umem)
		xsk_umem__delete(t->umem);
	if (t->threaded_napi)
		write_sysfs(t->ifname, "threaded", "0");
	if (t->xdp_flags)
		bpf_xdp_detach(t->ifindex, t->xdp_flags, NULL);
	if (t->obj)
		bpf_object__close(t->obj);
	if (t->area)
		munmap(t->area, (size_t)NUM_FRAMES * FRAME_SIZE);
	free(t);
}
