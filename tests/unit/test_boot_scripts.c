/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GET /boot.ipxe: which profile a machine gets (control/boot_scripts.c), with
 * a configuration parsed from YAML as serve would load it.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <stdlib.h>
#include <string.h>

#include "boot_scripts.h"
#include "config.h"

static const char yaml[] =
	"profiles:\n"
	"  compute: {kernel: c/vmlinuz, cmdline: role=compute}\n"
	"  storage: {kernel: s/vmlinuz, cmdline: role=storage secret=s3cr3t}\n"
	"machines:\n"
	"  - {mac: 52:54:00:00:00:01, profile: compute, hostname: node1}\n"
	"  - {mac: 52:54:00:00:00:02, profile: menu}\n"
	"  - {mac: 52:54:00:00:00:03, profile: none}\n"
	"  - {arch: efi-arm64, profile: storage}\n"
	"default_profile: local\n"
	"menu_timeout: 3\n";

static struct config *cfg;
static struct boot_scripts bs;

static void setup(void)
{
	struct config_errors e;

	cfg = config_parse("t.yaml", yaml, strlen(yaml), &e);
	cr_assert(not(eq(ptr, (void *)cfg, NULL)), "%s", e.n ? e.msg[0] : "");
	pthread_rwlock_init(&bs.lock, NULL);
	bs.config = cfg;
	bs.base_url = "http://10.0.0.1:8080";
}

static void teardown(void)
{
	config_free(cfg);
}

TestSuite(boot_scripts, .init = setup, .fini = teardown);

static char *script_for(const char *mac, const char *arch, const char *profile, unsigned *status)
{
	struct http_script_request req = { .method = "GET", .mac = mac, .arch = arch, .profile = profile,
					   .remote_ip = "10.0.0.50" };
	char *body = NULL;

	cr_assert(eq(int, boot_script_http(&bs, &req, &body, status), 0));
	cr_assert(not(eq(ptr, body, NULL)));
	return body;
}

Test(boot_scripts, the_machine_selector_picks_the_profile)
{
	unsigned status;
	char *s = script_for("52:54:00:00:00:01", "pcbios-i386", NULL, &status);

	cr_assert(eq(u32, status, 200));
	cr_assert(strstr(s, "http://10.0.0.1:8080/c/vmlinuz") != NULL, "%s", s);
	cr_assert(strstr(s, "role=compute") != NULL, "%s", s);
	free(s);
	/* Upper-case MAC from iPXE, same machine. */
	s = script_for("52:54:00:00:00:01", "efi-x86_64", NULL, &status);
	cr_assert(strstr(s, "role=compute") != NULL, "%s", s);
	free(s);
}

Test(boot_scripts, architecture_selector_and_ipxe_arch_names)
{
	unsigned status;
	char *s = script_for("52:54:00:99:99:99", "efi-arm64", NULL, &status);

	cr_assert(strstr(s, "role=storage") != NULL, "%s", s);
	free(s);
	cr_assert(eq(int, boot_arch_from_query("pcbios-x86_64"), PXE_ARCH_BIOS));
	cr_assert(eq(int, boot_arch_from_query("efi-x86_64"), PXE_ARCH_EFI_X64));
	cr_assert(eq(int, boot_arch_from_query("efi-x64"), PXE_ARCH_EFI_X64));
	cr_assert(eq(int, boot_arch_from_query("mips"), -1));
	cr_assert(eq(int, boot_arch_from_query(NULL), -1));
}

Test(boot_scripts, unmatched_machines_get_the_default)
{
	unsigned status;
	char *s = script_for("52:54:00:99:99:99", "pcbios-i386", NULL, &status);

	cr_assert(eq(u32, status, 200));
	cr_assert(strstr(s, "sanboot") != NULL, "local disk on BIOS: %s", s);
	free(s);
}

Test(boot_scripts, none_says_so_and_exits)
{
	unsigned status;
	char *s = script_for("52:54:00:00:00:03", "pcbios-i386", NULL, &status);

	cr_assert(strstr(s, "no boot profile") != NULL, "%s", s);
	cr_assert(strstr(s, "exit") != NULL, "%s", s);
	free(s);
}

/* ?profile= is the menu's: only a machine whose profile is the menu may pick,
 * and only a profile the menu lists. */
Test(boot_scripts, only_menu_machines_choose_with_the_query)
{
	unsigned status;
	char *s = script_for("52:54:00:00:00:02", "pcbios-i386", NULL, &status);

	cr_assert(strstr(s, "menu") != NULL, "%s", s);
	free(s);
	s = script_for("52:54:00:00:00:02", "pcbios-i386", "storage", &status);
	cr_assert(strstr(s, "role=storage") != NULL, "the menu machine picks storage: %s", s);
	free(s);
	s = script_for("52:54:00:00:00:02", "pcbios-i386", "nosuch", &status);
	cr_assert(eq(u32, status, 404));
	free(s);
	/* compute-01 asking for storage's command line gets its own. */
	s = script_for("52:54:00:00:00:01", "pcbios-i386", "storage", &status);
	cr_assert(strstr(s, "role=compute") != NULL, "%s", s);
	cr_assert(strstr(s, "s3cr3t") == NULL, "%s", s);
	free(s);
	/* So does a machine nobody configured (default: local disk). */
	s = script_for("52:54:00:99:99:99", "pcbios-i386", "storage", &status);
	cr_assert(strstr(s, "s3cr3t") == NULL, "%s", s);
	free(s);
}
