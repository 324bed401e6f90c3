/*
 * A playground's kernel objects from its plan, one stage per kind: the
 * deny list, the namespace, bridges, taps and netns machines, the uplink,
 * the nftables tables, the host side.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hostaddr.h"
#include "ipam.h"
#include "link.h"
#include "netns.h"
#include "nft.h"
#include "nspool.h"
#include "shape.h"
#include "util.h"


/* Bridged frames stay out of the inet hooks (DESIGN.md section 7); no
 * IPv6 addresses on fabric links. Forwarding is turned on per device where
 * packets come in to be routed (the bridges, the uplink). */
static const struct netns_sysctl playground_sysctls[] = {
	{ "net/bridge/bridge-nf-call-iptables", "0", true },
	/* ARP answered only for an address of the link it came in on: none on
	 * a private network's bridge, the gateway alone on the others. */
	{ "net/ipv4/conf/all/arp_ignore", "1", false },
	{ "net/ipv6/conf/default/disable_ipv6", "1", false },
};

int fab_prep_spare(int nsfd)
{
	size_t bad;
	return netns_sysctls(nsfd, playground_sysctls, ARRAY_SIZE(playground_sysctls), &bad);
}

unsigned fab_port_guard_flags(const struct plan_interface *ifc)
{
	return (ifc->vlans ? GUARD_F_VLAN : 0) | (ifc->guard.ip_source ? GUARD_F_IP_SOURCE : 0) |
	       (ifc->guard.dhcp_server ? GUARD_F_DHCP_SERVER : 0);
}


/* A machine port's alias, "machine/interface": the same whether the port
 * is built or refitted. */
void fab_port_alias(const struct plan_machine *mc, const struct plan_interface *ifc,
		    char out[FAB_PORT_ALIAS_MAX])
{
	snprintf(out, FAB_PORT_ALIAS_MAX, "%s/%s", mc->name, ifc->name);
}

static int tap_create(int nsfd, const char *name, long uid, long gid)
{
	/* A tap belongs to the netns /dev/net/tun was opened in. */
	cleanup_close int fd = netns_open_file(nsfd, "/dev/net/tun", O_RDWR);
	if (fd < 0)
		return fd;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		return -errno;
	if (uid >= 0 && ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0)
		return -errno;
	if (gid >= 0 && ioctl(fd, TUNSETGROUP, (unsigned long)gid) < 0)
		return -errno;
	return 0;
}

/* The playground's namespace, named: a spare with its sysctls set when
 * one is ready, else one made now. */
static int build_namespace_fd(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const char *ns = b->p->netns;
	int spare = f->spares ? nspool_take(f->spares) : -EAGAIN;
	int e = FAB_DO(f, err, spare >= 0 ? netns_attach(ns, spare) : netns_create(ns),
		       "create netns %s", ns);
	if (e < 0) {
		if (spare >= 0)
			close(spare);
		return e;
	}
	b->ns = spare >= 0 ? spare : netns_open(ns);
	if (b->ns < 0)
		return pn_fail(err, b->ns, "open netns %s", ns);
	if ((e = fab_step(f, "set sysctls", err)) < 0 || spare >= 0)
		return e;
	size_t bad = 0;
	e = netns_sysctls(b->ns, playground_sysctls, ARRAY_SIZE(playground_sysctls), &bad);
	return e < 0 ? pn_fail(err, e, "set %s in %s", playground_sysctls[bad].key, ns) : 0;
}

static int build_namespace(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const char *ns = b->p->netns;
	int e = build_namespace_fd(b);
	if (e < 0)
		return e;
	if ((e = netns_cookie(b->ns, &b->cookie)) < 0)
		return pn_fail(err, e, "cookie of netns %s", ns);
	if ((e = link_sock_open(b->ns, &b->sk)) < 0)
		return pn_fail(err, e, "netlink socket in %s", ns);
	const struct link_conf lo = { .alias = b->owner_alias };
	return FAB_DO(f, err, link_configure(b->sk, "lo", &lo), "bring up lo in %s", ns);
}

int fab_add_gateway(struct build *b, int bridge_idx, const struct plan_network *n)
{
	char a[IPAM_ADDR_STRLEN];
	ipam_format_addr(n->gateway, a);
	return FAB_DO(b->f, b->err, link_addr_add(b->sk, bridge_idx, n->gateway, n->prefix),
		      "add gateway %s/%u to bridge %s", a, n->prefix, n->bridge);
}

static int build_bridges(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	b->bridges = calloc(b->p->n_networks + 1, sizeof(*b->bridges));
	if (!b->bridges)
		return pn_fail(err, -ENOMEM, "bridges of %s", b->p->netns);
	for (size_t i = 0; i < b->p->n_networks; i++) {
		const struct plan_network *n = &b->p->networks[i];
		const struct link_conf conf = { .alias = n->name, .forwarding = true };
		int e = FAB_DO(f, err, link_bridge_add(b->sk, n->bridge, n->mtu, NULL, &conf),
			       "create bridge %s (network %s)", n->bridge, n->name);
		if (e < 0)
			return e;
		int idx = link_ifindex(b->sk, n->bridge);
		if (idx < 0)
			return pn_fail(err, idx, "find bridge %s", n->bridge);
		b->bridges[i] = idx;
		if (n->has_gateway && (e = fab_add_gateway(b, idx, n)) < 0)
			return e;
	}
	return 0;
}

/* The guard key of link dev, found through sk, whose namespace is cookie's. */
int fab_port_key(struct nl_sock *sk, uint64_t cookie, const char *dev, struct guard_key *k)
{
	int idx = link_ifindex(sk, dev);
	if (idx < 0)
		return idx;
	*k = (struct guard_key){ .netns_cookie = cookie, .ifindex = (uint32_t)idx };
	return 0;
}

/* The guard of a machine's port in pg-P, a tap or a veth's bridge end, in
 * a slot the port's netdev group must then name; before the port is up,
 * as its ingress qdisc then costs no grace period. */
static int build_port_guard(struct build *b, const struct plan_interface *ifc, uint32_t *slot)
{
	struct guard_key k;
	int e = fab_port_key(b->sk, b->cookie, ifc->device, &k);
	if (e < 0)
		return pn_fail(b->err, e, "find %s", ifc->device);
	e = FAB_DO(b->f, b->err, guard_slot(b->guard, &k, slot), "a guard slot for %s", ifc->device);
	if (e == 0)
		e = FAB_DO(b->f, b->err, guard_attach_port(b->guard, b->sk, &k, *slot, ifc->mac,
						    ifc->address, fab_port_guard_flags(ifc)),
			   "attach the guard to %s", ifc->device);
	b->ports += e == 0;
	return e;
}

static int build_tap(struct build *b, const struct plan_machine *mc,
		     const struct plan_interface *ifc)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const struct plan_network *n = &b->p->networks[ifc->network];
	int e = FAB_DO(f, err, tap_create(b->ns, ifc->device, f->o.tap_uid, f->o.tap_gid),
		       "create tap %s (%s %s)", ifc->device, mc->name, ifc->name);
	if (e < 0)
		return e;
	uint32_t slot;
	if ((e = build_port_guard(b, ifc, &slot)) < 0 ||
	    (shape_any(&ifc->impair) && (e = fab_shape_port(b, ifc, &ifc->impair)) < 0))
		return e;
	char alias[FAB_PORT_ALIAS_MAX];
	fab_port_alias(mc, ifc, alias);
	const struct link_conf conf = { .master = b->bridges[ifc->network], .alias = alias,
					.mtu = n->mtu, .group = slot, .down = ifc->link_down };
	return FAB_DO(f, err, link_configure(b->sk, ifc->device, &conf),
		      "attach tap %s to bridge %s", ifc->device, n->bridge);
}

static int build_netns_machine(struct build *b, const struct plan_machine *mc)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	int e = FAB_DO(f, err, netns_create(mc->netns), "create netns %s (machine %s)",
		       mc->netns, mc->name);
	if (e < 0)
		return e;
	cleanup_close int mns = netns_open(mc->netns);
	if (mns < 0)
		return pn_fail(err, mns, "open netns %s", mc->netns);
	struct nl_sock *msk = NULL;
	if ((e = link_sock_open(mns, &msk)) < 0)
		return pn_fail(err, e, "netlink socket in %s", mc->netns);
	const struct link_conf lo = { .alias = b->owner_alias };
	e = FAB_DO(f, err, link_configure(msk, "lo", &lo), "bring up lo in %s", mc->netns);
	for (size_t j = 0; e == 0 && j < mc->n_interfaces; j++) {
		const struct plan_interface *ifc = &mc->interfaces[j];
		const struct plan_network *n = &b->p->networks[ifc->network];
		char alias[FAB_PORT_ALIAS_MAX];
		fab_port_alias(mc, ifc, alias);
		const struct link_conf conf = { .alias = alias, .down = true };
		e = FAB_DO(f, err, link_veth_add(b->sk, ifc->device, b->bridges[ifc->network],
					    ifc->name, mns, ifc->mac, n->mtu, &conf),
			   "create veth %s <-> %s in %s", ifc->device, ifc->name, mc->netns);
		if (e < 0)
			break;
		uint32_t slot;
		if ((e = build_port_guard(b, ifc, &slot)) < 0 ||
		    (shape_any(&ifc->impair) && (e = fab_shape_port(b, ifc, &ifc->impair)) < 0) ||
		    (e = FAB_DO(f, err, link_configure(b->sk, ifc->device,
						  &(struct link_conf){ .group = slot,
								       .down = ifc->link_down }),
				"bring up %s", ifc->device)) < 0 ||
		    (e = FAB_DO(f, err, link_set_up(msk, ifc->name), "bring up %s in %s",
				ifc->name, mc->netns)) < 0)
			break;
		int idx = link_ifindex(msk, ifc->name);
		if (idx < 0) {
			e = pn_fail(err, idx, "find %s in %s", ifc->name, mc->netns);
			break;
		}
		char a[IPAM_ADDR_STRLEN];
		ipam_format_addr(ifc->address, a);
		e = FAB_DO(f, err, link_addr_add(msk, idx, ifc->address, ifc->prefix),
			   "add address %s/%u to %s in %s", a, ifc->prefix, ifc->name,
			   mc->netns);
	}
	if (e == 0 && mc->has_default_gateway) {
		char a[IPAM_ADDR_STRLEN];
		ipam_format_addr(mc->default_gateway, a);
		e = FAB_DO(f, err, link_route_default(msk, mc->default_gateway),
			   "add default route via %s in %s", a, mc->netns);
	}
	link_sock_close(msk);
	return e;
}

static int build_machines(struct build *b)
{
	for (size_t i = 0; i < b->p->n_machines; i++) {
		const struct plan_machine *mc = &b->p->machines[i];
		int e = 0;
		if (mc->runtime == MANIFEST_RUNTIME_NETNS) {
			e = build_netns_machine(b, mc);
		} else {
			for (size_t j = 0; e == 0 && j < mc->n_interfaces; j++)
				e = build_tap(b, mc, &mc->interfaces[j]);
		}
		if (e < 0)
			return e;
	}
	/* The filter last, once: a port that joins a block already holding
	 * one waits for an RCU grace period (mini_qdisc_pair_swap), and until
	 * create returns no machine runs to send anything. */
	if (!b->ports)
		return 0;
	return FAB_DO(b->f, b->err, guard_port_block(b->guard, b->sk), "attach the port guard in %s",
		      b->p->netns);
}

/* No IPv6 at all on an uplink's host end, before it comes up. An address
 * is not the only cost: an IPv6 device that comes up puts a multicast
 * route (ff00::/8) of its own in the host netns, and every route added
 * there, and every carrier change (rt6_sync_up), walks all of them: one
 * per playground up. */
static int host_end_no_ipv6(struct fabric *f, const char *host_end, struct pn_error *err)
{
	char key[64];
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", host_end);
	const struct netns_sysctl s = { key, "1", true }; /* absent: no IPv6 */
	size_t bad;
	/* kept: a mount per create would cost more than the write */
	if (f->host_proc < 0 && (f->host_proc = netns_proc_open()) < 0)
		return pn_fail(err, -errno, "a procfs for the host netns");
	return FAB_DO(f, err, netns_sysctls_at(f->host_proc, f->host_nsfd, &s, 1, &bad),
		      "turn off IPv6 on %s", host_end);
}

/* The uplink's host end (ifindex hidx) guarded, checking sources against
 * inside, and up. */
int fab_guard_uplink_up(struct build *b, int hidx, uint32_t inside)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const char *dev = b->p->uplink_host;
	const struct guard_key k = { .netns_cookie = f->host_cookie, .ifindex = (uint32_t)hidx };
	uint32_t slot;
	int e;
	if ((e = FAB_DO(f, err, guard_slot(b->guard, &k, &slot), "a guard slot for %s", dev)) < 0 ||
	    (e = FAB_DO(f, err, guard_attach_uplink(b->guard, b->host, &k, slot, inside,
					       f->o.uplink_rate),
			"attach the guard to uplink %s", dev)) < 0)
		return e;
	return FAB_DO(f, err, link_configure(b->host, dev, &(struct link_conf){ .group = slot }),
		      "bring up uplink %s", dev);
}

static int build_uplink(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const struct plan *p = b->p;
	uint32_t host, inside;
	host = b->transit;
	inside = host + 1;
	char hs[IPAM_ADDR_STRLEN], is[IPAM_ADDR_STRLEN];
	ipam_format_addr(host, hs);
	ipam_format_addr(inside, is);
	/* Allocations are per state dir; a host netns shared by two of them
	 * would route one playground's replies to the other. */
	if (hostaddr_has(f->hostaddr, host)) {
		return pn_failx(err, -EADDRINUSE,
				"transit address %s is already in use in the host netns (another state dir with the same transit pool?)",
				hs);
	}
	const struct link_conf host_end = { .alias = b->owner_alias, .down = true };
	const struct link_conf inside_end = { .forwarding = true };
	int e = FAB_DO(f, err, link_veth_add(b->host, p->uplink_host, 0, NAMING_UPLINK_INSIDE,
					b->ns, NULL, 0, &host_end),
		       "create uplink %s <-> %s in %s", p->uplink_host,
		       NAMING_UPLINK_INSIDE, p->netns);
	if (e < 0 || (e = host_end_no_ipv6(f, p->uplink_host, err)) < 0 ||
	    (e = FAB_DO(f, err, link_configure(b->sk, NAMING_UPLINK_INSIDE, &inside_end),
			"bring up %s in %s", NAMING_UPLINK_INSIDE, p->netns)) < 0)
		return e;
	int hidx = link_ifindex(b->host, p->uplink_host);
	int iidx = link_ifindex(b->sk, NAMING_UPLINK_INSIDE);
	if (hidx < 0 || iidx < 0)
		return pn_fail(err, hidx < 0 ? hidx : iidx, "find uplink of %s", p->name);
	if ((e = FAB_DO(f, err, link_addr_add(b->host, hidx, host, 31),
			"add transit address %s/31 to %s", hs, p->uplink_host)) < 0 ||
	    (e = FAB_DO(f, err, link_addr_add(b->sk, iidx, inside, 31),
			"add transit address %s/31 to %s in %s", is,
			NAMING_UPLINK_INSIDE, p->netns)) < 0)
		return e;
	if ((e = FAB_DO(f, err, link_route_default(b->sk, host),
			"add default route via %s in %s", hs, p->netns)) < 0)
		return e;
	/* Up last, guard and all: its qdisc then costs no grace period. */
	return fab_guard_uplink_up(b, hidx, inside);
}

/* Where no playground may send to (DESIGN.md section 3). */
static const struct guard_prefix default_deny[] = {
	{ 0x0a000000, 8 },  /* 10/8 */
	{ 0xac100000, 12 }, /* 172.16/12 */
	{ 0xc0a80000, 16 }, /* 192.168/16 */
	{ 0xa9fe0000, 16 }, /* 169.254/16, 169.254.169.254 among them */
	{ 0x64400000, 10 }, /* 100.64/10 */
	{ 0xe0000000, 4 },  /* multicast */
	{ 0xf0000000, 4 },  /* reserved, broadcast */
};

static int deny_host_address(uint32_t addr, void *arg)
{
	const struct fabric *f = arg;
	return ipam_contains(f->o.pool, f->o.pool_prefix, addr) ? 0 : guard_deny(f->guard, addr, 32);
}

/* The deny list is shared by every playground: its fixed part goes in once
 * per load of the guards (the operator's file is read when netd starts);
 * the host's addresses as they appear. Those in the transit pool need no
 * entry of their own, and at 1000 playgrounds there are 1000 of them. */
static int deny_fixed(struct build *b)
{
	const struct fabric *f = b->f;
	const struct guard_config *c = f->o.guard_config;
	int e = 0;
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(default_deny); i++)
		e = guard_deny(b->guard, default_deny[i].net, default_deny[i].prefix);
	if (e == 0)
		e = guard_deny(b->guard, f->o.pool, f->o.pool_prefix);
	for (size_t i = 0; c && e == 0 && i < c->n_deny; i++)
		e = guard_deny(b->guard, c->deny[i].net, c->deny[i].prefix);
	for (size_t i = 0; c && e == 0 && i < c->n_allow; i++)
		e = guard_allow(b->guard, c->allow[i].net, c->allow[i].prefix);
	return e;
}

/* The watch on the host's addresses starts with the fixed part: both go
 * with the maps they filled (fabric_guard). */
static int build_deny_list(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	int e;
	if (!f->hostaddr) {
		if ((e = deny_fixed(b)) < 0)
			return pn_fail(err, e, "fill the uplink deny list");
		if ((e = hostaddr_open(f->host_nsfd, &f->hostaddr)) < 0)
			return pn_fail(err, e, "watch the host netns's addresses");
	}
	return fabric_hostaddr_update(f, err);
}

/* In a takeover, P's rules take the place of OLD's. */
int fab_build_nft(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	struct nft_batch *nb = NULL;
	int e = nft_playground_batch(b->p, b->was != NULL, &nb);
	if (e < 0)
		return pn_fail(err, e, "build nftables ruleset of %s", b->p->netns);
	char what[128];
	snprintf(what, sizeof(what), "load nftables ruleset in %s", b->p->netns);
	e = fab_step(f, what, err);
	if (e == 0 && (e = nft_batch_send(nb, b->ns, f->o.close_later, err)) < 0)
		pn_wrap(err, "%s", what);
	nft_batch_free(nb);
	return e;
}

/* The host side is shared by every playground and the same for all of
 * them (whatever the transit pool): made when missing, left alone otherwise,
 * since replacing it costs a grace period (~20 ms) on every create.
 * Forwarding must be on for the uplinks. */
int fab_build_host(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	/* Once per fabric: each write looks the path up among the sysctls of
	 * every namespace, a walk that grows with each playground. */
	int e = fab_step(f, "enable forwarding in the host netns", err);
	if (e == 0 && !f->host_forwarding &&
	    (e = netns_sysctl(f->host_nsfd, "net/ipv4/ip_forward", "1")) < 0)
		return pn_fail(err, e, "enable forwarding in the host netns");
	if (e < 0)
		return e;
	f->host_forwarding = true;
	int exists = nft_table_exists(f->host_nsfd);
	if (exists < 0)
		return pn_fail(err, exists, "query host nftables table %s", NFT_TABLE);
	if (exists)
		return 0;
	struct nft_batch *nb = NULL;
	if ((e = nft_host_batch(&nb)) < 0)
		return pn_fail(err, e, "build host nftables ruleset");
	e = fab_step(f, "load host nftables ruleset", err);
	if (e == 0 && (e = nft_batch_send(nb, f->host_nsfd, NULL, err)) < 0)
		pn_wrap(err, "load host nftables ruleset");
	nft_batch_free(nb);
	return e;
}


int fabric_check_free(struct fabric *f, const struct plan *p, struct pn_error *err)
{
	if (netns_exists(p->netns))
		return pn_failx(err, -EEXIST,
				"netns %s exists but playnet has no record of it (left by a crash? 'playnet down %s' removes it)",
				p->netns, p->name);
	struct nl_sock *hsk = NULL;
	int e = link_sock_open(f->host_nsfd, &hsk);
	if (e < 0)
		return pn_fail(err, e, "netlink socket in the host netns");
	int idx = link_ifindex(hsk, p->uplink_host);
	link_sock_close(hsk);
	if (idx >= 0)
		return pn_failx(err, -EEXIST,
				"link %s already exists in the host netns ('playnet down %s' removes it)",
				p->uplink_host, p->name);
	return 0;
}

int fabric_check_subnets(struct fabric *f, const struct plan *p, struct pn_error *err)
{
	for (size_t i = 0; i < p->n_networks; i++) {
		const struct plan_network *n = &p->networks[i];
		if (!ipam_overlap(n->subnet, n->prefix, f->o.pool, f->o.pool_prefix))
			continue;
		char c[IPAM_CIDR_STRLEN], pool[IPAM_CIDR_STRLEN];
		ipam_format_cidr(n->subnet, n->prefix, c);
		ipam_format_cidr(f->o.pool, f->o.pool_prefix, pool);
		return pn_failx(err, -EDOM, "network %s: subnet %s overlaps the transit pool %s",
				n->name, c, pool);
	}
	return 0;
}

int fabric_build(struct fabric *f, const struct plan *p, uint32_t transit,
		 struct pn_error *err)
{
	struct build b = { .f = f, .err = err, .p = p, .ns = -1, .transit = transit };
	fabric_owner_alias(f, p->name, b.owner_alias, sizeof(b.owner_alias));
	int e = link_sock_open(f->host_nsfd, &b.host);
	if (e < 0)
		pn_fail(err, e, "netlink socket in the host netns");
	if (e == 0 && (e = fab_step(f, "load the BPF guards", err)) == 0)
		e = fabric_guard(f, &b.guard, err);
	static int (*const stages[])(struct build *) = {
		build_deny_list, build_namespace, build_bridges, build_machines,
		build_uplink, fab_build_nft, fab_build_host, fab_build_forwards,
	};
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(stages); i++)
		e = stages[i](&b);
	link_sock_close(b.sk);
	link_sock_close(b.host);
	free(b.bridges);
	if (b.ns >= 0)
		close(b.ns);
	return e;
}

int fabric_hostaddr_fd(const struct fabric *f)
{
	return f->hostaddr ? hostaddr_fd(f->hostaddr) : -1;
}

int fabric_hostaddr_update(struct fabric *f, struct pn_error *err)
{
	if (!f->hostaddr || !f->guard)
		return 0;
	int e = hostaddr_refresh(f->hostaddr, deny_host_address, f);
	return e < 0 ? pn_fail(err, e, "read the host netns's addresses into the deny list") : 0;
}
