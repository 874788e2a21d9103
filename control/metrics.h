/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus metrics (text exposition format 0.0.4) for GET /metrics.
 *
 * The renderer is a function of its input: the dataplane's counters as read
 * over its socket (dataplane_stats.h), the HTTP server's counters, the machine
 * table's counts and a histogram of TFTP transfer durations the caller feeds.
 * It does no I/O of its own, so a scrape costs one dataplane_stats_read() by
 * the caller and this.
 *
 * Cardinality is fixed: every label value comes from a list compiled into the
 * program (the dataplane's X-macro lists of DHCP decisions, drop reasons and
 * XDP verdicts, or a list here), never from what a client sent, so no number of
 * machines, files or requests can grow the number of series. A family whose
 * counters the dataplane did not print (no XDP program, no cache loaded, a
 * driver without port statistics) is left out, HELP and TYPE included; a
 * counter the dataplane prints that this file does not know is ignored. When
 * the dataplane could not be read, stampede_dataplane_up is 0 and every family
 * that comes from it is left out: an absent series is "unknown", where a zero
 * would claim nothing happened.
 *
 * Families (counters end in _total, as 0.0.4 names them):
 *   stampede_dataplane_up                            gauge  1 or 0
 *   stampede_dhcp_requests_total{type}               discover|request|inform|other
 *   stampede_dhcp_decisions_total{decision}          PROXY_DECISIONS
 *   stampede_dhcp_policy_loaded                      gauge
 *   stampede_dhcp_policies_total{result}             applied|refused
 *   stampede_tftp_requests_total
 *   stampede_tftp_refused_total{reason}              malformed|not_found|access|options|busy|no_memory|write
 *   stampede_tftp_transfers_total{result}            started|completed|timed_out|aborted
 *   stampede_tftp_oacks_total, _bytes_total, _packets_total, _retransmits_total,
 *   stampede_tftp_duplicate_acks_total, _duplicate_requests_total,
 *   stampede_tftp_stray_packets_total, _unknown_tid_total, _errors_sent_total,
 *   stampede_tftp_tx_no_buffer_total
 *   stampede_tftp_active_sessions                    gauge
 *   stampede_tftp_transfer_duration_seconds          histogram (fed by the caller)
 *   stampede_dataplane_rx_packets_total, _rx_bytes_total, _tx_packets_total,
 *   stampede_dataplane_tx_bytes_total, _tx_dropped_total
 *   stampede_dataplane_tx_backlog                    gauge
 *   stampede_dataplane_drops_total{reason}           NET_DROP_REASONS
 *   stampede_port_rx_missed_total, _rx_errors_total, _rx_nombuf_total, _tx_errors_total
 *   stampede_xdp_verdicts_total{verdict}             SP_XDP_VERDICT_NAMES
 *   stampede_cache_files, stampede_cache_bytes, stampede_cache_budget_bytes   gauges
 *   stampede_cache_skipped_files{reason}             gauge: outside_root|special|unreadable
 *   stampede_cache_reloads_total{result}             ok|failed
 *   stampede_cache_swaps_total, stampede_cache_versions_freed_total
 *   stampede_events_lost_total, stampede_events_dropped_total
 *   stampede_http_requests_total{code}               1xx|2xx|3xx|4xx|5xx
 *   stampede_http_malformed_total, _bytes_total, _range_requests_total,
 *   stampede_http_traversal_refused_total, _scripts_total
 *   stampede_machines{state}                         gauge: booting|handed_off|failed|ignored
 *   stampede_machines_tracked                        gauge: the table's size, all states
 *   stampede_machines_evicted_total
 */
#ifndef STAMPEDE_METRICS_H
#define STAMPEDE_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane_stats.h"
#include "http_server.h"

/*
 * Upper bounds of the duration buckets, in seconds, and their "le" labels.
 * From a 64 KiB iPXE over a LAN (well under 0.1 s) to a 1 GiB ISO at 10 MB/s
 * (about 100 s): Prometheus' default buckets stop at 10 s, which would put
 * every large image into +Inf.
 */
#define DURATION_HISTOGRAM_BOUNDS(X)                                                    \
	X(0.1, "0.1") X(0.25, "0.25") X(0.5, "0.5") X(1, "1") X(2.5, "2.5") X(5, "5")      \
	X(10, "10") X(30, "30") X(60, "60") X(120, "120")
/* The bounded buckets above, plus +Inf. */
#define DURATION_HISTOGRAM_BUCKETS 11

/*
 * Observations per bucket (not cumulative: bucket i counts bound[i-1] < v <=
 * bound[i]; the last one is +Inf), their sum and count. Fed from the event
 * thread and read by HTTP threads, hence the mutex.
 */
struct duration_histogram {
	pthread_mutex_t lock;
	uint64_t buckets[DURATION_HISTOGRAM_BUCKETS];
	double sum;
	uint64_t count;
};

/* Static initialiser; duration_histogram_init() does the same at run time. */
#define DURATION_HISTOGRAM_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

void duration_histogram_init(struct duration_histogram *h);
void duration_histogram_destroy(struct duration_histogram *h);
/* One transfer of this many seconds. Negative and NaN durations (a clock
 * stepped back) count as 0 s, +Inf lands in the +Inf bucket with a sum of
 * +Inf: the count stays equal to the number of transfers either way. */
void duration_histogram_observe(struct duration_histogram *h, double seconds);
/* A consistent copy (buckets, sum and count from the same instant). */
void duration_histogram_snapshot(struct duration_histogram *h, uint64_t buckets[DURATION_HISTOGRAM_BUCKETS],
				 double *sum, uint64_t *count);

/* What the machine table holds, by state; evicted counts entries dropped to
 * keep the table within its limit. */
struct metrics_machines {
	uint64_t booting, handed_off, failed, ignored;
	uint64_t total; /* every entry of the table, whatever its state */
	uint64_t evicted;
};

struct metrics_input {
	/* NULL: the dataplane could not be read (stampede_dataplane_up 0 and
	 * no family from it). */
	const struct dataplane_stats *dataplane;
	const struct http_server_stats *http;     /* NULL: no http families */
	const struct metrics_machines *machines;  /* NULL: no machine families */
	struct duration_histogram *tftp_durations; /* NULL: no histogram (it is locked to be read) */
};

/* The Content-Type of what metrics_render() returns. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The exposition text, malloc'd and NUL-terminated (*len its length when len
 * is not NULL); NULL with errno ENOMEM. */
char *metrics_render(const struct metrics_input *in, size_t *len);
/* The same, written to out. Returns 0 or -EIO when out reported an error. */
int metrics_write(FILE *out, const struct metrics_input *in);

/*
 * A label value escaped as the format requires (backslash, double quote and
 * line feed become \\, \" and \n). Returns the escaped length, or -ENOBUFS
 * when it does not fit len (with its NUL). Exposed for the tests: every value
 * written goes through it.
 */
int metrics_escape_label_value(const char *value, char *out, size_t len);

#endif
