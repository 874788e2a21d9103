/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading the dataplane's counters (control/dataplane_stats.c).
 *
 * The parser over text: a reply as the dataplane prints it, then one bad line
 * at a time (each skipped and counted), value and name limits, repeats, the
 * missing ".", an "error:" reply, the counter limit, buffers that end at an
 * unreadable page, and random bytes. Then the socket, served by a thread of
 * the test on a unix socket in a temporary directory: a good reply, a
 * dataplane that never answers (timed out within the 2 s limit), one that
 * never accepts, one that trickles, one that closes early, one that never
 * stops, and the ways a socket cannot be reached.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dataplane_stats.h"
#include "support.h"

/* The start of a real reply (stampede stats --iface veth0, on the network
 * tests' namespace pair), in the dataplane's order: not sorted. */
static const char real_reply[] = "rx_packets 1207\n"
				 "rx_bytes 98234\n"
				 "tx_packets 1186\n"
				 "tx_bytes 1290310\n"
				 "tx_dropped 0\n"
				 "cache_swaps 1\n"
				 "drop_short_frame 0\n"
				 "drop_not_ipv4 12\n"
				 "tftp_requests 3\n"
				 "tftp_data_bytes 1048576\n"
				 "tftp_active_sessions 0\n"
				 "dhcp_received_discover 2\n"
				 "dhcp_offer 2\n"
				 "xdp_redirect 1190\n"
				 "events_dropped 0\n"
				 ".\n";

static int parse(const char *text, struct dataplane_stats *out)
{
	char err[256] = "";

	return dataplane_stats_parse(text, strlen(text), out, err, sizeof(err));
}

static uint64_t value_of(const struct dataplane_stats *s, const char *name)
{
	uint64_t v = 0;

	cr_assert(dataplane_stats_get(s, name, &v), "counter %s present", name);
	return v;
}

static void assert_sorted_unique(const struct dataplane_stats *s)
{
	for (size_t i = 1; i < s->n; i++)
		cr_assert(lt(int, strcmp(s->items[i - 1].name, s->items[i].name), 0), "%s before %s",
			  s->items[i - 1].name, s->items[i].name);
}

/* ---- parser ----------------------------------------------------------------- */

Test(dataplane_stats_parse, real_reply_is_read_whole_and_sorted)
{
	struct dataplane_stats s;

	cr_assert(eq(int, parse(real_reply, &s), 0));
	cr_assert(eq(sz, s.n, 15));
	cr_assert(eq(sz, s.malformed, 0));
	assert_sorted_unique(&s);
	cr_assert(eq(u64, value_of(&s, "rx_packets"), 1207));
	cr_assert(eq(u64, value_of(&s, "tftp_data_bytes"), 1048576));
	cr_assert(eq(u64, value_of(&s, "xdp_redirect"), 1190));
	cr_assert(eq(u64, value_of(&s, "tx_dropped"), 0));
	dataplane_stats_free(&s);
	cr_assert(eq(sz, s.n, 0));
	cr_assert(eq(ptr, s.items, NULL));
	dataplane_stats_free(&s); /* twice is harmless */
}

Test(dataplane_stats_parse, lookup_of_absent_names_fails)
{
	struct dataplane_stats s, empty = { 0 };
	uint64_t v = 42;

	cr_assert(eq(int, parse(real_reply, &s), 0));
	cr_assert(not(dataplane_stats_get(&s, "rx_packet", &v)));
	cr_assert(not(dataplane_stats_get(&s, "rx_packetss", &v)));
	cr_assert(not(dataplane_stats_get(&s, "", &v)));
	cr_assert(not(dataplane_stats_get(&s, "zzz", &v)));
	cr_assert(not(dataplane_stats_get(&s, "aaa", &v)));
	cr_assert(not(dataplane_stats_get(&empty, "rx_packets", &v)));
	cr_assert(not(dataplane_stats_get(NULL, "rx_packets", &v)));
	cr_assert(eq(u64, v, 42), "untouched when absent");
	dataplane_stats_free(&s);
}

/* Each line is wrong in one way; around it, two good counters that must
 * survive. */
Test(dataplane_stats_parse, every_malformed_line_is_skipped_and_counted)
{
	static const char *const bad[] = {
		"",                            /* empty */
		"rx_packets",                  /* no value */
		"rx_packets ",                 /* empty value */
		" rx_packets 1",               /* leading space: empty name */
		"rx_packets  1",               /* two spaces */
		"rx_packets 1 ",               /* trailing space */
		"rx_packets 1 2",              /* two values */
		"rx_packets -1",               /* sign */
		"rx_packets +1",               /* sign */
		"rx_packets 1x",               /* not a number */
		"rx_packets 0x10",             /* hexadecimal */
		"rx_packets 1.5",              /* fraction */
		"rx_packets\t1",               /* tab */
		"rx_packets 1\r",              /* CRLF */
		"Rx_packets 1",                /* upper case */
		"rx-packets 1",                /* dash */
		"rx.packets 1",                /* dot */
		"r\xc3\xa9 1",                 /* UTF-8 */
		"..",                          /* not the terminator */
		". ",                          /* not the terminator */
		"event tftp state=completed",  /* an event line */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct dataplane_stats s;

		snprintf(text, sizeof(text), "a_first 1\n%s\nz_last 2\n.\n", bad[i]);
		cr_assert(eq(int, parse(text, &s), 0), "line %zu \"%s\"", i, bad[i]);
		cr_assert(eq(sz, s.n, 2), "line %zu \"%s\"", i, bad[i]);
		cr_assert(eq(sz, s.malformed, 1), "line %zu \"%s\"", i, bad[i]);
		cr_assert(eq(u64, value_of(&s, "a_first"), 1));
		cr_assert(eq(u64, value_of(&s, "z_last"), 2));
		dataplane_stats_free(&s);
	}
}

Test(dataplane_stats_parse, nul_bytes_inside_a_line_make_it_malformed)
{
	static const char text[] = "a 1\nrx\0packets 5\nb 7\0\nc 3\n.\n";
	struct dataplane_stats s;
	char err[128];

	cr_assert(eq(int, dataplane_stats_parse(text, sizeof(text) - 1, &s, err, sizeof(err)), 0));
	cr_assert(eq(sz, s.n, 2));
	cr_assert(eq(sz, s.malformed, 2));
	cr_assert(eq(u64, value_of(&s, "a"), 1));
	cr_assert(eq(u64, value_of(&s, "c"), 3));
	dataplane_stats_free(&s);
}

Test(dataplane_stats_parse, values_up_to_uint64_max_and_no_further)
{
	struct dataplane_stats s;

	cr_assert(eq(int, parse("max 18446744073709551615\n"      /* 2^64 - 1 */
				"over 18446744073709551616\n"     /* 2^64 */
				"far_over 18446744073709551620\n" /* last digit overflows */
				"huge 99999999999999999999999999999999999999\n"
				"zero 0\n"
				"padded 000000000000000000000000000042\n" /* long, but fits */
				".\n",
				&s),
		      0));
	cr_assert(eq(sz, s.n, 3));
	cr_assert(eq(sz, s.malformed, 3));
	cr_assert(eq(u64, value_of(&s, "max"), UINT64_MAX));
	cr_assert(eq(u64, value_of(&s, "zero"), 0));
	cr_assert(eq(u64, value_of(&s, "padded"), 42));
	dataplane_stats_free(&s);
}

Test(dataplane_stats_parse, names_up_to_63_bytes)
{
	char name63[64], name64[65], text[512];
	struct dataplane_stats s;

	memset(name63, 'a', 63);
	name63[63] = '\0';
	memset(name64, 'b', 64);
	name64[64] = '\0';
	snprintf(text, sizeof(text), "%s 1\n%s 2\n.\n", name63, name64);
	cr_assert(eq(int, parse(text, &s), 0));
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(sz, s.malformed, 1));
	cr_assert(eq(u64, value_of(&s, name63), 1));
	cr_assert(eq(sz, strlen(s.items[0].name), 63));
	dataplane_stats_free(&s);
}

Test(dataplane_stats_parse, a_ten_kilobyte_line_is_skipped)
{
	size_t len = 10 * 1024;
	char *text = malloc(len + 32);
	struct dataplane_stats s;
	char err[128];

	cr_assert(not(eq(ptr, text, NULL)));
	memset(text, 'x', len);
	memcpy(text + len, " 1\nok 5\n.\n", 11);
	cr_assert(eq(int, dataplane_stats_parse(text, len + 10, &s, err, sizeof(err)), 0));
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(sz, s.malformed, 1));
	cr_assert(eq(u64, value_of(&s, "ok"), 5));
	dataplane_stats_free(&s);
	free(text);
}

Test(dataplane_stats_parse, a_repeated_name_keeps_its_first_value)
{
	struct dataplane_stats s;

	cr_assert(eq(int, parse("b 1\na 2\nb 3\nb 4\n.\n", &s), 0));
	cr_assert(eq(sz, s.n, 2));
	cr_assert(eq(sz, s.malformed, 2));
	cr_assert(eq(u64, value_of(&s, "b"), 1));
	cr_assert(eq(u64, value_of(&s, "a"), 2));
	assert_sorted_unique(&s);
	dataplane_stats_free(&s);
}

Test(dataplane_stats_parse, missing_terminator_is_an_error_and_leaves_nothing)
{
	static const char *const cut[] = {
		"",
		"rx_packets 1\n",
		"rx_packets 1\ntx_packets 12",  /* cut inside the last line */
		"rx_packets 1\n.x\n",
		"rx_packets 1\n..\n",
	};
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct dataplane_stats s = { .n = 99 };
		char err[128] = "";

		cr_assert(eq(int, dataplane_stats_parse(cut[i], strlen(cut[i]), &s, err, sizeof(err)), -EPROTO), "%zu",
			  i);
		cr_assert(eq(sz, s.n, 0));
		cr_assert(eq(ptr, s.items, NULL));
		cr_assert(not(eq(ptr, strstr(err, "\".\""), NULL)), "err says what is missing: %s", err);
	}
}

Test(dataplane_stats_parse, terminator_without_newline_and_text_after_it)
{
	struct dataplane_stats s;

	cr_assert(eq(int, parse("a 1\n.", &s), 0));
	cr_assert(eq(sz, s.n, 1));
	dataplane_stats_free(&s);

	cr_assert(eq(int, parse("a 1\n.\nb 2\ngarbage\n", &s), 0));
	cr_assert(eq(sz, s.n, 1), "nothing after \".\" is read");
	cr_assert(eq(sz, s.malformed, 0));
	dataplane_stats_free(&s);

	cr_assert(eq(int, parse(".\n", &s), 0));
	cr_assert(eq(sz, s.n, 0));
	cr_assert(eq(ptr, s.items, NULL));
	dataplane_stats_free(&s);
}

Test(dataplane_stats_parse, an_error_reply_is_quoted_printably)
{
	static const char text[] = "error: out of memory\x1b[31m\n";
	struct dataplane_stats s;
	char err[128];

	cr_assert(eq(int, dataplane_stats_parse(text, sizeof(text) - 1, &s, err, sizeof(err)), -EREMOTEIO));
	cr_assert(eq(str, err, "the dataplane refused: \"error: out of memory?[31m\""));
	cr_assert(eq(sz, s.n, 0));
	cr_assert(eq(ptr, s.items, NULL));

	/* After counters, too: the dataplane never mixes them, so do not guess. */
	cr_assert(eq(int, parse("a 1\nerror: busy\n.\n", &s), -EREMOTEIO));
	cr_assert(eq(ptr, s.items, NULL));
}

static char *numbered_reply(size_t count, size_t *len)
{
	size_t cap = count * 32 + 8, n = 0;
	char *text = malloc(cap);

	cr_assert(not(eq(ptr, text, NULL)));
	for (size_t i = 0; i < count; i++)
		n += (size_t)snprintf(text + n, cap - n, "c%05zu %zu\n", i, i);
	n += (size_t)snprintf(text + n, cap - n, ".\n");
	*len = n;
	return text;
}

Test(dataplane_stats_parse, at_most_4096_counters)
{
	struct dataplane_stats s;
	char err[128];
	size_t len;
	char *text = numbered_reply(DATAPLANE_STATS_MAX_COUNTERS, &len);

	cr_assert(eq(int, dataplane_stats_parse(text, len, &s, err, sizeof(err)), 0));
	cr_assert(eq(sz, s.n, 4096));
	cr_assert(eq(u64, value_of(&s, "c04095"), 4095));
	assert_sorted_unique(&s);
	dataplane_stats_free(&s);
	free(text);

	text = numbered_reply(DATAPLANE_STATS_MAX_COUNTERS + 1, &len);
	cr_assert(eq(int, dataplane_stats_parse(text, len, &s, err, sizeof(err)), -E2BIG));
	cr_assert(eq(ptr, s.items, NULL));
	cr_assert(not(eq(ptr, strstr(err, "4096"), NULL)), "%s", err);
	free(text);
}

/* Malformed lines do not count against the limit: only kept counters do. */
Test(dataplane_stats_parse, skipped_lines_are_not_counters)
{
	size_t cap = 6000 * 8 + 16, n = 0;
	char *text = malloc(cap), err[128];
	struct dataplane_stats s;

	cr_assert(not(eq(ptr, text, NULL)));
	for (int i = 0; i < 6000; i++)
		n += (size_t)snprintf(text + n, cap - n, "BAD 1\n");
	n += (size_t)snprintf(text + n, cap - n, "a 1\n.\n");
	cr_assert(eq(int, dataplane_stats_parse(text, n, &s, err, sizeof(err)), 0));
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(sz, s.malformed, 6000));
	dataplane_stats_free(&s);
	free(text);
}

/* The last byte of each buffer is the last readable one: reading past the
 * length given faults. */
Test(dataplane_stats_parse, never_reads_past_the_buffer)
{
	static const char *const tails[] = { "a 1\n.", "a 1\n.\n", "a 1", "a 12345", "a ", "error: x", ".", "a" };
	struct guard g;

	guard_open(&g);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t len = strlen(tails[i]);
		const char *p = (const char *)guard_tail(&g, tails[i], len);
		struct dataplane_stats s;
		char err[128];
		int r = dataplane_stats_parse(p, len, &s, err, sizeof(err));

		cr_assert(r == 0 || r == -EPROTO || r == -EREMOTEIO, "%zu: %d", i, r);
		dataplane_stats_free(&s);
	}
	guard_close(&g);
}

/* Random bytes over an alphabet that makes near-valid lines likely. Whatever
 * comes in, the result is either an error with nothing allocated or counters
 * that are sorted, unique, and named in [a-z0-9_]. */
Test(dataplane_stats_parse, random_bytes_never_break_it)
{
	static const char alphabet[] = "abz09_ \n.\n1\n9 \x00\xff-error:";
	uint32_t seed = 12345;
	char buf[600];

	for (int round = 0; round < 20000; round++) {
		struct dataplane_stats s;
		char err[128];
		size_t len;
		int r;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		r = dataplane_stats_parse(buf, len, &s, err, sizeof(err));
		if (r < 0) {
			cr_assert(r == -EPROTO || r == -EREMOTEIO, "round %d: %d", round, r);
			cr_assert(eq(ptr, s.items, NULL));
			continue;
		}
		assert_sorted_unique(&s);
		for (size_t i = 0; i < s.n; i++) {
			size_t nl = strlen(s.items[i].name);

			cr_assert(nl >= 1 && nl <= DATAPLANE_STATS_NAME_MAX);
			cr_assert(eq(sz, strspn(s.items[i].name, "abcdefghijklmnopqrstuvwxyz0123456789_"), nl));
		}
		dataplane_stats_free(&s);
	}
}

/* ---- a dataplane on a unix socket ------------------------------------------- */

enum behaviour {
	ANSWER,          /* read the command, write the reply, close */
	ANSWER_AND_HOLD, /* the same, then keep the connection open until the client leaves */
	SILENT,          /* read the command, then nothing until the client leaves */
	TRICKLE,         /* one byte of the reply every 50 ms */
	ENDLESS,         /* well-formed counters, forever */
};

struct fake_dataplane {
	char dir[64], path[100];
	int listen_fd;
	pthread_t thread;
	bool running;
	enum behaviour behaviour;
	const char *reply;
	size_t reply_len;
	char command[64]; /* what the client sent */
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void wait_for_close(int fd)
{
	char c;

	while (recv(fd, &c, 1, 0) > 0)
		;
}

static void *serve_one(void *arg)
{
	struct fake_dataplane *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	size_t got = 0;

	if (fd < 0)
		return NULL;
	/* The command: up to its newline. */
	while (got < sizeof(f->command) - 1) {
		ssize_t r = recv(fd, f->command + got, 1, 0);

		if (r <= 0)
			break;
		if (f->command[got++] == '\n')
			break;
	}
	f->command[got] = '\0';
	switch (f->behaviour) {
	case ANSWER:
	case ANSWER_AND_HOLD:
		send(fd, f->reply, f->reply_len, MSG_NOSIGNAL);
		if (f->behaviour == ANSWER_AND_HOLD)
			wait_for_close(fd);
		break;
	case SILENT:
		wait_for_close(fd);
		break;
	case TRICKLE:
		for (size_t i = 0; i < f->reply_len; i++) {
			if (send(fd, f->reply + i, 1, MSG_NOSIGNAL) != 1)
				break;
			sleep_ms(50);
		}
		break;
	case ENDLESS:
		for (unsigned long i = 0;; i++) {
			char line[64];
			int n = snprintf(line, sizeof(line), "counter_%lu %lu\n", i % 1000, i);

			if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
				break;
		}
		break;
	}
	close(fd);
	return NULL;
}

/* listening: false binds the path without listen() (connections refused).
 * serve: false listens but never accepts. */
static void fake_start(struct fake_dataplane *f, enum behaviour b, const char *reply, bool listening, bool serve)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/stampede-stats-XXXXXX");
	cr_assert(not(eq(ptr, mkdtemp(f->dir), NULL)));
	snprintf(f->path, sizeof(f->path), "%s/dp.sock", f->dir);
	f->behaviour = b;
	f->reply = reply;
	f->reply_len = reply ? strlen(reply) : 0;
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(ge(int, f->listen_fd, 0));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f->path);
	cr_assert(eq(int, bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	if (listening)
		cr_assert(eq(int, listen(f->listen_fd, 4), 0));
	if (serve) {
		cr_assert(eq(int, pthread_create(&f->thread, NULL, serve_one, f), 0));
		f->running = true;
	}
}

static void fake_stop(struct fake_dataplane *f)
{
	if (f->running)
		pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(dataplane_stats_read, reads_the_counters_the_dataplane_sends)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	char err[256] = "";

	fake_start(&f, ANSWER, real_reply, true, true);
	cr_assert(eq(int, dataplane_stats_read(f.path, &s, err, sizeof(err)), 0), "%s", err);
	fake_stop(&f);
	cr_assert(eq(str, f.command, "stats\n"));
	cr_assert(eq(sz, s.n, 15));
	cr_assert(eq(u64, value_of(&s, "tx_bytes"), 1290310));
	dataplane_stats_free(&s);
}

/* The dataplane closes after its reply, but the line "." is what ends it: a
 * peer that keeps the connection open does not make us wait. */
Test(dataplane_stats_read, the_line_dot_ends_the_reply_not_the_close)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	struct timespec t0;
	char err[256] = "";
	int r;

	fake_start(&f, ANSWER_AND_HOLD, real_reply, true, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = dataplane_stats_read(f.path, &s, err, sizeof(err));
	cr_assert(lt(dbl, seconds_since(&t0), 0.5));
	cr_assert(eq(int, r, 0), "%s", err);
	cr_assert(eq(sz, s.n, 15));
	dataplane_stats_free(&s);
	fake_stop(&f); /* the client closed: the fake returns */
}

Test(dataplane_stats_read, a_dataplane_that_never_answers_times_out_within_2s)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	struct timespec t0;
	char err[256] = "";
	double took;
	int r;

	fake_start(&f, SILENT, NULL, true, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = dataplane_stats_read(f.path, &s, err, sizeof(err));
	took = seconds_since(&t0);
	fake_stop(&f);
	cr_assert(eq(int, r, -ETIMEDOUT), "%s", err);
	cr_assert(ge(dbl, took, 1.9));
	cr_assert(lt(dbl, took, 2.5));
	cr_assert(eq(ptr, s.items, NULL));
	cr_assert(not(eq(ptr, strstr(err, f.path), NULL)), "err names the socket: %s", err);
	cr_assert(not(eq(ptr, strstr(err, "2000 ms"), NULL)), "err says the limit: %s", err);
}

/* The connection sits in the backlog: connect() succeeds, nothing is read. */
Test(dataplane_stats_read, a_dataplane_that_never_accepts_times_out)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	struct timespec t0;
	char err[256] = "";
	double took;
	int r;

	fake_start(&f, SILENT, NULL, true, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = dataplane_stats_read_timeout(f.path, 300, &s, err, sizeof(err));
	took = seconds_since(&t0);
	fake_stop(&f);
	cr_assert(eq(int, r, -ETIMEDOUT), "%s", err);
	cr_assert(ge(dbl, took, 0.29));
	cr_assert(lt(dbl, took, 0.8));
}

/* A byte every 50 ms never lets one read wait long: the limit is for the
 * whole exchange, not per read. */
Test(dataplane_stats_read, a_trickling_reply_is_bounded_by_one_deadline)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	struct timespec t0;
	char err[256] = "";
	double took;
	int r;

	fake_start(&f, TRICKLE, real_reply, true, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = dataplane_stats_read_timeout(f.path, 400, &s, err, sizeof(err));
	took = seconds_since(&t0);
	fake_stop(&f);
	cr_assert(eq(int, r, -ETIMEDOUT), "%s", err);
	cr_assert(lt(dbl, took, 0.8));
}

Test(dataplane_stats_read, a_reply_cut_short_by_a_close_is_an_error)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	char err[256] = "";

	fake_start(&f, ANSWER, "rx_packets 1207\ntx_pack", true, true);
	cr_assert(eq(int, dataplane_stats_read(f.path, &s, err, sizeof(err)), -EPROTO), "%s", err);
	fake_stop(&f);
	cr_assert(eq(ptr, s.items, NULL));
	cr_assert(not(eq(ptr, strstr(err, f.path), NULL)), "%s", err);
}

Test(dataplane_stats_read, a_close_without_a_reply_is_an_error)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	char err[256] = "";

	fake_start(&f, ANSWER, "", true, true);
	cr_assert(eq(int, dataplane_stats_read(f.path, &s, err, sizeof(err)), -EPROTO), "%s", err);
	fake_stop(&f);
}

Test(dataplane_stats_read, an_error_reply_is_passed_on)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	char err[256] = "";

	fake_start(&f, ANSWER, "error: out of memory\n", true, true);
	cr_assert(eq(int, dataplane_stats_read(f.path, &s, err, sizeof(err)), -EREMOTEIO), "%s", err);
	fake_stop(&f);
	cr_assert(not(eq(ptr, strstr(err, "out of memory"), NULL)), "%s", err);
}

Test(dataplane_stats_read, a_reply_that_never_ends_is_cut_at_its_size_limit)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	struct timespec t0;
	char err[256] = "";
	int r;

	fake_start(&f, ENDLESS, NULL, true, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = dataplane_stats_read(f.path, &s, err, sizeof(err));
	cr_assert(lt(dbl, seconds_since(&t0), 1.5), "refused on size, not on time");
	fake_stop(&f); /* its next send fails: we closed */
	cr_assert(eq(int, r, -EMSGSIZE), "%s", err);
	cr_assert(eq(ptr, s.items, NULL));
}

Test(dataplane_stats_read, no_socket_says_is_it_running)
{
	struct dataplane_stats s;
	char err[256] = "";

	cr_assert(eq(int, dataplane_stats_read("/tmp/stampede-no-such-dir/dp.sock", &s, err, sizeof(err)), -ENOENT));
	cr_assert(eq(str, err, "cannot reach the dataplane at /tmp/stampede-no-such-dir/dp.sock: "
			       "No such file or directory (is it running?)"));
}

Test(dataplane_stats_read, a_socket_nobody_listens_on_is_refused)
{
	struct fake_dataplane f;
	struct dataplane_stats s;
	char err[256] = "";

	fake_start(&f, SILENT, NULL, false, false);
	cr_assert(eq(int, dataplane_stats_read(f.path, &s, err, sizeof(err)), -ECONNREFUSED), "%s", err);
	fake_stop(&f);
}

Test(dataplane_stats_read, a_path_too_long_for_a_socket_address)
{
	char path[200];
	struct dataplane_stats s;
	char err[256] = "";

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	cr_assert(eq(int, dataplane_stats_read(path, &s, err, sizeof(err)), -ENAMETOOLONG));
	cr_assert(eq(int, dataplane_stats_read_timeout("/x", 0, &s, err, sizeof(err)), -EINVAL));
}
