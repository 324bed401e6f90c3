/* The DHCP module: every answer and every reason to stay silent, and the
 * exact options of each reply. */
#include "testutil.h"

#include <errno.h>

#include "dhcp.h"
#include "util.h"

static const uint8_t MAC[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };

static const struct dhcp_lease leases[] = {
	{ .mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 }, .address = 0xac100002, .prefix = 24,
	  .hostname = "web-1" },
	{ .mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x02 }, .address = 0xac100003, .prefix = 24,
	  .hostname = "web-2" },
};

static const struct dhcp_network lan = {
	.server_id = 0xac100001, .has_router = true, .router = 0xac100001,
	.dns = { 0x01010101, 0x08080808 }, .n_dns = 2, .mtu = 1500,
	.leases = leases, .n_leases = 2,
};

static const struct dhcp_network priv = {
	.mtu = 1400, .leases = leases, .n_leases = 2,
};

struct pkt {
	uint8_t b[600];
	size_t len;
};

static void p32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A client message: type 0 leaves option 53 out. */
static struct pkt request(uint8_t type, const uint8_t mac[6], uint32_t requested,
			  uint32_t server_id, uint32_t ciaddr)
{
	struct pkt p = { .len = 240 };
	memset(p.b, 0, sizeof(p.b));
	p.b[0] = 1, p.b[1] = 1, p.b[2] = 6;
	p32(p.b + 4, 0x12345678);
	p32(p.b + 12, ciaddr);
	memcpy(p.b + 28, mac, 6);
	p32(p.b + 236, 0x63825363);
	uint8_t *o = p.b + 240;
	if (type) {
		*o++ = 53, *o++ = 1, *o++ = type;
	}
	*o++ = 0; /* a pad, which must be skipped */
	if (requested) {
		*o++ = 50, *o++ = 4;
		p32(o, requested);
		o += 4;
	}
	if (server_id) {
		*o++ = 54, *o++ = 4;
		p32(o, server_id);
		o += 4;
	}
	*o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 6; /* parameter list */
	*o++ = 255;
	p.len = (size_t)(o - p.b);
	return p;
}

/* The option `code` of a reply, or NULL; *len gets its length. */
static const uint8_t *opt(const struct dhcp_decision *d, uint8_t code, size_t *len)
{
	for (size_t i = 240; i < d->len;) {
		uint8_t c = d->buf[i];
		if (c == 0) {
			i++;
			continue;
		}
		if (c == 255 || i + 1 >= d->len)
			return NULL;
		uint8_t l = d->buf[i + 1];
		if (c == code) {
			*len = l;
			return d->buf + i + 2;
		}
		i += 2u + l;
	}
	return NULL;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t opt32(const struct dhcp_decision *d, uint8_t code)
{
	size_t len = 0;
	const uint8_t *v = opt(d, code, &len);
	assert_non_null(v);
	assert_int_equal(len, 4);
	return rd32(v);
}

static void expect_ignored(const struct dhcp_network *net, const struct pkt *p,
			   enum dhcp_ignore why)
{
	struct dhcp_decision d;
	dhcp_handle(net, p->b, p->len, &d);
	assert_false(d.reply);
	assert_string_equal(dhcp_ignore_name(d.ignored), dhcp_ignore_name(why));
}

static void t_discover_offer(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	struct dhcp_decision d;
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_true(d.reply);
	assert_int_equal(d.type, DHCP_OFFER);
	assert_int_equal(d.yiaddr, 0xac100002);
	assert_true(d.len >= 300);
	assert_int_equal(d.buf[0], 2);
	assert_int_equal(rd32(d.buf + 4), 0x12345678);
	assert_int_equal(rd32(d.buf + 16), 0xac100002);
	assert_memory_equal(d.buf + 28, MAC, 6);
	assert_memory_equal(d.dst_mac, MAC, 6);
	size_t len;
	assert_int_equal(*opt(&d, 53, &len), DHCP_OFFER);
	assert_int_equal(opt32(&d, 54), 0xac100001);
	assert_int_equal(opt32(&d, 51), 0xffffffff);
	assert_int_equal(opt32(&d, 1), 0xffffff00);
	assert_int_equal(opt32(&d, 3), 0xac100001);
	const uint8_t *dns = opt(&d, 6, &len);
	assert_int_equal(len, 8);
	assert_int_equal(rd32(dns), 0x01010101);
	assert_int_equal(rd32(dns + 4), 0x08080808);
	const uint8_t *host = opt(&d, 12, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(host, "web-1", 5);
	const uint8_t *mtu = opt(&d, 26, &len);
	assert_int_equal(len, 2);
	assert_int_equal(mtu[0] << 8 | mtu[1], 1500);
	/* and the reply itself parses */
	struct dhcp_msg m;
	assert_int_equal(dhcp_parse(d.buf, d.len, &m), 0);
	assert_int_equal(m.type, DHCP_OFFER);
}

static void t_private_network_address_only(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	struct dhcp_decision d;
	dhcp_handle(&priv, p.b, p.len, &d);
	assert_true(d.reply);
	size_t len;
	assert_null(opt(&d, 3, &len));
	assert_null(opt(&d, 6, &len));
	assert_null(opt(&d, 54, &len));
	assert_int_equal(opt32(&d, 1), 0xffffff00);
	assert_non_null(opt(&d, 12, &len));
}

static void t_request_ack(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_REQUEST, MAC, 0xac100002, 0xac100001, 0);
	struct dhcp_decision d;
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_true(d.reply);
	assert_int_equal(d.type, DHCP_ACK);
	assert_int_equal(d.yiaddr, 0xac100002);
	assert_int_equal(opt32(&d, 51), 0xffffffff);
	/* renewing: no option 50, the address in ciaddr */
	p = request(DHCP_REQUEST, MAC, 0, 0, 0xac100002);
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_int_equal(d.type, DHCP_ACK);
}

static void t_request_other_address_nak(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_REQUEST, MAC, 0xac100063, 0xac100001, 0);
	struct dhcp_decision d;
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_true(d.reply);
	assert_int_equal(d.type, DHCP_NAK);
	assert_int_equal(d.yiaddr, 0);
	assert_true(d.broadcast);
	size_t len;
	assert_null(opt(&d, 51, &len));
	assert_null(opt(&d, 1, &len));
}

static void t_request_other_server(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_REQUEST, MAC, 0xac100002, 0xac1000fe, 0);
	expect_ignored(&lan, &p, DHCP_IGNORE_OTHER_SERVER);
}

static void t_inform(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_INFORM, MAC, 0, 0, 0xac100002);
	struct dhcp_decision d;
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_true(d.reply);
	assert_int_equal(d.type, DHCP_ACK);
	assert_int_equal(rd32(d.buf + 16), 0);          /* no yiaddr */
	assert_int_equal(rd32(d.buf + 12), 0xac100002); /* ciaddr echoed */
	size_t len;
	assert_null(opt(&d, 51, &len)); /* no lease */
	assert_int_equal(opt32(&d, 3), 0xac100001);
	assert_false(d.broadcast);
	assert_int_equal(d.dst_addr, 0xac100002);
}

static void t_unknown_mac(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_DISCOVER, (const uint8_t[]){ 2, 0, 0, 0, 0, 9 }, 0, 0, 0);
	expect_ignored(&lan, &p, DHCP_IGNORE_UNKNOWN_MAC);
}

static void t_other_types_ignored(void **state)
{
	(void)state;
	uint8_t types[] = { DHCP_DECLINE, DHCP_RELEASE, DHCP_OFFER, DHCP_ACK, 0, 200 };
	for (size_t i = 0; i < sizeof(types); i++) {
		struct pkt p = request(types[i], MAC, 0, 0, 0);
		expect_ignored(&lan, &p, DHCP_IGNORE_TYPE);
	}
}

static void t_not_requests(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.b[0] = 2;
	expect_ignored(&lan, &p, DHCP_IGNORE_NOT_REQUEST);
	p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.b[1] = 6; /* token ring */
	expect_ignored(&lan, &p, DHCP_IGNORE_NOT_REQUEST);
	p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p32(p.b + 24, 0x0a000001); /* giaddr */
	expect_ignored(&lan, &p, DHCP_IGNORE_RELAYED);
}

static void t_malformed(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.len = 239;
	expect_ignored(&lan, &p, DHCP_IGNORE_MALFORMED);
	p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.b[236] = 0; /* magic cookie */
	expect_ignored(&lan, &p, DHCP_IGNORE_MALFORMED);
	p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.len--; /* no end option */
	expect_ignored(&lan, &p, DHCP_IGNORE_MALFORMED);
	p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.b[241] = 2; /* option 53 with length 2 */
	expect_ignored(&lan, &p, DHCP_IGNORE_MALFORMED);
	p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	p.b[240] = 12, p.b[241] = 250; /* runs past the end */
	expect_ignored(&lan, &p, DHCP_IGNORE_MALFORMED);
	p = request(DHCP_DISCOVER, MAC, 0xac100002, 0, 0);
	p.b[245] = 3; /* requested address of 3 bytes */
	expect_ignored(&lan, &p, DHCP_IGNORE_MALFORMED);
}

static void t_broadcast_flag(void **state)
{
	(void)state;
	struct pkt p = request(DHCP_DISCOVER, MAC, 0, 0, 0);
	struct dhcp_decision d;
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_false(d.broadcast);
	assert_int_equal(d.dst_addr, 0xac100002);
	p.b[10] = 0x80;
	dhcp_handle(&lan, p.b, p.len, &d);
	assert_true(d.broadcast);
	assert_int_equal(d.dst_addr, 0xffffffff);
	assert_int_equal(d.buf[10], 0x80);
}

static uint16_t fold(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A wrapped reply has valid checksums, and its payload reads back; turned
 * around to port 67 it is what a client would send. */
static void t_udp_wrap_and_payload(void **state)
{
	(void)state;
	uint8_t payload[301], pkt[400];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	size_t n = dhcp_udp_wrap(0xac100001, 0xffffffff, payload, sizeof(payload), pkt,
				 sizeof(pkt));
	assert_int_equal(n, DHCP_IPUDP_LEN + sizeof(payload));
	assert_int_equal(fold(pkt, 20, 0), 0xffff);
	uint32_t pseudo = (uint32_t)fold(pkt + 12, 8, 0) + 17 + 8 + sizeof(payload);
	assert_int_equal(fold(pkt + 20, n - 20, pseudo), 0xffff);
	assert_int_equal(pkt[22] << 8 | pkt[23], DHCP_CLIENT_PORT);
	assert_int_equal(dhcp_udp_wrap(1, 2, payload, sizeof(payload), pkt, 100), 0);

	const uint8_t *got;
	size_t glen;
	pkt[22] = 0, pkt[23] = DHCP_SERVER_PORT;
	assert_int_equal(dhcp_udp_payload(pkt, n, &got, &glen), 0);
	assert_ptr_equal(got, pkt + DHCP_IPUDP_LEN);
	assert_int_equal(glen, sizeof(payload));
	/* Trailing bytes past the IP length (Ethernet padding) are not payload. */
	assert_int_equal(dhcp_udp_payload(pkt, sizeof(pkt), &got, &glen), 0);
	assert_int_equal(glen, sizeof(payload));
}

static void t_udp_payload_rejects(void **state)
{
	(void)state;
	uint8_t payload[10] = { 0 }, good[64], pkt[64];
	size_t n = dhcp_udp_wrap(0, 0xffffffff, payload, sizeof(payload), good, sizeof(good));
	good[22] = 0, good[23] = DHCP_SERVER_PORT;
	const uint8_t *got;
	size_t glen;
	struct { size_t at; uint8_t v; size_t len; } cases[] = {
		{ 0, 0x65, n },          /* IPv6 version */
		{ 0, 0x44, n },          /* header shorter than 20 */
		{ 0, 0x4f, n },          /* options past the packet */
		{ 9, 6, n },             /* TCP */
		{ 6, 0x20, n },          /* more fragments */
		{ 7, 0x01, n },          /* a fragment offset */
		{ 23, 68, n },           /* the client port */
		{ 3, 0xff, n },          /* IP length past the buffer */
		{ 25, 0xff, n },         /* UDP length past the IP length */
		{ 25, 4, n },            /* UDP length below its header */
		{ 0, 0x45, 19 },         /* truncated */
		{ 0, 0x45, 27 },         /* no room for UDP */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(pkt, good, n);
		pkt[cases[i].at] = cases[i].v;
		assert_int_equal(dhcp_udp_payload(pkt, cases[i].len, &got, &glen), -EINVAL);
	}
	assert_int_equal(dhcp_udp_payload(good, n, &got, &glen), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_discover_offer),
		cmocka_unit_test(t_private_network_address_only),
		cmocka_unit_test(t_request_ack),
		cmocka_unit_test(t_request_other_address_nak),
		cmocka_unit_test(t_request_other_server),
		cmocka_unit_test(t_inform),
		cmocka_unit_test(t_unknown_mac),
		cmocka_unit_test(t_other_types_ignored),
		cmocka_unit_test(t_not_requests),
		cmocka_unit_test(t_malformed),
		cmocka_unit_test(t_broadcast_flag),
		cmocka_unit_test(t_udp_wrap_and_payload),
		cmocka_unit_test(t_udp_payload_rejects),
	};
	return cmocka_run_group_tests_name("dhcp", tests, NULL, NULL);
}
