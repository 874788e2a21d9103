/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Throughput samples (control/throughput.c): byte rates from monotonic
 * counters, a counter that goes back (the dataplane restarted), the ring of
 * the last 300 samples, and GET /api/v1/throughput's JSON.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "throughput.h"

/* Criterion's cr_assert() cannot take an expression that starts with "(", as
 * jansson's json_is_*() macros expand to. */
static inline bool is(int v)
{
	return v != 0;
}

static struct throughput tp;

static void setup(void)
{
	throughput_init(&tp);
}

TestSuite(throughput, .init = setup);

static json_t *samples(void)
{
	json_t *j = throughput_json(&tp), *s = json_object_get(j, "samples");

	cr_assert(is(json_is_array(s)));
	json_incref(s);
	json_decref(j);
	return s;
}

static double field(json_t *s, size_t i, const char *key)
{
	json_t *v = json_object_get(json_array_get(s, i), key);

	cr_assert(is(json_is_real(v)), "sample %zu: %s is not a real", i, key);
	return json_real_value(v);
}

Test(throughput, the_first_reading_is_a_baseline_not_a_sample)
{
	json_t *s;

	throughput_add(&tp, 1000, 5000000, 7000000);
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 0));
	json_decref(s);
}

Test(throughput, rates_are_bytes_per_second_over_the_interval)
{
	json_t *s;

	throughput_add(&tp, 1000, 0, 0);
	throughput_add(&tp, 1001, 1000, 500);
	throughput_add(&tp, 1003, 5000, 500);  /* 2 s: 2000 B/s TFTP, 0 HTTP */
	throughput_add(&tp, 1003.5, 5500, 1500); /* half a second */
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 3));
	cr_assert(eq(dbl, field(s, 0, "t"), 1001));
	cr_assert(eq(dbl, field(s, 0, "tftp_bytes_per_s"), 1000));
	cr_assert(eq(dbl, field(s, 0, "http_bytes_per_s"), 500));
	cr_assert(eq(dbl, field(s, 1, "t"), 1003));
	cr_assert(eq(dbl, field(s, 1, "tftp_bytes_per_s"), 2000));
	cr_assert(eq(dbl, field(s, 1, "http_bytes_per_s"), 0));
	cr_assert(eq(dbl, field(s, 2, "tftp_bytes_per_s"), 1000));
	cr_assert(eq(dbl, field(s, 2, "http_bytes_per_s"), 2000));
	json_decref(s);
}

Test(throughput, a_counter_that_goes_back_counts_from_zero)
{
	json_t *s;

	throughput_add(&tp, 10, 1000000, 1000000);
	throughput_add(&tp, 11, 300, 1000100); /* the dataplane restarted: 300 bytes since */
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 1));
	cr_assert(eq(dbl, field(s, 0, "tftp_bytes_per_s"), 300));
	cr_assert(eq(dbl, field(s, 0, "http_bytes_per_s"), 100));
	json_decref(s);
	throughput_add(&tp, 12, 1300, 1000100); /* and on from the new baseline */
	s = samples();
	cr_assert(eq(dbl, field(s, 1, "tftp_bytes_per_s"), 1000));
	cr_assert(eq(dbl, field(s, 1, "http_bytes_per_s"), 0));
	json_decref(s);
}

Test(throughput, a_clock_that_does_not_advance_gives_no_sample)
{
	json_t *s;

	throughput_add(&tp, 10, 0, 0);
	throughput_add(&tp, 10, 100, 100); /* same instant: no division by zero */
	throughput_add(&tp, 9, 200, 200);  /* stepped back */
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 0));
	json_decref(s);
	throughput_add(&tp, 10, 300, 300); /* rebased on the last reading */
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 1));
	cr_assert(eq(dbl, field(s, 0, "tftp_bytes_per_s"), 100));
	json_decref(s);
}

Test(throughput, the_ring_keeps_the_last_300_in_order)
{
	json_t *s;
	uint64_t bytes = 0;

	throughput_add(&tp, 0, 0, 0);
	for (int i = 1; i <= THROUGHPUT_SAMPLES + 77; i++) {
		bytes += (uint64_t)i;
		throughput_add(&tp, i, bytes, 2 * bytes);
	}
	s = samples();
	cr_assert(eq(sz, json_array_size(s), THROUGHPUT_SAMPLES));
	cr_assert(eq(int, THROUGHPUT_SAMPLES, 300));
	for (size_t k = 0; k < THROUGHPUT_SAMPLES; k++) {
		double want = (double)(78 + k);

		cr_assert(eq(dbl, field(s, k, "t"), want), "sample %zu", k);
		cr_assert(eq(dbl, field(s, k, "tftp_bytes_per_s"), want));
		cr_assert(eq(dbl, field(s, k, "http_bytes_per_s"), 2 * want));
	}
	json_decref(s);
}

Test(throughput, exactly_300_then_one_more)
{
	json_t *s;

	throughput_add(&tp, 0, 0, 0);
	for (int i = 1; i <= THROUGHPUT_SAMPLES; i++)
		throughput_add(&tp, i, 0, 0);
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 300));
	cr_assert(eq(dbl, field(s, 0, "t"), 1));
	cr_assert(eq(dbl, field(s, 299, "t"), 300));
	json_decref(s);
	throughput_add(&tp, 301, 0, 0);
	s = samples();
	cr_assert(eq(sz, json_array_size(s), 300));
	cr_assert(eq(dbl, field(s, 0, "t"), 2));
	cr_assert(eq(dbl, field(s, 299, "t"), 301));
	json_decref(s);
}

Test(throughput, json_shape)
{
	json_t *j;
	char *text;

	j = throughput_json(&tp);
	cr_assert(eq(sz, json_object_size(j), 2));
	cr_assert(is(json_is_integer(json_object_get(j, "interval_s"))));
	cr_assert(eq(i64, json_integer_value(json_object_get(j, "interval_s")), 1));
	cr_assert(eq(sz, json_array_size(json_object_get(j, "samples")), 0));
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert(eq(str, text, "{\"interval_s\":1,\"samples\":[]}"));
	free(text);
	json_decref(j);

	throughput_add(&tp, 100, 0, 0);
	throughput_add(&tp, 101, 3, 4);
	j = throughput_json(&tp);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	cr_assert(eq(str, text,
		     "{\"interval_s\":1,\"samples\":[{\"http_bytes_per_s\":4.0,\"t\":101.0,\"tftp_bytes_per_s\":3.0}]}"));
	free(text);
	json_decref(j);
}

Test(throughput, large_counters_keep_their_precision_as_rates)
{
	json_t *s;
	uint64_t base = 1ull << 60;

	throughput_add(&tp, 1e9, base, base);
	throughput_add(&tp, 1e9 + 1, base + 10000000000ull, base); /* 10 GB/s */
	s = samples();
	cr_assert(eq(dbl, field(s, 0, "tftp_bytes_per_s"), 1e10));
	json_decref(s);
}
