/*
 * A machine's forwards: a port of the host's own addresses sent on to a
 * port of the machine, TCP or UDP (playnet's extension; labctl has none).
 *
 *   forwards:
 *     - port: 80            the machine's port
 *       hostPort: 8080      the host's (default: port)
 *       protocol: tcp       or udp (default tcp)
 *       hostAddress: A.B.C.D   one of the host's addresses (default: all)
 */
#define _GNU_SOURCE
#include "manifest.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "yread.h"
#include "ytree.h"

const char *manifest_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

int manifest_proto_parse(const char *s, uint8_t *proto)
{
	if (strcmp(s, "tcp") == 0)
		*proto = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

bool manifest_forward_addr_ok(uint32_t addr)
{
	uint8_t top = (uint8_t)(addr >> 24);
	return addr != 0 && top != 127 && top < 224;
}

bool manifest_forwards_clash(const struct manifest_forward *a, const struct manifest_forward *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (!a->host_addr || !b->host_addr || a->host_addr == b->host_addr);
}

static bool port_of(struct diag *d, const struct ytree_node *n, const char *path,
		    uint16_t *out)
{
	uint64_t v;
	if (!yread_uint(d, n, path, 1, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

void manifest_read_forward(struct diag *d, const struct ytree_node *n, const char *path,
			   struct manifest_forward *fw)
{
	static const char *const keys[] = { "port", "hostPort", "protocol", "hostAddress" };
	*fw = (struct manifest_forward){ .proto = IPPROTO_TCP, .pos = { n->line, n->column } };
	if (!yread_kind(d, n, path, YTREE_MAP, "a forward (a mapping with port)"))
		return;
	yread_keys(d, n, path, keys, ARRAY_SIZE(keys), true);
	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.port", path);
	if (!(v = yread_get_present(n, "port")))
		yread_err(d, n, path, "missing required key 'port' (the machine's port, 1 to 65535)");
	else
		port_of(d, v, p, &fw->port);
	fw->host_port = fw->port;
	yread_path(p, "%s.hostPort", path);
	if ((v = yread_get_present(n, "hostPort")))
		port_of(d, v, p, &fw->host_port);
	yread_path(p, "%s.protocol", path);
	if ((v = yread_get_present(n, "protocol")) && yread_string(d, v, p, "tcp or udp", &s) &&
	    manifest_proto_parse(s, &fw->proto) < 0)
		yread_err(d, v, p, "expected tcp or udp, got '%.20s'", s);
	yread_path(p, "%s.hostAddress", path);
	if ((v = yread_get_present(n, "hostAddress")) && yread_addr(d, v, p, &fw->host_addr) &&
	    !manifest_forward_addr_ok(fw->host_addr))
		yread_err(d, v, p, "expected one of the host's unicast addresses (not 0.0.0.0, 127.0.0.0/8, multicast or broadcast): the kernel forwards none of those");
}

void manifest_read_forwards(struct diag *d, const struct ytree_node *v, const char *path,
			    struct manifest_machine *mc)
{
	mc->forwards_pos = (struct manifest_pos){ v->line, v->column };
	if (!yread_kind(d, v, path, YTREE_SEQ, "a list of forwards"))
		return;
	if (v->n > MANIFEST_MAX_FORWARDS) {
		yread_err(d, v, path, "at most %d forwards a machine, got %zu", MANIFEST_MAX_FORWARDS,
			  v->n);
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s[%zu]", path, i);
		manifest_read_forward(d, v->items[i], p, &mc->forwards[i]);
	}
	mc->n_forwards = v->n;
}

ssize_t manifest_forward_interface(const struct manifest *m, const struct manifest_machine *mc)
{
	for (size_t i = 0; i < mc->n_interfaces; i++) {
		size_t n = mc->interfaces[i].network_index;
		if (n < m->n_networks && !m->networks[n].private_net)
			return (ssize_t)i;
	}
	return -1;
}

/* The first forward before machine i's forward j that takes its host
 * port, and in *owner its machine; NULL: none. */
static const struct manifest_forward *earlier_clash(const struct manifest *m, size_t i, size_t j,
						    const struct manifest_machine **owner)
{
	const struct manifest_forward *f = &m->machines[i].forwards[j];
	for (size_t k = 0; k <= i; k++) {
		*owner = &m->machines[k];
		size_t upto = k == i ? j : (*owner)->n_forwards;
		for (size_t l = 0; l < upto; l++)
			if (manifest_forwards_clash(f, &(*owner)->forwards[l]))
				return &(*owner)->forwards[l];
	}
	return NULL;
}

void manifest_check_forwards(const struct manifest *m, struct diag *d)
{
	for (size_t i = 0; i < m->n_machines; i++) {
		const struct manifest_machine *mc = &m->machines[i], *o;
		if (mc->n_forwards && manifest_forward_interface(m, mc) < 0)
			diag_add(d, mc->forwards_pos.line, mc->forwards_pos.column,
				 "playground.machines[%zu].forwards: machine %s is on no non-private network; a forward reaches a machine through its playground's uplink, which private networks do not have",
				 i, mc->name);
		for (size_t j = 0; j < mc->n_forwards; j++) {
			const struct manifest_forward *f = &mc->forwards[j];
			const struct manifest_forward *c = earlier_clash(m, i, j, &o);
			if (c)
				diag_add(d, f->pos.line, f->pos.column,
					 "playground.machines[%zu].forwards[%zu]: host port %u/%s is already forwarded to %s (line %d)",
					 i, j, f->host_port, manifest_proto_name(f->proto), o->name,
					 c->pos.line);
		}
	}
}

int manifest_parse_forward(const char *buf, size_t len, struct manifest_forward *fw,
			   struct diag *d)
{
	memset(fw, 0, sizeof(*fw));
	struct ytree t;
	const struct ytree_limits ylim = { .max_depth = 4, .max_nodes = 64, .max_anchors = 0 };
	int e = ytree_parse(buf, len, &ylim, &t, d);
	if (e < 0)
		return e;
	if (!t.root)
		diag_add(d, 0, 0, "forward: expected a mapping (port, hostPort, protocol, hostAddress)");
	else
		manifest_read_forward(d, t.root, "forward", fw);
	ytree_free(&t);
	return diag_failed(d) ? -EINVAL : 0;
}
