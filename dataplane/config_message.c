/* SPDX-License-Identifier: BSD-2-Clause */
#include "config_message.h"

#include <errno.h>
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
