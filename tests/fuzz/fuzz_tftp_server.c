/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TFTP session state machine (dataplane/tftp_server.c), driven as the
 * dataplane drives it and as tests/unit/test_tftp_server.c does: datagrams
 * from a few clients to port 69 and the session ports, a fake clock with
 * ticks, buffer shortages and reloads, all read from the input
 * (tftp_script.h). Files come from a real cache_load() of a temporary root,
 * loaded anew for each input with an allocator that counts.
 *
 * Invariants beyond "no crash, no leak":
 * - every datagram fits the buffer it was given, goes to a client that sent
 *   something, from port 69 or a session port; the payload sum announced
 *   with it is the sum of its bytes (the dataplane writes it into the UDP
 *   checksum unread); DATA carries at most the negotiated block size;
 * - sessions never exceed the limit, and every transfer that started ends:
 *   started = completed + timed out + aborted + active;
 * - once the clients fall silent, every session times out within its
 *   retries, and then every byte the cache allocated is freed: no
 *   transfer keeps a cache version alive.
 * Seeds (make_seeds.c): whole transfers (octet and netascii, windows, lost
 * ACKs, retransmitted RRQs, errors from the client, reloads mid-transfer).
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "net.h"
#include "tftp_packet.h"
#include "tftp_script.h"
#include "tftp_server.h"

#define PAYLOAD_CAP (1468 + TFTP_HEADER_LEN)
#define START_US    1000000000ull

static const char *root;

static const struct net_endpoint clients[TFTP_SCRIPT_CLIENTS] = {
	{ .mac = { 0x52, 0x54, 0, 0, 0, 1 }, .ip = 0x6400010a /* 10.1.0.100 */, .port = 2070 },
	{ .mac = { 0x52, 0x54, 0, 0, 0, 1 }, .ip = 0x6400010a, .port = 2071 },
	{ .mac = { 0x52, 0x54, 0, 0, 0, 2 }, .ip = 0x6500010a /* 10.1.0.101 */, .port = 3000 },
	{ .mac = { 0x52, 0x54, 0, 0, 0, 3 }, .ip = 0, .port = 68 },
};

struct run {
	uint64_t allocs, frees;       /* the cache's allocator */
	unsigned fail_allocs;         /* the next buffer allocations that fail */
	uint16_t max_blksize;
	uint64_t events_started, events_ended;
};

static struct run run;

static void *count_alloc(void *ctx, size_t size)
{
	(void)ctx;
	run.allocs++;
	return malloc(size);
}

static void count_free(void *ctx, void *p)
{
	(void)ctx;
	if (p)
		run.frees++;
	free(p);
}

static const struct cache_allocator allocator = { count_alloc, count_free, NULL };

static uint8_t *tx_alloc(void *ctx, void **pkt)
{
	uint8_t *buf;

	(void)ctx;
	if (run.fail_allocs) {
		run.fail_allocs--;
		return NULL;
	}
	buf = malloc(PAYLOAD_CAP);
	if (!buf)
		abort();
	memset(buf, 0xcc, PAYLOAD_CAP);
	*pkt = buf;
	return buf;
}

static void tx_send(void *ctx, void *pkt, const struct net_endpoint *to, uint16_t src_port, size_t len,
		    int32_t payload_sum)
{
	const uint8_t *p = pkt;
	bool known = false;

	(void)ctx;
	FUZZ_CHECK(len >= TFTP_HEADER_LEN && len <= PAYLOAD_CAP, "datagram of %zu bytes", len);
	FUZZ_CHECK(src_port == 69 || (src_port >= TFTP_SCRIPT_PORT_LO && src_port < TFTP_SCRIPT_PORT_LO + TFTP_SCRIPT_PORTS),
		   "sent from port %u", src_port);
	for (int i = 0; i < TFTP_SCRIPT_CLIENTS; i++)
		known |= to->ip == clients[i].ip && to->port == clients[i].port;
	FUZZ_CHECK(known && to->ip != 0, "sent to %08x:%u, not a client", to->ip, to->port);
	FUZZ_CHECK(payload_sum == TFTP_TX_SUM_UNKNOWN || (uint16_t)payload_sum == net_sum(p, len),
		   "announced payload sum is wrong");
	FUZZ_CHECK(p[0] == 0 && p[1] >= TFTP_DATA && p[1] <= TFTP_OACK && p[1] != TFTP_ACK, "opcode %u", p[1]);
	if (p[1] == TFTP_DATA)
		FUZZ_CHECK(len - TFTP_HEADER_LEN <= run.max_blksize, "DATA of %zu bytes", len - TFTP_HEADER_LEN);
	if (p[1] == TFTP_ERROR)
		FUZZ_CHECK(p[len - 1] == 0, "ERROR message not terminated");
	free(pkt);
}

static void tx_event(void *ctx, enum tftp_event_kind kind, const struct net_endpoint *peer, const char *name,
		     uint64_t bytes)
{
	(void)ctx;
	(void)bytes;
	FUZZ_CHECK(strlen(name) <= TFTP_EVENT_NAME_MAX && peer->ip != 0, "event for %s", name);
	if (kind == TFTP_EVENT_STARTED)
		run.events_started++;
	else if (kind != TFTP_EVENT_PROGRESS)
		run.events_ended++;
}

static void write_file(const char *name, size_t size)
{
	char path[256], *slash;
	uint8_t *data = malloc(size + 1);
	int fd;

	if (!data)
		abort();
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	if (!strcmp(name, "text.txt"))
		for (size_t i = 0; i < size; i++)
			data[i] = i % 50 == 7 ? '\r' : i % 50 == 20 ? '\n' : i % 50 == 30 ? '\r' : i % 50 == 31 ? '\n' : 'a';
	snprintf(path, sizeof(path), "%s/%s", root, name);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		FUZZ_CHECK(false, "cannot write %s: %s", path, strerror(errno));
	free(data);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	root = fuzz_temp_dir("tftp");
#define WRITE_FILE(name, size) write_file(name, size);
	TFTP_SCRIPT_FILES(WRITE_FILE)
#undef WRITE_FILE
	return 0;
}

static struct cache *load(void)
{
	struct cache *c = NULL;
	char err[256];

	FUZZ_CHECK(cache_load(root, 1 << 24, &allocator, &c, err, sizeof(err)) == 0, "cache_load: %s", err);
	return c;
}

/* Every transfer that opened (by a request, or again by the late ACK that
 * revived it) is running or has ended once: completed, timed out, aborted or
 * evicted; and the events say the same. */
static void check_sessions(const struct tftp_server *s)
{
	const struct tftp_counters *c = tftp_server_counters(s);
	uint64_t active = tftp_server_active_sessions(s);
	uint64_t opened = c->transfers_started + c->transfers_revived;

	FUZZ_CHECK(active <= TFTP_SCRIPT_PORTS, "%llu sessions", (unsigned long long)active);
	FUZZ_CHECK(c->transfers_revived <= c->evicted_unacknowledged, "more revived than evicted");
	FUZZ_CHECK(opened == c->transfers_completed + c->transfers_timed_out + c->transfers_aborted +
				     c->evicted_unacknowledged + active,
		   "started %llu + revived %llu != completed %llu + timed out %llu + aborted %llu + evicted %llu + "
		   "active %llu",
		   (unsigned long long)c->transfers_started, (unsigned long long)c->transfers_revived,
		   (unsigned long long)c->transfers_completed, (unsigned long long)c->transfers_timed_out,
		   (unsigned long long)c->transfers_aborted, (unsigned long long)c->evicted_unacknowledged,
		   (unsigned long long)active);
	FUZZ_CHECK(run.events_started == opened && run.events_ended + active == opened,
		   "events disagree with the counters");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t windows[] = { 1, 4, 16, 64 };
	static const uint8_t retries[] = { 0, 1, 3, 5 };
	struct fuzz_input in = { data, size };
	uint8_t conf = fuzz_u8(&in);
	struct tftp_config cfg = {
		.port_lo = TFTP_SCRIPT_PORT_LO,
		.port_hi = TFTP_SCRIPT_PORT_LO + TFTP_SCRIPT_PORTS - 1,
		.max_sessions = conf & 128 ? TFTP_SCRIPT_SMALL_TABLE : TFTP_SCRIPT_PORTS,
		.max_sessions_per_client = TFTP_SCRIPT_PER_CLIENT,
		.max_blksize = conf & 4 ? 512 : 1468,
		.max_windowsize = windows[conf & 3],
		.retransmit_ms = 1000,
		.min_retransmit_ms = conf & 64 ? 0 : 200,
		.max_retries = retries[(conf >> 4) & 3],
		.port_seed = conf & 8 ? 0x9e3779b97f4a7c15ull : 0,
	};
	struct tftp_tx tx = { tx_alloc, tx_send, tx_event, NULL, PAYLOAD_CAP };
	struct tftp_server *s;
	struct cache *c;
	uint64_t now = START_US;

	memset(&run, 0, sizeof(run));
	run.max_blksize = cfg.max_blksize;
	s = tftp_server_create(&cfg, &tx);
	FUZZ_CHECK(s != NULL, "tftp_server_create: %s", strerror(errno));
	c = load();
	tftp_server_set_cache(s, c);
	cache_unref(c);

	while (in.size) {
		uint8_t kind = fuzz_u8(&in);

		switch (kind & 3) {
		case TFTP_SCRIPT_DATAGRAM: {
			const struct net_endpoint *from = &clients[fuzz_u8(&in) % TFTP_SCRIPT_CLIENTS];
			uint8_t to = fuzz_u8(&in);
			size_t len = fuzz_u16(&in);
			uint8_t *payload;

			if (len > in.size)
				len = in.size;
			payload = fuzz_copy(in.data, len);
			in.data += len;
			in.size -= len;
			tftp_server_input(s, from, to ? (uint16_t)(TFTP_SCRIPT_PORT_LO + to - 1) : 69, payload, len, now);
			free(payload);
			break;
		}
		case TFTP_SCRIPT_TIME:
			now += (uint64_t)fuzz_u16(&in) * 1000;
			tftp_server_tick(s, now);
			break;
		case TFTP_SCRIPT_BUFFERS:
			run.fail_allocs = fuzz_u8(&in);
			break;
		case TFTP_SCRIPT_RELOAD:
			c = load();
			tftp_server_set_cache(s, c);
			cache_unref(c);
			break;
		}
		check_sessions(s);
	}

	/* The clients fall silent: every session must end within its retries
	 * (each at most 255 s, RFC 2349's largest timeout), buffers or not. */
	run.fail_allocs = 0;
	for (int i = 0; i <= 6 && tftp_server_active_sessions(s); i++) {
		now += 256 * 1000000ull;
		tftp_server_tick(s, now);
	}
	check_sessions(s);
	FUZZ_CHECK(tftp_server_active_sessions(s) == 0, "%u sessions never time out", tftp_server_active_sessions(s));
	tftp_server_destroy(s);
	FUZZ_CHECK(run.allocs == run.frees, "the cache allocated %llu buffers and freed %llu",
		   (unsigned long long)run.allocs, (unsigned long long)run.frees);
	return 0;
}
