/* SPDX-License-Identifier: BSD-2-Clause */
#include "swarm_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bench_util.h"

struct swarm_http {
	CURLM *multi;
	int epoll_fd;
	uint64_t epoll_tag;
	long timeout_ms;
	swarm_http_done_fn done;
	uint64_t timer_due_ns; /* 0: no timer */
	uint64_t bytes;
	int running;
	int rcvbuf;
};

/* CURLOPT_SOCKOPTFUNCTION: a bounded receive buffer per connection, as firmware
 * has; a thousand connections with the kernel's autotuned buffers would push
 * the client's TCP memory into pressure and measure that instead. */
static int on_sockopt(void *userp, curl_socket_t fd, curlsocktype purpose)
{
	struct swarm_http *h = userp;

	if (purpose == CURLSOCKTYPE_IPCXN && h->rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &h->rcvbuf, sizeof(h->rcvbuf));
	return CURL_SOCKOPT_OK;
}

/* CURLMOPT_SOCKETFUNCTION: libcurl says which events it wants on a socket. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct swarm_http *h = userp;
	struct epoll_event ev = { .data.u64 = h->epoll_tag | (uint32_t)fd };

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		curl_multi_assign(h->multi, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(h->epoll_fd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0 && errno == ENOENT)
		epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, fd, &ev); /* closed and reopened under the same number */
	curl_multi_assign(h->multi, fd, h); /* any non-NULL: "registered" */
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct swarm_http *h = userp;

	(void)multi;
	h->timer_due_ns = timeout_ms < 0 ? 0 : bench_now_ns() + (uint64_t)timeout_ms * 1000000ull + 1;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct swarm_http_get *get = userp;
	size_t n = size * nmemb;

	if (get->expect) {
		if (get->bytes + n > get->expect_size || memcmp(data, get->expect + get->bytes, n) != 0) {
			snprintf(get->reason, sizeof(get->reason),
				 "content differs from the expected file within bytes %" PRIu64 "..%" PRIu64, get->bytes,
				 get->bytes + n);
			return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
		}
	}
	if (get->digest && n && EVP_DigestUpdate(get->md, data, n) != 1) {
		snprintf(get->reason, sizeof(get->reason), "sha256 failed");
		return 0;
	}
	if (get->keep_body) {
		if (get->body_len + n > SWARM_HTTP_BODY_MAX) {
			snprintf(get->reason, sizeof(get->reason), "body longer than %d bytes", SWARM_HTTP_BODY_MAX);
			return 0;
		}
		memcpy(get->body + get->body_len, data, n);
		get->body_len += n;
		get->body[get->body_len] = 0;
	}
	get->bytes += n;
	get->http->bytes += n;
	return n;
}

struct swarm_http *swarm_http_create(int epoll_fd, uint64_t epoll_tag, long timeout_ms, int rcvbuf,
				     swarm_http_done_fn done, char *err, size_t err_len)
{
	struct swarm_http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, err_len, "curl_global_init failed");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->multi = curl_multi_init())) {
		snprintf(err, err_len, "out of memory");
		free(h);
		return NULL;
	}
	h->epoll_fd = epoll_fd;
	h->epoll_tag = epoll_tag;
	h->timeout_ms = timeout_ms;
	h->rcvbuf = rcvbuf;
	h->done = done;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* Every client keeps its connection, as a booting machine would. */
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 100000L);
	return h;
}

void swarm_http_destroy(struct swarm_http *h)
{
	if (!h)
		return;
	curl_multi_cleanup(h->multi);
	free(h);
	curl_global_cleanup();
}

void swarm_http_get_reset(struct swarm_http_get *get)
{
	void *easy = get->easy, *owner = get->owner, *md = get->md;

	free(get->body);
	memset(get, 0, sizeof(*get));
	get->easy = easy;
	get->owner = owner;
	get->md = md;
}

void swarm_http_get_release(struct swarm_http_get *get)
{
	if (get->easy)
		curl_easy_cleanup(get->easy);
	get->easy = NULL;
	EVP_MD_CTX_free(get->md);
	get->md = NULL;
	swarm_http_get_reset(get);
}

int swarm_http_start(struct swarm_http *h, struct swarm_http_get *get, const char *url)
{
	CURL *e = get->easy;

	if (get->keep_body && !get->body && !(get->body = malloc(SWARM_HTTP_BODY_MAX + 1)))
		goto fail_memory;
	if (!e && !(e = get->easy = curl_easy_init()))
		goto fail_memory;
	if (get->digest && ((!get->md && !(get->md = EVP_MD_CTX_new())) ||
			    EVP_DigestInit_ex(get->md, EVP_sha256(), NULL) != 1))
		goto fail_memory;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, get);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, get);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, h);
	get->http = h;
	get->done = get->ok = get->have_sha256 = false;
	get->bytes = 0;
	get->body_len = 0;
	get->reason[0] = 0;
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		snprintf(get->reason, sizeof(get->reason), "curl_multi_add_handle failed");
		get->done = true;
		return -1;
	}
	return 0;
fail_memory:
	snprintf(get->reason, sizeof(get->reason), "out of memory");
	get->done = true;
	return -1;
}

/* Hands every finished transfer to its owner. */
static void collect(struct swarm_http *h, uint64_t now_ns)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct swarm_http_get *get = NULL;
		CURL *e = msg->easy_handle;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&get);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &get->status);
		if (msg->data.result != CURLE_OK) {
			if (!get->reason[0])
				snprintf(get->reason, sizeof(get->reason), "%s", curl_easy_strerror(msg->data.result));
		} else if (get->status != 200) {
			snprintf(get->reason, sizeof(get->reason), "HTTP status %ld", get->status);
		} else if (get->expect && get->bytes != get->expect_size) {
			snprintf(get->reason, sizeof(get->reason), "size %" PRIu64 ", expected %" PRIu64, get->bytes,
				 get->expect_size);
		} else {
			unsigned int dl = 0;

			get->ok = !get->digest || (EVP_DigestFinal_ex(get->md, get->sha256, &dl) == 1 && dl == 32);
			get->have_sha256 = get->digest && get->ok;
			if (!get->ok)
				snprintf(get->reason, sizeof(get->reason), "sha256 failed");
		}
		get->done = true;
		curl_multi_remove_handle(h->multi, e);
		h->done(get, now_ns);
	}
}

void swarm_http_socket_event(struct swarm_http *h, int fd, uint32_t epoll_events, uint64_t now_ns)
{
	int mask = (epoll_events & EPOLLIN ? CURL_CSELECT_IN : 0) | (epoll_events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
		   (epoll_events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

	curl_multi_socket_action(h->multi, fd, mask, &h->running);
	collect(h, now_ns);
}

long swarm_http_timeout_ms(const struct swarm_http *h, uint64_t now_ns)
{
	if (!h->timer_due_ns)
		return -1;
	return h->timer_due_ns <= now_ns ? 0 : (long)((h->timer_due_ns - now_ns + 999999) / 1000000);
}

void swarm_http_timeout(struct swarm_http *h, uint64_t now_ns)
{
	if (!h->timer_due_ns || h->timer_due_ns > now_ns)
		return;
	h->timer_due_ns = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
	collect(h, now_ns);
}

uint64_t swarm_http_bytes(const struct swarm_http *h)
{
	return h->bytes;
}

int swarm_http_running(const struct swarm_http *h)
{
	return h->running;
}
