/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The image cache: client name normalisation, the walk of a real temporary tree
 * (nested directories, symlinks inside and outside the root, a FIFO), lookups,
 * the byte budget, netascii copies and reference counting. The cache allocator
 * counts its calls so that every test can prove nothing leaked.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "support.h"

/* ---- cache_normalize_name ------------------------------------------------- */

struct name_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum cache_name_status want;
	const char *out; /* when want == CACHE_NAME_OK */
};

static const struct name_case name_cases[] = {
	{ "pxelinux.0", 0, CACHE_NAME_OK, "pxelinux.0" },
	{ "/pxelinux.0", 0, CACHE_NAME_OK, "pxelinux.0" },
	{ "///pxelinux.0", 0, CACHE_NAME_OK, "pxelinux.0" },
	{ "\\Boot\\BCD", 0, CACHE_NAME_OK, "Boot/BCD" },
	{ "\\/\\boot//\\x", 0, CACHE_NAME_OK, "boot/x" },
	{ "./a/./b", 0, CACHE_NAME_OK, "a/b" },
	{ "a//b///c", 0, CACHE_NAME_OK, "a/b/c" },
	{ "a/b/", 0, CACHE_NAME_OK, "a/b" },
	{ "...", 0, CACHE_NAME_OK, "..." },
	{ "a/.../b", 0, CACHE_NAME_OK, "a/.../b" },
	{ "..a", 0, CACHE_NAME_OK, "..a" },
	{ "a..", 0, CACHE_NAME_OK, "a.." },
	{ ".hidden", 0, CACHE_NAME_OK, ".hidden" },
	{ "caf\xc3\xa9", 0, CACHE_NAME_OK, "caf\xc3\xa9" }, /* UTF-8 bytes are not control characters */
	{ "abcdef", 3, CACHE_NAME_OK, "abc" },          /* len is respected, not the NUL */
	{ "..", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "../etc/passwd", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "/../x", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "boot/..", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "boot/../../x", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "a\\..\\b", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "./../x", 0, CACHE_NAME_TRAVERSAL, NULL },
	{ "a\x01", 0, CACHE_NAME_BAD_CHAR, NULL },
	{ "a\tb", 0, CACHE_NAME_BAD_CHAR, NULL },
	{ "a\nb", 0, CACHE_NAME_BAD_CHAR, NULL },
	{ "a\x1f", 0, CACHE_NAME_BAD_CHAR, NULL },
	{ "a\x7f", 0, CACHE_NAME_BAD_CHAR, NULL },
	{ "a\0b", 3, CACHE_NAME_BAD_CHAR, NULL },
	{ "", 0, CACHE_NAME_EMPTY, NULL },
	{ "/", 0, CACHE_NAME_EMPTY, NULL },
	{ "\\", 0, CACHE_NAME_EMPTY, NULL },
	{ ".", 0, CACHE_NAME_EMPTY, NULL },
	{ "./", 0, CACHE_NAME_EMPTY, NULL },
	{ "/././/./", 0, CACHE_NAME_EMPTY, NULL },
};

static const char *status_name(enum cache_name_status s)
{
	static const char *const names[] = { "OK", "EMPTY", "TRAVERSAL", "TOO_LONG", "BAD_CHAR" };

	return (unsigned)s < 5 ? names[s] : "?";
}

Test(cache_normalize_name, separators_dots_traversal_control_chars_and_empty)
{
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		char out[CACHE_NAME_MAX + 1];
		enum cache_name_status got = cache_normalize_name(c->in, c->len ? c->len : strlen(c->in), out);

		cr_expect(eq(str, (char *)status_name(got), (char *)status_name(c->want)), "case %zu \"%s\"", i,
			  c->in);
		if (c->want == CACHE_NAME_OK && got == CACHE_NAME_OK)
			cr_expect(eq(str, out, (char *)c->out), "case %zu", i);
	}
}

Test(cache_normalize_name, length_limit_is_exactly_cache_name_max)
{
	static char in[CACHE_NAME_MAX + 16], out[CACHE_NAME_MAX + 1];

	memset(in, 'x', sizeof(in));
	cr_assert(eq(int, cache_normalize_name(in, CACHE_NAME_MAX, out), CACHE_NAME_OK));
	cr_assert(eq(sz, strlen(out), CACHE_NAME_MAX));
	cr_assert(eq(int, cache_normalize_name(in, CACHE_NAME_MAX + 1, out), CACHE_NAME_TOO_LONG));

	/* Separators that go away do not count; the ones kept do. */
	in[0] = '/';
	in[1] = '/';
	cr_assert(eq(int, cache_normalize_name(in, CACHE_NAME_MAX + 2, out), CACHE_NAME_OK));
	memset(in, 'x', sizeof(in));
	in[10] = '/';
	cr_assert(eq(int, cache_normalize_name(in, CACHE_NAME_MAX, out), CACHE_NAME_OK));
	cr_assert(eq(int, cache_normalize_name(in, CACHE_NAME_MAX + 1, out), CACHE_NAME_TOO_LONG));
}

Test(cache_normalize_name, output_is_always_terminated)
{
	char out[CACHE_NAME_MAX + 1];

	memset(out, 'Z', sizeof(out));
	cr_assert(eq(int, cache_normalize_name("//a//", 5, out), CACHE_NAME_OK));
	cr_assert(eq(str, out, "a"));
	memset(out, 'Z', sizeof(out));
	cr_assert(eq(int, cache_normalize_name("//", 2, out), CACHE_NAME_EMPTY));
	cr_assert(eq(str, out, ""));
}

/* ---- fixture: a temporary tree with a root inside it ----------------------- */

static struct {
	char base[64];  /* mkdtemp */
	char root[96];  /* base/root: what is served */
	struct counting_allocator counts;
	struct cache_allocator allocator;
	struct cache *cache;
	char err[512];
} fx;

static void setup(void)
{
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.base, "/tmp/stampede-cache-XXXXXX");
	cr_assert(mkdtemp(fx.base) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(fx.root, sizeof(fx.root), "%s/root", fx.base);
	cr_assert(eq(int, mkdir(fx.root, 0755), 0));
	fx.allocator = counting_allocator(&fx.counts);
}

static void teardown(void)
{
	cache_unref(fx.cache);
	remove_tree(fx.base);
}

TestSuite(cache, .init = setup, .fini = teardown, .timeout = 30);

static void path_in_root(char *out, size_t cap, const char *rel)
{
	int n = snprintf(out, cap, "%s/%s", fx.root, rel);

	cr_assert(n > 0 && (size_t)n < cap, "path too long");
}

static void make_dir(const char *rel)
{
	char p[512];

	path_in_root(p, sizeof(p), rel);
	cr_assert(eq(int, mkdir(p, 0755), 0), "mkdir %s: %s", p, strerror(errno));
}

static void write_path(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	cr_assert(eq(sz, fwrite(data, 1, len, f), len));
	cr_assert(eq(int, fclose(f), 0));
}

static void write_file(const char *rel, const char *text)
{
	char p[512];

	path_in_root(p, sizeof(p), rel);
	write_path(p, text, strlen(text));
}

static void make_symlink(const char *target, const char *rel)
{
	char p[512];

	path_in_root(p, sizeof(p), rel);
	cr_assert(eq(int, symlink(target, p), 0), "symlink %s: %s", p, strerror(errno));
}

static int load(uint64_t budget)
{
	return cache_load(fx.root, budget, &fx.allocator, &fx.cache, fx.err, sizeof(fx.err));
}

static void expect_file(const char *name, const char *text)
{
	const struct cache_file *f = cache_find(fx.cache, name);

	cr_assert(f != NULL, "%s not in the cache", name);
	cr_assert(eq(sz, f->size, strlen(text)), "%s size", name);
	cr_assert(eq(int, memcmp(f->data, text, f->size), 0), "%s bytes", name);
}

/* ---- cache_load ----------------------------------------------------------- */

Test(cache, nested_directories_are_loaded_with_relative_names)
{
	make_dir("boot");
	make_dir("boot/grub");
	make_dir("efi");
	make_dir("efi/boot");
	write_file("undionly.kpxe", "kpxe");
	write_file("boot/grub/grub.cfg", "set timeout=5\n");
	write_file("efi/boot/bootx64.efi", "MZ\x90");
	write_file("empty", "");

	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	expect_file("undionly.kpxe", "kpxe");
	expect_file("boot/grub/grub.cfg", "set timeout=5\n");
	expect_file("efi/boot/bootx64.efi", "MZ\x90");
	expect_file("empty", "");
	cr_assert(eq(str, (char *)cache_find(fx.cache, "boot/grub/grub.cfg")->name, "boot/grub/grub.cfg"));
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 4));
	cr_assert(eq(u64, cache_stats(fx.cache)->bytes, 4 + 14 + 3));
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_outside_root, 0));
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_special, 0));
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_unreadable, 0));
	cr_assert(eq(u64, cache_budget(fx.cache), 1 << 20));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "boot"), NULL), "directories are not files");
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "grub.cfg"), NULL));
}

Test(cache, empty_root_loads_with_no_files)
{
	cr_assert(eq(int, load(0), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 0));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "x"), NULL));
}

Test(cache, symlink_to_a_file_inside_the_root_is_served)
{
	make_dir("bios");
	write_file("bios/pxelinux.0", "PXE");
	make_symlink("bios/pxelinux.0", "pxelinux.0");
	make_dir("efi");
	make_symlink("../bios/pxelinux.0", "efi/up-and-back");

	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	expect_file("pxelinux.0", "PXE");
	expect_file("bios/pxelinux.0", "PXE");
	expect_file("efi/up-and-back", "PXE");
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_outside_root, 0));
}

Test(cache, symlinks_leading_outside_the_root_are_skipped_and_counted)
{
	char outside[160];

	snprintf(outside, sizeof(outside), "%s/outside.txt", fx.base);
	write_path(outside, "secret", 6);
	write_file("ok", "ok");
	make_symlink("/etc/passwd", "passwd");
	make_symlink("../outside.txt", "escape");
	make_dir("d");
	make_symlink("../../outside.txt", "d/escape2");
	make_symlink(outside, "absolute-outside");

	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_outside_root, 4));
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 1));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "passwd"), NULL));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "escape"), NULL));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "d/escape2"), NULL));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "absolute-outside"), NULL));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "ESCAPE"), NULL));
	expect_file("ok", "ok");
}

Test(cache, symlink_to_a_directory_is_skipped_as_special)
{
	make_dir("real");
	write_file("real/f", "f");
	make_symlink("real", "alias");

	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_special, 1));
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 1));
	expect_file("real/f", "f");
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "alias/f"), NULL));
}

Test(cache, fifo_is_skipped_without_blocking_the_load, .timeout = 10)
{
	char p[512];

	path_in_root(p, sizeof(p), "fifo");
	cr_assert(eq(int, mkfifo(p, 0644), 0), "mkfifo: %s", strerror(errno));
	make_symlink("fifo", "fifo-link"); /* the link's type says nothing: opened, then fstat */
	write_file("f", "f");

	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_special, 2));
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 1));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "fifo"), NULL));
}

Test(cache, dangling_symlink_is_counted_as_unreadable)
{
	make_symlink("nowhere", "dangling");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_unreadable, 1));
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 0));
}

Test(cache, directories_deeper_than_the_limit_are_skipped)
{
	char rel[512] = "";
	size_t n = 0;

	cr_assert(eq(int, CACHE_DEPTH_MAX, 32));
	for (int depth = 1; depth <= CACHE_DEPTH_MAX + 1; depth++) {
		n += (size_t)snprintf(rel + n, sizeof(rel) - n, "%sd", n ? "/" : "");
		make_dir(rel);
		if (depth == CACHE_DEPTH_MAX) {
			char f[520];

			snprintf(f, sizeof(f), "%s/deepest-kept", rel);
			write_file(f, "kept");
		}
	}
	{
		char f[520];

		snprintf(f, sizeof(f), "%s/too-deep", rel);
		write_file(f, "gone");
	}
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->files, 1));
	cr_assert(eq(u64, cache_stats(fx.cache)->skipped_unreadable, 1));
}

/* ---- lookups -------------------------------------------------------------- */

Test(cache, exact_match_wins_over_case_insensitive_one)
{
	write_file("A", "upper");
	write_file("a", "lower");
	make_dir("Boot");
	write_file("Boot/BCD", "bcd");

	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	expect_file("A", "upper");
	expect_file("a", "lower");
	expect_file("boot/bcd", "bcd"); /* Windows asks with any case */
	expect_file("BOOT/bcd", "bcd");
	cr_assert(eq(str, (char *)cache_find(fx.cache, "boot/bcd")->name, "Boot/BCD"));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "boot/bcd2"), NULL));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "boot"), NULL));
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, ""), NULL));
}

Test(cache, case_insensitive_lookup_finds_every_file_of_a_larger_tree)
{
	char name[32], upper[32];

	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "File%03d.bin", i * 7 % 200);
		write_file(name, name);
	}
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "File%03d.bin", i);
		expect_file(name, name);
		for (size_t k = 0; k <= strlen(name); k++)
			upper[k] = (char)((name[k] >= 'a' && name[k] <= 'z') ? name[k] - 32 : name[k]);
		cr_assert(cache_find(fx.cache, upper) != NULL, "%s", upper);
		cr_assert(eq(str, (char *)cache_find(fx.cache, upper)->name, name));
	}
	cr_assert(eq(ptr, (void *)cache_find(fx.cache, "FILE200.BIN"), NULL));
}

/* ---- budget, leaks, references -------------------------------------------- */

static void write_mib(const char *rel, size_t mib)
{
	char p[512];
	size_t len = mib << 20;
	char *data = malloc(len);

	cr_assert(data != NULL);
	memset(data, 'z', len);
	path_in_root(p, sizeof(p), rel);
	write_path(p, data, len);
	free(data);
}

Test(cache, over_budget_is_enospc_naming_root_and_sizes_and_leaks_nothing)
{
	char want[512];
	struct cache *untouched = (struct cache *)0x1;

	write_mib("a", 1);
	write_mib("b", 1);
	write_mib("c", 1);
	fx.cache = untouched;
	cr_assert(eq(int, load(2u << 20), -ENOSPC));
	cr_assert(eq(ptr, (void *)fx.cache, (void *)untouched), "*out untouched on failure");
	fx.cache = NULL;
	snprintf(want, sizeof(want),
		 "image cache budget exceeded: %s holds 3.0 MiB, the budget is 2.0 MiB "
		 "(raise --cache-mb or remove files from the root)",
		 fx.root);
	cr_assert(eq(str, fx.err, want));
	cr_assert(eq(u64, fx.counts.frees, fx.counts.allocs), "every buffer taken was given back");
}

Test(cache, files_exactly_filling_the_budget_load)
{
	write_file("a", "12345");
	write_file("b", "67890");
	cr_assert(eq(int, load(10), 0), "%s", fx.err);
	cr_assert(eq(u64, cache_stats(fx.cache)->bytes, 10));
	cache_unref(fx.cache);
	fx.cache = NULL;
	cr_assert(eq(int, load(9), -ENOSPC));
	cr_assert(eq(u64, fx.counts.frees, fx.counts.allocs));
}

Test(cache, missing_root_is_negative_errno_with_message)
{
	char missing[160], want[256];
	struct cache *c = NULL;

	snprintf(missing, sizeof(missing), "%s/does-not-exist", fx.base);
	cr_assert(eq(int, cache_load(missing, 1 << 20, &fx.allocator, &c, fx.err, sizeof(fx.err)), -ENOENT));
	snprintf(want, sizeof(want), "TFTP root %s: No such file or directory", missing);
	cr_assert(eq(str, fx.err, want));
	cr_assert(eq(ptr, (void *)c, NULL));

	snprintf(missing, sizeof(missing), "%s/plain", fx.base);
	write_path(missing, "x", 1);
	cr_assert(eq(int, cache_load(missing, 1 << 20, &fx.allocator, &c, fx.err, sizeof(fx.err)), -ENOTDIR));
	snprintf(want, sizeof(want), "TFTP root %s: Not a directory", missing);
	cr_assert(eq(str, fx.err, want));
	cr_assert(eq(u64, fx.counts.allocs, 0));
}

Test(cache, every_buffer_is_freed_by_the_last_unref)
{
	write_file("a", "aaa");
	write_file("b", "");
	write_file("t", "x\ny\n");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	{
		const uint8_t *d;
		uint64_t n;

		cr_assert(eq(int, cache_file_netascii(fx.cache, cache_find(fx.cache, "t"), &d, &n), 0));
	}
	cr_assert(eq(u64, fx.counts.allocs, 4), "three files (an empty one too) and one netascii copy");
	cache_unref(fx.cache);
	fx.cache = NULL;
	cr_assert(eq(u64, fx.counts.frees, 4));
}

Test(cache, data_stays_valid_while_a_second_reference_is_held)
{
	const struct cache_file *f;
	struct cache *c;

	write_file("kernel", "vmlinuz bytes");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	c = fx.cache;
	f = cache_find(c, "kernel");
	cache_ref(c);
	cache_unref(c); /* the first holder lets go */
	fx.cache = NULL;
	cr_assert(eq(u64, fx.counts.frees, 0));
	cr_assert(eq(int, memcmp(f->data, "vmlinuz bytes", 13), 0));
	cr_assert(eq(str, (char *)f->name, "kernel"));
	cache_unref(c);
	cr_assert(eq(u64, fx.counts.frees, fx.counts.allocs));
	cache_unref(NULL); /* a no-op, as free(NULL) */
}

/* ---- netascii -------------------------------------------------------------- */

Test(cache, netascii_copy_is_exact_and_built_once)
{
	const struct cache_file *f;
	const uint8_t *d1, *d2;
	uint64_t n1, n2, allocs;

	write_file("t", "a\nb\rc\r\n");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	f = cache_find(fx.cache, "t");
	cr_assert(eq(int, cache_file_netascii(fx.cache, f, &d1, &n1), 0));
	/* RFC 1350 / RFC 764: LF -> CR LF, bare CR -> CR NUL. */
	cr_assert(eq(u64, n1, 11));
	cr_assert(eq(u8[11], (uint8_t *)d1, ((uint8_t[]){ 'a', '\r', '\n', 'b', '\r', 0, 'c', '\r', 0, '\r', '\n' })));
	cr_assert(eq(u64, f->netascii_size, 11));
	allocs = fx.counts.allocs;
	cr_assert(eq(int, cache_file_netascii(fx.cache, f, &d2, &n2), 0));
	cr_assert(eq(ptr, (void *)d2, (void *)d1));
	cr_assert(eq(u64, n2, 11));
	cr_assert(eq(u64, fx.counts.allocs, allocs), "no second copy");
	cr_assert(eq(sz, f->size, 7), "the octet form is unchanged");
}

Test(cache, netascii_copy_is_charged_to_the_budget)
{
	const uint8_t *d = NULL;
	uint64_t n = 0;

	write_file("t", "a\nb\n"); /* 4 bytes, 6 in netascii */
	cr_assert(eq(int, load(9), 0), "%s", fx.err);
	cr_assert(eq(int, cache_file_netascii(fx.cache, cache_find(fx.cache, "t"), &d, &n), -ENOSPC));
	cr_assert(eq(ptr, (void *)d, NULL));
	cr_assert(eq(u64, fx.counts.allocs, 1), "nothing allocated for a copy that does not fit");
	cache_unref(fx.cache);
	fx.cache = NULL;

	cr_assert(eq(int, load(10), 0), "%s", fx.err);
	cr_assert(eq(int, cache_file_netascii(fx.cache, cache_find(fx.cache, "t"), &d, &n), 0));
	cr_assert(eq(u64, n, 6));
}

Test(cache, netascii_copies_share_one_budget)
{
	const uint8_t *d;
	uint64_t n;

	write_file("a", "\n\n"); /* 2 -> 4 */
	write_file("b", "\n\n"); /* 2 -> 4 */
	cr_assert(eq(int, load(10), 0), "%s", fx.err);
	cr_assert(eq(int, cache_file_netascii(fx.cache, cache_find(fx.cache, "a"), &d, &n), 0));
	cr_assert(eq(int, cache_file_netascii(fx.cache, cache_find(fx.cache, "b"), &d, &n), -ENOSPC),
		  "4 + 4 + 4 > 10");
}

Test(cache, netascii_of_an_empty_file_is_empty)
{
	const uint8_t *d = NULL;
	uint64_t n = 99;

	write_file("e", "");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(eq(int, cache_file_netascii(fx.cache, cache_find(fx.cache, "e"), &d, &n), 0));
	cr_assert(eq(u64, n, 0));
	cr_assert(d != NULL);
}

/* Block-sum tables are charged to the budget, reused per blksize, at most four
 * block sizes per file, and freed with the version. */
Test(cache, block_sum_tables_are_budgeted_and_reused)
{
	char path[512];
	uint8_t data[4096] = { 0 };
	const struct cache_file *f;
	uint32_t *t512;

	snprintf(path, sizeof(path), "%s/f", fx.root);
	write_bytes(path, data, sizeof(data));
	cr_assert(eq(int, cache_load(fx.root, 4096 + 9 * 4 + 3 * 5 * 4, &fx.allocator, &fx.cache, fx.err, sizeof(fx.err)), 0));
	f = cache_find(fx.cache, "f");
	t512 = cache_file_block_sums(fx.cache, f, 512); /* 9 entries */
	cr_assert(t512 != NULL);
	cr_expect(eq(ptr, cache_file_block_sums(fx.cache, f, 512), t512), "same table for the same blksize");
	cr_expect(cache_file_block_sums(fx.cache, f, 1024) != NULL); /* 5 entries */
	cr_expect(cache_file_block_sums(fx.cache, f, 1025) != NULL);
	cr_expect(cache_file_block_sums(fx.cache, f, 1026) != NULL);
	cr_expect(eq(ptr, cache_file_block_sums(fx.cache, f, 1027), NULL), "four tables per file at most");
	cache_unref(fx.cache);
	fx.cache = NULL;
	cr_expect(eq(u64, fx.counts.frees, fx.counts.allocs), "tables freed with the version");
}

Test(cache, block_sum_table_over_budget_is_refused)
{
	char path[512];
	uint8_t data[4096] = { 0 };

	snprintf(path, sizeof(path), "%s/f", fx.root);
	write_bytes(path, data, sizeof(data));
	cr_assert(eq(int, cache_load(fx.root, 4096 + 8, &fx.allocator, &fx.cache, fx.err, sizeof(fx.err)), 0));
	cr_expect(eq(ptr, cache_file_block_sums(fx.cache, cache_find(fx.cache, "f"), 512), NULL));
}

static struct cache *released;

static bool take_it(void *ctx, struct cache *c)
{
	(void)ctx;
	released = c;
	return true;
}

static bool refuse_it(void *ctx, struct cache *c)
{
	(void)ctx;
	(void)c;
	return false;
}

/* With a release hook the last reference hands the version over instead of
 * freeing it (the dataplane frees on its control thread); a hook that declines
 * leaves the freeing to cache_unref as before. */
Test(cache, release_hook_takes_the_last_reference)
{
	char path[512];
	struct cache *c;

	snprintf(path, sizeof(path), "%s/f", fx.root);
	write_bytes(path, "data", 4);
	cr_assert(eq(int, cache_load(fx.root, 1 << 20, &fx.allocator, &c, fx.err, sizeof(fx.err)), 0));
	cache_set_release(c, take_it, NULL);
	cache_ref(c);
	cache_unref(c);
	cr_expect(eq(ptr, released, NULL), "not the last reference");
	cache_unref(c);
	cr_assert(eq(ptr, released, c), "handed over");
	cr_expect(lt(u64, fx.counts.frees, fx.counts.allocs), "not freed yet");
	cache_free(released);
	cr_expect(eq(u64, fx.counts.frees, fx.counts.allocs), "freed by cache_free");

	cr_assert(eq(int, cache_load(fx.root, 1 << 20, &fx.allocator, &c, fx.err, sizeof(fx.err)), 0));
	cache_set_release(c, refuse_it, NULL);
	cache_unref(c);
	cr_expect(eq(u64, fx.counts.frees, fx.counts.allocs), "freed at once when the hook declines");
}

/* ---- several polling lcores (--lcores N) ---------------------------------- */

#define RACE_THREADS 4
#define RACE_FILES   64

struct racer {
	pthread_barrier_t *start;
	const uint8_t *netascii[RACE_FILES];
	uint32_t *sums[RACE_FILES];
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	for (int i = 0; i < RACE_FILES; i++) {
		char name[16];
		const struct cache_file *f;
		uint64_t n;

		snprintf(name, sizeof(name), "f%02d", i);
		f = cache_find(fx.cache, name);
		if (!f || cache_file_netascii(fx.cache, f, &r->netascii[i], &n) < 0)
			r->netascii[i] = NULL;
		r->sums[i] = f ? cache_file_block_sums(fx.cache, f, 512) : NULL;
	}
	return NULL;
}

/* Lcores that ask for the same netascii copy or block-sum table at the same
 * moment all get the one that was made, and it is made (and charged) once. */
Test(cache, concurrent_first_uses_make_one_copy_and_one_table)
{
	pthread_t threads[RACE_THREADS];
	struct racer racers[RACE_THREADS];
	pthread_barrier_t start;
	uint64_t allocs;

	for (int i = 0; i < RACE_FILES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%02d", i);
		write_file(name, "line\nline\rline\n");
	}
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	allocs = fx.counts.allocs;
	pthread_barrier_init(&start, NULL, RACE_THREADS);
	for (int t = 0; t < RACE_THREADS; t++) {
		racers[t].start = &start;
		cr_assert(eq(int, pthread_create(&threads[t], NULL, race, &racers[t]), 0));
	}
	for (int t = 0; t < RACE_THREADS; t++)
		pthread_join(threads[t], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < RACE_FILES; i++) {
		cr_assert(ne(ptr, (void *)racers[0].netascii[i], NULL));
		cr_assert(ne(ptr, (void *)racers[0].sums[i], NULL));
		for (int t = 1; t < RACE_THREADS; t++) {
			cr_assert(eq(ptr, (void *)racers[t].netascii[i], (void *)racers[0].netascii[i]), "file %d", i);
			cr_assert(eq(ptr, (void *)racers[t].sums[i], (void *)racers[0].sums[i]), "file %d", i);
		}
	}
	cr_assert(eq(u64, fx.counts.allocs - allocs, 2 * RACE_FILES), "one copy and one table per file");
}

/* A journaled transfer resumes only on the very file it started on
 * (session_journal.h): the identity stays while the file does, and changes
 * when it is rewritten, even with the same size. */
Test(cache, identity_follows_the_file_on_disk)
{
	uint64_t first, again, other;

	write_file("a.img", "0123456789");
	write_file("b.img", "0123456789");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	first = cache_find(fx.cache, "a.img")->identity;
	other = cache_find(fx.cache, "b.img")->identity;
	cr_assert(not(eq(u64, first, other)), "two files, same bytes: two identities");
	cache_unref(fx.cache);
	fx.cache = NULL;
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	again = cache_find(fx.cache, "a.img")->identity;
	cr_assert(eq(u64, first, again), "reloaded, unchanged");
	cache_unref(fx.cache);
	fx.cache = NULL;
	usleep(10000); /* a later modification time, whatever the file system's resolution */
	write_file("a.img", "9876543210");
	cr_assert(eq(int, load(1 << 20), 0), "%s", fx.err);
	cr_assert(not(eq(u64, first, cache_find(fx.cache, "a.img")->identity)), "rewritten in place");
}
