/* SPDX-License-Identifier: BSD-2-Clause */
#include "supervisor.h"

#include "instance_lock.h"
#include "launcher.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_TIMEOUT_MS   10000
#define KILL_TIMEOUT_MS   2000
#define BACKOFF_FIRST_MS  50 /* a first crash costs the clients a retransmission, not a boot */
#define BACKOFF_MAX_MS    5000
#define CRASH_WINDOW_S    60
#define STABLE_AFTER_S    10 /* up this long: the next crash starts the backoff afresh */
#define ATTACH_TIMEOUT_MS 3000

struct supervisor {
	struct supervisor_config cfg;
	pid_t pid;
	int fd;
	/* A dataplane this control plane re-attached to (its own died): not our
	 * child, so no SIGCHLD; its pidfd says when it is gone. */
	bool adopted;
	int pidfd;
	char tag[17]; /* digest of the settings of the dataplane we start */
	bool ready;
	time_t ready_since;
	char *policy;
	char *config_copy; /* owned copy once supervisor_set_config replaced the caller's */
	char in[65536];
	size_t in_len;
	time_t crashes[SUPERVISOR_MAX_CRASHES];
	unsigned n_crashes;
	unsigned backoff_ms;
};

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void take_lines(struct supervisor *s);

int supervisor_create(const struct supervisor_config *cfg, struct supervisor **out)
{
	struct supervisor *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->fd = -1;
	s->pid = -1;
	s->pidfd = -1;
	s->backoff_ms = BACKOFF_FIRST_MS;
	*out = s;
	return 0;
}

static int write_all(int fd, const char *text)
{
	size_t len = strlen(text), done = 0;
	long deadline = now_ms() + 5000;

	while (done < len) {
		ssize_t n = send(fd, text + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 100);
	}
	return 0;
}

/* after_stop: the dataplane was stopped on purpose. Without capabilities it
 * cannot detach its own program (privileges.h), so finding it is the rule
 * then, and worth a warning only after a crash or a failed start. */
static void remove_program(struct supervisor *s, bool after_stop)
{
	int r = launcher_remove_xdp(s->cfg.launcher);

	if (r == 1)
		log_msg(after_stop ? LOG_INFO : LOG_WARN, "removed the XDP program the dataplane left on %s",
			s->cfg.iface);
	else if (r == -EBUSY)
		log_msg(LOG_ERROR, "another stampede-dataplane is serving %s (a control plane that went away?): "
				"stop it first", s->cfg.iface);
	else if (r < 0 && r != -ENODEV)
		log_msg(LOG_ERROR, "cannot check %s for a stale XDP program: %s", s->cfg.iface, strerror(-r));
}

static uint64_t fnv1a(uint64_t h, const char *text)
{
	for (const char *c = text; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	return (h ^ 0xffu) * 1099511628211ull; /* a separator: "ab","c" and "a","bc" differ */
}

/* A digest of the settings and arguments a dataplane is started with: two
 * control planes that would start the same dataplane compute the same tag. */
static void settings_tag(struct supervisor *s)
{
	uint64_t h = fnv1a(14695981039346656037ull, s->cfg.config_message);

	for (size_t i = 0; s->cfg.args && s->cfg.args[i]; i++)
		h = fnv1a(h, s->cfg.args[i]);
	snprintf(s->tag, sizeof(s->tag), "%016llx", (unsigned long long)h);
}

/* Waits until the process behind pidfd is gone; false after timeout_ms. */
static bool wait_gone(int pidfd, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;

	do /* a signal that interrupts the wait does not shorten it */
		r = poll(&p, 1, (int)(deadline > now_ms() ? deadline - now_ms() : 0));
	while (r < 0 && errno == EINTR);
	return r == 1 && (p.revents & POLLIN);
}

/* SIGTERM, then SIGKILL after STOP_TIMEOUT_MS: for a dataplane that is not our child. */
static void stop_foreign(pid_t pid, int pidfd)
{
	long start = now_ms();

	if (kill(pid, SIGTERM) < 0)
		log_msg(LOG_ERROR, "cannot stop the dataplane (pid %d): %s", (int)pid, strerror(errno));
	if (wait_gone(pidfd, STOP_TIMEOUT_MS)) {
		log_msg(LOG_INFO, "the dataplane (pid %d) stopped in %ld ms", (int)pid, now_ms() - start);
		return;
	}
	log_msg(LOG_ERROR, "the dataplane (pid %d) did not stop in %d s: killing it", (int)pid,
		STOP_TIMEOUT_MS / 1000);
	kill(pid, SIGKILL);
	if (!wait_gone(pidfd, KILL_TIMEOUT_MS))
		log_msg(LOG_ERROR, "the dataplane (pid %d) is still there %d s after SIGKILL", (int)pid,
			KILL_TIMEOUT_MS / 1000);
}

/* A stopped dataplane lets go of the interface's lock when its descriptors
 * close: bounded wait, so that the next dataplane finds the interface free. */
static void wait_interface_free(const struct supervisor *s)
{
	for (int i = 0; i < 100 && instance_locked(s->cfg.iface); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
}

/* Connects to the dataplane's socket and says "attach"; the first reply line
 * lands in s->in. Returns the connected descriptor or -errno. */
static int send_attach(struct supervisor *s, pid_t *pid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	long deadline = now_ms() + ATTACH_TIMEOUT_MS;
	int fd, r;

	if (!s->cfg.socket_path || strlen(s->cfg.socket_path) >= sizeof(addr.sun_path))
		return -EINVAL;
	strcpy(addr.sun_path, s->cfg.socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0 || (r = write_all(fd, "attach\n")) < 0) {
		r = -errno;
		close(fd);
		return r ? r : -EIO;
	}
	*pid = cred.pid;
	s->in_len = 0;
	while (!memchr(s->in, '\n', s->in_len)) {
		ssize_t n;

		if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, (int)(deadline - now_ms())) != 1 ||
		    (n = recv(fd, s->in + s->in_len, sizeof(s->in) - 1 - s->in_len, MSG_DONTWAIT)) <= 0) {
			close(fd);
			s->in_len = 0;
			return -ETIMEDOUT;
		}
		s->in_len += (size_t)n;
		s->in[s->in_len] = '\0';
	}
	return fd;
}

/*
 * The interface is held by a live dataplane whose control plane went away.
 * If it runs the settings we would start it with, take it over: it keeps
 * serving without a gap. If not, stop it so that ours can start. Returns 1
 * when adopted, 0 when the interface is free for a child of ours.
 */
static int adopt_or_replace(struct supervisor *s)
{
	char *tag;
	pid_t pid = 0;
	int fd, pidfd;

	if (!instance_locked(s->cfg.iface))
		return 0;
	fd = send_attach(s, &pid);
	if (fd < 0) {
		log_msg(LOG_ERROR, "another stampede-dataplane serves %s and does not take a control plane on %s (%s): "
				   "stop it first", s->cfg.iface, s->cfg.socket_path ? s->cfg.socket_path : "its socket",
			strerror(-fd));
		return 0; /* the child we start says the same and serve stops */
	}
	if (strncmp(s->in, "ready ", 6) != 0) {
		*strchrnul(s->in, '\n') = '\0';
		log_msg(LOG_ERROR, "the stampede-dataplane serving %s refused to be attached: %s", s->cfg.iface, s->in);
		s->in_len = 0;
		close(fd);
		return 0;
	}
	pidfd = (int)pidfd_open(pid, 0);
	if (pidfd < 0) {
		log_msg(LOG_ERROR, "cannot watch the dataplane (pid %d): %s", (int)pid, strerror(errno));
		close(fd);
		return 0;
	}
	tag = strstr(s->in, " tag=");
	if (tag && strncmp(tag + 5, s->tag, strlen(s->tag)) == 0 && strchr(" \n", tag[5 + strlen(s->tag)])) {
		s->fd = fd;
		s->pid = pid;
		s->pidfd = pidfd;
		s->adopted = true;
		s->ready = false;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		log_msg(LOG_INFO, "re-attached to the dataplane already serving %s (pid %d): it keeps serving",
			s->cfg.iface, (int)pid);
		take_lines(s); /* its "ready" line: the policy goes out */
		return 1;
	}
	s->in_len = 0;
	close(fd);
	log_msg(LOG_WARN, "the dataplane serving %s (pid %d) runs other settings: replacing it", s->cfg.iface,
		(int)pid);
	stop_foreign(pid, pidfd);
	close(pidfd);
	wait_interface_free(s);
	return 0;
}

int supervisor_start(struct supervisor *s, const char *policy_message)
{
	char err[512];
	int fd;

	if (policy_message)
		supervisor_set_policy(s, policy_message);
	settings_tag(s);
	if (adopt_or_replace(s) == 1)
		return 0;
	remove_program(s, false);
	/* The launcher starts it as our child and writes its settings on its
	 * socket; the policy follows once it says "ready". */
	if (launcher_start_dataplane(s->cfg.launcher, s->tag, s->cfg.config_message, &s->pid, &fd, err,
				     sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "cannot start the dataplane: %s", err);
		s->pid = -1;
		return -EAGAIN;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	s->fd = fd;
	s->ready = false;
	s->in_len = 0;
	return 0;
}

/* Out of step with the child: restart it, the reaper re-sends everything. */
static int send_or_restart(struct supervisor *s, const char *text)
{
	int r = write_all(s->fd, text);

	if (r < 0 && s->pid > 0) {
		log_msg(LOG_ERROR, "the dataplane did not take a message (%s): restarting it", strerror(-r));
		kill(s->pid, SIGKILL);
	}
	return r;
}

void supervisor_set_policy(struct supervisor *s, const char *policy_message)
{
	free(s->policy);
	s->policy = strdup(policy_message);
	if (s->fd >= 0 && s->ready)
		send_or_restart(s, s->policy);
}

void supervisor_set_config(struct supervisor *s, const char *config_message)
{
	char *copy = strdup(config_message);

	if (!copy)
		return;
	free(s->config_copy);
	s->config_copy = copy;
	s->cfg.config_message = copy;
}

int supervisor_send(struct supervisor *s, const char *text)
{
	return s->fd < 0 || !s->ready ? -ENOTCONN : send_or_restart(s, text);
}

int supervisor_fd(const struct supervisor *s)
{
	return s->fd;
}

bool supervisor_ready(const struct supervisor *s)
{
	return s->ready;
}

void supervisor_read(struct supervisor *s)
{
	ssize_t n;

	if (s->fd < 0)
		return;
	n = recv(s->fd, s->in + s->in_len, sizeof(s->in) - 1 - s->in_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(s->fd); /* the child is gone or going: SIGCHLD follows */
		s->fd = -1;
		return;
	}
	if (n < 0)
		return;
	s->in_len += (size_t)n;
	take_lines(s);
}

static void take_lines(struct supervisor *s)
{
	char *nl;

	s->in[s->in_len] = '\0';
	while ((nl = memchr(s->in, '\n', s->in_len))) {
		*nl = '\0';
		if (strncmp(s->in, "ready ", 6) == 0) {
			s->ready = true;
			s->ready_since = time(NULL);
			if (s->policy && write_all(s->fd, s->policy) < 0)
				log_msg(LOG_ERROR, "cannot send the policy to the dataplane");
		}
		if (s->cfg.on_line)
			s->cfg.on_line(s->cfg.ctx, s->in);
		s->in_len -= (size_t)(nl + 1 - s->in);
		memmove(s->in, nl + 1, s->in_len);
	}
	if (s->in_len == sizeof(s->in) - 1)
		s->in_len = 0; /* a line that long is no protocol line: drop it */
}

static bool too_many_crashes(struct supervisor *s)
{
	time_t now = time(NULL);
	unsigned recent = 0;

	s->crashes[s->n_crashes++ % SUPERVISOR_MAX_CRASHES] = now;
	for (unsigned i = 0; i < SUPERVISOR_MAX_CRASHES && i < s->n_crashes; i++)
		recent += now - s->crashes[i] < CRASH_WINDOW_S;
	return recent >= SUPERVISOR_MAX_CRASHES;
}

static int exit_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int supervisor_exit_fd(const struct supervisor *s)
{
	return s->adopted ? s->pidfd : -1;
}

int supervisor_reap(struct supervisor *s)
{
	int status = 0;
	bool was_ready = s->ready, adopted = s->adopted;
	pid_t pid = s->pid;
	struct timespec pause;

	if (adopted) {
		if (!wait_gone(s->pidfd, 0))
			return 0;
		close(s->pidfd);
		s->pidfd = -1;
		s->adopted = false;
	} else if (s->pid <= 0 || waitpid(s->pid, &status, WNOHANG) <= 0) {
		return 0;
	}
	s->pid = -1;
	if (s->fd >= 0) {
		supervisor_read(s); /* its last words */
		close(s->fd);
		s->fd = -1;
	}
	s->ready = false;
	if (was_ready && time(NULL) - s->ready_since >= STABLE_AFTER_S)
		s->backoff_ms = BACKOFF_FIRST_MS;
	if (!was_ready) {
		log_msg(LOG_ERROR, "the dataplane failed to start (exit %d); see its message above",
			exit_code(status));
		remove_program(s, false);
		return exit_code(status) ? exit_code(status) : 1;
	}
	if (adopted) /* not our child: its exit status is its old parent's to know */
		log_msg(LOG_WARN, "the dataplane this control plane re-attached to (pid %d) is gone; restarting it "
				  "in %u ms", (int)pid, s->backoff_ms);
	else if (WIFSIGNALED(status))
		log_msg(LOG_WARN, "the dataplane died of signal %d (%s); restarting it in %u ms",
			WTERMSIG(status), strsignal(WTERMSIG(status)), s->backoff_ms);
	else
		log_msg(LOG_WARN, "the dataplane exited with status %d; restarting it in %u ms",
			WEXITSTATUS(status), s->backoff_ms);
	if (too_many_crashes(s)) {
		log_msg(LOG_ERROR, "the dataplane stopped %d times within %d s: giving up",
			SUPERVISOR_MAX_CRASHES, CRASH_WINDOW_S);
		remove_program(s, false);
		return 1;
	}
	pause = (struct timespec){ .tv_sec = s->backoff_ms / 1000, .tv_nsec = (long)(s->backoff_ms % 1000) * 1000000 };
	nanosleep(&pause, NULL);
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
	if (supervisor_start(s, NULL) < 0) {
		log_msg(LOG_ERROR, "cannot restart the dataplane: %s", strerror(errno));
		return 1;
	}
	return 0;
}

int supervisor_stop(struct supervisor *s)
{
	long deadline = now_ms() + STOP_TIMEOUT_MS;
	int status = 0;

	if (s->adopted) {
		stop_foreign(s->pid, s->pidfd);
		close(s->pidfd);
		wait_interface_free(s);
		s->pidfd = -1;
		s->adopted = false;
		s->pid = -1;
	} else if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, &status, WNOHANG) == 0) {
			struct timespec tick = { .tv_nsec = 20000000 };

			if (s->fd >= 0)
				supervisor_read(s);
			if (now_ms() > deadline) {
				log_msg(LOG_ERROR, "the dataplane did not stop in %d s: killing it",
					STOP_TIMEOUT_MS / 1000);
				kill(s->pid, SIGKILL);
				waitpid(s->pid, &status, 0);
				break;
			}
			nanosleep(&tick, NULL);
		}
		s->pid = -1;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	remove_program(s, true);
	return exit_code(status);
}

void supervisor_destroy(struct supervisor *s)
{
	if (!s)
		return;
	if (s->pidfd >= 0)
		close(s->pidfd);
	free(s->policy);
	free(s->config_copy);
	free(s);
}
