/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stampede-dataplane command line: defaults, every numeric option at its
 * bounds and one step beyond (the error names the option and the range), the
 * --port-range forms and its interplay with --max-sessions, and the messages an
 * operator sees for unknown, incomplete or stray arguments.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_ARGS 32

/* Parses "stampede-dataplane" followed by the arguments given, up to NULL. */
static int parse_list(struct dp_options *o, char *err, size_t err_len, va_list ap)
{
	static char *argv[MAX_ARGS + 2];
	int argc = 0;
	const char *s;

	argv[argc++] = (char *)"stampede-dataplane";
	while ((s = va_arg(ap, const char *)) != NULL) {
		cr_assert(lt(int, argc, MAX_ARGS));
		argv[argc++] = (char *)s;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return dp_options_parse(argc, argv, o, err, err_len);
}

static int parse_args(struct dp_options *o, char *err, ...)
{
	va_list ap;
	int r;

	va_start(ap, err);
	r = parse_list(o, err, 256, ap);
	va_end(ap);
	return r;
}

#define PARSE(o, err, ...) parse_args(o, err, __VA_ARGS__, (const char *)NULL)

Test(dp_options, defaults_with_only_iface)
{
	struct dp_options o;
	char err[256];

	memset(&o, 0xa5, sizeof(o));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0"), 0), "%s", err);
	cr_assert(eq(str, (char *)o.iface, "eth0"));
	cr_assert(eq(ptr, (void *)o.addr, NULL));
	cr_assert(eq(str, (char *)o.tftp_root, "/usr/lib/ipxe"));
	cr_assert(eq(ptr, (void *)o.xdp_prog, NULL));
	cr_assert(eq(ptr, (void *)o.stats_socket, NULL));
	cr_assert(eq(ptr, (void *)o.extra_eal, NULL));
	cr_assert(eq(int, o.pmd, DP_PMD_AF_XDP));
	cr_assert(not(o.no_huge));
	cr_assert(not(o.lcore_set));
	cr_assert(eq(u32, o.lcores, 1));
	cr_assert(not(o.help));
	cr_assert(eq(u32, o.cache_mb, 512));
	cr_assert(eq(u32, o.mtu, 0));
	cr_assert(eq(u16, o.tftp.port_lo, 61440));
	cr_assert(eq(u16, o.tftp.port_hi, 65535));
	cr_assert(eq(u32, o.tftp.max_sessions, 4096));
	cr_assert(eq(u32, o.tftp.max_sessions_per_client, 128));
	cr_assert(eq(u16, o.tftp.max_windowsize, 64));
	cr_assert(eq(u32, o.tftp.retransmit_ms, 1000));
	cr_assert(eq(u32, o.tftp.min_retransmit_ms, 200));
	cr_assert(eq(u8, o.tftp.max_retries, 5));
	cr_assert(eq(u16, o.tftp.max_blksize, 0), "derived from the MTU later, not here");
}

Test(dp_options, string_and_flag_options_are_recorded)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int,
		     PARSE(&o, err, "--iface", "enp1s0", "--addr", "10.1.0.1", "--tftp-root", "/srv/tftp",
			   "--xdp-prog", "/opt/x.bpf.o", "--stats-socket", "/run/s.sock", "--eal",
			   "--log-level 8", "--no-huge", "--lcore", "3"),
		     0),
		  "%s", err);
	cr_assert(eq(str, (char *)o.iface, "enp1s0"));
	cr_assert(eq(str, (char *)o.addr, "10.1.0.1"));
	cr_assert(eq(str, (char *)o.tftp_root, "/srv/tftp"));
	cr_assert(eq(str, (char *)o.xdp_prog, "/opt/x.bpf.o"));
	cr_assert(eq(str, (char *)o.stats_socket, "/run/s.sock"));
	cr_assert(eq(str, (char *)o.extra_eal, "--log-level 8"));
	cr_assert(o.no_huge);
	cr_assert(o.lcore_set);
	cr_assert(eq(u32, o.lcore, 3));
}

Test(dp_options, equals_form_is_accepted)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface=eth0", "--mtu=1500", "--port-range=50000-50099"), 0), "%s", err);
	cr_assert(eq(str, (char *)o.iface, "eth0"));
	cr_assert(eq(u32, o.mtu, 1500));
	cr_assert(eq(u16, o.tftp.port_lo, 50000));
	cr_assert(eq(u16, o.tftp.port_hi, 50099));
}

Test(dp_options, instance_tag_is_letters_and_digits_up_to_32)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0"), 0), "%s", err);
	cr_assert(eq(ptr, (void *)o.instance_tag, NULL));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--instance-tag", "59b6d2142e4a8437"), 0), "%s", err);
	cr_assert(eq(str, (char *)o.instance_tag, "59b6d2142e4a8437"));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--instance-tag", "abcdefghijklmnopqrstuvwxyz012345"), 0),
		  "%s", err);
	cr_assert(lt(int, PARSE(&o, err, "--iface", "eth0", "--instance-tag", "abcdefghijklmnopqrstuvwxyz0123456"), 0));
	cr_assert(not(eq(ptr, strstr(err, "--instance-tag"), NULL)), "%s", err);
	cr_assert(lt(int, PARSE(&o, err, "--iface", "eth0", "--instance-tag", ""), 0));
	/* It is echoed in a protocol line: no spaces, no newlines. */
	cr_assert(lt(int, PARSE(&o, err, "--iface", "eth0", "--instance-tag", "ab cd"), 0));
	cr_assert(lt(int, PARSE(&o, err, "--iface", "eth0", "--instance-tag", "ab\nready 1"), 0));
}

Test(dp_options, pmd_values)
{
	static const struct {
		const char *text;
		enum dp_pmd want;
	} ok[] = { { "af_xdp", DP_PMD_AF_XDP }, { "af_packet", DP_PMD_AF_PACKET }, { "pcap", DP_PMD_PCAP } };
	struct dp_options o;
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_expect(eq(int, PARSE(&o, err, "--iface", "eth0", "--pmd", ok[i].text), 0), "%s", err);
		cr_expect(eq(int, o.pmd, ok[i].want), "%s", ok[i].text);
	}
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--pmd", "AF_XDP"), -EINVAL));
	cr_assert(eq(str, err, "--pmd AF_XDP: expected af_xdp, af_packet or pcap"));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--pmd", "dpdk"), -EINVAL));
	cr_assert(eq(str, err, "--pmd dpdk: expected af_xdp, af_packet or pcap"));
}

/* ---- numeric options ------------------------------------------------------ */

struct numeric_option {
	const char *name;
	uint64_t lo, hi;
};

static const struct numeric_option numeric[] = {
	{ "lcore", 0, 1023 },
	{ "lcores", 1, 16 },
	{ "cache-mb", 1, 1u << 20 },
	{ "mtu", 576, 9000 },
	{ "max-sessions", 1, 64512 },
	{ "max-sessions-per-client", 1, 64512 },
	{ "max-windowsize", 1, 32767 },
	{ "retransmit-ms", 10, 255000 },
	{ "min-retransmit-ms", 10, 255000 },
	{ "max-retries", 0, 50 },
};

static uint64_t stored(const struct dp_options *o, const char *name)
{
	if (strcmp(name, "lcore") == 0)
		return o->lcore;
	if (strcmp(name, "lcores") == 0)
		return o->lcores;
	if (strcmp(name, "cache-mb") == 0)
		return o->cache_mb;
	if (strcmp(name, "mtu") == 0)
		return o->mtu;
	if (strcmp(name, "max-sessions") == 0)
		return o->tftp.max_sessions;
	if (strcmp(name, "max-sessions-per-client") == 0)
		return o->tftp.max_sessions_per_client;
	if (strcmp(name, "max-windowsize") == 0)
		return o->tftp.max_windowsize;
	if (strcmp(name, "retransmit-ms") == 0)
		return o->tftp.retransmit_ms;
	if (strcmp(name, "max-retries") == 0)
		return o->tftp.max_retries;
	if (strcmp(name, "min-retransmit-ms") == 0)
		return o->tftp.min_retransmit_ms;
	cr_fatal("no field for %s", name);
	return 0;
}

/* --port-range 1024-65535 gives 64512 ports, so --max-sessions reaches its own bound. */
static int parse_one(struct dp_options *o, char *err, const char *name, const char *value)
{
	char flag[64];

	snprintf(flag, sizeof(flag), "--%s", name);
	return PARSE(o, err, "--iface", "eth0", "--port-range", "1024-65535", flag, value);
}

Test(dp_options, numeric_options_accept_their_bounds)
{
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		const struct numeric_option *n = &numeric[i];
		uint64_t values[2] = { n->lo, n->hi };

		for (int k = 0; k < 2; k++) {
			struct dp_options o;
			char err[256], text[32];

			snprintf(text, sizeof(text), "%llu", (unsigned long long)values[k]);
			cr_expect(eq(int, parse_one(&o, err, n->name, text), 0), "--%s %s: %s", n->name, text, err);
			cr_expect(eq(u64, stored(&o, n->name), values[k]), "--%s %s", n->name, text);
		}
	}
}

Test(dp_options, numeric_options_refuse_beyond_bounds_naming_option_and_range)
{
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		const struct numeric_option *n = &numeric[i];
		char below[32], above[32];
		const char *bad[] = { above, below, "abc", "", "-1", "+5", "1e3", "0x10", "99999999999999999999999" };

		snprintf(above, sizeof(above), "%llu", (unsigned long long)n->hi + 1);
		snprintf(below, sizeof(below), "%llu", (unsigned long long)n->lo - 1);
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			struct dp_options o;
			char err[256], want[256];

			if (bad[k] == below && n->lo == 0)
				continue; /* nothing below 0 to write in decimal */
			snprintf(want, sizeof(want), "--%s %s: expected a number from %llu to %llu", n->name, bad[k],
				 (unsigned long long)n->lo, (unsigned long long)n->hi);
			cr_expect(eq(int, parse_one(&o, err, n->name, bad[k]), -EINVAL), "--%s \"%s\"", n->name, bad[k]);
			cr_expect(eq(str, err, want));
		}
	}
}

/* ---- --port-range and --max-sessions -------------------------------------- */

#define RANGE_SYNTAX "expected LO-HI, e.g. 61440-65535"
#define RANGE_BOUNDS "expected LO-HI with 1024 <= LO <= HI <= 65535"

Test(dp_options, port_range_forms)
{
	static const struct {
		const char *text;
		uint16_t lo, hi; /* 0: refused */
		const char *why;
	} cases[] = {
		{ "50000-50010", 50000, 50010, NULL },
		{ "1024-65535", 1024, 65535, NULL },
		{ "6000-6000", 6000, 6000, NULL },
		{ "50000", 0, 0, RANGE_SYNTAX },
		{ "", 0, 0, RANGE_SYNTAX },
		{ "123456789-1", 0, 0, RANGE_SYNTAX },
		{ "1-123456789", 0, 0, RANGE_SYNTAX },
		{ "50000-", 0, 0, RANGE_BOUNDS },
		{ "-50000", 0, 0, RANGE_BOUNDS },
		{ "a-b", 0, 0, RANGE_BOUNDS },
		{ "50000-50010-3", 0, 0, RANGE_BOUNDS },
		{ "50000 - 50010", 0, 0, RANGE_BOUNDS },
		{ "1023-2000", 0, 0, RANGE_BOUNDS },
		{ "69-69", 0, 0, RANGE_BOUNDS },
		{ "2000-1999", 0, 0, RANGE_BOUNDS },
		{ "1024-65536", 0, 0, RANGE_BOUNDS },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_options o;
		char err[256], want[256];
		int r = PARSE(&o, err, "--iface", "eth0", "--port-range", cases[i].text);

		if (cases[i].lo) {
			cr_expect(eq(int, r, 0), "\"%s\": %s", cases[i].text, err);
			cr_expect(eq(u16, o.tftp.port_lo, cases[i].lo), "\"%s\"", cases[i].text);
			cr_expect(eq(u16, o.tftp.port_hi, cases[i].hi), "\"%s\"", cases[i].text);
		} else {
			snprintf(want, sizeof(want), "--port-range %s: %s", cases[i].text, cases[i].why);
			cr_expect(eq(int, r, -EINVAL), "\"%s\"", cases[i].text);
			cr_expect(eq(str, err, want));
		}
	}
}

Test(dp_options, max_sessions_larger_than_the_port_range_is_an_error_in_either_order)
{
	static const char want[] = "--max-sessions 11 exceeds the 10 ports of --port-range 50000-50009 "
				   "(each transfer needs its own port)";
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--port-range", "50000-50009", "--max-sessions", "11"),
		     -EINVAL));
	cr_assert(eq(str, err, (char *)want));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--max-sessions", "11", "--port-range", "50000-50009"),
		     -EINVAL));
	cr_assert(eq(str, err, (char *)want));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--max-sessions", "4097"), -EINVAL));
	cr_assert(eq(str, err,
		     "--max-sessions 4097 exceeds the 4096 ports of --port-range 61440-65535 "
		     "(each transfer needs its own port)"));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--port-range", "50000-50009", "--max-sessions", "10"),
		     0));
	cr_assert(eq(u32, o.tftp.max_sessions, 10));
}

Test(dp_options, default_max_sessions_is_lowered_to_a_smaller_port_range)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--port-range", "50000-50009"), 0), "%s", err);
	cr_assert(eq(u32, o.tftp.max_sessions, 10));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--port-range", "6000-6000"), 0), "%s", err);
	cr_assert(eq(u32, o.tftp.max_sessions, 1));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--port-range", "1024-65535"), 0), "%s", err);
	cr_assert(eq(u32, o.tftp.max_sessions, 4096), "a larger range keeps the default");
}

/* ---- what the operator sees for bad command lines ------------------------- */

Test(dp_options, missing_iface_is_an_error)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, parse_args(&o, err, (const char *)NULL), -EINVAL));
	cr_assert(eq(str, err, "--iface is required"));
	cr_assert(eq(int, PARSE(&o, err, "--mtu", "1500"), -EINVAL));
	cr_assert(eq(str, err, "--iface is required"));
}

Test(dp_options, help_needs_no_iface)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--help"), 0));
	cr_assert(o.help);
}

Test(dp_options, unknown_option_is_named)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--bogus"), -EINVAL));
	cr_assert(eq(str, err, "unknown option --bogus (see --help)"));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--no-huge=1"), -EINVAL));
	cr_assert(eq(str, err, "unknown option --no-huge=1 (see --help)"));
	cr_assert(eq(int, PARSE(&o, err, "-x", "--iface", "eth0"), -EINVAL));
	cr_assert(eq(str, err, "unknown option -x (see --help)"));
}

Test(dp_options, positional_argument_is_refused)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "extra"), -EINVAL));
	cr_assert(eq(str, err, "unexpected argument extra (see --help)"));
	cr_assert(eq(int, PARSE(&o, err, "extra", "--iface", "eth0"), -EINVAL));
	cr_assert(eq(str, err, "unexpected argument extra (see --help)"));
}

/*
 * A known option given without its value. options.c has a "needs a value" case
 * for getopt's ':' return, but getopt_long only returns ':' when optstring
 * starts with ':' and the optstring passed is "", so the operator is told the
 * option does not exist.
 */
Test(dp_options, option_missing_its_value_is_named_as_such)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--mtu"), -EINVAL));
	cr_assert(eq(str, err, "--mtu needs a value"));
}

/*
 * "-xy": getopt stops inside the cluster without advancing optind, so
 * argv[optind - 1] is the argument before it, and the message names "eth0".
 */
Test(dp_options, unknown_short_option_cluster_is_named)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "-xy"), -EINVAL));
	cr_assert(strstr(err, "-x") != NULL, "the message names something else: \"%s\"", err);
}

Test(dp_options, parsing_twice_gives_the_same_result)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--mtu", "1500"), 0));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth1", "--mtu", "9000"), 0), "%s", err);
	cr_assert(eq(str, (char *)o.iface, "eth1"));
	cr_assert(eq(u32, o.mtu, 9000));
}

/*
 * After a parse that stopped inside "-xy", getopt still holds a pointer into the
 * old argv ("y"): options.c resets with optind = 1, which glibc does not treat
 * as a full reset (optind = 0 is), so the next parse reads the stale "y" first.
 */
Test(dp_options, parse_after_an_error_inside_a_short_option_cluster_starts_clean)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "-xy"), -EINVAL));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth1", "--mtu", "1500"), 0), "second parse: %s", err);
	cr_assert(eq(str, (char *)o.iface, "eth1"));
	cr_assert(eq(u32, o.mtu, 1500));
}

Test(dp_options, usage_lists_every_option)
{
	static const char *const names[] = {
		"--iface",        "--addr",         "--tftp-root",    "--pmd",
		"--xdp-prog",     "--no-huge",      "--lcore",        "--cache-mb",
		"--mtu",          "--port-range",   "--max-sessions", "--max-sessions-per-client",
		"--max-windowsize", "--retransmit-ms", "--max-retries", "--stats-socket",
		"--eal", "--min-retransmit-ms", "--lcores",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert(f != NULL);
	dp_options_usage(f);
	cr_assert(eq(int, fclose(f), 0));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect(strstr(text, names[i]) != NULL, "usage lacks %s", names[i]);
	cr_expect(strstr(text, "default 61440-65535") != NULL);
	cr_expect(strstr(text, "1..32767 (default 64)") != NULL);
	free(text);
}

/* Several polling loops need one queue each (af_xdp queues, af_packet fanout
 * sockets) and a session port each at least. */
Test(dp_options, lcores_needs_af_xdp_and_enough_ports)
{
	struct dp_options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--lcores", "2"), 0), "%s", err);
	cr_assert(eq(u32, o.lcores, 2));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--lcores", "2", "--pmd", "af_packet"), 0), "%s", err);
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--lcores", "2", "--pmd", "pcap"), -EINVAL));
	cr_assert(eq(str, err, "--lcores 2: several polling loops need a queue each: --pmd af_xdp or af_packet"));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--lcores", "4", "--port-range", "50000-50002"), -EINVAL));
	cr_assert(eq(str, err, "--lcores 4: --port-range 50000-50002 has fewer ports than polling loops"));
	cr_assert(eq(int, PARSE(&o, err, "--iface", "eth0", "--lcores", "4", "--lcore", "1022"), -EINVAL));
	cr_assert(eq(str, err, "--lcore 1022 --lcores 4: cores above 1023"));
}
