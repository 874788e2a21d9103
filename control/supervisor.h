/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Runs the dataplane as a child process and keeps it running.
 *
 * The launcher (launcher.h: serve itself holds no privileges) starts the
 * child for it, as its child, with one end of a socketpair as --control-fd 3
 * and the start-up settings ("config 1", dataplane/config_message.h) already
 * written on it. On the other end the supervisor sends the proxyDHCP policy
 * ("policy 1"), then reads the child's replies and its event stream
 * (dataplane/control_channel.h).
 *
 * A dataplane that dies after it was ready is restarted (after 50 ms, doubling
 * to 5 s while it keeps dying; more than SUPERVISOR_MAX_CRASHES within a
 * minute and the supervisor gives up). One that fails before it was ready is
 * not: that is a configuration problem, reported with the child's own
 * message. Before each start, and after the last stop, an XDP program a
 * crashed dataplane left on the interface is removed, so the interface never
 * stays filtered by a program nobody serves.
 *
 * A dataplane outlives its control plane. A new control plane that finds one
 * serving the interface re-attaches to it ("attach" on its unix socket) when
 * it runs the very settings this one would start (the tag, a digest of the
 * config message and arguments, passed as --instance-tag): traffic never
 * stops, the policy is re-sent, events flow again, and the dataplane is
 * supervised through a pidfd. One with other settings is stopped and replaced.
 */
#ifndef STAMPEDE_SUPERVISOR_H
#define STAMPEDE_SUPERVISOR_H

#include <stdbool.h>

#define SUPERVISOR_MAX_CRASHES 5

struct supervisor;
struct launcher;

struct supervisor_config {
	char **args;                 /* the launcher's extra arguments for it (for the settings tag) */
	const char *iface;
	struct launcher *launcher;   /* starts dataplanes and removes their programs (launcher.h) */
	const char *socket_path;     /* the dataplane's unix socket: where a live one is re-attached */
	const char *config_message;  /* whole "config 1 ... end\n" */
	/* Called for each "event ..." line and each reply line, on the thread that
	 * calls supervisor_poll. */
	void (*on_line)(void *ctx, const char *line);
	void *ctx;
};

int supervisor_create(const struct supervisor_config *cfg, struct supervisor **out);
/* Start (or restart) the child and send it the config and the policy message
 * (whole "policy 1 ... end\n", kept for restarts). Returns 0 or -errno. */
int supervisor_start(struct supervisor *s, const char *policy_message);
/* Replace the policy: kept for restarts and sent to a running child. */
void supervisor_set_policy(struct supervisor *s, const char *policy_message);
/* Replace the start-up settings used by the next (re)start. */
void supervisor_set_config(struct supervisor *s, const char *config_message);
/* Send text (e.g. "reload\n") to the running child. A child that does not
 * take it within 5 s is killed and restarted: a message cut in half would
 * garble every one after it. */
int supervisor_send(struct supervisor *s, const char *text);
/* The descriptor to poll for the child's lines (-1 when none runs). */
int supervisor_fd(const struct supervisor *s);
/* Read what the child sent (calls on_line). */
void supervisor_read(struct supervisor *s);
/*
 * After SIGCHLD (or supervisor_exit_fd readable): reap the child. Returns 0 when it was restarted or still
 * runs, or the exit code serve should end with (the child failed to start,
 * or crashed too often).
 */
int supervisor_reap(struct supervisor *s);
bool supervisor_ready(const struct supervisor *s);
/* A re-attached dataplane is not our child: poll this descriptor (-1 when
 * there is none) and call supervisor_reap when it is readable. */
int supervisor_exit_fd(const struct supervisor *s);
/* SIGTERM to the child, wait up to 10 s (then SIGKILL), remove a stale XDP
 * program. Returns the child's exit status as serve's exit code. */
int supervisor_stop(struct supervisor *s);
void supervisor_destroy(struct supervisor *s);

#endif
