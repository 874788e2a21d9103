/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Structured logs: one line per event, on stderr (the service runs in the
 * foreground; journald, or whoever started it, keeps the lines).
 *
 *   log_event(LOG_INFO, "dhcp", "mac", mac, "decision", "offer", NULL);
 *
 * text:  2026-11-23T06:40:01.123Z info dhcp mac=52:54:00:12:34:56 decision=offer
 * json:  {"time":"2026-11-23T06:40:01.123Z","level":"info","event":"dhcp",
 *         "mac":"52:54:00:12:34:56","decision":"offer"}            (one line)
 *
 * Values often come from the network (file names, hostnames, HTTP targets),
 * so no value can break a line or reach a terminal as an escape sequence:
 * in text a value is quoted when it holds anything but printable ASCII
 * (or a space, '"', '=', '\'), and control bytes, C1 controls and invalid
 * UTF-8 are written as \n, \t, \r, \xNN, \u0080-\u009f; in JSON every value
 * is a string with RFC 8259 escapes, valid UTF-8 passes through and invalid
 * bytes become U+FFFD. Event names and keys are the program's own words:
 * in text anything outside [A-Za-z0-9_.:/-] in them becomes '_'.
 *
 * A line is built in a fixed buffer (LOG_LINE_MAX) and written with one
 * write(2) under a mutex, so lines from threads never interleave and no
 * allocation happens per line. An over-long line loses its last values and
 * ends with truncated=true, still well formed. Lines that cannot be written
 * (a full non-blocking pipe, a closed stderr) are counted, never retried
 * forever: logging never stops the program.
 *
 * The level names collide with <syslog.h>'s LOG_INFO and LOG_DEBUG macros,
 * so a file cannot use both: <syslog.h> included before this header is an
 * error below; included after, its macros would silently replace these
 * names. Stampede logs to stderr and never includes <syslog.h>.
 */
#ifndef STAMPEDE_LOG_H
#define STAMPEDE_LOG_H

#if defined(LOG_INFO) || defined(LOG_DEBUG)
#error "log.h: <syslog.h> is included before it and its LOG_INFO/LOG_DEBUG macros would replace these names"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Bytes per line, newline included: a long HTTP target escaped 4 times over fits. */
#define LOG_LINE_MAX 8192

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* In order of verbosity: a logger at level L writes events of level <= L. */
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Before any thread logs (until then: text, info, stderr). */
void log_init(enum log_format format, enum log_level level);
/* Changeable at any time (a reload): atomic, lines in flight keep theirs. */
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Key/value pairs of strings, ended by NULL. A NULL value also ends the
 * list (JSON null, "" in text): pass "" or "-" for a missing value. Keys
 * time, level and event are the line's own and are written _time, _level,
 * _event. */
void log_event(enum log_level level, const char *event, ...) __attribute__((sentinel));
void log_eventv(enum log_level level, const char *event, va_list ap);
/* Free text, as the event "message" with the key "msg":
 * 2026-11-23T06:40:01.123Z warn message msg="reload refused: ..." */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "text" or "json"; "error", "warn" (or "warning"), "info", "debug".
 * 0, or -EINVAL leaving *out unchanged. */
int log_format_parse(const char *s, enum log_format *out);
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);
const char *log_format_name(enum log_format format);

/* Lines that could not be written since start. */
uint64_t log_lost(void);

/* For tests and for redirecting: the descriptor lines go to (default 2),
 * and the clock (default clock_gettime(CLOCK_REALTIME); NULL restores it). */
void log_set_fd(int fd);
void log_set_clock(void (*now)(struct timespec *ts));

#endif
