/* SPDX-License-Identifier: BSD-2-Clause */
#include "swarm_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define THROUGHPUT_WINDOW 10 /* samples */

static const char *const stage_names[] = {
#define X(id, name) name,
	SWARM_STAGES(X)
#undef X
};

const char *swarm_stage_name(enum swarm_stage s)
{
	return (unsigned)s < SWARM_STAGE_COUNT ? stage_names[s] : "?";
}

struct stats {
	size_t n;
	double p50, p90, p99, max;
};

/* Percentiles of one stage's durations (stage < 0: the whole boot). */
static struct stats stage_stats(const struct swarm_record *r, size_t n, int stage)
{
	uint64_t *v = malloc((n ? n : 1) * sizeof(*v));
	struct stats st = { 0 };

	if (!v)
		return st;
	for (size_t i = 0; i < n; i++) {
		if (stage < 0) {
			if (r[i].done)
				v[st.n++] = r[i].t_end - r[i].t_start;
		} else if (r[i].t_stage_end[stage]) {
			v[st.n++] = r[i].t_stage_end[stage] - r[i].t_stage_begin[stage];
		}
	}
	bench_sort_u64(v, st.n);
	st.p50 = bench_percentile_ms(v, st.n, 50);
	st.p90 = bench_percentile_ms(v, st.n, 90);
	st.p99 = bench_percentile_ms(v, st.n, 99);
	st.max = st.n ? (double)v[st.n - 1] / 1e6 : 0;
	free(v);
	return st;
}

struct reason_count {
	const char *reason;
	size_t count;
};

/* Failures grouped by reason, most frequent first; returns how many groups. */
static size_t group_failures(const struct swarm_record *r, size_t n, struct reason_count *out)
{
	size_t groups = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (!r[i].failed)
			continue;
		for (k = 0; k < groups && strcmp(out[k].reason, r[i].reason); k++)
			;
		if (k == groups)
			out[groups++] = (struct reason_count){ r[i].reason, 0 };
		out[k].count++;
	}
	for (size_t i = 1; i < groups; i++)
		for (size_t j = i; j > 0 && out[j].count > out[j - 1].count; j--) {
			struct reason_count t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return groups;
}

struct totals {
	size_t booted, failed;
	uint64_t tftp_bytes, http_bytes;
	uint32_t dhcp_sends;
};

static struct totals sum(const struct swarm_record *r, size_t n)
{
	struct totals t = { 0 };

	for (size_t i = 0; i < n; i++) {
		t.booted += r[i].done;
		t.failed += r[i].failed;
		t.tftp_bytes += r[i].tftp_bytes;
		t.http_bytes += r[i].http_bytes;
		t.dhcp_sends += r[i].dhcp_sends;
	}
	return t;
}

static double mb_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / ((double)ns / 1e9) / 1e6 : 0;
}

void swarm_report_text(FILE *f, const struct swarm_run_info *info, const struct swarm_record *r, size_t n)
{
	struct totals t = sum(r, n);
	struct reason_count *groups = calloc(n ? n : 1, sizeof(*groups));
	double cpu = info->cpu_user_s + info->cpu_sys_s, loop_s = (double)info->loop_ns / 1e9;
	size_t n_groups = groups ? group_failures(r, n, groups) : 0;

	fprintf(f, "server:          %s (mode %s, arch %s)\n", info->server, info->mode, info->arch);
	fprintf(f, "clients:         %lu (%s)\n", info->clients, info->ramp_ms ? "ramp" : "all at once");
	if (info->ramp_ms)
		fprintf(f, "ramp:            %" PRIu64 " ms\n", info->ramp_ms);
	fprintf(f, "booted:          %zu\n", t.booted);
	fprintf(f, "failed:          %zu\n", t.failed);
	for (size_t k = 0; k < n_groups; k++)
		fprintf(f, "  %6zu x %s\n", groups[k].count, groups[k].reason);
	fprintf(f, "last done:       %.3f s after the first client started\n", (double)info->wall_ns / 1e9);
	fprintf(f, "transferred:     TFTP %" PRIu64 " bytes, HTTP %" PRIu64 " bytes\n", t.tftp_bytes, t.http_bytes);
	fprintf(f, "aggregate:       %.1f MB/s (TFTP and HTTP over the whole run)\n",
		mb_per_s(t.tftp_bytes + t.http_bytes, info->wall_ns));
	fprintf(f, "%-16s %7s %10s %10s %10s %10s\n", "stage (ms)", "count", "p50", "p90", "p99", "max");
	for (int s = 0; s < SWARM_STAGE_COUNT; s++) {
		struct stats st = stage_stats(r, n, s);

		if (st.n)
			fprintf(f, "  %-14s %7zu %10.2f %10.2f %10.2f %10.2f\n", stage_names[s], st.n, st.p50, st.p90,
				st.p99, st.max);
	}
	{
		struct stats st = stage_stats(r, n, -1);

		fprintf(f, "  %-14s %7zu %10.2f %10.2f %10.2f %10.2f\n", "boot (all)", st.n, st.p50, st.p90, st.p99,
			st.max);
	}
	fprintf(f, "swarm CPU:       %.3f s (%.1f%% of one core; user %.3f s, sys %.3f s)\n", cpu,
		loop_s > 0 ? 100.0 * cpu / loop_s : 0, info->cpu_user_s, info->cpu_sys_s);
	fprintf(f, "datagrams:       rx %" PRIu64 ", tx %" PRIu64 " (DHCP sends %" PRIu32 ")\n", info->pkts_rx,
		info->pkts_tx, t.dhcp_sends);
	free(groups);
}

static void json_stats(FILE *f, const char *name, struct stats st, bool comma)
{
	fprintf(f, "    \"%s\": {\"count\": %zu, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}%s\n",
		name, st.n, st.p50, st.p90, st.p99, st.max, comma ? "," : "");
}

static int finish(FILE *f, const char *path)
{
	if (ferror(f) | (fclose(f) != 0)) {
		fprintf(stderr, "swarm: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

int swarm_report_json(const char *path, const struct swarm_run_info *info, const struct swarm_record *r, size_t n)
{
	struct totals t = sum(r, n);
	struct reason_count *groups = calloc(n ? n : 1, sizeof(*groups));
	size_t n_groups = groups ? group_failures(r, n, groups) : 0;
	double cpu = info->cpu_user_s + info->cpu_sys_s, loop_s = (double)info->loop_ns / 1e9;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "swarm: %s: %s\n", path, strerror(errno));
		free(groups);
		return -1;
	}
	fprintf(f, "{\n  \"server\": ");
	bench_json_str(f, info->server);
	fprintf(f, ",\n  \"mode\": \"%s\",\n  \"arch\": \"%s\",\n  \"clients\": %lu,\n  \"ramp_ms\": %" PRIu64 ",\n",
		info->mode, info->arch, info->clients, info->ramp_ms);
	fprintf(f, "  \"booted\": %zu,\n  \"failed\": %zu,\n  \"failures\": {", t.booted, t.failed);
	for (size_t k = 0; k < n_groups; k++) {
		fprintf(f, "%s", k ? ", " : "");
		bench_json_str(f, groups[k].reason);
		fprintf(f, ": %zu", groups[k].count);
	}
	fprintf(f, "},\n  \"last_done_s\": %.6f,\n", (double)info->wall_ns / 1e9);
	fprintf(f, "  \"tftp_bytes\": %" PRIu64 ",\n  \"http_bytes\": %" PRIu64 ",\n  \"mb_per_s\": %.3f,\n",
		t.tftp_bytes, t.http_bytes, mb_per_s(t.tftp_bytes + t.http_bytes, info->wall_ns));
	fprintf(f, "  \"stages\": {\n");
	for (int s = 0; s < SWARM_STAGE_COUNT; s++)
		json_stats(f, stage_names[s], stage_stats(r, n, s), true);
	json_stats(f, "boot", stage_stats(r, n, -1), false);
	fprintf(f, "  },\n  \"cpu_s\": %.3f,\n  \"cpu_user_s\": %.3f,\n  \"cpu_sys_s\": %.3f,\n  \"cpu_pct\": %.1f,\n",
		cpu, info->cpu_user_s, info->cpu_sys_s, loop_s > 0 ? 100.0 * cpu / loop_s : 0);
	fprintf(f, "  \"pkts_rx\": %" PRIu64 ",\n  \"pkts_tx\": %" PRIu64 ",\n  \"dhcp_sends\": %" PRIu32 "\n}\n",
		info->pkts_rx, info->pkts_tx, t.dhcp_sends);
	free(groups);
	return finish(f, path);
}

static void csv_ms(FILE *f, uint64_t t)
{
	if (t)
		fprintf(f, ",%.3f", (double)t / 1e6);
	else
		fputs(",", f);
}

static void csv_sha256(FILE *f, const unsigned char d[32])
{
	for (int k = 0; k < 32; k++)
		fprintf(f, "%02x", d[k]);
}

int swarm_report_csv(const char *path, const struct swarm_record *r, size_t n, bool sha256)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "swarm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("client,mac,arch,result,start_ms", f);
	for (int s = 0; s < SWARM_STAGE_COUNT; s++)
		fprintf(f, ",%s_begin_ms,%s_end_ms", stage_names[s], stage_names[s]);
	fputs(sha256 ? ",end_ms,tftp_bytes,http_bytes,dhcp_sends,tftp_sha256,kernel_sha256,initrd_sha256,reason\n"
		     : ",end_ms,tftp_bytes,http_bytes,dhcp_sends,reason\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *m = r[i].mac;

		fprintf(f, "%zu,%02x:%02x:%02x:%02x:%02x:%02x,%u,%s", i, m[0], m[1], m[2], m[3], m[4], m[5], r[i].arch,
			r[i].done ? "booted" : r[i].failed ? "failed" : "unfinished");
		fprintf(f, ",%.3f", (double)r[i].t_start / 1e6);
		for (int s = 0; s < SWARM_STAGE_COUNT; s++) {
			csv_ms(f, r[i].t_stage_begin[s]);
			csv_ms(f, r[i].t_stage_end[s]);
		}
		csv_ms(f, r[i].t_end);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu32, r[i].tftp_bytes, r[i].http_bytes, r[i].dhcp_sends);
		if (sha256) {
			fputc(',', f);
			if (r[i].have_tftp_sha256)
				csv_sha256(f, r[i].tftp_sha256);
			fputc(',', f);
			if (r[i].have_kernel_sha256)
				csv_sha256(f, r[i].kernel_sha256);
			fputc(',', f);
			for (unsigned k = 0; k < r[i].n_initrd_sha256; k++) {
				if (k)
					fputc(';', f);
				csv_sha256(f, r[i].initrd_sha256[k]);
			}
		}
		fputs(",\"", f);
		for (const char *c = r[i].reason; *c; c++)
			fputs(*c == '"' ? "\"\"" : (char[]){ *c, 0 }, f);
		fputs("\"\n", f);
	}
	return finish(f, path);
}

int swarm_report_timeline(const char *path, const struct swarm_sample *s, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "swarm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("t_s,tftp_mb_per_s,http_mb_per_s", f);
	for (int k = 0; k < SWARM_STAGE_COUNT; k++)
		fprintf(f, ",%s_done", stage_names[k]);
	fputs(",booted,failed\n", f);
	for (size_t i = 0; i < n; i++) {
		/* Throughput over the trailing window of samples: smooth enough to read. */
		size_t from = i >= THROUGHPUT_WINDOW ? i - THROUGHPUT_WINDOW : 0;
		uint64_t dt = s[i].t - (i ? s[from].t : 0);
		uint64_t tftp = s[i].tftp_bytes - (i ? s[from].tftp_bytes : 0);
		uint64_t http = s[i].http_bytes - (i ? s[from].http_bytes : 0);

		fprintf(f, "%.3f,%.2f,%.2f", (double)s[i].t / 1e9, mb_per_s(tftp, dt), mb_per_s(http, dt));
		for (int k = 0; k < SWARM_STAGE_COUNT; k++)
			fprintf(f, ",%" PRIu32, s[i].stage_done[k]);
		fprintf(f, ",%" PRIu32 ",%" PRIu32 "\n", s[i].booted, s[i].failed);
	}
	return finish(f, path);
}
