/* SPDX-License-Identifier: BSD-2-Clause */
#include "throughput.h"

void throughput_init(struct throughput *tp)
{
	*tp = (struct throughput){ 0 };
	pthread_mutex_init(&tp->lock, NULL);
}

static double rate(uint64_t now, uint64_t before, double dt)
{
	return (now >= before ? (double)(now - before) : (double)now) / dt;
}

void throughput_add(struct throughput *tp, double t, uint64_t tftp_bytes, uint64_t http_bytes)
{
	pthread_mutex_lock(&tp->lock);
	if (tp->have_last && t > tp->last_t) {
		double dt = t - tp->last_t;

		tp->ring[tp->next] = (struct throughput_sample){ t, rate(tftp_bytes, tp->last_tftp, dt),
								 rate(http_bytes, tp->last_http, dt) };
		tp->next = (tp->next + 1) % THROUGHPUT_SAMPLES;
		if (tp->count < THROUGHPUT_SAMPLES)
			tp->count++;
	}
	tp->have_last = true;
	tp->last_t = t;
	tp->last_tftp = tftp_bytes;
	tp->last_http = http_bytes;
	pthread_mutex_unlock(&tp->lock);
}

json_t *throughput_json(struct throughput *tp)
{
	json_t *samples = json_array();

	pthread_mutex_lock(&tp->lock);
	for (size_t i = 0; i < tp->count; i++) {
		const struct throughput_sample *s =
			&tp->ring[(tp->next + THROUGHPUT_SAMPLES - tp->count + i) % THROUGHPUT_SAMPLES];

		json_array_append_new(samples, json_pack("{s:f, s:f, s:f}", "t", s->t, "tftp_bytes_per_s", s->tftp_bps,
							 "http_bytes_per_s", s->http_bps));
	}
	pthread_mutex_unlock(&tp->lock);
	return json_pack("{s:i, s:o}", "interval_s", 1, "samples", samples);
}
