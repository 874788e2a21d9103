/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What each process keeps (dataplane/privileges.c, control/service_user.c):
 * dataplane, launcher and serve:
 * the plans, the /proc status parser, the names printed in the logs, and the
 * drop itself in a process of several threads, every one of which must end
 * with the plan (Criterion runs each test in a process of its own, so a test
 * may give up what it likes). Without root the drops still run (giving up is
 * always allowed) but the bounding set, which takes CAP_SETPCAP, stays, and
 * the change of user is skipped.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privileges.h"
#include "service_user.h"

/* ---- /proc/PID/status ------------------------------------------------------------------------ */

/* A dataplane's main thread after its drop (Linux 6.18, trimmed). */
static const char status_text[] = "Name:\tstampede-datapl\n"
				   "Umask:\t0022\n"
				   "State:\tS (sleeping)\n"
				   "Uid:\t65534\t65534\t65534\t65534\n"
				   "CapInh:\t0000000000000000\n"
				   "CapPrm:\t0000000000001000\n"
				   "CapEff:\t0000000000001000\n"
				   "CapBnd:\t0000000000001000\n"
				   "CapAmb:\t0000000000000000\n"
				   "NoNewPrivs:\t1\n"
				   "Seccomp:\t0\n";

Test(privileges_parse_status, reads_every_set_and_no_new_privs)
{
	struct thread_privileges t;

	cr_assert(eq(int, privileges_parse_status(status_text, &t), 0));
	cr_expect(eq(u64, t.permitted, PRIV_CAP(CAP_NET_ADMIN)));
	cr_expect(eq(u64, t.effective, PRIV_CAP(CAP_NET_ADMIN)));
	cr_expect(eq(u64, t.bounding, PRIV_CAP(CAP_NET_ADMIN)));
	cr_expect(eq(u64, t.inheritable, 0));
	cr_expect(eq(u64, t.ambient, 0));
	cr_expect(t.no_new_privs);
}

Test(privileges_parse_status, a_missing_or_malformed_line_is_an_error)
{
	static const char *const cut[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:" };
	struct thread_privileges t;
	char text[sizeof(status_text)];

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		snprintf(text, sizeof(text), "%s", status_text);
		memcpy(strstr(text, cut[i]), "Xxx", 3);
		cr_expect(eq(int, privileges_parse_status(text, &t), -1), "without %s", cut[i]);
	}
	snprintf(text, sizeof(text), "%s", status_text);
	memcpy(strstr(text, "0000000000001000"), "00000000000010zz", 16);
	cr_expect(eq(int, privileges_parse_status(text, &t), -1), "hex digits only");
	cr_expect(eq(int, privileges_parse_status("NoNewPrivs:\t2\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n"
						  "CapAmb:\t0\n", &t), -1), "NoNewPrivs is 0 or 1");
	/* A name inside another line is not the field. */
	cr_expect(eq(int, privileges_parse_status("Name:\tCapInh: 0\n", &t), -1));
}

Test(privileges_equal, the_bounding_set_counts_only_when_asked)
{
	struct thread_privileges a = { .effective = 1, .permitted = 3, .bounding = 3, .no_new_privs = true }, b = a;

	cr_expect(privileges_equal(&a, &b, true));
	b.bounding = ~0ull;
	cr_expect(not(privileges_equal(&a, &b, true)));
	cr_expect(privileges_equal(&a, &b, false));
	b = a;
	b.ambient = 2;
	cr_expect(not(privileges_equal(&a, &b, false)));
	b = a;
	b.no_new_privs = false;
	cr_expect(not(privileges_equal(&a, &b, false)));
}

Test(privileges_names, as_the_logs_print_them)
{
	char buf[128];

	cr_expect(eq(str, (char *)privileges_names(0, buf, sizeof(buf)), "none"));
	cr_expect(eq(str, (char *)privileges_names(PRIV_DATAPLANE_SERVE, buf, sizeof(buf)), "net_admin"));
	cr_expect(eq(str, (char *)privileges_names(PRIV_LAUNCHER, buf, sizeof(buf)), "net_admin,sys_admin"));
	cr_expect(eq(str, (char *)privileges_names(PRIV_DATAPLANE_START, buf, sizeof(buf)),
		     "setpcap,net_admin,net_raw,ipc_lock,sys_admin"));
	cr_expect(eq(str, (char *)privileges_names(PRIV_DATAPLANE_START, buf, 12), "setpcap,net"), "truncated");
}

/* ---- the plans --------------------------------------------------------------------------------- */

Test(privileges_plan, a_serving_dataplane_keeps_net_admin_only_for_af_xdp)
{
	struct privilege_plan p;

	privileges_dataplane_plan(true, &p);
	cr_expect(eq(u64, p.self.permitted, PRIV_CAP(CAP_NET_ADMIN)));
	cr_expect(eq(u64, p.self.effective, PRIV_CAP(CAP_NET_ADMIN)));
	cr_expect(eq(u64, p.self.bounding, PRIV_CAP(CAP_NET_ADMIN)));
	cr_expect(eq(u64, p.self.inheritable | p.self.ambient, 0), "nothing for children: it has none");
	cr_expect(p.self.no_new_privs);
	cr_expect(privileges_equal(&p.self, &p.others, true), "every thread the same");
	cr_expect(not(p.change_id));
	privileges_dataplane_plan(false, &p);
	cr_expect(eq(u64, p.self.permitted | p.self.effective | p.self.bounding, 0), "af_packet, pcap: nothing");
}

Test(privileges_plan, the_launcher_keeps_the_starting_set_for_its_children)
{
	struct privilege_plan p;

	privileges_launcher_plan(false, 0, 0, &p);
	cr_expect(eq(u64, p.self.effective, PRIV_LAUNCHER), "to remove a dead dataplane's program");
	cr_expect(eq(u64, p.self.permitted, PRIV_DATAPLANE_START), "what a dataplane it starts may get");
	cr_expect(eq(u64, p.self.bounding, PRIV_DATAPLANE_START));
	cr_expect(eq(u64, p.self.inheritable | p.self.ambient, 0), "as root a child gets them from the bounding set");
	cr_expect(p.self.no_new_privs);
	cr_expect(privileges_equal(&p.self, &p.others, true), "one thread, planned alike if there were more");
	cr_expect(not(p.change_id));

	privileges_launcher_plan(true, 65534, 65534, &p);
	cr_expect(p.change_id);
	cr_expect(eq(u32, (unsigned)p.uid, 65534));
	cr_expect(eq(u64, p.self.inheritable, PRIV_DATAPLANE_START));
	cr_expect(eq(u64, p.self.ambient, PRIV_DATAPLANE_START), "a user's child gets them as ambient");
	cr_expect(eq(u64, PRIV_LAUNCHER & ~PRIV_DATAPLANE_START, 0), "effective within permitted");
	cr_expect(eq(u64, PRIV_DATAPLANE_SERVE & ~PRIV_DATAPLANE_START, 0));
}

Test(privileges_plan, serve_keeps_nothing_in_any_thread)
{
	struct privilege_plan p;
	const struct thread_privileges none = { .no_new_privs = true };

	privileges_control_plan(false, 0, 0, &p);
	cr_expect(privileges_equal(&none, &p.self, true), "main thread: nothing, bounding set empty");
	cr_expect(privileges_equal(&none, &p.others, true), "HTTP threads: nothing");
	cr_expect(not(p.change_id));
	privileges_control_plan(true, 65534, 65534, &p);
	cr_expect(p.change_id);
	cr_expect(eq(u32, (unsigned)p.uid, 65534));
	cr_expect(privileges_equal(&none, &p.self, true), "as a user too: no ambient set to hand down");
}

/* ---- the drop, in a process of several threads ----------------------------------------------------- */

/*
 * Each drop runs in a child forked from the test: it has the threads the test
 * starts and no others (Criterion's own helper threads block signals and so
 * would never take the broadcast). The child reports the first check that
 * failed through a pipe; an empty report is a pass.
 */
#define WORKERS 4

static pthread_barrier_t parked;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static bool done;
static pid_t worker_tids[WORKERS + 1];
static char failure[512];

#define CHILD_CHECK(cond, ...)                                                                          \
	do {                                                                                            \
		if (!(cond) && !failure[0]) {                                                           \
			int at_ = snprintf(failure, sizeof(failure), "line %d: ", __LINE__);            \
			snprintf(failure + at_, sizeof(failure) - (size_t)at_, __VA_ARGS__);            \
		}                                                                                       \
	} while (0)

static void *worker(void *arg)
{
	size_t i = (size_t)arg;

	worker_tids[i] = gettid();
	if (i == WORKERS) { /* this one never takes the broadcast */
		sigset_t rt;

		sigemptyset(&rt);
		sigaddset(&rt, SIGRTMIN);
		pthread_sigmask(SIG_BLOCK, &rt, NULL);
	}
	pthread_barrier_wait(&parked);
	pthread_mutex_lock(&lock);
	while (!done)
		pthread_cond_wait(&done_cond, &lock); /* interrupted by the broadcast, restarted */
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Starts n workers (the last one blocking the signal when n > WORKERS). */
static void start_workers(pthread_t *t, size_t n)
{
	pthread_barrier_init(&parked, NULL, (unsigned)n + 1);
	for (size_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&parked);
}

static void stop_workers(pthread_t *t, size_t n)
{
	pthread_mutex_lock(&lock);
	done = true;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void *read_own(void *out)
{
	privileges_read_thread(0, out);
	return NULL;
}

static bool have_setpcap(void)
{
	struct thread_privileges t;

	return privileges_read_thread(0, &t) == 0 && (t.effective & PRIV_CAP(CAP_SETPCAP));
}

/* Runs body in a forked child; asserts it reported nothing. */
static void in_child(void (*body)(void))
{
	char report[sizeof(failure)] = "";
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	cr_assert(eq(int, pipe(pipefd), 0));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		body();
		(void)!write(pipefd[1], failure, strlen(failure));
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], report, sizeof(report) - 1);
	close(pipefd[0]);
	report[n > 0 ? n : 0] = '\0';
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_expect(eq(int, status, 0), "the child's wait status");
	cr_expect(eq(str, report, ""));
}

static void every_thread_ends_with_the_plan(void)
{
	pthread_t t[WORKERS], late;
	struct privilege_plan plan;
	struct thread_privileges got, before;
	bool bounding = have_setpcap();
	char err[256] = "";

	privileges_read_thread(0, &before);
	start_workers(t, WORKERS);
	privileges_dataplane_plan(false, &plan);
	CHILD_CHECK(privileges_apply(&plan, err, sizeof(err)) == 0, "apply: %s", err);
	for (size_t i = 0; i < WORKERS; i++) {
		CHILD_CHECK(privileges_read_thread(worker_tids[i], &got) == 0, "thread %zu: no status", i);
		CHILD_CHECK((got.permitted | got.effective | got.inheritable | got.ambient) == 0,
			    "thread %zu kept permitted %#llx", i, (unsigned long long)got.permitted);
		CHILD_CHECK(got.no_new_privs, "thread %zu: no_new_privs", i);
		CHILD_CHECK(got.bounding == (bounding ? 0 : before.bounding), "thread %zu: bounding %#llx", i,
			    (unsigned long long)got.bounding);
	}
	privileges_read_thread(0, &got);
	CHILD_CHECK(got.permitted == 0 && got.no_new_privs, "the calling thread kept %#llx",
		    (unsigned long long)got.permitted);
	CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "PR_GET_NO_NEW_PRIVS");
	stop_workers(t, WORKERS);
	memset(&got, 0xff, sizeof(got));
	pthread_create(&late, NULL, read_own, &got);
	pthread_join(late, NULL);
	CHILD_CHECK(got.permitted == 0 && got.no_new_privs, "a thread started afterwards inherits the drop");
}

Test(privileges_apply, every_thread_ends_with_the_plan)
{
	in_child(every_thread_ends_with_the_plan);
}

static void a_thread_that_keeps_its_privileges_fails_the_drop(void)
{
	pthread_t t[WORKERS + 1];
	struct privilege_plan plan;
	struct thread_privileges before, got;
	char err[256] = "";

	privileges_read_thread(0, &before);
	start_workers(t, WORKERS + 1);
	privileges_dataplane_plan(false, &plan);
	CHILD_CHECK(privileges_apply(&plan, err, sizeof(err)) == -1, "the drop succeeded");
	CHILD_CHECK(strstr(err, "still holds more than planned") != NULL, "message: %s", err);
	privileges_read_thread(worker_tids[WORKERS], &got);
	CHILD_CHECK(got.permitted == before.permitted, "the thread blocking the signal kept its sets");
	stop_workers(t, WORKERS + 1);
}

Test(privileges_apply, a_thread_that_keeps_its_privileges_fails_the_drop)
{
	struct thread_privileges me;

	cr_assert(eq(int, privileges_read_thread(0, &me), 0));
	if (!me.permitted)
		cr_skip_test("nothing to give up without capabilities");
	in_child(a_thread_that_keeps_its_privileges_fails_the_drop);
}

static void the_control_plane_becomes_its_user(void)
{
	pthread_t t[WORKERS];
	struct privilege_plan plan;
	struct thread_privileges got;
	struct passwd *nobody = getpwnam("nobody");
	char err[256] = "";

	start_workers(t, WORKERS);
	privileges_control_plan(true, nobody->pw_uid, nobody->pw_gid, &plan);
	CHILD_CHECK(privileges_apply(&plan, err, sizeof(err)) == 0, "apply: %s", err);
	CHILD_CHECK(getuid() == nobody->pw_uid && geteuid() == nobody->pw_uid, "uid %u", (unsigned)getuid());
	CHILD_CHECK(getgid() == nobody->pw_gid && getegid() == nobody->pw_gid, "gid %u", (unsigned)getgid());
	CHILD_CHECK(getgroups(0, NULL) == 1, "%d supplementary groups", getgroups(0, NULL));
	CHILD_CHECK(prctl(PR_GET_DUMPABLE) == 0, "not dumpable: a process of the same user cannot trace it");
	privileges_read_thread(0, &got);
	CHILD_CHECK(privileges_equal(&plan.self, &got, true), "main thread: permitted %#llx bounding %#llx",
		    (unsigned long long)got.permitted, (unsigned long long)got.bounding);
	CHILD_CHECK(got.permitted == 0 && got.bounding == 0 && got.no_new_privs, "permitted %#llx",
		    (unsigned long long)got.permitted);
	for (size_t i = 0; i < WORKERS; i++) {
		privileges_read_thread(worker_tids[i], &got);
		CHILD_CHECK(privileges_equal(&plan.others, &got, true), "thread %zu: permitted %#llx", i,
			    (unsigned long long)got.permitted);
	}
	stop_workers(t, WORKERS);
}

Test(privileges_apply, the_control_plane_becomes_its_user)
{
	if (geteuid() != 0 || !getpwnam("nobody") || !have_setpcap())
		cr_skip_test("becoming another user takes root");
	in_child(the_control_plane_becomes_its_user);
}

/* The launcher, one thread, becomes the user and keeps the starting set as
 * ambient capabilities: a program it runs gets exactly them. */
static void the_launcher_becomes_its_user_and_hands_down_the_starting_set(void)
{
	struct passwd *nobody = getpwnam("nobody");
	const struct service_user u = { .name = "nobody", .uid = nobody->pw_uid, .gid = nobody->pw_gid };
	struct thread_privileges got;
	char msg[512] = "", status[4096] = "";
	int pipefd[2];
	pid_t pid;
	ssize_t n;

	CHILD_CHECK(service_user_drop_launcher(&u, msg, sizeof(msg)) == 0, "drop: %s", msg);
	CHILD_CHECK(strstr(msg, "keeps net_admin,sys_admin effective and setpcap,net_admin,net_raw,ipc_lock,sys_admin "
				"permitted (and ambient") != NULL, "%s", msg);
	privileges_read_thread(0, &got);
	CHILD_CHECK(getuid() == nobody->pw_uid, "uid %u", (unsigned)getuid());
	CHILD_CHECK(got.ambient == PRIV_DATAPLANE_START && got.effective == PRIV_LAUNCHER, "ambient %#llx",
		    (unsigned long long)got.ambient);
	/* What a program it runs holds: cat of its own status. */
	if (pipe(pipefd) < 0 || (pid = fork()) < 0) {
		CHILD_CHECK(0, "pipe/fork");
		return;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	n = read(pipefd[0], status, sizeof(status) - 1);
	waitpid(pid, NULL, 0);
	CHILD_CHECK(n > 0 && privileges_parse_status(status, &got) == 0, "the child's status");
	CHILD_CHECK(got.permitted == PRIV_DATAPLANE_START && got.effective == PRIV_DATAPLANE_START,
		    "the program it ran: permitted %#llx effective %#llx", (unsigned long long)got.permitted,
		    (unsigned long long)got.effective);
}

Test(privileges_apply, the_launcher_becomes_its_user_and_hands_down_the_starting_set)
{
	if (geteuid() != 0 || !getpwnam("nobody") || !have_setpcap())
		cr_skip_test("becoming another user takes root");
	in_child(the_launcher_becomes_its_user_and_hands_down_the_starting_set);
}

/* ---- the user serve becomes -------------------------------------------------------------------------- */

Test(service_user, lookup)
{
	struct service_user u;
	char err[128] = "";

	cr_assert(eq(int, service_user_lookup("root", &u, err, sizeof(err)), 0));
	cr_expect(eq(u32, (unsigned)u.uid, 0));
	cr_expect(eq(str, (char *)u.name, "root"));
	cr_assert(eq(int, service_user_lookup(NULL, &u, err, sizeof(err)), 0));
	cr_expect(eq(ptr, (void *)u.name, NULL), "none: stay who we are");
	cr_expect(eq(u32, (unsigned)u.uid, (unsigned)getuid()));
	cr_expect(eq(int, service_user_lookup("no-such-stampede-user", &u, err, sizeof(err)), -1));
	cr_expect(eq(str, err, "user no-such-stampede-user: no such user on this host"));
}

Test(service_user, another_user_needs_a_root_start)
{
	struct service_user u = { .name = "someone", .uid = getuid() + 1, .gid = getgid() };
	char msg[256] = "";

	if (geteuid() == 0)
		cr_skip_test("runs as root");
	cr_expect(eq(int, service_user_prepare(&u, "eth0", msg, sizeof(msg)), -1));
	cr_expect(strstr(msg, "serve must start as root to become another user") != NULL, "%s", msg);
}
