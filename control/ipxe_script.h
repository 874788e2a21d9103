/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The iPXE script a machine fetches from /boot.ipxe, rendered from its profile.
 *
 *   PROFILE_LINUX   #!ipxe
 *                   kernel URL initrd=NAME... CMDLINE
 *                   initrd URL              (one line per initrd)
 *                   boot
 *                   A relative kernel/initrd path becomes vars->server + "/" +
 *                   path (a leading '/' is dropped); "scheme://..." is kept.
 *                   initrd=NAME names each initrd by the basename of its URL,
 *                   which is the name iPXE gives the image: iPXE's EFI loader
 *                   (2019 and later) hands the kernel only the initrds its
 *                   command line names, so this line is what makes them load.
 *   PROFILE_SCRIPT  the operator's template, rendered; "#!ipxe" added if absent.
 *   PROFILE_LOCAL   BIOS: sanboot --no-describe --drive 0x80 (the first disk);
 *                   UEFI: exit (back to the firmware's next boot option);
 *                   architecture unknown (e.g. iPXE's ${buildarch} "x86_64",
 *                   which does not tell BIOS from UEFI): iPXE decides at run
 *                   time from its ${platform} setting.
 *   PROFILE_SHELL   shell
 *   PROFILE_MENU    an iPXE menu: every listed profile, then "Boot from local
 *                   disk" (the default when the timeout expires or on Esc)
 *                   and "iPXE shell". Choosing a profile *chains*
 *                   SERVER/boot.ipxe?profile=NAME&mac=..&uuid=..&arch=.. rather
 *                   than inlining its script: an operator's script keeps its
 *                   own labels, gotos and exits, the HTTP server logs which
 *                   profile was picked, and the menu stays small. Whether a
 *                   machine may pick a profile with ?profile= is the script
 *                   callback's policy, not this file's. A failed chain returns
 *                   to the menu.
 *
 * Strings that end up in the script are made safe on the way: per-machine
 * values follow template.h's escaping rule; URLs are percent-encoded where they
 * hold spaces, control or non-ASCII bytes; query values are percent-encoded
 * except for unreserved characters and ':'. Operator text that iPXE would
 * misread (a word starting with '#', a lone ||, && or ;, a control character)
 * is refused by ipxe_profile_check(), which the configuration should call when
 * it loads, so that an error names the profile before any machine boots.
 */
#ifndef STAMPEDE_IPXE_SCRIPT_H
#define STAMPEDE_IPXE_SCRIPT_H

#include <stddef.h>

#include "profile.h"

/* What PROFILE_MENU lists. */
struct ipxe_menu {
	const struct profile *profiles; /* in menu order; PROFILE_MENU entries are skipped */
	size_t n_profiles;
	/* Milliseconds before "Boot from local disk" is taken; 0 waits for a choice. */
	unsigned timeout_ms;
};

/*
 * Checks that profile p can be rendered for any machine: its kind's fields are
 * present, templates parse, initrd names are plain and distinct, no operator
 * text would be misread by iPXE. Returns 0 or -EINVAL with a message in err
 * that starts with "profile NAME: ".
 */
int ipxe_profile_check(const struct profile *p, char *err, size_t err_len);

/*
 * Renders p's script for the machine described by vars into *out (malloc'd,
 * NUL-terminated, ends with a newline; freed by the caller). menu is read only
 * for PROFILE_MENU and may be NULL otherwise (NULL there: no profiles listed,
 * no timeout). Returns 0, -EINVAL (as ipxe_profile_check, also for a listed
 * profile) or -ENOMEM; *out is untouched on error.
 */
int ipxe_script_render(const struct profile *p, const struct boot_vars *vars, const struct ipxe_menu *menu,
		       char **out, char *err, size_t err_len);

#endif
