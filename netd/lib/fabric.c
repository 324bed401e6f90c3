#define _GNU_SOURCE
#include "fabric.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/route/link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cliopt.h"
#include "guard.h"
#include "hostaddr.h"
#include "ipam.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "nft.h"
#include "nspool.h"
#include "util.h"

int fabric_fail(struct fabric *f, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(f->err))
		snprintf(f->err + n, sizeof(f->err) - (size_t)n, ": %s", strerror(-e));
	return e;
}

/* Counts the steps of a create or delete; a test hook kills the process at
 * the one it names, as a crash would. */
static void fab_point(struct fabric *f)
{
	if (++f->step == f->kill_step) {
		log_warn("killed at step %d by %s", f->step, FABRIC_KILL_STEP_ENV);
		kill(getpid(), SIGKILL);
	}
}

/* A step of a create; the other test hook fails the one it names. */
static int fab_step(struct fabric *f, const char *what)
{
	fab_point(f);
	if (f->fail_step != f->step)
		return 0;
	snprintf(f->err, sizeof(f->err), "%s: failure injected at step %d", what,
		 f->step);
	return -ECANCELED;
}

/* Step, call, and on error a message naming the object. */
#define FAB_DO(f, call, ...)                                                   \
	({                                                                     \
		char _what[256];                                               \
		snprintf(_what, sizeof(_what), __VA_ARGS__);                   \
		int _e = fab_step((f), _what);                                 \
		if (_e == 0) {                                                 \
			_e = (call);                                           \
			if (_e < 0)                                            \
				fabric_fail((f), _e, "%s", _what);               \
		}                                                              \
		_e < 0 ? _e : 0;                                               \
	})

/* A test hook's step number; 0 (none) when unset. */
static int env_step(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : 0;
}

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

static int prep_netns(int nsfd)
{
	size_t bad;
	return netns_sysctls(nsfd, playground_sysctls, ARRAY_SIZE(playground_sysctls), &bad);
}

int fabric_open(struct fabric *f, const struct fabric_opts *o)
{
	memset(f, 0, sizeof(*f));
	f->o = *o;
	f->host_nsfd = -1;
	f->host_proc = -1;
	f->opened = (int64_t)time(NULL);
	f->fail_step = env_step(FABRIC_FAIL_STEP_ENV);
	f->kill_step = env_step(FABRIC_KILL_STEP_ENV);
	int e = state_dir_init(o->state_dir);
	if (e < 0)
		return fabric_fail(f, e, "state dir %s", o->state_dir);
	char real[PATH_MAX];
	if (!realpath(o->state_dir, real))
		return fabric_fail(f, -errno, "state dir %s", o->state_dir);
	snprintf(f->owner, sizeof(f->owner), "%08x", naming_hash32(real));
	if (o->host_netns && *o->host_netns) {
		f->host_nsfd = netns_open(o->host_netns);
		if (f->host_nsfd < 0)
			return fabric_fail(f, f->host_nsfd, "host netns '%s'", o->host_netns);
	} else {
		f->host_nsfd = netns_open_current();
		if (f->host_nsfd < 0)
			return fabric_fail(f, f->host_nsfd, "current netns");
	}
	e = netns_cookie(f->host_nsfd, &f->host_cookie);
	if (e < 0)
		return fabric_fail(f, e, "cookie of the host netns");
	if (o->netns_spares && (e = nspool_start(&f->spares, o->netns_spares, prep_netns)) < 0)
		return fabric_fail(f, e, "start making spare namespaces");
	return 0;
}

void fabric_owner_alias(const struct fabric *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, FABRIC_ALIAS_PREFIX "%s %s", name, f->owner);
}

bool fabric_owns(const struct fabric *f, const char *alias, char *name, size_t len)
{
	size_t plen = strlen(FABRIC_ALIAS_PREFIX);
	if (strncmp(alias, FABRIC_ALIAS_PREFIX, plen) != 0)
		return false;
	const char *n = alias + plen, *sp = strchr(n, ' ');
	if (!sp || strcmp(sp + 1, f->owner) != 0 || (size_t)(sp - n) >= len)
		return false;
	snprintf(name, len, "%.*s", (int)(sp - n), n);
	return naming_valid_playground(name);
}

void fabric_pin_dir(const char *state_dir, const char *given, char *out, size_t len)
{
	if (given)
		snprintf(out, len, "%s", given);
	else if (strcmp(state_dir, CLIOPT_STATE_DIR_DEFAULT) == 0)
		snprintf(out, len, "%s/playnet", GUARD_PIN_ROOT);
	else
		snprintf(out, len, "%s/playnet-%08x", GUARD_PIN_ROOT,
			 naming_hash32(state_dir));
}

static int fabric_guard(struct fabric *f, struct guard **out)
{
	if (!f->guard) {
		char why[256];
		int e = guard_open(f->o.pin_dir, &f->guard, why, sizeof(why));
		if (e < 0) {
			snprintf(f->err, sizeof(f->err), "BPF guards: %s", why);
			return e;
		}
		/* New maps: the deny list and the host's addresses in it
		 * start again. */
		hostaddr_close(f->hostaddr);
		f->hostaddr = NULL;
	}
	*out = f->guard;
	return 0;
}

void fabric_close(struct fabric *f)
{
	nspool_stop(f->spares);
	f->spares = NULL;
	guard_close(f->guard);
	f->guard = NULL;
	hostaddr_close(f->hostaddr);
	f->hostaddr = NULL;
	if (f->host_nsfd >= 0)
		close(f->host_nsfd);
	f->host_nsfd = -1;
	if (f->host_proc >= 0)
		close(f->host_proc);
	f->host_proc = -1;
}

void fabric_transit_addrs(const struct fabric *f, const struct state_record *rec,
			  uint32_t *host, uint32_t *inside)
{
	*host = rec->transit ? rec->transit : f->o.pool + 2 * (uint32_t)rec->transit_index;
	*inside = *host + 1;
}


/* Everything one create holds while it builds. */
struct build {
	struct fabric *f;
	const struct plan *p;
	const struct plan *was; /* a takeover: OLD's plan, whose objects P's become */
	int ns;                 /* pg-P */
	struct nl_sock *sk;     /* in pg-P */
	struct nl_sock *host;   /* in the host netns */
	struct guard *guard;
	uint64_t cookie;        /* pg-P's, in guard keys */
	int *bridges;           /* ifindex of each network's bridge */
	size_t ports;           /* machine ports on pg-P's shared tc block */
	uint32_t transit; /* the host end of its /31 */
	char owner_alias[128];  /* on every lo and the uplink's host end */
};

static unsigned port_guard_flags(const struct plan_interface *ifc)
{
	return (ifc->vlans ? GUARD_F_VLAN : 0) | (ifc->guard.ip_source ? GUARD_F_IP_SOURCE : 0) |
	       (ifc->guard.dhcp_server ? GUARD_F_DHCP_SERVER : 0);
}

#define PORT_ALIAS_MAX 128

/* A machine port's alias, "machine/interface": the same whether the port
 * is built or refitted. */
static void port_alias(const struct plan_machine *mc, const struct plan_interface *ifc,
		       char out[PORT_ALIAS_MAX])
{
	snprintf(out, PORT_ALIAS_MAX, "%s/%s", mc->name, ifc->name);
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
	const char *ns = b->p->netns;
	int spare = f->spares ? nspool_take(f->spares) : -EAGAIN;
	int e = FAB_DO(f, spare >= 0 ? netns_attach(ns, spare) : netns_create(ns),
		       "create netns %s", ns);
	if (e < 0) {
		if (spare >= 0)
			close(spare);
		return e;
	}
	b->ns = spare >= 0 ? spare : netns_open(ns);
	if (b->ns < 0)
		return fabric_fail(f, b->ns, "open netns %s", ns);
	if ((e = fab_step(f, "set sysctls")) < 0 || spare >= 0)
		return e;
	size_t bad = 0;
	e = netns_sysctls(b->ns, playground_sysctls, ARRAY_SIZE(playground_sysctls), &bad);
	return e < 0 ? fabric_fail(f, e, "set %s in %s", playground_sysctls[bad].key, ns) : 0;
}

static int build_namespace(struct build *b)
{
	struct fabric *f = b->f;
	const char *ns = b->p->netns;
	int e = build_namespace_fd(b);
	if (e < 0)
		return e;
	if ((e = netns_cookie(b->ns, &b->cookie)) < 0)
		return fabric_fail(f, e, "cookie of netns %s", ns);
	if ((e = link_sock_open(b->ns, &b->sk)) < 0)
		return fabric_fail(f, e, "netlink socket in %s", ns);
	const struct link_conf lo = { .alias = b->owner_alias };
	return FAB_DO(f, link_configure(b->sk, "lo", &lo), "bring up lo in %s", ns);
}

static int add_gateway(struct build *b, int bridge_idx, const struct plan_network *n)
{
	char a[IPAM_ADDR_STRLEN];
	ipam_format_addr(n->gateway, a);
	return FAB_DO(b->f, link_addr_add(b->sk, bridge_idx, n->gateway, n->prefix),
		      "add gateway %s/%u to bridge %s", a, n->prefix, n->bridge);
}

static int build_bridges(struct build *b)
{
	struct fabric *f = b->f;
	b->bridges = calloc(b->p->n_networks + 1, sizeof(*b->bridges));
	if (!b->bridges)
		return fabric_fail(f, -ENOMEM, "bridges of %s", b->p->netns);
	for (size_t i = 0; i < b->p->n_networks; i++) {
		const struct plan_network *n = &b->p->networks[i];
		const struct link_conf conf = { .alias = n->name, .forwarding = true };
		int e = FAB_DO(f, link_bridge_add(b->sk, n->bridge, n->mtu, NULL, &conf),
			       "create bridge %s (network %s)", n->bridge, n->name);
		if (e < 0)
			return e;
		int idx = link_ifindex(b->sk, n->bridge);
		if (idx < 0)
			return fabric_fail(f, idx, "find bridge %s", n->bridge);
		b->bridges[i] = idx;
		if (n->has_gateway && (e = add_gateway(b, idx, n)) < 0)
			return e;
	}
	return 0;
}

/* The guard key of link dev, found through sk, whose namespace is cookie's. */
static int link_key(struct nl_sock *sk, uint64_t cookie, const char *dev, struct guard_key *k)
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
	int e = link_key(b->sk, b->cookie, ifc->device, &k);
	if (e < 0)
		return fabric_fail(b->f, e, "find %s", ifc->device);
	e = FAB_DO(b->f, guard_slot(b->guard, &k, slot), "a guard slot for %s", ifc->device);
	if (e == 0)
		e = FAB_DO(b->f, guard_attach_port(b->guard, b->sk, &k, *slot, ifc->mac,
						    ifc->address, port_guard_flags(ifc)),
			   "attach the guard to %s", ifc->device);
	b->ports += e == 0;
	return e;
}

static int build_tap(struct build *b, const struct plan_machine *mc,
		     const struct plan_interface *ifc)
{
	struct fabric *f = b->f;
	const struct plan_network *n = &b->p->networks[ifc->network];
	int e = FAB_DO(f, tap_create(b->ns, ifc->device, f->o.tap_uid, f->o.tap_gid),
		       "create tap %s (%s %s)", ifc->device, mc->name, ifc->name);
	if (e < 0)
		return e;
	uint32_t slot;
	if ((e = build_port_guard(b, ifc, &slot)) < 0)
		return e;
	char alias[PORT_ALIAS_MAX];
	port_alias(mc, ifc, alias);
	const struct link_conf conf = { .master = b->bridges[ifc->network], .alias = alias,
					.mtu = n->mtu, .group = slot };
	return FAB_DO(f, link_configure(b->sk, ifc->device, &conf),
		      "attach tap %s to bridge %s", ifc->device, n->bridge);
}

static int build_netns_machine(struct build *b, const struct plan_machine *mc)
{
	struct fabric *f = b->f;
	int e = FAB_DO(f, netns_create(mc->netns), "create netns %s (machine %s)",
		       mc->netns, mc->name);
	if (e < 0)
		return e;
	cleanup_close int mns = netns_open(mc->netns);
	if (mns < 0)
		return fabric_fail(f, mns, "open netns %s", mc->netns);
	struct nl_sock *msk = NULL;
	if ((e = link_sock_open(mns, &msk)) < 0)
		return fabric_fail(f, e, "netlink socket in %s", mc->netns);
	const struct link_conf lo = { .alias = b->owner_alias };
	e = FAB_DO(f, link_configure(msk, "lo", &lo), "bring up lo in %s", mc->netns);
	for (size_t j = 0; e == 0 && j < mc->n_interfaces; j++) {
		const struct plan_interface *ifc = &mc->interfaces[j];
		const struct plan_network *n = &b->p->networks[ifc->network];
		char alias[PORT_ALIAS_MAX];
		port_alias(mc, ifc, alias);
		const struct link_conf conf = { .alias = alias, .down = true };
		e = FAB_DO(f, link_veth_add(b->sk, ifc->device, b->bridges[ifc->network],
					    ifc->name, mns, ifc->mac, n->mtu, &conf),
			   "create veth %s <-> %s in %s", ifc->device, ifc->name, mc->netns);
		if (e < 0)
			break;
		uint32_t slot;
		if ((e = build_port_guard(b, ifc, &slot)) < 0 ||
		    (e = FAB_DO(f, link_configure(b->sk, ifc->device,
						  &(struct link_conf){ .group = slot }),
				"bring up %s", ifc->device)) < 0 ||
		    (e = FAB_DO(f, link_set_up(msk, ifc->name), "bring up %s in %s",
				ifc->name, mc->netns)) < 0)
			break;
		int idx = link_ifindex(msk, ifc->name);
		if (idx < 0) {
			e = fabric_fail(f, idx, "find %s in %s", ifc->name, mc->netns);
			break;
		}
		char a[IPAM_ADDR_STRLEN];
		ipam_format_addr(ifc->address, a);
		e = FAB_DO(f, link_addr_add(msk, idx, ifc->address, ifc->prefix),
			   "add address %s/%u to %s in %s", a, ifc->prefix, ifc->name,
			   mc->netns);
	}
	if (e == 0 && mc->has_default_gateway) {
		char a[IPAM_ADDR_STRLEN];
		ipam_format_addr(mc->default_gateway, a);
		e = FAB_DO(f, link_route_default(msk, mc->default_gateway),
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
	return FAB_DO(b->f, guard_port_block(b->guard, b->sk), "attach the port guard in %s",
		      b->p->netns);
}

/* No IPv6 at all on an uplink's host end, before it comes up. An address
 * is not the only cost: an IPv6 device that comes up puts a multicast
 * route (ff00::/8) of its own in the host netns, and every route added
 * there, and every carrier change (rt6_sync_up), walks all of them: one
 * per playground up. */
static int host_end_no_ipv6(struct fabric *f, const char *host_end)
{
	char key[64];
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", host_end);
	const struct netns_sysctl s = { key, "1", true }; /* absent: no IPv6 */
	size_t bad;
	/* kept: a mount per create would cost more than the write */
	if (f->host_proc < 0 && (f->host_proc = netns_proc_open()) < 0)
		return fabric_fail(f, -errno, "a procfs for the host netns");
	return FAB_DO(f, netns_sysctls_at(f->host_proc, f->host_nsfd, &s, 1, &bad),
		      "turn off IPv6 on %s", host_end);
}

/* The uplink's host end (ifindex hidx) guarded, checking sources against
 * inside, and up. */
static int guard_uplink_up(struct build *b, int hidx, uint32_t inside)
{
	struct fabric *f = b->f;
	const char *dev = b->p->uplink_host;
	const struct guard_key k = { .netns_cookie = f->host_cookie, .ifindex = (uint32_t)hidx };
	uint32_t slot;
	int e;
	if ((e = FAB_DO(f, guard_slot(b->guard, &k, &slot), "a guard slot for %s", dev)) < 0 ||
	    (e = FAB_DO(f, guard_attach_uplink(b->guard, b->host, &k, slot, inside,
					       f->o.uplink_rate),
			"attach the guard to uplink %s", dev)) < 0)
		return e;
	return FAB_DO(f, link_configure(b->host, dev, &(struct link_conf){ .group = slot }),
		      "bring up uplink %s", dev);
}

static int build_uplink(struct build *b)
{
	struct fabric *f = b->f;
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
		snprintf(f->err, sizeof(f->err),
			 "transit address %s is already in use in the host netns (another state dir with the same transit pool?)",
			 hs);
		return -EADDRINUSE;
	}
	const struct link_conf host_end = { .alias = b->owner_alias, .down = true };
	const struct link_conf inside_end = { .forwarding = true };
	int e = FAB_DO(f, link_veth_add(b->host, p->uplink_host, 0, NAMING_UPLINK_INSIDE,
					b->ns, NULL, 0, &host_end),
		       "create uplink %s <-> %s in %s", p->uplink_host,
		       NAMING_UPLINK_INSIDE, p->netns);
	if (e < 0 || (e = host_end_no_ipv6(f, p->uplink_host)) < 0 ||
	    (e = FAB_DO(f, link_configure(b->sk, NAMING_UPLINK_INSIDE, &inside_end),
			"bring up %s in %s", NAMING_UPLINK_INSIDE, p->netns)) < 0)
		return e;
	int hidx = link_ifindex(b->host, p->uplink_host);
	int iidx = link_ifindex(b->sk, NAMING_UPLINK_INSIDE);
	if (hidx < 0 || iidx < 0)
		return fabric_fail(f, hidx < 0 ? hidx : iidx, "find uplink of %s", p->name);
	if ((e = FAB_DO(f, link_addr_add(b->host, hidx, host, 31),
			"add transit address %s/31 to %s", hs, p->uplink_host)) < 0 ||
	    (e = FAB_DO(f, link_addr_add(b->sk, iidx, inside, 31),
			"add transit address %s/31 to %s in %s", is,
			NAMING_UPLINK_INSIDE, p->netns)) < 0)
		return e;
	if ((e = FAB_DO(f, link_route_default(b->sk, host),
			"add default route via %s in %s", hs, p->netns)) < 0)
		return e;
	/* Up last, guard and all: its qdisc then costs no grace period. */
	return guard_uplink_up(b, hidx, inside);
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
	int e;
	if (!f->hostaddr) {
		if ((e = deny_fixed(b)) < 0)
			return fabric_fail(f, e, "fill the uplink deny list");
		if ((e = hostaddr_open(f->host_nsfd, &f->hostaddr)) < 0)
			return fabric_fail(f, e, "watch the host netns's addresses");
	}
	return fabric_hostaddr_update(f);
}

int fabric_hostaddr_fd(const struct fabric *f)
{
	return f->hostaddr ? hostaddr_fd(f->hostaddr) : -1;
}

int fabric_hostaddr_update(struct fabric *f)
{
	if (!f->hostaddr || !f->guard)
		return 0;
	int e = hostaddr_refresh(f->hostaddr, deny_host_address, f);
	return e < 0 ? fabric_fail(f, e, "read the host netns's addresses into the deny list") : 0;
}

/* In a takeover, P's rules take the place of OLD's. */
static int build_nft(struct build *b)
{
	struct fabric *f = b->f;
	struct nft_batch *nb = NULL;
	int e = nft_playground_batch(b->p, b->was != NULL, &nb);
	if (e < 0)
		return fabric_fail(f, e, "build nftables ruleset of %s", b->p->netns);
	char why[256] = "";
	e = FAB_DO(f, nft_batch_send(nb, b->ns, f->o.close_later, why, sizeof(why)),
		   "load nftables ruleset in %s", b->p->netns);
	nft_batch_free(nb);
	if (e < 0 && why[0])
		snprintf(f->err, sizeof(f->err), "load nftables ruleset in %s: %s",
			 b->p->netns, why);
	return e;
}

/* The host side is shared by every playground and the same for all of
 * them (whatever the transit pool): made when missing, left alone otherwise,
 * since replacing it costs a grace period (~20 ms) on every create.
 * Forwarding must be on for the uplinks. */
static int build_host(struct build *b)
{
	struct fabric *f = b->f;
	/* Once per fabric: each write looks the path up among the sysctls of
	 * every namespace, a walk that grows with each playground. */
	int e = fab_step(f, "enable forwarding in the host netns");
	if (e == 0 && !f->host_forwarding &&
	    (e = netns_sysctl(f->host_nsfd, "net/ipv4/ip_forward", "1")) < 0)
		return fabric_fail(f, e, "enable forwarding in the host netns");
	if (e < 0)
		return e;
	f->host_forwarding = true;
	int exists = nft_table_exists(f->host_nsfd);
	if (exists < 0)
		return fabric_fail(f, exists, "query host nftables table %s", NFT_TABLE);
	if (exists)
		return 0;
	struct nft_batch *nb = NULL;
	if ((e = nft_host_batch(&nb)) < 0)
		return fabric_fail(f, e, "build host nftables ruleset");
	char why[256] = "";
	e = FAB_DO(f, nft_batch_send(nb, f->host_nsfd, NULL, why, sizeof(why)),
		   "load host nftables ruleset");
	nft_batch_free(nb);
	if (e < 0 && why[0])
		snprintf(f->err, sizeof(f->err), "load host nftables ruleset: %s", why);
	return e;
}

/* Whether alias, on a link of what would be NAME's, says this fabric made
 * it for NAME. */
static bool alias_is_ours(const struct fabric *f, const char *alias, const char *name)
{
	char owner[NAMING_PLAYGROUND_MAX + 1];
	return fabric_owns(f, alias, owner, sizeof(owner)) && strcmp(owner, name) == 0;
}

bool fabric_netns_owns(const struct fabric *f, int nsfd, char *name, size_t len)
{
	struct nl_sock *sk = NULL;
	if (nsfd < 0 || link_sock_open(nsfd, &sk) < 0)
		return false;
	char alias[256];
	int e = link_alias(sk, "lo", alias, sizeof(alias));
	link_sock_close(sk);
	return e == 0 && fabric_owns(f, alias, name, len);
}

/* Whether the namespace's lo carries this fabric's tag for NAME. */
static bool netns_is_ours(const struct fabric *f, int nsfd, const char *name)
{
	char owner[NAMING_PLAYGROUND_MAX + 1];
	return fabric_netns_owns(f, nsfd, owner, sizeof(owner)) && strcmp(owner, name) == 0;
}

struct teardown_walk {
	struct fabric *f;
	const char *name;
	bool owned_only;
};

static int teardown_netns_cb(const char *ns, void *arg)
{
	struct teardown_walk *w = arg;
	fab_point(w->f);
	if (w->owned_only) {
		cleanup_close int fd = netns_open(ns);
		if (!netns_is_ours(w->f, fd, w->name))
			return 0;
	}
	return netns_delete(ns);
}

/* Where a deleted playground's namespace waits to be destroyed or taken
 * over: a name of this fabric's own (its machines' namespaces under it,
 * NAME.MACHINE), so that pg-P and pg-P.M go the moment the delete is
 * answered. The hash may be another playground's: what is found under it
 * is only ever touched when its lo says it is NAME's. */
static void hidden_netns(const struct fabric *f, const char *name, char out[NAMING_NETNS_MAX])
{
	snprintf(out, NAMING_NETNS_MAX, "%s%s-%08x", FABRIC_HIDDEN_PREFIX, f->owner,
		 naming_hash32(name));
}

/* The name a playground's namespace has now: hidden once its delete began. */
static void current_netns(const struct fabric *f, const char *name, char out[NAMING_NETNS_MAX])
{
	hidden_netns(f, name, out);
	cleanup_close int fd = netns_open(out);
	if (fd < 0 || !netns_is_ours(f, fd, name))
		naming_netns(name, out);
}

/* Gives the namespace FROM the name TO (a new bind mount, then the old one
 * goes); nothing to do when FROM is not there. */
static int netns_rename(const char *from, const char *to)
{
	cleanup_close int fd = netns_open(from);
	if (fd == -ENOENT)
		return 0;
	int e = fd < 0 ? fd : netns_attach(to, fd);
	return e < 0 ? e : netns_delete(from);
}

struct hide_walk {
	size_t skip; /* of a machine netns's name: what precedes ".MACHINE" */
	const char *to;
};

static int hide_machine_cb(const char *ns, void *arg)
{
	const struct hide_walk *w = arg;
	char to[NAMING_NETNS_MAX + 64];
	snprintf(to, sizeof(to), "%s%s", w->to, ns + w->skip);
	return netns_rename(ns, to);
}

int fabric_hide(struct fabric *f, const char *name)
{
	char ns[NAMING_NETNS_MAX], hidden[NAMING_NETNS_MAX], prefix[NAMING_NETNS_MAX + 1];
	naming_netns(name, ns);
	hidden_netns(f, name, hidden);
	snprintf(prefix, sizeof(prefix), "%s.", ns);
	struct hide_walk w = { strlen(ns), hidden };
	int e = netns_list(prefix, hide_machine_cb, &w);
	if (e == 0)
		e = netns_rename(ns, hidden);
	return e < 0 ? fabric_fail(f, e, "hide the namespaces of deleted %s", name) : 0;
}

/* Removes every kernel object of a playground, found by name (its own, and
 * the hidden one of fabric_hide). host_nsfd < 0: the host netns is gone,
 * and the uplink's host end with it. keep_host_end: the uplink's host end
 * is left to die with the namespace (see playground_release). owned_only:
 * there is no record of NAME, so only what carries this fabric's tag for
 * it goes (a namespace by its lo's alias, the host end by its own): names
 * alone may be another state dir's, or no playground's at all. */
static int fabric_teardown(struct fabric *f, const char *name, int host_nsfd,
			   bool keep_host_end, bool owned_only)
{
	char host_end[IFNAMSIZ], ns[2][NAMING_NETNS_MAX];
	naming_uplink_host(name, host_end);
	naming_netns(name, ns[0]);
	hidden_netns(f, name, ns[1]);
	/* A hidden name is checked whatever the record says (see hidden_netns). */
	const bool checked[2] = { owned_only, true };
	int first = 0;
	/* The guards' entries go before their interfaces, while the names
	 * still lead to them; with neither left there is nothing to forget,
	 * and no reason to load the programs. */
	int pns[2];
	bool ours[2];
	for (int i = 0; i < 2; i++) {
		pns[i] = netns_open(ns[i]);
		ours[i] = pns[i] >= 0 && (!checked[i] || netns_is_ours(f, pns[i], name));
		if (!ours[i] && pns[i] >= 0) {
			close(pns[i]);
			pns[i] = -1;
		}
	}
	struct nl_sock *hsk = NULL;
	int e = host_nsfd >= 0 ? link_sock_open(host_nsfd, &hsk) : 0;
	if (e < 0)
		first = fabric_fail(f, e, "netlink socket in the host netns");
	bool host_end_exists = hsk && link_ifindex(hsk, host_end) >= 0;
	char alias[256];
	if (host_end_exists && owned_only)
		host_end_exists = link_alias(hsk, host_end, alias, sizeof(alias)) == 0 &&
				  alias_is_ours(f, alias, name);
	struct guard *g = NULL;
	e = 0;
	fab_point(f);
	if ((pns[0] >= 0 || pns[1] >= 0 || host_end_exists) && (e = fabric_guard(f, &g)) == 0) {
		for (int i = 0; e == 0 && i < 2; i++)
			if (pns[i] >= 0)
				e = guard_forget_netns(g, pns[i]);
		if (e == 0 && host_end_exists)
			e = guard_forget(g, host_nsfd, host_end);
	}
	for (int i = 0; i < 2; i++)
		if (pns[i] >= 0)
			close(pns[i]);
	if (e < 0 && !first)
		first = fabric_fail(f, e, "forget the guards of %s", name);
	/* The host end first and explicitly: a namespace is destroyed
	 * asynchronously, and its veth peer would linger in the host netns
	 * (which is what a paced delete waits for: playground_released). */
	fab_point(f);
	if (host_end_exists && !keep_host_end && (e = link_delete(hsk, host_end)) < 0 &&
	    !first)
		first = fabric_fail(f, e, "delete uplink %s", host_end);
	link_sock_close(hsk);
	for (int i = 0; i < 2; i++) {
		char prefix[NAMING_NETNS_MAX + 1];
		snprintf(prefix, sizeof(prefix), "%.*s.", NAMING_NETNS_MAX - 1, ns[i]);
		struct teardown_walk w = { f, name, checked[i] };
		e = netns_list(prefix, teardown_netns_cb, &w);
		if (e < 0 && !first)
			first = fabric_fail(f, e, "delete the machine namespaces of %s", name);
		fab_point(f);
		e = ours[i] || !checked[i] ? netns_delete(ns[i]) : 0;
		if (e < 0 && !first)
			first = fabric_fail(f, e, "delete netns %s", ns[i]);
	}
	return first;
}

/* The host netns a playground was made in (NULL or "": the one this
 * fabric was opened with). Never -1 for "current": callers treat a
 * negative result as "gone". */
static int host_netns_fd_for(struct fabric *f, const char *host_netns)
{
	const char *want = host_netns ? host_netns : "";
	const char *have = f->o.host_netns ? f->o.host_netns : "";
	if (strcmp(want, have) == 0 || !*want) {
		if (f->host_nsfd < 0)
			return -EBADF;
		int fd = fcntl(f->host_nsfd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	return netns_open(want);
}

int fabric_check_free(struct fabric *f, const struct plan *p)
{
	if (netns_exists(p->netns)) {
		snprintf(f->err, sizeof(f->err),
			 "netns %s exists but playnet has no record of it (left by a crash? 'playnet down %s' removes it)",
			 p->netns, p->name);
		return -EEXIST;
	}
	struct nl_sock *hsk = NULL;
	int e = link_sock_open(f->host_nsfd, &hsk);
	if (e < 0)
		return fabric_fail(f, e, "netlink socket in the host netns");
	int idx = link_ifindex(hsk, p->uplink_host);
	link_sock_close(hsk);
	if (idx >= 0) {
		snprintf(f->err, sizeof(f->err),
			 "link %s already exists in the host netns ('playnet down %s' removes it)",
			 p->uplink_host, p->name);
		return -EEXIST;
	}
	return 0;
}

int fabric_unpin(struct fabric *f)
{
	guard_close(f->guard);
	f->guard = NULL;
	int e = guard_unpin(f->o.pin_dir);
	return e < 0 ? fabric_fail(f, e, "unpin %s", f->o.pin_dir) : 0;
}

int fabric_check_subnets(struct fabric *f, const struct plan *p)
{
	for (size_t i = 0; i < p->n_networks; i++) {
		const struct plan_network *n = &p->networks[i];
		if (!ipam_overlap(n->subnet, n->prefix, f->o.pool, f->o.pool_prefix))
			continue;
		char c[IPAM_CIDR_STRLEN], pool[IPAM_CIDR_STRLEN];
		ipam_format_cidr(n->subnet, n->prefix, c);
		ipam_format_cidr(f->o.pool, f->o.pool_prefix, pool);
		snprintf(f->err, sizeof(f->err),
			 "network %s: subnet %s overlaps the transit pool %s", n->name, c, pool);
		return -EDOM;
	}
	return 0;
}

int fabric_build(struct fabric *f, const struct plan *p, uint32_t transit)
{
	struct build b = { .f = f, .p = p, .ns = -1, .transit = transit };
	fabric_owner_alias(f, p->name, b.owner_alias, sizeof(b.owner_alias));
	int e = link_sock_open(f->host_nsfd, &b.host);
	if (e < 0)
		fabric_fail(f, e, "netlink socket in the host netns");
	if (e == 0 && (e = fab_step(f, "load the BPF guards")) == 0)
		e = fabric_guard(f, &b.guard);
	static int (*const stages[])(struct build *) = {
		build_deny_list, build_namespace, build_bridges, build_machines,
		build_uplink, build_nft, build_host,
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

int fabric_remove(struct fabric *f, const char *name, const char *host_netns, bool keep_host_end,
		  bool owned_only)
{
	int hfd = host_netns_fd_for(f, host_netns);
	int e = fabric_teardown(f, name, hfd, keep_host_end, owned_only);
	if (hfd >= 0)
		close(hfd);
	return e;
}

int fabric_host_end_gone(struct fabric *f, const char *name, const char *host_netns)
{
	char host_end[IFNAMSIZ];
	naming_uplink_host(name, host_end);
	int hfd = host_netns_fd_for(f, host_netns);
	if (hfd < 0)
		return 1; /* the host netns is gone, the host end with it */
	struct nl_sock *hsk = NULL;
	int e = link_sock_open(hfd, &hsk);
	close(hfd);
	if (e < 0)
		return e;
	int idx = link_ifindex(hsk, host_end);
	link_sock_close(hsk);
	return idx == -ENODEV ? 1 : idx < 0 ? idx : 0;
}

int fabric_shed(struct fabric *f, const char *name)
{
	f->err[0] = '\0';
	char ns[NAMING_NETNS_MAX], bridge[IFNAMSIZ];
	current_netns(f, name, ns);
	cleanup_close int nsfd = netns_open(ns);
	if (nsfd == -ENOENT)
		return 0;
	if (nsfd < 0)
		return fabric_fail(f, nsfd, "open netns %s", ns);
	struct nl_sock *sk = NULL;
	int e = link_sock_open(nsfd, &sk);
	if (e < 0)
		return fabric_fail(f, e, "netlink socket in %s", ns);
	e = link_find_kind(sk, "bridge", bridge);
	if (e > 0 && (e = link_delete(sk, bridge)) == 0)
		e = 1;
	link_sock_close(sk);
	return e < 0 ? fabric_fail(f, e, "delete a bridge of %s", ns) : e;
}

int fabric_step(struct fabric *f, const char *what)
{
	return fab_step(f, what);
}

void fabric_point(struct fabric *f)
{
	fab_point(f);
}

long fabric_pool_size(const struct fabric *f)
{
	return 1L << (31 - f->o.pool_prefix);
}

/* --- Recycling: a deleted playground's namespace taken over ------------- */

/* What a takeover keeps as it stands: as many bridges, and each machine's
 * ports on the bridges of the same networks, in order. A refit sets all
 * else anew: names, aliases, MTUs, gateways, NAT, the guards' policies.
 * The frame is read as one sequence of words, which same_frame compares
 * and fabric_shape hashes: the two cannot drift apart. */
struct frame {
	const struct plan *p;
	int head;  /* of n_networks and n_machines, how many were given */
	size_t m;  /* the machine */
	size_t k;  /* the word within it: runtime, n_interfaces, then network
		    * and kind of each interface */
};

static bool frame_next(struct frame *fr, uint64_t *w)
{
	const struct plan *p = fr->p;
	if (fr->head < 2) {
		*w = fr->head++ ? p->n_machines : p->n_networks;
		return true;
	}
	for (; fr->m < p->n_machines; fr->m++, fr->k = 0) {
		const struct plan_machine *mc = &p->machines[fr->m];
		size_t k = fr->k++, j = (k - 2) / 2;
		if (k < 2) {
			*w = k ? mc->n_interfaces : (uint64_t)mc->runtime;
			return true;
		}
		if (j < mc->n_interfaces) {
			*w = k % 2 ? (uint64_t)mc->interfaces[j].kind : mc->interfaces[j].network;
			return true;
		}
	}
	return false;
}

bool fabric_same_frame(const struct plan *a, const struct plan *b)
{
	struct frame x = { .p = a }, y = { .p = b };
	uint64_t u, v;
	for (;;) {
		bool more = frame_next(&x, &u);
		if (more != frame_next(&y, &v))
			return false;
		if (!more)
			return true;
		if (u != v)
			return false;
	}
}

static uint64_t hash_word(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ull; /* FNV-1a */
	return h;
}

/* A hash of the frame: netd keeps one per queued delete. */
uint64_t fabric_shape(const struct plan *p)
{
	struct frame fr = { .p = p };
	uint64_t h = 0xcbf29ce484222325ull, w;
	while (frame_next(&fr, &w))
		h = hash_word(h, w);
	return h ? h : 1;
}

/* The guard key and slot a link already has: a port in pg-P, or the
 * uplink's host end. */
static int port_slot(struct build *b, const struct plan_interface *ifc, struct guard_key *k,
		     uint32_t *slot)
{
	int e = link_key(b->sk, b->cookie, ifc->device, k);
	return e < 0 ? e : guard_slot_of(b->guard, k, slot);
}

static int uplink_slot(struct build *b, const char *host_end, struct guard_key *k,
		       uint32_t *slot)
{
	int e = link_key(b->host, b->f->host_cookie, host_end, k);
	return e < 0 ? e : guard_slot_of(b->guard, k, slot);
}

/* Opens OLD's namespace into b; -ESTALE unless it still holds every
 * object of OLD's plan, guarded (a delete may have begun taking it apart). */
static int recycle_open(struct build *b, const char *old_ns, const char *old_host)
{
	const struct plan *was = b->was;
	struct fabric *f = b->f;
	int e;
	if ((b->ns = netns_open(old_ns)) < 0)
		return b->ns == -ENOENT ? -ESTALE : fabric_fail(f, b->ns, "open netns %s", old_ns);
	if ((e = netns_cookie(b->ns, &b->cookie)) < 0 || (e = link_sock_open(b->ns, &b->sk)) < 0)
		return fabric_fail(f, e, "netlink socket in %s", old_ns);
	if ((e = link_sock_open(f->host_nsfd, &b->host)) < 0)
		return fabric_fail(f, e, "netlink socket in the host netns");
	if ((e = fabric_guard(f, &b->guard)) < 0)
		return e;
	struct guard_key k;
	uint32_t slot;
	for (size_t i = 0; i < was->n_networks; i++)
		if (link_ifindex(b->sk, was->networks[i].bridge) < 0)
			return -ESTALE;
	for (size_t i = 0; i < was->n_machines; i++)
		for (size_t j = 0; j < was->machines[i].n_interfaces; j++)
			if (port_slot(b, &was->machines[i].interfaces[j], &k, &slot) < 0)
				return -ESTALE;
	if (link_ifindex(b->sk, NAMING_UPLINK_INSIDE) < 0 ||
	    uplink_slot(b, old_host, &k, &slot) < 0)
		return -ESTALE;
	return 0;
}

/* P's policies in the slots of OLD's ports and uplink, counters from zero. */
static int recycle_guards(struct build *b)
{
	struct fabric *f = b->f;
	struct guard_key k;
	uint32_t slot;
	for (size_t i = 0; i < b->p->n_machines; i++) {
		const struct plan_machine *mc = &b->p->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			int e = port_slot(b, ifc, &k, &slot);
			if (e < 0)
				return fabric_fail(f, e, "the guard slot of %s", ifc->device);
			e = FAB_DO(f, guard_reset_port(b->guard, &k, slot, ifc->mac, ifc->address,
						       port_guard_flags(ifc)),
				   "reset the guard of %s", ifc->device);
			if (e < 0)
				return e;
		}
	}
	uint32_t host, inside;
	host = b->transit;
	inside = host + 1;
	int e = uplink_slot(b, b->p->uplink_host, &k, &slot);
	if (e < 0)
		return fabric_fail(f, e, "the guard slot of %s", b->p->uplink_host);
	return FAB_DO(f, guard_reset_uplink(b->guard, &k, slot, inside, f->o.uplink_rate),
		      "reset the guard of uplink %s", b->p->uplink_host);
}

/* OLD's names become P's, each taken by P before OLD's goes. */
static int recycle_names(struct build *b, const char *old_ns, const char *old_host)
{
	struct fabric *f = b->f;
	const struct plan *p = b->p;
	const struct link_conf lo = { .alias = b->owner_alias };
	int e = FAB_DO(f, netns_attach(p->netns, b->ns), "name netns %s", p->netns);
	if (e == 0)
		e = FAB_DO(f, netns_delete(old_ns), "unname netns %s", old_ns);
	if (e == 0)
		e = FAB_DO(f, link_configure(b->sk, "lo", &lo), "mark lo of %s", p->netns);
	if (e == 0 && strcmp(old_host, p->uplink_host) != 0)
		e = FAB_DO(f, link_rename(b->host, old_host, p->uplink_host, b->owner_alias),
			   "rename uplink %s to %s", old_host, p->uplink_host);
	return e;
}

/* One of OLD's bridges or ports, to become P's. */
struct relink {
	const char *from, *to;
	char alias[PORT_ALIAS_MAX], was_alias[PORT_ALIAS_MAX];
	unsigned mtu, was_mtu;
};

static void relinks_fill(const struct plan *was, const struct plan *p, struct relink *l)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_networks; i++, n++) {
		const struct plan_network *x = &was->networks[i], *y = &p->networks[i];
		l[n] = (struct relink){ .from = x->bridge, .to = y->bridge,
					.mtu = y->mtu, .was_mtu = x->mtu };
		snprintf(l[n].alias, sizeof(l[n].alias), "%s", y->name);
		snprintf(l[n].was_alias, sizeof(l[n].was_alias), "%s", x->name);
	}
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mx = &was->machines[i], *my = &p->machines[i];
		for (size_t j = 0; j < my->n_interfaces; j++, n++) {
			const struct plan_interface *x = &mx->interfaces[j], *y = &my->interfaces[j];
			l[n] = (struct relink){ .from = x->device, .to = y->device,
						.mtu = p->networks[y->network].mtu,
						.was_mtu = was->networks[x->network].mtu };
			port_alias(my, y, l[n].alias);
			port_alias(mx, x, l[n].was_alias);
		}
	}
}

/* The links P names otherwise get P's names, with their aliases. A name
 * may still be another link's (two networks swapped): then each goes
 * through a name of its ifindex's first. */
static int refit_names(struct build *b, struct relink *l, size_t n)
{
	struct fabric *f = b->f;
	bool taken = false;
	for (size_t i = 0; i < n; i++)
		taken |= strcmp(l[i].from, l[i].to) != 0 && link_ifindex(b->sk, l[i].to) >= 0;
	char (*via)[IFNAMSIZ] = taken ? calloc(n, sizeof(*via)) : NULL;
	if (taken && !via)
		return fabric_fail(f, -ENOMEM, "rename the links of %s", b->p->netns);
	int e = 0;
	for (size_t i = 0; via && e == 0 && i < n; i++) {
		if (strcmp(l[i].from, l[i].to) == 0)
			continue;
		snprintf(via[i], IFNAMSIZ, "pnrf%d", link_ifindex(b->sk, l[i].from));
		e = FAB_DO(f, link_rename(b->sk, l[i].from, via[i], NULL), "rename %s to %s",
			   l[i].from, via[i]);
	}
	for (size_t i = 0; e == 0 && i < n; i++) {
		if (strcmp(l[i].from, l[i].to) == 0)
			continue;
		const char *from = via ? via[i] : l[i].from;
		e = FAB_DO(f, link_rename(b->sk, from, l[i].to, l[i].alias), "rename %s to %s",
			   from, l[i].to);
	}
	free(via);
	return e;
}

/* OLD's bridges and ports by P's names, aliases and MTUs: the bridges
 * of the same networks, the ports of the same machines, in order
 * (same_frame). Each port stays on its bridge. */
static int refit_links(struct build *b)
{
	struct fabric *f = b->f;
	const struct plan *p = b->p;
	size_t n = p->n_networks;
	for (size_t i = 0; i < p->n_machines; i++)
		n += p->machines[i].n_interfaces;
	struct relink *l = calloc(n, sizeof(*l));
	if (!l)
		return fabric_fail(f, -ENOMEM, "refit the links of %s", p->netns);
	relinks_fill(b->was, p, l);
	int e = refit_names(b, l, n);
	for (size_t i = 0; e == 0 && i < n; i++) {
		bool renamed = strcmp(l[i].from, l[i].to) != 0;
		if (l[i].mtu == l[i].was_mtu && (renamed || !strcmp(l[i].alias, l[i].was_alias)))
			continue;
		const struct link_conf c = { .alias = l[i].alias, .mtu = l[i].mtu };
		e = FAB_DO(f, link_configure(b->sk, l[i].to, &c), "set alias and MTU of %s",
			   l[i].to);
	}
	free(l);
	return e;
}

/* Each bridge's gateway address P's, where OLD's differs. */
static int refit_gateways(struct build *b)
{
	struct fabric *f = b->f;
	for (size_t i = 0; i < b->p->n_networks; i++) {
		const struct plan_network *x = &b->was->networks[i], *y = &b->p->networks[i];
		if (x->has_gateway == y->has_gateway &&
		    (!y->has_gateway || (x->gateway == y->gateway && x->prefix == y->prefix)))
			continue;
		int idx = link_ifindex(b->sk, y->bridge);
		if (idx < 0)
			return fabric_fail(f, idx, "find bridge %s", y->bridge);
		int e = 0;
		if (x->has_gateway) {
			char a[IPAM_ADDR_STRLEN];
			ipam_format_addr(x->gateway, a);
			e = FAB_DO(f, link_addr_del(b->sk, idx, x->gateway, x->prefix),
				   "remove gateway %s/%u from bridge %s", a, x->prefix, y->bridge);
		}
		if (e == 0 && y->has_gateway)
			e = add_gateway(b, idx, y);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Whether two plans make the same nftables table: it names the
 * non-private networks' bridges and subnets. */
static bool same_nft(const struct plan *a, const struct plan *b)
{
	for (size_t i = 0; i < a->n_networks; i++) {
		const struct plan_network *x = &a->networks[i], *y = &b->networks[i];
		if (x->private_net != y->private_net)
			return false;
		if (!x->private_net && (x->subnet != y->subnet || x->prefix != y->prefix ||
					strcmp(x->bridge, y->bridge) != 0))
			return false;
	}
	return true;
}

/* OLD's objects made P's, with P's policies; what OLD's machines left
 * behind is forgotten. */
static int recycle_kernel(struct build *b)
{
	struct fabric *f = b->f;
	const struct plan *p = b->p;
	int e = refit_links(b);
	if (e == 0)
		e = refit_gateways(b);
	if (e == 0)
		e = recycle_guards(b);
	if (e == 0)
		e = FAB_DO(f, link_neigh_flush(b->sk), "flush the neighbours in %s", p->netns);
	if (e == 0)
		e = FAB_DO(f, nft_conntrack_flush(b->ns), "flush the connections tracked in %s",
			   p->netns);
	/* Last: after a batch that deleted rules, the release of any netfilter
	 * netlink socket waits for nf_tables to free them (close_later). */
	if (e == 0 && !same_nft(b->was, p))
		e = build_nft(b);
	return e;
}

struct fabric_takeover {
	struct build b;
	char old_ns[NAMING_NETNS_MAX];
	char old_host[IFNAMSIZ];
};

int fabric_takeover_open(struct fabric *f, const char *old, const struct plan *was,
			 const struct plan *p, uint32_t transit, struct fabric_takeover **out)
{
	struct fabric_takeover *t = calloc(1, sizeof(*t));
	*out = t;
	if (!t)
		return fabric_fail(f, -ENOMEM, "take over %s", old);
	t->b = (struct build){ .f = f, .p = p, .was = was, .ns = -1, .transit = transit };
	current_netns(f, old, t->old_ns);
	naming_uplink_host(old, t->old_host);
	fabric_owner_alias(f, p->name, t->b.owner_alias, sizeof(t->b.owner_alias));
	return recycle_open(&t->b, t->old_ns, t->old_host);
}

int fabric_takeover_finish(struct fabric_takeover *t)
{
	struct build *b = &t->b;
	int e = 0;
	if (strcmp(t->old_ns, b->p->netns) != 0)
		e = recycle_names(b, t->old_ns, t->old_host);
	return e == 0 ? recycle_kernel(b) : e;
}

void fabric_takeover_close(struct fabric_takeover *t)
{
	if (!t)
		return;
	link_sock_close(t->b.sk);
	link_sock_close(t->b.host);
	if (t->b.ns >= 0)
		close(t->b.ns);
	free(t);
}

static int report_add(struct fabric_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int report_add(struct fabric_report *r, const char *fmt, ...)
{
	char **m = realloc(r->missing, (r->n_missing + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	r->missing = m;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&m[r->n_missing], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	r->n_missing++;
	return 0;
}

void fabric_report_free(struct fabric_report *r)
{
	for (size_t i = 0; i < r->n_missing; i++)
		free(r->missing[i]);
	free(r->missing);
	r->missing = NULL;
	r->n_missing = 0;
}

enum inspect_guard { INSPECT_NO_GUARD, INSPECT_PORT_GUARD, INSPECT_UPLINK_GUARD };

/* bridge_idx: 0 for a link that has no bridge, negative when it should have
 * one but the bridge is gone. */
static void inspect_port(struct nl_sock *sk, const char *dev, int bridge_idx,
			 enum inspect_guard guard, const char *what, struct fabric_report *r)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, dev, &l) < 0) {
		report_add(r, "%s %s is missing", what, dev);
		return;
	}
	if (bridge_idx != 0 && rtnl_link_get_master(l) != bridge_idx)
		report_add(r, "%s %s is not attached to its bridge", what, dev);
	if (!(rtnl_link_get_flags(l) & IFF_UP))
		report_add(r, "%s %s is down", what, dev);
	if (guard != INSPECT_NO_GUARD &&
	    !guard_attached(sk, rtnl_link_get_ifindex(l), guard == INSPECT_UPLINK_GUARD))
		report_add(r, "%s %s has lost its guard", what, dev);
	rtnl_link_put(l);
}

int fabric_inspect(struct fabric *f, const struct plan *p,
		   const struct state_record *rec, struct fabric_report *r)
{
	memset(r, 0, sizeof(*r));
	cleanup_close int ns = netns_open(p->netns);
	if (ns < 0)
		return report_add(r, "netns %s is missing", p->netns);
	struct nl_sock *sk = NULL;
	int e = link_sock_open(ns, &sk);
	if (e < 0)
		return fabric_fail(f, e, "netlink socket in %s", p->netns);
	int *br = calloc(p->n_networks + 1, sizeof(*br));
	for (size_t i = 0; br && i < p->n_networks; i++) {
		br[i] = link_ifindex(sk, p->networks[i].bridge);
		if (br[i] < 0)
			report_add(r, "bridge %s (network %s) is missing",
				   p->networks[i].bridge, p->networks[i].name);
	}
	for (size_t i = 0; br && i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		if (mc->runtime == MANIFEST_RUNTIME_NETNS && !netns_exists(mc->netns))
			report_add(r, "netns %s (machine %s) is missing", mc->netns, mc->name);
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			inspect_port(sk, ifc->device, br[ifc->network], INSPECT_PORT_GUARD,
				     ifc->kind == PLAN_PORT_TAP ? "tap" : "veth", r);
		}
	}
	free(br);
	inspect_port(sk, NAMING_UPLINK_INSIDE, 0, INSPECT_NO_GUARD, "uplink", r);
	link_sock_close(sk);
	int hfd = host_netns_fd_for(f, rec->host_netns);
	if (hfd < 0) {
		report_add(r, "host netns '%s' is missing", rec->host_netns);
	} else {
		struct nl_sock *hsk = NULL;
		if (link_sock_open(hfd, &hsk) == 0) {
			inspect_port(hsk, p->uplink_host, 0, INSPECT_UPLINK_GUARD, "uplink host end", r);
			link_sock_close(hsk);
		}
		if (nft_table_exists(hfd) == 0)
			report_add(r, "host nftables table %s is missing", NFT_TABLE);
		close(hfd);
	}
	if (nft_table_exists(ns) == 0)
		report_add(r, "nftables table %s in %s is missing", NFT_TABLE, p->netns);
	return 0;
}

/* A machine port that exists: on its bridge, up, and guarded. */
static int repair_port(struct build *b, const struct plan_interface *ifc, bool *guards)
{
	struct fabric *f = b->f;
	int idx = link_ifindex(b->sk, ifc->device);
	if (idx < 0)
		return 1;
	struct guard_key k = { .netns_cookie = b->cookie, .ifindex = (uint32_t)idx };
	uint32_t slot;
	int e = 0;
	if (!guard_attached(b->sk, idx, false)) {
		*guards = true;
		if ((e = FAB_DO(f, guard_slot(b->guard, &k, &slot), "a guard slot for %s",
				ifc->device)) < 0 ||
		    (e = FAB_DO(f, guard_attach_port(b->guard, b->sk, &k, slot, ifc->mac,
						      ifc->address, port_guard_flags(ifc)),
				"attach the guard to %s", ifc->device)) < 0 ||
		    (e = FAB_DO(f, link_configure(b->sk, ifc->device,
						  &(struct link_conf){ .group = slot }),
				"give %s its guard slot", ifc->device)) < 0)
			return e;
	}
	const struct link_conf conf = { .master = b->bridges[ifc->network] };
	if ((e = FAB_DO(f, link_configure(b->sk, ifc->device, &conf),
			"attach %s to its bridge", ifc->device)) < 0)
		return e;
	return FAB_DO(f, link_set_up(b->sk, ifc->device), "bring up %s", ifc->device);
}

/* The uplink's host end, if it lost its guard. */
static int repair_uplink(struct build *b, const struct plan *p)
{
	struct fabric *f = b->f;
	int hidx = link_ifindex(b->host, p->uplink_host);
	if (hidx < 0 || link_ifindex(b->sk, NAMING_UPLINK_INSIDE) < 0)
		return 1;
	if (guard_attached(b->host, hidx, true))
		return FAB_DO(f, link_set_up(b->host, p->uplink_host), "bring up %s",
			      p->uplink_host);
	return guard_uplink_up(b, hidx, b->transit + 1);
}

static int repair_links(struct build *b)
{
	const struct plan *p = b->p;
	for (size_t i = 0; i < p->n_networks; i++)
		if ((b->bridges[i] = link_ifindex(b->sk, p->networks[i].bridge)) < 0)
			return 1;
	bool guards = false;
	int e = 0;
	for (size_t i = 0; e == 0 && i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		if (mc->runtime == MANIFEST_RUNTIME_NETNS && !netns_exists(mc->netns))
			return 1;
		for (size_t j = 0; e == 0 && j < mc->n_interfaces; j++)
			e = repair_port(b, &mc->interfaces[j], &guards);
	}
	if (e == 0 && guards)
		e = FAB_DO(b->f, guard_port_block(b->guard, b->sk), "attach the port guard in %s",
			   p->netns);
	return e == 0 ? repair_uplink(b, p) : e;
}

int fabric_repair(struct fabric *f, const struct plan *p, const struct state_record *rec)
{
	f->err[0] = '\0';
	const char *want = rec->host_netns, *have = f->o.host_netns ? f->o.host_netns : "";
	if (strcmp(want, have) != 0)
		return 1; /* made in another host netns: rebuilt where it was */
	struct build b = { .f = f, .p = p, .ns = netns_open(p->netns) };
	fabric_transit_addrs(f, rec, &b.transit, &(uint32_t){ 0 });
	if (b.ns < 0)
		return 1;
	int e = netns_cookie(b.ns, &b.cookie);
	if (e < 0)
		fabric_fail(f, e, "cookie of %s", p->netns);
	if (e == 0 && (e = link_sock_open(b.ns, &b.sk)) < 0)
		fabric_fail(f, e, "netlink socket in %s", p->netns);
	if (e == 0 && (e = link_sock_open(f->host_nsfd, &b.host)) < 0)
		fabric_fail(f, e, "netlink socket in the host netns");
	if (e == 0)
		e = fabric_guard(f, &b.guard);
	if (e == 0 && !(b.bridges = calloc(p->n_networks + 1, sizeof(*b.bridges))))
		e = fabric_fail(f, -ENOMEM, "bridges of %s", p->netns);
	if (e == 0)
		e = repair_links(&b);
	int exists = e == 0 ? nft_table_exists(b.ns) : 0;
	if (exists < 0)
		e = fabric_fail(f, exists, "query nftables table %s in %s", NFT_TABLE, p->netns);
	else if (e == 0 && !exists)
		e = build_nft(&b);
	if (e == 0)
		e = build_host(&b);
	link_sock_close(b.sk);
	link_sock_close(b.host);
	free(b.bridges);
	close(b.ns);
	return e;
}

/* The guard entries that may stay: every interface of a recorded
 * playground's namespace, and the uplink host end of each. */
struct live_keys {
	struct guard_key *k; /* ifindex 0: any interface of that netns */
	size_t n;
};

static bool live_key(const struct guard_key *k, void *arg)
{
	const struct live_keys *l = arg;
	for (size_t i = 0; i < l->n; i++)
		if (l->k[i].netns_cookie == k->netns_cookie &&
		    (!l->k[i].ifindex || l->k[i].ifindex == k->ifindex))
			return true;
	return false;
}

static void live_keys_of(struct fabric *f, const char *name, struct live_keys *l)
{
	struct state_record rec;
	if (state_read(f->o.state_dir, name, &rec) < 0)
		return;
	char ns[NAMING_NETNS_MAX], host_end[IFNAMSIZ];
	current_netns(f, name, ns);
	naming_uplink_host(name, host_end);
	uint64_t cookie;
	cleanup_close int pns = netns_open(ns);
	if (pns >= 0 && netns_cookie(pns, &cookie) == 0)
		l->k[l->n++] = (struct guard_key){ .netns_cookie = cookie };
	cleanup_close int hfd = host_netns_fd_for(f, rec.host_netns);
	struct nl_sock *hsk = NULL;
	if (hfd >= 0 && netns_cookie(hfd, &cookie) == 0 && link_sock_open(hfd, &hsk) == 0) {
		int idx = link_ifindex(hsk, host_end);
		if (idx > 0)
			l->k[l->n++] = (struct guard_key){ .netns_cookie = cookie,
							   .ifindex = (uint32_t)idx };
		link_sock_close(hsk);
	}
	state_record_free(&rec);
}

int fabric_sweep_guards(struct fabric *f, char *const *names, size_t n, size_t *removed)
{
	*removed = 0;
	if (access(f->o.pin_dir, F_OK) < 0)
		return 0; /* nothing pinned, nothing to sweep */
	struct live_keys l = { calloc(2 * n + 1, sizeof(*l.k)), 0 };
	if (!l.k)
		return fabric_fail(f, -ENOMEM, "sweep the guards");
	for (size_t i = 0; i < n; i++)
		live_keys_of(f, names[i], &l);
	struct guard *g;
	int e = fabric_guard(f, &g);
	if (e == 0 && (e = guard_sweep(g, live_key, &l, removed)) < 0)
		fabric_fail(f, e, "sweep the guards' maps in %s", f->o.pin_dir);
	free(l.k);
	return e;
}

int fabric_remove_host_link(struct fabric *f, const char *dev)
{
	struct guard *g;
	int e = fabric_guard(f, &g);
	if (e == 0 && (e = guard_forget(g, f->host_nsfd, dev)) < 0)
		return fabric_fail(f, e, "forget the guard of %s", dev);
	struct nl_sock *hsk = NULL;
	if (e < 0 || (e = link_sock_open(f->host_nsfd, &hsk)) < 0)
		return fabric_fail(f, e, "remove %s from the host netns", dev);
	e = link_delete(hsk, dev);
	link_sock_close(hsk);
	return e < 0 ? fabric_fail(f, e, "delete %s in the host netns", dev) : 0;
}
