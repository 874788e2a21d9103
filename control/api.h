/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane's own HTTP routes (an http_route_fn): the JSON API under
 * /api/v1, Prometheus /metrics, and the dashboard at /. README "JSON API"
 * documents them with curl examples.
 */
#ifndef STAMPEDE_API_H
#define STAMPEDE_API_H

#include "boot_scripts.h"
#include "config.h"
#include "http_server.h"
#include "machines.h"
#include "metrics.h"
#include "throughput.h"

struct api {
	struct machines *machines;
	struct boot_scripts *scripts;   /* the configuration, under its lock */
	struct http_server **http;      /* for its counters (set once started) */
	struct throughput *throughput;
	struct duration_histogram *tftp_durations;
	const char *stats_socket;       /* the dataplane's */
	/* Validate the configuration file again and, when it is good, have the
	 * main thread reload it. 0, or -EINVAL with errors filled. */
	int (*reload)(void *ctx, struct config_errors *errors);
	void *reload_ctx;
};

int api_route(void *ctx, const struct http_route_request *req, struct http_route_response *resp);

/* Whether an Authorization header carries the bearer token (constant time). */
bool api_token_ok(const char *authorization, const char *token);

#endif
