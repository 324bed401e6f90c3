#include "graph.h"

#include "ipam.h"

/* Titles are free text: escape what DOT's quoted strings treat specially. */
static void graph_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void graph_write_dot(const struct plan *p, FILE *out)
{
	fprintf(out, "graph \"%s\" {\n", p->name);
	fputs("  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, label=", out);
	graph_quoted(out, p->title ? p->title : p->name);
	fputs("];\n  node [fontname=\"Helvetica\"];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=10];\n", out);
	for (size_t i = 0; i < p->n_networks; i++) {
		const struct plan_network *n = &p->networks[i];
		char subnet[IPAM_CIDR_STRLEN], gw[IPAM_ADDR_STRLEN];
		ipam_format_cidr(n->subnet, n->prefix, subnet);
		fprintf(out,
			"  \"net:%s\" [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", label=\"%s\\n%s\\n",
			n->name, n->private_net ? "#e0e7ff" : "#dcfce7", n->name, subnet);
		if (n->has_gateway) {
			ipam_format_addr(n->gateway, gw);
			fprintf(out, "gateway %s, NAT\"];\n", gw);
		} else {
			fputs("private\"];\n", out);
		}
	}
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		fprintf(out, "  \"m:%s\" [shape=%s, label=\"%s\\n%s\"];\n", mc->name,
			mc->runtime == MANIFEST_RUNTIME_NETNS ? "component" : "ellipse",
			mc->name, plan_runtime_name(mc->runtime));
	}
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			char addr[IPAM_ADDR_STRLEN];
			ipam_format_addr(ifc->address, addr);
			fprintf(out, "  \"m:%s\" -- \"net:%s\" [label=\"%s %s\"];\n",
				mc->name, p->networks[ifc->network].name, ifc->name,
				addr);
		}
	}
	fputs("}\n", out);
}
