/* SPDX-License-Identifier: BSD-2-Clause */
/* Small things every benchmark client needs: clocks, numbers, percentiles, JSON strings. */
#ifndef STAMPEDE_BENCH_UTIL_H
#define STAMPEDE_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

uint64_t bench_now_ns(void);        /* CLOCK_MONOTONIC */
uint64_t bench_thread_cpu_ns(void); /* this thread's CPU time, even when descheduled */
/* Decimal, no sign, within [min, max]. */
bool bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* 64 hex digits to 32 bytes. */
bool bench_parse_sha256(const char *hex, unsigned char out[32]);
/* Nearest-rank percentile of sorted nanoseconds, in milliseconds (0 when n is 0). */
double bench_percentile_ms(const uint64_t *sorted_ns, size_t n, double p);
void bench_sort_u64(uint64_t *v, size_t n);
/* A JSON string literal; bytes outside printable ASCII as \u00XX. */
void bench_json_str(FILE *f, const char *s);
/* Raises RLIMIT_NOFILE to at least need (the hard limit too, as root). */
void bench_raise_nofile(long need, const char *prog);
/* Maps a whole file read-only; NULL with errno set on failure. */
const uint8_t *bench_map_file(const char *path, uint64_t *size);

#endif
