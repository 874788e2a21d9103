/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The external boot API: see boot_api.h for the protocol, the cache and the
 * hold-off. Three parts:
 *
 *   parse   a 200's body to a result (jansson), pure: the rules every answer
 *           is held to, and ipxe_profile_check() for the operator's rules;
 *   fetch   one HTTP exchange (libcurl easy handles, kept idle between
 *           lookups for keep-alive) mapped to a result or a reason;
 *   cache   a chained hash table of answers with a list in insertion order,
 *           under one mutex; the exchange runs outside it, so two threads
 *           that miss on the same machine at once both ask (rare: a machine
 *           asks one request at a time) and the later answer stays.
 */
#include "boot_api.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ipxe_script.h"

struct entry {
	struct entry *hash_next;
	struct entry *older, *newer; /* insertion order */
	uint64_t hash, expires_ns;
	char *key; /* mac '\0' uuid '\0' arch */
	size_t key_len;
	struct boot_api_result answer;
};

struct boot_api {
	char *url, *token;
	unsigned timeout_ms, cache_ttl_s, max_cache_entries, error_holdoff_ms;

	pthread_mutex_t cache_lock;
	struct entry **buckets;
	size_t n_buckets; /* a power of two; 0: no cache */
	struct entry *oldest, *newest;
	size_t n_entries;

	pthread_mutex_t handle_lock;
	CURL *idle[BOOT_API_IDLE_HANDLES];
	size_t n_idle;

	_Atomic uint64_t holdoff_until_ns; /* CLOCK_MONOTONIC */

	struct {
		_Atomic uint64_t lookups, cache_hits, asked, not_asked, evictions;
		_Atomic uint64_t answers[BOOT_API_KIND_COUNT], errors[BOOT_API_ERR_COUNT];
	} stats;
};

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- names ------------------------------------------------------------------- */

static const char *const action_names[] = {
	[BOOT_API_ACTION_LOCAL] = "local",
	[BOOT_API_ACTION_SHELL] = "shell",
	[BOOT_API_ACTION_MENU] = "menu",
	[BOOT_API_ACTION_NONE] = "none",
};

const char *boot_api_action_name(enum boot_api_action action)
{
	return (unsigned)action < sizeof(action_names) / sizeof(action_names[0]) ? action_names[action] : "?";
}

const char *boot_api_kind_name(enum boot_api_kind kind)
{
	static const char *const names[] = {
		[BOOT_API_PROFILE_NAME] = "profile", [BOOT_API_LINUX] = "linux",
		[BOOT_API_SCRIPT] = "script",        [BOOT_API_ACTION] = "action",
		[BOOT_API_NOT_FOUND] = "not-found",  [BOOT_API_FALLBACK] = "fallback",
	};

	return (unsigned)kind < BOOT_API_KIND_COUNT ? names[kind] : "?";
}

const char *boot_api_error_name(enum boot_api_error error)
{
	static const char *const names[] = {
		[BOOT_API_ERR_TIMEOUT] = "timeout", [BOOT_API_ERR_CONNECT] = "connect",
		[BOOT_API_ERR_STATUS] = "status",   [BOOT_API_ERR_TOO_LARGE] = "too-large",
		[BOOT_API_ERR_JSON] = "json",       [BOOT_API_ERR_INVALID] = "invalid",
		[BOOT_API_ERR_OTHER] = "other",     [BOOT_API_ERR_HOLDOFF] = "holdoff",
		[BOOT_API_ERR_REQUEST] = "request",
	};

	return (unsigned)error < BOOT_API_ERR_COUNT ? names[error] : "?";
}

/* ---- results ----------------------------------------------------------------- */

void boot_api_result_free(struct boot_api_result *r)
{
	if (!r)
		return;
	free(r->profile_name);
	free(r->kernel);
	for (size_t i = 0; i < r->n_initrds; i++)
		free(r->initrds[i]);
	free(r->cmdline);
	free(r->script);
	free(r->cmdline_template);
	free(r->script_template);
	memset(r, 0, sizeof(*r));
}

__attribute__((format(printf, 3, 4)))
static enum boot_api_kind fallback(struct boot_api_result *r, enum boot_api_error error, const char *fmt, ...)
{
	va_list ap;
	unsigned status = r->http_status;

	boot_api_result_free(r);
	r->kind = BOOT_API_FALLBACK;
	r->error = error;
	r->http_status = status;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return r->kind;
}

/* s with every '$' doubled: a template (template.h) that renders as s. */
static char *literal_template(const char *s)
{
	size_t n = strlen(s), dollars = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		dollars += *p == '$';
	if (!(out = malloc(n + dollars + 1)))
		return NULL;
	o = out;
	for (const char *p = s; *p; p++) {
		*o++ = *p;
		if (*p == '$')
			*o++ = '$';
	}
	*o = '\0';
	return out;
}

/* Points r->profile at r's strings (LINUX, SCRIPT); makes the templates. */
static int make_profile(struct boot_api_result *r)
{
	struct profile *p = &r->profile;

	memset(p, 0, sizeof(*p));
	p->name = BOOT_API_ADHOC_PROFILE;
	if (r->kind == BOOT_API_LINUX) {
		p->kind = PROFILE_LINUX;
		p->kernel = r->kernel;
		for (size_t i = 0; i < r->n_initrds; i++)
			p->initrds[i] = r->initrds[i];
		p->n_initrds = r->n_initrds;
		if (r->cmdline) {
			if (!r->cmdline_template && !(r->cmdline_template = literal_template(r->cmdline)))
				return -ENOMEM;
			p->cmdline = r->cmdline_template;
		}
	} else if (r->kind == BOOT_API_SCRIPT) {
		p->kind = PROFILE_SCRIPT;
		if (!r->script_template && !(r->script_template = literal_template(r->script)))
			return -ENOMEM;
		p->script = r->script_template;
	}
	return 0;
}

static int dup_string(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

/* A deep copy of src into dst (zeroed or freed before). */
static int result_copy(struct boot_api_result *dst, const struct boot_api_result *src)
{
	*dst = *src;
	dst->profile_name = dst->kernel = dst->cmdline = dst->script = NULL;
	dst->cmdline_template = dst->script_template = NULL;
	for (size_t i = 0; i < PROFILE_MAX_INITRDS; i++)
		dst->initrds[i] = NULL;
	dst->n_initrds = 0;
	memset(&dst->profile, 0, sizeof(dst->profile));
	if (dup_string(&dst->profile_name, src->profile_name) < 0 || dup_string(&dst->kernel, src->kernel) < 0 ||
	    dup_string(&dst->cmdline, src->cmdline) < 0 || dup_string(&dst->script, src->script) < 0 ||
	    dup_string(&dst->cmdline_template, src->cmdline_template) < 0 ||
	    dup_string(&dst->script_template, src->script_template) < 0)
		goto fail;
	for (size_t i = 0; i < src->n_initrds; i++) {
		if (dup_string(&dst->initrds[i], src->initrds[i]) < 0)
			goto fail;
		dst->n_initrds = i + 1;
	}
	if ((dst->kind == BOOT_API_LINUX || dst->kind == BOOT_API_SCRIPT) && make_profile(dst) < 0)
		goto fail;
	return 0;
fail:
	boot_api_result_free(dst);
	return -ENOMEM;
}

/* ---- parse ------------------------------------------------------------------- */

/* The first control character of s (allowing those in `allowed`), or NULL. */
static const char *first_control(const char *s, const char *allowed)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 || c == 0x7f) && !(c && strchr(allowed, c)))
			return s;
	}
	return NULL;
}

/*
 * A string value of the answer, checked: a JSON string, non-empty unless
 * may_be_empty, at most max bytes, no control character but those allowed.
 * jansson has refused invalid UTF-8 and "\u0000" already.
 */
static int take_string(const json_t *v, const char *what, size_t max, bool may_be_empty, const char *allowed,
		       char **out, char *err, size_t err_len)
{
	const char *s, *c;
	size_t len;

	if (!json_is_string(v))
		return fail(err, err_len, "%s: not a string", what);
	s = json_string_value(v);
	len = json_string_length(v);
	if (!len && !may_be_empty)
		return fail(err, err_len, "%s: empty", what);
	if (len > max)
		return fail(err, err_len, "%s: %zu bytes, at most %zu", what, len, max);
	if ((c = first_control(s, allowed)))
		return fail(err, err_len, "%s: control character 0x%02x at byte %zu", what, (unsigned char)*c,
			    (size_t)(c - s) + 1);
	if (!(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* kernel and initrds: a path under the HTTP root, or an http(s) URL. */
static int check_location(const char *what, const char *url, char *err, size_t err_len)
{
	size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

	if (scheme && !strncmp(url + scheme, "://", 3) && !(scheme == 4 && !strncasecmp(url, "http", 4)) &&
	    !(scheme == 5 && !strncasecmp(url, "https", 5)))
		return fail(err, err_len, "%s: \"%.*s\": only http and https URLs, or a path under the HTTP root",
			    what, (int)(scheme > 16 ? 16 : scheme), url);
	return 0;
}

static bool plain_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static json_t *present(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int parse_linux(json_t *obj, struct boot_api_result *r, char *err, size_t err_len)
{
	json_t *initrd = present(obj, "initrd"), *cmdline = present(obj, "cmdline");
	int rc;

	if ((rc = take_string(present(obj, "kernel"), "kernel", BOOT_API_MAX_STRING, false, "", &r->kernel, err,
			      err_len)) < 0 ||
	    (rc = check_location("kernel", r->kernel, err, err_len)) < 0)
		return rc;
	if (json_is_string(initrd)) {
		if ((rc = take_string(initrd, "initrd", BOOT_API_MAX_STRING, false, "", &r->initrds[0], err,
				      err_len)) < 0)
			return rc;
		r->n_initrds = 1;
	} else if (json_is_array(initrd)) {
		if (json_array_size(initrd) > PROFILE_MAX_INITRDS)
			return fail(err, err_len, "initrd: %zu of them, at most %d", json_array_size(initrd),
				    PROFILE_MAX_INITRDS);
		for (size_t i = 0; i < json_array_size(initrd); i++) {
			char what[32];

			snprintf(what, sizeof(what), "initrd[%zu]", i);
			if ((rc = take_string(json_array_get(initrd, i), what, BOOT_API_MAX_STRING, false, "",
					      &r->initrds[i], err, err_len)) < 0)
				return rc;
			r->n_initrds = i + 1;
		}
	} else if (initrd) {
		return fail(err, err_len, "initrd: not a string or an array of strings");
	}
	for (size_t i = 0; i < r->n_initrds; i++)
		if ((rc = check_location("initrd", r->initrds[i], err, err_len)) < 0)
			return rc;
	if (cmdline &&
	    (rc = take_string(cmdline, "cmdline", BOOT_API_MAX_STRING, true, "", &r->cmdline, err, err_len)) < 0)
		return rc;
	return 0;
}

static int parse_object(json_t *obj, struct boot_api_result *r, char *err, size_t err_len)
{
	static const char *const kinds[] = { "profile", "kernel", "script", "action" };
	const char *kind = NULL;
	json_t *v;
	int rc;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!present(obj, kinds[i]))
			continue;
		if (kind)
			return fail(err, err_len, "both \"%s\" and \"%s\": an answer is one of profile, kernel, "
				    "script, action", kind, kinds[i]);
		kind = kinds[i];
	}
	if (!kind)
		return fail(err, err_len, "none of \"profile\", \"kernel\", \"script\", \"action\"");
	if (strcmp(kind, "kernel") && (present(obj, "initrd") || present(obj, "cmdline")))
		return fail(err, err_len, "\"initrd\" and \"cmdline\" belong with \"kernel\", not with \"%s\"", kind);

	switch (kind[0]) {
	case 'p':
		r->kind = BOOT_API_PROFILE_NAME;
		if ((rc = take_string(present(obj, "profile"), "profile", BOOT_API_MAX_STRING, false, "",
				      &r->profile_name, err, err_len)) < 0)
			return rc;
		if (!plain_name(r->profile_name))
			return fail(err, err_len, "profile \"%.40s\": a name is letters, digits, '-', '_' and '.'",
				    r->profile_name);
		return 0;
	case 'a':
		r->kind = BOOT_API_ACTION;
		v = present(obj, "action");
		for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
			if (json_is_string(v) && !strcmp(json_string_value(v), action_names[i])) {
				r->action = (enum boot_api_action)i;
				return 0;
			}
		}
		return fail(err, err_len, "action: not one of \"local\", \"shell\", \"menu\", \"none\"");
	case 's':
		r->kind = BOOT_API_SCRIPT;
		/* Lines: tab and newline only (iPXE would keep a CR in the line). */
		rc = take_string(present(obj, "script"), "script", BOOT_API_MAX_BODY, false, "\t\n", &r->script,
				 err, err_len);
		break;
	default:
		r->kind = BOOT_API_LINUX;
		rc = parse_linux(obj, r, err, err_len);
		break;
	}
	if (rc < 0)
		return rc;
	/* The operator's rules too (initrd file names, words iPXE misreads). */
	if ((rc = make_profile(r)) < 0)
		return rc;
	return ipxe_profile_check(&r->profile, err, err_len);
}

enum boot_api_kind boot_api_parse(const char *body, size_t len, struct boot_api_result *out)
{
	json_error_t jerr;
	json_t *root;
	char why[256];
	int rc;

	memset(out, 0, sizeof(*out));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fallback(out, BOOT_API_ERR_JSON, "boot API answer is not JSON: %s (line %d, column %d)",
				jerr.text, jerr.line, jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return fallback(out, BOOT_API_ERR_JSON, "boot API answer is not a JSON object");
	}
	rc = parse_object(root, out, why, sizeof(why));
	json_decref(root);
	if (rc == -ENOMEM)
		return fallback(out, BOOT_API_ERR_REQUEST, "out of memory reading the boot API's answer");
	if (rc < 0)
		return fallback(out, BOOT_API_ERR_INVALID, "boot API answer refused: %s", why);
	return out->kind;
}

/* ---- configuration ------------------------------------------------------------ */

static int check_range(const char *key, unsigned v, unsigned lo, unsigned hi, char *err, size_t err_len)
{
	if (v < lo || v > hi)
		return fail(err, err_len, "%s: %u is out of range %u..%u", key, v, lo, hi);
	return 0;
}

int boot_api_config_check(const struct boot_api_config *cfg, char *err, size_t err_len)
{
	const char *c;
	int r;

	if (!cfg->url || !*cfg->url)
		return fail(err, err_len, "url: missing (http://HOST[:PORT][/PREFIX])");
	if (strncasecmp(cfg->url, "http://", 7) && strncasecmp(cfg->url, "https://", 8))
		return fail(err, err_len, "url: \"%.60s\" is not an http:// or https:// URL", cfg->url);
	if (strlen(cfg->url) > BOOT_API_MAX_URL)
		return fail(err, err_len, "url: longer than %d bytes", BOOT_API_MAX_URL);
	for (c = cfg->url; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '?' || *c == '#')
			return fail(err, err_len, "url: byte 0x%02x at column %zu (a base URL has no spaces, query or "
				    "fragment; percent-encode what needs it)", (unsigned char)*c, (size_t)(c - cfg->url) + 1);
	if ((r = check_range("timeout_ms", cfg->timeout_ms, BOOT_API_MIN_TIMEOUT_MS, BOOT_API_MAX_TIMEOUT_MS, err,
			     err_len)) < 0 ||
	    (r = check_range("cache_ttl_s", cfg->cache_ttl_s, 0, BOOT_API_MAX_CACHE_TTL_S, err, err_len)) < 0 ||
	    (r = check_range("max_cache_entries", cfg->max_cache_entries, 0, BOOT_API_MAX_MAX_CACHE_ENTRIES, err,
			     err_len)) < 0 ||
	    (r = check_range("error_holdoff_ms", cfg->error_holdoff_ms, 0, BOOT_API_MAX_ERROR_HOLDOFF_MS, err,
			     err_len)) < 0)
		return r;
	if (cfg->token) {
		/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
		size_t n = strspn(cfg->token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

		if (!n || cfg->token[n + strspn(cfg->token + n, "=")])
			return fail(err, err_len, "token: a bearer token is letters, digits and -._~+/ with '=' at "
				    "the end (RFC 6750 §2.1)");
	}
	return 0;
}

/* ---- cache ------------------------------------------------------------------- */

static uint64_t hash_key(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3u;
	return h;
}

static struct entry **find_slot(struct boot_api *api, const char *key, size_t len, uint64_t h)
{
	struct entry **e = &api->buckets[h & (api->n_buckets - 1)];

	for (; *e; e = &(*e)->hash_next)
		if ((*e)->hash == h && (*e)->key_len == len && !memcmp((*e)->key, key, len))
			return e;
	return e;
}

/* Unlinks and frees e; slot is the pointer to it in its chain. */
static void entry_drop(struct boot_api *api, struct entry **slot)
{
	struct entry *e = *slot;

	*slot = e->hash_next;
	if (e->older)
		e->older->newer = e->newer;
	else
		api->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		api->newest = e->older;
	api->n_entries--;
	boot_api_result_free(&e->answer);
	free(e->key);
	free(e);
}

/* A fresh answer for key, copied into out; false on a miss. Drops an expired one. */
static bool cache_get(struct boot_api *api, const char *key, size_t len, struct boot_api_result *out)
{
	uint64_t h = hash_key(key, len);
	struct entry **slot;
	bool hit = false;

	if (!api->n_buckets)
		return false;
	pthread_mutex_lock(&api->cache_lock);
	slot = find_slot(api, key, len, h);
	if (*slot && (*slot)->expires_ns <= now_ns())
		entry_drop(api, slot);
	else if (*slot && result_copy(out, &(*slot)->answer) == 0)
		hit = true;
	pthread_mutex_unlock(&api->cache_lock);
	if (hit)
		out->cached = true;
	return hit;
}

static void cache_put(struct boot_api *api, const char *key, size_t len, const struct boot_api_result *answer)
{
	uint64_t h = hash_key(key, len);
	struct entry *e, **slot;

	if (!api->n_buckets)
		return;
	if (!(e = calloc(1, sizeof(*e))))
		return;
	if (!(e->key = malloc(len)) || result_copy(&e->answer, answer) < 0) {
		free(e->key);
		free(e);
		return; /* out of memory: the answer is returned, not remembered */
	}
	memcpy(e->key, key, len);
	e->key_len = len;
	e->hash = h;
	e->expires_ns = now_ns() + (uint64_t)api->cache_ttl_s * 1000000000u;

	pthread_mutex_lock(&api->cache_lock);
	slot = find_slot(api, key, len, h);
	if (*slot) /* another thread asked about the same machine at the same time */
		entry_drop(api, slot);
	while (api->n_entries >= api->max_cache_entries) {
		struct entry *old = api->oldest;

		entry_drop(api, find_slot(api, old->key, old->key_len, old->hash));
		count(&api->stats.evictions);
	}
	slot = &api->buckets[h & (api->n_buckets - 1)];
	e->hash_next = *slot;
	*slot = e;
	e->older = api->newest;
	if (api->newest)
		api->newest->newer = e;
	else
		api->oldest = e;
	api->newest = e;
	api->n_entries++;
	pthread_mutex_unlock(&api->cache_lock);
}

void boot_api_cache_flush(struct boot_api *api)
{
	pthread_mutex_lock(&api->cache_lock);
	while (api->oldest)
		entry_drop(api, find_slot(api, api->oldest->key, api->oldest->key_len, api->oldest->hash));
	pthread_mutex_unlock(&api->cache_lock);
}

/* ---- fetch ------------------------------------------------------------------- */

static CURL *handle_get(struct boot_api *api)
{
	CURL *h = NULL;

	pthread_mutex_lock(&api->handle_lock);
	if (api->n_idle)
		h = api->idle[--api->n_idle];
	pthread_mutex_unlock(&api->handle_lock);
	return h ? h : curl_easy_init();
}

/* Back to the idle list, its connection kept open for the next lookup. */
static void handle_put(struct boot_api *api, CURL *h)
{
	curl_easy_reset(h);
	pthread_mutex_lock(&api->handle_lock);
	if (api->n_idle < BOOT_API_IDLE_HANDLES) {
		api->idle[api->n_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&api->handle_lock);
	if (h)
		curl_easy_cleanup(h);
}

struct body {
	CURL *handle;
	char *buf;
	size_t len, cap;
	bool too_large;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nmemb;
	long status = 0;

	/* Only a 200's body is read; a 404 page or an error page is not ours. */
	curl_easy_getinfo(b->handle, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return n;
	if (n > BOOT_API_MAX_BODY - b->len) {
		b->too_large = true;
		return 0; /* CURLE_WRITE_ERROR: the transfer stops here */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->buf, cap)))
			return 0;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

static enum boot_api_error curl_error_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return BOOT_API_ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return BOOT_API_ERR_CONNECT;
	default:
		return BOOT_API_ERR_OTHER;
	}
}

/* {url}/v1/boot/{mac}?uuid=..&arch=.., or NULL (out of memory). */
static char *request_url(const struct boot_api *api, CURL *h, const char *mac, const char *uuid, const char *arch)
{
	char *u = uuid && *uuid ? curl_easy_escape(h, uuid, 0) : NULL;
	char *a = arch && *arch ? curl_easy_escape(h, arch, 0) : NULL;
	char *url = NULL;

	if ((uuid && *uuid && !u) || (arch && *arch && !a) ||
	    asprintf(&url, "%s/v1/boot/%s%s%s%s%s%s%s", api->url, mac, u || a ? "?" : "", u ? "uuid=" : "",
		     u ? u : "", u && a ? "&" : "", a ? "arch=" : "", a ? a : "") < 0)
		url = NULL;
	curl_free(u);
	curl_free(a);
	return url;
}

/* One exchange with the service: the answer, or a FALLBACK with the reason. */
static enum boot_api_kind fetch(struct boot_api *api, const char *mac, const char *uuid, const char *arch,
				struct boot_api_result *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *more;
	struct body body = { 0 };
	long status = 0;
	char *url = NULL;
	CURL *h;
	CURLcode rc;

	if (!(h = handle_get(api)))
		return fallback(out, BOOT_API_ERR_REQUEST, "boot API: no curl handle (out of memory)");
	body.handle = h;
	if (!(url = request_url(api, h, mac, uuid, arch)) ||
	    !(more = curl_slist_append(headers, "Accept: application/json"))) {
		fallback(out, BOOT_API_ERR_REQUEST, "boot API: out of memory");
		goto done;
	}
	headers = more;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)BOOT_API_MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)api->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)api->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, ""); /* not the environment's http_proxy */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "Stampede boot-api");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (api->token) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, api->token);
	}

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	out->http_status = (unsigned)status;
	if (body.too_large) {
		fallback(out, BOOT_API_ERR_TOO_LARGE, "boot API answer over %u bytes", BOOT_API_MAX_BODY);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		fallback(out, BOOT_API_ERR_TIMEOUT, "boot API: no answer within %u ms (%s)", api->timeout_ms,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		fallback(out, curl_error_kind(rc), "boot API: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (status == 404) {
		out->kind = BOOT_API_NOT_FOUND;
		snprintf(out->reason, sizeof(out->reason), "boot API: 404, not a machine of the service's");
	} else if (status != 200) {
		fallback(out, BOOT_API_ERR_STATUS, "boot API: status %ld", status);
	} else {
		boot_api_parse(body.buf ? body.buf : "", body.len, out);
		out->http_status = 200;
	}
done:
	handle_put(api, h);
	curl_slist_free_all(headers);
	free(body.buf);
	free(url);
	return out->kind;
}

/* Whether a failure says the service is down or hung (start the hold-off). */
static bool service_down(const struct boot_api_result *r)
{
	return r->kind == BOOT_API_FALLBACK &&
	       (r->error == BOOT_API_ERR_TIMEOUT || r->error == BOOT_API_ERR_CONNECT ||
		(r->error == BOOT_API_ERR_STATUS && r->http_status >= 500));
}

/* ---- lookups ------------------------------------------------------------------ */

/* "52:54:00:AB:cd:ef" or "52-54-00-ab-cd-ef" to lower case with ':'. */
static bool normalise_mac(const char *in, char out[18])
{
	if (!in || strlen(in) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		char c = in[i];

		if (i % 3 == 2) {
			if (c != ':' && c != '-')
				return false;
			out[i] = ':';
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
			out[i] = c;
		} else if (c >= 'A' && c <= 'F') {
			out[i] = (char)(c - 'A' + 'a');
		} else {
			return false;
		}
	}
	out[17] = '\0';
	return true;
}

static enum boot_api_kind finish(struct boot_api *api, struct boot_api_result *out)
{
	count(&api->stats.answers[out->kind]);
	if (out->kind == BOOT_API_FALLBACK)
		count(&api->stats.errors[out->error]);
	return out->kind;
}

enum boot_api_kind boot_api_lookup(struct boot_api *api, const char *mac, const char *uuid, const char *arch,
				   struct boot_api_result *out)
{
	char m[18], key[18 + 2 * (BOOT_API_MAX_VALUE + 1)];
	size_t ul = uuid ? strlen(uuid) : 0, al = arch ? strlen(arch) : 0, len;
	uint64_t now, until;

	memset(out, 0, sizeof(*out));
	count(&api->stats.lookups);
	if (!normalise_mac(mac, m) || ul > BOOT_API_MAX_VALUE || al > BOOT_API_MAX_VALUE) {
		count(&api->stats.not_asked);
		fallback(out, BOOT_API_ERR_REQUEST, "boot API not asked: %s",
			 ul > BOOT_API_MAX_VALUE || al > BOOT_API_MAX_VALUE ? "uuid or arch too long"
									    : "no valid MAC address");
		return finish(api, out);
	}
	len = 0;
	memcpy(key + len, m, 18);
	len += 18;
	memcpy(key + len, ul ? uuid : "", ul + 1);
	len += ul + 1;
	memcpy(key + len, al ? arch : "", al + 1);
	len += al + 1;

	if (cache_get(api, key, len, out)) {
		count(&api->stats.cache_hits);
		return finish(api, out);
	}
	now = now_ns();
	until = atomic_load_explicit(&api->holdoff_until_ns, memory_order_relaxed);
	if (now < until) {
		count(&api->stats.not_asked);
		fallback(out, BOOT_API_ERR_HOLDOFF, "boot API not asked: it failed recently (asking again in %llu ms)",
			 (unsigned long long)((until - now + 999999) / 1000000));
		return finish(api, out);
	}
	count(&api->stats.asked);
	fetch(api, m, uuid, arch, out);
	if (out->kind != BOOT_API_FALLBACK && api->cache_ttl_s)
		cache_put(api, key, len, out);
	else if (service_down(out) && api->error_holdoff_ms)
		atomic_store_explicit(&api->holdoff_until_ns, now_ns() + (uint64_t)api->error_holdoff_ms * 1000000u,
				      memory_order_relaxed);
	return finish(api, out);
}

/* ---- life -------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int boot_api_new(const struct boot_api_config *cfg, struct boot_api **out, char *err, size_t err_len)
{
	struct boot_api *api;
	size_t n, len;
	int r;

	if ((r = boot_api_config_check(cfg, err, err_len)) < 0)
		return r;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return fail(err, err_len, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	if (!(api = calloc(1, sizeof(*api))))
		return -ENOMEM;
	api->timeout_ms = cfg->timeout_ms;
	api->cache_ttl_s = cfg->cache_ttl_s;
	api->max_cache_entries = cfg->max_cache_entries;
	api->error_holdoff_ms = cfg->error_holdoff_ms;
	pthread_mutex_init(&api->cache_lock, NULL);
	pthread_mutex_init(&api->handle_lock, NULL);
	if (!(api->url = strdup(cfg->url)) || (cfg->token && !(api->token = strdup(cfg->token))))
		goto nomem;
	len = strlen(api->url);
	while (len && api->url[len - 1] == '/')
		api->url[--len] = '\0';
	if (cfg->cache_ttl_s && cfg->max_cache_entries) {
		for (n = 16; n < cfg->max_cache_entries; n *= 2)
			;
		if (!(api->buckets = calloc(n, sizeof(*api->buckets))))
			goto nomem;
		api->n_buckets = n;
	}
	*out = api;
	return 0;
nomem:
	boot_api_free(api);
	return -ENOMEM;
}

void boot_api_free(struct boot_api *api)
{
	if (!api)
		return;
	if (api->n_buckets)
		boot_api_cache_flush(api);
	for (size_t i = 0; i < api->n_idle; i++)
		curl_easy_cleanup(api->idle[i]);
	pthread_mutex_destroy(&api->cache_lock);
	pthread_mutex_destroy(&api->handle_lock);
	free(api->buckets);
	free(api->url);
	free(api->token);
	free(api);
}

void boot_api_get_stats(struct boot_api *api, struct boot_api_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->lookups = atomic_load(&api->stats.lookups);
	out->cache_hits = atomic_load(&api->stats.cache_hits);
	out->asked = atomic_load(&api->stats.asked);
	out->not_asked = atomic_load(&api->stats.not_asked);
	out->evictions = atomic_load(&api->stats.evictions);
	for (int k = 0; k < BOOT_API_KIND_COUNT; k++)
		out->answers[k] = atomic_load(&api->stats.answers[k]);
	for (int e = 0; e < BOOT_API_ERR_COUNT; e++)
		out->errors[e] = atomic_load(&api->stats.errors[e]);
	pthread_mutex_lock(&api->cache_lock);
	out->cache_entries = api->n_entries;
	pthread_mutex_unlock(&api->cache_lock);
}
