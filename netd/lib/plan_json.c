#include "plan_json.h"

#include <stdio.h>

#include "ipam.h"
#include "mac.h"

/* json-c keeps keys in insertion order, which makes the output stable. */

static struct json_object *json_addr(uint32_t a)
{
	char s[IPAM_ADDR_STRLEN];
	ipam_format_addr(a, s);
	return json_object_new_string(s);
}

static struct json_object *json_cidr(uint32_t a, uint8_t prefix)
{
	char s[IPAM_CIDR_STRLEN];
	ipam_format_cidr(a, prefix, s);
	return json_object_new_string(s);
}

static struct json_object *network_to_json(const struct plan_network *n)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "subnet", json_cidr(n->subnet, n->prefix));
	json_object_object_add(o, "private", json_object_new_boolean(n->private_net));
	json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
	json_object_object_add(o, "gateway", n->has_gateway ? json_addr(n->gateway) : NULL);
	json_object_object_add(o, "mtu", json_object_new_int((int)n->mtu));
	struct json_object *dns = json_object_new_array();
	for (size_t i = 0; i < n->n_dns; i++)
		json_object_array_add(dns, json_addr(n->dns[i]));
	json_object_object_add(o, "dns", dns);
	return o;
}

struct json_object *plan_impair_json(const struct manifest_impair *im)
{
	if (!im->set)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "delayUs", json_object_new_int64(im->delay_us));
	json_object_object_add(o, "jitterUs", json_object_new_int64(im->jitter_us));
	json_object_object_add(o, "lossPpm", json_object_new_int64(im->loss_ppm));
	json_object_object_add(o, "rateBps", json_object_new_int64((int64_t)im->rate_bps));
	json_object_object_add(o, "duplicatePpm", json_object_new_int64(im->duplicate_ppm));
	json_object_object_add(o, "reorderPpm", json_object_new_int64(im->reorder_ppm));
	json_object_object_add(o, "corruptPpm", json_object_new_int64(im->corrupt_ppm));
	return o;
}

struct json_object *plan_forwards_json(const struct plan_machine *mc)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < mc->n_forwards; i++) {
		const struct manifest_forward *f = &mc->forwards[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "protocol", json_object_new_string(manifest_proto_name(f->proto)));
		json_object_object_add(o, "port", json_object_new_int(f->port));
		json_object_object_add(o, "hostPort", json_object_new_int(f->host_port));
		json_object_object_add(o, "hostAddress", f->host_addr ? json_addr(f->host_addr) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *interface_to_json(const struct plan *p,
					     const struct plan_interface *ifc)
{
	const struct plan_network *net = &p->networks[ifc->network];
	char mac[MAC_STRLEN];
	mac_format(ifc->mac, mac);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(ifc->name));
	json_object_object_add(o, "network", json_object_new_string(net->name));
	json_object_object_add(o, "kind", json_object_new_string(
		ifc->kind == PLAN_PORT_TAP ? "tap" : "veth"));
	json_object_object_add(o, "device", json_object_new_string(ifc->device));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "address", json_addr(ifc->address));
	json_object_object_add(o, "prefixLength", json_object_new_int(ifc->prefix));
	json_object_object_add(o, "cidr", json_cidr(ifc->address, ifc->prefix));
	json_object_object_add(o, "gateway", net->has_gateway ? json_addr(net->gateway) : NULL);
	json_object_object_add(o, "mtu", json_object_new_int((int)net->mtu));
	struct json_object *g = json_object_new_object();
	json_object_object_add(g, "mac", json_object_new_boolean(1));
	json_object_object_add(g, "ipSource", json_object_new_boolean(ifc->guard.ip_source));
	json_object_object_add(g, "dhcpServer", json_object_new_boolean(ifc->guard.dhcp_server));
	json_object_object_add(o, "guard", g);
	json_object_object_add(o, "impair", plan_impair_json(&ifc->impair));
	json_object_object_add(o, "link", json_object_new_string(ifc->link_down ? "down" : "up"));
	return o;
}

static struct json_object *machine_to_json(const struct plan *p,
					   const struct plan_machine *mc)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(mc->name));
	json_object_object_add(o, "runtime", json_object_new_string(plan_runtime_name(mc->runtime)));
	json_object_object_add(o, "netns", mc->runtime == MANIFEST_RUNTIME_NETNS
					   ? json_object_new_string(mc->netns) : NULL);
	json_object_object_add(o, "defaultGateway",
			       mc->has_default_gateway ? json_addr(mc->default_gateway) : NULL);
	json_object_object_add(o, "cpuCount",
			       mc->cpu_count ? json_object_new_int((int)mc->cpu_count) : NULL);
	json_object_object_add(o, "ramBytes",
			       mc->ram_bytes ? json_object_new_int64((int64_t)mc->ram_bytes) : NULL);
	struct json_object *ifs = json_object_new_array();
	for (size_t i = 0; i < mc->n_interfaces; i++)
		json_object_array_add(ifs, interface_to_json(p, &mc->interfaces[i]));
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(o, "forwards", plan_forwards_json(mc));
	return o;
}

struct json_object *plan_to_json(const struct plan *p)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	char path[sizeof("/run/netns/") + NAMING_NETNS_MAX];
	snprintf(path, sizeof(path), "/run/netns/%s", p->netns);
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "title", p->title ? json_object_new_string(p->title) : NULL);
	json_object_object_add(o, "netns", json_object_new_string(p->netns));
	json_object_object_add(o, "netnsPath", json_object_new_string(path));
	struct json_object *up = json_object_new_object();
	json_object_object_add(up, "device", json_object_new_string(NAMING_UPLINK_INSIDE));
	json_object_object_add(up, "hostDevice", json_object_new_string(p->uplink_host));
	json_object_object_add(o, "uplink", up);
	struct json_object *nets = json_object_new_array();
	for (size_t i = 0; i < p->n_networks; i++)
		json_object_array_add(nets, network_to_json(&p->networks[i]));
	json_object_object_add(o, "networks", nets);
	struct json_object *ms = json_object_new_array();
	for (size_t i = 0; i < p->n_machines; i++)
		json_object_array_add(ms, machine_to_json(p, &p->machines[i]));
	json_object_object_add(o, "machines", ms);
	return o;
}
