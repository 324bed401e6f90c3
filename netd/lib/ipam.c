#include "ipam.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ipam_parse_addr(const char *s, uint32_t *addr)
{
	uint32_t a = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0 && *s++ != '.')
			return false;
		if (!isdigit((unsigned char)*s))
			return false;
		/* No leading zeros: "010" means octal to inet_aton. */
		if (s[0] == '0' && isdigit((unsigned char)s[1]))
			return false;
		unsigned v = 0;
		int digits = 0;
		while (isdigit((unsigned char)*s) && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return false;
		a = a << 8 | v;
	}
	if (*s)
		return false;
	*addr = a;
	return true;
}

bool ipam_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash - s >= IPAM_ADDR_STRLEN)
		return false;
	char a[IPAM_ADDR_STRLEN];
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	const char *p = slash + 1;
	if (!isdigit((unsigned char)p[0]) || (p[0] == '0' && p[1]) ||
	    (p[1] && (!isdigit((unsigned char)p[1]) || p[2])))
		return false;
	unsigned v = (unsigned)atoi(p);
	if (v > 32 || !ipam_parse_addr(a, addr))
		return false;
	*prefix = (uint8_t)v;
	return true;
}

void ipam_format_addr(uint32_t a, char buf[IPAM_ADDR_STRLEN])
{
	snprintf(buf, IPAM_ADDR_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

void ipam_format_cidr(uint32_t a, uint8_t prefix, char buf[IPAM_CIDR_STRLEN])
{
	snprintf(buf, IPAM_CIDR_STRLEN, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255, prefix & 63u);
}

uint32_t ipam_gateway(const struct manifest_network *n)
{
	return n->has_gateway ? n->gateway : n->subnet + 1;
}

/* Who holds an address so far, for "already used by" messages. */
struct ipam_holder {
	uint32_t addr;
	size_t network;
	size_t machine;
	size_t iface;
};

struct ipam_ctx {
	struct manifest *m;
	struct diag *d;
	struct ipam_holder *used;
	size_t n_used;
};

static const struct ipam_holder *ipam_find(const struct ipam_ctx *c,
					   size_t net, uint32_t a)
{
	for (size_t i = 0; i < c->n_used; i++)
		if (c->used[i].network == net && c->used[i].addr == a)
			return &c->used[i];
	return NULL;
}

/* Checks an address given in the manifest and reserves it. */
static void ipam_check_given(struct ipam_ctx *c, size_t mi, size_t ii)
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
	} else if (!net->private_net && a == ipam_gateway(net)) {
		why = "is the gateway of network";
	} else {
		const struct ipam_holder *h = ipam_find(c, ifc->network_index, a);
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
	c->used[c->n_used++] = (struct ipam_holder){ a, ifc->network_index, mi, ii };
}

static void ipam_allocate(struct ipam_ctx *c, size_t mi, size_t ii)
{
	struct manifest_interface *ifc = &c->m->machines[mi].interfaces[ii];
	const struct manifest_network *net = &c->m->networks[ifc->network_index];
	uint32_t bcast = ipam_broadcast(net->subnet, net->prefix);
	uint32_t gw = net->private_net ? 0 : ipam_gateway(net);
	/* At most a few hundred addresses are taken, so this scan ends soon. */
	for (uint32_t a = net->subnet + 1; a < bcast; a++) {
		if (a == gw || ipam_find(c, ifc->network_index, a))
			continue;
		ifc->address = a;
		c->used[c->n_used++] = (struct ipam_holder){ a, ifc->network_index, mi, ii };
		return;
	}
	char ss[IPAM_CIDR_STRLEN];
	ipam_format_cidr(net->subnet, net->prefix, ss);
	diag_add(c->d, ifc->pos.line, ifc->pos.column,
		 "playground.machines[%zu].network.interfaces[%zu]: no free address left in network '%s' (%s)",
		 mi, ii, net->name, ss);
}

static bool ipam_usable(const struct manifest *m,
			const struct manifest_interface *ifc)
{
	return ifc->network_index < m->n_networks &&
	       m->networks[ifc->network_index].valid;
}

int ipam_assign(struct manifest *m, struct diag *d)
{
	size_t total = 0;
	for (size_t i = 0; i < m->n_machines; i++)
		total += m->machines[i].n_interfaces;
	struct ipam_ctx c = { .m = m, .d = d };
	c.used = calloc(total ? total : 1, sizeof(*c.used));
	if (!c.used)
		return -ENOMEM;

	/* Given addresses first, so allocation never takes one of them. */
	for (size_t i = 0; i < m->n_machines; i++)
		for (size_t j = 0; j < m->machines[i].n_interfaces; j++) {
			const struct manifest_interface *ifc = &m->machines[i].interfaces[j];
			if (ifc->has_address && ipam_usable(m, ifc))
				ipam_check_given(&c, i, j);
		}
	for (size_t i = 0; i < m->n_machines; i++)
		for (size_t j = 0; j < m->machines[i].n_interfaces; j++) {
			const struct manifest_interface *ifc = &m->machines[i].interfaces[j];
			if (!ifc->has_address && ipam_usable(m, ifc))
				ipam_allocate(&c, i, j);
		}
	free(c.used);
	return diag_failed(d) ? -EINVAL : 0;
}
