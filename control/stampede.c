/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stampede: the command operators run.
 *
 *   stampede serve --iface IF [--config FILE] [--tftp-root DIR] [--http-root DIR]
 *                  [--http-port N] [--addr A.B.C.D] [dataplane options]
 *   stampede check FILE | --print-default
 *   stampede stats  [--iface IF | --socket PATH]
 *   stampede reload [--iface IF | --socket PATH]
 *   stampede demo
 *
 * `serve` reads the configuration (or the embedded default), serves HTTP
 * (iPXE scripts and boot files), and runs the DPDK dataplane (TFTP and
 * proxyDHCP) as a supervised child, to which it sends its settings and the
 * compiled proxyDHCP policy. SIGHUP re-reads the configuration: a bad one is
 * refused and the running one stays.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot_scripts.h"
#include "api.h"
#include "config_message.h"
#include "boot_api.h"
#include "config.h"
#include "dataplane_stats.h"
#include "event_line.h"
#include "machines.h"
#include "throughput.h"
#include "http_server.h"
#include "iface.h"
#include "log.h"
#include "ipxe_script.h"
#include "launcher.h"
#include "policy_compile.h"
#include "self_path.h"
#include "service_user.h"
#include "supervisor.h"

#define POOL_MB  192 /* mbufs and rings */
#define MAX_ARGS 128

static void usage(FILE *out)
{
	fprintf(out,
		"usage: stampede serve --iface IF [--config FILE] [--tftp-root DIR] [--http-root DIR]\n"
		"                      [--http-port N] [--addr A.B.C.D] [--log-format text|json]\n"
		"                      [--log-level error|warn|info|debug] [--user NAME] [dataplane options]\n"
		"       stampede check [--no-host] FILE  validate a configuration (file:line errors);\n"
		"                                    --no-host: the file only, not this machine's paths\n"
		"       stampede check --print-default\n"
		"       stampede stats  [--iface IF | --socket PATH]\n"
		"       stampede reload [--iface IF | --socket PATH]\n"
		"       stampede demo                a lab in network namespaces: PXE-boots a VM\n"
		"\n"
		"serve answers PXE firmware on IF as a proxyDHCP server (the site's DHCP server keeps\n"
		"leasing addresses), serves boot programs over TFTP from a kernel-bypass dataplane,\n"
		"and iPXE scripts and files over HTTP. With no --config it uses the embedded default:\n"
		"Debian's iPXE for BIOS and UEFI, and a menu of the profiles under the HTTP root.\n"
		"SIGINT/SIGTERM stop it (the XDP program is removed); SIGHUP re-reads the configuration.\n"
		"Dataplane options (see stampede-dataplane --help) are passed through.\n");
}

static const char *arg_value(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], name) == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

static bool has_flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

/* Free hugepage memory in MiB, or 0 when hugetlbfs is not mounted (EAL needs both). */
static unsigned long free_hugepage_mb(void)
{
	unsigned long free_pages = 0, page_kb = 0;
	bool mounted = false;
	char line[512];
	FILE *f;

	if ((f = fopen("/proc/mounts", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " hugetlbfs "))
				mounted = true;
		fclose(f);
	}
	if (!mounted || !(f = fopen("/proc/meminfo", "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &page_kb);
	}
	fclose(f);
	return free_pages * page_kb / 1024;
}

/* ---- configuration ---- */

struct overrides {
	const char *tftp_root, *http_root, *http_port, *addr, *user;
	bool no_host; /* check the file only, not this machine's directories */
};

static void print_errors(const struct config_errors *e, const char *prefix)
{
	for (unsigned i = 0; i < e->n; i++)
		fprintf(stderr, "%s%s\n", prefix, e->msg[i]);
	if (e->dropped)
		fprintf(stderr, "%s... and %u more\n", prefix, e->dropped);
}

/* Load, apply the command line, check against this host. NULL after printing why. */
/* Load, apply the command line, check against this host. NULL with the
 * errors in *errors; warnings in *warnings either way. */
static struct config *load_config_errors(const char *path, const struct overrides *o, struct config_errors *errors,
					 struct config_errors *warnings)
{
	struct config *c = config_load(path, errors);
	unsigned long port;

	memset(warnings, 0, sizeof(*warnings));
	if (!c)
		return NULL;
	if (o->tftp_root)
		c->tftp.root = o->tftp_root;
	if (o->http_root)
		c->http.root = o->http_root;
	memset(errors, 0, sizeof(*errors));
	if (o->http_port) {
		char *end;

		port = strtoul(o->http_port, &end, 10);
		if (*end || port == 0 || port > 65535) {
			snprintf(errors->msg[errors->n++], sizeof(errors->msg[0]), "--http-port %.64s: expected 1 to 65535",
				 o->http_port);
			config_free(c);
			return NULL;
		}
		c->http.port = (unsigned)port;
	}
	if (o->addr) {
		struct in_addr a;

		/* As address: in the file (config.c): every DHCP reply names it. */
		if (inet_pton(AF_INET, o->addr, &a) != 1 || a.s_addr == INADDR_ANY || a.s_addr == INADDR_BROADCAST) {
			snprintf(errors->msg[errors->n++], sizeof(errors->msg[0]),
				 "--addr %.64s: expected the server's IPv4 address (not 0.0.0.0 or 255.255.255.255: DHCP "
				 "replies name it as the boot server)",
				 o->addr);
			config_free(c);
			return NULL;
		}
		c->address = o->addr;
	}
	if (o->user)
		c->user = (typeof(c->user)){ .name = o->user }; /* no line: errors name --user */
	if (!o->no_host) {
		config_discover_profiles(c);
		config_check_host(c, errors, warnings);
	}
	for (size_t i = 0; i < c->n_profiles; i++) {
		char err[384];

		if (ipxe_profile_check(&c->profiles[i], err, sizeof(err)) < 0 && errors->n < CONFIG_MAX_ERRORS)
			snprintf(errors->msg[errors->n++], sizeof(errors->msg[0]), "%.100s: %.270s", c->source, err);
	}
	if (errors->n) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* The same, printing what is wrong. */
static struct config *load_config(const char *path, const struct overrides *o)
{
	struct config_errors errors, warnings;
	struct config *c = load_config_errors(path, o, &errors, &warnings);

	print_errors(&warnings, "stampede: warning: ");
	if (!c)
		print_errors(&errors, "stampede: ");
	return c;
}

static int check(int argc, char **argv)
{
	struct overrides o = { 0 };
	struct config *c;

	if (argc == 2 && strcmp(argv[0], "--no-host") == 0) {
		o.no_host = true;
		argc--, argv++;
	}
	if (argc == 1 && strcmp(argv[0], "--print-default") == 0) {
		fputs(config_default_text(), stdout);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: stampede check [--no-host] FILE | --print-default\n");
		return 2;
	}
	c = load_config(argv[0], &o);
	if (!c)
		return 1;
	printf("%s: ok: %zu profiles, %zu machine selectors, default profile %s, TFTP root %s, HTTP root %s\n",
	       argv[0], c->n_profiles, c->n_machines, c->default_profile, c->tftp.root,
	       c->http.root ? c->http.root : "(none)");
	config_free(c);
	return 0;
}

/* ---- serve ---- */

struct server {
	const char *iface;
	const char *config_path;
	struct overrides overrides;
	struct config *config;
	char server_ip[INET_ADDRSTRLEN];
	char base_url[512];
	bool policy_accepted; /* the dataplane took a policy at least once */
	bool fatal;           /* stop serving: the first policy was refused */
	struct boot_scripts scripts;
	struct http_server *http;
	struct supervisor *dataplane;
	struct launcher *launcher; /* holds the privileges serve gave up (launcher.h) */
	int argc; /* serve's arguments: the dataplane options among them */
	char **argv;
	char *config_msg; /* the settings the dataplane was started with */
	struct machines *machines;
	struct throughput throughput;
	struct duration_histogram tftp_durations;
	struct api api;
	struct boot_api *boot_api; /* NULL: none configured */
	char stats_socket[108];
};

static void on_dataplane_line(void *ctx, const char *line)
{
	struct server *s = ctx;
	struct event_dhcp dhcp;
	struct event_tftp tftp;

	switch (event_line_parse(line, &dhcp, &tftp)) {
	case EVENT_DHCP:
		machines_on_dhcp(s->machines, &dhcp);
		log_event(LOG_INFO, "dhcp", "mac", dhcp.mac, "ip", dhcp.ip, "arch", dhcp.arch, "msg", dhcp.msg, "ipxe",
			  dhcp.ipxe ? "1" : "0", "decision", dhcp.decision, "file", dhcp.file[0] ? dhcp.file : "-", NULL);
		return;
	case EVENT_TFTP: {
		double seconds = machines_on_tftp(s->machines, &tftp);

		if (seconds >= 0)
			duration_histogram_observe(&s->tftp_durations, seconds);
		if (!strcmp(tftp.state, "progress"))
			return; /* the dashboard shows progress; the log only starts and ends */
		{
			char port[8], bytes[24];

			snprintf(port, sizeof(port), "%u", tftp.port);
			snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)tftp.bytes);
			log_event(tftp.state[0] == 't' || tftp.state[0] == 'a' ? LOG_WARN : LOG_INFO, "tftp", "mac",
				  tftp.mac, "ip", tftp.ip, "port", port, "state", tftp.state, "bytes", bytes, "file",
				  tftp.file, NULL);
		}
		return;
	}
	default:
		break;
	}
	/* One line per event or reply, as the dataplane wrote it. */
	log_msg(strncmp(line, "error", 5) == 0 ? LOG_ERROR : LOG_INFO, "dataplane: %s", line);
	if (strncmp(line, "ok policy", 9) == 0)
		s->policy_accepted = true;
	/* Serving TFTP without ever answering DHCP would look like a working
	 * boot server to nobody: a first policy refused is fatal. (Later ones
	 * leave the previous policy in place, which the line above says.) */
	if (strncmp(line, "error: policy", 13) == 0 && !s->policy_accepted) {
		log_msg(LOG_ERROR, "the dataplane refused the proxyDHCP policy: stopping");
		s->fatal = true;
	}
}

static void on_http_request(void *ctx, const struct http_log_entry *e)
{
	struct server *s = ctx;
	char path[1024], status[8], bytes[24], ms[24];

	/* The machine table wants the path: no leading '/', no query. */
	snprintf(path, sizeof(path), "%s", e->target[0] == '/' ? e->target + 1 : e->target);
	path[strcspn(path, "?")] = '\0';
	if (!strcmp(e->method, "GET") && strcmp(path, "boot.ipxe") != 0)
		machines_on_http(s->machines, machines_clock(), e->remote_ip, path, e->status, e->bytes, e->complete);
	snprintf(status, sizeof(status), "%u", e->status);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)e->bytes);
	snprintf(ms, sizeof(ms), "%.1f", (double)e->duration_us / 1000.0);
	/* log.c escapes what came from the network (the target, the method). */
	log_event(e->status >= 500 || !e->status ? LOG_WARN : LOG_INFO, "http", "method", e->method[0] ? e->method : "-",
		  "target", e->target, "status", status, "bytes", bytes, "complete", e->complete ? "1" : "0", "client",
		  e->remote_ip, "ms", ms, NULL);
}

static void on_http_error(void *ctx, const char *message)
{
	(void)ctx;
	char line[512];

	snprintf(line, sizeof(line), "%s", message);
	line[strcspn(line, "\n")] = '\0';
	log_msg(LOG_WARN, "http: %s", line);
}

/* "policy 1\n...end\n" for the current configuration. */
static char *policy_message(const struct server *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs("policy 1\n", f);
	policy_compile(s->config, s->server_ip, s->base_url, f);
	fputs("end\n", f);
	fclose(f);
	return text;
}

/* The real path of root/name when it lies outside root (a symlink out of
 * it), else false. */
static bool outside_root(const char *root, const char *name, char target[PATH_MAX])
{
	char real_root[PATH_MAX], path[2 * PATH_MAX];
	size_t n;

	if (!realpath(root, real_root))
		return false;
	n = strlen(real_root);
	snprintf(path, sizeof(path), "%s/%s", real_root, name);
	if (!realpath(path, target))
		return false;
	return !(strncmp(target, real_root, n) == 0 && target[n] == '/');
}

/* Boot files the configuration names that live outside their root (a
 * symlink out of it, as Debian's ipxe.efi -> /boot/ipxe.efi) are served all
 * the same: the operator named them. Nothing else that leaves a root is.
 * TFTP ones travel to the dataplane as images, HTTP Boot ones become aliases
 * of the HTTP server. */
static void write_images(const struct config *c, FILE *f)
{
	char target[PATH_MAX];

	for (int a = 0; a < PXE_ARCH_COUNT; a++) {
		const char *name = c->proxydhcp.boot_files[a];
		bool seen = false;

		if (!name || strstr(name, "://") || pxe_arch_is_http(a))
			continue;
		for (int b = 0; b < a; b++)
			seen |= c->proxydhcp.boot_files[b] && !pxe_arch_is_http(b) &&
				strcmp(c->proxydhcp.boot_files[b], name) == 0;
		if (!seen && outside_root(c->tftp.root, name, target))
			fprintf(f, "image %s=%s\n", name, target);
	}
}

/* "images 1": the current image list, for a reload. */
static char *images_message(const struct config *c)
{
	char *text = NULL, *body = NULL, *line, *next;
	size_t len = 0, body_len = 0;
	FILE *f, *g = open_memstream(&body, &body_len);

	if (!g)
		return NULL;
	write_images(c, g);
	fclose(g);
	f = open_memstream(&text, &len);
	if (!f) {
		free(body);
		return NULL;
	}
	fputs("images 1\n", f);
	for (line = body; line && *line; line = next) { /* "image NAME=PATH" -> "NAME=PATH" */
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		fprintf(f, "%s\n", line + strlen("image "));
	}
	fputs("end\n", f);
	fclose(f);
	free(body);
	return text;
}

/* Whether two config messages differ in more than their image lines: what
 * only a restart of the dataplane changes. */
static bool restart_settings_differ(const char *a, const char *b)
{
	for (;;) {
		while (strncmp(a, "image ", 6) == 0)
			a = strchr(a, '\n') ? strchr(a, '\n') + 1 : a + strlen(a);
		while (strncmp(b, "image ", 6) == 0)
			b = strchr(b, '\n') ? strchr(b, '\n') + 1 : b + strlen(b);
		if (*a != *b)
			return true;
		if (!*a)
			return false;
		/* one whole line at a time, so the image check sees line starts */
		while (*a && *a == *b && *a != '\n')
			a++, b++;
		if (*a != *b)
			return true;
		if (*a)
			a++, b++;
	}
}

static size_t http_aliases(const struct config *c, struct http_alias *out, char files[][PATH_MAX], size_t max)
{
	size_t n = 0;

	for (int a = 0; a < PXE_ARCH_COUNT && n < max && c->http.root; a++) {
		const char *name = c->proxydhcp.boot_files[a];

		if (name && pxe_arch_is_http(a) && !strstr(name, "://") &&
		    outside_root(c->http.root, name[0] == '/' ? name + 1 : name, files[n])) {
			out[n] = (struct http_alias){ name, files[n] };
			n++;
		}
	}
	return n;
}

/* no_huge: -1 decides by the free hugepages now (at start), 0 or 1 keeps the
 * decision taken then (at a reload, the running dataplane holds its pages). */
static char *config_message(const struct server *s, int argc, char **argv, int no_huge)
{
	const struct config *c = s->config;
	unsigned long need_mb = 2 * (unsigned long)c->tftp.cache_mb + POOL_MB; /* a reload builds beside */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "config 1\niface %s\naddr %s\ntftp-root %s\ncache-mb %u\n", s->iface, s->server_ip, c->tftp.root,
		c->tftp.cache_mb);
	fprintf(f, "max-sessions-per-client %u\nmax-windowsize %u\nretransmit-ms %u\nmax-retries %u\n",
		c->tftp.max_sessions_per_client, c->tftp.max_windowsize, c->tftp.retransmit_ms, c->tftp.max_retries);
	if (c->tftp.min_retransmit_ms)
		fprintf(f, "min-retransmit-ms %u\n", c->tftp.min_retransmit_ms);
	/* Unset rates leave the dataplane's defaults, and a --tftp-rate-per-source
	 * given to serve (passed on to the dataplane) in force. */
	if (c->proxydhcp.rate_per_client != CONFIG_RATE_DEFAULT)
		fprintf(f, "dhcp-rate-per-client %u\n", c->proxydhcp.rate_per_client);
	if (c->tftp.rate_per_source != CONFIG_RATE_DEFAULT)
		fprintf(f, "tftp-rate-per-source %u\n", c->tftp.rate_per_source);
	if (c->tftp.port_range)
		fprintf(f, "port-range %s\n", c->tftp.port_range);
	write_images(c, f);
	if (c->tftp.max_sessions)
		fprintf(f, "max-sessions %u\n", c->tftp.max_sessions);
	if (c->dataplane.pmd)
		fprintf(f, "pmd %s\n", c->dataplane.pmd);
	if (c->dataplane.lcore >= 0)
		fprintf(f, "lcore %d\n", c->dataplane.lcore);
	if (c->dataplane.lcores)
		fprintf(f, "lcores %u\n", c->dataplane.lcores);
	if (c->dataplane.eal)
		fprintf(f, "eal %s\n", c->dataplane.eal);
	if (c->dataplane.no_huge || no_huge == 1) {
		fputs("no-huge\n", f);
	} else if (no_huge < 0 && !has_flag(argc, argv, "--no-huge") && free_hugepage_mb() < need_mb) {
		fprintf(stderr,
			"stampede: %lu MiB of free hugepages needed, %lu available: running with --no-huge "
			"(slower; scripts/setup.sh reserves hugepages)\n",
			need_mb, free_hugepage_mb());
		fputs("no-huge\n", f);
	}
	fputs("end\n", f);
	fclose(f);
	return text;
}

/* Dataplane arguments: the command line minus what serve itself consumes. */
static char **dataplane_args(int argc, char **argv)
{
	static const char *const ours[] = { "--iface", "--config", "--tftp-root", "--http-root", "--http-port",
					    "--addr", "--log-format", "--log-level", "--user" };
	char **out = calloc((size_t)argc + 1, sizeof(*out));
	int n = 0;

	if (!out)
		return NULL;
	for (int i = 0; i < argc; i++) {
		bool skip = false;

		for (size_t k = 0; k < sizeof(ours) / sizeof(ours[0]); k++) {
			size_t len = strlen(ours[k]);

			if (strcmp(argv[i], ours[k]) == 0) {
				skip = true;
				i++; /* and its value */
			} else if (strncmp(argv[i], ours[k], len) == 0 && argv[i][len] == '=') {
				skip = true;
			}
		}
		if (!skip)
			out[n++] = argv[i];
	}
	return out;
}

static int resolve_address(struct server *s)
{
	uint32_t ip;

	if (s->config->address) {
		snprintf(s->server_ip, sizeof(s->server_ip), "%s", s->config->address);
	} else if (iface_ipv4(s->iface, &ip) == 0) {
		inet_ntop(AF_INET, &ip, s->server_ip, sizeof(s->server_ip));
	} else {
		fprintf(stderr, "stampede: interface %s has no IPv4 address: give it one (ip addr add ...) or set "
				"address in the configuration\n",
			s->iface);
		return -1;
	}
	if (s->config->http.base_url)
		snprintf(s->base_url, sizeof(s->base_url), "%s", s->config->http.base_url);
	else
		snprintf(s->base_url, sizeof(s->base_url), "http://%s:%u", s->server_ip, s->config->http.port);
	return 0;
}

static int script_cb(void *ctx, const struct http_script_request *req, char **body, unsigned *status)
{
	return boot_script_http(&((struct server *)ctx)->scripts, req, body, status);
}

static int route_cb(void *ctx, const struct http_route_request *req, struct http_route_response *resp)
{
	return api_route(&((struct server *)ctx)->api, req, resp);
}

/* POST /api/v1/reload, on an HTTP thread: check the file now (the caller
 * gets the errors), then reload on the main thread as SIGHUP does. */
static int api_reload(void *ctx, struct config_errors *errors)
{
	struct server *s = ctx;
	struct config_errors warnings;
	struct config *c = load_config_errors(s->config_path, &s->overrides, errors, &warnings);

	if (!c)
		return -EINVAL;
	config_free(c);
	kill(getpid(), SIGHUP);
	return 0;
}

static int start_http(struct server *s)
{
	static char alias_files[HTTP_MAX_ALIASES][PATH_MAX];
	struct http_alias aliases[HTTP_MAX_ALIASES];
	struct http_server_config hc = {
		.aliases = aliases,
		.address = s->config->http.listen,
		.port = (uint16_t)s->config->http.port,
		.root = s->config->http.root,
		.script = script_cb,
		.route = route_cb,
		.log = on_http_request,
		.error = on_http_error,
		.ctx = s,
	};
	char err[256];

	hc.n_aliases = http_aliases(s->config, aliases, alias_files, HTTP_MAX_ALIASES);
	s->scripts.config = s->config;
	s->scripts.base_url = s->base_url;
	s->scripts.machines = s->machines;
	s->scripts.boot_api = s->boot_api;
	s->api = (struct api){ .machines = s->machines, .scripts = &s->scripts, .http = &s->http,
			       .throughput = &s->throughput, .tftp_durations = &s->tftp_durations,
			       .stats_socket = s->stats_socket, .reload = api_reload, .reload_ctx = s };
	if (http_server_start(&hc, &s->http, err, sizeof(err)) < 0) {
		fprintf(stderr, "stampede: HTTP: %s\n", err);
		return -1;
	}
	return 0;
}

/* SIGHUP: a new configuration, or the old one kept with a reason. */
static void reload(struct server *s)
{
	struct config *fresh = load_config(s->config_path, &s->overrides), *old;
	char *policy;

	if (!fresh) {
		log_msg(LOG_ERROR, "reload refused, the running configuration stays");
		return;
	}
	if (fresh->http.port != s->config->http.port || (fresh->address && strcmp(fresh->address, s->server_ip) != 0) ||
	    strcmp(fresh->http.listen, s->config->http.listen) != 0)
		log_msg(LOG_WARN, "the HTTP port, listen address and server address change only when "
				"stampede restarts");
	{
		/* Settings whose objects are built once at start. */
		const struct config *o = s->config;
		bool differ = strcmp(fresh->log.format, o->log.format) != 0 ||
			      fresh->timeline.machines != o->timeline.machines ||
			      fresh->timeline.events != o->timeline.events ||
			      (fresh->http.root == NULL) != (o->http.root == NULL) ||
			      (fresh->http.root && strcmp(fresh->http.root, o->http.root) != 0) ||
			      (fresh->boot_api.url == NULL) != (o->boot_api.url == NULL) ||
			      (fresh->boot_api.url && strcmp(fresh->boot_api.url, o->boot_api.url) != 0) ||
			      fresh->boot_api.timeout_ms != o->boot_api.timeout_ms ||
			      fresh->boot_api.cache_ttl_s != o->boot_api.cache_ttl_s ||
			      (fresh->user.name == NULL) != (o->user.name == NULL) ||
			      (fresh->user.name && strcmp(fresh->user.name, o->user.name) != 0);

		if (differ)
			log_msg(LOG_WARN, "log.format, timeline, http.root, boot_api and user change only when "
					  "stampede restarts; the running ones stay");
	}
	pthread_rwlock_wrlock(&s->scripts.lock);
	old = s->config;
	s->config = fresh;
	s->scripts.config = fresh;
	pthread_rwlock_unlock(&s->scripts.lock);
	{
		char *fresh_msg = config_message(s, s->argc, s->argv, strstr(s->config_msg, "\nno-huge\n") != NULL);
		char *images = images_message(fresh), *restart_msg, why[256];

		if (fresh_msg && !config_message_within_pins(s->config_msg, fresh_msg, why, sizeof(why)))
			log_msg(LOG_WARN, "the TFTP port range and the dataplane section change only when stampede "
					  "restarts (%s); the running ones stay", why);
		/* What a restart will use, in the canonical order of s->config_msg:
		 * the launcher starts no dataplane with other pinned settings than
		 * the first one's (launcher.h). */
		restart_msg = fresh_msg ? config_message_repin(s->config_msg, fresh_msg) : NULL;
		if (restart_msg && restart_settings_differ(restart_msg, s->config_msg))
			log_msg(LOG_WARN, "TFTP root, cache and session limits take effect when the dataplane restarts");
		if (restart_msg)
			supervisor_set_config(s->dataplane, restart_msg);
		free(restart_msg);
		free(fresh_msg);
		if (images) /* before the reload that reads them */
			supervisor_send(s->dataplane, images);
		free(images);
	}
	policy = policy_message(s);
	if (policy) {
		supervisor_set_policy(s->dataplane, policy);
		free(policy);
	}
	supervisor_send(s->dataplane, "reload\n");
	config_free(old);
	{
		enum log_level l;

		if (log_level_parse(fresh->log.level, &l) == 0 && !arg_value(s->argc, s->argv, "--log-level"))
			log_set_level(l);
	}
	log_msg(LOG_INFO, "configuration reloaded from %s: %zu profiles, %zu machine selectors",
		fresh->source, fresh->n_profiles, fresh->n_machines);
}

/* Signals arrive through a signalfd; blocked before any thread starts (the
 * HTTP server's threads inherit the mask, so none of them takes a SIGTERM). */
static void block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, mask, NULL);
}

/* Once a second: the byte counters for the throughput graph. */
static void sample_throughput(struct server *s)
{
	struct dataplane_stats st = { 0 };
	struct http_server_stats hs = { 0 };
	uint64_t tftp = 0;
	char err[128];

	/* A dataplane that is restarting shows no TFTP bytes; HTTP goes on. */
	tftp = s->throughput.last_tftp;
	if (supervisor_ready(s->dataplane) &&
	    dataplane_stats_read_timeout(s->stats_socket, 200, &st, err, sizeof(err)) == 0) {
		dataplane_stats_get(&st, "tftp_data_bytes", &tftp);
		dataplane_stats_free(&st);
	}
	http_server_get_stats(s->http, &hs);
	throughput_add(&s->throughput, machines_clock(), tftp, hs.bytes_sent);
}

static int serve_loop(struct server *s, sigset_t *mask)
{
	int sfd, code = -1;
	double next_sample = 0;

	sfd = signalfd(-1, mask, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("stampede: signalfd");
		return 1;
	}
	while (code < 0) {
		struct pollfd fds[4] = { { .fd = sfd, .events = POLLIN },
					 { .fd = supervisor_fd(s->dataplane), .events = POLLIN },
					 { .fd = supervisor_exit_fd(s->dataplane), .events = POLLIN },
					 { .fd = launcher_fd(s->launcher), .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(fds, 4, 250) < 0 && errno != EINTR) /* negative descriptors are skipped */
			break;
		if (fds[3].revents && launcher_gone(s->launcher)) {
			/* It never speaks unasked: it is gone, and with it the means
			 * of (re)starting a dataplane. Leave the running one serving,
			 * as a crash of serve would: the next serve re-attaches. */
			log_msg(LOG_ERROR, "the launcher (pid %d) is gone: stampede cannot restart the dataplane any "
					   "more and stops; the dataplane keeps serving until a new serve re-attaches",
				(int)launcher_pid(s->launcher));
			code = 1;
			break;
		}
		if (machines_clock() >= next_sample) {
			sample_throughput(s);
			next_sample = machines_clock() + 1.0;
		}
		if (fds[1].fd >= 0 && fds[1].revents)
			supervisor_read(s->dataplane);
		if (s->fatal) {
			supervisor_stop(s->dataplane);
			code = 1;
			break;
		}
		if (fds[2].fd >= 0 && fds[2].revents) {
			int r = supervisor_reap(s->dataplane);

			if (r)
				code = r;
		}
		if (!(fds[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(s);
			break;
		case SIGCHLD: {
			int r = supervisor_reap(s->dataplane);

			if (r)
				code = r;
			break;
		}
		default:
			log_msg(LOG_INFO, "%s: stopping", strsignal((int)si.ssi_signo));
			code = supervisor_stop(s->dataplane);
			break;
		}
	}
	close(sfd);
	return code < 0 ? 1 : code;
}

static int serve(int argc, char **argv)
{
	static struct server s;
	char dataplane[PATH_MAX], *config_msg, *policy, msg[512];
	struct service_user user;
	sigset_t mask;
	char **args;
	int r;

	s.iface = arg_value(argc, argv, "--iface");
	s.config_path = arg_value(argc, argv, "--config");
	s.overrides = (struct overrides){ arg_value(argc, argv, "--tftp-root"), arg_value(argc, argv, "--http-root"),
					  arg_value(argc, argv, "--http-port"), arg_value(argc, argv, "--addr"),
					  arg_value(argc, argv, "--user"), false };
	if (argc + 3 >= MAX_ARGS) {
		fprintf(stderr, "stampede serve: too many arguments\n");
		return 2;
	}
	if (!(s.config = load_config(s.config_path, &s.overrides)))
		return 1;
	{
		/* The command line wins over log: in the file. */
		const char *format = arg_value(argc, argv, "--log-format"), *level = arg_value(argc, argv, "--log-level");
		enum log_format f;
		enum log_level l;

		if (log_format_parse(format ? format : s.config->log.format, &f) < 0 ||
		    log_level_parse(level ? level : s.config->log.level, &l) < 0) {
			fprintf(stderr, "stampede serve: --log-format is text or json, --log-level error, warn, info or "
					"debug\n");
			return 2;
		}
		log_init(f, l);
	}
	if (!s.iface)
		s.iface = s.config->interface;
	if (!s.iface) {
		fprintf(stderr, "stampede serve: --iface IF is required (the interface facing the machines to boot)\n");
		return 2;
	}
	if (self_sibling_path("stampede-dataplane", dataplane, sizeof(dataplane)) < 0 || access(dataplane, X_OK) < 0) {
		fprintf(stderr, "stampede serve: cannot find stampede-dataplane beside this binary\n");
		return 1;
	}
	if (if_nametoindex(s.iface) == 0) {
		fprintf(stderr, "stampede: no such interface: %s (see ip link)\n", s.iface);
		return 1;
	}
	if (resolve_address(&s) < 0)
		return 1;
	pthread_rwlock_init(&s.scripts.lock, NULL);
	throughput_init(&s.throughput);
	duration_histogram_init(&s.tftp_durations);
	s.machines = machines_create(s.config->timeline.machines, s.config->timeline.events);
	if (!s.machines) {
		fprintf(stderr, "stampede: cannot allocate the machine table (timeline.machines %u, events %u)\n",
			s.config->timeline.machines, s.config->timeline.events);
		return 1;
	}
	{
		const char *sock = arg_value(argc, argv, "--stats-socket");

		if (sock)
			snprintf(s.stats_socket, sizeof(s.stats_socket), "%s", sock);
		else
			snprintf(s.stats_socket, sizeof(s.stats_socket), "/run/stampede/%s.sock", s.iface);
	}
	args = dataplane_args(argc, argv);
	s.argc = argc;
	s.argv = argv;
	{
		/* In its canonical order (config_message.h), which a reload keeps:
		 * the settings tag a re-attaching serve computes is the same. */
		char *first = config_message(&s, argc, argv, -1);

		config_msg = s.config_msg = first ? config_message_repin(first, first) : NULL;
		free(first);
	}
	if (!args || !config_msg)
		return 1;
	if (service_user_lookup(s.config->user.name, &user, msg, sizeof(msg)) < 0 ||
	    service_user_prepare(&user, s.iface, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "stampede: %s\n", msg);
		return 1;
	}
	{
		/* While serve is one thread: the process that keeps what starting
		 * a dataplane takes, so that serve can give up everything. */
		const struct launcher_config lc = { .dataplane = dataplane, .args = args, .iface = s.iface,
						    .config_message = config_msg, .user = &user };

		if (launcher_spawn(&lc, &s.launcher, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "stampede: %s\n", msg);
			return 1;
		}
		log_msg(LOG_INFO, "privileges: %s", msg);
	}
	if (s.config->boot_api.url) {
		struct boot_api_config bc = BOOT_API_CONFIG_DEFAULTS;
		char err[256];

		bc.url = s.config->boot_api.url;
		bc.token = s.config->boot_api.token;
		bc.timeout_ms = s.config->boot_api.timeout_ms;
		bc.cache_ttl_s = s.config->boot_api.cache_ttl_s;
		bc.max_cache_entries = s.config->boot_api.max_cache_entries;
		if (boot_api_new(&bc, &s.boot_api, err, sizeof(err)) < 0) {
			fprintf(stderr, "stampede: boot_api: %s\n", err);
			return 1;
		}
	}
	block_signals(&mask);
	if (start_http(&s) < 0)
		return 1;
	log_msg(LOG_INFO, "configuration %s: %zu profiles, default %s; HTTP %s (files from %s)",
		s.config->source, s.config->n_profiles, s.config->default_profile, s.base_url,
		s.config->http.root ? s.config->http.root : "nowhere");
	policy = policy_message(&s);
	if (!policy)
		return 1;
	/* The port is bound: from here on serve holds no privilege, as the
	 * configured user (service_user.h); the launcher holds the rest. */
	if (service_user_drop(&user, s.stats_socket, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "stampede: %s\n", msg);
		return 1;
	}
	log_msg(LOG_INFO, "%s", msg);
	if (getuid() == 0)
		log_msg(LOG_WARN, "serve and its launcher run as uid 0 (no user: in the configuration): without "
				  "capabilities, but owners of root's files, which a bug exploited in serve could "
				  "rewrite; set user: (README, Privileges)");
	if (s.config_path && access(s.config_path, R_OK) < 0)
		log_msg(LOG_WARN, "%s is not readable by uid %u (%s): reloads will fail until it is", s.config_path,
			(unsigned)getuid(), strerror(errno));
	{
		const struct supervisor_config sc = { .args = args, .iface = s.iface, .launcher = s.launcher,
						      .socket_path = s.stats_socket, .config_message = config_msg,
						      .on_line = on_dataplane_line, .ctx = &s };

		if (supervisor_create(&sc, &s.dataplane) < 0 || supervisor_start(s.dataplane, policy) < 0) {
			fprintf(stderr, "stampede: cannot start the dataplane\n");
			return 1;
		}
	}
	free(policy);
	r = serve_loop(&s, &mask);
	http_server_stop(s.http);
	supervisor_destroy(s.dataplane);
	launcher_stop(s.launcher);
	config_free(s.config);
	machines_free(s.machines);
	boot_api_free(s.boot_api);
	free(config_msg);
	free(args);
	return r;
}

/* ---- talking to a running dataplane ---- */

static int control_request(int argc, char **argv, const char *command)
{
	const char *iface = arg_value(argc, argv, "--iface");
	const char *path = arg_value(argc, argv, "--socket");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[4096];
	bool ok = true;
	ssize_t got;
	int fd;

	if (!path && !iface) {
		fprintf(stderr, "stampede %s: give --iface IF or --socket PATH\n", command);
		return 2;
	}
	if (path)
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	else
		snprintf(addr.sun_path, sizeof(addr.sun_path), "/run/stampede/%s.sock", iface);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "stampede %s: cannot reach the dataplane at %s: %s (is it running?)\n", command,
			addr.sun_path, strerror(errno));
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s\n", command);
	if (write(fd, buf, strlen(buf)) < 0) {
		perror("stampede: write");
		close(fd);
		return 1;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		if (strncmp(buf, "error:", 6) == 0)
			ok = false;
		fwrite(buf, 1, (size_t)got, stdout);
	}
	close(fd);
	return ok ? 0 : 1;
}

static int demo(int argc, char **argv)
{
	char script[PATH_MAX];
	char *args[MAX_ARGS];
	int n = 0;

	if (self_sibling_path("../tests/e2e/demo.sh", script, sizeof(script)) < 0 || access(script, R_OK) < 0) {
		fprintf(stderr, "stampede demo: cannot find tests/e2e/demo.sh beside the build directory\n");
		return 1;
	}
	args[n++] = "bash";
	args[n++] = script;
	for (int i = 0; i < argc && n < MAX_ARGS - 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp("bash", args);
	perror("stampede demo: bash");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return check(argc - 2, argv + 2);
	if (strcmp(argv[1], "stats") == 0)
		return control_request(argc - 2, argv + 2, "stats");
	if (strcmp(argv[1], "reload") == 0)
		return control_request(argc - 2, argv + 2, "reload");
	if (strcmp(argv[1], "demo") == 0)
		return demo(argc - 2, argv + 2);
	fprintf(stderr, "stampede: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
