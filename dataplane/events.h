/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Boot events: what the dataplane saw a machine do (a DHCP request and the
 * decision about it, a TFTP transfer starting or ending). The polling core
 * fills fixed-size records into a ring; the control thread formats them as
 * lines for the control plane, which keeps each machine's timeline.
 *
 *   event dhcp time=1700000000.123456 mac=52:54:00:12:34:56 ip=0.0.0.0 port=68
 *         arch=efi-x64 msg=discover ipxe=0 decision=offer file=ipxe.efi
 *   event tftp time=... mac=... ip=10.0.0.5 port=2070 state=completed bytes=1024 file=ipxe.efi
 *
 * One line each (wrapped above). Values never contain spaces: file names are
 * percent-encoded outside [A-Za-z0-9._/~+-].
 */
#ifndef STAMPEDE_EVENTS_H
#define STAMPEDE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

enum dp_event_type { DP_EVENT_DHCP, DP_EVENT_TFTP };

#define DP_EVENT_FILE_MAX 95

struct dp_event {
	uint64_t time_us; /* the dataplane's monotonic clock */
	uint64_t bytes;   /* TFTP: size at start, bytes acknowledged at the end */
	struct net_endpoint peer;
	uint8_t type;     /* enum dp_event_type */
	uint8_t arch;     /* DHCP: enum pxe_arch */
	uint8_t msg;      /* DHCP: enum proxy_msg_kind; TFTP: enum tftp_event_kind */
	uint8_t decision; /* DHCP: enum proxy_decision */
	bool ipxe;
	bool has_mac;
	uint8_t client_mac[6]; /* DHCP: chaddr (the peer's MAC may be a relay's) */
	char file[DP_EVENT_FILE_MAX + 1];
} __attribute__((aligned(8)));

/* Format one event as a line (with "\n"). wall_offset_us is added to time_us
 * to give Unix time. Returns the length, or 0 when cap is too small. */
size_t dp_event_format(const struct dp_event *e, uint64_t wall_offset_us, char *buf, size_t cap);

#endif
