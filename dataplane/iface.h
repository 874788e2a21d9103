/* SPDX-License-Identifier: BSD-2-Clause */
/* What the kernel knows about the interface we serve on. */
#ifndef STAMPEDE_IFACE_H
#define STAMPEDE_IFACE_H

#include <stdint.h>

/* First IPv4 address of ifname, network byte order. -ENOENT when it has none. */
int iface_ipv4(const char *ifname, uint32_t *ip);
int iface_mtu(const char *ifname, unsigned *mtu);

#endif
