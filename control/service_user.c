/* SPDX-License-Identifier: BSD-2-Clause */
#include "service_user.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance_lock.h"
#include "privileges.h"

int service_user_lookup(const char *name, struct service_user *out, char *err, size_t len)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int r;

	*out = (struct service_user){ .uid = getuid(), .gid = getgid() };
	if (!name)
		return 0;
	r = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (!found) {
		snprintf(err, len, "user %s: %s", name, r ? strerror(r) : "no such user on this host");
		return -1;
	}
	*out = (struct service_user){ .name = name, .uid = pw.pw_uid, .gid = pw.pw_gid };
	return 0;
}

/* Give path to the user unless it is a symbolic link (never followed) or
 * already theirs; only_from_root: leave it to whoever else owns it. */
static int give(const char *path, const struct service_user *u, bool only_from_root)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (st.st_uid == u->uid || (only_from_root && st.st_uid != 0))
		return 0;
	return lchown(path, u->uid, u->gid) < 0 ? -errno : 0;
}

/* What a dataplane running as the user creates: its lock, socket and session
 * journal (IFACE.*) in /run/stampede, DPDK's run-time directory (with
 * --no-huge) below it. Those an earlier run left as root become the user's. */
static int prepare_runtime(const struct service_user *u, const char *iface, char *err, size_t len)
{
	char path[PATH_MAX];
	size_t n = strlen(iface);
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (mkdir(INSTANCE_LOCK_DIR, 0755) < 0 && errno != EEXIST) {
		snprintf(err, len, "%s: %s", INSTANCE_LOCK_DIR, strerror(errno));
		return -1;
	}
	if ((r = give(INSTANCE_LOCK_DIR, u, true)) < 0) {
		snprintf(err, len, "cannot give %s to user %s: %s", INSTANCE_LOCK_DIR, u->name, strerror(-r));
		return -1;
	}
	if (!(d = opendir(INSTANCE_LOCK_DIR))) {
		snprintf(err, len, "%s: %s", INSTANCE_LOCK_DIR, strerror(errno));
		return -1;
	}
	while (r == 0 && (de = readdir(d)))
		if (strncmp(de->d_name, iface, n) == 0 && de->d_name[n] == '.') {
			snprintf(path, sizeof(path), INSTANCE_LOCK_DIR "/%s", de->d_name);
			if ((r = give(path, u, false)) < 0)
				snprintf(err, len, "cannot give %.200s to user %s: %s", path, u->name, strerror(-r));
		}
	closedir(d);
	if (r < 0)
		return -1;
	if (setenv("XDG_RUNTIME_DIR", INSTANCE_LOCK_DIR, 1) < 0) {
		snprintf(err, len, "setenv: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static unsigned count_threads(void)
{
	char path[64];
	struct stat st;

	/* A directory's link count is 2 plus its subdirectories: one per thread. */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)getpid());
	return stat(path, &st) == 0 && st.st_nlink > 2 ? (unsigned)st.st_nlink - 2 : 1;
}

/* serve becomes the user when one is named that it is not already. */
static bool becomes(const struct service_user *user)
{
	return user && user->name && user->uid != getuid();
}

int service_user_prepare(const struct service_user *user, const char *iface, char *err, size_t len)
{
	if (!becomes(user))
		return 0;
	if (geteuid() != 0) {
		snprintf(err, len, "user %s: serve must start as root to become another user (it runs as uid %u)",
			 user->name, (unsigned)getuid());
		return -1;
	}
	return prepare_runtime(user, iface, err, len);
}

int service_user_drop_launcher(const struct service_user *user, char *msg, size_t len)
{
	bool become = becomes(user);
	struct privilege_plan plan;
	struct thread_privileges now;
	char err[256], eff[96], prm[160];

	privileges_launcher_plan(become || getuid() != 0, user->uid, user->gid, &plan);
	plan.change_id = become;
	if (!become && getuid() != 0 && privileges_read_thread(0, &now) == 0) {
		/* Started as a user with a few ambient capabilities (systemd's
		 * User= and AmbientCapabilities=): keep what it has of the plan. */
		plan.self.permitted &= now.permitted;
		plan.self.effective &= now.permitted;
		plan.self.inheritable &= now.permitted;
		plan.self.ambient &= now.permitted;
		plan.others = plan.self;
	}
	if (privileges_apply(&plan, err, sizeof(err)) < 0) {
		snprintf(msg, len, "the launcher cannot drop privileges: %s", err);
		return -1;
	}
	snprintf(msg, len, "the launcher (pid %d, uid %u) keeps %s effective and %s permitted%s; no_new_privs",
		 (int)getpid(), (unsigned)getuid(), privileges_names(plan.self.effective, eff, sizeof(eff)),
		 privileges_names(plan.self.permitted, prm, sizeof(prm)),
		 plan.self.ambient ? " (and ambient, for the dataplanes it starts)" : " (for the dataplanes it starts)");
	return 0;
}

int service_user_drop(const struct service_user *user, const char *socket_path, char *msg, size_t len)
{
	bool become = becomes(user);
	struct privilege_plan plan;
	struct thread_privileges got;
	char err[256], bnd[160], dir[PATH_MAX], *slash;

	privileges_control_plan(become, user->uid, user->gid, &plan);
	if (privileges_apply(&plan, err, sizeof(err)) < 0) {
		snprintf(msg, len, "cannot drop privileges: %s", err);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", socket_path);
	slash = strrchr(dir, '/');
	if (getuid() != 0 && slash) {
		*slash = '\0';
		if (access(dir[0] ? dir : "/", W_OK | X_OK) < 0) {
			snprintf(msg, len,
				 "the dataplane, running as uid %u, cannot create its socket %s: %s (give the directory "
				 "to the user, or use the default --stats-socket)",
				 (unsigned)getuid(), socket_path, strerror(errno));
			return -1;
		}
	}
	privileges_read_thread(0, &got);
	snprintf(msg, len, "privileges: uid %u%s%s%s; serve keeps no capability in its %u threads (bounding set %s), "
			   "no_new_privs",
		 (unsigned)getuid(), user->name ? " (" : "", user->name ? user->name : "", user->name ? ")" : "",
		 count_threads(), privileges_names(got.bounding, bnd, sizeof(bnd)));
	return 0;
}
