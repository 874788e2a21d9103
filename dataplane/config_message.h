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

#include <stdbool.h>
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

/*
 * Which settings a control plane may change from one dataplane start to the
 * next. A dataplane starts with capabilities that reach beyond its own files
 * (privileges.h): the interface it attaches to, the address and ports whose
 * UDP its XDP program takes from the host, the program itself, EAL's
 * arguments (which can load a shared object), its PMD, lcores and hugepages,
 * its socket. Those lines are pinned to the message the first dataplane was
 * started with, as the operator configured it; what a reload may change at
 * the next restart (the TFTP root, cache size, session limits, timeouts,
 * rates, images: all read or enforced without privileges) is listed by key.
 * config_message_repin(m, m) is a message's canonical form: pinned lines
 * first, in order, then the changeable ones. A changeable line is "KEY VALUE" exactly:
 * never "KEY=VALUE" nor an abbreviation, which getopt_long would also take.
 */

/* Whether fresh keeps every pinned line of pinned, in order, adds none, and
 * ends with its "end" line. Returns true, or false with err naming the line. */
bool config_message_within_pins(const char *pinned, const char *fresh, char *err, size_t err_len);

/* fresh's changeable lines with pinned's pinned ones: what a dataplane
 * restarted after a reload is started with. malloc'd; NULL when out of memory
 * or when either is not a whole message. */
char *config_message_repin(const char *pinned, const char *fresh);

#endif
