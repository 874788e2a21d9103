/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iPXE scripts from profiles (what each kind renders to: ipxe_script.h).
 *
 * A script is written into an open_memstream() buffer line by line. What iPXE
 * would misread is decided once, in ipxe_profile_check(), for the operator's
 * text; per-machine values are escaped as they are written (template.h), so
 * rendering itself cannot fail except for memory.
 *
 * iPXE's reading of a line (src/core/exec.c): words are split at whitespace;
 * a word that starts with '#' begins a comment, a word that is exactly "||",
 * "&&" or ";" ends the command; ${setting} is expanded inside every word.
 */
#include "ipxe_script.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "template.h"

/* How the local disk is booted (iPXE commands, one line each). */
#define LOCAL_BIOS "sanboot --no-describe --drive 0x80"
#define LOCAL_UEFI "exit"
/* Unknown firmware: let iPXE ask itself; ${platform} is "pcbios" or "efi". */
#define LOCAL_ASK  "iseq ${platform} pcbios && " LOCAL_BIOS " || " LOCAL_UEFI

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static const char *first_control(const char *s)
{
	for (; *s; s++)
		if (is_control((unsigned char)*s))
			return s;
	return NULL;
}

/* The first word iPXE would not pass on as text: a comment or an operator. */
static bool misread_word(const char *text, const char **word, size_t *len)
{
	const char *p = text;

	while (*p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n && (p[0] == '#' || (n == 2 && (!strncmp(p, "||", 2) || !strncmp(p, "&&", 2))) ||
			  (n == 1 && p[0] == ';'))) {
			*word = p;
			*len = n;
			return true;
		}
		p += n;
	}
	return false;
}

/* "scheme://": kept as the operator wrote it (http, https, tftp, ...). */
static bool has_scheme(const char *url)
{
	const char *p = url;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0;
}

/*
 * The last path segment of a URL or relative path, without query or fragment:
 * the name iPXE gives the image it fetches (its URI's basename).
 */
static void url_basename(const char *url, const char **name, size_t *len)
{
	const char *path = url, *end;

	if (has_scheme(url)) {
		path = strstr(url, "://") + 3;
		path += strcspn(path, "/?#"); /* past the authority */
	}
	end = path + strcspn(path, "?#");
	*name = end;
	while (*name > path && (*name)[-1] != '/')
		(*name)--;
	*len = (size_t)(end - *name);
}

/* Bytes of an initrd name that reach the kernel's command line unchanged. */
static bool plain_name(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("-._~+,=", c)))
			return false;
	}
	return len > 0;
}

static bool plain_profile_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* Text that iPXE reads as words (menu item text, a command line). */
static int check_words(const struct profile *p, const char *what, const char *text, char *err, size_t err_len)
{
	const char *c = first_control(text), *word;
	size_t len;

	if (c)
		return fail(err, err_len, "profile %s: %s: control character 0x%02x at column %zu (it must be one line)",
			    p->name, what, (unsigned char)*c, (size_t)(c - text) + 1);
	if (misread_word(text, &word, &len))
		return fail(err, err_len,
			    "profile %s: %s: iPXE would read the word \"%.*s\" at column %zu as %s, not as text",
			    p->name, what, (int)(len > 40 ? 40 : len), word, (size_t)(word - text) + 1,
			    word[0] == '#' ? "the start of a comment" : "a command separator");
	return 0;
}

static int check_template(const struct profile *p, const char *what, const char *tmpl, char *err, size_t err_len)
{
	char why[256];

	if (template_check(tmpl, why, sizeof(why)) < 0)
		return fail(err, err_len, "profile %s: %s: %s", p->name, what, why);
	return 0;
}

static int check_url(const struct profile *p, const char *what, const char *url, char *err, size_t err_len)
{
	const char *c;

	if (!url || !*url)
		return fail(err, err_len, "profile %s: %s is empty (a path under the HTTP root or an http(s):// URL)",
			    p->name, what);
	if ((c = first_control(url)))
		return fail(err, err_len, "profile %s: %s: control character 0x%02x at column %zu", p->name, what,
			    (unsigned char)*c, (size_t)(c - url) + 1);
	return 0;
}

static int check_linux(const struct profile *p, char *err, size_t err_len)
{
	int r;

	if ((r = check_url(p, "kernel", p->kernel, err, err_len)) < 0)
		return r;
	if (p->n_initrds > PROFILE_MAX_INITRDS)
		return fail(err, err_len, "profile %s: %zu initrds, at most %d", p->name, p->n_initrds,
			    PROFILE_MAX_INITRDS);
	for (size_t i = 0; i < p->n_initrds; i++) {
		const char *name;
		size_t len;

		if ((r = check_url(p, "initrd", p->initrds[i], err, err_len)) < 0)
			return r;
		url_basename(p->initrds[i], &name, &len);
		if (!plain_name(name, len))
			return fail(err, err_len,
				    "profile %s: initrd \"%s\": its file name must be non-empty and use only letters, "
				    "digits and -._~+,= (iPXE hands it to the kernel as initrd=NAME)",
				    p->name, p->initrds[i]);
		for (size_t j = 0; j < i; j++) {
			const char *other;
			size_t other_len;

			url_basename(p->initrds[j], &other, &other_len);
			if (other_len == len && memcmp(other, name, len) == 0)
				return fail(err, err_len,
					    "profile %s: initrds \"%s\" and \"%s\" have the same file name \"%.*s\" "
					    "(iPXE names images by file name, so the kernel could not tell them apart)",
					    p->name, p->initrds[j], p->initrds[i], (int)len, name);
		}
	}
	if (p->cmdline) {
		if ((r = check_template(p, "cmdline", p->cmdline, err, err_len)) < 0 ||
		    (r = check_words(p, "cmdline", p->cmdline, err, err_len)) < 0)
			return r;
	}
	return 0;
}

int ipxe_profile_check(const struct profile *p, char *err, size_t err_len)
{
	int r;

	if (!p || !p->name)
		return fail(err, err_len, "profile without a name");
	if (!plain_profile_name(p->name))
		return fail(err, err_len, "profile \"%.40s\": a profile name is letters, digits, '-', '_' and '.'",
			    p->name);
	if (p->description && (r = check_words(p, "description", p->description, err, err_len)) < 0)
		return r;
	switch (p->kind) {
	case PROFILE_LINUX:
		return check_linux(p, err, err_len);
	case PROFILE_SCRIPT:
		if (!p->script)
			return fail(err, err_len, "profile %s: no script", p->name);
		return check_template(p, "script", p->script, err, err_len);
	case PROFILE_MENU:
	case PROFILE_LOCAL:
	case PROFILE_SHELL:
		return 0;
	}
	return fail(err, err_len, "profile %s: unknown kind %d", p->name, (int)p->kind);
}

/* ---- writing ---------------------------------------------------------------- */

static void put_hex(FILE *f, unsigned char c)
{
	fprintf(f, "%%%02X", c);
}

/* A URL as the operator wrote it, with what cannot be in a URL percent-encoded. */
static void put_url_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			put_hex(f, *p);
		else
			putc(*p, f);
	}
}

/* A relative path is served by us: SERVER/path. */
static void put_url(FILE *f, const char *url, const struct boot_vars *vars)
{
	if (has_scheme(url)) {
		put_url_text(f, url);
		return;
	}
	template_write_value(f, vars->server);
	putc('/', f);
	put_url_text(f, url + strspn(url, "/"));
}

/* RFC 3986 §2.3 unreserved characters and ':', which a query may hold as is. */
static void put_query_value(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~:", *p))
			putc(*p, f);
		else
			put_hex(f, *p);
	}
}

static void write_linux(FILE *f, const struct profile *p, const struct boot_vars *vars)
{
	fputs("#!ipxe\nkernel ", f);
	put_url(f, p->kernel, vars);
	for (size_t i = 0; i < p->n_initrds; i++) {
		const char *name;
		size_t len;

		url_basename(p->initrds[i], &name, &len);
		fprintf(f, " initrd=%.*s", (int)len, name);
	}
	if (p->cmdline && p->cmdline[strspn(p->cmdline, " \t")]) {
		putc(' ', f);
		template_write(f, p->cmdline, vars, NULL, 0);
	}
	putc('\n', f);
	for (size_t i = 0; i < p->n_initrds; i++) {
		fputs("initrd ", f);
		put_url(f, p->initrds[i], vars);
		putc('\n', f);
	}
	fputs("boot\n", f);
}

/* iPXE recognises a script by "#!ipxe" or "#!gpxe" and a white space at its
 * very start (src/image/script.c, script_probe()); "#!ipxe://..." is not one. */
static bool has_script_magic(const char *s)
{
	return (strncmp(s, "#!ipxe", 6) == 0 || strncmp(s, "#!gpxe", 6) == 0) && isspace((unsigned char)s[6]);
}

static void write_script(FILE *f, const struct profile *p, const struct boot_vars *vars)
{
	size_t len = strlen(p->script);

	if (!has_script_magic(p->script))
		fputs("#!ipxe\n", f);
	template_write(f, p->script, vars, NULL, 0);
	/* A value cannot hold a newline, so the template's last byte is the script's. */
	if (len == 0 || p->script[len - 1] != '\n')
		putc('\n', f);
}

/* BIOS, UEFI, or NULL when vars->arch does not say which (see ipxe_script.h). */
static const char *local_boot(const char *arch)
{
	static const char *const uefi_prefixes[] = { "efi", "arm", "riscv", "loong" };

	if (!arch)
		return NULL;
	if (!strcasecmp(arch, "bios") || !strcasecmp(arch, "pcbios"))
		return LOCAL_BIOS;
	/* No BIOS exists on these: pxe_arch_name()'s "efi-*", iPXE's "efi" platform,
	 * and the ${buildarch} of every architecture but x86. */
	for (size_t i = 0; i < sizeof(uefi_prefixes) / sizeof(uefi_prefixes[0]); i++)
		if (!strncasecmp(arch, uefi_prefixes[i], strlen(uefi_prefixes[i])))
			return LOCAL_UEFI;
	return NULL;
}

static void write_local_line(FILE *f, const struct boot_vars *vars)
{
	const char *how = local_boot(vars->arch);

	fprintf(f, "%s\n", how ? how : LOCAL_ASK);
}

static void write_menu(FILE *f, const struct boot_vars *vars, const struct ipxe_menu *menu)
{
	size_t listed = 0;

	fputs("#!ipxe\n:start\nmenu Stampede", f);
	if (vars->mac && vars->mac[0]) {
		fputs(": choose what ", f);
		template_write_value(f, vars->mac);
		fputs(" boots", f);
	}
	putc('\n', f);
	for (size_t i = 0; menu && i < menu->n_profiles; i++) {
		const struct profile *p = &menu->profiles[i];

		if (p->kind == PROFILE_MENU)
			continue;
		if (listed++ == 0)
			fputs("item --gap Profiles\n", f);
		/* Labels are indexes: names never have to be valid iPXE labels. */
		fprintf(f, "item p%zu %s\n", i, p->description && p->description[0] ? p->description : p->name);
	}
	fputs("item --gap Other\n"
	      "item local Boot from local disk\n"
	      "item shell iPXE shell\n"
	      "choose --default local",
	      f);
	if (menu && menu->timeout_ms)
		fprintf(f, " --timeout %u", menu->timeout_ms);
	/* Esc leaves choose with an error: take the default then, too. */
	fputs(" target || goto local\ngoto ${target}\n", f);
	for (size_t i = 0; menu && i < menu->n_profiles; i++) {
		const struct profile *p = &menu->profiles[i];
		static const char *const keys[] = { "mac", "uuid", "arch" };
		const char *values[] = { vars->mac, vars->uuid, vars->arch };

		if (p->kind == PROFILE_MENU)
			continue;
		fprintf(f, ":p%zu\nchain --replace --autofree ", i);
		template_write_value(f, vars->server);
		fputs("/boot.ipxe?profile=", f);
		put_query_value(f, p->name);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (!values[k] || !values[k][0])
				continue;
			fprintf(f, "&%s=", keys[k]);
			put_query_value(f, values[k]);
		}
		fputs(" || goto start\n", f);
	}
	fputs(":local\n", f);
	write_local_line(f, vars);
	fputs(":shell\nshell\ngoto start\n", f);
}

int ipxe_script_render(const struct profile *p, const struct boot_vars *vars, const struct ipxe_menu *menu,
		       char **out, char *err, size_t err_len)
{
	static const struct boot_vars no_vars = { "", "", "", "", "", "", "", "" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((r = ipxe_profile_check(p, err, err_len)) < 0)
		return r;
	for (size_t i = 0; p->kind == PROFILE_MENU && menu && i < menu->n_profiles; i++)
		if (menu->profiles[i].kind != PROFILE_MENU &&
		    (r = ipxe_profile_check(&menu->profiles[i], err, err_len)) < 0)
			return r;
	if (!vars)
		vars = &no_vars;
	if (!(f = open_memstream(&buf, &len)))
		goto nomem;
	switch (p->kind) {
	case PROFILE_LINUX:
		write_linux(f, p, vars);
		break;
	case PROFILE_SCRIPT:
		write_script(f, p, vars);
		break;
	case PROFILE_MENU:
		write_menu(f, vars, menu);
		break;
	case PROFILE_LOCAL:
		fputs("#!ipxe\n", f);
		write_local_line(f, vars);
		break;
	case PROFILE_SHELL:
		fputs("#!ipxe\nshell\n", f);
		break;
	}
	/* A memory stream fails only for want of memory; ferror() covers every write. */
	if (ferror(f) | (fclose(f) != 0)) {
		free(buf);
		goto nomem;
	}
	*out = buf;
	return 0;
nomem:
	fail(err, err_len, "out of memory rendering the script of profile %s", p->name);
	return -ENOMEM;
}
