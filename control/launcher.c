/* SPDX-License-Identifier: BSD-2-Clause */
#include "launcher.h"

#include "config_message.h"
#include "instance_lock.h"
#include "log.h"
#include "service_user.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <limits.h>
#include <poll.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_FD         3                         /* the dataplane's --control-fd */
#define LAUNCHER_FD      3                         /* the launcher's end of its socket */
#define TAG_LEN          16                        /* supervisor.c's settings tag, hex */
#define REQUEST_MAX      (CONFIG_MESSAGE_MAX + 64) /* "start TAG\n" and a config message */
#define REPLY_MAX        1024
#define READY_TIMEOUT_MS 10000
#define REPLY_TIMEOUT_MS 5000
#define XDP_PROGRAM_NAME "stampede_steer" /* bpf/stampede_xdp.bpf.c */

struct launcher {
	pid_t pid;
	int fd;
};

int xdp_remove_stale(const char *iface)
{
	int ifindex = (int)if_nametoindex(iface), fd, r;
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), id = 0;

	if (!ifindex)
		return -ENODEV;
	if (bpf_xdp_query_id(ifindex, 0, &id) < 0 || id == 0)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	r = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (r < 0)
		return r;
	if (strcmp(info.name, XDP_PROGRAM_NAME) != 0)
		return 0; /* somebody else's program: not ours to remove */
	if (instance_locked(iface))
		return -EBUSY; /* a live dataplane's (its control plane went away): not ours either */
	r = bpf_xdp_detach(ifindex, 0, NULL);
	return r < 0 ? r : 1;
}

/* ---- the launcher process ---- */

static int reply(int sock, int pass_fd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int reply(int sock, int pass_fd, const char *fmt, ...)
{
	char text[REPLY_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	iov = (struct iovec){ text, n < (int)sizeof(text) ? (size_t)n : sizeof(text) - 1 };
	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static bool hex_tag(const char *tag)
{
	for (int i = 0; i < TAG_LEN; i++)
		if (!((tag[i] >= '0' && tag[i] <= '9') || (tag[i] >= 'a' && tag[i] <= 'f')))
			return false;
	return tag[TAG_LEN] == '\n';
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The dataplane, as serve's child (CLONE_PARENT), with the control socket as
 * CHILD_FD. Only async-signal-safe calls between the clone and the exec. */
static pid_t clone_dataplane(char **argv, int child_end, const char *exec_failed)
{
	/* With CLONE_PARENT the child's exit signal is the caller's own (the
	 * launcher's: SIGCHLD, as a child of fork); clone3 wants 0 here. */
	struct clone_args args = { .flags = CLONE_PARENT, .exit_signal = 0 };
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	sigset_t none;

	if (pid != 0)
		return pid;
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* ignored signals would stay ignored across exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(child_end, CHILD_FD) < 0 || fcntl(CHILD_FD, F_SETFD, 0) < 0)
		_exit(127);
	execv(argv[0], argv);
	(void)!write(STDERR_FILENO, exec_failed, strlen(exec_failed));
	_exit(127);
}

static void handle_start(int sock, const struct launcher_config *cfg, char **argv, char *tag, char *request)
{
	char err[256], exec_failed[PATH_MAX + 64];
	const char *message = request + 6 + TAG_LEN + 1;
	int pair[2], r;
	pid_t pid;

	if (!hex_tag(request + 6)) {
		reply(sock, -1, "error the instance tag is not %d hex digits", TAG_LEN);
		return;
	}
	if (!config_message_within_pins(cfg->config_message, message, err, sizeof(err))) {
		log_msg(LOG_ERROR, "launcher: refused to start a dataplane: %s", err);
		reply(sock, -1, "error refused: %s", err);
		return;
	}
	memcpy(tag, request + 6, TAG_LEN);
	snprintf(exec_failed, sizeof(exec_failed), "stampede: cannot run %s\n", argv[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		reply(sock, -1, "error socketpair: %s", strerror(errno));
		return;
	}
	pid = clone_dataplane(argv, pair[1], exec_failed);
	r = errno;
	close(pair[1]);
	if (pid < 0) {
		close(pair[0]);
		reply(sock, -1, "error clone: %s", strerror(r));
		return;
	}
	/* The settings go first, before serve holds the socket: the dataplane
	 * reads exactly the message checked above. */
	if ((r = write_all(pair[0], message, strlen(message))) < 0)
		log_msg(LOG_ERROR, "launcher: the dataplane (pid %d) did not take its settings: %s", (int)pid,
			strerror(-r));
	reply(sock, pair[0], "started %d", (int)pid);
	close(pair[0]);
}

static void serve_requests(int sock, const struct launcher_config *cfg)
{
	static char request[REQUEST_MAX + 1];
	char tag[TAG_LEN + 1] = "";
	char **argv;
	size_t n_args = 0;

	while (cfg->args && cfg->args[n_args])
		n_args++;
	argv = calloc(n_args + 6, sizeof(*argv));
	if (!argv)
		_exit(1);
	argv[0] = (char *)cfg->dataplane;
	argv[1] = "--control-fd";
	argv[2] = "3";
	argv[3] = "--instance-tag";
	argv[4] = tag;
	memcpy(argv + 5, cfg->args, n_args * sizeof(*argv));

	for (;;) {
		struct iovec iov = { request, REQUEST_MAX };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* serve is gone */
		request[n] = '\0';
		if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
			reply(sock, -1, "error request too large");
		else if (strncmp(request, "start ", 6) == 0 && (size_t)n > 6 + TAG_LEN)
			handle_start(sock, cfg, argv, tag, request);
		else if (strcmp(request, "remove-xdp") == 0)
			reply(sock, -1, "removed %d", xdp_remove_stale(cfg->iface));
		else
			reply(sock, -1, "error unknown request");
	}
}

static void launcher_main(int sock, const struct launcher_config *cfg, pid_t parent) __attribute__((noreturn));
static void launcher_main(int sock, const struct launcher_config *cfg, pid_t parent)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	char msg[512];
	sigset_t none;

	prctl(PR_SET_NAME, "stampede-launch");
	/* serve stops on these (a terminal's ^C reaches the whole group); the
	 * launcher stops when serve does. */
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Nothing of serve's but its socket and the standard streams. */
	if (sock != LAUNCHER_FD) {
		if (dup3(sock, LAUNCHER_FD, O_CLOEXEC) < 0)
			_exit(1);
		close(sock);
	}
	closefrom(LAUNCHER_FD + 1);
	sock = LAUNCHER_FD;
	if (service_user_drop_launcher(cfg->user, msg, sizeof(msg)) < 0) {
		reply(sock, -1, "error %s", msg);
		_exit(1);
	}
	/* Gone with serve: a dataplane outlives its control plane, the launcher
	 * does not (a new serve brings its own). After the change of user,
	 * which clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(0);
	reply(sock, -1, "ready %s", msg);
	serve_requests(sock, cfg);
	_exit(0);
}

/* ---- serve's side ---- */

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One reply, with the descriptor it may carry (*fd, or -1). Returns its
 * length, or -errno (-ETIMEDOUT, -EPIPE when the launcher is gone). */
static int await_reply(int sock, int timeout_ms, char *text, size_t cap, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	long deadline = now_ms() + timeout_ms;

	if (fd)
		*fd = -1;
	for (;;) {
		struct iovec iov = { text, cap - 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		struct pollfd p = { .fd = sock, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		if (!p.revents)
			continue;
		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		text[n] = '\0';
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			int got;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			memcpy(&got, CMSG_DATA(c), sizeof(got));
			if (fd && *fd < 0)
				*fd = got;
			else
				close(got);
		}
		return (int)n;
	}
}

int launcher_spawn(const struct launcher_config *cfg, struct launcher **out, char *msg, size_t len)
{
	struct launcher *l = calloc(1, sizeof(*l));
	char text[REPLY_MAX];
	pid_t self = getpid();
	int sv[2], r;

	if (!l || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(msg, len, "cannot create the launcher's socket: %s", strerror(errno));
		free(l);
		return -1;
	}
	fflush(NULL); /* nothing buffered is written twice */
	l->pid = fork();
	if (l->pid == 0) {
		close(sv[0]);
		launcher_main(sv[1], cfg, self);
	}
	close(sv[1]);
	if (l->pid < 0) {
		snprintf(msg, len, "cannot fork the launcher: %s", strerror(errno));
		close(sv[0]);
		free(l);
		return -1;
	}
	l->fd = sv[0];
	r = await_reply(l->fd, READY_TIMEOUT_MS, text, sizeof(text), NULL);
	if (r > 0 && strncmp(text, "ready ", 6) == 0) {
		snprintf(msg, len, "%s", text + 6);
		*out = l;
		return 0;
	}
	if (r > 0 && strncmp(text, "error ", 6) == 0)
		snprintf(msg, len, "%s", text + 6);
	else
		snprintf(msg, len, "the launcher did not start: %s", r < 0 ? strerror(-r) : text);
	launcher_stop(l);
	return -1;
}

/* A launcher that does not answer in time, or answers out of turn, is no
 * longer in step with serve: it is killed (serve then sees it gone and
 * stops), so that a late reply can never be taken for the next one's. */
static void launcher_broken(struct launcher *l)
{
	if (l->pid > 0)
		kill(l->pid, SIGKILL);
}

int launcher_start_dataplane(struct launcher *l, const char *tag, const char *config_message, pid_t *pid, int *fd,
			     char *err, size_t len)
{
	char text[REPLY_MAX], *request;
	int r, size;
	long child;

	*fd = -1;
	size = asprintf(&request, "start %s\n%s", tag, config_message);
	if (size < 0) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	r = send(l->fd, request, (size_t)size, MSG_NOSIGNAL) < 0 ? -errno : 0;
	free(request);
	if (r == 0)
		r = await_reply(l->fd, REPLY_TIMEOUT_MS, text, sizeof(text), fd);
	if (r < 0) {
		launcher_broken(l);
		snprintf(err, len, "the launcher does not answer: %s", strerror(-r));
		return -1;
	}
	if (strncmp(text, "started ", 8) == 0 && (child = strtol(text + 8, NULL, 10)) > 0 && *fd < 0) {
		/* Started, but its socket did not reach us (out of descriptors):
		 * a child we cannot talk to is stopped at once. */
		kill((pid_t)child, SIGKILL);
		waitpid((pid_t)child, NULL, 0);
		snprintf(err, len, "the dataplane's socket was lost on its way (out of descriptors?)");
		return -1;
	}
	if (strncmp(text, "started ", 8) != 0 || (child = strtol(text + 8, NULL, 10)) <= 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if (strncmp(text, "error ", 6) != 0)
			launcher_broken(l);
		snprintf(err, len, "%s", strncmp(text, "error ", 6) == 0 ? text + 6 : text);
		return -1;
	}
	*pid = (pid_t)child;
	return 0;
}

int launcher_remove_xdp(struct launcher *l)
{
	char text[REPLY_MAX];
	int r;

	if (send(l->fd, "remove-xdp", 10, MSG_NOSIGNAL) < 0)
		return -errno;
	r = await_reply(l->fd, REPLY_TIMEOUT_MS, text, sizeof(text), NULL);
	if (r >= 0 && strncmp(text, "removed ", 8) == 0)
		return (int)strtol(text + 8, NULL, 10);
	launcher_broken(l);
	return r < 0 ? r : -EPROTO;
}

bool launcher_gone(struct launcher *l)
{
	char text[REPLY_MAX];
	ssize_t n = recv(l->fd, text, sizeof(text), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n > 0) { /* it never speaks unasked */
		launcher_broken(l);
		return false; /* its end of the socket follows */
	}
	return true;
}

int launcher_fd(const struct launcher *l)
{
	return l ? l->fd : -1;
}

pid_t launcher_pid(const struct launcher *l)
{
	return l ? l->pid : -1;
}

void launcher_stop(struct launcher *l)
{
	long deadline = now_ms() + 2000;

	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd); /* it exits at the end of its socket */
	while (l->pid > 0 && waitpid(l->pid, NULL, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(l->pid, SIGKILL);
			waitpid(l->pid, NULL, 0);
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	free(l);
}
