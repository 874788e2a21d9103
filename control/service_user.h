/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `stampede serve` and its launcher (launcher.h) give up what they do not
 * need (dataplane/privileges.h says what each keeps and why), and, with
 * `user:` (or --user), become that user. serve, once its HTTP port is bound,
 * keeps nothing; the launcher keeps what starting a dataplane takes, and the
 * dataplanes it starts run as the user too, with those capabilities handed
 * down as ambient ones: a restart after a crash runs exactly as the first
 * start, and the dataplane's socket belongs to the same user as the control
 * plane that reads it. Everything the processes read afterwards (HTTP and
 * TFTP roots, the configuration on reload, boot files) is read as that user.
 *
 * What a dataplane running as the user writes is prepared first, as root:
 * /run/stampede (its instance lock, control socket and session journal) is
 * given to the user, as systemd's RuntimeDirectory= with User= would, and
 * DPDK's run-time files (--no-huge) go under it through XDG_RUNTIME_DIR.
 */
#ifndef STAMPEDE_SERVICE_USER_H
#define STAMPEDE_SERVICE_USER_H

#include <stddef.h>
#include <sys/types.h>

struct service_user {
	const char *name; /* NULL: stay the user serve was started as */
	uid_t uid;
	gid_t gid;
};

/* Look name up (NULL: none). Returns 0, or -1 with err. */
int service_user_lookup(const char *name, struct service_user *out, char *err, size_t len);

/* Before the launcher forks, as root: the run-time directory for iface
 * (with a user to become), XDG_RUNTIME_DIR. Returns 0, or -1 with err. */
int service_user_prepare(const struct service_user *user, const char *iface, char *err, size_t len);

/* In the launcher (one thread): keep the dataplane's starting set, become
 * the user. msg says what was kept, or, returning -1, what failed. */
int service_user_drop_launcher(const struct service_user *user, char *msg, size_t len);

/* In serve once its port is bound: nothing in any thread, become the user,
 * then check that the user can create the dataplane's socket. msg as above. */
int service_user_drop(const struct service_user *user, const char *socket_path, char *msg, size_t len);

#endif
