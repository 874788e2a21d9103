/* SPDX-License-Identifier: BSD-2-Clause */
#include "event_line.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies value (up to the next space) into out, percent-decoding when asked. */
static bool copy_value(const char *v, size_t n, char *out, size_t cap, bool decode)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (decode && c == '%' && i + 2 < n && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
			c = (char)(hex(v[i + 1]) << 4 | hex(v[i + 2]));
			i += 2;
		}
		if (o + 1 >= cap || c == '\0')
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* Finds " key=" in line and returns its value and length. */
static const char *field(const char *line, const char *key, size_t *len)
{
	size_t k = strlen(key);

	for (const char *p = line; (p = strchr(p, ' ')); p++) {
		if (strncmp(p + 1, key, k) == 0 && p[1 + k] == '=') {
			const char *v = p + 2 + k;

			*len = strcspn(v, " ");
			return v;
		}
	}
	return NULL;
}

static bool text(const char *line, const char *key, char *out, size_t cap, bool decode)
{
	size_t n;
	const char *v = field(line, key, &n);

	return v && copy_value(v, n, out, cap, decode);
}

static bool number(const char *line, const char *key, double *out)
{
	char buf[32], *end;

	if (!text(line, key, buf, sizeof(buf), false) || !buf[0])
		return false;
	*out = strtod(buf, &end);
	return *end == '\0' && isfinite(*out);
}

static bool u64(const char *line, const char *key, uint64_t *out)
{
	char buf[32], *end;

	if (!text(line, key, buf, sizeof(buf), false) || !isdigit((unsigned char)buf[0]))
		return false;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return *end == '\0' && errno != ERANGE;
}

enum event_kind event_line_parse(const char *line, struct event_dhcp *d, struct event_tftp *t)
{
	uint64_t port, flag;

	if (strncmp(line, "event dhcp ", 11) == 0) {
		memset(d, 0, sizeof(*d));
		if (!number(line, "time", &d->time) || !text(line, "mac", d->mac, sizeof(d->mac), false) ||
		    !text(line, "ip", d->ip, sizeof(d->ip), false) || !u64(line, "port", &port) || port > 65535 ||
		    !text(line, "arch", d->arch, sizeof(d->arch), false) ||
		    !text(line, "msg", d->msg, sizeof(d->msg), false) || !u64(line, "ipxe", &flag) ||
		    !text(line, "decision", d->decision, sizeof(d->decision), false) ||
		    !text(line, "file", d->file, sizeof(d->file), true))
			return EVENT_NONE;
		d->port = (unsigned)port;
		d->ipxe = flag != 0;
		if (!strcmp(d->file, "-"))
			d->file[0] = '\0';
		return EVENT_DHCP;
	}
	if (strncmp(line, "event tftp ", 11) == 0) {
		memset(t, 0, sizeof(*t));
		if (!number(line, "time", &t->time) || !text(line, "mac", t->mac, sizeof(t->mac), false) ||
		    !text(line, "ip", t->ip, sizeof(t->ip), false) || !u64(line, "port", &port) || port > 65535 ||
		    !text(line, "state", t->state, sizeof(t->state), false) || !u64(line, "bytes", &t->bytes) ||
		    !text(line, "file", t->file, sizeof(t->file), true))
			return EVENT_NONE;
		t->port = (unsigned)port;
		if (!strcmp(t->file, "-"))
			t->file[0] = '\0';
		return EVENT_TFTP;
	}
	return EVENT_NONE;
}
