/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ${name} templates: every variable by name, $$, a lone '$', the errors the
 * configuration shows (unknown name, unterminated, empty; with line and
 * column), and the escaping rule that keeps a value from adding anything to an
 * iPXE script: newline, space, '#', '$', '|', '&', ';', '%' and non-ASCII.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

static const struct boot_vars vars = {
	.mac = "52:54:00:12:34:56",
	.mac_hyphen = "52-54-00-12-34-56",
	.uuid = "8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60",
	.arch = "efi-x64",
	.hostname = "node17.lab",
	.ip = "10.0.0.17",
	.server = "http://10.0.0.1:8080",
	.profile = "debian",
};

/* Renders tmpl and asserts the exact result. */
static void expect_render(const struct boot_vars *v, const char *tmpl, const char *want)
{
	char err[256] = "", *out = NULL;
	int r = template_render(tmpl, v, &out, err, sizeof(err));

	cr_assert(eq(int, r, 0), "template \"%s\": %s", tmpl, err);
	cr_assert(eq(str, out, (char *)want), "template \"%s\"", tmpl);
	free(out);
}

/* Checks that tmpl is refused with exactly the message want. */
static void expect_error(const char *tmpl, const char *want)
{
	char err[512] = "", *out = (char *)"untouched";

	cr_assert(eq(int, template_check(tmpl, err, sizeof(err)), -EINVAL), "template \"%s\"", tmpl);
	cr_assert(eq(str, err, (char *)want), "template \"%s\"", tmpl);
	memset(err, 0, sizeof(err));
	cr_assert(eq(int, template_render(tmpl, &vars, &out, err, sizeof(err)), -EINVAL));
	cr_assert(eq(str, err, (char *)want), "render reports as check does");
	cr_assert(eq(str, out, "untouched"), "*out is not written on error");
}

Test(template, every_variable_renders_its_field)
{
	expect_render(&vars, "${mac}", "52:54:00:12:34:56");
	expect_render(&vars, "${mac_hyphen}", "52-54-00-12-34-56");
	expect_render(&vars, "${uuid}", "8a6a2f1e-0d3b-4c5e-9f7a-1b2c3d4e5f60");
	expect_render(&vars, "${arch}", "efi-x64");
	expect_render(&vars, "${hostname}", "node17.lab");
	expect_render(&vars, "${ip}", "10.0.0.17");
	expect_render(&vars, "${server}", "http://10.0.0.1:8080");
	expect_render(&vars, "${profile}", "debian");
}

Test(template, text_around_and_between_variables_is_kept)
{
	expect_render(&vars, "console=ttyS0 hostname=${hostname} ip=${ip}::10.0.0.1 BOOTIF=01-${mac_hyphen} quiet",
		      "console=ttyS0 hostname=node17.lab ip=10.0.0.17::10.0.0.1 BOOTIF=01-52-54-00-12-34-56 quiet");
	expect_render(&vars, "${mac}${ip}", "52:54:00:12:34:5610.0.0.17");
	expect_render(&vars, "", "");
	expect_render(&vars, "no variables at all\n", "no variables at all\n");
}

Test(template, double_dollar_is_one_literal_dollar)
{
	expect_render(&vars, "$$", "$");
	expect_render(&vars, "$$$$", "$$");
	/* How an iPXE setting passes through to iPXE. */
	expect_render(&vars, "chain ${server}/x?mac=$${net0/mac}", "chain http://10.0.0.1:8080/x?mac=${net0/mac}");
	expect_render(&vars, "$$${ip}", "$10.0.0.17");
}

Test(template, dollar_not_followed_by_brace_is_literal)
{
	expect_render(&vars, "cost $5", "cost $5");
	expect_render(&vars, "end$", "end$");
	expect_render(&vars, "$x$", "$x$");
	cr_assert(eq(int, template_check("a $ b $", NULL, 0), 0));
}

Test(template, null_fields_and_null_vars_render_empty)
{
	struct boot_vars partial = { .mac = "52:54:00:12:34:56" };

	expect_render(&partial, "[${mac}][${uuid}][${hostname}]", "[52:54:00:12:34:56][][]");
	expect_render(NULL, "[${mac}]", "[]");
}

Test(template, unknown_variable_names_it_and_its_column)
{
	expect_error("root=/dev/sda ${hostnme}",
		     "column 15: unknown variable \"${hostnme}\" (known: mac, mac_hyphen, uuid, arch, hostname, ip, "
		     "server, profile; an iPXE setting is written $${hostnme})");
	/* iPXE's own syntax, unescaped, is the common mistake: the message says how. */
	expect_error("${net0/mac}",
		     "column 1: unknown variable \"${net0/mac}\" (known: mac, mac_hyphen, uuid, arch, hostname, ip, "
		     "server, profile; an iPXE setting is written $${net0/mac})");
	/* Names are exact: no spaces, no case folding. */
	cr_assert(eq(int, template_check("${ mac }", NULL, 0), -EINVAL));
	cr_assert(eq(int, template_check("${MAC}", NULL, 0), -EINVAL));
}

Test(template, multi_line_template_reports_line_and_column)
{
	expect_error("#!ipxe\nkernel ${server}/vmlinuz\ninitrd ${srv}/initrd\nboot\n",
		     "line 3, column 8: unknown variable \"${srv}\" (known: mac, mac_hyphen, uuid, arch, hostname, ip, "
		     "server, profile; an iPXE setting is written $${srv})");
}

Test(template, unterminated_variable)
{
	expect_error("ip=${ip", "column 4: unterminated \"${ip\" (a variable is ${name}; write $$ for a literal '$')");
	/* A variable does not continue on the next line. */
	expect_error("a ${mac\n}", "line 1, column 3: unterminated \"${mac\" (a variable is ${name}; write $$ for a "
				   "literal '$')");
	expect_error("${", "column 1: unterminated \"${\" (a variable is ${name}; write $$ for a literal '$')");
}

Test(template, empty_variable_name)
{
	expect_error("x${}y", "column 2: empty variable name \"${}\"");
}

Test(template, long_unknown_name_is_quoted_with_a_bound)
{
	char tmpl[300], err[512];

	memset(tmpl, 'a', sizeof(tmpl));
	memcpy(tmpl, "${", 2);
	tmpl[sizeof(tmpl) - 2] = '}';
	tmpl[sizeof(tmpl) - 1] = '\0';
	cr_assert(eq(int, template_check(tmpl, err, sizeof(err)), -EINVAL));
	cr_assert(eq(str, err,
		     "column 1: unknown variable \"${aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\" (known: mac, mac_hyphen, "
		     "uuid, arch, hostname, ip, server, profile; an iPXE setting is written "
		     "$${aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa})"));
}

Test(template, error_message_is_truncated_not_overrun)
{
	char err[16];

	memset(err, 'X', sizeof(err));
	cr_assert(eq(int, template_check("${nope}", err, 12), -EINVAL));
	cr_assert(eq(str, err, "column 1: u"), "11 bytes and the NUL");
	cr_assert(eq(chr, err[12], 'X'), "nothing written past err_len");
	cr_assert(eq(int, template_check(NULL, NULL, 0), -EINVAL));
}

/* The injection rule: a hostile value stays inside its word. */
Test(template, value_cannot_add_a_line_word_operator_comment_or_setting)
{
	struct boot_vars evil = vars;

	evil.hostname = "x\nshell";
	expect_render(&evil, "hostname=${hostname}", "hostname=x%0Ashell");
	evil.hostname = "x\r\nboot";
	expect_render(&evil, "${hostname}", "x%0D%0Aboot");
	evil.hostname = "a init=/bin/sh";
	expect_render(&evil, "h=${hostname} quiet", "h=a%20init=/bin/sh quiet");
	evil.hostname = "a\tb";
	expect_render(&evil, "${hostname}", "a%09b");
	evil.arch = "x || shell";
	expect_render(&evil, "${arch}", "x%20%7C%7C%20shell");
	evil.arch = "&&";
	expect_render(&evil, "${arch}", "%26%26");
	evil.arch = ";";
	expect_render(&evil, "${arch}", "%3B");
	evil.uuid = "#comment";
	expect_render(&evil, "x ${uuid}", "x %23comment");
	evil.uuid = "${password}";
	expect_render(&evil, "${uuid}", "%24%7Bpassword%7D");
	evil.mac = "100%";
	expect_render(&evil, "${mac}", "100%25");
	evil.mac = "\"quoted\"'";
	expect_render(&evil, "${mac}", "%22quoted%22%27");
	evil.mac = "caf\xc3\xa9";
	expect_render(&evil, "${mac}", "caf%C3%A9");
	evil.mac = "\x01\x7f";
	expect_render(&evil, "${mac}", "%01%7F");
}

Test(template, well_formed_values_are_never_altered)
{
	struct boot_vars ok = vars;

	ok.server = "http://[fd00::1]:8080";
	ok.hostname = "rack-3_node~7.example.com";
	ok.profile = "a+b,c=d@e";
	expect_render(&ok, "${server} ${hostname} ${profile}",
		      "http://[fd00::1]:8080 rack-3_node~7.example.com a+b,c=d@e");
}

Test(template, write_value_escapes_alone)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f != NULL);
	cr_assert(eq(int, template_write_value(f, "a b"), 0));
	cr_assert(eq(int, template_write_value(f, NULL), 0));
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(str, buf, "a%20b"));
	free(buf);
}

Test(template, write_appends_and_leaves_stream_untouched_on_error)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f != NULL);
	fputs("kernel x ", f);
	cr_assert(eq(int, template_write(f, "${bad} tail", &vars, err, sizeof(err)), -EINVAL));
	cr_assert(eq(int, template_write(f, "ip=${ip}", &vars, err, sizeof(err)), 0));
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(str, buf, "kernel x ip=10.0.0.17"));
	free(buf);
}
