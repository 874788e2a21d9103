/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dataplane's event lines (dataplane/events.h) read back into structures:
 *   event dhcp time=T mac=M ip=A port=P arch=X msg=K ipxe=0|1 decision=D file=F
 *   event tftp time=T mac=M ip=A port=P state=S bytes=N file=F
 * Pure: a line in, a structure out; the file name is percent-decoded.
 */
#ifndef STAMPEDE_EVENT_LINE_H
#define STAMPEDE_EVENT_LINE_H

#include <stdbool.h>
#include <stdint.h>

struct event_dhcp {
	double time;
	char mac[18];
	char ip[16];
	unsigned port;
	char arch[24];
	char msg[16];      /* discover, request, inform, other */
	bool ipxe;
	char decision[24]; /* offer, ack, not_pxe, ... */
	char file[256];    /* "" when none */
};

struct event_tftp {
	double time;
	char mac[18];
	char ip[16];
	unsigned port;
	char state[16];    /* started, progress, completed, timed_out, aborted */
	uint64_t bytes;
	char file[256];
};

enum event_kind { EVENT_NONE, EVENT_DHCP, EVENT_TFTP };

/* Returns the kind parsed into *dhcp or *tftp, or EVENT_NONE when the line
 * is not a well-formed event line (replies, garbage). */
enum event_kind event_line_parse(const char *line, struct event_dhcp *dhcp, struct event_tftp *tftp);

#endif
