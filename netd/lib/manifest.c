#define _GNU_SOURCE
#include "manifest.h"

#include "mac.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam.h"
#include "naming.h"
#include "util.h"
#include "ytree.h"

#define PATH_LEN 128

struct reader {
	struct diag *d;
	const struct manifest_limits *lim;
	struct manifest *m;
	/* The networks section had errors: references to networks are not
	 * checked, as they would only repeat them. */
	bool networks_broken;
};

static void __attribute__((format(printf, 4, 5)))
err_at(struct reader *r, const struct ytree_node *n, const char *path,
       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(r->d, n ? n->line : 0, n ? n->column : 0, "%s: %s", path, msg);
}

/* Field paths for messages; a path cut short still reads well enough. */
static void __attribute__((format(printf, 2, 3)))
pathf(char buf[PATH_LEN], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, PATH_LEN, fmt, ap);
	va_end(ap);
}

static struct manifest_pos pos_of(const struct ytree_node *n)
{
	return (struct manifest_pos){ n->line, n->column };
}

/* Keys and typo hints */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return SIZE_MAX;
	size_t row[33];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) ==
						      tolower((unsigned char)b[j - 1])
					      ? 0
					      : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void join_keys(const char *const *keys, size_t n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i]);
	}
}

/*
 * Checks the keys of a mapping: each a scalar, none twice, and, when strict,
 * each one of the allowed keys. Returns false if anything was wrong.
 */
static bool check_keys(struct reader *r, const struct ytree_node *map,
		       const char *path, const char *const *allowed,
		       size_t n_allowed, bool strict)
{
	bool ok = true;
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ytree_node *k = map->items[i];
		if (k->kind != YTREE_SCALAR) {
			err_at(r, k, path, "keys must be plain strings, not %s",
			       ytree_kind_name(k->kind));
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			const struct ytree_node *prev = map->items[j];
			if (prev->kind == YTREE_SCALAR &&
			    strcmp(prev->value, k->value) == 0) {
				err_at(r, k, path,
				       "duplicate key '%s' (first at line %d)",
				       k->value, prev->line);
				ok = false;
				break;
			}
		}
		if (!strict && !n_allowed)
			continue;
		size_t best = SIZE_MAX, best_i = 0;
		bool known = false;
		for (size_t j = 0; j < n_allowed; j++) {
			if (strcmp(k->value, allowed[j]) == 0) {
				known = true;
				break;
			}
			size_t dist = edit_distance(k->value, allowed[j]);
			if (dist < best) {
				best = dist;
				best_i = j;
			}
		}
		if (known)
			continue;
		/* Not strict (labctl's keys are kept): only a near miss of a
		 * key that playnet reads is an error, as it would silently
		 * lose what the user meant. */
		if (!strict) {
			if (best > 2 || strlen(k->value) < 4)
				continue;
			err_at(r, k, path, "unknown key '%s' (did you mean '%s'?)", k->value,
			       allowed[best_i]);
			ok = false;
			continue;
		}
		char list[256];
		join_keys(allowed, n_allowed, list, sizeof(list));
		if (best <= 2)
			err_at(r, k, path,
			       "unknown key '%s' (did you mean '%s'? expected one of: %s)",
			       k->value, allowed[best_i], list);
		else
			err_at(r, k, path, "unknown key '%s' (expected one of: %s)",
			       k->value, list);
		ok = false;
	}
	return ok;
}

static const struct ytree_node *map_get(const struct ytree_node *map,
					const char *key)
{
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ytree_node *k = map->items[i];
		if (k->kind == YTREE_SCALAR && strcmp(k->value, key) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

/* A YAML null (empty value, ~, null) counts as the key being absent. */
static bool is_null(const struct ytree_node *n)
{
	if (!n || n->kind != YTREE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->value, "~") == 0 ||
	       strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	       strcmp(n->value, "NULL") == 0;
}

static const struct ytree_node *map_get_present(const struct ytree_node *map,
						const char *key)
{
	const struct ytree_node *v = map_get(map, key);
	return is_null(v) ? NULL : v;
}

/* Typed scalar readers: each reports its own error and returns false. */

static bool want_kind(struct reader *r, const struct ytree_node *n,
		      const char *path, enum ytree_kind kind, const char *what)
{
	if (n->kind == kind)
		return true;
	err_at(r, n, path, "expected %s, got %s", what, ytree_kind_name(n->kind));
	return false;
}

static bool read_string(struct reader *r, const struct ytree_node *n,
			const char *path, const char *what, const char **out)
{
	if (!want_kind(r, n, path, YTREE_SCALAR, what))
		return false;
	if (strlen(n->value) != n->len) {
		err_at(r, n, path, "expected %s, got a string with a NUL byte",
		       what);
		return false;
	}
	*out = n->value;
	return true;
}

static bool read_bool(struct reader *r, const struct ytree_node *n,
		      const char *path, bool *out)
{
	if (!want_kind(r, n, path, YTREE_SCALAR, "true or false"))
		return false;
	if (n->plain) {
		if (!strcmp(n->value, "true") || !strcmp(n->value, "True") ||
		    !strcmp(n->value, "TRUE")) {
			*out = true;
			return true;
		}
		if (!strcmp(n->value, "false") || !strcmp(n->value, "False") ||
		    !strcmp(n->value, "FALSE")) {
			*out = false;
			return true;
		}
	}
	err_at(r, n, path, "expected true or false, got '%s'", n->value);
	return false;
}

static bool parse_uint64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool read_uint(struct reader *r, const struct ytree_node *n,
		      const char *path, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	if (!want_kind(r, n, path, YTREE_SCALAR, "a whole number"))
		return false;
	uint64_t v;
	if (!n->plain || !parse_uint64(n->value, &v)) {
		err_at(r, n, path, "expected a whole number from %" PRIu64
		       " to %" PRIu64 ", got '%s'", min, max, n->value);
		return false;
	}
	if (v < min || v > max) {
		err_at(r, n, path, "%" PRIu64 " is out of range (%" PRIu64
		       " to %" PRIu64 ")", v, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool read_addr(struct reader *r, const struct ytree_node *n,
		      const char *path, uint32_t *out)
{
	const char *s;
	if (!read_string(r, n, path, "an IPv4 address", &s))
		return false;
	if (ipam_parse_addr(s, out))
		return true;
	err_at(r, n, path, "expected an IPv4 address such as 10.0.0.1, got '%s'", s);
	return false;
}

/* An address, or one with a prefix as labctl writes them ("10.0.0.5/24"):
 * the prefix, checked against the network's once that is known. */
static bool read_addr_prefix(struct reader *r, const struct ytree_node *n, const char *path,
			     uint32_t *out, uint8_t *prefix)
{
	const char *s;
	if (!read_string(r, n, path, "an IPv4 address", &s))
		return false;
	const char *slash = strchr(s, '/');
	char a[IPAM_ADDR_STRLEN];
	if (!slash) {
		*prefix = 0;
		return read_addr(r, n, path, out);
	}
	char *end;
	unsigned long pl = strtoul(slash + 1, &end, 10);
	size_t alen = (size_t)(slash - s);
	bool ok = alen < sizeof(a) && isdigit((unsigned char)slash[1]) && !*end && pl >= 1 &&
		  pl <= 32;
	if (ok) {
		memcpy(a, s, alen);
		a[alen] = '\0';
		ok = ipam_parse_addr(a, out);
	}
	if (!ok) {
		err_at(r, n, path, "expected an IPv4 address such as 10.0.0.5 or 10.0.0.5/24, got '%s'", s);
		return false;
	}
	*prefix = (uint8_t)pl;
	return true;
}

/*
 * "<number>[.<fraction>]<unit>" with the unit's multiplier from a table.
 * Used for durations, sizes, rates and percentages.
 */
struct unit {
	const char *suffix;
	double mult;
};

static bool parse_with_unit(const char *s, const struct unit *units,
			    size_t n_units, double *out)
{
	if (!isdigit((unsigned char)s[0]))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !isfinite(v) || v < 0)
		return false;
	for (size_t i = 0; i < n_units; i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			*out = v * units[i].mult;
			return true;
		}
	}
	return false;
}

static bool read_unit(struct reader *r, const struct ytree_node *n,
		      const char *path, const struct unit *units,
		      size_t n_units, const char *expected, double max,
		      double *out)
{
	const char *s;
	if (!read_string(r, n, path, expected, &s))
		return false;
	double v;
	if (!parse_with_unit(s, units, n_units, &v)) {
		err_at(r, n, path, "expected %s, got '%s'", expected, s);
		return false;
	}
	if (v > max) {
		err_at(r, n, path, "'%s' is too large", s);
		return false;
	}
	*out = v;
	return true;
}

static const struct unit duration_units[] = {
	{ "us", 1 }, { "ms", 1e3 }, { "s", 1e6 },
};
static const struct unit rate_units[] = {
	{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
	{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 },
};
static const struct unit percent_units[] = { { "%", 1e4 }, { "", 1e4 } };
static const struct unit size_units[] = {
	{ "", 1 },
	{ "k", 1024.0 }, { "ki", 1024.0 }, { "kb", 1024.0 }, { "kib", 1024.0 },
	{ "m", 1048576.0 }, { "mi", 1048576.0 }, { "mb", 1048576.0 }, { "mib", 1048576.0 },
	{ "g", 1073741824.0 }, { "gi", 1073741824.0 }, { "gb", 1073741824.0 }, { "gib", 1073741824.0 },
	{ "t", 1099511627776.0 }, { "ti", 1099511627776.0 }, { "tb", 1099511627776.0 }, { "tib", 1099511627776.0 },
};

bool manifest_parse_rate(const char *s, uint64_t *bps)
{
	double v;
	if (!parse_with_unit(s, rate_units, ARRAY_SIZE(rate_units), &v) || v < 8000 || v > 1e12)
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
	if (!read_string(r, v, path, "an IPv4 CIDR", &s))
		return;
	uint32_t a;
	uint8_t prefix;
	if (!ipam_parse_cidr(s, &a, &prefix)) {
		err_at(r, v, path,
		       "expected an IPv4 CIDR such as 10.0.0.0/24, got '%s'", s);
		return;
	}
	if (prefix < 8 || prefix > 30) {
		err_at(r, v, path, "prefix /%u is out of range (/8 to /30)", prefix);
		return;
	}
	if (a & ~ipam_mask(prefix)) {
		char fixed[IPAM_CIDR_STRLEN];
		ipam_format_cidr(a & ipam_mask(prefix), prefix, fixed);
		err_at(r, v, path, "'%s' has host bits set (did you mean %s?)", s,
		       fixed);
		return;
	}
	const char *special = manifest_subnet_special(a, prefix);
	if (special) {
		err_at(r, v, path, "'%s' is %s, not a subnet a network can use", s, special);
		return;
	}
	net->subnet = a;
	net->prefix = prefix;
	net->valid = true;
}

static void read_network_dns(struct reader *r, const struct ytree_node *v,
			     const char *path, struct manifest_network *net)
{
	if (!want_kind(r, v, path, YTREE_SEQ, "a list of IPv4 addresses"))
		return;
	if (v->n > MANIFEST_MAX_DNS) {
		err_at(r, v, path, "at most %d DNS servers, got %zu",
		       MANIFEST_MAX_DNS, v->n);
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		char p[PATH_LEN];
		pathf(p, "%s[%zu]", path, i);
		if (read_addr(r, v->items[i], p, &net->dns[net->n_dns]))
			net->n_dns++;
	}
}

static void read_network(struct reader *r, const struct ytree_node *n,
			 size_t idx, struct manifest_network *net)
{
	char path[PATH_LEN], p[PATH_LEN];
	pathf(path, "playground.networks[%zu]", idx);
	net->pos = pos_of(n);
	if (!want_kind(r, n, path, YTREE_MAP, "a network (a mapping with name and subnet)"))
		return;
	check_keys(r, n, path, network_keys, ARRAY_SIZE(network_keys), true);

	const struct ytree_node *v;
	const char *s;
	pathf(p, "%s.name", path);
	if (!(v = map_get_present(n, "name")))
		err_at(r, n, path, "missing required key 'name' (a network name such as net-1)");
	else if (read_string(r, v, p, "a network name", &s)) {
		if (!manifest_valid_network_name(s))
			err_at(r, v, p,
			       "invalid network name '%s': expected at most %d characters of a-z, 0-9 and '-', starting with a letter or digit",
			       s, MANIFEST_NAME_MAX);
		else
			strcpy(net->name, s);
	}

	pathf(p, "%s.subnet", path);
	if (!(v = map_get_present(n, "subnet")))
		err_at(r, n, path, "missing required key 'subnet' (an IPv4 CIDR such as 10.0.0.0/24)");
	else
		read_network_subnet(r, v, p, net);

	pathf(p, "%s.private", path);
	if ((v = map_get_present(n, "private")))
		read_bool(r, v, p, &net->private_net);

	pathf(p, "%s.vlans", path);
	if ((v = map_get_present(n, "vlans")))
		read_bool(r, v, p, &net->vlans);

	pathf(p, "%s.gateway", path);
	if ((v = map_get_present(n, "gateway")) &&
	    read_addr(r, v, p, &net->gateway)) {
		net->has_gateway = true;
		net->gateway_pos = pos_of(v);
	}

	uint64_t u;
	pathf(p, "%s.mtu", path);
	if ((v = map_get_present(n, "mtu")) && read_uint(r, v, p, 576, 9000, &u))
		net->mtu = (unsigned)u;

	pathf(p, "%s.dns", path);
	if ((v = map_get_present(n, "dns")))
		read_network_dns(r, v, p, net);
}

/* Rules that relate a network to itself and to the others. */
static void check_network(struct reader *r, const struct ytree_node *n,
			  size_t idx)
{
	struct manifest_network *net = &r->m->networks[idx];
	char path[PATH_LEN];
	pathf(path, "playground.networks[%zu]", idx);
	const struct ytree_node *namev = map_get(n, "name");

	for (size_t j = 0; net->name[0] && j < idx; j++) {
		if (strcmp(r->m->networks[j].name, net->name) == 0) {
			char p[PATH_LEN];
			pathf(p, "%s.name", path);
			err_at(r, namev, p,
			       "duplicate network name '%s' (first defined at line %d)",
			       net->name, r->m->networks[j].pos.line);
			break;
		}
	}
	const struct ytree_node *subv = map_get(n, "subnet");
	for (size_t j = 0; net->valid && j < idx; j++) {
		const struct manifest_network *o = &r->m->networks[j];
		if (!o->valid ||
		    !ipam_overlap(net->subnet, net->prefix, o->subnet, o->prefix))
			continue;
		char p[PATH_LEN], c[IPAM_CIDR_STRLEN];
		pathf(p, "%s.subnet", path);
		ipam_format_cidr(o->subnet, o->prefix, c);
		err_at(r, subv, p, "overlaps the subnet %s of network '%s'", c,
		       o->name);
		net->valid = false;
		break;
	}

	const struct ytree_node *gwv = map_get_present(n, "gateway");
	if (gwv && net->has_gateway) {
		char p[PATH_LEN];
		pathf(p, "%s.gateway", path);
		if (net->private_net) {
			err_at(r, gwv, p,
			       "a private network has no gateway (the fabric holds no address on it)");
		} else if (net->valid) {
			char a[IPAM_ADDR_STRLEN], c[IPAM_CIDR_STRLEN];
			ipam_format_addr(net->gateway, a);
			ipam_format_cidr(net->subnet, net->prefix, c);
			if (!ipam_contains(net->subnet, net->prefix, net->gateway))
				err_at(r, gwv, p, "%s is outside the subnet %s", a, c);
			else if (net->gateway == net->subnet)
				err_at(r, gwv, p, "%s is the network address of %s", a, c);
			else if (net->gateway == ipam_broadcast(net->subnet, net->prefix))
				err_at(r, gwv, p, "%s is the broadcast address of %s", a, c);
		}
	}
	const struct ytree_node *dnsv = map_get_present(n, "dns");
	if (dnsv && net->private_net) {
		char p[PATH_LEN];
		pathf(p, "%s.dns", path);
		err_at(r, dnsv, p,
		       "DNS servers are only handed out on networks that are not private");
	}
}

static int read_networks(struct reader *r, const struct ytree_node *pg)
{
	const struct ytree_node *nets = map_get_present(pg, "networks");
	if (!nets)
		return 0;
	const char *path = "playground.networks";
	size_t errors_before = r->d->count + r->d->dropped;
	r->networks_broken = true;
	if (!want_kind(r, nets, path, YTREE_SEQ, "a list of networks"))
		return 0;
	if (nets->n > r->lim->max_networks) {
		err_at(r, nets, path, "too many networks: %zu (the limit is %zu)",
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
static const char *const impair_keys[] = { "delay", "jitter", "loss", "rate" };

static void read_interface_mac(struct reader *r, const struct ytree_node *v,
			       const char *path, struct manifest_interface *ifc)
{
	const char *s;
	if (!read_string(r, v, path, "a MAC address", &s))
		return;
	uint8_t mac[6];
	if (!mac_parse(s, mac)) {
		err_at(r, v, path,
		       "expected a MAC address such as 02:00:00:00:00:01, got '%s'", s);
		return;
	}
	if (mac[0] & 1) {
		err_at(r, v, path, "%s is a multicast address; a machine needs a unicast MAC", s);
		return;
	}
	static const uint8_t zero[6];
	if (!memcmp(mac, zero, 6)) {
		err_at(r, v, path, "00:00:00:00:00:00 is not a usable MAC");
		return;
	}
	memcpy(ifc->mac, mac, 6);
	ifc->has_mac = true;
	ifc->mac_pos = pos_of(v);
}

static void read_guard(struct reader *r, const struct ytree_node *v,
		       const char *path, struct manifest_guard *g)
{
	if (!want_kind(r, v, path, YTREE_MAP, "a mapping (ipSource, dhcpServer)"))
		return;
	check_keys(r, v, path, guard_keys, ARRAY_SIZE(guard_keys), true);
	char p[PATH_LEN];
	const struct ytree_node *x;
	pathf(p, "%s.ipSource", path);
	if ((x = map_get_present(v, "ipSource")))
		read_bool(r, x, p, &g->ip_source);
	pathf(p, "%s.dhcpServer", path);
	if ((x = map_get_present(v, "dhcpServer")))
		read_bool(r, x, p, &g->dhcp_server);
}

static void read_impair(struct reader *r, const struct ytree_node *v,
			const char *path, struct manifest_impair *im)
{
	if (!want_kind(r, v, path, YTREE_MAP, "a mapping (delay, jitter, loss, rate)"))
		return;
	check_keys(r, v, path, impair_keys, ARRAY_SIZE(impair_keys), true);
	char p[PATH_LEN];
	const struct ytree_node *x;
	double d;
	im->set = true;
	pathf(p, "%s.delay", path);
	if ((x = map_get_present(v, "delay")) &&
	    read_unit(r, x, p, duration_units, ARRAY_SIZE(duration_units),
		      "a duration such as 20ms", 60e6, &d))
		im->delay_us = (uint32_t)d;
	pathf(p, "%s.jitter", path);
	if ((x = map_get_present(v, "jitter")) &&
	    read_unit(r, x, p, duration_units, ARRAY_SIZE(duration_units),
		      "a duration such as 5ms", 60e6, &d)) {
		im->jitter_us = (uint32_t)d;
		if (!map_get_present(v, "delay"))
			err_at(r, x, p, "jitter needs a delay to vary around");
	}
	pathf(p, "%s.loss", path);
	if ((x = map_get_present(v, "loss")) &&
	    read_unit(r, x, p, percent_units, ARRAY_SIZE(percent_units),
		      "a percentage such as 1%", 1e6, &d))
		im->loss_ppm = (uint32_t)d;
	pathf(p, "%s.rate", path);
	if ((x = map_get_present(v, "rate")) &&
	    read_unit(r, x, p, rate_units, ARRAY_SIZE(rate_units),
		      "a rate such as 10mbit", 1e12, &d)) {
		im->rate_bps = (uint64_t)d;
		if (im->rate_bps < 8000)
			err_at(r, x, p, "rate must be at least 8kbit");
	}
}

static void read_interface(struct reader *r, const struct ytree_node *n,
			   const char *path, struct manifest_interface *ifc)
{
	ifc->pos = pos_of(n);
	ifc->network_index = SIZE_MAX;
	if (!want_kind(r, n, path, YTREE_MAP, "an interface (a mapping with network)"))
		return;
	check_keys(r, n, path, interface_keys, ARRAY_SIZE(interface_keys), true);

	char p[PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	pathf(p, "%s.network", path);
	if (!(v = map_get_present(n, "network")))
		err_at(r, n, path, "missing required key 'network' (the name of a network)");
	else if (read_string(r, v, p, "a network name", &s)) {
		ifc->network_pos = pos_of(v);
		if (strlen(s) > MANIFEST_NAME_MAX) {
			if (!r->networks_broken)
				err_at(r, v, p,
				       "unknown network '%.32s...' (network names are at most %d characters)",
				       s, MANIFEST_NAME_MAX);
		} else
			strcpy(ifc->network, s);
	}

	pathf(p, "%s.address", path);
	if ((v = map_get_present(n, "address")) &&
	    read_addr_prefix(r, v, p, &ifc->address, &ifc->address_prefix)) {
		ifc->has_address = true;
		ifc->address_pos = pos_of(v);
	}

	pathf(p, "%s.mac", path);
	if ((v = map_get_present(n, "mac")))
		read_interface_mac(r, v, p, ifc);

	pathf(p, "%s.guard", path);
	if ((v = map_get_present(n, "guard")))
		read_guard(r, v, p, &ifc->guard);

	pathf(p, "%s.impair", path);
	if ((v = map_get_present(n, "impair")))
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
	if (!want_kind(r, netv, path, YTREE_MAP, "a mapping with 'interfaces'"))
		return 0;
	check_keys(r, netv, path, network_keys_machine, 1, true);
	const struct ytree_node *ifs = map_get_present(netv, "interfaces");
	if (!ifs)
		return 0;
	char p[PATH_LEN];
	pathf(p, "%s.interfaces", path);
	if (!want_kind(r, ifs, p, YTREE_SEQ, "a list of interfaces"))
		return 0;
	if (ifs->n > r->lim->max_interfaces) {
		err_at(r, ifs, p, "too many interfaces: %zu (the limit is %zu)",
		       ifs->n, r->lim->max_interfaces);
		return 0;
	}
	mc->interfaces = calloc(ifs->n ? ifs->n : 1, sizeof(*mc->interfaces));
	if (!mc->interfaces)
		return -ENOMEM;
	mc->n_interfaces = ifs->n;
	for (size_t i = 0; i < ifs->n; i++) {
		char ip[PATH_LEN];
		pathf(ip, "%s[%zu]", p, i);
		read_interface(r, ifs->items[i], ip, &mc->interfaces[i]);
	}
	return 0;
}

static void read_resources(struct reader *r, const struct ytree_node *v,
			   const char *path, struct manifest_machine *mc)
{
	if (!want_kind(r, v, path, YTREE_MAP, "a mapping (cpuCount, ramSize)"))
		return;
	/* labctl has more resource keys than the fabric uses: not strict. */
	check_keys(r, v, path, NULL, 0, false);
	char p[PATH_LEN];
	const struct ytree_node *x;
	uint64_t u;
	pathf(p, "%s.cpuCount", path);
	if ((x = map_get_present(v, "cpuCount")) && read_uint(r, x, p, 1, 256, &u))
		mc->cpu_count = (unsigned)u;
	pathf(p, "%s.ramSize", path);
	double d;
	if ((x = map_get_present(v, "ramSize")) &&
	    read_unit(r, x, p, size_units, ARRAY_SIZE(size_units),
		      "a size such as 512M or 4G", (double)MANIFEST_RAM_MAX, &d)) {
		if (d < (double)MANIFEST_RAM_MIN)
			err_at(r, x, p, "at least 16M of memory is needed");
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

int manifest_drive_kind_parse(const char *s, enum manifest_drive_kind *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(drive_kinds); i++)
		if (strcmp(s, drive_kinds[i]) == 0) {
			*k = (enum manifest_drive_kind)i;
			return 0;
		}
	return -EINVAL;
}

static int read_drive(struct reader *r, const struct ytree_node *n,
		      const char *path, struct manifest_drive *dr)
{
	dr->pos = pos_of(n);
	if (!want_kind(r, n, path, YTREE_MAP, "a drive (a mapping with source)"))
		return 0;
	/* labctl's drives carry mount, size and more: kept, not checked. */
	check_keys(r, n, path, NULL, 0, false);
	char p[PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	pathf(p, "%s.source", path);
	if (!(v = map_get_present(n, "source")))
		err_at(r, n, path, "missing required key 'source' (a kernel, initramfs or disk image)");
	else if (read_string(r, v, p, "a path", &s)) {
		if (!*s)
			err_at(r, v, p, "expected a path, got an empty string");
		else if (strlen(s) > MANIFEST_SOURCE_MAX)
			err_at(r, v, p, "a source has at most %d characters", MANIFEST_SOURCE_MAX);
		else if (!(dr->source = strdup(s)))
			return -ENOMEM;
	}
	pathf(p, "%s.kind", path);
	if (!(v = map_get_present(n, "kind")) || !read_string(r, v, p, "a drive kind", &s))
		return 0;
	if (manifest_drive_kind_parse(s, &dr->kind) < 0)
		err_at(r, v, p, "expected kernel, initrd, disk or auto, got '%s'", s);
	return 0;
}

static int read_drives(struct reader *r, const struct ytree_node *v,
		       const char *path, struct manifest_machine *mc)
{
	if (!want_kind(r, v, path, YTREE_SEQ, "a list of drives"))
		return 0;
	if (v->n > MANIFEST_MAX_DRIVES) {
		err_at(r, v, path, "at most %d drives, got %zu", MANIFEST_MAX_DRIVES, v->n);
		return 0;
	}
	mc->drives = calloc(v->n ? v->n : 1, sizeof(*mc->drives));
	if (!mc->drives)
		return -ENOMEM;
	mc->n_drives = v->n;
	for (size_t i = 0; i < v->n; i++) {
		char p[PATH_LEN];
		pathf(p, "%s[%zu]", path, i);
		if (read_drive(r, v->items[i], p, &mc->drives[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int read_machine(struct reader *r, const struct ytree_node *n, size_t idx,
			struct manifest_machine *mc)
{
	char path[PATH_LEN], p[PATH_LEN];
	pathf(path, "playground.machines[%zu]", idx);
	mc->pos = pos_of(n);
	if (!want_kind(r, n, path, YTREE_MAP, "a machine (a mapping with name)"))
		return 0;
	/* Unknown keys in machines are labctl's (users, drives, ...): kept,
	 * unless they are a near miss of one that is read. */
	static const char *const machine_keys[] = {
		"name", "network", "resources", "drives", "runtime", "users",
	};
	check_keys(r, n, path, machine_keys, ARRAY_SIZE(machine_keys), false);

	const struct ytree_node *v;
	const char *s;
	pathf(p, "%s.name", path);
	if (!(v = map_get_present(n, "name")))
		err_at(r, n, path, "missing required key 'name' (a host name such as leaf-01)");
	else if (read_string(r, v, p, "a host name", &s)) {
		if (!manifest_valid_hostname(s))
			err_at(r, v, p,
			       "invalid machine name '%s': expected a host name of at most %d characters of a-z, A-Z, 0-9 and '-', not starting or ending with '-'",
			       s, MANIFEST_HOSTNAME_MAX);
		else
			strcpy(mc->name, s);
	}

	pathf(p, "%s.runtime", path);
	if ((v = map_get_present(n, "runtime")) &&
	    read_string(r, v, p, "vm or netns", &s)) {
		if (strcmp(s, "vm") == 0)
			mc->runtime = MANIFEST_RUNTIME_VM;
		else if (strcmp(s, "netns") == 0)
			mc->runtime = MANIFEST_RUNTIME_NETNS;
		else
			err_at(r, v, p, "expected vm or netns, got '%s'", s);
	}

	pathf(p, "%s.resources", path);
	if ((v = map_get_present(n, "resources")))
		read_resources(r, v, p, mc);

	pathf(p, "%s.drives", path);
	if ((v = map_get_present(n, "drives")) && read_drives(r, v, p, mc) < 0)
		return -ENOMEM;

	pathf(p, "%s.network", path);
	if ((v = map_get_present(n, "network")))
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
			char p[PATH_LEN];
			pathf(p, "playground.machines[%zu].name", i);
			err_at(r, map_get(seq->items[i], "name"), p,
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
	const struct ytree_node *ms = map_get_present(pg, "machines");
	const char *path = "playground.machines";
	*seq_out = NULL;
	if (!ms) {
		err_at(r, pg, "playground", "missing required key 'machines' (a list of machines)");
		return 0;
	}
	if (!want_kind(r, ms, path, YTREE_SEQ, "a list of machines"))
		return 0;
	if (ms->n == 0) {
		err_at(r, ms, path, "expected at least one machine");
		return 0;
	}
	if (ms->n > r->lim->max_machines) {
		err_at(r, ms, path, "too many machines: %zu (the limit is %zu)",
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
	if (!want_kind(r, root, "manifest", YTREE_MAP,
		       "a mapping with 'kind' and 'playground'"))
		return 0;
	static const char *const root_keys[] = { "kind", "title", "name", "playground" };
	check_keys(r, root, "manifest", root_keys, ARRAY_SIZE(root_keys), false);

	const struct ytree_node *v;
	const char *s;
	if (!(v = map_get_present(root, "kind")))
		err_at(r, root, "manifest", "missing required key 'kind' (expected 'kind: playground')");
	else if (read_string(r, v, "kind", "'playground'", &s) &&
		 strcmp(s, "playground") != 0)
		err_at(r, v, "kind", "expected 'playground', got '%s'", s);

	if ((v = map_get_present(root, "title")) &&
	    read_string(r, v, "title", "a string", &s)) {
		r->m->title = strdup(s);
		if (!r->m->title)
			return -ENOMEM;
	}
	if ((v = map_get_present(root, "name")) && read_string(r, v, "name", "a playground name", &s)) {
		if (!naming_valid_playground(s))
			err_at(r, v, "name",
			       "'%.64s' is not a playground name (1 to %d characters of a-z, 0-9 and '-', starting with a letter or digit)",
			       s, NAMING_PLAYGROUND_MAX);
		else if (!(r->m->name = strdup(s)))
			return -ENOMEM;
		r->m->name_pos = pos_of(v);
	}

	const struct ytree_node *pg = map_get_present(root, "playground");
	if (!pg) {
		err_at(r, root, "manifest", "missing required key 'playground' (a mapping with networks and machines)");
		return 0;
	}
	if (!want_kind(r, pg, "playground", YTREE_MAP, "a mapping with networks and machines"))
		return 0;
	static const char *const playground_keys[] = { "networks", "machines" };
	check_keys(r, pg, "playground", playground_keys, ARRAY_SIZE(playground_keys), false);

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
	return 0;
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
		e = ipam_assign(m, d);
	if (e == 0 && diag_failed(d))
		e = -EINVAL;
	if (e < 0)
		manifest_free(m);
	return e;
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
	free(m->machines);
	free(m->networks);
	free(m->title);
	free(m->name);
	memset(m, 0, sizeof(*m));
}
