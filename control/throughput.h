/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Aggregate throughput over the last five minutes, one sample a second: the
 * control plane feeds it the byte counters it reads (TFTP from the
 * dataplane, HTTP from its own server) and the dashboard draws it.
 */
#ifndef STAMPEDE_THROUGHPUT_H
#define STAMPEDE_THROUGHPUT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define THROUGHPUT_SAMPLES 300

struct throughput_sample {
	double t, tftp_bps, http_bps;
};

struct throughput {
	pthread_mutex_t lock;
	struct throughput_sample ring[THROUGHPUT_SAMPLES];
	size_t next, count;
	bool have_last;
	double last_t;
	uint64_t last_tftp, last_http;
};

void throughput_init(struct throughput *tp);
/* Counters now (monotonic byte totals); a counter that went down (the
 * dataplane restarted) counts from zero again. */
void throughput_add(struct throughput *tp, double t, uint64_t tftp_bytes, uint64_t http_bytes);
json_t *throughput_json(struct throughput *tp);

#endif
