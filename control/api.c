/* SPDX-License-Identifier: BSD-2-Clause */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dashboard_html.h" /* generated from control/dashboard/index.html */
#include "dataplane_stats.h"
#include "json_text.h"

static int respond_json(struct http_route_response *resp, unsigned status, json_t *body)
{
	resp->status = status;
	resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!resp->body)
		return -ENOMEM;
	resp->len = strlen(resp->body);
	resp->content_type = "application/json";
	return 1;
}

static int error_json(struct http_route_response *resp, unsigned status, const char *message)
{
	return respond_json(resp, status, json_pack("{s:s}", "error", message));
}

bool api_token_ok(const char *authorization, const char *token)
{
	size_t n = strlen(token);
	unsigned char diff = 0;

	/* RFC 9110 §11.1: the scheme is case-insensitive; the token is not. */
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0 || strlen(authorization + 7) != n)
		return false;
	for (size_t i = 0; i < n; i++) /* constant time: no early exit on the first difference */
		diff |= (unsigned char)(authorization[7 + i] ^ token[i]);
	return diff == 0;
}

static json_t *profiles_json(struct boot_scripts *bs)
{
	static const char *const kinds[] = { "linux", "script", "menu", "local", "shell" };
	json_t *list = json_array(), *out;
	const struct config *c;

	pthread_rwlock_rdlock(&bs->lock);
	c = bs->config;
	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct profile *p = &c->profiles[i];
		json_t *initrds = json_array();

		for (size_t k = 0; k < p->n_initrds; k++)
			json_array_append_new(initrds, json_string(p->initrds[k]));
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:s?}", "name", p->name, "kind",
						      kinds[p->kind], "description", p->description, "kernel",
						      p->kernel, "initrds", initrds, "cmdline", p->cmdline));
	}
	out = json_pack("{s:s, s:o}", "default_profile", c->default_profile, "profiles", list);
	pthread_rwlock_unlock(&bs->lock);
	return out;
}

static json_t *counters_json(struct api *a)
{
	struct machines_counts mc;
	struct dataplane_stats st = { 0 };
	struct http_server_stats hs = { 0 };
	json_t *dataplane = json_object();
	char err[256];

	if (dataplane_stats_read(a->stats_socket, &st, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < st.n; i++)
			json_object_set_new(dataplane, st.items[i].name, json_integer((json_int_t)st.items[i].value));
		dataplane_stats_free(&st);
	} else {
		json_decref(dataplane);
		dataplane = json_null(); /* not running (restarting): say so rather than zeros */
	}
	if (__atomic_load_n(a->http, __ATOMIC_ACQUIRE))
		http_server_get_stats(__atomic_load_n(a->http, __ATOMIC_ACQUIRE), &hs);
	machines_counts(a->machines, &mc);
	return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "dataplane", dataplane, "http", "requests", (json_int_t)hs.requests, "status_2xx",
			 (json_int_t)hs.status[2], "status_3xx", (json_int_t)hs.status[3], "status_4xx",
			 (json_int_t)hs.status[4], "status_5xx", (json_int_t)hs.status[5], "bytes_sent",
			 (json_int_t)hs.bytes_sent, "range_requests", (json_int_t)hs.range_requests,
			 "traversal_refused", (json_int_t)hs.traversal_refused, "scripts", (json_int_t)hs.scripts,
			 "machines", "total", (json_int_t)mc.total, "capacity", (json_int_t)mc.capacity, "evicted",
			 (json_int_t)mc.evicted, "booting", (json_int_t)mc.by_state[MACHINE_BOOTING], "handed_off",
			 (json_int_t)mc.by_state[MACHINE_HANDED_OFF], "failed", (json_int_t)mc.by_state[MACHINE_FAILED],
			 "ignored", (json_int_t)mc.by_state[MACHINE_IGNORED]);
}

static int reload(struct api *a, const struct http_route_request *req, struct http_route_response *resp)
{
	struct config_errors errors;
	const char *token;
	json_t *list;

	pthread_rwlock_rdlock(&a->scripts->lock);
	token = a->scripts->config->api.token;
	if (token && !api_token_ok(req->authorization, token)) {
		pthread_rwlock_unlock(&a->scripts->lock);
		resp->www_authenticate = "Bearer realm=\"stampede\"";
		return error_json(resp, 401, "this call needs Authorization: Bearer TOKEN (api.token)");
	}
	pthread_rwlock_unlock(&a->scripts->lock);
	memset(&errors, 0, sizeof(errors));
	if (a->reload(a->reload_ctx, &errors) == 0)
		return respond_json(resp, 200, json_pack("{s:b, s:s}", "ok", 1, "message",
							 "configuration valid; reloading (see the log)"));
	list = json_array();
	for (unsigned i = 0; i < errors.n; i++)
		json_array_append_new(list, json_text(errors.msg[i]));
	return respond_json(resp, 400, json_pack("{s:b, s:o}", "ok", 0, "errors", list));
}

static int metrics(struct api *a, struct http_route_response *resp)
{
	struct machines_counts mc;
	struct dataplane_stats st = { 0 };
	struct http_server_stats hs = { 0 };
	struct metrics_machines mm;
	bool up;
	char err[256];

	up = dataplane_stats_read(a->stats_socket, &st, err, sizeof(err)) == 0;
	if (__atomic_load_n(a->http, __ATOMIC_ACQUIRE))
		http_server_get_stats(__atomic_load_n(a->http, __ATOMIC_ACQUIRE), &hs);
	machines_counts(a->machines, &mc);
	mm = (struct metrics_machines){ mc.by_state[MACHINE_BOOTING], mc.by_state[MACHINE_HANDED_OFF],
					mc.by_state[MACHINE_FAILED], mc.by_state[MACHINE_IGNORED], mc.total,
					mc.evicted };
	{
		const struct metrics_input in = { up ? &st : NULL, &hs, &mm, a->tftp_durations };

		resp->body = metrics_render(&in, &resp->len);
	}
	if (up)
		dataplane_stats_free(&st);
	if (!resp->body)
		return -ENOMEM;
	resp->status = 200;
	resp->content_type = METRICS_CONTENT_TYPE;
	return 1;
}

int api_route(void *ctx, const struct http_route_request *req, struct http_route_response *resp)
{
	struct api *a = ctx;
	const char *p = req->path;
	bool get = strcmp(req->method, "POST") != 0; /* GET or HEAD */

	if (!strcmp(p, "") || !strcmp(p, "index.html")) {
		if (!get)
			return error_json(resp, 405, "GET only");
		resp->status = 200;
		resp->content_type = "text/html; charset=utf-8";
		resp->len = sizeof(stampede_dashboard_html) - 1;
		resp->body = malloc(resp->len);
		if (!resp->body)
			return -ENOMEM;
		memcpy(resp->body, stampede_dashboard_html, resp->len);
		return 1;
	}
	if (!strcmp(p, "metrics"))
		return get ? metrics(a, resp) : error_json(resp, 405, "GET only");
	if (strncmp(p, "api/", 4) != 0)
		return 0; /* files and /boot.ipxe */
	if (!strcmp(p, "api/v1/reload"))
		return get ? error_json(resp, 405, "POST only") : reload(a, req, resp);
	if (!get) {
		bool known = !strcmp(p, "api/v1/machines") || !strncmp(p, "api/v1/machines/", 16) ||
			     !strcmp(p, "api/v1/profiles") || !strcmp(p, "api/v1/counters") ||
			     !strcmp(p, "api/v1/throughput");

		return known ? error_json(resp, 405, "GET only") : error_json(resp, 404, "no such API call");
	}
	if (!strcmp(p, "api/v1/machines"))
		return respond_json(resp, 200, machines_list_json(a->machines, machines_clock()));
	if (!strncmp(p, "api/v1/machines/", 16)) {
		json_t *one = machines_one_json(a->machines, p + 16, machines_clock());

		return one ? respond_json(resp, 200, one) : error_json(resp, 404, "no such machine");
	}
	if (!strcmp(p, "api/v1/profiles"))
		return respond_json(resp, 200, profiles_json(a->scripts));
	if (!strcmp(p, "api/v1/counters"))
		return respond_json(resp, 200, counters_json(a));
	if (!strcmp(p, "api/v1/throughput"))
		return respond_json(resp, 200, throughput_json(a->throughput));
	return error_json(resp, 404, "no such API call (see README: JSON API)");
}
