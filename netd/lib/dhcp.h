/*
 * DHCP for guests (DESIGN.md section 4): static leases by MAC, infinite lease
 * time. This module is pure: a request's bytes in, a decision (and a reply's
 * bytes) out, no sockets, so that it can be fuzzed and tested on its own.
 * The parser reads untrusted packets: every read is checked against what
 * remains.
 */
#ifndef PLAYNET_DHCP_H
#define PLAYNET_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_MIN_LEN 240 /* BOOTP header and the magic cookie */
#define DHCP_MAX_REPLY 576
#define DHCP_HOSTNAME_MAX 63
#define DHCP_MAX_DNS 4

enum dhcp_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* What the parser keeps of a client's message. */
struct dhcp_msg {
	uint8_t op;
	uint32_t xid;
	uint16_t flags;
	uint32_t ciaddr;    /* host order, like every address here */
	uint32_t giaddr;
	uint8_t chaddr[6];
	uint8_t type;       /* option 53 */
	bool has_requested;
	uint32_t requested; /* option 50 */
	bool has_server_id;
	uint32_t server_id; /* option 54 */
};

/* Why a packet got no answer; counted by the caller. */
enum dhcp_ignore {
	DHCP_IGNORE_MALFORMED,
	DHCP_IGNORE_NOT_REQUEST, /* op is not BOOTREQUEST, or not Ethernet */
	DHCP_IGNORE_RELAYED,     /* giaddr set: no relays on a playground bridge */
	DHCP_IGNORE_UNKNOWN_MAC, /* no lease for this client */
	DHCP_IGNORE_OTHER_SERVER, /* REQUEST for another server */
	DHCP_IGNORE_TYPE,        /* DECLINE, RELEASE, server messages, unknown */
	DHCP_IGNORE_CHADDR,      /* chaddr is not the frame's source MAC (netd's check) */
	DHCP_IGNORE_RATE,        /* over the bridge's rate (netd's check) */
	DHCP_IGNORE_REASONS,
};

/* -EINVAL for anything that is not a well-formed DHCP message. */
int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *out);

/* One machine interface's lease, and what its network hands out. */
struct dhcp_lease {
	uint8_t mac[6];
	uint32_t address;
	uint8_t prefix;
	char hostname[DHCP_HOSTNAME_MAX + 1];
};

/* The server identifier on a private network, whose bridge has no address:
 * RFC 2131 wants one in every OFFER and ACK, and systemd-networkd's
 * client ignores an OFFER without. A link-local address names the server
 * on this link alone; nothing answers at it. */
#define DHCP_PRIVATE_SERVER_ID 0xa9fe0001u /* 169.254.0.1 */

struct dhcp_network {
	uint32_t server_id;   /* the gateway, or DHCP_PRIVATE_SERVER_ID; 0: none */
	bool has_router;      /* non-private networks only */
	uint32_t router;
	uint32_t dns[DHCP_MAX_DNS];
	size_t n_dns;         /* non-private networks only */
	uint16_t mtu;
	const struct dhcp_lease *leases;
	size_t n_leases;
};

struct dhcp_decision {
	bool reply;               /* else see ignored */
	enum dhcp_ignore ignored;
	uint8_t type;             /* OFFER, ACK or NAK */
	uint32_t yiaddr;
	bool broadcast;           /* send to 255.255.255.255 / ff:ff:.. */
	uint32_t dst_addr;        /* the IP destination */
	uint8_t dst_mac[6];
	uint8_t buf[DHCP_MAX_REPLY];
	size_t len;               /* the reply's DHCP payload (UDP data) */
};

/*
 * DISCOVER -> OFFER, REQUEST -> ACK (or NAK for another address), INFORM ->
 * ACK without an address; anything else, or a client without a lease, is
 * ignored with a reason.
 */
void dhcp_handle(const struct dhcp_network *net, const uint8_t *buf, size_t len,
		 struct dhcp_decision *d);

/* The layers around a message on the wire, for a packet socket that sees
 * IPv4 packets: the server port's UDP payload of pkt (untrusted; checked
 * header by header), and a reply from src:67 to dst:68 around payload. */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_IPUDP_LEN 28 /* IPv4 header without options, UDP header */
int dhcp_udp_payload(const uint8_t *pkt, size_t len, const uint8_t **payload, size_t *plen);
/* The packet's length, or 0 when out is too small. */
size_t dhcp_udp_wrap(uint32_t src, uint32_t dst, const uint8_t *payload, size_t plen,
		     uint8_t *out, size_t outlen);

const char *dhcp_type_name(uint8_t type);
const char *dhcp_ignore_name(enum dhcp_ignore why);

#endif
