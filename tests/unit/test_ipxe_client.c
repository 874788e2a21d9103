/* SPDX-License-Identifier: BSD-2-Clause */
/* The swarm's iPXE side (bench/ipxe_client.c): settings in URLs, and scripts read for their files. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <string.h>

#include "ipxe_client.h"

static const struct ipxe_settings s = {
	.mac = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef },
	.uuid = { 0x8a, 0x1f, 0x3c, 0x2e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
	.platform = "efi",
	.buildarch = "x86_64",
};

Test(ipxe_client, expands_the_settings_stampede_puts_in_its_script_url)
{
	char out[IPXE_URL_MAX];

	cr_assert(ipxe_expand("http://10.0.0.1/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${platform}-${buildarch}", &s,
			      out, sizeof(out)));
	cr_expect(eq(str, out,
		     "http://10.0.0.1/boot.ipxe?mac=52:54:00:ab:cd:ef&uuid=8a1f3c2e-0102-0304-0506-0708090a0b0c"
		     "&arch=efi-x86_64"));
}

Test(ipxe_client, unknown_settings_expand_to_nothing_and_stray_dollars_stay)
{
	char out[64];

	cr_assert(ipxe_expand("a${nosuch}b${mac", &s, out, sizeof(out)));
	cr_expect(eq(str, out, "ab${mac"));
	cr_expect(not(ipxe_expand("${mac}${mac}", &s, out, 20)), "does not fit");
	cr_expect(not(ipxe_expand("x", &s, out, 0)));
}

Test(ipxe_client, reads_kernel_and_initrds_of_a_linux_script)
{
	struct ipxe_boot b;
	const char *why = NULL;

	cr_assert(ipxe_read_script("#!ipxe\r\nkernel http://h:8080/lab/vmlinuz initrd=initrd.img console=ttyS0\r\n"
				   "initrd http://h:8080/lab/initrd.img\n  initrd --name x http://h:8080/lab/b.img\nboot\n",
				   "http://h:8080/boot.ipxe?mac=x", &s, &b, &why),
		  "%s", why);
	cr_expect(eq(str, b.kernel, "http://h:8080/lab/vmlinuz"));
	cr_expect(eq(u32, b.n_initrds, 2));
	cr_expect(eq(str, b.initrds[0], "http://h:8080/lab/initrd.img"));
	cr_expect(eq(str, b.initrds[1], "http://h:8080/lab/b.img"), "options are skipped, the --name value too");
}

Test(ipxe_client, relative_urls_resolve_against_the_script)
{
	struct ipxe_boot b;
	const char *why = NULL;

	cr_assert(ipxe_read_script("#!ipxe\nkernel vmlinuz-${buildarch}\ninitrd /abs/initrd\n", "http://h/dir/boot.ipxe",
				   &s, &b, &why),
		  "%s", why);
	cr_expect(eq(str, b.kernel, "http://h/dir/vmlinuz-x86_64"));
	cr_expect(eq(str, b.initrds[0], "http://h/abs/initrd"));
}

Test(ipxe_client, scripts_that_boot_nothing_are_refused_with_a_reason)
{
	struct ipxe_boot b;
	const char *why = NULL;
	char many[2000] = "#!ipxe\nkernel http://h/k\n";

	cr_expect(not(ipxe_read_script("kernel http://h/k\n", "http://h/", &s, &b, &why)));
	cr_expect(eq(str, (char *)why, "not an iPXE script (no #!ipxe line)"));
	cr_expect(not(ipxe_read_script("#!ipxe\nsanboot --no-describe --drive 0x80\n", "http://h/", &s, &b, &why)));
	cr_expect(eq(str, (char *)why, "the script boots no kernel (local disk, shell or menu)"));
	cr_expect(not(ipxe_read_script("#!ipxe\nkernel\n", "http://h/", &s, &b, &why)));
	for (int i = 0; i <= IPXE_MAX_INITRDS; i++)
		strcat(many, "initrd http://h/i\n");
	cr_expect(not(ipxe_read_script(many, "http://h/", &s, &b, &why)));
	cr_expect(eq(str, (char *)why, "too many initrds"));
}

Test(ipxe_client, an_overlong_line_is_refused_not_overrun)
{
	static char script[IPXE_URL_MAX * 3];
	struct ipxe_boot b;
	const char *why = NULL;

	strcpy(script, "#!ipxe\nkernel http://h/");
	memset(script + strlen(script), 'a', IPXE_URL_MAX * 2);
	cr_expect(not(ipxe_read_script(script, "http://h/", &s, &b, &why)));
	cr_expect(eq(str, (char *)why, "script line too long"));
}
