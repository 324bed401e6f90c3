#include "plan_text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* One "name value" word more in buf, after a space unless it is the
 * first; at moves past it when it fits. */
static void __attribute__((format(printf, 4, 5)))
add_word(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	char word[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(word, sizeof(word), fmt, ap);
	va_end(ap);
	int n = snprintf(buf + *at, len - *at, "%s%s", *at ? " " : "", word);
	if (n > 0 && (size_t)n < len - *at)
		*at += (size_t)n;
}

/* A duration in us as a person writes it: 50ms, 1.5ms, 2s, 300us. */
static void add_duration(char *buf, size_t len, size_t *at, const char *what, uint32_t us)
{
	const char *unit = us >= 1000000 && us % 100000 == 0 ? "s" : us >= 1000 ? "ms" : "us";
	double v = us >= 1000000 && us % 100000 == 0 ? us / 1e6 : us >= 1000 ? us / 1e3 : us;
	add_word(buf, len, at, "%s %g%s", what, v, unit);
}

static void add_share(char *buf, size_t len, size_t *at, const char *what, uint32_t ppm)
{
	add_word(buf, len, at, "%s %g%%", what, ppm / 1e4);
}

void plan_impair_text(const struct manifest_impair *im, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	if (im->delay_us)
		add_duration(buf, len, &at, "delay", im->delay_us);
	if (im->jitter_us)
		add_duration(buf, len, &at, "jitter", im->jitter_us);
	if (im->loss_ppm)
		add_share(buf, len, &at, "loss", im->loss_ppm);
	if (im->rate_bps) {
		static const struct { const char *unit; uint64_t per; } u[] = {
			{ "gbit", 1000000000 }, { "mbit", 1000000 }, { "kbit", 1000 }, { "bit", 1 } };
		size_t k = 0;
		while (u[k].per > 1 && im->rate_bps % u[k].per)
			k++;
		add_word(buf, len, &at, "rate %llu%s", (unsigned long long)(im->rate_bps / u[k].per),
			 u[k].unit);
	}
	if (im->duplicate_ppm)
		add_share(buf, len, &at, "duplicate", im->duplicate_ppm);
	if (im->reorder_ppm)
		add_share(buf, len, &at, "reorder", im->reorder_ppm);
	if (im->corrupt_ppm)
		add_share(buf, len, &at, "corrupt", im->corrupt_ppm);
	if (!at)
		snprintf(buf, len, "none");
}

/* What differs from a plain wire: impairments, links taken down. */
static void print_ports(const struct plan *p, FILE *out)
{
	bool first = true;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			char im[256];
			plan_impair_text(&ifc->impair, im, sizeof(im));
			bool impaired = strcmp(im, "none") != 0;
			if (!impaired && !ifc->link_down)
				continue;
			fprintf(out, "%s%s/%s:", first ? "\n" : "", mc->name, ifc->name);
			if (ifc->link_down)
				fputs(" link down", out);
			if (impaired)
				fprintf(out, "%s impaired each way: %s", ifc->link_down ? "," : "", im);
			fputc('\n', out);
			first = false;
		}
	}
}

/* Host ports sent on to machines: "web: tcp *:8080 -> 80". */
static void print_forwards(const struct plan *p, FILE *out)
{
	bool first = true;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; j < mc->n_forwards; j++) {
			const struct manifest_forward *f = &mc->forwards[j];
			char a[IPAM_ADDR_STRLEN] = "*";
			if (f->host_addr)
				ipam_format_addr(f->host_addr, a);
			fprintf(out, "%s%s: forward %s %s:%u -> %u\n", first ? "\n" : "", mc->name,
				manifest_proto_name(f->proto), a, f->host_port, f->port);
			first = false;
		}
	}
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
	if ((e = print_machines(p, out)) == 0)
		print_ports(p, out);
	print_forwards(p, out);
	return e;
}
