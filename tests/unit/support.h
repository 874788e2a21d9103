/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the unit tests: a counting allocator for the cache, temporary
 * trees, and a buffer that ends at an unreadable page (to prove no over-read). */
#ifndef STAMPEDE_TEST_SUPPORT_H
#define STAMPEDE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* malloc/free that count calls, so a test can prove nothing leaked. */
struct counting_allocator {
	uint64_t allocs, frees;
};
struct cache_allocator counting_allocator(struct counting_allocator *counts);

/* Removes a temporary tree (files, symlinks, FIFOs, directories) without following links. */
void remove_tree(const char *path);
/* Writes len bytes to path, asserting success. */
void write_bytes(const char *path, const void *data, size_t len);

/* Two pages, the second PROT_NONE: guard_tail() copies len bytes so that the last
 * one is the last readable byte, so any read past len faults. */
struct guard {
	uint8_t *map;
	size_t page;
};
void guard_open(struct guard *g);
uint8_t *guard_tail(struct guard *g, const void *bytes, size_t len);
void guard_close(struct guard *g);

#endif
