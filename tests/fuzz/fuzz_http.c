/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane's handling of an HTTP request (control/http_server.c,
 * boot_scripts.c, ipxe_script.c, template.c), without the sockets: any bytes
 * as a request head ("GET TARGET HTTP/1.1", then headers). The target goes
 * through http_target_path(); /boot.ipxe's query values, decoded as
 * libmicrohttpd decodes them (MHD_http_unescape, '+' as a space), go to
 * boot_script_http() under each configuration of configs/; any other path is
 * opened beneath a root with http_open_beneath(), as the server opens files,
 * and its Range header read by http_range_parse().
 *
 * Invariants beyond "no crash, no leak":
 * - a resolved path is relative and clean (no empty, "." or ".." segment,
 *   no backslash, no control character), and what it opens lies inside the
 *   root, whatever symlinks the root holds (one to /etc, to "..", absolute);
 * - a range to send lies inside the file: first <= last < size;
 * - a script is one iPXE runs ("#!ipxe" and a space), holds no control
 *   character but line ends, and the machine's values cannot change its
 *   shape: with every byte the template escapes replaced by '~', the script
 *   has the same status and the same count of line breaks, spaces and of the
 *   characters iPXE gives a meaning ($ # | & ; { } quotes): a value never adds
 *   a line, a word, an operator, a comment or an expansion.
 * Seeds: request heads for boot files, scripts with realistic queries, ranges
 * and traversal in its usual spellings.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot_scripts.h"
#include "config.h"
#include "http_server.h"

#define MAX_CONFIGS 16

static const char *root;
static char real_root[PATH_MAX];
static int root_fd = -1;
static struct config *configs[MAX_CONFIGS];
static size_t n_configs;

static void make(const char *name, const char *link_to)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (link_to) {
		FUZZ_CHECK(symlink(link_to, path) == 0, "symlink %s: %s", path, strerror(errno));
	} else if (name[strlen(name) - 1] == '/') {
		FUZZ_CHECK(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		FUZZ_CHECK(fd >= 0 && write(fd, "0123456789abcdef", 16) == 16 && close(fd) == 0, "%s: %s", path,
			   strerror(errno));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_errors errors;
	glob_t g;

	(void)argc;
	(void)argv;
	root = fuzz_temp_dir("http");
	make("ipxe.efi", NULL);
	make("images/", NULL);
	make("images/vmlinuz", NULL);
	make("inside", "images/vmlinuz");  /* stays in the root: served */
	make("out", "/etc");               /* leads out: refused */
	make("passwd", "/etc/passwd");     /* absolute: refused */
	make("up", "..");                  /* the root's parent: refused */
	make("images/up", "../../");       /* likewise from below */
	make("loop", "loop");
	FUZZ_CHECK(realpath(root, real_root) != NULL, "realpath: %s", strerror(errno));
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(root_fd >= 0, "open %s: %s", root, strerror(errno));

	/* Every example configuration, as the server would hold it. */
	FUZZ_CHECK(glob(SOURCE_ROOT "/configs/*.yaml", 0, NULL, &g) == 0, "no configs in " SOURCE_ROOT "/configs");
	for (size_t i = 0; i < g.gl_pathc && n_configs < MAX_CONFIGS; i++) {
		configs[n_configs] = config_load(g.gl_pathv[i], &errors);
		FUZZ_CHECK(configs[n_configs] != NULL, "%s: %s", g.gl_pathv[i], errors.msg[0]);
		n_configs++;
	}
	globfree(&g);
	return 0;
}

/* ---- the request head ------------------------------------------------------ */

struct request {
	char *target, *range;
};

static void parse_head(const uint8_t *data, size_t size, struct request *rq)
{
	struct fuzz_input in = { data, size };
	char *line = fuzz_field(&in, '\n'), *sp;

	line[strcspn(line, "\r")] = '\0';
	/* "METHOD TARGET VERSION": the second word; a line of one word is a target. */
	sp = strchr(line, ' ');
	rq->target = strdup(sp ? sp + 1 : line);
	rq->target[strcspn(rq->target, " ")] = '\0';
	free(line);
	rq->range = NULL;
	while (in.size) {
		line = fuzz_field(&in, '\n');
		line[strcspn(line, "\r")] = '\0';
		if (!rq->range && !strncasecmp(line, "Range:", 6))
			rq->range = strdup(line + 6 + strspn(line + 6, " \t"));
		free(line);
	}
}

/* ---- paths and files ----------------------------------------------------------- */

static void check_path(const char *path)
{
	size_t n = strlen(path);

	FUZZ_CHECK(n == 0 || (path[0] != '/' && path[n - 1] != '/'), "\"%s\" is not relative", path);
	FUZZ_CHECK(!strstr(path, "//") && !strchr(path, '\\'), "\"%s\" has an empty segment or a backslash", path);
	for (const char *seg = path; n && seg;) {
		size_t len = strcspn(seg, "/");

		FUZZ_CHECK(!(len == 1 && seg[0] == '.') && !(len == 2 && seg[0] == '.' && seg[1] == '.'),
			   "\"%s\" keeps a dot segment", path);
		seg = seg[len] ? seg + len + 1 : NULL;
	}
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)path[i] >= 0x20 && path[i] != 0x7f, "control character in \"%s\"", path);
}

static void check_range(const char *range, uint64_t size)
{
	uint64_t first = UINT64_MAX, last = UINT64_MAX;
	enum http_range_result r = http_range_parse(range, size, &first, &last);

	FUZZ_CHECK(r == HTTP_RANGE_NONE || r == HTTP_RANGE_PARTIAL || r == HTTP_RANGE_UNSATISFIABLE, "result %d", r);
	if (r == HTTP_RANGE_PARTIAL)
		FUZZ_CHECK(first <= last && last < size, "range %llu-%llu of a file of %llu bytes",
			   (unsigned long long)first, (unsigned long long)last, (unsigned long long)size);
	if (!range)
		FUZZ_CHECK(r == HTTP_RANGE_NONE, "a range without a header");
}

static void serve_file(const char *path, const char *range)
{
	char link[64], real[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (!path[0])
		return; /* the root: the server answers 404 without opening anything */
	fd = http_open_beneath(root_fd, path);
	if (fd < 0)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	FUZZ_CHECK(n > 0, "readlink %s: %s", link, strerror(errno));
	real[n] = '\0';
	FUZZ_CHECK(!strncmp(real, real_root, strlen(real_root)) &&
			   (real[strlen(real_root)] == '/' || real[strlen(real_root)] == '\0'),
		   "\"%s\" opened %s, outside the root %s", path, real, real_root);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		check_range(range, (uint64_t)st.st_size);
	close(fd);
}

/* ---- /boot.ipxe ------------------------------------------------------------------ */

enum { Q_MAC, Q_UUID, Q_ARCH, Q_HOSTNAME, Q_PROFILE, Q_COUNT };

/* The first value of each key, decoded as libmicrohttpd decodes GET arguments. */
static void parse_query(const char *target, char *values[Q_COUNT])
{
	static const char *const keys[Q_COUNT] = { "mac", "uuid", "arch", "hostname", "profile" };
	const char *q = strchr(target, '?');
	char *copy, *save = NULL;

	memset(values, 0, Q_COUNT * sizeof(values[0]));
	if (!q)
		return;
	copy = strdup(q + 1);
	copy[strcspn(copy, "#")] = '\0';
	for (char *arg = strtok_r(copy, "&", &save); arg; arg = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(arg, '='), *value = eq ? eq + 1 : arg + strlen(arg);

		if (eq)
			*eq = '\0';
		for (char *p = arg; *p; p++)
			*p = *p == '+' ? ' ' : *p;
		for (char *p = value; *p; p++)
			*p = *p == '+' ? ' ' : *p;
		MHD_http_unescape(arg);
		MHD_http_unescape(value);
		for (int k = 0; k < Q_COUNT; k++)
			if (!values[k] && !strcmp(arg, keys[k]))
				values[k] = strdup(value);
	}
	free(copy);
}

static bool template_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~:/@+,=[]", c));
}

/* What makes a script's shape: lines, words and what iPXE interprets. */
static void shape(const char *s, unsigned counts[256])
{
	memset(counts, 0, 256 * sizeof(counts[0]));
	for (; *s; s++)
		if (strchr("\n $#|&;{}\"'`\\", *s))
			counts[(unsigned char)*s]++;
}

static char *script(const struct config *c, char *values[Q_COUNT], unsigned *status)
{
	struct boot_scripts bs = { .config = c, .base_url = "http://10.0.0.1:8080" };
	struct http_script_request req = {
		.method = "GET",
		.mac = values[Q_MAC],
		.uuid = values[Q_UUID],
		.arch = values[Q_ARCH],
		.hostname = values[Q_HOSTNAME],
		.profile = values[Q_PROFILE],
		.remote_ip = "10.1.0.100",
	};
	char *body = NULL;
	int r;

	pthread_rwlock_init(&bs.lock, NULL);
	*status = 200;
	r = boot_script_http(&bs, &req, &body, status);
	pthread_rwlock_destroy(&bs.lock);
	FUZZ_CHECK(r >= 0 && body, "boot_script_http: %d", r);
	FUZZ_CHECK(*status == 200 || *status == 404 || *status == 500, "status %u", *status);
	FUZZ_CHECK(fuzz_is_ipxe_script(body), "iPXE would not run it: %.40s", body);
	for (const char *p = body; *p; p++)
		FUZZ_CHECK(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f), "control character 0x%02x in the script",
			   (unsigned char)*p);
	return body;
}

static void serve_script(const char *target)
{
	char *values[Q_COUNT], *tame[Q_COUNT];

	parse_query(target, values);
	for (int k = 0; k < Q_COUNT; k++) {
		tame[k] = values[k] ? strdup(values[k]) : NULL;
		for (char *p = tame[k]; p && *p; p++)
			if (!template_safe((unsigned char)*p))
				*p = '~';
	}
	for (size_t i = 0; i < n_configs; i++) {
		unsigned status, tame_status, counts[256], tame_counts[256];
		char *body = script(configs[i], values, &status), *tame_body = script(configs[i], tame, &tame_status);

		shape(body, counts);
		shape(tame_body, tame_counts);
		FUZZ_CHECK(status == tame_status && !memcmp(counts, tame_counts, sizeof(counts)),
			   "the machine's values change the script's shape (config %zu):\n%s\n--- with tame values:\n%s", i,
			   body, tame_body);
		free(body);
		free(tame_body);
	}
	for (int k = 0; k < Q_COUNT; k++) {
		free(values[k]);
		free(tame[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 0, 1, 16, 1u << 20, UINT64_MAX };
	char path[PATH_MAX], small[16];
	struct request rq;
	int r, r_small;

	parse_head(data, size, &rq);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_range(rq.range, sizes[i]);
	r = http_target_path(rq.target, path, sizeof(path));
	FUZZ_CHECK(r == 0 || r == -EPERM || r == -EINVAL || r == -ENAMETOOLONG, "http_target_path: %d", r);
	r_small = http_target_path(rq.target, small, sizeof(small));
	FUZZ_CHECK(r_small == r || (r_small == -ENAMETOOLONG && r != -ENAMETOOLONG),
		   "a smaller buffer changes %d into %d", r, r_small);
	if (r_small == 0)
		FUZZ_CHECK(!strcmp(small, path), "\"%s\" in a small buffer, \"%s\" in a large one", small, path);
	if (r == 0) {
		check_path(path);
		if (!strcmp(path, "boot.ipxe"))
			serve_script(rq.target);
		else
			serve_file(path, rq.range);
	}
	free(rq.target);
	free(rq.range);
	return 0;
}
