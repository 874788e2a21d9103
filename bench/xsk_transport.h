/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An AF_XDP transport for the benchmark client, so that the client is not the
 * bottleneck: received datagrams skip the kernel's IP/UDP stack and socket
 * queues (one copy into a UMEM frame, then parsed here), and sends are batched
 * into one kick per loop.
 *
 * It loads Stampede's own XDP program (bpf/stampede_xdp.bpf.o) on the client's
 * interface, configured with the client's address and port range, so only the
 * client's transfers are steered: ARP, ICMP and everything else still reach the
 * client's kernel, which keeps answering the server's ARP requests.
 */
#ifndef STAMPEDE_XSK_TRANSPORT_H
#define STAMPEDE_XSK_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct xsk_transport;

/* Datagram from the server (src_port) to one of our ports (dst_port). */
typedef void (*xsk_deliver_fn)(void *ctx, uint16_t dst_port, uint16_t src_port, const uint8_t *payload,
			       size_t len);

/* server_ip in network byte order; ports in host order. Resolves the server's
 * MAC through the kernel's ARP before attaching. verify_udp_checksums false
 * leaves payload integrity to the caller. Returns 0 or -errno with err set. */
int xsk_transport_open(struct xsk_transport **out, const char *ifname, const char *xdp_object,
		       uint32_t server_ip, uint16_t port_lo, uint16_t port_hi, bool verify_udp_checksums,
		       char *err, size_t err_len);
/* Queues one datagram; 0, or -ENOBUFS when every TX frame is in flight. */
int xsk_transport_send(struct xsk_transport *t, uint16_t src_port, uint16_t dst_port, const void *payload,
		       size_t len);
/* Kicks the kernel to transmit what was queued and reclaims finished frames. */
void xsk_transport_flush(struct xsk_transport *t);
/* Delivers up to max received datagrams; returns how many frames it took. */
unsigned xsk_transport_receive(struct xsk_transport *t, unsigned max, xsk_deliver_fn deliver, void *ctx);
int xsk_transport_fd(const struct xsk_transport *t);
/* Whether received frames are waiting (no syscall). */
bool xsk_transport_ready(struct xsk_transport *t);
/* The kernel's view of the socket (XDP_STATISTICS), one line, for the report. */
void xsk_transport_print_stats(const struct xsk_transport *t, FILE *out);
void xsk_transport_close(struct xsk_transport *t);

#endif
