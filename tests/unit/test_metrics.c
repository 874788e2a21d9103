/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus exposition (control/metrics.c), checked by parsing it back.
 *
 * Every output goes through a small reader of format 0.0.4 here that enforces
 * what a scraper relies on: each family has one HELP then one TYPE line before
 * its samples and appears once, every sample belongs to the family above it,
 * no series repeats, counters (and only they) end in _total, label values come
 * from the closed lists (taken from the dataplane's own name functions, not
 * from metrics.c), and histogram buckets are cumulative up to le="+Inf" ==
 * _count. On top of that: a dataplane reply holding every counter
 * stampede-dataplane prints (print_stats() in dataplane/main.c, rebuilt here
 * from the same X-macros and name functions) must come out as exactly the
 * expected series with exactly the input values, the test's own mapping of
 * counter to series naming every one of them; a dataplane that cannot be read
 * leaves only stampede_dataplane_up 0; absent and unknown counters leave no
 * trace; one output is compared byte for byte; the histogram is checked at its
 * bucket edges and under concurrent observers.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane_stats.h"
#include "http_server.h"
#include "metrics.h"
#include "net.h"
#include "proxy_dhcp.h"
#include "stampede_xdp.h"
#include "tftp_server.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a reader of the exposition format --------------------------------------- */

#define MAX_FAMILIES 128
#define MAX_SAMPLES  512

struct sample {
	char key[192]; /* name{label="value"} as written: the series' identity */
	char name[96], label[32], label_value[64], value[32];
	size_t family;
};

struct family {
	char name[96], type[16];
};

struct exposition {
	struct family families[MAX_FAMILIES];
	size_t n_families;
	struct sample samples[MAX_SAMPLES];
	size_t n_samples;
};

static bool metric_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

static bool valid_value(const char *v)
{
	char *end;

	if (!strcmp(v, "+Inf") || !strcmp(v, "-Inf") || !strcmp(v, "NaN"))
		return true;
	if (!*v)
		return false;
	strtod(v, &end);
	return *end == '\0';
}

static void parse_sample(struct exposition *e, const char *line)
{
	struct sample *s = &e->samples[e->n_samples];
	const struct family *f = &e->families[e->n_families - 1];
	const char *p = line;
	size_t n = 0;

	cr_assert(lt(sz, e->n_samples, MAX_SAMPLES));
	memset(s, 0, sizeof(*s));
	s->family = e->n_families - 1;
	while (metric_name_char(*p, n == 0)) {
		cr_assert(lt(sz, n, sizeof(s->name) - 1));
		s->name[n++] = *p++;
	}
	cr_assert(gt(sz, n, 0), "sample line starts with a name: \"%s\"", line);
	if (!strcmp(f->type, "histogram")) {
		char bucket[128], sum[128], count[128];

		snprintf(bucket, sizeof(bucket), "%s_bucket", f->name);
		snprintf(sum, sizeof(sum), "%s_sum", f->name);
		snprintf(count, sizeof(count), "%s_count", f->name);
		bool part = !strcmp(s->name, bucket) || !strcmp(s->name, sum) || !strcmp(s->name, count);

		cr_assert(part, "%s belongs to histogram %s", s->name, f->name);
	} else {
		cr_assert(eq(str, s->name, (char *)f->name), "sample of the family above it");
	}
	if (*p == '{') {
		p++;
		n = 0;
		while (metric_name_char(*p, n == 0) && *p != ':') {
			cr_assert(lt(sz, n, sizeof(s->label) - 1));
			s->label[n++] = *p++;
		}
		cr_assert(gt(sz, n, 0), "label name in \"%s\"", line);
		cr_assert(eq(chr, *p++, '='));
		cr_assert(eq(chr, *p++, '"'));
		n = 0;
		while (*p != '"') {
			char c = *p++;

			cr_assert(c != '\0' && c != '\n', "unterminated label value in \"%s\"", line);
			if (c == '\\') {
				c = *p++;
				cr_assert(c == '\\' || c == '"' || c == 'n', "escape \\%c", c);
				if (c == 'n')
					c = '\n';
			}
			cr_assert(lt(sz, n, sizeof(s->label_value) - 1));
			s->label_value[n++] = c;
		}
		p++;
		cr_assert(eq(chr, *p, '}'), "one label per series here: \"%s\"", line);
		p++;
	}
	cr_assert(eq(chr, *p++, ' '), "one space before the value: \"%s\"", line);
	cr_assert(lt(sz, strlen(p), sizeof(s->value)));
	strcpy(s->value, p);
	cr_assert(valid_value(s->value), "value \"%s\" in \"%s\"", s->value, line);
	snprintf(s->key, sizeof(s->key), "%.*s", (int)(strlen(line) - strlen(p) - 1), line);
	for (size_t i = 0; i < e->n_samples; i++)
		cr_assert(ne(int, strcmp(e->samples[i].key, s->key), 0), "series %s appears twice", s->key);
	e->n_samples++;
}

/* Reads text into e, asserting the structure of format 0.0.4. */
static void parse_exposition(const char *text, struct exposition *e)
{
	bool want_type = false;
	char *copy = strdup(text), *save = NULL;

	cr_assert(not(eq(ptr, copy, NULL)));
	memset(e, 0, sizeof(*e));
	cr_assert(gt(sz, strlen(text), 0));
	cr_assert(eq(chr, text[strlen(text) - 1], '\n'), "ends with a line feed");
	cr_assert(eq(ptr, strstr(text, "\n\n"), NULL), "no empty lines");
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			const char *name = line + 7, *sp = strchr(name, ' ');
			struct family *f = &e->families[e->n_families];

			cr_assert(not(want_type), "HELP followed by TYPE: \"%s\"", line);
			cr_assert(not(eq(ptr, (void *)sp, NULL)), "HELP has a text: \"%s\"", line);
			cr_assert(gt(sz, strlen(sp + 1), 0));
			cr_assert(lt(sz, e->n_families, MAX_FAMILIES));
			memset(f, 0, sizeof(*f));
			snprintf(f->name, sizeof(f->name), "%.*s", (int)(sp - name), name);
			for (size_t i = 0; i < e->n_families; i++)
				cr_assert(ne(int, strcmp(e->families[i].name, f->name), 0), "family %s appears twice", f->name);
			e->n_families++;
			want_type = true;
		} else if (!strncmp(line, "# TYPE ", 7)) {
			struct family *f = &e->families[e->n_families - 1];
			char expected[128];
			bool known;

			cr_assert(want_type, "one TYPE, after HELP: \"%s\"", line);
			snprintf(expected, sizeof(expected), "%s ", f->name);
			cr_assert(eq(int, strncmp(line + 7, expected, strlen(expected)), 0), "\"%s\" after HELP %s", line,
				  f->name);
			snprintf(f->type, sizeof(f->type), "%s", line + 7 + strlen(expected));
			known = !strcmp(f->type, "counter") || !strcmp(f->type, "gauge") || !strcmp(f->type, "histogram");
			cr_assert(known, "type %s", f->type);
			want_type = false;
		} else {
			cr_assert(not(eq(chr, line[0], '#')), "no other comments: \"%s\"", line);
			cr_assert(gt(sz, e->n_families, 0), "sample before any HELP: \"%s\"", line);
			cr_assert(not(want_type), "sample before TYPE: \"%s\"", line);
			parse_sample(e, line);
		}
	}
	cr_assert(not(want_type));
	free(copy);
}

static const struct family *family_named(const struct exposition *e, const char *name)
{
	for (size_t i = 0; i < e->n_families; i++)
		if (!strcmp(e->families[i].name, name))
			return &e->families[i];
	return NULL;
}

static const struct sample *series(const struct exposition *e, const char *key)
{
	for (size_t i = 0; i < e->n_samples; i++)
		if (!strcmp(e->samples[i].key, key))
			return &e->samples[i];
	return NULL;
}

/* ---- the closed label sets, from the dataplane's own names ---------------------- */

static bool in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, list[i]))
			return true;
	return false;
}

static const char *const bucket_les[] = { "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "120", "+Inf" };

static bool label_allowed(const char *family, const char *label, const char *value)
{
	static const char *const xdp[] = SP_XDP_VERDICT_NAMES;
	static const struct {
		const char *family, *label;
		const char *values[8];
	} fixed[] = {
		{ "stampede_dhcp_policies_total", "result", { "applied", "refused" } },
		{ "stampede_tftp_refused_total", "reason",
		  { "malformed", "not_found", "access", "options", "busy", "no_memory", "write" } },
		{ "stampede_tftp_transfers_total", "result", { "started", "completed", "timed_out", "aborted" } },
		{ "stampede_cache_skipped_files", "reason", { "outside_root", "special", "unreadable" } },
		{ "stampede_cache_reloads_total", "result", { "ok", "failed" } },
		{ "stampede_http_requests_total", "code", { "1xx", "2xx", "3xx", "4xx", "5xx" } },
		{ "stampede_machines", "state", { "booting", "handed_off", "failed", "ignored" } },
	};

	if (!strcmp(family, "stampede_dhcp_requests_total") && !strcmp(label, "type")) {
		for (int k = 0; k < PROXY_RX_COUNT; k++)
			if (!strcmp(value, proxy_msg_kind_name(k)))
				return true;
		return false;
	}
	if (!strcmp(family, "stampede_dhcp_decisions_total") && !strcmp(label, "decision")) {
		for (int k = 0; k < PROXY_DECISION_COUNT; k++)
			if (!strcmp(value, proxy_decision_name(k)))
				return true;
		return false;
	}
	if (!strcmp(family, "stampede_dataplane_drops_total") && !strcmp(label, "reason")) {
		for (int r = 1; r < NET_DROP_COUNT; r++)
			if (!strcmp(value, net_drop_name(r)))
				return true;
		return false;
	}
	if (!strcmp(family, "stampede_xdp_verdicts_total") && !strcmp(label, "verdict"))
		return in_list(value, xdp, ARRAY_SIZE(xdp));
	if (!strcmp(family, "stampede_tftp_transfer_duration_seconds") && !strcmp(label, "le"))
		return in_list(value, bucket_les, ARRAY_SIZE(bucket_les));
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!strcmp(family, fixed[i].family) && !strcmp(label, fixed[i].label)) {
			size_t n = 0;

			while (n < ARRAY_SIZE(fixed[i].values) && fixed[i].values[n])
				n++;
			return in_list(value, fixed[i].values, n);
		}
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static uint64_t u64_of(const char *text)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	cr_assert(eq(int, errno, 0));
	cr_assert(eq(chr, *end, '\0'), "integer value: %s", text);
	return v;
}

/* The rules any output must follow, beyond its syntax. */
static void check_rules(const struct exposition *e)
{
	for (size_t i = 0; i < e->n_families; i++) {
		const struct family *f = &e->families[i];

		cr_assert(eq(int, strncmp(f->name, "stampede_", 9), 0), "%s", f->name);
		if (!strcmp(f->type, "counter"))
			cr_assert(ends_with(f->name, "_total"), "counter %s ends in _total", f->name);
		else
			cr_assert(not(ends_with(f->name, "_total")), "%s %s does not end in _total", f->type, f->name);
	}
	for (size_t i = 0; i < e->n_samples; i++) {
		const struct sample *s = &e->samples[i];
		const struct family *f = &e->families[s->family];

		if (s->label[0])
			cr_assert(label_allowed(f->name, s->label, s->label_value), "%s{%s=\"%s\"} is not in the closed set",
				  f->name, s->label, s->label_value);
		if (strcmp(f->type, "histogram"))
			u64_of(s->value); /* counters and gauges here are all integers */
	}
	/* Histograms: every le of the list in order, cumulative, +Inf == _count. */
	for (size_t i = 0; i < e->n_families; i++) {
		const struct family *f = &e->families[i];
		uint64_t last = 0, inf = 0;
		size_t b = 0;
		bool have_count = false, have_sum = false;

		if (strcmp(f->type, "histogram"))
			continue;
		for (size_t j = 0; j < e->n_samples; j++) {
			const struct sample *s = &e->samples[j];

			if (s->family != i)
				continue;
			if (ends_with(s->name, "_bucket")) {
				uint64_t v = u64_of(s->value);

				cr_assert(lt(sz, b, ARRAY_SIZE(bucket_les)));
				cr_assert(eq(str, (char *)s->label, "le"));
				cr_assert(eq(str, (char *)s->label_value, (char *)bucket_les[b]), "bucket %zu in order", b);
				cr_assert(ge(u64, v, last), "cumulative at le=%s", s->label_value);
				cr_assert(not(have_count || have_sum), "buckets before _sum and _count");
				last = v;
				inf = v;
				b++;
			} else if (ends_with(s->name, "_sum")) {
				have_sum = true;
			} else {
				cr_assert(eq(u64, u64_of(s->value), inf), "le=\"+Inf\" equals _count");
				have_count = true;
			}
		}
		cr_assert(eq(sz, b, ARRAY_SIZE(bucket_les)));
		cr_assert(have_sum && have_count);
	}
}

static char *render(const struct metrics_input *in, struct exposition *e)
{
	size_t len = 0;
	char *text = metrics_render(in, &len);

	cr_assert(not(eq(ptr, text, NULL)));
	cr_assert(eq(sz, len, strlen(text)));
	parse_exposition(text, e);
	check_rules(e);
	return text;
}

/* ---- every counter the dataplane prints ---------------------------------------- */

#define MAX_COUNTERS 256

struct counter_list {
	char names[MAX_COUNTERS][DATAPLANE_STATS_NAME_MAX + 1];
	size_t n;
};

static void add(struct counter_list *l, const char *fmt, const char *arg)
{
	cr_assert(lt(sz, l->n, MAX_COUNTERS));
	snprintf(l->names[l->n++], sizeof(l->names[0]), fmt, arg);
}

/* In print_stats()'s order (dataplane/main.c), from the same lists. */
static void dataplane_counters(struct counter_list *l)
{
	static const char *const dp[] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "tx_dropped", "cache_swaps" };
	static const char *const tail[] = { "tftp_active_sessions", "tx_backlog", "port_rx_missed", "port_rx_errors",
					    "port_rx_nombuf", "port_tx_errors", "cache_files", "cache_bytes",
					    "cache_budget_bytes", "cache_skipped_outside_root", "cache_skipped_special",
					    "cache_skipped_unreadable", "cache_reloads_ok", "cache_reloads_failed",
					    "cache_versions_freed" };
	static const char *const policy[] = { "dhcp_policy_loaded", "policies_applied", "policies_refused",
					      "events_lost" };
	static const char *const xdp[] = SP_XDP_VERDICT_NAMES;

	l->n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(dp); i++)
		add(l, "%s", dp[i]);
	for (int r = 1; r < NET_DROP_COUNT; r++)
		add(l, "drop_%s", net_drop_name(r));
#define ADD_TFTP(name, help) add(l, "tftp_%s", #name);
	TFTP_COUNTERS(ADD_TFTP)
#undef ADD_TFTP
	for (size_t i = 0; i < ARRAY_SIZE(tail); i++)
		add(l, "%s", tail[i]);
	for (int k = 0; k < PROXY_RX_COUNT; k++)
		add(l, "dhcp_received_%s", proxy_msg_kind_name(k));
	for (int k = 0; k < PROXY_DECISION_COUNT; k++)
		add(l, "dhcp_%s", proxy_decision_name(k));
	for (size_t i = 0; i < ARRAY_SIZE(policy); i++)
		add(l, "%s", policy[i]);
	for (size_t i = 0; i < ARRAY_SIZE(xdp); i++)
		add(l, "xdp_%s", xdp[i]);
	add(l, "%s", "events_dropped"); /* control_channel.c's do_stats */
}

/* The series a dataplane counter must appear as: this test's own mapping,
 * written from the README's counter list, not from metrics.c's table. */
static bool series_for(const char *counter, char *key, size_t len)
{
	static const struct {
		const char *counter, *series;
	} exact[] = {
		{ "rx_packets", "stampede_dataplane_rx_packets_total" },
		{ "rx_bytes", "stampede_dataplane_rx_bytes_total" },
		{ "tx_packets", "stampede_dataplane_tx_packets_total" },
		{ "tx_bytes", "stampede_dataplane_tx_bytes_total" },
		{ "tx_dropped", "stampede_dataplane_tx_dropped_total" },
		{ "tx_backlog", "stampede_dataplane_tx_backlog" },
		{ "cache_swaps", "stampede_cache_swaps_total" },
		{ "tftp_requests", "stampede_tftp_requests_total" },
		{ "tftp_write_requests_refused", "stampede_tftp_refused_total{reason=\"write\"}" },
		{ "tftp_oacks_sent", "stampede_tftp_oacks_total" },
		{ "tftp_data_packets", "stampede_tftp_packets_total" },
		{ "tftp_data_bytes", "stampede_tftp_bytes_total" },
		{ "tftp_retransmits", "stampede_tftp_retransmits_total" },
		{ "tftp_rtt_samples", "stampede_tftp_rtt_samples_total" },
		{ "tftp_rtt_sum_us", "stampede_tftp_rtt_microseconds_total" },
		{ "tftp_rto_sum_us", "stampede_tftp_rto_microseconds_total" },
		{ "tftp_rto_backoffs", "stampede_tftp_rto_backoffs_total" },
		{ "tftp_rto_backoffs_capped", "stampede_tftp_rto_backoffs_capped_total" },
		{ "tftp_duplicate_acks", "stampede_tftp_duplicate_acks_total" },
		{ "tftp_duplicate_requests", "stampede_tftp_duplicate_requests_total" },
		{ "tftp_evicted_unacknowledged", "stampede_tftp_evicted_unacknowledged_total" },
		{ "tftp_shed_overloaded", "stampede_tftp_shed_overloaded_total" },
		{ "tftp_transfers_revived", "stampede_tftp_transfers_revived_total" },
		{ "tftp_transfers_resumed", "stampede_tftp_transfers_resumed_total" },
		{ "tftp_resumes_refused", "stampede_tftp_resumes_refused_total" },
		{ "tftp_stray_packets", "stampede_tftp_stray_packets_total" },
		{ "tftp_unknown_tid", "stampede_tftp_unknown_tid_total" },
		{ "tftp_errors_sent", "stampede_tftp_errors_sent_total" },
		{ "tftp_tx_no_buffer", "stampede_tftp_tx_no_buffer_total" },
		{ "tftp_active_sessions", "stampede_tftp_active_sessions" },
		{ "port_rx_missed", "stampede_port_rx_missed_total" },
		{ "port_rx_errors", "stampede_port_rx_errors_total" },
		{ "port_rx_nombuf", "stampede_port_rx_nombuf_total" },
		{ "port_tx_errors", "stampede_port_tx_errors_total" },
		{ "cache_files", "stampede_cache_files" },
		{ "cache_bytes", "stampede_cache_bytes" },
		{ "cache_budget_bytes", "stampede_cache_budget_bytes" },
		{ "cache_versions_freed", "stampede_cache_versions_freed_total" },
		{ "dhcp_policy_loaded", "stampede_dhcp_policy_loaded" },
		{ "events_lost", "stampede_events_lost_total" },
		{ "events_dropped", "stampede_events_dropped_total" },
	};
	/* In order: dhcp_received_ before dhcp_. */
	static const struct {
		const char *prefix, *family, *label;
	} by_prefix[] = {
		{ "dhcp_received_", "stampede_dhcp_requests_total", "type" },
		{ "dhcp_", "stampede_dhcp_decisions_total", "decision" },
		{ "policies_", "stampede_dhcp_policies_total", "result" },
		{ "tftp_refused_", "stampede_tftp_refused_total", "reason" },
		{ "tftp_transfers_", "stampede_tftp_transfers_total", "result" },
		{ "drop_", "stampede_dataplane_drops_total", "reason" },
		{ "xdp_", "stampede_xdp_verdicts_total", "verdict" },
		{ "cache_skipped_", "stampede_cache_skipped_files", "reason" },
		{ "cache_reloads_", "stampede_cache_reloads_total", "result" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (!strcmp(counter, exact[i].counter)) {
			snprintf(key, len, "%s", exact[i].series);
			return true;
		}
	for (size_t i = 0; i < ARRAY_SIZE(by_prefix); i++) {
		size_t pl = strlen(by_prefix[i].prefix);

		if (!strncmp(counter, by_prefix[i].prefix, pl)) {
			snprintf(key, len, "%s{%s=\"%s\"}", by_prefix[i].family, by_prefix[i].label, counter + pl);
			return true;
		}
	}
	return false;
}

/* A reply with every counter, each with its own value (one is 2^64 - 1). */
static void full_dataplane(struct counter_list *l, uint64_t *values, struct dataplane_stats *out)
{
	size_t cap = MAX_COUNTERS * 96, n = 0;
	char *text = malloc(cap), err[128];

	cr_assert(not(eq(ptr, text, NULL)));
	dataplane_counters(l);
	for (size_t i = 0; i < l->n; i++) {
		values[i] = strcmp(l->names[i], "tftp_data_bytes") ? 1000003ull * (i + 1) : UINT64_MAX;
		n += (size_t)snprintf(text + n, cap - n, "%s %llu\n", l->names[i], (unsigned long long)values[i]);
	}
	n += (size_t)snprintf(text + n, cap - n, ".\n");
	cr_assert(eq(int, dataplane_stats_parse(text, n, out, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(sz, out->n, l->n), "no counter printed twice");
	cr_assert(eq(sz, out->malformed, 0));
	free(text);
}

static const struct http_server_stats http_input = {
	.status = { 0, 11, 22, 33, 44, 55 },
	.requests = 165,
	.malformed = 66,
	.bytes_sent = 77,
	.range_requests = 88,
	.traversal_refused = 99,
	.scripts = 111,
};

static const struct metrics_machines machines_input = {
	.booting = 1, .handed_off = 2, .failed = 3, .ignored = 4, .total = 10, .evicted = 5,
};

/* Observations and what they make: edges are inclusive (le), below zero and
 * NaN count as 0 s. */
static const double observations[] = { 0.05, 0.1, 0.3, 1, 3, 7, 45, 100, 200, -1, NAN };
static const uint64_t cumulative[] = { 4, 4, 5, 6, 6, 7, 8, 8, 9, 10, 11 };

static double observe_all(struct duration_histogram *h)
{
	double sum = 0;

	for (size_t i = 0; i < ARRAY_SIZE(observations); i++) {
		duration_histogram_observe(h, observations[i]);
		sum += observations[i] >= 0 ? observations[i] : 0;
	}
	return sum;
}

struct expected {
	char key[192];
	char value[32];
};

static void expect(struct expected *x, size_t *n, const char *key, uint64_t value)
{
	snprintf(x[*n].key, sizeof(x[*n].key), "%s", key);
	snprintf(x[*n].value, sizeof(x[*n].value), "%llu", (unsigned long long)value);
	(*n)++;
}

Test(metrics, every_input_counter_comes_out_exactly_once_with_its_value)
{
	static struct counter_list l;
	static uint64_t values[MAX_COUNTERS];
	static struct expected x[MAX_SAMPLES];
	static struct exposition e;
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct duration_histogram h;
	struct dataplane_stats stats;
	size_t nx = 0;
	double sum;
	char *text, key[192];

	full_dataplane(&l, values, &stats);
	duration_histogram_init(&h);
	sum = observe_all(&h);
	text = render(&(struct metrics_input){ .dataplane = &stats, .http = &http_input, .machines = &machines_input,
					       .tftp_durations = &h },
		      &e);

	expect(x, &nx, "stampede_dataplane_up", 1);
	for (size_t i = 0; i < l.n; i++) {
		cr_assert(series_for(l.names[i], key, sizeof(key)), "counter %s has a series", l.names[i]);
		expect(x, &nx, key, values[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		snprintf(key, sizeof(key), "stampede_http_requests_total{code=\"%s\"}", classes[i]);
		expect(x, &nx, key, http_input.status[i + 1]);
	}
	expect(x, &nx, "stampede_http_malformed_total", 66);
	expect(x, &nx, "stampede_http_bytes_total", 77);
	expect(x, &nx, "stampede_http_range_requests_total", 88);
	expect(x, &nx, "stampede_http_traversal_refused_total", 99);
	expect(x, &nx, "stampede_http_scripts_total", 111);
	expect(x, &nx, "stampede_machines{state=\"booting\"}", 1);
	expect(x, &nx, "stampede_machines{state=\"handed_off\"}", 2);
	expect(x, &nx, "stampede_machines{state=\"failed\"}", 3);
	expect(x, &nx, "stampede_machines{state=\"ignored\"}", 4);
	expect(x, &nx, "stampede_machines_tracked", 10);
	expect(x, &nx, "stampede_machines_evicted_total", 5);
	for (size_t i = 0; i < ARRAY_SIZE(bucket_les); i++) {
		snprintf(key, sizeof(key), "stampede_tftp_transfer_duration_seconds_bucket{le=\"%s\"}", bucket_les[i]);
		expect(x, &nx, key, cumulative[i]);
	}
	expect(x, &nx, "stampede_tftp_transfer_duration_seconds_count", ARRAY_SIZE(observations));

	/* Exactly these series, plus _sum. */
	cr_assert(eq(sz, e.n_samples, nx + 1), "%zu series, expected %zu:\n%s", e.n_samples, nx + 1, text);
	for (size_t i = 0; i < nx; i++) {
		const struct sample *s = series(&e, x[i].key);

		cr_assert(not(eq(ptr, (void *)s, NULL)), "series %s is in the output", x[i].key);
		cr_assert(eq(str, (char *)s->value, x[i].value), "%s", x[i].key);
	}
	{
		const struct sample *s = series(&e, "stampede_tftp_transfer_duration_seconds_sum");

		cr_assert(not(eq(ptr, (void *)s, NULL)));
		cr_assert(eq(dbl, strtod(s->value, NULL), sum), "_sum %s", s->value);
	}
	cr_assert(not(eq(ptr, strstr(text, "stampede_tftp_bytes_total 18446744073709551615\n"), NULL)));

	/* Types of a few, and the families in the order a reader expects. */
	cr_assert(eq(str, (char *)family_named(&e, "stampede_tftp_active_sessions")->type, "gauge"));
	cr_assert(eq(str, (char *)family_named(&e, "stampede_cache_files")->type, "gauge"));
	cr_assert(eq(str, (char *)family_named(&e, "stampede_machines")->type, "gauge"));
	cr_assert(eq(str, (char *)family_named(&e, "stampede_tftp_transfer_duration_seconds")->type, "histogram"));
	cr_assert(eq(str, e.families[0].name, "stampede_dataplane_up"));
	for (size_t i = 1, seen_other = 0; i < e.n_families; i++) {
		bool tftp = !strncmp(e.families[i].name, "stampede_tftp_", 14);

		if (!tftp && i > 1 && !strncmp(e.families[i - 1].name, "stampede_tftp_", 14))
			seen_other = 1;
		cr_assert(not(tftp && seen_other), "stampede_tftp_ families together (%s)", e.families[i].name);
	}
	free(text);
	dataplane_stats_free(&stats);
	duration_histogram_destroy(&h);
}

Test(metrics, a_dataplane_that_cannot_be_read_leaves_only_up_0)
{
	static struct exposition e;
	struct duration_histogram h = DURATION_HISTOGRAM_INIT;
	char *text = render(&(struct metrics_input){ .http = &http_input, .machines = &machines_input,
						     .tftp_durations = &h },
			    &e);
	static const char *const families[] = {
		"stampede_dataplane_up",
		"stampede_tftp_transfer_duration_seconds",
		"stampede_http_requests_total",
		"stampede_http_malformed_total",
		"stampede_http_bytes_total",
		"stampede_http_range_requests_total",
		"stampede_http_traversal_refused_total",
		"stampede_http_scripts_total",
		"stampede_machines",
		"stampede_machines_tracked",
		"stampede_machines_evicted_total",
	};

	cr_assert(eq(sz, e.n_families, ARRAY_SIZE(families)), "%s", text);
	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		cr_assert(eq(str, e.families[i].name, (char *)families[i]));
	cr_assert(eq(str, (char *)series(&e, "stampede_dataplane_up")->value, "0"));
	/* An empty histogram: every bucket 0, sum 0. */
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_bucket{le=\"+Inf\"}")->value, "0"));
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_sum")->value, "0"));
	free(text);
}

Test(metrics, only_present_counters_make_families)
{
	static struct exposition e;
	struct dataplane_stats stats;
	char err[128], *text;
	static const char reply[] = "rx_packets 5\nxdp_redirect 7\ntftp_refused_busy 9\n.\n";

	cr_assert(eq(int, dataplane_stats_parse(reply, strlen(reply), &stats, err, sizeof(err)), 0));
	text = render(&(struct metrics_input){ .dataplane = &stats }, &e);
	cr_assert(eq(str, text,
		     "# HELP stampede_dataplane_up 1 when the dataplane's counters could be read\n"
		     "# TYPE stampede_dataplane_up gauge\n"
		     "stampede_dataplane_up 1\n"
		     "# HELP stampede_tftp_refused_total TFTP requests refused, by cause\n"
		     "# TYPE stampede_tftp_refused_total counter\n"
		     "stampede_tftp_refused_total{reason=\"busy\"} 9\n"
		     "# HELP stampede_dataplane_rx_packets_total Frames received by the dataplane\n"
		     "# TYPE stampede_dataplane_rx_packets_total counter\n"
		     "stampede_dataplane_rx_packets_total 5\n"
		     "# HELP stampede_xdp_verdicts_total Packets seen by the XDP program, by verdict\n"
		     "# TYPE stampede_xdp_verdicts_total counter\n"
		     "stampede_xdp_verdicts_total{verdict=\"redirect\"} 7\n"));
	free(text);
	dataplane_stats_free(&stats);
}

/* Counters a newer dataplane (or a confused one) prints are not exported:
 * their names would become label values nobody bounded. */
Test(metrics, unknown_counters_are_ignored)
{
	static struct exposition e;
	struct dataplane_stats stats;
	char err[128], *text;
	static const char reply[] = "brand_new 1\ndhcp_bogus 2\nxdp_bogus 3\ndrop_bogus 4\ndrop_ok 5\n"
				    "tftp_refused_bogus 6\ncache_skipped_bogus 7\ndhcp_received_bogus 8\n.\n";

	cr_assert(eq(int, dataplane_stats_parse(reply, strlen(reply), &stats, err, sizeof(err)), 0));
	text = render(&(struct metrics_input){ .dataplane = &stats }, &e);
	cr_assert(eq(sz, e.n_families, 1), "%s", text);
	cr_assert(eq(sz, e.n_samples, 1));
	cr_assert(eq(ptr, strstr(text, "bogus"), NULL));
	free(text);
	dataplane_stats_free(&stats);
}

Test(metrics, machines_and_http_byte_for_byte)
{
	char *text = metrics_render(&(struct metrics_input){ .http = &http_input, .machines = &machines_input }, NULL);

	cr_assert(not(eq(ptr, text, NULL)));
	cr_assert(eq(str, text,
		     "# HELP stampede_dataplane_up 1 when the dataplane's counters could be read\n"
		     "# TYPE stampede_dataplane_up gauge\n"
		     "stampede_dataplane_up 0\n"
		     "# HELP stampede_http_requests_total HTTP responses given, by status class\n"
		     "# TYPE stampede_http_requests_total counter\n"
		     "stampede_http_requests_total{code=\"1xx\"} 11\n"
		     "stampede_http_requests_total{code=\"2xx\"} 22\n"
		     "stampede_http_requests_total{code=\"3xx\"} 33\n"
		     "stampede_http_requests_total{code=\"4xx\"} 44\n"
		     "stampede_http_requests_total{code=\"5xx\"} 55\n"
		     "# HELP stampede_http_malformed_total HTTP requests cut short before reaching the server (bad "
		     "syntax, client gone)\n"
		     "# TYPE stampede_http_malformed_total counter\n"
		     "stampede_http_malformed_total 66\n"
		     "# HELP stampede_http_bytes_total Body bytes of HTTP responses sent completely\n"
		     "# TYPE stampede_http_bytes_total counter\n"
		     "stampede_http_bytes_total 77\n"
		     "# HELP stampede_http_range_requests_total HTTP 206 responses (one byte range)\n"
		     "# TYPE stampede_http_range_requests_total counter\n"
		     "stampede_http_range_requests_total 88\n"
		     "# HELP stampede_http_traversal_refused_total HTTP requests refused for a path that could leave "
		     "the root\n"
		     "# TYPE stampede_http_traversal_refused_total counter\n"
		     "stampede_http_traversal_refused_total 99\n"
		     "# HELP stampede_http_scripts_total iPXE scripts served at /boot.ipxe\n"
		     "# TYPE stampede_http_scripts_total counter\n"
		     "stampede_http_scripts_total 111\n"
		     "# HELP stampede_machines Machines in the table, by boot state\n"
		     "# TYPE stampede_machines gauge\n"
		     "stampede_machines{state=\"booting\"} 1\n"
		     "stampede_machines{state=\"handed_off\"} 2\n"
		     "stampede_machines{state=\"failed\"} 3\n"
		     "stampede_machines{state=\"ignored\"} 4\n"
		     "# HELP stampede_machines_tracked Machines in the table, whatever their state\n"
		     "# TYPE stampede_machines_tracked gauge\n"
		     "stampede_machines_tracked 10\n"
		     "# HELP stampede_machines_evicted_total Machines dropped from the table to keep it within its "
		     "limit\n"
		     "# TYPE stampede_machines_evicted_total counter\n"
		     "stampede_machines_evicted_total 5\n"));
	free(text);
}

Test(metrics, write_to_a_file_equals_render)
{
	struct duration_histogram h = DURATION_HISTOGRAM_INIT;
	const struct metrics_input in = { .http = &http_input, .machines = &machines_input, .tftp_durations = &h };
	char *rendered, *written = NULL;
	size_t len, wlen = 0;
	FILE *f = open_memstream(&written, &wlen);

	observe_all(&h);
	rendered = metrics_render(&in, &len);
	cr_assert(not(eq(ptr, f, NULL)));
	cr_assert(eq(int, metrics_write(f, &in), 0));
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(sz, wlen, len));
	cr_assert(eq(str, written, rendered));
	free(rendered);
	free(written);
}

/* ---- the histogram ------------------------------------------------------------ */

static void snapshot(struct duration_histogram *h, uint64_t *buckets, double *sum, uint64_t *count)
{
	duration_histogram_snapshot(h, buckets, sum, count);
}

Test(duration_histogram, bucket_edges_are_inclusive)
{
	static const struct {
		double seconds;
		size_t bucket;
	} cases[] = {
		{ 0, 0 },       { 0.1, 0 },  { 0.1000001, 1 }, { 0.25, 1 }, { 0.5, 2 },  { 1, 3 },
		{ 1.0000001, 4 }, { 2.5, 4 }, { 5, 5 },         { 10, 6 },   { 30, 7 },   { 60, 8 },
		{ 120, 9 },     { 120.001, 10 }, { 1e9, 10 },   { -5, 0 },   { NAN, 0 }, { INFINITY, 10 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct duration_histogram h;
		uint64_t buckets[DURATION_HISTOGRAM_BUCKETS], count;
		double sum;

		duration_histogram_init(&h);
		duration_histogram_observe(&h, cases[i].seconds);
		snapshot(&h, buckets, &sum, &count);
		cr_assert(eq(u64, count, 1));
		for (size_t b = 0; b < DURATION_HISTOGRAM_BUCKETS; b++)
			cr_assert(eq(u64, buckets[b], b == cases[i].bucket ? 1 : 0), "%g in bucket %zu, not %zu",
				  cases[i].seconds, cases[i].bucket, b);
		duration_histogram_destroy(&h);
	}
}

Test(duration_histogram, infinite_durations_keep_the_count_and_sum_to_inf)
{
	static struct exposition e;
	struct duration_histogram h = DURATION_HISTOGRAM_INIT;
	char *text;

	duration_histogram_observe(&h, 1);
	duration_histogram_observe(&h, INFINITY);
	text = render(&(struct metrics_input){ .tftp_durations = &h }, &e);
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_sum")->value, "+Inf"));
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_count")->value, "2"));
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_bucket{le=\"120\"}")->value, "1"));
	free(text);
}

/* The sum reads back as the very same double. */
Test(duration_histogram, sum_is_written_to_read_back_exactly)
{
	static struct exposition e;
	struct duration_histogram h = DURATION_HISTOGRAM_INIT;
	char *text;

	for (int i = 0; i < 3; i++)
		duration_histogram_observe(&h, 0.1);
	text = render(&(struct metrics_input){ .tftp_durations = &h }, &e);
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_sum")->value,
		     "0.30000000000000004"));
	free(text);
	duration_histogram_observe(&h, 0.2);
	text = render(&(struct metrics_input){ .tftp_durations = &h }, &e);
	cr_assert(eq(str, (char *)series(&e, "stampede_tftp_transfer_duration_seconds_sum")->value, "0.5"));
	free(text);
}

#define OBSERVERS    8
#define OBSERVATIONS 100000

static void *observer(void *arg)
{
	struct duration_histogram *h = arg;

	for (int i = 0; i < OBSERVATIONS; i++)
		duration_histogram_observe(h, (i & 1) ? 1.0 : 100.0);
	return NULL;
}

/* Eight threads at once, a renderer reading meanwhile: nothing lost, and
 * every snapshot is consistent (buckets add up to the count). */
Test(duration_histogram, concurrent_observers_lose_nothing)
{
	struct duration_histogram h;
	pthread_t threads[OBSERVERS];
	uint64_t buckets[DURATION_HISTOGRAM_BUCKETS], count, total;
	double sum;

	duration_histogram_init(&h);
	for (int i = 0; i < OBSERVERS; i++)
		cr_assert(eq(int, pthread_create(&threads[i], NULL, observer, &h), 0));
	for (int round = 0; round < 200; round++) {
		snapshot(&h, buckets, &sum, &count);
		total = 0;
		for (size_t b = 0; b < DURATION_HISTOGRAM_BUCKETS; b++)
			total += buckets[b];
		cr_assert(eq(u64, total, count), "a consistent snapshot");
	}
	for (int i = 0; i < OBSERVERS; i++)
		pthread_join(threads[i], NULL);
	snapshot(&h, buckets, &sum, &count);
	cr_assert(eq(u64, count, (uint64_t)OBSERVERS * OBSERVATIONS));
	cr_assert(eq(u64, buckets[3], (uint64_t)OBSERVERS * OBSERVATIONS / 2), "le=1");
	cr_assert(eq(u64, buckets[9], (uint64_t)OBSERVERS * OBSERVATIONS / 2), "le=120");
	cr_assert(eq(dbl, sum, (double)OBSERVERS * OBSERVATIONS / 2 * 101.0));
	duration_histogram_destroy(&h);
}

/* ---- escaping ----------------------------------------------------------------- */

Test(metrics, label_values_are_escaped_as_the_format_says)
{
	char out[64];

	cr_assert(eq(int, metrics_escape_label_value("plain_value", out, sizeof(out)), 11));
	cr_assert(eq(str, out, "plain_value"));
	cr_assert(eq(int, metrics_escape_label_value("a\"b\\c\nd", out, sizeof(out)), 10));
	cr_assert(eq(str, out, "a\\\"b\\\\c\\nd"));
	cr_assert(eq(int, metrics_escape_label_value("", out, sizeof(out)), 0));
	cr_assert(eq(str, out, ""));
	/* Exactly fitting, one byte short, and an escape cut in half. */
	cr_assert(eq(int, metrics_escape_label_value("abc", out, 4), 3));
	cr_assert(eq(int, metrics_escape_label_value("abcd", out, 4), -ENOBUFS));
	cr_assert(eq(int, metrics_escape_label_value("ab\"", out, 4), -ENOBUFS));
	cr_assert(eq(int, metrics_escape_label_value("a\"", out, 4), 3));
	cr_assert(eq(str, out, "a\\\""));
}
