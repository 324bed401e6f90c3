#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipam.h"
#include "netns.h"
#include "plan_json.h"
#include "plan_text.h"
#include "table.h"
#include "vm_run.h"

const char *report_status(const struct state_record *rec, const struct fabric_report *r)
{
	if (rec->phase != STATE_READY)
		return state_phase_name(rec->phase);
	return r->n_missing ? "degraded" : "ready";
}

static int vm_json_one(const char *machine, const struct vm_status *st, void *arg)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "machine", json_object_new_string(machine));
	json_object_object_add(o, "state", json_object_new_string(vm_state_name(st->state)));
	json_object_object_add(o, "backend", json_object_new_string(vm_backend_name(st->backend)));
	json_object_object_add(o, "accel", json_object_new_string(vm_accel_name(st->accel)));
	bool live = vm_state_live(st->state);
	json_object_object_add(o, "pid", live ? json_object_new_int(st->pid) : NULL);
	json_object_object_add(o, "reason", st->reason[0] ? json_object_new_string(st->reason) : NULL);
	json_object_array_add(arg, o);
	return 0;
}

static int vm_text_one(const char *machine, const struct vm_status *st, void *arg)
{
	struct table *t = arg;
	bool live = vm_state_live(st->state);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)st->pid);
	table_add(t, (const char *[]){ machine, vm_state_name(st->state),
					vm_backend_name(st->backend), vm_accel_name(st->accel),
					live ? pid : NULL, st->reason[0] ? st->reason : NULL });
	return 0;
}

struct json_object *report_show_json(const struct fabric *f, const struct state_record *rec,
				     const struct plan *p, const struct fabric_report *r)
{
	struct json_object *j = plan_to_json(p);
	if (!j)
		return NULL;
	uint32_t h, i;
	char hs[IPAM_CIDR_STRLEN], is[IPAM_CIDR_STRLEN];
	fabric_transit_addrs(f, rec, &h, &i);
	ipam_format_cidr(h, 31, hs);
	ipam_format_cidr(i, 31, is);
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "host", json_object_new_string(hs));
	json_object_object_add(t, "inside", json_object_new_string(is));
	json_object_object_add(j, "transit", t);
	json_object_object_add(j, "hostNetns",
			       rec->host_netns[0] ? json_object_new_string(rec->host_netns) : NULL);
	json_object_object_add(j, "status", json_object_new_string(report_status(rec, r)));
	struct json_object *miss = json_object_new_array();
	for (size_t k = 0; k < r->n_missing; k++)
		json_object_array_add(miss, json_object_new_string(r->missing[k]));
	json_object_object_add(j, "missing", miss);
	struct json_object *vms = json_object_new_array();
	vm_each(fabric_options(f)->state_dir, p->name, vm_json_one, vms);
	json_object_object_add(j, "vms", vms);
	return j;
}

static int stats_add(struct report_stats *s, int nsfd, const char *pin_dir,
		     const char *dev, const char *machine)
{
	struct report_iface *n = realloc(s->ifaces, (s->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->ifaces = n;
	struct report_iface *it = &n[s->n];
	memset(it, 0, sizeof(*it));
	snprintf(it->device, sizeof(it->device), "%s", dev);
	snprintf(it->machine, sizeof(it->machine), "%s", machine);
	int e = guard_read(pin_dir, nsfd, dev, &it->c);
	if (e < 0)
		return e;
	s->n++;
	s->total.pass_packets += it->c.pass_packets;
	s->total.pass_bytes += it->c.pass_bytes;
	for (int r = 0; r < GUARD_REASONS; r++)
		s->total.drops[r] += it->c.drops[r];
	return 0;
}

static int stats_networks(struct report_stats *s, int nsfd, const struct plan *p)
{
	struct nft_drops *d = calloc(p->n_networks + 1, sizeof(*d));
	s->networks = calloc(p->n_networks + 1, sizeof(*s->networks));
	int e = d && s->networks ? nft_drops_read(nsfd, p, d) : -ENOMEM;
	for (size_t i = 0; e == 0 && i < p->n_networks; i++) {
		struct report_network *n = &s->networks[i];
		snprintf(n->name, sizeof(n->name), "%s", p->networks[i].name);
		snprintf(n->bridge, sizeof(n->bridge), "%s", p->networks[i].bridge);
		n->drops = d[i];
	}
	if (e == 0)
		s->n_networks = p->n_networks;
	free(d);
	return e;
}

int report_stats(const char *pin_dir, const struct state_record *rec, const struct plan *p,
		 struct report_stats *s, struct pn_error *err)
{
	memset(s, 0, sizeof(*s));
	int ns = netns_open(p->netns);
	int hns = rec->host_netns[0] ? netns_open(rec->host_netns) : netns_open_current();
	int e = 0;
	if (ns < 0 || hns < 0) {
		e = pn_failx(err, -ENOENT, "the namespaces of %s are gone", p->name);
	}
	for (size_t i = 0; e == 0 && i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; e == 0 && j < mc->n_interfaces; j++) {
			char who[96];
			snprintf(who, sizeof(who), "%s/%s", mc->name, mc->interfaces[j].name);
			e = stats_add(s, ns, pin_dir, mc->interfaces[j].device, who);
			if (e < 0)
				pn_fail(err, e, "%s", mc->interfaces[j].device);
		}
	}
	if (e == 0 && (e = stats_add(s, hns, pin_dir, p->uplink_host, "")) < 0)
		pn_fail(err, e, "uplink %s", p->uplink_host);
	if (e == 0 && (e = stats_networks(s, ns, p)) < 0)
		pn_fail(err, e, "nftables counters of %s", p->netns);
	if (ns >= 0)
		close(ns);
	if (hns >= 0)
		close(hns);
	if (e < 0)
		report_stats_free(s);
	return e;
}

static struct json_object *counters_json(const char *iface, const char *machine,
					 const struct guard_counters *c)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "interface", json_object_new_string(iface));
	json_object_object_add(o, "machine", machine && *machine ? json_object_new_string(machine) : NULL);
	json_object_object_add(o, "passPackets", json_object_new_int64((int64_t)c->pass_packets));
	json_object_object_add(o, "passBytes", json_object_new_int64((int64_t)c->pass_bytes));
	struct json_object *d = json_object_new_object();
	for (int r = 0; r < GUARD_REASONS; r++)
		json_object_object_add(d, guard_reason_name(r),
				       json_object_new_int64((int64_t)c->drops[r]));
	json_object_object_add(o, "drops", d);
	return o;
}

struct json_object *report_stats_json(const char *name, const struct report_stats *s)
{
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(name));
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(arr, counters_json(s->ifaces[i].device, s->ifaces[i].machine,
							 &s->ifaces[i].c));
	json_object_object_add(j, "interfaces", arr);
	json_object_object_add(j, "total", counters_json("total", NULL, &s->total));
	struct json_object *nets = json_object_new_array();
	for (size_t i = 0; i < s->n_networks; i++) {
		const struct report_network *n = &s->networks[i];
		struct json_object *o = json_object_new_object(), *d = json_object_new_object();
		json_object_object_add(o, "network", json_object_new_string(n->name));
		json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
		for (size_t r = 0; r < NFT_DROP_REASONS; r++)
			json_object_object_add(d, nft_drop_reason_name(r),
					       json_object_new_int64((int64_t)n->drops.packets[r]));
		json_object_object_add(o, "drops", d);
		json_object_array_add(nets, o);
	}
	json_object_object_add(j, "networks", nets);
	return j;
}

void report_stats_free(struct report_stats *s)
{
	free(s->networks);
	free(s->ifaces);
	memset(s, 0, sizeof(*s));
}

void report_drops_text(const struct guard_counters *c, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int r = 0; r < GUARD_REASONS; r++) {
		if (!c->drops[r])
			continue;
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s=%llu", used ? " " : "",
			 guard_reason_name(r), (unsigned long long)c->drops[r]);
	}
	if (!buf[0])
		snprintf(buf, len, "0");
}

void report_show_text(FILE *out, const struct fabric *f, const struct state_record *rec,
		      const struct plan *p, const struct fabric_report *r)
{
	uint32_t h, i;
	char hs[IPAM_CIDR_STRLEN], is[IPAM_CIDR_STRLEN];
	fabric_transit_addrs(f, rec, &h, &i);
	ipam_format_cidr(h, 31, hs);
	ipam_format_cidr(i, 31, is);
	plan_print_text(p, out);
	fprintf(out, "\nstatus %s, transit %s (host) / %s (inside)%s%s\n",
		report_status(rec, r), hs, is, rec->host_netns[0] ? ", host netns " : "",
		rec->host_netns);
	for (size_t k = 0; k < r->n_missing; k++)
		fprintf(out, "  missing: %s\n", r->missing[k]);
	if (r->n_missing)
		fprintf(out, "('playnet down %s' then 'up' rebuilds it; so does restarting netd)\n",
			p->name);
	struct table t;
	table_init(&t, 6);
	table_add(&t, (const char *[]){ "VM", "STATE", "BACKEND", "ACCEL", "PID", "NOTE" });
	vm_each(fabric_options(f)->state_dir, p->name, vm_text_one, &t);
	if (t.n_rows > 1) {
		fputc('\n', out);
		table_print(&t, out);
		fprintf(out, "(console: playnet console %s MACHINE)\n", p->name);
	}
	table_free(&t);
}

void report_stats_text(FILE *out, const struct report_stats *s)
{
	struct table t;
	table_init(&t, 5);
	table_add(&t, (const char *[]){ "INTERFACE", "MACHINE", "PASSED", "BYTES", "DROPS" });
	for (size_t i = 0; i <= s->n; i++) {
		const struct report_iface *it = i < s->n ? &s->ifaces[i] : NULL;
		const struct guard_counters *c = it ? &it->c : &s->total;
		char pk[32], by[32], drops[512];
		snprintf(pk, sizeof(pk), "%llu", (unsigned long long)c->pass_packets);
		snprintf(by, sizeof(by), "%llu", (unsigned long long)c->pass_bytes);
		report_drops_text(c, drops, sizeof(drops));
		table_add(&t, (const char *[]){ it ? it->device : "total",
						 it && it->machine[0] ? it->machine : NULL, pk, by,
						 drops });
	}
	table_print(&t, out);
	table_free(&t);
	/* What the fabric's own namespace turned away, per network. */
	table_init(&t, 3);
	table_add(&t, (const char *[]){ "NETWORK", "BRIDGE", "FABRIC DROPS" });
	for (size_t i = 0; i < s->n_networks; i++) {
		const struct report_network *n = &s->networks[i];
		char drops[256] = "";
		for (size_t r = 0; r < NFT_DROP_REASONS; r++) {
			size_t used = strlen(drops);
			if (n->drops.packets[r])
				snprintf(drops + used, sizeof(drops) - used, "%s%s=%llu",
					 used ? " " : "", nft_drop_reason_name(r),
					 (unsigned long long)n->drops.packets[r]);
		}
		table_add(&t, (const char *[]){ n->name, n->bridge, drops[0] ? drops : "0" });
	}
	if (s->n_networks) {
		fputc('\n', out);
		table_print(&t, out);
	}
	table_free(&t);
}

struct json_object *report_settings_json(const struct fabric_opts *o,
					 const struct manifest_limits *lim,
					 const char *guard_config)
{
	struct json_object *j = json_object_new_object();
	char pool[IPAM_CIDR_STRLEN], owner[48];
	ipam_format_cidr(o->pool, o->pool_prefix, pool);
	snprintf(owner, sizeof(owner), "%ld:%ld", o->tap_uid, o->tap_gid);
	json_object_object_add(j, "stateDir", json_object_new_string(o->state_dir));
	json_object_object_add(j, "hostNetns", json_object_new_string(o->host_netns ? o->host_netns : ""));
	json_object_object_add(j, "transitPool", json_object_new_string(pool));
	json_object_object_add(j, "tapOwner", json_object_new_string(owner));
	json_object_object_add(j, "uplinkRate", json_object_new_uint64(o->uplink_rate));
	json_object_object_add(j, "bpfDir", json_object_new_string(o->pin_dir));
	json_object_object_add(j, "guardConfig", json_object_new_string(guard_config ? guard_config : ""));
	json_object_object_add(j, "maxMachines", json_object_new_uint64(lim->max_machines));
	json_object_object_add(j, "maxNetworks", json_object_new_uint64(lim->max_networks));
	json_object_object_add(j, "maxInterfaces", json_object_new_uint64(lim->max_interfaces));
	return j;
}

struct json_object *report_list_entry(const struct state_record *rec)
{
	char created[32];
	time_t t = (time_t)rec->created;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(rec->name));
	json_object_object_add(j, "phase", json_object_new_string(state_phase_name(rec->phase)));
	json_object_object_add(j, "hostNetns",
			       rec->host_netns[0] ? json_object_new_string(rec->host_netns) : NULL);
	json_object_object_add(j, "created", json_object_new_string(created));
	return j;
}

const char *report_member(struct json_object *o, const char *key, const char *fallback)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : fallback;
}

void report_list_text(FILE *out, struct json_object *arr)
{
	size_t n = json_object_array_length(arr);
	if (!n)
		return;
	struct table t;
	table_init(&t, 5);
	table_add(&t, (const char *[]){ "NAME", "STATE", "NETNS", "HOST NETNS", "CREATED" });
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *name = report_member(o, "name", NULL);
		char ns[NAMING_NETNS_MAX];
		naming_netns(name ? name : "", ns);
		table_add(&t, (const char *[]){ name, report_member(o, "phase", NULL), ns,
						 report_member(o, "hostNetns", "(root)"),
						 report_member(o, "created", NULL) });
	}
	table_print(&t, out);
	table_free(&t);
}
