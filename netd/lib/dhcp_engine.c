#include "dhcp_engine.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

size_t dhcp_engine_request(uint32_t seq, const struct dhcp_network *net,
			   const uint8_t src_mac[6], const uint8_t *packet, size_t len,
			   uint8_t *buf, size_t buflen)
{
	if (net->n_leases > DHCP_ENGINE_MAX_LEASES || len > DHCP_ENGINE_MAX_PACKET ||
	    net->n_dns > DHCP_MAX_DNS)
		return 0;
	size_t leases = net->n_leases * sizeof(struct dhcp_lease);
	size_t total = sizeof(struct dhcp_engine_req) + leases + len;
	if (total > buflen)
		return 0;
	struct dhcp_engine_req r = {
		.seq = seq,
		.has_router = net->has_router,
		.n_dns = (uint8_t)net->n_dns,
		.server_id = net->server_id,
		.router = net->router,
		.mtu = net->mtu,
		.n_leases = (uint16_t)net->n_leases,
		.packet_len = (uint16_t)len,
	};
	memcpy(r.src_mac, src_mac, 6);
	memcpy(r.dns, net->dns, sizeof(r.dns));
	memcpy(buf, &r, sizeof(r));
	if (leases)
		memcpy(buf + sizeof(r), net->leases, leases);
	memcpy(buf + sizeof(r) + leases, packet, len);
	return total;
}

/* A client names itself in chaddr, and the reply goes there (or is
 * broadcast): a machine naming another would have the server answer, or
 * NAK, the other in its place. */
static int chaddr_is_sender(const uint8_t *payload, size_t len, const uint8_t mac[6],
			    struct dhcp_engine_answer *a)
{
	struct dhcp_msg m;
	a->received = DHCP_INFORM + 1; /* counted, as "other" unless its type is known */
	if (dhcp_parse(payload, len, &m) < 0)
		return 1; /* dhcp_handle says why */
	if (m.type >= DHCP_DISCOVER && m.type <= DHCP_INFORM)
		a->received = m.type;
	return memcmp(m.chaddr, mac, 6) == 0;
}

int dhcp_engine_serve(const uint8_t *req, size_t len, struct dhcp_engine_answer *a)
{
	memset(a, 0, sizeof(*a));
	struct dhcp_engine_req r;
	if (len < sizeof(r))
		return -EINVAL;
	memcpy(&r, req, sizeof(r));
	a->seq = r.seq;
	size_t leases = (size_t)r.n_leases * sizeof(struct dhcp_lease);
	if (r.n_leases > DHCP_ENGINE_MAX_LEASES || r.n_dns > DHCP_MAX_DNS ||
	    len != sizeof(r) + leases + r.packet_len)
		return -EINVAL;
	static struct dhcp_lease table[DHCP_ENGINE_MAX_LEASES];
	memcpy(table, req + sizeof(r), leases);
	for (size_t i = 0; i < r.n_leases; i++)
		table[i].hostname[DHCP_HOSTNAME_MAX] = '\0';
	struct dhcp_network net = {
		.server_id = r.server_id,
		.has_router = r.has_router,
		.router = r.router,
		.n_dns = r.n_dns,
		.mtu = r.mtu,
		.leases = table,
		.n_leases = r.n_leases,
	};
	memcpy(net.dns, r.dns, sizeof(net.dns));
	const uint8_t *payload;
	size_t plen;
	a->ignored = DHCP_IGNORE_MALFORMED;
	if (dhcp_udp_payload(req + sizeof(r) + leases, r.packet_len, &payload, &plen) < 0)
		return 0;
	if (!chaddr_is_sender(payload, plen, r.src_mac, a)) {
		a->ignored = DHCP_IGNORE_CHADDR;
		return 0;
	}
	struct dhcp_decision d;
	dhcp_handle(&net, payload, plen, &d);
	a->ignored = d.ignored;
	if (!d.reply)
		return 0;
	size_t n = dhcp_udp_wrap(net.server_id, d.dst_addr, d.buf, d.len, a->packet,
				 sizeof(a->packet));
	if (!n) {
		a->ignored = DHCP_IGNORE_MALFORMED;
		return 0;
	}
	a->reply = 1;
	a->type = d.type;
	a->broadcast = d.broadcast;
	memcpy(a->dst_mac, d.dst_mac, 6);
	a->yiaddr = d.yiaddr;
	a->len = (uint16_t)n;
	return 0;
}

int dhcp_engine_check(const struct dhcp_engine_answer *a, size_t n, uint32_t seq)
{
	if (n != sizeof(*a) || a->seq != seq || a->ignored >= DHCP_IGNORE_REASONS ||
	    a->received > DHCP_INFORM + 1)
		return -EINVAL;
	if (!a->reply)
		return 0;
	bool type_ok = a->type == DHCP_OFFER || a->type == DHCP_ACK || a->type == DHCP_NAK;
	return type_ok && a->len >= DHCP_IPUDP_LEN && a->len <= sizeof(a->packet) ? 0 : -EINVAL;
}
