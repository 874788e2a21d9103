/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parsing the policy message. It runs on the control thread, so it may
 * allocate; what it builds is read-only afterwards, and lookups are binary
 * searches over sorted arrays (tens of thousands of MACs stay cheap per packet).
 */
#include "proxy_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mac_key(const uint8_t mac[6])
{
	uint64_t k = 0;

	for (int i = 0; i < 6; i++)
		k = k << 8 | mac[i];
	return k;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int policy_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -EINVAL;
			s++;
		}
	}
	return *s ? -EINVAL : 0;
}

int policy_parse_uuid(const char *s, uint8_t uuid[16])
{
	static const int group_len[5] = { 4, 2, 2, 2, 6 };
	uint8_t printed[16];
	int n = 0;

	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < group_len[g]; i++) {
			int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			printed[n++] = (uint8_t)(hi << 4 | lo);
			s += 2;
		}
		if (g < 4 && *s++ != '-')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	/* SMBIOS 2.6 §7.2.1: the first three fields travel little-endian. */
	uuid[0] = printed[3], uuid[1] = printed[2], uuid[2] = printed[1], uuid[3] = printed[0];
	uuid[4] = printed[5], uuid[5] = printed[4];
	uuid[6] = printed[7], uuid[7] = printed[6];
	memcpy(uuid + 8, printed + 8, 8);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_uuid(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

bool policy_mac_listed(const struct policy_mac_list *list, const uint8_t mac[6])
{
	uint64_t k = mac_key(mac);

	return list->n && bsearch(&k, list->macs, list->n, sizeof(k), cmp_u64);
}

bool policy_uuid_listed(const struct policy_uuid_list *list, const uint8_t uuid[16])
{
	return list->n && bsearch(uuid, list->uuids, list->n, 16, cmp_uuid);
}

bool policy_subnet_listed(const struct policy_subnet_list *list, uint32_t ip_net_order)
{
	uint32_t ip = ntohl(ip_net_order);

	for (size_t i = 0; i < list->n; i++)
		if ((ip & list->subnets[i].mask) == list->subnets[i].net)
			return true;
	return false;
}

/* ---- the message ---- */

struct parser {
	struct proxy_policy *p;
	unsigned line;
	char *err;
	size_t err_len;
	bool have_server;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->err_len, "line %u: ", ps->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->err_len)
		vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Splits "WORD rest" in place: returns rest ("" when none), word NUL-terminated. */
static char *split_word(char *s)
{
	char *sp = strchr(s, ' ');

	if (!sp)
		return s + strlen(s);
	*sp = '\0';
	return sp + 1;
}

static int copy_text(struct parser *ps, char dst[POLICY_TEXT_MAX + 1], const char *src, const char *what)
{
	size_t n = strlen(src);

	if (n > POLICY_TEXT_MAX)
		return fail(ps, "%s is %zu bytes long; a DHCP option holds at most %d", what, n, POLICY_TEXT_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			return fail(ps, "%s contains a control character", what);
	memcpy(dst, src, n + 1);
	return 0;
}

static int push(struct parser *ps, void **array, size_t *n, size_t size, const void *item)
{
	void *grown;

	if (*n >= POLICY_MAX_LIST)
		return fail(ps, "more than %d entries in one list", POLICY_MAX_LIST);
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) { /* 16, then doubling */
		grown = realloc(*array, (*n ? *n * 2 : 16) * size);
		if (!grown)
			return fail(ps, "out of memory");
		*array = grown;
	}
	memcpy((char *)*array + *n * size, item, size);
	(*n)++;
	return 0;
}

static int add_mac(struct parser *ps, struct policy_mac_list *list, const char *value)
{
	uint8_t mac[6];
	uint64_t k;

	if (policy_parse_mac(value, mac) < 0)
		return fail(ps, "\"%.40s\" is not a MAC address (expected 52:54:00:12:34:56)", value);
	k = mac_key(mac);
	return push(ps, (void **)&list->macs, &list->n, sizeof(k), &k);
}

int policy_parse_subnet(const char *s, struct policy_subnet *out)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long bits;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	bits = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &a) != 1 || end == slash + 1 || *end || bits < 0 || bits > 32)
		return -EINVAL;
	out->mask = bits ? ~0u << (32 - bits) : 0;
	out->net = ntohl(a.s_addr) & out->mask;
	return 0;
}

static int add_subnet(struct parser *ps, struct policy_subnet_list *list, const char *value)
{
	struct policy_subnet s;

	if (policy_parse_subnet(value, &s) < 0)
		return fail(ps, "\"%.40s\" is not a subnet (expected 10.1.0.0/16)", value);
	return push(ps, (void **)&list->subnets, &list->n, sizeof(s), &s);
}

/* pxelinux's text options (RFC 5071): 209 configuration file, 210 path
 * prefix. 208 (magic) and 211 (reboot time) are binary, and pxelinux since
 * 3.x needs neither, so they are not accepted. */
static int add_extra_option(struct parser *ps, const char *value)
{
	struct proxy_policy *p = ps->p;
	char text[POLICY_TEXT_MAX + 1];
	char *end;
	long code = strtol(value, &end, 10);
	size_t n;

	if (end == value || *end != ' ' || (code != 209 && code != 210))
		return fail(ps, "option: expected code 209 or 210 (pxelinux) and its text");
	for (size_t i = 0; i < p->extra_len; i += 2 + p->extra[i + 1])
		if (p->extra[i] == code)
			return fail(ps, "option %ld is given twice", code);
	if (copy_text(ps, text, end + 1, code == 209 ? "option 209" : "option 210") < 0)
		return -EINVAL;
	n = strlen(text);
	if (n == 0)
		return fail(ps, "option %ld: the text must be 1 to %d bytes", code, POLICY_TEXT_MAX);
	if (p->extra_len + 2 + n > sizeof(p->extra))
		return fail(ps, "option %ld: the extra options exceed %d bytes", code, POLICY_EXTRA_OPTS_MAX);
	p->extra[p->extra_len++] = (uint8_t)code;
	p->extra[p->extra_len++] = (uint8_t)n;
	memcpy(p->extra + p->extra_len, text, n);
	p->extra_len += n;
	return 0;
}

static int parse_line(struct parser *ps, char *key)
{
	struct proxy_policy *p = ps->p;
	char *value = split_word(key);
	int arch;

	if (strcmp(key, "server-ip") == 0) {
		struct in_addr a;

		if (inet_pton(AF_INET, value, &a) != 1 || a.s_addr == 0 || a.s_addr == INADDR_BROADCAST)
			return fail(ps, "server-ip: \"%.40s\" is not a usable IPv4 address", value);
		p->server_ip = a.s_addr;
		ps->have_server = true;
		return 0;
	}
	if (strcmp(key, "script-url") == 0)
		return copy_text(ps, p->script_url, value, "script-url");
	if (strcmp(key, "boot-file") == 0 || strcmp(key, "boot-server") == 0 || strcmp(key, "select-arch") == 0) {
		char *rest = split_word(value);

		if ((arch = pxe_arch_from_name(value)) < 0)
			return fail(ps, "%s: unknown architecture \"%.40s\"", key, value);
		if (key[0] == 'b' && key[5] == 'f') {
			if (!*rest)
				return fail(ps, "boot-file %s: no file name", value);
			return copy_text(ps, p->arch[arch].boot_file, rest, "boot-file");
		}
		if (*rest)
			return fail(ps, "%s %s: unexpected \"%.40s\"", key, value, rest);
		if (key[0] == 'b')
			p->arch[arch].via_boot_server = true;
		else
			p->select_arch[arch] = true;
		return 0;
	}
	if (strcmp(key, "menu") == 0)
		return copy_text(ps, p->menu_text, value, "menu");
	if (strcmp(key, "prompt") == 0) {
		char *rest = split_word(value), *end;
		long t = strtol(value, &end, 10);

		if (end == value || *end || t < 0 || t > 255)
			return fail(ps, "prompt: the timeout must be 0 to 255 seconds");
		p->prompt_timeout = (uint8_t)t;
		return copy_text(ps, p->prompt, rest, "prompt");
	}
	if (strcmp(key, "option") == 0) {
		value[-1] = ' '; /* add_extra_option wants "CODE TEXT" whole */
		return add_extra_option(ps, value);
	}
	if (strcmp(key, "allow-mac") == 0)
		return add_mac(ps, &p->allow_macs, value);
	if (strcmp(key, "deny-mac") == 0)
		return add_mac(ps, &p->deny_macs, value);
	if (strcmp(key, "select-mac") == 0)
		return add_mac(ps, &p->select_macs, value);
	if (strcmp(key, "allow-subnet") == 0)
		return add_subnet(ps, &p->allow_subnets, value);
	if (strcmp(key, "deny-subnet") == 0)
		return add_subnet(ps, &p->deny_subnets, value);
	if (strcmp(key, "select-uuid") == 0) {
		uint8_t u[16];

		if (policy_parse_uuid(value, u) < 0)
			return fail(ps, "select-uuid: \"%.40s\" is not a UUID", value);
		return push(ps, (void **)&p->select_uuids.uuids, &p->select_uuids.n, 16, u);
	}
	if (strcmp(key, "unmatched") == 0) {
		if (strcmp(value, "answer") && strcmp(value, "ignore"))
			return fail(ps, "unmatched: expected answer or ignore");
		p->answer_unmatched = value[0] == 'a';
		return 0;
	}
	return fail(ps, "unknown key \"%.40s\"", key);
}

static void sort_lists(struct proxy_policy *p)
{
	struct policy_mac_list *macs[] = { &p->allow_macs, &p->deny_macs, &p->select_macs };

	for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++)
		if (macs[i]->n)
			qsort(macs[i]->macs, macs[i]->n, sizeof(uint64_t), cmp_u64);
	if (p->select_uuids.n)
		qsort(p->select_uuids.uuids, p->select_uuids.n, 16, cmp_uuid);
}

struct proxy_policy *proxy_policy_parse(const char *text, size_t len, char *err, size_t err_len)
{
	struct parser ps = { .err = err, .err_len = err_len };
	size_t pos = 0;

	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	ps.p->answer_unmatched = true;
	snprintf(ps.p->menu_text, sizeof(ps.p->menu_text), "Stampede network boot");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[2 * POLICY_TEXT_MAX];

		ps.line++;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n >= sizeof(line) || memchr(text + pos, '\0', n)) {
			fail(&ps, "line too long or contains NUL");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += (nl ? (size_t)(nl - (text + pos)) + 1 : len - pos);
		if (n == 0 || line[0] == '#')
			continue;
		if (parse_line(&ps, line) < 0)
			goto fail;
	}
	if (!ps.have_server) {
		snprintf(err, err_len, "server-ip is missing");
		goto fail;
	}
	sort_lists(ps.p);
	return ps.p;
fail:
	proxy_policy_free(ps.p);
	return NULL;
}

void proxy_policy_free(struct proxy_policy *p)
{
	if (!p)
		return;
	free(p->allow_macs.macs);
	free(p->deny_macs.macs);
	free(p->select_macs.macs);
	free(p->allow_subnets.subnets);
	free(p->deny_subnets.subnets);
	free(p->select_uuids.uuids);
	free(p);
}
