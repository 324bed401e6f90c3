/*
 * Every decision of the guards, with BPF_PROG_TEST_RUN on crafted frames:
 * verdict, and exactly one counter moved by exactly one. Needs root; the
 * process moves into a network namespace of its own first, so the frames
 * run on its own loopback and the maps are pinned in a dir of its own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "../unit/testutil.h"

#include "guard.h"
#include "link.h"
#include "netns.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

static const uint8_t MAC[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t OTHER_MAC[6] = { 0x02, 0x66, 0x66, 0x66, 0x66, 0x66 };
static const uint32_t ADDR = 0x0a000005;    /* 10.0.0.5 */
static const uint32_t TRANSIT = 0x64400001; /* 100.64.0.1 */

static struct guard *G;
static char PIN[64];
static int NS = -1;
static uint64_t COOKIE;
static struct nl_sock *SK; /* in NS */

struct frame {
	uint8_t b[128];
	size_t len;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static struct frame eth(const uint8_t src[6], uint16_t type)
{
	struct frame f = { .len = 14 };
	memset(f.b, 0xff, 6);
	memcpy(f.b + 6, src, 6);
	put16(f.b + 12, type);
	return f;
}

static struct frame ipv4(const uint8_t mac[6], uint32_t src, uint32_t dst,
			 uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct frame f = eth(mac, 0x0800);
	uint8_t *ip = f.b + 14;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	uint8_t *udp = ip + 20;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, 8);
	f.len = 14 + 20 + 8;
	return f;
}

static struct frame arp(const uint8_t mac[6], const uint8_t sha[6], uint32_t spa)
{
	struct frame f = eth(mac, 0x0806);
	uint8_t *a = f.b + 14;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	put32(a + 24, 0x0a000001);
	f.len = 14 + 28;
	return f;
}

static int run(int prog_fd, const struct frame *f)
{
	struct __sk_buff ctx = { .ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &opts), 0);
	return (int)opts.retval;
}

/* The policy of lo in our namespace, counters from zero; lo's group names
 * its slot, as guard_attach_* would set it. */
static void policy(unsigned flags, uint32_t ipv4)
{
	struct guard_key k = { .netns_cookie = COOKIE, .ifindex = 1 };
	struct guard_port p = { .flags = (uint16_t)flags, .ipv4 = htonl(ipv4) };
	memcpy(p.mac, MAC, 6);
	uint32_t slot;
	assert_int_equal(guard_put_policy(G, &k, &p, &slot), 0);
	assert_true(slot > 0);
	assert_int_equal(link_configure(SK, "lo", &(struct link_conf){ .group = slot }), 0);
}

static struct guard_counters counters(void)
{
	struct guard_counters c;
	assert_int_equal(guard_read(PIN, NS, "lo", &c), 0);
	return c;
}

/* Runs f and checks the verdict and that only the expected counter moved:
 * reason -1 means passed. */
static void expect(int prog_fd, const struct frame *f, int reason)
{
	struct guard_counters before = counters();
	int verdict = run(prog_fd, f);
	struct guard_counters after = counters();
	assert_int_equal(verdict, reason < 0 ? TC_ACT_OK : TC_ACT_SHOT);
	assert_int_equal(after.pass_packets - before.pass_packets, reason < 0 ? 1 : 0);
	assert_int_equal(after.pass_bytes - before.pass_bytes, reason < 0 ? f->len : 0);
	for (int r = 0; r < GUARD_REASONS; r++) {
		if (after.drops[r] - before.drops[r] != (r == reason ? 1u : 0u))
			fail_msg("drop counter %s moved by %llu", guard_reason_name(r),
				 (unsigned long long)(after.drops[r] - before.drops[r]));
	}
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	NS = netns_open_current();
	if (NS < 0 || netns_cookie(NS, &COOKIE) < 0 || link_sock_open(NS, &SK) < 0)
		return -1;
	snprintf(PIN, sizeof(PIN), "%s/playnet-test-%d", GUARD_PIN_ROOT, getpid());
	struct pn_error err = PN_ERROR_INIT;
	if (guard_open(PIN, &G, &err) < 0) {
		fprintf(stderr, "guard_open: %s\n", err.msg);
		return -1;
	}
	/* The deny list of DESIGN.md section 3, one host address, and one
	 * exception inside 10/8. */
	static const struct { const char *a; uint8_t p; } deny[] = {
		{ "10.0.0.0", 8 }, { "172.16.0.0", 12 }, { "192.168.0.0", 16 },
		{ "169.254.0.0", 16 }, { "100.64.0.0", 10 }, { "224.0.0.0", 4 },
		{ "240.0.0.0", 4 }, { "198.51.100.7", 32 },
	};
	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
		struct in_addr a;
		inet_pton(AF_INET, deny[i].a, &a);
		if (guard_deny(G, ntohl(a.s_addr), deny[i].p) < 0)
			return -1;
	}
	return guard_allow(G, 0x0a630000, 16); /* 10.99.0.0/16 */
}

static int teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	guard_close(G);
	link_sock_close(SK);
	if (NS >= 0)
		close(NS);
	return guard_unpin(PIN);
}

#define NEED_ROOT()                                                            \
	do {                                                                   \
		if (geteuid() != 0)                                            \
			skip();                                                \
	} while (0)

static void t_right_mac_passes(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(0, ADDR);
	struct frame f = ipv4(MAC, ADDR, 0x0a000001, 17, 1234, 68);
	expect(guard_port_fd(G), &f, -1);
	struct frame v6 = eth(MAC, 0x86dd);
	v6.len = 60;
	expect(guard_port_fd(G), &v6, -1);
}

static void t_spoofed_mac_drops(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(0, ADDR);
	struct frame f = ipv4(OTHER_MAC, ADDR, 0x0a000001, 17, 1234, 68);
	expect(guard_port_fd(G), &f, GUARD_DROP_SRC_MAC);
}

static void t_arp(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(0, ADDR);
	struct frame good = arp(MAC, MAC, ADDR);
	expect(guard_port_fd(G), &good, -1);
	struct frame spoof = arp(MAC, OTHER_MAC, ADDR);
	expect(guard_port_fd(G), &spoof, GUARD_DROP_ARP_SHA);
	/* without the IP guard, another sender address is allowed (routers) */
	struct frame spa = arp(MAC, MAC, 0x0a000063);
	expect(guard_port_fd(G), &spa, -1);
	struct frame cut = arp(MAC, MAC, ADDR);
	cut.len = 14 + 10;
	expect(guard_port_fd(G), &cut, GUARD_DROP_MALFORMED);
}

static void t_ip_guard(void **state)
{
	(void)state;
	NEED_ROOT();
	struct frame other = ipv4(MAC, 0x0a000063, 0x0a000001, 17, 1234, 68);
	policy(0, ADDR);
	expect(guard_port_fd(G), &other, -1); /* off by default */
	policy(GUARD_F_IP_SOURCE, ADDR);
	expect(guard_port_fd(G), &other, GUARD_DROP_IP_SRC);
	struct frame own = ipv4(MAC, ADDR, 0x0a000001, 17, 1234, 68);
	expect(guard_port_fd(G), &own, -1);
	struct frame unset = ipv4(MAC, 0, 0xffffffff, 17, 68, 67); /* DHCP client */
	expect(guard_port_fd(G), &unset, -1);
	struct frame spa = arp(MAC, MAC, 0x0a000063);
	expect(guard_port_fd(G), &spa, GUARD_DROP_ARP_SPA);
	struct frame probe = arp(MAC, MAC, 0);
	expect(guard_port_fd(G), &probe, -1);
}

static void t_dhcp_server_guard(void **state)
{
	(void)state;
	NEED_ROOT();
	struct frame offer = ipv4(MAC, ADDR, 0xffffffff, 17, 67, 68);
	policy(0, ADDR);
	expect(guard_port_fd(G), &offer, -1);
	policy(GUARD_F_DHCP_SERVER, ADDR);
	expect(guard_port_fd(G), &offer, GUARD_DROP_DHCP_SERVER);
	struct frame client = ipv4(MAC, 0, 0xffffffff, 17, 68, 67);
	expect(guard_port_fd(G), &client, -1);
	struct frame tcp67 = ipv4(MAC, ADDR, 0x0a000001, 6, 67, 68);
	expect(guard_port_fd(G), &tcp67, -1);
	/* a client reads a reply at port 68, whatever its source port */
	struct frame rogue = ipv4(MAC, ADDR, 0xffffffff, 17, 1067, 68);
	expect(guard_port_fd(G), &rogue, GUARD_DROP_DHCP_SERVER);
	struct frame unicast = ipv4(MAC, ADDR, 0x0a000014, 17, 53, 68);
	expect(guard_port_fd(G), &unicast, GUARD_DROP_DHCP_SERVER);
	struct frame other = ipv4(MAC, ADDR, 0x0a000014, 17, 68, 69);
	expect(guard_port_fd(G), &other, -1);
	/* BPF_PROG_TEST_RUN itself refuses frames shorter than an IP header;
	 * what the program checks beyond it: */
	struct frame cut = ipv4(MAC, ADDR, 0xffffffff, 17, 67, 68);
	cut.len = 14 + 20 + 4;
	expect(guard_port_fd(G), &cut, GUARD_DROP_MALFORMED);
	struct frame bad_ihl = ipv4(MAC, ADDR, 0xffffffff, 17, 67, 68);
	bad_ihl.b[14] = 0x44;
	expect(guard_port_fd(G), &bad_ihl, GUARD_DROP_MALFORMED);
}

/* A frame of the given ethertype with an inner IPv4 header behind four
 * bytes, as a tag, a label or a session header would put it. */
static struct frame wrapped(uint16_t type, uint16_t inner)
{
	struct frame f = ipv4(MAC, 0x0a000063, 0x0a000001, 17, 1067, 68);
	memmove(f.b + 18, f.b + 14, f.len - 14);
	put16(f.b + 12, type);
	put16(f.b + 14, 0);
	put16(f.b + 16, inner);
	f.len += 4;
	return f;
}

/* The kernel takes one tag off before tc: a tag in the frame is a second
 * one, which the bridge and the machines strip and act on. */
static void t_vlan_tags(void **state)
{
	(void)state;
	NEED_ROOT();
	static const uint16_t tags[] = { 0x8100, 0x88a8, 0x9100 };
	static const unsigned flags[] = { 0, GUARD_F_IP_SOURCE | GUARD_F_DHCP_SERVER, GUARD_F_VLAN };
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		policy(flags[i], ADDR);
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
			struct frame f = wrapped(tags[t], 0x0800);
			expect(guard_port_fd(G), &f, GUARD_DROP_VLAN);
			struct frame a = wrapped(tags[t], 0x0806);
			expect(guard_port_fd(G), &a, GUARD_DROP_VLAN);
		}
	}
}

static void t_ethertypes(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(GUARD_F_IP_SOURCE, ADDR);
	/* MPLS, PPPoE discovery and session, PBB, transparent bridging */
	static const uint16_t hide[] = { 0x8847, 0x8848, 0x8863, 0x8864, 0x88e7, 0x6558 };
	for (size_t i = 0; i < sizeof(hide) / sizeof(hide[0]); i++) {
		struct frame f = wrapped(hide[i], 0x0800);
		expect(guard_port_fd(G), &f, GUARD_DROP_ETHERTYPE);
	}
	static const uint16_t ok[] = { 0x86dd, 0x88cc, 0x888e, 0x0026 /* STP, by length */ };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct frame f = eth(MAC, ok[i]);
		f.len = 60;
		expect(guard_port_fd(G), &f, -1);
	}
}

static void t_unknown_port_untouched(void **state)
{
	(void)state;
	NEED_ROOT();
	/* lo's group still names the slot it had, now free */
	assert_int_equal(guard_forget(G, NS, "lo"), 0);
	struct guard_counters c;
	assert_int_equal(guard_read(PIN, NS, "lo", &c), -ENOENT);
	struct frame f = ipv4(OTHER_MAC, ADDR, 0x0a000001, 17, 1234, 68);
	assert_int_equal(run(guard_port_fd(G), &f), TC_ACT_OK);
	assert_int_equal(run(guard_uplink_fd(G), &f), TC_ACT_OK);
	/* and a slot that is another interface's */
	struct guard_key other = { .netns_cookie = COOKIE, .ifindex = 99 };
	struct guard_port p = { .flags = 0 };
	uint32_t slot;
	assert_int_equal(guard_put_policy(G, &other, &p, &slot), 0);
	assert_int_equal(link_configure(SK, "lo", &(struct link_conf){ .group = slot }), 0);
	assert_int_equal(run(guard_port_fd(G), &f), TC_ACT_OK);
	assert_int_equal(guard_read(PIN, NS, "lo", &c), -ENOENT);
}

static void t_uplink_allowed_destination(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(GUARD_F_UPLINK, TRANSIT);
	struct frame f = ipv4(OTHER_MAC, TRANSIT, 0xcb007102, 1, 0, 68); /* 203.0.113.2 */
	expect(guard_uplink_fd(G), &f, -1);
	struct frame a = arp(OTHER_MAC, OTHER_MAC, TRANSIT);
	expect(guard_uplink_fd(G), &a, -1);
}

static void t_uplink_every_denied_range(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(GUARD_F_UPLINK, TRANSIT);
	static const char *const dst[] = {
		"10.1.2.3", "10.255.255.255", "172.16.5.5", "172.31.255.1",
		"192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.0",
		"100.127.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1",
		"255.255.255.255", "198.51.100.7",
	};
	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		struct in_addr a;
		inet_pton(AF_INET, dst[i], &a);
		struct frame f = ipv4(OTHER_MAC, TRANSIT, ntohl(a.s_addr), 1, 0, 68);
		expect(guard_uplink_fd(G), &f, GUARD_DROP_UPLINK_DENY);
	}
	/* neighbours of the ranges pass */
	static const char *const ok[] = { "11.0.0.1", "172.32.0.1", "192.169.0.1",
					   "100.128.0.1", "198.51.100.8", "8.8.8.8" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct in_addr a;
		inet_pton(AF_INET, ok[i], &a);
		struct frame f = ipv4(OTHER_MAC, TRANSIT, ntohl(a.s_addr), 1, 0, 68);
		expect(guard_uplink_fd(G), &f, -1);
	}
}

static void t_uplink_exception_wins(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(GUARD_F_UPLINK, TRANSIT);
	struct frame mirror = ipv4(OTHER_MAC, TRANSIT, 0x0a630101, 6, 0, 68); /* 10.99.1.1 */
	expect(guard_uplink_fd(G), &mirror, -1);
	struct frame other = ipv4(OTHER_MAC, TRANSIT, 0x0a620101, 6, 0, 68); /* 10.98.1.1 */
	expect(guard_uplink_fd(G), &other, GUARD_DROP_UPLINK_DENY);
}

static void t_uplink_wrong_source(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(GUARD_F_UPLINK, TRANSIT);
	struct frame f = ipv4(OTHER_MAC, 0x64400003, 0xcb007102, 1, 0, 68);
	expect(guard_uplink_fd(G), &f, GUARD_DROP_UPLINK_SRC);
	struct frame inner = ipv4(OTHER_MAC, 0xac100002, 0xcb007102, 1, 0, 68); /* not NATed */
	expect(guard_uplink_fd(G), &inner, GUARD_DROP_UPLINK_SRC);
	struct frame v6 = eth(OTHER_MAC, 0x86dd);
	v6.len = 60;
	expect(guard_uplink_fd(G), &v6, GUARD_DROP_UPLINK_PROTO);
}

static void t_uplink_rate(void **state)
{
	(void)state;
	NEED_ROOT();
	policy(GUARD_F_UPLINK | GUARD_F_RATE, TRANSIT);
	/* 1 byte/s and a bucket of 200 bytes: four 42-byte frames fit, the
	 * fifth does not, whatever the clock says. */
	struct guard_key k = { .netns_cookie = COOKIE, .ifindex = 1 };
	struct guard_rate r = { .rate = 1, .burst = 200, .tokens = 200 };
	assert_int_equal(bpf_map_update_elem(guard_rates_map_fd(G), &k, &r, BPF_ANY), 0);
	struct frame f = ipv4(OTHER_MAC, TRANSIT, 0xcb007102, 17, 1234, 68);
	for (int i = 0; i < 4; i++)
		expect(guard_uplink_fd(G), &f, -1);
	expect(guard_uplink_fd(G), &f, GUARD_DROP_UPLINK_RATE);
	/* denied traffic does not spend tokens, nor does it pass */
	struct frame meta = ipv4(OTHER_MAC, TRANSIT, 0xa9fea9fe, 17, 1234, 68);
	expect(guard_uplink_fd(G), &meta, GUARD_DROP_UPLINK_DENY);
	/* without the flag the bucket is not consulted */
	policy(GUARD_F_UPLINK, TRANSIT);
	expect(guard_uplink_fd(G), &f, -1);
	bpf_map_delete_elem(guard_rates_map_fd(G), &k);
}

static bool keep_all(const struct guard_key *k, void *arg)
{
	(void)k;
	(void)arg;
	return true;
}

/* A claim whose index entry never came (a crash inside guard_slot) is
 * swept though its key is alive; a claim with its entry is kept. */
static void t_sweep_orphan_claim(void **state)
{
	(void)state;
	NEED_ROOT();
	struct guard_key k = { .netns_cookie = COOKIE, .ifindex = 77 };
	uint32_t slot;
	assert_int_equal(guard_slot(G, &k, &slot), 0);
	size_t removed = 0;
	assert_int_equal(guard_sweep(G, keep_all, NULL, &removed), 0);
	assert_int_equal(removed, 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/guard_index", PIN);
	int index = bpf_obj_get(path);
	assert_true(index >= 0);
	assert_int_equal(bpf_map_delete_elem(index, &k), 0);
	close(index);
	assert_int_equal(guard_sweep(G, keep_all, NULL, &removed), 0);
	assert_int_equal(removed, 1);
	uint32_t again;
	assert_int_equal(guard_slot(G, &k, &again), 0);
	assert_true(again > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_right_mac_passes),
		cmocka_unit_test(t_spoofed_mac_drops),
		cmocka_unit_test(t_arp),
		cmocka_unit_test(t_ip_guard),
		cmocka_unit_test(t_dhcp_server_guard),
		cmocka_unit_test(t_vlan_tags),
		cmocka_unit_test(t_ethertypes),
		cmocka_unit_test(t_unknown_port_untouched),
		cmocka_unit_test(t_uplink_allowed_destination),
		cmocka_unit_test(t_uplink_every_denied_range),
		cmocka_unit_test(t_uplink_exception_wins),
		cmocka_unit_test(t_uplink_wrong_source),
		cmocka_unit_test(t_uplink_rate),
		cmocka_unit_test(t_sweep_orphan_claim),
	};
	return cmocka_run_group_tests_name("guard", tests, setup, teardown);
}
