/* libFuzzer target: the DHCP module on untrusted packets. Every reply it
 * makes must itself parse, with the type it claims. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"
#include "dhcp_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct dhcp_lease leases[] = {
	{ .mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 }, .address = 0xac100002, .prefix = 24,
	  .hostname = "web-1" },
	{ .mac = { 0, 0, 0, 0, 0, 0 }, .address = 0xac100003, .prefix = 24, .hostname = "zero" },
};

static const struct dhcp_network net = {
	.server_id = 0xac100001, .has_router = true, .router = 0xac100001,
	.dns = { 0x01010101 }, .n_dns = 1, .mtu = 1500, .leases = leases, .n_leases = 2,
};

static void handle(const uint8_t *data, size_t size)
{
	struct dhcp_decision d;
	dhcp_handle(&net, data, size, &d);
	if (!d.reply)
		return;
	struct dhcp_msg m;
	if (d.len > sizeof(d.buf) || dhcp_parse(d.buf, d.len, &m) != 0 || m.type != d.type)
		__builtin_trap();
	uint8_t pkt[DHCP_IPUDP_LEN + DHCP_MAX_REPLY];
	if (!dhcp_udp_wrap(net.server_id, d.yiaddr, d.buf, d.len, pkt, sizeof(pkt)))
		__builtin_trap();
}

/* The packet as netd's parent hands it to the engine, and the engine's
 * answer as the parent checks it. */
static void engine(const uint8_t *data, size_t size)
{
	static uint8_t req[sizeof(struct dhcp_engine_req) + 2 * sizeof(struct dhcp_lease) +
			   DHCP_ENGINE_MAX_PACKET];
	size_t n = dhcp_engine_request(7, &net, leases[0].mac, data, size, req, sizeof(req));
	if (!n)
		return;
	struct dhcp_engine_answer a;
	if (dhcp_engine_serve(req, n, &a) != 0 || dhcp_engine_check(&a, sizeof(a), 7) != 0)
		__builtin_trap();
	if (dhcp_engine_serve(req, n - 1, &a) == 0) /* a short request is refused */
		__builtin_trap();
}

/* The same bytes as a DHCP message, and as the IPv4 packet netd reads. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	handle(data, size);
	engine(data, size);
	const uint8_t *payload;
	size_t plen;
	if (dhcp_udp_payload(data, size, &payload, &plen) == 0) {
		if (payload < data || payload + plen > data + size)
			__builtin_trap();
		handle(payload, plen);
	}
	return 0;
}
