/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration file. libyaml builds the node tree (its document API keeps
 * every node's line and column); this file walks it against the schema below,
 * collecting every error rather than stopping at the first, so an operator
 * fixes a file in one pass.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config_default.h"
#include "policy_compile.h" /* the script URL the policy carries */
#include "proxy_policy.h" /* MAC and UUID syntax, shared with the dataplane */
#include "lcores.h"       /* DP_MAX_LCORES */
#include "tftp_server.h"  /* the default session port range */

#define TFTP_DEFAULT_PORT_COUNT (TFTP_DEFAULT_PORT_HI - TFTP_DEFAULT_PORT_LO + 1)

/* ---- strings that live as long as the configuration ---- */

struct arena_block {
	struct arena_block *next;
	char data[];
};

static void *arena_alloc(struct config *c, size_t n)
{
	struct arena_block *b = calloc(1, sizeof(*b) + n);

	if (!b)
		abort(); /* configurations are small; running out here is not recoverable */
	b->next = c->arena;
	c->arena = b;
	return b->data;
}

static const char *arena_strdup(struct config *c, const char *s)
{
	size_t n = strlen(s);
	char *d = arena_alloc(c, n + 1);

	memcpy(d, s, n + 1);
	return d;
}

/* ---- walking the document ---- */

struct walker {
	const char *name;
	yaml_document_t *doc;
	struct config *cfg;
	struct config_errors *errors;
	/* Where values checked after the walk were, for their errors. */
	yaml_node_t *boot_file_node[PXE_ARCH_COUNT];
	yaml_node_t *default_profile_node;
	yaml_node_t *port_range_node, *max_sessions_node, *url_node, *min_retransmit_node;
	unsigned port_range_size;
};

__attribute__((format(printf, 3, 4))) static void error_at(struct walker *w, const yaml_node_t *node, const char *fmt,
							   ...)
{
	struct config_errors *e = w->errors;
	va_list ap;
	int n;

	if (e->n >= CONFIG_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	n = snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s:%zu:%zu: ", w->name, node ? node->start_mark.line + 1 : 0,
		     node ? node->start_mark.column + 1 : 0);
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n] + n, sizeof(e->msg[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	e->n++;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct walker *w, int id)
{
	return yaml_document_get_node(w->doc, id);
}

typedef void (*key_handler)(struct walker *w, yaml_node_t *value, void *ctx);

struct key {
	const char *name;
	key_handler handle;
};

/* Walk a mapping: each key to its handler; unknown keys and repeats are errors. */
static void walk_mapping(struct walker *w, yaml_node_t *map, const char *where, const struct key *keys, size_t n_keys,
			 void *ctx)
{
	bool seen[32] = { 0 };

	if (!map || map->type != YAML_MAPPING_NODE) {
		error_at(w, map, "%s must be a mapping (key: value lines)", where);
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(w, p->key), *v = node(w, p->value);
		const char *name = scalar(k);
		size_t i;

		if (!name) {
			error_at(w, k, "keys of %s must be plain words", where);
			continue;
		}
		for (i = 0; i < n_keys && strcmp(keys[i].name, name) != 0; i++)
			;
		if (i == n_keys) {
			char known[512] = "";

			for (size_t j = 0; j < n_keys; j++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", j ? ", " : "",
					 keys[j].name);
			error_at(w, k, "unknown key \"%s\" in %s (expected one of: %s)", name, where, known);
			continue;
		}
		if (seen[i]) {
			error_at(w, k, "\"%s\" appears twice in %s", name, where);
			continue;
		}
		seen[i] = true;
		keys[i].handle(w, v, ctx);
	}
}

/* A value; multi_line allows newlines (iPXE scripts), nothing else does:
 * the values travel in line-based messages and scripts. */
static const char *get_value(struct walker *w, yaml_node_t *v, const char *what, bool multi_line)
{
	const char *s = scalar(v);

	if (!s) {
		error_at(w, v, "%s must be a single value, not a list or mapping", what);
		return NULL;
	}
	if (strlen(s) != v->data.scalar.length) {
		error_at(w, v, "%s contains a NUL character", what);
		return NULL;
	}
	for (const char *p = s; *p; p++) {
		if (*p == '\n' && multi_line)
			continue;
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			error_at(w, v, "%s contains a %s", what, *p == '\n' ? "line break" : "control character");
			return NULL;
		}
	}
	return arena_strdup(w->cfg, s);
}

static const char *get_string(struct walker *w, yaml_node_t *v, const char *what)
{
	return get_value(w, v, what, false);
}

/* Menu and prompt share option 43's 255 bytes with the boot server entry. */
static const char *get_short(struct walker *w, yaml_node_t *v, const char *what, size_t max)
{
	const char *s = get_string(w, v, what);

	if (s && !*s) {
		error_at(w, v, "%s is empty", what);
		return NULL;
	}
	if (s && strlen(s) > max) {
		error_at(w, v, "%s is %zu bytes long; at most %zu fit in a PXE reply", what, strlen(s), max);
		return NULL;
	}
	return s;
}

static bool get_uint(struct walker *w, yaml_node_t *v, const char *what, unsigned long lo, unsigned long hi,
		     unsigned *out)
{
	const char *s = scalar(v);
	char *end;
	unsigned long x;

	if (!s || !*s || !isdigit((unsigned char)s[0])) {
		error_at(w, v, "%s must be a whole number from %lu to %lu", what, lo, hi);
		return false;
	}
	errno = 0;
	x = strtoul(s, &end, 10);
	if (*end || errno || x < lo || x > hi) {
		error_at(w, v, "%s must be a whole number from %lu to %lu, not \"%s\"", what, lo, hi, s);
		return false;
	}
	*out = (unsigned)x;
	return true;
}

static bool get_bool(struct walker *w, yaml_node_t *v, const char *what, bool *out)
{
	const char *s = scalar(v);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) {
		*out = true;
		return true;
	}
	if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) {
		*out = false;
		return true;
	}
	error_at(w, v, "%s must be true or false", what);
	return false;
}

static const char *get_ipv4(struct walker *w, yaml_node_t *v, const char *what)
{
	const char *s = get_string(w, v, what);
	struct in_addr a;

	if (s && inet_pton(AF_INET, s, &a) != 1) {
		error_at(w, v, "%s: \"%s\" is not an IPv4 address", what, s);
		return NULL;
	}
	return s;
}

static const char *arch_names(void)
{
	static char names[256];

	if (!names[0])
		for (int a = 1; a < PXE_ARCH_COUNT; a++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", a > 1 ? ", " : "",
				 pxe_arch_name(a));
	return names;
}

static const char *normalise_mac(struct walker *w, yaml_node_t *v, uint8_t bytes[6])
{
	const char *s = scalar(v);
	char text[18];

	if (!s || policy_parse_mac(s, bytes) < 0) {
		error_at(w, v, "\"%s\" is not a MAC address (expected 52:54:00:12:34:56)", s ? s : "");
		return NULL;
	}
	snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
		 bytes[4], bytes[5]);
	return arena_strdup(w->cfg, text);
}

/* A list of scalars, each checked by check (which may normalise it). */
static const char **get_list(struct walker *w, yaml_node_t *v, const char *what, size_t *n,
			     const char *(*check)(struct walker *w, yaml_node_t *item))
{
	const char **items;
	size_t count;

	*n = 0;
	if (!v || v->type != YAML_SEQUENCE_NODE) {
		error_at(w, v, "%s must be a list ([a, b] or lines starting with \"- \")", what);
		return NULL;
	}
	count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	items = arena_alloc(w->cfg, (count + 1) * sizeof(*items));
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		const char *s = check(w, node(w, *i));

		if (s)
			items[(*n)++] = s;
	}
	return items;
}

static const char *check_mac_item(struct walker *w, yaml_node_t *item)
{
	uint8_t b[6];

	return normalise_mac(w, item, b);
}

static const char *check_subnet_item(struct walker *w, yaml_node_t *item)
{
	const char *s = scalar(item);
	struct policy_subnet subnet;

	if (!s || policy_parse_subnet(s, &subnet) < 0) {
		error_at(w, item, "\"%s\" is not a subnet (expected 10.1.0.0/16)", s ? s : "");
		return NULL;
	}
	return arena_strdup(w->cfg, s);
}

/* ---- the schema ---- */

#define HANDLER(name) static void name(struct walker *w, yaml_node_t *v, void *ctx)
#define UNUSED_CTX (void)ctx

HANDLER(top_interface) { UNUSED_CTX; w->cfg->interface = get_string(w, v, "interface"); }
/* A user name as useradd(8) takes it: letters, digits, '.', '_', '-', not
 * first, at most 32 characters (and a trailing '$' for Samba machines). */
static bool valid_user_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]) && !(s[i] == '$' && i == n - 1))
			return false;
	return true;
}
HANDLER(top_user)
{
	const char *s = get_string(w, v, "user");

	UNUSED_CTX;
	if (s && !valid_user_name(s)) {
		error_at(w, v, "user \"%s\" is not a user name (letters, digits, '.', '_', '-'; at most 32)", s);
		return;
	}
	w->cfg->user.name = s;
	w->cfg->user.line = (unsigned)v->start_mark.line + 1;
	w->cfg->user.column = (unsigned)v->start_mark.column + 1;
}
/* The server's address is the boot server of every DHCP reply (option 54,
 * siaddr): the dataplane refuses a policy naming 0.0.0.0 or 255.255.255.255. */
HANDLER(top_address)
{
	const char *s = get_ipv4(w, v, "address");
	struct in_addr a;

	UNUSED_CTX;
	if (s && inet_pton(AF_INET, s, &a) == 1 && (a.s_addr == INADDR_ANY || a.s_addr == INADDR_BROADCAST)) {
		error_at(w, v, "address %s cannot be the server's: DHCP replies name it as the boot server", s);
		return;
	}
	w->cfg->address = s;
}

HANDLER(tftp_root) { UNUSED_CTX; w->cfg->tftp.root = get_string(w, v, "tftp.root"); }
HANDLER(tftp_cache) { UNUSED_CTX; get_uint(w, v, "tftp.cache_mb", 1, 1u << 20, &w->cfg->tftp.cache_mb); }
HANDLER(tftp_sessions)
{
	UNUSED_CTX;
	if (get_uint(w, v, "tftp.max_sessions", 1, 64512, &w->cfg->tftp.max_sessions))
		w->max_sessions_node = v;
}
HANDLER(tftp_per_client)
{
	UNUSED_CTX;
	get_uint(w, v, "tftp.max_sessions_per_client", 1, 64512, &w->cfg->tftp.max_sessions_per_client);
}
HANDLER(tftp_window) { UNUSED_CTX; get_uint(w, v, "tftp.max_windowsize", 1, 32767, &w->cfg->tftp.max_windowsize); }
HANDLER(tftp_retransmit)
{
	UNUSED_CTX;
	get_uint(w, v, "tftp.retransmit_ms", 10, 255000, &w->cfg->tftp.retransmit_ms);
}
HANDLER(tftp_min_retransmit)
{
	UNUSED_CTX;
	if (get_uint(w, v, "tftp.min_retransmit_ms", 10, 255000, &w->cfg->tftp.min_retransmit_ms))
		w->min_retransmit_node = v;
}
HANDLER(tftp_retries) { UNUSED_CTX; get_uint(w, v, "tftp.max_retries", 0, 50, &w->cfg->tftp.max_retries); }
HANDLER(tftp_rate)
{
	UNUSED_CTX;
	get_uint(w, v, "tftp.rate_per_source", 0, 1000000, &w->cfg->tftp.rate_per_source);
}
/* A port number as the dataplane's --port-range takes it: 1-5 digits, no
 * sign, no leading zero. */
static bool port_number(const char **p, unsigned *out)
{
	unsigned long x = 0;
	int n = 0;

	if (!isdigit((unsigned char)**p) || **p == '0')
		return false;
	while (isdigit((unsigned char)**p) && n++ < 5)
		x = x * 10 + (unsigned long)(*(*p)++ - '0');
	*out = (unsigned)x;
	return !isdigit((unsigned char)**p);
}

HANDLER(tftp_ports)
{
	const char *s = get_string(w, v, "tftp.port_range"), *p = s;
	unsigned lo = 0, hi = 0;

	UNUSED_CTX;
	if (!s)
		return;
	if (!port_number(&p, &lo) || *p++ != '-' || !port_number(&p, &hi) || *p || lo < 1024 || hi > 65535 || lo > hi)
		error_at(w, v, "tftp.port_range must be LOW-HIGH within 1024-65535, not \"%s\"", s);
	else
		w->cfg->tftp.port_range = s, w->port_range_size = hi - lo + 1, w->port_range_node = v;
}

static const struct key tftp_keys[] = {
	{ "root", tftp_root },
	{ "cache_mb", tftp_cache },
	{ "port_range", tftp_ports },
	{ "max_sessions", tftp_sessions },
	{ "max_sessions_per_client", tftp_per_client },
	{ "max_windowsize", tftp_window },
	{ "retransmit_ms", tftp_retransmit },
	{ "min_retransmit_ms", tftp_min_retransmit },
	{ "max_retries", tftp_retries },
	{ "rate_per_source", tftp_rate },
};

HANDLER(http_listen) { UNUSED_CTX; w->cfg->http.listen = get_ipv4(w, v, "http.listen"); }
HANDLER(http_port) { UNUSED_CTX; get_uint(w, v, "http.port", 1, 65535, &w->cfg->http.port); }
HANDLER(http_root) { UNUSED_CTX; w->cfg->http.root = get_string(w, v, "http.root"); }
HANDLER(http_url)
{
	const char *s = get_string(w, v, "http.url");

	UNUSED_CTX;
	if (s && (!policy_is_url(s) ||
		  strlen(strstr(s, "://") + 3) == 0 || strstr(s, "://")[3] == '/'))
		error_at(w, v, "http.url must be http:// or https:// and a host, e.g. http://10.0.0.1:8080");
	else if (s) {
		char *t = (char *)s + strlen(s);

		while (t > s && t[-1] == '/')
			*--t = '\0'; /* scripts add the slash */
		w->cfg->http.base_url = s;
		w->url_node = v;
	}
}
HANDLER(http_discover) { UNUSED_CTX; get_bool(w, v, "http.discover_profiles", &w->cfg->http.discover_profiles); }

static const struct key http_keys[] = {
	{ "listen", http_listen }, { "port", http_port }, { "root", http_root },
	{ "url", http_url }, { "discover_profiles", http_discover },
};

static void boot_file_entry(struct walker *w, yaml_node_t *k, yaml_node_t *v)
{
	const char *name = scalar(k);
	int arch = name ? pxe_arch_from_name(name) : -1;
	const char *file;

	if (arch < 0) {
		error_at(w, k, "unknown architecture \"%s\" (expected one of: %s)", name ? name : "", arch_names());
		return;
	}
	if (w->boot_file_node[arch]) {
		error_at(w, k, "\"%s\" appears twice in proxydhcp.boot_files", name);
		return;
	}
	file = get_string(w, v, "a boot file");
	if (file && (strlen(file) == 0 || strlen(file) > 200)) {
		error_at(w, v, "the boot file for %s must be 1 to 200 characters", name);
	} else if (file) {
		w->cfg->proxydhcp.boot_files[arch] = file;
		w->boot_file_node[arch] = v;
	}
}

HANDLER(pd_boot_files)
{
	UNUSED_CTX;
	if (!v || v->type != YAML_MAPPING_NODE) {
		error_at(w, v, "proxydhcp.boot_files must map architectures to files (bios: undionly.kpxe)");
		return;
	}
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		w->cfg->proxydhcp.boot_files[a] = NULL; /* the file replaces the defaults whole */
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++)
		boot_file_entry(w, node(w, p->key), node(w, p->value));
}

static const char *check_arch_item(struct walker *w, yaml_node_t *item)
{
	const char *s = scalar(item);

	if (!s || pxe_arch_from_name(s) < 0) {
		error_at(w, item, "unknown architecture \"%s\" (expected one of: %s)", s ? s : "", arch_names());
		return NULL;
	}
	return s;
}

HANDLER(pd_boot_server)
{
	size_t n;
	const char **archs = get_list(w, v, "proxydhcp.boot_server", &n, check_arch_item);

	UNUSED_CTX;
	for (size_t i = 0; i < n; i++)
		w->cfg->proxydhcp.boot_server[pxe_arch_from_name(archs[i])] = true;
}

HANDLER(pd_menu) { UNUSED_CTX; w->cfg->proxydhcp.menu = get_short(w, v, "proxydhcp.menu", 100); }
HANDLER(prompt_text) { UNUSED_CTX; w->cfg->proxydhcp.prompt = get_short(w, v, "proxydhcp.prompt.text", 100); }
HANDLER(prompt_timeout)
{
	UNUSED_CTX;
	get_uint(w, v, "proxydhcp.prompt.timeout", 0, 255, &w->cfg->proxydhcp.prompt_timeout);
}
static const struct key prompt_keys[] = { { "text", prompt_text }, { "timeout", prompt_timeout } };
HANDLER(pd_prompt) { walk_mapping(w, v, "proxydhcp.prompt", prompt_keys, 2, ctx); }

HANDLER(pxl_config)
{
	UNUSED_CTX;
	w->cfg->proxydhcp.pxelinux_config_file = get_short(w, v, "proxydhcp.pxelinux.config_file", 255);
}
HANDLER(pxl_prefix)
{
	UNUSED_CTX;
	w->cfg->proxydhcp.pxelinux_path_prefix = get_short(w, v, "proxydhcp.pxelinux.path_prefix", 255);
}
static const struct key pxelinux_keys[] = { { "config_file", pxl_config }, { "path_prefix", pxl_prefix } };
HANDLER(pd_pxelinux) { walk_mapping(w, v, "proxydhcp.pxelinux", pxelinux_keys, 2, ctx); }

HANDLER(pd_allow_macs)
{
	UNUSED_CTX;
	w->cfg->proxydhcp.allow_macs = get_list(w, v, "proxydhcp.allow_macs", &w->cfg->proxydhcp.n_allow_macs,
						check_mac_item);
}
HANDLER(pd_deny_macs)
{
	UNUSED_CTX;
	w->cfg->proxydhcp.deny_macs = get_list(w, v, "proxydhcp.deny_macs", &w->cfg->proxydhcp.n_deny_macs,
					       check_mac_item);
}
HANDLER(pd_allow_subnets)
{
	UNUSED_CTX;
	w->cfg->proxydhcp.allow_subnets = get_list(w, v, "proxydhcp.allow_subnets",
						   &w->cfg->proxydhcp.n_allow_subnets, check_subnet_item);
}
HANDLER(pd_deny_subnets)
{
	UNUSED_CTX;
	w->cfg->proxydhcp.deny_subnets = get_list(w, v, "proxydhcp.deny_subnets", &w->cfg->proxydhcp.n_deny_subnets,
						  check_subnet_item);
}
HANDLER(pd_unmatched)
{
	const char *s = scalar(v);

	UNUSED_CTX;
	if (s && !strcmp(s, "default"))
		w->cfg->proxydhcp.answer_unmatched = true;
	else if (s && !strcmp(s, "ignore"))
		w->cfg->proxydhcp.answer_unmatched = false;
	else
		error_at(w, v, "proxydhcp.unmatched must be \"default\" (boot the default profile) or \"ignore\"");
}

HANDLER(pd_rate)
{
	UNUSED_CTX;
	get_uint(w, v, "proxydhcp.rate_per_client", 0, 1000000, &w->cfg->proxydhcp.rate_per_client);
}

static const struct key proxydhcp_keys[] = {
	{ "boot_files", pd_boot_files },     { "boot_server", pd_boot_server },   { "menu", pd_menu },
	{ "prompt", pd_prompt },             { "pxelinux", pd_pxelinux },         { "allow_macs", pd_allow_macs },
	{ "deny_macs", pd_deny_macs },       { "allow_subnets", pd_allow_subnets }, { "deny_subnets", pd_deny_subnets },
	{ "unmatched", pd_unmatched },       { "rate_per_client", pd_rate },
};

/* profiles: NAME: {kernel, initrd, cmdline} | {script} | {action: local|shell|menu} */
HANDLER(pf_description) { ((struct profile *)ctx)->description = get_string(w, v, "description"); }
HANDLER(pf_kernel) { ((struct profile *)ctx)->kernel = get_string(w, v, "kernel"); }
HANDLER(pf_cmdline) { ((struct profile *)ctx)->cmdline = get_string(w, v, "cmdline"); }
HANDLER(pf_script) { ((struct profile *)ctx)->script = get_value(w, v, "script", true); }
HANDLER(pf_initrd)
{
	struct profile *p = ctx;

	if (v && v->type == YAML_SCALAR_NODE) {
		p->initrds[0] = get_string(w, v, "initrd");
		p->n_initrds = p->initrds[0] != NULL;
		return;
	}
	if (!v || v->type != YAML_SEQUENCE_NODE) {
		error_at(w, v, "initrd must be a file or a list of files");
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		if (p->n_initrds == PROFILE_MAX_INITRDS) {
			error_at(w, node(w, *i), "at most %d initrds", PROFILE_MAX_INITRDS);
			return;
		}
		p->initrds[p->n_initrds] = get_string(w, node(w, *i), "initrd");
		p->n_initrds += p->initrds[p->n_initrds] != NULL;
	}
}
HANDLER(pf_action)
{
	struct profile *p = ctx;
	const char *s = scalar(v);

	if (s && !strcmp(s, "local"))
		p->kind = PROFILE_LOCAL;
	else if (s && !strcmp(s, "shell"))
		p->kind = PROFILE_SHELL;
	else if (s && !strcmp(s, "menu"))
		p->kind = PROFILE_MENU;
	else
		error_at(w, v, "action must be local, shell or menu");
}

static const struct key profile_keys[] = {
	{ "description", pf_description }, { "kernel", pf_kernel }, { "initrd", pf_initrd },
	{ "cmdline", pf_cmdline },         { "script", pf_script }, { "action", pf_action },
};

static bool reserved_profile_name(const char *s)
{
	return !strcmp(s, "menu") || !strcmp(s, "local") || !strcmp(s, "shell") || !strcmp(s, "none");
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

HANDLER(top_profiles)
{
	size_t n;

	UNUSED_CTX;
	if (!v || v->type != YAML_MAPPING_NODE) {
		error_at(w, v, "profiles must map profile names to their settings");
		return;
	}
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	w->cfg->profiles = arena_alloc(w->cfg, (n + 1) * sizeof(struct profile));
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(w, pr->key), *val = node(w, pr->value);
		const char *name = scalar(k);
		struct profile *p = &w->cfg->profiles[w->cfg->n_profiles];
		unsigned before = w->errors->n;

		if (!name || !valid_name(name) || reserved_profile_name(name)) {
			error_at(w, k, "profile name \"%s\" must be 1-64 of [A-Za-z0-9._-] and not menu, local, shell "
				       "or none",
				 name ? name : "");
			continue;
		}
		if (config_profile(w->cfg, name)) {
			error_at(w, k, "profile \"%s\" is defined twice", name);
			continue;
		}
		*p = (struct profile){ .name = arena_strdup(w->cfg, name), .kind = PROFILE_LINUX };
		walk_mapping(w, val, "a profile", profile_keys, sizeof(profile_keys) / sizeof(profile_keys[0]), p);
		if (w->errors->n != before)
			continue;
		if (p->script && (p->kernel || p->n_initrds || p->cmdline))
			error_at(w, val, "profile \"%s\": script excludes kernel, initrd and cmdline", name);
		else if (p->kind != PROFILE_LINUX && (p->script || p->kernel))
			error_at(w, val, "profile \"%s\": action excludes script and kernel", name);
		else if (p->kind == PROFILE_LINUX && !p->script && !p->kernel)
			error_at(w, val, "profile \"%s\" needs a kernel, a script or an action", name);
		else {
			if (p->script)
				p->kind = PROFILE_SCRIPT;
			w->cfg->n_profiles++;
		}
	}
}

/* machines: - {mac|uuid|arch, profile, hostname} */
HANDLER(m_mac)
{
	struct machine_rule *r = ctx;

	r->mac = normalise_mac(w, v, r->mac_bytes);
}
HANDLER(m_uuid)
{
	struct machine_rule *r = ctx;
	const char *s = scalar(v);
	uint8_t u[16];
	char *lower;

	if (!s || policy_parse_uuid(s, u) < 0) {
		error_at(w, v, "\"%s\" is not a UUID (expected 8-4-4-4-12 hexadecimal digits)", s ? s : "");
		return;
	}
	lower = (char *)arena_strdup(w->cfg, s);
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	r->uuid = lower;
}
HANDLER(m_arch)
{
	struct machine_rule *r = ctx;
	const char *s = check_arch_item(w, v);

	if (s)
		r->arch = pxe_arch_from_name(s);
}
HANDLER(m_hostname) { ((struct machine_rule *)ctx)->hostname = get_string(w, v, "hostname"); }
HANDLER(m_profile)
{
	struct machine_rule *r = ctx;

	r->profile = get_string(w, v, "profile");
	if (v) {
		r->line = (unsigned)v->start_mark.line + 1;
		r->column = (unsigned)v->start_mark.column + 1;
	}
}

static const struct key machine_keys[] = {
	{ "mac", m_mac }, { "uuid", m_uuid }, { "arch", m_arch }, { "hostname", m_hostname }, { "profile", m_profile },
};

HANDLER(top_machines)
{
	size_t n;

	UNUSED_CTX;
	if (!v || v->type != YAML_SEQUENCE_NODE) {
		error_at(w, v, "machines must be a list of selectors (- mac: ..., profile: ...)");
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	w->cfg->machines = arena_alloc(w->cfg, (n + 1) * sizeof(struct machine_rule));
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		yaml_node_t *item = node(w, *i);
		struct machine_rule *r = &w->cfg->machines[w->cfg->n_machines];
		unsigned before = w->errors->n;

		*r = (struct machine_rule){ .arch = -1, .line = (unsigned)item->start_mark.line + 1 };
		walk_mapping(w, item, "a machine", machine_keys, sizeof(machine_keys) / sizeof(machine_keys[0]), r);
		if (w->errors->n != before)
			continue;
		if (!r->mac && !r->uuid && r->arch < 0)
			error_at(w, item, "a machine needs mac, uuid or arch to select it");
		else if (!r->profile)
			error_at(w, item, "a machine needs a profile");
		else
			w->cfg->n_machines++;
	}
}

HANDLER(top_default)
{
	UNUSED_CTX;
	w->cfg->default_profile = get_string(w, v, "default_profile");
	w->default_profile_node = v;
}
HANDLER(top_menu_timeout) { UNUSED_CTX; get_uint(w, v, "menu_timeout", 0, 3600, &w->cfg->menu_timeout_s); }

HANDLER(dp_pmd)
{
	const char *s = get_string(w, v, "dataplane.pmd");

	UNUSED_CTX;
	if (s && strcmp(s, "af_xdp") && strcmp(s, "af_packet") && strcmp(s, "pcap"))
		error_at(w, v, "dataplane.pmd must be af_xdp, af_packet or pcap");
	else
		w->cfg->dataplane.pmd = s;
}
HANDLER(dp_no_huge) { UNUSED_CTX; get_bool(w, v, "dataplane.no_huge", &w->cfg->dataplane.no_huge); }
HANDLER(dp_lcore)
{
	unsigned x;

	UNUSED_CTX;
	if (get_uint(w, v, "dataplane.lcore", 0, 1023, &x))
		w->cfg->dataplane.lcore = (int)x;
}
HANDLER(dp_lcores)
{
	UNUSED_CTX;
	get_uint(w, v, "dataplane.lcores", 1, DP_MAX_LCORES, &w->cfg->dataplane.lcores);
}
HANDLER(dp_eal) { UNUSED_CTX; w->cfg->dataplane.eal = get_string(w, v, "dataplane.eal"); }
static const struct key dataplane_keys[] = {
	{ "pmd", dp_pmd },	   { "no_huge", dp_no_huge }, { "lcore", dp_lcore },
	{ "lcores", dp_lcores }, { "eal", dp_eal },
};

HANDLER(api_token)
{
	const char *s = get_string(w, v, "api.token");

	UNUSED_CTX;
	if (s && strlen(s) < 16)
		error_at(w, v, "api.token must be at least 16 characters (it guards reloads)");
	else
		w->cfg->api.token = s;
}
static const struct key api_keys[] = { { "token", api_token } };
HANDLER(top_api) { walk_mapping(w, v, "api", api_keys, 1, ctx); }

HANDLER(tl_machines) { UNUSED_CTX; get_uint(w, v, "timeline.machines", 1, 65536, &w->cfg->timeline.machines); }
HANDLER(tl_events) { UNUSED_CTX; get_uint(w, v, "timeline.events", 1, 1024, &w->cfg->timeline.events); }
static const struct key timeline_keys[] = { { "machines", tl_machines }, { "events", tl_events } };
HANDLER(top_timeline) { walk_mapping(w, v, "timeline", timeline_keys, 2, ctx); }

HANDLER(log_format)
{
	const char *s = scalar(v);

	UNUSED_CTX;
	if (!s || (strcmp(s, "text") && strcmp(s, "json")))
		error_at(w, v, "log.format must be text or json");
	else
		w->cfg->log.format = get_string(w, v, "log.format");
}
HANDLER(log_level)
{
	const char *s = scalar(v);

	UNUSED_CTX;
	if (!s || (strcmp(s, "error") && strcmp(s, "warn") && strcmp(s, "info") && strcmp(s, "debug")))
		error_at(w, v, "log.level must be error, warn, info or debug");
	else
		w->cfg->log.level = get_string(w, v, "log.level");
}
static const struct key log_keys[] = { { "format", log_format }, { "level", log_level } };
HANDLER(top_log) { walk_mapping(w, v, "log", log_keys, 2, ctx); }

HANDLER(ba_url)
{
	const char *s = get_string(w, v, "boot_api.url");

	UNUSED_CTX;
	if (s && !policy_is_url(s))
		error_at(w, v, "boot_api.url must start with http:// or https://");
	else
		w->cfg->boot_api.url = s;
}
HANDLER(ba_token) { UNUSED_CTX; w->cfg->boot_api.token = get_string(w, v, "boot_api.token"); }
HANDLER(ba_timeout) { UNUSED_CTX; get_uint(w, v, "boot_api.timeout_ms", 100, 30000, &w->cfg->boot_api.timeout_ms); }
HANDLER(ba_ttl) { UNUSED_CTX; get_uint(w, v, "boot_api.cache_ttl_s", 0, 86400, &w->cfg->boot_api.cache_ttl_s); }
HANDLER(ba_entries)
{
	UNUSED_CTX;
	get_uint(w, v, "boot_api.max_cache_entries", 1, 1u << 20, &w->cfg->boot_api.max_cache_entries);
}
static const struct key boot_api_keys[] = {
	{ "url", ba_url }, { "token", ba_token }, { "timeout_ms", ba_timeout }, { "cache_ttl_s", ba_ttl },
	{ "max_cache_entries", ba_entries },
};
HANDLER(top_boot_api)
{
	walk_mapping(w, v, "boot_api", boot_api_keys, sizeof(boot_api_keys) / sizeof(boot_api_keys[0]), ctx);
	if (!w->cfg->boot_api.url)
		error_at(w, v, "boot_api needs a url");
}

HANDLER(top_tftp) { walk_mapping(w, v, "tftp", tftp_keys, sizeof(tftp_keys) / sizeof(tftp_keys[0]), ctx); }
HANDLER(top_http) { walk_mapping(w, v, "http", http_keys, sizeof(http_keys) / sizeof(http_keys[0]), ctx); }
HANDLER(top_proxydhcp)
{
	walk_mapping(w, v, "proxydhcp", proxydhcp_keys, sizeof(proxydhcp_keys) / sizeof(proxydhcp_keys[0]), ctx);
}
HANDLER(top_dataplane)
{
	walk_mapping(w, v, "dataplane", dataplane_keys, sizeof(dataplane_keys) / sizeof(dataplane_keys[0]), ctx);
}

static const struct key top_keys[] = {
	{ "interface", top_interface }, { "address", top_address },     { "tftp", top_tftp },
	{ "http", top_http },           { "proxydhcp", top_proxydhcp }, { "profiles", top_profiles },
	{ "machines", top_machines },   { "default_profile", top_default }, { "menu_timeout", top_menu_timeout },
	{ "dataplane", top_dataplane }, { "api", top_api },           { "timeline", top_timeline },
	{ "log", top_log },             { "boot_api", top_boot_api },   { "user", top_user },
};

/* ---- after the walk: references between sections ---- */

static bool profile_reference_ok(const struct config *c, const char *name)
{
	return reserved_profile_name(name) || config_profile(c, name);
}

static void check_references(struct walker *w, yaml_node_t *root)
{
	struct config *c = w->cfg;

	for (size_t i = 0; i < c->n_machines; i++) {
		struct config_errors *e = w->errors;

		if (profile_reference_ok(c, c->machines[i].profile))
			continue;
		if (e->n >= CONFIG_MAX_ERRORS)
			e->dropped++;
		else
			snprintf(e->msg[e->n++], sizeof(e->msg[0]), "%s:%u:%u: machine: no profile named \"%s\"", w->name,
				 c->machines[i].line, c->machines[i].column, c->machines[i].profile);
	}
	/* What the dataplane will refuse must be refused here, by file and line. */
	if (c->http.base_url && strlen(c->http.base_url) + strlen(SCRIPT_PATH SCRIPT_QUERY) > 255)
		error_at(w, w->url_node, "http.url is too long: the iPXE script URL built on it (%zu bytes) must fit "
					 "the 255 bytes of a DHCP option",
			 strlen(c->http.base_url) + strlen(SCRIPT_PATH SCRIPT_QUERY));
	if (c->proxydhcp.n_allow_macs > 65536 || c->proxydhcp.n_deny_macs > 65536 ||
	    c->proxydhcp.n_allow_subnets > 65536 || c->proxydhcp.n_deny_subnets > 65536 || c->n_machines > 65536)
		error_at(w, root, "a list holds more than 65536 entries (the dataplane's limit per list)");
	/* Each machine's timeline is allocated up front: keep the table's
	 * memory (about 140 bytes an entry) within reason. */
	if ((uint64_t)c->timeline.machines * c->timeline.events > (1u << 20))
		error_at(w, root, "timeline: machines x events is %llu; at most 1048576 entries (about 140 MB) are kept",
			 (unsigned long long)c->timeline.machines * c->timeline.events);
	if (w->min_retransmit_node && c->tftp.min_retransmit_ms > c->tftp.retransmit_ms)
		error_at(w, w->min_retransmit_node,
			 "tftp.min_retransmit_ms %u is above tftp.retransmit_ms %u (the timeout adapts between the two)",
			 c->tftp.min_retransmit_ms, c->tftp.retransmit_ms);
	if (c->dataplane.lcores > 1 && c->dataplane.pmd && !strcmp(c->dataplane.pmd, "pcap"))
		error_at(w, root, "dataplane.lcores %u: several polling loops need a queue each (pmd af_xdp or af_packet)",
			 c->dataplane.lcores);
	/* Without tftp.port_range the dataplane uses its default range. */
	if (w->max_sessions_node &&
	    c->tftp.max_sessions > (w->port_range_size ? w->port_range_size : TFTP_DEFAULT_PORT_COUNT))
		error_at(w, w->max_sessions_node,
			 "tftp.max_sessions %u exceeds the %u ports of tftp.port_range%s (each transfer needs its own port)",
			 c->tftp.max_sessions, w->port_range_size ? w->port_range_size : TFTP_DEFAULT_PORT_COUNT,
			 w->port_range_size ? "" : " (default 61440-65535)");
	if (!profile_reference_ok(c, c->default_profile))
		error_at(w, w->default_profile_node ? w->default_profile_node : root, "default_profile: no profile named \"%s\" (nor menu, local, shell, none)",
			 c->default_profile);
	for (int a = 0; a < PXE_ARCH_COUNT; a++) {
		const char *f = c->proxydhcp.boot_files[a];
		bool http_arch = pxe_arch_is_http(a);
		bool url = f && policy_is_url(f);

		yaml_node_t *at = w->boot_file_node[a] ? w->boot_file_node[a] : root;

		if (f && url && strlen(f) > 255)
			error_at(w, at, "proxydhcp.boot_files.%s: longer than the 255 bytes of a DHCP option", pxe_arch_name(a));
		if (f && url && !http_arch)
			error_at(w, at, "proxydhcp.boot_files.%s: PXE firmware fetch their boot file by TFTP; give a "
					  "file name, not a URL",
				 pxe_arch_name(a));
		/* The URL the dataplane sends must fit one option (255 bytes); before the
		 * address is known, count the longest "http://A.B.C.D:PORT". */
		if (f && http_arch && !url &&
		    (c->http.base_url ? strlen(c->http.base_url) : strlen("http://255.255.255.255:65535")) + 1 + strlen(f) > 255)
			error_at(w, at, "proxydhcp.boot_files.%s: the URL it becomes is longer than the 255 bytes of a "
					"DHCP option", pxe_arch_name(a));
		if (f && http_arch && !url && !c->http.root)
			error_at(w, at, "proxydhcp.boot_files.%s: an HTTP Boot file is served from http.root, "
					  "which is not set",
				 pxe_arch_name(a));
	}
}

static void set_defaults(struct config *c, const char *name)
{
	c->source = arena_strdup(c, name);
	c->tftp.root = "/usr/lib/ipxe";
	c->tftp.cache_mb = 512;
	c->tftp.max_sessions = 0; /* the dataplane's default: 4096, or the size of the port range */
	c->tftp.max_sessions_per_client = 128;
	c->tftp.max_windowsize = 64;
	c->tftp.retransmit_ms = 1000;
	c->tftp.max_retries = 5;
	c->tftp.rate_per_source = CONFIG_RATE_DEFAULT;
	c->proxydhcp.rate_per_client = CONFIG_RATE_DEFAULT;
	c->http.listen = "0.0.0.0";
	c->http.port = 8080;
	c->proxydhcp.boot_files[PXE_ARCH_BIOS] = "undionly.kpxe";
	c->proxydhcp.boot_files[PXE_ARCH_EFI_X64] = "ipxe.efi";
	c->proxydhcp.menu = "Stampede network boot";
	c->proxydhcp.answer_unmatched = true;
	c->default_profile = "menu";
	c->menu_timeout_s = 5;
	c->dataplane.lcore = -1;
	c->timeline.machines = 1024;
	c->timeline.events = 64;
	c->log.format = "text";
	c->log.level = "info";
	c->boot_api.timeout_ms = 2000;
	c->boot_api.cache_ttl_s = 60;
	c->boot_api.max_cache_entries = 4096;
}

struct config *config_parse(const char *name, const char *text, size_t len, struct config_errors *errors)
{
	struct config *c = calloc(1, sizeof(*c));
	struct walker w = { .name = name, .cfg = c, .errors = errors };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	memset(errors, 0, sizeof(*errors));
	if (!c)
		return NULL;
	set_defaults(c, name);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(errors->msg[0], sizeof(errors->msg[0]), "%s:%zu:%zu: YAML syntax: %s%s%s", name,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "error", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		errors->n = 1;
		yaml_parser_delete(&parser);
		config_free(c);
		return NULL;
	}
	w.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	/* An empty file, or an empty document ("---" alone), is the defaults. */
	if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		walk_mapping(&w, root, "the configuration", top_keys, sizeof(top_keys) / sizeof(top_keys[0]), NULL);
	{
		yaml_document_t next;

		if (!yaml_parser_load(&parser, &next)) {
			error_at(&w, NULL, "YAML syntax after the first document: %s",
				 parser.problem ? parser.problem : "error");
		} else {
			yaml_node_t *extra = yaml_document_get_root_node(&next);

			if (extra)
				error_at(&w, extra, "a second YAML document: a configuration is one document");
			yaml_document_delete(&next);
		}
	}
	if (!errors->n)
		check_references(&w, root);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (errors->n) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load(const char *path, struct config_errors *errors)
{
	struct config *c;
	char *text = NULL;
	size_t len = 0;
	FILE *f, *mem;
	char buf[8192];
	size_t n;

	memset(errors, 0, sizeof(*errors));
	if (!path)
		return config_parse("(embedded default)", stampede_default_config, strlen(stampede_default_config),
				    errors);
	f = fopen(path, "r");
	if (!f) {
		snprintf(errors->msg[0], sizeof(errors->msg[0]), "%s: cannot read: %s", path, strerror(errno));
		errors->n = 1;
		return NULL;
	}
	mem = open_memstream(&text, &len);
	while (mem && (n = fread(buf, 1, sizeof(buf), f)) > 0 && len < (16u << 20))
		fwrite(buf, 1, n, mem);
	fclose(f);
	if (!mem) {
		snprintf(errors->msg[0], sizeof(errors->msg[0]), "%s: out of memory", path);
		errors->n = 1;
		return NULL;
	}
	fclose(mem);
	if (len >= (16u << 20)) {
		snprintf(errors->msg[0], sizeof(errors->msg[0]), "%s: larger than 16 MiB: not a configuration", path);
		errors->n = 1;
		free(text);
		return NULL;
	}
	c = config_parse(path, text, len, errors);
	free(text);
	return c;
}

const char *config_default_text(void)
{
	return stampede_default_config;
}

void config_free(struct config *c)
{
	struct arena_block *b, *next;

	if (!c)
		return;
	for (b = c->arena; b; b = next) {
		next = b->next;
		free(b);
	}
	free(c);
}

const struct profile *config_profile(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

static int rule_rank(const struct machine_rule *r)
{
	return (r->mac ? 4 : 0) + (r->uuid ? 2 : 0) + (r->arch >= 0 ? 1 : 0);
}

const struct machine_rule *config_match(const struct config *c, const char *mac, const char *uuid, int arch)
{
	const struct machine_rule *best = NULL;

	for (size_t i = 0; i < c->n_machines; i++) {
		const struct machine_rule *r = &c->machines[i];

		if (r->mac && (!mac || strcasecmp(r->mac, mac) != 0))
			continue;
		if (r->uuid && (!uuid || strcasecmp(r->uuid, uuid) != 0))
			continue;
		if (r->arch >= 0 && r->arch != arch)
			continue;
		if (!best || rule_rank(r) > rule_rank(best))
			best = r;
	}
	return best;
}

/* ---- against this host ---- */

static void add(struct config_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct config_errors *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n >= CONFIG_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n++], sizeof(e->msg[0]), fmt, ap);
	va_end(ap);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

unsigned config_check_host(const struct config *c, struct config_errors *errors, struct config_errors *warn)
{
	unsigned before = errors->n;

	if (!is_dir(c->tftp.root))
		add(errors, "%s: TFTP root %s: %s (tftp.root, or --tftp-root)", c->source, c->tftp.root,
		    access(c->tftp.root, F_OK) ? strerror(errno) : "not a directory");
	if (c->http.root && !is_dir(c->http.root))
		add(errors, "%s: HTTP root %s: %s (http.root, or --http-root)", c->source, c->http.root,
		    access(c->http.root, F_OK) ? strerror(errno) : "not a directory");
	if (c->user.name && !getpwnam(c->user.name)) {
		if (c->user.line)
			add(errors, "%s:%u:%u: user \"%s\": no such user on this host (useradd --system %s)", c->source,
			    c->user.line, c->user.column, c->user.name, c->user.name);
		else
			add(errors, "--user %s: no such user on this host (useradd --system %s)", c->user.name,
			    c->user.name);
	}
	for (int a = 0; a < PXE_ARCH_COUNT && is_dir(c->tftp.root); a++) {
		const char *f = c->proxydhcp.boot_files[a];
		char path[4096];

		if (!f || policy_is_url(f))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->tftp.root, f);
		if (access(path, R_OK) != 0)
			add(warn, "%s: boot file for %s, %s, is not in the TFTP root %s: those clients will fail to load it",
			    c->source, pxe_arch_name(a), f, c->tftp.root);
	}
	return errors->n - before;
}

/* ---- profiles found on disk ---- */

static char *first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *r = NULL;

	if (f) {
		if (fgets(buf, (int)len, f)) {
			buf[strcspn(buf, "\r\n")] = '\0';
			r = buf;
		}
		fclose(f);
	}
	return r;
}

unsigned config_discover_profiles(struct config *c)
{
	struct dirent **names = NULL;
	struct profile *grown;
	unsigned found = 0;
	int n;

	if (!c->http.discover_profiles || !c->http.root)
		return 0;
	n = scandir(c->http.root, &names, NULL, alphasort); /* sorted: a stable menu */
	if (n < 0)
		return 0;
	grown = arena_alloc(c, (c->n_profiles + (size_t)n + 1) * sizeof(*grown));
	memcpy(grown, c->profiles, c->n_profiles * sizeof(*grown));
	c->profiles = grown;
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		char path[4096], line[1024];
		struct profile *p = &c->profiles[c->n_profiles];

		snprintf(path, sizeof(path), "%s/%s/vmlinuz", c->http.root, d);
		if (d[0] == '.' || !valid_name(d) || reserved_profile_name(d) || config_profile(c, d) ||
		    access(path, R_OK) != 0)
			continue;
		*p = (struct profile){ .name = arena_strdup(c, d), .kind = PROFILE_LINUX };
		snprintf(path, sizeof(path), "%s/vmlinuz", d);
		p->kernel = arena_strdup(c, path);
		snprintf(path, sizeof(path), "%s/%s/initrd.img", c->http.root, d);
		if (access(path, R_OK) == 0) {
			snprintf(path, sizeof(path), "%s/initrd.img", d);
			p->initrds[p->n_initrds++] = arena_strdup(c, path);
		}
		snprintf(path, sizeof(path), "%s/%s/cmdline", c->http.root, d);
		if (first_line(path, line, sizeof(line)))
			p->cmdline = arena_strdup(c, line);
		snprintf(path, sizeof(path), "%s/%s/description", c->http.root, d);
		if (first_line(path, line, sizeof(line)))
			p->description = arena_strdup(c, line);
		c->n_profiles++;
		found++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found;
}
