/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stampede: the command operators run.
 *
 *   stampede serve --iface IF [--tftp-root DIR] [dataplane options]
 *   stampede stats  [--iface IF | --socket PATH]
 *   stampede reload [--iface IF | --socket PATH]
 *
 * `serve` starts the DPDK dataplane (build/stampede-dataplane, beside this
 * binary) as a child, decides whether it can use hugepages, and relays SIGINT,
 * SIGTERM and SIGHUP to it; the dataplane removes its XDP program when it stops.
 * `stats` and `reload` speak to the dataplane's control socket.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "self_path.h"

#define DEFAULT_CACHE_MB 512  /* keep in step with dataplane/options.h */
#define POOL_MB          192  /* mbufs and rings */
#define MAX_ARGS         128

static pid_t child;

static void relay(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: stampede serve --iface IF [--tftp-root DIR] [options]\n"
		"       stampede stats  [--iface IF | --socket PATH]\n"
		"       stampede reload [--iface IF | --socket PATH]\n"
		"\n"
		"serve runs the TFTP dataplane on IF until SIGINT or SIGTERM; SIGHUP re-reads the\n"
		"TFTP root. With no --tftp-root it serves Debian's iPXE binaries (/usr/lib/ipxe).\n"
		"Dataplane options (see stampede-dataplane --help) are passed through.\n");
}

static const char *arg_value(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], name) == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

static bool has_flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

/* Free hugepage memory in MiB, or 0 when hugetlbfs is not mounted (EAL needs both). */
static unsigned long free_hugepage_mb(void)
{
	unsigned long free_pages = 0, page_kb = 0;
	bool mounted = false;
	char line[512];
	FILE *f;

	if ((f = fopen("/proc/mounts", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " hugetlbfs "))
				mounted = true;
		fclose(f);
	}
	if (!mounted || !(f = fopen("/proc/meminfo", "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &page_kb);
	}
	fclose(f);
	return free_pages * page_kb / 1024;
}

static int serve(int argc, char **argv)
{
	const char *cache_text = arg_value(argc, argv, "--cache-mb");
	/* A reload builds the new cache version beside the serving one. */
	unsigned long need_mb = 2 * (cache_text ? strtoul(cache_text, NULL, 10) : DEFAULT_CACHE_MB) + POOL_MB;
	char dataplane[PATH_MAX];
	char *args[MAX_ARGS];
	sigset_t relayed, previous;
	int n = 0, status;

	if (!arg_value(argc, argv, "--iface")) {
		fprintf(stderr, "stampede serve: --iface IF is required (the interface facing the machines to boot)\n");
		return 2;
	}
	if (argc + 3 >= MAX_ARGS) {
		fprintf(stderr, "stampede serve: too many arguments\n");
		return 2;
	}
	if (self_sibling_path("stampede-dataplane", dataplane, sizeof(dataplane)) < 0 || access(dataplane, X_OK) < 0) {
		fprintf(stderr, "stampede serve: cannot find stampede-dataplane beside this binary\n");
		return 1;
	}
	args[n++] = dataplane;
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	if (!has_flag(argc, argv, "--no-huge") && free_hugepage_mb() < need_mb) {
		fprintf(stderr,
			"stampede: %lu MiB of free hugepages needed, %lu available: running with --no-huge "
			"(slower; scripts/setup.sh reserves hugepages)\n",
			need_mb, free_hugepage_mb());
		args[n++] = "--no-huge";
	}
	args[n] = NULL;

	/* Block the relayed signals across fork so that none arrives while `child`
	 * is not yet known (it would be lost); each side then sets its own handling. */
	sigemptyset(&relayed);
	sigaddset(&relayed, SIGINT);
	sigaddset(&relayed, SIGTERM);
	sigaddset(&relayed, SIGHUP);
	sigprocmask(SIG_BLOCK, &relayed, &previous);
	child = fork();
	if (child < 0) {
		perror("stampede serve: fork");
		return 1;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &previous, NULL);
		execv(dataplane, args);
		fprintf(stderr, "stampede serve: cannot run %s: %s\n", dataplane, strerror(errno));
		_exit(127);
	}
	signal(SIGINT, relay);
	signal(SIGTERM, relay);
	signal(SIGHUP, relay);
	sigprocmask(SIG_SETMASK, &previous, NULL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "stampede: the dataplane died of signal %d\n", WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

static int control_request(int argc, char **argv, const char *command)
{
	const char *iface = arg_value(argc, argv, "--iface");
	const char *path = arg_value(argc, argv, "--socket");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[4096];
	bool ok = true;
	ssize_t got;
	int fd;

	if (!path && !iface) {
		fprintf(stderr, "stampede %s: give --iface IF or --socket PATH\n", command);
		return 2;
	}
	if (path)
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	else
		snprintf(addr.sun_path, sizeof(addr.sun_path), "/run/stampede/%s.sock", iface);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "stampede %s: cannot reach the dataplane at %s: %s (is it running?)\n", command,
			addr.sun_path, strerror(errno));
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s\n", command);
	if (write(fd, buf, strlen(buf)) < 0) {
		perror("stampede: write");
		close(fd);
		return 1;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		if (strncmp(buf, "error:", 6) == 0)
			ok = false;
		fwrite(buf, 1, (size_t)got, stdout);
	}
	close(fd);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "stats") == 0)
		return control_request(argc - 2, argv + 2, "stats");
	if (strcmp(argv[1], "reload") == 0)
		return control_request(argc - 2, argv + 2, "reload");
	fprintf(stderr, "stampede: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
