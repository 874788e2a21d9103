/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane's own routes (control/api.c), called directly as the
 * HTTP server calls them: the dashboard, /metrics, every /api/v1 call with
 * its status, content type and JSON shape (/tmp/spec/api.md), the reload
 * call's bearer token, 404 and 405, and paths that fall through to the files.
 * The configuration is parsed from YAML as `stampede serve` loads it; the
 * dataplane's socket does not exist, as when it is restarting.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "boot_scripts.h"
#include "config.h"
#include "event_line.h"
#include "machines.h"
#include "metrics.h"
#include "throughput.h"

/* Criterion's cr_assert() cannot take an expression that starts with "(", as
 * jansson's json_is_*() macros expand to. */
static inline bool is(int v)
{
	return v != 0;
}

#define TOKEN "s3cret-token-0123456789"

static const char yaml_with_token[] =
	"api:\n"
	"  token: " TOKEN "\n"
	"profiles:\n"
	"  lab:\n"
	"    description: the lab kernel\n"
	"    kernel: lab/vmlinuz\n"
	"    initrd: [lab/initrd.img, lab/extra.img]\n"
	"    cmdline: console=ttyS0\n"
	"  custom:\n"
	"    script: \"#!ipxe\\necho hi\\n\"\n"
	"  rescue:\n"
	"    action: shell\n"
	"machines:\n"
	"  - {mac: 52:54:00:00:00:01, profile: lab, hostname: node1}\n"
	"default_profile: menu\n";

static const char yaml_without_token[] =
	"profiles:\n"
	"  lab: {kernel: lab/vmlinuz}\n"
	"default_profile: lab\n";

static struct config *cfg;
static struct boot_scripts bs;
static struct machines *mt;
static struct throughput tp;
static struct duration_histogram hist;
static struct http_server *no_http; /* not started: the counters are zeros */
static struct api api;

static int reload_calls, reload_fails;

static int fake_reload(void *ctx, struct config_errors *errors)
{
	cr_assert(eq(ptr, ctx, (void *)&reload_calls));
	reload_calls++;
	if (!reload_fails)
		return 0;
	snprintf(errors->msg[0], sizeof(errors->msg[0]), "/etc/stampede.yaml:3:5: unknown key \"prfiles\"");
	snprintf(errors->msg[1], sizeof(errors->msg[1]), "/etc/stampede.yaml:9:14: no such profile \"nope\"");
	errors->n = 2;
	return -EINVAL;
}

static void setup_with(const char *yaml)
{
	struct config_errors e;

	memset(&e, 0, sizeof(e));
	cfg = config_parse("t.yaml", yaml, strlen(yaml), &e);
	cr_assert(not(eq(ptr, cfg, NULL)), "%s", e.n ? e.msg[0] : "");
	pthread_rwlock_init(&bs.lock, NULL);
	bs.config = cfg;
	bs.base_url = "http://10.0.0.1:8080";
	mt = machines_create(16, 16);
	throughput_init(&tp);
	duration_histogram_init(&hist);
	no_http = NULL;
	api = (struct api){ .machines = mt, .scripts = &bs, .http = &no_http, .throughput = &tp,
			    .tftp_durations = &hist, .stats_socket = "/nonexistent/stampede-test/control.sock",
			    .reload = fake_reload, .reload_ctx = &reload_calls };
	reload_calls = reload_fails = 0;
}

static void setup(void)
{
	setup_with(yaml_with_token);
}

static void teardown(void)
{
	machines_free(mt);
	config_free(cfg);
	duration_histogram_destroy(&hist);
}

TestSuite(api, .init = setup, .fini = teardown);

/* ---- calling the route ---- */

struct reply {
	int rc;
	unsigned status;
	const char *type;
	char *body; /* NUL-terminated copy */
	const char *www;
	json_t *json; /* when the body is JSON */
};

static struct reply call(const char *method, const char *path, const char *authorization)
{
	struct http_route_request req = { .method = method, .path = path, .authorization = authorization,
					   .remote_ip = "10.0.0.50" };
	struct http_route_response resp = { 0 };
	struct reply r = { 0 };

	r.rc = api_route(&api, &req, &resp);
	r.status = resp.status;
	r.type = resp.content_type;
	r.www = resp.www_authenticate;
	if (resp.body) {
		r.body = malloc(resp.len + 1);
		cr_assert(not(eq(ptr, r.body, NULL)));
		memcpy(r.body, resp.body, resp.len);
		r.body[resp.len] = '\0';
		cr_assert(eq(sz, strlen(r.body), resp.len), "a NUL inside the body");
		free(resp.body);
	}
	if (r.rc == 1 && r.type && !strcmp(r.type, "application/json")) {
		json_error_t err;

		r.json = json_loads(r.body ? r.body : "", 0, &err);
		cr_assert(not(eq(ptr, r.json, NULL)), "%s %s: invalid JSON (%s): %s", method, path, err.text, r.body);
	}
	return r;
}

static void done(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
}

static void assert_json(const struct reply *r, unsigned status, const char *what)
{
	cr_assert(eq(int, r->rc, 1), "%s: handled", what);
	cr_assert(eq(u32, r->status, status), "%s: status", what);
	cr_assert(not(eq(ptr, (void *)r->type, NULL)), "%s: content type", what);
	cr_assert(eq(str, (char *)r->type, "application/json"), "%s", what);
	cr_assert(not(eq(ptr, r->json, NULL)), "%s: JSON body", what);
}

static void assert_keys(json_t *o, const char *const *keys, size_t n, const char *what)
{
	cr_assert(is(json_is_object(o)), "%s is not an object", what);
	for (size_t i = 0; i < n; i++)
		cr_assert(not(eq(ptr, json_object_get(o, keys[i]), NULL)), "%s lacks \"%s\"", what, keys[i]);
	cr_assert(eq(sz, json_object_size(o), n), "%s: %zu keys, expected %zu", what, json_object_size(o), n);
}

static void feed(const char *line)
{
	struct event_dhcp d;
	struct event_tftp t;

	switch (event_line_parse(line, &d, &t)) {
	case EVENT_DHCP:
		machines_on_dhcp(mt, &d);
		break;
	case EVENT_TFTP:
		machines_on_tftp(mt, &t);
		break;
	default:
		cr_assert(eq(int, 0, 1), "not an event: %s", line);
	}
}

/* Three machines: handed off, booting, failed. */
static void three_machines(void)
{
	const char *initrds[] = { "lab/initrd.img", "lab/extra.img" };

	feed("event dhcp time=100 mac=52:54:00:00:00:01 ip=0.0.0.0 port=68 arch=bios msg=discover ipxe=0 "
	     "decision=offer file=undionly.kpxe");
	feed("event tftp time=101 mac=52:54:00:00:00:01 ip=10.0.0.11 port=2070 state=started bytes=100 file=undionly.kpxe");
	feed("event tftp time=102 mac=52:54:00:00:00:01 ip=10.0.0.11 port=2070 state=completed bytes=100 "
	     "file=undionly.kpxe");
	machines_on_script(mt, 103, "52:54:00:00:00:01", "10.0.0.11", "node1", "lab", "lab/vmlinuz", initrds, 2);
	machines_on_http(mt, 104, "10.0.0.11", "lab/vmlinuz", 200, 10, true);
	machines_on_http(mt, 105, "10.0.0.11", "lab/initrd.img", 200, 10, true);
	machines_on_http(mt, 106, "10.0.0.11", "lab/extra.img", 200, 10, true);
	feed("event dhcp time=110 mac=52:54:00:00:00:02 ip=0.0.0.0 port=68 arch=efi-x64 msg=discover ipxe=0 "
	     "decision=offer file=ipxe.efi");
	feed("event dhcp time=120 mac=52:54:00:00:00:03 ip=0.0.0.0 port=68 arch=efi-x64 msg=discover ipxe=0 "
	     "decision=offer file=ipxe.efi");
	feed("event tftp time=121 mac=52:54:00:00:00:03 ip=10.0.0.13 port=2070 state=started bytes=100 file=ipxe.efi");
	feed("event tftp time=125 mac=52:54:00:00:00:03 ip=10.0.0.13 port=2070 state=timed_out bytes=0 file=ipxe.efi");
}

/* ---- the dashboard ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert(not(eq(ptr, f, NULL)), "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert(eq(sz, fread(buf, 1, (size_t)n, f), (size_t)n));
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

Test(api, get_slash_serves_the_dashboard_page_byte_for_byte)
{
	size_t len;
	char *page = slurp(SOURCE_ROOT "/control/dashboard/index.html", &len);
	const char *const paths[] = { "", "index.html" };

	for (size_t i = 0; i < 2; i++) {
		struct reply r = call("GET", paths[i], NULL);

		cr_assert(eq(int, r.rc, 1));
		cr_assert(eq(u32, r.status, 200));
		cr_assert(eq(str, (char *)r.type, "text/html; charset=utf-8"));
		cr_assert(eq(str, r.body, page), "GET /%s differs from control/dashboard/index.html", paths[i]);
		done(&r);
	}
	{
		struct reply r = call("HEAD", "", NULL);

		cr_assert(eq(u32, r.status, 200));
		done(&r);
	}
	{
		struct reply r = call("POST", "", NULL);

		assert_json(&r, 405, "POST /");
		done(&r);
	}
	free(page);
}

/* ---- /metrics ---- */

/*
 * Text format 0.0.4, checked line by line: every sample belongs to a family
 * announced by "# HELP" and "# TYPE" before it (histograms by their _bucket,
 * _sum and _count), a family's samples are together, labels are name="value"
 * pairs, and every value is a number.
 */
static void check_exposition(const char *text)
{
	char fam[64][128] = { { 0 } }, type[64][16] = { { 0 } };
	bool help[64] = { false }, closed[64] = { false };
	int nf = 0, current = -1, samples = 0;
	const char *line = text;

	cr_assert(gt(sz, strlen(text), 0));
	cr_assert(eq(chr, text[strlen(text) - 1], '\n'), "the text ends with a newline");
	while (*line) {
		const char *nl = strchr(line, '\n');
		char l[1024], name[128], *sp, *end;
		int f;

		cr_assert(not(eq(ptr, (void *)nl, NULL)));
		cr_assert(lt(sz, (size_t)(nl - line), sizeof(l)));
		memcpy(l, line, (size_t)(nl - line));
		l[nl - line] = '\0';
		line = nl + 1;
		cr_assert(gt(sz, strlen(l), 0), "an empty line");
		if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
			bool is_help = l[2] == 'H';

			cr_assert(eq(int, sscanf(l + 7, "%127s", name), 1), "%s", l);
			for (f = 0; f < nf && strcmp(fam[f], name); f++)
				;
			if (f == nf) {
				cr_assert(lt(int, nf, 64));
				snprintf(fam[nf++], sizeof(fam[0]), "%s", name);
			}
			if (is_help) {
				cr_assert(not(help[f]), "two HELP lines for %s", name);
				help[f] = true;
				cr_assert(gt(sz, strlen(l), 8 + strlen(name)), "empty HELP for %s", name);
			} else {
				cr_assert(eq(str, type[f], ""), "two TYPE lines for %s", name);
				snprintf(type[f], sizeof(type[f]), "%s", l + 8 + strlen(name));
				cr_assert(is(!strcmp(type[f], "counter") || !strcmp(type[f], "gauge") ||
					     !strcmp(type[f], "histogram")),
					  "%s: type '%s'", name, type[f]);
			}
			cr_assert(not(closed[f]), "%s announced after its samples", name);
			continue;
		}
		cr_assert(not(eq(chr, l[0], '#')), "unknown comment: %s", l);
		/* A sample: name, optional {labels}, one space, a value. */
		{
			size_t n = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
			const char *p = l + n;

			cr_assert(gt(sz, n, 0), "%s", l);
			snprintf(name, sizeof(name), "%.*s", (int)n, l);
			for (f = 0; f < nf; f++) {
				size_t k = strlen(fam[f]);

				if (!strcmp(name, fam[f]) ||
				    (!strcmp(type[f], "histogram") && !strncmp(name, fam[f], k) &&
				     (!strcmp(name + k, "_bucket") || !strcmp(name + k, "_sum") || !strcmp(name + k, "_count"))))
					break;
			}
			cr_assert(lt(int, f, nf), "sample of an unannounced family: %s", l);
			cr_assert(help[f], "%s has no HELP", fam[f]);
			cr_assert(not(eq(str, type[f], "")), "%s has no TYPE", fam[f]);
			cr_assert(not(closed[f]), "%s's samples are split: %s", fam[f], l);
			if (current >= 0 && current != f)
				closed[current] = true;
			current = f;
			if (*p == '{') {
				p++;
				while (*p != '}') {
					size_t ln = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

					cr_assert(gt(sz, ln, 0), "bad label in %s", l);
					p += ln;
					cr_assert(eq(chr, *p, '='), "%s", l);
					cr_assert(eq(chr, p[1], '"'), "%s", l);
					for (p += 2; *p && *p != '"'; p++)
						if (*p == '\\')
							p++;
					cr_assert(eq(chr, *p, '"'), "unterminated label value in %s", l);
					p++;
					if (*p == ',')
						p++;
				}
				p++;
			}
			cr_assert(eq(chr, *p, ' '), "%s", l);
			sp = (char *)p + 1;
			errno = 0;
			(void)strtod(sp, &end);
			cr_assert(not(eq(ptr, end, sp)), "value not numeric: %s", l);
			cr_assert(eq(chr, *end, '\0'), "value not numeric (or a timestamp): %s", l);
			samples++;
		}
	}
	cr_assert(gt(int, samples, 0));
	for (int f = 0; f < nf; f++) {
		cr_assert(help[f], "%s has TYPE without HELP", fam[f]);
		cr_assert(not(eq(str, type[f], "")), "%s has HELP without TYPE", fam[f]);
	}
}

Test(api, metrics_without_a_dataplane_say_up_0_and_count_machines)
{
	struct reply r;

	three_machines();
	duration_histogram_observe(&hist, 0.05);
	duration_histogram_observe(&hist, 3.0);
	r = call("GET", "metrics", NULL);
	cr_assert(eq(int, r.rc, 1));
	cr_assert(eq(u32, r.status, 200));
	cr_assert(eq(str, (char *)r.type, METRICS_CONTENT_TYPE));
	cr_assert(eq(str, (char *)r.type, "text/plain; version=0.0.4; charset=utf-8"));
	check_exposition(r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "\nstampede_dataplane_up 0\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "stampede_machines{state=\"booting\"} 1\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "stampede_machines{state=\"handed_off\"} 1\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "stampede_machines{state=\"failed\"} 1\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "stampede_machines{state=\"ignored\"} 0\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "\nstampede_machines_tracked 3\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "\nstampede_machines_evicted_total 0\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "\nstampede_tftp_transfer_duration_seconds_count 2\n"), NULL)), "%s",
		  r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "stampede_http_requests_total{code=\"2xx\"} 0\n"), NULL)), "%s", r.body);
	/* Nothing that comes from the dataplane: unknown, not zero. */
	cr_assert(eq(ptr, strstr(r.body, "stampede_dhcp_"), NULL), "%s", r.body);
	cr_assert(eq(ptr, strstr(r.body, "stampede_tftp_requests_total"), NULL), "%s", r.body);
	cr_assert(eq(ptr, strstr(r.body, "stampede_dataplane_rx_packets_total"), NULL), "%s", r.body);
	done(&r);

	r = call("POST", "metrics", NULL);
	assert_json(&r, 405, "POST /metrics");
	done(&r);
}

Test(api, metrics_count_evictions)
{
	struct reply r;
	char line[256];

	machines_free(mt);
	mt = machines_create(2, 4);
	api.machines = mt;
	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof(line),
			 "event dhcp time=%d mac=52:54:00:00:10:%02x ip=0.0.0.0 port=68 arch=bios msg=discover ipxe=0 "
			 "decision=no_boot_file file=-",
			 i + 1, i);
		feed(line);
	}
	r = call("GET", "metrics", NULL);
	check_exposition(r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "\nstampede_machines_evicted_total 3\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "\nstampede_machines_tracked 2\n"), NULL)), "%s", r.body);
	cr_assert(not(eq(ptr, strstr(r.body, "stampede_machines{state=\"ignored\"} 2\n"), NULL)), "%s", r.body);
	done(&r);
}

/* ---- /api/v1/machines ---- */

static const char *const machine_keys[] = { "mac",	 "ip",	       "arch",	   "hostname", "profile",
					    "stage",	 "state",      "first_seen", "last_seen", "elapsed_s",
					    "progress", "failures", "last_error", "decision" };
#define N_MACHINE_KEYS (sizeof(machine_keys) / sizeof(machine_keys[0]))

Test(api, machines_lists_every_machine_oldest_first)
{
	static const char *const list_keys[] = { "machines", "capacity", "evicted", "now" };
	static const char *const macs[] = { "52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:03" };
	static const char *const states[] = { "handed_off", "booting", "failed" };
	struct reply r;
	json_t *o;
	size_t i;

	r = call("GET", "api/v1/machines", NULL);
	assert_json(&r, 200, "GET machines (empty)");
	assert_keys(r.json, list_keys, 4, "the list");
	cr_assert(eq(sz, json_array_size(json_object_get(r.json, "machines")), 0));
	done(&r);

	three_machines();
	r = call("GET", "api/v1/machines", NULL);
	assert_json(&r, 200, "GET machines");
	assert_keys(r.json, list_keys, 4, "the list");
	cr_assert(eq(i64, json_integer_value(json_object_get(r.json, "capacity")), 16));
	cr_assert(eq(i64, json_integer_value(json_object_get(r.json, "evicted")), 0));
	cr_assert(is(json_is_real(json_object_get(r.json, "now"))));
	cr_assert(gt(dbl, json_real_value(json_object_get(r.json, "now")), 1.7e9), "now is Unix time");
	cr_assert(eq(sz, json_array_size(json_object_get(r.json, "machines")), 3));
	json_array_foreach(json_object_get(r.json, "machines"), i, o) {
		assert_keys(o, machine_keys, N_MACHINE_KEYS, "a machine");
		cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "mac")), (char *)macs[i]));
		cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "state")), (char *)states[i]));
	}
	o = json_array_get(json_object_get(r.json, "machines"), 0);
	cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "profile")), "lab"));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "hostname")), "node1"));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "stage")), "initrd"));
	o = json_array_get(json_object_get(r.json, "machines"), 2);
	cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "last_error")), "tftp ipxe.efi timed_out"));
	cr_assert(eq(i64, json_integer_value(json_object_get(o, "failures")), 1));
	done(&r);

	r = call("HEAD", "api/v1/machines", NULL);
	assert_json(&r, 200, "HEAD machines");
	done(&r);
}

Test(api, one_machine_by_mac_with_its_timeline)
{
	static const char *const stages[] = { "offer", "tftp", "nbp_loaded", "script", "kernel", "initrd", "initrd" };
	struct reply r;
	json_t *tl, *e;
	size_t i;
	double t = 0;

	three_machines();
	r = call("GET", "api/v1/machines/52-54-00-00-00-01", NULL);
	assert_json(&r, 200, "GET machines/52-54-00-00-00-01");
	cr_assert(eq(sz, json_object_size(r.json), N_MACHINE_KEYS + 1));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(r.json, "mac")), "52:54:00:00:00:01"));
	tl = json_object_get(r.json, "timeline");
	cr_assert(eq(sz, json_array_size(tl), 7));
	json_array_foreach(tl, i, e) {
		static const char *const tkeys[] = { "t", "stage", "event", "detail" };

		assert_keys(e, tkeys, 4, "a timeline entry");
		cr_assert(eq(str, (char *)json_string_value(json_object_get(e, "stage")), (char *)stages[i]));
		cr_assert(ge(dbl, json_real_value(json_object_get(e, "t")), t), "timeline out of order");
		t = json_real_value(json_object_get(e, "t"));
	}
	done(&r);

	r = call("GET", "api/v1/machines/52:54:00:00:00:0A", NULL); /* unknown */
	assert_json(&r, 404, "unknown MAC");
	cr_assert(eq(str, (char *)json_string_value(json_object_get(r.json, "error")), "no such machine"));
	cr_assert(eq(sz, json_object_size(r.json), 1));
	done(&r);
	r = call("GET", "api/v1/machines/52:54:00:00:00:03", NULL);
	assert_json(&r, 200, "upper case");
	done(&r);
	r = call("GET", "api/v1/machines/52:54:00:00:00", NULL);
	assert_json(&r, 404, "a short MAC");
	done(&r);
	r = call("GET", "api/v1/machines/", NULL);
	assert_json(&r, 404, "no MAC");
	done(&r);
	r = call("GET", "api/v1/machines/52:54:00:00:00:01/timeline", NULL);
	assert_json(&r, 404, "a path below a machine");
	done(&r);
}

Test(api, machine_mac_in_upper_case_and_dashes)
{
	struct reply r;

	feed("event dhcp time=1 mac=52:54:00:ab:cd:ef ip=0.0.0.0 port=68 arch=bios msg=discover ipxe=0 decision=offer "
	     "file=x");
	r = call("GET", "api/v1/machines/52-54-00-AB-CD-EF", NULL);
	assert_json(&r, 200, "52-54-00-AB-CD-EF");
	cr_assert(eq(str, (char *)json_string_value(json_object_get(r.json, "mac")), "52:54:00:ab:cd:ef"));
	done(&r);
}

/* ---- /api/v1/profiles ---- */

static json_t *profile_named(json_t *list, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
		if (!strcmp(json_string_value(json_object_get(p, "name")), name))
			return p;
	return NULL;
}

Test(api, profiles_list_the_configuration)
{
	static const char *const pkeys[] = { "name", "kind", "description", "kernel", "initrds", "cmdline" };
	struct reply r = call("GET", "api/v1/profiles", NULL);
	json_t *list, *p;
	size_t i;
	char *text;

	assert_json(&r, 200, "GET profiles");
	cr_assert(eq(sz, json_object_size(r.json), 2));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(r.json, "default_profile")), "menu"));
	list = json_object_get(r.json, "profiles");
	cr_assert(eq(sz, json_array_size(list), 3));
	json_array_foreach(list, i, p)
		assert_keys(p, pkeys, 6, "a profile");

	p = profile_named(list, "lab");
	cr_assert(not(eq(ptr, p, NULL)));
	text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert(eq(str, text,
		     "{\"cmdline\":\"console=ttyS0\",\"description\":\"the lab kernel\",\"initrds\":[\"lab/initrd.img\","
		     "\"lab/extra.img\"],\"kernel\":\"lab/vmlinuz\",\"kind\":\"linux\",\"name\":\"lab\"}"));
	free(text);
	p = profile_named(list, "custom");
	cr_assert(not(eq(ptr, p, NULL)));
	text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert(eq(str, text,
		     "{\"cmdline\":null,\"description\":null,\"initrds\":[],\"kernel\":null,\"kind\":\"script\","
		     "\"name\":\"custom\"}"));
	free(text);
	p = profile_named(list, "rescue");
	cr_assert(not(eq(ptr, p, NULL)));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(p, "kind")), "shell"));
	done(&r);
}

Test(api, profiles_follow_a_configuration_swapped_by_reload)
{
	struct config_errors e;
	const char *fresh_yaml = "profiles:\n  other: {kernel: o/vmlinuz}\ndefault_profile: other\n";
	struct config *fresh = config_parse("fresh.yaml", fresh_yaml, strlen(fresh_yaml), &e);
	struct reply r;

	cr_assert(not(eq(ptr, fresh, NULL)));
	pthread_rwlock_wrlock(&bs.lock);
	bs.config = fresh;
	pthread_rwlock_unlock(&bs.lock);
	r = call("GET", "api/v1/profiles", NULL);
	assert_json(&r, 200, "GET profiles after the swap");
	cr_assert(eq(str, (char *)json_string_value(json_object_get(r.json, "default_profile")), "other"));
	cr_assert(eq(sz, json_array_size(json_object_get(r.json, "profiles")), 1));
	done(&r);
	/* The new configuration has no token: reload is open. */
	r = call("POST", "api/v1/reload", NULL);
	assert_json(&r, 200, "POST reload without a token configured");
	done(&r);
	bs.config = cfg;
	config_free(fresh);
}

/* ---- /api/v1/counters ---- */

Test(api, counters_without_a_dataplane)
{
	static const char *const top[] = { "dataplane", "http", "machines" };
	static const char *const http_keys[] = { "requests", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
						 "bytes_sent", "range_requests", "traversal_refused", "scripts" };
	static const char *const machine_counts[] = { "total", "booting", "handed_off", "failed", "ignored" };
	struct reply r;
	json_t *mc, *v;
	const char *k;

	three_machines();
	r = call("GET", "api/v1/counters", NULL);
	assert_json(&r, 200, "GET counters");
	assert_keys(r.json, top, 3, "counters");
	cr_assert(is(json_is_null(json_object_get(r.json, "dataplane"))), "no dataplane: null, not zeros");
	for (size_t i = 0; i < sizeof(http_keys) / sizeof(http_keys[0]); i++) {
		v = json_object_get(json_object_get(r.json, "http"), http_keys[i]);
		cr_assert(is(json_is_integer(v)), "http.%s", http_keys[i]);
		cr_assert(eq(i64, json_integer_value(v), 0));
	}
	mc = json_object_get(r.json, "machines");
	for (size_t i = 0; i < sizeof(machine_counts) / sizeof(machine_counts[0]); i++)
		cr_assert(is(json_is_integer(json_object_get(mc, machine_counts[i]))), "machines.%s", machine_counts[i]);
	json_object_foreach(mc, k, v)
		cr_assert(is(json_is_integer(v)), "machines.%s", k);
	cr_assert(eq(i64, json_integer_value(json_object_get(mc, "total")), 3));
	cr_assert(eq(i64, json_integer_value(json_object_get(mc, "booting")), 1));
	cr_assert(eq(i64, json_integer_value(json_object_get(mc, "handed_off")), 1));
	cr_assert(eq(i64, json_integer_value(json_object_get(mc, "failed")), 1));
	cr_assert(eq(i64, json_integer_value(json_object_get(mc, "ignored")), 0));
	done(&r);
}

/* ---- /api/v1/throughput ---- */

Test(api, throughput_samples)
{
	struct reply r;
	json_t *s;

	r = call("GET", "api/v1/throughput", NULL);
	assert_json(&r, 200, "GET throughput (none yet)");
	cr_assert(eq(i64, json_integer_value(json_object_get(r.json, "interval_s")), 1));
	cr_assert(eq(sz, json_array_size(json_object_get(r.json, "samples")), 0));
	done(&r);

	throughput_add(&tp, 1000, 0, 0);
	throughput_add(&tp, 1001, 2048, 1024);
	r = call("GET", "api/v1/throughput", NULL);
	assert_json(&r, 200, "GET throughput");
	cr_assert(eq(sz, json_object_size(r.json), 2));
	s = json_array_get(json_object_get(r.json, "samples"), 0);
	cr_assert(eq(sz, json_object_size(s), 3));
	cr_assert(eq(dbl, json_real_value(json_object_get(s, "t")), 1001));
	cr_assert(eq(dbl, json_real_value(json_object_get(s, "tftp_bytes_per_s")), 2048));
	cr_assert(eq(dbl, json_real_value(json_object_get(s, "http_bytes_per_s")), 1024));
	done(&r);
}

/* ---- POST /api/v1/reload ---- */

Test(api, reload_without_a_token_is_401_with_www_authenticate)
{
	struct reply r = call("POST", "api/v1/reload", NULL);

	assert_json(&r, 401, "POST reload without Authorization");
	cr_assert(not(eq(ptr, (void *)r.www, NULL)), "no WWW-Authenticate");
	cr_assert(eq(int, strncmp(r.www, "Bearer", 6), 0), "WWW-Authenticate: %s", r.www);
	cr_assert(is(json_is_string(json_object_get(r.json, "error"))));
	cr_assert(eq(int, reload_calls, 0));
	done(&r);
}

Test(api, reload_with_a_wrong_token_is_401)
{
	const char *const wrong[] = {
		"Bearer wrong-token-0123456789", "Bearer " TOKEN "x", "Bearer s3cret-token-012345678", "Bearer ",
		"Bearer", "Basic " TOKEN, TOKEN, "Bearer  " TOKEN, "Bearer " TOKEN " ", "",
	};

	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		struct reply r = call("POST", "api/v1/reload", wrong[i]);

		assert_json(&r, 401, wrong[i]);
		cr_assert(not(eq(ptr, (void *)r.www, NULL)), "'%s': no WWW-Authenticate", wrong[i]);
		done(&r);
	}
	cr_assert(eq(int, reload_calls, 0));
}

Test(api, reload_with_the_token_calls_back_and_answers_200)
{
	struct reply r = call("POST", "api/v1/reload", "Bearer " TOKEN);

	assert_json(&r, 200, "POST reload with the token");
	cr_assert(eq(int, reload_calls, 1));
	cr_assert(eq(ptr, (void *)r.www, NULL));
	cr_assert(is(json_is_true(json_object_get(r.json, "ok"))));
	cr_assert(is(json_is_string(json_object_get(r.json, "message"))));
	cr_assert(eq(sz, json_object_size(r.json), 2));
	done(&r);
}

Test(api, reload_refused_by_the_callback_is_400_with_its_errors)
{
	struct reply r;
	char *text;

	reload_fails = 1;
	r = call("POST", "api/v1/reload", "Bearer " TOKEN);
	assert_json(&r, 400, "POST reload, bad file");
	cr_assert(eq(int, reload_calls, 1));
	text = json_dumps(r.json, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert(eq(str, text,
		     "{\"errors\":[\"/etc/stampede.yaml:3:5: unknown key \\\"prfiles\\\"\","
		     "\"/etc/stampede.yaml:9:14: no such profile \\\"nope\\\"\"],\"ok\":false}"));
	free(text);
	done(&r);
}

/* RFC 9110 §11.1: the authentication scheme is case-insensitive. */
Test(api, the_bearer_scheme_is_case_insensitive)
{
	cr_expect(api_token_ok("bearer " TOKEN, TOKEN), "\"bearer\" refused");
	cr_expect(api_token_ok("BEARER " TOKEN, TOKEN), "\"BEARER\" refused");
}

Test(api, token_check_direct)
{
	cr_assert(api_token_ok("Bearer " TOKEN, TOKEN));
	cr_assert(not(api_token_ok(NULL, TOKEN)));
	cr_assert(not(api_token_ok("Bearer " TOKEN "\n", TOKEN)));
	cr_assert(not(api_token_ok("Bearer S3cret-token-0123456789", TOKEN)), "tokens are case-sensitive");
}

/* ---- methods and unknown paths ---- */

Test(api, get_on_reload_and_post_elsewhere_are_405)
{
	const char *const post_only[] = { "api/v1/reload" };
	const char *const get_only[] = { "api/v1/machines", "api/v1/machines/52:54:00:00:00:01", "api/v1/profiles",
					 "api/v1/counters", "api/v1/throughput", "metrics", "", "index.html" };

	for (size_t i = 0; i < 1; i++) {
		struct reply r = call("GET", post_only[i], "Bearer " TOKEN);

		assert_json(&r, 405, "GET reload");
		cr_assert(is(json_is_string(json_object_get(r.json, "error"))));
		done(&r);
		r = call("HEAD", post_only[i], "Bearer " TOKEN);
		assert_json(&r, 405, "HEAD reload");
		done(&r);
	}
	for (size_t i = 0; i < sizeof(get_only) / sizeof(get_only[0]); i++) {
		struct reply r = call("POST", get_only[i], "Bearer " TOKEN);

		assert_json(&r, 405, get_only[i]);
		cr_assert(is(json_is_string(json_object_get(r.json, "error"))));
		done(&r);
	}
	cr_assert(eq(int, reload_calls, 0));
}

Test(api, unknown_api_paths_are_404_json)
{
	const char *const unknown[] = { "api/v1/nope", "api/v2/machines", "api/", "api/v1", "api/v1/",
					"api/v1/machinesx", "api/v1/reload/now", "api/v1/profiles/lab" };

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct reply r = call("GET", unknown[i], NULL);

		assert_json(&r, 404, unknown[i]);
		cr_assert(is(json_is_string(json_object_get(r.json, "error"))), "%s", unknown[i]);
		done(&r);
	}
}

Test(api, other_paths_fall_through_to_the_files)
{
	const char *const files[] = { "boot.ipxe", "lab/vmlinuz", "ipxe.efi", "apiary", "api", "metrics/x",
				      "metricsx", "index.htm", "dashboard", "v1/machines" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *const methods[] = { "GET", "HEAD" };

		for (size_t k = 0; k < 2; k++) {
			struct reply r = call(methods[k], files[i], NULL);

			cr_assert(eq(int, r.rc, 0), "%s %s was taken by the API", methods[k], files[i]);
			cr_assert(eq(u32, r.status, 0));
			cr_assert(eq(ptr, r.body, NULL));
			done(&r);
		}
	}
}

Test(api, without_a_token_configured_reload_is_open)
{
	struct reply r;

	teardown();
	setup_with(yaml_without_token);
	r = call("POST", "api/v1/reload", NULL);
	assert_json(&r, 200, "POST reload, no api.token");
	cr_assert(eq(int, reload_calls, 1));
	done(&r);
	reload_fails = 1;
	r = call("POST", "api/v1/reload", "Bearer anything");
	assert_json(&r, 400, "POST reload, no api.token, bad file");
	cr_assert(eq(sz, json_array_size(json_object_get(r.json, "errors")), 2));
	done(&r);
}
