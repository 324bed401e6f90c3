#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "mac.h"

const char *plan_runtime_name(enum manifest_runtime r)
{
	return r == MANIFEST_RUNTIME_NETNS ? "netns" : "vm";
}

static void plan_networks(const struct manifest *m, struct plan *p)
{
	for (size_t i = 0; i < m->n_networks; i++) {
		const struct manifest_network *src = &m->networks[i];
		struct plan_network *n = &p->networks[i];
		strcpy(n->name, src->name);
		n->subnet = src->subnet;
		n->prefix = src->prefix;
		n->private_net = src->private_net;
		n->vlans = src->vlans;
		n->has_gateway = !src->private_net;
		n->gateway = n->has_gateway ? manifest_gateway(src) : 0;
		n->mtu = src->mtu ? src->mtu : PLAN_DEFAULT_MTU;
		memcpy(n->dns, src->dns, sizeof(n->dns));
		n->n_dns = src->n_dns;
		/* netd answers there (dnsd.h), unless the manifest says where */
		if (!n->n_dns && n->has_gateway)
			n->dns[n->n_dns++] = n->gateway;
	}
}

static bool plan_mac_taken(const struct manifest *m, const struct plan *p,
			   const uint8_t mac[6], size_t mi, size_t ii)
{
	for (size_t i = 0; i < m->n_machines; i++)
		for (size_t j = 0; j < m->machines[i].n_interfaces; j++) {
			if (i == mi && j == ii)
				continue;
			const struct manifest_interface *src = &m->machines[i].interfaces[j];
			bool done = i < mi || (i == mi && j < ii);
			const uint8_t *other = src->has_mac ? src->mac
					       : done ? p->machines[i].interfaces[j].mac
						      : NULL;
			if (other && memcmp(other, mac, 6) == 0)
				return true;
		}
	return false;
}

static void plan_interface(const struct manifest *m, struct plan *p, size_t mi,
			   size_t ii)
{
	const struct manifest_machine *smc = &m->machines[mi];
	const struct manifest_interface *src = &smc->interfaces[ii];
	struct plan_interface *ifc = &p->machines[mi].interfaces[ii];

	ifc->network = src->network_index;
	if (src->has_mac) {
		memcpy(ifc->mac, src->mac, 6);
	} else {
		unsigned round = 0;
		do
			mac_derive(p->name, smc->name, ii, round++, ifc->mac);
		while (plan_mac_taken(m, p, ifc->mac, mi, ii));
	}
	ifc->address = src->address;
	ifc->guard = src->guard;
	ifc->impair = src->impair;
}

static int plan_drives(const struct manifest_machine *src, struct plan_machine *mc)
{
	mc->drives = calloc(src->n_drives ? src->n_drives : 1, sizeof(*mc->drives));
	if (!mc->drives)
		return -ENOMEM;
	for (size_t j = 0; j < src->n_drives; j++) {
		mc->drives[j] = src->drives[j];
		if (src->drives[j].source &&
		    !(mc->drives[j].source = strdup(src->drives[j].source)))
			return -ENOMEM;
		mc->n_drives = j + 1;
	}
	return 0;
}

static int plan_machines(const struct manifest *m, struct plan *p)
{
	for (size_t i = 0; i < m->n_machines; i++) {
		const struct manifest_machine *src = &m->machines[i];
		struct plan_machine *mc = &p->machines[i];
		strcpy(mc->name, src->name);
		mc->runtime = src->runtime;
		mc->cpu_count = src->cpu_count;
		mc->ram_bytes = src->ram_bytes;
		strcpy(mc->user, src->default_user);
		memcpy(mc->forwards, src->forwards, sizeof(mc->forwards));
		mc->n_forwards = src->n_forwards;
		if (plan_drives(src, mc) < 0)
			return -ENOMEM;
		mc->interfaces = calloc(src->n_interfaces ? src->n_interfaces : 1,
					sizeof(*mc->interfaces));
		if (!mc->interfaces)
			return -ENOMEM;
		mc->n_interfaces = src->n_interfaces;
		for (size_t j = 0; j < src->n_interfaces; j++)
			plan_interface(m, p, i, j);
	}
	return 0;
}

/* Of two objects with the same cut name, the later one takes its index
 * name (see naming.h). */
static void plan_name_bridges(struct plan *p)
{
	for (size_t i = 0; i < p->n_networks; i++) {
		naming_bridge(p->networks[i].name, p->networks[i].bridge);
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->networks[i].bridge, p->networks[j].bridge) == 0) {
				naming_bridge_fallback(i, p->networks[i].bridge);
				break;
			}
	}
}

static bool plan_port_taken(const struct plan *p, size_t mi, size_t ii)
{
	const char *dev = p->machines[mi].interfaces[ii].device;
	for (size_t k = 0; k <= mi; k++) {
		size_t lim = k == mi ? ii : p->machines[k].n_interfaces;
		for (size_t l = 0; l < lim; l++)
			if (strcmp(p->machines[k].interfaces[l].device, dev) == 0)
				return true;
	}
	return false;
}

static void plan_derive_machine(struct plan *p, size_t mi)
{
	struct plan_machine *mc = &p->machines[mi];
	bool veth = mc->runtime == MANIFEST_RUNTIME_NETNS;
	mc->netns[0] = '\0';
	if (veth)
		naming_machine_netns(p->name, mc->name, mc->netns);
	mc->has_default_gateway = false;
	mc->default_gateway = 0;
	for (size_t j = 0; j < mc->n_interfaces; j++) {
		struct plan_interface *ifc = &mc->interfaces[j];
		const struct plan_network *net = &p->networks[ifc->network];
		snprintf(ifc->name, sizeof(ifc->name), "eth%u", (unsigned)(j % 100000));
		ifc->kind = veth ? PLAN_PORT_VETH : PLAN_PORT_TAP;
		naming_port(veth, mc->name, j, ifc->device);
		if (plan_port_taken(p, mi, j))
			naming_port_fallback(veth, mi, j, ifc->device);
		ifc->prefix = net->prefix;
		ifc->vlans = net->vlans;
		if (!mc->has_default_gateway && net->has_gateway) {
			mc->has_default_gateway = true;
			mc->default_gateway = net->gateway;
		}
	}
}

void plan_derive(struct plan *p)
{
	naming_netns(p->name, p->netns);
	naming_uplink_host(p->name, p->uplink_host);
	plan_name_bridges(p);
	for (size_t i = 0; i < p->n_machines; i++)
		plan_derive_machine(p, i);
}

int plan_build(const struct manifest *m, const char *name, struct plan *p,
	       struct diag *d)
{
	memset(p, 0, sizeof(*p));
	if (!naming_valid_playground(name)) {
		diag_add(d, 0, 0,
			 "invalid playground name '%s': expected at most %d characters of a-z, 0-9 and '-', starting with a letter or digit",
			 name, NAMING_PLAYGROUND_MAX);
		return -EINVAL;
	}
	strcpy(p->name, name);
	if (m->title && !(p->title = strdup(m->title)))
		return -ENOMEM;

	p->networks = calloc(m->n_networks ? m->n_networks : 1, sizeof(*p->networks));
	p->machines = calloc(m->n_machines ? m->n_machines : 1, sizeof(*p->machines));
	if (!p->networks || !p->machines) {
		plan_free(p);
		return -ENOMEM;
	}
	p->n_networks = m->n_networks;
	p->n_machines = m->n_machines;
	plan_networks(m, p);
	int e = plan_machines(m, p);
	if (e < 0) {
		plan_free(p);
		return e;
	}
	plan_derive(p);
	return 0;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; j < mc->n_drives; j++)
			free(mc->drives[j].source);
		free(mc->drives);
		free(mc->interfaces);
	}
	free(p->machines);
	free(p->networks);
	free(p->title);
	memset(p, 0, sizeof(*p));
}

int plan_parse(const char *buf, size_t len, const char *name,
	       const struct manifest_limits *lim, struct plan *p, struct diag *d)
{
	struct manifest m;
	int e = manifest_parse(buf, len, lim, &m, d);
	if (e < 0)
		return e;
	e = plan_build(&m, name, p, d);
	manifest_free(&m);
	return e;
}

/* NAME if given, else the manifest's own name:, else FALLBACK. */
static int load_file(const char *file, const char *name, const char *fallback,
		     const struct manifest_limits *lim, struct plan *p, char **text,
		     struct diag *d)
{
	char *buf = NULL;
	size_t len;
	int e = manifest_read_file(file, &buf, &len, d);
	struct manifest m;
	if (e == 0 && (e = manifest_parse(buf, len, lim, &m, d)) == 0) {
		const char *own = name ? name : m.name ? m.name : fallback;
		if (own) {
			e = plan_build(&m, own, p, d);
		} else {
			diag_add(d, 0, 0, "no playground name: the manifest has no top-level 'name:', and none was given (--name)");
			e = -EDESTADDRREQ;
		}
		manifest_free(&m);
	}
	if (e == 0 && text)
		*text = buf;
	else
		free(buf);
	return e;
}

int plan_load_file(const char *file, const char *name, const struct manifest_limits *lim,
		   struct plan *p, char **text, struct diag *d)
{
	return load_file(file, name, NULL, lim, p, text, d);
}

int plan_load_file_default(const char *file, const char *fallback,
			   const struct manifest_limits *lim, struct plan *p, char **text,
			   struct diag *d)
{
	return load_file(file, NULL, fallback, lim, p, text, d);
}

const struct plan_interface *plan_forward_interface(const struct plan *p,
						    const struct plan_machine *mc)
{
	for (size_t i = 0; i < mc->n_interfaces; i++)
		if (!p->networks[mc->interfaces[i].network].private_net)
			return &mc->interfaces[i];
	return NULL;
}

const struct manifest_forward *plan_find_forward(const struct plan *p,
						 const struct manifest_forward *fw, size_t *machine)
{
	for (size_t i = 0; i < p->n_machines; i++)
		for (size_t j = 0; j < p->machines[i].n_forwards; j++)
			if (manifest_forwards_clash(&p->machines[i].forwards[j], fw)) {
				*machine = i;
				return &p->machines[i].forwards[j];
			}
	return NULL;
}

size_t plan_n_forwards(const struct plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		n += p->machines[i].n_forwards;
	return n;
}
