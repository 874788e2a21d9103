/* SPDX-License-Identifier: BSD-2-Clause */
#include "policy_compile.h"

#include <string.h>

#include "proxy_policy.h" /* policy_is_url */

void policy_compile(const struct config *c, const char *server_ip, const char *base_url, FILE *out)
{
	const typeof(c->proxydhcp) *pd = &c->proxydhcp;

	fprintf(out, "server-ip %s\n", server_ip);
	fprintf(out, "script-url %s%s%s\n", base_url, SCRIPT_PATH, SCRIPT_QUERY);
	for (int a = 1; a < PXE_ARCH_COUNT; a++) {
		const char *f = pd->boot_files[a];

		if (!f)
			continue;
		/* UEFI HTTP Boot needs a URL; a plain name is a file of the HTTP root. */
		if (pxe_arch_is_http(a) && !policy_is_url(f))
			fprintf(out, "boot-file %s %s/%s\n", pxe_arch_name(a), base_url, f[0] == '/' ? f + 1 : f);
		else
			fprintf(out, "boot-file %s %s\n", pxe_arch_name(a), f);
		if (pd->boot_server[a])
			fprintf(out, "boot-server %s\n", pxe_arch_name(a));
	}
	if (pd->menu)
		fprintf(out, "menu %s\n", pd->menu);
	if (pd->prompt)
		fprintf(out, "prompt %u %s\n", pd->prompt_timeout, pd->prompt);
	if (pd->pxelinux_config_file)
		fprintf(out, "option 209 %s\n", pd->pxelinux_config_file);
	if (pd->pxelinux_path_prefix)
		fprintf(out, "option 210 %s\n", pd->pxelinux_path_prefix);
	for (size_t i = 0; i < pd->n_allow_macs; i++)
		fprintf(out, "allow-mac %s\n", pd->allow_macs[i]);
	for (size_t i = 0; i < pd->n_deny_macs; i++)
		fprintf(out, "deny-mac %s\n", pd->deny_macs[i]);
	for (size_t i = 0; i < pd->n_allow_subnets; i++)
		fprintf(out, "allow-subnet %s\n", pd->allow_subnets[i]);
	for (size_t i = 0; i < pd->n_deny_subnets; i++)
		fprintf(out, "deny-subnet %s\n", pd->deny_subnets[i]);
	/* "unmatched: ignore" means: machines no selector names are not ours,
	 * unless the default profile boots them anyway. */
	if (!pd->answer_unmatched || strcmp(c->default_profile, "none") == 0) {
		fprintf(out, "unmatched ignore\n");
		for (size_t i = 0; i < c->n_machines; i++) {
			const struct machine_rule *r = &c->machines[i];

			if (strcmp(r->profile, "none") == 0)
				continue;
			/* A rule that combines fields is answered by its most specific
			 * field here; the HTTP script applies the whole rule. */
			if (r->mac)
				fprintf(out, "select-mac %s\n", r->mac);
			else if (r->uuid)
				fprintf(out, "select-uuid %s\n", r->uuid);
			else if (r->arch >= 0)
				fprintf(out, "select-arch %s\n", pxe_arch_name(r->arch));
		}
	}
}
