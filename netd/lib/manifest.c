#define _GNU_SOURCE
#include "manifest.h"

#include "mac.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam.h"
#include "naming.h"
#include "util.h"
#include "yread.h"
#include "ytree.h"


struct reader {
	struct diag *d;
	const struct manifest_limits *lim;
	struct manifest *m;
	/* The networks section had errors: references to networks are not
	 * checked, as they would only repeat them. */
	bool networks_broken;
};

static struct manifest_pos pos_of(const struct ytree_node *n)
{
	return (struct manifest_pos){ n->line, n->column };
}

static const struct yread_unit duration_units[] = {
	{ "us", 1 }, { "ms", 1e3 }, { "s", 1e6 },
};
static const struct yread_unit rate_units[] = {
	{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
	{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 },
};
static const struct yread_unit percent_units[] = { { "%", 1e4 }, { "", 1e4 } };
static const struct yread_unit size_units[] = {
	{ "", 1 },
	{ "k", 1024.0 }, { "ki", 1024.0 }, { "kb", 1024.0 }, { "kib", 1024.0 },
	{ "m", 1048576.0 }, { "mi", 1048576.0 }, { "mb", 1048576.0 }, { "mib", 1048576.0 },
	{ "g", 1073741824.0 }, { "gi", 1073741824.0 }, { "gb", 1073741824.0 }, { "gib", 1073741824.0 },
	{ "t", 1099511627776.0 }, { "ti", 1099511627776.0 }, { "tb", 1099511627776.0 }, { "tib", 1099511627776.0 },
};

bool manifest_parse_rate(const char *s, uint64_t *bps)
{
	double v;
	if (!yread_parse_unit(s, rate_units, ARRAY_SIZE(rate_units), &v) || v < 8000 || v > 1e12)
		return false;
	*bps = (uint64_t)v;
	return true;
}

/* Names */

bool manifest_valid_network_name(const char *s)
{
	return naming_valid_label(s, MANIFEST_NAME_MAX);
}

bool manifest_valid_hostname(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > MANIFEST_HOSTNAME_MAX)
		return false;
	if (s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-')
			return false;
	}
	return true;
}

bool manifest_valid_user(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MANIFEST_USER_MAX || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

ssize_t manifest_find_network(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_networks; i++)
		if (strcmp(m->networks[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Networks */

static const char *const network_keys[] = {
	"name", "subnet", "private", "gateway", "mtu", "dns", "vlans",
};

/* Address ranges no bridge may hold: what the kernel treats as its own
 * (this host, loopback) or refuses on an interface (multicast, reserved). */
const char *manifest_subnet_special(uint32_t net, uint8_t prefix)
{
	static const struct {
		uint32_t net;
		uint8_t prefix;
		const char *what;
	} special[] = {
		{ 0x00000000, 8, "in 0.0.0.0/8 (this host)" },
		{ 0x7f000000, 8, "in 127.0.0.0/8 (loopback)" },
		{ 0xe0000000, 4, "in 224.0.0.0/4 (multicast)" },
		{ 0xf0000000, 4, "in 240.0.0.0/4 (reserved)" },
	};
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (ipam_overlap(net, prefix, special[i].net, special[i].prefix))
			return special[i].what;
	return NULL;
}

static void read_network_subnet(struct reader *r, const struct ytree_node *v,
				const char *path, struct manifest_network *net)
{
	const char *s;
	if (!yread_string(r->d, v, path, "an IPv4 CIDR", &s))
		return;
	uint32_t a;
	uint8_t prefix;
	if (!ipam_parse_cidr(s, &a, &prefix)) {
		yread_err(r->d, v, path,
			  "expected an IPv4 CIDR such as 10.0.0.0/24, got '%s'", s);
		return;
	}
	if (prefix < 8 || prefix > 30) {
		yread_err(r->d, v, path, "prefix /%u is out of range (/8 to /30)", prefix);
		return;
	}
	if (a & ~ipam_mask(prefix)) {
		char fixed[IPAM_CIDR_STRLEN];
		ipam_format_cidr(a & ipam_mask(prefix), prefix, fixed);
		yread_err(r->d, v, path, "'%s' has host bits set (did you mean %s?)", s,
			  fixed);
		return;
	}
	const char *special = manifest_subnet_special(a, prefix);
	if (special) {
		yread_err(r->d, v, path, "'%s' is %s, not a subnet a network can use", s, special);
		return;
	}
	net->subnet = a;
	net->prefix = prefix;
	net->valid = true;
}

static void read_network_dns(struct reader *r, const struct ytree_node *v,
			     const char *path, struct manifest_network *net)
{
	if (!yread_kind(r->d, v, path, YTREE_SEQ, "a list of IPv4 addresses"))
		return;
	if (v->n > MANIFEST_MAX_DNS) {
		yread_err(r->d, v, path, "at most %d DNS servers, got %zu",
			  MANIFEST_MAX_DNS, v->n);
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s[%zu]", path, i);
		if (yread_addr(r->d, v->items[i], p, &net->dns[net->n_dns]))
			net->n_dns++;
	}
}

static void read_network(struct reader *r, const struct ytree_node *n,
			 size_t idx, struct manifest_network *net)
{
	char path[YREAD_PATH_LEN], p[YREAD_PATH_LEN];
	yread_path(path, "playground.networks[%zu]", idx);
	net->pos = pos_of(n);
	if (!yread_kind(r->d, n, path, YTREE_MAP, "a network (a mapping with name and subnet)"))
		return;
	yread_keys(r->d, n, path, network_keys, ARRAY_SIZE(network_keys), true);

	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.name", path);
	if (!(v = yread_get_present(n, "name")))
		yread_err(r->d, n, path, "missing required key 'name' (a network name such as net-1)");
	else if (yread_string(r->d, v, p, "a network name", &s)) {
		if (!manifest_valid_network_name(s))
			yread_err(r->d, v, p,
				  "invalid network name '%s': expected at most %d characters of a-z, 0-9 and '-', starting with a letter or digit",
				  s, MANIFEST_NAME_MAX);
		else
			strcpy(net->name, s);
	}

	yread_path(p, "%s.subnet", path);
	if (!(v = yread_get_present(n, "subnet")))
		yread_err(r->d, n, path, "missing required key 'subnet' (an IPv4 CIDR such as 10.0.0.0/24)");
	else
		read_network_subnet(r, v, p, net);

	yread_path(p, "%s.private", path);
	if ((v = yread_get_present(n, "private")))
		yread_bool(r->d, v, p, &net->private_net);

	yread_path(p, "%s.vlans", path);
	if ((v = yread_get_present(n, "vlans")))
		yread_bool(r->d, v, p, &net->vlans);

	yread_path(p, "%s.gateway", path);
	if ((v = yread_get_present(n, "gateway")) &&
	    yread_addr(r->d, v, p, &net->gateway)) {
		net->has_gateway = true;
		net->gateway_pos = pos_of(v);
	}

	uint64_t u;
	yread_path(p, "%s.mtu", path);
	if ((v = yread_get_present(n, "mtu")) && yread_uint(r->d, v, p, 576, 9000, &u))
		net->mtu = (unsigned)u;

	yread_path(p, "%s.dns", path);
	if ((v = yread_get_present(n, "dns")))
		read_network_dns(r, v, p, net);
}

/* Rules that relate a network to itself and to the others. */
static void check_network(struct reader *r, const struct ytree_node *n,
			  size_t idx)
{
	struct manifest_network *net = &r->m->networks[idx];
	char path[YREAD_PATH_LEN];
	yread_path(path, "playground.networks[%zu]", idx);
	const struct ytree_node *namev = yread_get(n, "name");

	for (size_t j = 0; net->name[0] && j < idx; j++) {
		if (strcmp(r->m->networks[j].name, net->name) == 0) {
			char p[YREAD_PATH_LEN];
			yread_path(p, "%s.name", path);
			yread_err(r->d, namev, p,
				  "duplicate network name '%s' (first defined at line %d)",
				  net->name, r->m->networks[j].pos.line);
			break;
		}
	}
	const struct ytree_node *subv = yread_get(n, "subnet");
	for (size_t j = 0; net->valid && j < idx; j++) {
		const struct manifest_network *o = &r->m->networks[j];
		if (!o->valid ||
		    !ipam_overlap(net->subnet, net->prefix, o->subnet, o->prefix))
			continue;
		char p[YREAD_PATH_LEN], c[IPAM_CIDR_STRLEN];
		yread_path(p, "%s.subnet", path);
		ipam_format_cidr(o->subnet, o->prefix, c);
		yread_err(r->d, subv, p, "overlaps the subnet %s of network '%s'", c,
			  o->name);
		net->valid = false;
		break;
	}

	const struct ytree_node *gwv = yread_get_present(n, "gateway");
	if (gwv && net->has_gateway) {
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s.gateway", path);
		if (net->private_net) {
			yread_err(r->d, gwv, p,
				  "a private network has no gateway (the fabric holds no address on it)");
		} else if (net->valid) {
			char a[IPAM_ADDR_STRLEN], c[IPAM_CIDR_STRLEN];
			ipam_format_addr(net->gateway, a);
			ipam_format_cidr(net->subnet, net->prefix, c);
			if (!ipam_contains(net->subnet, net->prefix, net->gateway))
				yread_err(r->d, gwv, p, "%s is outside the subnet %s", a, c);
			else if (net->gateway == net->subnet)
				yread_err(r->d, gwv, p, "%s is the network address of %s", a, c);
			else if (net->gateway == ipam_broadcast(net->subnet, net->prefix))
				yread_err(r->d, gwv, p, "%s is the broadcast address of %s", a, c);
		}
	}
	const struct ytree_node *dnsv = yread_get_present(n, "dns");
	if (dnsv && net->private_net) {
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s.dns", path);
		yread_err(r->d, dnsv, p,
			  "DNS servers are only handed out on networks that are not private");
	}
}

static int read_networks(struct reader *r, const struct ytree_node *pg)
{
	const struct ytree_node *nets = yread_get_present(pg, "networks");
	if (!nets)
		return 0;
	const char *path = "playground.networks";
	size_t errors_before = r->d->count + r->d->dropped;
	r->networks_broken = true;
	if (!yread_kind(r->d, nets, path, YTREE_SEQ, "a list of networks"))
		return 0;
	if (nets->n > r->lim->max_networks) {
		yread_err(r->d, nets, path, "too many networks: %zu (the limit is %zu)",
			  nets->n, r->lim->max_networks);
		return 0;
	}
	r->m->networks = calloc(nets->n + 1, sizeof(*r->m->networks));
	if (!r->m->networks)
		return -ENOMEM;
	r->m->n_networks = nets->n;
	for (size_t i = 0; i < nets->n; i++)
		read_network(r, nets->items[i], i, &r->m->networks[i]);
	for (size_t i = 0; i < nets->n; i++)
		if (nets->items[i]->kind == YTREE_MAP)
			check_network(r, nets->items[i], i);
	r->networks_broken = r->d->count + r->d->dropped > errors_before;
	return 0;
}

/* The default network of DESIGN.md section 1. The array always has room for
 * one more network (see read_networks). */
static int add_default_network(struct manifest *m)
{
	if (!m->networks) {
		m->networks = calloc(1, sizeof(*m->networks));
		if (!m->networks)
			return -ENOMEM;
	}
	struct manifest_network *net = &m->networks[m->n_networks++];
	memset(net, 0, sizeof(*net));
	strcpy(net->name, "local");
	ipam_parse_addr("172.16.0.0", &net->subnet);
	net->prefix = 24;
	net->implicit = true;
	net->valid = true;
	return 0;
}

/* Interfaces */

static const char *const interface_keys[] = {
	"network", "address", "mac", "guard", "impair",
};
static const char *const guard_keys[] = { "ipSource", "dhcpServer" };
const char *const manifest_impair_keys[MANIFEST_IMPAIR_KEYS] = {
	"delay", "jitter", "loss", "rate", "duplicate", "reorder", "corrupt",
};

static void read_interface_mac(struct reader *r, const struct ytree_node *v,
			       const char *path, struct manifest_interface *ifc)
{
	const char *s;
	if (!yread_string(r->d, v, path, "a MAC address", &s))
		return;
	uint8_t mac[6];
	if (!mac_parse(s, mac)) {
		yread_err(r->d, v, path,
			  "expected a MAC address such as 02:00:00:00:00:01, got '%s'", s);
		return;
	}
	if (mac[0] & 1) {
		yread_err(r->d, v, path, "%s is a multicast address; a machine needs a unicast MAC", s);
		return;
	}
	static const uint8_t zero[6];
	if (!memcmp(mac, zero, 6)) {
		yread_err(r->d, v, path, "00:00:00:00:00:00 is not a usable MAC");
		return;
	}
	memcpy(ifc->mac, mac, 6);
	ifc->has_mac = true;
	ifc->mac_pos = pos_of(v);
}

static void read_guard(struct reader *r, const struct ytree_node *v,
		       const char *path, struct manifest_guard *g)
{
	if (!yread_kind(r->d, v, path, YTREE_MAP, "a mapping (ipSource, dhcpServer)"))
		return;
	yread_keys(r->d, v, path, guard_keys, ARRAY_SIZE(guard_keys), true);
	char p[YREAD_PATH_LEN];
	const struct ytree_node *x;
	yread_path(p, "%s.ipSource", path);
	if ((x = yread_get_present(v, "ipSource")))
		yread_bool(r->d, x, p, &g->ip_source);
	yread_path(p, "%s.dhcpServer", path);
	if ((x = yread_get_present(v, "dhcpServer")))
		yread_bool(r->d, x, p, &g->dhcp_server);
}

static void read_impair(struct reader *r, const struct ytree_node *v,
			const char *path, struct manifest_impair *im)
{
	if (!yread_kind(r->d, v, path, YTREE_MAP, "a mapping (delay, jitter, loss, rate, duplicate, reorder, corrupt)"))
		return;
	yread_keys(r->d, v, path, manifest_impair_keys, MANIFEST_IMPAIR_KEYS, true);
	char p[YREAD_PATH_LEN];
	const struct ytree_node *x;
	double d;
	im->set = true;
	yread_path(p, "%s.delay", path);
	if ((x = yread_get_present(v, "delay")) &&
	    yread_unit(r->d, x, p, duration_units, ARRAY_SIZE(duration_units),
		       "a duration such as 20ms", 60e6, &d))
		im->delay_us = (uint32_t)d;
	yread_path(p, "%s.jitter", path);
	if ((x = yread_get_present(v, "jitter")) &&
	    yread_unit(r->d, x, p, duration_units, ARRAY_SIZE(duration_units),
		       "a duration such as 5ms", 60e6, &d)) {
		im->jitter_us = (uint32_t)d;
		if (!yread_get_present(v, "delay"))
			yread_err(r->d, x, p, "jitter needs a delay to vary around");
	}
	struct {
		const char *key;
		uint32_t *out;
	} const shares[] = {
		{ "loss", &im->loss_ppm },
		{ "duplicate", &im->duplicate_ppm },
		{ "reorder", &im->reorder_ppm },
		{ "corrupt", &im->corrupt_ppm },
	};
	for (size_t i = 0; i < ARRAY_SIZE(shares); i++) {
		yread_path(p, "%s.%s", path, shares[i].key);
		if ((x = yread_get_present(v, shares[i].key)) &&
		    yread_unit(r->d, x, p, percent_units, ARRAY_SIZE(percent_units),
			       "a percentage such as 1%", 1e6, &d))
			*shares[i].out = (uint32_t)d;
	}
	if ((x = yread_get_present(v, "reorder")) && !yread_get_present(v, "delay")) {
		yread_path(p, "%s.reorder", path);
		yread_err(r->d, x, p, "reorder needs a delay: the packets it picks overtake the delayed rest");
	}
	yread_path(p, "%s.rate", path);
	if ((x = yread_get_present(v, "rate")) &&
	    yread_unit(r->d, x, p, rate_units, ARRAY_SIZE(rate_units),
		       "a rate such as 10mbit", 1e12, &d)) {
		im->rate_bps = (uint64_t)d;
		if (im->rate_bps < 8000)
			yread_err(r->d, x, p, "rate must be at least 8kbit");
	}
}

static void read_interface(struct reader *r, const struct ytree_node *n,
			   const char *path, struct manifest_interface *ifc)
{
	ifc->pos = pos_of(n);
	ifc->network_index = SIZE_MAX;
	if (!yread_kind(r->d, n, path, YTREE_MAP, "an interface (a mapping with network)"))
		return;
	yread_keys(r->d, n, path, interface_keys, ARRAY_SIZE(interface_keys), true);

	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.network", path);
	if (!(v = yread_get_present(n, "network")))
		yread_err(r->d, n, path, "missing required key 'network' (the name of a network)");
	else if (yread_string(r->d, v, p, "a network name", &s)) {
		ifc->network_pos = pos_of(v);
		if (strlen(s) > MANIFEST_NAME_MAX) {
			if (!r->networks_broken)
				yread_err(r->d, v, p,
					  "unknown network '%.32s...' (network names are at most %d characters)",
					  s, MANIFEST_NAME_MAX);
		} else
			strcpy(ifc->network, s);
	}

	yread_path(p, "%s.address", path);
	if ((v = yread_get_present(n, "address")) &&
	    yread_addr_prefix(r->d, v, p, &ifc->address, &ifc->address_prefix)) {
		ifc->has_address = true;
		ifc->address_pos = pos_of(v);
	}

	yread_path(p, "%s.mac", path);
	if ((v = yread_get_present(n, "mac")))
		read_interface_mac(r, v, p, ifc);

	yread_path(p, "%s.guard", path);
	if ((v = yread_get_present(n, "guard")))
		read_guard(r, v, p, &ifc->guard);

	yread_path(p, "%s.impair", path);
	if ((v = yread_get_present(n, "impair")))
		read_impair(r, v, p, &ifc->impair);
}

static void list_network_names(const struct manifest *m, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < m->n_networks; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
			 m->networks[i].name);
	}
}

/* Resolves each interface's network, adding the default one if needed. */
static int resolve_interface_networks(struct reader *r, bool had_networks)
{
	struct manifest *m = r->m;
	for (size_t i = 0; i < m->n_machines; i++) {
		struct manifest_machine *mc = &m->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			struct manifest_interface *ifc = &mc->interfaces[j];
			if (!ifc->network[0])
				continue;
			ssize_t k = manifest_find_network(m, ifc->network);
			if (k < 0 && strcmp(ifc->network, "local") == 0) {
				if (m->n_networks >= r->lim->max_networks) {
					diag_add(r->d, ifc->network_pos.line, ifc->network_pos.column,
						 "playground.machines[%zu].network.interfaces[%zu].network: the default network 'local' would be one network too many (the limit is %zu)",
						 i, j, r->lim->max_networks);
					continue;
				}
				int e = add_default_network(m);
				if (e < 0)
					return e;
				k = (ssize_t)m->n_networks - 1;
			}
			if (k >= 0) {
				ifc->network_index = (size_t)k;
				const struct manifest_network *net = &m->networks[k];
				if (ifc->address_prefix && ifc->address_prefix != net->prefix)
					diag_add(r->d, ifc->address_pos.line, ifc->address_pos.column,
						 "playground.machines[%zu].network.interfaces[%zu].address: prefix /%u differs from network %s's /%u (write the address alone, or with /%u)",
						 i, j, ifc->address_prefix, net->name, net->prefix,
						 net->prefix);
				continue;
			}
			if (r->networks_broken)
				continue;
			char names[512];
			list_network_names(m, names, sizeof(names));
			diag_add(r->d, ifc->network_pos.line, ifc->network_pos.column,
				 "playground.machines[%zu].network.interfaces[%zu].network: unknown network '%s' (%s%s)",
				 i, j, ifc->network,
				 had_networks ? "defined: " : "no networks are defined; the default is ",
				 had_networks ? names : "local");
		}
	}
	return 0;
}

/* Machines */

static int read_interfaces(struct reader *r, const struct ytree_node *netv,
			   const char *path, struct manifest_machine *mc)
{
	static const char *const network_keys_machine[] = { "interfaces" };
	if (!yread_kind(r->d, netv, path, YTREE_MAP, "a mapping with 'interfaces'"))
		return 0;
	yread_keys(r->d, netv, path, network_keys_machine, 1, true);
	const struct ytree_node *ifs = yread_get_present(netv, "interfaces");
	if (!ifs)
		return 0;
	char p[YREAD_PATH_LEN];
	yread_path(p, "%s.interfaces", path);
	if (!yread_kind(r->d, ifs, p, YTREE_SEQ, "a list of interfaces"))
		return 0;
	if (ifs->n > r->lim->max_interfaces) {
		yread_err(r->d, ifs, p, "too many interfaces: %zu (the limit is %zu)",
			  ifs->n, r->lim->max_interfaces);
		return 0;
	}
	mc->interfaces = calloc(ifs->n ? ifs->n : 1, sizeof(*mc->interfaces));
	if (!mc->interfaces)
		return -ENOMEM;
	mc->n_interfaces = ifs->n;
	for (size_t i = 0; i < ifs->n; i++) {
		char ip[YREAD_PATH_LEN];
		yread_path(ip, "%s[%zu]", p, i);
		read_interface(r, ifs->items[i], ip, &mc->interfaces[i]);
	}
	return 0;
}

static void read_resources(struct reader *r, const struct ytree_node *v,
			   const char *path, struct manifest_machine *mc)
{
	if (!yread_kind(r->d, v, path, YTREE_MAP, "a mapping (cpuCount, ramSize)"))
		return;
	/* labctl has more resource keys than the fabric uses: not strict. */
	yread_keys(r->d, v, path, NULL, 0, false);
	char p[YREAD_PATH_LEN];
	const struct ytree_node *x;
	uint64_t u;
	yread_path(p, "%s.cpuCount", path);
	if ((x = yread_get_present(v, "cpuCount")) && yread_uint(r->d, x, p, 1, 256, &u))
		mc->cpu_count = (unsigned)u;
	yread_path(p, "%s.ramSize", path);
	double d;
	if ((x = yread_get_present(v, "ramSize")) &&
	    yread_unit(r->d, x, p, size_units, ARRAY_SIZE(size_units),
		       "a size such as 512M or 4G", (double)MANIFEST_RAM_MAX, &d)) {
		if (d < (double)MANIFEST_RAM_MIN)
			yread_err(r->d, x, p, "at least 16M of memory is needed");
		else
			mc->ram_bytes = (uint64_t)d;
	}
}

static const char *const drive_kinds[] = {
	[MANIFEST_DRIVE_AUTO] = "auto",
	[MANIFEST_DRIVE_KERNEL] = "kernel",
	[MANIFEST_DRIVE_INITRD] = "initrd",
	[MANIFEST_DRIVE_DISK] = "disk",
};

const char *manifest_drive_kind_name(enum manifest_drive_kind k)
{
	return drive_kinds[k];
}

/* s's index in names, or -EINVAL. */
static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

int manifest_drive_kind_parse(const char *s, enum manifest_drive_kind *k)
{
	int i = name_index(drive_kinds, ARRAY_SIZE(drive_kinds), s);
	if (i >= 0)
		*k = (enum manifest_drive_kind)i;
	return i < 0 ? i : 0;
}

static const char *const fs_names[] = {
	[MANIFEST_FS_NONE] = "none",
	[MANIFEST_FS_EXT4] = "ext4",
	[MANIFEST_FS_XFS] = "xfs",
};

const char *manifest_fs_name(enum manifest_fs f)
{
	return fs_names[f];
}

int manifest_fs_parse(const char *s, enum manifest_fs *f)
{
	int i = name_index(fs_names, ARRAY_SIZE(fs_names), s);
	if (i >= 0)
		*f = (enum manifest_fs)i;
	return i < 0 ? i : 0;
}

/* The guest mounts it by this path, and it travels on the kernel command
 * line: absolute, clean, and nothing the command line would split. */
static const char *mount_problem(const char *s)
{
	size_t n = strlen(s);
	if (s[0] != '/')
		return "an absolute path such as /data";
	if (n > MANIFEST_MOUNT_MAX)
		return "a path of at most 255 characters";
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/._-", *c))
			return "a path of letters, digits and / . _ -";
	bool unclean = strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../") ||
		       (n > 1 && s[n - 1] == '/') || (n >= 2 && strcmp(s + n - 2, "/.") == 0) ||
		       (n >= 3 && strcmp(s + n - 3, "/..") == 0);
	return unclean ? "a path without '//', '.', '..' or a trailing '/'" : NULL;
}

static int read_drive_source(struct reader *r, const struct ytree_node *n,
			     const char *path, struct manifest_drive *dr)
{
	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.source", path);
	if (!(v = yread_get_present(n, "source")) ||
	    !yread_string(r->d, v, p, "a path, a catalog image or oci://REF", &s))
		return 0;
	dr->source_pos = pos_of(v);
	if (!*s)
		yread_err(r->d, v, p, "expected a path, a catalog image or oci://REF, got an empty string");
	else if (strlen(s) > MANIFEST_SOURCE_MAX)
		yread_err(r->d, v, p, "a source has at most %d characters", MANIFEST_SOURCE_MAX);
	else if (!(dr->source = strdup(s)))
		return -ENOMEM;
	return 0;
}

static void read_drive_disk(struct reader *r, const struct ytree_node *n,
			    const char *path, struct manifest_drive *dr)
{
	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s, *why;
	double d;
	yread_path(p, "%s.mount", path);
	if ((v = yread_get_present(n, "mount")) && yread_string(r->d, v, p, "a path", &s)) {
		dr->mount_pos = pos_of(v);
		if ((why = mount_problem(s)))
			yread_err(r->d, v, p, "expected %s, got '%s'", why, s);
		else
			strcpy(dr->mount, s);
	}
	yread_path(p, "%s.size", path);
	if ((v = yread_get_present(n, "size")) &&
	    yread_unit(r->d, v, p, size_units, ARRAY_SIZE(size_units),
		       "a size such as 512MiB, 5G or 10GiB", (double)MANIFEST_DRIVE_SIZE_MAX, &d)) {
		dr->size_pos = pos_of(v);
		if (d < (double)MANIFEST_DRIVE_SIZE_MIN)
			yread_err(r->d, v, p, "a drive has at least 1MiB");
		else
			dr->size = (uint64_t)d & ~((1ULL << 20) - 1); /* whole MiB */
	}
	yread_path(p, "%s.filesystem", path);
	if ((v = yread_get_present(n, "filesystem")) && yread_string(r->d, v, p, "ext4 or xfs", &s)) {
		/* "none" is the plan's word for a raw disk, not a manifest's. */
		if (manifest_fs_parse(s, &dr->filesystem) < 0 || dr->filesystem == MANIFEST_FS_NONE) {
			dr->filesystem = MANIFEST_FS_NONE;
			yread_err(r->d, v, p, "expected ext4 or xfs, got '%s'", s);
		}
		if (dr->filesystem != MANIFEST_FS_NONE && yread_get_present(n, "source"))
			yread_err(r->d, v, p, "a drive with a source has its own file system; filesystem is for a blank drive (no source)");
	}
}

static int read_drive(struct reader *r, const struct ytree_node *n,
		      const char *path, struct manifest_drive *dr)
{
	static const char *const keys[] = { "source", "mount", "size", "filesystem", "kind" };
	dr->pos = pos_of(n);
	if (!yread_kind(r->d, n, path, YTREE_MAP, "a drive (a mapping with source, or size)"))
		return 0;
	yread_keys(r->d, n, path, keys, ARRAY_SIZE(keys), true);
	if (read_drive_source(r, n, path, dr) < 0)
		return -ENOMEM;
	read_drive_disk(r, n, path, dr);
	bool blank = !yread_get_present(n, "source");
	if (blank && !yread_get_present(n, "size"))
		yread_err(r->d, n, path, "a drive needs a source (a kernel, initramfs, disk image, catalog image or oci://REF), or a size for a blank disk");
	if (blank && dr->filesystem != MANIFEST_FS_NONE && !dr->mount[0])
		yread_err(r->d, n, path, "a blank drive with a filesystem needs a mount point (mount: /data, say)");
	if (blank && strcmp(dr->mount, "/") == 0)
		yread_err(r->d, n, path, "a blank drive cannot be the root (mount: /): give the root a source");
	if (blank && dr->mount[0] && dr->filesystem == MANIFEST_FS_NONE)
		dr->filesystem = MANIFEST_FS_EXT4; /* unless it says otherwise */
	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.kind", path);
	if (!(v = yread_get_present(n, "kind")) || !yread_string(r->d, v, p, "a drive kind", &s))
		return 0;
	if (manifest_drive_kind_parse(s, &dr->kind) < 0)
		yread_err(r->d, v, p, "expected kernel, initrd, disk or auto, got '%s'", s);
	else if (blank)
		yread_err(r->d, v, p, "a blank drive has no kind: it is a disk");
	return 0;
}

static int read_drives(struct reader *r, const struct ytree_node *v,
		       const char *path, struct manifest_machine *mc)
{
	if (!yread_kind(r->d, v, path, YTREE_SEQ, "a list of drives"))
		return 0;
	if (v->n > MANIFEST_MAX_DRIVES) {
		yread_err(r->d, v, path, "at most %d drives, got %zu", MANIFEST_MAX_DRIVES, v->n);
		return 0;
	}
	mc->drives = calloc(v->n ? v->n : 1, sizeof(*mc->drives));
	if (!mc->drives)
		return -ENOMEM;
	mc->n_drives = v->n;
	for (size_t i = 0; i < v->n; i++) {
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s[%zu]", path, i);
		if (read_drive(r, v->items[i], p, &mc->drives[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* labctl's users: each a mapping with a name (and welcome, ...: theirs);
 * the one with default: true is whom ssh logs in as. */
static void read_users(struct reader *r, const struct ytree_node *v, const char *path,
		       struct manifest_machine *mc)
{
	if (!yread_kind(r->d, v, path, YTREE_SEQ, "a list of users"))
		return;
	for (size_t i = 0; i < v->n; i++) {
		char p[YREAD_PATH_LEN], q[YREAD_PATH_LEN];
		const struct ytree_node *u = v->items[i], *x;
		const char *name = NULL;
		bool dflt = false;
		yread_path(p, "%s[%zu]", path, i);
		if (!yread_kind(r->d, u, p, YTREE_MAP, "a user (a mapping with name)"))
			continue;
		static const char *const keys[] = { "name", "default" };
		yread_keys(r->d, u, p, keys, ARRAY_SIZE(keys), false);
		yread_path(q, "%s.name", p);
		if (!(x = yread_get_present(u, "name")))
			yread_err(r->d, u, p, "missing required key 'name' (a user name)");
		else if (yread_string(r->d, x, q, "a user name", &name) && !manifest_valid_user(name))
			yread_err(r->d, x, q, "expected a user name (a-z, 0-9, '_' and '-', at most %d), got '%.40s'",
				  MANIFEST_USER_MAX, name);
		yread_path(q, "%s.default", p);
		if (!(x = yread_get_present(u, "default")) || !yread_bool(r->d, x, q, &dflt) || !dflt ||
		    !name || !manifest_valid_user(name))
			continue;
		if (mc->default_user[0])
			yread_err(r->d, x, q, "a second default user ('%s' is one): ssh logs in as one",
				  mc->default_user);
		else
			strcpy(mc->default_user, name);
	}
}

static int read_machine(struct reader *r, const struct ytree_node *n, size_t idx,
			struct manifest_machine *mc)
{
	char path[YREAD_PATH_LEN], p[YREAD_PATH_LEN];
	yread_path(path, "playground.machines[%zu]", idx);
	mc->pos = pos_of(n);
	if (!yread_kind(r->d, n, path, YTREE_MAP, "a machine (a mapping with name)"))
		return 0;
	/* Unknown keys in machines are labctl's (users, drives, ...): kept,
	 * unless they are a near miss of one that is read. */
	static const char *const machine_keys[] = {
		"name", "network", "resources", "drives", "runtime", "users", "forwards",
	};
	yread_keys(r->d, n, path, machine_keys, ARRAY_SIZE(machine_keys), false);

	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.name", path);
	if (!(v = yread_get_present(n, "name")))
		yread_err(r->d, n, path, "missing required key 'name' (a host name such as leaf-01)");
	else if (yread_string(r->d, v, p, "a host name", &s)) {
		if (!manifest_valid_hostname(s))
			yread_err(r->d, v, p,
				  "invalid machine name '%s': expected a host name of at most %d characters of a-z, A-Z, 0-9 and '-', not starting or ending with '-'",
				  s, MANIFEST_HOSTNAME_MAX);
		else
			strcpy(mc->name, s);
	}

	yread_path(p, "%s.runtime", path);
	if ((v = yread_get_present(n, "runtime")) &&
	    yread_string(r->d, v, p, "vm or netns", &s)) {
		if (strcmp(s, "vm") == 0)
			mc->runtime = MANIFEST_RUNTIME_VM;
		else if (strcmp(s, "netns") == 0)
			mc->runtime = MANIFEST_RUNTIME_NETNS;
		else
			yread_err(r->d, v, p, "expected vm or netns, got '%s'", s);
	}

	yread_path(p, "%s.resources", path);
	if ((v = yread_get_present(n, "resources")))
		read_resources(r, v, p, mc);

	yread_path(p, "%s.users", path);
	if ((v = yread_get_present(n, "users")))
		read_users(r, v, p, mc);

	yread_path(p, "%s.drives", path);
	if ((v = yread_get_present(n, "drives")) && read_drives(r, v, p, mc) < 0)
		return -ENOMEM;

	yread_path(p, "%s.forwards", path);
	if ((v = yread_get_present(n, "forwards")))
		manifest_read_forwards(r->d, v, p, mc);

	yread_path(p, "%s.network", path);
	if ((v = yread_get_present(n, "network")))
		return read_interfaces(r, v, p, mc);
	return 0;
}

static void check_machine_names(struct reader *r, const struct ytree_node *seq)
{
	for (size_t i = 0; i < r->m->n_machines; i++) {
		const struct manifest_machine *mc = &r->m->machines[i];
		for (size_t j = 0; mc->name[0] && j < i; j++) {
			if (strcasecmp(r->m->machines[j].name, mc->name) != 0)
				continue;
			char p[YREAD_PATH_LEN];
			yread_path(p, "playground.machines[%zu].name", i);
			yread_err(r->d, yread_get(seq->items[i], "name"), p,
				  "duplicate machine name '%s' (first defined at line %d)",
				  mc->name, r->m->machines[j].pos.line);
			break;
		}
	}
}

/* labctl's default: with no networks, each machine without interfaces is
 * on the default network. */
static int default_interfaces(struct manifest *m)
{
	for (size_t i = 0; i < m->n_machines; i++) {
		struct manifest_machine *mc = &m->machines[i];
		if (mc->interfaces)
			continue;
		mc->interfaces = calloc(1, sizeof(*mc->interfaces));
		if (!mc->interfaces)
			return -ENOMEM;
		mc->n_interfaces = 1;
		strcpy(mc->interfaces[0].network, "local");
		mc->interfaces[0].pos = mc->pos;
		mc->interfaces[0].network_pos = mc->pos;
		mc->interfaces[0].network_index = SIZE_MAX;
	}
	return 0;
}

static void check_macs(struct reader *r)
{
	const struct manifest *m = r->m;
	for (size_t i = 0; i < m->n_machines; i++) {
		for (size_t j = 0; j < m->machines[i].n_interfaces; j++) {
			const struct manifest_interface *a = &m->machines[i].interfaces[j];
			if (!a->has_mac)
				continue;
			for (size_t k = 0; k <= i; k++) {
				size_t lim = k == i ? j : m->machines[k].n_interfaces;
				for (size_t l = 0; l < lim; l++) {
					const struct manifest_interface *b =
						&m->machines[k].interfaces[l];
					if (!b->has_mac || memcmp(a->mac, b->mac, 6))
						continue;
					diag_add(r->d, a->mac_pos.line, a->mac_pos.column,
						 "playground.machines[%zu].network.interfaces[%zu].mac: already used by %s eth%zu (line %d)",
						 i, j, m->machines[k].name, l,
						 b->mac_pos.line);
					goto next;
				}
			}
next:;
		}
	}
}

static int read_machines(struct reader *r, const struct ytree_node *pg,
			 const struct ytree_node **seq_out)
{
	const struct ytree_node *ms = yread_get_present(pg, "machines");
	const char *path = "playground.machines";
	*seq_out = NULL;
	if (!ms) {
		yread_err(r->d, pg, "playground", "missing required key 'machines' (a list of machines)");
		return 0;
	}
	if (!yread_kind(r->d, ms, path, YTREE_SEQ, "a list of machines"))
		return 0;
	if (ms->n == 0) {
		yread_err(r->d, ms, path, "expected at least one machine");
		return 0;
	}
	if (ms->n > r->lim->max_machines) {
		yread_err(r->d, ms, path, "too many machines: %zu (the limit is %zu)",
			  ms->n, r->lim->max_machines);
		return 0;
	}
	r->m->machines = calloc(ms->n, sizeof(*r->m->machines));
	if (!r->m->machines)
		return -ENOMEM;
	r->m->n_machines = ms->n;
	for (size_t i = 0; i < ms->n; i++) {
		int e = read_machine(r, ms->items[i], i, &r->m->machines[i]);
		if (e < 0)
			return e;
	}
	*seq_out = ms;
	return 0;
}

/* The document */

static int read_top(struct reader *r, const struct ytree_node *root)
{
	if (!root) {
		diag_add(r->d, 1, 1, "empty manifest: expected 'kind: playground' and a 'playground' mapping");
		return 0;
	}
	if (!yread_kind(r->d, root, "manifest", YTREE_MAP,
			"a mapping with 'kind' and 'playground'"))
		return 0;
	static const char *const root_keys[] = { "kind", "title", "name", "playground" };
	yread_keys(r->d, root, "manifest", root_keys, ARRAY_SIZE(root_keys), false);

	const struct ytree_node *v;
	const char *s;
	if (!(v = yread_get_present(root, "kind")))
		yread_err(r->d, root, "manifest", "missing required key 'kind' (expected 'kind: playground')");
	else if (yread_string(r->d, v, "kind", "'playground'", &s) &&
		 strcmp(s, "playground") != 0)
		yread_err(r->d, v, "kind", "expected 'playground', got '%s'", s);

	if ((v = yread_get_present(root, "title")) &&
	    yread_string(r->d, v, "title", "a string", &s)) {
		r->m->title = strdup(s);
		if (!r->m->title)
			return -ENOMEM;
	}
	if ((v = yread_get_present(root, "name")) && yread_string(r->d, v, "name", "a playground name", &s)) {
		if (!naming_valid_playground(s))
			yread_err(r->d, v, "name",
				  "'%.64s' is not a playground name (1 to %d characters of a-z, 0-9 and '-', starting with a letter or digit)",
				  s, NAMING_PLAYGROUND_MAX);
		else if (!(r->m->name = strdup(s)))
			return -ENOMEM;
		r->m->name_pos = pos_of(v);
	}

	const struct ytree_node *pg = yread_get_present(root, "playground");
	if (!pg) {
		yread_err(r->d, root, "manifest", "missing required key 'playground' (a mapping with networks and machines)");
		return 0;
	}
	if (!yread_kind(r->d, pg, "playground", YTREE_MAP, "a mapping with networks and machines"))
		return 0;
	static const char *const playground_keys[] = { "networks", "machines", "initTasks", "tasks" };
	yread_keys(r->d, pg, "playground", playground_keys, ARRAY_SIZE(playground_keys), false);

	int e = read_networks(r, pg);
	if (e < 0)
		return e;
	bool had_networks = r->m->n_networks > 0 || r->networks_broken;
	const struct ytree_node *machines;
	e = read_machines(r, pg, &machines);
	if (e < 0)
		return e;
	if (machines)
		check_machine_names(r, machines);
	if (!had_networks && (e = default_interfaces(r->m)) < 0)
		return e;
	for (size_t i = 0; had_networks && i < r->m->n_machines; i++) {
		const struct manifest_machine *mc = &r->m->machines[i];
		if (!mc->n_interfaces)
			diag_warn(r->d, mc->pos.line, mc->pos.column,
				  "playground.machines[%zu]: machine %s has no interfaces, so no network card: networks are defined, and a machine is only on those its 'network.interfaces' names",
				  i, mc->name);
	}
	if ((e = resolve_interface_networks(r, had_networks)) < 0)
		return e;
	check_macs(r);
	manifest_check_forwards(r->m, r->d);
	return machines ? manifest_read_tasks(r->d, pg, r->m) : 0;
}

int manifest_parse(const char *buf, size_t len,
		   const struct manifest_limits *lim, struct manifest *m,
		   struct diag *d)
{
	memset(m, 0, sizeof(*m));
	if (len > MANIFEST_MAX_BYTES) {
		diag_add(d, 0, 0, "manifest too large: %zu bytes (the limit is %d)",
			 len, MANIFEST_MAX_BYTES);
		return -EINVAL;
	}
	struct ytree t;
	const struct ytree_limits ylim = YTREE_LIMITS_DEFAULT;
	int e = ytree_parse(buf, len, &ylim, &t, d);
	if (e < 0)
		return e;

	struct reader r = { .d = d, .lim = lim, .m = m };
	e = read_top(&r, t.root);
	ytree_free(&t);
	if (e == 0 && !diag_failed(d))
		e = manifest_assign_addresses(m, d);
	if (e == 0 && diag_failed(d))
		e = -EINVAL;
	if (e < 0)
		manifest_free(m);
	return e;
}

int manifest_parse_impair(const char *buf, size_t len, struct manifest_impair *im,
			  struct diag *d)
{
	memset(im, 0, sizeof(*im));
	struct ytree t;
	const struct ytree_limits ylim = { .max_depth = 4, .max_nodes = 64, .max_anchors = 0 };
	int e = ytree_parse(buf, len, &ylim, &t, d);
	if (e < 0)
		return e;
	struct reader r = { .d = d };
	if (!t.root)
		diag_add(d, 0, 0, "impair: expected a mapping (delay, jitter, loss, rate, duplicate, reorder, corrupt)");
	else
		read_impair(&r, t.root, "impair", im);
	ytree_free(&t);
	return diag_failed(d) ? -EINVAL : 0;
}

int manifest_read_file(const char *path, char **out, size_t *out_len,
		       struct diag *d)
{
	*out = NULL;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		diag_add(d, 0, 0, "cannot open: %s", strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		diag_add(d, 0, 0, "cannot read: %s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_add(d, 0, 0, "not a regular file");
		return -EINVAL;
	}
	/* Read one byte past the limit so an oversized file is caught even
	 * when st_size lies (procfs, a file growing under us). */
	size_t cap = MANIFEST_MAX_BYTES + 1, len = 0;
	cleanup_free char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			diag_add(d, 0, 0, "cannot read: %s", strerror(e));
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			diag_add(d, 0, 0, "manifest too large: more than %d bytes",
				 MANIFEST_MAX_BYTES);
			return -EINVAL;
		}
	}
	buf[len] = '\0';
	*out = steal_ptr(buf);
	*out_len = len;
	return 0;
}

int manifest_load(const char *path, const struct manifest_limits *lim,
		  struct manifest *m, struct diag *d)
{
	memset(m, 0, sizeof(*m));
	cleanup_free char *buf = NULL;
	size_t len;
	int e = manifest_read_file(path, &buf, &len, d);
	if (e < 0)
		return e;
	return manifest_parse(buf, len, lim, m, d);
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n_machines; i++) {
		struct manifest_machine *mc = &m->machines[i];
		for (size_t j = 0; j < mc->n_drives; j++)
			free(mc->drives[j].source);
		free(mc->drives);
		free(mc->interfaces);
	}
	manifest_tasks_free(m);
	free(m->machines);
	free(m->networks);
	free(m->title);
	free(m->name);
	memset(m, 0, sizeof(*m));
}
