/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_compile(): the configuration becomes the dataplane's "policy 1"
 * text. Each test compiles a configuration, then parses the text with the
 * dataplane's own proxy_policy_parse() and checks the structure it built
 * (server address, boot file per architecture with the HTTP Boot ones made
 * URLs, boot-server flags, the pxelinux options as bytes, the answer lists and
 * the machine selectors), so the two ends are proved to agree, not just each
 * against its own idea of the format. One test pins the exact text.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy_compile.h"
#include "proxy_policy.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define BASE "http://10.0.0.1:8080"
#define SCRIPT_URL BASE "/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${platform}-${buildarch}"

static struct config *parse_ok(const char *text)
{
	struct config_errors e;
	struct config *c = config_parse("t.yaml", text, strlen(text), &e);

	cr_assert(eq(u32, e.n, 0), "config: %s", e.n ? e.msg[0] : "");
	cr_assert(not(eq(ptr, (void *)c, NULL)));
	return c;
}

/* The body policy_compile() writes; the caller frees it. */
static char *compile(const struct config *c, const char *server_ip, const char *base_url)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert(not(eq(ptr, (void *)f, NULL)));
	policy_compile(c, server_ip, base_url, f);
	cr_assert(eq(int, fclose(f), 0));
	return text;
}

/* Compile, then parse as the dataplane does. */
static struct proxy_policy *round_trip(const char *yaml, const char *base_url)
{
	struct config *c = parse_ok(yaml);
	char *text = compile(c, "10.0.0.1", base_url), err[512] = "";
	struct proxy_policy *p = proxy_policy_parse(text, strlen(text), err, sizeof(err));

	cr_assert(not(eq(ptr, (void *)p, NULL)), "the dataplane refuses the compiled policy: %s\n%s", err, text);
	free(text);
	config_free(c);
	return p;
}

static bool mac_listed(const struct policy_mac_list *l, const char *text)
{
	uint8_t mac[6];

	cr_assert(eq(int, policy_parse_mac(text, mac), 0), "%s", text);
	return policy_mac_listed(l, mac);
}

static bool uuid_listed(const struct policy_uuid_list *l, const char *text)
{
	uint8_t u[16];

	cr_assert(eq(int, policy_parse_uuid(text, u), 0), "%s", text);
	return policy_uuid_listed(l, u);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert(eq(int, inet_pton(AF_INET, s, &a), 1), "%s", s);
	return a.s_addr;
}

Test(policy_compile, exact_text_of_a_small_configuration)
{
	struct config *c = parse_ok("proxydhcp:\n"
				    "  boot_files:\n    bios: undionly.kpxe\n    efi-x64: ipxe.efi\n"
				    "    efi-x64-http: /ipxe.efi\n"
				    "  boot_server: [efi-x64]\n"
				    "  prompt: {text: Press F8, timeout: 3}\n"
				    "  deny_macs: [52:54:00:00:00:09]\n"
				    "http:\n  root: /srv\n");
	char *text = compile(c, "10.0.0.1", BASE);

	cr_expect(eq(str, text,
		     "server-ip 10.0.0.1\n"
		     "script-url " SCRIPT_URL "\n"
		     "boot-file bios undionly.kpxe\n"
		     "boot-file efi-x64 ipxe.efi\n"
		     "boot-server efi-x64\n"
		     "boot-file efi-x64-http " BASE "/ipxe.efi\n"
		     "menu Stampede network boot\n"
		     "prompt 3 Press F8\n"
		     "deny-mac 52:54:00:00:00:09\n"));
	free(text);
	config_free(c);
}

Test(policy_compile, every_setting_survives_the_round_trip)
{
	static const char yaml[] =
		"http:\n  root: /srv/http\n"
		"proxydhcp:\n"
		"  boot_files:\n"
		"    bios: undionly.kpxe\n"
		"    efi-x64: ipxe.efi\n"
		"    efi-arm64: arm64/ipxe.efi\n"
		"    efi-x64-http: ipxe.efi\n"
		"    efi-arm64-http: https://mirror.example/a64.efi\n"
		"    efi-ia32-http: /i386/ipxe.efi\n"
		"  boot_server: [efi-x64, efi-arm64]\n"
		"  menu: Lab boot\n"
		"  prompt: {text: Press F8 to boot, timeout: 7}\n"
		"  pxelinux: {config_file: pxelinux.cfg/default, path_prefix: /pxe/}\n"
		"  allow_macs: [52:54:00:12:34:56, AA-BB-CC-DD-EE-FF]\n"
		"  deny_macs: [52:54:00:00:00:01]\n"
		"  allow_subnets: [10.0.0.0/8]\n"
		"  deny_subnets: [10.9.0.0/16]\n";
	struct proxy_policy *p = round_trip(yaml, BASE);
	static const uint8_t extra[] = { 209, 20, 'p', 'x', 'e', 'l', 'i', 'n', 'u', 'x', '.', 'c', 'f', 'g', '/',
					 'd', 'e', 'f', 'a', 'u', 'l', 't', 210, 5, '/', 'p', 'x', 'e', '/' };

	cr_expect(eq(u32, p->server_ip, ip("10.0.0.1")));
	cr_expect(eq(str, p->script_url, SCRIPT_URL));
	cr_expect(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "undionly.kpxe"));
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_X64].boot_file, "ipxe.efi"));
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_ARM64].boot_file, "arm64/ipxe.efi"));
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_X64_HTTP].boot_file, BASE "/ipxe.efi"),
		  "HTTP Boot gets base_url + \"/\" + the file");
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_IA32_HTTP].boot_file, BASE "/i386/ipxe.efi"), "one slash, not two");
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_ARM64_HTTP].boot_file, "https://mirror.example/a64.efi"),
		  "a URL is kept as written");
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_IA32].boot_file, ""));
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_ARM32].boot_file, ""));
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		cr_expect(eq(int, p->arch[a].via_boot_server, a == PXE_ARCH_EFI_X64 || a == PXE_ARCH_EFI_ARM64), "%s",
			  pxe_arch_name(a));
	cr_expect(eq(str, p->menu_text, "Lab boot"));
	cr_expect(eq(str, p->prompt, "Press F8 to boot"));
	cr_expect(eq(u8, p->prompt_timeout, 7));
	cr_assert(eq(sz, p->extra_len, sizeof(extra)));
	cr_expect(eq(int, memcmp(p->extra, extra, sizeof(extra)), 0), "options 209 and 210 as (code, length, text)");

	cr_expect(eq(sz, p->allow_macs.n, 2));
	cr_expect(mac_listed(&p->allow_macs, "52:54:00:12:34:56"));
	cr_expect(mac_listed(&p->allow_macs, "aa:bb:cc:dd:ee:ff"));
	cr_expect(eq(sz, p->deny_macs.n, 1));
	cr_expect(mac_listed(&p->deny_macs, "52:54:00:00:00:01"));
	cr_expect(eq(sz, p->allow_subnets.n, 1));
	cr_expect(policy_subnet_listed(&p->allow_subnets, ip("10.200.1.1")));
	cr_expect(not(policy_subnet_listed(&p->allow_subnets, ip("192.168.0.1"))));
	cr_expect(eq(sz, p->deny_subnets.n, 1));
	cr_expect(policy_subnet_listed(&p->deny_subnets, ip("10.9.255.1")));
	cr_expect(not(policy_subnet_listed(&p->deny_subnets, ip("10.10.0.1"))));

	cr_expect(p->answer_unmatched, "unmatched: default answers everyone");
	cr_expect(eq(sz, p->select_macs.n + p->select_uuids.n, 0));
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		cr_expect(not(p->select_arch[a]));
	proxy_policy_free(p);
}

Test(policy_compile, boot_server_without_a_boot_file_is_not_sent)
{
	struct config *c = parse_ok("proxydhcp:\n  boot_files: {bios: undionly.kpxe}\n  boot_server: [efi-x64]\n");
	char *text = compile(c, "10.0.0.1", BASE);

	cr_expect(eq(ptr, strstr(text, "boot-server"), NULL), "%s", text);
	cr_expect(eq(ptr, strstr(text, "efi-x64"), NULL), "%s", text);
	free(text);
	config_free(c);
}

Test(policy_compile, unmatched_ignore_sends_the_machine_selectors)
{
	static const char yaml[] = "proxydhcp:\n  unmatched: ignore\n"
				   "profiles:\n  p: {action: local}\n"
				   "machines:\n"
				   "  - mac: 52-54-00-AB-CD-EF\n    profile: p\n"
				   "  - uuid: 4C4C4544-0042-3510-8052-B4C04F4E4B31\n    profile: p\n"
				   "  - arch: efi-arm64\n    profile: menu\n"
				   "  - mac: 52:54:00:00:00:07\n    arch: bios\n    profile: p\n"
				   "  - mac: 52:54:00:00:00:08\n    profile: none\n"
				   "  - arch: efi-ia32\n    profile: none\n";
	struct proxy_policy *p = round_trip(yaml, BASE);

	cr_expect(not(p->answer_unmatched));
	cr_expect(eq(sz, p->select_macs.n, 2));
	cr_expect(mac_listed(&p->select_macs, "52:54:00:ab:cd:ef"));
	cr_expect(mac_listed(&p->select_macs, "52:54:00:00:00:07"), "a combined rule is selected by its MAC");
	cr_expect(not(mac_listed(&p->select_macs, "52:54:00:00:00:08")), "profile none is not selected");
	cr_expect(eq(sz, p->select_uuids.n, 1));
	cr_expect(uuid_listed(&p->select_uuids, "4c4c4544-0042-3510-8052-b4c04f4e4b31"));
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		cr_expect(eq(int, p->select_arch[a], a == PXE_ARCH_EFI_ARM64), "%s", pxe_arch_name(a));
	proxy_policy_free(p);
}

Test(policy_compile, default_profile_none_ignores_unmatched_machines)
{
	struct proxy_policy *p = round_trip("default_profile: none\n"
					    "machines:\n  - mac: 52:54:00:00:00:01\n    profile: shell\n",
					    BASE);

	cr_expect(not(p->answer_unmatched), "nobody else is ours");
	cr_expect(eq(sz, p->select_macs.n, 1));
	cr_expect(mac_listed(&p->select_macs, "52:54:00:00:00:01"));
	proxy_policy_free(p);
}

Test(policy_compile, unmatched_default_sends_no_selectors)
{
	struct config *c = parse_ok("machines:\n  - mac: 52:54:00:00:00:01\n    profile: shell\n");
	char *text = compile(c, "10.0.0.1", BASE);

	cr_expect(eq(ptr, strstr(text, "unmatched"), NULL), "%s", text);
	cr_expect(eq(ptr, strstr(text, "select-"), NULL), "%s", text);
	free(text);
	config_free(c);
}

Test(policy_compile, embedded_default_compiles_to_a_valid_policy)
{
	struct config_errors e;
	struct config *c = config_load(NULL, &e);
	char *text, err[512] = "";
	struct proxy_policy *p;

	cr_assert(not(eq(ptr, (void *)c, NULL)));
	text = compile(c, "192.168.1.5", "http://192.168.1.5:8080");
	p = proxy_policy_parse(text, strlen(text), err, sizeof(err));
	cr_assert(not(eq(ptr, (void *)p, NULL)), "%s\n%s", err, text);
	cr_expect(eq(u32, p->server_ip, ip("192.168.1.5")));
	cr_expect(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "undionly.kpxe"));
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_X64].boot_file, "ipxe.efi"));
	cr_expect(eq(str, p->arch[PXE_ARCH_EFI_X64_HTTP].boot_file, "http://192.168.1.5:8080/ipxe.efi"));
	cr_expect(eq(str, p->menu_text, "Stampede network boot"));
	cr_expect(p->answer_unmatched);
	proxy_policy_free(p);
	free(text);
	config_free(c);
}

Test(policy_compile, example_configurations_compile_to_valid_policies)
{
	static const char *const files[] = { "default.yaml", "lab.yaml", "pxelinux.yaml", "rack.yaml",
					     "uefi-httpboot.yaml" };

	for (size_t i = 0; i < COUNT(files); i++) {
		char path[4096], err[512] = "", *text;
		struct config_errors e;
		struct config *c;
		struct proxy_policy *p;

		snprintf(path, sizeof(path), "%s/configs/%s", SOURCE_ROOT, files[i]);
		c = config_load(path, &e);
		cr_expect(not(eq(ptr, (void *)c, NULL)), "%s: %s", path, e.n ? e.msg[0] : "");
		if (!c)
			continue;
		text = compile(c, "10.0.0.1", BASE);
		p = proxy_policy_parse(text, strlen(text), err, sizeof(err));
		cr_expect(not(eq(ptr, (void *)p, NULL)), "%s: %s\n%s", files[i], err, text);
		proxy_policy_free(p);
		free(text);
		config_free(c);
	}
}

/* The longest texts the configuration accepts still fit the dataplane's
 * limits: menu and prompt (100), pxelinux options (255 each), boot files (200). */
Test(policy_compile, longest_accepted_texts_are_accepted_by_the_dataplane)
{
	char yaml[2048], t100[101], t200[201], t255[256];
	struct proxy_policy *p;

	memset(t100, 'm', 100), t100[100] = '\0';
	memset(t200, 'f', 200), t200[200] = '\0';
	memset(t255, 'o', 255), t255[255] = '\0';
	snprintf(yaml, sizeof(yaml),
		 "proxydhcp:\n  menu: %s\n  prompt: {text: %s, timeout: 255}\n"
		 "  pxelinux: {config_file: %s, path_prefix: %s}\n"
		 "  boot_files: {bios: %s}\n",
		 t100, t100, t255, t255, t200);
	p = round_trip(yaml, BASE);
	cr_expect(eq(str, p->menu_text, t100));
	cr_expect(eq(str, p->prompt, t100));
	cr_expect(eq(u8, p->prompt_timeout, 255));
	cr_expect(eq(sz, p->extra_len, 2 * (2 + 255)));
	cr_expect(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, t200));
	proxy_policy_free(p);
}

/* A file name of 200 characters is accepted; under a long http.url it must
 * still become a boot file the dataplane takes (at most 255 bytes), or the
 * configuration must be refused: never a policy the dataplane rejects whole. */
Test(policy_compile, http_boot_file_under_a_long_url_still_fits)
{
	char yaml[1024], file[201], url[80];
	struct config_errors e;
	struct config *c;

	memset(file, 'f', 200), file[200] = '\0';
	snprintf(url, sizeof(url), "http://%s.example:8080", "a-rather-long-host-name-for-the-boot-server");
	snprintf(yaml, sizeof(yaml), "http:\n  root: /srv\n  url: %s\nproxydhcp:\n  boot_files: {efi-x64-http: %s}\n",
		 url, file);
	c = config_parse("t.yaml", yaml, strlen(yaml), &e);
	if (c) {
		char *text = compile(c, "10.0.0.1", c->http.base_url), err[512] = "";
		struct proxy_policy *p = proxy_policy_parse(text, strlen(text), err, sizeof(err));

		cr_expect(not(eq(ptr, (void *)p, NULL)), "config accepted, dataplane refuses: %s", err);
		proxy_policy_free(p);
		free(text);
		config_free(c);
	}
}

/* A pxelinux option with empty text: the dataplane refuses "option 209 " (1
 * to 255 bytes), so the configuration must refuse it or leave it out. */
Test(policy_compile, empty_pxelinux_option_still_compiles_to_a_valid_policy)
{
	static const char yaml[] = "proxydhcp:\n  pxelinux: {config_file: \"\"}\n";
	struct config_errors e;
	struct config *c = config_parse("t.yaml", yaml, strlen(yaml), &e);

	if (c) {
		char *text = compile(c, "10.0.0.1", BASE), err[512] = "";
		struct proxy_policy *p = proxy_policy_parse(text, strlen(text), err, sizeof(err));

		cr_expect(not(eq(ptr, (void *)p, NULL)), "config accepted, dataplane refuses: %s", err);
		proxy_policy_free(p);
		free(text);
		config_free(c);
	}
}

Test(policy_compile, boot_file_with_spaces_keeps_them)
{
	struct proxy_policy *p = round_trip("proxydhcp:\n  boot_files: {bios: \"my boot/file 1.kpxe\"}\n", BASE);

	cr_expect(eq(str, p->arch[PXE_ARCH_BIOS].boot_file, "my boot/file 1.kpxe"));
	proxy_policy_free(p);
}
