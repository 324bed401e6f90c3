/*
 * Every kernel object of a playground, read back through netlink (libnl,
 * libmnl, libnftnl), never by parsing `ip` output. Needs root; runs in a host
 * netns of its own and removes what it made even when a check fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <stdlib.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/testutil.h"

#include "fabric.h"
#include "playground.h"
#include "guard.h"
#include "ipam.h"
#include "link.h"
#include "netns.h"
#include "nspool.h"
#include "plan.h"

static const char manifest_text[] =
	"kind: playground\n"
	"playground:\n"
	"  networks:\n"
	"    - {name: lan, subnet: 10.20.0.0/24, mtu: 1400}\n"
	"    - {name: priv, subnet: 10.30.0.0/24, private: true}\n"
	"  machines:\n"
	"    - name: vm-a\n"
	"      network: {interfaces: [{network: lan}, {network: priv}]}\n"
	"    - name: box\n"
	"      runtime: netns\n"
	"      network: {interfaces: [{network: lan, address: 10.20.0.50}]}\n"
	"    - name: pbox\n"
	"      runtime: netns\n"
	"      network: {interfaces: [{network: priv}]}\n";

struct world {
	char host[32];
	char state_dir[64];
	char pin_dir[64];
	char name[32];
	struct plan plan;
	struct fabric *f;
	struct pn_error err;
	int ns;             /* pg-P */
	struct nl_sock *sk; /* in pg-P */
};

static struct world W;

/* The fabric's guards, which the create loaded. */
static struct guard *guard_of(void)
{
	struct guard *g = NULL;
	assert_int_equal(fabric_guard(W.f, &g, &W.err), 0);
	return g;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(W.host, sizeof(W.host), "pnk-h%d", getpid());
	snprintf(W.name, sizeof(W.name), "pk%d", getpid());
	snprintf(W.pin_dir, sizeof(W.pin_dir), "%s/playnet-kt-%d", GUARD_PIN_ROOT, getpid());
	snprintf(W.state_dir, sizeof(W.state_dir), "/tmp/playnet-kernel.XXXXXX");
	if (!mkdtemp(W.state_dir) || netns_create(W.host) < 0)
		return -1;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	diag_init(&d, "t");
	if (plan_parse(manifest_text, strlen(manifest_text), W.name, &lim, &W.plan, &d) < 0) {
		diag_print(&d, stderr);
		return -1;
	}
	diag_free(&d);
	const struct fabric_opts o = {
		.state_dir = W.state_dir,
		.host_netns = W.host,
		.tap_uid = 1234,
		.tap_gid = 5678,
		.pool = 0x64400000, /* 100.64.0.0/10 */
		.pool_prefix = 10,
		.pin_dir = W.pin_dir,
	};
	if (fabric_open(&W.f, &o, &W.err) < 0 ||
	    playground_create(W.f, &W.plan, manifest_text, NULL, &W.err) < 0) {
		fprintf(stderr, "create: %s\n", W.err.msg);
		return -1;
	}
	W.ns = netns_open(W.plan.netns);
	return W.ns < 0 || link_sock_open(W.ns, &W.sk) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	link_sock_close(W.sk);
	if (W.ns >= 0)
		close(W.ns);
	if (W.f) /* t_delete closes it when it gets that far */
		playground_delete(W.f, W.name, &W.err);
	fabric_close(W.f);
	plan_free(&W.plan);
	netns_delete(W.host);
	guard_unpin(W.pin_dir);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", W.state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

#define NEED_ROOT()                                                            \
	do {                                                                   \
		if (geteuid() != 0)                                            \
			skip();                                                \
	} while (0)

static struct rtnl_link *get_link(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		fail_msg("link %s is missing", name);
	return l;
}

/* One attribute of IFLA_LINKINFO/IFLA_INFO_DATA (tun owner, bridge STP),
 * which libnl does not parse, through a raw RTM_GETLINK with libmnl. */
struct info_req {
	uint16_t attr;
	uint32_t value;
	bool found;
};

static int info_data_cb(const struct nlattr *a, void *data)
{
	struct info_req *r = data;
	if (mnl_attr_get_type(a) != r->attr)
		return MNL_CB_OK;
	/* IFLA_TUN_PERSIST and IFLA_TUN_VNET_HDR are u8, the rest u32. */
	if (mnl_attr_get_payload_len(a) >= 4)
		r->value = mnl_attr_get_u32(a);
	else if (mnl_attr_get_payload_len(a) == 1)
		r->value = mnl_attr_get_u8(a);
	else
		return MNL_CB_OK;
	r->found = true;
	return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
		mnl_attr_parse_nested(a, info_data_cb, data);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, linkinfo_cb, data);
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *h, void *data)
{
	return mnl_attr_parse(h, sizeof(struct ifinfomsg), link_attr_cb, data);
}

static uint32_t link_info_u32(int nsfd, const char *name, uint16_t attr)
{
	int fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	assert_true(fd >= 0);
	struct mnl_socket *nl = mnl_socket_fdopen(fd);
	assert_non_null(nl);
	char buf[16384];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = RTM_GETLINK;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = 1;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	assert_true(mnl_socket_sendto(nl, h, h->nlmsg_len) >= 0);
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	assert_true(n > 0);
	struct info_req r = { .attr = attr };
	assert_true(mnl_cb_run(buf, (size_t)n, 1, 0, link_msg_cb, &r) >= 0);
	mnl_socket_close(nl);
	if (!r.found)
		fail_msg("%s has no attribute %u in IFLA_INFO_DATA", name, attr);
	return r.value;
}

/* The IPv4 addresses of one link, as "a.b.c.d/N" joined by spaces. */
static void addrs_of(struct nl_sock *sk, int ifindex, char *out, size_t len)
{
	struct nl_cache *cache = NULL;
	assert_int_equal(rtnl_addr_alloc_cache(sk, &cache), 0);
	out[0] = '\0';
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET)
			continue;
		char s[64];
		nl_addr2str(rtnl_addr_get_local(a), s, sizeof(s));
		size_t used = strlen(out);
		snprintf(out + used, len - used, "%s%s", used ? " " : "", s);
	}
	nl_cache_free(cache);
}

/* The gateway of the default route of the main table, or "". */
static void default_gw(struct nl_sock *sk, char *out, size_t len)
{
	struct nl_cache *cache = NULL;
	assert_int_equal(rtnl_route_alloc_cache(sk, AF_INET, 0, &cache), 0);
	out[0] = '\0';
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
		    nl_addr_get_prefixlen(rtnl_route_get_dst(r)) != 0 ||
		    rtnl_route_get_nnexthops(r) != 1)
			continue;
		struct nl_addr *gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0));
		if (gw)
			nl_addr2str(gw, out, len);
	}
	nl_cache_free(cache);
}

static uint32_t prog_id_of_fd(int fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/* The program at tc ingress of dev in nsfd, on its block or a shared one;
 * dev carries a guard slot as its group, and the slot is dev's. */
static uint32_t tc_ingress_prog(int nsfd, const char *dev)
{
	struct nl_sock *sk = NULL;
	assert_int_equal(link_sock_open(nsfd, &sk), 0);
	int idx = link_ifindex(sk, dev);
	assert_true(idx > 0);
	uint32_t id = link_tc_bpf_prog(sk, idx);
	struct rtnl_link *l = get_link(sk, dev);
	uint32_t group = rtnl_link_get_group(l);
	rtnl_link_put(l);
	link_sock_close(sk);
	uint64_t cookie = 0;
	assert_int_equal(netns_cookie(nsfd, &cookie), 0);
	struct guard_key k = { .netns_cookie = cookie, .ifindex = (uint32_t)idx };
	uint32_t slot = 0;
	assert_int_equal(guard_slot(guard_of(), &k, &slot), 0);
	assert_true(slot > 0);
	assert_int_equal(group, slot);
	return id;
}

static void t_namespaces(void **state)
{
	(void)state;
	NEED_ROOT();
	assert_true(netns_exists(W.plan.netns));
	for (size_t i = 0; i < W.plan.n_machines; i++) {
		const struct plan_machine *mc = &W.plan.machines[i];
		if (mc->runtime != MANIFEST_RUNTIME_NETNS)
			continue;
		int fd = netns_open(mc->netns);
		assert_true(fd >= 0);
		close(fd);
	}
	struct rtnl_link *lo = get_link(W.sk, "lo");
	assert_true(rtnl_link_get_flags(lo) & IFF_UP);
	rtnl_link_put(lo);
}

static void t_bridges(void **state)
{
	(void)state;
	NEED_ROOT();
	for (size_t i = 0; i < W.plan.n_networks; i++) {
		const struct plan_network *n = &W.plan.networks[i];
		struct rtnl_link *l = get_link(W.sk, n->bridge);
		assert_string_equal(rtnl_link_get_type(l), "bridge");
		assert_string_equal(rtnl_link_get_ifalias(l), n->name);
		assert_int_equal(rtnl_link_get_mtu(l), n->mtu);
		assert_true(rtnl_link_get_flags(l) & IFF_UP);
		assert_int_equal(link_info_u32(W.ns, n->bridge, IFLA_BR_STP_STATE), 0);
		char addrs[256];
		addrs_of(W.sk, rtnl_link_get_ifindex(l), addrs, sizeof(addrs));
		assert_string_equal(addrs, n->has_gateway ? "10.20.0.1/24" : "");
		rtnl_link_put(l);
	}
	assert_int_equal(W.plan.networks[0].mtu, 1400);
}

static void t_taps(void **state)
{
	(void)state;
	NEED_ROOT();
	const struct plan_machine *vm = &W.plan.machines[0];
	assert_int_equal(vm->n_interfaces, 2);
	for (size_t j = 0; j < vm->n_interfaces; j++) {
		const struct plan_interface *ifc = &vm->interfaces[j];
		const struct plan_network *n = &W.plan.networks[ifc->network];
		struct rtnl_link *l = get_link(W.sk, ifc->device);
		struct rtnl_link *br = get_link(W.sk, n->bridge);
		assert_string_equal(rtnl_link_get_type(l), "tun");
		assert_int_equal(rtnl_link_get_master(l), rtnl_link_get_ifindex(br));
		char alias[64];
		snprintf(alias, sizeof(alias), "vm-a/eth%zu", j);
		assert_string_equal(rtnl_link_get_ifalias(l), alias);
		assert_int_equal(rtnl_link_get_mtu(l), n->mtu);
		assert_true(rtnl_link_get_flags(l) & IFF_UP);
		assert_int_equal(link_info_u32(W.ns, ifc->device, IFLA_TUN_OWNER), 1234);
		assert_int_equal(link_info_u32(W.ns, ifc->device, IFLA_TUN_GROUP), 5678);
		assert_int_equal(link_info_u32(W.ns, ifc->device, IFLA_TUN_PERSIST), 1);
		assert_int_equal(link_info_u32(W.ns, ifc->device, IFLA_TUN_VNET_HDR), 1);
		assert_int_equal(tc_ingress_prog(W.ns, ifc->device),
				 prog_id_of_fd(guard_port_fd(guard_of())));
		rtnl_link_put(l);
		rtnl_link_put(br);
	}
}

static void t_netns_machine(void **state)
{
	(void)state;
	NEED_ROOT();
	const struct plan_machine *mc = &W.plan.machines[1];
	const struct plan_interface *ifc = &mc->interfaces[0];
	struct rtnl_link *port = get_link(W.sk, ifc->device);
	struct rtnl_link *br = get_link(W.sk, W.plan.networks[ifc->network].bridge);
	assert_string_equal(rtnl_link_get_type(port), "veth");
	assert_int_equal(rtnl_link_get_master(port), rtnl_link_get_ifindex(br));
	assert_string_equal(rtnl_link_get_ifalias(port), "box/eth0");
	assert_int_equal(tc_ingress_prog(W.ns, ifc->device),
			 prog_id_of_fd(guard_port_fd(guard_of())));
	rtnl_link_put(port);
	rtnl_link_put(br);

	int mns = netns_open(mc->netns);
	struct nl_sock *msk = NULL;
	assert_int_equal(link_sock_open(mns, &msk), 0);
	struct rtnl_link *eth0 = get_link(msk, "eth0");
	assert_memory_equal(nl_addr_get_binary_addr(rtnl_link_get_addr(eth0)), ifc->mac, 6);
	assert_int_equal(rtnl_link_get_mtu(eth0), 1400);
	assert_true(rtnl_link_get_flags(eth0) & IFF_UP);
	char addrs[256], gw[64];
	addrs_of(msk, rtnl_link_get_ifindex(eth0), addrs, sizeof(addrs));
	assert_string_equal(addrs, "10.20.0.50/24");
	default_gw(msk, gw, sizeof(gw));
	assert_string_equal(gw, "10.20.0.1");
	rtnl_link_put(eth0);
	link_sock_close(msk);
	close(mns);

	/* A machine only on a private network has no default route. */
	mns = netns_open(W.plan.machines[2].netns);
	assert_int_equal(link_sock_open(mns, &msk), 0);
	default_gw(msk, gw, sizeof(gw));
	assert_string_equal(gw, "");
	link_sock_close(msk);
	close(mns);
}

static void t_uplink(void **state)
{
	(void)state;
	NEED_ROOT();
	struct rtnl_link *in = get_link(W.sk, NAMING_UPLINK_INSIDE);
	char addrs[256], gw[64];
	addrs_of(W.sk, rtnl_link_get_ifindex(in), addrs, sizeof(addrs));
	assert_string_equal(addrs, "100.64.0.1/31");
	assert_true(rtnl_link_get_flags(in) & IFF_UP);
	rtnl_link_put(in);
	default_gw(W.sk, gw, sizeof(gw));
	assert_string_equal(gw, "100.64.0.0");

	int hns = netns_open(W.host);
	struct nl_sock *hsk = NULL;
	assert_int_equal(link_sock_open(hns, &hsk), 0);
	struct rtnl_link *h = get_link(hsk, W.plan.uplink_host);
	addrs_of(hsk, rtnl_link_get_ifindex(h), addrs, sizeof(addrs));
	assert_string_equal(addrs, "100.64.0.0/31");
	/* Tagged with the playground and the state dir that owns it. */
	char alias[128], owner[NAMING_PLAYGROUND_MAX + 1];
	fabric_owner_alias(W.f, W.name, alias, sizeof(alias));
	assert_string_equal(rtnl_link_get_ifalias(h), alias);
	assert_true(fabric_owns(W.f, alias, owner, sizeof(owner)));
	assert_string_equal(owner, W.name);
	struct rtnl_link *lo = get_link(W.sk, "lo");
	assert_string_equal(rtnl_link_get_ifalias(lo), alias);
	rtnl_link_put(lo);
	char other[160];
	snprintf(other, sizeof(other), "playnet/%s 00000000", W.name);
	assert_false(fabric_owns(W.f, other, owner, sizeof(owner)));
	assert_false(fabric_owns(W.f, W.name, owner, sizeof(owner)));
	assert_true(rtnl_link_get_flags(h) & IFF_UP);
	assert_int_equal(tc_ingress_prog(hns, W.plan.uplink_host),
			 prog_id_of_fd(guard_uplink_fd(guard_of())));
	rtnl_link_put(h);
	link_sock_close(hsk);
	close(hns);
}

/* Rules per chain of table ip playnet, by an NFT_MSG_GETRULE dump. */
struct rule_count {
	size_t prerouting, postrouting, forward, input, dnat;
};

static int rule_cb(const struct nlmsghdr *h, void *data)
{
	struct rule_count *c = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (nftnl_rule_nlmsg_parse(h, r) == 0 &&
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "playnet") == 0) {
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		if (strcmp(chain, "prerouting") == 0)
			c->prerouting++;
		else if (strcmp(chain, "postrouting") == 0)
			c->postrouting++;
		else if (strcmp(chain, "forward") == 0)
			c->forward++;
		else if (strcmp(chain, "input") == 0)
			c->input++;
		else if (strcmp(chain, "dnat") == 0)
			c->dnat++;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static struct rule_count count_rules(int nsfd)
{
	int fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	assert_true(fd >= 0);
	struct mnl_socket *nl = mnl_socket_fdopen(fd);
	char buf[65536];
	struct nlmsghdr *h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4,
						   NLM_F_DUMP, 1);
	assert_true(mnl_socket_sendto(nl, h, h->nlmsg_len) >= 0);
	struct rule_count c = { 0 };
	ssize_t n;
	int r = MNL_CB_OK;
	while (r > 0 && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		r = mnl_cb_run(buf, (size_t)n, 1, 0, rule_cb, &c);
	mnl_socket_close(nl);
	return c;
}

static void t_nftables(void **state)
{
	(void)state;
	NEED_ROOT();
	/* One NAT network and one private: a masquerade per NAT subnet; in
	 * prerouting, one drop per private bridge and two per NAT bridge
	 * (sources, the fabric's addresses); in forward, out, back and what
	 * a forward sends in per NAT bridge, and a counted drop per bridge;
	 * no forward, no dnat rule. */
	struct rule_count c = count_rules(W.ns);
	assert_int_equal(c.prerouting, 3);
	assert_int_equal(c.postrouting, 1);
	assert_int_equal(c.forward, 5);
	assert_int_equal(c.input, 0);
	assert_int_equal(c.dnat, 0);
	/* the host: the same and a forward's way in; the guard's mark */
	int hns = netns_open(W.host);
	c = count_rules(hns);
	assert_int_equal(c.postrouting, 1);
	assert_int_equal(c.forward, 5);
	assert_int_equal(c.input, 2);
	assert_int_equal(c.prerouting, 2);
	close(hns);
}

static void t_state(void **state)
{
	(void)state;
	NEED_ROOT();
	struct state_record rec;
	assert_int_equal(state_read(W.state_dir, W.name, &rec), 0);
	assert_int_equal(rec.phase, STATE_READY);
	assert_int_equal(rec.transit_index, 0);
	assert_string_equal(rec.manifest, manifest_text);
	assert_string_equal(rec.host_netns, W.host);
	state_record_free(&rec);
}

static size_t count_guard_progs(void)
{
	size_t n = 0;
	for (uint32_t id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    (strcmp(info.name, "guard_port") == 0 || strcmp(info.name, "guard_uplink") == 0))
			n++;
		close(fd);
	}
	return n;
}

/* A paced delete takes the bridges apart one per call, and leaves the rest
 * (the taps among them) for the namespace's destruction. */
static void t_shed(void **state)
{
	(void)state;
	NEED_ROOT();
	assert_int_equal(playground_mark_deleting(W.f, W.name, NULL, &W.err), 1);
	for (size_t i = 0; i < W.plan.n_networks; i++) {
		assert_int_equal(fabric_shed(W.f, W.name, &W.err), 1);
		char left[IFNAMSIZ];
		assert_int_equal(link_find_kind(W.sk, "bridge", left),
				 i + 1 < W.plan.n_networks);
	}
	assert_int_equal(fabric_shed(W.f, W.name, &W.err), 0);
	const struct plan_interface *tap = &W.plan.machines[0].interfaces[0];
	assert_true(link_ifindex(W.sk, tap->device) > 0);
	assert_int_equal(fabric_shed(W.f, "no-such-playground", &W.err), 0);
}

static int prep_forwarding(int nsfd)
{
	return netns_sysctl(nsfd, "net/ipv4/ip_forward", "1");
}

/* Sysctls land in the namespace named, not the caller's; a missing one is
 * an error unless optional, and the index says which. */
static void t_sysctls(void **state)
{
	(void)state;
	NEED_ROOT();
	const char *key = "/proc/sys/net/ipv4/conf/default/arp_ignore";
	char here[4] = "", there[4] = "", want[2] = "";
	int fd = open(key, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && read(fd, here, sizeof(here) - 1) > 0);
	close(fd);
	want[0] = here[0] == '2' ? '1' : '2';
	int ns = netns_new();
	assert_true(ns >= 0);
	const struct netns_sysctl s[] = {
		{ key + strlen("/proc/sys/"), want, false },
		{ "net/no-such-module/knob", "1", true },
		{ "net/ipv4/no-such-knob", "1", false },
	};
	size_t bad = 99;
	assert_int_equal(netns_sysctls(ns, s, 2, &bad), 0);
	assert_int_equal(netns_sysctls(ns, s, 3, &bad), -ENOENT);
	assert_int_equal(bad, 2);
	fd = netns_open_file(ns, key, O_RDONLY);
	assert_true(fd >= 0 && read(fd, there, sizeof(there) - 1) > 0);
	close(fd);
	close(ns);
	assert_int_equal(there[0], want[0]);
	fd = open(key, O_RDONLY | O_CLOEXEC);
	char after[4] = "";
	assert_true(fd >= 0 && read(fd, after, sizeof(after) - 1) > 0);
	close(fd);
	assert_int_equal(after[0], here[0]);
}

/* A spare from the pool, waiting up to 5 s for its thread to make one. */
static int take_spare(struct nspool *p)
{
	for (int i = 0; i < 5000; i++) {
		int fd = nspool_take(p);
		if (fd != -EAGAIN)
			return fd;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static void t_spare_namespaces(void **state)
{
	(void)state;
	NEED_ROOT();
	struct nspool *p = NULL;
	assert_int_equal(nspool_start(&p, 0, prep_forwarding), -EINVAL);
	assert_int_equal(nspool_start(&p, 2, prep_forwarding), 0);
	int a = take_spare(p), b = take_spare(p), c = take_spare(p);
	assert_true(a >= 0 && b >= 0 && c >= 0);
	uint64_t here, ca, cb, cc;
	int cur = netns_open_current();
	assert_true(cur >= 0);
	assert_int_equal(netns_cookie(cur, &here), 0);
	assert_int_equal(netns_cookie(a, &ca), 0);
	assert_int_equal(netns_cookie(b, &cb), 0);
	assert_int_equal(netns_cookie(c, &cc), 0);
	close(cur);
	assert_true(ca != here && cb != here && cc != here && ca != cb && cb != cc && ca != cc);
	/* prepared on the pool's thread, in the spare, not in this one */
	int fd = netns_open_file(c, "/proc/sys/net/ipv4/ip_forward", O_RDONLY);
	char v[4] = "";
	assert_true(fd >= 0 && read(fd, v, sizeof(v) - 1) > 0);
	close(fd);
	assert_int_equal(v[0], '1');

	char name[32];
	snprintf(name, sizeof(name), "pnk-s%d", getpid());
	int ra = netns_attach(name, a), rb = netns_attach(name, b);
	int named = netns_open(name);
	uint64_t cn = 0;
	if (named >= 0) {
		netns_cookie(named, &cn);
		close(named);
	}
	/* the name goes before any check can end the test */
	assert_int_equal(netns_delete(name), 0);
	assert_int_equal(ra, 0);
	assert_int_equal(rb, -EEXIST);
	assert_true(cn == ca);
	close(a);
	close(b);
	close(c);
	nspool_stop(p);
}

/* Last: delete, then nothing of the playground is left anywhere. */
static void t_delete(void **state)
{
	(void)state;
	NEED_ROOT();
	link_sock_close(W.sk);
	W.sk = NULL;
	close(W.ns);
	W.ns = -1;
	assert_int_equal(playground_delete(W.f, W.name, &W.err), 0);
	assert_false(netns_exists(W.plan.netns));
	for (size_t i = 0; i < W.plan.n_machines; i++)
		if (W.plan.machines[i].runtime == MANIFEST_RUNTIME_NETNS)
			assert_false(netns_exists(W.plan.machines[i].netns));
	int hns = netns_open(W.host);
	struct nl_sock *hsk = NULL;
	assert_int_equal(link_sock_open(hns, &hsk), 0);
	assert_int_equal(link_ifindex(hsk, W.plan.uplink_host), -ENODEV);
	link_sock_close(hsk);
	close(hns);
	struct state_record rec;
	assert_int_equal(state_read(W.state_dir, W.name, &rec), -ENOENT);
	char path[128];
	snprintf(path, sizeof(path), "%s/transit/0", W.state_dir);
	assert_int_equal(access(path, F_OK), -1);
	/* and again: idempotent */
	assert_int_equal(playground_delete(W.f, W.name, &W.err), 0);

	/* No guard program is left attached anywhere: once this process lets
	 * go of its own copy, none exists in the kernel at all. The maps were
	 * unpinned with the last playground. */
	fabric_close(W.f);
	W.f = NULL;
	/* Namespaces are destroyed asynchronously, and their tc filters with
	 * them: wait for the kernel's cleanup (bounded, not a timing check). */
	size_t left = 1;
	for (int tries = 0; left && tries < 300; tries++) {
		left = count_guard_progs();
		if (left)
			usleep(20000);
	}
	assert_int_equal(left, 0);
	assert_int_equal(access(W.pin_dir, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_namespaces),
		cmocka_unit_test(t_bridges),
		cmocka_unit_test(t_taps),
		cmocka_unit_test(t_netns_machine),
		cmocka_unit_test(t_uplink),
		cmocka_unit_test(t_nftables),
		cmocka_unit_test(t_state),
		cmocka_unit_test(t_shed),
		cmocka_unit_test(t_sysctls),
		cmocka_unit_test(t_spare_namespaces),
		cmocka_unit_test(t_delete),
	};
	return cmocka_run_group_tests_name("kernel", tests, setup, teardown);
}
