/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control/log.c: the exact text and JSON lines (fixed clock), quoting and
 * escaping of hostile values (line breaks, quotes, backslashes, ESC, C1
 * controls, bidi overrides, invalid UTF-8; well-formed UTF-8 passes through),
 * JSON lines checked by a real parser (jansson) that must give back the
 * original value, level filtering, the parse helpers, truncation that keeps
 * a line well formed, lost lines counted, errno kept, and lines from
 * threads, each longer than PIPE_BUF, arriving whole through a pipe.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* 2026-11-23T06:40:01.123Z */
static void fixed_clock(struct timespec *ts)
{
	ts->tv_sec = 1795416001;
	ts->tv_nsec = 123456789;
}

static int out_fd = -1;

static void capture(void)
{
	out_fd = memfd_create("log", 0);
	cr_assert(out_fd >= 0);
	log_set_fd(out_fd);
	log_set_clock(fixed_clock);
	log_init(LOG_FORMAT_TEXT, LOG_DEBUG);
}

static void release(void)
{
	log_set_fd(STDERR_FILENO);
	log_set_clock(NULL);
	if (out_fd >= 0)
		close(out_fd);
}

/* Everything written so far, then the file is emptied for the next check. */
static const char *taken(void)
{
	static char buf[4 * LOG_LINE_MAX];
	ssize_t n = pread(out_fd, buf, sizeof(buf) - 1, 0);

	cr_assert(n >= 0);
	buf[n] = '\0';
	cr_assert(ftruncate(out_fd, 0) == 0);
	lseek(out_fd, 0, SEEK_SET);
	return buf;
}

TestSuite(log, .init = capture, .fini = release);

/* ---- exact lines ---- */

Test(log, text_line_is_time_level_event_and_pairs)
{
	log_event(LOG_INFO, "dhcp", "mac", "52:54:00:12:34:56", "decision", "offer", NULL);
	cr_expect(eq(str, (char *)taken(), "2026-11-23T06:40:01.123Z info dhcp mac=52:54:00:12:34:56 decision=offer\n"));
}

Test(log, json_line_is_one_object_with_time_level_event_first)
{
	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	log_event(LOG_INFO, "dhcp", "mac", "52:54:00:12:34:56", "decision", "offer", NULL);
	cr_expect(eq(str, (char *)taken(),
		     "{\"time\":\"2026-11-23T06:40:01.123Z\",\"level\":\"info\",\"event\":\"dhcp\","
		     "\"mac\":\"52:54:00:12:34:56\",\"decision\":\"offer\"}\n"));
}

Test(log, every_level_has_its_name)
{
	log_event(LOG_ERROR, "e", NULL);
	log_event(LOG_WARN, "w", NULL);
	log_event(LOG_INFO, "i", NULL);
	log_event(LOG_DEBUG, "d", NULL);
	cr_expect(eq(str, (char *)taken(),
		     "2026-11-23T06:40:01.123Z error e\n"
		     "2026-11-23T06:40:01.123Z warn w\n"
		     "2026-11-23T06:40:01.123Z info i\n"
		     "2026-11-23T06:40:01.123Z debug d\n"));
}

static void early_clock(struct timespec *ts)
{
	ts->tv_sec = 0;
	ts->tv_nsec = 5000000; /* 5 ms: three digits, zero-padded */
}

Test(log, milliseconds_are_zero_padded_and_time_is_utc)
{
	log_set_clock(early_clock);
	log_event(LOG_INFO, "x", NULL);
	cr_expect(eq(str, (char *)taken(), "1970-01-01T00:00:00.005Z info x\n"));
}

Test(log, free_text_is_the_message_event)
{
	log_msg(LOG_WARN, "reload refused: %d errors in %s", 2, "lab.yaml");
	cr_expect(eq(str, (char *)taken(),
		     "2026-11-23T06:40:01.123Z warn message msg=\"reload refused: 2 errors in lab.yaml\"\n"));
	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	log_msg(LOG_ERROR, "%s", "bye");
	cr_expect(eq(str, (char *)taken(),
		     "{\"time\":\"2026-11-23T06:40:01.123Z\",\"level\":\"error\",\"event\":\"message\",\"msg\":\"bye\"}\n"));
}

/* ---- text quoting and escaping ---- */

static const char *text_value(const char *value)
{
	static char v[LOG_LINE_MAX];
	const char *line, *start;

	log_event(LOG_INFO, "t", "k", value, NULL);
	line = taken();
	start = strstr(line, " info t k=");
	cr_assert(start != NULL, "%s", line);
	snprintf(v, sizeof(v), "%s", start + strlen(" info t k="));
	cr_assert(strlen(v) > 0 && v[strlen(v) - 1] == '\n', "one line: %s", line);
	cr_assert(strchr(v, '\n') == v + strlen(v) - 1, "exactly one line break: %s", line);
	v[strlen(v) - 1] = '\0';
	return v;
}

Test(log, text_plain_words_are_not_quoted)
{
	cr_expect(eq(str, (char *)text_value("ipxe.efi"), "ipxe.efi"));
	cr_expect(eq(str, (char *)text_value("http://10.0.0.1:8080/boot.ipxe"), "http://10.0.0.1:8080/boot.ipxe"));
	cr_expect(eq(str, (char *)text_value("/boot.ipxe?mac=52:54:00:12:34:56&arch=x"),
		     "\"/boot.ipxe?mac=52:54:00:12:34:56&arch=x\"")); /* '=': quoted, nothing escaped */
}

Test(log, text_values_with_space_quote_equals_or_nothing_are_quoted)
{
	cr_expect(eq(str, (char *)text_value("two words"), "\"two words\""));
	cr_expect(eq(str, (char *)text_value("a=b"), "\"a=b\""));
	cr_expect(eq(str, (char *)text_value("say \"hi\""), "\"say \\\"hi\\\"\""));
	cr_expect(eq(str, (char *)text_value(""), "\"\""));
}

Test(log, text_hostile_values_cannot_break_the_line_or_reach_the_terminal)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\nb", "\"a\\nb\"" },
		{ "forged\n2026-11-23T06:40:01.123Z error x", "\"forged\\n2026-11-23T06:40:01.123Z error x\"" },
		{ "cr\rlf", "\"cr\\rlf\"" },
		{ "tab\tx", "\"tab\\tx\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "\x1b[31mred", "\"\\x1b[31mred\"" },
		{ "nul\x01", "\"nul\\x01\"" },
		{ "del\x7f", "\"del\\x7f\"" },
		{ "h\xc3\xa9llo \xe2\x98\x83", "\"h\xc3\xa9llo \xe2\x98\x83\"" }, /* UTF-8 passes, quoted */
		{ "csi\xc2\x9b", "\"csi\\u009b\"" },                          /* C1 control */
		{ "line\xe2\x80\xa8sep", "\"line\\u2028sep\"" },               /* U+2028 */
		{ "bidi\xe2\x80\xaexe.", "\"bidi\\u202exe.\"" },               /* U+202E */
		{ "bad\xff", "\"bad\\xff\"" },                                /* not UTF-8 */
		{ "overlong\xc0\xaf", "\"overlong\\xc0\\xaf\"" },
		{ "surrogate\xed\xa0\x80", "\"surrogate\\xed\\xa0\\x80\"" },
		{ "cut\xe2\x98", "\"cut\\xe2\\x98\"" },                        /* truncated sequence */
	};

	for (size_t i = 0; i < COUNT(cases); i++)
		cr_expect(eq(str, (char *)text_value(cases[i].in), (char *)cases[i].out), "case %zu", i);
}

Test(log, text_event_names_and_keys_keep_to_a_safe_set)
{
	log_event(LOG_INFO, "dhcp offer\n", "bad key=", "v", "", "empty", NULL);
	cr_expect(eq(str, (char *)taken(), "2026-11-23T06:40:01.123Z info dhcp_offer_ bad_key_=v _=empty\n"));
}

Test(log, a_null_value_ends_the_pairs)
{
	log_event(LOG_INFO, "t", "a", "1", "b", NULL, "c", "3", NULL);
	cr_expect(eq(str, (char *)taken(), "2026-11-23T06:40:01.123Z info t a=1 b=\"\"\n"));
	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	log_event(LOG_INFO, "t", "a", "1", "b", NULL, "c", "3", NULL);
	cr_expect(eq(str, (char *)taken(),
		     "{\"time\":\"2026-11-23T06:40:01.123Z\",\"level\":\"info\",\"event\":\"t\",\"a\":\"1\",\"b\":null}\n"));
}

Test(log, keys_that_name_the_lines_own_fields_are_renamed)
{
	log_event(LOG_INFO, "t", "time", "x", "level", "y", "event", "z", NULL);
	cr_expect(eq(str, (char *)taken(), "2026-11-23T06:40:01.123Z info t _time=x _level=y _event=z\n"));
	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	log_event(LOG_INFO, "t", "time", "x", NULL);
	cr_expect(eq(str, (char *)taken(),
		     "{\"time\":\"2026-11-23T06:40:01.123Z\",\"level\":\"info\",\"event\":\"t\",\"_time\":\"x\"}\n"));
}

/* ---- JSON escaping, checked by a parser ---- */

static const char *json_value(const char *value)
{
	static char v[LOG_LINE_MAX];
	const char *line, *start;

	log_event(LOG_INFO, "t", "k", value, NULL);
	line = taken();
	cr_assert(strchr(line, '\n') == line + strlen(line) - 1, "exactly one line: %s", line);
	start = strstr(line, ",\"k\":\"");
	cr_assert(start != NULL, "%s", line);
	snprintf(v, sizeof(v), "%s", start + strlen(",\"k\":\""));
	cr_assert(strlen(v) >= 3 && strcmp(v + strlen(v) - 3, "\"}\n") == 0, "%s", line);
	v[strlen(v) - 3] = '\0';
	return v;
}

/* The line parses, and the value decodes to `decoded`. */
static void expect_json_decodes(const char *value, const char *decoded)
{
	json_error_t err;
	json_t *root;
	const char *line;

	log_event(LOG_INFO, "t", "k", value, NULL);
	line = taken();
	root = json_loads(line, 0, &err);
	cr_assert(root != NULL, "not JSON (%s): %s", err.text, line);
	cr_expect(eq(str, (char *)json_string_value(json_object_get(root, "k")), (char *)decoded), "%s", line);
	cr_expect(eq(str, (char *)json_string_value(json_object_get(root, "event")), "t"));
	cr_expect(eq(str, (char *)json_string_value(json_object_get(root, "level")), "info"));
	cr_expect(eq(sz, json_object_size(root), 4));
	json_decref(root);
}

Test(log, json_hostile_values_are_escaped)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\nb", "a\\nb" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "back\\slash", "back\\\\slash" },
		{ "\x1b[31mred", "\\u001b[31mred" },
		{ "\b\f\r\t", "\\u0008\\u000c\\r\\t" },
		{ "del\x7f", "del\\u007f" },
		{ "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x90\x82", "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x90\x82" },
		{ "csi\xc2\x9b", "csi\\u009b" },
		{ "line\xe2\x80\xa8sep", "line\\u2028sep" },
		{ "bad\xff", "bad\\ufffd" },
		{ "cut\xe2\x98", "cut\\ufffd\\ufffd" },
		{ "a=b c", "a=b c" },
	};

	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	for (size_t i = 0; i < COUNT(cases); i++)
		cr_expect(eq(str, (char *)json_value(cases[i].in), (char *)cases[i].out), "case %zu", i);
}

Test(log, json_lines_parse_back_to_the_original_values)
{
	static const char *const values[] = {
		"a\nb", "say \"hi\"", "back\\slash", "\x1b[31mred\x1b[0m", "\x01\x02\x1f\x7f", "h\xc3\xa9llo \xe2\x98\x83",
		"\xf0\x9f\x90\x82", "csi\xc2\x9b", "line\xe2\x80\xa8sep", "", "}{\"injected\":1",
	};

	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	for (size_t i = 0; i < COUNT(values); i++)
		expect_json_decodes(values[i], values[i]);
	expect_json_decodes("bad\xff", "bad\xef\xbf\xbd"); /* U+FFFD */
}

Test(log, json_event_names_and_keys_are_escaped_too)
{
	json_error_t err;
	json_t *root;
	const char *line;

	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	log_event(LOG_INFO, "ev\"\n", "k\"ey", "v", NULL);
	line = taken();
	root = json_loads(line, 0, &err);
	cr_assert(root != NULL, "not JSON (%s): %s", err.text, line);
	cr_expect(eq(str, (char *)json_string_value(json_object_get(root, "event")), "ev\"\n"));
	cr_expect(eq(str, (char *)json_string_value(json_object_get(root, "k\"ey")), "v"));
	json_decref(root);
}

/* ---- levels ---- */

Test(log, events_above_the_level_are_dropped)
{
	log_init(LOG_FORMAT_TEXT, LOG_WARN);
	cr_expect(log_enabled(LOG_ERROR));
	cr_expect(log_enabled(LOG_WARN));
	cr_expect(not(log_enabled(LOG_INFO)));
	cr_expect(not(log_enabled(LOG_DEBUG)));
	log_event(LOG_DEBUG, "d", NULL);
	log_event(LOG_INFO, "i", NULL);
	log_msg(LOG_INFO, "hidden");
	log_event(LOG_WARN, "w", NULL);
	log_event(LOG_ERROR, "e", NULL);
	cr_expect(eq(str, (char *)taken(), "2026-11-23T06:40:01.123Z warn w\n2026-11-23T06:40:01.123Z error e\n"));

	log_set_level(LOG_ERROR);
	log_event(LOG_WARN, "w", NULL);
	cr_expect(eq(str, (char *)taken(), ""));
	log_set_level(LOG_DEBUG);
	log_event(LOG_DEBUG, "d", NULL);
	cr_expect(eq(str, (char *)taken(), "2026-11-23T06:40:01.123Z debug d\n"));
}

Test(log, level_and_format_names_parse)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = { { "error", LOG_ERROR }, { "warn", LOG_WARN }, { "warning", LOG_WARN },
		       { "info", LOG_INFO },   { "debug", LOG_DEBUG } };
	enum log_level l;
	enum log_format f;

	for (size_t i = 0; i < COUNT(levels); i++) {
		l = LOG_ERROR == levels[i].level ? LOG_DEBUG : LOG_ERROR;
		cr_expect(eq(int, log_level_parse(levels[i].name, &l), 0), "%s", levels[i].name);
		cr_expect(eq(int, (int)l, (int)levels[i].level), "%s", levels[i].name);
	}
	cr_expect(eq(int, log_format_parse("text", &f), 0));
	cr_expect(eq(int, (int)f, LOG_FORMAT_TEXT));
	cr_expect(eq(int, log_format_parse("json", &f), 0));
	cr_expect(eq(int, (int)f, LOG_FORMAT_JSON));
	cr_expect(eq(str, (char *)log_level_name(LOG_WARN), "warn"));
	cr_expect(eq(str, (char *)log_format_name(LOG_FORMAT_JSON), "json"));
}

Test(log, unknown_names_are_refused_and_leave_the_value_alone)
{
	static const char *const bad[] = { "", "INFO", "Info", "verbose", "info ", "err", NULL };
	enum log_level l = LOG_INFO;
	enum log_format f = LOG_FORMAT_JSON;

	for (size_t i = 0; i < COUNT(bad); i++) {
		cr_expect(eq(int, log_level_parse(bad[i], &l), -EINVAL), "%s", bad[i] ? bad[i] : "NULL");
		cr_expect(eq(int, log_format_parse(bad[i], &f), -EINVAL), "%s", bad[i] ? bad[i] : "NULL");
	}
	cr_expect(eq(int, (int)l, LOG_INFO));
	cr_expect(eq(int, (int)f, LOG_FORMAT_JSON));
}

/* ---- limits and failures ---- */

static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);

	cr_assert(s != NULL);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

Test(log, an_overlong_text_line_is_cut_and_still_one_line)
{
	char *big = filled(3 * LOG_LINE_MAX, 'x');
	const char *line;

	log_event(LOG_INFO, "t", "a", "1", "big", big, "after", "2", NULL);
	line = taken();
	cr_expect(le(sz, strlen(line), (size_t)LOG_LINE_MAX));
	cr_expect(eq(int, strncmp(line, "2026-11-23T06:40:01.123Z info t a=1 big=xxxx", 44), 0));
	cr_expect(strstr(line, "after") == NULL);
	cr_expect(eq(str, (char *)line + strlen(line) - strlen(" truncated=true\n"), " truncated=true\n"));
	cr_expect(strchr(line, '\n') == line + strlen(line) - 1);
	free(big);
}

Test(log, an_overlong_json_line_is_cut_and_still_parses)
{
	/* Every byte escapes to six: the cut falls inside an escape run. */
	char *big = filled(LOG_LINE_MAX, '\x01');
	bool truncated;
	json_error_t err;
	json_t *root;
	const char *line;

	log_init(LOG_FORMAT_JSON, LOG_DEBUG);
	log_event(LOG_INFO, "t", "a", "1", "big", big, "after", "2", NULL);
	line = taken();
	cr_expect(le(sz, strlen(line), (size_t)LOG_LINE_MAX));
	root = json_loads(line, 0, &err);
	cr_assert(root != NULL, "not JSON (%s): %.200s", err.text, line);
	truncated = json_is_true(json_object_get(root, "truncated"));
	cr_expect(truncated);
	cr_expect(eq(str, (char *)json_string_value(json_object_get(root, "a")), "1"));
	cr_expect(gt(sz, strlen(json_string_value(json_object_get(root, "big"))), 1000));
	cr_expect(json_object_get(root, "after") == NULL);
	json_decref(root);
	free(big);
}

Test(log, lines_that_cannot_be_written_are_counted)
{
	uint64_t before = log_lost();

	log_set_fd(-1);
	log_event(LOG_ERROR, "t", NULL);
	log_event(LOG_DEBUG, "t", NULL);
	cr_expect(eq(u64, log_lost(), before + 2));
}

Test(log, errno_is_kept_for_the_caller)
{
	errno = ENOENT;
	log_msg(LOG_INFO, "open: %m");
	cr_expect(eq(int, errno, ENOENT));
	cr_expect(eq(str, (char *)taken(),
		     "2026-11-23T06:40:01.123Z info message msg=\"open: No such file or directory\"\n"));
	log_set_fd(-1); /* the failed write sets EBADF inside */
	errno = EEXIST;
	log_event(LOG_INFO, "t", NULL);
	cr_expect(eq(int, errno, EEXIST));
}

/* ---- threads ---- */

#define THREADS 8
#define LINES   400
#define PAD     5000 /* > PIPE_BUF (4096): the kernel alone would not keep these whole */

struct reader {
	int fd;
	char *data;
	size_t len, cap;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	for (;;) {
		if (r->cap - r->len < 65536) {
			r->cap = r->cap * 2 + 65536;
			r->data = realloc(r->data, r->cap);
			if (!r->data)
				abort();
		}
		n = read(r->fd, r->data + r->len, r->cap - r->len - 1);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	r->data[r->len] = '\0';
	return NULL;
}

static void *write_lines(void *arg)
{
	long t = (long)(intptr_t)arg;
	char *pad = filled(PAD, (char)('a' + t)), thread[8], seq[16];

	snprintf(thread, sizeof(thread), "%ld", t);
	for (int i = 0; i < LINES; i++) {
		snprintf(seq, sizeof(seq), "%d", i);
		log_event(LOG_INFO, "t", "thread", thread, "seq", seq, "pad", pad, NULL);
	}
	free(pad);
	return NULL;
}

Test(log, lines_from_threads_arrive_whole)
{
	static bool seen[THREADS][LINES];
	pthread_t writers[THREADS], reader;
	struct reader r = { 0 };
	int fds[2], lines = 0;
	char *line, *next;

	cr_assert(pipe(fds) == 0);
	r.fd = fds[0];
	log_set_fd(fds[1]);
	cr_assert(pthread_create(&reader, NULL, read_all, &r) == 0);
	for (long t = 0; t < THREADS; t++)
		cr_assert(pthread_create(&writers[t], NULL, write_lines, (void *)(intptr_t)t) == 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(writers[t], NULL);
	close(fds[1]);
	pthread_join(reader, NULL);
	close(fds[0]);
	log_set_fd(out_fd);

	for (line = r.data; *line; line = next) {
		int t, i, used = 0;
		char *pad;

		next = strchr(line, '\n');
		cr_assert(next != NULL, "a line without its end");
		*next++ = '\0';
		lines++;
		cr_assert(eq(int, sscanf(line, "2026-11-23T06:40:01.123Z info t thread=%d seq=%d pad=%n", &t, &i, &used), 2),
			  "line %d: %.120s", lines, line);
		cr_assert(t >= 0 && t < THREADS && i >= 0 && i < LINES && used > 0);
		pad = line + used;
		cr_assert(eq(sz, strlen(pad), PAD), "line %d: pad of %zu bytes", lines, strlen(pad));
		cr_assert(eq(sz, strspn(pad, (char[]){ (char)('a' + t), 0 }), PAD), "line %d: mixed", lines);
		cr_assert(not(seen[t][i]), "thread %d line %d twice", t, i);
		seen[t][i] = true;
	}
	cr_expect(eq(int, lines, THREADS * LINES));
	free(r.data);
}
