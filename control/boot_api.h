/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The external boot API (pixiecore's "API mode"): when one is configured, the
 * control plane asks an HTTP service which profile a machine boots, and falls
 * back to the configuration's own selectors and default when the service has
 * no answer or cannot give one in time.
 *
 * The request (libcurl):
 *
 *   GET {url}/v1/boot/{mac}?uuid={uuid}&arch={arch}
 *   Accept: application/json
 *   Authorization: Bearer {token}          (when a token is configured)
 *
 * mac is normalised to lower case with ':' ("52:54:00:ab:cd:ef"); anything that
 * is not six hex pairs is not asked about. uuid and arch are sent as the caller
 * has them, percent-encoded (curl_easy_escape: everything but RFC 3986
 * unreserved), and left out of the query when NULL or "".
 *
 * The answer: 404 means "not mine" (BOOT_API_NOT_FOUND: use the
 * configuration's selectors and default). 200 with a JSON object holding
 * exactly one of these keys:
 *
 *   {"profile": "NAME"}            a profile of the configuration (or menu,
 *                                  local, shell, none: resolved by the caller
 *                                  as a selector's profile is)
 *   {"kernel": "URL", "initrd": ["URL", ...] | "URL", "cmdline": "..."}
 *                                  an ad-hoc Linux profile; URL is http(s)://
 *                                  or a path under Stampede's HTTP root
 *   {"script": "#!ipxe\n..."}      an ad-hoc iPXE script
 *   {"action": "local" | "shell" | "menu" | "none"}
 *
 * Everything else is a BOOT_API_FALLBACK with the reason recorded: another
 * status, a timeout, a connection error, a body over BOOT_API_MAX_BODY, text
 * that is not a JSON object, and an object that fails validation:
 *   - none, or more than one, of profile/kernel/script/action;
 *   - initrd or cmdline without kernel;
 *   - a known key with the wrong type (null counts as absent);
 *   - a string over BOOT_API_MAX_STRING bytes (script: bounded by the body
 *     only), more than PROFILE_MAX_INITRDS initrds, an empty string (but
 *     cmdline may be "");
 *   - a key given twice (JSON_REJECT_DUPLICATES: which one would win is a
 *     guess), text after the object;
 *   - a control character (script: tab and newline allowed, as lines);
 *   - a kernel/initrd URL with a scheme other than http/https;
 *   - a profile name that is not letters, digits, '-', '_', '.';
 *   - what ipxe_profile_check() refuses in the operator's profiles (a cmdline
 *     word that iPXE reads as a comment or separator, initrd file names that
 *     are not plain or not distinct), so an answer is held to the same rules
 *     as the configuration.
 * Unknown keys are ignored, so that a service may add fields (a hostname, a
 * message for its own logs) without breaking older Stampedes; a misspelt key
 * still fails, as an object without any of the four.
 *
 * The service's strings are literal: the service knows the machine already,
 * so Stampede does not expand ${mac} and friends in them, and a '$' reaches
 * iPXE as written (iPXE's own ${net0/mac} works). result->profile is the
 * answer as a struct profile for ipxe_script_render(), with every '$' of the
 * cmdline and script doubled so that the template engine gives them back
 * unchanged.
 *
 * Limits of the transfer: CURLOPT_TIMEOUT_MS = timeout_ms for the whole
 * exchange (DNS, connect, TLS, redirects, body); at most 3 redirects, and only
 * to http/https; no proxy from the environment (http_proxy is ignored: the
 * service is part of the site, and a daemon that follows its environment's
 * proxy is a surprise); no compression (no decompression bombs); the body of
 * a 200 is read up to BOOT_API_MAX_BODY and the transfer aborted past it
 * (bodies of other statuses are discarded, so a large 404 page is still a
 * 404). CURLOPT_NOSIGNAL: lookups run on the HTTP server's threads. A token
 * goes out as CURLAUTH_BEARER, which curl does not send to another host on a
 * redirect.
 *
 * Cache. Answers (the four kinds and 404) are kept cache_ttl_s seconds per
 * (mac, uuid, arch): a booting machine fetches /boot.ipxe more than once (iPXE
 * retries, the menu chains back with ?profile=), and a thousand machines
 * booting together should not be a thousand round trips twice. At most
 * max_cache_entries; when full, the entry stored longest ago goes (all have
 * the same TTL, so it is also the one nearest to expiry). An expired entry is
 * dropped when met. A new boot_api (configuration reload) starts empty.
 *
 * Errors are not cached per machine: a machine whose lookup failed asks
 * again next time, and a service that has recovered is used at once for the
 * machines it did not answer. What protects the HTTP server's threads during
 * a boot storm against a dead or hung service is a hold-off instead: after a
 * timeout, a connection error or a 5xx, every lookup not answered by the
 * cache falls back at once, without asking, for error_holdoff_ms
 * (BOOT_API_ERR_HOLDOFF). Caching errors per machine would not help there
 * (a storm is many machines, each asking once or twice), while one hung
 * service would otherwise cost timeout_ms on every thread for every machine.
 * Answers that are wrong (bad JSON, validation, 4xx) are quick and do not
 * start a hold-off. Set error_holdoff_ms to 0 to ask every time.
 *
 * Threads: boot_api_lookup() may be called from any number of threads at
 * once. One mutex guards the cache and another the idle curl handles; the
 * HTTP exchange runs with neither held. Idle handles (at most
 * BOOT_API_IDLE_HANDLES) are kept so that keep-alive connections to the
 * service are reused. Counters are atomics.
 *
 * Only callers log: a result carries its reason, the counters say how often.
 */
#ifndef STAMPEDE_BOOT_API_H
#define STAMPEDE_BOOT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Whole exchange: the most a machine waits for its script before the
 * fallback, and the most an HTTP server thread is held by one lookup. */
#define BOOT_API_DEFAULT_TIMEOUT_MS 2000
#define BOOT_API_MIN_TIMEOUT_MS 100
#define BOOT_API_MAX_TIMEOUT_MS 30000
/* A minute: long enough for one boot's several fetches of /boot.ipxe, short
 * enough that a change in the service shows at the next boot. */
#define BOOT_API_DEFAULT_CACHE_TTL_S 60
#define BOOT_API_MAX_CACHE_TTL_S 86400
/* A machine's entry is a few hundred bytes: 4096 machines is about 2 MB. */
#define BOOT_API_DEFAULT_MAX_CACHE_ENTRIES 4096
#define BOOT_API_MAX_MAX_CACHE_ENTRIES (1u << 20)
/* After a timeout, connection error or 5xx: no asking for this long. */
#define BOOT_API_DEFAULT_ERROR_HOLDOFF_MS 5000
#define BOOT_API_MAX_ERROR_HOLDOFF_MS 60000

/* The body of a 200: far more than any answer needs. */
#define BOOT_API_MAX_BODY (64u * 1024)
/* Each of profile, kernel, an initrd, cmdline (iPXE's own line limit is far
 * larger, Linux's command line is 2048 to 4096 bytes by architecture). */
#define BOOT_API_MAX_STRING 4096
/* url: what curl will take without complaint and an operator can read. */
#define BOOT_API_MAX_URL 2048
/* uuid and arch as given by the machine; longer ones are not asked about. */
#define BOOT_API_MAX_VALUE 128
#define BOOT_API_MAX_REDIRECTS 3
#define BOOT_API_IDLE_HANDLES 16
/* The name of the struct profile of an ad-hoc answer (${profile}). */
#define BOOT_API_ADHOC_PROFILE "boot-api"

struct boot_api_config {
	const char *url;            /* http(s)://host[:port][/prefix]; a trailing '/' is dropped */
	unsigned timeout_ms;        /* BOOT_API_MIN_TIMEOUT_MS..BOOT_API_MAX_TIMEOUT_MS */
	unsigned cache_ttl_s;       /* 0..BOOT_API_MAX_CACHE_TTL_S; 0: no cache */
	unsigned max_cache_entries; /* 0..BOOT_API_MAX_MAX_CACHE_ENTRIES; 0: no cache */
	const char *token;          /* bearer token (RFC 6750 §2.1 b64token), or NULL */
	unsigned error_holdoff_ms;  /* 0..BOOT_API_MAX_ERROR_HOLDOFF_MS; 0: none */
};

/* The defaults, for a url given. */
#define BOOT_API_CONFIG_DEFAULTS                                                                                  \
	{ .timeout_ms = BOOT_API_DEFAULT_TIMEOUT_MS, .cache_ttl_s = BOOT_API_DEFAULT_CACHE_TTL_S,                  \
	  .max_cache_entries = BOOT_API_DEFAULT_MAX_CACHE_ENTRIES,                                                 \
	  .error_holdoff_ms = BOOT_API_DEFAULT_ERROR_HOLDOFF_MS }

/*
 * Checks every field. Returns 0, or -EINVAL with a message in err that starts
 * with the key's name ("timeout_ms: 50 is out of range 100..30000"), for the
 * configuration to put after FILE:LINE:COLUMN.
 */
int boot_api_config_check(const struct boot_api_config *cfg, char *err, size_t err_len);

enum boot_api_kind {
	BOOT_API_PROFILE_NAME, /* profile_name: a profile of the configuration */
	BOOT_API_LINUX,        /* kernel, initrds, cmdline; profile is usable */
	BOOT_API_SCRIPT,       /* script; profile is usable */
	BOOT_API_ACTION,       /* action */
	BOOT_API_NOT_FOUND,    /* 404: the configuration decides */
	BOOT_API_FALLBACK,     /* no answer (error, reason): the configuration decides */
	BOOT_API_KIND_COUNT
};

enum boot_api_action {
	BOOT_API_ACTION_LOCAL,
	BOOT_API_ACTION_SHELL,
	BOOT_API_ACTION_MENU,
	BOOT_API_ACTION_NONE,
};

/* Why a lookup fell back. */
enum boot_api_error {
	BOOT_API_ERR_TIMEOUT,   /* timeout_ms passed */
	BOOT_API_ERR_CONNECT,   /* name resolution, connection, TLS, send/receive */
	BOOT_API_ERR_STATUS,    /* a status other than 200 and 404 */
	BOOT_API_ERR_TOO_LARGE, /* a 200's body over BOOT_API_MAX_BODY */
	BOOT_API_ERR_JSON,      /* not a JSON object */
	BOOT_API_ERR_INVALID,   /* an object that fails validation (see above) */
	BOOT_API_ERR_OTHER,     /* any other curl error (too many redirects, a redirect to ftp:, ...) */
	BOOT_API_ERR_HOLDOFF,   /* not asked: the service failed less than error_holdoff_ms ago */
	BOOT_API_ERR_REQUEST,   /* not asked: no valid MAC, an over-long uuid/arch, out of memory */
	BOOT_API_ERR_COUNT
};

struct boot_api_result {
	enum boot_api_kind kind;
	bool cached; /* from the cache, not from the service just now */
	/* Owned by the result (boot_api_result_free); NULL when not of its kind. */
	char *profile_name;                   /* PROFILE_NAME */
	char *kernel;                         /* LINUX */
	char *initrds[PROFILE_MAX_INITRDS];   /* LINUX */
	size_t n_initrds;
	char *cmdline;                        /* LINUX; NULL when the answer had none */
	char *script;                         /* SCRIPT, as the service sent it */
	enum boot_api_action action;          /* ACTION */
	/* LINUX and SCRIPT: the answer as a profile named BOOT_API_ADHOC_PROFILE, its
	 * cmdline and script with '$' doubled (template.h); it points into the
	 * result and lives as long as it. Zeroed for other kinds. */
	struct profile profile;
	char *cmdline_template, *script_template; /* what profile points to */
	/* FALLBACK */
	enum boot_api_error error;
	unsigned http_status; /* the status received, 0 when none */
	/* FALLBACK: what went wrong ("timeout after 2000 ms asking http://..."),
	 * NOT_FOUND: that the service said 404; "" otherwise. One line. */
	char reason[320];
};

struct boot_api_stats {
	uint64_t lookups;     /* boot_api_lookup() calls: cache_hits + asked + not_asked */
	uint64_t cache_hits;
	uint64_t asked;       /* HTTP exchanges with the service */
	uint64_t not_asked;   /* errors[HOLDOFF] + errors[REQUEST] */
	uint64_t answers[BOOT_API_KIND_COUNT]; /* results returned, by kind (hits included) */
	uint64_t errors[BOOT_API_ERR_COUNT];   /* sums to answers[BOOT_API_FALLBACK] */
	uint64_t evictions;   /* entries dropped to make room (expired ones are not counted) */
	uint64_t cache_entries; /* now */
};

struct boot_api;

/*
 * Copies cfg (checked as boot_api_config_check does) and prepares libcurl
 * (curl_global_init once per process: libcurl 7.84 and later do it
 * thread-safely; with older ones, call this before starting threads).
 * Returns 0 and *out, -EINVAL with a message in err, or -ENOMEM.
 */
int boot_api_new(const struct boot_api_config *cfg, struct boot_api **out, char *err, size_t err_len);

/* Frees api, its cache and idle handles. No lookup may be running. NULL is allowed. */
void boot_api_free(struct boot_api *api);

/*
 * What the service says machine (mac, uuid, arch) boots, from the cache or
 * asked now (blocking, at most about timeout_ms). Always fills *out (free it
 * with boot_api_result_free) and returns out->kind: never an error code,
 * since every failure is a BOOT_API_FALLBACK with its reason. uuid and arch
 * may be NULL.
 */
enum boot_api_kind boot_api_lookup(struct boot_api *api, const char *mac, const char *uuid, const char *arch,
				   struct boot_api_result *out);

/* Frees r's strings and zeroes it. Safe on a zeroed result and twice. */
void boot_api_result_free(struct boot_api_result *r);

/* "local", "shell", "menu", "none": the names a selector uses for them. */
const char *boot_api_action_name(enum boot_api_action action);
/* "profile", "linux", "script", "action", "not-found", "fallback". */
const char *boot_api_kind_name(enum boot_api_kind kind);
/* "timeout", "connect", "status", "too-large", "json", "invalid", "other", "holdoff", "request". */
const char *boot_api_error_name(enum boot_api_error error);

/* A snapshot of the counters; safe while lookups run. */
void boot_api_get_stats(struct boot_api *api, struct boot_api_stats *out);

/* Forgets every cached answer (an operator's "the service has changed"). */
void boot_api_cache_flush(struct boot_api *api);

/*
 * The answer to a 200's body, as boot_api_lookup gives it: kind LINUX,
 * SCRIPT, PROFILE_NAME, ACTION, or FALLBACK with error JSON or INVALID and the
 * reason. Pure (no network), for tests and fuzzers. Returns out->kind.
 */
enum boot_api_kind boot_api_parse(const char *body, size_t len, struct boot_api_result *out);

#endif
