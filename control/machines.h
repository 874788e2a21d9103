/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Every machine Stampede has seen boot, and where it is: a bounded table fed
 * by the dataplane's events (DHCP, TFTP) and the HTTP server's (script,
 * kernel, initrd). When it is full the machine seen least recently is
 * evicted; each machine keeps its last `timeline_len` events. Thread-safe:
 * events arrive on the control plane's main thread, the API reads from the
 * HTTP server's threads.
 */
#ifndef STAMPEDE_MACHINES_H
#define STAMPEDE_MACHINES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_line.h"

#define MACHINES_MAX_CAPACITY 65536
#define MACHINES_MAX_TIMELINE 1024

/* In boot order; a machine's stage only moves forward within one boot (a new
 * DISCOVER from firmware starts the next boot). */
#define MACHINE_STAGES(X) X(dhcp) X(offer) X(boot_server) X(tftp) X(nbp_loaded) X(ipxe) X(script) X(kernel) X(initrd)

enum machine_stage {
#define MACHINE_STAGE_ENUM(name) STAGE_##name,
	MACHINE_STAGES(MACHINE_STAGE_ENUM)
#undef MACHINE_STAGE_ENUM
	STAGE_COUNT
};

enum machine_state { MACHINE_BOOTING, MACHINE_HANDED_OFF, MACHINE_FAILED, MACHINE_IGNORED, MACHINE_STATE_COUNT };

const char *machine_stage_name(enum machine_stage s);
const char *machine_state_name(enum machine_state s);

struct machines;

struct machines *machines_create(size_t capacity, size_t timeline_len);
void machines_free(struct machines *m);

/* The clock of the table: Unix seconds (CLOCK_REALTIME), as the events carry. */
double machines_clock(void);

/* Events. Times are Unix seconds. */
void machines_on_dhcp(struct machines *m, const struct event_dhcp *e);
/* Returns the transfer's duration in seconds when e ends one (completed), else -1. */
double machines_on_tftp(struct machines *m, const struct event_tftp *e);
/* GET /boot.ipxe answered for mac from ip with profile; the kernel and initrd
 * paths (as the script names them, relative to the HTTP root or URLs) are
 * what the machine fetches next. */
void machines_on_script(struct machines *m, double t, const char *mac, const char *ip, const char *hostname,
			const char *profile, const char *kernel, const char *const *initrds, size_t n_initrds);
/* Any other HTTP request from ip (path without the leading '/'). */
void machines_on_http(struct machines *m, double t, const char *ip, const char *path, unsigned status,
		      uint64_t bytes, bool complete);

struct machines_counts {
	size_t total, capacity;
	size_t by_state[MACHINE_STATE_COUNT];
	uint64_t evicted;
};
void machines_counts(struct machines *m, struct machines_counts *out);

/* The API's JSON (docs in README "JSON API"). One returns NULL for an
 * unknown MAC (any case, ':' or '-'). */
json_t *machines_list_json(struct machines *m, double now);
json_t *machines_one_json(struct machines *m, const char *mac, double now);

#endif
