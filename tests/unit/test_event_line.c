/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dataplane's event lines read back (control/event_line.c): every field,
 * the percent-decoded file name, "-" for none, and everything that is not a
 * well-formed line (replies, garbage, truncations, over-long values) giving
 * EVENT_NONE without reading past the line. The lines are the ones
 * dataplane/events.c writes: some tests format them with dp_event_format()
 * itself, so a change on either side shows here.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dhcp.h"
#include "event_line.h"
#include "events.h"
#include "proxy_dhcp.h"
#include "tftp_server.h"

/* The two examples of dataplane/events.h, one line each. */
static const char dhcp_line[] = "event dhcp time=1700000000.123456 mac=52:54:00:12:34:56 ip=0.0.0.0 port=68 "
				"arch=efi-x64 msg=discover ipxe=0 decision=offer file=ipxe.efi";
static const char tftp_line[] = "event tftp time=1700000001.5 mac=52:54:00:12:34:56 ip=10.0.0.5 port=2070 "
				"state=completed bytes=1024 file=ipxe.efi";

static enum event_kind parse(const char *line, struct event_dhcp *d, struct event_tftp *t)
{
	return event_line_parse(line, d, t);
}

/* line with the first occurrence of `from` replaced by `to` (static buffer). */
static const char *edit(const char *line, const char *from, const char *to)
{
	static char out[4096];
	const char *at = strstr(line, from);

	cr_assert(not(eq(ptr, (void *)at, NULL)), "'%s' not in '%s'", from, line);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - line), line, to, at + strlen(from));
	return out;
}

Test(event_line, dhcp_line_every_field)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(dhcp_line, &d, &t), EVENT_DHCP));
	cr_assert(eq(dbl, d.time, 1700000000.123456));
	cr_assert(eq(str, d.mac, "52:54:00:12:34:56"));
	cr_assert(eq(str, d.ip, "0.0.0.0"));
	cr_assert(eq(u32, d.port, 68));
	cr_assert(eq(str, d.arch, "efi-x64"));
	cr_assert(eq(str, d.msg, "discover"));
	cr_assert(not(d.ipxe));
	cr_assert(eq(str, d.decision, "offer"));
	cr_assert(eq(str, d.file, "ipxe.efi"));
}

Test(event_line, dhcp_ipxe_flag_and_relay_port)
{
	struct event_dhcp d;
	struct event_tftp t;

	char line[512];

	snprintf(line, sizeof(line), "%s", edit(dhcp_line, "ipxe=0", "ipxe=1")); /* edit() reuses its buffer */
	cr_assert(eq(int, parse(edit(line, "port=68", "port=67"), &d, &t), EVENT_DHCP));
	cr_assert(d.ipxe);
	cr_assert(eq(u32, d.port, 67));
	cr_assert(eq(int, parse(edit(dhcp_line, "port=68", "port=65535"), &d, &t), EVENT_DHCP));
	cr_assert(eq(u32, d.port, 65535));
}

Test(event_line, tftp_line_every_field)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(tftp_line, &d, &t), EVENT_TFTP));
	cr_assert(eq(dbl, t.time, 1700000001.5));
	cr_assert(eq(str, t.mac, "52:54:00:12:34:56"));
	cr_assert(eq(str, t.ip, "10.0.0.5"));
	cr_assert(eq(u32, t.port, 2070));
	cr_assert(eq(str, t.state, "completed"));
	cr_assert(eq(u64, t.bytes, 1024));
	cr_assert(eq(str, t.file, "ipxe.efi"));
}

Test(event_line, tftp_every_state_name)
{
	static const char *const states[] = { "started", "progress", "completed", "timed_out", "aborted" };
	char from[32];
	struct event_dhcp d;
	struct event_tftp t;

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(from, sizeof(from), "state=%s", states[i]);
		cr_assert(eq(int, parse(edit(tftp_line, "state=completed", from), &d, &t), EVENT_TFTP));
		cr_assert(eq(str, t.state, (char *)states[i]));
	}
}

Test(event_line, bytes_up_to_2_pow_64_minus_1)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(edit(tftp_line, "bytes=1024", "bytes=18446744073709551615"), &d, &t), EVENT_TFTP));
	cr_assert(eq(u64, t.bytes, UINT64_MAX));
	cr_assert(eq(int, parse(edit(tftp_line, "bytes=1024", "bytes=0"), &d, &t), EVENT_TFTP));
	cr_assert(eq(u64, t.bytes, 0));
}

Test(event_line, fields_in_any_order_are_found_by_name)
{
	struct event_tftp t;
	struct event_dhcp d;
	const char *line = "event tftp file=a.bin bytes=7 state=started port=1 ip=10.1.2.3 mac=52:54:00:00:00:01 time=5";

	cr_assert(eq(int, parse(line, &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, "a.bin"));
	cr_assert(eq(u64, t.bytes, 7));
	cr_assert(eq(str, t.ip, "10.1.2.3"));
	cr_assert(eq(dbl, t.time, 5.0));
}

Test(event_line, a_key_is_not_matched_inside_another_keys_name_or_value)
{
	struct event_dhcp d;
	struct event_tftp t;
	/* "xip=" and a file value that reads like a field must not be taken for ip=. */
	const char *line = "event tftp time=1 mac=52:54:00:00:00:01 xip=9.9.9.9 ip=10.0.0.9 port=2 state=started "
			   "bytes=3 file=ip=1.2.3.4";

	cr_assert(eq(int, parse(line, &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.ip, "10.0.0.9"));
	cr_assert(eq(str, t.file, "ip=1.2.3.4"));
}

/* ---- file names ---- */

Test(event_line, dash_means_no_file)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(edit(dhcp_line, "file=ipxe.efi", "file=-"), &d, &t), EVENT_DHCP));
	cr_assert(eq(str, d.file, ""));
	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=-"), &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, ""));
	/* A name that merely contains a dash is kept. */
	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=a-b"), &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, "a-b"));
}

Test(event_line, file_is_percent_decoded_upper_and_lower_hex)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=my%20file%2fwith%3Dodd%25chars"), &d, &t),
		     EVENT_TFTP));
	cr_assert(eq(str, t.file, "my file/with=odd%chars"));
	cr_assert(eq(int, parse(edit(dhcp_line, "file=ipxe.efi", "file=http://h:8080/boot.ipxe%3Fmac%3D%24%7Bnet0/mac%7D"),
			       &d, &t),
		     EVENT_DHCP));
	cr_assert(eq(str, d.file, "http://h:8080/boot.ipxe?mac=${net0/mac}"));
}

Test(event_line, bad_or_cut_escapes_are_kept_literally)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=a%zzb%4"), &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, "a%zzb%4"));
	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=%"), &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, "%"));
	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=%41"), &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, "A"));
}

Test(event_line, escaped_nul_in_a_file_name_is_refused)
{
	struct event_dhcp d;
	struct event_tftp t;

	/* Decoding %00 would cut the name short: the line is not trusted. */
	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=evil%00.efi"), &d, &t), EVENT_NONE));
}

Test(event_line, only_the_file_is_decoded)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(edit(dhcp_line, "arch=efi-x64", "arch=efi%2Dx64"), &d, &t), EVENT_DHCP));
	cr_assert(eq(str, d.arch, "efi%2Dx64"));
}

Test(event_line, non_utf8_bytes_pass_through_decoded)
{
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(eq(int, parse(edit(tftp_line, "file=ipxe.efi", "file=%FF%FEx%C3"), &d, &t), EVENT_TFTP));
	cr_assert(eq(str, t.file, "\xff\xfex\xc3"));
}

/* Every byte 1..255 in a name, through the dataplane's formatter and back. */
Test(event_line, round_trip_through_dp_event_format)
{
	struct dp_event e = { .time_us = 123456789, .bytes = 4096, .type = DP_EVENT_TFTP, .msg = TFTP_EVENT_STARTED,
			      .peer = { .mac = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }, .port = 2070 } };
	char line[1024];
	struct event_dhcp d;
	struct event_tftp t;

	e.peer.ip = htonl(0x0a000005);
	for (unsigned start = 1; start < 256; start += DP_EVENT_FILE_MAX) {
		size_t n = 0;

		for (unsigned c = start; c < 256 && n < DP_EVENT_FILE_MAX; c++)
			e.file[n++] = (char)c;
		e.file[n] = '\0';
		cr_assert(gt(sz, dp_event_format(&e, 1700000000000000ull, line, sizeof(line)), 0));
		line[strcspn(line, "\n")] = '\0'; /* the supervisor strips it */
		cr_assert(eq(int, parse(line, &d, &t), EVENT_TFTP), "%s", line);
		cr_assert(eq(str, t.file, e.file), "%s", line);
		cr_assert(eq(str, t.mac, "52:54:00:ab:cd:ef"));
		cr_assert(eq(str, t.ip, "10.0.0.5"));
		cr_assert(eq(str, t.state, "started"));
		cr_assert(eq(u64, t.bytes, 4096));
		cr_assert(eq(dbl, t.time, 1700000123.456789));
	}

	/* DHCP: a relayed request carries the client's MAC, not the peer's. */
	e = (struct dp_event){ .time_us = 1, .type = DP_EVENT_DHCP, .arch = PXE_ARCH_EFI_ARM64_HTTP,
			       .msg = PROXY_RX_REQUEST, .decision = PROXY_reply_too_large, .ipxe = true, .has_mac = true,
			       .client_mac = { 0x52, 0x54, 0x00, 0, 0, 0x77 },
			       .peer = { .mac = { 2, 0, 0, 0, 0, 1 }, .port = 67 } };
	e.peer.ip = htonl(0x0a090001);
	cr_assert(gt(sz, dp_event_format(&e, 0, line, sizeof(line)), 0));
	line[strcspn(line, "\n")] = '\0';
	cr_assert(eq(int, parse(line, &d, &t), EVENT_DHCP), "%s", line);
	cr_assert(eq(str, d.mac, "52:54:00:00:00:77"));
	cr_assert(eq(str, d.ip, "10.9.0.1"));
	cr_assert(eq(u32, d.port, 67));
	cr_assert(eq(str, d.arch, "efi-arm64-http"));
	cr_assert(eq(str, d.msg, "request"));
	cr_assert(eq(str, d.decision, "reply_too_large"));
	cr_assert(d.ipxe);
	cr_assert(eq(str, d.file, ""));
}

/* ---- what is not an event ---- */

Test(event_line, replies_and_garbage_are_not_events)
{
	static const char *const lines[] = {
		"",
		"ok policy 1",
		"ready 1 iface=x",
		"error: policy refused",
		"event",
		"event ",
		"event dhcp",
		"event dhcp ",
		"event tftp",
		"event tftp ",
		"event http time=1 mac=52:54:00:00:00:01",
		"event dhcpx time=1",
		" event dhcp time=1",
		"EVENT DHCP time=1",
		"\xff\xfe\x00",
		"event tftp time= mac= ip= port= state= bytes= file=",
		"event tftp time=1 mac=52:54:00:00:00:01 ip=10.0.0.1 port=1 state=started bytes=1", /* no file */
		"event dhcp time=1 mac=52:54:00:00:00:01 ip=0.0.0.0 port=68 arch=bios msg=discover ipxe=0 file=x",
	};
	struct event_dhcp d;
	struct event_tftp t;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert(eq(int, parse(lines[i], &d, &t), EVENT_NONE), "line %zu: '%s'", i, lines[i]);
}

Test(event_line, every_missing_field_makes_it_malformed)
{
	static const char *const dhcp_keys[] = { "time", "mac", "ip", "port", "arch", "msg", "ipxe", "decision", "file" };
	static const char *const tftp_keys[] = { "time", "mac", "ip", "port", "state", "bytes", "file" };
	struct event_dhcp d;
	struct event_tftp t;
	char from[32], to[32];

	for (size_t i = 0; i < sizeof(dhcp_keys) / sizeof(dhcp_keys[0]); i++) {
		snprintf(from, sizeof(from), " %s=", dhcp_keys[i]);
		snprintf(to, sizeof(to), " x%s=", dhcp_keys[i]);
		cr_assert(eq(int, parse(edit(dhcp_line, from, to), &d, &t), EVENT_NONE), "without %s", dhcp_keys[i]);
	}
	for (size_t i = 0; i < sizeof(tftp_keys) / sizeof(tftp_keys[0]); i++) {
		snprintf(from, sizeof(from), " %s=", tftp_keys[i]);
		snprintf(to, sizeof(to), " x%s=", tftp_keys[i]);
		cr_assert(eq(int, parse(edit(tftp_line, from, to), &d, &t), EVENT_NONE), "without %s", tftp_keys[i]);
	}
}

Test(event_line, bad_numbers_are_malformed)
{
	static const char *const tftp_edits[][2] = {
		{ "time=1700000001.5", "time=" },        { "time=1700000001.5", "time=12abc" },
		{ "port=2070", "port=" },                { "port=2070", "port=65536" },
		{ "port=2070", "port=-1" },              { "port=2070", "port=20x" },
		{ "port=2070", "port=+1" },              { "port=2070", "port=99999999999999999999999" },
		{ "bytes=1024", "bytes=" },              { "bytes=1024", "bytes=-5" },
		{ "bytes=1024", "bytes=1e3" },           { "bytes=1024", "bytes=0x10" },
		{ "bytes=1024", "bytes= 5" },
	};
	static const char *const dhcp_edits[][2] = {
		{ "ipxe=0", "ipxe=" },
		{ "ipxe=0", "ipxe=yes" },
	};
	struct event_dhcp d;
	struct event_tftp t;

	for (size_t i = 0; i < sizeof(tftp_edits) / sizeof(tftp_edits[0]); i++) {
		const char *line = edit(tftp_line, tftp_edits[i][0], tftp_edits[i][1]);

		cr_assert(eq(int, parse(line, &d, &t), EVENT_NONE), "%s", line);
	}
	for (size_t i = 0; i < sizeof(dhcp_edits) / sizeof(dhcp_edits[0]); i++) {
		const char *line = edit(dhcp_line, dhcp_edits[i][0], dhcp_edits[i][1]);

		cr_assert(eq(int, parse(line, &d, &t), EVENT_NONE), "%s", line);
	}
}

/* bytes past 2^64-1 must not saturate silently to UINT64_MAX: the line does
 * not say what was transferred, so it is not a well-formed event. */
Test(event_line, bytes_overflowing_64_bits_are_malformed)
{
	struct event_dhcp d;
	struct event_tftp t;
	const char *line = edit(tftp_line, "bytes=1024", "bytes=18446744073709551616");
	enum event_kind k = parse(line, &d, &t);

	cr_expect(eq(int, k, EVENT_NONE), "%s parsed as bytes=%llu", line, (unsigned long long)t.bytes);
}

/* time is the dataplane's "%llu.%06llu": "nan" or "inf" is no time, and a
 * NaN time later makes the machine vanish from the JSON (jansson refuses
 * non-finite reals). */
Test(event_line, non_finite_times_are_malformed)
{
	static const char *const times[] = { "time=nan", "time=inf", "time=-inf", "time=NAN" };
	struct event_dhcp d;
	struct event_tftp t;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		const char *line = edit(tftp_line, "time=1700000001.5", times[i]);

		cr_expect(eq(int, parse(line, &d, &t), EVENT_NONE), "%s gave time %f", line, t.time);
	}
}

Test(event_line, over_long_values_are_malformed_not_cut)
{
	char big[1024], line[2048];
	struct event_dhcp d;
	struct event_tftp t;

	/* file: 255 bytes fit (plus the NUL), 256 do not. */
	memset(big, 'f', 255);
	big[255] = '\0';
	snprintf(line, sizeof(line), "event tftp time=1 mac=52:54:00:00:00:01 ip=10.0.0.1 port=1 state=started bytes=1 file=%s",
		 big);
	cr_assert(eq(int, parse(line, &d, &t), EVENT_TFTP));
	cr_assert(eq(sz, strlen(t.file), 255));
	big[255] = 'f';
	big[256] = '\0';
	snprintf(line, sizeof(line), "event tftp time=1 mac=52:54:00:00:00:01 ip=10.0.0.1 port=1 state=started bytes=1 file=%s",
		 big);
	cr_assert(eq(int, parse(line, &d, &t), EVENT_NONE));
	/* Decoded length is what counts: 255 escapes decode to 255 bytes. */
	line[0] = '\0';
	strcat(line, "event tftp time=1 mac=52:54:00:00:00:01 ip=10.0.0.1 port=1 state=started bytes=1 file=");
	for (int i = 0; i < 255; i++)
		strcat(line, "%41");
	cr_assert(eq(int, parse(line, &d, &t), EVENT_TFTP));
	cr_assert(eq(sz, strlen(t.file), 255));

	cr_assert(eq(int, parse(edit(tftp_line, "mac=52:54:00:12:34:56", "mac=52:54:00:12:34:56:78"), &d, &t), EVENT_NONE));
	cr_assert(eq(int, parse(edit(tftp_line, "ip=10.0.0.5", "ip=100.100.100.1000"), &d, &t), EVENT_NONE));
	cr_assert(eq(int, parse(edit(tftp_line, "state=completed", "state=completedcompleted"), &d, &t), EVENT_NONE));
	cr_assert(eq(int, parse(edit(dhcp_line, "arch=efi-x64", "arch=aaaaaaaaaaaaaaaaaaaaaaaa"), &d, &t), EVENT_NONE));
	cr_assert(eq(int, parse(edit(dhcp_line, "msg=discover", "msg=discoverdiscover"), &d, &t), EVENT_NONE));
	cr_assert(eq(int, parse(edit(dhcp_line, "decision=offer", "decision=offerofferofferofferoffer"), &d, &t),
		     EVENT_NONE));
	memset(big, '9', 40);
	big[40] = '\0';
	snprintf(line, sizeof(line), "time=%s", big);
	cr_assert(eq(int, parse(edit(tftp_line, "time=1700000001.5", line), &d, &t), EVENT_NONE));
}

/* A line that ends at the last readable byte of a page: every prefix of both
 * example lines is parsed without reading past its NUL (the next page faults). */
Test(event_line, every_truncation_is_safe_and_none_but_the_whole_is_an_event)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *const lines[] = { dhcp_line, tftp_line };
	struct event_dhcp d;
	struct event_tftp t;

	cr_assert(not(eq(ptr, map, MAP_FAILED)));
	cr_assert(eq(int, mprotect(map + page, (size_t)page, PROT_NONE), 0));
	for (size_t l = 0; l < 2; l++) {
		size_t len = strlen(lines[l]);

		for (size_t n = 0; n <= len; n++) {
			char *s = (char *)map + page - (n + 1);
			enum event_kind k;

			memcpy(s, lines[l], n);
			s[n] = '\0';
			k = parse(s, &d, &t);
			/* Cutting the file name shortens it but leaves an event; any
			 * cut before "file=" is malformed. (An empty "file=" is taken
			 * as no file; the dataplane writes "-" for that.) */
			if (n < len - strlen("ipxe.efi"))
				cr_assert(eq(int, k, EVENT_NONE), "prefix %zu: '%s'", n, s);
			else if (n > len - strlen("ipxe.efi"))
				cr_assert(eq(int, k, l == 0 ? EVENT_DHCP : EVENT_TFTP), "prefix %zu: '%s'", n, s);
		}
	}
	munmap(map, 2 * (size_t)page);
}

/* Random bytes and random mutations of good lines: never a crash, never an
 * unterminated field. */
Test(event_line, fuzz_mutations_never_crash)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;
	char buf[512];
	struct event_dhcp d;
	struct event_tftp t;

	for (int i = 0; i < 200000; i++) {
		const char *base = i & 1 ? dhcp_line : tftp_line;
		size_t len = strlen(base);

		memcpy(buf, base, len + 1);
		for (int k = 0; k < 1 + i % 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[x % len] = (char)(x >> 24);
		}
		buf[len] = '\0';
		switch (parse(buf, &d, &t)) {
		case EVENT_DHCP:
			cr_assert(lt(sz, strlen(d.mac), sizeof(d.mac)));
			cr_assert(lt(sz, strlen(d.file), sizeof(d.file)));
			cr_assert(le(u32, d.port, 65535));
			break;
		case EVENT_TFTP:
			cr_assert(lt(sz, strlen(t.state), sizeof(t.state)));
			cr_assert(lt(sz, strlen(t.file), sizeof(t.file)));
			cr_assert(le(u32, t.port, 65535));
			break;
		default:
			break;
		}
	}
}
