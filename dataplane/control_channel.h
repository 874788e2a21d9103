/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dataplane's local control socket, served from its own thread so the
 * polling loop never waits on it. One line in, a reply, then the connection
 * closes:
 *   "stats\n"  -> "name value\n" lines, then ".\n"
 *   "reload\n" -> "ok ...\n" or "error: ...\n" (the image cache is re-read)
 * The same thread performs a reload when SIGHUP set *reload_requested, so slow
 * work (reading a TFTP root into memory) never runs on the polling core.
 */
#ifndef STAMPEDE_CONTROL_CHANNEL_H
#define STAMPEDE_CONTROL_CHANNEL_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

struct control_ops {
	void (*stats)(void *ctx, FILE *out);
	/* Returns 0 or a negative errno; msg says what happened either way. */
	int (*reload)(void *ctx, char *msg, size_t len);
	/* Slow clean-up handed over by the polling core; run every poll interval. */
	void (*housekeeping)(void *ctx);
	void *ctx;
};

struct control_channel;

int control_channel_start(const char *path, const struct control_ops *ops,
			  volatile sig_atomic_t *reload_requested, struct control_channel **out);
void control_channel_stop(struct control_channel *channel);

#endif
