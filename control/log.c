/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Structured logs (log.h says what a line looks like).
 *
 * A line is assembled in a buffer on the caller's stack and written with one
 * write(2) while holding a mutex: the mutex, not the size of the write, is
 * what keeps lines whole (stderr may be a pipe, where only writes up to
 * PIPE_BUF are atomic, a journald stream socket, or a terminal), and it also
 * covers the rare short write, finished before the next line starts.
 *
 * The buffer keeps RESERVE bytes that only closers may use (a value's
 * closing quote, the truncation mark, "}" and the newline). Every other
 * piece goes in whole or not at all, and the first that does not fit stops
 * everything after it, so a truncated line is still one well-formed line.
 *
 * Not async-signal-safe (a mutex), and not for the child between fork() and
 * exec(): stampede takes signals through a signalfd, and the supervisor's
 * child writes its one message with write(2).
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Closers: at most one quote, ",\"truncated\":true" (17), "}" and "\n". */
#define RESERVE 32

static _Atomic int log_format_now = LOG_FORMAT_TEXT;
static _Atomic int log_level_now = LOG_INFO;
static _Atomic int log_fd = STDERR_FILENO;
static void (*_Atomic log_clock)(struct timespec *ts);
static _Atomic uint64_t lines_lost;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

static const char *const format_names[] = {
	[LOG_FORMAT_TEXT] = "text",
	[LOG_FORMAT_JSON] = "json",
};

/* ---- settings ---- */

void log_init(enum log_format format, enum log_level level)
{
	atomic_store(&log_format_now, (int)format);
	atomic_store(&log_level_now, (int)level);
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level_now, (int)level);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&log_level_now, memory_order_relaxed);
}

void log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

void log_set_clock(void (*now)(struct timespec *ts))
{
	atomic_store(&log_clock, now);
}

uint64_t log_lost(void)
{
	return atomic_load(&lines_lost);
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOG_DEBUG ? level_names[level] : "unknown";
}

const char *log_format_name(enum log_format format)
{
	return (unsigned)format <= LOG_FORMAT_JSON ? format_names[format] : "unknown";
}

int log_level_parse(const char *s, enum log_level *out)
{
	if (!s)
		return -EINVAL;
	for (int l = LOG_ERROR; l <= LOG_DEBUG; l++) {
		if (strcmp(s, level_names[l]) == 0) {
			*out = (enum log_level)l;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) { /* syslog's and journald's word */
		*out = LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (s && strcmp(s, "text") == 0) {
		*out = LOG_FORMAT_TEXT;
		return 0;
	}
	if (s && strcmp(s, "json") == 0) {
		*out = LOG_FORMAT_JSON;
		return 0;
	}
	return -EINVAL;
}

/* ---- building a line ---- */

struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	bool full; /* something did not fit: only closers go in from now on */
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->full || l->len + n > LOG_LINE_MAX - RESERVE) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Into the reserve: the closers of a line always fit (see RESERVE). */
static void close_with(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (l->len + n <= LOG_LINE_MAX) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

/* The length of the well-formed UTF-8 sequence (2 to 4 bytes) at s and its
 * code point, or 0: overlong forms, surrogates and values past U+10FFFF are
 * not well formed (RFC 3629 §3). Stops at the terminating NUL, which is no
 * continuation byte. */
static size_t utf8_sequence(const unsigned char *s, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Well-formed characters that still act on a terminal or a log viewer: C1
 * controls (0x9b is CSI on 8-bit terminals), the line and paragraph
 * separators, and the bidirectional overrides that reorder what is shown. */
static bool unsafe_code_point(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* One escaped value, without its quotes: text and JSON differ only in how
 * they write a control byte and a byte that is not UTF-8. */
static void escaped(struct line *l, const char *value, bool json)
{
	const unsigned char *p = (const unsigned char *)value;
	char esc[8];

	while (*p && !l->full) {
		uint32_t cp;
		size_t n;

		if (*p >= 0x80) {
			n = utf8_sequence(p, &cp);
			if (n && !unsafe_code_point(cp)) {
				put(l, (const char *)p, n);
			} else if (n) {
				snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
				put_str(l, esc);
			} else {
				/* JSON text must be UTF-8 (RFC 8259 §8.1): the byte is lost there. */
				snprintf(esc, sizeof(esc), json ? "\\ufffd" : "\\x%02x", *p);
				put_str(l, esc);
				n = 1;
			}
			p += n;
			continue;
		}
		switch (*p) {
		case '"': put_str(l, "\\\""); break;
		case '\\': put_str(l, "\\\\"); break;
		case '\n': put_str(l, "\\n"); break;
		case '\r': put_str(l, "\\r"); break;
		case '\t': put_str(l, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x", *p);
				put_str(l, esc);
			} else {
				put(l, (const char *)p, 1);
			}
		}
		p++;
	}
}

/* A text value goes unquoted when it is one plain word of printable ASCII. */
static bool text_plain(const char *v)
{
	if (!*v)
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
			return false;
	return true;
}

/* An event name or key in text: the program's own word, kept to a safe set. */
static void text_word(struct line *l, const char *w)
{
	if (!*w)
		put(l, "_", 1);
	for (const unsigned char *p = (const unsigned char *)w; *p && !l->full; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			  strchr("_.:/-", *p);

		put(l, ok ? (const char *)p : "_", 1);
	}
}

static bool reserved_key(const char *k)
{
	return strcmp(k, "time") == 0 || strcmp(k, "level") == 0 || strcmp(k, "event") == 0;
}

/* " key=value" or ",\"key\":\"value\"". A pair whose key does not fit is
 * left out whole; a value that does not fit is cut and still closed. */
static void pair(struct line *l, bool json, const char *key, const char *value)
{
	size_t mark = l->len;
	bool quoted;

	if (json) {
		put_str(l, reserved_key(key) ? ",\"_" : ",\"");
		escaped(l, key, true);
		put_str(l, value ? "\":\"" : "\":null");
		quoted = value != NULL;
	} else {
		put_str(l, reserved_key(key) ? " _" : " ");
		text_word(l, key);
		put(l, "=", 1);
		quoted = !value || !text_plain(value);
		if (quoted)
			put(l, "\"", 1);
	}
	if (l->full) {
		l->len = mark;
		return;
	}
	if (value)
		escaped(l, value, json);
	if (quoted)
		close_with(l, "\"");
}

/* 2026-11-23T06:40:01.123Z: UTC, milliseconds (RFC 3339). */
static void timestamp(char out[32])
{
	void (*now)(struct timespec *) = atomic_load(&log_clock);
	struct timespec ts = { 0 };
	struct tm tm;
	size_t n;

	if (now)
		now(&ts);
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_nsec < 0 || ts.tv_nsec > 999999999)
		ts.tv_nsec = 0;
	if (!gmtime_r(&ts.tv_sec, &tm) || !(n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(out, 32, "0000-00-00T00:00:00.000Z");
		return;
	}
	snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void emit(const struct line *l)
{
	int fd = atomic_load(&log_fd), cancel_state;
	size_t done = 0;

	/* write() is a cancellation point: a thread cancelled inside it must
	 * not leave the mutex locked for every other thread. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&write_lock);
	while (done < l->len) {
		ssize_t n = write(fd, l->buf + done, l->len - done);

		if (n > 0)
			done += (size_t)n;
		else if (!(n < 0 && errno == EINTR))
			break; /* EAGAIN on a full non-blocking pipe, EBADF, EPIPE: lost */
	}
	pthread_mutex_unlock(&write_lock);
	pthread_setcancelstate(cancel_state, NULL);
	if (done < l->len)
		atomic_fetch_add(&lines_lost, 1);
}

void log_eventv(enum log_level level, const char *event, va_list ap)
{
	bool json = atomic_load_explicit(&log_format_now, memory_order_relaxed) == LOG_FORMAT_JSON;
	int saved_errno = errno; /* callers log, then return -errno */
	struct line l;
	char stamp[32];

	if (!log_enabled(level))
		return;
	l.len = 0;
	l.full = false;
	timestamp(stamp);
	if (!event)
		event = "-";
	if (json) {
		put_str(&l, "{\"time\":\"");
		put_str(&l, stamp);
		put_str(&l, "\",\"level\":\"");
		put_str(&l, log_level_name(level));
		put_str(&l, "\",\"event\":\"");
		escaped(&l, event, true);
		close_with(&l, "\"");
	} else {
		put_str(&l, stamp);
		put(&l, " ", 1);
		put_str(&l, log_level_name(level));
		put(&l, " ", 1);
		text_word(&l, event);
	}
	for (;;) {
		const char *key = va_arg(ap, const char *), *value;

		if (!key)
			break;
		value = va_arg(ap, const char *);
		pair(&l, json, key, value);
		if (!value)
			break;
	}
	if (l.full)
		close_with(&l, json ? ",\"truncated\":true" : " truncated=true");
	close_with(&l, json ? "}\n" : "\n");
	emit(&l);
	errno = saved_errno;
}

void log_event(enum log_level level, const char *event, ...)
{
	va_list ap;

	va_start(ap, event);
	log_eventv(level, event, ap);
	va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	int saved_errno = errno; /* %m, and the caller's errno after */
	char text[LOG_LINE_MAX];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap); /* longer text is cut, and cut again by the line */
	va_end(ap);
	errno = saved_errno;
	log_event(level, "message", "msg", text, (const char *)NULL);
}
