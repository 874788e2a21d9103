/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iPXE scripts from profiles, compared byte for byte: a Linux profile (URLs
 * relative and absolute, initrd=NAME per initrd, the command line template),
 * an operator's script, local disk per architecture, the shell and the menu;
 * then the profile errors the configuration shows and the escaping of hostile
 * per-machine values.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipxe_script.h"

static const struct boot_vars vars = {
	.mac = "52:54:00:12:34:56",
	.mac_hyphen = "52-54-00-12-34-56",
	.uuid = "8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60",
	.arch = "efi-x64",
	.hostname = "node17",
	.ip = "10.0.0.17",
	.server = "http://10.0.0.1:8080",
	.profile = "debian",
};

static struct profile debian(void)
{
	return (struct profile){
		.name = "debian",
		.description = "Debian 12 installer",
		.kind = PROFILE_LINUX,
		.kernel = "debian/linux",
		.initrds = { "debian/initrd.gz", "https://mirror.example/fw/firmware.cpio.gz" },
		.n_initrds = 2,
		.cmdline = "console=ttyS0 hostname=${hostname} BOOTIF=01-${mac_hyphen}",
	};
}

static void expect_script(const struct profile *p, const struct boot_vars *v, const struct ipxe_menu *menu,
			  const char *want)
{
	char err[512] = "", *out = NULL;

	cr_assert(eq(int, ipxe_script_render(p, v, menu, &out, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(str, out, (char *)want));
	free(out);
}

static void expect_refused(const struct profile *p, const struct ipxe_menu *menu, const char *want)
{
	char err[512] = "", *out = (char *)"untouched";

	if (p->kind != PROFILE_MENU) {
		cr_assert(eq(int, ipxe_profile_check(p, err, sizeof(err)), -EINVAL));
		cr_assert(eq(str, err, (char *)want));
	}
	memset(err, 0, sizeof(err));
	cr_assert(eq(int, ipxe_script_render(p, &vars, menu, &out, err, sizeof(err)), -EINVAL));
	cr_assert(eq(str, err, (char *)want));
	cr_assert(eq(str, out, "untouched"));
}

/* ---- PROFILE_LINUX -------------------------------------------------------------- */

Test(ipxe_linux, kernel_names_every_initrd_then_the_rendered_cmdline)
{
	struct profile p = debian();

	expect_script(&p, &vars, NULL,
		      "#!ipxe\n"
		      "kernel http://10.0.0.1:8080/debian/linux initrd=initrd.gz initrd=firmware.cpio.gz "
		      "console=ttyS0 hostname=node17 BOOTIF=01-52-54-00-12-34-56\n"
		      "initrd http://10.0.0.1:8080/debian/initrd.gz\n"
		      "initrd https://mirror.example/fw/firmware.cpio.gz\n"
		      "boot\n");
}

Test(ipxe_linux, kernel_alone)
{
	struct profile p = { .name = "k", .kind = PROFILE_LINUX, .kernel = "vmlinuz" };

	expect_script(&p, &vars, NULL, "#!ipxe\nkernel http://10.0.0.1:8080/vmlinuz\nboot\n");
	p.cmdline = "  ";
	expect_script(&p, &vars, NULL, "#!ipxe\nkernel http://10.0.0.1:8080/vmlinuz\nboot\n");
}

Test(ipxe_linux, leading_slash_is_relative_to_the_server_and_urls_are_kept)
{
	struct profile p = { .name = "k", .kind = PROFILE_LINUX, .kernel = "//boot/vmlinuz",
			     .initrds = { "tftp://10.0.0.1/initrd.img", "HTTP://Mirror/a/b/root.cpio?v=2#x" },
			     .n_initrds = 2 };

	expect_script(&p, &vars, NULL,
		      "#!ipxe\n"
		      "kernel http://10.0.0.1:8080/boot/vmlinuz initrd=initrd.img initrd=root.cpio\n"
		      "initrd tftp://10.0.0.1/initrd.img\n"
		      "initrd HTTP://Mirror/a/b/root.cpio?v=2#x\n"
		      "boot\n");
}

Test(ipxe_linux, spaces_and_non_ascii_in_paths_are_percent_encoded)
{
	struct profile p = { .name = "k", .kind = PROFILE_LINUX, .kernel = "my images/caf\xc3\xa9/vmlinuz",
			     .initrds = { "my images/initrd" }, .n_initrds = 1 };

	expect_script(&p, &vars, NULL,
		      "#!ipxe\n"
		      "kernel http://10.0.0.1:8080/my%20images/caf%C3%A9/vmlinuz initrd=initrd\n"
		      "initrd http://10.0.0.1:8080/my%20images/initrd\n"
		      "boot\n");
}

Test(ipxe_linux, unknown_server_gives_paths_iPXE_resolves_against_the_script)
{
	struct boot_vars v = vars;
	struct profile p = { .name = "k", .kind = PROFILE_LINUX, .kernel = "vmlinuz" };

	v.server = "";
	expect_script(&p, &v, NULL, "#!ipxe\nkernel /vmlinuz\nboot\n");
	expect_script(&p, NULL, NULL, "#!ipxe\nkernel /vmlinuz\nboot\n");
}

Test(ipxe_linux, hostile_values_stay_inside_their_word)
{
	struct boot_vars v = vars;
	struct profile p = { .name = "k", .kind = PROFILE_LINUX, .kernel = "vmlinuz",
			     .cmdline = "hostname=${hostname} arch=${arch}" };

	v.hostname = "x\nshell";
	v.arch = "a || chain http://evil/";
	v.server = "http://s\n";
	expect_script(&p, &v, NULL,
		      "#!ipxe\n"
		      "kernel http://s%0A/vmlinuz hostname=x%0Ashell arch=a%20%7C%7C%20chain%20http://evil/\n"
		      "boot\n");
}

Test(ipxe_linux, refusals_name_the_profile_and_the_problem)
{
	struct profile p = debian();

	p.kernel = NULL;
	expect_refused(&p, NULL, "profile debian: kernel is empty (a path under the HTTP root or an http(s):// URL)");
	p = debian();
	p.kernel = "vm\nlinuz";
	expect_refused(&p, NULL, "profile debian: kernel: control character 0x0a at column 3");
	p = debian();
	p.initrds[1] = "other/initrd.gz";
	expect_refused(&p, NULL,
		       "profile debian: initrds \"debian/initrd.gz\" and \"other/initrd.gz\" have the same file name "
		       "\"initrd.gz\" (iPXE names images by file name, so the kernel could not tell them apart)");
	p = debian();
	p.initrds[0] = "debian/";
	expect_refused(&p, NULL,
		       "profile debian: initrd \"debian/\": its file name must be non-empty and use only letters, "
		       "digits and -._~+,= (iPXE hands it to the kernel as initrd=NAME)");
	p.initrds[0] = "debian/my initrd";
	expect_refused(&p, NULL,
		       "profile debian: initrd \"debian/my initrd\": its file name must be non-empty and use only "
		       "letters, digits and -._~+,= (iPXE hands it to the kernel as initrd=NAME)");
	p = debian();
	p.n_initrds = PROFILE_MAX_INITRDS + 1;
	expect_refused(&p, NULL, "profile debian: 9 initrds, at most 8");
}

Test(ipxe_linux, cmdline_that_iPXE_would_misread_is_refused)
{
	struct profile p = debian();

	p.cmdline = "quiet\nshell";
	expect_refused(&p, NULL,
		       "profile debian: cmdline: control character 0x0a at column 6 (it must be one line)");
	p.cmdline = "quiet # debug";
	expect_refused(&p, NULL,
		       "profile debian: cmdline: iPXE would read the word \"#\" at column 7 as the start of a comment, "
		       "not as text");
	p.cmdline = "a || b";
	expect_refused(&p, NULL,
		       "profile debian: cmdline: iPXE would read the word \"||\" at column 3 as a command separator, "
		       "not as text");
	p.cmdline = "a ; b";
	expect_refused(&p, NULL,
		       "profile debian: cmdline: iPXE would read the word \";\" at column 3 as a command separator, "
		       "not as text");
	p.cmdline = "root=${rootdev}";
	expect_refused(&p, NULL,
		       "profile debian: cmdline: column 6: unknown variable \"${rootdev}\" (known: mac, mac_hyphen, "
		       "uuid, arch, hostname, ip, server, profile; an iPXE setting is written $${rootdev})");
	/* Inside a word these are plain text to iPXE. */
	p.cmdline = "a#b c||d x;y $${net0/ip}";
	cr_assert(eq(int, ipxe_profile_check(&p, NULL, 0), 0));
}

/* ---- PROFILE_SCRIPT ------------------------------------------------------------- */

Test(ipxe_script, template_rendered_and_magic_added_once)
{
	struct profile p = { .name = "rescue", .kind = PROFILE_SCRIPT,
			     .script = "echo booting ${hostname}\nchain ${server}/rescue.ipxe?p=$${platform}" };

	expect_script(&p, &vars, NULL,
		      "#!ipxe\necho booting node17\nchain http://10.0.0.1:8080/rescue.ipxe?p=${platform}\n");
	p.script = "#!ipxe\nsanboot iscsi:10.0.0.2::::iqn.x:${hostname}\n";
	expect_script(&p, &vars, NULL, "#!ipxe\nsanboot iscsi:10.0.0.2::::iqn.x:node17\n");
	p.script = "";
	expect_script(&p, &vars, NULL, "#!ipxe\n\n");
}

/* iPXE takes a script only when "#!ipxe" (or "#!gpxe") is followed by a white
 * space: a template starting "#!ipxe://" or "#!ipxe-x" was served without the
 * magic line, and iPXE refused it (found by tests/fuzz/fuzz_config). */
Test(ipxe_script, magic_line_counts_only_when_followed_by_a_space)
{
	struct profile p = { .name = "rescue", .kind = PROFILE_SCRIPT, .script = "#!ipxe://x\nshell\n" };

	expect_script(&p, &vars, NULL, "#!ipxe\n#!ipxe://x\nshell\n");
	p.script = "#!ipxe-x\nshell";
	expect_script(&p, &vars, NULL, "#!ipxe\n#!ipxe-x\nshell\n");
	p.script = "#!ipxe";
	expect_script(&p, &vars, NULL, "#!ipxe\n#!ipxe\n");
	p.script = "#!gpxe\nshell\n";
	expect_script(&p, &vars, NULL, "#!gpxe\nshell\n");
	p.script = "#!ipxe\tboot options\r\nshell\n";
	expect_script(&p, &vars, NULL, "#!ipxe\tboot options\r\nshell\n");
}

Test(ipxe_script, bad_template_names_line_and_column)
{
	struct profile p = { .name = "rescue", .kind = PROFILE_SCRIPT, .script = "#!ipxe\necho ${net0/mac}\n" };

	expect_refused(&p, NULL,
		       "profile rescue: script: line 2, column 6: unknown variable \"${net0/mac}\" (known: mac, "
		       "mac_hyphen, uuid, arch, hostname, ip, server, profile; an iPXE setting is written $${net0/mac})");
	p.script = NULL;
	expect_refused(&p, NULL, "profile rescue: no script");
}

/* ---- PROFILE_LOCAL and PROFILE_SHELL ---------------------------------------------- */

Test(ipxe_local, per_architecture)
{
	static const struct {
		const char *arch;
		const char *line;
	} cases[] = {
		{ "bios", "sanboot --no-describe --drive 0x80" },
		{ "pcbios", "sanboot --no-describe --drive 0x80" },
		{ "efi-x64", "exit" },
		{ "efi-ia32", "exit" },
		{ "efi-arm64-http", "exit" },
		{ "efi", "exit" },
		{ "arm64", "exit" },
		{ "riscv64", "exit" },
		{ "x86_64", "iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 || exit" },
		{ "i386", "iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 || exit" },
		{ "", "iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 || exit" },
		{ NULL, "iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 || exit" },
	};
	struct profile p = { .name = "local", .kind = PROFILE_LOCAL };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct boot_vars v = vars;
		char want[128];

		v.arch = cases[i].arch;
		snprintf(want, sizeof(want), "#!ipxe\n%s\n", cases[i].line);
		expect_script(&p, &v, NULL, want);
	}
}

Test(ipxe_shell, shell)
{
	struct profile p = { .name = "shell", .kind = PROFILE_SHELL };

	expect_script(&p, &vars, NULL, "#!ipxe\nshell\n");
}

/* ---- PROFILE_MENU ------------------------------------------------------------------- */

Test(ipxe_menu, lists_profiles_then_local_and_shell_and_chains_the_choice)
{
	struct profile profiles[3] = { debian(),
				       { .name = "rescue", .kind = PROFILE_SCRIPT, .script = "shell" },
				       { .name = "menu", .kind = PROFILE_MENU } };
	struct ipxe_menu menu = { profiles, 3, 5000 };

	expect_script(&profiles[2], &vars, &menu,
		      "#!ipxe\n"
		      ":start\n"
		      "menu Stampede: choose what 52:54:00:12:34:56 boots\n"
		      "item --gap Profiles\n"
		      "item p0 Debian 12 installer\n"
		      "item p1 rescue\n"
		      "item --gap Other\n"
		      "item local Boot from local disk\n"
		      "item shell iPXE shell\n"
		      "choose --default local --timeout 5000 target || goto local\n"
		      "goto ${target}\n"
		      ":p0\n"
		      "chain --replace --autofree http://10.0.0.1:8080/boot.ipxe?profile=debian"
		      "&mac=52:54:00:12:34:56&uuid=8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60&arch=efi-x64 || goto start\n"
		      ":p1\n"
		      "chain --replace --autofree http://10.0.0.1:8080/boot.ipxe?profile=rescue"
		      "&mac=52:54:00:12:34:56&uuid=8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60&arch=efi-x64 || goto start\n"
		      ":local\n"
		      "exit\n"
		      ":shell\n"
		      "shell\n"
		      "goto start\n");
}

Test(ipxe_menu, no_profiles_no_timeout_unknown_machine)
{
	struct profile m = { .name = "menu", .kind = PROFILE_MENU };
	struct boot_vars v = { .arch = "bios" };

	expect_script(&m, &v, NULL,
		      "#!ipxe\n"
		      ":start\n"
		      "menu Stampede\n"
		      "item --gap Other\n"
		      "item local Boot from local disk\n"
		      "item shell iPXE shell\n"
		      "choose --default local target || goto local\n"
		      "goto ${target}\n"
		      ":local\n"
		      "sanboot --no-describe --drive 0x80\n"
		      ":shell\n"
		      "shell\n"
		      "goto start\n");
}

Test(ipxe_menu, chain_query_values_are_percent_encoded)
{
	struct profile profiles[1] = { { .name = "k", .kind = PROFILE_SHELL } };
	struct ipxe_menu menu = { profiles, 1, 0 };
	struct profile m = { .name = "menu", .kind = PROFILE_MENU };
	struct boot_vars v = { .mac = "52:54:00:12:34:56", .arch = "a&b c+d\n", .server = "http://s" };
	char *out = NULL, err[256];

	cr_assert(eq(int, ipxe_script_render(&m, &v, &menu, &out, err, sizeof(err)), 0), "%s", err);
	cr_assert(strstr(out, "\nchain --replace --autofree http://s/boot.ipxe?profile=k&mac=52:54:00:12:34:56"
			      "&arch=a%26b%20c%2Bd%0A || goto start\n") != NULL,
		  "%s", out);
	free(out);
}

Test(ipxe_menu, listed_profile_with_bad_description_is_refused)
{
	struct profile profiles[1] = { debian() };
	struct ipxe_menu menu = { profiles, 1, 0 };
	struct profile m = { .name = "menu", .kind = PROFILE_MENU };

	profiles[0].description = "Debian || Ubuntu";
	expect_refused(&m, &menu,
		       "profile debian: description: iPXE would read the word \"||\" at column 8 as a command "
		       "separator, not as text");
	profiles[0].description = "two\nlines";
	expect_refused(&m, &menu,
		       "profile debian: description: control character 0x0a at column 4 (it must be one line)");
}

Test(ipxe_profile, names_are_plain)
{
	struct profile p = { .name = "my profile", .kind = PROFILE_SHELL };

	expect_refused(&p, NULL, "profile \"my profile\": a profile name is letters, digits, '-', '_' and '.'");
	p.name = "";
	expect_refused(&p, NULL, "profile \"\": a profile name is letters, digits, '-', '_' and '.'");
	p.name = "Ubuntu-22.04_lts";
	cr_assert(eq(int, ipxe_profile_check(&p, NULL, 0), 0));
	p.kind = (enum profile_kind)42;
	expect_refused(&p, NULL, "profile Ubuntu-22.04_lts: unknown kind 42");
}
