/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The machine table: a fixed array of records (allocated once: the memory is
 * bounded by the configuration), an open-addressing index by MAC with
 * backward-shift deletion, and a ring of events per machine.
 */
#include "machines.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_text.h"
#include "proxy_policy.h" /* policy_parse_mac */

#define MAX_INITRDS 8
#define PATH_LEN    256

struct timeline_entry {
	double t;
	uint8_t stage;
	char event[32];
	char detail[96];
};

struct machine {
	uint64_t key; /* the MAC, 48 bits */
	char mac[18];
	uint32_t ip;  /* network order, 0 = unknown */
	char arch[24], hostname[64], profile[65], decision[24];
	enum machine_stage stage;
	enum machine_state state;
	double first_seen, last_seen;
	char progress_file[96];
	uint64_t progress_bytes, progress_total;
	bool has_progress;
	double tftp_started; /* of the transfer in progress, 0 when none */
	unsigned failures;
	char last_error[160];
	/* What the script told it to fetch, and what it has fetched. */
	char kernel[PATH_LEN];
	char initrds[MAX_INITRDS][PATH_LEN];
	size_t n_initrds;
	unsigned fetched; /* bit 0: kernel, bit 1+i: initrd i */
	struct timeline_entry *timeline;
	size_t tl_next, tl_count;
};

struct machines {
	pthread_mutex_t lock;
	struct machine *records;
	size_t capacity, count, timeline_len;
	uint32_t *index; /* record number + 1; 0 = empty; size index_size (a power of two) */
	size_t index_size;
	uint64_t evicted;
};

static const char *const stage_names[] = {
#define MACHINE_STAGE_NAME(name) #name,
	MACHINE_STAGES(MACHINE_STAGE_NAME)
#undef MACHINE_STAGE_NAME
};

const char *machine_stage_name(enum machine_stage s)
{
	return (unsigned)s < STAGE_COUNT ? stage_names[s] : "unknown";
}

const char *machine_state_name(enum machine_state s)
{
	static const char *const names[] = { "booting", "handed_off", "failed", "ignored" };

	return (unsigned)s < MACHINE_STATE_COUNT ? names[s] : "unknown";
}

struct machines *machines_create(size_t capacity, size_t timeline_len)
{
	struct machines *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (capacity < 1)
		capacity = 1;
	if (capacity > MACHINES_MAX_CAPACITY)
		capacity = MACHINES_MAX_CAPACITY;
	if (timeline_len < 1)
		timeline_len = 1;
	if (timeline_len > MACHINES_MAX_TIMELINE)
		timeline_len = MACHINES_MAX_TIMELINE;
	m->capacity = capacity;
	m->timeline_len = timeline_len;
	for (m->index_size = 16; m->index_size < 2 * capacity; m->index_size *= 2)
		;
	m->records = calloc(capacity, sizeof(*m->records));
	m->index = calloc(m->index_size, sizeof(*m->index));
	if (!m->records || !m->index) {
		machines_free(m);
		return NULL;
	}
	for (size_t i = 0; i < capacity; i++) {
		m->records[i].timeline = calloc(timeline_len, sizeof(struct timeline_entry));
		if (!m->records[i].timeline) {
			machines_free(m);
			return NULL;
		}
	}
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void machines_free(struct machines *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->records && i < m->capacity; i++)
		free(m->records[i].timeline);
	free(m->records);
	free(m->index);
	free(m);
}

/* Truncating copy: names longer than a field keep their start. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

double machines_clock(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the index ---- */

static size_t slot_of(const struct machines *m, uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (m->index_size - 1);
}

static struct machine *find(struct machines *m, uint64_t key)
{
	for (size_t s = slot_of(m, key);; s = (s + 1) & (m->index_size - 1)) {
		uint32_t r = m->index[s];

		if (!r)
			return NULL;
		if (m->records[r - 1].key == key)
			return &m->records[r - 1];
	}
}

static void index_remove(struct machines *m, uint64_t key)
{
	size_t mask = m->index_size - 1, s = slot_of(m, key);

	while (m->index[s] && m->records[m->index[s] - 1].key != key)
		s = (s + 1) & mask;
	if (!m->index[s])
		return;
	m->index[s] = 0;
	/* Backward shift: move later entries of the run into the hole when their
	 * home slot allows it, so lookups never stop at a false empty slot. */
	for (size_t hole = s, j = (s + 1) & mask; m->index[j]; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->records[m->index[j] - 1].key);

		if (((j - home) & mask) >= ((j - hole) & mask)) {
			m->index[hole] = m->index[j];
			m->index[j] = 0;
			hole = j;
		}
	}
}

static uint64_t mac_key(const char *text, bool *ok)
{
	uint8_t b[6];
	uint64_t k = 0;

	*ok = text && policy_parse_mac(text, b) == 0;
	for (int i = 0; *ok && i < 6; i++)
		k = k << 8 | b[i];
	return k;
}

/* The record of mac, created (evicting the least recently seen) if new. */
static struct machine *get(struct machines *m, const char *mac, double t)
{
	bool ok;
	uint64_t key = mac_key(mac, &ok);
	struct machine *r;
	size_t s;

	if (!ok)
		return NULL;
	if ((r = find(m, key)))
		return r;
	if (m->count == m->capacity) {
		struct machine *oldest = &m->records[0];

		for (size_t i = 1; i < m->capacity; i++)
			if (m->records[i].last_seen < oldest->last_seen)
				oldest = &m->records[i];
		index_remove(m, oldest->key);
		r = oldest;
		m->evicted++;
	} else {
		r = &m->records[m->count++];
	}
	{
		struct timeline_entry *tl = r->timeline;

		memset(r, 0, sizeof(*r));
		r->timeline = tl;
	}
	r->key = key;
	snprintf(r->mac, sizeof(r->mac), "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(key >> 40) & 0xff,
		 (unsigned)(key >> 32) & 0xff, (unsigned)(key >> 24) & 0xff, (unsigned)(key >> 16) & 0xff,
		 (unsigned)(key >> 8) & 0xff, (unsigned)key & 0xff);
	r->first_seen = r->last_seen = t;
	for (s = slot_of(m, key); m->index[s]; s = (s + 1) & (m->index_size - 1))
		;
	m->index[s] = (uint32_t)(r - m->records) + 1;
	return r;
}

/* Relayed and routed clients reach TFTP and HTTP from an address, not a MAC
 * Stampede saw: find them by the address they were seen with. */
static struct machine *by_ip(struct machines *m, const char *ip_text)
{
	struct in_addr a;
	struct machine *best = NULL;

	if (inet_pton(AF_INET, ip_text, &a) != 1 || a.s_addr == 0)
		return NULL;
	for (size_t i = 0; i < m->count; i++)
		if (m->records[i].ip == a.s_addr && (!best || m->records[i].last_seen > best->last_seen))
			best = &m->records[i];
	return best;
}

/* An address belongs to one machine at a time: the site's DHCP server may
 * have given another's old address to this one. */
static void set_ip(struct machines *m, struct machine *r, const char *ip_text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, ip_text, &a) != 1 || a.s_addr == 0 || r->ip == a.s_addr)
		return;
	for (size_t i = 0; i < m->count; i++)
		if (m->records[i].ip == a.s_addr)
			m->records[i].ip = 0;
	r->ip = a.s_addr;
}

/* A later success after a failure: booting again (failures and last_error
 * stay, for the record). */
static void recovered(struct machine *r)
{
	if (r->state == MACHINE_FAILED)
		r->state = MACHINE_BOOTING;
}

static void note(struct machines *m, struct machine *r, double t, const char *event, const char *detail)
{
	struct timeline_entry *e = &r->timeline[r->tl_next];

	e->t = t;
	e->stage = (uint8_t)r->stage;
	copy_str(e->event, sizeof(e->event), event);
	copy_str(e->detail, sizeof(e->detail), detail ? detail : "");
	r->tl_next = (r->tl_next + 1) % m->timeline_len;
	if (r->tl_count < m->timeline_len)
		r->tl_count++;
	if (t > r->last_seen)
		r->last_seen = t;
}

static void advance(struct machine *r, enum machine_stage s)
{
	if (s > r->stage)
		r->stage = s;
}

static void fail(struct machine *r, const char *what)
{
	r->state = MACHINE_FAILED;
	r->failures++;
	copy_str(r->last_error, sizeof(r->last_error), what);
}

/* ---- events ---- */

static bool silence(const char *decision)
{
	return strcmp(decision, "offer") != 0 && strcmp(decision, "ack") != 0;
}

void machines_on_dhcp(struct machines *m, const struct event_dhcp *e)
{
	struct machine *r;
	char what[64];

	pthread_mutex_lock(&m->lock);
	r = get(m, e->mac, e->time);
	if (!r)
		goto out;
	if (strcmp(e->ip, "0.0.0.0") != 0 && e->port != 67) /* 67: a relay's address, not the machine's */
		set_ip(m, r, e->ip);
	copy_str(r->arch, sizeof(r->arch), e->arch);
	copy_str(r->decision, sizeof(r->decision), e->decision);
	/* A DISCOVER from firmware (not iPXE) is a new boot: start over. */
	if (!strcmp(e->msg, "discover") && !e->ipxe && r->stage > STAGE_offer) {
		r->stage = STAGE_dhcp;
		r->state = MACHINE_BOOTING;
		r->fetched = 0;
		r->has_progress = false;
		r->first_seen = e->time;
	}
	snprintf(what, sizeof(what), "dhcp %s %s", e->msg, e->decision);
	if (silence(e->decision)) {
		if (strcmp(e->decision, "other_server") != 0 && r->state == MACHINE_BOOTING)
			r->state = MACHINE_IGNORED; /* Stampede stays silent for it */
		note(m, r, e->time, what, e->file);
		goto out;
	}
	if (r->state == MACHINE_IGNORED)
		r->state = MACHINE_BOOTING;
	if (e->ipxe)
		advance(r, STAGE_ipxe);
	else if (!strcmp(e->decision, "ack") && e->port == 4011)
		advance(r, STAGE_boot_server);
	else
		advance(r, STAGE_offer);
	note(m, r, e->time, what, e->file);
out:
	pthread_mutex_unlock(&m->lock);
}

double machines_on_tftp(struct machines *m, const struct event_tftp *e)
{
	struct machine *r;
	double duration = -1;
	char what[64];
	bool ok;

	pthread_mutex_lock(&m->lock);
	/* The MAC when it is a machine's that asked DHCP; else the address: a
	 * routed client's frames carry the router's MAC, and the machine was
	 * seen with that address (4011, HTTP). */
	r = find(m, mac_key(e->mac, &ok));
	if (!ok || (r && !r->decision[0]))
		r = NULL;
	if (!r)
		r = by_ip(m, e->ip);
	if (!r)
		r = get(m, e->mac, e->time); /* a TFTP client nobody saw ask DHCP */
	if (!r)
		goto out;
	set_ip(m, r, e->ip);
	copy_str(r->progress_file, sizeof(r->progress_file), e->file);
	r->has_progress = true;
	if (!strcmp(e->state, "started")) {
		advance(r, STAGE_tftp);
		r->progress_total = e->bytes;
		r->progress_bytes = 0;
		r->tftp_started = e->time;
	} else {
		r->progress_bytes = e->bytes;
	}
	if (!strcmp(e->state, "completed")) {
		recovered(r);
		advance(r, STAGE_nbp_loaded);
		r->progress_total = e->bytes;
		if (r->tftp_started > 0)
			duration = e->time - r->tftp_started;
		r->tftp_started = 0;
	} else if (!strcmp(e->state, "timed_out") || !strcmp(e->state, "aborted")) {
		snprintf(what, sizeof(what), "tftp %.40s %s", e->file, e->state);
		fail(r, what);
		r->tftp_started = 0;
	}
	if (strcmp(e->state, "progress") != 0 || r->tl_count == 0) { /* progress: the bar, not the timeline */
		snprintf(what, sizeof(what), "tftp %s", e->state);
		note(m, r, e->time, what, e->file);
	} else if (e->time > r->last_seen) {
		r->last_seen = e->time;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return duration;
}

void machines_on_script(struct machines *m, double t, const char *mac, const char *ip, const char *hostname,
			const char *profile, const char *kernel, const char *const *initrds, size_t n_initrds)
{
	struct machine *r;

	pthread_mutex_lock(&m->lock);
	r = get(m, mac, t);
	if (!r)
		r = by_ip(m, ip);
	if (!r)
		goto out;
	set_ip(m, r, ip);
	copy_str(r->hostname, sizeof(r->hostname), hostname ? hostname : "");
	copy_str(r->profile, sizeof(r->profile), profile ? profile : "");
	copy_str(r->kernel, sizeof(r->kernel), kernel ? kernel : "");
	r->n_initrds = n_initrds < MAX_INITRDS ? n_initrds : MAX_INITRDS;
	for (size_t i = 0; i < r->n_initrds; i++)
		copy_str(r->initrds[i], sizeof(r->initrds[i]), initrds[i]);
	r->fetched = 0;
	r->state = MACHINE_BOOTING;
	advance(r, STAGE_script);
	note(m, r, t, "http script", profile);
	/* A script that loads no kernel (local disk, shell, the operator's own
	 * script): serving it is the last Stampede sees of the boot. */
	if (!r->kernel[0] && !r->n_initrds)
		r->state = MACHINE_HANDED_OFF;
out:
	pthread_mutex_unlock(&m->lock);
}

/* Whether a request path names a file of the script: a relative name equal
 * to it, or a URL whose path ends with it. */
static bool same_file(const char *wanted, const char *path)
{
	size_t w, p = strlen(path);
	const char *slash;

	if (!wanted[0])
		return false;
	if (strstr(wanted, "://") && (slash = strchr(strstr(wanted, "://") + 3, '/')))
		wanted = slash + 1;
	while (*wanted == '/') /* scripts name "/debian/vmlinuz" as server + "/debian/vmlinuz" */
		wanted++;
	w = strlen(wanted);
	return w == p && memcmp(wanted, path, w) == 0;
}

void machines_on_http(struct machines *m, double t, const char *ip, const char *path, unsigned status,
		      uint64_t bytes, bool complete)
{
	struct machine *r;
	char what[64];
	unsigned all;

	pthread_mutex_lock(&m->lock);
	r = by_ip(m, ip);
	if (!r || !(r->kernel[0] || r->n_initrds))
		goto out;
	if (same_file(r->kernel, path)) {
		if (status == 200 && complete) {
			r->fetched |= 1;
			recovered(r);
			advance(r, STAGE_kernel);
		}
	} else {
		size_t i;

		for (i = 0; i < r->n_initrds && !same_file(r->initrds[i], path); i++)
			;
		if (i == r->n_initrds)
			goto out; /* not one of its boot files */
		if (status == 200 && complete) {
			r->fetched |= 2u << i;
			recovered(r);
			advance(r, STAGE_initrd);
		}
	}
	copy_str(r->progress_file, sizeof(r->progress_file), path);
	r->has_progress = true;
	r->progress_bytes = bytes;
	r->progress_total = complete ? bytes : 0;
	snprintf(what, sizeof(what), "http %u%s", status, complete ? "" : " incomplete");
	if (status == 206) {
		note(m, r, t, "http range", path); /* part of a file: neither fetched nor failed */
		goto out;
	}
	if (status != 200) {
		snprintf(what, sizeof(what), "http %.48s %u", path, status);
		fail(r, what);
	} else if (!complete) {
		snprintf(what, sizeof(what), "http %.48s cut short", path);
		fail(r, what);
	}
	note(m, r, t, status == 200 && complete ? "http file" : "http failed", path);
	all = 1u | (((1u << r->n_initrds) - 1) << 1);
	if ((r->fetched & all) == all && r->state == MACHINE_BOOTING)
		r->state = MACHINE_HANDED_OFF;
out:
	pthread_mutex_unlock(&m->lock);
}

/* ---- reading ---- */

void machines_counts(struct machines *m, struct machines_counts *out)
{
	pthread_mutex_lock(&m->lock);
	memset(out, 0, sizeof(*out));
	out->total = m->count;
	out->capacity = m->capacity;
	out->evicted = m->evicted;
	for (size_t i = 0; i < m->count; i++)
		out->by_state[m->records[i].state]++;
	pthread_mutex_unlock(&m->lock);
}

static json_t *string_or_null(const char *s)
{
	return s && *s ? json_text(s) : json_null();
}

static json_t *machine_json(const struct machine *r, double now)
{
	char ip[INET_ADDRSTRLEN] = "";
	json_t *o;

	if (r->ip)
		inet_ntop(AF_INET, &r->ip, ip, sizeof(ip));
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:f, s:f, s:f, s:i, s:o, s:o}", "mac", r->mac, "ip",
		      string_or_null(ip), "arch", string_or_null(r->arch), "hostname", string_or_null(r->hostname),
		      "profile", string_or_null(r->profile), "stage", machine_stage_name(r->stage), "state",
		      machine_state_name(r->state), "first_seen", r->first_seen, "last_seen", r->last_seen,
		      /* A machine still booting is timed to now: a stuck one keeps counting. */
		      "elapsed_s", (r->state == MACHINE_BOOTING && now > r->last_seen ? now : r->last_seen) - r->first_seen, "failures", (int)r->failures, "last_error",
		      string_or_null(r->last_error), "decision", string_or_null(r->decision));
	if (o)
		json_object_set_new(o, "progress",
				    r->has_progress ? json_pack("{s:o, s:I, s:I}", "file", json_text(r->progress_file), "bytes",
								(json_int_t)r->progress_bytes, "total",
								(json_int_t)r->progress_total)
						    : json_null());
	return o;
}

static int by_first_seen(const void *a, const void *b)
{
	const struct machine *x = *(const struct machine *const *)a, *y = *(const struct machine *const *)b;

	return x->first_seen < y->first_seen ? -1 : x->first_seen > y->first_seen;
}

json_t *machines_list_json(struct machines *m, double now)
{
	json_t *list = json_array(), *out;
	const struct machine **sorted;

	pthread_mutex_lock(&m->lock);
	sorted = malloc((m->count ? m->count : 1) * sizeof(*sorted));
	for (size_t i = 0; sorted && i < m->count; i++)
		sorted[i] = &m->records[i];
	if (sorted) {
		qsort(sorted, m->count, sizeof(*sorted), by_first_seen);
		for (size_t i = 0; i < m->count; i++)
			json_array_append_new(list, machine_json(sorted[i], now));
	}
	out = json_pack("{s:o, s:I, s:I, s:f}", "machines", list, "capacity", (json_int_t)m->capacity, "evicted",
			(json_int_t)m->evicted, "now", now);
	pthread_mutex_unlock(&m->lock);
	free(sorted);
	return out;
}

json_t *machines_one_json(struct machines *m, const char *mac, double now)
{
	struct machine *r;
	json_t *o = NULL, *tl;
	bool ok;
	uint64_t key = mac_key(mac, &ok);

	if (!ok)
		return NULL;
	pthread_mutex_lock(&m->lock);
	r = find(m, key);
	if (r && (o = machine_json(r, now))) {
		tl = json_array();
		for (size_t i = 0; i < r->tl_count; i++) {
			size_t k = (r->tl_next + m->timeline_len - r->tl_count + i) % m->timeline_len;
			const struct timeline_entry *e = &r->timeline[k];

			json_array_append_new(tl, json_pack("{s:f, s:s, s:o, s:o}", "t", e->t, "stage",
							    machine_stage_name(e->stage), "event", json_text(e->event), "detail",
							    json_text(e->detail)));
		}
		json_object_set_new(o, "timeline", tl);
	}
	pthread_mutex_unlock(&m->lock);
	return o;
}
