/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `stampede serve` once its HTTP port is bound: it gives up what it no longer
 * needs (dataplane/privileges.h says what each thread keeps and why), and,
 * with `user:` (or --user), becomes that user. The dataplanes it then starts
 * run as the user too, with the capabilities they need to start handed down
 * as ambient ones: a restart after a crash runs exactly as the first start,
 * and the dataplane's socket belongs to the same user as the control plane
 * that reads it. Everything either process reads afterwards (HTTP and TFTP
 * roots, the configuration on reload, boot files) is read as that user.
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

/* Prepare the run-time directory for iface and the socket's directory, drop
 * what serve no longer needs in every thread (and become the user), then
 * check that the user can create the dataplane's socket. msg says what was
 * kept, or, returning -1, what failed. */
int service_user_drop(const struct service_user *user, const char *iface, const char *socket_path, char *msg,
		      size_t len);

#endif
