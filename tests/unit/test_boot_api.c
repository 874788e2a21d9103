/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The external boot API client (control/boot_api.c) against a small service
 * of the test's own: libmicrohttpd on 127.0.0.1 (port chosen by the kernel),
 * a thread per connection, answering what the test programs (a fixed reply,
 * or one derived from the MAC) after an optional delay, and recording what it
 * was asked. Each kind of answer, 404, 500, bad JSON, an oversize body, a
 * service slower than the timeout, a closed port, the hold-off, the cache
 * (hits, expiry, the key, eviction), redirects, the bearer token, lookups
 * from several threads; then the pure parts over tables: answers that must be
 * refused, configurations that must be refused.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "boot_api.h"
#include "ipxe_script.h"

#define MAC "52:54:00:ab:cd:ef"
#define UUID "4c4c4544-0042-3510-8051-b4c04f4e3232"

/* ---- the service -------------------------------------------------------------- */

struct reply {
	unsigned status;
	const char *body;     /* NULL: "" */
	size_t len;           /* 0: strlen(body) */
	unsigned delay_ms;
	const char *location; /* a Location header, or NULL */
};

/* Derives a reply from the request's path (NULL: the fixed one). */
typedef struct reply (*responder_fn)(const char *path, char *buf, size_t buf_len);

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	struct reply fixed;
	responder_fn responder;
	unsigned requests;
	char path[256], uuid[256], arch[256], auth[256];
	bool has_uuid, has_arch, has_auth;
} svc = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static struct MHD_Daemon *daemon_;
static uint16_t port;
static char base_url[64];
static struct boot_api *api;

static void copy_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key, char *out, size_t len,
		       bool *present)
{
	const char *v = MHD_lookup_connection_value(c, kind, key);

	*present = v != NULL;
	snprintf(out, len, "%s", v ? v : "");
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			     const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	char buf[512];
	struct reply r;
	struct MHD_Response *resp;
	struct timespec until;
	enum MHD_Result ret;

	(void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)req_cls;
	pthread_mutex_lock(&svc.lock);
	svc.requests++;
	snprintf(svc.path, sizeof(svc.path), "%s", url);
	copy_value(c, MHD_GET_ARGUMENT_KIND, "uuid", svc.uuid, sizeof(svc.uuid), &svc.has_uuid);
	copy_value(c, MHD_GET_ARGUMENT_KIND, "arch", svc.arch, sizeof(svc.arch), &svc.has_arch);
	copy_value(c, MHD_HEADER_KIND, "Authorization", svc.auth, sizeof(svc.auth), &svc.has_auth);
	r = svc.responder ? svc.responder(url, buf, sizeof(buf)) : svc.fixed;
	/* A slow service; the test's teardown cuts the wait short. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += r.delay_ms / 1000;
	until.tv_nsec += (long)(r.delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (r.delay_ms && !svc.stopping && pthread_cond_timedwait(&svc.wake, &svc.lock, &until) == 0)
		;
	pthread_mutex_unlock(&svc.lock);

	resp = MHD_create_response_from_buffer(r.len ? r.len : r.body ? strlen(r.body) : 0, (void *)(r.body ? r.body : ""),
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r.location)
		MHD_add_response_header(resp, "Location", r.location);
	ret = MHD_queue_response(c, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void reply_with(unsigned status, const char *body)
{
	pthread_mutex_lock(&svc.lock);
	svc.fixed = (struct reply){ .status = status, .body = body };
	svc.responder = NULL;
	pthread_mutex_unlock(&svc.lock);
}

static unsigned requests_seen(void)
{
	unsigned n;

	pthread_mutex_lock(&svc.lock);
	n = svc.requests;
	pthread_mutex_unlock(&svc.lock);
	return n;
}

/* {"profile": "m-52-54-00-00-00-07"} for MAC 52:54:00:00:00:07. */
static struct reply per_mac(const char *path, char *buf, size_t len)
{
	const char *mac = strrchr(path, '/') + 1;
	char name[32];
	size_t i;

	for (i = 0; mac[i] && i + 1 < sizeof(name); i++)
		name[i] = mac[i] == ':' ? '-' : mac[i];
	name[i] = '\0';
	snprintf(buf, len, "{\"profile\": \"m-%s\"}", name);
	return (struct reply){ .status = 200, .body = buf };
}

static void setup(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const union MHD_DaemonInfo *info;

	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
				   serve, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	cr_assert(daemon_ != NULL, "the test's service did not start");
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	cr_assert(info != NULL);
	port = info->port;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u/", port); /* the '/' is dropped */
	reply_with(200, "{\"profile\": \"installer\"}");
}

static void teardown(void)
{
	boot_api_free(api);
	api = NULL;
	pthread_mutex_lock(&svc.lock);
	svc.stopping = true;
	pthread_cond_broadcast(&svc.wake);
	pthread_mutex_unlock(&svc.lock);
	if (daemon_)
		MHD_stop_daemon(daemon_);
}

TestSuite(boot_api, .init = setup, .fini = teardown, .timeout = 60);

static struct boot_api *start(unsigned timeout_ms, unsigned ttl_s, unsigned max_entries, unsigned holdoff_ms)
{
	struct boot_api_config cfg = BOOT_API_CONFIG_DEFAULTS;
	char err[256];

	cfg.url = base_url;
	cfg.timeout_ms = timeout_ms;
	cfg.cache_ttl_s = ttl_s;
	cfg.max_cache_entries = max_entries;
	cfg.error_holdoff_ms = holdoff_ms;
	cr_assert(eq(int, boot_api_new(&cfg, &api, err, sizeof(err)), 0), "%s", err);
	return api;
}

static double elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) * 1e3 + (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

/* ---- each kind of answer -------------------------------------------------------- */

Test(boot_api, profile_answer_and_the_request_it_came_from)
{
	struct boot_api_result r;

	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, "52-54-00-AB-CD-EF", UUID, "efi x64&y=1", &r), BOOT_API_PROFILE_NAME),
		  "%s", r.reason);
	cr_assert(eq(str, r.profile_name, "installer"));
	cr_assert(not(r.cached));
	cr_assert(eq(u32, r.http_status, 200));
	cr_assert(eq(str, r.reason, ""));
	/* MAC normalised into the path; uuid and arch percent-encoded in the query
	 * (libmicrohttpd decodes them: the value round-trips, '&' and '=' included). */
	cr_assert(eq(str, svc.path, "/v1/boot/" MAC));
	cr_assert(eq(str, svc.uuid, UUID));
	cr_assert(eq(str, svc.arch, "efi x64&y=1"));
	cr_assert(not(svc.has_auth), "no token, no Authorization");
	boot_api_result_free(&r);
	cr_assert(eq(ptr, r.profile_name, NULL));
	boot_api_result_free(&r); /* twice is allowed */
}

Test(boot_api, empty_uuid_and_arch_are_left_out_of_the_query)
{
	struct boot_api_result r;

	start(2000, 60, 16, 0);
	boot_api_lookup(api, MAC, NULL, "", &r);
	cr_assert(eq(int, r.kind, BOOT_API_PROFILE_NAME), "%s", r.reason);
	cr_assert(not(svc.has_uuid));
	cr_assert(not(svc.has_arch));
	boot_api_result_free(&r);
}

Test(boot_api, linux_answer_with_initrd_list)
{
	struct boot_api_result r;

	reply_with(200, "{\"kernel\": \"http://img.example/vmlinuz\", \"initrd\": [\"debian/initrd.gz\", "
			"\"http://img.example/firmware.cpio\"], \"cmdline\": \"console=ttyS0 auto=true\"}");
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, UUID, "efi-x64", &r), BOOT_API_LINUX), "%s", r.reason);
	cr_assert(eq(str, r.kernel, "http://img.example/vmlinuz"));
	cr_assert(eq(sz, r.n_initrds, 2));
	cr_assert(eq(str, r.initrds[0], "debian/initrd.gz"));
	cr_assert(eq(str, r.initrds[1], "http://img.example/firmware.cpio"));
	cr_assert(eq(str, r.cmdline, "console=ttyS0 auto=true"));
	/* The profile view, ready for ipxe_script_render(). */
	cr_assert(eq(int, r.profile.kind, PROFILE_LINUX));
	cr_assert(eq(str, (char *)r.profile.name, BOOT_API_ADHOC_PROFILE));
	cr_assert(eq(ptr, (void *)r.profile.kernel, r.kernel));
	cr_assert(eq(sz, r.profile.n_initrds, 2));
	cr_assert(eq(ptr, (void *)r.profile.initrds[1], r.initrds[1]));
	cr_assert(eq(str, (char *)r.profile.cmdline, "console=ttyS0 auto=true"));
	boot_api_result_free(&r);
}

Test(boot_api, linux_answer_with_one_initrd_string_and_no_cmdline)
{
	struct boot_api_result r;

	reply_with(200, "{\"kernel\": \"/k/vmlinuz\", \"initrd\": \"k/initrd.img\"}");
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_LINUX), "%s", r.reason);
	cr_assert(eq(sz, r.n_initrds, 1));
	cr_assert(eq(str, r.initrds[0], "k/initrd.img"));
	cr_assert(eq(ptr, r.cmdline, NULL));
	cr_assert(eq(ptr, (void *)r.profile.cmdline, NULL));
	boot_api_result_free(&r);
}

Test(boot_api, script_answer_reaches_ipxe_literally)
{
	static const char script[] = "#!ipxe\\necho ${net0/mac} costs $5\\nchain http://x/${mac}.ipxe\\n";
	const struct boot_vars vars = { .mac = MAC, .server = "http://10.0.0.1:8080", .profile = "boot-api" };
	struct boot_api_result r;
	char body[256], err[256], *text = NULL;

	snprintf(body, sizeof(body), "{\"script\": \"%s\"}", script);
	reply_with(200, body);
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_SCRIPT), "%s", r.reason);
	cr_assert(eq(str, r.script, "#!ipxe\necho ${net0/mac} costs $5\nchain http://x/${mac}.ipxe\n"));
	cr_assert(eq(str, (char *)r.profile.script, "#!ipxe\necho $${net0/mac} costs $$5\nchain http://x/$${mac}.ipxe\n"));
	/* Rendered, the service's text comes out as it sent it: ${mac} is not Stampede's. */
	cr_assert(eq(int, ipxe_script_render(&r.profile, &vars, NULL, &text, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(str, text, r.script));
	free(text);
	boot_api_result_free(&r);
}

Test(boot_api, linux_cmdline_dollars_reach_the_kernel_literally)
{
	const struct boot_vars vars = { .mac = MAC, .server = "http://10.0.0.1:8080", .profile = "boot-api" };
	struct boot_api_result r;
	char err[256], *text = NULL;

	reply_with(200, "{\"kernel\": \"vmlinuz\", \"cmdline\": \"a=$x b=${mac}\"}");
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_LINUX), "%s", r.reason);
	cr_assert(eq(int, ipxe_script_render(&r.profile, &vars, NULL, &text, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(str, text, "#!ipxe\nkernel http://10.0.0.1:8080/vmlinuz a=$x b=${mac}\nboot\n"), "%s", text);
	free(text);
	boot_api_result_free(&r);
}

Test(boot_api, action_answers)
{
	static const struct {
		const char *body;
		enum boot_api_action action;
	} cases[] = {
		{ "{\"action\": \"local\"}", BOOT_API_ACTION_LOCAL },
		{ "{\"action\": \"shell\"}", BOOT_API_ACTION_SHELL },
		{ "{\"action\": \"menu\"}", BOOT_API_ACTION_MENU },
		{ "{\"action\": \"none\"}", BOOT_API_ACTION_NONE },
	};

	start(2000, 0, 0, 0); /* no cache: each case asks */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct boot_api_result r;

		reply_with(200, cases[i].body);
		cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_ACTION), "%s: %s",
			  cases[i].body, r.reason);
		cr_assert(eq(int, r.action, cases[i].action), "%s", cases[i].body);
		cr_assert(eq(str, (char *)boot_api_action_name(r.action), (char *)boot_api_action_name(cases[i].action)));
		boot_api_result_free(&r);
	}
	cr_assert(eq(u32, requests_seen(), 4));
}

Test(boot_api, unknown_keys_are_ignored)
{
	struct boot_api_result r;

	reply_with(200, "{\"profile\": \"rescue\", \"hostname\": \"node1\", \"note\": {\"by\": [1, 2]}}");
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
	cr_assert(eq(str, r.profile_name, "rescue"));
	boot_api_result_free(&r);
}

/* ---- statuses and failures ----------------------------------------------------- */

Test(boot_api, status_404_is_not_found_and_cached)
{
	struct boot_api_result r;

	reply_with(404, "<html>a large error page is not read</html>");
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_NOT_FOUND), "%s", r.reason);
	cr_assert(not(r.cached));
	cr_assert(ne(sz, strlen(r.reason), 0), "NOT_FOUND says so");
	boot_api_result_free(&r);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_NOT_FOUND));
	cr_assert(r.cached);
	cr_assert(eq(u32, requests_seen(), 1));
	boot_api_result_free(&r);
}

Test(boot_api, status_500_falls_back_and_is_not_cached)
{
	struct boot_api_result r;
	struct boot_api_stats st;

	reply_with(500, "oops");
	start(2000, 60, 16, 0); /* no hold-off: the next lookup asks */
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_STATUS));
	cr_assert(eq(u32, r.http_status, 500));
	cr_assert(ne(ptr, strstr(r.reason, "500"), NULL), "%s", r.reason);
	boot_api_result_free(&r);
	/* The service recovers: used at once. */
	reply_with(200, "{\"profile\": \"installer\"}");
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
	cr_assert(not(r.cached));
	cr_assert(eq(u32, requests_seen(), 2));
	boot_api_result_free(&r);
	boot_api_get_stats(api, &st);
	cr_assert(eq(u64, st.errors[BOOT_API_ERR_STATUS], 1));
	cr_assert(eq(u64, st.answers[BOOT_API_FALLBACK], 1));
	cr_assert(eq(u64, st.answers[BOOT_API_PROFILE_NAME], 1));
}

Test(boot_api, other_statuses_fall_back)
{
	static const unsigned statuses[] = { 201, 204, 400, 401, 403, 410, 503 };

	start(2000, 60, 16, 0);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct boot_api_result r;

		reply_with(statuses[i], "{\"profile\": \"installer\"}");
		cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK), "%u", statuses[i]);
		cr_assert(eq(int, r.error, BOOT_API_ERR_STATUS), "%u", statuses[i]);
		cr_assert(eq(u32, r.http_status, statuses[i]));
		boot_api_result_free(&r);
	}
}

Test(boot_api, invalid_json_falls_back)
{
	static const char *const bodies[] = { "", "{\"profile\": ", "not json", "[\"profile\", \"x\"]", "\"installer\"",
					      "{\"profile\": \"a\"} trailing" };

	start(2000, 60, 16, 0);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct boot_api_result r;

		reply_with(200, bodies[i]);
		cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK), "%s", bodies[i]);
		cr_assert(eq(int, r.error, BOOT_API_ERR_JSON), "%s: %s", bodies[i], r.reason);
		boot_api_result_free(&r);
	}
	cr_assert(eq(u32, requests_seen(), 6), "errors are not cached");
}

Test(boot_api, oversize_body_is_cut_off)
{
	size_t len = BOOT_API_MAX_BODY + 1;
	char *body = malloc(len + 1);
	struct boot_api_result r;

	cr_assert(body != NULL);
	/* Valid JSON had it been read: the size alone refuses it. */
	memset(body, ' ', len);
	memcpy(body, "{\"profile\": \"installer\"}", 24);
	body[len] = '\0';
	reply_with(200, body);
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_TOO_LARGE), "%s", r.reason);
	boot_api_result_free(&r);

	/* Exactly the limit is read. */
	body[len - 1] = '\0';
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
	boot_api_result_free(&r);
	free(body);
}

Test(boot_api, slow_service_times_out_within_the_limit)
{
	struct boot_api_result r;
	struct timespec t0;
	double ms;

	pthread_mutex_lock(&svc.lock);
	svc.fixed.delay_ms = 10000;
	pthread_mutex_unlock(&svc.lock);
	start(300, 60, 16, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	ms = elapsed_ms(&t0);
	cr_assert(eq(int, r.error, BOOT_API_ERR_TIMEOUT), "%s", r.reason);
	cr_assert(ge(dbl, ms, 280.0), "%.0f ms", ms);
	cr_assert(le(dbl, ms, 300.0 + 500.0), "%.0f ms: timeout_ms not honoured", ms);
	boot_api_result_free(&r);
}

Test(boot_api, holdoff_after_a_timeout_spares_the_service)
{
	struct boot_api_result r;
	struct timespec t0;
	double ms;

	pthread_mutex_lock(&svc.lock);
	svc.fixed.delay_ms = 10000;
	pthread_mutex_unlock(&svc.lock);
	start(200, 60, 16, 1000);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_TIMEOUT), "%s", r.reason);
	boot_api_result_free(&r);

	/* Another machine, at once: not asked, no wait. */
	reply_with(200, "{\"profile\": \"installer\"}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(eq(int, boot_api_lookup(api, "52:54:00:00:00:02", NULL, NULL, &r), BOOT_API_FALLBACK));
	ms = elapsed_ms(&t0);
	cr_assert(eq(int, r.error, BOOT_API_ERR_HOLDOFF), "%s", r.reason);
	cr_assert(lt(dbl, ms, 50.0), "%.0f ms", ms);
	cr_assert(eq(u32, requests_seen(), 1));
	boot_api_result_free(&r);

	/* After the hold-off, asked again. */
	usleep(1100 * 1000);
	cr_assert(eq(int, boot_api_lookup(api, "52:54:00:00:00:02", NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s",
		  r.reason);
	cr_assert(eq(u32, requests_seen(), 2));
	boot_api_result_free(&r);
}

Test(boot_api, invalid_answer_does_not_start_a_holdoff)
{
	struct boot_api_result r;

	reply_with(200, "not json");
	start(2000, 60, 16, 5000);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	boot_api_result_free(&r);
	reply_with(200, "{\"profile\": \"installer\"}");
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
	boot_api_result_free(&r);
}

Test(boot_api, closed_port_is_a_connection_error)
{
	struct boot_api_config cfg = BOOT_API_CONFIG_DEFAULTS;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct boot_api_result r;
	char url[64], err[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was free a moment ago and has no listener. */
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &sl), 0));
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	cfg.url = url;
	cr_assert(eq(int, boot_api_new(&cfg, &api, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_CONNECT), "%s", r.reason);
	cr_assert(eq(u32, r.http_status, 0));
	boot_api_result_free(&r);
	/* The default hold-off: the next machine is not asked. */
	cr_assert(eq(int, boot_api_lookup(api, "52:54:00:00:00:02", NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_HOLDOFF), "%s", r.reason);
	boot_api_result_free(&r);
}

Test(boot_api, invalid_mac_is_not_asked)
{
	static const char *const macs[] = { NULL, "", "52:54:00:ab:cd", "52:54:00:ab:cd:eg", "52:54:00:ab:cd:ef:00",
					    "52/54/00/ab/cd/ef", "../../../etc" };

	start(2000, 60, 16, 0);
	for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		struct boot_api_result r;

		cr_assert(eq(int, boot_api_lookup(api, macs[i], NULL, NULL, &r), BOOT_API_FALLBACK));
		cr_assert(eq(int, r.error, BOOT_API_ERR_REQUEST));
		boot_api_result_free(&r);
	}
	cr_assert(eq(u32, requests_seen(), 0));
}

Test(boot_api, hostile_cmdline_is_refused_and_not_cached)
{
	struct boot_api_result r;

	reply_with(200, "{\"kernel\": \"vmlinuz\", \"cmdline\": \"quiet\\nshell\"}");
	start(2000, 60, 16, 0);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_INVALID));
	cr_assert(ne(ptr, strstr(r.reason, "cmdline"), NULL), "%s", r.reason);
	cr_assert(eq(ptr, r.kernel, NULL), "nothing of a refused answer is kept");
	boot_api_result_free(&r);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(not(r.cached));
	cr_assert(eq(u32, requests_seen(), 2));
	boot_api_result_free(&r);
}

/* ---- redirects and the token ----------------------------------------------------- */

static struct reply redirect_once(const char *path, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (!strncmp(path, "/v1/boot/", 9))
		return (struct reply){ .status = 302, .location = "/moved/here" };
	return (struct reply){ .status = 200, .body = "{\"profile\": \"moved\"}" };
}

static struct reply redirect_forever(const char *path, char *buf, size_t len)
{
	(void)path, (void)buf, (void)len;
	return (struct reply){ .status = 302, .location = "/again" };
}

static struct reply redirect_to_ftp(const char *path, char *buf, size_t len)
{
	(void)path, (void)buf, (void)len;
	return (struct reply){ .status = 302, .location = "ftp://127.0.0.1/x" };
}

Test(boot_api, redirects_are_followed_up_to_three)
{
	struct boot_api_result r;

	start(2000, 0, 0, 0);
	svc.responder = redirect_once;
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
	cr_assert(eq(str, r.profile_name, "moved"));
	boot_api_result_free(&r);
	cr_assert(eq(u32, requests_seen(), 2));

	pthread_mutex_lock(&svc.lock);
	svc.responder = redirect_forever;
	svc.requests = 0;
	pthread_mutex_unlock(&svc.lock);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_OTHER), "%s", r.reason);
	cr_assert(eq(u32, requests_seen(), 1 + BOOT_API_MAX_REDIRECTS));
	boot_api_result_free(&r);

	pthread_mutex_lock(&svc.lock);
	svc.responder = redirect_to_ftp;
	pthread_mutex_unlock(&svc.lock);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_FALLBACK));
	cr_assert(eq(int, r.error, BOOT_API_ERR_OTHER), "%s", r.reason);
	boot_api_result_free(&r);
}

Test(boot_api, bearer_token_is_sent)
{
	struct boot_api_config cfg = BOOT_API_CONFIG_DEFAULTS;
	struct boot_api_result r;
	char err[256];

	cfg.url = base_url;
	cfg.token = "s3cr3t-T0ken_.~+/==";
	cr_assert(eq(int, boot_api_new(&cfg, &api, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
	cr_assert(svc.has_auth);
	cr_assert(eq(str, svc.auth, "Bearer s3cr3t-T0ken_.~+/=="));
	boot_api_result_free(&r);
}

/* ---- the cache ---------------------------------------------------------------------- */

Test(boot_api, cache_answers_within_the_ttl)
{
	struct boot_api_result r;
	struct boot_api_stats st;

	start(2000, 60, 16, 0);
	for (int i = 0; i < 5; i++) {
		cr_assert(eq(int, boot_api_lookup(api, MAC, UUID, "efi-x64", &r), BOOT_API_PROFILE_NAME), "%s",
			  r.reason);
		cr_assert(eq(str, r.profile_name, "installer"));
		cr_assert(eq(int, r.cached, i > 0));
		boot_api_result_free(&r);
	}
	cr_assert(eq(u32, requests_seen(), 1));
	boot_api_get_stats(api, &st);
	cr_assert(eq(u64, st.lookups, 5));
	cr_assert(eq(u64, st.cache_hits, 4));
	cr_assert(eq(u64, st.asked, 1));
	cr_assert(eq(u64, st.cache_entries, 1));

	boot_api_cache_flush(api);
	cr_assert(eq(int, boot_api_lookup(api, MAC, UUID, "efi-x64", &r), BOOT_API_PROFILE_NAME));
	cr_assert(not(r.cached));
	cr_assert(eq(u32, requests_seen(), 2));
	boot_api_result_free(&r);
}

Test(boot_api, cache_key_is_mac_uuid_and_arch)
{
	struct boot_api_result r;

	start(2000, 60, 16, 0);
	boot_api_lookup(api, MAC, UUID, "efi-x64", &r);
	boot_api_result_free(&r);
	boot_api_lookup(api, "52:54:00:AB:CD:EF", UUID, "efi-x64", &r); /* same machine, other spelling */
	cr_assert(r.cached);
	boot_api_result_free(&r);
	boot_api_lookup(api, MAC, NULL, "efi-x64", &r);
	cr_assert(not(r.cached));
	boot_api_result_free(&r);
	boot_api_lookup(api, MAC, UUID, "bios", &r);
	cr_assert(not(r.cached));
	boot_api_result_free(&r);
	/* uuid "a" + arch "" is not uuid "" + arch "a". */
	boot_api_lookup(api, MAC, "a", NULL, &r);
	boot_api_result_free(&r);
	boot_api_lookup(api, MAC, NULL, "a", &r);
	cr_assert(not(r.cached));
	boot_api_result_free(&r);
	cr_assert(eq(u32, requests_seen(), 5));
}

Test(boot_api, cache_entries_expire_after_the_ttl)
{
	struct boot_api_result r;

	start(2000, 1, 16, 0);
	boot_api_lookup(api, MAC, NULL, NULL, &r);
	boot_api_result_free(&r);
	boot_api_lookup(api, MAC, NULL, NULL, &r);
	cr_assert(r.cached);
	boot_api_result_free(&r);
	usleep(1100 * 1000);
	reply_with(200, "{\"profile\": \"changed\"}");
	cr_assert(eq(int, boot_api_lookup(api, MAC, NULL, NULL, &r), BOOT_API_PROFILE_NAME));
	cr_assert(not(r.cached));
	cr_assert(eq(str, r.profile_name, "changed"));
	cr_assert(eq(u32, requests_seen(), 2));
	boot_api_result_free(&r);
}

Test(boot_api, oldest_entry_is_evicted_at_max_entries)
{
	static const char *const macs[] = { "52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:03" };
	struct boot_api_result r;
	struct boot_api_stats st;

	start(2000, 60, 2, 0);
	svc.responder = per_mac;
	for (size_t i = 0; i < 3; i++) {
		cr_assert(eq(int, boot_api_lookup(api, macs[i], NULL, NULL, &r), BOOT_API_PROFILE_NAME), "%s", r.reason);
		boot_api_result_free(&r);
	}
	boot_api_get_stats(api, &st);
	cr_assert(eq(u64, st.cache_entries, 2));
	cr_assert(eq(u64, st.evictions, 1));
	/* 3 and 2 are kept, 1 went. */
	boot_api_lookup(api, macs[2], NULL, NULL, &r);
	cr_assert(r.cached);
	cr_assert(eq(str, r.profile_name, "m-52-54-00-00-00-03"));
	boot_api_result_free(&r);
	boot_api_lookup(api, macs[1], NULL, NULL, &r);
	cr_assert(r.cached);
	boot_api_result_free(&r);
	cr_assert(eq(u32, requests_seen(), 3));
	boot_api_lookup(api, macs[0], NULL, NULL, &r);
	cr_assert(not(r.cached));
	cr_assert(eq(str, r.profile_name, "m-52-54-00-00-00-01"));
	boot_api_result_free(&r);
	cr_assert(eq(u32, requests_seen(), 4));
}

Test(boot_api, no_cache_when_ttl_is_zero)
{
	struct boot_api_result r;

	start(2000, 0, 4096, 0);
	for (int i = 0; i < 3; i++) {
		boot_api_lookup(api, MAC, NULL, NULL, &r);
		cr_assert(not(r.cached));
		boot_api_result_free(&r);
	}
	cr_assert(eq(u32, requests_seen(), 3));
}

/* ---- threads ------------------------------------------------------------------------ */

#define THREADS 8
#define PER_THREAD 60
#define MACHINES 12

static void *lookups(void *arg)
{
	uintptr_t t = (uintptr_t)arg, bad = 0;

	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct boot_api_result r;
		char mac[18], want[32];
		unsigned m = (unsigned)(t * 7 + i) % MACHINES;

		snprintf(mac, sizeof(mac), "52:54:00:00:00:%02x", m);
		snprintf(want, sizeof(want), "m-52-54-00-00-00-%02x", m);
		if (boot_api_lookup(api, mac, NULL, "efi-x64", &r) != BOOT_API_PROFILE_NAME || strcmp(r.profile_name, want))
			bad++;
		boot_api_result_free(&r);
	}
	return (void *)bad;
}

Test(boot_api, lookups_from_several_threads_add_up)
{
	pthread_t th[THREADS];
	struct boot_api_stats st;
	uint64_t answers = 0;

	start(5000, 60, 4096, 0);
	svc.responder = per_mac;
	for (uintptr_t t = 0; t < THREADS; t++)
		cr_assert(eq(int, pthread_create(&th[t], NULL, lookups, (void *)t), 0));
	for (int t = 0; t < THREADS; t++) {
		void *bad;

		pthread_join(th[t], &bad);
		cr_assert(eq(u64, (uint64_t)(uintptr_t)bad, 0), "thread %d got wrong answers", t);
	}
	boot_api_get_stats(api, &st);
	cr_assert(eq(u64, st.lookups, THREADS * PER_THREAD));
	cr_assert(eq(u64, st.cache_hits + st.asked + st.not_asked, st.lookups));
	cr_assert(eq(u64, st.asked, requests_seen()));
	/* Each machine asked at least once, and at most once per thread that missed at the same time. */
	cr_assert(ge(u64, st.asked, MACHINES));
	cr_assert(le(u64, st.asked, MACHINES * THREADS));
	cr_assert(eq(u64, st.cache_entries, MACHINES));
	for (int k = 0; k < BOOT_API_KIND_COUNT; k++)
		answers += st.answers[k];
	cr_assert(eq(u64, answers, st.lookups));
	cr_assert(eq(u64, st.answers[BOOT_API_PROFILE_NAME], st.lookups));
}

Test(boot_api, lookups_from_several_threads_without_cache)
{
	pthread_t th[THREADS];
	struct boot_api_stats st;

	start(5000, 0, 0, 0);
	svc.responder = per_mac;
	for (uintptr_t t = 0; t < THREADS; t++)
		cr_assert(eq(int, pthread_create(&th[t], NULL, lookups, (void *)t), 0));
	for (int t = 0; t < THREADS; t++) {
		void *bad;

		pthread_join(th[t], &bad);
		cr_assert(eq(u64, (uint64_t)(uintptr_t)bad, 0));
	}
	boot_api_get_stats(api, &st);
	cr_assert(eq(u64, st.asked, THREADS * PER_THREAD));
	cr_assert(eq(u32, requests_seen(), THREADS * PER_THREAD));
	cr_assert(eq(u64, st.cache_hits, 0));
}

/* ---- answers that must be refused (pure) ----------------------------------------- */

Test(boot_api_parse, refused_answers)
{
	static char long_cmdline[BOOT_API_MAX_STRING + 64];
	static const struct {
		const char *body;
		enum boot_api_error error;
		const char *why; /* in the reason */
	} cases[] = {
		{ "{\"kernel\": \"vmlinuz\", \"cmdline\": \"quiet\\nshell\"}", BOOT_API_ERR_INVALID, "0x0a" },
		{ "{\"kernel\": \"vmlinuz\", \"cmdline\": \"quiet\\rshell\"}", BOOT_API_ERR_INVALID, "0x0d" },
		{ "{\"kernel\": \"vmlinuz\\tx\"}", BOOT_API_ERR_INVALID, "kernel" },
		{ "{\"kernel\": \"vmlinuz\", \"initrd\": [\"a\\u001b\"]}", BOOT_API_ERR_INVALID, "initrd[0]" },
		{ "{\"kernel\": \"vmlinuz\", \"cmdline\": \"a \\u007f\"}", BOOT_API_ERR_INVALID, "0x7f" },
		{ "{\"script\": \"#!ipxe\\r\\nshell\"}", BOOT_API_ERR_INVALID, "0x0d" },
		{ "{\"script\": \"#!ipxe\\n\\u0007\"}", BOOT_API_ERR_INVALID, "0x07" },
		{ "{\"profile\": \"a\\u0000b\"}", BOOT_API_ERR_JSON, "" }, /* jansson refuses NUL */
		{ "{\"profile\": \"two words\"}", BOOT_API_ERR_INVALID, "profile" },
		{ "{\"profile\": \"\"}", BOOT_API_ERR_INVALID, "empty" },
		{ "{\"profile\": 7}", BOOT_API_ERR_INVALID, "not a string" },
		{ "{\"kernel\": \"\"}", BOOT_API_ERR_INVALID, "empty" },
		{ "{\"kernel\": \"ftp://x/vmlinuz\"}", BOOT_API_ERR_INVALID, "ftp" },
		{ "{\"kernel\": \"file:///boot/vmlinuz\"}", BOOT_API_ERR_INVALID, "file" },
		{ "{\"kernel\": \"k\", \"initrd\": [\"tftp://x/i\"]}", BOOT_API_ERR_INVALID, "tftp" },
		{ "{\"kernel\": \"k\", \"initrd\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}",
		  BOOT_API_ERR_INVALID, "at most 8" },
		{ "{\"kernel\": \"k\", \"initrd\": [\"a/initrd\", \"b/initrd\"]}", BOOT_API_ERR_INVALID, "same file name" },
		{ "{\"kernel\": \"k\", \"initrd\": [\"a\", 1]}", BOOT_API_ERR_INVALID, "initrd[1]: not a string" },
		{ "{\"kernel\": \"k\", \"initrd\": {\"a\": 1}}", BOOT_API_ERR_INVALID, "initrd" },
		{ "{\"kernel\": \"k\", \"cmdline\": \"a # b\"}", BOOT_API_ERR_INVALID, "comment" },
		{ "{\"kernel\": \"k\", \"cmdline\": \"a && shell\"}", BOOT_API_ERR_INVALID, "separator" },
		{ "{\"kernel\": \"k\", \"cmdline\": [\"a\"]}", BOOT_API_ERR_INVALID, "cmdline" },
		{ "{\"action\": \"reboot\"}", BOOT_API_ERR_INVALID, "action" },
		{ "{\"action\": 1}", BOOT_API_ERR_INVALID, "action" },
		{ "{\"profile\": \"a\", \"action\": \"local\"}", BOOT_API_ERR_INVALID, "both" },
		{ "{\"kernel\": \"k\", \"script\": \"#!ipxe\"}", BOOT_API_ERR_INVALID, "both" },
		{ "{\"profile\": \"a\", \"cmdline\": \"x\"}", BOOT_API_ERR_INVALID, "belong with" },
		{ "{\"initrd\": \"i\"}", BOOT_API_ERR_INVALID, "none of" },
		{ "{\"profil\": \"installer\"}", BOOT_API_ERR_INVALID, "none of" },
		{ "{}", BOOT_API_ERR_INVALID, "none of" },
		{ "{\"profile\": null}", BOOT_API_ERR_INVALID, "none of" },
		{ "{\"profile\": \"a\", \"profile\": \"b\"}", BOOT_API_ERR_JSON, "duplicate" },
		{ "{\"profile\": \"a\"} {}", BOOT_API_ERR_JSON, "" },
		{ "{\"profile\": \"\\udc00\"}", BOOT_API_ERR_JSON, "" }, /* a lone surrogate */
		{ "null", BOOT_API_ERR_JSON, "expected" }, /* jansson: an object or array at the top */
		{ "[{\"profile\": \"a\"}]", BOOT_API_ERR_JSON, "not a JSON object" },
		{ long_cmdline, BOOT_API_ERR_INVALID, "at most 4096" },
	};
	int n;

	n = snprintf(long_cmdline, sizeof(long_cmdline), "{\"kernel\": \"k\", \"cmdline\": \"");
	memset(long_cmdline + n, 'a', BOOT_API_MAX_STRING + 1);
	strcpy(long_cmdline + n + BOOT_API_MAX_STRING + 1, "\"}");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct boot_api_result r;

		cr_assert(eq(int, boot_api_parse(cases[i].body, strlen(cases[i].body), &r), BOOT_API_FALLBACK), "%.80s",
			  cases[i].body);
		cr_assert(eq(int, r.error, cases[i].error), "%.80s: %s", cases[i].body, r.reason);
		cr_assert(ne(ptr, strstr(r.reason, cases[i].why), NULL), "%.80s: \"%s\" lacks \"%s\"", cases[i].body,
			  r.reason, cases[i].why);
		cr_assert(eq(ptr, r.kernel, NULL));
		cr_assert(eq(ptr, r.profile_name, NULL));
		boot_api_result_free(&r);
	}
}

Test(boot_api_parse, accepted_edge_answers)
{
	static char long_ok[BOOT_API_MAX_STRING + 64];
	static const char *const bodies[] = {
		"{\"kernel\": \"HTTPS://x/vmlinuz\", \"initrd\": null, \"cmdline\": \"\"}",
		"{\"kernel\": \"k\", \"initrd\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\"]}",
		"{\"kernel\": \"k\", \"initrd\": []}",
		"{\"script\": \"#!ipxe\\n\\tshell\\n\"}",
		"{\"profile\": \"a.b-c_d\", \"script\": null}",
		"{\"kernel\": \"k\", \"cmdline\": \"caf\\u00e9 x=\\\"y z\\\"\"}",
		long_ok,
	};
	int n = snprintf(long_ok, sizeof(long_ok), "{\"kernel\": \"k\", \"cmdline\": \"");

	memset(long_ok + n, 'a', BOOT_API_MAX_STRING);
	strcpy(long_ok + n + BOOT_API_MAX_STRING, "\"}");
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct boot_api_result r;

		cr_assert(ne(int, boot_api_parse(bodies[i], strlen(bodies[i]), &r), BOOT_API_FALLBACK), "%.80s: %s",
			  bodies[i], r.reason);
		boot_api_result_free(&r);
	}
}

/* ---- configurations ----------------------------------------------------------------- */

Test(boot_api_config, refused_configurations)
{
	static const struct {
		struct boot_api_config cfg;
		const char *key;
	} cases[] = {
		{ { .url = NULL, .timeout_ms = 2000 }, "url" },
		{ { .url = "", .timeout_ms = 2000 }, "url" },
		{ { .url = "ftp://x", .timeout_ms = 2000 }, "url" },
		{ { .url = "boot.example:8080", .timeout_ms = 2000 }, "url" },
		{ { .url = "http://x/a b", .timeout_ms = 2000 }, "url" },
		{ { .url = "http://x/?q=1", .timeout_ms = 2000 }, "url" },
		{ { .url = "http://x", .timeout_ms = 99 }, "timeout_ms" },
		{ { .url = "http://x", .timeout_ms = 30001 }, "timeout_ms" },
		{ { .url = "http://x", .timeout_ms = 2000, .cache_ttl_s = 86401 }, "cache_ttl_s" },
		{ { .url = "http://x", .timeout_ms = 2000, .max_cache_entries = (1u << 20) + 1 }, "max_cache_entries" },
		{ { .url = "http://x", .timeout_ms = 2000, .error_holdoff_ms = 60001 }, "error_holdoff_ms" },
		{ { .url = "http://x", .timeout_ms = 2000, .token = "" }, "token" },
		{ { .url = "http://x", .timeout_ms = 2000, .token = "a b" }, "token" },
		{ { .url = "http://x", .timeout_ms = 2000, .token = "abc\r\nX-Evil: 1" }, "token" },
		{ { .url = "http://x", .timeout_ms = 2000, .token = "a=b" }, "token" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct boot_api *a = NULL;
		char err[256] = "";

		cr_assert(eq(int, boot_api_config_check(&cases[i].cfg, err, sizeof(err)), -EINVAL), "case %zu", i);
		cr_assert(eq(int, strncmp(err, cases[i].key, strlen(cases[i].key)), 0), "case %zu: %s", i, err);
		cr_assert(eq(int, boot_api_new(&cases[i].cfg, &a, err, sizeof(err)), -EINVAL), "case %zu", i);
		cr_assert(eq(ptr, a, NULL));
	}
}

Test(boot_api_config, defaults_and_limits_are_accepted)
{
	struct boot_api_config cfg = BOOT_API_CONFIG_DEFAULTS;
	char err[256];

	cfg.url = "https://boot.example/api/";
	cr_assert(eq(int, boot_api_config_check(&cfg, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(u32, cfg.timeout_ms, 2000));
	cr_assert(eq(u32, cfg.cache_ttl_s, 60));
	cr_assert(eq(u32, cfg.max_cache_entries, 4096));
	cfg.timeout_ms = BOOT_API_MIN_TIMEOUT_MS;
	cfg.cache_ttl_s = 0;
	cfg.max_cache_entries = 0;
	cfg.error_holdoff_ms = 0;
	cfg.token = "abc123==";
	cr_assert(eq(int, boot_api_config_check(&cfg, err, sizeof(err)), 0), "%s", err);
	cfg.timeout_ms = BOOT_API_MAX_TIMEOUT_MS;
	cfg.cache_ttl_s = BOOT_API_MAX_CACHE_TTL_S;
	cfg.max_cache_entries = BOOT_API_MAX_MAX_CACHE_ENTRIES;
	cfg.error_holdoff_ms = BOOT_API_MAX_ERROR_HOLDOFF_MS;
	cr_assert(eq(int, boot_api_config_check(&cfg, err, sizeof(err)), 0), "%s", err);
	boot_api_free(NULL);
}
