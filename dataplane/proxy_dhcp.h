/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxyDHCP responder: one request datagram in, at most one reply out.
 *
 * Pure like the rest of the protocol code: the caller hands in the datagram
 * (UDP 67 or 4011), the current policy and a buffer; it gets back the reply
 * bytes, where to send them and what was decided, and counts the decision.
 *
 * What is answered (PXE 2.1 §2.2, DESIGN.md's boot flow):
 *   67   DISCOVER                      -> proxy OFFER
 *   67   REQUEST naming us (option 54) -> ACK (firmware that re-ask the proxy on 67)
 *   4011 REQUEST or INFORM             -> ACK, from port 4011 (boot server / BINL)
 * Everything else is silence with a reason: other REQUESTs on 67 belong to the
 * site's DHCP server, and clients that are not PXE/HTTP firmware are never
 * answered.
 */
#ifndef STAMPEDE_PROXY_DHCP_H
#define STAMPEDE_PROXY_DHCP_H

#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"
#include "net.h"
#include "proxy_policy.h"

/* The boot item type Stampede announces in boot-server mode (PXE 2.1 §2.4.2:
 * 0 means "local boot" and 1-0x7fff are registered vendors; 0x8000 and up are
 * free for a site's own boot servers). */
#define PROXY_BOOT_ITEM_TYPE 0x8000

#define PROXY_DECISIONS(X)                                                                    \
	X(offer, "proxy offers sent to DISCOVERs")                                             \
	X(ack, "ACKs sent to REQUESTs (4011 boot server, or on 67 naming this server)")          \
	X(malformed, "not a well-formed DHCP message (counted, never answered)")                \
	X(not_request, "BOOTREPLYs and other non-requests")                                     \
	X(not_pxe, "clients without option 60 PXEClient/HTTPClient: the site's, not ours")      \
	X(no_policy, "requests before the control plane sent a policy")                         \
	X(other_type, "message types a proxy does not answer here (DECLINE, RELEASE, ...)")      \
	X(other_server, "REQUESTs on 67 for the site's DHCP server")                            \
	X(denied_mac, "MAC on the deny list")                                                   \
	X(denied_subnet, "subnet on the deny list")                                             \
	X(not_allowed, "MAC or subnet missing from a non-empty allow list")                     \
	X(unmatched, "no machine selector matched and unmatched machines are ignored")          \
	X(no_boot_file, "no boot file configured for the client's architecture")               \
	X(reply_too_large, "a reply that did not fit (boot file or option 43 too long)")

enum proxy_decision {
#define PROXY_DECISION_ENUM(name, help) PROXY_##name,
	PROXY_DECISIONS(PROXY_DECISION_ENUM)
#undef PROXY_DECISION_ENUM
	PROXY_DECISION_COUNT
};

const char *proxy_decision_name(enum proxy_decision d);

/* Requests received, by option 53 (only from PXE clients: others are not_pxe). */
enum proxy_msg_kind { PROXY_RX_DISCOVER, PROXY_RX_REQUEST, PROXY_RX_INFORM, PROXY_RX_OTHER, PROXY_RX_COUNT };
const char *proxy_msg_kind_name(enum proxy_msg_kind k);
/* Option 53's value as a kind. */
enum proxy_msg_kind proxy_msg_kind(uint8_t type);

struct proxy_dhcp_counters {
	uint64_t received[PROXY_RX_COUNT];
	uint64_t decisions[PROXY_DECISION_COUNT];
};

struct proxy_answer {
	enum proxy_decision decision;
	size_t len;               /* reply bytes in the output buffer; 0 = silence */
	struct net_endpoint to;   /* where the reply goes (MAC, IP, port) */
	uint16_t src_port;        /* 67, or 4011 for boot-server replies */
	bool classified;          /* client below is valid (a PXE client) */
	struct pxe_client client; /* pointers into the request datagram */
	const char *boot_file;    /* what the reply named (into the policy), or NULL */
};

/*
 * Handle one datagram addressed to UDP 67 or 4011 (d->dst.port says which).
 * self_ip is the server's address (network order), used as the client's
 * subnet address for unrelayed, address-less requests. msg is scratch space
 * (4.4 KB: one per polling core). policy may be NULL (answer nothing).
 */
void proxy_dhcp_handle(const struct proxy_policy *policy, const struct net_udp_datagram *d, uint32_t self_ip,
		       struct dhcp_message *msg, uint8_t *out, size_t cap, struct proxy_answer *answer,
		       struct proxy_dhcp_counters *counters);

#endif
