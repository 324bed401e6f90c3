#include "dhcp.h"

#include <errno.h>
#include <string.h>

#include "ipam.h"

#define DHCP_MAGIC 0x63825363u
#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_FLAG_BROADCAST 0x8000
#define DHCP_MIN_REPLY 300 /* BOOTP's minimum; some clients drop less */

enum {
	OPT_PAD = 0,
	OPT_SUBNET_MASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_HOSTNAME = 12,
	OPT_MTU = 26,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE_TIME = 51,
	OPT_MESSAGE_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_END = 255,
};

/* A read cursor over untrusted bytes: every read checks what remains. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *cursor_take(struct cursor *c, size_t n)
{
	if (c->left < n)
		return NULL;
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int parse_option(struct dhcp_msg *m, uint8_t code, const uint8_t *v, size_t len)
{
	switch (code) {
	case OPT_MESSAGE_TYPE:
		if (len != 1)
			return -EINVAL;
		m->type = v[0];
		return 0;
	case OPT_REQUESTED_IP:
		if (len != 4)
			return -EINVAL;
		m->has_requested = true;
		m->requested = be32(v);
		return 0;
	case OPT_SERVER_ID:
		if (len != 4)
			return -EINVAL;
		m->has_server_id = true;
		m->server_id = be32(v);
		return 0;
	default:
		return 0; /* not needed for a static lease */
	}
}

int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m)
{
	memset(m, 0, sizeof(*m));
	struct cursor c = { buf, len };
	const uint8_t *h = cursor_take(&c, DHCP_MIN_LEN);
	if (!h)
		return -EINVAL;
	m->op = h[0];
	if (h[1] != 1 || h[2] != 6) /* Ethernet, 6-byte addresses */
		return -EPROTO;
	m->xid = be32(h + 4);
	m->flags = be16(h + 10);
	m->ciaddr = be32(h + 12);
	m->giaddr = be32(h + 24);
	memcpy(m->chaddr, h + 28, 6);
	if (be32(h + 236) != DHCP_MAGIC)
		return -EINVAL;
	for (;;) {
		const uint8_t *code = cursor_take(&c, 1);
		if (!code)
			return -EINVAL; /* options must end with OPT_END */
		if (*code == OPT_PAD)
			continue;
		if (*code == OPT_END)
			return 0;
		const uint8_t *olen = cursor_take(&c, 1);
		const uint8_t *val = olen ? cursor_take(&c, *olen) : NULL;
		if (!val || parse_option(m, *code, val, *olen) < 0)
			return -EINVAL;
	}
}

/* Writer of a reply: options are appended while they fit. */
struct writer {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool full;
};

static void put(struct writer *w, const void *data, size_t n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void put32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(w, b, 4);
}

static void put_opt(struct writer *w, uint8_t code, const void *data, size_t n)
{
	uint8_t hdr[2] = { code, (uint8_t)n };
	/* an option and the end marker must both fit */
	if (w->full || w->cap - w->len < n + 3) {
		w->full = true;
		return;
	}
	put(w, hdr, 2);
	put(w, data, n);
}

static void put_opt32(struct writer *w, uint8_t code, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put_opt(w, code, b, 4);
}

static void build_reply(const struct dhcp_network *net, const struct dhcp_msg *req,
			const struct dhcp_lease *lease, struct dhcp_decision *d)
{
	struct writer w = { d->buf, 0, sizeof(d->buf), false };
	uint8_t hdr[236] = { BOOTREPLY, 1, 6, 0 };
	hdr[4] = (uint8_t)(req->xid >> 24);
	hdr[5] = (uint8_t)(req->xid >> 16);
	hdr[6] = (uint8_t)(req->xid >> 8);
	hdr[7] = (uint8_t)req->xid;
	hdr[10] = (uint8_t)(req->flags >> 8);
	hdr[11] = (uint8_t)req->flags;
	if (d->type == DHCP_ACK && req->type == DHCP_INFORM) {
		uint32_t ci = req->ciaddr;
		hdr[12] = (uint8_t)(ci >> 24), hdr[13] = (uint8_t)(ci >> 16);
		hdr[14] = (uint8_t)(ci >> 8), hdr[15] = (uint8_t)ci;
	}
	hdr[16] = (uint8_t)(d->yiaddr >> 24), hdr[17] = (uint8_t)(d->yiaddr >> 16);
	hdr[18] = (uint8_t)(d->yiaddr >> 8), hdr[19] = (uint8_t)d->yiaddr;
	memcpy(hdr + 28, req->chaddr, 6);
	put(&w, hdr, sizeof(hdr));
	put32(&w, DHCP_MAGIC);

	put_opt(&w, OPT_MESSAGE_TYPE, &d->type, 1);
	if (net->server_id)
		put_opt32(&w, OPT_SERVER_ID, net->server_id);
	if (d->type != DHCP_NAK) {
		if (req->type != DHCP_INFORM)
			put_opt32(&w, OPT_LEASE_TIME, 0xffffffffu); /* infinite */
		put_opt32(&w, OPT_SUBNET_MASK, ipam_mask(lease->prefix));
		if (net->has_router)
			put_opt32(&w, OPT_ROUTER, net->router);
		if (net->n_dns) {
			uint8_t dns[4 * DHCP_MAX_DNS];
			size_t n = net->n_dns < DHCP_MAX_DNS ? net->n_dns : DHCP_MAX_DNS;
			for (size_t i = 0; i < n; i++) {
				uint32_t a = net->dns[i];
				dns[4 * i] = (uint8_t)(a >> 24), dns[4 * i + 1] = (uint8_t)(a >> 16);
				dns[4 * i + 2] = (uint8_t)(a >> 8), dns[4 * i + 3] = (uint8_t)a;
			}
			put_opt(&w, OPT_DNS, dns, 4 * n);
		}
		size_t hl = strnlen(lease->hostname, DHCP_HOSTNAME_MAX);
		if (hl)
			put_opt(&w, OPT_HOSTNAME, lease->hostname, hl);
		if (net->mtu) {
			uint8_t mtu[2] = { (uint8_t)(net->mtu >> 8), (uint8_t)net->mtu };
			put_opt(&w, OPT_MTU, mtu, 2);
		}
	}
	uint8_t end = OPT_END;
	put(&w, &end, 1);
	while (w.len < DHCP_MIN_REPLY && !w.full) {
		uint8_t pad = OPT_PAD;
		put(&w, &pad, 1);
	}
	d->len = w.len;
}

static const struct dhcp_lease *find_lease(const struct dhcp_network *net,
					   const uint8_t mac[6])
{
	for (size_t i = 0; i < net->n_leases; i++)
		if (memcmp(net->leases[i].mac, mac, 6) == 0)
			return &net->leases[i];
	return NULL;
}

static void ignore(struct dhcp_decision *d, enum dhcp_ignore why)
{
	d->reply = false;
	d->ignored = why;
}

void dhcp_handle(const struct dhcp_network *net, const uint8_t *buf, size_t len,
		 struct dhcp_decision *d)
{
	memset(d, 0, sizeof(*d));
	struct dhcp_msg m;
	int e = dhcp_parse(buf, len, &m);
	if (e == -EPROTO)
		return ignore(d, DHCP_IGNORE_NOT_REQUEST);
	if (e < 0)
		return ignore(d, DHCP_IGNORE_MALFORMED);
	if (m.op != BOOTREQUEST)
		return ignore(d, DHCP_IGNORE_NOT_REQUEST);
	if (m.giaddr)
		return ignore(d, DHCP_IGNORE_RELAYED);
	const struct dhcp_lease *lease = find_lease(net, m.chaddr);
	if (!lease)
		return ignore(d, DHCP_IGNORE_UNKNOWN_MAC);

	switch (m.type) {
	case DHCP_DISCOVER:
		d->type = DHCP_OFFER;
		d->yiaddr = lease->address;
		break;
	case DHCP_REQUEST: {
		/* A server id names the server the client chose. */
		if (m.has_server_id && m.server_id != net->server_id)
			return ignore(d, DHCP_IGNORE_OTHER_SERVER);
		uint32_t want = m.has_requested ? m.requested : m.ciaddr;
		d->type = want == lease->address ? DHCP_ACK : DHCP_NAK;
		d->yiaddr = d->type == DHCP_ACK ? lease->address : 0;
		break;
	}
	case DHCP_INFORM:
		d->type = DHCP_ACK;
		break;
	default:
		return ignore(d, DHCP_IGNORE_TYPE);
	}
	d->reply = true;
	/* An INFORM's client has its address; anyone else gets theirs. */
	uint32_t to = m.type == DHCP_INFORM ? m.ciaddr : d->yiaddr;
	d->broadcast = (m.flags & DHCP_FLAG_BROADCAST) || d->type == DHCP_NAK || !to;
	d->dst_addr = d->broadcast ? 0xffffffffu : to;
	memcpy(d->dst_mac, m.chaddr, 6);
	build_reply(net, &m, lease, d);
}

int dhcp_udp_payload(const uint8_t *pkt, size_t len, const uint8_t **payload, size_t *plen)
{
	if (len < 20 || pkt[0] >> 4 != 4)
		return -EINVAL;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	size_t total = be16(pkt + 2);
	/* Fragments never carry a whole DHCP message worth answering. */
	bool fragment = (be16(pkt + 6) & 0x3fff) != 0;
	if (ihl < 20 || total < ihl + 8 || total > len || pkt[9] != 17 || fragment)
		return -EINVAL;
	const uint8_t *udp = pkt + ihl;
	size_t ulen = be16(udp + 4);
	if (be16(udp + 2) != DHCP_SERVER_PORT || ulen < 8 || ulen > total - ihl)
		return -EINVAL;
	*payload = udp + 8;
	*plen = ulen - 8;
	return 0;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

size_t dhcp_udp_wrap(uint32_t src, uint32_t dst, const uint8_t *payload, size_t plen,
		     uint8_t *out, size_t outlen)
{
	size_t total = DHCP_IPUDP_LEN + plen;
	if (total > outlen || total > 0xffff)
		return 0;
	uint8_t *ip = out, *udp = out + 20;
	memset(out, 0, DHCP_IPUDP_LEN);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)total);
	ip[8] = 64; /* TTL */
	ip[9] = 17;
	put_be32(ip + 12, src);
	put_be32(ip + 16, dst);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(udp, DHCP_SERVER_PORT);
	put_be16(udp + 2, DHCP_CLIENT_PORT);
	put_be16(udp + 4, (uint16_t)(8 + plen));
	memcpy(udp + 8, payload, plen);
	/* The pseudo-header: addresses, protocol, UDP length. */
	uint32_t sum = csum_add(0, ip + 12, 8) + 17 + (uint32_t)(8 + plen);
	uint16_t c = csum_fold(csum_add(sum, udp, 8 + plen));
	put_be16(udp + 6, c ? c : 0xffff);
	return total;
}

const char *dhcp_type_name(uint8_t type)
{
	static const char *const names[] = {
		[DHCP_DISCOVER] = "discover", [DHCP_OFFER] = "offer",
		[DHCP_REQUEST] = "request",   [DHCP_DECLINE] = "decline",
		[DHCP_ACK] = "ack",           [DHCP_NAK] = "nak",
		[DHCP_RELEASE] = "release",   [DHCP_INFORM] = "inform",
	};
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "other";
}

const char *dhcp_ignore_name(enum dhcp_ignore why)
{
	static const char *const names[DHCP_IGNORE_REASONS] = {
		[DHCP_IGNORE_MALFORMED] = "malformed",
		[DHCP_IGNORE_NOT_REQUEST] = "not_request",
		[DHCP_IGNORE_RELAYED] = "relayed",
		[DHCP_IGNORE_UNKNOWN_MAC] = "unknown_mac",
		[DHCP_IGNORE_OTHER_SERVER] = "other_server",
		[DHCP_IGNORE_TYPE] = "type",
		[DHCP_IGNORE_CHADDR] = "chaddr",
		[DHCP_IGNORE_RATE] = "rate",
	};
	return why < DHCP_IGNORE_REASONS ? names[why] : "?";
}
