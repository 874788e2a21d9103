/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The YAML configuration (control/config.c): a file that sets every key and
 * where each value lands, the defaults, the embedded default and the example
 * files of configs/, then one test per kind of error with the exact
 * "FILE:LINE:COLUMN: " it names (as a compiler would: the line and column of
 * the offending key or value, 1-based), several errors in one pass and the
 * CONFIG_MAX_ERRORS limit. Then what is decided after parsing: config_match's
 * precedence (mac > uuid > arch, more specific wins), profiles discovered from
 * a directory tree, and config_check_host against real directories.
 *
 * Positions were read off the texts below by hand: line 1 is the first line
 * of the string, column 1 its first character.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NAME "t.yaml"

static struct config *parse(const char *text, struct config_errors *e)
{
	memset(e, 0x5a, sizeof(*e)); /* config_parse must clear it */
	return config_parse(NAME, text, strlen(text), e);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void dump_errors(const struct config_errors *e)
{
	for (unsigned i = 0; i < e->n && i < CONFIG_MAX_ERRORS; i++)
		cr_log_info("error %u: %s", i, e->msg[i]);
}

static struct config *parse_ok(const char *text)
{
	struct config_errors e;
	struct config *c = parse(text, &e);

	dump_errors(&e);
	cr_assert(eq(u32, e.n, 0), "first error: %s", e.n ? e.msg[0] : "");
	cr_assert(not(eq(ptr, (void *)c, NULL)));
	cr_assert(eq(u32, e.dropped, 0));
	return c;
}

/* The text is refused with exactly one error that starts with prefix
 * ("t.yaml:L:C: ") and contains phrase. */
static void expect_error(const char *text, const char *prefix, const char *phrase)
{
	struct config_errors e;
	struct config *c = parse(text, &e);

	dump_errors(&e);
	cr_expect(eq(ptr, (void *)c, NULL), "accepted:\n%s", text);
	config_free(c);
	cr_assert(eq(u32, e.n, 1), "error count for:\n%s", text);
	cr_expect(starts_with(e.msg[0], prefix), "want prefix \"%s\", got \"%s\"", prefix,
		  e.msg[0]);
	cr_expect(strstr(e.msg[0], phrase) != NULL, "want \"%s\" in \"%s\"", phrase, e.msg[0]);
}

/* ---- a file that sets everything ---------------------------------------- */

static const char full[] =
	"interface: enp1s0\n"                                   /*  1 */
	"address: 10.0.0.2\n"                                   /*  2 */
	"tftp:\n"                                               /*  3 */
	"  root: /srv/tftp\n"                                   /*  4 */
	"  cache_mb: 256\n"                                     /*  5 */
	"  port_range: 50000-50099\n"                           /*  6 */
	"  max_sessions: 100\n"                                 /*  7 */
	"  max_sessions_per_client: 4\n"                        /*  8 */
	"  max_windowsize: 16\n"                                /*  9 */
	"  retransmit_ms: 500\n"                                /* 10 */
	"  max_retries: 3\n"                                    /* 11 */
	"http:\n"                                               /* 12 */
	"  listen: 10.0.0.2\n"                                  /* 13 */
	"  port: 8081\n"                                        /* 14 */
	"  root: /srv/http\n"                                   /* 15 */
	"  url: http://boot.example:8081//\n"                   /* 16 */
	"  discover_profiles: yes\n"                            /* 17 */
	"proxydhcp:\n"                                          /* 18 */
	"  boot_files:\n"                                       /* 19 */
	"    bios: undionly.kpxe\n"                             /* 20 */
	"    efi-x64: ipxe-x64.efi\n"                           /* 21 */
	"    efi-arm64: ipxe-arm64.efi\n"                       /* 22 */
	"    efi-x64-http: ipxe-http.efi\n"                     /* 23 */
	"    efi-arm64-http: https://mirror.example/a64.efi\n"  /* 24 */
	"  boot_server: [efi-x64, bios]\n"                      /* 25 */
	"  menu: Lab boot\n"                                    /* 26 */
	"  prompt:\n"                                           /* 27 */
	"    text: Press F8\n"                                  /* 28 */
	"    timeout: 7\n"                                      /* 29 */
	"  pxelinux:\n"                                         /* 30 */
	"    config_file: pxelinux.cfg/default\n"               /* 31 */
	"    path_prefix: /pxe/\n"                              /* 32 */
	"  allow_macs: [52:54:00:12:34:56, AA-BB-CC-DD-EE-FF]\n" /* 33 */
	"  deny_macs:\n"                                        /* 34 */
	"    - 52:54:00:00:00:01\n"                             /* 35 */
	"  allow_subnets: [10.0.0.0/8]\n"                       /* 36 */
	"  deny_subnets: [10.9.0.0/16, 192.168.1.7/32]\n"       /* 37 */
	"  unmatched: ignore\n"                                 /* 38 */
	"profiles:\n"                                           /* 39 */
	"  debian:\n"                                           /* 40 */
	"    description: Debian 12 installer\n"                /* 41 */
	"    kernel: debian/vmlinuz\n"                          /* 42 */
	"    initrd: [debian/initrd.gz, debian/fw.cpio]\n"      /* 43 */
	"    cmdline: console=ttyS0 hostname=${hostname}\n"     /* 44 */
	"  rescue:\n"                                           /* 45 */
	"    script: |\n"                                       /* 46 */
	"      #!ipxe\n"                                        /* 47 */
	"      shell\n"                                         /* 48 */
	"  disk:\n"                                             /* 49 */
	"    action: local\n"                                   /* 50 */
	"  single:\n"                                           /* 51 */
	"    kernel: http://images.example/k\n"                 /* 52 */
	"    initrd: one.img\n"                                 /* 53 */
	"machines:\n"                                           /* 54 */
	"  - mac: 52-54-00-AB-CD-EF\n"                          /* 55 */
	"    hostname: web1\n"                                  /* 56 */
	"    profile: debian\n"                                 /* 57 */
	"  - uuid: 4C4C4544-0042-3510-8052-B4C04F4E4B31\n"      /* 58 */
	"    profile: rescue\n"                                 /* 59 */
	"  - arch: efi-arm64\n"                                 /* 60 */
	"    profile: disk\n"                                   /* 61 */
	"default_profile: none\n"                               /* 62 */
	"menu_timeout: 30\n"                                    /* 63 */
	"dataplane:\n"                                          /* 64 */
	"  pmd: af_packet\n"                                    /* 65 */
	"  no_huge: true\n"                                     /* 66 */
	"  lcore: 2\n"                                          /* 67 */
	"  eal: \"--log-level 8\"\n";                           /* 68 */

Test(config_parse, every_key_lands_in_its_field)
{
	struct config *c = parse_ok(full);
	const struct profile *p;

	cr_expect(eq(str, (char *)c->source, NAME));
	cr_expect(eq(str, (char *)c->interface, "enp1s0"));
	cr_expect(eq(str, (char *)c->address, "10.0.0.2"));

	cr_expect(eq(str, (char *)c->tftp.root, "/srv/tftp"));
	cr_expect(eq(u32, c->tftp.cache_mb, 256));
	cr_expect(eq(str, (char *)c->tftp.port_range, "50000-50099"));
	cr_expect(eq(u32, c->tftp.max_sessions, 100));
	cr_expect(eq(u32, c->tftp.max_sessions_per_client, 4));
	cr_expect(eq(u32, c->tftp.max_windowsize, 16));
	cr_expect(eq(u32, c->tftp.retransmit_ms, 500));
	cr_expect(eq(u32, c->tftp.max_retries, 3));

	cr_expect(eq(str, (char *)c->http.listen, "10.0.0.2"));
	cr_expect(eq(u32, c->http.port, 8081));
	cr_expect(eq(str, (char *)c->http.root, "/srv/http"));
	cr_expect(eq(str, (char *)c->http.base_url, "http://boot.example:8081"), "trailing slashes are dropped");
	cr_expect(c->http.discover_profiles);

	cr_expect(eq(ptr, (void *)c->proxydhcp.boot_files[PXE_ARCH_UNKNOWN], NULL));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_BIOS], "undionly.kpxe"));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_EFI_X64], "ipxe-x64.efi"));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_EFI_ARM64], "ipxe-arm64.efi"));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_EFI_X64_HTTP], "ipxe-http.efi"));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_EFI_ARM64_HTTP], "https://mirror.example/a64.efi"));
	cr_expect(eq(ptr, (void *)c->proxydhcp.boot_files[PXE_ARCH_EFI_IA32], NULL));
	cr_expect(eq(ptr, (void *)c->proxydhcp.boot_files[PXE_ARCH_EFI_ARM32], NULL));
	cr_expect(eq(ptr, (void *)c->proxydhcp.boot_files[PXE_ARCH_EFI_IA32_HTTP], NULL));
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		cr_expect(eq(int, c->proxydhcp.boot_server[a], a == PXE_ARCH_EFI_X64 || a == PXE_ARCH_BIOS),
			  "boot_server[%s]", pxe_arch_name(a));
	cr_expect(eq(str, (char *)c->proxydhcp.menu, "Lab boot"));
	cr_expect(eq(str, (char *)c->proxydhcp.prompt, "Press F8"));
	cr_expect(eq(u32, c->proxydhcp.prompt_timeout, 7));
	cr_expect(eq(str, (char *)c->proxydhcp.pxelinux_config_file, "pxelinux.cfg/default"));
	cr_expect(eq(str, (char *)c->proxydhcp.pxelinux_path_prefix, "/pxe/"));
	cr_assert(eq(sz, c->proxydhcp.n_allow_macs, 2));
	cr_expect(eq(str, (char *)c->proxydhcp.allow_macs[0], "52:54:00:12:34:56"));
	cr_expect(eq(str, (char *)c->proxydhcp.allow_macs[1], "aa:bb:cc:dd:ee:ff"), "normalised");
	cr_assert(eq(sz, c->proxydhcp.n_deny_macs, 1));
	cr_expect(eq(str, (char *)c->proxydhcp.deny_macs[0], "52:54:00:00:00:01"));
	cr_assert(eq(sz, c->proxydhcp.n_allow_subnets, 1));
	cr_expect(eq(str, (char *)c->proxydhcp.allow_subnets[0], "10.0.0.0/8"));
	cr_assert(eq(sz, c->proxydhcp.n_deny_subnets, 2));
	cr_expect(eq(str, (char *)c->proxydhcp.deny_subnets[0], "10.9.0.0/16"));
	cr_expect(eq(str, (char *)c->proxydhcp.deny_subnets[1], "192.168.1.7/32"));
	cr_expect(not(c->proxydhcp.answer_unmatched));

	cr_assert(eq(sz, c->n_profiles, 4));
	p = config_profile(c, "debian");
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_expect(eq(int, p->kind, PROFILE_LINUX));
	cr_expect(eq(str, (char *)p->description, "Debian 12 installer"));
	cr_expect(eq(str, (char *)p->kernel, "debian/vmlinuz"));
	cr_assert(eq(sz, p->n_initrds, 2));
	cr_expect(eq(str, (char *)p->initrds[0], "debian/initrd.gz"));
	cr_expect(eq(str, (char *)p->initrds[1], "debian/fw.cpio"));
	cr_expect(eq(str, (char *)p->cmdline, "console=ttyS0 hostname=${hostname}"));
	cr_expect(eq(ptr, (void *)p->script, NULL));
	p = config_profile(c, "rescue");
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_expect(eq(int, p->kind, PROFILE_SCRIPT));
	cr_expect(eq(str, (char *)p->script, "#!ipxe\nshell\n"), "a block scalar keeps its newlines");
	cr_expect(eq(ptr, (void *)p->kernel, NULL));
	p = config_profile(c, "disk");
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_expect(eq(int, p->kind, PROFILE_LOCAL));
	p = config_profile(c, "single");
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_expect(eq(str, (char *)p->kernel, "http://images.example/k"));
	cr_assert(eq(sz, p->n_initrds, 1), "a single initrd may be written without a list");
	cr_expect(eq(str, (char *)p->initrds[0], "one.img"));
	cr_expect(eq(ptr, (void *)config_profile(c, "nosuch"), NULL));
	/* File order is kept: the menu lists profiles as written. */
	cr_expect(eq(str, (char *)c->profiles[0].name, "debian"));
	cr_expect(eq(str, (char *)c->profiles[3].name, "single"));

	cr_assert(eq(sz, c->n_machines, 3));
	cr_expect(eq(str, (char *)c->machines[0].mac, "52:54:00:ab:cd:ef"), "normalised to colons, lower case");
	cr_expect(eq(u8, c->machines[0].mac_bytes[0], 0x52));
	cr_expect(eq(u8, c->machines[0].mac_bytes[5], 0xef));
	cr_expect(eq(ptr, (void *)c->machines[0].uuid, NULL));
	cr_expect(eq(int, c->machines[0].arch, -1));
	cr_expect(eq(str, (char *)c->machines[0].hostname, "web1"));
	cr_expect(eq(str, (char *)c->machines[0].profile, "debian"));
	cr_expect(eq(ptr, (void *)c->machines[1].mac, NULL));
	cr_expect(eq(str, (char *)c->machines[1].uuid, "4c4c4544-0042-3510-8052-b4c04f4e4b31"), "lower case");
	cr_expect(eq(ptr, (void *)c->machines[1].hostname, NULL));
	cr_expect(eq(str, (char *)c->machines[1].profile, "rescue"));
	cr_expect(eq(int, c->machines[2].arch, PXE_ARCH_EFI_ARM64));
	cr_expect(eq(str, (char *)c->machines[2].profile, "disk"));

	cr_expect(eq(str, (char *)c->default_profile, "none"));
	cr_expect(eq(u32, c->menu_timeout_s, 30));
	cr_expect(eq(str, (char *)c->dataplane.pmd, "af_packet"));
	cr_expect(c->dataplane.no_huge);
	cr_expect(eq(int, c->dataplane.lcore, 2));
	cr_expect(eq(str, (char *)c->dataplane.eal, "--log-level 8"));
	config_free(c);
}

/* What set_defaults() in config.c gives, field by field. */
static void expect_defaults(const struct config *c)
{
	cr_expect(eq(ptr, (void *)c->interface, NULL));
	cr_expect(eq(ptr, (void *)c->address, NULL));
	cr_expect(eq(str, (char *)c->tftp.root, "/usr/lib/ipxe"));
	cr_expect(eq(u32, c->tftp.cache_mb, 512));
	cr_expect(eq(u32, c->tftp.max_sessions, 0)); /* 0: the dataplane's own default (4096, or the port range) */
	cr_expect(eq(u32, c->tftp.max_sessions_per_client, 128));
	cr_expect(eq(u32, c->tftp.max_windowsize, 64));
	cr_expect(eq(u32, c->tftp.retransmit_ms, 1000));
	cr_expect(eq(u32, c->tftp.max_retries, 5));
	cr_expect(eq(ptr, (void *)c->tftp.port_range, NULL));
	cr_expect(eq(str, (char *)c->http.listen, "0.0.0.0"));
	cr_expect(eq(u32, c->http.port, 8080));
	cr_expect(eq(ptr, (void *)c->http.root, NULL));
	cr_expect(eq(ptr, (void *)c->http.base_url, NULL));
	cr_expect(not(c->http.discover_profiles));
	for (int a = 0; a < PXE_ARCH_COUNT; a++) {
		if (a == PXE_ARCH_BIOS)
			cr_expect(eq(str, (char *)c->proxydhcp.boot_files[a], "undionly.kpxe"));
		else if (a == PXE_ARCH_EFI_X64)
			cr_expect(eq(str, (char *)c->proxydhcp.boot_files[a], "ipxe.efi"));
		else
			cr_expect(eq(ptr, (void *)c->proxydhcp.boot_files[a], NULL), "%s", pxe_arch_name(a));
		cr_expect(not(c->proxydhcp.boot_server[a]));
	}
	cr_expect(eq(str, (char *)c->proxydhcp.menu, "Stampede network boot"));
	cr_expect(eq(ptr, (void *)c->proxydhcp.prompt, NULL));
	cr_expect(eq(u32, c->proxydhcp.prompt_timeout, 0));
	cr_expect(eq(ptr, (void *)c->proxydhcp.pxelinux_config_file, NULL));
	cr_expect(eq(ptr, (void *)c->proxydhcp.pxelinux_path_prefix, NULL));
	cr_expect(eq(sz, c->proxydhcp.n_allow_macs + c->proxydhcp.n_deny_macs, 0));
	cr_expect(eq(sz, c->proxydhcp.n_allow_subnets + c->proxydhcp.n_deny_subnets, 0));
	cr_expect(c->proxydhcp.answer_unmatched);
	cr_expect(eq(sz, c->n_profiles, 0));
	cr_expect(eq(sz, c->n_machines, 0));
	cr_expect(eq(str, (char *)c->default_profile, "menu"));
	cr_expect(eq(u32, c->menu_timeout_s, 5));
	cr_expect(eq(ptr, (void *)c->dataplane.pmd, NULL));
	cr_expect(not(c->dataplane.no_huge));
	cr_expect(eq(int, c->dataplane.lcore, -1));
	cr_expect(eq(ptr, (void *)c->dataplane.eal, NULL));
}

Test(config_parse, empty_file_is_the_defaults)
{
	static const char *const texts[] = { "", "\n\n", "# only a comment\n", "{}\n" };

	for (size_t i = 0; i < COUNT(texts); i++) {
		struct config *c = parse_ok(texts[i]);

		cr_expect(eq(str, (char *)c->source, NAME));
		expect_defaults(c);
		config_free(c);
	}
}

Test(config_parse, absent_keys_keep_their_defaults)
{
	struct config *c = parse_ok("interface: eth9\ntftp:\n  cache_mb: 64\nproxydhcp:\n  menu: x\n");

	cr_expect(eq(str, (char *)c->interface, "eth9"));
	cr_expect(eq(u32, c->tftp.cache_mb, 64));
	cr_expect(eq(str, (char *)c->proxydhcp.menu, "x"));
	c->interface = NULL; /* the rest is untouched */
	c->tftp.cache_mb = 512;
	c->proxydhcp.menu = "Stampede network boot";
	expect_defaults(c);
	config_free(c);
}

Test(config_parse, boot_files_replace_the_default_table_whole)
{
	struct config *c = parse_ok("proxydhcp:\n  boot_files:\n    efi-arm64: a.efi\n");

	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		cr_expect(eq(int, c->proxydhcp.boot_files[a] != NULL, a == PXE_ARCH_EFI_ARM64), "%s", pxe_arch_name(a));
	config_free(c);
}

Test(config_parse, numbers_at_their_bounds_are_accepted)
{
	struct config *c = parse_ok("tftp:\n  cache_mb: 1048576\n  max_sessions: 64512\n  max_sessions_per_client: 1\n"
				    "  max_windowsize: 32767\n  retransmit_ms: 10\n  max_retries: 0\n"
				    "  port_range: 1024-65535\n"
				    "http:\n  port: 65535\nmenu_timeout: 3600\ndataplane:\n  lcore: 1023\n"
				    "proxydhcp:\n  prompt: {text: p, timeout: 255}\n");

	cr_expect(eq(u32, c->tftp.cache_mb, 1u << 20));
	cr_expect(eq(u32, c->tftp.max_sessions, 64512));
	cr_expect(eq(u32, c->tftp.max_sessions_per_client, 1));
	cr_expect(eq(u32, c->tftp.max_windowsize, 32767));
	cr_expect(eq(u32, c->tftp.retransmit_ms, 10));
	cr_expect(eq(u32, c->tftp.max_retries, 0));
	cr_expect(eq(u32, c->http.port, 65535));
	cr_expect(eq(u32, c->menu_timeout_s, 3600));
	cr_expect(eq(int, c->dataplane.lcore, 1023));
	cr_expect(eq(u32, c->proxydhcp.prompt_timeout, 255));
	config_free(c);
}

Test(config_parse, booleans_in_every_spelling)
{
	static const struct {
		const char *text;
		bool want;
	} cases[] = { { "true", true }, { "yes", true }, { "on", true }, { "false", false }, { "no", false },
		      { "off", false } };

	for (size_t i = 0; i < COUNT(cases); i++) {
		char text[64];
		struct config *c;

		snprintf(text, sizeof(text), "dataplane:\n  no_huge: %s\n", cases[i].text);
		c = parse_ok(text);
		cr_expect(eq(int, c->dataplane.no_huge, cases[i].want), "%s", cases[i].text);
		config_free(c);
	}
	expect_error("dataplane:\n  no_huge: maybe\n", NAME ":2:12: ", "dataplane.no_huge must be true or false");
}

Test(config_parse, profile_actions)
{
	struct config *c = parse_ok("profiles:\n  a: {action: local}\n  b: {action: shell}\n  c: {action: menu}\n"
				    "default_profile: b\n");

	cr_expect(eq(int, config_profile(c, "a")->kind, PROFILE_LOCAL));
	cr_expect(eq(int, config_profile(c, "b")->kind, PROFILE_SHELL));
	cr_expect(eq(int, config_profile(c, "c")->kind, PROFILE_MENU));
	cr_expect(eq(str, (char *)c->default_profile, "b"));
	config_free(c);
	expect_error("profiles:\n  a: {action: reboot}\n", NAME ":2:15: ", "action must be local, shell or menu");
}

Test(config_parse, reserved_names_may_be_referenced_without_a_profile)
{
	static const char *const names[] = { "menu", "local", "shell", "none" };

	for (size_t i = 0; i < COUNT(names); i++) {
		char text[128];
		struct config *c;

		snprintf(text, sizeof(text), "machines:\n  - arch: bios\n    profile: %s\ndefault_profile: %s\n", names[i],
			 names[i]);
		c = parse_ok(text);
		cr_expect(eq(str, (char *)c->default_profile, (char *)names[i]));
		cr_expect(eq(str, (char *)c->machines[0].profile, (char *)names[i]));
		config_free(c);
	}
}

/* A script is the one value that may span lines; other control characters
 * (a tab included) are refused there too. */
Test(config_parse, newlines_are_allowed_in_a_script_only)
{
	struct config *c = parse_ok("profiles:\n  s:\n    script: \"#!ipxe\\necho hi\\n\"\n");

	cr_expect(eq(str, (char *)config_profile(c, "s")->script, "#!ipxe\necho hi\n"));
	config_free(c);
	expect_error("profiles:\n  s:\n    script: \"#!ipxe\\n\\techo hi\\n\"\n", NAME ":3:13: ",
		     "script contains a control character");
	expect_error("profiles:\n  s:\n    description: \"two\\nlines\"\n    action: local\n", NAME ":3:18: ",
		     "description contains a line break");
}

/* ---- the embedded default and the examples ------------------------------ */

Test(config_load, embedded_default_parses_without_errors)
{
	struct config_errors e;
	struct config *c;

	memset(&e, 0x5a, sizeof(e));
	c = config_load(NULL, &e);
	dump_errors(&e);
	cr_assert(eq(u32, e.n, 0));
	cr_assert(eq(u32, e.dropped, 0));
	cr_assert(not(eq(ptr, (void *)c, NULL)));
	cr_expect(eq(str, (char *)c->source, "(embedded default)"));
	cr_expect(eq(str, (char *)c->tftp.root, "/usr/lib/ipxe"));
	cr_expect(eq(u32, c->http.port, 8080));
	cr_expect(eq(str, (char *)c->http.root, "/usr/lib/ipxe"));
	cr_expect(c->http.discover_profiles);
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_BIOS], "undionly.kpxe"));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_EFI_X64], "ipxe.efi"));
	cr_expect(eq(str, (char *)c->proxydhcp.boot_files[PXE_ARCH_EFI_X64_HTTP], "ipxe.efi"));
	cr_expect(eq(ptr, (void *)c->proxydhcp.boot_files[PXE_ARCH_EFI_ARM64], NULL));
	cr_expect(eq(str, (char *)c->default_profile, "menu"));
	cr_expect(eq(u32, c->menu_timeout_s, 10));
	config_free(c);
}

Test(config_load, default_text_is_what_config_load_null_parses)
{
	const char *text = config_default_text();
	struct config *c;

	cr_assert(not(eq(ptr, (void *)text, NULL)));
	cr_expect(strstr(text, "default_profile: menu\n") != NULL);
	c = parse_ok(text);
	cr_expect(eq(u32, c->menu_timeout_s, 10));
	config_free(c);
}

Test(config_load, example_files_of_configs_parse_without_errors)
{
	static const char *const files[] = { "default.yaml", "lab.yaml", "pxelinux.yaml", "rack.yaml",
					     "uefi-httpboot.yaml" };

	for (size_t i = 0; i < COUNT(files); i++) {
		char path[4096];
		struct config_errors e;
		struct config *c;

		snprintf(path, sizeof(path), "%s/configs/%s", SOURCE_ROOT, files[i]);
		c = config_load(path, &e);
		dump_errors(&e);
		cr_expect(eq(u32, e.n, 0), "%s: %s", path, e.n ? e.msg[0] : "");
		cr_expect(not(eq(ptr, (void *)c, NULL)), "%s", path);
		if (c)
			cr_expect(eq(str, (char *)c->source, path));
		config_free(c);
	}
}

/* A temporary directory per test, removed by .fini even when an assertion
 * ends the test early. */
static char tmp[] = "/tmp/stampede-config-XXXXXX";

static void make_tmp(void)
{
	cr_assert(not(eq(ptr, (void *)mkdtemp(tmp), NULL)));
}

static void remove_tmp(void)
{
	remove_tree(tmp);
}

Test(config_load, a_file_is_read_and_named_in_errors, .init = make_tmp, .fini = remove_tmp)
{
	char path[256];
	struct config_errors e;
	struct config *c;

	snprintf(path, sizeof(path), "%s/s.yaml", tmp);
	write_bytes(path, "interface: eth3\n", 16);
	c = config_load(path, &e);
	cr_expect(eq(u32, e.n, 0));
	cr_assert(not(eq(ptr, (void *)c, NULL)));
	cr_expect(eq(str, (char *)c->interface, "eth3"));
	cr_expect(eq(str, (char *)c->source, path));
	config_free(c);

	write_bytes(path, "interface: eth3\nbogus: 1\n", 25);
	c = config_load(path, &e);
	cr_expect(eq(ptr, (void *)c, NULL));
	cr_assert(eq(u32, e.n, 1));
	{
		char want[300];

		snprintf(want, sizeof(want), "%s:2:1: unknown key \"bogus\"", path);
		cr_expect(starts_with(e.msg[0], want), "%s", e.msg[0]);
	}
}

Test(config_load, a_missing_file_says_why)
{
	struct config_errors e;

	cr_assert(eq(ptr, (void *)config_load("/nonexistent/stampede.yaml", &e), NULL));
	cr_assert(eq(u32, e.n, 1));
	cr_expect(eq(str, e.msg[0], "/nonexistent/stampede.yaml: cannot read: No such file or directory"));
}

Test(config_load, a_file_over_16_mib_is_refused, .init = make_tmp, .fini = remove_tmp)
{
	char path[256];
	size_t len = (16u << 20) + 1;
	char *big = malloc(len);
	struct config_errors e;

	cr_assert(not(eq(ptr, (void *)big, NULL)));
	memset(big, '#', len);
	snprintf(path, sizeof(path), "%s/big.yaml", tmp);
	write_bytes(path, big, len);
	free(big);
	cr_expect(eq(ptr, (void *)config_load(path, &e), NULL));
	cr_expect(eq(u32, e.n, 1));
	cr_expect(strstr(e.msg[0], "larger than 16 MiB") != NULL, "%s", e.msg[0]);
}

/* ---- one test per kind of error ----------------------------------------- */

Test(config_errors, yaml_syntax_error_names_line_and_column)
{
	expect_error("a: b: c\n", NAME ":1:5: ", "YAML syntax: mapping values are not allowed");
	expect_error("tftp:\n\troot: x\n", NAME ":2:1: ", "YAML syntax: found character that cannot start any token");
	expect_error("tftp:\n  root: [a, b\n", NAME ":3:1: ", "YAML syntax: did not find expected ',' or ']'");
}

Test(config_errors, top_level_must_be_a_mapping)
{
	expect_error("- a\n- b\n", NAME ":1:1: ", "the configuration must be a mapping");
	expect_error("just words\n", NAME ":1:1: ", "the configuration must be a mapping");
	expect_error("\n\n  [1]\n", NAME ":3:3: ", "the configuration must be a mapping");
}

Test(config_errors, section_must_be_a_mapping)
{
	expect_error("tftp: /srv/tftp\n", NAME ":1:7: ", "tftp must be a mapping");
	expect_error("tftp:\n", NAME ":1:6: ", "tftp must be a mapping");
	expect_error("proxydhcp:\n  prompt: hello\n", NAME ":2:11: ", "proxydhcp.prompt must be a mapping");
	expect_error("profiles:\n  p: k\n", NAME ":2:6: ", "a profile must be a mapping");
	expect_error("machines:\n  - mac\n", NAME ":2:5: ", "a machine must be a mapping");
	expect_error("profiles: [a]\n", NAME ":1:11: ", "profiles must map profile names to their settings");
	expect_error("machines: {a: b}\n", NAME ":1:11: ", "machines must be a list of selectors");
	expect_error("proxydhcp:\n  boot_files: [ipxe.efi]\n", NAME ":2:15: ",
		     "proxydhcp.boot_files must map architectures to files");
}

Test(config_errors, unknown_key_lists_the_expected_keys)
{
	expect_error("tftp:\n  rot: /srv\n", NAME ":2:3: ",
		     "unknown key \"rot\" in tftp (expected one of: root, cache_mb, port_range, max_sessions, "
		     "max_sessions_per_client, max_windowsize, retransmit_ms, min_retransmit_ms, max_retries, rate_per_source)");
	expect_error("interfaces: eth0\n", NAME ":1:1: ",
		     "unknown key \"interfaces\" in the configuration (expected one of: interface, address, tftp, http, "
		     "proxydhcp, profiles, machines, default_profile, menu_timeout, dataplane, api, timeline, log, boot_api, user)");
	expect_error("http:\n  base_url: http://x\n", NAME ":2:3: ",
		     "(expected one of: listen, port, root, url, discover_profiles)");
	expect_error("profiles:\n  p:\n    kernel: k\n    initrds: [a]\n", NAME ":4:5: ",
		     "unknown key \"initrds\" in a profile (expected one of: description, kernel, initrd, cmdline, "
		     "script, action)");
	expect_error("machines:\n  - ip: 10.0.0.1\n    profile: x\n", NAME ":2:5: ",
		     "unknown key \"ip\" in a machine (expected one of: mac, uuid, arch, hostname, profile)");
	expect_error("dataplane:\n  huge: no\n", NAME ":2:3: ", "(expected one of: pmd, no_huge, lcore, lcores, eal)");
	expect_error("proxydhcp:\n  pxelinux:\n    config: x\n", NAME ":3:5: ",
		     "unknown key \"config\" in proxydhcp.pxelinux (expected one of: config_file, path_prefix)");
	expect_error("Interface: eth0\n", NAME ":1:1: ", "unknown key \"Interface\""); /* case matters */
}

Test(config_errors, key_that_is_not_a_word)
{
	expect_error("? [a, b]\n: c\n", NAME ":1:3: ", "keys of the configuration must be plain words");
}

Test(config_errors, duplicate_key)
{
	expect_error("menu_timeout: 3\nmenu_timeout: 4\n", NAME ":2:1: ",
		     "\"menu_timeout\" appears twice in the configuration");
	expect_error("tftp:\n  root: /a\n  cache_mb: 1\n  root: /b\n", NAME ":4:3: ", "\"root\" appears twice in tftp");
	expect_error("profiles:\n  p:\n    kernel: a\n    kernel: b\n", NAME ":4:5: ", "\"kernel\" appears twice in a profile");
}

/* A duplicate architecture in boot_files is the same mistake as a duplicate
 * key anywhere else: the second silently replacing the first hides it. */
Test(config_errors, duplicate_architecture_in_boot_files)
{
	expect_error("proxydhcp:\n  boot_files:\n    bios: a.kpxe\n    bios: b.kpxe\n", NAME ":4:5: ",
		     "\"bios\" appears twice");
}

Test(config_errors, list_where_a_single_value_is_expected)
{
	expect_error("interface: [eth0, eth1]\n", NAME ":1:12: ", "interface must be a single value, not a list or mapping");
	expect_error("tftp:\n  root: {a: b}\n", NAME ":2:9: ", "tftp.root must be a single value");
	expect_error("default_profile: [a]\n", NAME ":1:18: ", "default_profile must be a single value");
	expect_error("tftp:\n  cache_mb: [1]\n", NAME ":2:13: ", "tftp.cache_mb must be a whole number from 1 to 1048576");
	expect_error("proxydhcp:\n  allow_macs: 52:54:00:12:34:56\n", NAME ":2:15: ",
		     "proxydhcp.allow_macs must be a list");
	expect_error("profiles:\n  p:\n    kernel: k\n    initrd: {a: b}\n", NAME ":4:13: ",
		     "initrd must be a file or a list of files");
	expect_error("proxydhcp:\n  unmatched: [ignore]\n", NAME ":2:14: ",
		     "proxydhcp.unmatched must be \"default\" (boot the default profile) or \"ignore\"");
}

Test(config_errors, number_out_of_range_or_not_a_number)
{
	expect_error("tftp:\n  max_retries: 51\n", NAME ":2:16: ",
		     "tftp.max_retries must be a whole number from 0 to 50, not \"51\"");
	expect_error("http:\n  port: 0\n", NAME ":2:9: ", "http.port must be a whole number from 1 to 65535, not \"0\"");
	expect_error("http:\n  port: 65536\n", NAME ":2:9: ", "http.port must be a whole number from 1 to 65535");
	expect_error("menu_timeout: 3601\n", NAME ":1:15: ", "menu_timeout must be a whole number from 0 to 3600");
	expect_error("tftp:\n  retransmit_ms: 9\n", NAME ":2:18: ", "from 10 to 255000");
	expect_error("tftp:\n  max_windowsize: 32768\n", NAME ":2:19: ", "from 1 to 32767");
	expect_error("dataplane:\n  lcore: 1024\n", NAME ":2:10: ", "dataplane.lcore must be a whole number from 0 to 1023");
	expect_error("proxydhcp:\n  prompt:\n    timeout: 256\n", NAME ":3:14: ",
		     "proxydhcp.prompt.timeout must be a whole number from 0 to 255");

	static const char *const not_numbers[] = { "abc", "-1", "+5", "1.5", "0x10", "5 s", "99999999999999999999999",
						   "\"\"" };

	for (size_t i = 0; i < COUNT(not_numbers); i++) {
		char text[96];

		snprintf(text, sizeof(text), "tftp:\n  cache_mb: %s\n", not_numbers[i]);
		expect_error(text, NAME ":2:13: ", "tftp.cache_mb must be a whole number from 1 to 1048576");
	}
}

Test(config_errors, bad_port_range)
{
	static const char *const bad[] = { "1023-2000", "2000-1999", "1024-65536", "50000", "a-b", "50000-50010x" };

	for (size_t i = 0; i < COUNT(bad); i++) {
		char text[96];

		snprintf(text, sizeof(text), "tftp:\n  port_range: %s\n", bad[i]);
		expect_error(text, NAME ":2:15: ", "tftp.port_range must be LOW-HIGH within 1024-65535");
	}
}

/* tftp.port_range travels to stampede-dataplane as written ("port-range
 * TEXT" in the config message): whatever the configuration accepts, the
 * dataplane's --port-range must accept too, or serve fails after check passed. */
Test(config_errors, port_range_accepted_is_accepted_by_the_dataplane)
{
	static const char *const texts[] = { "1024-65535", "50000-50009", "02000-03000", "2000- 3000",
					     "+2000-3000", "2000-+3000", "000002000-3000" };

	for (size_t i = 0; i < COUNT(texts); i++) {
		char yaml[96], err[256] = "";
		char *argv[] = { (char *)"stampede-dataplane", (char *)"--iface", (char *)"eth0",
				 (char *)"--port-range", NULL, NULL };
		struct config_errors e;
		struct config *c;
		struct dp_options o;

		snprintf(yaml, sizeof(yaml), "tftp:\n  port_range: \"%s\"\n", texts[i]);
		c = parse(yaml, &e);
		if (!c)
			continue; /* refused by check: fine */
		argv[4] = (char *)c->tftp.port_range;
		cr_expect(eq(int, dp_options_parse(5, argv, &o, err, sizeof(err)), 0),
			  "tftp.port_range \"%s\" passes the configuration, the dataplane says: %s", texts[i], err);
		config_free(c);
	}
}

/* stampede-dataplane refuses --max-sessions above the number of ports in
 * --port-range (options.c); a configuration that sets both must be refused
 * by `stampede check` too, not by the dataplane at start-up. */
Test(config_errors, max_sessions_beyond_the_port_range)
{
	struct config_errors e;
	struct config *c = parse("tftp:\n  port_range: 50000-50009\n  max_sessions: 11\n", &e);

	dump_errors(&e);
	cr_expect(eq(ptr, (void *)c, NULL), "11 sessions accepted for 10 ports");
	cr_expect(eq(u32, e.n, 1));
	config_free(c);
}

Test(config_errors, max_sessions_beyond_the_default_port_range)
{
	expect_error("tftp:\n  max_sessions: 4097\n", NAME ":2:17: ",
		     "tftp.max_sessions 4097 exceeds the 4096 ports of tftp.port_range (default 61440-65535)");
	config_free(parse_ok("tftp:\n  max_sessions: 4096\n"));
}

Test(config_parse, adaptive_retransmission_and_lcores)
{
	struct config *c = parse_ok("tftp:\n  retransmit_ms: 2000\n  min_retransmit_ms: 50\ndataplane:\n  lcores: 2\n");

	cr_expect(eq(u32, c->tftp.min_retransmit_ms, 50));
	cr_expect(eq(u32, c->dataplane.lcores, 2));
	config_free(c);
	c = parse_ok("tftp: {}\n");
	cr_expect(eq(u32, c->tftp.min_retransmit_ms, 0), "0: the dataplane's own default");
	cr_expect(eq(u32, c->dataplane.lcores, 0));
	config_free(c);
}

Test(config_parse, rate_limits)
{
	struct config *c = parse_ok("tftp:\n  rate_per_source: 0\nproxydhcp:\n  rate_per_client: 5\n");

	cr_expect(eq(u32, c->tftp.rate_per_source, 0), "0: no limit");
	cr_expect(eq(u32, c->proxydhcp.rate_per_client, 5));
	config_free(c);
	c = parse_ok("tftp: {}\n");
	cr_expect(eq(u32, c->tftp.rate_per_source, CONFIG_RATE_DEFAULT), "unset: the dataplane's default");
	cr_expect(eq(u32, c->proxydhcp.rate_per_client, CONFIG_RATE_DEFAULT));
	config_free(c);
}

Test(config_errors, rate_limits_out_of_range)
{
	expect_error("tftp:\n  rate_per_source: 1000001\n", NAME ":2:20: ", "tftp.rate_per_source");
	expect_error("proxydhcp:\n  rate_per_client: -1\n", NAME ":2:20: ", "proxydhcp.rate_per_client");
	expect_error("proxydhcp:\n  rate_per_client: fast\n", NAME ":2:20: ", "proxydhcp.rate_per_client");
}

Test(config_errors, min_retransmit_above_retransmit_and_lcores_out_of_range)
{
	expect_error("tftp:\n  min_retransmit_ms: 1500\n", NAME ":2:22: ",
		     "tftp.min_retransmit_ms 1500 is above tftp.retransmit_ms 1000");
	expect_error("dataplane:\n  lcores: 17\n", NAME ":2:11: ", "dataplane.lcores");
	expect_error("dataplane:\n  lcores: 2\n  pmd: pcap\n", NAME ":1:1: ",
		     "dataplane.lcores 2: several polling loops need a queue each");
}

Test(config_errors, bad_ipv4_address)
{
	expect_error("address: 10.0.0.256\n", NAME ":1:10: ", "address: \"10.0.0.256\" is not an IPv4 address");
	expect_error("http:\n  listen: localhost\n", NAME ":2:11: ", "http.listen: \"localhost\" is not an IPv4 address");
	expect_error("address: 10.0.0\n", NAME ":1:10: ", "is not an IPv4 address");
	expect_error("address: \"::1\"\n", NAME ":1:10: ", "is not an IPv4 address");
}

/* Valid IPv4 but no server's address: they passed `stampede check`, and serve
 * then failed at start when the dataplane refused the policy (found by
 * tests/fuzz/fuzz_config). http.listen 0.0.0.0 stays the usual "any". */
Test(config_errors, unusable_server_address)
{
	expect_error("address: 0.0.0.0\n", NAME ":1:10: ", "address 0.0.0.0 cannot be the server's");
	expect_error("address: 255.255.255.255\n", NAME ":1:10: ", "address 255.255.255.255 cannot be the server's");
	config_free(parse_ok("http:\n  listen: 0.0.0.0\n"));
}

Test(config_errors, bad_mac_address)
{
	expect_error("machines:\n  - mac: 52:54:00:12:34\n    profile: menu\n", NAME ":2:10: ",
		     "\"52:54:00:12:34\" is not a MAC address (expected 52:54:00:12:34:56)");
	expect_error("proxydhcp:\n  deny_macs:\n    - 52:54:00:12:34:5g\n", NAME ":3:7: ", "is not a MAC address");
	expect_error("proxydhcp:\n  allow_macs: [\"52:54:00:12:34:56 \"]\n", NAME ":2:16: ", "is not a MAC address");
	expect_error("proxydhcp:\n  allow_macs: [[52:54:00:12:34:56]]\n", NAME ":2:16: ", "is not a MAC address");
}

Test(config_errors, bad_uuid)
{
	expect_error("machines:\n  - uuid: 4c4c4544-0042-3510-8052\n    profile: menu\n", NAME ":2:11: ",
		     "is not a UUID (expected 8-4-4-4-12 hexadecimal digits)");
}

Test(config_errors, bad_subnet)
{
	static const struct {
		const char *text;
		const char *shown;
	} bad[] = { { "10.0.0.0/33", "10.0.0.0/33" }, { "10.0.0.0", "10.0.0.0" }, { "10.0.0/8", "10.0.0/8" },
		    { "10.0.0.0/", "10.0.0.0/" },     { "10.0.0.0/-1", "10.0.0.0/-1" }, { "10.0.0.0/8x", "10.0.0.0/8x" },
		    { "\"\"", "" } };

	for (size_t i = 0; i < COUNT(bad); i++) {
		char text[128], phrase[96];

		snprintf(text, sizeof(text), "proxydhcp:\n  allow_subnets:\n    - %s\n", bad[i].text);
		snprintf(phrase, sizeof(phrase), "\"%s\" is not a subnet (expected 10.1.0.0/16)", bad[i].shown);
		expect_error(text, NAME ":3:7: ", phrase);
	}
	expect_error("proxydhcp:\n  deny_subnets: [10.0.0.0/8, 10.0.0.1/33]\n", NAME ":2:30: ", "is not a subnet");
}

Test(config_errors, unknown_architecture)
{
	expect_error("proxydhcp:\n  boot_files:\n    efi-x86: a.efi\n", NAME ":3:5: ",
		     "unknown architecture \"efi-x86\" (expected one of: bios, efi-ia32, efi-x64, efi-arm32, efi-arm64, "
		     "efi-ia32-http, efi-x64-http, efi-arm64-http)");
	expect_error("proxydhcp:\n  boot_files:\n    unknown: a.efi\n", NAME ":3:5: ",
		     "unknown architecture \"unknown\"");
	expect_error("proxydhcp:\n  boot_server: [bios, x86]\n", NAME ":2:23: ", "unknown architecture \"x86\"");
	expect_error("machines:\n  - arch: EFI-X64\n    profile: menu\n", NAME ":2:11: ",
		     "unknown architecture \"EFI-X64\"");
}

Test(config_errors, bad_boot_file_length)
{
	char text[512], name[202];

	memset(name, 'f', 201);
	name[201] = '\0';
	snprintf(text, sizeof(text), "proxydhcp:\n  boot_files:\n    bios: %s\n", name);
	expect_error(text, NAME ":3:11: ", "the boot file for bios must be 1 to 200 characters");
	expect_error("proxydhcp:\n  boot_files:\n    bios: \"\"\n", NAME ":3:11: ",
		     "the boot file for bios must be 1 to 200 characters");
	name[200] = '\0';
	snprintf(text, sizeof(text), "proxydhcp:\n  boot_files:\n    bios: %s\n", name);
	config_free(parse_ok(text));
}

Test(config_errors, other_enumerations)
{
	expect_error("dataplane:\n  pmd: dpdk\n", NAME ":2:8: ", "dataplane.pmd must be af_xdp, af_packet or pcap");
	expect_error("proxydhcp:\n  unmatched: answer\n", NAME ":2:14: ", "proxydhcp.unmatched must be \"default\"");
	{
		struct config *c = parse_ok("proxydhcp:\n  unmatched: default\n");

		cr_expect(c->proxydhcp.answer_unmatched);
		config_free(c);
	}
	expect_error("http:\n  url: ftp://x/\n", NAME ":2:8: ", "http.url must be http:// or https:// and a host");
	expect_error("http:\n  discover_profiles: 1\n", NAME ":2:22: ", "http.discover_profiles must be true or false");
}

/* "http://" alone has no host; stripping its slashes must not leave "http:". */
Test(config_errors, http_url_without_a_host)
{
	expect_error("http:\n  url: http://\n", NAME ":2:8: ", "http.url");
	expect_error("http:\n  url: https:///\n", NAME ":2:8: ", "http.url");
}

/* A file holding two YAML documents (two configurations pasted together, or a
 * stray "---") is a mistake: the second must not be silently ignored. */
Test(config_errors, second_yaml_document_is_not_ignored)
{
	/* Reported where the second document's content starts. */
	expect_error("interface: eth0\n---\ninterface: eth1\n", NAME ":3:1: ", "a second YAML document");
}

/*
 * The errors found after the walk (references between sections) point, like
 * every other error, at the value that is wrong: here the boot file on line 4,
 * column 14. (They must not point at the start of the document.)
 */
Test(config_errors, url_boot_file_for_a_pxe_architecture)
{
	expect_error("interface: eth0\nproxydhcp:\n  boot_files:\n    efi-x64: http://10.0.0.1/ipxe.efi\n",
		     NAME ":4:14: ",
		     "proxydhcp.boot_files.efi-x64: PXE firmware fetch their boot file by TFTP; give a file name, not a URL");
}

Test(config_errors, http_boot_file_without_http_root)
{
	struct config *c;

	expect_error("interface: eth0\nproxydhcp:\n  boot_files:\n    efi-x64-http: ipxe.efi\n", NAME ":4:19: ",
		     "proxydhcp.boot_files.efi-x64-http: an HTTP Boot file is served from http.root, which is not set");
	/* A URL needs no root; a name does once http.root is set. */
	c = parse_ok("proxydhcp:\n  boot_files:\n    efi-arm64-http: http://10.0.0.1/a.efi\n");
	config_free(c);
	c = parse_ok("http:\n  root: /srv\nproxydhcp:\n  boot_files:\n    efi-ia32-http: i.efi\n");
	config_free(c);
}

Test(config_errors, profile_with_script_and_kernel)
{
	expect_error("profiles:\n  p:\n    kernel: k\n    script: s\n", NAME ":3:5: ",
		     "profile \"p\": script excludes kernel, initrd and cmdline");
	expect_error("profiles:\n  p: {script: s, cmdline: c}\n", NAME ":2:6: ", "script excludes kernel, initrd and cmdline");
	expect_error("profiles:\n  p: {script: s, initrd: i}\n", NAME ":2:6: ", "script excludes kernel, initrd and cmdline");
	expect_error("profiles:\n  p: {action: local, kernel: k}\n", NAME ":2:6: ",
		     "profile \"p\": action excludes script and kernel");
	expect_error("profiles:\n  p: {action: shell, script: s}\n", NAME ":2:6: ", "action excludes script and kernel");
}

Test(config_errors, profile_with_nothing)
{
	expect_error("profiles:\n  p: {}\n", NAME ":2:6: ", "profile \"p\" needs a kernel, a script or an action");
	expect_error("profiles:\n  p:\n    description: only words\n", NAME ":3:5: ",
		     "profile \"p\" needs a kernel, a script or an action");
	expect_error("profiles:\n  p: {initrd: i, cmdline: c}\n", NAME ":2:6: ", "needs a kernel, a script or an action");
}

Test(config_errors, too_many_initrds)
{
	expect_error("profiles:\n  p:\n    kernel: k\n    initrd: [a, b, c, d, e, f, g, h, i]\n", NAME ":4:38: ",
		     "at most 8 initrds");
}

Test(config_errors, reserved_or_malformed_profile_name)
{
	static const char *const names[] = { "menu", "local", "shell", "none" };
	char text[256];

	for (size_t i = 0; i < COUNT(names); i++) {
		snprintf(text, sizeof(text), "profiles:\n  %s:\n    kernel: k\n", names[i]);
		expect_error(text, NAME ":2:3: ",
			     "must be 1-64 of [A-Za-z0-9._-] and not menu, local, shell or none");
	}
	expect_error("profiles:\n  a b: {kernel: k}\n", NAME ":2:3: ", "profile name \"a b\" must be 1-64 of");
	expect_error("profiles:\n  \"\": {kernel: k}\n", NAME ":2:3: ", "profile name \"\" must be 1-64 of");
	snprintf(text, sizeof(text), "profiles:\n  %.65s: {kernel: k}\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_error(text, NAME ":2:3: ", "must be 1-64 of");
	snprintf(text, sizeof(text), "profiles:\n  %.64s: {kernel: k}\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	config_free(parse_ok(text));
	config_free(parse_ok("profiles:\n  Deb-12.x_64: {kernel: k}\n"));
}

Test(config_errors, duplicate_profile)
{
	expect_error("profiles:\n  p: {kernel: a}\n  q: {kernel: b}\n  p: {kernel: c}\n", NAME ":4:3: ",
		     "profile \"p\" is defined twice");
}

Test(config_errors, machine_without_selector)
{
	expect_error("machines:\n  - profile: menu\n    hostname: h\n", NAME ":2:5: ",
		     "a machine needs mac, uuid or arch to select it");
}

Test(config_errors, machine_without_profile)
{
	expect_error("machines:\n  - mac: 52:54:00:12:34:56\n", NAME ":2:5: ", "a machine needs a profile");
}

/* The reference is wrong, so the error points at the reference: the value of
 * "profile" on line 4, column 14. */
Test(config_errors, machine_naming_an_unknown_profile)
{
	expect_error("profiles:\n  p: {kernel: k}\nmachines:\n  - mac: 52:54:00:12:34:56\n    profile: q\n",
		     NAME ":5:14: ", "no profile named \"q\"");
}

Test(config_errors, default_profile_naming_an_unknown_profile)
{
	expect_error("profiles:\n  p: {kernel: k}\ndefault_profile: q\n", NAME ":3:18: ",
		     "default_profile: no profile named \"q\" (nor menu, local, shell, none)");
}

Test(config_errors, control_character_in_a_string)
{
	expect_error("interface: \"eth\\x01\"\n", NAME ":1:12: ", "interface contains a control character");
	expect_error("tftp:\n  root: \"/srv\\x1b[31m\"\n", NAME ":2:9: ", "tftp.root contains a control character");
	expect_error("profiles:\n  p:\n    kernel: \"k\\x1f\"\n", NAME ":3:13: ", "kernel contains a control character");
}

/* YAML's "\0" escape puts a NUL inside a value; the C string would end there
 * and "k\0junk" silently become "k". */
Test(config_errors, nul_inside_a_string_is_not_silently_truncated)
{
	expect_error("profiles:\n  p:\n    kernel: \"k\\0junk\"\n", NAME ":3:13: ", "kernel contains a NUL character");
}

/* "---" alone is a document with nothing in it, like an empty file. */
Test(config_parse, document_marker_alone_is_the_defaults)
{
	struct config *c = parse_ok("---\n# everything commented out\n");

	expect_defaults(c);
	config_free(c);
}

/* One-line values end up on one line of the policy or config message, where
 * a newline starts another key: only a script may hold one. */
Test(config_errors, line_break_in_a_one_line_value)
{
	expect_error("proxydhcp:\n  menu: \"Lab\\nunmatched ignore\"\n", NAME ":2:9: ",
		     "proxydhcp.menu contains a line break");
	expect_error("dataplane:\n  eal: \"-l 1\\nno-huge\"\n", NAME ":2:8: ", "dataplane.eal contains a line break");
	expect_error("profiles:\n  p:\n    kernel: k\n    cmdline: |\n      a\n      b\n", NAME ":4:14: ",
		     "cmdline contains a line break");
	expect_error("proxydhcp:\n  boot_files:\n    bios: \"a\\tb\"\n", NAME ":3:11: ", "contains a control character");
	expect_error("proxydhcp:\n  menu: \"a\\x7fb\"\n", NAME ":2:9: ", "proxydhcp.menu contains a control character");
}

/* Menu and prompt texts share option 43 with the boot server entry. */
Test(config_errors, texts_longer_than_a_pxe_reply_holds)
{
	char text[512], long_text[300];

	memset(long_text, 'm', sizeof(long_text));
	snprintf(text, sizeof(text), "proxydhcp:\n  menu: %.101s\n", long_text);
	expect_error(text, NAME ":2:9: ", "proxydhcp.menu is 101 bytes long; at most 100 fit in a PXE reply");
	snprintf(text, sizeof(text), "proxydhcp:\n  prompt:\n    text: %.101s\n", long_text);
	expect_error(text, NAME ":3:11: ", "proxydhcp.prompt.text is 101 bytes long; at most 100");
	snprintf(text, sizeof(text), "proxydhcp:\n  pxelinux:\n    config_file: %.256s\n", long_text);
	expect_error(text, NAME ":3:18: ", "proxydhcp.pxelinux.config_file is 256 bytes long; at most 255");
	snprintf(text, sizeof(text), "proxydhcp:\n  menu: %.100s\n  prompt: {text: %.100s}\n", long_text, long_text);
	config_free(parse_ok(text));
}

Test(config_errors, several_errors_are_all_reported_in_file_order)
{
	struct config_errors e;
	struct config *c = parse("tftp:\n"
				 "  rot: /srv\n"                 /* 2:3 */
				 "  cache_mb: 0\n"               /* 3:13 */
				 "address: 1.2.3\n"              /* 4:10 */
				 "proxydhcp:\n"
				 "  allow_macs: [zz, 52:54:00:12:34:56, yy]\n" /* 6:16, 6:39 */
				 "menu_timeout: x\n",            /* 7:15 */
				 &e);

	dump_errors(&e);
	cr_expect(eq(ptr, (void *)c, NULL));
	cr_assert(eq(u32, e.n, 6));
	cr_expect(eq(u32, e.dropped, 0));
	cr_expect(starts_with(e.msg[0], NAME ":2:3: unknown key \"rot\""), "%s", e.msg[0]);
	cr_expect(starts_with(e.msg[1], NAME ":3:13: tftp.cache_mb"), "%s", e.msg[1]);
	cr_expect(starts_with(e.msg[2], NAME ":4:10: address"), "%s", e.msg[2]);
	cr_expect(starts_with(e.msg[3], NAME ":6:16: \"zz\""), "%s", e.msg[3]);
	cr_expect(starts_with(e.msg[4], NAME ":6:39: \"yy\""), "%s", e.msg[4]);
	cr_expect(starts_with(e.msg[5], NAME ":7:15: menu_timeout"), "%s", e.msg[5]);
}

Test(config_errors, errors_beyond_the_limit_are_counted_as_dropped)
{
	char text[4096] = "proxydhcp:\n  deny_macs:\n";

	for (int i = 0; i < CONFIG_MAX_ERRORS + 8; i++)
		strcat(text, "    - not-a-mac\n");
	{
		struct config_errors e;
		struct config *c = parse(text, &e);

		cr_expect(eq(ptr, (void *)c, NULL));
		cr_expect(eq(u32, e.n, CONFIG_MAX_ERRORS));
		cr_expect(eq(u32, e.dropped, 8));
		cr_expect(starts_with(e.msg[0], NAME ":3:7: "), "%s", e.msg[0]);
		cr_expect(starts_with(e.msg[CONFIG_MAX_ERRORS - 1], NAME ":34:7: "), "%s", e.msg[CONFIG_MAX_ERRORS - 1]);
	}
}

/* The same limit for the errors found after the walk. */
Test(config_errors, unknown_profile_references_beyond_the_limit_are_counted_as_dropped)
{
	char text[8192] = "machines:\n";

	for (int i = 0; i < CONFIG_MAX_ERRORS + 8; i++)
		strcat(text, "  - arch: bios\n    profile: nosuch\n");
	{
		struct config_errors e;
		struct config *c = parse(text, &e);

		cr_expect(eq(ptr, (void *)c, NULL));
		cr_expect(eq(u32, e.n, CONFIG_MAX_ERRORS));
		cr_expect(eq(u32, e.dropped, 8));
	}
}

/* ---- config_match -------------------------------------------------------- */

static const char rules[] =
	"machines:\n"
	"  - arch: efi-x64\n    profile: by-arch\n"                                       /* [0] */
	"  - uuid: 4c4c4544-0042-3510-8052-b4c04f4e4b31\n    profile: by-uuid\n"          /* [1] */
	"  - mac: 52:54:00:00:00:01\n    profile: by-mac\n"                               /* [2] */
	"  - mac: 52:54:00:00:00:02\n    arch: bios\n    profile: mac-and-bios\n"         /* [3] */
	"  - mac: 52:54:00:00:00:02\n    profile: mac-any-arch\n"                         /* [4] */
	"  - uuid: 11111111-2222-3333-4444-555555555555\n    arch: efi-x64\n    profile: uuid-x64\n" /* [5] */
	"  - arch: efi-x64\n    profile: second-by-arch\n"                                /* [6] */
	"  - mac: 52:54:00:00:00:01\n    profile: second-by-mac\n"                        /* [7] */
	"profiles:\n"
	"  by-arch: {action: local}\n  by-uuid: {action: local}\n  by-mac: {action: local}\n"
	"  mac-and-bios: {action: local}\n  mac-any-arch: {action: local}\n  uuid-x64: {action: local}\n"
	"  second-by-arch: {action: local}\n  second-by-mac: {action: local}\n";

static const char *matched(const struct config *c, const char *mac, const char *uuid, int arch)
{
	const struct machine_rule *r = config_match(c, mac, uuid, arch);

	return r ? r->profile : "(none)";
}

Test(config_match, mac_beats_uuid_beats_arch)
{
	struct config *c = parse_ok(rules);
	const char *uuid = "4c4c4544-0042-3510-8052-b4c04f4e4b31";

	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:01", uuid, PXE_ARCH_EFI_X64), "by-mac"));
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:99", uuid, PXE_ARCH_EFI_X64), "by-uuid"));
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:99", NULL, PXE_ARCH_EFI_X64), "by-arch"));
	cr_expect(eq(str, (char *)matched(c, NULL, NULL, PXE_ARCH_EFI_X64), "by-arch"));
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:99", NULL, PXE_ARCH_EFI_ARM64), "(none)"));
	cr_expect(eq(str, (char *)matched(c, NULL, NULL, -1), "(none)"));
	config_free(c);
}

Test(config_match, first_rule_in_file_order_wins_between_equals)
{
	struct config *c = parse_ok(rules);

	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:01", NULL, PXE_ARCH_BIOS), "by-mac"));
	cr_expect(eq(str, (char *)matched(c, NULL, NULL, PXE_ARCH_EFI_X64), "by-arch"));
	config_free(c);
}

Test(config_match, combined_rule_needs_every_field_and_beats_its_parts)
{
	struct config *c = parse_ok(rules);

	/* mac + arch both match: more specific than the mac alone (listed after it). */
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:02", NULL, PXE_ARCH_BIOS), "mac-and-bios"));
	/* same MAC, other arch: the combined rule does not apply. */
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:02", NULL, PXE_ARCH_EFI_X64), "mac-any-arch"));
	/* uuid + arch beats arch alone, but only with both. */
	cr_expect(eq(str, (char *)matched(c, NULL, "11111111-2222-3333-4444-555555555555", PXE_ARCH_EFI_X64),
		     "uuid-x64"));
	cr_expect(eq(str, (char *)matched(c, NULL, "11111111-2222-3333-4444-555555555555", PXE_ARCH_BIOS), "(none)"));
	/* a MAC rule still beats uuid + arch. */
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:01", "11111111-2222-3333-4444-555555555555",
					  PXE_ARCH_EFI_X64),
		     "by-mac"));
	config_free(c);
}

Test(config_match, mac_and_uuid_compare_without_case)
{
	struct config *c = parse_ok(rules);

	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:01", NULL, -1), "by-mac"));
	cr_expect(eq(str, (char *)matched(c, "52:54:00:00:00:02", NULL, -1), "mac-any-arch"));
	cr_expect(eq(str, (char *)matched(c, NULL, "4C4C4544-0042-3510-8052-B4C04F4E4B31", -1), "by-uuid"));
	config_free(c);
	c = parse_ok("machines:\n  - mac: 52:54:00:AB:CD:EF\n    profile: none\n");
	cr_expect(eq(str, (char *)matched(c, "52:54:00:ab:cd:ef", NULL, -1), "none"));
	cr_expect(eq(str, (char *)matched(c, "52:54:00:AB:CD:EF", NULL, -1), "none"));
	config_free(c);
}

Test(config_match, no_machines_matches_nothing)
{
	struct config *c = parse_ok("");

	cr_expect(eq(ptr, (void *)config_match(c, "52:54:00:00:00:01", NULL, PXE_ARCH_BIOS), NULL));
	config_free(c);
}

/* ---- profiles found on disk --------------------------------------------- */

static void make_dir(const char *root, const char *tmp)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, tmp);
	cr_assert(eq(int, mkdir(path, 0755), 0), "%s", path);
}

static void make_file(const char *root, const char *file, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, file);
	write_bytes(path, text, strlen(text));
}

static char tree[] = "/tmp/stampede-discover-XXXXXX";

static void make_tree(void)
{
	cr_assert(not(eq(ptr, (void *)mkdtemp(tree), NULL)));
	make_dir(tree, "zeta");
	make_file(tree, "zeta/vmlinuz", "k");
	make_dir(tree, "alpine");
	make_file(tree, "alpine/vmlinuz", "k");
	make_file(tree, "alpine/initrd.img", "i");
	make_file(tree, "alpine/cmdline", "console=ttyS0 modules=loop\nsecond line ignored\n");
	make_file(tree, "alpine/description", "Alpine 3.19\r\n");
	make_dir(tree, "debian");
	make_file(tree, "debian/vmlinuz", "k");
	make_dir(tree, "empty"); /* no vmlinuz: not a profile */
	make_file(tree, "empty/initrd.img", "i");
	make_dir(tree, ".hidden");
	make_file(tree, ".hidden/vmlinuz", "k");
	make_dir(tree, "has space");
	make_file(tree, "has space/vmlinuz", "k");
	make_dir(tree, "menu"); /* reserved */
	make_file(tree, "menu/vmlinuz", "k");
	make_dir(tree, "mine"); /* the file defines it too */
	make_file(tree, "mine/vmlinuz", "k");
	make_file(tree, "plainfile", "not a directory");
}

static void remove_made_tree(void)
{
	remove_tree(tree);
}

static struct config *config_for_tree(bool discover)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "http:\n  root: %s\n  discover_profiles: %s\nprofiles:\n  mine: {kernel: custom/k, description: ours}\n",
		 tree, discover ? "true" : "false");
	return parse_ok(text);
}

Test(config_discover_profiles, directories_with_a_kernel_become_profiles_sorted, .init = make_tree,
     .fini = remove_made_tree)
{
	struct config *c = config_for_tree(true);
	const struct profile *p;

	cr_assert(eq(u32, config_discover_profiles(c), 3));
	cr_assert(eq(sz, c->n_profiles, 4));
	cr_expect(eq(str, (char *)c->profiles[0].name, "mine"), "the file's profiles first");
	cr_expect(eq(str, (char *)c->profiles[1].name, "alpine"));
	cr_expect(eq(str, (char *)c->profiles[2].name, "debian"));
	cr_expect(eq(str, (char *)c->profiles[3].name, "zeta"));

	p = config_profile(c, "alpine");
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_expect(eq(int, p->kind, PROFILE_LINUX));
	cr_expect(eq(str, (char *)p->kernel, "alpine/vmlinuz"));
	cr_assert(eq(sz, p->n_initrds, 1));
	cr_expect(eq(str, (char *)p->initrds[0], "alpine/initrd.img"));
	cr_expect(eq(str, (char *)p->cmdline, "console=ttyS0 modules=loop"), "first line only");
	cr_expect(eq(str, (char *)p->description, "Alpine 3.19"), "without CR LF");

	p = config_profile(c, "debian");
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_expect(eq(str, (char *)p->kernel, "debian/vmlinuz"));
	cr_expect(eq(sz, p->n_initrds, 0));
	cr_expect(eq(ptr, (void *)p->cmdline, NULL));
	cr_expect(eq(ptr, (void *)p->description, NULL));

	p = config_profile(c, "mine");
	cr_expect(eq(str, (char *)p->kernel, "custom/k"), "the file's profile wins");
	cr_expect(eq(str, (char *)p->description, "ours"));
	cr_expect(eq(ptr, (void *)config_profile(c, "empty"), NULL));
	cr_expect(eq(ptr, (void *)config_profile(c, ".hidden"), NULL));
	cr_expect(eq(ptr, (void *)config_profile(c, "has space"), NULL));
	cr_expect(eq(ptr, (void *)config_profile(c, "menu"), NULL));
	cr_expect(eq(ptr, (void *)config_profile(c, "plainfile"), NULL));

	/* A second pass finds nothing new. */
	cr_expect(eq(u32, config_discover_profiles(c), 0));
	cr_expect(eq(sz, c->n_profiles, 4));
	config_free(c);
}

Test(config_discover_profiles, nothing_when_disabled_or_without_a_root, .init = make_tree, .fini = remove_made_tree)
{
	struct config *c = config_for_tree(false);

	cr_expect(eq(u32, config_discover_profiles(c), 0));
	cr_expect(eq(sz, c->n_profiles, 1));
	config_free(c);

	c = parse_ok("http:\n  discover_profiles: true\n");
	cr_expect(eq(u32, config_discover_profiles(c), 0));
	config_free(c);

	c = parse_ok("http:\n  root: /nonexistent/stampede\n  discover_profiles: true\n");
	cr_expect(eq(u32, config_discover_profiles(c), 0));
	cr_expect(eq(sz, c->n_profiles, 0));
	config_free(c);
}

/* ---- user: the account serve runs as once started ------------------------ */

Test(config_user, a_name_is_kept_with_its_position)
{
	struct config *c = parse_ok("tftp:\n  root: /srv\nuser: stampede\n");

	cr_expect(eq(str, (char *)c->user.name, "stampede"));
	cr_expect(eq(u32, c->user.line, 3));
	cr_expect(eq(u32, c->user.column, 7));
	config_free(c);
	c = parse_ok("tftp:\n  root: /srv\n");
	cr_expect(eq(ptr, (void *)c->user.name, NULL), "no user: serve stays root");
	config_free(c);
	config_free(parse_ok("user: svc_boot-1.a\n"));
	config_free(parse_ok("user: machine$\n"));
}

Test(config_user, names_that_are_not_user_names_are_refused_where_they_are)
{
	static const struct {
		const char *text, *phrase;
	} bad[] = {
		{ "user: \"-rf\"\n", "user \"-rf\" is not a user name" },
		{ "user: \"a b\"\n", "is not a user name" },
		{ "user: \"../root\"\n", "is not a user name" },
		{ "user: \"\"\n", "is not a user name" },
		{ "user: a$b\n", "is not a user name" },
		{ "user: abcdefghijklmnopqrstuvwxyz0123456\n", "at most 32" },
		{ "user: [a]\n", "user" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].text, NAME ":1:7: ", bad[i].phrase);
}

/* A configuration of extra under a TFTP root (tmp) that holds the default boot files. */
static struct config *with_boot_files(const char *extra)
{
	char text[512];

	make_file(tmp, "undionly.kpxe", "x");
	make_file(tmp, "ipxe.efi", "x");
	snprintf(text, sizeof(text), "tftp:\n  root: %s\n%s", tmp, extra);
	return parse_ok(text);
}

Test(config_check_host, unknown_user_is_an_error_at_its_line, .init = make_tmp, .fini = remove_tmp)
{
	struct config_errors errors = { 0 }, warn = { 0 };
	struct config *c = with_boot_files("user: no-such-stampede-user\n");

	cr_expect(eq(u32, config_check_host(c, &errors, &warn), 1));
	cr_assert(eq(u32, errors.n, 1));
	cr_expect(eq(str, errors.msg[0],
		     NAME ":3:7: user \"no-such-stampede-user\": no such user on this host (useradd --system "
			  "no-such-stampede-user)"));
	config_free(c);
	c = with_boot_files("user: root\n");
	memset(&errors, 0, sizeof(errors));
	cr_expect(eq(u32, config_check_host(c, &errors, &warn), 0), "root exists everywhere");
	config_free(c);
}

/* ---- config_check_host --------------------------------------------------- */

Test(config_check_host, missing_tftp_root_is_an_error)
{
	struct config *c = parse_ok("tftp:\n  root: /nonexistent/stampede-tftp\n");
	struct config_errors errors = { 0 }, warn = { 0 };

	cr_expect(eq(u32, config_check_host(c, &errors, &warn), 1));
	cr_assert(eq(u32, errors.n, 1));
	cr_expect(eq(str, errors.msg[0], NAME ": TFTP root /nonexistent/stampede-tftp: No such file or directory (tftp.root, or --tftp-root)"));
	cr_expect(eq(u32, warn.n, 0), "no boot-file warnings without a root to look in");
	config_free(c);
}

Test(config_check_host, missing_http_root_is_an_error, .init = make_tmp, .fini = remove_tmp)
{
	char text[256];
	struct config_errors errors = { 0 }, warn = { 0 };
	struct config *c;

	make_file(tmp, "undionly.kpxe", "x");
	make_file(tmp, "ipxe.efi", "x");
	snprintf(text, sizeof(text), "tftp:\n  root: %s\nhttp:\n  root: %s/nope\n", tmp, tmp);
	c = parse_ok(text);
	cr_expect(eq(u32, config_check_host(c, &errors, &warn), 1));
	cr_assert(eq(u32, errors.n, 1));
	cr_expect(strstr(errors.msg[0], "http.root") != NULL, "%s", errors.msg[0]);
	cr_expect(eq(u32, warn.n, 0));
	config_free(c);
}

Test(config_check_host, missing_boot_file_is_a_warning, .init = make_tmp, .fini = remove_tmp)
{
	char text[512], want[512];
	struct config_errors errors = { 0 }, warn = { 0 };
	struct config *c;

	make_file(tmp, "undionly.kpxe", "x");
	snprintf(text, sizeof(text),
		 "tftp:\n  root: %s\nhttp:\n  root: %s\nproxydhcp:\n  boot_files:\n    bios: undionly.kpxe\n"
		 "    efi-x64: ipxe.efi\n    efi-arm64-http: http://10.0.0.1/a.efi\n",
		 tmp, tmp);
	c = parse_ok(text);
	cr_expect(eq(u32, config_check_host(c, &errors, &warn), 0));
	cr_expect(eq(u32, errors.n, 0));
	cr_assert(eq(u32, warn.n, 1), "only the missing ipxe.efi; URLs are not looked for");
	snprintf(want, sizeof(want),
		 NAME ": boot file for efi-x64, ipxe.efi, is not in the TFTP root %s: those clients will fail to load it",
		 tmp);
	cr_expect(eq(str, warn.msg[0], want));

	make_file(tmp, "ipxe.efi", "x");
	memset(&warn, 0, sizeof(warn));
	cr_expect(eq(u32, config_check_host(c, &errors, &warn), 0));
	cr_expect(eq(u32, warn.n, 0));
	config_free(c);
}

/* The dataplane refuses a script URL longer than one DHCP option: so does check. */
Test(config_errors, http_url_too_long_for_the_script_url)
{
	char text[512], host[201];

	memset(host, 'h', 200);
	host[200] = '\0';
	snprintf(text, sizeof(text), "http:\n  url: http://%s:8080\n", host);
	expect_error(text, NAME ":2:8: ", "http.url is too long");
}
