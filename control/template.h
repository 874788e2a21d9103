/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Templates: the operator's strings (kernel command lines, iPXE scripts) with
 * ${name} variables filled in per machine.
 *
 * Syntax
 *   ${name}   the field of struct boot_vars (profile.h) called name: mac,
 *             mac_hyphen, uuid, arch, hostname, ip, server, profile. Any other
 *             name is an error, found by template_check() when the
 *             configuration is loaded, not when a machine boots.
 *   $$        a literal '$'. iPXE has its own ${setting} syntax, so an iPXE
 *             variable in an operator's script is written $${net0/mac}.
 *   $x        a '$' followed by anything else is kept as it is ("$5" stays).
 *
 * Values never inject. The values come in part from the machine's own HTTP
 * request (mac, uuid, arch, hostname), so a value must not be able to add a
 * script line, a word to a kernel command line, an iPXE operator (|| &&), a
 * comment or an iPXE ${setting} expansion. Every value byte outside
 *     A-Z a-z 0-9 - . _ ~ : / @ + , = [ ]
 * is written as %XX (upper-case hex), so "a b\nshell" renders as
 * "a%20b%0Ashell". The safe set covers every well-formed value (MAC, UUID,
 * architecture names, host names, dotted IPv4, base URLs with an IPv6 literal);
 * only malformed or hostile values are altered, and always reversibly ('%'
 * itself becomes %25). The template text itself is the operator's and is
 * copied as written.
 */
#ifndef STAMPEDE_TEMPLATE_H
#define STAMPEDE_TEMPLATE_H

#include <stddef.h>
#include <stdio.h>

#include "profile.h"

/*
 * Checks tmpl's syntax and variable names. Returns 0, or -EINVAL with a message
 * in err naming the problem and where it is ("column 7" in a one-line template,
 * "line 3, column 7" otherwise; columns count bytes from 1).
 */
int template_check(const char *tmpl, char *err, size_t err_len);

/*
 * Renders tmpl with vars into a malloc'd, NUL-terminated string (*out, freed by
 * the caller). NULL fields of vars (or a NULL vars) render as "". Returns 0, -EINVAL (as
 * template_check, *out untouched) or -ENOMEM.
 */
int template_render(const char *tmpl, const struct boot_vars *vars, char **out, char *err, size_t err_len);

/* As template_render, appending to f (open_memstream() users build a whole
 * script this way). On error nothing has been written. -EIO if f fails. */
int template_write(FILE *f, const char *tmpl, const struct boot_vars *vars, char *err, size_t err_len);

/* Writes one value under the escaping rule above. Returns 0 or -EIO. */
int template_write_value(FILE *f, const char *value);

#endif
