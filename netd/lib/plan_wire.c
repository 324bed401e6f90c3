#define _GNU_SOURCE
#include "plan_wire.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "mac.h"
#include "plan_json.h"
#include "util.h"

/* --- Writing ------------------------------------------------------------ */

static struct json_object *addr_json(uint32_t a)
{
	char s[IPAM_ADDR_STRLEN];
	ipam_format_addr(a, s);
	return json_object_new_string(s);
}

static struct json_object *network_json(const struct plan_network *n)
{
	char c[IPAM_CIDR_STRLEN];
	ipam_format_cidr(n->subnet, n->prefix, c);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "subnet", json_object_new_string(c));
	json_object_object_add(o, "private", json_object_new_boolean(n->private_net));
	json_object_object_add(o, "vlans", json_object_new_boolean(n->vlans));
	json_object_object_add(o, "gateway", n->has_gateway ? addr_json(n->gateway) : NULL);
	json_object_object_add(o, "mtu", json_object_new_int((int)n->mtu));
	struct json_object *dns = json_object_new_array();
	for (size_t i = 0; i < n->n_dns; i++)
		json_object_array_add(dns, addr_json(n->dns[i]));
	json_object_object_add(o, "dns", dns);
	return o;
}

static struct json_object *interface_json(const struct plan_interface *ifc)
{
	char mac[MAC_STRLEN];
	mac_format(ifc->mac, mac);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "network", json_object_new_int64((int64_t)ifc->network));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "address", addr_json(ifc->address));
	json_object_object_add(o, "ipSource", json_object_new_boolean(ifc->guard.ip_source));
	json_object_object_add(o, "dhcpServer", json_object_new_boolean(ifc->guard.dhcp_server));
	json_object_object_add(o, "linkDown", json_object_new_boolean(ifc->link_down));
	json_object_object_add(o, "impair", plan_impair_json(&ifc->impair));
	return o;
}

static struct json_object *machine_json(const struct plan_machine *mc)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(mc->name));
	json_object_object_add(o, "runtime", json_object_new_string(plan_runtime_name(mc->runtime)));
	json_object_object_add(o, "cpuCount", json_object_new_int((int)mc->cpu_count));
	json_object_object_add(o, "ramBytes", json_object_new_int64((int64_t)mc->ram_bytes));
	if (mc->user[0])
		json_object_object_add(o, "user", json_object_new_string(mc->user));
	struct json_object *drives = json_object_new_array();
	for (size_t i = 0; i < mc->n_drives; i++) {
		const struct manifest_drive *dr = &mc->drives[i];
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "source", dr->source ? json_object_new_string(dr->source) : NULL);
		json_object_object_add(d, "kind", json_object_new_string(manifest_drive_kind_name(dr->kind)));
		json_object_object_add(d, "mount", json_object_new_string(dr->mount));
		json_object_object_add(d, "size", json_object_new_int64((int64_t)dr->size));
		json_object_object_add(d, "filesystem", json_object_new_string(manifest_fs_name(dr->filesystem)));
		json_object_array_add(drives, d);
	}
	json_object_object_add(o, "drives", drives);
	struct json_object *ifs = json_object_new_array();
	for (size_t i = 0; i < mc->n_interfaces; i++)
		json_object_array_add(ifs, interface_json(&mc->interfaces[i]));
	json_object_object_add(o, "interfaces", ifs);
	if (mc->n_forwards)
		json_object_object_add(o, "forwards", plan_forwards_json(mc));
	return o;
}

struct json_object *plan_wire_encode(const struct plan *p)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "version", json_object_new_int(PLAN_WIRE_VERSION));
	json_object_object_add(o, "title", p->title ? json_object_new_string(p->title) : NULL);
	struct json_object *nets = json_object_new_array();
	for (size_t i = 0; i < p->n_networks; i++)
		json_object_array_add(nets, network_json(&p->networks[i]));
	json_object_object_add(o, "networks", nets);
	struct json_object *ms = json_object_new_array();
	for (size_t i = 0; i < p->n_machines; i++)
		json_object_array_add(ms, machine_json(&p->machines[i]));
	json_object_object_add(o, "machines", ms);
	return o;
}

char *plan_wire_text(const struct plan *p, size_t *len)
{
	struct json_object *o = plan_wire_encode(p);
	const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE)
			  : NULL;
	char *copy = s ? strdup(s) : NULL;
	json_object_put(o);
	if (copy)
		*len = strlen(copy);
	return copy;
}

/* --- Reading ------------------------------------------------------------ */

struct reader {
	struct pn_error *err;
	char path[96]; /* where in the plan: "machines[1].interfaces[0]" */
};

static int __attribute__((format(printf, 3, 4)))
bad(struct reader *r, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pn_failxv(r->err, -EINVAL, fmt, ap);
	va_end(ap);
	if (r->path[0] || key)
		pn_wrap(r->err, "%s%s%s", r->path, r->path[0] && key ? "." : "", key ? key : "");
	return -EINVAL;
}

/* Exactly these keys, no more, no fewer. */
static int keys(struct reader *r, struct json_object *o, const char *const *want, size_t n)
{
	if (!json_object_is_type(o, json_type_object))
		return bad(r, NULL, "expected an object");
	for (size_t i = 0; i < n; i++)
		if (!json_object_object_get_ex(o, want[i], NULL))
			return bad(r, want[i], "missing");
	if ((size_t)json_object_object_length(o) != n)
		return bad(r, NULL, "holds keys other than %s and the %zu after it", want[0],
			   n - 1);
	return 0;
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

/* keys, and besides them the optional a and b where not NULL. */
static int keys_optional(struct reader *r, struct json_object *o, const char *const *want,
			 size_t n, const char *a, const char *b)
{
	const char *all[16];
	size_t m = n;
	memcpy(all, want, n * sizeof(*want));
	if (a)
		all[m++] = a;
	if (b)
		all[m++] = b;
	return keys(r, o, all, m);
}

/* A string of min to max bytes without a NUL. */
static int get_text(struct reader *r, struct json_object *o, const char *key, size_t min,
		    size_t max, const char **out)
{
	struct json_object *v = field(o, key);
	if (!json_object_is_type(v, json_type_string))
		return bad(r, key, "expected a string");
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return bad(r, key, "holds a NUL byte");
	if (len < min || len > max)
		return bad(r, key, "expected %zu to %zu bytes, got %zu", min, max, len);
	*out = s;
	return 0;
}

static int get_str(struct reader *r, struct json_object *o, const char *key, size_t max,
		   const char **out)
{
	return get_text(r, o, key, 1, max, out);
}

static int get_uint(struct reader *r, struct json_object *o, const char *key, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	struct json_object *v = field(o, key);
	if (!json_object_is_type(v, json_type_int))
		return bad(r, key, "expected an integer");
	int64_t x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return bad(r, key, "%lld is out of range (%llu to %llu)", (long long)x,
			   (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

static int get_bool(struct reader *r, struct json_object *o, const char *key, bool *out)
{
	struct json_object *v = field(o, key);
	if (!json_object_is_type(v, json_type_boolean))
		return bad(r, key, "expected true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_addr(struct reader *r, struct json_object *o, const char *key, uint32_t *out)
{
	const char *s;
	int e = get_str(r, o, key, IPAM_ADDR_STRLEN, &s);
	if (e == 0 && !ipam_parse_addr(s, out))
		return bad(r, key, "expected an IPv4 address");
	return e;
}

/* An array of at most max items. */
static int get_array(struct reader *r, struct json_object *o, const char *key, size_t max,
		     struct json_object **arr, size_t *n)
{
	*arr = field(o, key);
	if (!json_object_is_type(*arr, json_type_array))
		return bad(r, key, "expected an array");
	*n = json_object_array_length(*arr);
	if (*n > max)
		return bad(r, key, "at most %zu entries, got %zu", max, *n);
	return 0;
}

static void path_set(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_set(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
}

static int read_subnet(struct reader *r, struct json_object *o, struct plan_network *n)
{
	const char *s;
	int e = get_str(r, o, "subnet", IPAM_CIDR_STRLEN, &s);
	if (e < 0)
		return e;
	if (!ipam_parse_cidr(s, &n->subnet, &n->prefix) || n->prefix < 8 || n->prefix > 30 ||
	    (n->subnet & ~ipam_mask(n->prefix)))
		return bad(r, "subnet", "expected an IPv4 subnet /8 to /30 without host bits");
	const char *special = manifest_subnet_special(n->subnet, n->prefix);
	if (special)
		return bad(r, "subnet", "is %s", special);
	return 0;
}

static int read_gateway(struct reader *r, struct json_object *o, struct plan_network *n)
{
	struct json_object *v = field(o, "gateway");
	if (n->private_net) {
		if (v)
			return bad(r, "gateway", "a private network has none");
		return 0;
	}
	int e = get_addr(r, o, "gateway", &n->gateway);
	if (e < 0)
		return e;
	if (!ipam_contains(n->subnet, n->prefix, n->gateway) || n->gateway == n->subnet ||
	    n->gateway == ipam_broadcast(n->subnet, n->prefix))
		return bad(r, "gateway", "is not a host address of the subnet");
	n->has_gateway = true;
	return 0;
}

static int read_network(struct reader *r, struct json_object *o, struct plan *p, size_t i)
{
	static const char *const k[] = { "name", "subnet", "private", "vlans",
					 "gateway", "mtu", "dns" };
	struct plan_network *n = &p->networks[i];
	path_set(r, "networks[%zu]", i);
	const char *name;
	uint64_t mtu;
	struct json_object *dns;
	size_t n_dns;
	int e;
	if ((e = keys(r, o, k, ARRAY_SIZE(k))) < 0 ||
	    (e = get_str(r, o, "name", MANIFEST_NAME_MAX, &name)) < 0)
		return e;
	if (!manifest_valid_network_name(name))
		return bad(r, "name", "is not a network name");
	strcpy(n->name, name);
	for (size_t j = 0; j < i; j++) {
		if (strcmp(p->networks[j].name, name) == 0)
			return bad(r, "name", "is also the name of networks[%zu]", j);
	}
	if ((e = read_subnet(r, o, n)) < 0 || (e = get_bool(r, o, "private", &n->private_net)) < 0 ||
	    (e = get_bool(r, o, "vlans", &n->vlans)) < 0 || (e = read_gateway(r, o, n)) < 0 ||
	    (e = get_uint(r, o, "mtu", 576, 9000, &mtu)) < 0 ||
	    (e = get_array(r, o, "dns", n->private_net ? 0 : MANIFEST_MAX_DNS, &dns, &n_dns)) < 0)
		return e;
	n->mtu = (unsigned)mtu;
	for (size_t j = 0; j < i; j++) {
		const struct plan_network *x = &p->networks[j];
		if (ipam_overlap(n->subnet, n->prefix, x->subnet, x->prefix))
			return bad(r, "subnet", "overlaps the subnet of networks[%zu]", j);
	}
	for (size_t j = 0; j < n_dns; j++) {
		const char *s = json_object_get_string(json_object_array_get_idx(dns, j));
		if (!json_object_is_type(json_object_array_get_idx(dns, j), json_type_string) ||
		    !ipam_parse_addr(s, &n->dns[j]))
			return bad(r, "dns", "entry %zu is not an IPv4 address", j);
	}
	n->n_dns = n_dns;
	return 0;
}

static int read_impair(struct reader *r, struct json_object *o, struct manifest_impair *im)
{
	static const char *const k[] = { "delayUs",	 "jitterUs",	 "lossPpm",   "rateBps",
					 "duplicatePpm", "reorderPpm", "corruptPpm" };
	struct json_object *v = field(o, "impair");
	if (!v)
		return 0;
	uint64_t delay, jitter, rate, share[4];
	size_t at = strlen(r->path);
	snprintf(r->path + at, sizeof(r->path) - at, ".impair");
	int e;
	if ((e = keys(r, v, k, ARRAY_SIZE(k))) < 0 ||
	    (e = get_uint(r, v, "delayUs", 0, 60000000, &delay)) < 0 ||
	    (e = get_uint(r, v, "jitterUs", 0, 60000000, &jitter)) < 0 ||
	    (e = get_uint(r, v, "rateBps", 0, 1000000000000ull, &rate)) < 0)
		return e;
	for (size_t i = 0; i < 4; i++) {
		const char *key = k[i ? 3 + i : 2];
		if ((e = get_uint(r, v, key, 0, 1000000, &share[i])) < 0)
			return e;
	}
	if (rate && rate < 8000)
		return bad(r, "rateBps", "must be 0 or at least 8000");
	r->path[at] = '\0';
	*im = (struct manifest_impair){ .set = true, .delay_us = (uint32_t)delay,
					.jitter_us = (uint32_t)jitter, .loss_ppm = (uint32_t)share[0],
					.rate_bps = rate, .duplicate_ppm = (uint32_t)share[1],
					.reorder_ppm = (uint32_t)share[2],
					.corrupt_ppm = (uint32_t)share[3] };
	return 0;
}

/* mac_parse, in the one spelling mac_format writes. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	char again[MAC_STRLEN];
	if (!mac_parse(s, mac))
		return false;
	mac_format(mac, again);
	return strcmp(again, s) == 0;
}

/* Unique among the interfaces read so far (all of machines before mi, and
 * mi's own before ii). */
static int check_unique(struct reader *r, const struct plan *p, size_t mi, size_t ii)
{
	const struct plan_interface *a = &p->machines[mi].interfaces[ii];
	for (size_t k = 0; k <= mi; k++) {
		size_t lim = k == mi ? ii : p->machines[k].n_interfaces;
		for (size_t l = 0; l < lim; l++) {
			const struct plan_interface *b = &p->machines[k].interfaces[l];
			if (memcmp(a->mac, b->mac, 6) == 0)
				return bad(r, "mac", "is also machines[%zu].interfaces[%zu]'s", k, l);
			if (a->network == b->network && a->address == b->address)
				return bad(r, "address", "is also machines[%zu].interfaces[%zu]'s", k,
					   l);
		}
	}
	return 0;
}

static int read_interface(struct reader *r, struct json_object *o, struct plan *p, size_t mi,
			  size_t ii)
{
	static const char *const k[] = { "network",    "mac",	 "address", "ipSource",
					 "dhcpServer", "linkDown", "impair" };
	struct plan_interface *ifc = &p->machines[mi].interfaces[ii];
	path_set(r, "machines[%zu].interfaces[%zu]", mi, ii);
	uint64_t net;
	const char *mac;
	int e;
	if ((e = keys(r, o, k, ARRAY_SIZE(k))) < 0 ||
	    (e = get_uint(r, o, "network", 0, p->n_networks ? p->n_networks - 1 : 0, &net)) < 0)
		return e;
	if (!p->n_networks)
		return bad(r, "network", "there are no networks");
	ifc->network = (size_t)net;
	const struct plan_network *n = &p->networks[net];
	if ((e = get_str(r, o, "mac", MAC_STRLEN, &mac)) < 0)
		return e;
	static const uint8_t zero[6];
	if (!parse_mac(mac, ifc->mac) || (ifc->mac[0] & 1) || !memcmp(ifc->mac, zero, 6))
		return bad(r, "mac", "expected a unicast MAC such as 02:00:00:00:00:01");
	if ((e = get_addr(r, o, "address", &ifc->address)) < 0)
		return e;
	if (!ipam_contains(n->subnet, n->prefix, ifc->address) || ifc->address == n->subnet ||
	    ifc->address == ipam_broadcast(n->subnet, n->prefix) ||
	    (n->has_gateway && ifc->address == n->gateway))
		return bad(r, "address", "is not a free host address of networks[%zu]", (size_t)net);
	if ((e = get_bool(r, o, "ipSource", &ifc->guard.ip_source)) < 0 ||
	    (e = get_bool(r, o, "dhcpServer", &ifc->guard.dhcp_server)) < 0 ||
	    (e = get_bool(r, o, "linkDown", &ifc->link_down)) < 0 ||
	    (e = read_impair(r, o, &ifc->impair)) < 0)
		return e;
	return check_unique(r, p, mi, ii);
}

static int read_drive(struct reader *r, struct json_object *o, struct manifest_drive *dr)
{
	static const char *const k[] = { "source", "kind", "mount", "size", "filesystem" };
	const char *src = NULL, *kind, *mount, *fs;
	uint64_t size;
	int e;
	if ((e = keys(r, o, k, ARRAY_SIZE(k))) < 0 ||
	    (!json_object_is_type(field(o, "source"), json_type_null) &&
	     (e = get_str(r, o, "source", MANIFEST_SOURCE_MAX, &src)) < 0) ||
	    (e = get_str(r, o, "kind", 16, &kind)) < 0 ||
	    (e = get_text(r, o, "mount", 0, MANIFEST_MOUNT_MAX, &mount)) < 0 ||
	    (e = get_uint(r, o, "size", 0, MANIFEST_DRIVE_SIZE_MAX, &size)) < 0 ||
	    (e = get_str(r, o, "filesystem", 8, &fs)) < 0)
		return e;
	if (manifest_drive_kind_parse(kind, &dr->kind) < 0)
		return bad(r, "kind", "expected kernel, initrd, disk or auto");
	if (mount[0] && mount[0] != '/')
		return bad(r, "mount", "expected an absolute path");
	strcpy(dr->mount, mount);
	dr->size = size;
	if (manifest_fs_parse(fs, &dr->filesystem) < 0)
		return bad(r, "filesystem", "expected none, ext4 or xfs");
	if (!src && !size)
		return bad(r, "size", "a drive without a source needs a size");
	return !src || (dr->source = strdup(src)) ? 0 : -ENOMEM;
}

static int read_forward(struct reader *r, struct json_object *o, struct manifest_forward *f)
{
	static const char *const k[] = { "protocol", "port", "hostPort", "hostAddress" };
	const char *proto;
	uint64_t port, host_port;
	int e;
	bool any = json_object_is_type(field(o, "hostAddress"), json_type_null);
	if ((e = keys(r, o, k, ARRAY_SIZE(k))) < 0 || (e = get_str(r, o, "protocol", 3, &proto)) < 0 ||
	    (e = get_uint(r, o, "port", 1, 65535, &port)) < 0 ||
	    (e = get_uint(r, o, "hostPort", 1, 65535, &host_port)) < 0 ||
	    (!any && (e = get_addr(r, o, "hostAddress", &f->host_addr)) < 0))
		return e;
	if (manifest_proto_parse(proto, &f->proto) < 0)
		return bad(r, "protocol", "expected tcp or udp");
	f->port = (uint16_t)port;
	f->host_port = (uint16_t)host_port;
	if (!any && !manifest_forward_addr_ok(f->host_addr))
		return bad(r, "hostAddress", "is not a unicast address the kernel forwards");
	return 0;
}

/* A machine's forwards: each reaches it through a non-private network,
 * and takes a host port no other forward of the plan takes. */
static int read_forwards(struct reader *r, struct json_object *o, struct plan *p, size_t mi)
{
	struct plan_machine *mc = &p->machines[mi];
	struct json_object *fws;
	size_t n;
	int e = get_array(r, o, "forwards", MANIFEST_MAX_FORWARDS, &fws, &n);
	if (e < 0)
		return e;
	if (n && !plan_forward_interface(p, mc))
		return bad(r, "forwards", "machine %s is on no non-private network", mc->name);
	for (size_t j = 0; j < n; j++) {
		path_set(r, "machines[%zu].forwards[%zu]", mi, j);
		struct manifest_forward f = { 0 };
		size_t other;
		if ((e = read_forward(r, json_object_array_get_idx(fws, j), &f)) < 0)
			return e;
		if (plan_find_forward(p, &f, &other))
			return bad(r, "hostPort", "is also forwarded to machines[%zu]", other);
		mc->forwards[mc->n_forwards++] = f;
	}
	return 0;
}

static int read_machine(struct reader *r, struct json_object *o, struct plan *p, size_t mi,
			const struct manifest_limits *lim)
{
	/* user only when the manifest names a default user (and not in
	 * records from before there was one), forwards only when the machine
	 * has some. */
	static const char *const k[] = { "name", "runtime", "cpuCount", "ramBytes", "drives",
					 "interfaces", "user", "forwards" };
	struct plan_machine *mc = &p->machines[mi];
	path_set(r, "machines[%zu]", mi);
	const char *name, *runtime, *user;
	uint64_t cpu, ram;
	struct json_object *drives, *ifs;
	size_t n_drives, n_ifs;
	bool has_user = json_object_is_type(o, json_type_object) && field(o, "user");
	bool has_forwards = json_object_is_type(o, json_type_object) && field(o, "forwards");
	int e;
	if ((e = keys_optional(r, o, k, ARRAY_SIZE(k) - 2, has_user ? "user" : NULL,
			       has_forwards ? "forwards" : NULL)) < 0 ||
	    (e = get_str(r, o, "name", MANIFEST_HOSTNAME_MAX, &name)) < 0)
		return e;
	if (has_user) {
		if ((e = get_str(r, o, "user", MANIFEST_USER_MAX, &user)) < 0)
			return e;
		if (!manifest_valid_user(user))
			return bad(r, "user", "is not a user name");
		strcpy(mc->user, user);
	}
	if (!manifest_valid_hostname(name))
		return bad(r, "name", "is not a machine name");
	strcpy(mc->name, name);
	for (size_t j = 0; j < mi; j++)
		if (strcmp(p->machines[j].name, name) == 0)
			return bad(r, "name", "is also the name of machines[%zu]", j);
	if ((e = get_str(r, o, "runtime", 16, &runtime)) < 0)
		return e;
	if (strcmp(runtime, plan_runtime_name(MANIFEST_RUNTIME_VM)) == 0)
		mc->runtime = MANIFEST_RUNTIME_VM;
	else if (strcmp(runtime, plan_runtime_name(MANIFEST_RUNTIME_NETNS)) == 0)
		mc->runtime = MANIFEST_RUNTIME_NETNS;
	else
		return bad(r, "runtime", "expected vm or netns");
	if ((e = get_uint(r, o, "cpuCount", 0, 256, &cpu)) < 0 ||
	    (e = get_uint(r, o, "ramBytes", 0, MANIFEST_RAM_MAX, &ram)) < 0)
		return e;
	if (ram && ram < MANIFEST_RAM_MIN)
		return bad(r, "ramBytes", "must be 0 or at least %llu",
			   (unsigned long long)MANIFEST_RAM_MIN);
	mc->cpu_count = (unsigned)cpu;
	mc->ram_bytes = ram;
	if ((e = get_array(r, o, "drives", MANIFEST_MAX_DRIVES, &drives, &n_drives)) < 0 ||
	    (e = get_array(r, o, "interfaces", lim->max_interfaces, &ifs, &n_ifs)) < 0)
		return e;
	mc->drives = calloc(n_drives ? n_drives : 1, sizeof(*mc->drives));
	mc->interfaces = calloc(n_ifs ? n_ifs : 1, sizeof(*mc->interfaces));
	if (!mc->drives || !mc->interfaces)
		return -ENOMEM;
	for (size_t j = 0; j < n_drives; j++) {
		path_set(r, "machines[%zu].drives[%zu]", mi, j);
		if ((e = read_drive(r, json_object_array_get_idx(drives, j), &mc->drives[j])) < 0)
			return e;
		mc->n_drives = j + 1;
	}
	mc->n_interfaces = n_ifs;
	for (size_t j = 0; j < n_ifs; j++)
		if ((e = read_interface(r, json_object_array_get_idx(ifs, j), p, mi, j)) < 0)
			return e;
	return has_forwards ? read_forwards(r, o, p, mi) : 0;
}

static int read_plan(struct reader *r, struct json_object *o, struct plan *p,
		     const struct manifest_limits *lim)
{
	static const char *const k[] = { "version", "title", "networks", "machines" };
	uint64_t version;
	struct json_object *nets, *ms;
	int e;
	if ((e = keys(r, o, k, ARRAY_SIZE(k))) < 0 ||
	    (e = get_uint(r, o, "version", PLAN_WIRE_VERSION, PLAN_WIRE_VERSION, &version)) < 0)
		return e;
	const char *title;
	if (field(o, "title")) {
		if ((e = get_text(r, o, "title", 0, MANIFEST_MAX_BYTES, &title)) < 0)
			return e;
		if (!(p->title = strdup(title)))
			return -ENOMEM;
	}
	size_t n_networks, n_machines;
	if ((e = get_array(r, o, "networks", lim->max_networks, &nets, &n_networks)) < 0 ||
	    (e = get_array(r, o, "machines", lim->max_machines, &ms, &n_machines)) < 0)
		return e;
	p->networks = calloc(n_networks ? n_networks : 1, sizeof(*p->networks));
	p->machines = calloc(n_machines ? n_machines : 1, sizeof(*p->machines));
	if (!p->networks || !p->machines)
		return -ENOMEM;
	/* n_machines grows as machines are read, for plan_free */
	p->n_networks = n_networks;
	for (size_t i = 0; i < p->n_networks; i++)
		if ((e = read_network(r, json_object_array_get_idx(nets, i), p, i)) < 0)
			return e;
	for (size_t i = 0; i < n_machines; i++) {
		p->n_machines = i + 1;
		if ((e = read_machine(r, json_object_array_get_idx(ms, i), p, i, lim)) < 0)
			return e;
	}
	return 0;
}

int plan_wire_decode(struct json_object *o, const char *name,
		     const struct manifest_limits *lim, struct plan *p, struct pn_error *err)
{
	memset(p, 0, sizeof(*p));
	struct reader r = { .err = err };
	if (!naming_valid_playground(name))
		return bad(&r, NULL, "invalid playground name");
	strcpy(p->name, name);
	int e = read_plan(&r, o, p, lim);
	if (e < 0) {
		if (e == -ENOMEM)
			pn_failx(err, e, "out of memory");
		plan_free(p);
		return e;
	}
	plan_derive(p);
	return 0;
}

int plan_wire_parse(const char *text, size_t len, const char *name,
		    const struct manifest_limits *lim, struct plan *p, struct pn_error *err)
{
	memset(p, 0, sizeof(*p));
	/* A plan nests four deep (plan, machines, a machine, its interfaces,
	 * an interface, its impairment): nothing deeper is read. */
	struct json_tokener *tok = json_tokener_new_ex(8);
	if (!tok)
		return pn_failx(err, -ENOMEM, "out of memory");
	if (len > INT_MAX)
		len = INT_MAX;
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	bool whole = o && json_tokener_get_error(tok) == json_tokener_success &&
		     json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	int e;
	if (!whole)
		e = pn_failx(err, -EINVAL, "not one JSON object");
	else
		e = plan_wire_decode(o, name, lim, p, err);
	json_object_put(o);
	return e;
}

int plan_wire_of_record(const struct state_record *rec, struct plan *p, struct pn_error *err)
{
	const struct manifest_limits any = { SIZE_MAX, SIZE_MAX, SIZE_MAX };
	if (rec->plan)
		return plan_wire_decode(rec->plan, rec->name, &any, p, err);
	struct diag d;
	diag_init(&d, "manifest");
	int e = plan_parse(rec->manifest, strlen(rec->manifest), rec->name, &any, p, &d);
	if (e < 0)
		pn_failx(err, e, "%s", d.count ? d.entries[0].message : "cannot be planned");
	diag_free(&d);
	return e;
}
