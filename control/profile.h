/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Boot profiles: what a machine boots once it runs iPXE. The configuration
 * (config.c) fills them; ipxe_script.c turns one into the script a machine
 * fetches over HTTP. Strings are owned by the configuration that holds them.
 */
#ifndef STAMPEDE_PROFILE_H
#define STAMPEDE_PROFILE_H

#include <stddef.h>

enum profile_kind {
	PROFILE_LINUX, /* kernel + initrds + cmdline */
	PROFILE_SCRIPT, /* an iPXE script template of the operator's */
	PROFILE_MENU,  /* the built-in menu: local disk, iPXE shell, every profile */
	PROFILE_LOCAL, /* boot the local disk */
	PROFILE_SHELL, /* drop to the iPXE shell */
};

#define PROFILE_MAX_INITRDS 8

struct profile {
	const char *name;
	const char *description; /* one line, shown in the menu; may be NULL */
	enum profile_kind kind;
	/* PROFILE_LINUX. kernel and initrds are absolute http(s):// URLs or paths
	 * relative to the HTTP root (served by Stampede); cmdline is a template. */
	const char *kernel;
	const char *initrds[PROFILE_MAX_INITRDS];
	size_t n_initrds;
	const char *cmdline;
	/* PROFILE_SCRIPT: the template, without the leading "#!ipxe" line or with it. */
	const char *script;
};

/*
 * What a script is rendered with. Every field is a NUL-terminated string,
 * "" when unknown. These are the template variables, by the same names:
 * ${mac} ${mac_hyphen} ${uuid} ${arch} ${hostname} ${ip} ${server} ${profile}
 */
struct boot_vars {
	const char *mac;        /* "52:54:00:12:34:56", lower case */
	const char *mac_hyphen; /* "52-54-00-12-34-56" (pxelinux's style) */
	const char *uuid;       /* "8-4-4-4-12" lower case hex, as iPXE sends ${uuid} */
	const char *arch;       /* pxe_arch_name(): "bios", "efi-x64", ... or iPXE's ${buildarch} */
	const char *hostname;   /* from the machine's selector, if any */
	const char *ip;         /* the client's address as the HTTP server saw it */
	const char *server;     /* base URL of Stampede's HTTP server, no trailing slash */
	const char *profile;    /* the profile's name */
};

#endif
