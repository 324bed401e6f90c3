/*
 * The DHCP engine's requests and answers: what netd's parent, which keeps
 * the packet sockets, hands the unprivileged engine process that parses a
 * guest's packet, and what comes back (netd/daemon/engine.c). Both sides
 * are pure functions over buffers, so that each side checks what the other
 * sends: the engine a request's framing, the parent an answer's fields.
 */
#ifndef PLAYNET_DHCP_ENGINE_H
#define PLAYNET_DHCP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"

#define DHCP_ENGINE_MAX_LEASES 256
#define DHCP_ENGINE_MAX_PACKET 2048

/* The fixed part of a request; n_leases struct dhcp_lease and then the
 * packet (an IPv4 packet as the packet socket read it) follow. */
struct dhcp_engine_req {
	uint32_t seq;
	uint8_t src_mac[6]; /* the frame's source, which chaddr must be */
	uint8_t has_router;
	uint8_t n_dns;
	uint32_t server_id;
	uint32_t router;
	uint32_t dns[DHCP_MAX_DNS];
	uint16_t mtu;
	uint16_t n_leases;
	uint16_t packet_len;
	uint16_t pad;
};

struct dhcp_engine_answer {
	uint32_t seq;
	uint8_t received;      /* the type read (DHCP_INFORM + 1: other), 0: not DHCP */
	uint8_t reply;         /* else ignored says why */
	uint8_t type;          /* the reply's: OFFER, ACK or NAK */
	uint8_t broadcast;
	uint8_t dst_mac[6];
	uint16_t len;          /* of packet: the reply as an IPv4 packet */
	uint32_t ignored;      /* enum dhcp_ignore */
	uint32_t yiaddr;
	uint8_t packet[DHCP_IPUDP_LEN + DHCP_MAX_REPLY];
};

/* The largest request dhcp_engine_request makes. */
#define DHCP_ENGINE_MAX_REQUEST                                               \
	(sizeof(struct dhcp_engine_req) +                                      \
	 DHCP_ENGINE_MAX_LEASES * sizeof(struct dhcp_lease) + DHCP_ENGINE_MAX_PACKET)

/* Builds a request into buf; its length, or 0 when buf is too small. */
size_t dhcp_engine_request(uint32_t seq, const struct dhcp_network *net,
			   const uint8_t src_mac[6], const uint8_t *packet, size_t len,
			   uint8_t *buf, size_t buflen);

/* The engine's side: a request in, the answer out. -EINVAL for a request
 * that is not well framed (the packet inside it may be anything). */
int dhcp_engine_serve(const uint8_t *req, size_t len, struct dhcp_engine_answer *a);

/* The parent's side: 0 when a, of n bytes, answers request seq and its
 * fields are in range. */
int dhcp_engine_check(const struct dhcp_engine_answer *a, size_t n, uint32_t seq);

#endif
