/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dataplane's counters, as the control plane reads them: one "stats"
 * command on the dataplane's unix socket (dataplane/control_channel.h), whose
 * reply is "name value" lines ended by a line ".".
 *
 * The reply comes from another process, so it is treated like input from the
 * wire: everything is bounded (time, bytes, number of counters, name length)
 * and a line that does not have the exact form "name value" -- a name of
 * [a-z0-9_], one space, a decimal unsigned 64-bit value -- is skipped and
 * counted rather than trusted. A name seen twice keeps its first value and the
 * repeat counts as malformed, so the counters never hold two values for a name
 * (Prometheus would reject the duplicate series they would turn into).
 *
 * The parser is pure (text in, counters out) so tests and fuzzers feed it any
 * bytes; dataplane_stats_read() is the socket around it. Counters are kept
 * sorted by name: lookups are a binary search.
 */
#ifndef STAMPEDE_DATAPLANE_STATS_H
#define STAMPEDE_DATAPLANE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name, without its NUL. The dataplane's longest today is
 * "cache_skipped_outside_root" (26); 63 leaves room without letting a peer
 * make us store arbitrary text. */
#define DATAPLANE_STATS_NAME_MAX 63
/* Counters kept from one reply. The dataplane prints about a hundred; a reply
 * with more is refused (-E2BIG) rather than silently cut short. */
#define DATAPLANE_STATS_MAX_COUNTERS 4096
/* Bytes read from the socket for one reply: 4096 of the longest well-formed
 * lines (63 + 1 + 20 digits + '\n' = 85 bytes) is 348,160; the rest is slack
 * for skipped lines. A reply still unfinished at this size is refused. */
#define DATAPLANE_STATS_MAX_REPLY (512u * 1024u)
/* The dataplane answers from its control thread in well under a millisecond;
 * two seconds means it is stuck, and a scrape must not hang on it. */
#define DATAPLANE_STATS_TIMEOUT_MS 2000

struct dataplane_stat {
	char name[DATAPLANE_STATS_NAME_MAX + 1];
	uint64_t value;
};

struct dataplane_stats {
	size_t n;
	struct dataplane_stat *items; /* n of them, sorted by name; malloc'd */
	size_t malformed;             /* lines skipped: bad form, bad name, overflow, repeats */
};

/*
 * Parses a "stats" reply: text[0..len) need not be NUL-terminated and may hold
 * any bytes. Parsing stops at the line "."; anything after it is ignored.
 * Returns 0 with *out filled (free it with dataplane_stats_free), or a negative
 * errno with *out left empty and err saying why:
 *   -EPROTO     no line "." (the reply was cut short)
 *   -EREMOTEIO  the dataplane answered "error: ..." (quoted in err)
 *   -E2BIG      more than DATAPLANE_STATS_MAX_COUNTERS well-formed counters
 *   -ENOMEM
 */
int dataplane_stats_parse(const char *text, size_t len, struct dataplane_stats *out, char *err, size_t err_len);

/*
 * Connects to the dataplane's unix socket, sends "stats" and parses the
 * reply, all within DATAPLANE_STATS_TIMEOUT_MS. Returns 0 with *out filled, or
 * a negative errno with *out left empty and err naming the socket and what to
 * do: the parser's errors, -ETIMEDOUT, -EMSGSIZE (reply larger than
 * DATAPLANE_STATS_MAX_REPLY), -ENAMETOOLONG (path too long for a unix socket
 * address), or connect()'s and read()'s own (-ENOENT, -ECONNREFUSED: the
 * dataplane is not running).
 */
int dataplane_stats_read(const char *socket_path, struct dataplane_stats *out, char *err, size_t err_len);
/* The same with another time limit (milliseconds, > 0). */
int dataplane_stats_read_timeout(const char *socket_path, int timeout_ms, struct dataplane_stats *out, char *err,
				 size_t err_len);

/* The value of a counter: true and *value when present, false otherwise. */
bool dataplane_stats_get(const struct dataplane_stats *stats, const char *name, uint64_t *value);

/* Frees the items and empties *stats; safe on an empty or already-freed one. */
void dataplane_stats_free(struct dataplane_stats *stats);

#endif
