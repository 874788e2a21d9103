/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The launcher: the one part of `stampede serve` that keeps privileges.
 *
 * Starting a dataplane takes capabilities (privileges.h: attach and load the
 * XDP program, open the AF_XDP socket, lock its memory), and so does removing
 * the program a crashed dataplane left. serve must do both for as long as it
 * runs, but it also parses HTTP requests, the configuration and the
 * dataplane's event stream, and runs the boot API's client: code that a bug
 * could hand to an attacker. So serve forks, while it is still one thread,
 * this small process, which keeps the dataplane's starting set and does
 * nothing else; serve itself then drops every capability in every thread.
 *
 * The launcher reads fixed requests from serve on a SOCK_SEQPACKET pair:
 *
 *   start TAG\n<config message>   start a dataplane: the config message must
 *                                 keep the pinned settings of the first one
 *                                 (config_message.h: interface, address, port
 *                                 range, XDP program, EAL, PMD, lcores,
 *                                 hugepages, socket), so a
 *                                 subverted serve cannot point a privileged
 *                                 process anywhere else; the launcher writes
 *                                 it on the new dataplane's control socket,
 *                                 then hands serve that socket (SCM_RIGHTS)
 *                                   -> "started PID" + fd | "error WHY"
 *   remove-xdp                    remove Stampede's XDP program from the
 *                                 interface, if no live dataplane holds it
 *                                   -> "removed N" (1, 0 or -errno)
 *
 * The dataplane is created with CLONE_PARENT: it is serve's child, not the
 * launcher's, so serve reaps it, sees it die (SIGCHLD) and stops it as before.
 * The command line (binary, arguments) is fixed when the launcher forks. The
 * launcher dies with serve (PR_SET_PDEATHSIG, and the end of its socket); a
 * dataplane outlives both, as it always did.
 */
#ifndef STAMPEDE_LAUNCHER_H
#define STAMPEDE_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct launcher;
struct service_user;

struct launcher_config {
	const char *dataplane;          /* path of stampede-dataplane */
	char **args;                    /* its arguments after --control-fd and --instance-tag, NULL-terminated */
	const char *iface;
	const char *config_message;     /* the first dataplane's: its pinned lines bind every later one */
	const struct service_user *user; /* whom to become (service_user.h) */
};

/* Fork the launcher. Call it while the process has one thread. Returns 0, or
 * -1 with err saying why (the launcher's own message when it could not set up
 * its privileges). On success, msg says what the launcher kept. */
int launcher_spawn(const struct launcher_config *cfg, struct launcher **out, char *msg, size_t len);

/* Start a dataplane with --instance-tag tag and this config message. On
 * success *pid is serve's new child and *fd its control socket (the message
 * already written on it). Returns 0, or -1 with err. */
int launcher_start_dataplane(struct launcher *l, const char *tag, const char *config_message, pid_t *pid, int *fd,
			     char *err, size_t len);

/* xdp_remove_stale() on the launcher's interface, done by the launcher. */
int launcher_remove_xdp(struct launcher *l);

/* Readable once the launcher is gone (serve cannot start a dataplane any
 * more then): launcher_gone() says whether it is. A launcher that does not
 * answer in time, or out of turn, is killed: a late reply must never be taken
 * for the next one's. */
int launcher_fd(const struct launcher *l);
bool launcher_gone(struct launcher *l);
pid_t launcher_pid(const struct launcher *l);

/* Close its socket (it exits) and reap it. */
void launcher_stop(struct launcher *l);

/* Remove the XDP program on iface if it is Stampede's (left by a dataplane
 * that was killed) and no live dataplane holds the interface. Returns 1 when
 * one was removed, 0 when none, -errno. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN. */
int xdp_remove_stale(const char *iface);

#endif
