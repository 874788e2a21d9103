/* SPDX-License-Identifier: BSD-2-Clause */
#include "control_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define POLL_INTERVAL_MS 100
#define CLIENT_TIMEOUT_S 2

struct control_channel {
	pthread_t thread;
	int listen_fd;
	int stop_pipe[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_ops ops;
	volatile sig_atomic_t *reload_requested;
};

static void reload(struct control_channel *ch, FILE *reply)
{
	char msg[512];
	int r = ch->ops.reload(ch->ops.ctx, msg, sizeof(msg));

	if (r < 0)
		fprintf(stderr, "stampede-dataplane: reload refused, still serving the previous files: %s\n", msg);
	else
		fprintf(stderr, "stampede-dataplane: reloaded: %s\n", msg);
	if (reply)
		fprintf(reply, r < 0 ? "error: %s\n" : "ok %s\n", msg);
}

static void serve_client(struct control_channel *ch, int fd)
{
	struct timeval timeout = { .tv_sec = CLIENT_TIMEOUT_S };
	char line[64];
	FILE *io;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	io = fdopen(fd, "r+");
	if (!io) {
		close(fd);
		return;
	}
	if (fgets(line, sizeof(line), io)) {
		line[strcspn(line, "\r\n")] = '\0';
		fseek(io, 0, SEEK_CUR); /* switch the stream from reading to writing */
		if (strcmp(line, "stats") == 0) {
			ch->ops.stats(ch->ops.ctx, io);
			fputs(".\n", io);
		} else if (strcmp(line, "reload") == 0) {
			reload(ch, io);
		} else {
			fprintf(io, "error: unknown command \"%.32s\" (expected stats or reload)\n", line);
		}
	}
	fclose(io);
}

static void *channel_main(void *arg)
{
	struct control_channel *ch = arg;
	struct pollfd fds[2] = {
		{ .fd = ch->listen_fd, .events = POLLIN },
		{ .fd = ch->stop_pipe[0], .events = POLLIN },
	};

	for (;;) {
		int n = poll(fds, 2, POLL_INTERVAL_MS);

		if (fds[1].revents)
			break;
		if (*ch->reload_requested) {
			*ch->reload_requested = 0;
			reload(ch, NULL);
		}
		if (ch->ops.housekeeping)
			ch->ops.housekeeping(ch->ops.ctx);
		if (n > 0 && (fds[0].revents & POLLIN)) {
			int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				serve_client(ch, fd);
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

int control_channel_start(const char *path, const struct control_ops *ops,
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
	ch->ops = *ops;
	ch->reload_requested = reload_requested;
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

void control_channel_stop(struct control_channel *ch)
{
	if (!ch)
		return;
	if (write(ch->stop_pipe[1], "x", 1) < 0) {
		/* nothing else to try: the thread also stops with the process */
	}
	pthread_join(ch->thread, NULL);
	close(ch->listen_fd);
	close(ch->stop_pipe[0]);
	close(ch->stop_pipe[1]);
	unlink(ch->path);
	free(ch);
}
