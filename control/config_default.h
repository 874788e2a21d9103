/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration `stampede serve` uses when given none: every PXE machine
 * gets Debian's iPXE (package ipxe) for its architecture, and iPXE gets a
 * menu: local disk, the iPXE shell, and every profile found under the HTTP
 * root (a directory with a vmlinuz, and optionally initrd.img and cmdline).
 * Debian's amd64 ipxe package ships x86 binaries only, so ARM64 and 32-bit
 * UEFI machines are left to a configuration that names their binaries.
 * `stampede check --print-default` prints it: a starting point for a file.
 */
#ifndef STAMPEDE_CONFIG_DEFAULT_H
#define STAMPEDE_CONFIG_DEFAULT_H

static const char stampede_default_config[] =
	"# Stampede's embedded default configuration.\n"
	"tftp:\n"
	"  root: /usr/lib/ipxe\n"
	"http:\n"
	"  port: 8080\n"
	"  root: /usr/lib/ipxe          # --http-root DIR: your kernels, one directory per profile\n"
	"  discover_profiles: true\n"
	"proxydhcp:\n"
	"  boot_files:\n"
	"    bios: undionly.kpxe\n"
	"    efi-x64: ipxe.efi\n"
	"    efi-x64-http: ipxe.efi       # UEFI HTTP Boot: fetched from the HTTP root\n"
	"default_profile: menu\n"
	"menu_timeout: 10\n";

#endif
