/*
 * The address rules of DESIGN.md section 1, as a pass of the manifest
 * reader: every address given is checked against its network (inside the
 * subnet, not the network, broadcast or gateway address, unique) at its
 * line and column, and the others are allocated in manifest order from the
 * lowest free host address.
 */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipam.h"

uint32_t manifest_gateway(const struct manifest_network *n)
{
	return n->has_gateway ? n->gateway : n->subnet + 1;
}

/* Who holds an address so far, for "already used by" messages. */
struct holder {
	uint32_t addr;
	size_t network;
	size_t machine;
	size_t iface;
};

struct addr_ctx {
	struct manifest *m;
	struct diag *d;
	struct holder *used;
	size_t n_used;
};

static const struct holder *holder_find(const struct addr_ctx *c,
					   size_t net, uint32_t a)
{
	for (size_t i = 0; i < c->n_used; i++)
		if (c->used[i].network == net && c->used[i].addr == a)
			return &c->used[i];
	return NULL;
}

/* Checks an address given in the manifest and reserves it. */
static void check_given(struct addr_ctx *c, size_t mi, size_t ii)
{
	const struct manifest_interface *ifc = &c->m->machines[mi].interfaces[ii];
	const struct manifest_network *net = &c->m->networks[ifc->network_index];
	uint32_t a = ifc->address;
	char as[IPAM_ADDR_STRLEN], ss[IPAM_CIDR_STRLEN];
	ipam_format_addr(a, as);
	ipam_format_cidr(net->subnet, net->prefix, ss);
	const char *why = NULL;
	char buf[160];
	if (!ipam_contains(net->subnet, net->prefix, a)) {
		why = "is outside network";
	} else if (a == net->subnet) {
		why = "is the network address of network";
	} else if (a == ipam_broadcast(net->subnet, net->prefix)) {
		why = "is the broadcast address of network";
	} else if (!net->private_net && a == manifest_gateway(net)) {
		why = "is the gateway of network";
	} else {
		const struct holder *h = holder_find(c, ifc->network_index, a);
		if (h) {
			snprintf(buf, sizeof(buf),
				 "is already used by %s eth%zu (line %d) on network",
				 c->m->machines[h->machine].name, h->iface,
				 c->m->machines[h->machine].interfaces[h->iface].address_pos.line);
			why = buf;
		}
	}
	if (why) {
		diag_add(c->d, ifc->address_pos.line, ifc->address_pos.column,
			 "playground.machines[%zu].network.interfaces[%zu].address: %s %s '%s' (%s)",
			 mi, ii, as, why, net->name, ss);
		return;
	}
	c->used[c->n_used++] = (struct holder){ a, ifc->network_index, mi, ii };
}

static void allocate(struct addr_ctx *c, size_t mi, size_t ii)
{
	struct manifest_interface *ifc = &c->m->machines[mi].interfaces[ii];
	const struct manifest_network *net = &c->m->networks[ifc->network_index];
	uint32_t bcast = ipam_broadcast(net->subnet, net->prefix);
	uint32_t gw = net->private_net ? 0 : manifest_gateway(net);
	/* At most a few hundred addresses are taken, so this scan ends soon. */
	for (uint32_t a = net->subnet + 1; a < bcast; a++) {
		if (a == gw || holder_find(c, ifc->network_index, a))
			continue;
		ifc->address = a;
		c->used[c->n_used++] = (struct holder){ a, ifc->network_index, mi, ii };
		return;
	}
	char ss[IPAM_CIDR_STRLEN];
	ipam_format_cidr(net->subnet, net->prefix, ss);
	diag_add(c->d, ifc->pos.line, ifc->pos.column,
		 "playground.machines[%zu].network.interfaces[%zu]: no free address left in network '%s' (%s)",
		 mi, ii, net->name, ss);
}

static bool usable(const struct manifest *m,
			const struct manifest_interface *ifc)
{
	return ifc->network_index < m->n_networks &&
	       m->networks[ifc->network_index].valid;
}

int manifest_assign_addresses(struct manifest *m, struct diag *d)
{
	size_t total = 0;
	for (size_t i = 0; i < m->n_machines; i++)
		total += m->machines[i].n_interfaces;
	struct addr_ctx c = { .m = m, .d = d };
	c.used = calloc(total ? total : 1, sizeof(*c.used));
	if (!c.used)
		return -ENOMEM;

	/* Given addresses first, so allocation never takes one of them. */
	for (size_t i = 0; i < m->n_machines; i++)
		for (size_t j = 0; j < m->machines[i].n_interfaces; j++) {
			const struct manifest_interface *ifc = &m->machines[i].interfaces[j];
			if (ifc->has_address && usable(m, ifc))
				check_given(&c, i, j);
		}
	for (size_t i = 0; i < m->n_machines; i++)
		for (size_t j = 0; j < m->machines[i].n_interfaces; j++) {
			const struct manifest_interface *ifc = &m->machines[i].interfaces[j];
			if (!ifc->has_address && usable(m, ifc))
				allocate(&c, i, j);
		}
	free(c.used);
	return diag_failed(d) ? -EINVAL : 0;
}
