/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HTTP server on libmicrohttpd (behaviour, thread model and path rules:
 * http_server.h).
 *
 * libmicrohttpd parses HTTP, keeps connections alive and sends file bodies
 * with sendfile(); this file decides what each request gets. A request's
 * life: the URI-log callback copies the request-target exactly as received
 * and starts the clock; the access handler answers GET and HEAD on its second
 * call (after the empty body, so that the connection stays alive) and any other
 * method on its first (no body is read); the completion callback counts the
 * bytes, reports to the log callback and frees. libmicrohttpd pairs the first
 * and last callback for every request line it reads, also for requests it
 * refuses itself, which is how those are counted as "malformed".
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Descriptors besides two per connection: listening socket, an epoll and a
 * wake-up pipe per thread, and the rest of the process. */
#define FD_RESERVE 64
#define LOG_MESSAGE_MAX 512
/* Bodies up to this size are read and sent with their header (small_body). */
#define HTTP_SMALL_BODY (16u * 1024)
/* listen()'s backlog; the kernel caps it at net.core.somaxconn. */
#define HTTP_LISTEN_BACKLOG 4096
/* Each connection's send buffer. The kernel's autotuning lets every one grow
 * to tcp_wmem's maximum (4 MiB): a thousand machines fetching kernels at once
 * would ask for 4 GiB, past net.ipv4.tcp_mem, and TCP under memory pressure
 * slows every connection to a crawl. 512 KiB still fills a 10 Gb/s link at a
 * 400 us round trip. */
#define HTTP_SEND_BUFFER (512 * 1024)

struct counters {
	_Atomic uint64_t status[6], malformed, bytes_sent, ranges, traversal, scripts;
};

struct http_server {
	struct MHD_Daemon *daemon;
	http_route_fn route;
	int root_fd; /* O_PATH directory; -1 without file serving */
	struct {
		char *path, *file;
	} aliases[HTTP_MAX_ALIASES];
	size_t n_aliases;
	uint16_t port;
	http_script_fn script;
	http_log_fn log;
	void (*error)(void *ctx, const char *message);
	void *ctx;
	struct counters counters;
	/* libmicrohttpd's messages go to start_message while starting (the reason
	 * a start failed), to the error callback afterwards. */
	pthread_mutex_t message_lock;
	bool starting;
	char start_message[LOG_MESSAGE_MAX];
};

/* One request, from its request line to its last byte. */
struct request {
	struct timespec start;
	bool headers_done; /* the handler has been called once */
	unsigned status;   /* 0 until answered */
	uint64_t bytes;  /* body bytes due */
	char method[16];
	char remote_ip[INET6_ADDRSTRLEN];
	char target[]; /* as received */
};

static void count(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* ---- request-target and Range: pure functions ----------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_target_path(const char *target, char *out, size_t out_len)
{
	const char *p = target;
	size_t n = 0, w = 0, i = 0;

	if (!out_len)
		return -ENAMETOOLONG;
	/* RFC 9112 §3.2.2 absolute-form (what a proxy would send): keep the path. */
	if (!strncasecmp(p, "http://", 7) || !strncasecmp(p, "https://", 8)) {
		p = strstr(p, "://") + 3;
		p += strcspn(p, "/?#");
		if (*p != '/')
			p = "/";
	}
	if (*p != '/')
		return -EINVAL; /* "*" (OPTIONS) or a bare word: no file */
	/* Percent-decode the path after its leading '/' (up to the query) into out. */
	for (p++; *p && *p != '?' && *p != '#'; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (lo < 0)
				return -EINVAL;
			c = hi << 4 | lo;
			p += 2;
			if (c == 0)
				return -EPERM; /* would cut the name the kernel sees */
		}
		if (c == '\\')
			return -EPERM; /* a separator to some servers and clients: "..\\" */
		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
		if (n + 1 >= out_len)
			return -ENAMETOOLONG;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	/* Segments, in place: skip empty ones and ".", refuse "..". The write
	 * position never passes the read position, as every kept segment after
	 * the first was preceded by at least one '/'. */
	while (i < n) {
		size_t start, len;

		while (i < n && out[i] == '/')
			i++;
		start = i;
		while (i < n && out[i] != '/')
			i++;
		len = i - start;
		if (len == 0 || (len == 1 && out[start] == '.'))
			continue;
		if (len == 2 && out[start] == '.' && out[start + 1] == '.')
			return -EPERM;
		if (w)
			out[w++] = '/';
		memmove(out + w, out + start, len);
		w += len;
	}
	out[w] = '\0';
	return 0;
}

/* Digits to a number that saturates instead of wrapping; NULL if no digit. */
static const char *parse_pos(const char *p, uint64_t *value)
{
	uint64_t v = 0;
	const char *start = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*value = v;
	return p == start ? NULL : p;
}

enum http_range_result http_range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last)
{
	const char *p = header;
	uint64_t a = 0, b = UINT64_MAX;
	bool suffix;

	if (!p)
		return HTTP_RANGE_NONE;
	p += strspn(p, " \t");
	if (strncasecmp(p, "bytes=", 6) != 0)
		return HTTP_RANGE_NONE; /* §14.2: an unknown unit is ignored */
	p += 6;
	p += strspn(p, " \t");
	if (strchr(p, ','))
		return HTTP_RANGE_NONE; /* several ranges: the whole file instead */
	suffix = *p == '-';
	if (!suffix && !(p = parse_pos(p, &a)))
		return HTTP_RANGE_NONE;
	if (*p++ != '-')
		return HTTP_RANGE_NONE;
	if (*p >= '0' && *p <= '9')
		p = parse_pos(p, &b);
	else if (suffix)
		return HTTP_RANGE_NONE; /* "-" alone */
	p += strspn(p, " \t");
	if (*p)
		return HTTP_RANGE_NONE;
	if (suffix) {
		/* §14.1.3: the last b bytes; a file of 0 bytes has none to give. */
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return HTTP_RANGE_PARTIAL;
	}
	if (b < a)
		return HTTP_RANGE_NONE; /* §14.1.1: invalid, so ignored */
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return HTTP_RANGE_PARTIAL;
}

/* ---- responses ---------------------------------------------------------------- */

static const struct content_type {
	const char *suffix;
	const char *type;
} content_types[] = {
	{ ".ipxe", "text/plain" },
	{ ".cfg", "text/plain" },
	{ ".txt", "text/plain" },
	{ ".html", "text/html" },
	{ ".json", "application/json" },
	{ ".iso", "application/x-iso9660-image" },
};

static const char *content_type(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
		size_t n = strlen(content_types[i].suffix);

		if (len > n && !strcasecmp(path + len - n, content_types[i].suffix))
			return content_types[i].type;
	}
	return "application/octet-stream"; /* kernels, initrds, EFI binaries */
}

/* RFC 9110 §5.6.7 IMF-fixdate, without the locale strftime() would use. */
static void http_date(time_t t, char *out, size_t len)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Queues r (taking it) as the answer; body_len is what a GET would carry. */
static enum MHD_Result answer(struct http_server *s, struct MHD_Connection *c, struct request *rq, unsigned status,
			      struct MHD_Response *r, uint64_t body_len)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
	rq->status = status;
	rq->bytes = strcmp(rq->method, "HEAD") == 0 ? 0 : body_len;
	count(&s->counters.status[status / 100 <= 5 ? status / 100 : 5], 1);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct http_server *s, struct MHD_Connection *c, struct request *rq,
				   unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (r && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return answer(s, c, rq, status, r, strlen(text));
}

/* ---- /boot.ipxe ---------------------------------------------------------------- */

static const char *query(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result serve_script(struct http_server *s, struct MHD_Connection *c, struct request *rq)
{
	struct http_script_request req = {
		.method = rq->method,
		.mac = query(c, "mac"),
		.uuid = query(c, "uuid"),
		.arch = query(c, "arch"),
		.hostname = query(c, "hostname"),
		.profile = query(c, "profile"),
		.remote_ip = rq->remote_ip,
		.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
	};
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	char *body = NULL;
	size_t len;

	if (s->script(s->ctx, &req, &body, &status) < 0 || status < 100 || status > 599) {
		free(body);
		return answer_text(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 the boot script could not be made\n");
	}
	count(&s->counters.scripts, 1);
	len = body ? strlen(body) : 0;
	if (body)
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	/* Per machine and per moment (profiles change): never from a cache. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return answer(s, c, rq, status, r, len);
}

/* ---- the control plane's routes ---------------------------------------------------- */

const char *http_route_query(const struct http_route_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->opaque, MHD_GET_ARGUMENT_KIND, key);
}

/* 1: answered (the MHD result in *result), 0: not a route. */
static int serve_route(struct http_server *s, struct MHD_Connection *c, struct request *rq, const char *path,
		       enum MHD_Result *result)
{
	struct http_route_request req = {
		.method = rq->method,
		.path = path,
		.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		.remote_ip = rq->remote_ip,
		.opaque = c,
	};
	struct http_route_response resp = { 0 };
	struct MHD_Response *r;
	int handled = s->route(s->ctx, &req, &resp);

	if (handled == 0)
		return 0;
	if (handled < 0 || resp.status < 100 || resp.status > 599) {
		free(resp.body);
		*result = answer_text(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 internal error\n");
		return 1;
	}
	if (resp.body)
		r = MHD_create_response_from_buffer(resp.len, resp.body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp.body);
		*result = MHD_NO;
		return 1;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				resp.content_type ? resp.content_type : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (resp.www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp.www_authenticate);
	*result = answer(s, c, rq, resp.status, r, resp.len);
	return 1;
}

/* ---- files ---------------------------------------------------------------------- */

int http_open_beneath(int dir_fd, const char *path)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused
	 * as not regular); it changes nothing for regular files. */
	struct open_how how = {
		.flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
}

static enum MHD_Result open_failed(struct http_server *s, struct MHD_Connection *c, struct request *rq, int e)
{
	switch (e) {
	case EXDEV: /* a symlink (or ..) that leads out of the root */
	case ELOOP: /* an absolute or magic link: refused by the resolve flags */
		count(&s->counters.traversal, 1);
		return answer_text(s, c, rq, MHD_HTTP_NOT_FOUND, "404 not found\n");
	case EACCES:
	case EPERM:
		return answer_text(s, c, rq, MHD_HTTP_FORBIDDEN, "403 forbidden\n");
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return answer_text(s, c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "503 busy, retry\n");
	default: /* ENOENT, ENOTDIR, ENAMETOOLONG, ... */
		return answer_text(s, c, rq, MHD_HTTP_NOT_FOUND, "404 not found\n");
	}
}

/*
 * A small body (an iPXE script, a menu, a pxelinux config) read into memory:
 * libmicrohttpd then sends header and body with one sendmsg(), in one TCP
 * segment. With sendfile() it sends the header first (send) and the body
 * after (sendfile): two segments, two ACKs, about twice the packet work per
 * request. NULL (and the caller falls back to sendfile) if the file does not
 * give body_len bytes at once.
 */
static struct MHD_Response *small_body(int fd, uint64_t first, uint64_t body_len)
{
	struct MHD_Response *r;
	char *buf = malloc(body_len);

	if (!buf)
		return NULL;
	if (pread(fd, buf, body_len, (off_t)first) != (ssize_t)body_len) {
		free(buf);
		return NULL;
	}
	if (!(r = MHD_create_response_from_buffer(body_len, buf, MHD_RESPMEM_MUST_FREE)))
		free(buf);
	return r;
}

static enum MHD_Result serve_file(struct http_server *s, struct MHD_Connection *c, struct request *rq,
				  const char *path)
{
	static const char unsatisfiable[] = "416 range not satisfiable\n";
	const char *range = NULL, *if_range;
	char modified[64], content_range[80];
	uint64_t size, body_len, first = 0, last = 0;
	enum http_range_result kind = HTTP_RANGE_NONE;
	struct MHD_Response *r;
	unsigned status;
	struct stat st;
	int fd;

	if (!path[0])
		return answer_text(s, c, rq, MHD_HTTP_NOT_FOUND, "404 not found\n"); /* the root: no listing */
	fd = -2;
	for (size_t i = 0; i < s->n_aliases && fd == -2; i++)
		if (strcmp(path, s->aliases[i].path) == 0)
			fd = open(s->aliases[i].file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -2)
		fd = http_open_beneath(s->root_fd, path);
	if (fd < 0)
		return open_failed(s, c, rq, errno);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return answer_text(s, c, rq, MHD_HTTP_NOT_FOUND, "404 not found\n");
	}
	size = (uint64_t)st.st_size;
	http_date(st.st_mtime, modified, sizeof(modified));
	/* RFC 9110 §14.2: only GET has ranges; §13.1.5: If-Range must match. */
	if (!strcmp(rq->method, "GET")) {
		range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
		if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
		if (if_range && strcmp(if_range, modified) != 0)
			range = NULL;
	}
	kind = http_range_parse(range, size, &first, &last);
	if (kind == HTTP_RANGE_UNSATISFIABLE) {
		close(fd);
		r = MHD_create_response_from_buffer(sizeof(unsatisfiable) - 1, (void *)unsatisfiable,
						    MHD_RESPMEM_PERSISTENT);
		if (r) {
			snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64, size);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
		}
		return answer(s, c, rq, MHD_HTTP_RANGE_NOT_SATISFIABLE, r, sizeof(unsatisfiable) - 1);
	}
	if (kind == HTTP_RANGE_NONE) {
		first = 0;
		last = size ? size - 1 : 0;
	}
	status = kind == HTTP_RANGE_PARTIAL ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK;
	body_len = size ? last - first + 1 : 0;
	if (body_len == 0) {
		close(fd);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else if (body_len <= HTTP_SMALL_BODY && !strcmp(rq->method, "GET") && (r = small_body(fd, first, body_len))) {
		close(fd);
	} else if (!(r = MHD_create_response_from_fd_at_offset64(body_len, fd, first))) {
		close(fd); /* the response owns fd only once created */
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		snprintf(content_range, sizeof(content_range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last,
			 size);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
		count(&s->counters.ranges, 1);
	}
	return answer(s, c, rq, status, r, body_len);
}

/* ---- libmicrohttpd callbacks -------------------------------------------------- */

static void connection_started(void *cls, struct MHD_Connection *c, void **socket_context,
			       enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *info;
	int size = HTTP_SEND_BUFFER;

	(void)cls;
	(void)socket_context;
	if (code != MHD_CONNECTION_NOTIFY_STARTED ||
	    !(info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD)))
		return;
	setsockopt(info->connect_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static void *request_begins(void *cls, const char *uri, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	size_t len = strlen(uri);
	struct request *rq;

	(void)cls;
	if (!(rq = calloc(1, sizeof(*rq) + len + 1)))
		return NULL; /* the handler then closes the connection */
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	memcpy(rq->target, uri, len + 1);
	if (info && info->client_addr) {
		const struct sockaddr *sa = info->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, rq->remote_ip,
				  sizeof(rq->remote_ip));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, rq->remote_ip,
				  sizeof(rq->remote_ip));
	}
	return rq;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct request *rq = *con_cls;
	char path[PATH_MAX];
	int r;

	(void)url; /* already decoded, and lossy: see http_server.h */
	(void)version;
	(void)upload_data;
	if (!rq)
		return MHD_NO; /* no memory for the request: libmicrohttpd closes the connection */
	if (rq->status) {
		*upload_data_size = 0; /* answered already; a body is not read */
		return MHD_YES;
	}
	snprintf(rq->method, sizeof(rq->method), "%s", method);
	/* Refused at once: libmicrohttpd then closes the connection rather than
	 * read a body nobody wants. */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && !(s->route && !strcmp(method, "POST")))
		return answer_text(s, c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "405 only GET and HEAD\n");
	/* The first call comes with the headers; libmicrohttpd keeps the connection
	 * alive only for a response queued on a later call, once the (empty)
	 * request body is known to be complete. */
	if (!rq->headers_done) {
		rq->headers_done = true;
		return MHD_YES;
	}
	/* A body on GET has no meaning (RFC 9110 §9.3.1): read past it. Its size
	 * is bounded by the connection timeout, like any slow client. */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	switch ((r = http_target_path(rq->target, path, sizeof(path)))) {
	case 0:
		break;
	case -EPERM:
		count(&s->counters.traversal, 1);
		return answer_text(s, c, rq, MHD_HTTP_BAD_REQUEST, "400 path refused\n");
	case -ENAMETOOLONG:
		return answer_text(s, c, rq, MHD_HTTP_URI_TOO_LONG, "414 path too long\n");
	default:
		return answer_text(s, c, rq, MHD_HTTP_BAD_REQUEST, "400 bad path\n");
	}
	if (s->route) {
		enum MHD_Result result;

		if (serve_route(s, c, rq, path, &result))
			return result;
		if (!strcmp(rq->method, "POST"))
			return answer_text(s, c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "405 only GET and HEAD\n");
	}
	if (s->script && !strcmp(path, "boot.ipxe"))
		return serve_script(s, c, rq);
	if (s->root_fd < 0)
		return answer_text(s, c, rq, MHD_HTTP_NOT_FOUND, "404 not found (no files are served)\n");
	return serve_file(s, c, rq, path);
}

static void request_ends(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct request *rq = *con_cls;
	bool complete = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
	struct timespec now;

	(void)c;
	if (!rq)
		return;
	if (!rq->status)
		count(&s->counters.malformed, 1);
	else if (complete)
		count(&s->counters.bytes_sent, rq->bytes);
	if (s->log) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		struct http_log_entry e = {
			.method = rq->method,
			.target = rq->target,
			.status = rq->status,
			.bytes = rq->bytes,
			.complete = complete && rq->status,
			.remote_ip = rq->remote_ip,
			.duration_us = (uint64_t)(now.tv_sec - rq->start.tv_sec) * 1000000u +
				       (uint64_t)((now.tv_nsec - rq->start.tv_nsec) / 1000),
		};

		s->log(s->ctx, &e);
	}
	free(rq);
	*con_cls = NULL;
}

static void mhd_message(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char message[LOG_MESSAGE_MAX];
	bool forward;
	size_t len;

	vsnprintf(message, sizeof(message), fmt, ap);
	len = strlen(message);
	while (len && (message[len - 1] == '\n' || message[len - 1] == '\r'))
		message[--len] = '\0';
	pthread_mutex_lock(&s->message_lock);
	forward = !s->starting;
	if (s->starting && !s->start_message[0])
		snprintf(s->start_message, sizeof(s->start_message), "%s", message);
	pthread_mutex_unlock(&s->message_lock);
	if (forward && s->error)
		s->error(s->ctx, message);
}

/* ---- start and stop ------------------------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static int fail(int error, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return error;
}

/*
 * Binds and listens once on a throw-away socket, to report why the port cannot
 * be had with the real errno: libmicrohttpd only says "failed". Same options as
 * libmicrohttpd's socket (SO_REUSEADDR), so the answer is the one it would get.
 */
static int probe_listen(const struct sockaddr_in *sa, const char *address, char *err, size_t err_len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e;
	const char *hint = "";

	if (fd < 0)
		return fail(-errno, err, err_len, "cannot create a TCP socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 && listen(fd, 1) == 0) {
		close(fd);
		return 0;
	}
	e = errno;
	close(fd);
	if (e == EADDRINUSE)
		hint = " (another server is listening there: stop it or choose another port)";
	else if (e == EACCES)
		hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
	else if (e == EADDRNOTAVAIL)
		hint = " (no interface of this host has that address)";
	return fail(-e, err, err_len, "HTTP: cannot listen on %s:%u: %s%s", address, ntohs(sa->sin_port), strerror(e),
		    hint);
}

/* Two descriptors per connection must fit under RLIMIT_NOFILE: raise the soft
 * limit when the hard one allows (systemd's advice for programs that do not
 * select(): the soft 1024 exists only for select()'s sake). */
static int ensure_descriptors(unsigned *max_connections_p, bool chosen, char *err, size_t err_len)
{
	unsigned max_connections = *max_connections_p;
	rlim_t need = (rlim_t)max_connections * 2 + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(-errno, err, err_len, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	/* The default (not a number the caller chose) shrinks to what the hard
	 * limit allows, down to HTTP_MIN_DEFAULT_CONNECTIONS. */
	if (!chosen && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need &&
	    rl.rlim_max >= (rlim_t)HTTP_MIN_DEFAULT_CONNECTIONS * 2 + FD_RESERVE) {
		max_connections = (unsigned)((rl.rlim_max - FD_RESERVE) / 2);
		need = (rlim_t)max_connections * 2 + FD_RESERVE;
		*max_connections_p = max_connections;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
			return fail(-EMFILE, err, err_len,
				    "HTTP: %u connections need %llu file descriptors, the limit is %llu: raise it "
				    "(ulimit -n, LimitNOFILE=) or lower the connection limit",
				    max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_max);
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return fail(-errno, err, err_len, "HTTP: cannot raise RLIMIT_NOFILE to %llu: %s",
				    (unsigned long long)need, strerror(errno));
	}
	return 0;
}

/* The CPUs this process may run on (taskset, cgroup cpusets, systemd's
 * CPUAffinity=): more event loops than that only take turns on the same cores
 * and pay context switches for it. */
static unsigned usable_cpus(void)
{
	cpu_set_t set;
	long online;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (unsigned)online : 1;
}

int http_server_start(const struct http_server_config *cfg, struct http_server **out, char *err, size_t err_len)
{
	const char *address = cfg->address ? cfg->address : "0.0.0.0";
	unsigned max_conn = cfg->max_connections ? cfg->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
	unsigned timeout = cfg->timeout_s ? cfg->timeout_s : HTTP_DEFAULT_TIMEOUT_S;
	unsigned threads = cfg->threads;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
	const union MHD_DaemonInfo *info;
	struct http_server *s;
	int r;

	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1)
		return fail(-EINVAL, err, err_len, "HTTP: listen address \"%s\" is not a dotted IPv4 address", address);
	if (!threads)
		threads = usable_cpus();
	if (threads > HTTP_MAX_THREADS)
		threads = HTTP_MAX_THREADS;
	if (threads > max_conn)
		threads = max_conn; /* libmicrohttpd shares the connection limit among threads */
	if ((r = ensure_descriptors(&max_conn, cfg->max_connections != 0, err, err_len)) < 0 ||
	    (r = probe_listen(&sa, address, err, err_len)) < 0)
		return r;
	if (!(s = calloc(1, sizeof(*s))))
		return fail(-ENOMEM, err, err_len, "HTTP: out of memory");
	s->root_fd = -1;
	s->route = cfg->route;
	s->script = cfg->script;
	s->log = cfg->log;
	s->error = cfg->error;
	s->ctx = cfg->ctx;
	s->starting = true;
	pthread_mutex_init(&s->message_lock, NULL);
	for (size_t i = 0; i < cfg->n_aliases && i < HTTP_MAX_ALIASES; i++) {
		s->aliases[i].path = strdup(cfg->aliases[i].path[0] == '/' ? cfg->aliases[i].path + 1 : cfg->aliases[i].path);
		s->aliases[i].file = strdup(cfg->aliases[i].file);
		s->n_aliases++;
		if (!s->aliases[i].path || !s->aliases[i].file) {
			http_server_stop(s);
			return fail(-ENOMEM, err, err_len, "HTTP: out of memory");
		}
	}
	if (cfg->root) {
		s->root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->root_fd < 0) {
			r = fail(-errno, err, err_len, "HTTP: cannot open the root directory %s: %s", cfg->root,
				 strerror(errno));
			http_server_stop(s);
			return r;
		}
	}
	/*
	 * Throughput (bench/http_bench.sh measures it against nginx):
	 * - one epoll loop per usable CPU (MHD_USE_EPOLL_INTERNAL_THREAD and the
	 *   pool), each accepting from the shared listening socket;
	 * - MHD_USE_TURBO: a new connection is read at once instead of after a
	 *   first epoll round, and no shutdown() precedes close(). Safe here:
	 *   every socket is non-blocking (epoll), no TLS;
	 * - a listen backlog as deep as the kernel allows (net.core.somaxconn,
	 *   4096 by default): a storm's SYNs wait there instead of being dropped
	 *   and retried a second later, and connections above the limit wait
	 *   there too until a slot frees;
	 * - no per-address limit: during a storm, behind NAT or a relay, and in
	 *   the bench swarm, hundreds of machines share one address.
	 * File bodies go out with sendfile() (MHD_create_response_from_fd_...).
	 * Known, with libmicrohttpd 0.9.75 (Debian 12), with or without turbo:
	 * right after a client drops hundreds of unfinished large transfers at
	 * once, a burst of new keep-alive connections can stall for seconds (their
	 * next request stays unread until the loop wakes up). MHD_USE_POLL has no
	 * such stall but sends large files at a third of the rate at 1000
	 * connections; epoll stays.
	 */
	s->daemon = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG, cfg->port, NULL, NULL, handle, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_message, s, /* first, so that start-up messages come here too */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_URI_LOG_CALLBACK, request_begins, s,
		MHD_OPTION_NOTIFY_COMPLETED, request_ends, s,
		MHD_OPTION_NOTIFY_CONNECTION, connection_started, s,
		MHD_OPTION_CONNECTION_LIMIT, max_conn,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0u,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)HTTP_LISTEN_BACKLOG,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
		MHD_OPTION_END);
	if (!s->daemon) {
		r = fail(-EIO, err, err_len, "HTTP: libmicrohttpd could not start on %s:%u: %s", address, cfg->port,
			 s->start_message[0] ? s->start_message : "no reason given");
		http_server_stop(s);
		return r;
	}
	pthread_mutex_lock(&s->message_lock);
	s->starting = false;
	pthread_mutex_unlock(&s->message_lock);
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : cfg->port;
	/* Its threads already run and may read *out (the caller's callbacks). */
	__atomic_store_n(out, s, __ATOMIC_RELEASE);
	return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_get_stats(const struct http_server *s, struct http_server_stats *out)
{
	struct counters *k = (struct counters *)&s->counters; /* atomics are read through non-const */

	memset(out, 0, sizeof(*out));
	for (int i = 1; i <= 5; i++) {
		out->status[i] = atomic_load_explicit(&k->status[i], memory_order_relaxed);
		out->requests += out->status[i];
	}
	out->malformed = atomic_load_explicit(&k->malformed, memory_order_relaxed);
	out->bytes_sent = atomic_load_explicit(&k->bytes_sent, memory_order_relaxed);
	out->range_requests = atomic_load_explicit(&k->ranges, memory_order_relaxed);
	out->traversal_refused = atomic_load_explicit(&k->traversal, memory_order_relaxed);
	out->scripts = atomic_load_explicit(&k->scripts, memory_order_relaxed);
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon); /* runs request_ends for what is in flight */
	if (s->root_fd >= 0)
		close(s->root_fd);
	for (size_t i = 0; i < s->n_aliases; i++) {
		free(s->aliases[i].path);
		free(s->aliases[i].file);
	}
	pthread_mutex_destroy(&s->message_lock);
	free(s);
}
