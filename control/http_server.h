/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane's HTTP/1.1 server (libmicrohttpd): boot files from a root
 * directory and per-machine iPXE scripts from a callback.
 *
 *   GET|HEAD /boot.ipxe?mac=&uuid=&arch=&hostname=&profile=
 *        -> the script callback (text/plain, Cache-Control: no-store). It
 *           shadows a file of that name in the root.
 *   GET|HEAD /any/path
 *        -> the regular file root/any/path: 200, or 206 for one byte range
 *           (Range: bytes=a-b, bytes=a-, bytes=-n) with Content-Range, or 416
 *           when the range starts past the end. Sent with sendfile(); a body
 *           of at most 16 KiB (a script, a menu) is read and sent with its
 *           header in one segment instead.
 *   anything else -> 405 (Allow: GET, HEAD).
 *
 * Threads: one epoll loop per thread (MHD_USE_EPOLL_INTERNAL_THREAD), a pool
 * of them (by default one per CPU the process may run on: its affinity mask).
 * A boot storm is hundreds of connections, nearly all idle between requests or
 * blocked on a slow client while the kernel runs sendfile(); epoll keeps that at one wake-up per ready socket, where a
 * thread per connection would cost hundreds of stacks and context switches.
 * The pool uses every core and bounds the damage of a slow script callback to
 * the connections of one thread. Hence: callbacks run on the server's threads,
 * concurrently, and must be thread-safe and quick (render from memory; an
 * external boot API must be cached or time-limited by the caller).
 *
 * Paths (see http_target_path): the request-target is decoded here, from the
 * bytes the client sent, not from libmicrohttpd's decoded URL: that one has
 * already turned %2e%2e into "..", %2f into '/' and cut the string at %00, so
 * "/a%00.txt" would be served as "/a". A target holding "..", a backslash or
 * %00 is refused with 400 and counted. The file is then opened with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) below the root: a symlink
 * inside the root that stays inside works, one that leads out (or is absolute)
 * is a 404 and counted. Only regular files are served; directories are 404
 * (no listings).
 *
 * Ranges (RFC 9110 §14): one range per request. A Range header with several
 * ranges, with bad syntax or with a unit other than bytes is ignored (200 and
 * the whole file, which §14.2 allows); so is one with an If-Range that is not
 * exactly this file's Last-Modified, and one on a HEAD (§14.2: GET only).
 */
#ifndef STAMPEDE_HTTP_SERVER_H
#define STAMPEDE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections served at once. A thousand machines booting together each hold
 * one (iPXE fetches one file at a time), and the dashboard, the API and
 * Prometheus come on top; libmicrohttpd shares the limit among its threads.
 * Each costs a socket and, while sending, a file descriptor: see
 * http_server_start() on RLIMIT_NOFILE. Connections beyond the limit wait in
 * the listen backlog, unanswered, until one closes. */
#define HTTP_DEFAULT_MAX_CONNECTIONS 2048
/* The default shrinks to what RLIMIT_NOFILE's hard limit allows, not below. */
#define HTTP_MIN_DEFAULT_CONNECTIONS 1024
/* Seconds a connection may stay silent: enough for a firmware between two
 * downloads, short enough that idle keep-alive connections of machines that
 * have booted free their slots during a storm. */
#define HTTP_DEFAULT_TIMEOUT_S 30
/* Event loops; there is no gain beyond the number of cores. */
#define HTTP_MAX_THREADS 64

/* A /boot.ipxe request. Query values are percent-decoded ('+' is a space);
 * NULL when absent. */
struct http_script_request {
	const char *method; /* "GET" or "HEAD" */
	const char *mac, *uuid, *arch, *hostname, *profile;
	const char *remote_ip; /* the peer's address, as text */
	const char *host;      /* the Host header, NULL when absent */
};

/*
 * Answers a /boot.ipxe request: on success returns >= 0 with *body a malloc'd
 * NUL-terminated text (the server frees it; NULL for an empty body) and
 * *status its HTTP status (preset to 200). A negative return is a 500; *body
 * is freed if set.
 */
typedef int (*http_script_fn)(void *ctx, const struct http_script_request *req, char **body, unsigned *status);

/* One finished request, for the event log. */
struct http_log_entry {
	const char *method;    /* "" when libmicrohttpd refused the request line or headers */
	/* The request-target as received: percent-encoded, with its query. Any
	 * byte but NUL, space, CR and LF may be in it: escape it before printing. */
	const char *target;
	unsigned status;       /* 0: never answered by this server (malformed, or the client left) */
	uint64_t bytes;        /* body bytes of the response (0 for HEAD) */
	bool complete;         /* the whole response was sent (otherwise bytes is what was due) */
	const char *remote_ip;
	uint64_t duration_us;  /* from the request line to the last byte sent */
};

typedef void (*http_log_fn)(void *ctx, const struct http_log_entry *entry);

/*
 * Routes of the control plane's own (the JSON API, /metrics, the dashboard):
 * asked first for every request whose path is clean; POST reaches only them.
 * The handler returns 1 with resp filled (body malloc'd, freed by the server),
 * 0 to let the request fall through to /boot.ipxe and the files, or a negative
 * errno (500). A request body is read and discarded: the routes take none.
 */
struct http_route_request {
	const char *method;        /* "GET", "HEAD" or "POST" */
	const char *path;          /* decoded, without the leading '/': "api/v1/machines" */
	const char *authorization; /* the Authorization header, or NULL */
	const char *remote_ip;
	void *opaque;              /* for http_route_query */
};

struct http_route_response {
	unsigned status;
	const char *content_type; /* NULL: application/json */
	char *body;               /* malloc'd; may be NULL for an empty body */
	size_t len;
	const char *www_authenticate; /* a WWW-Authenticate value for a 401, or NULL */
};

typedef int (*http_route_fn)(void *ctx, const struct http_route_request *req, struct http_route_response *resp);

/* A query parameter of the request (decoded), or NULL. */
const char *http_route_query(const struct http_route_request *req, const char *key);

/* A file served at a path whatever the root says: the boot files the
 * configuration names (UEFI HTTP Boot), which may be symlinks out of the root
 * (Debian's /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi). Nothing else leaves it. */
struct http_alias {
	const char *path; /* as requested, without the leading '/': "ipxe.efi" */
	const char *file; /* absolute */
};

#define HTTP_MAX_ALIASES 16

struct http_server_config {
	const char *address;      /* IPv4 dotted quad to listen on; NULL: "0.0.0.0" */
	uint16_t port;            /* 0: any free port, see http_server_port() */
	const char *root;         /* directory of the files served; NULL: no files */
	http_script_fn script;    /* /boot.ipxe; NULL: /boot.ipxe is a file like any other */
	http_log_fn log;          /* after every request; may be NULL */
	/* libmicrohttpd's own messages once started (accept failures, clients that
	 * break the protocol); may be NULL. */
	void (*error)(void *ctx, const char *message);
	void *ctx;                /* passed to the callbacks */
	unsigned max_connections; /* 0: HTTP_DEFAULT_MAX_CONNECTIONS */
	unsigned timeout_s;       /* 0: HTTP_DEFAULT_TIMEOUT_S */
	unsigned threads;         /* 0: one per CPU this process may run on (its affinity
				   * mask); at most HTTP_MAX_THREADS */
	const struct http_alias *aliases; /* copied; at most HTTP_MAX_ALIASES; need a root */
	size_t n_aliases;
	http_route_fn route;              /* may be NULL */
};

struct http_server_stats {
	uint64_t status[6];         /* [1]..[5]: responses 1xx..5xx given by this server */
	uint64_t requests;          /* their sum */
	uint64_t malformed;         /* requests cut short before reaching it (see log status 0) */
	uint64_t bytes_sent;        /* body bytes of responses sent completely */
	uint64_t range_requests;    /* 206 responses */
	uint64_t traversal_refused; /* "..", backslash, %00, or a symlink out of the root */
	uint64_t scripts;           /* /boot.ipxe answered by the callback */
};

struct http_server;

/*
 * Starts serving. Returns 0 and *out, or -errno with a message in err:
 * -EINVAL (bad address, missing root...), -EADDRINUSE and friends (the port
 * cannot be had; the message says which address:port and what to do),
 * -EMFILE (max_connections needs more descriptors than RLIMIT_NOFILE's hard
 * limit allows; the soft limit is raised when the hard one permits, since
 * nothing in this process waits with select(); with max_connections 0 the
 * default shrinks to fit instead, down to HTTP_MIN_DEFAULT_CONNECTIONS),
 * -EIO (libmicrohttpd refused; its message is quoted).
 */
int http_server_start(const struct http_server_config *cfg, struct http_server **out, char *err, size_t err_len);

/* The port listened on (the one chosen by the kernel when cfg->port was 0). */
uint16_t http_server_port(const struct http_server *s);

/* A snapshot of the counters; safe while the server runs. */
void http_server_get_stats(const struct http_server *s, struct http_server_stats *out);

/* Stops listening, closes every connection, frees s. NULL is allowed. */
void http_server_stop(struct http_server *s);

/*
 * The file a request-target names, relative to the root: "/a/./b//c?x" ->
 * "a/b/c"; "http://host/a" (absolute-form) -> "a"; "/" -> "". Percent-escapes
 * are decoded (%2F is a '/'). Returns 0, -EPERM for what could climb out of
 * the root or hide a name ("..", '\\', %00), -EINVAL for what is not a path
 * ("*", no leading '/', a bad escape, a control character) or -ENAMETOOLONG
 * when the decoded path (before empty and "." segments are dropped) does not
 * fit out_len.
 */
int http_target_path(const char *target, char *out, size_t out_len);

/*
 * Opens path (as http_target_path gives it) beneath the directory dir_fd, as
 * a request's file is opened: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS),
 * so that neither ".." nor a symlink leads out (EXDEV, ELOOP). Returns the
 * descriptor (O_RDONLY, O_NONBLOCK: a FIFO does not block), or -1 with errno.
 */
int http_open_beneath(int dir_fd, const char *path);

enum http_range_result {
	HTTP_RANGE_NONE,          /* no usable Range: send the whole file (200) */
	HTTP_RANGE_PARTIAL,       /* send bytes first..last (206) */
	HTTP_RANGE_UNSATISFIABLE, /* 416 */
};

/*
 * Reads a Range header value (NULL: none) for a file of size bytes. The last
 * position is clipped to the file, a suffix longer than the file is the whole
 * file, and numbers too large to hold saturate.
 */
enum http_range_result http_range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last);

#endif
