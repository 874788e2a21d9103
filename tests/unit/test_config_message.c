/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dataplane's first control message ("config 1" ... "end"), over a real
 * socketpair: --control-fd in argv (both forms, and values that are not a
 * descriptor), lines becoming "--key" "value" arguments, flags without a
 * value, CRLF, the bytes after "end" left for the next message, and every
 * failure with its errno: a wrong header (-EPROTO), silence (-ETIMEDOUT,
 * within the time allowed for the whole message, even from a peer that keeps
 * trickling), a closed peer (-EPIPE) and each size limit (-E2BIG).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config_message.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGV 32

/* ---- config_message_fd ---------------------------------------------------- */

static int fd_of(int argc, const char *const *argv)
{
	return config_message_fd(argc, (char **)argv);
}

Test(config_message_fd, both_forms)
{
	const char *a[] = { "stampede-dataplane", "--iface", "eth0", "--control-fd", "5" };
	const char *b[] = { "stampede-dataplane", "--control-fd=7", "--iface", "eth0" };
	const char *c[] = { "stampede-dataplane", "--control-fd", "0" };
	const char *d[] = { "stampede-dataplane", "--control-fd=65535" };

	cr_expect(eq(int, fd_of(COUNT(a), a), 5));
	cr_expect(eq(int, fd_of(COUNT(b), b), 7));
	cr_expect(eq(int, fd_of(COUNT(c), c), 0));
	cr_expect(eq(int, fd_of(COUNT(d), d), 65535));
}

Test(config_message_fd, absent_gives_minus_one)
{
	const char *none[] = { "stampede-dataplane", "--iface", "eth0" };
	const char *last[] = { "stampede-dataplane", "--iface", "eth0", "--control-fd" };
	const char *prog[] = { "--control-fd=3" }; /* argv[0] is the program, not an option */
	const char *prefix[] = { "stampede-dataplane", "--control-fdx=3", "--control" };

	cr_expect(eq(int, fd_of(COUNT(none), none), -1));
	cr_expect(eq(int, fd_of(COUNT(last), last), -1), "no value after it");
	cr_expect(eq(int, fd_of(COUNT(prog), prog), -1));
	cr_expect(eq(int, fd_of(COUNT(prefix), prefix), -1));
	cr_expect(eq(int, fd_of(0, NULL), -1));
}

Test(config_message_fd, bad_values_give_minus_one)
{
	static const char *const bad[] = { "", "x", "-1", "65536", "3x", "3 ", "99999999999999999999", "0x3" };

	for (size_t i = 0; i < COUNT(bad); i++) {
		char eq_form[64];
		const char *sep[] = { "stampede-dataplane", "--control-fd", bad[i] };
		const char *joined[] = { "stampede-dataplane", eq_form };

		snprintf(eq_form, sizeof(eq_form), "--control-fd=%s", bad[i]);
		cr_expect(eq(int, fd_of(COUNT(sep), sep), -1), "--control-fd \"%s\"", bad[i]);
		cr_expect(eq(int, fd_of(COUNT(joined), joined), -1), "%s", eq_form);
	}
}

Test(config_message_fd, first_occurrence_wins)
{
	const char *a[] = { "stampede-dataplane", "--control-fd=4", "--control-fd", "5" };

	cr_expect(eq(int, fd_of(COUNT(a), a), 4));
}

/* ---- config_message_read -------------------------------------------------- */

struct reader {
	int fds[2]; /* [0] read by config_message_read, [1] the control plane */
	char storage[CONFIG_MESSAGE_MAX];
	char *argv[MAX_ARGV];
	int argc;
	char err[256];
};

static void reader_open(struct reader *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, r->fds), 0));
	r->argv[0] = (char *)"stampede-dataplane";
	r->argc = 1;
}

static void reader_close(struct reader *r)
{
	if (r->fds[0] >= 0)
		close(r->fds[0]);
	if (r->fds[1] >= 0)
		close(r->fds[1]);
}

static void send_text(struct reader *r, const char *text)
{
	size_t len = strlen(text);

	cr_assert(eq(sz, (size_t)write(r->fds[1], text, len), len));
}

static int read_message(struct reader *r, int timeout_ms, size_t cap, int max)
{
	return config_message_read(r->fds[0], timeout_ms, r->storage, cap, r->argv, &r->argc, max, r->err,
				   sizeof(r->err));
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

Test(config_message_read, lines_become_arguments_and_the_rest_is_left_unread)
{
	struct reader r;
	char rest[64];
	ssize_t n;

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\ntftp-root /srv/tftp dir\nno-huge\neal --log-level 8\nend\npolicy 1\n");
	cr_assert(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), 0), "%s", r.err);
	cr_assert(eq(int, r.argc, 8));
	cr_expect(eq(str, r.argv[0], "stampede-dataplane"), "what was there is kept");
	cr_expect(eq(str, r.argv[1], "--iface"));
	cr_expect(eq(str, r.argv[2], "eth0"));
	cr_expect(eq(str, r.argv[3], "--tftp-root"));
	cr_expect(eq(str, r.argv[4], "/srv/tftp dir"), "the value is the rest of the line");
	cr_expect(eq(str, r.argv[5], "--no-huge"), "a flag has no value");
	cr_expect(eq(str, r.argv[6], "--eal"));
	cr_expect(eq(str, r.argv[7], "--log-level 8"));
	cr_expect(eq(ptr, r.argv[8], NULL));

	/* The next message is still in the socket, whole. */
	n = recv(r.fds[0], rest, sizeof(rest), MSG_DONTWAIT);
	cr_assert(eq(sz, (size_t)n, 9));
	cr_expect(eq(int, memcmp(rest, "policy 1\n", 9), 0));
	reader_close(&r);
}

Test(config_message_read, empty_message_adds_nothing)
{
	struct reader r;

	reader_open(&r);
	send_text(&r, "config 1\nend\n");
	cr_assert(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), 0), "%s", r.err);
	cr_expect(eq(int, r.argc, 1));
	reader_close(&r);
}

Test(config_message_read, crlf_lines_are_accepted)
{
	struct reader r;

	reader_open(&r);
	send_text(&r, "config 1\r\niface eth0\r\nno-huge\r\nend\r\n");
	cr_assert(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), 0), "%s", r.err);
	cr_assert(eq(int, r.argc, 4));
	cr_expect(eq(str, r.argv[2], "eth0"));
	cr_expect(eq(str, r.argv[3], "--no-huge"));
	reader_close(&r);
}

Test(config_message_read, message_in_pieces_is_assembled)
{
	struct reader r;
	pid_t child;

	reader_open(&r);
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		static const char *const pieces[] = { "conf", "ig 1\nif", "ace et", "h0\ne", "nd\n" };

		for (size_t i = 0; i < COUNT(pieces); i++) {
			usleep(20000);
			if (write(r.fds[1], pieces[i], strlen(pieces[i])) < 0)
				_exit(1);
		}
		_exit(0);
	}
	cr_expect(eq(int, read_message(&r, 2000, sizeof(r.storage), MAX_ARGV), 0), "%s", r.err);
	cr_expect(eq(int, r.argc, 3));
	cr_expect(eq(str, r.argv[2], "eth0"));
	waitpid(child, NULL, 0);
	reader_close(&r);
}

Test(config_message_read, wrong_header_is_eproto)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "config 2\nend\n", "control channel: expected \"config 1\", got \"config 2\"" },
		{ "policy 1\nend\n", "control channel: expected \"config 1\", got \"policy 1\"" },
		{ "\nconfig 1\nend\n", "control channel: expected \"config 1\", got \"\"" },
		{ "config 1 \nend\n", "control channel: expected \"config 1\", got \"config 1 \"" },
		{ "iface eth0\nend\n", "control channel: expected \"config 1\", got \"iface eth0\"" },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		struct reader r;

		reader_open(&r);
		send_text(&r, cases[i].text);
		cr_expect(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), -EPROTO), "%s", cases[i].text);
		cr_expect(eq(str, r.err, (char *)cases[i].err));
		cr_expect(eq(int, r.argc, 1));
		reader_close(&r);
	}
}

Test(config_message_read, nothing_sent_times_out_within_the_timeout)
{
	struct reader r;
	long start, took;

	reader_open(&r);
	start = now_ms();
	cr_expect(eq(int, read_message(&r, 200, sizeof(r.storage), MAX_ARGV), -ETIMEDOUT));
	took = now_ms() - start;
	cr_expect(ge(long, took, 190), "returned after %ld ms", took);
	cr_expect(lt(long, took, 1000), "returned after %ld ms", took);
	cr_expect(eq(str, r.err, "control channel: timed out before the end of the config message"));
	reader_close(&r);
}

Test(config_message_read, message_without_end_times_out)
{
	struct reader r;

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\n");
	cr_expect(eq(int, read_message(&r, 150, sizeof(r.storage), MAX_ARGV), -ETIMEDOUT));
	reader_close(&r);
}

/* The timeout is for the whole message: a peer that sends a line now and
 * then must not keep the dataplane waiting for ever. */
Test(config_message_read, trickling_peer_times_out_in_all)
{
	struct reader r;
	long start, took;
	pid_t child;

	reader_open(&r);
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		if (write(r.fds[1], "config 1\n", 9) < 0)
			_exit(1);
		for (int i = 0; i < 100; i++) {
			usleep(50000);
			if (write(r.fds[1], "no-huge\n", 8) < 0)
				_exit(0);
		}
		_exit(0);
	}
	start = now_ms();
	cr_expect(eq(int, read_message(&r, 300, sizeof(r.storage), MAX_ARGV), -ETIMEDOUT));
	took = now_ms() - start;
	cr_expect(lt(long, took, 1000), "returned after %ld ms", took);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	reader_close(&r);
}

Test(config_message_read, closed_peer_is_epipe)
{
	static const char *const texts[] = { "", "config 1\n", "config 1\niface eth0\n", "config 1\nifa" };

	for (size_t i = 0; i < COUNT(texts); i++) {
		struct reader r;

		reader_open(&r);
		send_text(&r, texts[i]);
		close(r.fds[1]);
		r.fds[1] = -1;
		cr_expect(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), -EPIPE), "after \"%s\"", texts[i]);
		cr_expect(eq(str, r.err, "control channel: closed before the end of the config message"));
		reader_close(&r);
	}
}

Test(config_message_read, line_longer_than_1023_bytes_is_e2big)
{
	struct reader r;
	char line[1100];

	/* 1023 bytes is the longest line. */
	reader_open(&r);
	memset(line, 'v', sizeof(line));
	memcpy(line, "eal ", 4);
	line[1023] = '\0';
	send_text(&r, "config 1\n");
	send_text(&r, line);
	send_text(&r, "\nend\n");
	cr_expect(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), 0), "%s", r.err);
	cr_expect(eq(sz, strlen(r.argv[2]), 1019));
	reader_close(&r);

	reader_open(&r);
	line[1023] = 'v';
	line[1024] = '\0';
	send_text(&r, "config 1\n");
	send_text(&r, line);
	send_text(&r, "\nend\n");
	cr_expect(eq(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), -E2BIG));
	cr_expect(strstr(r.err, "control channel:") == r.err, "%s", r.err);
	reader_close(&r);
}

/* "iface eth0" takes "--iface\0eth0\0": 13 bytes of storage. */
Test(config_message_read, storage_limit_is_e2big)
{
	struct reader r;

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\nend\n");
	cr_expect(eq(int, read_message(&r, 1000, 13, MAX_ARGV), 0), "%s", r.err);
	cr_expect(eq(str, r.argv[2], "eth0"));
	reader_close(&r);

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\nend\n");
	cr_expect(eq(int, read_message(&r, 1000, 12, MAX_ARGV), -E2BIG));
	cr_expect(eq(str, r.err, "control channel: config line 2 is empty or the message is too large"));
	cr_expect(eq(int, r.argc, 1), "nothing half-added");
	reader_close(&r);
}

/* A message of many lines overflows CONFIG_MESSAGE_MAX bytes of storage. */
Test(config_message_read, message_larger_than_config_message_max_is_e2big)
{
	struct reader r;
	char *many_argv[4096];
	int argc = 0;
	pid_t child;
	int ret;

	reader_open(&r);
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		char line[200];

		memset(line, 'x', sizeof(line));
		memcpy(line, "eal ", 4);
		line[198] = '\n';
		line[199] = '\0';
		if (write(r.fds[1], "config 1\n", 9) < 0)
			_exit(1);
		for (int i = 0; i < 200; i++) /* 200 x ~200 bytes > 16384 */
			if (write(r.fds[1], line, 199) < 0)
				_exit(0);
		_exit(0);
	}
	ret = config_message_read(r.fds[0], 2000, r.storage, sizeof(r.storage), many_argv, &argc, 4096, r.err,
				  sizeof(r.err));
	cr_expect(eq(int, ret, -E2BIG), "%s", r.err);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	reader_close(&r);
}

/* argv has room for max entries including the final NULL. */
Test(config_message_read, argv_limit_is_e2big)
{
	struct reader r;

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\nend\n");
	cr_expect(eq(int, read_message(&r, 1000, sizeof(r.storage), 4), 0), "%s", r.err);
	cr_expect(eq(int, r.argc, 3));
	cr_expect(eq(ptr, r.argv[3], NULL));
	reader_close(&r);

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\nno-huge\nend\n");
	cr_expect(eq(int, read_message(&r, 1000, sizeof(r.storage), 4), -E2BIG));
	cr_expect(eq(int, r.argc, 3));
	reader_close(&r);
}

Test(config_message_read, empty_line_is_refused)
{
	struct reader r;

	reader_open(&r);
	send_text(&r, "config 1\niface eth0\n\nend\n");
	cr_expect(lt(int, read_message(&r, 1000, sizeof(r.storage), MAX_ARGV), 0));
	cr_expect(eq(str, r.err, "control channel: config line 3 is empty or the message is too large"));
	reader_close(&r);
}

Test(config_message_read, bad_descriptor_is_an_error_not_a_hang)
{
	struct reader r;
	long start = now_ms();
	int ret, fd;

	reader_open(&r);
	fd = dup(r.fds[0]);
	cr_assert(ge(int, fd, 0));
	close(fd); /* a number that is no open descriptor */
	ret = config_message_read(fd, 300, r.storage, sizeof(r.storage), r.argv, &r.argc, MAX_ARGV, r.err,
				  sizeof(r.err));
	cr_expect(eq(int, ret, -EBADF), "%s", r.err);
	cr_expect(lt(long, now_ms() - start, 200), "at once, not after the timeout");
	reader_close(&r);
}

/* ---- config_message_within_pins, config_message_repin -------------------- */

static const char pinned_message[] = "config 1\niface eth0\naddr 10.0.0.1\ntftp-root /srv/tftp\n"
				     "image a.efi=/a.efi\npmd af_xdp\neal --log-level=3\nno-huge\nend\n";

static bool within(const char *fresh, char *err)
{
	return config_message_within_pins(pinned_message, fresh, err, 256);
}

Test(config_message_pins, the_same_message_and_changeable_lines_pass)
{
	char err[256] = "";

	cr_expect(within(pinned_message, err), "%s", err);
	cr_expect(within("config 1\niface eth0\naddr 10.0.0.1\ntftp-root /srv/other\nimage b.efi=/b.efi\n"
			 "image c.efi=/c.efi\npmd af_xdp\ncache-mb 64\neal --log-level=3\nno-huge\nmax-sessions 10\n"
			 "tftp-rate-per-source 0\nend\n",
			 err),
		  "%s", err);
	cr_expect(within("config 1\niface eth0\naddr 10.0.0.1\npmd af_xdp\neal --log-level=3\nno-huge\nend\n", err),
		  "changeable lines may go: %s", err);
}

Test(config_message_pins, the_address_and_the_port_range_are_pinned)
{
	char err[256] = "";

	cr_expect(not(within("config 1\niface eth0\naddr 10.0.0.9\npmd af_xdp\neal --log-level=3\nno-huge\nend\n",
			     err)),
		  "the XDP program would take another address's UDP");
	cr_expect(eq(str, err, "\"addr 10.0.0.9\" where the first dataplane started with \"addr 10.0.0.1\""));
	cr_expect(not(within("config 1\niface eth0\naddr 10.0.0.1\npmd af_xdp\neal --log-level=3\nno-huge\n"
			     "port-range 5000-5999\nend\n",
			     err)),
		  "or the host's UDP ports of another range");
}

Test(config_message_pins, a_pinned_line_changed_added_or_missing_is_named)
{
	char err[256] = "";

	cr_expect(not(within("config 1\niface eth1\naddr 10.0.0.1\npmd af_xdp\neal --log-level=3\nno-huge\nend\n",
			     err)));
	cr_expect(eq(str, err, "\"iface eth1\" where the first dataplane started with \"iface eth0\""));
	cr_expect(not(within("config 1\niface eth0\naddr 10.0.0.1\npmd af_xdp\neal --log-level=3\nno-huge\nlcores 2\n"
			     "end\n",
			     err)));
	cr_expect(eq(str, err, "\"lcores 2\" where the first dataplane started with \"end\""));
	cr_expect(not(within("config 1\niface eth0\naddr 10.0.0.1\npmd af_xdp\neal --log-level=3\nend\n", err)));
	cr_expect(eq(str, err, "\"end\" where the first dataplane started with \"no-huge\""));
	cr_expect(not(within("config 1\niface eth0\npmd af_xdp\neal --log-level=3\nno-huge\n", err)));
	cr_expect(eq(str, err, "not one whole config message (\"config 1\" ... \"end\")"));
}

Test(config_message_pins, only_the_exact_spelling_of_a_changeable_key_is_changeable)
{
	const char *const sneaky[] = {
		"tftp-root=/x",           /* getopt_long's --key=value */
		"tftp-ro /x",             /* an abbreviation */
		"tftp-root",              /* no value: the next line would be it */
		"tftp-root  -d",          /* a blank value */
		"tftp-root /x\r",         /* a carriage return the reader strips */
		"e --log-level=3 -d x.so", /* an abbreviation of a pinned key */
	};

	for (size_t i = 0; i < COUNT(sneaky); i++) {
		char fresh[512], err[256] = "";

		snprintf(fresh, sizeof(fresh),
			 "config 1\niface eth0\n%s\npmd af_xdp\neal --log-level=3\nno-huge\nend\n", sneaky[i]);
		cr_expect(not(within(fresh, err)), "\"%s\" passed", sneaky[i]);
	}
}

Test(config_message_pins, nothing_after_end)
{
	char err[256] = "";

	cr_expect(not(within("config 1\niface eth0\npmd af_xdp\neal --log-level=3\nno-huge\nend\neal -d x\nend\n",
			     err)));
	cr_expect(not(within("iface eth0\npmd af_xdp\neal --log-level=3\nno-huge\nend\n", err)), "no header");
}

Test(config_message_pins, repin_keeps_the_first_pinned_lines_and_the_fresh_changeable_ones)
{
	static const char repinned[] = "config 1\niface eth0\naddr 10.0.0.1\npmd af_xdp\neal --log-level=3\nno-huge\n"
				       "tftp-root /srv/new\nimage b.efi=/b.efi\nend\n";
	char err[256] = "";
	char *m = config_message_repin(pinned_message, "config 1\niface eth1\naddr 10.0.0.2\ntftp-root /srv/new\n"
						       "pmd af_packet\nimage b.efi=/b.efi\nend\n");

	cr_assert(m != NULL);
	cr_expect(eq(str, m, (char *)repinned));
	cr_expect(within(m, err), "a repinned message is always within the pins: %s", err);
	free(m);
	cr_expect(config_message_repin(pinned_message, "config 1\niface eth0\n") == NULL, "not whole");
}
