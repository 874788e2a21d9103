/* SPDX-License-Identifier: BSD-2-Clause */
#include "control_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define POLL_INTERVAL_MS   20   /* also the event latency and the housekeeping period */
#define MAX_CONNECTIONS    8    /* the control plane, a few CLI calls, a subscriber or two */
#define CLIENT_TIMEOUT_MS  2000 /* a one-shot client that says nothing is dropped */
#define MAX_MESSAGE        (8u << 20) /* a policy with 65536-entry lists fits */
#define OUTBOX_CAP         (256u << 10)
#define EVENT_BATCH        (64u << 10)

struct connection {
	int fd;
	bool persistent; /* the control plane's descriptor: never closed by us */
	bool subscriber; /* receives event lines */
	int collecting;  /* enum body_kind: inside "policy 1"/"images 1" until "end" */
	bool done;       /* one-shot connection that has had its reply */
	char *in;        /* received, not yet consumed */
	size_t in_len, in_cap;
	char *body;      /* the message being collected */
	size_t body_len, body_cap;
	char *out;       /* queued for sending */
	size_t out_len, out_cap;
	struct timespec opened;
};

struct control_channel {
	pthread_t thread;
	int listen_fd;
	int stop_pipe[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_ops ops;
	volatile sig_atomic_t *reload_requested;
	struct connection conns[MAX_CONNECTIONS];
	pthread_mutex_t announce_lock;
	char *announcement; /* a line for the control plane, set by another thread */
	char *ready_line;   /* the last announcement, repeated to a control plane that attaches */
	unsigned long long events_dropped;
};

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *data, size_t n, size_t limit)
{
	if (*len + n > limit)
		return false;
	if (*len + n > *cap) {
		size_t want = *cap ? *cap : 4096;
		char *grown;

		while (want < *len + n)
			want *= 2;
		grown = realloc(*buf, want);
		if (!grown)
			return false;
		*buf = grown;
		*cap = want;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	return true;
}

/* Replies are queued whole; the outbox is flushed as the socket takes it. */
static void reply(struct connection *c, const char *text, size_t n)
{
	if (!append(&c->out, &c->out_len, &c->out_cap, text, n, OUTBOX_CAP * 4))
		c->done = true; /* a peer that never reads: give up on it */
}

static void replyf(struct connection *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void replyf(struct connection *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		reply(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void do_reload(struct control_channel *ch, struct connection *c)
{
	char msg[512];
	int r = ch->ops.reload(ch->ops.ctx, msg, sizeof(msg));

	if (r < 0)
		fprintf(stderr, "stampede-dataplane: reload refused, still serving the previous files: %s\n", msg);
	else
		fprintf(stderr, "stampede-dataplane: reloaded: %s\n", msg);
	if (c)
		replyf(c, r < 0 ? "error: %s\n" : "ok %s\n", msg);
}

static void do_stats(struct control_channel *ch, struct connection *c)
{
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (!out) {
		replyf(c, "error: out of memory\n");
		return;
	}
	ch->ops.stats(ch->ops.ctx, out);
	fprintf(out, "events_dropped %llu\n.\n", ch->events_dropped);
	fclose(out);
	reply(c, text, n);
	free(text);
}

/*
 * A new control plane takes over a dataplane whose own went away: this
 * connection becomes the control plane's (persistent, subscribed to events)
 * and hears the "ready" line again, with the settings' tag it can compare.
 * One control plane at a time: a second one would fight the first over the
 * policy.
 */
static void do_attach(struct control_channel *ch, struct connection *c)
{
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		const struct connection *o = &ch->conns[i];

		if (o != c && o->fd >= 0 && o->persistent && !o->done) {
			replyf(c, "error: a control plane is attached already\n");
			c->done = true;
			return;
		}
	}
	if (!ch->ready_line) {
		replyf(c, "error: not ready yet\n");
		c->done = true;
		return;
	}
	c->persistent = true;
	c->subscriber = true;
	reply(c, ch->ready_line, strlen(ch->ready_line));
	fprintf(stderr, "stampede-dataplane: a control plane attached\n");
}

/* The multi-line messages: "policy 1" and "images 1", each up to "end". */
enum body_kind { BODY_NONE, BODY_POLICY, BODY_IMAGES };

static void do_body(struct control_channel *ch, struct connection *c)
{
	const char *what = c->collecting == BODY_POLICY ? "policy" : "image list";
	int (*apply)(void *, const char *, size_t, char *, size_t) =
		c->collecting == BODY_POLICY ? ch->ops.policy : ch->ops.images;
	char msg[512];
	int r = apply ? apply(ch->ops.ctx, c->body ? c->body : "", c->body_len, msg, sizeof(msg))
		      : (snprintf(msg, sizeof(msg), "%s: not supported", what), -ENOTSUP);

	fprintf(stderr, "stampede-dataplane: %s%s%s\n", r < 0 ? what : "",
		r < 0 ? " refused, the previous one stays: " : "", msg);
	replyf(c, r < 0 ? "error: %s\n" : "ok %s\n", msg);
	c->body_len = 0;
}

static void start_body(struct connection *c, enum body_kind kind, const char *version)
{
	if (atoi(version) != CONTROL_PROTOCOL_VERSION) {
		replyf(c, "error: message version %.16s not understood (this dataplane speaks %d)\n", version,
		       CONTROL_PROTOCOL_VERSION);
		c->done = !c->persistent;
		return;
	}
	c->collecting = kind;
	c->body_len = 0;
}

static void command(struct control_channel *ch, struct connection *c, char *line)
{
	if (c->collecting != BODY_NONE) {
		if (strcmp(line, "end") == 0) {
			do_body(ch, c);
			c->collecting = BODY_NONE;
			c->done = !c->persistent;
		} else if (strncmp(line, "policy ", 7) == 0 || strncmp(line, "images ", 7) == 0) {
			/* A sender that gave up half-way and started again: the
			 * half message is dropped, the new one collected. */
			replyf(c, "error: message cut short by a new one; it was dropped\n");
			start_body(c, line[0] == 'p' ? BODY_POLICY : BODY_IMAGES, line + 7);
		} else if (!append(&c->body, &c->body_len, &c->body_cap, line, strlen(line), MAX_MESSAGE) ||
			   !append(&c->body, &c->body_len, &c->body_cap, "\n", 1, MAX_MESSAGE)) {
			replyf(c, "error: message larger than %u bytes\n", MAX_MESSAGE);
			c->collecting = BODY_NONE;
			c->body_len = 0;
			c->done = !c->persistent;
		}
		return;
	}
	if (strcmp(line, "stats") == 0) {
		do_stats(ch, c);
	} else if (strcmp(line, "reload") == 0) {
		do_reload(ch, c);
	} else if (strcmp(line, "hello") == 0) {
		replyf(c, "stampede-dataplane %d\n", CONTROL_PROTOCOL_VERSION);
	} else if (strncmp(line, "policy ", 7) == 0) {
		start_body(c, BODY_POLICY, line + 7);
		return;
	} else if (strncmp(line, "images ", 7) == 0) {
		start_body(c, BODY_IMAGES, line + 7);
		return;
	} else if (strcmp(line, "events") == 0) {
		c->subscriber = true;
		return;
	} else if (strcmp(line, "attach") == 0) {
		do_attach(ch, c);
		return;
	} else {
		replyf(c, "error: unknown command \"%.32s\" (expected hello, stats, reload, policy, images, events or attach)\n",
		       line);
	}
	c->done = !c->persistent;
}

static void consume_lines(struct control_channel *ch, struct connection *c)
{
	size_t start = 0;
	char *nl;

	while (!c->done && (nl = memchr(c->in + start, '\n', c->in_len - start))) {
		*nl = '\0';
		if (nl > c->in + start && nl[-1] == '\r')
			nl[-1] = '\0';
		command(ch, c, c->in + start);
		start = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
}

static void close_connection(struct connection *c)
{
	close(c->fd);
	free(c->in);
	free(c->body);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void receive(struct control_channel *ch, struct connection *c)
{
	char buf[16384];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (c->persistent)
			fprintf(stderr, "stampede-dataplane: the control plane closed its channel; serving on with the "
					"current policy\n");
		c->done = true;
		c->out_len = 0;
		return;
	}
	if (n < 0)
		return;
	/* A line longer than a whole message is no line: drop the client. */
	if (!append(&c->in, &c->in_len, &c->in_cap, buf, (size_t)n, 64 * 1024)) {
		replyf(c, "error: line too long\n");
		c->done = true;
		return;
	}
	consume_lines(ch, c);
}

static void flush(struct connection *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				c->out_len = 0, c->done = true;
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
}

static void publish_events(struct control_channel *ch)
{
	static char batch[EVENT_BATCH];
	size_t n;

	if (!ch->ops.events)
		return;
	while ((n = ch->ops.events(ch->ops.ctx, batch, sizeof(batch))) > 0) {
		for (int i = 0; i < MAX_CONNECTIONS; i++) {
			struct connection *c = &ch->conns[i];

			if (c->fd < 0 || !c->subscriber)
				continue;
			/* Whole batches or nothing, so a reader never sees half a line. A
			 * socket subscriber that stopped reading is let go (it would
			 * hold a connection slot forever); the control plane's own
			 * descriptor is kept and loses events instead. */
			if (!append(&c->out, &c->out_len, &c->out_cap, batch, n, OUTBOX_CAP)) {
				ch->events_dropped++;
				if (!c->persistent)
					c->done = true, c->out_len = 0;
			}
		}
		if (n < sizeof(batch) / 2)
			break;
	}
}

static void take_announcement(struct control_channel *ch)
{
	char *line;

	pthread_mutex_lock(&ch->announce_lock);
	line = ch->announcement;
	ch->announcement = NULL;
	pthread_mutex_unlock(&ch->announce_lock);
	if (!line)
		return;
	free(ch->ready_line);
	ch->ready_line = strdup(line);
	for (int i = 0; i < MAX_CONNECTIONS; i++)
		if (ch->conns[i].fd >= 0 && ch->conns[i].persistent)
			reply(&ch->conns[i], line, strlen(line));
	free(line);
}

static void accept_client(struct control_channel *ch)
{
	int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		if (ch->conns[i].fd < 0) {
			ch->conns[i].fd = fd;
			clock_gettime(CLOCK_MONOTONIC, &ch->conns[i].opened);
			return;
		}
	}
	(void)!send(fd, "error: too many control connections\n", 37, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void *channel_main(void *arg)
{
	struct control_channel *ch = arg;

	for (;;) {
		struct pollfd fds[2 + MAX_CONNECTIONS];
		int map[2 + MAX_CONNECTIONS];
		nfds_t n = 0;

		fds[n++] = (struct pollfd){ .fd = ch->stop_pipe[0], .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = ch->listen_fd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNECTIONS; i++) {
			struct connection *c = &ch->conns[i];

			if (c->fd < 0)
				continue;
			map[n] = i;
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN | (c->out_len ? POLLOUT : 0) };
		}
		poll(fds, n, POLL_INTERVAL_MS);
		if (fds[0].revents)
			break;
		if (*ch->reload_requested) {
			*ch->reload_requested = 0;
			do_reload(ch, NULL);
		}
		if (ch->ops.housekeeping)
			ch->ops.housekeeping(ch->ops.ctx);
		if (fds[1].revents & POLLIN)
			accept_client(ch);
		for (nfds_t k = 2; k < n; k++)
			if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
				receive(ch, &ch->conns[map[k]]);
		take_announcement(ch);
		publish_events(ch);
		for (int i = 0; i < MAX_CONNECTIONS; i++) {
			struct connection *c = &ch->conns[i];

			if (c->fd < 0)
				continue;
			flush(c);
			if (!c->persistent && !c->subscriber && !c->done &&
			    elapsed_ms(&c->opened) > CLIENT_TIMEOUT_MS)
				c->done = true, c->out_len = 0;
			if (c->done && c->out_len == 0)
				close_connection(c);
		}
	}
	return NULL;
}

static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int control_channel_start(const char *path, int control_fd, const struct control_ops *ops,
			  volatile sig_atomic_t *reload_requested, struct control_channel **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct control_channel *ch;
	int r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	for (int i = 0; i < MAX_CONNECTIONS; i++)
		ch->conns[i].fd = -1;
	ch->ops = *ops;
	ch->reload_requested = reload_requested;
	pthread_mutex_init(&ch->announce_lock, NULL);
	snprintf(ch->path, sizeof(ch->path), "%s", path);
	strcpy(addr.sun_path, path);

	if ((r = make_parent_dir(path)) < 0)
		goto fail;
	ch->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ch->listen_fd < 0) {
		r = -errno;
		goto fail;
	}
	unlink(path); /* a stale socket from a crashed run */
	if (bind(ch->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 ||
	    listen(ch->listen_fd, 16) < 0 || pipe2(ch->stop_pipe, O_CLOEXEC) < 0) {
		r = -errno;
		close(ch->listen_fd);
		goto fail;
	}
	if (control_fd >= 0) {
		ch->conns[0] = (struct connection){ .fd = control_fd, .persistent = true, .subscriber = true };
		fcntl(control_fd, F_SETFD, FD_CLOEXEC);
	}
	r = -pthread_create(&ch->thread, NULL, channel_main, ch);
	if (r < 0) {
		close(ch->listen_fd);
		close(ch->stop_pipe[0]);
		close(ch->stop_pipe[1]);
		goto fail;
	}
	pthread_setname_np(ch->thread, "sp-control");
	*out = ch;
	return 0;
fail:
	free(ch);
	return r;
}

void control_channel_announce(struct control_channel *ch, const char *line)
{
	char *copy = strdup(line);

	pthread_mutex_lock(&ch->announce_lock);
	free(ch->announcement);
	ch->announcement = copy;
	pthread_mutex_unlock(&ch->announce_lock);
}

void control_channel_stop(struct control_channel *ch)
{
	if (!ch)
		return;
	if (write(ch->stop_pipe[1], "x", 1) < 0) {
		/* nothing else to try: the thread also stops with the process */
	}
	pthread_join(ch->thread, NULL);
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		if (ch->conns[i].fd >= 0) {
			flush(&ch->conns[i]);
			close_connection(&ch->conns[i]);
		}
	}
	close(ch->listen_fd);
	close(ch->stop_pipe[0]);
	close(ch->stop_pipe[1]);
	unlink(ch->path);
	free(ch->announcement);
	free(ch->ready_line);
	free(ch);
}
