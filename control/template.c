/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ${name} templates (syntax and escaping rule: template.h).
 *
 * One scanner serves both the check and the render: it walks the template,
 * calling back for literal text and for variables, and stops at the first
 * error with its position. Checking is rendering without output, so the two
 * can never disagree about what a template means.
 */
#include "template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The variables: exactly the fields of struct boot_vars, by the same names. */
static const struct variable {
	const char *name;
	size_t offset;
} variables[] = {
	{ "mac", offsetof(struct boot_vars, mac) },
	{ "mac_hyphen", offsetof(struct boot_vars, mac_hyphen) },
	{ "uuid", offsetof(struct boot_vars, uuid) },
	{ "arch", offsetof(struct boot_vars, arch) },
	{ "hostname", offsetof(struct boot_vars, hostname) },
	{ "ip", offsetof(struct boot_vars, ip) },
	{ "server", offsetof(struct boot_vars, server) },
	{ "profile", offsetof(struct boot_vars, profile) },
};

#define N_VARIABLES (sizeof(variables) / sizeof(variables[0]))
/* Longest variable name quoted back in an error message. */
#define NAME_SHOWN 40

/* What the scanner reports; literal text comes as spans of the template. */
struct sink {
	int (*text)(void *ctx, const char *s, size_t len);
	int (*var)(void *ctx, const struct variable *v);
	void *ctx;
};

static const struct variable *find_variable(const char *name, size_t len)
{
	for (size_t i = 0; i < N_VARIABLES; i++)
		if (strlen(variables[i].name) == len && memcmp(variables[i].name, name, len) == 0)
			return &variables[i];
	return NULL;
}

/* "column 7" for a one-line template, "line 3, column 7" otherwise. */
__attribute__((format(printf, 5, 6)))
static int fail_at(const char *tmpl, const char *at, char *err, size_t err_len, const char *fmt, ...)
{
	size_t line = 1, column = 1;
	char what[256];
	va_list ap;

	for (const char *p = tmpl; p < at; p++) {
		if (*p == '\n') {
			line++;
			column = 1;
		} else {
			column++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!err || !err_len)
		return -EINVAL;
	if (line == 1 && !strchr(tmpl, '\n'))
		snprintf(err, err_len, "column %zu: %s", column, what);
	else
		snprintf(err, err_len, "line %zu, column %zu: %s", line, column, what);
	return -EINVAL;
}

static int scan(const char *tmpl, const struct sink *sink, char *err, size_t err_len)
{
	const char *p = tmpl, *lit = tmpl;
	int r;

	while ((p = strchr(p, '$'))) {
		if (p[1] == '$') {
			/* Emit the text up to and including one '$', skip the other. */
			if (sink && (r = sink->text(sink->ctx, lit, (size_t)(p + 1 - lit))) < 0)
				return r;
			p += 2;
			lit = p;
			continue;
		}
		if (p[1] != '{') {
			p++;
			continue;
		}
		const char *name = p + 2;
		size_t len = strcspn(name, "}\n");
		const struct variable *v;

		/* Names are quoted with a bound: a runaway "${" can be long. */
		int shown = len > NAME_SHOWN ? NAME_SHOWN : (int)len;

		if (name[len] != '}')
			return fail_at(tmpl, p, err, err_len,
				       "unterminated \"${%.*s\" (a variable is ${name}; write $$ for a literal '$')",
				       shown, name);
		if (len == 0)
			return fail_at(tmpl, p, err, err_len, "empty variable name \"${}\"");
		if (!(v = find_variable(name, len)))
			return fail_at(tmpl, p, err, err_len,
				       "unknown variable \"${%.*s}\" (known: mac, mac_hyphen, uuid, arch, hostname, "
				       "ip, server, profile; an iPXE setting is written $${%.*s})",
				       shown, name, shown, name);
		if (sink && ((r = sink->text(sink->ctx, lit, (size_t)(p - lit))) < 0 ||
			     (r = sink->var(sink->ctx, v)) < 0))
			return r;
		p = name + len + 1;
		lit = p;
	}
	if (sink && (r = sink->text(sink->ctx, lit, strlen(lit))) < 0)
		return r;
	return 0;
}

int template_check(const char *tmpl, char *err, size_t err_len)
{
	if (!tmpl) {
		if (err && err_len)
			snprintf(err, err_len, "no template");
		return -EINVAL;
	}
	return scan(tmpl, NULL, err, err_len);
}

/* The escaping rule of template.h: the bytes a well-formed value uses. */
static bool safe_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~:/@+,=[]", c));
}

int template_write_value(FILE *f, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
		if (safe_byte(*p)) {
			if (putc(*p, f) == EOF)
				return -EIO;
		} else if (putc('%', f) == EOF || putc(hex[*p >> 4], f) == EOF || putc(hex[*p & 15], f) == EOF) {
			return -EIO;
		}
	}
	return 0;
}

struct writer {
	FILE *f;
	const struct boot_vars *vars;
};

static int write_text(void *ctx, const char *s, size_t len)
{
	struct writer *w = ctx;

	return len && fwrite(s, 1, len, w->f) != len ? -EIO : 0;
}

static int write_var(void *ctx, const struct variable *v)
{
	struct writer *w = ctx;

	if (!w->vars)
		return 0; /* no variables known: every one renders as "" */
	return template_write_value(w->f, *(const char *const *)((const char *)w->vars + v->offset));
}

int template_write(FILE *f, const char *tmpl, const struct boot_vars *vars, char *err, size_t err_len)
{
	struct writer w = { f, vars };
	struct sink sink = { write_text, write_var, &w };
	int r;

	/* Check first, so that a bad template leaves f untouched. */
	if ((r = template_check(tmpl, err, err_len)) < 0)
		return r;
	if ((r = scan(tmpl, &sink, err, err_len)) == -EIO && err && err_len)
		snprintf(err, err_len, "cannot write the rendered template (output stream failed)");
	return r;
}

int template_render(const char *tmpl, const struct boot_vars *vars, char **out, char *err, size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!(f = open_memstream(&buf, &len)))
		goto nomem;
	r = template_write(f, tmpl, vars, err, err_len);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		free(buf);
		if (r == -EIO)
			goto nomem; /* a memory stream fails only for want of memory */
		return r;
	}
	*out = buf;
	return 0;
nomem:
	if (err && err_len)
		snprintf(err, err_len, "out of memory rendering a template");
	return -ENOMEM;
}
