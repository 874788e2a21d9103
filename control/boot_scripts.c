/* SPDX-License-Identifier: BSD-2-Clause */
#include "boot_scripts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_api.h"
#include "ipxe_script.h"
#include "log.h"
#include "machines.h"

int boot_arch_from_query(const char *arch)
{
	static const struct {
		const char *query;
		enum pxe_arch arch;
	} ipxe_names[] = {
		{ "pcbios-i386", PXE_ARCH_BIOS },      { "pcbios-x86_64", PXE_ARCH_BIOS },
		{ "efi-i386", PXE_ARCH_EFI_IA32 },     { "efi-x86_64", PXE_ARCH_EFI_X64 },
		{ "efi-arm32", PXE_ARCH_EFI_ARM32 },   { "efi-arm64", PXE_ARCH_EFI_ARM64 },
	};

	if (!arch || !*arch)
		return -1;
	for (size_t i = 0; i < sizeof(ipxe_names) / sizeof(ipxe_names[0]); i++)
		if (strcmp(arch, ipxe_names[i].query) == 0)
			return ipxe_names[i].arch;
	return pxe_arch_from_name(arch);
}

/* Lower-case copy of a MAC ("52:54:00:AB:..." -> "52:54:00:ab:..."), or "". */
static void normalise(const char *in, char *out, size_t len, char sep_from, char sep_to)
{
	size_t i = 0;

	for (; in && in[i] && i + 1 < len; i++)
		out[i] = in[i] == sep_from ? sep_to : (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int respond(char **body, unsigned *status, unsigned code, const char *text)
{
	*body = strdup(text);
	*status = code;
	return *body ? 0 : -1;
}

int boot_script_http(void *ctx, const struct http_script_request *req, char **body, unsigned *status)
{
	struct boot_scripts *bs = ctx;
	char mac[32], mac_hyphen[32], uuid[64], err[256], arch_name[32];
	const struct machine_rule *rule;
	const struct profile *profile = NULL;
	struct profile builtin;
	const char *name;
	int arch, r;
	struct boot_api_result api = { .kind = BOOT_API_NOT_FOUND };

	normalise(req->mac, mac, sizeof(mac), ':', ':');
	normalise(req->mac, mac_hyphen, sizeof(mac_hyphen), ':', '-');
	normalise(req->uuid, uuid, sizeof(uuid), '-', '-');
	arch = boot_arch_from_query(req->arch);
	snprintf(arch_name, sizeof(arch_name), "%s", arch >= 0 ? pxe_arch_name(arch) : "unknown");

	/* Outside the lock: the service may take up to its timeout. */
	if (bs->boot_api && mac[0]) {
		boot_api_lookup(bs->boot_api, mac, uuid, arch >= 0 ? arch_name : req->arch, &api);
		if (api.kind == BOOT_API_FALLBACK)
			log_msg(LOG_WARN, "boot API for %s: %s; using the configuration", mac, api.reason);
	}
	pthread_rwlock_rdlock(&bs->lock);
	rule = config_match(bs->config, mac[0] ? mac : NULL, uuid[0] ? uuid : NULL, arch);
	name = rule ? rule->profile : bs->config->default_profile;
	if (api.kind == BOOT_API_PROFILE_NAME) {
		if (config_profile(bs->config, api.profile_name))
			name = api.profile_name;
		else
			log_msg(LOG_WARN, "boot API for %s names profile \"%s\", which the configuration does not "
					"have; using the configuration",
				mac, api.profile_name);
	} else if (api.kind == BOOT_API_ACTION) {
		name = boot_api_action_name(api.action);
	} else if (api.kind == BOOT_API_LINUX || api.kind == BOOT_API_SCRIPT) {
		name = api.profile.name;
		profile = &api.profile;
	}
	/* ?profile= is the menu's choice: honoured only for a machine whose
	 * profile is the menu, and only for profiles the menu lists (a machine
	 * must not pick another machine's command line by asking). */
	if (!profile && req->profile && *req->profile && !strcmp(name, "menu")) {
		if (!config_profile(bs->config, req->profile)) {
			pthread_rwlock_unlock(&bs->lock);
			boot_api_result_free(&api);
			return respond(body, status, 404, "#!ipxe\necho Stampede: no such profile\nexit 1\n");
		}
		name = req->profile;
	}
	if (!profile && !strcmp(name, "none")) {
		pthread_rwlock_unlock(&bs->lock);
		boot_api_result_free(&api);
		return respond(body, status, 200,
			       "#!ipxe\necho Stampede has no boot profile for this machine: trying the next boot device\n"
			       "exit 1\n");
	}
	if (profile) {
		/* the boot API's ad-hoc profile */
	} else if (!strcmp(name, "menu") || !strcmp(name, "local") || !strcmp(name, "shell")) {
		builtin = (struct profile){ .name = name,
					    .kind = name[0] == 'm' ? PROFILE_MENU
						    : name[0] == 'l' ? PROFILE_LOCAL
								     : PROFILE_SHELL };
		profile = &builtin;
	} else {
		profile = config_profile(bs->config, name);
	}
	if (!profile) {
		pthread_rwlock_unlock(&bs->lock);
		boot_api_result_free(&api);
		return respond(body, status, 404, "#!ipxe\necho Stampede: no such profile\nexit 1\n");
	}
	{
		const struct boot_vars vars = {
			.mac = mac,
			.mac_hyphen = mac_hyphen,
			.uuid = uuid,
			.arch = arch_name,
			.hostname = rule && rule->hostname ? rule->hostname : req->hostname ? req->hostname : "",
			.ip = req->remote_ip ? req->remote_ip : "",
			.server = bs->base_url,
			.profile = profile->name,
		};
		const struct ipxe_menu menu = { bs->config->profiles, bs->config->n_profiles,
						bs->config->menu_timeout_s * 1000 };

		r = ipxe_script_render(profile, &vars, &menu, body, err, sizeof(err));
		if (r == 0 && bs->machines && strcmp(req->method, "HEAD") != 0) {
			machines_on_script(bs->machines, machines_clock(), mac,
					   req->remote_ip ? req->remote_ip : "", vars.hostname, profile->name,
					   profile->kind == PROFILE_LINUX ? profile->kernel : NULL, profile->initrds,
					   profile->kind == PROFILE_LINUX ? profile->n_initrds : 0);
		}
	}
	{
		char chosen[72]; /* name points into a configuration a reload may free */

		snprintf(chosen, sizeof(chosen), "%.64s", name);
		pthread_rwlock_unlock(&bs->lock);
		if (r < 0) {
			char text[400];

			log_msg(LOG_ERROR, "script for %s (profile %s): %s", mac[0] ? mac : "?", chosen, err);
			snprintf(text, sizeof(text), "#!ipxe\necho Stampede could not render profile %s\nexit 1\n", chosen);
			boot_api_result_free(&api);
			return respond(body, status, 500, text);
		}
	}
	boot_api_result_free(&api);
	*status = 200;
	return 0;
}
