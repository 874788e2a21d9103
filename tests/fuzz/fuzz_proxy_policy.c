/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxyDHCP policy message (dataplane/proxy_policy.c): any bytes as the
 * text after "policy 1", and as a MAC, UUID and subnet for its value parsers.
 *
 * Invariants beyond "no crash, no leak, no read past the text":
 * - an accepted policy has a server address, texts that fit a DHCP option
 *   with no control character, pxelinux options that are well formed (209
 *   and 210, each once, lengths adding up), sorted lists in which every entry
 *   is found again by the dataplane's lookups;
 * - a MAC or UUID that parses prints back to the same bytes; a subnet's
 *   network has no bit outside its mask.
 * Seeds: policies compiled by control/policy_compile.c from the files of configs/.
 */
#include "fuzz.h"

#include <arpa/inet.h>

#include "proxy_policy.h"

static void check_text(const char *s, const char *what)
{
	size_t n = strnlen(s, POLICY_TEXT_MAX + 1);

	FUZZ_CHECK(n <= POLICY_TEXT_MAX, "%s not terminated within %d bytes", what, POLICY_TEXT_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "control character in %s", what);
}

static void check_policy(const struct proxy_policy *p)
{
	const struct policy_mac_list *macs[] = { &p->allow_macs, &p->deny_macs, &p->select_macs };
	bool seen209 = false, seen210 = false;
	size_t i;

	FUZZ_CHECK(p->server_ip != 0 && p->server_ip != INADDR_BROADCAST, "server-ip %08x", p->server_ip);
	check_text(p->script_url, "script-url");
	check_text(p->menu_text, "menu");
	check_text(p->prompt, "prompt");
	for (int a = 0; a < PXE_ARCH_COUNT; a++)
		check_text(p->arch[a].boot_file, "boot-file");
	FUZZ_CHECK(p->extra_len <= POLICY_EXTRA_OPTS_MAX, "extra options of %zu bytes", p->extra_len);
	for (i = 0; i + 2 <= p->extra_len; i += 2 + p->extra[i + 1]) {
		bool *seen = p->extra[i] == 209 ? &seen209 : p->extra[i] == 210 ? &seen210 : NULL;

		FUZZ_CHECK(seen && !*seen, "extra option %u", p->extra[i]);
		FUZZ_CHECK(p->extra[i + 1] > 0, "empty extra option %u", p->extra[i]);
		*seen = true;
	}
	FUZZ_CHECK(i == p->extra_len, "extra options end at %zu of %zu", i, p->extra_len);
	for (size_t l = 0; l < sizeof(macs) / sizeof(macs[0]); l++)
		for (i = 0; i < macs[l]->n; i++) {
			uint8_t mac[6];

			for (int b = 0; b < 6; b++)
				mac[b] = (uint8_t)(macs[l]->macs[i] >> (40 - 8 * b));
			FUZZ_CHECK(macs[l]->macs[i] >> 48 == 0, "MAC key above 48 bits");
			FUZZ_CHECK(i == 0 || macs[l]->macs[i - 1] <= macs[l]->macs[i], "MAC list not sorted");
			FUZZ_CHECK(policy_mac_listed(macs[l], mac), "a listed MAC is not found");
		}
	for (i = 0; i < p->select_uuids.n; i++) {
		FUZZ_CHECK(i == 0 || memcmp(p->select_uuids.uuids[i - 1], p->select_uuids.uuids[i], 16) <= 0,
			   "UUID list not sorted");
		FUZZ_CHECK(policy_uuid_listed(&p->select_uuids, p->select_uuids.uuids[i]), "a listed UUID is not found");
	}
	for (i = 0; i < p->allow_subnets.n; i++)
		FUZZ_CHECK(policy_subnet_listed(&p->allow_subnets, htonl(p->allow_subnets.subnets[i].net)),
			   "a listed subnet does not hold its own network");
}

static void check_values(const char *s)
{
	struct policy_subnet sub;
	uint8_t mac[6], again[6], uuid[16], uuid_again[16];
	char text[64];

	if (policy_parse_mac(s, mac) == 0) {
		snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
			 mac[5]);
		FUZZ_CHECK(policy_parse_mac(text, again) == 0 && !memcmp(mac, again, 6), "MAC %s does not read back",
			   text);
	}
	if (policy_parse_uuid(s, uuid) == 0) {
		/* The wire's SMBIOS order back to the printed one (proxy_policy.h). */
		snprintf(text, sizeof(text), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 uuid[3], uuid[2], uuid[1], uuid[0], uuid[5], uuid[4], uuid[7], uuid[6], uuid[8], uuid[9],
			 uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
		FUZZ_CHECK(policy_parse_uuid(text, uuid_again) == 0 && !memcmp(uuid, uuid_again, 16),
			   "UUID %s does not read back", text);
	}
	if (policy_parse_subnet(s, &sub) == 0)
		FUZZ_CHECK((sub.net & ~sub.mask) == 0, "subnet %s: network %08x outside mask %08x", s, sub.net,
			   sub.mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_policy *p;
	char err[256] = "";
	char *text;

	text = fuzz_copy(data, size);
	p = proxy_policy_parse(text, size, err, sizeof(err));
	free(text);
	if (p)
		check_policy(p);
	else
		FUZZ_CHECK(err[0], "refused without a message");
	proxy_policy_free(p);

	if (size <= 64) {
		text = fuzz_strndup(data, size);
		check_values(text);
		free(text);
	}
	return 0;
}
