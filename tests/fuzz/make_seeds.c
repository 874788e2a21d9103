/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the fuzz targets' seed corpora: make_seeds OUT_DIR creates
 * OUT_DIR/<target>/ for every target and fills it. Nothing is committed but
 * this program: the seeds come from the repository's own material.
 *
 *   net, dhcp       every frame of the captures in tests/unit/captures/ (real firmware
 *                   DHCP under QEMU: SeaBIOS + iPXE, OVMF's EDK2 PXE, a relayed
 *                   client), and the UDP payload of those to 67, 68 and 4011
 *   tftp_packet     RRQs as firmware and the usual clients send them (options
 *                   blksize, tsize, timeout, windowsize; netascii; Windows
 *                   names), a WRQ, ACK, DATA, ERROR, OACK
 *   tftp_server     whole transfers in tftp_script.h's format
 *   proxy_policy    the files of configs/ compiled by control/policy_compile.c
 *   config_message  the files of configs/ as control/stampede.c sends them, and a
 *                   few broken messages
 *   config          the files of configs/ as they are, and the README's
 *                   example with every key
 *   http            request heads: boot files, /boot.ipxe with the query
 *                   iPXE sends, ranges, traversal
 * and OUT_DIR/<target>.dict, libFuzzer dictionaries of each one's tokens.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "dhcp.h"
#include "net.h"
#include "pcapng.h"
#include "policy_compile.h"
#include "tftp_packet.h"
#include "tftp_script.h"

static const char *out_dir;
static unsigned written;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("make_seeds: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void seed(const char *target, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fail("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fail("cannot write %s: %s", path, strerror(errno));
	written++;
}

/* OUT_DIR/TARGET.dict in libFuzzer's format: one quoted token a line, the
 * tokens written as given (so "\\x00" is a NUL byte). */
static void dictionary(const char *target, const char *const *tokens, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dict", out_dir, target);
	if (!(f = fopen(path, "w")))
		fail("cannot write %s: %s", path, strerror(errno));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\"%s\"\n", tokens[i]);
	if (fclose(f) != 0)
		fail("cannot write %s: %s", path, strerror(errno));
}

#define DICTIONARY(target, ...)                                                          \
	do {                                                                              \
		static const char *const tokens_[] = { __VA_ARGS__ };                     \
		dictionary(target, tokens_, sizeof(tokens_) / sizeof(tokens_[0]));        \
	} while (0)

static void seed_text(const char *target, const char *name, const char *text)
{
	seed(target, name, text, strlen(text));
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n = 0;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		fail("cannot read %s: %s", path, strerror(errno));
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail("cannot read %s", path);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- net, dhcp: the captures ------------------------------------------------ */

static void captures(void)
{
	glob_t g;

	if (glob(SOURCE_ROOT "/tests/unit/captures/*.pcapng", 0, NULL, &g) != 0)
		fail("no captures in " SOURCE_ROOT "/tests/unit/captures");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len;
		uint8_t *file = read_file(g.gl_pathv[i], &len);
		struct pcapng_reader r;
		struct pcapng_packet p;
		unsigned frame = 0;
		int ret;

		pcapng_init(&r, file, len);
		while ((ret = pcapng_next(&r, &p)) == 1) {
			struct net_udp_datagram d;
			char name[128];

			frame++;
			snprintf(name, sizeof(name), "%s-%02u", base_name(g.gl_pathv[i]), frame);
			seed("net", name, p.data, p.captured_len);
			/* Unchecked: the sender's kernel left some UDP checksums to offload. */
			if (net_parse_udp_unchecked(p.data, p.captured_len, &d) == NET_OK &&
			    (d.dst.port == DHCP_SERVER_PORT || d.dst.port == DHCP_CLIENT_PORT ||
			     d.dst.port == PXE_BOOT_SERVER_PORT))
				seed("dhcp", name, d.payload, d.payload_len);
		}
		if (ret < 0)
			fail("%s: %s", g.gl_pathv[i], r.error);
		free(file);
	}
	globfree(&g);
}

/* ---- tftp_packet --------------------------------------------------------------- */

/* opcode, then strings (each written with its NUL) up to NULL. */
static size_t tftp_strings(uint8_t *buf, unsigned opcode, ...)
{
	size_t len = 2;
	const char *s;
	va_list ap;

	buf[0] = (uint8_t)(opcode >> 8);
	buf[1] = (uint8_t)opcode;
	va_start(ap, opcode);
	while ((s = va_arg(ap, const char *))) {
		memcpy(buf + len, s, strlen(s) + 1);
		len += strlen(s) + 1;
	}
	va_end(ap);
	return len;
}

static size_t tftp_numbered(uint8_t *buf, uint16_t opcode, uint16_t number, const char *text)
{
	buf[0] = (uint8_t)(opcode >> 8);
	buf[1] = (uint8_t)opcode;
	buf[2] = (uint8_t)(number >> 8);
	buf[3] = (uint8_t)number;
	if (!text)
		return 4;
	memcpy(buf + 4, text, strlen(text) + 1);
	return 4 + strlen(text) + 1;
}

static void tftp_packets(void)
{
	uint8_t b[512];

	/* EDK2 and iPXE ask for tsize first, then the file with blksize. */
	seed("tftp_packet", "rrq-edk2-tsize", b, tftp_strings(b, TFTP_RRQ, "ipxe.efi", "octet", "tsize", "0", NULL));
	seed("tftp_packet", "rrq-edk2-blksize", b,
	     tftp_strings(b, TFTP_RRQ, "ipxe.efi", "octet", "blksize", "1468", NULL));
	seed("tftp_packet", "rrq-pxe-rom", b,
	     tftp_strings(b, TFTP_RRQ, "undionly.kpxe", "octet", "tsize", "0", "blksize", "1432", NULL));
	seed("tftp_packet", "rrq-atftp-window", b,
	     tftp_strings(b, TFTP_RRQ, "boot/grub/grub.cfg", "octet", "blksize", "1468", "windowsize", "16",
			  "timeout", "1", "tsize", "0", NULL));
	seed("tftp_packet", "rrq-plain", b, tftp_strings(b, TFTP_RRQ, "pxelinux.0", "octet", NULL));
	seed("tftp_packet", "rrq-netascii", b, tftp_strings(b, TFTP_RRQ, "pxelinux.cfg/default", "netascii", NULL));
	seed("tftp_packet", "rrq-windows", b, tftp_strings(b, TFTP_RRQ, "\\Boot\\BCD", "octet", "blksize", "1456", NULL));
	seed("tftp_packet", "rrq-traversal", b, tftp_strings(b, TFTP_RRQ, "../../etc/passwd", "octet", NULL));
	seed("tftp_packet", "rrq-unknown-option", b,
	     tftp_strings(b, TFTP_RRQ, "ipxe.efi", "OCTET", "multicast", "", "rollover", "0", NULL));
	seed("tftp_packet", "wrq", b, tftp_strings(b, TFTP_WRQ, "upload.bin", "octet", NULL));
	seed("tftp_packet", "ack", b, tftp_numbered(b, TFTP_ACK, 1, NULL));
	seed("tftp_packet", "error", b, tftp_numbered(b, TFTP_ERROR, TFTP_ERR_OPTION_REFUSED, "option refused"));
	seed("tftp_packet", "data", b, tftp_numbered(b, TFTP_DATA, 7, "abc"));
	seed("tftp_packet", "oack", b, tftp_strings(b, TFTP_OACK, "blksize", "1468", "tsize", "5000", NULL));
}

/* ---- tftp_server: scripts ------------------------------------------------------ */

struct script {
	uint8_t buf[4096];
	size_t len;
};

static void put(struct script *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf))
		fail("a tftp_server seed is too long");
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put_u8(struct script *s, uint8_t v)
{
	put(s, &v, 1);
}

static void send_pkt(struct script *s, uint8_t client, uint8_t to, const uint8_t *payload, size_t len)
{
	put_u8(s, TFTP_SCRIPT_DATAGRAM);
	put_u8(s, client);
	put_u8(s, to);
	put_u8(s, (uint8_t)(len >> 8));
	put_u8(s, (uint8_t)len);
	put(s, payload, len);
}

static void ack(struct script *s, uint8_t client, uint8_t port, uint16_t block)
{
	uint8_t b[4];

	send_pkt(s, client, port, b, tftp_numbered(b, TFTP_ACK, block, NULL));
}

static void wait_ms(struct script *s, uint16_t ms)
{
	put_u8(s, TFTP_SCRIPT_TIME);
	put_u8(s, (uint8_t)(ms >> 8));
	put_u8(s, (uint8_t)ms);
}

static void tftp_scripts(void)
{
	struct script s;
	uint8_t b[512];

	/* Windows of 16 at blksize 1468: OACK, ACK 0, then ipxe.efi's 4 blocks. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x22);
	send_pkt(&s, 0, 0, b, tftp_strings(b, TFTP_RRQ, "ipxe.efi", "octet", "blksize", "1468", "tsize", "0",
					   "windowsize", "16", NULL));
	ack(&s, 0, 1, 0);
	ack(&s, 0, 1, 4);
	seed("tftp_server", "window", s.buf, s.len);

	/* Lock-step netascii, no options. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x00);
	send_pkt(&s, 2, 0, b, tftp_strings(b, TFTP_RRQ, "text.txt", "netascii", NULL));
	ack(&s, 2, 1, 1);
	ack(&s, 2, 1, 2);
	seed("tftp_server", "netascii", s.buf, s.len);

	/* A lost ACK, a duplicate, a stray one, a timeout; a last block that is empty. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x24);
	send_pkt(&s, 0, 0, b, tftp_strings(b, TFTP_RRQ, "undionly.kpxe", "octet", NULL));
	wait_ms(&s, 1100);
	ack(&s, 0, 1, 1);
	ack(&s, 0, 1, 1);
	ack(&s, 0, 1, 3);
	wait_ms(&s, 2500);
	ack(&s, 0, 1, 2);
	ack(&s, 0, 1, 3);
	seed("tftp_server", "loss", s.buf, s.len);

	/* A retransmitted RRQ, then the client gives up with an error. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x01);
	send_pkt(&s, 1, 0, b, tftp_strings(b, TFTP_RRQ, "ipxe.efi", "octet", "blksize", "512", NULL));
	send_pkt(&s, 1, 0, b, tftp_strings(b, TFTP_RRQ, "ipxe.efi", "octet", "blksize", "512", NULL));
	ack(&s, 1, 1, 0);
	send_pkt(&s, 1, 1, b, tftp_numbered(b, TFTP_ERROR, TFTP_ERR_UNDEFINED, "cancelled"));
	seed("tftp_server", "abort", s.buf, s.len);

	/* The limits: two per address, four in all; strangers; 0.0.0.0. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x13);
	for (uint8_t c = 0; c < TFTP_SCRIPT_CLIENTS; c++)
		send_pkt(&s, c, 0, b, tftp_strings(b, TFTP_RRQ, "big.img", "octet", NULL));
	send_pkt(&s, 0, 0, b, tftp_strings(b, TFTP_RRQ, "empty", "octet", "tsize", "0", NULL));
	send_pkt(&s, 2, 0, b, tftp_strings(b, TFTP_RRQ, "../etc/passwd", "octet", NULL));
	send_pkt(&s, 2, 0, b, tftp_strings(b, TFTP_WRQ, "up.bin", "octet", NULL));
	ack(&s, 2, 1, 1);
	ack(&s, 0, 4, 1);
	seed("tftp_server", "limits", s.buf, s.len);

	/* A reload mid-transfer, buffers running out, adaptive timeouts. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x03);
	send_pkt(&s, 0, 0, b, tftp_strings(b, TFTP_RRQ, "big.img", "octet", "blksize", "1468", "windowsize", "16",
					   NULL));
	ack(&s, 0, 1, 0);
	put_u8(&s, TFTP_SCRIPT_RELOAD);
	ack(&s, 0, 1, 16);
	put_u8(&s, TFTP_SCRIPT_BUFFERS);
	put_u8(&s, 5);
	ack(&s, 0, 1, 32);
	wait_ms(&s, 300);
	ack(&s, 0, 1, 40);
	seed("tftp_server", "reload", s.buf, s.len);

	/* A table of 2: a third request evicts the first transfer (in order:
	 * ports 1, 2, then 3), whose client's late ACK revives it on port 1. */
	s = (struct script){ .len = 0 };
	put_u8(&s, 0x80);
	send_pkt(&s, 0, 0, b, tftp_strings(b, TFTP_RRQ, "ipxe.efi", "octet", "blksize", "1468", NULL));
	send_pkt(&s, 2, 0, b, tftp_strings(b, TFTP_RRQ, "undionly.kpxe", "octet", NULL));
	send_pkt(&s, 1, 0, b, tftp_strings(b, TFTP_RRQ, "empty", "octet", NULL));
	ack(&s, 0, 1, 0);
	ack(&s, 0, 1, 4);
	seed("tftp_server", "evict-revive", s.buf, s.len);
}

/* ---- configs: as they are, compiled, and as the dataplane's first message ---- */

/* The README's example configuration, the one that shows every key, as a
 * seed; its keys ("name:") and values that have meant trouble as the
 * dictionary. */
static void readme_example(void)
{
	static const char *const values[] = { "0.0.0.0", "255.255.255.255", "${mac}", "$${net0/mac}", "$$",
					      "#!ipxe", "#!gpxe", "http://", "|\\x0a", "- ", "{", "}", "[", "]",
					      "&a", "*a", "!!str ", "---\\x0a", "\\x0a  " };
	const char *tokens[256];
	char keys[256][40];
	size_t len, n = 0;
	char *readme = (char *)read_file(SOURCE_ROOT "/README.md", &len);
	char *start = strstr(readme, "## Configuration"), *end = NULL;

	if (!start || !(start = strstr(start, "```yaml\n")) || !(end = strstr(start + 8, "```")))
		fail("README.md: no yaml example under \"## Configuration\"");
	start += 8;
	seed("config", "readme-example.yaml", start, (size_t)(end - start));
	for (const char *p = start; p < end && n < 200; p++) {
		size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz_");

		if (k && k < sizeof(keys[0]) - 2 && p[k] == ':' && (p == start || !isalnum((unsigned char)p[-1]))) {
			snprintf(keys[n], sizeof(keys[n]), "%.*s:", (int)k, p);
			tokens[n] = keys[n];
			n++;
		}
		p += k;
	}
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		tokens[n++] = values[i];
	dictionary("config", tokens, n);
	free(readme);
}

/* Tokens of each protocol, the seeds' own bytes aside. */
static void dictionaries(void)
{
	DICTIONARY("net", "\\x08\\x00\\x45\\x00", "\\x11", "\\x00\\x43", "\\x00\\x44", "\\x0f\\xab",
		   "\\x00\\x45", "\\xff\\xff\\xff\\xff", "\\x20\\x00", "\\x3f\\xff");
	DICTIONARY("dhcp", "\\x63\\x82\\x53\\x63", "PXEClient", "PXEClient:Arch:00007:UNDI:003016",
		   "HTTPClient:Arch:00016", "iPXE", "\\x04iPXE", "\\x35\\x01\\x01", "\\x35\\x01\\x03",
		   "\\x35\\x01\\x08", "\\x36\\x04", "\\x5d\\x02\\x00\\x00", "\\x5d\\x02\\x00\\x07",
		   "\\x5e\\x03\\x01\\x03\\x10", "\\x61\\x11\\x00", "\\x4d\\x04", "\\xaf\\x00",
		   "\\x34\\x01\\x03", "\\x2b\\x07\\x47\\x04\\x80\\x00\\x00\\x00\\xff", "\\xff");
	DICTIONARY("tftp_packet", "\\x00\\x01", "\\x00\\x02", "\\x00\\x04", "\\x00\\x05", "\\x00\\x06",
		   "octet\\x00", "netascii\\x00", "blksize\\x00", "tsize\\x00", "timeout\\x00",
		   "windowsize\\x00", "65464\\x00", "18446744073709551616\\x00", "..", "\\\\");
	DICTIONARY("tftp_server", "\\x00\\x01", "\\x00\\x04", "\\x00\\x05", "octet\\x00", "netascii\\x00",
		   "blksize\\x00", "tsize\\x00", "timeout\\x00", "windowsize\\x00", "ipxe.efi\\x00",
		   "big.img\\x00", "text.txt\\x00", "empty\\x00");
	DICTIONARY("proxy_policy", "server-ip ", "script-url ", "boot-file ", "boot-server ", "menu ", "prompt ",
		   "option 209 ", "option 210 ", "allow-mac ", "deny-mac ", "allow-subnet ", "deny-subnet ",
		   "select-mac ", "select-uuid ", "select-arch ", "unmatched ignore", "efi-x64-http",
		   "52:54:00:12:34:56", "4c4c4544-0042-3510-8051-b4c04f4e3232", "10.0.0.0/8", "/32", "0.0.0.0",
		   "255.255.255.255", "\\x0d\\x0a");
	DICTIONARY("config_message", "config 1\\x0a", "end\\x0a", "iface ", "addr ", "tftp-root ", "cache-mb ", "=",
		   "xdp-prog ", "stats-socket ", "no-huge\\x0a",
		   "port-range ", "max-sessions ", "max-sessions-per-client ", "max-windowsize ", "retransmit-ms ",
		   "min-retransmit-ms ", "max-retries ", "image ", "pmd ", "lcore ", "lcores ", "eal ", "no-huge",
		   "mtu ", "help", "65535", "af_packet", "\\x0d\\x0a");
	DICTIONARY("http", "GET ", "HEAD ", " HTTP/1.1\\x0d\\x0a", "/boot.ipxe?", "mac=", "&uuid=", "&arch=",
		   "&hostname=", "&profile=", "%2e", "%2f", "%5c", "%00", "%25", "..", "/./", "//",
		   "Range: bytes=", "http://", "out/", "up/", "inside", "images/", "efi-x86_64", "pcbios-i386",
		   "menu", "+");
}

static void configs(void)
{
	glob_t g;

	if (glob(SOURCE_ROOT "/configs/*.yaml", 0, NULL, &g) != 0)
		fail("no configs in " SOURCE_ROOT "/configs");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct config_errors errors;
		struct config *c;
		char *text = NULL;
		size_t len = 0;
		uint8_t *raw = read_file(g.gl_pathv[i], &len);
		FILE *f;

		seed("config", base_name(g.gl_pathv[i]), raw, len);
		free(raw);
		if (!(c = config_load(g.gl_pathv[i], &errors)))
			fail("%s", errors.msg[0]);
		if (!(f = open_memstream(&text, &len)))
			fail("open_memstream");
		policy_compile(c, "10.0.0.1", "http://10.0.0.1:8080", f);
		fclose(f);
		seed("proxy_policy", base_name(g.gl_pathv[i]), text, len);
		free(text);

		/* The settings control/stampede.c's config_message() sends. */
		if (!(f = open_memstream(&text, &len)))
			fail("open_memstream");
		fprintf(f, "config 1\niface eth0\naddr 10.0.0.1\ntftp-root %s\ncache-mb %u\n", c->tftp.root,
			c->tftp.cache_mb);
		fprintf(f, "max-sessions-per-client %u\nmax-windowsize %u\nretransmit-ms %u\nmax-retries %u\n",
			c->tftp.max_sessions_per_client, c->tftp.max_windowsize, c->tftp.retransmit_ms,
			c->tftp.max_retries);
		if (c->tftp.port_range)
			fprintf(f, "port-range %s\n", c->tftp.port_range);
		if (c->tftp.max_sessions)
			fprintf(f, "max-sessions %u\n", c->tftp.max_sessions);
		if (c->dataplane.pmd)
			fprintf(f, "pmd %s\n", c->dataplane.pmd);
		fputs("image ipxe.efi=/usr/lib/ipxe/ipxe.efi\nno-huge\nend\n", f);
		fclose(f);
		seed("config_message", base_name(g.gl_pathv[i]), text, len);
		free(text);
		config_free(c);
	}
	globfree(&g);
	readme_example();
	seed_text("config_message", "lcores", "config 1\r\niface eth0\r\nlcores 2\r\nport-range 61440-61441\r\nend\r\n");
	seed_text("config_message", "no-end", "config 1\niface eth0\n");
	seed_text("config_message", "bad-version", "config 2\nend\n");
	/* The fuzzer's pinned message (fuzz_config_message.c) with a reload's
	 * changes: a start the launcher's pins let through. */
	seed_text("config_message", "pinned-reloaded",
		  "config 1\niface eth0\naddr 10.0.0.1\ntftp-root /srv/other\ncache-mb 128\nimage a.efi=/a.efi\n"
		  "pmd af_xdp\nlcore 1\nlcores 1\nmax-sessions 100\neal --log-level=3\nno-huge\nend\n");
}

/* ---- http: request heads -------------------------------------------------------- */

static void http_requests(void)
{
	static const char *const heads[] = {
		"GET /ipxe.efi HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: iPXE/1.21.1\r\n\r\n",
		("GET /boot.ipxe?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=4c4c4544-0042-3510-8051-b4c04f4e3232"
		 "&arch=efi-x86_64 HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n\r\n"),
		"GET /boot.ipxe?mac=52:54:00:00:01:01&uuid=&arch=pcbios-i386 HTTP/1.1\r\n\r\n",
		"GET /boot.ipxe?profile=rescue&mac=52:54:00:ab:cd:ef&arch=efi-arm64&hostname=a+b HTTP/1.1\r\n\r\n",
		"HEAD /images/vmlinuz HTTP/1.1\r\n\r\n",
		"GET /inside HTTP/1.1\r\nRange: bytes=0-9\r\n\r\n",
		"GET /ipxe.efi HTTP/1.1\r\nRange: bytes=-5\r\n\r\n",
		"GET /ipxe.efi HTTP/1.1\r\nRange: bytes=10-\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
		"GET /images/./vmlinuz?x=1#frag HTTP/1.0\r\n\r\n",
		"GET http://10.0.0.1:8080/ipxe.efi HTTP/1.1\r\n\r\n",
		"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n\r\n",
		"GET /out/passwd HTTP/1.1\r\n\r\n",
		"GET /images/up/etc/hostname HTTP/1.1\r\n\r\n",
		"GET /..%5c..%5cwin.ini HTTP/1.1\r\n\r\n",
		"GET /a%00.txt HTTP/1.1\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\n\r\n",
	};
	char name[16];

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		snprintf(name, sizeof(name), "request-%02zu", i);
		seed_text("http", name, heads[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds OUT_DIR\n");
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) < 0 && errno != EEXIST)
		fail("mkdir %s: %s", out_dir, strerror(errno));
	captures();
	tftp_packets();
	tftp_scripts();
	configs();
	http_requests();
	dictionaries();
	printf("make_seeds: %u seeds in %s\n", written, out_dir);
	return 0;
}
