/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dataplane's control channel, served from its own thread so the polling
 * loop never waits on it. Two ways in:
 *
 *  - the control plane's descriptor (--control-fd, a socketpair end): kept
 *    open for the dataplane's life, it carries every command below and the
 *    event stream; when it closes (the control plane died) the dataplane keeps
 *    serving with what it has;
 *  - a unix socket (stampede stats/reload, tests): one command per
 *    connection, then it closes, except "events", which streams.
 *
 * Protocol version 1: text lines. Commands and their replies:
 *   "hello"             -> "stampede-dataplane 1"
 *   "stats"             -> "name value" lines, then "."
 *   "reload"            -> "ok ..." or "error: ..." (the image cache is re-read)
 *   "policy 1", lines, "end"
 *                       -> "ok policy ..." or "error: policy: line N: ..."
 *   "images 1", "NAME=/path" lines, "end"
 *                       -> "ok ..." or "error: ...": the boot files cached from
 *                          outside the root at the next reload (--image)
 *   "events"            -> from then on, "event ..." lines as things happen
 *   "attach"            -> the "ready ..." line again, and from then on this
 *                          connection is the control plane's (a new control
 *                          plane re-attaching after the old one died); or
 *                          "error: ..." while another control plane is attached
 * Event lines may interleave with replies on the control plane's descriptor;
 * they always start with "event ", replies never do.
 *
 * The same thread performs a reload when SIGHUP set *reload_requested, so slow
 * work (reading a TFTP root into memory) never runs on the polling core.
 */
#ifndef STAMPEDE_CONTROL_CHANNEL_H
#define STAMPEDE_CONTROL_CHANNEL_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#define CONTROL_PROTOCOL_VERSION 1

struct control_ops {
	void (*stats)(void *ctx, FILE *out);
	/* Returns 0 or a negative errno; msg says what happened either way. */
	int (*reload)(void *ctx, char *msg, size_t len);
	/* The text between "policy 1" and "end". Same contract as reload. */
	int (*policy)(void *ctx, const char *text, size_t text_len, char *msg, size_t len);
	/* The text between "images 1" and "end". Same contract. */
	int (*images)(void *ctx, const char *text, size_t text_len, char *msg, size_t len);
	/* Formats waiting events as whole "event ...\n" lines into buf, at most
	 * cap bytes; returns the bytes written (0: none waiting). */
	size_t (*events)(void *ctx, char *buf, size_t cap);
	/* Slow clean-up handed over by the polling core; run every poll interval. */
	void (*housekeeping)(void *ctx);
	void *ctx;
};

struct control_channel;

/* control_fd: the control plane's descriptor, or -1. The channel owns it. */
int control_channel_start(const char *path, int control_fd, const struct control_ops *ops,
			  volatile sig_atomic_t *reload_requested, struct control_channel **out);
/* Queue one line (with its newline) for the control plane's descriptor; used
 * once the dataplane is ready ("ready ..."). Dropped if that descriptor is gone. */
void control_channel_announce(struct control_channel *channel, const char *line);
void control_channel_stop(struct control_channel *channel);

#endif
