/* SPDX-License-Identifier: BSD-2-Clause */
#include "privileges.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_MS 1000
#define VERIFY_ROUNDS     3 /* threads created while we broadcast get another signal */

enum phase {
	PHASE_PREPARE, /* bounding set, no_new_privs, keep capabilities across the uid change */
	PHASE_FINAL,   /* the capability sets themselves */
};

/* What the signal handler applies to the thread it runs on: set before the
 * signals are sent, read-only while they are handled. */
static struct {
	int phase;
	bool drop_bounding;
	unsigned last_cap;
	struct thread_privileges want;
	struct __user_cap_data_struct data[2];
} handler_plan;
static unsigned answered, failed; /* atomic */

void privileges_dataplane_plan(bool detach_at_exit, struct privilege_plan *plan)
{
	uint64_t keep = detach_at_exit ? PRIV_DATAPLANE_SERVE : 0;
	struct thread_privileges t = { .effective = keep, .permitted = keep, .bounding = keep, .no_new_privs = true };

	*plan = (struct privilege_plan){ .self = t, .others = t };
}

void privileges_launcher_plan(bool as_user, uid_t uid, gid_t gid, struct privilege_plan *plan)
{
	/* It removes a dead dataplane's XDP program (effective) and starts
	 * dataplanes, which get the starting set from its permitted set (as root:
	 * no_new_privs caps what an exec may gain at the parent's permitted set)
	 * or, when it runs as a user, as ambient capabilities. One thread. */
	struct thread_privileges t = { .effective = PRIV_LAUNCHER, .permitted = PRIV_DATAPLANE_START,
				       .inheritable = as_user ? PRIV_DATAPLANE_START : 0,
				       .ambient = as_user ? PRIV_DATAPLANE_START : 0, .bounding = PRIV_DATAPLANE_START,
				       .no_new_privs = true };

	*plan = (struct privilege_plan){ .self = t, .others = t, .change_id = as_user, .uid = uid, .gid = gid };
}

void privileges_control_plan(bool change_id, uid_t uid, gid_t gid, struct privilege_plan *plan)
{
	/* HTTP, the API, the configuration, the dataplane's events: nothing, in
	 * every thread, and nothing any program it ran could gain. */
	struct thread_privileges none = { .no_new_privs = true };

	*plan = (struct privilege_plan){ .self = none, .others = none, .change_id = change_id, .uid = uid, .gid = gid };
}

static unsigned last_cap(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	unsigned long v = CAP_LAST_CAP;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtoul(buf, NULL, 10);
		close(fd);
	}
	return v > 63 ? 63 : (unsigned)v;
}

/* The bounding set (while CAP_SETPCAP is still effective) and no_new_privs.
 * Raw system calls only, here and in apply_raw(): they run in signal handlers. */
static int narrow_bounding_set_no_new_privs(void)
{
	const struct thread_privileges *w = &handler_plan.want;
	int r = 0;

	if (handler_plan.drop_bounding)
		for (unsigned c = 0; c <= handler_plan.last_cap; c++)
			if (!(w->bounding & PRIV_CAP(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
			    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				r = -1;
	if (w->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -1;
	return r;
}

static int apply_raw(void)
{
	const struct thread_privileges *w = &handler_plan.want;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	int r = narrow_bounding_set_no_new_privs();

	if (handler_plan.phase == PHASE_PREPARE)
		return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? -1 : r;
	if (syscall(SYS_capset, &hdr, handler_plan.data) < 0)
		r = -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		r = -1;
	for (unsigned c = 0; c <= handler_plan.last_cap; c++)
		if ((w->ambient & PRIV_CAP(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			r = -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		r = -1;
	return r;
}

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (apply_raw() < 0)
		__atomic_add_fetch(&failed, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&answered, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

/* The calling thread's final sets, through libcap-ng. */
static int apply_self(const struct thread_privileges *w, unsigned top)
{
	capng_clear(CAPNG_SELECT_ALL);
	for (unsigned c = 0; c <= top; c++) {
		unsigned type = 0;

		type |= w->effective & PRIV_CAP(c) ? CAPNG_EFFECTIVE : 0;
		type |= w->permitted & PRIV_CAP(c) ? CAPNG_PERMITTED : 0;
		type |= w->inheritable & PRIV_CAP(c) ? CAPNG_INHERITABLE : 0;
		type |= w->ambient & PRIV_CAP(c) ? CAPNG_AMBIENT : 0;
		if (type && capng_update(CAPNG_ADD, (capng_type_t)type, c) < 0)
			return -1;
	}
	if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0)
		return -1;
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

static void set_handler_plan(int phase, const struct thread_privileges *w)
{
	handler_plan.phase = phase;
	handler_plan.want = *w;
	memset(handler_plan.data, 0, sizeof(handler_plan.data));
	for (int i = 0; i < 2; i++) {
		handler_plan.data[i].effective = (uint32_t)(w->effective >> (32 * i));
		handler_plan.data[i].permitted = (uint32_t)(w->permitted >> (32 * i));
		handler_plan.data[i].inheritable = (uint32_t)(w->inheritable >> (32 * i));
	}
}

/* Signal every thread but this one, or only those in `only` (n_only > 0);
 * returns how many were signalled. */
static unsigned signal_threads(const pid_t *only, size_t n_only)
{
	pid_t self = gettid(), pid = getpid();
	unsigned sent = 0;
	struct dirent *de;
	DIR *d;

	if (n_only) {
		for (size_t i = 0; i < n_only; i++)
			sent += syscall(SYS_tgkill, pid, only[i], SIGRTMIN) == 0;
		return sent;
	}
	if (!(d = opendir("/proc/self/task")))
		return 0;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

		if (tid > 0 && tid != self)
			sent += syscall(SYS_tgkill, pid, tid, SIGRTMIN) == 0;
	}
	closedir(d);
	return sent;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Apply phase to the other threads (all, or `only`); the handler stays
 * installed afterwards, so that a signal still on its way finds it. */
static int broadcast(int phase, const struct thread_privileges *w, const pid_t *only, size_t n_only, char *err,
		     size_t len)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	long deadline = now_ms() + ANSWER_TIMEOUT_MS;
	unsigned sent;

	sigemptyset(&sa.sa_mask);
	set_handler_plan(phase, w);
	__atomic_store_n(&answered, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&failed, 0, __ATOMIC_SEQ_CST);
	if (sigaction(SIGRTMIN, &sa, NULL) < 0) {
		snprintf(err, len, "sigaction: %s", strerror(errno));
		return -1;
	}
	sent = signal_threads(only, n_only);
	while (__atomic_load_n(&answered, __ATOMIC_SEQ_CST) < sent && now_ms() < deadline)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	if (__atomic_load_n(&failed, __ATOMIC_SEQ_CST)) {
		snprintf(err, len, "%u of %u threads could not change their capabilities", failed, sent);
		return -1;
	}
	/* A thread that ended meanwhile never answers; one that is still there
	 * without its sets is found by the check that follows. */
	return 0;
}

/* Compare every thread with the plan; collect those that differ. */
static int verify(const struct privilege_plan *plan, bool check_bounding, pid_t *wrong, size_t cap, size_t *n_wrong,
		  char *err, size_t len)
{
	pid_t self = gettid();
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	*n_wrong = 0;
	if (!d) {
		snprintf(err, len, "/proc/self/task: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);
		struct thread_privileges got;

		if (tid <= 0 || privileges_read_thread(tid, &got) < 0)
			continue; /* gone */
		if (privileges_equal(tid == self ? &plan->self : &plan->others, &got, check_bounding))
			continue;
		if (tid == self) {
			closedir(d);
			snprintf(err, len, "this thread holds effective %#" PRIx64 " permitted %#" PRIx64
					  " ambient %#" PRIx64 " after the change",
				got.effective, got.permitted, got.ambient);
			return -1;
		}
		if (*n_wrong < cap)
			wrong[(*n_wrong)++] = tid;
	}
	closedir(d);
	return 0;
}

int privileges_apply(const struct privilege_plan *plan, char *err, size_t len)
{
	struct thread_privileges now;
	pid_t wrong[64];
	size_t n_wrong = 0;
	bool bounding;

	if (privileges_read_thread(0, &now) < 0) {
		snprintf(err, len, "cannot read this thread's capabilities from /proc");
		return -1;
	}
	if (capng_get_caps_process() < 0) {
		snprintf(err, len, "libcap-ng cannot read this thread's capabilities");
		return -1;
	}
	/* Narrowing the bounding set takes CAP_SETPCAP; without it (a user's
	 * process given a few ambient capabilities) it stays as inherited. */
	bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1;
	handler_plan.drop_bounding = bounding;
	handler_plan.last_cap = last_cap();

	if (plan->change_id) {
		/* Before the uid changes, while every thread still may: no_new_privs,
		 * the bounding set, and keep-capabilities so that the uid change
		 * leaves the permitted sets for the final step to narrow. */
		if (broadcast(PHASE_PREPARE, &plan->others, NULL, 0, err, len) < 0)
			return -1;
		set_handler_plan(PHASE_PREPARE, &plan->self);
		if (apply_raw() < 0) {
			snprintf(err, len, "prctl: %s", strerror(errno));
			return -1;
		}
		/* glibc applies these to every thread (its SIGSETXID broadcast). */
		if (setgroups(1, &plan->gid) < 0 || setresgid(plan->gid, plan->gid, plan->gid) < 0 ||
		    setresuid(plan->uid, plan->uid, plan->uid) < 0) {
			snprintf(err, len, "cannot become uid %u gid %u: %s", (unsigned)plan->uid, (unsigned)plan->gid,
				strerror(errno));
			return -1;
		}
	}
	if (broadcast(PHASE_FINAL, &plan->others, NULL, 0, err, len) < 0)
		return -1;
	set_handler_plan(PHASE_FINAL, &plan->self);
	if (narrow_bounding_set_no_new_privs() < 0 || apply_self(&plan->self, handler_plan.last_cap) < 0) {
		snprintf(err, len, "cannot set this thread's capabilities: %s", strerror(errno));
		return -1;
	}
	/* Not dumpable: Stampede's processes may run as one user, and a process
	 * of that user without capabilities (another of them, subverted) must
	 * not trace this one, read its memory or take its descriptors
	 * (pidfd_getfd): the AF_XDP socket, the BPF maps, the launcher's
	 * capabilities. No core dumps, as for a set-uid program. Process-wide;
	 * after the change of user, which resets it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, len, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	for (int round = 0; round < VERIFY_ROUNDS; round++) {
		if (verify(plan, bounding, wrong, sizeof(wrong) / sizeof(wrong[0]), &n_wrong, err, len) < 0)
			return -1;
		if (!n_wrong)
			return 0;
		if (broadcast(PHASE_FINAL, &plan->others, wrong, n_wrong, err, len) < 0)
			return -1;
	}
	snprintf(err, len, "thread %d still holds more than planned after %d rounds", (int)wrong[0], VERIFY_ROUNDS);
	return -1;
}

int privileges_drop_dataplane(bool detach_at_exit, char *msg, size_t len)
{
	struct privilege_plan plan;
	struct thread_privileges got;
	char names[128], err[256];
	unsigned threads = 0;
	struct dirent *de;
	DIR *d;

	privileges_dataplane_plan(detach_at_exit, &plan);
	if (privileges_apply(&plan, err, sizeof(err)) < 0) {
		snprintf(msg, len, "cannot drop privileges: %s", err);
		return -1;
	}
	if ((d = opendir("/proc/self/task"))) {
		while ((de = readdir(d)))
			threads += de->d_name[0] != '.';
		closedir(d);
	}
	privileges_read_thread(0, &got);
	snprintf(msg, len, "privileges: kept %s%s in its %u threads (bounding set %s), no_new_privs; uid %u",
		privileges_names(got.permitted, names, sizeof(names)),
		detach_at_exit ? " (to detach the XDP program when it stops)" : "", threads,
		privileges_names(got.bounding, names + 64, sizeof(names) - 64), (unsigned)getuid());
	return 0;
}

bool privileges_may_detach_xdp(void)
{
	struct thread_privileges t;

	return privileges_read_thread(0, &t) < 0 || (t.effective & PRIV_CAP(CAP_NET_ADMIN));
}

static int hex_field(const char *text, const char *name, uint64_t *out)
{
	const char *p = strstr(text, name);
	char *end;

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, name);
	if (!p)
		return -1;
	p += strlen(name);
	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	*out = strtoull(p, &end, 16);
	return end == p || errno || (*end != '\n' && *end != '\0') ? -1 : 0;
}

int privileges_parse_status(const char *text, struct thread_privileges *out)
{
	uint64_t nnp;

	if (hex_field(text, "CapInh:", &out->inheritable) < 0 || hex_field(text, "CapPrm:", &out->permitted) < 0 ||
	    hex_field(text, "CapEff:", &out->effective) < 0 || hex_field(text, "CapBnd:", &out->bounding) < 0 ||
	    hex_field(text, "CapAmb:", &out->ambient) < 0 || hex_field(text, "NoNewPrivs:", &nnp) < 0 || nnp > 1)
		return -1;
	out->no_new_privs = nnp == 1;
	return 0;
}

int privileges_read_thread(pid_t tid, struct thread_privileges *out)
{
	char path[64], text[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid ? (int)tid : (int)gettid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return privileges_parse_status(text, out);
}

bool privileges_equal(const struct thread_privileges *want, const struct thread_privileges *got, bool check_bounding)
{
	return want->effective == got->effective && want->permitted == got->permitted &&
	       want->inheritable == got->inheritable && want->ambient == got->ambient &&
	       want->no_new_privs == got->no_new_privs && (!check_bounding || want->bounding == got->bounding);
}

const char *privileges_names(uint64_t set, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!set) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (unsigned c = 0; c < 64 && used < len; c++) {
		const char *name;

		if (!(set & PRIV_CAP(c)))
			continue;
		name = capng_capability_to_name(c);
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", name ? name : "?");
	}
	return buf;
}
