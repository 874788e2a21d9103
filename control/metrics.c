/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of Stampede's counters; what is
 * exported and why the label sets are closed: metrics.h.
 *
 * The dataplane's counters are mapped by a table, one row per family: its
 * name, type and help, and where each of its series comes from (a counter
 * name, or a label value list with the counter prefix it is appended to). The
 * lists are the dataplane's own X-macros where it has them (DHCP decisions,
 * drop reasons, XDP verdicts), so a decision added there is exported without
 * an edit here; the TFTP counters are mapped by hand (their names do not all
 * follow one pattern), and a static assertion on their number makes adding
 * one without mapping it a compile error.
 *
 * A family's HELP and TYPE are written just before its first sample, so a
 * family none of whose counters is present leaves no trace -- the format
 * allows a HELP without samples, but a scraper then shows an empty metric
 * that looks like "zero".
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"          /* NET_DROP_REASONS */
#include "proxy_dhcp.h"   /* PROXY_DECISIONS, PROXY_RX_COUNT */
#include "stampede_xdp.h" /* SP_XDP_VERDICT_NAMES */
#include "tftp_server.h"  /* TFTP_COUNTERS */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the histogram ----------------------------------------------------------- */

static const double bucket_bounds[] = {
#define BOUND(value, text) value,
	DURATION_HISTOGRAM_BOUNDS(BOUND)
#undef BOUND
};
static const char *const bucket_labels[] = {
#define LABEL(value, text) text,
	DURATION_HISTOGRAM_BOUNDS(LABEL)
#undef LABEL
	"+Inf",
};
_Static_assert(ARRAY_SIZE(bucket_bounds) + 1 == DURATION_HISTOGRAM_BUCKETS, "DURATION_HISTOGRAM_BUCKETS is stale");
_Static_assert(ARRAY_SIZE(bucket_labels) == DURATION_HISTOGRAM_BUCKETS, "one le label per bucket");

void duration_histogram_init(struct duration_histogram *h)
{
	*h = (struct duration_histogram){ 0 };
	pthread_mutex_init(&h->lock, NULL);
}

void duration_histogram_destroy(struct duration_histogram *h)
{
	pthread_mutex_destroy(&h->lock);
}

void duration_histogram_observe(struct duration_histogram *h, double seconds)
{
	size_t i = 0;

	if (!(seconds >= 0))
		seconds = 0; /* negative or NaN */
	while (i < ARRAY_SIZE(bucket_bounds) && seconds > bucket_bounds[i])
		i++;
	pthread_mutex_lock(&h->lock);
	h->buckets[i]++;
	h->sum += seconds;
	h->count++;
	pthread_mutex_unlock(&h->lock);
}

void duration_histogram_snapshot(struct duration_histogram *h, uint64_t buckets[DURATION_HISTOGRAM_BUCKETS],
				 double *sum, uint64_t *count)
{
	pthread_mutex_lock(&h->lock);
	memcpy(buckets, h->buckets, sizeof(h->buckets));
	*sum = h->sum;
	*count = h->count;
	pthread_mutex_unlock(&h->lock);
}

/* ---- escaping ---------------------------------------------------------------- */

/* The format's escapes: backslash and line feed in HELP text, and double
 * quotes too in label values. NULL: the byte stands for itself. */
static const char *escape_of(char c, bool label_value)
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '"':
		return label_value ? "\\\"" : NULL;
	default:
		return NULL;
	}
}

int metrics_escape_label_value(const char *value, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = value; *p; p++) {
		const char *e = escape_of(*p, true);
		size_t add = e ? strlen(e) : 1;

		if (n + add >= len)
			return -ENOBUFS;
		if (e)
			memcpy(out + n, e, add);
		else
			out[n] = *p;
		n += add;
	}
	if (n >= len)
		return -ENOBUFS;
	out[n] = '\0';
	return (int)n;
}

static void put_escaped(FILE *out, const char *text, bool label_value)
{
	for (const char *p = text; *p; p++) {
		const char *e = escape_of(*p, label_value);

		if (e)
			fputs(e, out);
		else
			fputc(*p, out);
	}
}

/* A float as Prometheus reads it: Go's ParseFloat takes C's %g output, and
 * "+Inf", "-Inf" and "NaN" for the rest. The shortest of %.15g and %.17g that
 * reads back as the same double. */
static void format_double(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else {
		snprintf(buf, len, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, len, "%.17g", v);
	}
}

/* ---- the writer ---------------------------------------------------------------- */

enum metric_type { COUNTER, GAUGE, HISTOGRAM };
static const char *const type_names[] = { [COUNTER] = "counter", [GAUGE] = "gauge", [HISTOGRAM] = "histogram" };

struct writer {
	FILE *out;
	const char *name, *help;
	enum metric_type type;
	bool started; /* HELP and TYPE written */
};

static void begin_family(struct writer *w, const char *name, enum metric_type type, const char *help)
{
	w->name = name;
	w->type = type;
	w->help = help;
	w->started = false;
}

/* name + suffix, with one label or none, then the value as text. */
static void sample_text(struct writer *w, const char *suffix, const char *label, const char *label_value,
			const char *value)
{
	if (!w->started) {
		fprintf(w->out, "# HELP %s ", w->name);
		put_escaped(w->out, w->help, false);
		fprintf(w->out, "\n# TYPE %s %s\n", w->name, type_names[w->type]);
		w->started = true;
	}
	fputs(w->name, w->out);
	fputs(suffix, w->out);
	if (label) {
		fprintf(w->out, "{%s=\"", label);
		put_escaped(w->out, label_value, true);
		fputs("\"}", w->out);
	}
	fputc(' ', w->out);
	fputs(value, w->out);
	fputc('\n', w->out);
}

static void sample_u64(struct writer *w, const char *label, const char *label_value, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	sample_text(w, "", label, label_value, text);
}

/* ---- the dataplane's counters ------------------------------------------------ */

static const char *const dhcp_types[] = { "discover", "request", "inform", "other" };
_Static_assert(ARRAY_SIZE(dhcp_types) == PROXY_RX_COUNT, "a DHCP message kind was added: name it here");

static const char *const dhcp_decisions[] = {
#define DECISION_NAME(name, help) #name,
	PROXY_DECISIONS(DECISION_NAME)
#undef DECISION_NAME
};

static const char *const policy_results[] = { "applied", "refused" };

static const char *const tftp_refusals[] = { "malformed", "not_found", "access", "options",
					     "busy",      "no_memory", "write" };
static const char *const tftp_refusal_counters[] = {
	"tftp_refused_malformed", "tftp_refused_not_found", "tftp_refused_access", "tftp_refused_options",
	"tftp_refused_busy",      "tftp_refused_no_memory", "tftp_write_requests_refused",
};
_Static_assert(ARRAY_SIZE(tftp_refusals) == ARRAY_SIZE(tftp_refusal_counters), "parallel lists");

static const char *const tftp_results[] = { "started", "completed", "timed_out", "aborted" };

/* Every TFTP counter is mapped to a family in dp_families below; this breaks
 * the build when one is added or removed without updating them. */
#define COUNT_ONE(name, help) +1
_Static_assert(0 TFTP_COUNTERS(COUNT_ONE) == 32, "TFTP_COUNTERS changed: map the new counter in metrics.c");
#undef COUNT_ONE

static const char *const drop_reasons[] = {
#define DROP_NAME(name) #name,
	NET_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};

static const char *const xdp_verdicts[] = SP_XDP_VERDICT_NAMES;
_Static_assert(ARRAY_SIZE(xdp_verdicts) == SP_XDP_VERDICT_COUNT, "SP_XDP_VERDICT_NAMES is stale");

static const char *const skip_reasons[] = { "outside_root", "special", "unreadable" };
static const char *const reload_results[] = { "ok", "failed" };

/* One family of dataplane counters. The row of type HISTOGRAM has no name:
 * it marks where the caller's duration histogram is written. */
struct dp_family {
	const char *name;
	enum metric_type type;
	const char *help;
	const char *counter; /* unlabelled: the dataplane counter */
	/* Labelled: label name, its values, and for each value the counter
	 * named prefix + value, or counters[i] when counters is set. */
	const char *label;
	const char *const *values;
	size_t n;
	const char *prefix;
	const char *const *counters;
};

#define ONE(family, type_, help_, counter_) { .name = (family), .type = (type_), .help = (help_), .counter = (counter_) }
#define BY(family, type_, help_, label_, list, prefix_)                                                         \
	{ .name = (family), .type = (type_), .help = (help_), .label = (label_), .values = (list),               \
	  .n = ARRAY_SIZE(list), .prefix = (prefix_) }

static const struct dp_family dp_families[] = {
	/* DHCP (proxy_dhcp.c) */
	BY("stampede_dhcp_requests_total", COUNTER, "DHCP requests received from PXE clients, by message type",
	   "type", dhcp_types, "dhcp_received_"),
	BY("stampede_dhcp_decisions_total", COUNTER, "DHCP requests by what the proxy decided (silence has a reason)",
	   "decision", dhcp_decisions, "dhcp_"),
	ONE("stampede_dhcp_policy_loaded", GAUGE, "1 when the dataplane holds a proxyDHCP policy",
	    "dhcp_policy_loaded"),
	BY("stampede_dhcp_policies_total", COUNTER, "Policies sent by the control plane, by outcome", "result",
	   policy_results, "policies_"),
	/* TFTP (tftp_server.c) */
	ONE("stampede_tftp_requests_total", COUNTER, "TFTP read requests received", "tftp_requests"),
	{ .name = "stampede_tftp_refused_total", .type = COUNTER, .help = "TFTP requests refused, by cause",
	  .label = "reason", .values = tftp_refusals, .n = ARRAY_SIZE(tftp_refusals),
	  .counters = tftp_refusal_counters },
	BY("stampede_tftp_transfers_total", COUNTER, "TFTP transfers started and how they ended", "result",
	   tftp_results, "tftp_transfers_"),
	ONE("stampede_tftp_evicted_unacknowledged_total", COUNTER,
	    "TFTP transfers never acknowledged, dropped for a new request on a full session table",
	    "tftp_evicted_unacknowledged"),
	ONE("stampede_tftp_transfers_revived_total", COUNTER,
	    "TFTP transfers evicted before their first ACK, opened again by it", "tftp_transfers_revived"),
	ONE("stampede_tftp_shed_overloaded_total", COUNTER,
	    "TFTP requests dropped unanswered on a full session table while the dataplane was behind",
	    "tftp_shed_overloaded"),
	ONE("stampede_tftp_transfers_resumed_total", COUNTER,
	    "TFTP transfers a crashed dataplane left, carried on from the journal", "tftp_transfers_resumed"),
	ONE("stampede_tftp_resumes_refused_total", COUNTER,
	    "Journaled TFTP transfers not carried on (file changed, limits, options)", "tftp_resumes_refused"),
	ONE("stampede_tftp_oacks_total", COUNTER, "TFTP option acknowledgements sent", "tftp_oacks_sent"),
	ONE("stampede_tftp_bytes_total", COUNTER, "File bytes sent in TFTP DATA packets", "tftp_data_bytes"),
	ONE("stampede_tftp_packets_total", COUNTER, "TFTP DATA packets sent, first sends and retransmissions",
	    "tftp_data_packets"),
	ONE("stampede_tftp_retransmits_total", COUNTER, "TFTP DATA and OACK packets sent again", "tftp_retransmits"),
	ONE("stampede_tftp_rtt_samples_total", COUNTER,
	    "TFTP round trips measured (none from the ACK of anything sent twice)", "tftp_rtt_samples"),
	ONE("stampede_tftp_rtt_microseconds_total", COUNTER, "Sum of the TFTP round trips measured, in microseconds",
	    "tftp_rtt_sum_us"),
	ONE("stampede_tftp_rto_microseconds_total", COUNTER,
	    "Sum of the retransmission timeouts the TFTP round-trip samples set, in microseconds", "tftp_rto_sum_us"),
	ONE("stampede_tftp_rto_backoffs_total", COUNTER,
	    "TFTP retransmission timeouts that resent, each doubling its transfer's timeout", "tftp_rto_backoffs"),
	ONE("stampede_tftp_rto_backoffs_capped_total", COUNTER,
	    "TFTP retransmission timeouts whose doubled timeout was held at the maximum", "tftp_rto_backoffs_capped"),
	ONE("stampede_tftp_duplicate_acks_total", COUNTER, "TFTP ACKs for a block already acknowledged (ignored)",
	    "tftp_duplicate_acks"),
	ONE("stampede_tftp_duplicate_requests_total", COUNTER,
	    "TFTP requests repeated: answered from a transfer not started, or late copies ignored",
	    "tftp_duplicate_requests"),
	ONE("stampede_tftp_stray_packets_total", COUNTER, "TFTP ACKs beyond the window and other unexpected packets",
	    "tftp_stray_packets"),
	ONE("stampede_tftp_unknown_tid_total", COUNTER,
	    "Packets to a TFTP session port from the wrong peer or after the end", "tftp_unknown_tid"),
	ONE("stampede_tftp_errors_sent_total", COUNTER, "TFTP ERROR packets sent", "tftp_errors_sent"),
	ONE("stampede_tftp_tx_no_buffer_total", COUNTER,
	    "TFTP packets not sent for lack of a buffer (retried by the timer)", "tftp_tx_no_buffer"),
	ONE("stampede_tftp_active_sessions", GAUGE, "TFTP sessions in progress", "tftp_active_sessions"),
	/* Here, with the other stampede_tftp_ families: the histogram the
	 * control plane feeds (not a dataplane counter). */
	{ .type = HISTOGRAM },
	/* The polling loop (main.c, net.c) */
	ONE("stampede_dataplane_rx_packets_total", COUNTER, "Frames received by the dataplane", "rx_packets"),
	ONE("stampede_dataplane_rx_bytes_total", COUNTER, "Bytes received by the dataplane", "rx_bytes"),
	ONE("stampede_dataplane_tx_packets_total", COUNTER, "Frames sent by the dataplane", "tx_packets"),
	ONE("stampede_dataplane_tx_bytes_total", COUNTER, "Bytes sent by the dataplane", "tx_bytes"),
	ONE("stampede_dataplane_tx_dropped_total", COUNTER, "Frames the dataplane could not send", "tx_dropped"),
	ONE("stampede_dataplane_tx_backlog", GAUGE, "Frames waiting for the driver to take them", "tx_backlog"),
	BY("stampede_dataplane_drops_total", COUNTER, "Frames not handed to a protocol, by reason", "reason",
	   drop_reasons, "drop_"),
	/* The DPDK driver (rte_eth_stats) */
	ONE("stampede_port_rx_missed_total", COUNTER, "Frames the NIC dropped: no receive descriptor free",
	    "port_rx_missed"),
	ONE("stampede_port_rx_errors_total", COUNTER, "Erroneous frames received by the port", "port_rx_errors"),
	ONE("stampede_port_rx_nombuf_total", COUNTER, "Frames dropped by the port for lack of an mbuf",
	    "port_rx_nombuf"),
	ONE("stampede_port_tx_errors_total", COUNTER, "Frames the port failed to send", "port_tx_errors"),
	/* The XDP program */
	BY("stampede_xdp_verdicts_total", COUNTER, "Packets seen by the XDP program, by verdict", "verdict",
	   xdp_verdicts, "xdp_"),
	/* The image cache (cache.c) */
	ONE("stampede_cache_files", GAUGE, "Files in the current image cache version", "cache_files"),
	ONE("stampede_cache_bytes", GAUGE, "Bytes in the current image cache version", "cache_bytes"),
	ONE("stampede_cache_budget_bytes", GAUGE, "Memory budget of the image cache", "cache_budget_bytes"),
	BY("stampede_cache_skipped_files", GAUGE, "Entries of the TFTP root left out of the current cache version",
	   "reason", skip_reasons, "cache_skipped_"),
	BY("stampede_cache_reloads_total", COUNTER, "Image cache reloads, by outcome", "result", reload_results,
	   "cache_reloads_"),
	ONE("stampede_cache_swaps_total", COUNTER, "New cache versions taken up by the polling loop", "cache_swaps"),
	ONE("stampede_cache_versions_freed_total", COUNTER, "Retired cache versions freed", "cache_versions_freed"),
	/* Boot events */
	ONE("stampede_events_lost_total", COUNTER, "Boot events lost because the event ring was full", "events_lost"),
	ONE("stampede_events_dropped_total", COUNTER, "Boot events dropped because a subscriber did not keep up",
	    "events_dropped"),
};

#undef ONE
#undef BY

static void write_dp_family(struct writer *w, const struct dp_family *f, const struct dataplane_stats *stats)
{
	uint64_t v;

	begin_family(w, f->name, f->type, f->help);
	if (!f->label) {
		if (dataplane_stats_get(stats, f->counter, &v))
			sample_u64(w, NULL, NULL, v);
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		char counter[DATAPLANE_STATS_NAME_MAX + 1];
		const char *name = counter;

		if (f->counters)
			name = f->counters[i];
		else if ((size_t)snprintf(counter, sizeof(counter), "%s%s", f->prefix, f->values[i]) >= sizeof(counter))
			continue; /* longer than any counter can be */
		if (dataplane_stats_get(stats, name, &v))
			sample_u64(w, f->label, f->values[i], v);
	}
}

/* ---- the control plane's own ------------------------------------------------- */

static void write_histogram(struct writer *w, struct duration_histogram *h)
{
	uint64_t buckets[DURATION_HISTOGRAM_BUCKETS], count, cumulative = 0;
	double sum;
	char text[32];

	duration_histogram_snapshot(h, buckets, &sum, &count);
	begin_family(w, "stampede_tftp_transfer_duration_seconds", HISTOGRAM,
		     "Duration of TFTP transfers as observed by the control plane (request to last acknowledgement)");
	for (size_t i = 0; i < DURATION_HISTOGRAM_BUCKETS; i++) {
		cumulative += buckets[i];
		snprintf(text, sizeof(text), "%" PRIu64, cumulative);
		sample_text(w, "_bucket", "le", bucket_labels[i], text);
	}
	format_double(sum, text, sizeof(text));
	sample_text(w, "_sum", NULL, NULL, text);
	snprintf(text, sizeof(text), "%" PRIu64, count);
	sample_text(w, "_count", NULL, NULL, text);
}

static void write_http(struct writer *w, const struct http_server_stats *s)
{
	static const char *const classes[] = { NULL, "1xx", "2xx", "3xx", "4xx", "5xx" };
	_Static_assert(ARRAY_SIZE(classes) == ARRAY_SIZE(s->status), "one class per status slot");

	begin_family(w, "stampede_http_requests_total", COUNTER, "HTTP responses given, by status class");
	for (size_t i = 1; i < ARRAY_SIZE(classes); i++)
		sample_u64(w, "code", classes[i], s->status[i]);
	begin_family(w, "stampede_http_malformed_total", COUNTER,
		     "HTTP requests cut short before reaching the server (bad syntax, client gone)");
	sample_u64(w, NULL, NULL, s->malformed);
	begin_family(w, "stampede_http_bytes_total", COUNTER, "Body bytes of HTTP responses sent completely");
	sample_u64(w, NULL, NULL, s->bytes_sent);
	begin_family(w, "stampede_http_range_requests_total", COUNTER, "HTTP 206 responses (one byte range)");
	sample_u64(w, NULL, NULL, s->range_requests);
	begin_family(w, "stampede_http_traversal_refused_total", COUNTER,
		     "HTTP requests refused for a path that could leave the root");
	sample_u64(w, NULL, NULL, s->traversal_refused);
	begin_family(w, "stampede_http_scripts_total", COUNTER, "iPXE scripts served at /boot.ipxe");
	sample_u64(w, NULL, NULL, s->scripts);
}

static void write_machines(struct writer *w, const struct metrics_machines *m)
{
	begin_family(w, "stampede_machines", GAUGE, "Machines in the table, by boot state");
	sample_u64(w, "state", "booting", m->booting);
	sample_u64(w, "state", "handed_off", m->handed_off);
	sample_u64(w, "state", "failed", m->failed);
	sample_u64(w, "state", "ignored", m->ignored);
	begin_family(w, "stampede_machines_tracked", GAUGE, "Machines in the table, whatever their state");
	sample_u64(w, NULL, NULL, m->total);
	begin_family(w, "stampede_machines_evicted_total", COUNTER,
		     "Machines dropped from the table to keep it within its limit");
	sample_u64(w, NULL, NULL, m->evicted);
}

int metrics_write(FILE *out, const struct metrics_input *in)
{
	struct writer w = { .out = out };

	begin_family(&w, "stampede_dataplane_up", GAUGE, "1 when the dataplane's counters could be read");
	sample_u64(&w, NULL, NULL, in->dataplane ? 1 : 0);
	for (size_t i = 0; i < ARRAY_SIZE(dp_families); i++) {
		if (dp_families[i].type == HISTOGRAM) {
			if (in->tftp_durations)
				write_histogram(&w, in->tftp_durations);
		} else if (in->dataplane) {
			write_dp_family(&w, &dp_families[i], in->dataplane);
		}
	}
	if (in->http)
		write_http(&w, in->http);
	if (in->machines)
		write_machines(&w, in->machines);
	return ferror(out) ? -EIO : 0;
}

char *metrics_render(const struct metrics_input *in, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);
	int r;

	if (!out)
		return NULL;
	r = metrics_write(out, in);
	if (fclose(out) != 0 || r < 0) {
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	if (len)
		*len = n;
	return text;
}
