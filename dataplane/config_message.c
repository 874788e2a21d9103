/* SPDX-License-Identifier: BSD-2-Clause */
#include "config_message.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int config_message_fd(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		char *end;
		long fd;

		if (strcmp(argv[i], "--control-fd") == 0 && i + 1 < argc)
			v = argv[i + 1];
		else if (strncmp(argv[i], "--control-fd=", 13) == 0)
			v = argv[i] + 13;
		if (!v)
			continue;
		fd = strtol(v, &end, 10);
		return end != v && !*end && fd >= 0 && fd <= 65535 ? (int)fd : -1;
	}
	return -1;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One line, byte by byte: whatever follows "end" is not ours to consume. */
static int read_line(int fd, long deadline, char *line, size_t cap)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;
		char c;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		r = read(fd, &c, 1);
		if (r == 0)
			return -EPIPE;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (c == '\n') {
			if (n && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 >= cap)
			return -E2BIG;
		line[n++] = c;
	}
}

int config_message_read(int fd, int timeout_ms, char *storage, size_t cap, char **argv, int *argc, int max,
			char *err, size_t err_len)
{
	long deadline = now_ms() + timeout_ms;
	size_t used = 0;
	char line[1024];
	int r, n = 0;

	while ((r = read_line(fd, deadline, line, sizeof(line))) == 0) {
		char *value;
		size_t need;

		n++;
		if (n == 1) {
			if (strcmp(line, "config 1") != 0) {
				snprintf(err, err_len, "control channel: expected \"config 1\", got \"%.40s\"", line);
				return -EPROTO;
			}
			continue;
		}
		if (strcmp(line, "end") == 0)
			return 0;
		value = strchr(line, ' ');
		if (value)
			*value++ = '\0';
		need = 2 + strlen(line) + 1 + (value ? strlen(value) + 1 : 0);
		if (!line[0] || used + need > cap || *argc + 2 >= max) {
			snprintf(err, err_len, "control channel: config line %d is empty or the message is too large", n);
			return -E2BIG;
		}
		argv[(*argc)++] = storage + used;
		used += (size_t)sprintf(storage + used, "--%s", line) + 1;
		if (value) {
			argv[(*argc)++] = storage + used;
			used += (size_t)sprintf(storage + used, "%s", value) + 1;
		}
		argv[*argc] = NULL;
	}
	snprintf(err, err_len, "control channel: %s before the end of the config message",
		 r == -ETIMEDOUT ? "timed out" : r == -EPIPE ? "closed" : strerror(-r));
	return r;
}

/* Keys a restart may take from a reloaded configuration (see the header).
 * Not the address nor the port range: the XDP program takes UDP to them away
 * from the host. */
static const char *const changeable_keys[] = {
	"tftp-root",	   "cache-mb",	   "max-sessions",	"max-sessions-per-client", "max-windowsize",
	"retransmit-ms", "min-retransmit-ms", "max-retries", "dhcp-rate-per-client",	 "tftp-rate-per-source",
	"image",
};

/* The line at p, up to (not including) its newline. */
static size_t line_length(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? (size_t)(nl - p) : strlen(p);
}

static bool changeable(const char *line, size_t len)
{
	for (size_t i = 0; i < sizeof(changeable_keys) / sizeof(changeable_keys[0]); i++) {
		size_t k = strlen(changeable_keys[i]);

		/* "KEY VALUE" with a value that is not blank: a bare key would take
		 * the next line's key as its value. */
		if (len > k + 1 && memcmp(line, changeable_keys[i], k) == 0 && line[k] == ' ' && line[k + 1] != ' ' &&
		    memchr(line, '\r', len) == NULL)
			return true;
	}
	return false;
}

/* The next pinned line at or after *p (advancing *p past it): its start, or
 * NULL at the end of the text. */
static const char *next_pinned(const char **p, size_t *len)
{
	while (**p) {
		const char *line = *p;
		size_t n = line_length(line);

		*p = line[n] ? line + n + 1 : line + n;
		if (!changeable(line, n)) {
			*len = n;
			return line;
		}
	}
	return NULL;
}

/* A whole message: "config 1" first, "end" last and nothing after it. */
static bool whole_message(const char *m)
{
	size_t n = strlen(m);

	return strncmp(m, "config 1\n", 9) == 0 && n >= 13 && strcmp(m + n - 4, "end\n") == 0 &&
	       (n == 13 || m[n - 5] == '\n') && strstr(m, "\nend\n") == m + n - 5;
}

bool config_message_within_pins(const char *pinned, const char *fresh, char *err, size_t err_len)
{
	const char *a = pinned, *b = fresh;

	if (!whole_message(fresh)) {
		snprintf(err, err_len, "not one whole config message (\"config 1\" ... \"end\")");
		return false;
	}
	for (;;) {
		size_t na = 0, nb = 0;
		const char *la = next_pinned(&a, &na), *lb = next_pinned(&b, &nb);

		if (!la && !lb)
			return true;
		if (la && lb && na == nb && memcmp(la, lb, na) == 0)
			continue;
		if (lb && la)
			snprintf(err, err_len, "\"%.*s\" where the first dataplane started with \"%.*s\"",
				 (int)(nb > 80 ? 80 : nb), lb, (int)(na > 80 ? 80 : na), la);
		else if (lb)
			snprintf(err, err_len, "\"%.*s\" is not a setting the first dataplane started with",
				 (int)(nb > 80 ? 80 : nb), lb);
		else
			snprintf(err, err_len, "\"%.*s\" is missing", (int)(na > 80 ? 80 : na), la);
		return false;
	}
}

char *config_message_repin(const char *pinned, const char *fresh)
{
	size_t cap = strlen(pinned) + strlen(fresh) + 1, used = 0;
	char *out;

	if (!whole_message(pinned) || !whole_message(fresh) || !(out = malloc(cap)))
		return NULL;
	/* pinned's lines up to its "end", then fresh's changeable lines, then "end". */
	for (const char *p = pinned; *p;) {
		size_t n = line_length(p);

		if (strncmp(p, "end\n", 4) == 0 && !p[4])
			break;
		if (!changeable(p, n)) {
			memcpy(out + used, p, n);
			out[used + n] = '\n';
			used += n + 1;
		}
		p += n + (p[n] ? 1 : 0);
	}
	for (const char *p = fresh; *p;) {
		size_t n = line_length(p);

		if (changeable(p, n)) {
			memcpy(out + used, p, n);
			out[used + n] = '\n';
			used += n + 1;
		}
		p += n + (p[n] ? 1 : 0);
	}
	memcpy(out + used, "end\n", 5);
	return out;
}
