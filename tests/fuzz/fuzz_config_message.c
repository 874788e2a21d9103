/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane's first message to the dataplane (dataplane/
 * config_message.c, "config 1" ... "end" on --control-fd), read from a pipe
 * exactly as the dataplane reads its channel, then validated by the option
 * parser it feeds (dataplane/options.c), as stampede-dataplane's main() does.
 *
 * Invariants beyond "no crash, no read or write outside storage and argv":
 * - a message that is read yields "--key" [value] pairs inside the storage,
 *   at most as many as argv holds, NULL-terminated; a refused one says why;
 * - options that are accepted are consistent: an interface, a port range
 *   with LO <= HI holding max-sessions and one port per polling loop;
 * - the launcher's pins (config_message_within_pins, control/launcher.h): a
 *   message they let through, parsed, starts a dataplane on the same
 *   interface, XDP program, EAL arguments, PMD, lcores, hugepages, MTU and
 *   socket as the first one, whatever spelling it tried; and a message
 *   config_message_repin() makes is always let through.
 * Seeds: messages as control/stampede.c writes them for the files of configs/, and
 * a few broken ones.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "config_message.h"
#include "options.h"

#define MAX_ARGS 128 /* as dataplane/main.c */

/* The first dataplane's settings, as control/stampede.c writes them. */
static const char pinned[] = "config 1\niface eth0\naddr 10.0.0.1\ntftp-root /srv/tftp\ncache-mb 64\n"
			     "image ipxe.efi=/usr/lib/ipxe/ipxe.efi\npmd af_xdp\nlcore 1\nlcores 1\n"
			     "eal --log-level=3\nno-huge\nend\n";

/* Reads a message through a pipe as the dataplane does. */
static int read_message(const void *data, size_t size, char *storage, size_t cap, char **argv, int *argc, char *err,
			size_t err_len)
{
	int fds[2], r;

	if (pipe(fds) < 0)
		FUZZ_CHECK(false, "pipe: %s", strerror(errno));
	FUZZ_CHECK(write(fds[1], data, size) == (ssize_t)size, "write: %s", strerror(errno));
	close(fds[1]);
	r = config_message_read(fds[0], 1000, storage, cap, argv, argc, MAX_ARGS, err, err_len);
	close(fds[0]);
	return r;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* What the pins promise: a message they let through starts the same kind of
 * dataplane in every setting that reaches beyond its own files. */
static void check_pins(const uint8_t *data, size_t size)
{
	static char first_storage[CONFIG_MESSAGE_MAX], storage[CONFIG_MESSAGE_MAX], text[60001];
	static char *first_argv[MAX_ARGS + 1] = { "stampede-dataplane", NULL };
	static struct dp_options first;
	static bool parsed;
	char *argv[MAX_ARGS + 1] = { "stampede-dataplane", NULL }, err[512] = "", *again;
	int argc = 1;
	struct dp_options o;

	if (!parsed) {
		int first_argc = 1;

		FUZZ_CHECK(read_message(pinned, sizeof(pinned) - 1, first_storage, sizeof(first_storage), first_argv,
					&first_argc, err, sizeof(err)) == 0 &&
				   dp_options_parse(first_argc, first_argv, &first, err, sizeof(err)) == 0,
			   "the pinned message: %s", err);
		parsed = true;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	again = config_message_repin(pinned, text);
	if (again) {
		FUZZ_CHECK(config_message_within_pins(pinned, again, err, sizeof(err)), "repinned, refused: %s", err);
		free(again);
	}
	if (strlen(text) != size || !config_message_within_pins(pinned, text, err, sizeof(err)))
		return;
	if (read_message(text, size, storage, sizeof(storage), argv, &argc, err, sizeof(err)) < 0 ||
	    dp_options_parse(argc, argv, &o, err, sizeof(err)) < 0)
		return;
	FUZZ_CHECK(same_string(o.iface, first.iface), "iface %s", o.iface);
	FUZZ_CHECK(same_string(o.xdp_prog, first.xdp_prog), "xdp-prog %s", o.xdp_prog);
	FUZZ_CHECK(same_string(o.extra_eal, first.extra_eal), "eal %s", o.extra_eal);
	FUZZ_CHECK(same_string(o.stats_socket, first.stats_socket), "stats-socket %s", o.stats_socket);
	FUZZ_CHECK(same_string(o.instance_tag, first.instance_tag), "instance-tag %s", o.instance_tag);
	FUZZ_CHECK(o.pmd == first.pmd && o.no_huge == first.no_huge && o.lcore == first.lcore &&
			   o.lcore_set == first.lcore_set && o.lcores == first.lcores && o.mtu == first.mtu &&
			   o.control_fd == first.control_fd && o.help == first.help,
		   "pmd %d no-huge %d lcore %u lcores %u mtu %u control-fd %d", (int)o.pmd, o.no_huge, o.lcore, o.lcores,
		   o.mtu, o.control_fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char storage[CONFIG_MESSAGE_MAX];
	char *argv[MAX_ARGS + 1] = { "stampede-dataplane", NULL };
	int argc = 1, r;
	char err[512] = "";
	struct dp_options o;

	if (size > 60000)
		return 0; /* stays below the pipe's buffer, so the write never blocks */
	check_pins(data, size);
	r = read_message(data, size, storage, sizeof(storage), argv, &argc, err, sizeof(err));
	FUZZ_CHECK(r != -ETIMEDOUT, "timed out on a closed pipe");
	if (r < 0) {
		FUZZ_CHECK(err[0], "refused without a message");
		return 0;
	}
	FUZZ_CHECK(argc >= 1 && argc < MAX_ARGS && argv[argc] == NULL, "argc %d", argc);
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		FUZZ_CHECK(argv[i] >= storage && argv[i] + n < storage + sizeof(storage), "argv[%d] outside storage", i);
	}
	if (argc > 1)
		FUZZ_CHECK(!strncmp(argv[1], "--", 2), "argv[1] \"%s\" is not an option", argv[1]);

	err[0] = '\0';
	if (dp_options_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0], "options refused without a message");
		return 0;
	}
	if (o.help)
		return 0;
	FUZZ_CHECK(o.iface != NULL, "no interface");
	FUZZ_CHECK(o.tftp.port_lo >= 1024 && o.tftp.port_lo <= o.tftp.port_hi, "port range %u-%u", o.tftp.port_lo,
		   o.tftp.port_hi);
	FUZZ_CHECK(o.tftp.max_sessions >= 1 && o.tftp.max_sessions <= (uint32_t)(o.tftp.port_hi - o.tftp.port_lo) + 1,
		   "%u sessions on %u-%u", o.tftp.max_sessions, o.tftp.port_lo, o.tftp.port_hi);
	FUZZ_CHECK(o.lcores >= 1 && o.lcores <= (uint32_t)(o.tftp.port_hi - o.tftp.port_lo) + 1, "%u lcores", o.lcores);
	FUZZ_CHECK(o.n_images <= DP_MAX_IMAGES, "%u images", o.n_images);
	for (unsigned i = 0; i < o.n_images; i++)
		FUZZ_CHECK(o.images[i].name[0] && o.images[i].path[0] == '/', "image %u", i);
	return 0;
}
