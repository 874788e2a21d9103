/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GET /boot.ipxe: which profile a machine boots, rendered as its iPXE script.
 *
 * The profile is the external boot API's answer when one is configured and
 * answers, else the machine's selector's (config_match: the most specific
 * rule), else the configuration's default_profile; when that is the menu,
 * the profile the menu chains to (?profile=, one the menu lists). "none"
 * renders a script that says so and exits, so the firmware moves on to its
 * next boot device rather than retrying.
 */
#ifndef STAMPEDE_BOOT_SCRIPTS_H
#define STAMPEDE_BOOT_SCRIPTS_H

#include <pthread.h>

#include "config.h"
#include "http_server.h"

struct machines;
struct boot_api;

struct boot_scripts {
	pthread_rwlock_t lock; /* config is swapped on reload */
	const struct config *config;
	const char *base_url;  /* http://HOST:PORT */
	struct machines *machines; /* told which script each machine got; may be NULL */
	/* The external boot API, asked first when configured (may be NULL): its
	 * answer wins over the selectors; "not mine" or a failure falls back to
	 * them (boot_api.h). */
	struct boot_api *boot_api;
};

/* iPXE's ${platform}-${buildarch} ("pcbios-i386", "efi-x86_64", ...), or one
 * of pxe_arch_name()'s names, to enum pxe_arch; -1 when unknown. */
int boot_arch_from_query(const char *arch);

/* The http_script_fn: ctx is a struct boot_scripts. */
int boot_script_http(void *ctx, const struct http_script_request *req, char **body, unsigned *status);

#endif
