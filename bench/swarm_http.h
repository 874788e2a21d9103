/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The swarm's HTTP client: many concurrent GETs from one thread, on libcurl's
 * multi interface driven by the swarm's own epoll (curl_multi_socket_action,
 * the API libcurl documents for thousands of transfers), connections reused
 * across a client's requests. Each GET either keeps its body (an iPXE script)
 * or counts it and compares it with the file the server should be serving.
 */
#ifndef STAMPEDE_BENCH_SWARM_HTTP_H
#define STAMPEDE_BENCH_SWARM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWARM_HTTP_REASON_LEN 160
#define SWARM_HTTP_BODY_MAX (64 * 1024) /* a kept body (a script) is at most this */

struct swarm_http;

struct swarm_http_get {
	/* Set by the caller before swarm_http_start. */
	void *owner;
	bool keep_body;
	const uint8_t *expect;   /* expected content, or NULL: compare every byte */
	uint64_t expect_size;
	bool digest;              /* compute the body's sha256 (sha256 below, once ok) */
	/* Results. */
	bool done, ok;
	long status;
	uint64_t bytes;
	char *body;               /* when keep_body: NUL-terminated, freed by swarm_http_get_reset */
	size_t body_len;
	char reason[SWARM_HTTP_REASON_LEN];
	bool have_sha256;
	unsigned char sha256[32];
	void *easy;               /* the client's libcurl handle, reused between GETs */
	void *md;                 /* EVP_MD_CTX for digest, reused between GETs */
	struct swarm_http *http;  /* set by swarm_http_start */
};

/* Called when a GET ends, ok or not. */
typedef void (*swarm_http_done_fn)(struct swarm_http_get *get, uint64_t now_ns);

/* epoll_tag is or-ed into the epoll data of every socket libcurl hands us;
 * the socket is in the low 32 bits. rcvbuf > 0 sets SO_RCVBUF on each connection. */
struct swarm_http *swarm_http_create(int epoll_fd, uint64_t epoll_tag, long timeout_ms, int rcvbuf,
				     swarm_http_done_fn done, char *err, size_t err_len);
void swarm_http_destroy(struct swarm_http *h);
/* Starts GET url; 0, or -1 with get->reason set (and get->done). */
int swarm_http_start(struct swarm_http *h, struct swarm_http_get *get, const char *url);
void swarm_http_get_reset(struct swarm_http_get *get); /* frees the body, keeps the handles */
void swarm_http_get_release(struct swarm_http_get *get);
/* An epoll event on one of libcurl's sockets. */
void swarm_http_socket_event(struct swarm_http *h, int fd, uint32_t epoll_events, uint64_t now_ns);
/* Milliseconds until libcurl wants swarm_http_timeout (-1: no timer). */
long swarm_http_timeout_ms(const struct swarm_http *h, uint64_t now_ns);
void swarm_http_timeout(struct swarm_http *h, uint64_t now_ns);
/* Body bytes received by all GETs so far. */
uint64_t swarm_http_bytes(const struct swarm_http *h);
int swarm_http_running(const struct swarm_http *h);

#endif
