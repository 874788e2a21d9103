/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What iPXE does with a boot file URL and a script, as far as a load client
 * needs: expand ${settings} in a URL, and read a script for the kernel and
 * initrd URLs it would fetch. Pure.
 */
#ifndef STAMPEDE_BENCH_IPXE_CLIENT_H
#define STAMPEDE_BENCH_IPXE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPXE_URL_MAX 1024
#define IPXE_MAX_INITRDS 8

struct ipxe_settings {
	uint8_t mac[6];
	uint8_t uuid[16];
	const char *platform;  /* "pcbios" or "efi" */
	const char *buildarch; /* "i386", "x86_64", "arm64" */
};

/* Expands ${net0/mac}, ${mac}, ${uuid}, ${platform}, ${buildarch} (an unknown
 * setting expands to nothing, as in iPXE). False if the result does not fit. */
bool ipxe_expand(const char *in, const struct ipxe_settings *s, char *out, size_t out_len);

struct ipxe_boot {
	char kernel[IPXE_URL_MAX];
	char initrds[IPXE_MAX_INITRDS][IPXE_URL_MAX];
	unsigned n_initrds;
};

/* Reads a script (NUL-terminated): "kernel"/"chain"/"imgexec" give the kernel,
 * "initrd"/"module"/"imgfetch" the initrds; option words (-x, --x) are skipped.
 * Relative URLs are resolved against base_url. False with *why set when the
 * script is not an iPXE script, boots nothing, or names too many files. */
bool ipxe_read_script(const char *script, const char *base_url, const struct ipxe_settings *s,
		      struct ipxe_boot *out, const char **why);

#endif
