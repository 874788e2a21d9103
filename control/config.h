/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Stampede's configuration: one YAML file (libyaml), or the embedded default
 * (config_default.h) when there is none. Every error names file:line:column
 * and what is wrong; `stampede check FILE` prints them all and exits non-zero.
 * The README documents every key; configs/ holds examples.
 */
#ifndef STAMPEDE_CONFIG_H
#define STAMPEDE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h" /* enum pxe_arch */
#include "profile.h"

#define CONFIG_MAX_ERRORS 32

/* A selector: which machines a profile is for. Any field may be NULL; a rule
 * with several fields needs all of them to match. */
struct machine_rule {
	const char *mac;      /* normalised "52:54:00:12:34:56" */
	uint8_t mac_bytes[6];
	const char *uuid;     /* normalised lower case 8-4-4-4-12 */
	int arch;             /* enum pxe_arch, or -1 */
	const char *hostname; /* given to the script as ${hostname} */
	const char *profile;  /* a profile name, "menu", "local", "shell", or "none" */
	unsigned line, column; /* of the profile value: where a wrong reference is */
};

struct config {
	const char *source; /* the file, or "(embedded default)" */

	const char *interface; /* NULL: --iface must say */
	const char *address;   /* NULL: the interface's */

#define CONFIG_RATE_DEFAULT UINT_MAX /* a rate limit the configuration does not set */
	struct {
		const char *root;
		unsigned cache_mb, max_sessions, max_sessions_per_client, max_windowsize, retransmit_ms,
			max_retries;
		unsigned min_retransmit_ms; /* 0: the dataplane's default */
		unsigned rate_per_source;   /* requests a second per source address; 0: no limit;
					     * CONFIG_RATE_DEFAULT: the dataplane's default */
		const char *port_range;
	} tftp;

	struct {
		const char *listen; /* dotted quad */
		unsigned port;
		const char *root;   /* NULL: scripts only, no files */
		const char *base_url; /* NULL: http://ADDRESS:PORT */
		bool discover_profiles; /* every directory of root with a vmlinuz is a profile */
	} http;

	struct {
		const char *boot_files[PXE_ARCH_COUNT]; /* TFTP names, or URLs for the -http archs */
		bool boot_server[PXE_ARCH_COUNT];
		const char *menu, *prompt;
		unsigned prompt_timeout;
		const char *pxelinux_config_file; /* option 209 */
		const char *pxelinux_path_prefix; /* option 210 */
		const char **allow_macs, **deny_macs, **allow_subnets, **deny_subnets;
		size_t n_allow_macs, n_deny_macs, n_allow_subnets, n_deny_subnets;
		bool answer_unmatched; /* "unmatched: default" (true) or "ignore" */
		unsigned rate_per_client; /* requests a second per client MAC; 0: no limit; CONFIG_RATE_DEFAULT */
	} proxydhcp;

	struct profile *profiles;
	size_t n_profiles;
	struct machine_rule *machines;
	size_t n_machines;
	const char *default_profile; /* a profile name, "menu", "local", "shell" or "none" */
	unsigned menu_timeout_s;

	struct {
		const char *pmd;
		bool no_huge;
		int lcore; /* -1: default */
		unsigned lcores; /* polling loops; 0: the dataplane's default (1) */
		const char *eal;
	} dataplane;

	struct {
		const char *token; /* bearer token for the API's write calls; NULL: none needed */
	} api;

	/* The user `stampede serve` becomes once its HTTP port is bound (and the
	 * dataplanes it starts run as); NULL: it stays root (README, Threat model). */
	struct {
		const char *name;
		unsigned line, column; /* of the value; 0 when --user gave it */
	} user;

	struct {
		unsigned machines; /* machines remembered, the least recently seen evicted */
		unsigned events;   /* timeline entries kept per machine */
	} timeline;

	struct {
		const char *format; /* "text" or "json" */
		const char *level;  /* "error", "warn", "info" or "debug" */
	} log;

	struct {
		const char *url; /* NULL: no external boot API */
		const char *token;
		unsigned timeout_ms, cache_ttl_s, max_cache_entries;
	} boot_api;

	void *arena; /* every string above lives here */
};

struct config_errors {
	char msg[CONFIG_MAX_ERRORS][384];
	unsigned n, dropped;
};

/* Load path (NULL: the embedded default). Returns a configuration, or NULL
 * with errors filled ("FILE:LINE:COL: what"). Checks the file's own
 * consistency; config_check_host() checks it against this machine. */
struct config *config_load(const char *path, struct config_errors *errors);
/* Parse YAML text from memory, named `name` in errors. */
struct config *config_parse(const char *name, const char *text, size_t len, struct config_errors *errors);
void config_free(struct config *config);
/* The YAML of the embedded default (config_default.h). */
const char *config_default_text(void);

/* Directories exist, boot files are in the TFTP root (warnings for missing
 * optional ones go to warn), the user exists. Returns the number of errors added. */
unsigned config_check_host(const struct config *config, struct config_errors *errors, struct config_errors *warn);

/* Adds a profile for every directory of http.root holding a vmlinuz (when
 * http.discover_profiles): kernel DIR/vmlinuz, initrd DIR/initrd.img and the
 * first lines of DIR/cmdline and DIR/description when present. Profiles of
 * the file win over directories of the same name. Returns how many it added. */
unsigned config_discover_profiles(struct config *config);

const struct profile *config_profile(const struct config *config, const char *name);

/* The machine rule for a client, or NULL. Among the rules whose every field
 * matches, the most specific wins: a MAC counts 4, a UUID 2, an architecture
 * 1 (so MAC+arch beats MAC alone, which beats UUID); ties go to the first in
 * the file. */
const struct machine_rule *config_match(const struct config *config, const char *mac, const char *uuid, int arch);

#endif
