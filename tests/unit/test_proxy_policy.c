/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxyDHCP policy message: proxy_policy_parse() (every key, every error
 * with its line number, comments, blank lines, CRLF, the list limit, no
 * over-read of a text that is not NUL-terminated, no leak), the MAC and UUID
 * parsers (the UUID's SMBIOS wire order proved against the option 97 bytes
 * that real firmware sent), and the sorted lists with their lookups.
 *
 * UUID provenance: QEMU was started with -uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b
 * (SeaBIOS + iPXE ROM) and -uuid 5d3c2b1a-0f9e-4d8c-b7a6-958473625140 (OVMF's
 * EDK2 PXE); the option 97 bytes below are from the captured DISCOVERs that
 * tests/unit/test_dhcp.c holds (ipxe_bios_discover, ovmf_discover).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_policy.h"
#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Option 97 after its type byte, from the captures (see top). */
static const uint8_t ipxe_capture_guid[16] = { 0x2e, 0x3c, 0x1f, 0x8a, 0x4d, 0x6b, 0x5f, 0x4e,
					       0x9a, 0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b };
static const uint8_t ovmf_capture_guid[16] = { 0x1a, 0x2b, 0x3c, 0x5d, 0x9e, 0x0f, 0x8c, 0x4d,
					       0xb7, 0xa6, 0x95, 0x84, 0x73, 0x62, 0x51, 0x40 };

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert(eq(int, inet_pton(AF_INET, s, &a), 1), "%s", s);
	return a.s_addr;
}

static struct proxy_policy *parse_n(const char *text, size_t len, char *err, size_t err_len)
{
	memset(err, 0x55, err_len);
	return proxy_policy_parse(text, len, err, err_len);
}

static struct proxy_policy *parse_ok(const char *text)
{
	char err[512];
	struct proxy_policy *p = parse_n(text, strlen(text), err, sizeof(err));

	cr_assert(not(eq(ptr, (void *)p, NULL)), "proxy_policy_parse: %s", err);
	return p;
}

/* Parsing fails with exactly this message. */
static void expect_error(const char *text, size_t len, const char *want, const char *what)
{
	char err[512];
	struct proxy_policy *p = parse_n(text, len, err, sizeof(err));

	cr_expect(eq(ptr, (void *)p, NULL), "%s: accepted", what);
	if (p) {
		proxy_policy_free(p);
		return;
	}
	cr_expect(eq(str, err, (char *)want), "%s", what);
}

#define SERVER "server-ip 10.0.2.10\n"

/* ---- defaults and every key ------------------------------------------------- */

Test(proxy_policy_parse, server_ip_alone_gives_the_defaults)
{
	struct proxy_policy *p = parse_ok("server-ip 10.0.2.10");

	cr_assert(eq(u32, p->server_ip, ip("10.0.2.10")));
	cr_assert(eq(str, p->script_url, ""));
	for (int a = 0; a < PXE_ARCH_COUNT; a++) {
		cr_assert(eq(str, p->arch[a].boot_file, ""), "arch %d", a);
		cr_assert(not(p->arch[a].via_boot_server), "arch %d", a);
		cr_assert(not(p->select_arch[a]), "arch %d", a);
	}
	cr_assert(eq(str, p->menu_text, "Stampede network boot"));
	cr_assert(eq(str, p->prompt, ""));
	cr_assert(eq(u8, p->prompt_timeout, 0));
	cr_assert(eq(sz, p->extra_len, 0));
	cr_assert(eq(sz, p->allow_macs.n + p->deny_macs.n + p->select_macs.n, 0));
	cr_assert(eq(sz, p->allow_subnets.n + p->deny_subnets.n + p->select_uuids.n, 0));
	cr_assert(p->answer_unmatched, "unmatched defaults to answer");
	proxy_policy_free(p);
}

Test(proxy_policy_parse, every_key_lands_in_its_field)
{
	static const char text[] =
		"server-ip 192.168.7.1\n"
		"script-url http://192.168.7.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}\n"
		"boot-file bios undionly.kpxe\n"
		"boot-file efi-x64 ipxe.efi\n"
		"boot-file efi-x64-http http://192.168.7.1:8080/ipxe.efi\n"
		"boot-file efi-arm64 my boot/snp only.efi\n" /* spaces belong to the file name */
		"boot-server efi-x64\n"
		"menu Install Debian\n"
		"prompt 7 Press F8 for the menu\n"
		"option 209 pxelinux.cfg/default\n"
		"option 210 http://192.168.7.1/\n"
		"allow-mac 52:54:00:12:34:56\n"
		"deny-mac 52-54-00-65-43-21\n"
		"select-mac AA:BB:CC:DD:EE:FF\n"
		"allow-subnet 10.1.0.0/16\n"
		"deny-subnet 10.1.2.0/24\n"
		"select-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\n"
		"select-arch efi-arm64\n"
		"unmatched ignore\n";
	static const uint8_t want_extra[] = {
		209, 20, 'p', 'x', 'e', 'l', 'i', 'n', 'u', 'x', '.', 'c', 'f', 'g', '/', 'd', 'e', 'f', 'a', 'u', 'l', 't',
		210, 19, 'h', 't', 't', 'p', ':', '/', '/', '1', '9', '2', '.', '1', '6', '8', '.', '7', '.', '1', '/',
	};
	struct proxy_policy *p = parse_ok(text);

	cr_assert(eq(u32, p->server_ip, ip("192.168.7.1")));
	cr_assert(eq(str, p->script_url,
		     "http://192.168.7.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}"));
	cr_assert(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "undionly.kpxe"));
	cr_assert(eq(str, p->arch[PXE_ARCH_EFI_X64].boot_file, "ipxe.efi"));
	cr_assert(eq(str, p->arch[PXE_ARCH_EFI_X64_HTTP].boot_file, "http://192.168.7.1:8080/ipxe.efi"));
	cr_assert(eq(str, p->arch[PXE_ARCH_EFI_ARM64].boot_file, "my boot/snp only.efi"));
	cr_assert(eq(str, p->arch[PXE_ARCH_EFI_IA32].boot_file, ""));
	cr_assert(p->arch[PXE_ARCH_EFI_X64].via_boot_server);
	cr_assert(not(p->arch[PXE_ARCH_BIOS].via_boot_server));
	cr_assert(eq(str, p->menu_text, "Install Debian"));
	cr_assert(eq(str, p->prompt, "Press F8 for the menu"));
	cr_assert(eq(u8, p->prompt_timeout, 7));
	cr_assert(eq(sz, p->extra_len, sizeof(want_extra)));
	cr_assert(eq(u8[sizeof(want_extra)], p->extra, (uint8_t *)want_extra));

	cr_assert(eq(sz, p->allow_macs.n, 1));
	cr_assert(eq(u64, p->allow_macs.macs[0], 0x525400123456ull));
	cr_assert(eq(sz, p->deny_macs.n, 1));
	cr_assert(eq(u64, p->deny_macs.macs[0], 0x525400654321ull));
	cr_assert(eq(sz, p->select_macs.n, 1));
	cr_assert(eq(u64, p->select_macs.macs[0], 0xaabbccddeeffull));
	cr_assert(eq(sz, p->allow_subnets.n, 1));
	cr_assert(eq(u32, p->allow_subnets.subnets[0].net, 0x0a010000));
	cr_assert(eq(u32, p->allow_subnets.subnets[0].mask, 0xffff0000));
	cr_assert(eq(sz, p->deny_subnets.n, 1));
	cr_assert(eq(u32, p->deny_subnets.subnets[0].net, 0x0a010200));
	cr_assert(eq(u32, p->deny_subnets.subnets[0].mask, 0xffffff00));
	cr_assert(eq(sz, p->select_uuids.n, 1));
	cr_assert(eq(u8[16], p->select_uuids.uuids[0], (uint8_t *)ipxe_capture_guid));
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		cr_assert(eq(int, p->select_arch[a], a == PXE_ARCH_EFI_ARM64), "select-arch %s", pxe_arch_name(a));
	cr_assert(not(p->answer_unmatched));
	proxy_policy_free(p);
}

Test(proxy_policy_parse, every_architecture_name_is_a_key)
{
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text), SERVER);
	struct proxy_policy *p;

	for (int a = PXE_ARCH_UNKNOWN + 1; a < PXE_ARCH_COUNT; a++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "boot-file %s file-%d\nboot-server %s\nselect-arch %s\n",
				      pxe_arch_name(a), a, pxe_arch_name(a), pxe_arch_name(a));
	p = parse_ok(text);
	for (int a = PXE_ARCH_UNKNOWN + 1; a < PXE_ARCH_COUNT; a++) {
		char want[32];

		snprintf(want, sizeof(want), "file-%d", a);
		cr_expect(eq(str, p->arch[a].boot_file, want), "%s", pxe_arch_name(a));
		cr_expect(p->arch[a].via_boot_server, "%s", pxe_arch_name(a));
		cr_expect(p->select_arch[a], "%s", pxe_arch_name(a));
	}
	cr_expect(eq(str, p->arch[PXE_ARCH_UNKNOWN].boot_file, ""));
	cr_expect(not(p->select_arch[PXE_ARCH_UNKNOWN]));
	proxy_policy_free(p);
}

Test(proxy_policy_parse, later_lines_override_earlier_scalars)
{
	struct proxy_policy *p = parse_ok("server-ip 10.0.0.1\nserver-ip 10.0.2.10\nboot-file bios a\nboot-file bios b\n"
					  "unmatched ignore\nunmatched answer\nprompt 3 x\nprompt 255 y\nmenu m\n");

	cr_assert(eq(u32, p->server_ip, ip("10.0.2.10")));
	cr_assert(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "b"));
	cr_assert(p->answer_unmatched);
	cr_assert(eq(u8, p->prompt_timeout, 255));
	cr_assert(eq(str, p->prompt, "y"));
	cr_assert(eq(str, p->menu_text, "m"));
	proxy_policy_free(p);
}

Test(proxy_policy_parse, prompt_timeout_bounds_and_empty_text)
{
	struct proxy_policy *p = parse_ok(SERVER "prompt 0 Go");

	cr_assert(eq(u8, p->prompt_timeout, 0));
	cr_assert(eq(str, p->prompt, "Go"));
	proxy_policy_free(p);
	p = parse_ok(SERVER "prompt 255 Wait for a key");
	cr_assert(eq(u8, p->prompt_timeout, 255));
	cr_assert(eq(str, p->prompt, "Wait for a key"));
	proxy_policy_free(p);
	p = parse_ok(SERVER "prompt 9");
	cr_assert(eq(u8, p->prompt_timeout, 9));
	cr_assert(eq(str, p->prompt, ""));
	proxy_policy_free(p);
}

Test(proxy_policy_parse, texts_of_exactly_255_bytes_are_accepted)
{
	char text[2048], t255[256];
	struct proxy_policy *p;

	memset(t255, 'u', 255);
	t255[255] = '\0';
	snprintf(text, sizeof(text), SERVER "script-url %s\nboot-file bios %s\nmenu %s\nprompt 1 %s\noption 209 %s\n",
		 t255, t255, t255, t255, t255);
	p = parse_ok(text);
	cr_assert(eq(str, p->script_url, t255));
	cr_assert(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, t255));
	cr_assert(eq(str, p->menu_text, t255));
	cr_assert(eq(str, p->prompt, t255));
	cr_assert(eq(sz, p->extra_len, 257));
	cr_assert(eq(u8, p->extra[0], 209));
	cr_assert(eq(u8, p->extra[1], 255));
	proxy_policy_free(p);
}

Test(proxy_policy_parse, options_209_and_210_once_each)
{
	char text[4096], t[256];
	struct proxy_policy *p;

	memset(t, 'p', 255);
	t[255] = '\0';
	snprintf(text, sizeof(text), SERVER "option 210 %s\noption 209 %s\n", t, t);
	p = parse_ok(text);
	cr_assert(eq(sz, p->extra_len, 2 * 257));
	cr_assert(eq(u8, p->extra[0], 210));
	cr_assert(eq(u8, p->extra[1], 255));
	cr_assert(eq(u8, p->extra[257], 209));
	proxy_policy_free(p);

	expect_error(SERVER "option 209 a\noption 209 b\n", strlen(SERVER "option 209 a\noption 209 b\n"),
		     "line 3: option 209 is given twice", "a repeated option");
}

/* RFC 5071 gives 208 (magic) and 211 (reboot time) binary formats; pxelinux
 * since 3.x needs neither, so the policy refuses them rather than sending
 * their text (which would be malformed). */
Test(proxy_policy_parse, binary_pxelinux_options_are_refused)
{
	expect_error(SERVER "option 211 30\n", strlen(SERVER "option 211 30\n"),
		     "line 2: option: expected code 209 or 210 (pxelinux) and its text", "option 211");
	expect_error(SERVER "option 208 magic\n", strlen(SERVER "option 208 magic\n"),
		     "line 2: option: expected code 209 or 210 (pxelinux) and its text", "option 208");
}

/*
 * Every text of the policy is refused when it holds a control character,
 * the pxelinux options' too (a tab or an escape byte must not reach
 * pxelinux's config file name or path prefix).
 */
Test(proxy_policy_parse, option_text_refuses_control_characters_like_every_text)
{
	static const char *const texts[] = { SERVER "option 209 pxelinux.cfg/\tdefault\n",
					     SERVER "option 210 http://x/\x1b[2J\n", SERVER "option 209 a\x7f\n",
					     SERVER "option 210 a\rb\n" };

	for (size_t i = 0; i < COUNT(texts); i++) {
		char err[256];
		struct proxy_policy *p = parse_n(texts[i], strlen(texts[i]), err, sizeof(err));

		cr_expect(eq(ptr, (void *)p, NULL), "case %zu accepted", i);
		proxy_policy_free(p);
	}
}

/* ---- comments, blank lines, CRLF, lengths ----------------------------------- */

Test(proxy_policy_parse, comments_blank_lines_and_crlf)
{
	static const char text[] = "# compiled by stampede 0.1\r\n"
				   "\r\n"
				   "\n"
				   "server-ip 10.0.2.10\r\n"
				   "#boot-file bios commented.out\n"
				   "boot-file bios undionly.kpxe\r\n"
				   "menu Stampede\r\n"
				   "\r\n"
				   "boot-file efi-x64 ipxe.efi\r"; /* CR at the very end, no LF */
	struct proxy_policy *p = parse_ok(text);

	cr_assert(eq(u32, p->server_ip, ip("10.0.2.10")));
	cr_assert(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "undionly.kpxe"), "no CR kept");
	cr_assert(eq(str, p->menu_text, "Stampede"));
	cr_assert(eq(str, p->arch[PXE_ARCH_EFI_X64].boot_file, "ipxe.efi"));
	proxy_policy_free(p);
}

Test(proxy_policy_parse, line_numbers_count_comments_blank_lines_and_crlf)
{
	static const char crlf[] = "# one\r\n\r\nserver-ip 10.0.2.10\r\n\r\n# five\r\nfrobnicate yes\r\n";
	static const char lf[] = "\n\n\n\n\n\n\n\n\nserver-ip 10.0.2.10\nboot-file arm64 x";

	expect_error(crlf, strlen(crlf), "line 6: unknown key \"frobnicate\"", "CRLF");
	expect_error(lf, strlen(lf), "line 11: boot-file: unknown architecture \"arm64\"", "no final newline");
}

Test(proxy_policy_parse, only_len_bytes_are_read)
{
	static const char text[] = SERVER "boot-file bios a.0\nfrobnicate\n";
	struct guard g;
	char err[256];
	struct proxy_policy *p;
	size_t len = strlen(SERVER "boot-file bios a.0\n");
	const char *tail;

	/* The text ends at a PROT_NONE page, without a NUL: any read past len faults. */
	guard_open(&g);
	tail = (const char *)guard_tail(&g, text, len);
	p = proxy_policy_parse(tail, len, err, sizeof(err));
	cr_assert(not(eq(ptr, (void *)p, NULL)), "%s", err);
	cr_assert(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "a.0"));
	proxy_policy_free(p);

	/* Same, the last line without its newline. */
	tail = (const char *)guard_tail(&g, text, len - 1);
	p = proxy_policy_parse(tail, len - 1, err, sizeof(err));
	cr_assert(not(eq(ptr, (void *)p, NULL)), "%s", err);
	cr_assert(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "a.0"));
	proxy_policy_free(p);

	/* Every prefix: never a fault. Accepted: "server-ip 10.0.2.1" (itself a
	 * usable address) to "server-ip 10.0.2.10\n", then from "boot-file bios a"
	 * on; in between, an incomplete second line is an error. */
	for (size_t n = 0; n <= len; n++) {
		bool want = (n >= strlen("server-ip 10.0.2.1") && n <= strlen(SERVER)) ||
			    n >= strlen(SERVER "boot-file bios a");

		tail = (const char *)guard_tail(&g, text, n);
		p = proxy_policy_parse(tail, n, err, sizeof(err));
		cr_expect(eq(int, p != NULL, want), "prefix %zu (%s)", n, p ? "accepted" : err);
		proxy_policy_free(p);
	}
	guard_close(&g);
}

Test(proxy_policy_parse, line_length_limit_and_nul)
{
	char text[1200];
	struct proxy_policy *p;
	size_t n;

	/* 509 bytes is the longest line (a comment here: skipped). */
	n = (size_t)snprintf(text, sizeof(text), SERVER "#");
	memset(text + n, 'c', 508);
	n += 508;
	text[n++] = '\n';
	p = parse_n(text, n, (char[256]){ 0 }, 256);
	cr_assert(not(eq(ptr, (void *)p, NULL)), "a 509-byte line");
	proxy_policy_free(p);

	/* 510 bytes: refused (even a comment), with its line number. */
	n = (size_t)snprintf(text, sizeof(text), SERVER "#");
	memset(text + n, 'c', 509);
	n += 509;
	text[n++] = '\n';
	expect_error(text, n, "line 2: line too long or contains NUL", "510-byte line");
	/* The CR of a CRLF does not count. */
	n = (size_t)snprintf(text, sizeof(text), SERVER "#");
	memset(text + n, 'c', 508);
	n += 508;
	memcpy(text + n, "\r\n", 2);
	n += 2;
	p = parse_n(text, n, (char[256]){ 0 }, 256);
	cr_assert(not(eq(ptr, (void *)p, NULL)), "509 bytes + CRLF");
	proxy_policy_free(p);

	/* A NUL inside a line, even in a comment. */
	static const char nul[] = SERVER "menu a\0b\n";
	expect_error(nul, sizeof(nul) - 1, "line 2: line too long or contains NUL", "NUL in menu");
	static const char nul_comment[] = "# x\0y\n" SERVER;
	expect_error(nul_comment, sizeof(nul_comment) - 1, "line 1: line too long or contains NUL", "NUL in comment");
}

Test(proxy_policy_parse, error_is_truncated_to_err_len_and_terminated)
{
	char err[10];
	struct proxy_policy *p;

	memset(err, 0x55, sizeof(err));
	p = proxy_policy_parse(SERVER "unknown-key x", strlen(SERVER "unknown-key x"), err, sizeof(err));
	cr_assert(eq(ptr, (void *)p, NULL));
	cr_assert(eq(str, err, "line 2: u"));
	memset(err, 0x55, sizeof(err));
	p = proxy_policy_parse("", 0, err, 5);
	cr_assert(eq(ptr, (void *)p, NULL));
	cr_assert(eq(str, err, "serv"));
	cr_assert(eq(u8, (uint8_t)err[5], 0x55), "nothing past err_len");
}

/* ---- every error message --------------------------------------------------- */

struct error_case {
	const char *text;
	const char *err;
};

static const struct error_case error_cases[] = {
	/* server-ip */
	{ "", "server-ip is missing" },
	{ "# nothing but a comment\n\n", "server-ip is missing" },
	{ "boot-file bios undionly.kpxe\nscript-url http://x/\n", "server-ip is missing" },
	{ "server-ip 0.0.0.0", "line 1: server-ip: \"0.0.0.0\" is not a usable IPv4 address" },
	{ "server-ip 255.255.255.255", "line 1: server-ip: \"255.255.255.255\" is not a usable IPv4 address" },
	{ "server-ip 10.0.2", "line 1: server-ip: \"10.0.2\" is not a usable IPv4 address" },
	{ "server-ip 10.0.2.256", "line 1: server-ip: \"10.0.2.256\" is not a usable IPv4 address" },
	{ "server-ip ::1", "line 1: server-ip: \"::1\" is not a usable IPv4 address" },
	{ "server-ip", "line 1: server-ip: \"\" is not a usable IPv4 address" },
	{ "server-ip 10.0.2.10 ", "line 1: server-ip: \"10.0.2.10 \" is not a usable IPv4 address" },
	/* unknown keys, quoted and cut at 40 bytes */
	{ SERVER "frobnicate yes", "line 2: unknown key \"frobnicate\"" },
	{ SERVER "Server-IP 10.0.2.10", "line 2: unknown key \"Server-IP\"" },
	{ SERVER "\tmenu x", "line 2: unknown key \"\tmenu\"" },
	{ SERVER " menu x", "line 2: unknown key \"\"" },
	{ SERVER "end", "line 2: unknown key \"end\"" },
	{ SERVER "a-key-name-that-is-much-longer-than-forty-bytes x",
	  "line 2: unknown key \"a-key-name-that-is-much-longer-than-fort\"" },
	/* MAC lists */
	{ SERVER "allow-mac 52:54:00:12:34", "line 2: \"52:54:00:12:34\" is not a MAC address (expected 52:54:00:12:34:56)" },
	{ SERVER "deny-mac 52:54:00:12:34:5g", "line 2: \"52:54:00:12:34:5g\" is not a MAC address (expected 52:54:00:12:34:56)" },
	{ SERVER "select-mac 52.54.00.12.34.56",
	  "line 2: \"52.54.00.12.34.56\" is not a MAC address (expected 52:54:00:12:34:56)" },
	{ SERVER "allow-mac 525400123456", "line 2: \"525400123456\" is not a MAC address (expected 52:54:00:12:34:56)" },
	{ SERVER "allow-mac 52:54:00:12:34:56:78",
	  "line 2: \"52:54:00:12:34:56:78\" is not a MAC address (expected 52:54:00:12:34:56)" },
	{ SERVER "allow-mac", "line 2: \"\" is not a MAC address (expected 52:54:00:12:34:56)" },
	/* subnets */
	{ SERVER "allow-subnet 10.1.0.0", "line 2: \"10.1.0.0\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "allow-subnet 10.1.0.0/33", "line 2: \"10.1.0.0/33\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet 10.1.0.0/-1", "line 2: \"10.1.0.0/-1\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet 10.1.0.0/", "line 2: \"10.1.0.0/\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet 10.1.0.0/16x", "line 2: \"10.1.0.0/16x\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet 10.1.0/16", "line 2: \"10.1.0/16\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet lab/16", "line 2: \"lab/16\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet 100.100.100.1000/8", "line 2: \"100.100.100.1000/8\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet /8", "line 2: \"/8\" is not a subnet (expected 10.1.0.0/16)" },
	{ SERVER "deny-subnet 10.0.0.0/99999999999999999999",
	  "line 2: \"10.0.0.0/99999999999999999999\" is not a subnet (expected 10.1.0.0/16)" },
	/* UUIDs */
	{ SERVER "select-uuid 8a1f3c2e-6b4d-4e5f-9a0b", "line 2: select-uuid: \"8a1f3c2e-6b4d-4e5f-9a0b\" is not a UUID" },
	{ SERVER "select-uuid 8a1f3c2e6b4d4e5f9a0b1c2d3e4f5a6b",
	  "line 2: select-uuid: \"8a1f3c2e6b4d4e5f9a0b1c2d3e4f5a6b\" is not a UUID" },
	/* architectures */
	{ SERVER "boot-file arm64 snp.efi", "line 2: boot-file: unknown architecture \"arm64\"" },
	{ SERVER "boot-file unknown x", "line 2: boot-file: unknown architecture \"unknown\"" },
	{ SERVER "boot-file EFI-X64 ipxe.efi", "line 2: boot-file: unknown architecture \"EFI-X64\"" },
	{ SERVER "boot-server x86", "line 2: boot-server: unknown architecture \"x86\"" },
	{ SERVER "select-arch", "line 2: select-arch: unknown architecture \"\"" },
	{ SERVER "boot-file bios", "line 2: boot-file bios: no file name" },
	{ SERVER "boot-file bios ", "line 2: boot-file bios: no file name" },
	{ SERVER "boot-server efi-x64 now", "line 2: boot-server efi-x64: unexpected \"now\"" },
	{ SERVER "select-arch bios efi-x64", "line 2: select-arch bios: unexpected \"efi-x64\"" },
	/* control characters in texts */
	{ SERVER "menu Install\tDebian", "line 2: menu contains a control character" },
	{ SERVER "script-url http://x/\x01", "line 2: script-url contains a control character" },
	{ SERVER "boot-file bios a\x1b[2Jb", "line 2: boot-file contains a control character" },
	{ SERVER "prompt 5 Press\x7f", "line 2: prompt contains a control character" },
	{ SERVER "menu a\rb", "line 2: menu contains a control character" },
	/* prompt */
	{ SERVER "prompt 256 x", "line 2: prompt: the timeout must be 0 to 255 seconds" },
	{ SERVER "prompt -1 x", "line 2: prompt: the timeout must be 0 to 255 seconds" },
	{ SERVER "prompt soon x", "line 2: prompt: the timeout must be 0 to 255 seconds" },
	{ SERVER "prompt 5s x", "line 2: prompt: the timeout must be 0 to 255 seconds" },
	{ SERVER "prompt", "line 2: prompt: the timeout must be 0 to 255 seconds" },
	/* option */
	{ SERVER "option 207 x", "line 2: option: expected code 209 or 210 (pxelinux) and its text" },
	{ SERVER "option 212 x", "line 2: option: expected code 209 or 210 (pxelinux) and its text" },
	{ SERVER "option 67 ipxe.efi", "line 2: option: expected code 209 or 210 (pxelinux) and its text" },
	{ SERVER "option pxe x", "line 2: option: expected code 209 or 210 (pxelinux) and its text" },
	{ SERVER "option 209", "line 2: option: expected code 209 or 210 (pxelinux) and its text" },
	{ SERVER "option", "line 2: option: expected code 209 or 210 (pxelinux) and its text" },
	{ SERVER "option 209 ", "line 2: option 209: the text must be 1 to 255 bytes" },
	/* unmatched */
	{ SERVER "unmatched maybe", "line 2: unmatched: expected answer or ignore" },
	{ SERVER "unmatched", "line 2: unmatched: expected answer or ignore" },
	{ SERVER "unmatched Answer", "line 2: unmatched: expected answer or ignore" },
	/* the first error stops the parse: the line number is the first bad one */
	{ "# header\n" SERVER "menu ok\nbad-key 1\nworse-key 2\n", "line 4: unknown key \"bad-key\"" },
};

Test(proxy_policy_parse, every_error_message_with_its_line)
{
	for (size_t i = 0; i < COUNT(error_cases); i++)
		expect_error(error_cases[i].text, strlen(error_cases[i].text), error_cases[i].err, error_cases[i].text);
}

Test(proxy_policy_parse, texts_over_255_bytes_are_refused_with_their_length)
{
	static const struct {
		const char *prefix, *err;
	} cases[] = {
		{ "script-url ", "line 2: script-url is 256 bytes long; a DHCP option holds at most 255" },
		{ "boot-file efi-x64 ", "line 2: boot-file is 256 bytes long; a DHCP option holds at most 255" },
		{ "menu ", "line 2: menu is 256 bytes long; a DHCP option holds at most 255" },
		{ "prompt 3 ", "line 2: prompt is 256 bytes long; a DHCP option holds at most 255" },
		{ "option 210 ", "line 2: option 210 is 256 bytes long; a DHCP option holds at most 255" },
	};
	char t256[257], text[1024];

	memset(t256, 'x', 256);
	t256[256] = '\0';
	for (size_t i = 0; i < COUNT(cases); i++) {
		snprintf(text, sizeof(text), SERVER "%s%s\n", cases[i].prefix, t256);
		expect_error(text, strlen(text), cases[i].err, cases[i].prefix);
	}
	snprintf(text, sizeof(text), SERVER "menu %s%s\n", t256, "0123456789");
	expect_error(text, strlen(text), "line 2: menu is 266 bytes long; a DHCP option holds at most 255", "266");
}

/* ---- MAC and UUID parsers ----------------------------------------------------- */

Test(policy_parse_mac, colons_dashes_and_case)
{
	static const struct {
		const char *s;
		uint8_t mac[6];
	} ok[] = {
		{ "52:54:00:12:34:56", { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } },
		{ "52-54-00-12-34-56", { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } },
		{ "AA:bb:Cc:dD:ee:FF", { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
		{ "00:00:00:00:00:00", { 0 } },
		{ "FF-FF-FF-FF-FF-FF", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	};
	static const char *const bad[] = {
		"",
		"52:54:00:12:34",
		"52:54:00:12:34:5",
		"52:54:00:12:34:56:",
		"52:54:00:12:34:567",
		"52:54:00:12:34:5g",
		"52.54.00.12.34.56",
		"525400123456",
		" 52:54:00:12:34:56",
		"52:54:00:12:34:56 ",
		"5:254:00:12:34:56",
		"52::54:00:12:34:56",
		"0x52:54:00:12:34:56",
	};

	for (size_t i = 0; i < COUNT(ok); i++) {
		uint8_t mac[6];

		cr_expect(eq(int, policy_parse_mac(ok[i].s, mac), 0), "%s", ok[i].s);
		cr_expect(eq(u8[6], mac, (uint8_t *)ok[i].mac), "%s", ok[i].s);
	}
	for (size_t i = 0; i < COUNT(bad); i++) {
		uint8_t mac[6];

		cr_expect(eq(int, policy_parse_mac(bad[i], mac), -EINVAL), "\"%s\"", bad[i]);
	}
}

/* SMBIOS 2.6 §7.2.1 / RFC 4578 §2.3: the printed form's first three fields are
 * little-endian on the wire. The proof is what real firmware sent for the UUID
 * QEMU was given. */
Test(policy_parse_uuid, printed_form_becomes_the_wire_bytes_firmware_sends)
{
	uint8_t u[16];

	cr_assert(eq(int, policy_parse_uuid("8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b", u), 0));
	cr_assert(eq(u8[16], u, (uint8_t *)ipxe_capture_guid), "SeaBIOS + iPXE capture");
	cr_assert(eq(int, policy_parse_uuid("5D3C2B1A-0F9E-4D8C-B7A6-958473625140", u), 0));
	cr_assert(eq(u8[16], u, (uint8_t *)ovmf_capture_guid), "OVMF capture, printed in upper case");
	cr_assert(eq(int, policy_parse_uuid("00112233-4455-6677-8899-aabbccddeeff", u), 0));
	cr_assert(eq(u8[16], u,
		     ((uint8_t[]){ 0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
				   0xee, 0xff })));
}

Test(policy_parse_uuid, malformed_uuids_are_refused)
{
	static const char *const bad[] = {
		"",
		"8a1f3c2e-6b4d-4e5f-9a0b",
		"8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6",
		"8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b0",
		"8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b-",
		"8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b ",
		"8a1f3c2e6b4d4e5f9a0b1c2d3e4f5a6b",
		"{8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b}",
		"8a1f3c2e-6b4d-4e5f-9a0b1c2d-3e4f5a6b",
		"8a1f3c2-e6b4d-4e5f-9a0b-1c2d3e4f5a6b",
		"8a1f3c2g-6b4d-4e5f-9a0b-1c2d3e4f5a6b",
		"8a1f3c2e:6b4d:4e5f:9a0b:1c2d3e4f5a6b",
		"urn:uuid:8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b",
	};

	for (size_t i = 0; i < COUNT(bad); i++) {
		uint8_t u[16];

		cr_expect(eq(int, policy_parse_uuid(bad[i], u), -EINVAL), "\"%s\"", bad[i]);
	}
}

/* ---- lists: sorted, looked up ------------------------------------------------- */

/* A bijection on 32 bits (odd multiplier): distinct MACs in a scrambled order. */
static void nth_mac(uint32_t i, uint8_t mac[6])
{
	uint32_t x = i * 2654435761u;

	mac[0] = 0x02, mac[1] = 0x00;
	mac[2] = (uint8_t)(x >> 24), mac[3] = (uint8_t)(x >> 16), mac[4] = (uint8_t)(x >> 8), mac[5] = (uint8_t)x;
}

Test(policy_lists, many_macs_in_any_spelling_are_sorted_and_found)
{
	enum { N = 3000 };
	static const char *const fmt[] = { "%02x:%02x:%02x:%02x:%02x:%02x", "%02X-%02X-%02X-%02X-%02X-%02X",
					   "%02X:%02x:%02X:%02x:%02X:%02x" };
	char *text = malloc(N * 40 + 64);
	size_t n;
	struct proxy_policy *p;

	cr_assert(not(eq(ptr, text, NULL)));
	n = (size_t)sprintf(text, SERVER);
	for (uint32_t i = 0; i < N; i++) {
		uint8_t m[6];

		nth_mac(i, m);
		n += (size_t)sprintf(text + n, "deny-mac ");
		n += (size_t)sprintf(text + n, fmt[i % 3], m[0], m[1], m[2], m[3], m[4], m[5]);
		text[n++] = '\n';
	}
	text[n] = '\0';
	p = parse_ok(text);
	free(text);

	cr_assert(eq(sz, p->deny_macs.n, N));
	cr_assert(eq(sz, p->allow_macs.n + p->select_macs.n, 0), "only the list named");
	for (size_t i = 1; i < N; i++)
		cr_assert(lt(u64, p->deny_macs.macs[i - 1], p->deny_macs.macs[i]), "sorted at %zu", i);
	for (uint32_t i = 0; i < N; i++) {
		uint8_t m[6];

		nth_mac(i, m);
		cr_assert(policy_mac_listed(&p->deny_macs, m), "mac %u", i);
		nth_mac(i + N, m);
		cr_assert(not(policy_mac_listed(&p->deny_macs, m)), "mac %u not listed", i + N);
	}
	cr_assert(not(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0 })), "empty list");
	proxy_policy_free(p);
}

Test(policy_lists, mac_lookup_is_exact_on_all_48_bits)
{
	struct proxy_policy *p = parse_ok(SERVER "allow-mac 52:54:00:12:34:56\nallow-mac 00:00:00:00:00:01\n"
						 "allow-mac ff:ff:ff:ff:ff:fe\n");

	cr_assert(eq(sz, p->allow_macs.n, 3));
	cr_assert(eq(u64, p->allow_macs.macs[0], 0x000000000001ull));
	cr_assert(eq(u64, p->allow_macs.macs[1], 0x525400123456ull));
	cr_assert(eq(u64, p->allow_macs.macs[2], 0xfffffffffffeull));
	cr_assert(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }));
	cr_assert(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0, 0, 0, 0, 0, 1 }));
	cr_assert(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }));
	cr_assert(not(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 })));
	cr_assert(not(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0x53, 0x54, 0x00, 0x12, 0x34, 0x56 })));
	cr_assert(not(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0, 0, 0, 0, 0, 0 })));
	cr_assert(not(policy_mac_listed(&p->allow_macs, (uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })));
	proxy_policy_free(p);
}

Test(policy_lists, uuids_are_sorted_in_wire_order_and_found)
{
	struct proxy_policy *p = parse_ok(SERVER "select-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\n"
						 "select-uuid 5d3c2b1a-0f9e-4d8c-b7a6-958473625140\n"
						 "select-uuid 00000000-0000-0000-0000-0000000000ff\n");
	uint8_t swapped[16];

	cr_assert(eq(sz, p->select_uuids.n, 3));
	for (size_t i = 1; i < 3; i++)
		cr_assert(lt(int, memcmp(p->select_uuids.uuids[i - 1], p->select_uuids.uuids[i], 16), 0));
	cr_assert(eq(u8[16], p->select_uuids.uuids[1], (uint8_t *)ovmf_capture_guid), "0x1a... before 0x2e...");
	cr_assert(eq(u8[16], p->select_uuids.uuids[2], (uint8_t *)ipxe_capture_guid));
	cr_assert(policy_uuid_listed(&p->select_uuids, ipxe_capture_guid));
	cr_assert(policy_uuid_listed(&p->select_uuids, ovmf_capture_guid));
	/* The printed byte order on the wire is a different machine. */
	cr_assert(eq(int, policy_parse_uuid("2e3c1f8a-4d6b-5f4e-9a0b-1c2d3e4f5a6b", swapped), 0));
	cr_assert(not(policy_uuid_listed(&p->select_uuids, swapped)));
	cr_assert(not(policy_uuid_listed(&(struct policy_uuid_list){ 0 }, ipxe_capture_guid)), "empty list");
	proxy_policy_free(p);
}

Test(policy_lists, subnets_mask_host_bits_and_match_from_0_to_32)
{
	struct proxy_policy *p = parse_ok(SERVER "allow-subnet 10.1.2.3/16\n"
						 "deny-subnet 192.168.7.9/32\n"
						 "deny-subnet 172.16.0.1/31\n");

	cr_assert(eq(u32, p->allow_subnets.subnets[0].net, 0x0a010000), "host bits cleared");
	cr_assert(eq(u32, p->allow_subnets.subnets[0].mask, 0xffff0000));
	cr_assert(policy_subnet_listed(&p->allow_subnets, ip("10.1.0.0")));
	cr_assert(policy_subnet_listed(&p->allow_subnets, ip("10.1.255.255")));
	cr_assert(policy_subnet_listed(&p->allow_subnets, ip("10.1.2.1")));
	cr_assert(not(policy_subnet_listed(&p->allow_subnets, ip("10.2.0.1"))));
	cr_assert(not(policy_subnet_listed(&p->allow_subnets, ip("10.0.255.255"))));
	cr_assert(not(policy_subnet_listed(&p->allow_subnets, ip("1.10.2.1"))), "byte order");

	cr_assert(eq(sz, p->deny_subnets.n, 2));
	cr_assert(eq(u32, p->deny_subnets.subnets[0].net, 0xc0a80709));
	cr_assert(eq(u32, p->deny_subnets.subnets[0].mask, 0xffffffff));
	cr_assert(eq(u32, p->deny_subnets.subnets[1].net, 0xac100000));
	cr_assert(eq(u32, p->deny_subnets.subnets[1].mask, 0xfffffffe));
	cr_assert(policy_subnet_listed(&p->deny_subnets, ip("192.168.7.9")));
	cr_assert(not(policy_subnet_listed(&p->deny_subnets, ip("192.168.7.8"))));
	cr_assert(not(policy_subnet_listed(&p->deny_subnets, ip("192.168.7.10"))));
	cr_assert(policy_subnet_listed(&p->deny_subnets, ip("172.16.0.0")));
	cr_assert(policy_subnet_listed(&p->deny_subnets, ip("172.16.0.1")));
	cr_assert(not(policy_subnet_listed(&p->deny_subnets, ip("172.16.0.2"))));
	proxy_policy_free(p);

	p = parse_ok(SERVER "allow-subnet 10.9.8.7/0\n");
	cr_assert(eq(u32, p->allow_subnets.subnets[0].net, 0));
	cr_assert(eq(u32, p->allow_subnets.subnets[0].mask, 0));
	cr_assert(policy_subnet_listed(&p->allow_subnets, ip("0.0.0.0")), "/0 matches everything");
	cr_assert(policy_subnet_listed(&p->allow_subnets, ip("255.255.255.255")));
	cr_assert(policy_subnet_listed(&p->allow_subnets, ip("192.0.2.1")));
	cr_assert(not(policy_subnet_listed(&p->deny_subnets, ip("192.0.2.1"))), "empty list matches nothing");
	proxy_policy_free(p);
}

/* ---- the list limit ---------------------------------------------------------- */

static char *mac_list_text(const char *key, size_t n, size_t *len)
{
	char *text = malloc(n * 32 + 64);
	size_t pos;

	cr_assert(not(eq(ptr, text, NULL)));
	pos = (size_t)sprintf(text, SERVER);
	for (size_t i = 0; i < n; i++) {
		uint8_t m[6];

		nth_mac((uint32_t)i, m);
		pos += (size_t)sprintf(text + pos, "%s %02x:%02x:%02x:%02x:%02x:%02x\n", key, m[0], m[1], m[2], m[3],
				       m[4], m[5]);
	}
	*len = pos;
	return text;
}

Test(proxy_policy_parse, list_limit_is_65536_entries_per_list)
{
	size_t len;
	char *text = mac_list_text("allow-mac", POLICY_MAX_LIST, &len);
	char err[256];
	struct proxy_policy *p = parse_n(text, len, err, sizeof(err));
	uint8_t m[6];

	cr_assert(not(eq(ptr, (void *)p, NULL)), "%s", err);
	cr_assert(eq(sz, p->allow_macs.n, POLICY_MAX_LIST));
	nth_mac(POLICY_MAX_LIST - 1, m);
	cr_assert(policy_mac_listed(&p->allow_macs, m));
	proxy_policy_free(p);
	free(text);

	/* The limit is per list: a full allow list and one deny entry. */
	text = mac_list_text("allow-mac", POLICY_MAX_LIST, &len);
	text = realloc(text, len + 64);
	len += (size_t)sprintf(text + len, "deny-mac 52:54:00:12:34:56\n");
	p = parse_n(text, len, err, sizeof(err));
	cr_assert(not(eq(ptr, (void *)p, NULL)), "%s", err);
	cr_assert(eq(sz, p->deny_macs.n, 1));
	proxy_policy_free(p);
	free(text);

	/* 65537 entries: refused on that line (server-ip is line 1). */
	text = mac_list_text("select-mac", POLICY_MAX_LIST + 1, &len);
	expect_error(text, len, "line 65538: more than 65536 entries in one list", "65537 MACs");
	free(text);
}

/* ---- no leak ----------------------------------------------------------------- */

/* Bytes in use by malloc (heap and mmapped chunks). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Parses text again and again: once warm, the heap must not grow. */
static void expect_no_growth(const char *text, const char *what)
{
	char err[256];
	size_t before, after;
	bool failed_differently = false;
	bool accepted = false;

	for (int i = 0; i < 3; i++) { /* warm-up: tcache, arenas */
		struct proxy_policy *p = proxy_policy_parse(text, strlen(text), err, sizeof(err));

		accepted = p != NULL;
		proxy_policy_free(p);
	}
	before = heap_in_use();
	for (int i = 0; i < 200; i++) {
		struct proxy_policy *p = proxy_policy_parse(text, strlen(text), err, sizeof(err));

		failed_differently |= (p != NULL) != accepted;
		proxy_policy_free(p);
	}
	after = heap_in_use();
	cr_expect(not(failed_differently), "%s", what);
	cr_expect(eq(sz, after, before), "%s: %zu bytes more in use after 200 parses", what, after - before);
}

Test(proxy_policy_parse, nothing_leaks_on_success_or_on_any_error)
{
	char *big;
	size_t len;

	expect_no_growth(SERVER "boot-file bios undionly.kpxe\n", "minimal");
	expect_no_growth(SERVER "allow-mac 52:54:00:12:34:56\ndeny-mac 52:54:00:12:34:57\nselect-mac 52:54:00:12:34:58\n"
				"allow-subnet 10.0.0.0/8\ndeny-subnet 10.1.0.0/16\n"
				"select-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\n",
			 "every list");
	expect_no_growth("allow-mac 52:54:00:12:34:56\ndeny-mac 52:54:00:12:34:57\nselect-mac 52:54:00:12:34:58\n"
			 "allow-subnet 10.0.0.0/8\ndeny-subnet 10.1.0.0/16\n"
			 "select-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\n",
			 "every list, then server-ip missing");
	expect_no_growth(SERVER "allow-mac 52:54:00:12:34:56\ndeny-subnet 10.1.0.0/16\n"
				"select-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\nallow-mac nope\n",
			 "lists, then a bad MAC");
	expect_no_growth(SERVER "select-uuid 8a1f3c2e-6b4d-4e5f-9a0b-1c2d3e4f5a6b\nallow-subnet 10.0.0.0/33\n",
			 "a list, then a bad subnet");

	/* Lists grown past several doublings, then an error. */
	big = mac_list_text("deny-mac", 1000, &len);
	big = realloc(big, len + 64);
	strcpy(big + len, "frobnicate\n");
	expect_no_growth(big, "1000 MACs, then an unknown key");
	big[len] = '\0';
	expect_no_growth(big, "1000 MACs");
	free(big);
}
