/* SPDX-License-Identifier: BSD-2-Clause */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct cache {
	int refs; /* atomic */
	struct cache_file *files; /* sorted by name (strcmp) */
	uint32_t *by_folded_name;  /* indices into files, sorted by strcasecmp */
	size_t n_files;
	uint64_t budget;
	uint64_t used; /* file bytes plus netascii copies and block-sum tables */
	/* Held while a polling lcore adds a netascii copy or a block-sum table
	 * (and charges `used`): with --lcores N several may want the same one. */
	bool lazy_lock;
	struct cache_stats stats;
	struct cache_allocator allocator;
	bool (*release)(void *ctx, struct cache *cache);
	void *release_ctx;
};

struct loader {
	int root_fd;
	struct cache *cache;
	size_t capacity;
	uint64_t total_bytes; /* including files not read once over budget */
	bool over_budget;
	int error;
	char *err;
	size_t err_len;
	const struct cache_image *images; /* explicit files: a root file of the same name yields */
	size_t n_images;
};

static void set_error(struct loader *l, int error, const char *fmt, ...)
{
	va_list ap;

	if (l->error)
		return;
	l->error = error;
	va_start(ap, fmt);
	vsnprintf(l->err, l->err_len, fmt, ap);
	va_end(ap);
}

static int open_beneath(int dir_fd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = resolve };

	return (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
}

static void free_files(struct cache *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		c->allocator.free(c->allocator.ctx, (void *)c->files[i].data);
		if (c->files[i].netascii)
			c->allocator.free(c->allocator.ctx, (void *)c->files[i].netascii);
		for (size_t t = 0; t < sizeof(c->files[i].block_sums) / sizeof(c->files[i].block_sums[0]); t++)
			if (c->files[i].block_sums[t].sums)
				c->allocator.free(c->allocator.ctx, c->files[i].block_sums[t].sums);
		free((void *)c->files[i].name);
	}
	free(c->files);
	free(c->by_folded_name);
	free(c);
}

static int read_all(int fd, uint8_t *buf, uint64_t size, uint64_t *got)
{
	*got = 0;
	while (*got < size) {
		ssize_t n = pread(fd, buf + *got, size - *got, (off_t)*got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* truncated while we read: keep what is there */
		*got += (uint64_t)n;
	}
	return 0;
}

static bool is_image_name(const struct loader *l, const char *rel)
{
	char normal[CACHE_NAME_MAX + 1], name[CACHE_NAME_MAX + 1];

	if (!l->n_images || cache_normalize_name(rel, strlen(rel), name) != CACHE_NAME_OK)
		return false;
	for (size_t i = 0; i < l->n_images; i++)
		if (cache_normalize_name(l->images[i].name, strlen(l->images[i].name), normal) == CACHE_NAME_OK &&
		    strcmp(normal, name) == 0)
			return true;
	return false;
}

/* Which file this was on disk, and in which state: a transfer journaled by a
 * dataplane that crashed resumes only on the very same bytes. */
static uint64_t file_identity(const struct stat *st, uint64_t size)
{
	const uint64_t parts[] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino, size, (uint64_t)st->st_mtim.tv_sec,
				   (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
				   (uint64_t)st->st_ctim.tv_nsec };
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (int b = 0; b < 64; b += 8)
			h = (h ^ ((parts[i] >> b) & 0xff)) * 1099511628211ull; /* FNV-1a */
	return h;
}

static void add_file(struct loader *l, const char *name, int fd, const struct stat *st)
{
	struct cache *c = l->cache;
	uint64_t size = (uint64_t)st->st_size;
	struct cache_file *f;
	uint8_t *data;
	uint64_t got;
	int r;

	l->total_bytes += size;
	if (l->total_bytes > c->budget)
		l->over_budget = true;
	if (l->over_budget)
		return; /* keep walking only to report the total */

	if (c->n_files == l->capacity) {
		size_t cap = l->capacity ? l->capacity * 2 : 64;
		struct cache_file *grown = realloc(c->files, cap * sizeof(*grown));

		if (!grown) {
			set_error(l, -ENOMEM, "out of memory listing files");
			return;
		}
		c->files = grown;
		l->capacity = cap;
	}
	/* One byte minimum so that empty files still have a distinct buffer. */
	data = c->allocator.alloc(c->allocator.ctx, size ? size : 1);
	if (!data) {
		set_error(l, -ENOMEM, "cannot allocate %llu bytes for %s (hugepages exhausted?)",
			  (unsigned long long)size, name);
		return;
	}
	r = read_all(fd, data, size, &got);
	if (r < 0) {
		c->allocator.free(c->allocator.ctx, data);
		c->stats.skipped_unreadable++;
		return;
	}
	f = &c->files[c->n_files];
	*f = (struct cache_file){ .name = strdup(name), .data = data, .size = got, .identity = file_identity(st, got) };
	if (!f->name) {
		c->allocator.free(c->allocator.ctx, data);
		set_error(l, -ENOMEM, "out of memory");
		return;
	}
	c->n_files++;
	c->used += got;
	c->stats.files++;
	c->stats.bytes += got;
}

static void walk(struct loader *l, const char *rel, int depth);

/* Opens one entry beneath the root and dispatches on what it really is: the
 * directory entry type cannot be trusted for symlinks or DT_UNKNOWN file systems. */
static void visit(struct loader *l, const char *rel, unsigned char d_type, int depth)
{
	struct stat st;
	int fd;

	if (d_type == DT_DIR) {
		walk(l, rel, depth + 1);
		return;
	}
	if (d_type != DT_REG && d_type != DT_LNK && d_type != DT_UNKNOWN) {
		l->cache->stats.skipped_special++;
		return;
	}
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open_beneath(l->root_fd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK,
			  RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			l->cache->stats.skipped_outside_root++;
		else
			l->cache->stats.skipped_unreadable++;
		return;
	}
	if (fstat(fd, &st) < 0) {
		l->cache->stats.skipped_unreadable++;
	} else if (S_ISREG(st.st_mode)) {
		if (!is_image_name(l, rel)) /* loaded from its own path afterwards */
			add_file(l, rel, fd, &st);
	} else if (S_ISDIR(st.st_mode) && d_type == DT_UNKNOWN) {
		close(fd);
		walk(l, rel, depth + 1);
		return;
	} else {
		l->cache->stats.skipped_special++; /* including symlinks to directories */
	}
	close(fd);
}

static void walk(struct loader *l, const char *rel, int depth)
{
	char child[CACHE_NAME_MAX + 1];
	struct dirent *de;
	DIR *dir;
	int fd;

	if (depth > CACHE_DEPTH_MAX) {
		l->cache->stats.skipped_unreadable++;
		return;
	}
	fd = open_beneath(l->root_fd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY,
			  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		int e = errno; /* before close() can change it */

		if (fd >= 0)
			close(fd);
		if (depth == 0)
			set_error(l, -e, "cannot read the TFTP root: %s", strerror(e));
		else
			l->cache->stats.skipped_unreadable++;
		return;
	}
	while (!l->error && (de = readdir(dir))) {
		int n;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n = rel[0] ? snprintf(child, sizeof(child), "%s/%s", rel, de->d_name)
			   : snprintf(child, sizeof(child), "%s", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(child)) {
			l->cache->stats.skipped_unreadable++;
			continue;
		}
		visit(l, child, de->d_type, depth);
	}
	closedir(dir);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct cache_file *)a)->name, ((const struct cache_file *)b)->name);
}

static int cmp_folded_index(const void *a, const void *b, void *files)
{
	const struct cache_file *f = files;

	return strcasecmp(f[*(const uint32_t *)a].name, f[*(const uint32_t *)b].name);
}

static void mib(uint64_t bytes, char *out, size_t len)
{
	snprintf(out, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

int cache_load(const char *root, uint64_t budget, const struct cache_allocator *allocator,
	       struct cache **out, char *err, size_t err_len)
{
	return cache_load_with_images(root, NULL, 0, budget, allocator, out, err, err_len);
}

static void load_image(struct loader *l, const struct cache_image *image)
{
	char name[CACHE_NAME_MAX + 1];
	struct stat st;
	int fd;

	if (cache_normalize_name(image->name, strlen(image->name), name) != CACHE_NAME_OK) {
		set_error(l, -EINVAL, "image name %s is not a valid TFTP file name", image->name);
		return;
	}
	fd = open(image->path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_error(l, fd < 0 ? -errno : -EINVAL, "image %s (%s): %s", image->name, image->path,
			  fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return;
	}
	add_file(l, name, fd, &st);
	close(fd);
}

int cache_load_with_images(const char *root, const struct cache_image *images, size_t n_images, uint64_t budget,
			   const struct cache_allocator *allocator, struct cache **out, char *err, size_t err_len)
{
	struct loader l = { .err = err, .err_len = err_len, .images = images, .n_images = n_images };
	struct cache *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	c->refs = 1;
	c->budget = budget;
	c->allocator = *allocator;
	l.cache = c;

	l.root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l.root_fd < 0) {
		int e = -errno;

		snprintf(err, err_len, "TFTP root %s: %s", root, strerror(errno));
		free(c);
		return e;
	}
	walk(&l, "", 0);
	close(l.root_fd);
	for (size_t i = 0; i < n_images && !l.error; i++)
		load_image(&l, &images[i]);

	if (!l.error && l.over_budget) {
		char have[32], allowed[32];

		mib(l.total_bytes, have, sizeof(have));
		mib(budget, allowed, sizeof(allowed));
		set_error(&l, -ENOSPC,
			  "image cache budget exceeded: %s holds %s, the budget is %s "
			  "(raise --cache-mb or remove files from the root)",
			  root, have, allowed);
	}
	if (l.error) {
		free_files(c);
		return l.error;
	}

	if (c->n_files)
		qsort(c->files, c->n_files, sizeof(*c->files), cmp_name);
	c->by_folded_name = malloc((c->n_files ? c->n_files : 1) * sizeof(uint32_t));
	if (!c->by_folded_name) {
		free_files(c);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_files; i++)
		c->by_folded_name[i] = (uint32_t)i;
	if (c->n_files)
		qsort_r(c->by_folded_name, c->n_files, sizeof(uint32_t), cmp_folded_index, c->files);
	*out = c;
	return 0;
}

void cache_ref(struct cache *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void cache_unref(struct cache *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (!c->release || !c->release(c->release_ctx, c))
		free_files(c);
}

void cache_set_release(struct cache *c, bool (*release)(void *ctx, struct cache *cache), void *ctx)
{
	c->release = release;
	c->release_ctx = ctx;
}

void cache_free(struct cache *c)
{
	if (c)
		free_files(c);
}

const struct cache_stats *cache_stats(const struct cache *c)
{
	return &c->stats;
}

uint64_t cache_budget(const struct cache *c)
{
	return c->budget;
}

enum cache_name_status cache_normalize_name(const char *name, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
		size_t start, clen;

		while (i < len && (name[i] == '/' || name[i] == '\\'))
			i++;
		start = i;
		while (i < len && name[i] != '/' && name[i] != '\\') {
			if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
				return CACHE_NAME_BAD_CHAR;
			i++;
		}
		clen = i - start;
		if (clen == 0 || (clen == 1 && name[start] == '.'))
			continue;
		if (clen == 2 && name[start] == '.' && name[start + 1] == '.')
			return CACHE_NAME_TRAVERSAL;
		if (o + (o ? 1 : 0) + clen > CACHE_NAME_MAX)
			return CACHE_NAME_TOO_LONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, name + start, clen);
		o += clen;
	}
	out[o] = '\0';
	return o ? CACHE_NAME_OK : CACHE_NAME_EMPTY;
}

const struct cache_file *cache_find(const struct cache *c, const char *name)
{
	size_t lo = 0, hi = c->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(name, c->files[mid].name);

		if (d == 0)
			return &c->files[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	lo = 0;
	hi = c->n_files;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cache_file *f = &c->files[c->by_folded_name[mid]];
		int d = strcasecmp(name, f->name);

		if (d == 0)
			return f;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void lazy_lock(struct cache *c)
{
	while (__atomic_test_and_set(&c->lazy_lock, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&c->lazy_lock, __ATOMIC_RELAXED))
			;
}

static void lazy_unlock(struct cache *c)
{
	__atomic_clear(&c->lazy_lock, __ATOMIC_RELEASE);
}

/* A table is published (release) only once zeroed and labelled, so the lock-free
 * look-up (acquire) never sees a half-made one. */
static uint32_t *find_block_sums(const struct cache_file *f, uint16_t blksize)
{
	for (size_t t = 0; t < sizeof(f->block_sums) / sizeof(f->block_sums[0]); t++) {
		uint32_t *sums = __atomic_load_n(&f->block_sums[t].sums, __ATOMIC_ACQUIRE);

		if (sums && f->block_sums[t].blksize == blksize)
			return sums;
	}
	return NULL;
}

static uint32_t *add_block_sums(struct cache *c, struct cache_file *f, uint16_t blksize)
{
	uint64_t bytes = (f->size / blksize + 1) * sizeof(uint32_t);

	for (size_t t = 0; t < sizeof(f->block_sums) / sizeof(f->block_sums[0]); t++) {
		uint32_t *sums;

		if (f->block_sums[t].sums)
			continue;
		if (c->used + bytes > c->budget)
			return NULL;
		sums = c->allocator.alloc(c->allocator.ctx, bytes);
		if (!sums)
			return NULL;
		memset(sums, 0, bytes);
		f->block_sums[t].blksize = blksize;
		c->used += bytes;
		__atomic_store_n(&f->block_sums[t].sums, sums, __ATOMIC_RELEASE);
		return sums;
	}
	return NULL;
}

uint32_t *cache_file_block_sums(struct cache *c, const struct cache_file *cfile, uint16_t blksize)
{
	struct cache_file *f = &c->files[cfile - c->files];
	uint32_t *sums;

	if (blksize == 0)
		return NULL;
	if ((sums = find_block_sums(f, blksize)))
		return sums;
	lazy_lock(c);
	sums = find_block_sums(f, blksize); /* another lcore may have made it meanwhile */
	if (!sums)
		sums = add_block_sums(c, f, blksize);
	lazy_unlock(c);
	return sums;
}

static int add_netascii(struct cache *c, struct cache_file *f)
{
	uint64_t n = 0, o = 0;
	uint8_t *out;

	for (uint64_t i = 0; i < f->size; i++)
		n += (f->data[i] == '\n' || f->data[i] == '\r') ? 2 : 1;
	if (c->used + n > c->budget)
		return -ENOSPC;
	out = c->allocator.alloc(c->allocator.ctx, n ? n : 1);
	if (!out)
		return -ENOMEM;
	for (uint64_t i = 0; i < f->size; i++) {
		uint8_t b = f->data[i];

		if (b == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else if (b == '\r') {
			out[o++] = '\r';
			out[o++] = '\0';
		} else {
			out[o++] = b;
		}
	}
	f->netascii_size = n;
	c->used += n;
	__atomic_store_n(&f->netascii, out, __ATOMIC_RELEASE); /* after its size */
	return 0;
}

int cache_file_netascii(struct cache *c, const struct cache_file *cfile, const uint8_t **data,
			uint64_t *size)
{
	struct cache_file *f = &c->files[cfile - c->files];
	int r = 0;

	if (!__atomic_load_n(&f->netascii, __ATOMIC_ACQUIRE)) {
		lazy_lock(c);
		if (!f->netascii)
			r = add_netascii(c, f);
		lazy_unlock(c);
		if (r < 0)
			return r;
	}
	*data = f->netascii;
	*size = f->netascii_size;
	return 0;
}
