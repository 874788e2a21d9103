/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HTTP server, started on 127.0.0.1 (port chosen by the kernel) over a
 * temporary root and spoken to with plain sockets: GET and HEAD, each Range
 * form, 416, ranges that are ignored, keep-alive, a large file byte for byte,
 * the script callback, 404/405, every traversal trick we know of (".." plain,
 * percent-encoded and with %2f, backslashes, %00, absolute-form, symlinks out
 * of the root), limits (connections, idle timeout, descriptors), start-up
 * errors, counters and the request log. Then the two pure parsers (request-
 * target to path, Range header) over tables.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_server.h"
#include "support.h"

#define SMALL_SIZE 1000
#define LARGE_SIZE (8u << 20) /* several sendfile() rounds and socket buffers */

static char root[64];
static uint8_t small[SMALL_SIZE];
static struct http_server *server;
static uint16_t port;

/* ---- request log, filled by the server's threads ------------------------------ */

#define LOG_MAX 64
static struct logged {
	char method[16], target[256], remote_ip[64];
	unsigned status;
	uint64_t bytes, duration_us;
	bool complete;
} logged[LOG_MAX];
static size_t n_logged;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_request(void *ctx, const struct http_log_entry *e)
{
	(void)ctx;
	pthread_mutex_lock(&log_lock);
	if (n_logged < LOG_MAX) {
		struct logged *l = &logged[n_logged++];

		snprintf(l->method, sizeof(l->method), "%s", e->method);
		snprintf(l->target, sizeof(l->target), "%s", e->target);
		snprintf(l->remote_ip, sizeof(l->remote_ip), "%s", e->remote_ip);
		l->status = e->status;
		l->bytes = e->bytes;
		l->duration_us = e->duration_us;
		l->complete = e->complete;
	}
	pthread_mutex_unlock(&log_lock);
}

static size_t log_count(void)
{
	size_t n;

	pthread_mutex_lock(&log_lock);
	n = n_logged;
	pthread_mutex_unlock(&log_lock);
	return n;
}

/* ---- the script callback: echoes what it was given --------------------------- */

static const char *or_null(const char *s)
{
	return s ? s : "(null)";
}

static int script(void *ctx, const struct http_script_request *req, char **body, unsigned *status)
{
	(void)ctx;
	cr_assert(eq(u32, *status, 200), "status preset to 200");
	if (req->profile && !strcmp(req->profile, "fail"))
		return -EIO;
	if (req->profile && !strcmp(req->profile, "missing")) {
		*status = 404;
		*body = strdup("no such profile\n");
		return 0;
	}
	if (req->profile && !strcmp(req->profile, "empty"))
		return 0;
	if (asprintf(body, "#!ipxe\n# method=%s mac=%s uuid=%s arch=%s hostname=%s profile=%s ip=%s host=%s\n",
		     req->method, or_null(req->mac), or_null(req->uuid), or_null(req->arch), or_null(req->hostname),
		     or_null(req->profile), or_null(req->remote_ip), or_null(req->host)) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- fixture ---------------------------------------------------------------------- */

static void path_in_root(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", root, rel);
}

static void put_file(const char *rel, const void *data, size_t len)
{
	char path[256];

	path_in_root(path, sizeof(path), rel);
	write_bytes(path, data, len);
}

static void put_dir(const char *rel)
{
	char path[256];

	path_in_root(path, sizeof(path), rel);
	cr_assert(eq(int, mkdir(path, 0755), 0), "%s: %s", path, strerror(errno));
}

static void put_link(const char *target, const char *rel)
{
	char path[256];

	path_in_root(path, sizeof(path), rel);
	cr_assert(eq(int, symlink(target, path), 0), "%s: %s", path, strerror(errno));
}

static void start_with(struct http_server_config cfg)
{
	char err[256] = "";

	cfg.address = cfg.address ? cfg.address : "127.0.0.1";
	cr_assert(eq(int, http_server_start(&cfg, &server, err, sizeof(err)), 0), "%s", err);
	port = http_server_port(server);
	cr_assert(ne(u16, port, 0));
}

static void start(void)
{
	start_with((struct http_server_config){ .root = root, .script = script, .log = log_request, .threads = 2 });
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/stampede-http-XXXXXX");
	cr_assert(mkdtemp(root) != NULL);
	for (size_t i = 0; i < SMALL_SIZE; i++)
		small[i] = (uint8_t)(i * 7 + 3);
	put_file("ipxe.efi", small, SMALL_SIZE);
	n_logged = 0;
	server = NULL;
}

static void teardown(void)
{
	http_server_stop(server);
	server = NULL;
	remove_tree(root);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a tiny HTTP client ------------------------------------------------------------ */

static int connect_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0), "connect: %s", strerror(errno));
	return fd;
}

static void send_text(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		cr_assert(gt(sz, (size_t)(n > 0 ? n : 0), 0), "send: %s", strerror(errno));
		off += (size_t)n;
	}
}

struct response {
	int status;
	char head[8192]; /* status line and header fields, ending with an empty line */
	uint8_t *body;
	size_t body_len;
};

/* The value of header field name, or NULL; the pointer is into a static buffer. */
static const char *header(const struct response *r, const char *name)
{
	static char value[1024];
	size_t n = strlen(name);

	for (const char *line = strstr(r->head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
		const char *p = line + 2;

		if (!strncasecmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			snprintf(value, sizeof(value), "%.*s", (int)strcspn(p, "\r"), p);
			return value;
		}
	}
	return NULL;
}

/* Reads one response; head: the request was a HEAD (no body follows). Headers
 * are read byte by byte so that nothing of a following response is consumed.
 * Returns -1 if the connection closed before a whole header arrived. */
static int read_response(int fd, bool head, struct response *r)
{
	const char *length;
	size_t n = 0, len;

	memset(r, 0, sizeof(*r));
	for (;;) {
		cr_assert(lt(sz, n, sizeof(r->head) - 1), "header too long");
		if (recv(fd, r->head + n, 1, 0) != 1)
			return -1;
		n++;
		if (n >= 4 && !memcmp(r->head + n - 4, "\r\n\r\n", 4))
			break;
	}
	r->head[n] = '\0';
	cr_assert(eq(int, sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1), "status line: %s", r->head);
	length = header(r, "Content-Length");
	cr_assert(length != NULL, "no Content-Length in %s", r->head);
	len = strtoull(length, NULL, 10);
	r->body = malloc(len + 1);
	cr_assert(r->body != NULL);
	if (!head) {
		while (r->body_len < len) {
			ssize_t got = recv(fd, r->body + r->body_len, len - r->body_len, 0);

			cr_assert(gt(sz, (size_t)(got > 0 ? got : 0), 0), "body cut at %zu of %zu", r->body_len, len);
			r->body_len += (size_t)got;
		}
	}
	r->body[r->body_len] = '\0';
	return 0;
}

static void response_free(struct response *r)
{
	free(r->body);
	r->body = NULL;
}

/* One request on a fresh connection. */
static void request(const char *text, bool head, struct response *r)
{
	int fd = connect_server();

	send_text(fd, text);
	cr_assert(eq(int, read_response(fd, head, r), 0), "no response to %s", text);
	close(fd);
}

static void get(const char *target, const char *extra_headers, struct response *r)
{
	char text[2048];

	snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\nHost: test\r\n%s\r\n", target,
		 extra_headers ? extra_headers : "");
	request(text, false, r);
}

/* The server counts after the last byte is sent: wait for what a test expects. */
static struct http_server_stats stats_when(bool (*ready)(const struct http_server_stats *))
{
	struct http_server_stats s;

	for (int i = 0; i < 300; i++) {
		http_server_get_stats(server, &s);
		if (ready(&s))
			return s;
		usleep(10000);
	}
	return s;
}

static void wait_log(size_t n)
{
	for (int i = 0; i < 300 && log_count() < n; i++)
		usleep(10000);
	cr_assert(eq(sz, log_count(), n));
}

/* ---- files: GET, HEAD, types ---------------------------------------------------------- */

Test(http, get_returns_the_whole_file_with_its_headers)
{
	struct response r;

	start();
	get("/ipxe.efi", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)header(&r, "Content-Length"), "1000"));
	cr_assert(eq(str, (char *)header(&r, "Content-Type"), "application/octet-stream"));
	cr_assert(eq(str, (char *)header(&r, "Accept-Ranges"), "bytes"));
	cr_assert(header(&r, "Last-Modified") != NULL);
	cr_assert(eq(sz, r.body_len, SMALL_SIZE));
	cr_assert(eq(int, memcmp(r.body, small, SMALL_SIZE), 0));
	response_free(&r);
}

Test(http, head_sends_length_and_no_body)
{
	struct response r;
	int fd;

	start();
	fd = connect_server();
	/* HEAD then GET on one connection: if HEAD had sent a body, the second
	 * status line would not be where it is read. */
	send_text(fd, "HEAD /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, read_response(fd, true, &r), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)header(&r, "Content-Length"), "1000"));
	response_free(&r);
	send_text(fd, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, read_response(fd, false, &r), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(int, memcmp(r.body, small, SMALL_SIZE), 0));
	response_free(&r);
	close(fd);
}

Test(http, content_type_by_suffix)
{
	static const struct {
		const char *name, *type;
	} cases[] = {
		{ "menu.ipxe", "text/plain" },   { "pxelinux.cfg", "text/plain" },
		{ "README.TXT", "text/plain" },  { "default", "application/octet-stream" },
		{ "vmlinuz", "application/octet-stream" }, { "index.html", "text/html" },
		{ "a.json", "application/json" }, { "live.iso", "application/x-iso9660-image" },
	};
	struct response r;
	char target[64];

	start();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_file(cases[i].name, "x", 1);
		snprintf(target, sizeof(target), "/%s", cases[i].name);
		get(target, NULL, &r);
		cr_assert(eq(int, r.status, 200));
		cr_assert(eq(str, (char *)header(&r, "Content-Type"), (char *)cases[i].type), "%s", cases[i].name);
		response_free(&r);
	}
}

Test(http, empty_file_and_nested_paths_and_encoded_names)
{
	struct response r;

	put_file("empty", "", 0);
	put_dir("a");
	put_dir("a/b");
	put_file("a/b/c.txt", "deep", 4);
	put_file("my file+1", "spaced", 6);
	start();
	get("/empty", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)header(&r, "Content-Length"), "0"));
	response_free(&r);
	get("/a//./b/c.txt?ignored=1", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "deep"));
	response_free(&r);
	get("/a%2Fb%2fc.txt", NULL, &r); /* %2F is a '/', as in the name the client meant */
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "deep"));
	response_free(&r);
	get("/my%20file+1", NULL, &r); /* '+' is a plus in a path, not a space */
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "spaced"));
	response_free(&r);
}

Test(http, large_file_is_byte_exact)
{
	uint8_t *data = malloc(LARGE_SIZE);
	uint32_t x = 2463534242u;
	struct response r;
	char want[128];

	cr_assert(data != NULL);
	for (size_t i = 0; i < LARGE_SIZE; i++) { /* xorshift: no period a misplaced block could hide in */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (uint8_t)x;
	}
	put_file("big.img", data, LARGE_SIZE);
	start();
	get("/big.img", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(sz, r.body_len, LARGE_SIZE));
	cr_assert(eq(int, memcmp(r.body, data, LARGE_SIZE), 0));
	response_free(&r);
	get("/big.img", "Range: bytes=3000001-7000000\r\n", &r);
	cr_assert(eq(int, r.status, 206));
	snprintf(want, sizeof(want), "bytes 3000001-7000000/%u", LARGE_SIZE);
	cr_assert(eq(str, (char *)header(&r, "Content-Range"), want));
	cr_assert(eq(sz, r.body_len, 4000000));
	cr_assert(eq(int, memcmp(r.body, data + 3000001, 4000000), 0));
	response_free(&r);
	free(data);
}

/* Bodies up to 16 KiB are read into memory and sent with their header, larger
 * ones with sendfile(): both sides of the threshold, whole and in ranges (a
 * small range of a large file takes the small path). */
Test(http, bodies_on_either_side_of_the_small_body_threshold_are_byte_exact)
{
	static const size_t sizes[] = { 16383, 16384, 16385, 100000 };
	uint8_t *data = malloc(100000);
	struct response r;
	char name[32], want[128];

	cr_assert(data != NULL);
	for (size_t i = 0; i < 100000; i++)
		data[i] = (uint8_t)(i * 13 + i / 251);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		snprintf(name, sizeof(name), "f%zu", sizes[k]);
		put_file(name, data, sizes[k]);
	}
	start();
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		snprintf(name, sizeof(name), "/f%zu", sizes[k]);
		get(name, NULL, &r);
		cr_assert(eq(int, r.status, 200), "%s", name);
		cr_assert(eq(sz, r.body_len, sizes[k]), "%s", name);
		cr_assert(eq(int, memcmp(r.body, data, sizes[k]), 0), "%s", name);
		response_free(&r);
		get(name, "Range: bytes=7-16390\r\n", &r); /* 16384 bytes, or up to the end */
		cr_assert(eq(int, r.status, 206), "%s", name);
		snprintf(want, sizeof(want), "bytes 7-%zu/%zu", sizes[k] > 16391 ? (size_t)16390 : sizes[k] - 1, sizes[k]);
		cr_assert(eq(str, (char *)header(&r, "Content-Range"), want), "%s", name);
		cr_assert(eq(sz, r.body_len, (sizes[k] > 16391 ? (size_t)16390 : sizes[k] - 1) - 7 + 1), "%s", name);
		cr_assert(eq(int, memcmp(r.body, data + 7, r.body_len), 0), "%s", name);
		response_free(&r);
	}
	free(data);
}

Test(http, keep_alive_serves_several_requests_on_one_connection)
{
	struct response r;
	int fd;

	put_file("second", "two", 3);
	start();
	fd = connect_server();
	for (int round = 0; round < 3; round++) {
		send_text(fd, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
		cr_assert(eq(int, read_response(fd, false, &r), 0), "round %d", round);
		cr_assert(eq(int, r.status, 200));
		cr_assert(eq(int, memcmp(r.body, small, SMALL_SIZE), 0));
		response_free(&r);
		send_text(fd, "GET /second HTTP/1.1\r\nHost: t\r\nRange: bytes=1-\r\n\r\n");
		cr_assert(eq(int, read_response(fd, false, &r), 0));
		cr_assert(eq(int, r.status, 206));
		cr_assert(eq(str, (char *)r.body, "wo"));
		response_free(&r);
	}
	close(fd);
}

Test(http, body_on_a_get_is_skipped_and_the_connection_kept)
{
	struct response r;
	int fd;

	start();
	fd = connect_server();
	send_text(fd, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
	cr_assert(eq(int, read_response(fd, false, &r), 0));
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(int, memcmp(r.body, small, SMALL_SIZE), 0));
	response_free(&r);
	send_text(fd, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\n\r\n");
	cr_assert(eq(int, read_response(fd, false, &r), 0), "the body was not taken for the next request");
	cr_assert(eq(int, r.status, 206));
	response_free(&r);
	close(fd);
}

/* ---- ranges ------------------------------------------------------------------------- */

static void expect_range(const char *range, int status, const char *content_range, size_t first, size_t len)
{
	char hdr[256];
	struct response r;

	snprintf(hdr, sizeof(hdr), "Range: %s\r\n", range);
	get("/ipxe.efi", hdr, &r);
	cr_assert(eq(int, r.status, status), "Range: %s", range);
	if (content_range)
		cr_assert(eq(str, (char *)header(&r, "Content-Range"), (char *)content_range), "Range: %s", range);
	else
		cr_assert(header(&r, "Content-Range") == NULL, "Range: %s", range);
	if (status != 416) {
		cr_assert(eq(sz, r.body_len, len), "Range: %s", range);
		cr_assert(eq(int, memcmp(r.body, small + first, len), 0), "Range: %s", range);
	}
	response_free(&r);
}

Test(http, each_range_form)
{
	start();
	expect_range("bytes=10-19", 206, "bytes 10-19/1000", 10, 10);
	expect_range("bytes=0-0", 206, "bytes 0-0/1000", 0, 1);
	expect_range("bytes=990-", 206, "bytes 990-999/1000", 990, 10);
	expect_range("bytes=-5", 206, "bytes 995-999/1000", 995, 5);
	expect_range("bytes=0-5000", 206, "bytes 0-999/1000", 0, 1000);   /* last clipped */
	expect_range("bytes=-5000", 206, "bytes 0-999/1000", 0, 1000);    /* suffix longer than the file */
	expect_range("BYTES=999-999", 206, "bytes 999-999/1000", 999, 1); /* the unit is case-insensitive */
	expect_range("bytes=0-99999999999999999999999", 206, "bytes 0-999/1000", 0, 1000);
}

Test(http, unsatisfiable_ranges_are_416)
{
	struct response r;

	start();
	expect_range("bytes=1000-", 416, "bytes */1000", 0, 0);
	expect_range("bytes=5000-6000", 416, "bytes */1000", 0, 0);
	expect_range("bytes=-0", 416, "bytes */1000", 0, 0);
	expect_range("bytes=99999999999999999999999-", 416, "bytes */1000", 0, 0);
	put_file("empty", "", 0);
	get("/empty", "Range: bytes=-1\r\n", &r);
	cr_assert(eq(int, r.status, 416));
	cr_assert(eq(str, (char *)header(&r, "Content-Range"), "bytes */0"));
	response_free(&r);
}

Test(http, ranges_that_are_ignored_give_the_whole_file)
{
	struct response r;
	char hdr[256];

	start();
	expect_range("bytes=0-1,5-6", 200, NULL, 0, 1000); /* several ranges: documented as refused */
	expect_range("bytes=5-2", 200, NULL, 0, 1000);     /* last before first: invalid */
	expect_range("items=0-1", 200, NULL, 0, 1000);
	expect_range("bytes=", 200, NULL, 0, 1000);
	expect_range("bytes=-", 200, NULL, 0, 1000);
	expect_range("bytes=a-b", 200, NULL, 0, 1000);
	expect_range("bytes=1-2x", 200, NULL, 0, 1000);
	/* HEAD: RFC 9110 §14.2, ranges are for GET. */
	request("HEAD /ipxe.efi HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n", true, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)header(&r, "Content-Length"), "1000"));
	response_free(&r);
	/* If-Range: a range only while the file is the one the client has. */
	expect_range("bytes=0-9\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT", 200, NULL, 0, 1000);
	get("/ipxe.efi", NULL, &r);
	snprintf(hdr, sizeof(hdr), "bytes=0-9\r\nIf-Range: %s", header(&r, "Last-Modified"));
	response_free(&r);
	expect_range(hdr, 206, "bytes 0-9/1000", 0, 10);
}

/* ---- the script ------------------------------------------------------------------------ */

Test(http, script_callback_gets_the_query_and_the_peer)
{
	struct response r;

	start();
	get("/boot.ipxe?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60&arch=efi-x64"
	    "&hostname=node+17&profile=debian",
	    NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)header(&r, "Content-Type"), "text/plain"));
	cr_assert(eq(str, (char *)header(&r, "Cache-Control"), "no-store"));
	cr_assert(eq(str, (char *)r.body,
		     "#!ipxe\n# method=GET mac=52:54:00:12:34:56 uuid=8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60 "
		     "arch=efi-x64 hostname=node 17 profile=debian ip=127.0.0.1 host=test\n"));
	response_free(&r);
	/* Absent parameters are NULL; a parameter without '=' too. */
	get("/boot.ipxe?arch", NULL, &r);
	cr_assert(eq(str, (char *)r.body,
		     "#!ipxe\n# method=GET mac=(null) uuid=(null) arch=(null) hostname=(null) profile=(null) "
		     "ip=127.0.0.1 host=test\n"));
	response_free(&r);
}

Test(http, script_status_errors_and_head)
{
	struct response r;

	start();
	get("/boot.ipxe?profile=missing", NULL, &r);
	cr_assert(eq(int, r.status, 404));
	cr_assert(eq(str, (char *)r.body, "no such profile\n"));
	response_free(&r);
	get("/boot.ipxe?profile=fail", NULL, &r);
	cr_assert(eq(int, r.status, 500));
	cr_assert(eq(str, (char *)r.body, "500 the boot script could not be made\n"));
	response_free(&r);
	get("/boot.ipxe?profile=empty", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(sz, r.body_len, 0));
	response_free(&r);
	request("HEAD /boot.ipxe?mac=x HTTP/1.1\r\nHost: h\r\n\r\n", true, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)header(&r, "Content-Length"), "102"),
		  "length of \"#!ipxe\\n# method=HEAD mac=x ...\"");
	response_free(&r);
}

Test(http, without_a_callback_boot_ipxe_is_a_file_and_without_root_files_are_404)
{
	struct response r;

	put_file("boot.ipxe", "#!ipxe\nshell\n", 13);
	start_with((struct http_server_config){ .root = root });
	get("/boot.ipxe?mac=x", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "#!ipxe\nshell\n"));
	response_free(&r);
	http_server_stop(server);
	start_with((struct http_server_config){ .script = script });
	get("/ipxe.efi", NULL, &r);
	cr_assert(eq(int, r.status, 404));
	response_free(&r);
	get("/boot.ipxe?profile=x", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	response_free(&r);
}

/* ---- 404 and 405 --------------------------------------------------------------------------- */

Test(http, missing_directories_and_special_files_are_404)
{
	char fifo[256];
	struct response r;
	const char *targets[] = { "/nope", "/", "/sub", "/sub/", "/ipxe.efi/x", "/fifo", "/sub/../ipxe.efi" };

	put_dir("sub");
	path_in_root(fifo, sizeof(fifo), "fifo");
	cr_assert(eq(int, mkfifo(fifo, 0644), 0));
	start();
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		get(targets[i], NULL, &r);
		cr_assert(eq(int, r.status, i == 6 ? 400 : 404), "%s", targets[i]);
		response_free(&r);
	}
}

Test(http, other_methods_are_405_with_allow)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS", "BREW" };
	struct response r;
	char text[256];

	start();
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(text, sizeof(text), "%s /ipxe.efi HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", methods[i]);
		request(text, false, &r);
		cr_assert(eq(int, r.status, 405), "%s", methods[i]);
		cr_assert(eq(str, (char *)header(&r, "Allow"), "GET, HEAD"), "%s", methods[i]);
		response_free(&r);
	}
	/* A body is not read, and the answer still comes. */
	request("POST /boot.ipxe HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", false, &r);
	cr_assert(eq(int, r.status, 405));
	response_free(&r);
}

/* ---- traversal ------------------------------------------------------------------------------ */

static bool leaked(const struct response *r)
{
	return r->body && strstr((const char *)r->body, "root:") != NULL;
}

static bool one_refused(const struct http_server_stats *s)
{
	return s->traversal_refused >= 1;
}

Test(http, dot_dot_in_any_spelling_is_refused_and_counted)
{
	static const char *const targets[] = {
		"/../etc/passwd",
		"/%2e%2e/etc/passwd",
		"/%2E%2E/etc/passwd",
		"/a/..%2f..%2fetc/passwd",
		"/a/%2e%2e%2F%2e%2e%2Fetc/passwd",
		"/..\\etc\\passwd",
		"/%2e%2e%5cetc%5cpasswd",
		"/ipxe.efi%00.txt",
		"/..",
		"/./../etc/passwd",
		"http://test/../etc/passwd",
	};
	struct http_server_stats s;
	struct response r;

	start();
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		get(targets[i], NULL, &r);
		cr_assert(eq(int, r.status, 400), "%s", targets[i]);
		cr_assert(eq(int, leaked(&r), 0), "%s", targets[i]);
		response_free(&r);
	}
	http_server_get_stats(server, &s);
	cr_assert(eq(u64, s.traversal_refused, sizeof(targets) / sizeof(targets[0])));
	cr_assert(eq(u64, s.status[4], sizeof(targets) / sizeof(targets[0])));
}

Test(http, bad_targets_are_400_without_counting_as_traversal)
{
	static const char *const targets[] = { "/%zz", "/a%2", "/a%0a", "*", "foo" };
	struct http_server_stats s;
	struct response r;

	start();
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		get(targets[i], NULL, &r);
		cr_assert(eq(int, r.status, 400), "%s", targets[i]);
		response_free(&r);
	}
	http_server_get_stats(server, &s);
	cr_assert(eq(u64, s.traversal_refused, 0));
}

Test(http, absolute_path_is_relative_to_the_root)
{
	struct response r;

	start();
	get("/etc/passwd", NULL, &r);
	cr_assert(eq(int, r.status, 404), "no etc/passwd under the root");
	cr_assert(eq(int, leaked(&r), 0));
	response_free(&r);
	put_dir("etc");
	put_file("etc/passwd", "the root's own\n", 15);
	get("/etc/passwd", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "the root's own\n"));
	response_free(&r);
	get("//etc//passwd", NULL, &r);
	cr_assert(eq(str, (char *)r.body, "the root's own\n"));
	response_free(&r);
	get("http://elsewhere/etc/passwd", NULL, &r); /* absolute-form: the path, under the root */
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "the root's own\n"));
	response_free(&r);
}

Test(http, symlinks_out_of_the_root_are_404_and_counted)
{
	struct http_server_stats s;
	struct response r;

	put_link("/etc/passwd", "passwd");
	put_link("/etc", "etcdir");
	put_link("../../etc/passwd", "relative-out");
	start();
	get("/passwd", NULL, &r);
	cr_assert(eq(int, r.status, 404));
	cr_assert(eq(int, leaked(&r), 0));
	response_free(&r);
	s = stats_when(one_refused);
	cr_assert(eq(u64, s.traversal_refused, 1));
	get("/etcdir/passwd", NULL, &r);
	cr_assert(eq(int, r.status, 404));
	cr_assert(eq(int, leaked(&r), 0));
	response_free(&r);
	get("/relative-out", NULL, &r);
	cr_assert(eq(int, r.status, 404));
	cr_assert(eq(int, leaked(&r), 0));
	response_free(&r);
	http_server_get_stats(server, &s);
	cr_assert(eq(u64, s.traversal_refused, 3));
}

Test(http, symlinks_inside_the_root_are_followed)
{
	char absolute[256];
	struct response r;

	put_dir("v1");
	put_file("v1/kernel", "v1 kernel", 9);
	put_link("v1", "current");
	put_link("../ipxe.efi", "v1/ipxe-link");
	path_in_root(absolute, sizeof(absolute), "ipxe.efi");
	put_link(absolute, "absolute-link");
	start();
	get("/current/kernel", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(str, (char *)r.body, "v1 kernel"));
	response_free(&r);
	get("/current/ipxe-link", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(int, memcmp(r.body, small, SMALL_SIZE), 0));
	response_free(&r);
	/* RESOLVE_BENEATH refuses every absolute link, even one that lands inside. */
	get("/absolute-link", NULL, &r);
	cr_assert(eq(int, r.status, 404));
	response_free(&r);
}

/* ---- counters and the log --------------------------------------------------------------------- */

/* 1000 + 10 + "404 not found\n" (14) + "no such profile\n" (16); HEAD sends none. */
static bool all_sent(const struct http_server_stats *s)
{
	return s->bytes_sent >= 1040;
}

Test(http, counters_by_class_bytes_ranges_scripts)
{
	struct http_server_stats s;
	struct response r;

	start();
	get("/ipxe.efi", NULL, &r);
	response_free(&r);
	get("/ipxe.efi", "Range: bytes=0-9\r\n", &r);
	response_free(&r);
	get("/nope", NULL, &r);
	response_free(&r);
	get("/boot.ipxe?profile=missing", NULL, &r); /* 404 from the callback: 16 bytes */
	response_free(&r);
	request("HEAD /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n", true, &r);
	response_free(&r);
	s = stats_when(all_sent);
	cr_assert(eq(u64, s.requests, 5));
	cr_assert(eq(u64, s.status[2], 3));
	cr_assert(eq(u64, s.status[4], 2));
	cr_assert(eq(u64, s.status[5], 0));
	cr_assert(eq(u64, s.range_requests, 1));
	cr_assert(eq(u64, s.scripts, 1));
	cr_assert(eq(u64, s.bytes_sent, 1040));
}

Test(http, log_has_method_raw_target_status_bytes_peer)
{
	struct response r;

	start();
	get("/ipxe.efi?x=%41", "Range: bytes=-10\r\n", &r);
	response_free(&r);
	wait_log(1);
	cr_assert(eq(str, logged[0].method, "GET"));
	cr_assert(eq(str, logged[0].target, "/ipxe.efi?x=%41"));
	cr_assert(eq(u32, logged[0].status, 206));
	cr_assert(eq(u64, logged[0].bytes, 10));
	cr_assert(logged[0].complete);
	cr_assert(eq(str, logged[0].remote_ip, "127.0.0.1"));
	cr_assert(lt(u64, logged[0].duration_us, 5000000));
	request("HEAD /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n", true, &r);
	response_free(&r);
	wait_log(2);
	cr_assert(eq(str, logged[1].method, "HEAD"));
	cr_assert(eq(u64, logged[1].bytes, 0));
}

static bool one_malformed(const struct http_server_stats *s)
{
	return s->malformed >= 1;
}

Test(http, malformed_request_is_counted_and_logged_with_status_0)
{
	struct http_server_stats s;
	struct response r;

	start();
	request("GET /ipxe.efi HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n", false, &r);
	cr_assert(eq(int, r.status, 400), "libmicrohttpd answers it itself");
	response_free(&r);
	s = stats_when(one_malformed);
	cr_assert(eq(u64, s.malformed, 1));
	cr_assert(eq(u64, s.requests, 0));
	wait_log(1);
	cr_assert(eq(u32, logged[0].status, 0));
	cr_assert(eq(str, logged[0].method, ""));
	cr_assert(eq(str, logged[0].target, "/ipxe.efi"));
	cr_assert(eq(int, logged[0].complete, 0));
}

Test(http, client_leaving_mid_transfer_is_logged_incomplete_and_server_lives)
{
	uint8_t *data = calloc(1, LARGE_SIZE);
	char buf[4096];
	struct response r;
	int fd;

	cr_assert(data != NULL);
	put_file("big.img", data, LARGE_SIZE);
	free(data);
	start();
	fd = connect_server();
	send_text(fd, "GET /big.img HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(gt(sz, (size_t)recv(fd, buf, sizeof(buf), 0), 0));
	/* RST rather than FIN, so that the server's next sendfile() fails (EPIPE). */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ .l_onoff = 1, .l_linger = 0 }, sizeof(struct linger));
	close(fd);
	wait_log(1);
	cr_assert(eq(u32, logged[0].status, 200));
	cr_assert(eq(int, logged[0].complete, 0));
	cr_assert(eq(u64, logged[0].bytes, LARGE_SIZE));
	get("/ipxe.efi", NULL, &r);
	cr_assert(eq(int, r.status, 200), "still serving");
	response_free(&r);
}

/* ---- limits ---------------------------------------------------------------------------------- */

Test(http, connection_limit_holds_the_one_too_many_until_a_slot_frees)
{
	struct timeval short_wait = { .tv_usec = 300000 };
	struct response r;
	char byte;
	int a, b, c;

	start_with((struct http_server_config){ .root = root, .max_connections = 2, .threads = 1 });
	a = connect_server();
	b = connect_server();
	send_text(a, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, read_response(a, false, &r), 0));
	response_free(&r);
	send_text(b, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert(eq(int, read_response(b, false, &r), 0));
	response_free(&r);
	/* At the limit libmicrohttpd stops accepting: the third waits in the
	 * kernel's backlog, unanswered, rather than being refused. */
	c = connect_server();
	send_text(c, "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait));
	cr_assert(eq(int, (int)recv(c, &byte, 1, MSG_PEEK), -1), "no answer while two are connected");
	cr_assert(eq(int, errno, EAGAIN));
	close(a);
	short_wait.tv_sec = 5;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait));
	cr_assert(eq(int, read_response(c, false, &r), 0), "served once a slot is free");
	cr_assert(eq(int, r.status, 200));
	response_free(&r);
	close(b);
	close(c);
}

/* A boot storm: a thousand machines, often behind one address (a relay, NAT,
 * the bench's swarm), all connected at once. The defaults (connection limit,
 * no per-address limit, threads) must serve every one without waiting for
 * another to leave. */
Test(http, a_thousand_connections_from_one_address_are_served_at_once)
{
	enum { N = 1000 };
	static int fds[N];
	struct rlimit rl;
	struct response r;

	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &rl), 0));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * HTTP_DEFAULT_MAX_CONNECTIONS + N + 128)
		cr_skip_test("hard RLIMIT_NOFILE %llu is too low for %d clients and the server",
			     (unsigned long long)rl.rlim_max, N);
	start_with((struct http_server_config){ .root = root }); /* every default */
	/* The server raised the soft limit for itself; the test's sockets share it. */
	for (int i = 0; i < N; i++) {
		fds[i] = connect_server();
		send_text(fds[i], "GET /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	for (int i = 0; i < N; i++) {
		cr_assert(eq(int, read_response(fds[i], false, &r), 0), "connection %d unanswered", i);
		cr_assert(eq(int, r.status, 200));
		cr_assert(eq(int, memcmp(r.body, small, SMALL_SIZE), 0));
		response_free(&r);
	}
	/* Still open, all of them: one more request on the first and the last. */
	for (int i = 0; i < N; i += N - 1) {
		send_text(fds[i], "HEAD /ipxe.efi HTTP/1.1\r\nHost: t\r\n\r\n");
		cr_assert(eq(int, read_response(fds[i], true, &r), 0), "connection %d kept alive", i);
		cr_assert(eq(int, r.status, 200));
		response_free(&r);
	}
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

Test(http, idle_connection_times_out)
{
	struct timespec t0, t1;
	char byte;
	int fd;

	start_with((struct http_server_config){ .root = root, .timeout_s = 1 });
	fd = connect_server();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(eq(sz, (size_t)recv(fd, &byte, 1, 0), 0), "closed by the server, not by our 5 s timeout");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert(lt(long, t1.tv_sec - t0.tv_sec, 4));
	close(fd);
}

Test(http, port_in_use_is_a_clear_error)
{
	struct http_server_config cfg = { .address = "127.0.0.1", .root = root };
	struct http_server *second = NULL;
	char err[256], want[256];

	start_with(cfg);
	cfg.port = port;
	cr_assert(eq(int, http_server_start(&cfg, &second, err, sizeof(err)), -EADDRINUSE));
	snprintf(want, sizeof(want),
		 "HTTP: cannot listen on 127.0.0.1:%u: Address already in use (another server is listening there: "
		 "stop it or choose another port)",
		 port);
	cr_assert(eq(str, err, want));
	cr_assert(second == NULL);
}

Test(http, bad_configuration_is_refused)
{
	struct http_server_config cfg = { .address = "10.0.0", .root = root };
	struct http_server *s = NULL;
	char err[256];

	cr_assert(eq(int, http_server_start(&cfg, &s, err, sizeof(err)), -EINVAL));
	cr_assert(eq(str, err, "HTTP: listen address \"10.0.0\" is not a dotted IPv4 address"));
	cfg.address = "127.0.0.1";
	cfg.root = "/nonexistent/stampede-root";
	cr_assert(eq(int, http_server_start(&cfg, &s, err, sizeof(err)), -ENOENT));
	cr_assert(eq(str, err, "HTTP: cannot open the root directory /nonexistent/stampede-root: No such file or "
			       "directory"));
	cfg.address = "192.0.2.1"; /* TEST-NET-1: on no interface here */
	cfg.root = root;
	cr_assert(eq(int, http_server_start(&cfg, &s, err, sizeof(err)), -EADDRNOTAVAIL));
	cr_assert(eq(str, err, "HTTP: cannot listen on 192.0.2.1:0: Cannot assign requested address (no interface of "
			       "this host has that address)"));
	cr_assert(s == NULL);
}

Test(http, descriptor_limit_is_raised_or_reported)
{
	struct http_server_config cfg = { .address = "127.0.0.1", .root = root, .max_connections = 1024 };
	struct rlimit rl;
	char err[256];

	/* Criterion runs each test in its own process: the limits do not leak. */
	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &rl), 0));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * 1024 + 64)
		cr_skip_test("hard RLIMIT_NOFILE %llu is below what this test raises to", (unsigned long long)rl.rlim_max);
	rl.rlim_cur = 256;
	cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
	cr_assert(eq(int, http_server_start(&cfg, &server, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &rl), 0));
	cr_assert(ge(u64, (uint64_t)rl.rlim_cur, 2 * 1024 + 64), "soft limit raised");
	http_server_stop(server);
	server = NULL;
	rl.rlim_cur = rl.rlim_max = 256;
	cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
	cr_assert(eq(int, http_server_start(&cfg, &server, err, sizeof(err)), -EMFILE));
	cr_assert(eq(str, err, "HTTP: 1024 connections need 2112 file descriptors, the limit is 256: raise it "
			       "(ulimit -n, LimitNOFILE=) or lower the connection limit"));
	cr_assert(server == NULL);
}

/* ---- pure parsers --------------------------------------------------------------------------- */

Test(http_target_path, decoding_segments_and_refusals)
{
	static const struct {
		const char *target;
		int want;
		const char *path;
	} cases[] = {
		{ "/ipxe.efi", 0, "ipxe.efi" },
		{ "/", 0, "" },
		{ "//", 0, "" },
		{ "/./", 0, "" },
		{ "/a/./b//c/", 0, "a/b/c" },
		{ "/a/b?x=../..", 0, "a/b" },
		{ "/a#frag", 0, "a" },
		{ "/my%20file", 0, "my file" },
		{ "/a%2Fb", 0, "a/b" },
		{ "/a+b", 0, "a+b" },
		{ "/...", 0, "..." },
		{ "/..a/b..", 0, "..a/b.." },
		{ "/caf%C3%A9", 0, "caf\xc3\xa9" },
		{ "http://host:8080/x/y?z", 0, "x/y" },
		{ "HTTPS://host", 0, "" },
		{ "http://host?q", 0, "" },
		{ "/..", -EPERM, NULL },
		{ "/../etc/passwd", -EPERM, NULL },
		{ "/a/../b", -EPERM, NULL },
		{ "/%2e%2e/x", -EPERM, NULL },
		{ "/%2E%2e", -EPERM, NULL },
		{ "/a/..%2f..%2fetc", -EPERM, NULL },
		{ "/a\\b", -EPERM, NULL },
		{ "/a%5cb", -EPERM, NULL },
		{ "/a%00b", -EPERM, NULL },
		{ "http://h/../x", -EPERM, NULL },
		{ "*", -EINVAL, NULL },
		{ "", -EINVAL, NULL },
		{ "etc/passwd", -EINVAL, NULL },
		{ "/%", -EINVAL, NULL },
		{ "/%4", -EINVAL, NULL },
		{ "/%g0", -EINVAL, NULL },
		{ "/a%0Ab", -EINVAL, NULL },
		{ "/a%7f", -EINVAL, NULL },
		{ "/a\tb", -EINVAL, NULL },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = http_target_path(cases[i].target, out, sizeof(out));

		cr_assert(eq(int, r, cases[i].want), "%s", cases[i].target);
		if (cases[i].path)
			cr_assert(eq(str, out, (char *)cases[i].path), "%s", cases[i].target);
	}
}

Test(http_target_path, output_that_just_fits_and_one_more)
{
	char out[8];

	cr_assert(eq(int, http_target_path("/abcdefg", out, 8), 0), "7 bytes and the NUL");
	cr_assert(eq(str, out, "abcdefg"));
	cr_assert(eq(int, http_target_path("/abcdefgh", out, 8), -ENAMETOOLONG));
	cr_assert(eq(int, http_target_path("/a", out, 0), -ENAMETOOLONG));
}

Test(http_range_parse, table)
{
	static const struct {
		const char *header;
		uint64_t size;
		enum http_range_result want;
		uint64_t first, last;
	} cases[] = {
		{ NULL, 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=0-9", 100, HTTP_RANGE_PARTIAL, 0, 9 },
		{ "bytes=90-", 100, HTTP_RANGE_PARTIAL, 90, 99 },
		{ "bytes=-10", 100, HTTP_RANGE_PARTIAL, 90, 99 },
		{ "bytes=-100", 100, HTTP_RANGE_PARTIAL, 0, 99 },
		{ "bytes=-101", 100, HTTP_RANGE_PARTIAL, 0, 99 },
		{ "bytes=99-99", 100, HTTP_RANGE_PARTIAL, 99, 99 },
		{ "bytes=50-1000", 100, HTTP_RANGE_PARTIAL, 50, 99 },
		{ " Bytes= 5-6 ", 100, HTTP_RANGE_PARTIAL, 5, 6 },
		{ "bytes=0-18446744073709551616", 100, HTTP_RANGE_PARTIAL, 0, 99 },
		{ "bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=100-200", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-1", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=99999999999999999999-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=9-5", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=0-1,3-4", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=0-1, 3-4", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=-", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=5", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=+5-6", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes=5-6x", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "bytes 5-6", 100, HTTP_RANGE_NONE, 0, 0 },
		{ "items=0-1", 100, HTTP_RANGE_NONE, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t first = 12345, last = 12345;
		enum http_range_result r = http_range_parse(cases[i].header, cases[i].size, &first, &last);

		cr_assert(eq(int, (int)r, (int)cases[i].want), "\"%s\" size %llu", cases[i].header ? cases[i].header : "(null)",
			  (unsigned long long)cases[i].size);
		if (r == HTTP_RANGE_PARTIAL) {
			cr_assert(eq(u64, first, cases[i].first), "%s", cases[i].header);
			cr_assert(eq(u64, last, cases[i].last), "%s", cases[i].header);
		}
	}
}

/* The configuration's HTTP Boot files are served at their name even when they
 * are symlinks out of the root (Debian's ipxe.efi -> /boot/ipxe.efi); the same
 * link without an alias stays refused, and an alias serves nothing else. */
Test(http, aliases_serve_named_files_outside_the_root)
{
	char outside[256], path[300];
	struct http_alias alias;
	struct response r;

	snprintf(outside, sizeof(outside), "%s.outside", root);
	cr_assert(eq(int, mkdir(outside, 0755), 0));
	snprintf(path, sizeof(path), "%s/boot.efi", outside);
	write_bytes(path, "outside bytes", 13);
	put_link(path, "boot.efi");
	put_link(path, "other.efi");
	alias = (struct http_alias){ "/boot.efi", path };
	start_with((struct http_server_config){ .root = root, .aliases = &alias, .n_aliases = 1 });
	get("/boot.efi", NULL, &r);
	cr_assert(eq(int, r.status, 200));
	cr_assert(eq(sz, r.body_len, 13));
	cr_assert(eq(int, memcmp(r.body, "outside bytes", 13), 0));
	response_free(&r);
	get("/other.efi", NULL, &r);
	cr_assert(eq(int, r.status, 404), "a link out of the root without an alias");
	response_free(&r);
	remove_tree(outside);
}
