/* SPDX-License-Identifier: BSD-2-Clause */
#include "events.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "proxy_dhcp.h"
#include "tftp_server.h"

static const char *tftp_state_name(uint8_t kind)
{
	switch (kind) {
	case TFTP_EVENT_STARTED: return "started";
	case TFTP_EVENT_COMPLETED: return "completed";
	case TFTP_EVENT_TIMED_OUT: return "timed_out";
	case TFTP_EVENT_ABORTED: return "aborted";
	case TFTP_EVENT_PROGRESS: return "progress";
	default: return "unknown";
	}
}

static void escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 3 < cap; in++) { /* room for %XX and the NUL */
		unsigned char c = (unsigned char)*in;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._/~+-", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

size_t dp_event_format(const struct dp_event *e, uint64_t wall_offset_us, char *buf, size_t cap)
{
	const uint8_t *m = e->has_mac ? e->client_mac : e->peer.mac;
	uint64_t t = e->time_us + wall_offset_us;
	char ip[INET_ADDRSTRLEN], file[3 * DP_EVENT_FILE_MAX + 1];
	struct in_addr a = { e->peer.ip };
	int n;

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	escape(e->file, file, sizeof(file));
	if (e->type == DP_EVENT_DHCP)
		n = snprintf(buf, cap,
			     "event dhcp time=%llu.%06llu mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s port=%u arch=%s "
			     "msg=%s ipxe=%d decision=%s file=%s\n",
			     (unsigned long long)(t / 1000000), (unsigned long long)(t % 1000000), m[0], m[1], m[2],
			     m[3], m[4], m[5], ip, e->peer.port, pxe_arch_name(e->arch), proxy_msg_kind_name(e->msg),
			     e->ipxe, proxy_decision_name(e->decision), file[0] ? file : "-");
	else
		n = snprintf(buf, cap,
			     "event tftp time=%llu.%06llu mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s port=%u state=%s "
			     "bytes=%llu file=%s\n",
			     (unsigned long long)(t / 1000000), (unsigned long long)(t % 1000000), m[0], m[1], m[2],
			     m[3], m[4], m[5], ip, e->peer.port, tftp_state_name(e->msg),
			     (unsigned long long)e->bytes, file[0] ? file : "-");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
