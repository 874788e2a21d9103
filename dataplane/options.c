/* SPDX-License-Identifier: BSD-2-Clause */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tftp_packet.h"

enum {
	OPT_IFACE = 256,
	OPT_ADDR,
	OPT_TFTP_ROOT,
	OPT_XDP_PROG,
	OPT_STATS_SOCKET,
	OPT_EAL,
	OPT_PMD,
	OPT_NO_HUGE,
	OPT_LCORE,
	OPT_LCORES,
	OPT_CACHE_MB,
	OPT_MTU,
	OPT_PORT_RANGE,
	OPT_MAX_SESSIONS,
	OPT_MAX_PER_CLIENT,
	OPT_MAX_WINDOWSIZE,
	OPT_RETRANSMIT_MS,
	OPT_MIN_RETRANSMIT_MS,
	OPT_MAX_RETRIES,
	OPT_CONTROL_FD,
	OPT_IMAGE,
	OPT_INSTANCE_TAG,
	OPT_DHCP_RATE,
	OPT_TFTP_REQUEST_RATE,
	OPT_HELP,
};

static const struct option long_options[] = {
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "tftp-root", required_argument, NULL, OPT_TFTP_ROOT },
	{ "xdp-prog", required_argument, NULL, OPT_XDP_PROG },
	{ "stats-socket", required_argument, NULL, OPT_STATS_SOCKET },
	{ "eal", required_argument, NULL, OPT_EAL },
	{ "pmd", required_argument, NULL, OPT_PMD },
	{ "no-huge", no_argument, NULL, OPT_NO_HUGE },
	{ "lcore", required_argument, NULL, OPT_LCORE },
	{ "lcores", required_argument, NULL, OPT_LCORES },
	{ "cache-mb", required_argument, NULL, OPT_CACHE_MB },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "port-range", required_argument, NULL, OPT_PORT_RANGE },
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
	{ "max-sessions-per-client", required_argument, NULL, OPT_MAX_PER_CLIENT },
	{ "max-windowsize", required_argument, NULL, OPT_MAX_WINDOWSIZE },
	{ "retransmit-ms", required_argument, NULL, OPT_RETRANSMIT_MS },
	{ "min-retransmit-ms", required_argument, NULL, OPT_MIN_RETRANSMIT_MS },
	{ "max-retries", required_argument, NULL, OPT_MAX_RETRIES },
	{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "instance-tag", required_argument, NULL, OPT_INSTANCE_TAG },
	{ "dhcp-rate-per-client", required_argument, NULL, OPT_DHCP_RATE },
	{ "tftp-rate-per-source", required_argument, NULL, OPT_TFTP_REQUEST_RATE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void dp_options_usage(FILE *out)
{
	fprintf(out,
		"usage: stampede-dataplane --iface IF [options]\n"
		"  --iface IF                 interface to serve on (required)\n"
		"  --addr A.B.C.D             server address (default: the interface's first IPv4)\n"
		"  --tftp-root DIR            files to serve (default " DP_DEFAULT_TFTP_ROOT ")\n"
		"  --pmd af_xdp|af_packet|pcap  DPDK driver (default af_xdp, with the XDP filter)\n"
		"  --xdp-prog FILE            XDP object (default: bpf/stampede_xdp.bpf.o beside the binary)\n"
		"  --no-huge                  run without reserved hugepages (slower)\n"
		"  --lcore N                  CPU core of the (first) polling loop (default: the last core,\n"
		"                             or the last N cores with --lcores N)\n"
		"  --lcores N                 polling loops, one receive queue each, 1..%u (default 1;\n"
		"                             af_xdp: the interface needs N queues; af_packet: N fanout sockets)\n"
		"  --cache-mb N               image cache budget, 1..%u (default %u)\n"
		"  --mtu N                    override the interface MTU (576..9000)\n"
		"  --port-range LO-HI         TFTP session ports (default %u-%u)\n"
		"  --max-sessions N           concurrent transfers (default %u)\n"
		"  --max-sessions-per-client N  per client address (default %u)\n"
		"  --max-windowsize N         RFC 7440 window granted, 1..%u (default %u)\n"
		"  --retransmit-ms N          retransmission timeout without a timeout option, 10..255000 (default %u):\n"
		"                             the first one, and the most it grows to after timeouts\n"
		"  --min-retransmit-ms N      the least it adapts down to on a fast link, 10..255000 (default %u;\n"
		"                             equal to --retransmit-ms or above: a fixed timeout)\n"
		"  --max-retries N            retransmissions before a transfer is dropped, 0..50 (default %u)\n"
		"  --dhcp-rate-per-client N   DHCP and 4011 requests a second per client MAC, 0..%u, 0: no limit\n"
		"                             (default %u; twice as many at once); over it, the XDP program drops\n"
		"  --tftp-rate-per-source N   TFTP requests (port 69) a second per source address, 0..%u\n"
		"                             (default %u; the same)\n"
		"  --stats-socket PATH        counters and reload socket (default /run/stampede/IF.sock)\n"
		"  --eal \"ARGS\"               extra DPDK EAL arguments\n"
		"  --image NAME=PATH          also cache PATH as NAME (a boot file outside the root); repeatable\n"
		"  --control-fd N             the control plane's channel: the options above arrive on it\n"
		"                             first (message \"config 1\"), then policies; see config_message.h\n"
		"  --instance-tag TAG         the control plane's digest of these settings (up to 32 letters and\n"
		"                             digits), told to a control plane that re-attaches (\"attach\")\n",
		DP_MAX_LCORES, DP_MAX_CACHE_MB, DP_DEFAULT_CACHE_MB, TFTP_DEFAULT_PORT_LO, TFTP_DEFAULT_PORT_HI,
		TFTP_DEFAULT_MAX_SESSIONS, TFTP_DEFAULT_MAX_PER_CLIENT, TFTP_SERVER_WINDOWSIZE_LIMIT,
		TFTP_DEFAULT_MAX_WINDOWSIZE, TFTP_DEFAULT_RETRANSMIT_MS, TFTP_DEFAULT_MIN_RETRANSMIT_MS,
		TFTP_DEFAULT_MAX_RETRIES, DP_MAX_RATE, DP_DEFAULT_DHCP_RATE, DP_MAX_RATE, DP_DEFAULT_TFTP_REQUEST_RATE);
}

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A decimal number within [lo, hi], or an error naming the option. */
static int number(const char *option, const char *text, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		  size_t len)
{
	if (tftp_parse_decimal(text, out) < 0 || *out < lo || *out > hi)
		return fail(err, len, "--%s %s: expected a number from %llu to %llu", option, text,
			    (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int port_range(const char *text, struct tftp_config *cfg, char *err, size_t len)
{
	char lo_text[8], hi_text[8];
	const char *dash = strchr(text, '-');
	uint64_t lo, hi;

	if (!dash || dash - text >= (long)sizeof(lo_text) || strlen(dash + 1) >= sizeof(hi_text))
		return fail(err, len, "--port-range %s: expected LO-HI, e.g. 61440-65535", text);
	memcpy(lo_text, text, (size_t)(dash - text));
	lo_text[dash - text] = '\0';
	strcpy(hi_text, dash + 1);
	if (tftp_parse_decimal(lo_text, &lo) < 0 || tftp_parse_decimal(hi_text, &hi) < 0 || lo < 1024 ||
	    hi > 65535 || lo > hi)
		return fail(err, len, "--port-range %s: expected LO-HI with 1024 <= LO <= HI <= 65535", text);
	cfg->port_lo = (uint16_t)lo;
	cfg->port_hi = (uint16_t)hi;
	return 0;
}

int dp_options_parse(int argc, char **argv, struct dp_options *o, char *err, size_t len)
{
	bool sessions_set = false;
	uint64_t v;
	int c, r = 0;

	*o = (struct dp_options){
		.tftp_root = DP_DEFAULT_TFTP_ROOT,
		.control_fd = -1,
		.pmd = DP_PMD_AF_XDP,
		.cache_mb = DP_DEFAULT_CACHE_MB,
		.lcores = 1,
		.dhcp_rate = DP_DEFAULT_DHCP_RATE,
		.tftp_request_rate = DP_DEFAULT_TFTP_REQUEST_RATE,
		.tftp = {
			.port_lo = TFTP_DEFAULT_PORT_LO,
			.port_hi = TFTP_DEFAULT_PORT_HI,
			.max_sessions = TFTP_DEFAULT_MAX_SESSIONS,
			.max_sessions_per_client = TFTP_DEFAULT_MAX_PER_CLIENT,
			.max_windowsize = TFTP_DEFAULT_MAX_WINDOWSIZE,
			.retransmit_ms = TFTP_DEFAULT_RETRANSMIT_MS,
			.min_retransmit_ms = TFTP_DEFAULT_MIN_RETRANSMIT_MS,
			.max_retries = TFTP_DEFAULT_MAX_RETRIES,
		},
	};
	optind = 0; /* 0, not 1: glibc then also forgets a half-read "-xy" cluster */
	opterr = 0;
	/* The leading ':' makes getopt report a missing value as ':' rather than '?'. */
	while (r == 0 && (c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_IFACE: o->iface = optarg; break;
		case OPT_ADDR: o->addr = optarg; break;
		case OPT_TFTP_ROOT: o->tftp_root = optarg; break;
		case OPT_XDP_PROG: o->xdp_prog = optarg; break;
		case OPT_STATS_SOCKET: o->stats_socket = optarg; break;
		case OPT_EAL: o->extra_eal = optarg; break;
		case OPT_NO_HUGE: o->no_huge = true; break;
		case OPT_HELP: o->help = true; break;
		case OPT_PMD:
			if (strcmp(optarg, "af_xdp") == 0)
				o->pmd = DP_PMD_AF_XDP;
			else if (strcmp(optarg, "af_packet") == 0)
				o->pmd = DP_PMD_AF_PACKET;
			else if (strcmp(optarg, "pcap") == 0)
				o->pmd = DP_PMD_PCAP;
			else
				r = fail(err, len, "--pmd %s: expected af_xdp, af_packet or pcap", optarg);
			break;
		case OPT_LCORE:
			if ((r = number("lcore", optarg, 0, 1023, &v, err, len)) == 0) {
				o->lcore = (unsigned)v;
				o->lcore_set = true;
			}
			break;
		case OPT_LCORES:
			if ((r = number("lcores", optarg, 1, DP_MAX_LCORES, &v, err, len)) == 0)
				o->lcores = (unsigned)v;
			break;
		case OPT_CACHE_MB:
			if ((r = number("cache-mb", optarg, 1, DP_MAX_CACHE_MB, &v, err, len)) == 0)
				o->cache_mb = (uint32_t)v;
			break;
		case OPT_MTU:
			/* 576: the smallest datagram every IPv4 host must accept (RFC 791). */
			if ((r = number("mtu", optarg, 576, 9000, &v, err, len)) == 0)
				o->mtu = (uint32_t)v;
			break;
		case OPT_PORT_RANGE: r = port_range(optarg, &o->tftp, err, len); break;
		case OPT_MAX_SESSIONS:
			if ((r = number("max-sessions", optarg, 1, 64512, &v, err, len)) == 0) {
				o->tftp.max_sessions = (uint32_t)v;
				sessions_set = true;
			}
			break;
		case OPT_MAX_PER_CLIENT:
			if ((r = number("max-sessions-per-client", optarg, 1, 64512, &v, err, len)) == 0)
				o->tftp.max_sessions_per_client = (uint32_t)v;
			break;
		case OPT_MAX_WINDOWSIZE:
			if ((r = number("max-windowsize", optarg, 1, TFTP_SERVER_WINDOWSIZE_LIMIT, &v, err, len)) == 0)
				o->tftp.max_windowsize = (uint16_t)v;
			break;
		case OPT_RETRANSMIT_MS:
			if ((r = number("retransmit-ms", optarg, 10, 255000, &v, err, len)) == 0)
				o->tftp.retransmit_ms = (uint32_t)v;
			break;
		case OPT_MIN_RETRANSMIT_MS:
			if ((r = number("min-retransmit-ms", optarg, 10, TFTP_RETRANSMIT_MS_MAX, &v, err, len)) == 0)
				o->tftp.min_retransmit_ms = (uint32_t)v;
			break;
		case OPT_IMAGE: {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || eq[1] != '/')
				r = fail(err, len, "--image %s: expected NAME=/absolute/path", optarg);
			else if (o->n_images == DP_MAX_IMAGES)
				r = fail(err, len, "--image: at most %d images", DP_MAX_IMAGES);
			else {
				*eq = '\0'; /* argv is ours to split */
				o->images[o->n_images++] = (struct cache_image){ optarg, eq + 1 };
			}
			break;
		}
		case OPT_INSTANCE_TAG: {
			size_t n = strspn(optarg, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

			if (n == 0 || n > DP_MAX_INSTANCE_TAG || optarg[n] != '\0')
				r = fail(err, len, "--instance-tag %s: expected 1 to %d letters and digits", optarg,
					 DP_MAX_INSTANCE_TAG);
			else
				o->instance_tag = optarg;
			break;
		}
		case OPT_CONTROL_FD:
			if ((r = number("control-fd", optarg, 3, 65535, &v, err, len)) == 0)
				o->control_fd = (int)v;
			break;
		case OPT_DHCP_RATE:
			if ((r = number("dhcp-rate-per-client", optarg, 0, DP_MAX_RATE, &v, err, len)) == 0)
				o->dhcp_rate = (uint32_t)v;
			break;
		case OPT_TFTP_REQUEST_RATE:
			if ((r = number("tftp-rate-per-source", optarg, 0, DP_MAX_RATE, &v, err, len)) == 0)
				o->tftp_request_rate = (uint32_t)v;
			break;
		case OPT_MAX_RETRIES:
			if ((r = number("max-retries", optarg, 0, 50, &v, err, len)) == 0)
				o->tftp.max_retries = (uint8_t)v;
			break;
		case ':':
			r = fail(err, len, "%s needs a value", argv[optind - 1]);
			break;
		default:
			/* optopt is the short option's letter; for long options it is 0 or
			 * the option's (non-printable) value, and argv names it. */
			if (optopt > 0 && optopt < 128 && isprint(optopt))
				r = fail(err, len, "unknown option -%c (see --help)", optopt);
			else
				r = fail(err, len, "unknown option %s (see --help)", argv[optind - 1]);
			break;
		}
	}
	if (r < 0 || o->help)
		return r;
	if (optind < argc)
		return fail(err, len, "unexpected argument %s (see --help)", argv[optind]);
	if (!o->iface)
		return fail(err, len, "--iface is required");
	{
		uint32_t ports = (uint32_t)(o->tftp.port_hi - o->tftp.port_lo) + 1;

		if (o->tftp.max_sessions > ports) {
			if (sessions_set)
				return fail(err, len,
					    "--max-sessions %u exceeds the %u ports of --port-range %u-%u "
					    "(each transfer needs its own port)",
					    o->tftp.max_sessions, ports, o->tftp.port_lo, o->tftp.port_hi);
			o->tftp.max_sessions = ports;
		}
		if (o->lcores > 1 && o->pmd == DP_PMD_PCAP)
			return fail(err, len, "--lcores %u: several polling loops need a queue each: --pmd af_xdp or "
					      "af_packet",
				    o->lcores);
		if (o->lcores > ports)
			return fail(err, len, "--lcores %u: --port-range %u-%u has fewer ports than polling loops",
				    o->lcores, o->tftp.port_lo, o->tftp.port_hi);
		if (o->lcore_set && o->lcore + o->lcores > 1024)
			return fail(err, len, "--lcore %u --lcores %u: cores above 1023", o->lcore, o->lcores);
	}
	return 0;
}
