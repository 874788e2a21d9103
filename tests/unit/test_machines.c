/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The machine table (control/machines.c): a boot followed stage by stage from
 * the events the control plane really gets (the dataplane's lines, parsed by
 * event_line.c, and the HTTP server's script and file callbacks), the states
 * (handed_off, failed, ignored), relayed machines found by address, eviction
 * of the least recently seen with its open-addressing index, the timeline
 * ring, and the JSON the API serves (/tmp/spec/api.md's MACHINE object).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_line.h"
#include "machines.h"

/* Criterion's cr_assert() cannot take an expression that starts with "(", as
 * jansson's json_is_*() macros expand to. */
static inline bool is(int v)
{
	return v != 0;
}

#define MAC_A   "52:54:00:12:34:56"
#define IP_A    "10.0.0.5"
#define ROUTER  "02:00:00:00:00:01"
#define NOW     2000000000.0

static struct machines *m;

static void teardown(void)
{
	machines_free(m);
	m = NULL;
}

TestSuite(machines, .fini = teardown);

/* ---- feeding events as the control plane does: lines through the parser ---- */

static void dhcp_ev(double t, const char *mac, const char *ip, unsigned port, const char *msg, bool ipxe,
		    const char *decision, const char *file)
{
	char line[1024];
	struct event_dhcp d;
	struct event_tftp tf;

	snprintf(line, sizeof(line), "event dhcp time=%.6f mac=%s ip=%s port=%u arch=bios msg=%s ipxe=%d decision=%s file=%s",
		 t, mac, ip, port, msg, ipxe, decision, file && *file ? file : "-");
	cr_assert(eq(int, event_line_parse(line, &d, &tf), EVENT_DHCP), "%s", line);
	machines_on_dhcp(m, &d);
}

/* A firmware (not iPXE) DISCOVER from 0.0.0.0:68. */
static void discover(double t, const char *mac, const char *decision, const char *file)
{
	dhcp_ev(t, mac, "0.0.0.0", 68, "discover", false, decision, file);
}

static double tftp_ev(double t, const char *mac, const char *ip, const char *state, uint64_t bytes, const char *file)
{
	char line[1024];
	struct event_dhcp d;
	struct event_tftp tf;

	snprintf(line, sizeof(line), "event tftp time=%.6f mac=%s ip=%s port=2070 state=%s bytes=%llu file=%s", t, mac,
		 ip, state, (unsigned long long)bytes, file);
	cr_assert(eq(int, event_line_parse(line, &d, &tf), EVENT_TFTP), "%s", line);
	return machines_on_tftp(m, &tf);
}

static void script(double t, const char *mac, const char *ip, const char *profile, const char *kernel,
		   const char *initrd)
{
	const char *initrds[] = { initrd };

	machines_on_script(m, t, mac, ip, "node1", profile, kernel, initrds, initrd ? 1 : 0);
}

/* ---- reading the JSON ---- */

static json_t *one(const char *mac)
{
	json_t *o = machines_one_json(m, mac, NOW);
	char *text;

	cr_assert(not(eq(ptr, o, NULL)), "no machine %s", mac);
	text = json_dumps(o, JSON_COMPACT); /* what the API sends must serialise */
	cr_assert(not(eq(ptr, text, NULL)));
	free(text);
	return o;
}

/* A string member, "null" for JSON null, "<absent>" when missing. */
static const char *s_of(json_t *o, const char *key)
{
	static char buf[8][512];
	static int k;
	json_t *v = json_object_get(o, key);

	k = (k + 1) % 8;
	if (!v)
		return "<absent>";
	if (json_is_null(v))
		return "null";
	if (json_is_string(v))
		snprintf(buf[k], sizeof(buf[k]), "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf[k], sizeof(buf[k]), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf[k], sizeof(buf[k]), "%.3f", json_real_value(v));
	else
		snprintf(buf[k], sizeof(buf[k]), "<%d>", (int)json_typeof(v));
	return buf[k];
}

/* One member of a machine's JSON (as s_of() prints it), the JSON released. */
static const char *field(const char *mac, const char *key)
{
	json_t *o = one(mac);
	const char *s = s_of(o, key);

	json_decref(o);
	return s;
}

static const char *progress_field(const char *mac, const char *key)
{
	json_t *o = one(mac);
	const char *s = s_of(json_object_get(o, "progress"), key);

	json_decref(o);
	return s;
}

static const char *stage_of(const char *mac)
{
	json_t *o = one(mac);
	const char *s = s_of(o, "stage");

	json_decref(o);
	return s;
}

static const char *state_of(const char *mac)
{
	json_t *o = one(mac);
	const char *s = s_of(o, "state");

	json_decref(o);
	return s;
}

/* "stage:event:detail" of every timeline entry, joined by '|'. */
static char *timeline_of(const char *mac, bool with_detail)
{
	static char out[8192];
	json_t *o = one(mac), *tl = json_object_get(o, "timeline"), *e;
	size_t i;

	out[0] = '\0';
	cr_assert(is(json_is_array(tl)));
	json_array_foreach(tl, i, e) {
		size_t n = strlen(out);

		snprintf(out + n, sizeof(out) - n, "%s%s:%s%s%s", i ? "|" : "", s_of(e, "stage"), s_of(e, "event"),
			 with_detail ? ":" : "", with_detail ? s_of(e, "detail") : "");
	}
	json_decref(o);
	return out;
}

static size_t listed(void)
{
	json_t *l = machines_list_json(m, NOW);
	size_t n = json_array_size(json_object_get(l, "machines"));

	json_decref(l);
	return n;
}

/* ---- a whole boot ---- */

Test(machines, a_bios_boot_stage_by_stage_to_handed_off)
{
	json_t *o, *p;

	m = machines_create(16, 32);
	cr_assert(not(eq(ptr, m, NULL)));

	discover(100, MAC_A, "offer", "undionly.kpxe");
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "stage"), "offer"));
	cr_assert(eq(str, (char *)s_of(o, "state"), "booting"));
	cr_assert(eq(str, (char *)s_of(o, "ip"), "null")); /* 0.0.0.0 is no address */
	cr_assert(eq(str, (char *)s_of(o, "arch"), "bios"));
	cr_assert(eq(str, (char *)s_of(o, "decision"), "offer"));
	cr_assert(eq(str, (char *)s_of(o, "progress"), "null"));
	json_decref(o);

	cr_assert(eq(dbl, tftp_ev(101, MAC_A, IP_A, "started", 1048576, "undionly.kpxe"), -1));
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "stage"), "tftp"));
	cr_assert(eq(str, (char *)s_of(o, "ip"), IP_A));
	p = json_object_get(o, "progress");
	cr_assert(eq(str, (char *)s_of(p, "file"), "undionly.kpxe"));
	cr_assert(eq(str, (char *)s_of(p, "bytes"), "0"));
	cr_assert(eq(str, (char *)s_of(p, "total"), "1048576"));
	json_decref(o);

	cr_assert(eq(dbl, tftp_ev(101.5, MAC_A, IP_A, "progress", 524288, "undionly.kpxe"), -1));
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(json_object_get(o, "progress"), "bytes"), "524288"));
	cr_assert(eq(str, (char *)s_of(json_object_get(o, "progress"), "total"), "1048576"));
	cr_assert(eq(str, (char *)s_of(o, "last_seen"), "101.500"));
	json_decref(o);

	cr_assert(eq(dbl, tftp_ev(102.25, MAC_A, IP_A, "completed", 1048576, "undionly.kpxe"), 1.25));
	cr_assert(eq(str, (char *)stage_of(MAC_A), "nbp_loaded"));

	dhcp_ev(103, MAC_A, "0.0.0.0", 68, "discover", true, "offer", "http://10.0.0.1:8080/boot.ipxe");
	cr_assert(eq(str, (char *)stage_of(MAC_A), "ipxe"));
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));
	/* iPXE's REQUEST for the site's server: silence, but not "ignored". */
	dhcp_ev(103.1, MAC_A, "0.0.0.0", 68, "request", true, "other_server", NULL);
	cr_assert(eq(str, (char *)stage_of(MAC_A), "ipxe"));
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));

	script(104, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "stage"), "script"));
	cr_assert(eq(str, (char *)s_of(o, "profile"), "lab"));
	cr_assert(eq(str, (char *)s_of(o, "hostname"), "node1"));
	json_decref(o);

	/* Something else from the same address (not a file of its script): no change. */
	machines_on_http(m, 104.5, IP_A, "favicon.ico", 404, 0, true);
	cr_assert(eq(str, (char *)stage_of(MAC_A), "script"));
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));

	machines_on_http(m, 105, IP_A, "lab/vmlinuz", 200, 4000000, true);
	cr_assert(eq(str, (char *)stage_of(MAC_A), "kernel"));
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));

	machines_on_http(m, 106, IP_A, "lab/initrd.img", 200, 8000000, true);
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "stage"), "initrd"));
	cr_assert(eq(str, (char *)s_of(o, "state"), "handed_off"));
	cr_assert(eq(str, (char *)s_of(o, "first_seen"), "100.000"));
	cr_assert(eq(str, (char *)s_of(o, "last_seen"), "106.000"));
	cr_assert(eq(str, (char *)s_of(o, "elapsed_s"), "6.000"));
	cr_assert(eq(str, (char *)s_of(o, "failures"), "0"));
	cr_assert(eq(str, (char *)s_of(o, "last_error"), "null"));
	p = json_object_get(o, "progress");
	cr_assert(eq(str, (char *)s_of(p, "file"), "lab/initrd.img"));
	cr_assert(eq(str, (char *)s_of(p, "bytes"), "8000000"));
	cr_assert(eq(str, (char *)s_of(p, "total"), "8000000"));
	json_decref(o);

	cr_assert(eq(str, timeline_of(MAC_A, true),
		     "offer:dhcp discover offer:undionly.kpxe|"
		     "tftp:tftp started:undionly.kpxe|"
		     "nbp_loaded:tftp completed:undionly.kpxe|"
		     "ipxe:dhcp discover offer:http://10.0.0.1:8080/boot.ipxe|"
		     "ipxe:dhcp request other_server:|"
		     "script:http script:lab|"
		     "kernel:http file:lab/vmlinuz|"
		     "initrd:http file:lab/initrd.img"));
}

Test(machines, uefi_boot_server_ack_on_4011_is_its_own_stage)
{
	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "ipxe.efi");
	dhcp_ev(2, MAC_A, IP_A, 4011, "request", false, "ack", "ipxe.efi");
	cr_assert(eq(str, (char *)stage_of(MAC_A), "boot_server"));
	cr_assert(eq(str, (char *)field(MAC_A, "ip"), IP_A)); /* the 4011 request came from its address */
	tftp_ev(3, MAC_A, IP_A, "started", 10, "ipxe.efi");
	cr_assert(eq(str, (char *)stage_of(MAC_A), "tftp"));
}

Test(machines, stages_never_go_back_within_a_boot)
{
	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "undionly.kpxe");
	tftp_ev(2, MAC_A, IP_A, "started", 10, "undionly.kpxe");
	tftp_ev(3, MAC_A, IP_A, "completed", 10, "undionly.kpxe");
	/* A repeated transfer or a firmware REQUEST: still nbp_loaded. */
	tftp_ev(4, MAC_A, IP_A, "started", 10, "undionly.kpxe");
	dhcp_ev(5, MAC_A, "0.0.0.0", 68, "request", false, "ack", "undionly.kpxe");
	cr_assert(eq(str, (char *)stage_of(MAC_A), "nbp_loaded"));
}

Test(machines, kernel_only_profile_and_url_kernels_hand_off)
{
	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "undionly.kpxe");
	tftp_ev(2, MAC_A, IP_A, "started", 10, "undionly.kpxe");
	script(3, MAC_A, IP_A, "k", "http://10.0.0.1:8080/k/vmlinuz", NULL);
	machines_on_http(m, 4, IP_A, "k/vmlinuz", 200, 100, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
	cr_assert(eq(str, (char *)stage_of(MAC_A), "kernel"));
}

Test(machines, initrd_before_kernel_still_hands_off_once_both_are_fetched)
{
	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "undionly.kpxe");
	script(2, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	machines_on_http(m, 3, IP_A, "lab/initrd.img", 200, 100, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));
	machines_on_http(m, 4, IP_A, "lab/vmlinuz", 200, 100, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
	cr_assert(eq(str, (char *)stage_of(MAC_A), "initrd"));
}

Test(machines, a_new_firmware_discover_restarts_the_stages)
{
	json_t *o;

	m = machines_create(4, 32);
	discover(100, MAC_A, "offer", "undionly.kpxe");
	tftp_ev(101, MAC_A, IP_A, "started", 10, "undionly.kpxe");
	tftp_ev(102, MAC_A, IP_A, "completed", 10, "undionly.kpxe");
	dhcp_ev(103, MAC_A, "0.0.0.0", 68, "discover", true, "offer", "http://s/boot.ipxe");
	script(104, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	machines_on_http(m, 105, IP_A, "lab/vmlinuz", 200, 1, true);
	machines_on_http(m, 106, IP_A, "lab/initrd.img", 200, 1, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));

	/* iPXE asking again (ipxe=1) is not a new boot. */
	dhcp_ev(107, MAC_A, "0.0.0.0", 68, "discover", true, "offer", "http://s/boot.ipxe");
	cr_assert(eq(str, (char *)stage_of(MAC_A), "initrd"));
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));

	/* The machine reboots: firmware DISCOVER. */
	discover(200, MAC_A, "offer", "undionly.kpxe");
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "stage"), "offer"));
	cr_assert(eq(str, (char *)s_of(o, "state"), "booting"));
	cr_assert(eq(str, (char *)s_of(o, "first_seen"), "200.000"));
	/* Still booting: timed to now, so a machine stuck here keeps counting. */
	cr_assert(eq(str, (char *)s_of(o, "elapsed_s"), "1999999800.000"));
	cr_assert(eq(str, (char *)s_of(o, "progress"), "null"));
	json_decref(o);

	/* The second boot needs its own kernel and initrd again. */
	tftp_ev(201, MAC_A, IP_A, "started", 10, "undionly.kpxe");
	cr_assert(eq(str, (char *)stage_of(MAC_A), "tftp"));
	script(202, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	machines_on_http(m, 203, IP_A, "lab/vmlinuz", 200, 1, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));
	machines_on_http(m, 204, IP_A, "lab/initrd.img", 200, 1, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
}

Test(machines, firmware_retransmitting_its_discover_is_the_same_boot)
{
	m = machines_create(4, 8);
	discover(100, MAC_A, "offer", "undionly.kpxe");
	discover(104, MAC_A, "offer", "undionly.kpxe");
	cr_assert(eq(str, (char *)field(MAC_A, "first_seen"), "100.000"));
	cr_assert(eq(str, (char *)field(MAC_A, "last_seen"), "104.000"));
	/* booting: elapsed runs to now */
	cr_assert(eq(str, (char *)field(MAC_A, "elapsed_s"), "1999999900.000"));
}

/* ---- relayed and routed machines ---- */

Test(machines, relayed_machine_is_matched_by_ip_when_tftp_comes_from_the_router)
{
	json_t *o;

	m = machines_create(8, 16);
	/* Relayed DISCOVER: the event's address is the relay's (port 67), not the machine's. */
	dhcp_ev(1, MAC_A, "10.9.0.1", 67, "discover", false, "offer", "ipxe.efi");
	cr_assert(eq(str, (char *)field(MAC_A, "ip"), "null"));
	/* Its boot-server request to 4011 comes from its own address. */
	dhcp_ev(2, MAC_A, "10.9.0.50", 4011, "request", false, "ack", "ipxe.efi");
	cr_assert(eq(str, (char *)field(MAC_A, "ip"), "10.9.0.50"));
	/* TFTP through the router: the frame's MAC is the router's. */
	cr_assert(eq(dbl, tftp_ev(3, ROUTER, "10.9.0.50", "started", 100, "ipxe.efi"), -1));
	cr_assert(eq(dbl, tftp_ev(5, ROUTER, "10.9.0.50", "completed", 100, "ipxe.efi"), 2));
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "stage"), "nbp_loaded"));
	cr_assert(eq(str, (char *)s_of(json_object_get(o, "progress"), "file"), "ipxe.efi"));
	json_decref(o);
	cr_assert(eq(ptr, machines_one_json(m, ROUTER, NOW), NULL), "the router became a machine");
	cr_assert(eq(sz, listed(), 1));
	/* HTTP is matched by address too. */
	dhcp_ev(6, MAC_A, "10.9.0.1", 67, "discover", true, "offer", "http://s/boot.ipxe");
	script(7, MAC_A, "10.9.0.50", "lab", "lab/vmlinuz", "lab/initrd.img");
	machines_on_http(m, 8, "10.9.0.50", "lab/vmlinuz", 200, 1, true);
	machines_on_http(m, 9, "10.9.0.50", "lab/initrd.img", 200, 1, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
}

Test(machines, two_machines_behind_one_router_are_told_apart_by_ip)
{
	m = machines_create(8, 16);
	dhcp_ev(1, "52:54:00:00:00:0a", "10.9.0.10", 4011, "request", false, "ack", "ipxe.efi");
	dhcp_ev(2, "52:54:00:00:00:0b", "10.9.0.11", 4011, "request", false, "ack", "ipxe.efi");
	tftp_ev(3, ROUTER, "10.9.0.11", "started", 100, "b.efi");
	cr_assert(eq(str, (char *)stage_of("52:54:00:00:00:0b"), "tftp"));
	cr_assert(eq(str, (char *)stage_of("52:54:00:00:00:0a"), "boot_server"));
	tftp_ev(4, ROUTER, "10.9.0.10", "timed_out", 0, "a.efi");
	cr_assert(eq(str, (char *)state_of("52:54:00:00:00:0a"), "failed"));
	cr_assert(eq(str, (char *)state_of("52:54:00:00:00:0b"), "booting"));
}

/*
 * A relayed BIOS machine reaches TFTP before Stampede has ever seen its
 * address (no 4011 exchange), so its transfer creates a record under the
 * router's MAC. A second relayed machine whose address IS known must still be
 * matched by that address: the router's record must not swallow the transfers
 * of every machine behind the router.
 */
Test(machines, a_known_relayed_machine_wins_over_a_record_of_the_routers_mac)
{
	m = machines_create(8, 16);
	tftp_ev(1, ROUTER, "10.9.0.60", "started", 100, "undionly.kpxe"); /* unknown machine */
	dhcp_ev(2, MAC_A, "10.9.0.50", 4011, "request", false, "ack", "ipxe.efi");
	tftp_ev(3, ROUTER, "10.9.0.50", "started", 100, "ipxe.efi");
	cr_expect(eq(str, (char *)stage_of(MAC_A), "tftp"),
		  "the transfer from 10.9.0.50 (MAC_A's address) went to the router's record");
}

/* ---- failures and silence ---- */

Test(machines, tftp_timeout_and_abort_fail_the_machine)
{
	json_t *o;

	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "ipxe.efi");
	tftp_ev(2, MAC_A, IP_A, "started", 1048576, "ipxe.efi");
	cr_assert(eq(dbl, tftp_ev(5, MAC_A, IP_A, "timed_out", 4096, "ipxe.efi"), -1));
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "state"), "failed"));
	cr_assert(eq(str, (char *)s_of(o, "stage"), "tftp"));
	cr_assert(eq(str, (char *)s_of(o, "failures"), "1"));
	cr_assert(eq(str, (char *)s_of(o, "last_error"), "tftp ipxe.efi timed_out"));
	cr_assert(eq(str, (char *)s_of(json_object_get(o, "progress"), "bytes"), "4096"));
	json_decref(o);
}

Test(machines, failed_then_rebooted_is_booting_with_failures_counted)
{
	json_t *o;

	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "ipxe.efi");
	tftp_ev(2, MAC_A, IP_A, "started", 100, "ipxe.efi");
	tftp_ev(3, MAC_A, IP_A, "completed", 100, "ipxe.efi");
	tftp_ev(4, MAC_A, IP_A, "started", 100, "second.efi");
	tftp_ev(5, MAC_A, IP_A, "aborted", 10, "second.efi");
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "state"), "failed"));
	cr_assert(eq(str, (char *)s_of(o, "last_error"), "tftp second.efi aborted"));
	json_decref(o);
	discover(10, MAC_A, "offer", "ipxe.efi");
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "state"), "booting"));
	cr_assert(eq(str, (char *)s_of(o, "stage"), "offer"));
	cr_assert(eq(str, (char *)s_of(o, "failures"), "1"));
	json_decref(o);
	tftp_ev(11, MAC_A, IP_A, "started", 100, "ipxe.efi");
	tftp_ev(12, MAC_A, IP_A, "timed_out", 0, "ipxe.efi");
	cr_assert(eq(str, (char *)field(MAC_A, "failures"), "2"));
}

Test(machines, http_error_or_cut_short_download_fails_the_machine)
{
	json_t *o;

	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "undionly.kpxe");
	script(2, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	machines_on_http(m, 3, IP_A, "lab/vmlinuz", 404, 0, true);
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "state"), "failed"));
	cr_assert(eq(str, (char *)s_of(o, "last_error"), "http lab/vmlinuz 404"));
	cr_assert(eq(str, (char *)s_of(o, "stage"), "script"));
	json_decref(o);

	machines_free(m);
	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "undionly.kpxe");
	script(2, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	machines_on_http(m, 3, IP_A, "lab/vmlinuz", 200, 100, true);
	machines_on_http(m, 4, IP_A, "lab/initrd.img", 200, 5000, false);
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(o, "state"), "failed"));
	cr_assert(eq(str, (char *)s_of(o, "last_error"), "http lab/initrd.img cut short"));
	cr_assert(eq(str, (char *)s_of(o, "failures"), "1"));
	json_decref(o);
	cr_assert(eq(str, timeline_of(MAC_A, false),
		     "offer:dhcp discover offer|script:http script|kernel:http file|kernel:http failed"));
}

Test(machines, silent_proxy_decisions_mark_the_machine_ignored)
{
	static const char *const silent[] = { "no_boot_file", "denied_mac", "denied_subnet", "not_allowed", "unmatched",
					      "no_policy", "reply_too_large" };
	json_t *o;

	m = machines_create(16, 8);
	for (size_t i = 0; i < sizeof(silent) / sizeof(silent[0]); i++) {
		char mac[18];

		snprintf(mac, sizeof(mac), "52:54:00:00:01:%02zx", i);
		discover(1 + (double)i, mac, silent[i], NULL);
		o = one(mac);
		cr_assert(eq(str, (char *)s_of(o, "state"), "ignored"), "%s", silent[i]);
		cr_assert(eq(str, (char *)s_of(o, "stage"), "dhcp"), "%s", silent[i]);
		cr_assert(eq(str, (char *)s_of(o, "decision"), (char *)silent[i]));
		json_decref(o);
	}
	/* The policy changes and it gets an offer: booting again. */
	discover(50, "52:54:00:00:01:00", "offer", "undionly.kpxe");
	cr_assert(eq(str, (char *)state_of("52:54:00:00:01:00"), "booting"));
	cr_assert(eq(str, (char *)stage_of("52:54:00:00:01:00"), "offer"));
}

Test(machines, a_request_for_the_sites_server_is_not_ignoring_it)
{
	m = machines_create(4, 8);
	dhcp_ev(1, MAC_A, "0.0.0.0", 68, "request", false, "other_server", NULL);
	cr_assert(eq(str, (char *)state_of(MAC_A), "booting"));
	cr_assert(eq(str, (char *)stage_of(MAC_A), "dhcp"));
	cr_assert(eq(str, (char *)field(MAC_A, "decision"), "other_server"));
}

Test(machines, silence_after_hand_off_leaves_it_handed_off)
{
	m = machines_create(4, 8);
	discover(1, MAC_A, "offer", "undionly.kpxe");
	script(2, MAC_A, IP_A, "k", "k/vmlinuz", NULL);
	machines_on_http(m, 3, IP_A, "k/vmlinuz", 200, 1, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
	dhcp_ev(4, MAC_A, "0.0.0.0", 68, "request", true, "other_server", NULL);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
}

/* ---- capacity and eviction ---- */

static void mac_of(unsigned i, char out[18])
{
	snprintf(out, 18, "52:54:%02x:%02x:%02x:%02x", (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

Test(machines, the_least_recently_seen_is_evicted_at_capacity)
{
	struct machines_counts c;
	char mac[18];
	json_t *l;

	m = machines_create(4, 8);
	for (unsigned i = 0; i < 4; i++) {
		mac_of(i, mac);
		discover(10 + i, mac, "offer", "x");
	}
	/* Machine 0 is seen again: machine 1 is now the least recently seen. */
	mac_of(0, mac);
	tftp_ev(20, mac, "10.0.0.100", "started", 1, "x");
	mac_of(4, mac);
	discover(21, mac, "offer", "x");
	machines_counts(m, &c);
	cr_assert(eq(sz, c.total, 4));
	cr_assert(eq(sz, c.capacity, 4));
	cr_assert(eq(u64, c.evicted, 1));
	mac_of(1, mac);
	cr_assert(eq(ptr, machines_one_json(m, mac, NOW), NULL), "machine 1 should be gone");
	for (unsigned i = 0; i < 5; i++) {
		json_t *o;

		if (i == 1)
			continue;
		mac_of(i, mac);
		o = machines_one_json(m, mac, NOW);
		cr_assert(not(eq(ptr, o, NULL)), "machine %u lost", i);
		json_decref(o);
	}
	l = machines_list_json(m, NOW);
	cr_assert(eq(sz, json_array_size(json_object_get(l, "machines")), 4));
	cr_assert(eq(str, (char *)s_of(l, "evicted"), "1"));
	cr_assert(eq(str, (char *)s_of(l, "capacity"), "4"));
	json_decref(l);
}

Test(machines, capacity_one_keeps_only_the_newest)
{
	char mac[18];

	m = machines_create(1, 1);
	for (unsigned i = 0; i < 10; i++) {
		mac_of(i, mac);
		discover(i, mac, "offer", "x");
	}
	cr_assert(eq(sz, listed(), 1));
	cr_assert(eq(str, (char *)field(mac, "mac"), mac));
	mac_of(8, mac);
	cr_assert(eq(ptr, machines_one_json(m, mac, NOW), NULL));
}

/*
 * Thousands of inserts and evictions into a table of 8 (an index of 16
 * slots, so long probe runs that wrap around the end), compared after every
 * step with a model: every machine the model holds is found, every one it
 * evicted is not. A wrong backward shift leaves a machine unreachable behind
 * a hole, or a stale slot pointing at a reused record.
 */
Test(machines, eviction_keeps_the_index_consistent_over_many_rounds)
{
	enum { CAP = 8, POOL = 48, STEPS = 4000 };
	double last_seen[POOL] = { 0 }; /* 0: not in the table */
	size_t count = 0;
	uint64_t evicted = 0, x = 88172645463325252ull;
	struct machines_counts c;
	char mac[18];

	m = machines_create(CAP, 2);
	for (int step = 1; step <= STEPS; step++) {
		unsigned i;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		i = (unsigned)(x % POOL);
		/* Spread the keys over the MAC space; neighbours share high bytes. */
		mac_of(i * 0x01000193u, mac);
		if (!last_seen[i]) {
			if (count == CAP) {
				unsigned oldest = POOL;

				for (unsigned k = 0; k < POOL; k++)
					if (last_seen[k] && (oldest == POOL || last_seen[k] < last_seen[oldest]))
						oldest = k;
				last_seen[oldest] = 0;
				evicted++;
			} else {
				count++;
			}
		}
		last_seen[i] = step;
		discover(step, mac, step % 3 ? "offer" : "no_boot_file", "x");

		for (unsigned k = 0; k < POOL; k++) {
			json_t *o;

			mac_of(k * 0x01000193u, mac);
			o = machines_one_json(m, mac, NOW);
			if (last_seen[k]) {
				cr_assert(not(eq(ptr, o, NULL)), "step %d: machine %u (%s) unreachable", step, k, mac);
				cr_assert(eq(str, (char *)s_of(o, "mac"), mac));
				cr_assert(eq(dbl, json_real_value(json_object_get(o, "last_seen")), last_seen[k]));
			} else {
				cr_assert(eq(ptr, o, NULL), "step %d: evicted machine %u (%s) still found", step, k, mac);
			}
			json_decref(o);
		}
	}
	machines_counts(m, &c);
	cr_assert(eq(sz, c.total, CAP));
	cr_assert(eq(u64, c.evicted, evicted));
	cr_assert(gt(u64, evicted, 1000));
}

Test(machines, creation_limits_are_clamped)
{
	struct machines_counts c;

	m = machines_create(0, 0);
	cr_assert(not(eq(ptr, m, NULL)));
	machines_counts(m, &c);
	cr_assert(eq(sz, c.capacity, 1));
	machines_free(m);
	/* One dimension at a time: both at their maximum reserve about 9.7 GB
	 * (65536 records x 1024 entries x 144 bytes). */
	m = machines_create(MACHINES_MAX_CAPACITY + 1000, 1);
	cr_assert(not(eq(ptr, m, NULL)));
	machines_counts(m, &c);
	cr_assert(eq(sz, c.capacity, MACHINES_MAX_CAPACITY));
	machines_free(m);
	m = machines_create(1, MACHINES_MAX_TIMELINE + 5);
	cr_assert(not(eq(ptr, m, NULL)));
	for (int k = 0; k < MACHINES_MAX_TIMELINE + 10; k++)
		tftp_ev(k, MAC_A, IP_A, "started", 1, "f");
	{
		json_t *o = one(MAC_A);

		cr_assert(eq(sz, json_array_size(json_object_get(o, "timeline")), MACHINES_MAX_TIMELINE));
		json_decref(o);
	}
}

/* ---- the timeline ring ---- */

Test(machines, timeline_keeps_the_newest_entries_in_order_when_it_wraps)
{
	char file[16], *tl;
	json_t *o, *e;
	size_t i;

	m = machines_create(2, 4);
	for (int k = 0; k < 10; k++) {
		snprintf(file, sizeof(file), "f%d", k);
		tftp_ev(100 + k, MAC_A, IP_A, "started", 1, file);
	}
	tl = timeline_of(MAC_A, true);
	cr_assert(eq(str, tl, "tftp:tftp started:f6|tftp:tftp started:f7|tftp:tftp started:f8|tftp:tftp started:f9"));
	o = one(MAC_A);
	json_array_foreach(json_object_get(o, "timeline"), i, e)
		cr_assert(eq(dbl, json_real_value(json_object_get(e, "t")), 106.0 + (double)i));
	json_decref(o);

	/* Exactly full, and one past it. */
	machines_free(m);
	m = machines_create(2, 3);
	for (int k = 0; k < 3; k++) {
		snprintf(file, sizeof(file), "g%d", k);
		tftp_ev(k, MAC_A, IP_A, "started", 1, file);
	}
	cr_assert(eq(str, timeline_of(MAC_A, true), "tftp:tftp started:g0|tftp:tftp started:g1|tftp:tftp started:g2"));
	tftp_ev(3, MAC_A, IP_A, "started", 1, "g3");
	cr_assert(eq(str, timeline_of(MAC_A, true), "tftp:tftp started:g1|tftp:tftp started:g2|tftp:tftp started:g3"));

	machines_free(m);
	m = machines_create(2, 1);
	tftp_ev(1, MAC_A, IP_A, "started", 1, "h0");
	tftp_ev(2, MAC_A, IP_A, "completed", 1, "h0");
	cr_assert(eq(str, timeline_of(MAC_A, true), "nbp_loaded:tftp completed:h0"));
}

Test(machines, progress_moves_the_bar_not_the_timeline)
{
	m = machines_create(2, 8);
	tftp_ev(1, MAC_A, IP_A, "started", 100, "f");
	for (int k = 1; k <= 5; k++)
		tftp_ev(1 + k * 0.1, MAC_A, IP_A, "progress", (uint64_t)k * 10, "f");
	cr_assert(eq(str, timeline_of(MAC_A, false), "tftp:tftp started"));
	cr_assert(eq(str, (char *)progress_field(MAC_A, "bytes"), "50"));
	cr_assert(eq(str, (char *)field(MAC_A, "last_seen"), "1.500"));
}

Test(machines, a_reused_record_starts_with_an_empty_timeline)
{
	char mac[18];

	m = machines_create(1, 4);
	tftp_ev(1, MAC_A, IP_A, "started", 1, "old");
	tftp_ev(2, MAC_A, IP_A, "completed", 1, "old");
	mac_of(7, mac);
	discover(3, mac, "offer", "new");
	cr_assert(eq(str, timeline_of(mac, true), "offer:dhcp discover offer:new"));
	cr_assert(eq(str, (char *)field(mac, "ip"), "null"));
	cr_assert(eq(str, (char *)field(mac, "progress"), "null"));
}

/* ---- JSON ---- */

static void assert_keys(json_t *o, const char *const *keys, size_t n, const char *what)
{
	cr_assert(is(json_is_object(o)), "%s is not an object", what);
	for (size_t i = 0; i < n; i++)
		cr_assert(not(eq(ptr, json_object_get(o, keys[i]), NULL)), "%s lacks \"%s\"", what, keys[i]);
	cr_assert(eq(sz, json_object_size(o), n), "%s has %zu keys, the contract %zu", what, json_object_size(o), n);
}

static const char *const machine_keys[] = { "mac",	 "ip",	       "arch",	   "hostname", "profile",
					    "stage",	 "state",      "first_seen", "last_seen", "elapsed_s",
					    "progress", "failures", "last_error", "decision" };
#define N_MACHINE_KEYS (sizeof(machine_keys) / sizeof(machine_keys[0]))

Test(machines, json_shape_follows_the_contract_with_nulls)
{
	static const char *const list_keys[] = { "machines", "capacity", "evicted", "now" };
	static const char *const progress_keys[] = { "file", "bytes", "total" };
	static const char *const timeline_keys[] = { "t", "stage", "event", "detail" };
	json_t *l, *o, *e;
	size_t i;

	m = machines_create(8, 8);
	discover(30, "52:54:00:00:00:03", "no_boot_file", NULL); /* nothing known but MAC, arch, decision */
	tftp_ev(10, "52:54:00:00:00:01", "10.0.0.1", "started", 5, "a"); /* TFTP only: no arch, no decision */
	discover(20, "52:54:00:00:00:02", "offer", "b");

	l = machines_list_json(m, 1234.5);
	assert_keys(l, list_keys, 4, "the list");
	cr_assert(is(json_is_array(json_object_get(l, "machines"))));
	cr_assert(is(json_is_integer(json_object_get(l, "capacity"))));
	cr_assert(is(json_is_integer(json_object_get(l, "evicted"))));
	cr_assert(is(json_is_real(json_object_get(l, "now"))));
	cr_assert(eq(dbl, json_real_value(json_object_get(l, "now")), 1234.5));
	/* Sorted by first_seen, oldest first. */
	cr_assert(eq(sz, json_array_size(json_object_get(l, "machines")), 3));
	json_array_foreach(json_object_get(l, "machines"), i, o) {
		static const char *const order[] = { "52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:03" };

		assert_keys(o, machine_keys, N_MACHINE_KEYS, "a machine");
		cr_assert(eq(str, (char *)s_of(o, "mac"), (char *)order[i]));
		cr_assert(is(json_is_real(json_object_get(o, "first_seen"))));
		cr_assert(is(json_is_real(json_object_get(o, "last_seen"))));
		cr_assert(is(json_is_real(json_object_get(o, "elapsed_s"))));
		cr_assert(is(json_is_integer(json_object_get(o, "failures"))));
		cr_assert(is(json_is_string(json_object_get(o, "stage"))));
		cr_assert(is(json_is_string(json_object_get(o, "state"))));
		cr_assert(json_object_get(o, "timeline") == NULL, "the list carries no timelines");
	}
	o = json_array_get(json_object_get(l, "machines"), 2); /* the silent one */
	cr_assert(eq(str, (char *)s_of(o, "ip"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "hostname"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "profile"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "progress"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "last_error"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "arch"), "bios"));
	cr_assert(eq(str, (char *)s_of(o, "decision"), "no_boot_file"));
	o = json_array_get(json_object_get(l, "machines"), 0); /* TFTP only */
	cr_assert(eq(str, (char *)s_of(o, "arch"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "decision"), "null"));
	cr_assert(eq(str, (char *)s_of(o, "ip"), "10.0.0.1"));
	assert_keys(json_object_get(o, "progress"), progress_keys, 3, "progress");
	cr_assert(is(json_is_integer(json_object_get(json_object_get(o, "progress"), "bytes"))));
	cr_assert(is(json_is_integer(json_object_get(json_object_get(o, "progress"), "total"))));
	json_decref(l);

	o = one("52:54:00:00:00:02");
	cr_assert(eq(sz, json_object_size(o), N_MACHINE_KEYS + 1));
	cr_assert(is(json_is_array(json_object_get(o, "timeline"))));
	json_array_foreach(json_object_get(o, "timeline"), i, e) {
		assert_keys(e, timeline_keys, 4, "a timeline entry");
		cr_assert(is(json_is_real(json_object_get(e, "t"))));
	}
	e = json_array_get(json_object_get(o, "timeline"), 0);
	cr_assert(eq(str, (char *)s_of(e, "stage"), "offer"));
	cr_assert(eq(str, (char *)s_of(e, "event"), "dhcp discover offer"));
	cr_assert(eq(str, (char *)s_of(e, "detail"), "b"));
	json_decref(o);

	/* Empty table. */
	machines_free(m);
	m = machines_create(8, 8);
	l = machines_list_json(m, 1.0);
	assert_keys(l, list_keys, 4, "the empty list");
	cr_assert(eq(sz, json_array_size(json_object_get(l, "machines")), 0));
	json_decref(l);
}

/* A string of the JSON is valid UTF-8 if jansson takes it back. */
static void assert_round_trips(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	json_error_t err;
	json_t *back;

	cr_assert(not(eq(ptr, text, NULL)), "json_dumps failed");
	back = json_loads(text, 0, &err);
	cr_assert(not(eq(ptr, back, NULL)), "invalid JSON: %s: %s", err.text, text);
	json_decref(back);
	free(text);
}

Test(machines, non_utf8_file_names_still_give_valid_json)
{
	char name[200];
	json_t *o;

	m = machines_create(4, 8);
	/* Raw 0xFF 0xFE from the network (percent-decoded by the parser). */
	tftp_ev(1, MAC_A, IP_A, "started", 1, "boot%FF%FE.efi");
	o = one(MAC_A);
	assert_round_trips(o);
	cr_assert(is(json_is_string(json_object_get(json_object_get(o, "progress"), "file"))));
	cr_assert(is(json_is_string(json_object_get(json_array_get(json_object_get(o, "timeline"), 0), "detail"))));
	json_decref(o);
	tftp_ev(2, MAC_A, IP_A, "timed_out", 1, "boot%FF%FE.efi"); /* into last_error too */
	o = one(MAC_A);
	assert_round_trips(o);
	cr_assert(is(json_is_string(json_object_get(o, "last_error"))));
	json_decref(o);
	o = machines_list_json(m, NOW);
	assert_round_trips(o);
	json_decref(o);

	/* Valid UTF-8 is kept as it is. */
	machines_free(m);
	m = machines_create(4, 8);
	tftp_ev(1, MAC_A, IP_A, "started", 1, "%C3%A9t%C3%A9.efi");
	o = one(MAC_A);
	cr_assert(eq(str, (char *)s_of(json_object_get(o, "progress"), "file"), "\xc3\xa9t\xc3\xa9.efi"));
	json_decref(o);

	/* Valid UTF-8 cut in the middle of a character by a field's length:
	 * progress (95 bytes), the error (40 bytes of the name), the timeline. */
	machines_free(m);
	m = machines_create(4, 8);
	memset(name, 'a', 94);
	strcpy(name + 94, "%C3%A9");
	tftp_ev(1, MAC_A, IP_A, "started", 1, name);
	memset(name, 'b', 39);
	strcpy(name + 39, "%C3%A9%C3%A9");
	tftp_ev(2, MAC_A, IP_A, "aborted", 1, name);
	o = one(MAC_A);
	assert_round_trips(o);
	cr_assert(is(json_is_string(json_object_get(o, "last_error"))));
	cr_assert(is(json_is_string(json_object_get(json_object_get(o, "progress"), "file"))));
	cr_assert(eq(int, strncmp(s_of(json_object_get(o, "progress"), "file"), "bbbb", 4), 0));
	json_decref(o);
	o = machines_list_json(m, NOW);
	assert_round_trips(o);
	json_decref(o);
}

Test(machines, lookup_by_mac_in_any_case_with_colons_or_dashes)
{
	static const char *const same[] = { "52:54:00:ab:cd:ef", "52-54-00-ab-cd-ef", "52:54:00:AB:CD:EF",
					    "52-54-00-AB-CD-EF", "52:54-00:aB:Cd-eF" };
	static const char *const bad[] = { "", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:00", "52:54:00:ab:cd:eg",
					   "525400abcdef", "52.54.00.ab.cd.ef", "52:54:00:ab:cd:ef ", "nonsense" };

	m = machines_create(4, 8);
	discover(1, "52-54-00-AB-CD-EF", "offer", "x"); /* how the event names it does not matter either */
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		json_t *o = machines_one_json(m, same[i], NOW);

		cr_assert(not(eq(ptr, o, NULL)), "%s", same[i]);
		cr_assert(eq(str, (char *)s_of(o, "mac"), "52:54:00:ab:cd:ef"));
		json_decref(o);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(eq(ptr, machines_one_json(m, bad[i], NOW), NULL), "'%s'", bad[i]);
	cr_assert(eq(ptr, machines_one_json(m, "52:54:00:ab:cd:ee", NOW), NULL));
	cr_assert(eq(sz, listed(), 1));
}

Test(machines, events_with_a_bad_mac_create_nothing)
{
	struct event_dhcp d = { .time = 1, .mac = "zz:zz:zz:zz:zz:zz", .ip = "0.0.0.0", .port = 68, .arch = "bios",
				.msg = "discover", .decision = "offer" };
	struct event_tftp t = { .time = 1, .mac = "not a mac", .ip = "0.0.0.0", .state = "started", .file = "x" };

	m = machines_create(4, 8);
	machines_on_dhcp(m, &d);
	cr_assert(eq(dbl, machines_on_tftp(m, &t), -1));
	machines_on_script(m, 1, "bogus", "0.0.0.0", NULL, NULL, NULL, NULL, 0);
	machines_on_http(m, 1, "10.0.0.9", "x", 200, 1, true);
	cr_assert(eq(sz, listed(), 0));
}

/* ---- threads ---- */

struct worker {
	unsigned id;
	int rounds;
};

static void *writer(void *arg)
{
	const struct worker *w = arg;
	uint64_t x = 0x2545F4914F6CDD1Dull * (w->id + 1);

	for (int r = 0; r < w->rounds; r++) {
		char mac[18], ip[16];
		double t = r + w->id / 10.0;
		struct event_dhcp d = { .time = t, .ip = "0.0.0.0", .port = 68, .arch = "bios", .msg = "discover",
					.decision = "offer", .file = "undionly.kpxe" };
		struct event_tftp tf = { .time = t, .port = 2000, .state = "started", .bytes = 10, .file = "f" };
		const char *initrds[] = { "i" };

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		mac_of(w->id << 8 | (unsigned)(x % 40), mac);
		snprintf(ip, sizeof(ip), "10.%u.0.%u", w->id, (unsigned)(x % 40));
		switch (x >> 60 & 3) {
		case 0:
			snprintf(d.mac, sizeof(d.mac), "%s", mac);
			machines_on_dhcp(m, &d);
			break;
		case 1:
			snprintf(tf.mac, sizeof(tf.mac), "%s", mac);
			snprintf(tf.ip, sizeof(tf.ip), "%s", ip);
			machines_on_tftp(m, &tf);
			break;
		case 2:
			machines_on_script(m, t, mac, ip, "h", "p", "k", initrds, 1);
			break;
		default:
			machines_on_http(m, t, ip, x & 1 ? "k" : "i", 200, 5, true);
			break;
		}
	}
	return NULL;
}

/* Assertions stay on the test's thread: readers count what went wrong. */
static unsigned reader_errors;

static void *reader(void *arg)
{
	const struct worker *w = arg;

	for (int r = 0; r < w->rounds; r++) {
		json_t *l = machines_list_json(m, NOW), *o;
		char mac[18], *text = json_dumps(l, JSON_COMPACT);
		struct machines_counts c;

		if (!text || json_array_size(json_object_get(l, "machines")) > 32)
			__atomic_add_fetch(&reader_errors, 1, __ATOMIC_RELAXED);
		free(text);
		json_decref(l);
		mac_of((unsigned)r % 4 << 8 | (unsigned)r % 40, mac);
		o = machines_one_json(m, mac, NOW);
		if (o) {
			text = json_dumps(o, JSON_COMPACT);
			if (!text)
				__atomic_add_fetch(&reader_errors, 1, __ATOMIC_RELAXED);
			free(text);
			json_decref(o);
		}
		machines_counts(m, &c);
		if (c.total > 32)
			__atomic_add_fetch(&reader_errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(machines, concurrent_writers_and_readers_smoke, .timeout = 60)
{
	enum { WRITERS = 4, READERS = 4 };
	pthread_t th[WRITERS + READERS];
	struct worker w[WRITERS + READERS];
	struct machines_counts c;
	json_t *l;

	m = machines_create(32, 16);
	for (unsigned i = 0; i < WRITERS + READERS; i++) {
		w[i] = (struct worker){ .id = i % WRITERS, .rounds = i < WRITERS ? 50000 : 3000 };
		cr_assert(eq(int, pthread_create(&th[i], NULL, i < WRITERS ? writer : reader, &w[i]), 0));
	}
	for (unsigned i = 0; i < WRITERS + READERS; i++)
		pthread_join(th[i], NULL);
	cr_assert(eq(u32, reader_errors, 0));
	machines_counts(m, &c);
	cr_assert(eq(sz, c.total, 32));
	cr_assert(gt(u64, c.evicted, 0));
	l = machines_list_json(m, NOW);
	cr_assert(eq(sz, json_array_size(json_object_get(l, "machines")), 32));
	json_decref(l);
	cr_assert(eq(sz, c.by_state[MACHINE_BOOTING] + c.by_state[MACHINE_HANDED_OFF] + c.by_state[MACHINE_FAILED] +
				 c.by_state[MACHINE_IGNORED],
		     32));
}

/* A new machine given an address another machine had: its TFTP transfer is
 * its own (matched by its MAC, which asked DHCP), and the address moves. */
Test(machines, an_address_given_again_follows_the_new_machine)
{
	m = machines_create(8, 16);
	discover(100, MAC_A, "offer", "undionly.kpxe");
	script(101, MAC_A, IP_A, "lab", "lab/vmlinuz", "lab/initrd.img");
	discover(200, "52:54:00:00:00:0b", "offer", "undionly.kpxe");
	tftp_ev(201, "52:54:00:00:00:0b", IP_A, "started", 10, "undionly.kpxe");
	cr_assert(eq(str, (char *)stage_of("52:54:00:00:00:0b"), "tftp"));
	cr_assert(eq(str, (char *)stage_of(MAC_A), "script"), "the old owner of the address is untouched");
	cr_assert(eq(str, (char *)field("52:54:00:00:00:0b", "ip"), IP_A));
	cr_assert(eq(str, (char *)field(MAC_A, "ip"), "null"), "the address moved");
}

/* A script naming "/lab/vmlinuz" is fetched as "lab/vmlinuz". */
Test(machines, leading_slashes_in_profile_paths_still_match)
{
	m = machines_create(4, 8);
	discover(100, MAC_A, "offer", "undionly.kpxe");
	script(101, MAC_A, IP_A, "lab", "/lab/vmlinuz", "/lab/initrd.img");
	machines_on_http(m, 102, IP_A, "lab/vmlinuz", 200, 1, true);
	machines_on_http(m, 103, IP_A, "lab/initrd.img", 200, 1, true);
	cr_assert(eq(str, (char *)state_of(MAC_A), "handed_off"));
}
