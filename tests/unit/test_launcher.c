/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * serve's launcher (control/launcher.c), forked from the test as serve forks
 * it. The "dataplane" it runs is a shell script that echoes, on its control
 * socket, its arguments and every line it read there, so a test sees what a
 * dataplane would get: the fixed command line with the tag, and the config
 * message written before serve held the socket. The script is serve's child
 * (CLONE_PARENT): the test reaps it. Config messages that move a pinned
 * setting (config_message.h), in any spelling getopt_long would take, start
 * nothing; changeable settings pass. A launcher that dies is seen on its
 * descriptor, and its XDP clean-up answers for any interface.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "service_user.h"

#define TAG "0123456789abcdef"

static const char first_message[] = "config 1\n"
				    "iface veth-test\n"
				    "addr 10.0.0.1\n"
				    "tftp-root /srv/tftp\n"
				    "eal --log-level=3\n"
				    "image ipxe.efi=/usr/lib/ipxe/ipxe.efi\n"
				    "no-huge\n"
				    "end\n";

static char script[] = "/tmp/stampede-test-dataplane-XXXXXX";
static struct service_user user;
static char *args[] = { "--extra", "arg", NULL };
static struct launcher *launcher;

static void set_up(void)
{
	int fd = mkstemp(script);
	static const char body[] = "#!/bin/sh\n"
				   "echo \"argv $*\" >&3\n"
				   "while IFS= read -r line <&3; do echo \"got $line\" >&3; [ \"$line\" = end ] && break; done\n";
	const struct launcher_config cfg = { .dataplane = script, .args = args, .iface = "lo",
					     .config_message = first_message, .user = &user };
	char msg[512] = "";

	cr_assert(fd >= 0);
	cr_assert(eq(int, (int)write(fd, body, sizeof(body) - 1), (int)sizeof(body) - 1));
	fchmod(fd, 0755);
	close(fd);
	user = (struct service_user){ .uid = getuid(), .gid = getgid() };
	cr_assert(eq(int, launcher_spawn(&cfg, &launcher, msg, sizeof(msg)), 0), "%s", msg);
	cr_expect(strstr(msg, "the launcher (pid ") != NULL, "it says what it kept: %s", msg);
}

static void tear_down(void)
{
	launcher_stop(launcher);
	unlink(script);
}

/* Everything the script sent until it ended. */
static void read_all(int fd, char *out, size_t cap)
{
	size_t used = 0;

	for (int i = 0; i < 500 && used + 1 < cap; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = read(fd, out + used, cap - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	out[used] = '\0';
}

static bool exited_with(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static void start_and_expect_refusal(const char *message, const char *because)
{
	char err[512] = "";
	pid_t pid = -1;
	int fd = -1;

	cr_expect(eq(int, launcher_start_dataplane(launcher, TAG, message, &pid, &fd, err, sizeof(err)), -1),
		  "refused: %s", because);
	cr_expect(eq(int, fd, -1));
	cr_expect(strstr(err, "refused: ") != NULL, "%s: %s", because, err);
	cr_expect(eq(int, (int)waitpid(-1, NULL, WNOHANG), 0), "%s: no process was started", because);
}

TestSuite(launcher, .init = set_up, .fini = tear_down, .timeout = 30);

Test(launcher, starts_a_child_of_serve_with_the_settings_already_written)
{
	static const char expected[] =
		"argv --control-fd 3 --instance-tag " TAG " --extra arg\n"
		"got config 1\ngot iface veth-test\ngot addr 10.0.0.1\ngot tftp-root /srv/tftp\n"
		"got eal --log-level=3\ngot image ipxe.efi=/usr/lib/ipxe/ipxe.efi\ngot no-huge\ngot end\n";
	char err[512] = "", got[4096];
	pid_t pid = -1;
	int fd = -1, status = -1;
	sigset_t chld, pending;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL); /* serve reads it from a signalfd */
	cr_assert(eq(int, launcher_start_dataplane(launcher, TAG, first_message, &pid, &fd, err, sizeof(err)), 0),
		  "%s", err);
	cr_assert(fd >= 0 && pid > 0);
	read_all(fd, got, sizeof(got));
	cr_expect(eq(str, got, (char *)expected));
	cr_expect(eq(int, (int)waitpid(pid, &status, 0), (int)pid), "the dataplane is our child (CLONE_PARENT)");
	cr_expect(exited_with(status, 0), "status %#x", status);
	sigpending(&pending);
	cr_expect(sigismember(&pending, SIGCHLD), "its end was signalled to us (SIGCHLD), as supervision needs");
	close(fd);
}

Test(launcher, changeable_settings_may_change)
{
	static const char reloaded[] = "config 1\n"
				       "iface veth-test\n"
				       "addr 10.0.0.1\n"
				       "tftp-root /srv/other\n"
				       "cache-mb 512\n"
				       "eal --log-level=3\n"
				       "max-sessions 100\n"
				       "no-huge\n"
				       "end\n";
	char err[512] = "", got[4096];
	pid_t pid = -1;
	int fd = -1;

	cr_assert(eq(int, launcher_start_dataplane(launcher, TAG, reloaded, &pid, &fd, err, sizeof(err)), 0), "%s",
		  err);
	read_all(fd, got, sizeof(got));
	cr_expect(strstr(got, "got tftp-root /srv/other\n") && strstr(got, "got max-sessions 100\n"), "%s", got);
	waitpid(pid, NULL, 0);
	close(fd);
}

Test(launcher, pinned_settings_are_refused_in_every_spelling)
{
	start_and_expect_refusal("config 1\niface eth0\naddr 10.0.0.1\ntftp-root /srv/tftp\neal --log-level=3\n"
				 "no-huge\nend\n",
				 "another interface");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.9\ntftp-root /srv/tftp\n"
				 "eal --log-level=3\nno-huge\nend\n",
				 "another address");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root /srv/tftp\n"
				 "eal --log-level=3\nport-range 1024-2047\nno-huge\nend\n",
				 "another port range");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root /srv/tftp\n"
				 "eal -d /tmp/evil.so\nno-huge\nend\n",
				 "EAL loading a shared object");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root /srv/tftp\neal --log-level=3\n"
				 "ea -d /tmp/evil.so\nno-huge\nend\n",
				 "an abbreviation getopt_long takes for --eal");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root=/srv/tftp\n"
				 "eal --log-level=3\nno-huge\nend\n",
				 "KEY=VALUE of a changeable key");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root /srv/tftp\neal --log-level=3\n"
				 "xdp-prog /tmp/other.o\nno-huge\nend\n",
				 "an added XDP program");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root /srv/tftp\neal --log-level=3\n"
				 "end\n",
				 "hugepages after all (no-huge missing)");
	start_and_expect_refusal("config 1\niface veth-test\naddr 10.0.0.1\ntftp-root /srv/tftp\neal --log-level=3\n"
				 "no-huge\nend\npolicy 1\n",
				 "something after end");
	start_and_expect_refusal("config 1\niface veth-test\naddr\ntftp-root /srv/tftp\neal --log-level=3\n"
				 "no-huge\nend\n",
				 "a changeable key without a value, which would take the next line as one");
}

Test(launcher, a_bad_tag_starts_nothing)
{
	char err[512] = "";
	pid_t pid = -1;
	int fd = -1;

	cr_expect(eq(int, launcher_start_dataplane(launcher, "0123 --eal x", first_message, &pid, &fd, err,
						   sizeof(err)), -1));
	cr_expect(strcmp(err, "the instance tag is not 16 hex digits") == 0, "%s", err);
	cr_expect(eq(int, (int)waitpid(-1, NULL, WNOHANG), 0));
}

Test(launcher, a_binary_that_cannot_run_is_an_exit_127_of_serves_child)
{
	char err[512] = "";
	pid_t pid = -1;
	int fd = -1, status = 0;

	chmod(script, 0644);
	cr_assert(eq(int, launcher_start_dataplane(launcher, TAG, first_message, &pid, &fd, err, sizeof(err)), 0),
		  "%s", err);
	cr_expect(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_expect(exited_with(status, 127), "status %#x", status);
	close(fd);
}

Test(launcher, xdp_clean_up_answers_for_any_interface)
{
	cr_expect(eq(int, launcher_remove_xdp(launcher), 0), "lo carries no program of ours");
}

Test(launcher, its_death_is_seen_on_its_descriptor_and_requests_fail)
{
	struct pollfd p = { .fd = launcher_fd(launcher), .events = POLLIN };
	char err[512] = "";
	pid_t pid = -1;
	int fd = -1;

	cr_expect(eq(int, poll(&p, 1, 0), 0), "quiet while it lives");
	kill(launcher_pid(launcher), SIGKILL);
	cr_expect(eq(int, poll(&p, 1, 2000), 1), "readable once it is gone");
	cr_expect(eq(int, launcher_start_dataplane(launcher, TAG, first_message, &pid, &fd, err, sizeof(err)), -1));
	cr_expect(strstr(err, "the launcher does not answer") != NULL, "%s", err);
}

Test(launcher, it_ignores_the_signals_that_stop_serve)
{
	struct pollfd p = { .fd = launcher_fd(launcher), .events = POLLIN };

	kill(launcher_pid(launcher), SIGINT);
	kill(launcher_pid(launcher), SIGTERM);
	kill(launcher_pid(launcher), SIGHUP);
	cr_expect(eq(int, poll(&p, 1, 200), 0), "still there");
	cr_expect(eq(int, launcher_remove_xdp(launcher), 0), "and answering");
}

/* The launcher dies with serve even when it became another user (the change
 * of user clears a parent-death signal set before it): here serve's end of
 * its socket lives on in a grandchild, so only the signal can end it. */
Test(launcher_alone, dies_with_serve_even_as_another_user, .timeout = 30)
{
	struct passwd *nobody = getpwnam("nobody");
	int report[2];
	pid_t serve_pid, its_launcher = 0, holder = 0;
	bool gone = false;

	if (geteuid() != 0 || !nobody)
		cr_skip_test("becoming another user takes root");
	cr_assert(eq(int, pipe(report), 0));
	serve_pid = fork();
	cr_assert(serve_pid >= 0);
	if (serve_pid == 0) {
		struct service_user u = { .name = "nobody", .uid = nobody->pw_uid, .gid = nobody->pw_gid };
		const struct launcher_config cfg = { .dataplane = "/bin/true", .args = NULL, .iface = "lo",
						     .config_message = first_message, .user = &u };
		struct launcher *l;
		pid_t pid;
		char msg[512];

		if (launcher_spawn(&cfg, &l, msg, sizeof(msg)) < 0)
			_exit(1);
		pid = launcher_pid(l);
		(void)!write(report[1], &pid, sizeof(pid));
		pid = fork();
		if (pid == 0) { /* holds serve's end of the socket */
			sleep(10);
			_exit(0);
		}
		(void)!write(report[1], &pid, sizeof(pid));
		_exit(0);
	}
	close(report[1]);
	cr_assert(eq(int, (int)read(report[0], &its_launcher, sizeof(its_launcher)), (int)sizeof(its_launcher)));
	cr_assert(eq(int, (int)read(report[0], &holder, sizeof(holder)), (int)sizeof(holder)));
	waitpid(serve_pid, NULL, 0);
	for (int i = 0; i < 200 && !gone; i++) {
		char path[64], state[256] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)its_launcher);
		f = fopen(path, "r");
		gone = !f || !fgets(state, sizeof(state), f) || strstr(state, ") Z ") != NULL;
		if (f)
			fclose(f);
		if (!gone)
			usleep(10000);
	}
	cr_expect(gone, "the launcher (pid %d) outlived serve", (int)its_launcher);
	if (!gone)
		kill(its_launcher, SIGKILL);
	kill(holder, SIGKILL);
}
