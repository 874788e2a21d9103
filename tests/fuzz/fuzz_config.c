/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The YAML configuration (control/config.c): any bytes as a configuration
 * file, then what `stampede serve` does with one that `stampede check` would
 * accept (control/stampede.c): every profile checked for iPXE, the proxyDHCP
 * policy compiled (control/policy_compile.c) and handed to the dataplane's
 * own parser (dataplane/proxy_policy.c), every profile rendered.
 *
 * Invariants beyond "no crash, no leak, no read past the text":
 * - a refused file has at least one error, and each names the file;
 * - an accepted one compiles to a policy the dataplane accepts: a
 *   configuration that passes `stampede check` never has its policy refused
 *   at start-up (the values travel as lines: one with a line break, or too
 *   long for a DHCP option, must be caught by the check);
 * - every profile of an accepted configuration renders, the menu included.
 * Seeds: the files of configs/.
 */
#include "fuzz.h"

#include "config.h"
#include "ipxe_script.h"
#include "policy_compile.h"
#include "proxy_policy.h"

#define NAME "fuzz.yaml"

static void check_policy(const struct config *c)
{
	char base_url[512], err[256] = "", *text = NULL;
	const char *server_ip = c->address ? c->address : "10.0.0.1";
	struct proxy_policy *p;
	size_t len = 0;
	FILE *f;

	/* As control/stampede.c builds them. */
	if (c->http.base_url)
		snprintf(base_url, sizeof(base_url), "%s", c->http.base_url);
	else
		snprintf(base_url, sizeof(base_url), "http://%s:%u", server_ip, c->http.port);
	f = open_memstream(&text, &len);
	FUZZ_CHECK(f != NULL, "open_memstream");
	policy_compile(c, server_ip, base_url, f);
	fclose(f);
	p = proxy_policy_parse(text, len, err, sizeof(err));
	FUZZ_CHECK(p != NULL, "an accepted configuration compiles to a policy the dataplane refuses: %s\n%s", err, text);
	proxy_policy_free(p);
	free(text);
}

static void check_profiles(const struct config *c)
{
	static const struct profile menu = { .name = "menu", .kind = PROFILE_MENU };
	const struct boot_vars vars = {
		.mac = "52:54:00:12:34:56", .mac_hyphen = "52-54-00-12-34-56",
		.uuid = "4c4c4544-0042-3510-8051-b4c04f4e3232", .arch = "efi-x64", .hostname = "node-1",
		.ip = "10.1.0.100", .server = "http://10.0.0.1:8080", .profile = "p",
	};
	const struct ipxe_menu m = { c->profiles, c->n_profiles, c->menu_timeout_s * 1000 };
	char err[384], *out;

	for (size_t i = 0; i <= c->n_profiles; i++) {
		const struct profile *p = i < c->n_profiles ? &c->profiles[i] : &menu;
		int r = ipxe_script_render(p, &vars, &m, &out, err, sizeof(err));

		FUZZ_CHECK(r == 0, "profile %s does not render: %s", p->name, err);
		FUZZ_CHECK(fuzz_is_ipxe_script(out), "profile %s: iPXE would not run it: %.40s", p->name, out);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errors;
	struct config *c;
	char err[384];
	char *text;

	text = fuzz_copy(data, size); /* libyaml gets (text, len) */
	c = config_parse(NAME, text, size, &errors);
	free(text);
	if (!c) {
		FUZZ_CHECK(errors.n >= 1 && errors.n <= CONFIG_MAX_ERRORS, "%u errors", errors.n);
		for (unsigned i = 0; i < errors.n; i++)
			FUZZ_CHECK(strnlen(errors.msg[i], sizeof(errors.msg[i])) < sizeof(errors.msg[i]) &&
					   !strncmp(errors.msg[i], NAME ":", strlen(NAME) + 1),
				   "error %u does not name the file: %.100s", i, errors.msg[i]);
		return 0;
	}
	FUZZ_CHECK(errors.n == 0, "accepted with %u errors", errors.n);
	/* `stampede check` refuses what iPXE would misread (control/stampede.c). */
	for (size_t i = 0; i < c->n_profiles; i++)
		if (ipxe_profile_check(&c->profiles[i], err, sizeof(err)) < 0) {
			config_free(c);
			return 0;
		}
	check_policy(c);
	check_profiles(c);
	(void)config_match(c, "52:54:00:12:34:56", "4c4c4544-0042-3510-8051-b4c04f4e3232", PXE_ARCH_EFI_X64);
	config_free(c);
	return 0;
}
