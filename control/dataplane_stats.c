/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading the dataplane's counters (see dataplane_stats.h for the format and
 * its limits).
 *
 * The socket is non-blocking and every wait is a poll() against one deadline
 * taken before connect(), so the whole exchange -- connect, send, every read
 * -- fits in the time limit together: a dataplane that accepts but never
 * answers, or that trickles a byte a second, costs a scrape at most
 * DATAPLANE_STATS_TIMEOUT_MS. The reply is read until its line "." (the
 * dataplane also closes the connection after it, but we do not depend on that)
 * or until the peer closes, then handed whole to the parser.
 */
#include "dataplane_stats.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_INITIAL_CAP (16u * 1024u)
/* How much of an "error: ..." reply is quoted to the operator. */
#define ERROR_QUOTE_MAX 200

/* ---- parser ------------------------------------------------------------------ */

/* A counter with the position of its line, so that sorting can keep the first
 * of two lines naming the same counter whatever qsort's order of equals. */
struct numbered_stat {
	struct dataplane_stat stat;
	size_t line;
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* "name value", exactly: no other spaces, no sign, no overflow. */
static bool parse_line(const char *line, size_t len, struct dataplane_stat *out)
{
	const char *space = memchr(line, ' ', len);
	size_t name_len, digits;
	uint64_t value = 0;

	if (!space)
		return false;
	name_len = (size_t)(space - line);
	digits = len - name_len - 1;
	if (name_len == 0 || name_len > DATAPLANE_STATS_NAME_MAX || digits == 0)
		return false;
	for (size_t i = 0; i < name_len; i++)
		if (!name_char(line[i]))
			return false;
	for (size_t i = 0; i < digits; i++) {
		char c = space[1 + i];

		if (c < '0' || c > '9')
			return false;
		if (value > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return false; /* does not fit 64 bits */
		value = value * 10 + (uint64_t)(c - '0');
	}
	memcpy(out->name, line, name_len);
	out->name[name_len] = '\0';
	out->value = value;
	return true;
}

static int compare_numbered(const void *a, const void *b)
{
	const struct numbered_stat *x = a, *y = b;
	int c = strcmp(x->stat.name, y->stat.name);

	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/* The peer's own words, printable ASCII only: it goes to a log. */
static void quote_peer(char *err, size_t err_len, const char *line, size_t len)
{
	char quoted[ERROR_QUOTE_MAX + 1];
	size_t n = len < ERROR_QUOTE_MAX ? len : ERROR_QUOTE_MAX;

	for (size_t i = 0; i < n; i++)
		quoted[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
	quoted[n] = '\0';
	snprintf(err, err_len, "the dataplane refused: \"%s%s\"", quoted, len > n ? "..." : "");
}

int dataplane_stats_parse(const char *text, size_t len, struct dataplane_stats *out, char *err, size_t err_len)
{
	struct numbered_stat *parsed = NULL;
	struct dataplane_stat *items = NULL;
	size_t n = 0, cap = 0, malformed = 0, lines = 0, pos = 0, kept = 0;
	bool ended = false;
	int r;

	*out = (struct dataplane_stats){ 0 };
	while (pos < len && !ended) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		struct numbered_stat s;

		pos += line_len + (nl ? 1 : 0);
		lines++;
		if (line_len == 1 && line[0] == '.') {
			ended = true;
			break;
		}
		if (line_len >= 6 && memcmp(line, "error:", 6) == 0) {
			quote_peer(err, err_len, line, line_len);
			r = -EREMOTEIO;
			goto fail;
		}
		/* A last line without its newline was cut short: its value may be
		 * missing digits, so it is not believed. */
		if (!nl || !parse_line(line, line_len, &s.stat)) {
			malformed++;
			continue;
		}
		if (n == DATAPLANE_STATS_MAX_COUNTERS) {
			snprintf(err, err_len, "more than %u counters in the reply", DATAPLANE_STATS_MAX_COUNTERS);
			r = -E2BIG;
			goto fail;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 128;
			struct numbered_stat *grown;

			if (ncap > DATAPLANE_STATS_MAX_COUNTERS)
				ncap = DATAPLANE_STATS_MAX_COUNTERS;
			grown = realloc(parsed, ncap * sizeof(*parsed));
			if (!grown) {
				snprintf(err, err_len, "out of memory for %zu counters", ncap);
				r = -ENOMEM;
				goto fail;
			}
			parsed = grown;
			cap = ncap;
		}
		s.line = lines;
		parsed[n++] = s;
	}
	if (!ended) {
		snprintf(err, err_len, "the reply ended without its last line \".\" (%zu bytes, %zu lines)", len, lines);
		r = -EPROTO;
		goto fail;
	}
	if (n) {
		items = malloc(n * sizeof(*items));
		if (!items) {
			snprintf(err, err_len, "out of memory for %zu counters", n);
			r = -ENOMEM;
			goto fail;
		}
		qsort(parsed, n, sizeof(*parsed), compare_numbered);
		for (size_t i = 0; i < n; i++) {
			if (kept && strcmp(items[kept - 1].name, parsed[i].stat.name) == 0) {
				malformed++; /* a repeat: the first line wins */
				continue;
			}
			items[kept++] = parsed[i].stat;
		}
	}
	free(parsed);
	out->n = kept;
	out->items = items;
	out->malformed = malformed;
	return 0;

fail:
	free(parsed);
	free(items);
	return r;
}

bool dataplane_stats_get(const struct dataplane_stats *stats, const char *name, uint64_t *value)
{
	size_t lo = 0, hi = stats ? stats->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, stats->items[mid].name);

		if (c == 0) {
			*value = stats->items[mid].value;
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

void dataplane_stats_free(struct dataplane_stats *stats)
{
	if (!stats)
		return;
	free(stats->items);
	*stats = (struct dataplane_stats){ 0 };
}

/* ---- the socket ------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 0 when ready, -ETIMEDOUT, or
 * -errno. POLLHUP and POLLERR count as ready: the next call says what. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int connect_by(int fd, const struct sockaddr_un *addr, int64_t deadline)
{
	for (;;) {
		int r, so_error = 0;
		socklen_t len = sizeof(so_error);

		if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* A unix socket's listen backlog is full: the dataplane is not
			 * accepting. Try again shortly, within the same deadline. */
			if (now_ms() + 10 >= deadline)
				return -ETIMEDOUT;
			poll(NULL, 0, 10);
			continue;
		}
		if (errno != EINPROGRESS)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
			return -errno;
		return -so_error;
	}
}

static int send_all(int fd, const char *data, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t sent = send(fd, data, len, MSG_NOSIGNAL);
		int r;

		if (sent >= 0) {
			data += sent;
			len -= (size_t)sent;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether buf[0..len) holds the whole line ".", looking only at what arrived
 * since `from` (and the two bytes before, where the line may have started). */
static bool reply_complete(const char *buf, size_t len, size_t from)
{
	size_t start = from >= 2 ? from - 2 : 0;

	if (len >= 2 && buf[0] == '.' && buf[1] == '\n')
		return true;
	return len - start >= 3 && memmem(buf + start, len - start, "\n.\n", 3) != NULL;
}

/* Reads until the line ".", the peer's close, the deadline or the size limit.
 * Returns 0 with *reply malloc'd (*len bytes), or -errno. */
static int read_reply(int fd, int64_t deadline, char **reply, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int r;

	for (;;) {
		ssize_t got;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : REPLY_INITIAL_CAP;
			char *grown;

			if (cap >= DATAPLANE_STATS_MAX_REPLY) {
				r = -EMSGSIZE;
				goto fail;
			}
			if (ncap > DATAPLANE_STATS_MAX_REPLY)
				ncap = DATAPLANE_STATS_MAX_REPLY;
			grown = realloc(buf, ncap);
			if (!grown) {
				r = -ENOMEM;
				goto fail;
			}
			buf = grown;
			cap = ncap;
		}
		got = recv(fd, buf + n, cap - n, 0);
		if (got > 0) {
			size_t before = n;

			n += (size_t)got;
			if (reply_complete(buf, n, before))
				break;
			continue;
		}
		if (got == 0)
			break; /* closed: the parser decides whether the reply was whole */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			goto fail;
		}
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			goto fail;
	}
	*reply = buf;
	*len = n;
	return 0;

fail:
	free(buf);
	return r;
}

int dataplane_stats_read_timeout(const char *socket_path, int timeout_ms, struct dataplane_stats *out, char *err,
				 size_t err_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + timeout_ms;
	char *reply = NULL, msg[256];
	size_t reply_len = 0;
	int fd, r;

	*out = (struct dataplane_stats){ 0 };
	if (timeout_ms <= 0) {
		snprintf(err, err_len, "dataplane stats: a time limit of %d ms", timeout_ms);
		return -EINVAL;
	}
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		snprintf(err, err_len, "dataplane socket %s: longer than a unix socket address allows (%zu bytes)",
			 socket_path, sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "dataplane socket %s: socket(): %s", socket_path, strerror(-r));
		return r;
	}
	r = connect_by(fd, &addr, deadline);
	if (r == -ETIMEDOUT) {
		snprintf(err, err_len, "the dataplane at %s did not accept the connection within %d ms (is it stuck?)",
			 socket_path, timeout_ms);
		goto out;
	}
	if (r < 0) {
		snprintf(err, err_len, "cannot reach the dataplane at %s: %s (is it running?)", socket_path,
			 strerror(-r));
		goto out;
	}
	r = send_all(fd, "stats\n", 6, deadline);
	if (r == 0)
		r = read_reply(fd, deadline, &reply, &reply_len);
	if (r == -ETIMEDOUT) {
		snprintf(err, err_len, "the dataplane at %s did not answer \"stats\" within %d ms (is it stuck?)",
			 socket_path, timeout_ms);
		goto out;
	}
	if (r == -EMSGSIZE) {
		snprintf(err, err_len, "the dataplane at %s sent a \"stats\" reply larger than %u bytes", socket_path,
			 DATAPLANE_STATS_MAX_REPLY);
		goto out;
	}
	if (r < 0) {
		snprintf(err, err_len, "the dataplane at %s: %s", socket_path, strerror(-r));
		goto out;
	}
	r = dataplane_stats_parse(reply, reply_len, out, msg, sizeof(msg));
	if (r < 0)
		snprintf(err, err_len, "the dataplane at %s: %s", socket_path, msg);
out:
	free(reply);
	close(fd);
	return r;
}

int dataplane_stats_read(const char *socket_path, struct dataplane_stats *out, char *err, size_t err_len)
{
	return dataplane_stats_read_timeout(socket_path, DATAPLANE_STATS_TIMEOUT_MS, out, err, err_len);
}
