/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One dataplane per interface: it holds an exclusive flock on
 * /run/stampede/IFACE.lock for as long as it runs (the kernel drops it when
 * the process dies, however it dies). The control plane removes an XDP
 * program it finds on the interface only when nobody holds the lock: then the
 * program is a dead dataplane's, not a live one's whose control plane went away.
 */
#ifndef STAMPEDE_INSTANCE_LOCK_H
#define STAMPEDE_INSTANCE_LOCK_H

#include <stdbool.h>

#define INSTANCE_LOCK_DIR "/run/stampede"

/* Take the lock; returns its descriptor (keep it open), -EWOULDBLOCK when a
 * live dataplane holds it, or another negative errno. */
int instance_lock(const char *iface);

/* Whether a live dataplane holds the lock of iface. */
bool instance_locked(const char *iface);

#endif
