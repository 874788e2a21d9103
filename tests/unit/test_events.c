/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_event_format(): the boot event lines the dataplane writes for the
 * control plane. Exact text of DHCP and TFTP lines, which MAC is named
 * (chaddr when the record has it, else the frame's source), the wall clock
 * offset, names for out-of-range codes, percent-encoding of file names so a
 * value never holds a space or a line break, and the capacity contract:
 * 0 when the line does not fit, and never a byte written past cap (proved
 * with the buffer ending at an unreadable page).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "events.h"
#include "proxy_dhcp.h"
#include "support.h"
#include "tftp_server.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct dp_event dhcp_event(void)
{
	struct dp_event e;

	memset(&e, 0, sizeof(e));
	e.type = DP_EVENT_DHCP;
	e.time_us = 123456;
	memcpy(e.peer.mac, (uint8_t[]){ 0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc }, 6); /* a relay */
	e.peer.ip = 0;
	e.peer.port = 68;
	e.arch = PXE_ARCH_EFI_X64;
	e.msg = PROXY_RX_DISCOVER;
	e.decision = PROXY_offer;
	e.has_mac = true;
	memcpy(e.client_mac, (uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 6);
	strcpy(e.file, "ipxe.efi");
	return e;
}

static struct dp_event tftp_event(void)
{
	struct dp_event e;
	struct in_addr a;

	memset(&e, 0, sizeof(e));
	e.type = DP_EVENT_TFTP;
	e.time_us = 1700000000000000ull + 5;
	memcpy(e.peer.mac, (uint8_t[]){ 0x52, 0x54, 0x00, 0xde, 0xad, 0x01 }, 6);
	inet_pton(AF_INET, "10.0.0.5", &a);
	e.peer.ip = a.s_addr;
	e.peer.port = 2070;
	e.msg = TFTP_EVENT_COMPLETED;
	e.bytes = 1024;
	strcpy(e.file, "ipxe.efi");
	return e;
}

static const char *format(const struct dp_event *e, uint64_t offset)
{
	static char buf[1024];
	size_t n = dp_event_format(e, offset, buf, sizeof(buf));

	cr_assert(gt(sz, n, 0));
	cr_assert(eq(sz, n, strlen(buf)), "the length returned is the line's");
	return buf;
}

Test(dp_event_format, dhcp_line_exact_text)
{
	struct dp_event e = dhcp_event();

	cr_expect(eq(str, (char *)format(&e, 1700000000000000ull),
		     "event dhcp time=1700000000.123456 mac=52:54:00:12:34:56 ip=0.0.0.0 port=68 arch=efi-x64 "
		     "msg=discover ipxe=0 decision=offer file=ipxe.efi\n"));
}

Test(dp_event_format, tftp_line_exact_text)
{
	struct dp_event e = tftp_event();

	cr_expect(eq(str, (char *)format(&e, 0),
		     "event tftp time=1700000000.000005 mac=52:54:00:de:ad:01 ip=10.0.0.5 port=2070 state=completed "
		     "bytes=1024 file=ipxe.efi\n"));
}

Test(dp_event_format, dhcp_names_chaddr_when_it_has_it_else_the_frame_source)
{
	struct dp_event e = dhcp_event();

	cr_expect(strstr(format(&e, 0), " mac=52:54:00:12:34:56 ") != NULL);
	e.has_mac = false;
	cr_expect(strstr(format(&e, 0), " mac=02:00:00:aa:bb:cc ") != NULL);
}

Test(dp_event_format, tftp_names_the_peer_mac_unless_told_otherwise)
{
	struct dp_event e = tftp_event();

	cr_expect(strstr(format(&e, 0), " mac=52:54:00:de:ad:01 ") != NULL);
	e.has_mac = true;
	memcpy(e.client_mac, (uint8_t[]){ 1, 2, 3, 4, 5, 6 }, 6);
	cr_expect(strstr(format(&e, 0), " mac=01:02:03:04:05:06 ") != NULL);
}

Test(dp_event_format, time_is_monotonic_plus_offset_with_six_decimals)
{
	struct dp_event e = dhcp_event();

	e.time_us = 0;
	cr_expect(strstr(format(&e, 0), " time=0.000000 ") != NULL);
	e.time_us = 999999;
	cr_expect(strstr(format(&e, 1), " time=1.000000 ") != NULL);
	e.time_us = 1;
	cr_expect(strstr(format(&e, 1699999999999999ull), " time=1700000000.000000 ") != NULL);
	e.time_us = UINT64_MAX;
	cr_expect(strstr(format(&e, 0), " time=18446744073709.551615 ") != NULL);
}

Test(dp_event_format, every_decision_message_and_state_has_its_name)
{
	static const char *const decisions[] = { "offer",        "ack",           "malformed",   "not_request",
						 "not_pxe",      "no_policy",     "other_type",  "other_server",
						 "denied_mac",   "denied_subnet", "not_allowed", "unmatched",
						 "no_boot_file", "reply_too_large" };
	static const char *const msgs[] = { "discover", "request", "inform", "other" };
	static const char *const states[] = { "started", "completed", "timed_out", "aborted", "progress" };
	struct dp_event e = dhcp_event();
	char want[64];

	cr_assert(eq(sz, COUNT(decisions), PROXY_DECISION_COUNT));
	for (size_t i = 0; i < COUNT(decisions); i++) {
		e.decision = (uint8_t)i;
		snprintf(want, sizeof(want), " decision=%s ", decisions[i]);
		cr_expect(strstr(format(&e, 0), want) != NULL, "%s", want);
	}
	e.decision = PROXY_DECISION_COUNT;
	cr_expect(strstr(format(&e, 0), " decision=unknown ") != NULL);
	for (size_t i = 0; i < COUNT(msgs); i++) {
		e.msg = (uint8_t)i;
		snprintf(want, sizeof(want), " msg=%s ", msgs[i]);
		cr_expect(strstr(format(&e, 0), want) != NULL, "%s", want);
	}
	e.msg = 200;
	cr_expect(strstr(format(&e, 0), " msg=unknown ") != NULL);
	for (int a = 0; a < PXE_ARCH_COUNT; a++) {
		e.arch = (uint8_t)a;
		snprintf(want, sizeof(want), " arch=%s ", pxe_arch_name(a));
		cr_expect(strstr(format(&e, 0), want) != NULL, "%s", want);
	}
	e.arch = 200;
	cr_expect(strstr(format(&e, 0), " arch=unknown ") != NULL);
	e.ipxe = true;
	cr_expect(strstr(format(&e, 0), " ipxe=1 ") != NULL);

	e = tftp_event();
	for (size_t i = 0; i < COUNT(states); i++) {
		e.msg = (uint8_t)i;
		snprintf(want, sizeof(want), " state=%s ", states[i]);
		cr_expect(strstr(format(&e, 0), want) != NULL, "%s", want);
	}
	e.msg = 5;
	cr_expect(strstr(format(&e, 0), " state=unknown ") != NULL);
	e.bytes = UINT64_MAX;
	cr_expect(strstr(format(&e, 0), " bytes=18446744073709551615 ") != NULL);
}

Test(dp_event_format, no_file_is_a_dash)
{
	struct dp_event e = dhcp_event();

	e.file[0] = '\0';
	cr_expect(strstr(format(&e, 0), " file=-\n") != NULL);
	e = tftp_event();
	e.file[0] = '\0';
	cr_expect(strstr(format(&e, 0), " file=-\n") != NULL);
}

static const char *file_field(const char *line)
{
	const char *f = strstr(line, " file=");

	cr_assert(not(eq(ptr, (void *)f, NULL)));
	return f + 6;
}

Test(dp_event_format, file_names_are_percent_encoded)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/01-52-54-00-12-34-56\n" },
		{ "a~b+c_d", "a~b+c_d\n" },
		{ "my file.efi", "my%20file.efi\n" },
		{ "100%.efi", "100%25.efi\n" },
		{ "evil\nevent tftp", "evil%0Aevent%20tftp\n" },
		{ "cr\rtab\t", "cr%0Dtab%09\n" },
		{ "k=v", "k%3Dv\n" },
		{ "\xff\x80", "%FF%80\n" },
	};
	struct dp_event e = tftp_event();

	for (size_t i = 0; i < COUNT(cases); i++) {
		const char *line;

		strcpy(e.file, cases[i].name);
		line = format(&e, 0);
		cr_expect(eq(str, (char *)file_field(line), (char *)cases[i].want), "%s", cases[i].want);
		cr_expect(eq(ptr, strchr(line, '\n'), (char *)line + strlen(line) - 1), "one line");
	}
}

/* The longest name a record holds, every byte escaped: 95 x "%20". */
Test(dp_event_format, longest_file_name_fully_escaped_is_not_cut)
{
	struct dp_event e = tftp_event();
	char want[3 * DP_EVENT_FILE_MAX + 2];

	memset(e.file, ' ', DP_EVENT_FILE_MAX);
	e.file[DP_EVENT_FILE_MAX] = '\0';
	for (int i = 0; i < DP_EVENT_FILE_MAX; i++)
		memcpy(want + 3 * i, "%20", 3);
	want[3 * DP_EVENT_FILE_MAX] = '\n';
	want[3 * DP_EVENT_FILE_MAX + 1] = '\0';
	cr_expect(eq(str, (char *)file_field(format(&e, 0)), want));
}

Test(dp_event_format, longest_file_name_plain_is_not_cut)
{
	struct dp_event e = tftp_event();
	char want[DP_EVENT_FILE_MAX + 2];

	memset(e.file, 'a', DP_EVENT_FILE_MAX);
	e.file[DP_EVENT_FILE_MAX] = '\0';
	memset(want, 'a', DP_EVENT_FILE_MAX);
	want[DP_EVENT_FILE_MAX] = '\n';
	want[DP_EVENT_FILE_MAX + 1] = '\0';
	cr_expect(eq(str, (char *)file_field(format(&e, 0)), want));
}

/* Every cap from 0 to the line's length + 1: 0 until the whole line and its
 * NUL fit, the exact line from then on, and nothing written past cap (the
 * buffer ends at a PROT_NONE page). */
Test(dp_event_format, capacity_too_small_gives_zero_and_no_write_past_cap)
{
	struct dp_event events[2] = { dhcp_event(), tftp_event() };
	struct guard g;

	guard_open(&g);
	for (size_t k = 0; k < COUNT(events); k++) {
		char full[1024];
		size_t len = dp_event_format(&events[k], 0, full, sizeof(full));

		cr_assert(gt(sz, len, 0));
		for (size_t cap = 0; cap <= len + 1; cap++) {
			uint8_t *buf = g.map + g.page - cap; /* the last byte of buf is the last readable one */
			size_t n;

			memset(g.map, 0xa5, g.page);
			n = dp_event_format(&events[k], 0, (char *)buf, cap);
			if (cap <= len) {
				cr_expect(eq(sz, n, 0), "cap %zu for a line of %zu", cap, len);
			} else {
				cr_expect(eq(sz, n, len));
				cr_expect(eq(int, memcmp(buf, full, len + 1), 0));
			}
			for (uint8_t *p = g.map; p < buf; p++)
				cr_assert(eq(u8, *p, 0xa5), "a byte before buf was written (cap %zu)", cap);
		}
	}
	guard_close(&g);
}
