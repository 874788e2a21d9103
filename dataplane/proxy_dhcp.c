/* SPDX-License-Identifier: BSD-2-Clause */
#include "proxy_dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static const char *const decision_names[] = {
#define PROXY_DECISION_NAME(name, help) #name,
	PROXY_DECISIONS(PROXY_DECISION_NAME)
#undef PROXY_DECISION_NAME
};

const char *proxy_decision_name(enum proxy_decision d)
{
	return (unsigned)d < PROXY_DECISION_COUNT ? decision_names[d] : "unknown";
}

const char *proxy_msg_kind_name(enum proxy_msg_kind k)
{
	static const char *const names[] = { "discover", "request", "inform", "other" };

	return (unsigned)k < PROXY_RX_COUNT ? names[k] : "unknown";
}

enum proxy_msg_kind proxy_msg_kind(uint8_t type)
{
	switch (type) {
	case DHCP_DISCOVER: return PROXY_RX_DISCOVER;
	case DHCP_REQUEST: return PROXY_RX_REQUEST;
	case DHCP_INFORM: return PROXY_RX_INFORM;
	default: return PROXY_RX_OTHER;
	}
}

/* Which reply a message type earns on the port it came to, or a silence. */
static enum proxy_decision reply_type(const struct dhcp_message *m, const struct pxe_client *c, uint16_t port,
				      uint32_t server_ip)
{
	const struct dhcp_option *sid = dhcp_option(m, DHCP_OPT_SERVER_ID);

	if (port == PXE_BOOT_SERVER_PORT)
		return c->msg_type == DHCP_REQUEST || c->msg_type == DHCP_INFORM ? PROXY_ack : PROXY_other_type;
	if (c->msg_type == DHCP_DISCOVER)
		return PROXY_offer;
	if (c->msg_type == DHCP_REQUEST)
		return sid && sid->len == 4 && memcmp(sid->data, &server_ip, 4) == 0 ? PROXY_ack : PROXY_other_server;
	return PROXY_other_type;
}

/* The address that places a client in a subnet: the relay's for relayed
 * requests, else the client's own, else (an address-less client on our own
 * segment) the server's. */
static uint32_t client_subnet_address(const struct dhcp_message *m, const struct net_udp_datagram *d,
				      uint32_t self_ip)
{
	if (m->giaddr)
		return m->giaddr;
	if (m->ciaddr)
		return m->ciaddr;
	if (d->src.ip)
		return d->src.ip;
	return self_ip;
}

static enum proxy_decision check_lists(const struct proxy_policy *p, const struct pxe_client *c, uint32_t subnet_ip)
{
	bool mac_known = c->has_mac;

	if (mac_known && policy_mac_listed(&p->deny_macs, c->mac))
		return PROXY_denied_mac;
	if (policy_subnet_listed(&p->deny_subnets, subnet_ip))
		return PROXY_denied_subnet;
	if (p->allow_macs.n && !(mac_known && policy_mac_listed(&p->allow_macs, c->mac)))
		return PROXY_not_allowed;
	if (p->allow_subnets.n && !policy_subnet_listed(&p->allow_subnets, subnet_ip))
		return PROXY_not_allowed;
	if (!p->answer_unmatched) {
		bool selected = (mac_known && policy_mac_listed(&p->select_macs, c->mac)) ||
				(c->guid_valid && policy_uuid_listed(&p->select_uuids, c->uuid + 1)) ||
				p->select_arch[c->arch];

		if (!selected)
			return PROXY_unmatched;
	}
	return PROXY_offer; /* "go on" */
}

/* Fill the reply for a client that passed the lists. */
static enum proxy_decision shape_reply(const struct proxy_policy *p, const struct pxe_client *c,
				       enum proxy_decision type, struct proxy_reply *r,
				       struct pxe_boot_server *server, struct pxe_menu_item *item)
{
	const struct policy_arch *arch = &p->arch[c->arch];
	const char *file = arch->boot_file;

	*r = (struct proxy_reply){
		.type = type == PROXY_offer ? DHCP_OFFER : DHCP_ACK,
		.server_id = p->server_ip,
		.next_server = p->server_ip,
		.http_client = c->http,
		.extra = p->extra,
		.extra_len = p->extra_len,
	};
	/* iPXE already runs: hand it its script, or it loads itself again. */
	if (c->ipxe && p->script_url[0])
		file = p->script_url;
	if (!file[0] || (c->http && !policy_is_url(file)))
		return PROXY_no_boot_file;
	r->boot_file = file;
	if (c->http)
		return type; /* UEFI HTTP Boot: a URL and "HTTPClient", nothing PXE */

	if (type == PROXY_ack) {
		/* PXE 2.1 §2.2.5: the ACK names the boot item the client asked for;
		 * iPXE accepts nothing else. */
		if (c->has_boot_item) {
			r->pxe.include = true;
			r->pxe.has_boot_item = true;
			r->pxe.boot_item_type = c->boot_item_type;
			r->pxe.boot_item_layer = c->boot_item_layer;
		}
		return type;
	}
	if (arch->via_boot_server && !c->ipxe) {
		/* Boot server discovery: no file now; the client unicasts a REQUEST
		 * for our one boot item to 4011 and the ACK names the file. */
		*server = (struct pxe_boot_server){ .type = PROXY_BOOT_ITEM_TYPE, .n_addrs = 1, .addrs = { p->server_ip } };
		*item = (struct pxe_menu_item){ .type = PROXY_BOOT_ITEM_TYPE, .description = p->menu_text };
		r->boot_file = NULL;
		r->pxe = (struct pxe_vendor_options){
			.include = true,
			.discovery_control = PXE_DISCOVERY_NO_BROADCAST | PXE_DISCOVERY_NO_MULTICAST |
					     PXE_DISCOVERY_SERVER_LIST,
			.servers = server,
			.n_servers = 1,
			.menu = item,
			.n_menu = 1,
			/* Timeout 0: the first item is taken without showing the menu. */
			.prompt = p->prompt[0] ? p->prompt : "Stampede",
			.prompt_timeout = p->prompt[0] ? p->prompt_timeout : 0,
		};
		return type;
	}
	if (c->arch == PXE_ARCH_BIOS && !c->ipxe) {
		/* PXE ROMs read option 43; "use the boot file, skip discovery"
		 * (as pixiecore does). UEFI firmware get no option 43: EDK2 then
		 * treats the offer as BINL and asks 4011, which we answer. */
		r->pxe.include = true;
		r->pxe.discovery_control = PXE_DISCOVERY_USE_BOOTFILE;
	}
	return type;
}

/* RFC 2131 §4.1 and PXE 2.1: relayed requests go back to the relay on 67;
 * 4011 requests to where they came from; a client with an address (ciaddr)
 * by unicast; the rest broadcast on 68 (yiaddr is never set, so there is no
 * address to unicast a not-yet-configured client to). */
static void address_reply(const struct net_udp_datagram *d, const struct dhcp_message *m, struct proxy_answer *a)
{
	static const uint8_t broadcast_mac[NET_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	a->to = d->src;
	if (d->dst.port == PXE_BOOT_SERVER_PORT) {
		a->src_port = PXE_BOOT_SERVER_PORT;
		if (!a->to.ip)
			a->to.ip = m->ciaddr ? m->ciaddr : INADDR_BROADCAST;
		return;
	}
	a->src_port = DHCP_SERVER_PORT;
	if (m->giaddr) {
		a->to.ip = m->giaddr;
		a->to.port = DHCP_SERVER_PORT;
	} else if (m->ciaddr) { /* RFC 2131 §4.1: to ciaddr, whatever the flag */
		a->to.ip = m->ciaddr;
		a->to.port = DHCP_CLIENT_PORT;
	} else {
		memcpy(a->to.mac, broadcast_mac, NET_ETH_ALEN);
		a->to.ip = INADDR_BROADCAST;
		a->to.port = DHCP_CLIENT_PORT;
	}
}

static enum proxy_decision answer(const struct proxy_policy *p, const struct net_udp_datagram *d, uint32_t self_ip,
				   struct dhcp_message *m, uint8_t *out, size_t cap, struct proxy_answer *a,
				   struct proxy_dhcp_counters *counters)
{
	struct pxe_boot_server server;
	struct pxe_menu_item item;
	struct proxy_reply reply;
	enum proxy_decision type, verdict;
	const char *why;
	int r;

	if (dhcp_parse(d->payload, d->payload_len, m, &why) < 0)
		return PROXY_malformed;
	if (m->op != DHCP_BOOTREQUEST)
		return PROXY_not_request;
	r = dhcp_pxe_client(m, &a->client);
	if (r == -ENOENT)
		return PROXY_not_pxe;
	if (r < 0)
		return PROXY_malformed;
	a->classified = true;
	counters->received[proxy_msg_kind((uint8_t)a->client.msg_type)]++;
	if (!p)
		return PROXY_no_policy;

	type = reply_type(m, &a->client, d->dst.port, p->server_ip);
	if (type != PROXY_offer && type != PROXY_ack)
		return type;
	verdict = check_lists(p, &a->client, client_subnet_address(m, d, self_ip));
	if (verdict != PROXY_offer)
		return verdict;
	verdict = shape_reply(p, &a->client, type, &reply, &server, &item);
	if (verdict != type)
		return verdict;
	a->len = dhcp_build_proxy_reply(out, cap, m, &reply);
	if (a->len == 0)
		return PROXY_reply_too_large;
	a->boot_file = reply.boot_file;
	address_reply(d, m, a);
	return type;
}

void proxy_dhcp_handle(const struct proxy_policy *p, const struct net_udp_datagram *d, uint32_t self_ip,
		       struct dhcp_message *m, uint8_t *out, size_t cap, struct proxy_answer *a,
		       struct proxy_dhcp_counters *counters)
{
	memset(a, 0, sizeof(*a));
	a->decision = answer(p, d, self_ip, m, out, cap, a, counters);
	counters->decisions[a->decision]++;
}
