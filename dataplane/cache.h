/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The image cache: every regular file under the TFTP root, read into memory once
 * (hugepage memory in the dataplane) so that serving a block is a memcpy, never a
 * syscall.
 *
 * A loaded cache is an immutable, reference-counted *version*. Reloading builds a
 * new version beside the old one and swaps a pointer; a transfer holds a reference
 * to the version it started with, so it finishes with the same bytes even if the
 * file changed on disk. The old version is freed when its last transfer ends.
 *
 * Safety: the walk opens everything with openat2(RESOLVE_BENEATH), so a symlink
 * that leads outside the root is never followed (it is skipped and counted), and
 * lookups only ever see names that were found beneath the root. Names from clients
 * are normalised first (see cache_normalize_name) and any ".." is refused.
 */
#ifndef STAMPEDE_CACHE_H
#define STAMPEDE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest file name (relative to the root) the cache holds or looks up; TFTP
 * requests fit in one datagram, so longer names cannot be asked for anyway. */
#define CACHE_NAME_MAX 1024
/* Directory depth followed under the root; deeper trees are skipped and counted. */
#define CACHE_DEPTH_MAX 32

/* Where file bytes live: rte_malloc in the dataplane, malloc in tests. */
struct cache_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr);
	void *ctx;
};

struct cache_file {
	const char *name; /* relative to the root, '/' separated, no leading '/' */
	const uint8_t *data;
	uint64_t size;
	uint64_t identity; /* a digest of device, inode, size and times when it was read */
	/* Netascii form, built on first request (RFC 1350: CR LF line ends, CR NUL
	 * for a bare CR) and kept with this version. */
	const uint8_t *netascii;
	uint64_t netascii_size;
	/* Checksum sums of each block, one table per block size in use, filled as
	 * blocks are first sent (see cache_file_block_sums). */
	struct {
		uint16_t blksize;
		uint32_t *sums;
	} block_sums[4];
};

/* An entry of a block-sum table: 0 = not computed yet, else this bit | net_sum(block). */
#define CACHE_BLOCK_SUM_KNOWN 0x10000u

struct cache_stats {
	uint64_t files;
	uint64_t bytes;
	uint64_t skipped_outside_root; /* symlinks leading out of the root */
	uint64_t skipped_special;      /* devices, sockets, FIFOs, directory symlinks */
	uint64_t skipped_unreadable;   /* permission errors, name too long, too deep */
};

struct cache;

/*
 * Load every file under root. Fails with -ENOSPC when the files exceed budget
 * bytes (nothing is kept), or another negative errno when root cannot be read.
 * On failure err holds a message for the operator.
 */
int cache_load(const char *root, uint64_t budget, const struct cache_allocator *allocator,
	       struct cache **out, char *err, size_t err_len);

/* A file the operator named explicitly, cached under name wherever it lives:
 * the boot files of the configuration, which may be symlinks out of the root
 * (Debian's /usr/lib/ipxe/ipxe.efi points to /boot/ipxe.efi). */
struct cache_image {
	const char *name; /* as clients ask for it, e.g. "ipxe.efi" */
	const char *path; /* absolute */
};

/* cache_load, plus the images (which win over a root file of the same name).
 * An image that cannot be read is an error: the operator asked for it. */
int cache_load_with_images(const char *root, const struct cache_image *images, size_t n_images, uint64_t budget,
			   const struct cache_allocator *allocator, struct cache **out, char *err, size_t err_len);

void cache_ref(struct cache *cache);
/* Drops a reference; the version is freed with the last one, or handed to the
 * release hook when one is set. */
void cache_unref(struct cache *cache);

/*
 * Who frees a version when its last reference goes: by default cache_unref()
 * itself. The dataplane drops references on its polling core, where freeing
 * hundreds of megabytes of images must not happen, so it hands the version to
 * its control thread instead (release returns false when it cannot take it, and
 * the version is then freed at once). cache_free() does the freeing.
 */
void cache_set_release(struct cache *cache, bool (*release)(void *ctx, struct cache *cache), void *ctx);
void cache_free(struct cache *cache);

const struct cache_stats *cache_stats(const struct cache *cache);
uint64_t cache_budget(const struct cache *cache);

enum cache_name_status {
	CACHE_NAME_OK = 0,
	CACHE_NAME_EMPTY,     /* nothing left after normalisation */
	CACHE_NAME_TRAVERSAL, /* a ".." component */
	CACHE_NAME_TOO_LONG,
	CACHE_NAME_BAD_CHAR,  /* control characters */
};

/*
 * Turn a client's file name into the cache's form: backslashes (as Windows boot
 * files send them) become '/', leading and repeated '/' and "." components go.
 * out must hold CACHE_NAME_MAX + 1 bytes.
 */
enum cache_name_status cache_normalize_name(const char *name, size_t len, char *out);

/* Exact match first, then a case-insensitive one (Windows boot loaders ask for
 * "\Boot\BCD" when the file is "boot/bcd"). NULL when absent. */
const struct cache_file *cache_find(const struct cache *cache, const char *normalized);

/*
 * The table of per-block sums of file for blksize (one uint32_t per block,
 * zero until the block is first sent), created on first use and charged to the
 * budget. NULL when the budget cannot hold it or four block sizes already have
 * tables: the caller then sums each block as it sends it. Same threading rule
 * as cache_file_netascii.
 */
uint32_t *cache_file_block_sums(struct cache *cache, const struct cache_file *file, uint16_t blksize);

/*
 * The netascii form of file, converted on first use and charged to the budget.
 * Returns 0, or -ENOSPC when the budget cannot hold it, -ENOMEM.
 * Safe from several polling lcores at once: the first use takes a lock, later
 * ones only read.
 */
int cache_file_netascii(struct cache *cache, const struct cache_file *file,
			const uint8_t **data, uint64_t *size);

#endif
