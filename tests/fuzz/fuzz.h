/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the fuzz targets share: libFuzzer's entry points, a check that stops
 * the run with a reproducer when an invariant breaks, and a reader that
 * takes typed values off the front of an input.
 *
 * A target is one LLVMFuzzerTestOneInput() over the real protocol code
 * (stampede_proto and the control plane's libraries, no EAL). Crashes and
 * sanitizer reports are found by ASan/UBSan; FUZZ_CHECK adds what no
 * sanitizer can see: a reply that carries an address, a path that climbs out
 * of a root, a parse that accepts what it must refuse. abort() makes libFuzzer
 * write the input as crash-<sha1> under -artifact_prefix.
 */
#ifndef STAMPEDE_FUZZ_H
#define STAMPEDE_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                 \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                    \
			abort();                                                                \
		}                                                                             \
	} while (0)

/* Takes bytes off the front of the input; once it is used up, zeros. */
struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v = 0;

	if (in->size) {
		v = in->data[0];
		in->data++;
		in->size--;
	}
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* A malloc'd copy of exactly size bytes, no terminator: a parser given
 * (buf, len) that reads past len is an ASan report. */
static inline void *fuzz_copy(const uint8_t *data, size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

/* size bytes as a NUL-terminated string, in a malloc'd copy. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The bytes up to the next separator byte (or the end), as a string. */
static inline char *fuzz_field(struct fuzz_input *in, uint8_t separator)
{
	const uint8_t *end = in->size ? memchr(in->data, separator, in->size) : NULL;
	size_t n = end ? (size_t)(end - in->data) : in->size;
	char *s = fuzz_strndup(in->data, n);

	in->data += n + (end ? 1 : 0);
	in->size -= n + (end ? 1 : 0);
	return s;
}

/* A script iPXE runs: "#!ipxe" or "#!gpxe" and a white space at its very
 * start (iPXE's src/image/script.c, script_probe()). */
static inline bool fuzz_is_ipxe_script(const char *s)
{
	return (!strncmp(s, "#!ipxe", 6) || !strncmp(s, "#!gpxe", 6)) && s[6] && strchr(" \t\n\v\f\r", s[6]);
}

/* A temporary directory (path holds "/tmp/stampede-fuzz-NAME-XXXXXX"), made
 * at start and removed with all it holds when the fuzzer exits. */
static char fuzz_temp_path[64];

static inline int fuzz_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fuzz_remove_temp_dir(void)
{
	nftw(fuzz_temp_path, fuzz_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_temp_dir(const char *name)
{
	snprintf(fuzz_temp_path, sizeof(fuzz_temp_path), "/tmp/stampede-fuzz-%s-XXXXXX", name);
	FUZZ_CHECK(mkdtemp(fuzz_temp_path) != NULL, "mkdtemp: %s", strerror(errno));
	atexit(fuzz_remove_temp_dir);
	return fuzz_temp_path;
}

#endif
