/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The first message on the control plane's channel (--control-fd): the
 * dataplane's start-up settings, before EAL and before anything else.
 *
 *   config 1
 *   iface eth0
 *   tftp-root /srv/tftp
 *   no-huge
 *   end
 *
 * Each line is a long option of stampede-dataplane without its "--", then its
 * value if it takes one, so the message is validated by exactly the code that
 * validates the command line (options.c) and errors name the same options.
 */
#ifndef STAMPEDE_CONFIG_MESSAGE_H
#define STAMPEDE_CONFIG_MESSAGE_H

#include <stddef.h>

#define CONFIG_MESSAGE_MAX 16384

/* The value of --control-fd N (or --control-fd=N) in argv, or -1. */
int config_message_fd(int argc, char **argv);

/*
 * Read the message from fd, waiting at most timeout_ms for it in all. Bytes
 * after "end" are left unread (they are the next messages). Appends "--key"
 * and "value" pointers into storage to argv (which has room for max entries
 * and already holds *argc). Returns 0, or a negative errno with err set.
 */
int config_message_read(int fd, int timeout_ms, char *storage, size_t cap, char **argv, int *argc, int max,
			char *err, size_t err_len);

#endif
