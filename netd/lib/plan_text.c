#include "plan_text.h"

#include <stdio.h>

#include "ipam.h"
#include "mac.h"
#include "table.h"

static int print_networks(const struct plan *p, FILE *out)
{
	struct table t;
	table_init(&t, 6);
	int e = table_add(&t, (const char *[]){ "NETWORK", "SUBNET", "GATEWAY",
						"BRIDGE", "MTU", "EGRESS" });
	for (size_t i = 0; e == 0 && i < p->n_networks; i++) {
		const struct plan_network *n = &p->networks[i];
		char subnet[IPAM_CIDR_STRLEN], gw[IPAM_ADDR_STRLEN], mtu[16];
		ipam_format_cidr(n->subnet, n->prefix, subnet);
		if (n->has_gateway)
			ipam_format_addr(n->gateway, gw);
		snprintf(mtu, sizeof(mtu), "%u", n->mtu);
		e = table_add(&t, (const char *[]){
			n->name, subnet, n->has_gateway ? gw : NULL, n->bridge, mtu,
			n->private_net ? "none (private)" : "NAT" });
	}
	if (e == 0)
		table_print(&t, out);
	table_free(&t);
	return e;
}

static int print_machines(const struct plan *p, FILE *out)
{
	struct table t;
	table_init(&t, 7);
	int e = table_add(&t, (const char *[]){ "MACHINE", "IF", "NETWORK",
						"ADDRESS", "GATEWAY", "MAC",
						"DEVICE" });
	for (size_t i = 0; e == 0 && i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; e == 0 && j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			const struct plan_network *net = &p->networks[ifc->network];
			char addr[IPAM_CIDR_STRLEN], gw[IPAM_ADDR_STRLEN];
			char mac[MAC_STRLEN], dev[IFNAMSIZ + 16], name[80];
			ipam_format_cidr(ifc->address, ifc->prefix, addr);
			if (net->has_gateway)
				ipam_format_addr(net->gateway, gw);
			mac_format(ifc->mac, mac);
			snprintf(dev, sizeof(dev), "%s (%s)", ifc->device,
				 ifc->kind == PLAN_PORT_TAP ? "tap" : "veth");
			snprintf(name, sizeof(name), "%s%s", mc->name,
				 mc->runtime == MANIFEST_RUNTIME_NETNS ? " [netns]" : "");
			e = table_add(&t, (const char *[]){
				j == 0 ? name : "", ifc->name, net->name, addr,
				net->has_gateway ? gw : NULL, mac, dev });
		}
	}
	if (e == 0)
		table_print(&t, out);
	table_free(&t);
	return e;
}

/* A title is anyone's text: control characters (a terminal's escapes
 * among them) are shown as \xNN, never sent to the terminal. */
static void print_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

int plan_print_text(const struct plan *p, FILE *out)
{
	fprintf(out, "playground %s", p->name);
	if (p->title) {
		fputs(" - ", out);
		print_text(out, p->title);
	}
	fprintf(out, "\nnetns %s, uplink %s <-> %s (host)\n\n", p->netns,
		NAMING_UPLINK_INSIDE, p->uplink_host);
	int e = print_networks(p, out);
	if (e < 0)
		return e;
	fputc('\n', out);
	return print_machines(p, out);
}
