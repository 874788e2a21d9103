/* SPDX-License-Identifier: BSD-2-Clause */
#include "support.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *count_alloc(void *ctx, size_t size)
{
	((struct counting_allocator *)ctx)->allocs++;
	return malloc(size);
}

static void count_free(void *ctx, void *ptr)
{
	((struct counting_allocator *)ctx)->frees++;
	free(ptr);
}

struct cache_allocator counting_allocator(struct counting_allocator *counts)
{
	return (struct cache_allocator){ count_alloc, count_free, counts };
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void remove_tree(const char *path)
{
	if (path && path[0])
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	cr_assert(eq(sz, fwrite(data, 1, len, f), len));
	cr_assert(eq(int, fclose(f), 0));
}

void guard_open(struct guard *g)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->map = mmap(NULL, g->page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, (void *)g->map, MAP_FAILED));
	cr_assert(eq(int, mprotect(g->map + g->page, g->page, PROT_NONE), 0));
}

uint8_t *guard_tail(struct guard *g, const void *bytes, size_t len)
{
	uint8_t *p = g->map + g->page - len;

	cr_assert(le(sz, len, g->page));
	memcpy(p, bytes, len);
	return p;
}

void guard_close(struct guard *g)
{
	munmap(g->map, g->page * 2);
}
