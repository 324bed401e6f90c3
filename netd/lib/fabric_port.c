/*
 * What a machine's port carries beyond its guard: its impairment (shape.h),
 * checked against what the kernel has before a create makes anything, put
 * on as the port is built or mended, and changed on a running playground;
 * and its link, taken down and up.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "link.h"
#include "netns.h"
#include "shape.h"

int fab_shape_check(const struct plan_machine *mc, const struct plan_interface *ifc,
		    const struct manifest_impair *im, struct pn_error *err)
{
	const char *lacks = shape_missing(shape_needs(im));
	if (!lacks)
		return 0;
	struct utsname u;
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	return pn_failx(err, -EOPNOTSUPP,
			"machine %s interface %s: its impairment needs %s, which this kernel "
			"(%s) lacks; Debian's stock kernels have it",
			mc->name, ifc->name, lacks, u.release);
}

int fabric_check_shape(const struct plan *p, struct pn_error *err)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			int e = fab_shape_check(mc, &mc->interfaces[j], &mc->interfaces[j].impair,
						err);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

bool fabric_shaped(const struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++)
		for (size_t j = 0; j < p->machines[i].n_interfaces; j++)
			if (shape_any(&p->machines[i].interfaces[j].impair))
				return true;
	return false;
}

/* Both directions of the guarded port ifc->device (in b's namespace) set to
 * im: its own root qdisc, and its ifb's, which the filter after its guard
 * steers what it sends to. Nothing asked: the guard sends on to the bridge
 * again, the filter and the ifb go, the port's qdisc is the default. */
int fab_shape_port(struct build *b, const struct plan_interface *ifc,
		   const struct manifest_impair *im)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	unsigned mtu = b->p->networks[ifc->network].mtu;
	char ifb[IFNAMSIZ];
	shape_ifb_name(ifc->device, ifb);
	struct guard_key k;
	int e = fab_port_key(b->sk, b->cookie, ifc->device, &k);
	if (e < 0)
		return pn_fail(err, e, "find %s", ifc->device);
	int idx = (int)k.ifindex, ifb_idx = link_ifindex(b->sk, ifb);
	if (!shape_any(im)) {
		/* The guard first: a frame steered to an ifb that is gone is lost. */
		e = FAB_DO(f, err, guard_port_shaped(b->guard, &k, false),
			   "send what %s sends to its bridge again", ifc->device);
		if (e == 0 && ifb_idx > 0)
			e = FAB_DO(f, err, shape_steer_del(b->sk, GUARD_PORT_BLOCK, ifb_idx),
				   "stop steering what %s sends to %s", ifc->device, ifb);
		if (e == 0)
			e = FAB_DO(f, err, link_delete(b->sk, ifb), "delete ifb %s", ifb);
		if (e == 0)
			e = FAB_DO(f, err, shape_egress(b->sk, idx, im), "clear the qdisc of %s",
				   ifc->device);
		return e;
	}
	e = FAB_DO(f, err, (ifb_idx = shape_ifb_add(b->sk, ifb, mtu)) < 0 ? ifb_idx : 0,
		   "create ifb %s for what %s sends", ifb, ifc->device);
	if (e == 0)
		e = FAB_DO(f, err, shape_egress(b->sk, ifb_idx, im),
			   "impair what %s sends (qdisc on %s)", ifc->device, ifb);
	if (e == 0)
		e = FAB_DO(f, err, shape_egress(b->sk, idx, im), "impair what %s receives",
			   ifc->device);
	if (e == 0)
		e = FAB_DO(f, err, shape_steer_add(b->sk, GUARD_PORT_BLOCK, ifc->mac, ifb_idx),
			   "steer what %s sends to %s", ifc->device, ifb);
	if (e == 0)
		e = FAB_DO(f, err, guard_port_shaped(b->guard, &k, true),
			   "pass what %s sends on to its steering", ifc->device);
	return e;
}

/* b for a change to P's ports: pg-P open, a socket in it, the guards. */
static int port_begin(struct build *b, struct fabric *f, const struct plan *p,
		      struct pn_error *err)
{
	*b = (struct build){ .f = f, .err = err, .p = p, .ns = netns_open(p->netns) };
	if (b->ns < 0)
		return pn_fail(err, b->ns, "open netns %s", p->netns);
	int e = netns_cookie(b->ns, &b->cookie);
	if (e < 0)
		return pn_fail(err, e, "cookie of %s", p->netns);
	if ((e = link_sock_open(b->ns, &b->sk)) < 0)
		return pn_fail(err, e, "netlink socket in %s", p->netns);
	return fabric_guard(f, &b->guard, err);
}

static void port_end(struct build *b)
{
	link_sock_close(b->sk);
	if (b->ns >= 0)
		close(b->ns);
}

int fabric_impair(struct fabric *f, const struct plan *p, size_t machine, size_t iface,
		  const struct manifest_impair *im, struct pn_error *err)
{
	const struct plan_machine *mc = &p->machines[machine];
	const struct plan_interface *ifc = &mc->interfaces[iface];
	int e = fab_shape_check(mc, ifc, im, err);
	if (e < 0)
		return e;
	struct build b;
	if ((e = port_begin(&b, f, p, err)) == 0)
		e = fab_shape_port(&b, ifc, im);
	port_end(&b);
	return e;
}

int fabric_link(struct fabric *f, const struct plan *p, size_t machine, size_t iface, bool up,
		struct pn_error *err)
{
	const struct plan_interface *ifc = &p->machines[machine].interfaces[iface];
	struct build b;
	int e = port_begin(&b, f, p, err);
	/* A veth's peer loses its carrier with it; a tap's VM is told apart. */
	if (e == 0)
		e = FAB_DO(f, err,
			   up ? link_set_up(b.sk, ifc->device) : link_set_down(b.sk, ifc->device),
			   "bring %s %s", ifc->device, up ? "up" : "down");
	port_end(&b);
	return e;
}
