/* SPDX-License-Identifier: BSD-2-Clause */
/* What the kernel knows about the interface we serve on. */
#ifndef STAMPEDE_IFACE_H
#define STAMPEDE_IFACE_H

#include <stddef.h>
#include <stdint.h>

/* First IPv4 address of ifname, network byte order. -ENOENT when it has none. */
int iface_ipv4(const char *ifname, uint32_t *ip);
int iface_mtu(const char *ifname, unsigned *mtu);
/* Number of receive queues the kernel shows for ifname (1 when unknown). */
int iface_rx_queues(const char *ifname);
/*
 * Ports lo..hi are taken from the host by the XDP program, so none of them may be
 * one the kernel hands to the host's own UDP clients: -EADDRINUSE (err says
 * which and what to do) if the range meets ip_local_port_range outside
 * ip_local_reserved_ports.
 */
int iface_check_private_ports(uint16_t lo, uint16_t hi, char *err, size_t err_len);

#endif
