/*
 * The kernel half of a takeover: a deleted playground's namespace, of
 * the same frame, renamed and refitted for another plan.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipam.h"
#include "link.h"
#include "netns.h"
#include "nft.h"
#include "util.h"

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
	/* An impaired port has an ifb named after it, and qdiscs a refit
	 * would have to take apart: such a namespace is not worth keeping. */
	if (fabric_shaped(a) || fabric_shaped(b))
		return false;
	/* Forwards hold a table in the host netns named after their
	 * playground, and the uplink's route_localnet: not worth refitting. */
	if (plan_n_forwards(a) || plan_n_forwards(b))
		return false;
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
	int e = fab_port_key(b->sk, b->cookie, ifc->device, k);
	return e < 0 ? e : guard_slot_of(b->guard, k, slot);
}

static int uplink_slot(struct build *b, const char *host_end, struct guard_key *k,
		       uint32_t *slot)
{
	int e = fab_port_key(b->host, b->f->host_cookie, host_end, k);
	return e < 0 ? e : guard_slot_of(b->guard, k, slot);
}

/* Opens OLD's namespace into b; -ESTALE unless it still holds every
 * object of OLD's plan, guarded (a delete may have begun taking it apart). */
static int recycle_open(struct build *b, const char *old, const char *old_host)
{
	const struct plan *was = b->was;
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	int e;
	if ((b->ns = fab_netns_open(f, old)) < 0)
		return b->ns == -ENOENT ? -ESTALE
					: pn_fail(err, b->ns, "open the namespace of %s", old);
	if ((e = netns_cookie(b->ns, &b->cookie)) < 0 || (e = link_sock_open(b->ns, &b->sk)) < 0)
		return pn_fail(err, e, "netlink socket in the namespace of %s", old);
	if ((e = link_sock_open(f->host_nsfd, &b->host)) < 0)
		return pn_fail(err, e, "netlink socket in the host netns");
	if ((e = fabric_guard(f, &b->guard, err)) < 0)
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
	struct pn_error *err = b->err;
	struct guard_key k;
	uint32_t slot;
	for (size_t i = 0; i < b->p->n_machines; i++) {
		const struct plan_machine *mc = &b->p->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			int e = port_slot(b, ifc, &k, &slot);
			if (e < 0)
				return pn_fail(err, e, "the guard slot of %s", ifc->device);
			e = FAB_DO(f, err, guard_reset_port(b->guard, &k, slot, ifc->mac, ifc->address,
						       fab_port_guard_flags(ifc)),
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
		return pn_fail(err, e, "the guard slot of %s", b->p->uplink_host);
	return FAB_DO(f, err, guard_reset_uplink(b->guard, &k, slot, inside, f->o.uplink_rate),
		      "reset the guard of uplink %s", b->p->uplink_host);
}

/* OLD's names become P's, each taken by P before OLD's goes. A playground
 * reset where it stands (OLD is P, held unnamed) keeps its tags: its
 * namespace is only named again, which needs no rtnl lock. */
static int recycle_names(struct build *b, const char *old, bool held, const char *old_host)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const struct plan *p = b->p;
	const struct link_conf lo = { .alias = b->owner_alias };
	char old_ns[NAMING_NETNS_MAX];
	naming_netns(old, old_ns);
	int e = FAB_DO(f, err, netns_attach(p->netns, b->ns), "name netns %s", p->netns);
	if (e == 0 && held)
		fab_unhold(f, old); /* P's name holds it now */
	else if (e == 0)
		e = FAB_DO(f, err, netns_delete(old_ns), "unname netns %s", old_ns);
	if (e == 0 && strcmp(old, p->name) != 0)
		e = FAB_DO(f, err, link_configure(b->sk, "lo", &lo), "mark lo of %s", p->netns);
	if (e == 0 && strcmp(old_host, p->uplink_host) != 0)
		e = FAB_DO(f, err, link_rename(b->host, old_host, p->uplink_host, b->owner_alias),
			   "rename uplink %s to %s", old_host, p->uplink_host);
	return e;
}

/* One of OLD's bridges or ports, to become P's. */
struct relink {
	const char *from, *to;
	char alias[FAB_PORT_ALIAS_MAX], was_alias[FAB_PORT_ALIAS_MAX];
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
			fab_port_alias(my, y, l[n].alias);
			fab_port_alias(mx, x, l[n].was_alias);
		}
	}
}

/* The links P names otherwise get P's names, with their aliases. A name
 * may still be another link's (two networks swapped): then each goes
 * through a name of its ifindex's first. */
static int refit_names(struct build *b, struct relink *l, size_t n)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	bool taken = false;
	for (size_t i = 0; i < n; i++)
		taken |= strcmp(l[i].from, l[i].to) != 0 && link_ifindex(b->sk, l[i].to) >= 0;
	char (*via)[IFNAMSIZ] = taken ? calloc(n, sizeof(*via)) : NULL;
	if (taken && !via)
		return pn_fail(err, -ENOMEM, "rename the links of %s", b->p->netns);
	int e = 0;
	for (size_t i = 0; via && e == 0 && i < n; i++) {
		if (strcmp(l[i].from, l[i].to) == 0)
			continue;
		snprintf(via[i], IFNAMSIZ, "pnrf%d", link_ifindex(b->sk, l[i].from));
		e = FAB_DO(f, err, link_rename(b->sk, l[i].from, via[i], NULL), "rename %s to %s",
			   l[i].from, via[i]);
	}
	for (size_t i = 0; e == 0 && i < n; i++) {
		if (strcmp(l[i].from, l[i].to) == 0)
			continue;
		const char *from = via ? via[i] : l[i].from;
		e = FAB_DO(f, err, link_rename(b->sk, from, l[i].to, l[i].alias), "rename %s to %s",
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
	struct pn_error *err = b->err;
	const struct plan *p = b->p;
	size_t n = p->n_networks;
	for (size_t i = 0; i < p->n_machines; i++)
		n += p->machines[i].n_interfaces;
	struct relink *l = calloc(n, sizeof(*l));
	if (!l)
		return pn_fail(err, -ENOMEM, "refit the links of %s", p->netns);
	relinks_fill(b->was, p, l);
	int e = refit_names(b, l, n);
	for (size_t i = 0; e == 0 && i < n; i++) {
		bool renamed = strcmp(l[i].from, l[i].to) != 0;
		if (l[i].mtu == l[i].was_mtu && (renamed || !strcmp(l[i].alias, l[i].was_alias)))
			continue;
		const struct link_conf c = { .alias = l[i].alias, .mtu = l[i].mtu };
		e = FAB_DO(f, err, link_configure(b->sk, l[i].to, &c), "set alias and MTU of %s",
			   l[i].to);
	}
	free(l);
	return e;
}

/* Each bridge's gateway address P's, where OLD's differs. */
static int refit_gateways(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	for (size_t i = 0; i < b->p->n_networks; i++) {
		const struct plan_network *x = &b->was->networks[i], *y = &b->p->networks[i];
		if (x->has_gateway == y->has_gateway &&
		    (!y->has_gateway || (x->gateway == y->gateway && x->prefix == y->prefix)))
			continue;
		int idx = link_ifindex(b->sk, y->bridge);
		if (idx < 0)
			return pn_fail(err, idx, "find bridge %s", y->bridge);
		int e = 0;
		if (x->has_gateway) {
			char a[IPAM_ADDR_STRLEN];
			ipam_format_addr(x->gateway, a);
			e = FAB_DO(f, err, link_addr_del(b->sk, idx, x->gateway, x->prefix),
				   "remove gateway %s/%u from bridge %s", a, x->prefix, y->bridge);
		}
		if (e == 0 && y->has_gateway)
			e = fab_add_gateway(b, idx, y);
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
	struct pn_error *err = b->err;
	const struct plan *p = b->p;
	int e = refit_links(b);
	if (e == 0)
		e = refit_gateways(b);
	if (e == 0)
		e = recycle_guards(b);
	if (e == 0)
		e = FAB_DO(f, err, link_neigh_flush(b->sk), "flush the neighbours in %s", p->netns);
	if (e == 0)
		e = FAB_DO(f, err, nft_conntrack_flush(b->ns), "flush the connections tracked in %s",
			   p->netns);
	/* Last: after a batch that deleted rules, the release of any netfilter
	 * netlink socket waits for nf_tables to free them (close_later). */
	if (e == 0 && !same_nft(b->was, p))
		e = fab_build_nft(b);
	return e;
}

struct fabric_takeover {
	struct build b;
	char old[NAMING_PLAYGROUND_MAX + 1];
	char old_host[IFNAMSIZ];
	bool held; /* OLD's namespace is held by fd (fabric_hide), unnamed */
};

int fabric_takeover_open(struct fabric *f, const char *old, const struct plan *was,
			 const struct plan *p, uint32_t transit, struct fabric_takeover **out,
			 struct pn_error *err)
{
	struct fabric_takeover *t = calloc(1, sizeof(*t));
	*out = t;
	if (!t)
		return pn_fail(err, -ENOMEM, "take over %s", old);
	t->b = (struct build){ .f = f, .err = err, .p = p, .was = was, .ns = -1,
				.transit = transit };
	snprintf(t->old, sizeof(t->old), "%s", old);
	t->held = fab_held(f, old);
	naming_uplink_host(old, t->old_host);
	fabric_owner_alias(f, p->name, t->b.owner_alias, sizeof(t->b.owner_alias));
	return recycle_open(&t->b, old, t->old_host);
}

int fabric_takeover_finish(struct fabric_takeover *t, struct pn_error *err)
{
	struct build *b = &t->b;
	b->err = err;
	int e = 0;
	if (t->held || strcmp(t->old, b->p->name) != 0)
		e = recycle_names(b, t->old, t->held, t->old_host);
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
