/*
 * A playground against the kernel: what is missing (show), mending in
 * place what recovery can (repair), and the guards' entries of
 * playgrounds gone (sweep).
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "netns.h"
#include "shape.h"
#include "nft.h"
#include "util.h"


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
			 enum inspect_guard guard, bool want_up, const char *what,
			 struct fabric_report *r)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, dev, &l) < 0) {
		report_add(r, "%s %s is missing", what, dev);
		return;
	}
	if (bridge_idx != 0 && rtnl_link_get_master(l) != bridge_idx)
		report_add(r, "%s %s is not attached to its bridge", what, dev);
	bool up = rtnl_link_get_flags(l) & IFF_UP;
	if (want_up && !up)
		report_add(r, "%s %s is down", what, dev);
	if (!want_up && up)
		report_add(r, "%s %s is up, though its link was taken down", what, dev);
	if (guard != INSPECT_NO_GUARD &&
	    !guard_attached(sk, rtnl_link_get_ifindex(l), guard == INSPECT_UPLINK_GUARD))
		report_add(r, "%s %s has lost its guard", what, dev);
	rtnl_link_put(l);
}

int fabric_inspect(struct fabric *f, const struct plan *p,
		   const struct state_record *rec, struct fabric_report *r, struct pn_error *err)
{
	memset(r, 0, sizeof(*r));
	cleanup_close int ns = netns_open(p->netns);
	if (ns < 0)
		return report_add(r, "netns %s is missing", p->netns);
	struct nl_sock *sk = NULL;
	int e = link_sock_open(ns, &sk);
	if (e < 0)
		return pn_fail(err, e, "netlink socket in %s", p->netns);
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
				     !ifc->link_down, ifc->kind == PLAN_PORT_TAP ? "tap" : "veth", r);
			char ifb[IFNAMSIZ];
			shape_ifb_name(ifc->device, ifb);
			if (shape_any(&ifc->impair) && link_ifindex(sk, ifb) < 0)
				report_add(r, "ifb %s (what %s sends, impaired) is missing", ifb,
					   ifc->device);
		}
	}
	free(br);
	inspect_port(sk, NAMING_UPLINK_INSIDE, 0, INSPECT_NO_GUARD, true, "uplink", r);
	link_sock_close(sk);
	int hfd = fab_host_netns_fd(f, rec->host_netns);
	if (hfd < 0) {
		report_add(r, "host netns '%s' is missing", rec->host_netns);
	} else {
		struct nl_sock *hsk = NULL;
		if (link_sock_open(hfd, &hsk) == 0) {
			inspect_port(hsk, p->uplink_host, 0, INSPECT_UPLINK_GUARD, true,
				     "uplink host end", r);
			link_sock_close(hsk);
		}
		if (nft_table_exists(hfd) == 0)
			report_add(r, "host nftables table %s is missing", NFT_TABLE);
		char fwd[NFT_FORWARD_TABLE_MAX];
		nft_forward_table_name(p->name, fwd);
		if (plan_n_forwards(p) && nft_forward_exists(hfd, p->name) == 0)
			report_add(r, "host nftables table %s (its forwards) is missing", fwd);
		close(hfd);
	}
	if (nft_table_exists(ns) == 0)
		report_add(r, "nftables table %s in %s is missing", NFT_TABLE, p->netns);
	return 0;
}

/* A machine port that exists: on its bridge, up, and guarded. */
/* The port's impairment as recorded; one left behind by a change that a
 * crash cut short (its ifb is there) taken off. */
static int repair_shape(struct build *b, const struct plan_interface *ifc)
{
	char ifb[IFNAMSIZ];
	shape_ifb_name(ifc->device, ifb);
	if (!shape_any(&ifc->impair) && link_ifindex(b->sk, ifb) < 0)
		return 0;
	return fab_shape_port(b, ifc, &ifc->impair);
}

static int repair_port(struct build *b, const struct plan_interface *ifc, bool *guards)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	int idx = link_ifindex(b->sk, ifc->device);
	if (idx < 0)
		return 1;
	struct guard_key k = { .netns_cookie = b->cookie, .ifindex = (uint32_t)idx };
	uint32_t slot;
	int e = 0;
	if (!guard_attached(b->sk, idx, false)) {
		*guards = true;
		if ((e = FAB_DO(f, err, guard_slot(b->guard, &k, &slot), "a guard slot for %s",
				ifc->device)) < 0 ||
		    (e = FAB_DO(f, err, guard_attach_port(b->guard, b->sk, &k, slot, ifc->mac,
						      ifc->address, fab_port_guard_flags(ifc)),
				"attach the guard to %s", ifc->device)) < 0 ||
		    (e = FAB_DO(f, err, link_configure(b->sk, ifc->device,
						  &(struct link_conf){ .group = slot }),
				"give %s its guard slot", ifc->device)) < 0)
			return e;
	}
	const struct link_conf conf = { .master = b->bridges[ifc->network] };
	if ((e = FAB_DO(f, err, link_configure(b->sk, ifc->device, &conf),
			"attach %s to its bridge", ifc->device)) < 0 ||
	    (e = repair_shape(b, ifc)) < 0)
		return e;
	if (ifc->link_down)
		return FAB_DO(f, err, link_set_down(b->sk, ifc->device), "keep %s down", ifc->device);
	return FAB_DO(f, err, link_set_up(b->sk, ifc->device), "bring up %s", ifc->device);
}

/* The uplink's host end, if it lost its guard. */
static int repair_uplink(struct build *b, const struct plan *p)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	int hidx = link_ifindex(b->host, p->uplink_host);
	if (hidx < 0 || link_ifindex(b->sk, NAMING_UPLINK_INSIDE) < 0)
		return 1;
	if (guard_attached(b->host, hidx, true))
		return FAB_DO(f, err, link_set_up(b->host, p->uplink_host), "bring up %s",
			      p->uplink_host);
	return fab_guard_uplink_up(b, hidx, b->transit + 1);
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
		e = FAB_DO(b->f, b->err, guard_port_block(b->guard, b->sk), "attach the port guard in %s",
			   p->netns);
	return e == 0 ? repair_uplink(b, p) : e;
}

int fabric_repair(struct fabric *f, const struct plan *p, const struct state_record *rec,
		  struct pn_error *err)
{
	const char *want = rec->host_netns, *have = f->o.host_netns ? f->o.host_netns : "";
	if (strcmp(want, have) != 0)
		return 1; /* made in another host netns: rebuilt where it was */
	struct build b = { .f = f, .err = err, .p = p, .ns = netns_open(p->netns) };
	fabric_transit_addrs(f, rec, &b.transit, &(uint32_t){ 0 });
	if (b.ns < 0)
		return 1;
	int e = netns_cookie(b.ns, &b.cookie);
	if (e < 0)
		pn_fail(err, e, "cookie of %s", p->netns);
	if (e == 0 && (e = link_sock_open(b.ns, &b.sk)) < 0)
		pn_fail(err, e, "netlink socket in %s", p->netns);
	if (e == 0 && (e = link_sock_open(f->host_nsfd, &b.host)) < 0)
		pn_fail(err, e, "netlink socket in the host netns");
	if (e == 0)
		e = fabric_guard(f, &b.guard, err);
	if (e == 0 && !(b.bridges = calloc(p->n_networks + 1, sizeof(*b.bridges))))
		e = pn_fail(err, -ENOMEM, "bridges of %s", p->netns);
	if (e == 0)
		e = repair_links(&b);
	int exists = e == 0 ? nft_table_exists(b.ns) : 0;
	if (exists < 0)
		e = pn_fail(err, exists, "query nftables table %s in %s", NFT_TABLE, p->netns);
	else if (e == 0 && !exists)
		e = fab_build_nft(&b);
	if (e == 0)
		e = fab_build_host(&b);
	if (e == 0)
		e = fab_build_forwards(&b);
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
	char host_end[IFNAMSIZ];
	naming_uplink_host(name, host_end);
	uint64_t cookie;
	cleanup_close int pns = fab_netns_open(f, name);
	if (pns >= 0 && netns_cookie(pns, &cookie) == 0)
		l->k[l->n++] = (struct guard_key){ .netns_cookie = cookie };
	cleanup_close int hfd = fab_host_netns_fd(f, rec.host_netns);
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

int fabric_sweep_guards(struct fabric *f, char *const *names, size_t n, size_t *removed,
			struct pn_error *err)
{
	*removed = 0;
	if (access(f->o.pin_dir, F_OK) < 0)
		return 0; /* nothing pinned, nothing to sweep */
	struct live_keys l = { calloc(2 * n + 1, sizeof(*l.k)), 0 };
	if (!l.k)
		return pn_fail(err, -ENOMEM, "sweep the guards");
	for (size_t i = 0; i < n; i++)
		live_keys_of(f, names[i], &l);
	struct guard *g;
	int e = fabric_guard(f, &g, err);
	if (e == 0 && (e = guard_sweep(g, live_key, &l, removed)) < 0)
		pn_fail(err, e, "sweep the guards' maps in %s", f->o.pin_dir);
	free(l.k);
	return e;
}
