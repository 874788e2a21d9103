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
 *   with LO <= HI holding max-sessions and one port per polling loop.
 * Seeds: messages as control/stampede.c writes them for the files of configs/, and
 * a few broken ones.
 */
#include "fuzz.h"

#include <errno.h>
#include <unistd.h>

#include "config_message.h"
#include "options.h"

#define MAX_ARGS 128 /* as dataplane/main.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char storage[CONFIG_MESSAGE_MAX];
	char *argv[MAX_ARGS + 1] = { "stampede-dataplane", NULL };
	int argc = 1, fds[2], r;
	char err[512] = "";
	struct dp_options o;

	if (size > 60000)
		return 0; /* stays below the pipe's buffer, so the write never blocks */
	if (pipe(fds) < 0)
		FUZZ_CHECK(false, "pipe: %s", strerror(errno));
	FUZZ_CHECK(write(fds[1], data, size) == (ssize_t)size, "write: %s", strerror(errno));
	close(fds[1]);
	r = config_message_read(fds[0], 1000, storage, sizeof(storage), argv, &argc, MAX_ARGS, err, sizeof(err));
	close(fds[0]);
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
