/*
 * playground_recycle: a create that takes over the namespace of a playground
 * being deleted. What the new playground must have of its own (names,
 * aliases, guard policies, counters, transit record) and must not inherit
 * (the old one's neighbours and tracked connections), read back from the
 * kernel, the pinned maps and the state dir; what may not be taken over;
 * and every step failed in turn, which must leave the old playground as it
 * was or both gone. Needs root; runs in a host netns of its own and removes
 * what it made even when a check fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../unit/testutil.h"

#include "fabric.h"
#include "playground.h"
#include "guard.h"
#include "link.h"
#include "netns.h"
#include "plan.h"

/* Two shapes: one machine, and the same with another. */
#define ONE_MACHINE                                                            \
	"kind: playground\n"                                                   \
	"playground:\n"                                                        \
	"  networks:\n"                                                        \
	"    - {name: lan, subnet: 10.20.0.0/24}\n"                            \
	"    - {name: priv, subnet: 10.30.0.0/24, private: true}\n"            \
	"  machines:\n"                                                        \
	"    - name: vm-a\n"                                                   \
	"      network: {interfaces: [{network: lan}, {network: priv}]}\n"

static const char other_text[] = ONE_MACHINE;
static const char manifest_text[] = ONE_MACHINE
	"    - name: vm-b\n"
	"      network: {interfaces: [{network: priv}]}\n";

static struct {
	char host[32];
	char state_dir[64];
	char pin_dir[64];
	struct fabric *f;
	struct pn_error err;
	int hns;
	struct nl_sock *hsk; /* in the host netns */
} W = { .hns = -1 };

#define NEED_ROOT()                                                            \
	do {                                                                   \
		if (geteuid() != 0)                                            \
			skip();                                                \
	} while (0)

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(W.host, sizeof(W.host), "pnk-r%d", getpid());
	snprintf(W.pin_dir, sizeof(W.pin_dir), "%s/playnet-kr-%d", GUARD_PIN_ROOT, getpid());
	snprintf(W.state_dir, sizeof(W.state_dir), "/tmp/playnet-recycle.XXXXXX");
	if (!mkdtemp(W.state_dir) || netns_create(W.host) < 0)
		return -1;
	const struct fabric_opts o = {
		.state_dir = W.state_dir,
		.host_netns = W.host,
		.tap_uid = -1,
		.tap_gid = -1,
		.pool = 0x64400000, /* 100.64.0.0/10 */
		.pool_prefix = 10,
		.pin_dir = W.pin_dir,
	};
	if (fabric_open(&W.f, &o, &W.err) < 0) {
		fprintf(stderr, "open: %s\n", W.err.msg);
		return -1;
	}
	W.hns = netns_open(W.host);
	return W.hns < 0 || link_sock_open(W.hns, &W.hsk) < 0 ? -1 : 0;
}

/* Every playground of the state dir, then the host netns. */
static int delete_one(const char *name, void *arg)
{
	(void)arg;
	if (playground_delete(W.f, name, &W.err) < 0)
		fprintf(stderr, "delete %s: %s\n", name, W.err.msg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	if (W.f) {
		fabric_fail_at(W.f, 0);
		state_list(W.state_dir, delete_one, NULL);
	}
	link_sock_close(W.hsk);
	if (W.hns >= 0)
		close(W.hns);
	fabric_close(W.f);
	netns_delete(W.host);
	guard_unpin(W.pin_dir);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", W.state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void plan_of(const char *text, const char *name, struct plan *p)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(plan_parse(text, strlen(text), name, &lim, p, &d), 0);
	diag_free(&d);
}

/* fabric_shape of a manifest's plan; 0 for one that does not plan. */
static uint64_t shape_of(const char *text)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	struct plan p;
	diag_init(&d, "t");
	int e = plan_parse(text, strlen(text), "shape", &lim, &p, &d);
	diag_free(&d);
	if (e < 0)
		return 0;
	uint64_t h = fabric_shape(&p);
	plan_free(&p);
	return h;
}

/* A playground made and then marked deleting, as netd's queue holds it. */
static void deleted_playground(const char *text, const char *name, struct plan *p)
{
	plan_of(text, name, p);
	if (playground_create(W.f, p, text, NULL, &W.err) < 0)
		fail_msg("create %s: %s", name, W.err.msg);
	uint64_t shape = 0;
	assert_int_equal(playground_mark_deleting(W.f, name, &shape, &W.err), 1);
	assert_true(shape == fabric_shape(p));
}

static long transit_of(const char *name)
{
	struct state_record rec;
	assert_int_equal(state_read(W.state_dir, name, &rec), 0);
	long t = rec.transit_index;
	state_record_free(&rec);
	return t;
}

static uint64_t cookie_of(const char *ns)
{
	uint64_t c = 0;
	int fd = netns_open(ns);
	assert_true(fd >= 0);
	assert_int_equal(netns_cookie(fd, &c), 0);
	close(fd);
	return c;
}

/* CPU 0's copy of the slot of dev (in nsfd's namespace); with bump, its
 * pass counter raised first, as traffic would. */
static struct guard_port slot_of(int nsfd, const char *dev, bool bump)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/guard_index", W.pin_dir);
	int index = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/guard_slots", W.pin_dir);
	int slots = bpf_obj_get(path);
	assert_true(index >= 0 && slots >= 0);
	struct guard_key k = { 0 };
	int saved = netns_enter(nsfd);
	k.ifindex = (uint32_t)if_nametoindex(dev);
	netns_leave(saved);
	uint64_t cookie = 0;
	assert_int_equal(netns_cookie(nsfd, &cookie), 0);
	k.netns_cookie = cookie;
	uint32_t slot = 0;
	assert_int_equal(bpf_map_lookup_elem(index, &k, &slot), 0);
	size_t size = (sizeof(struct guard_port) + 7) & ~(size_t)7;
	int ncpus = libbpf_num_possible_cpus();
	char *vals = calloc((size_t)ncpus, size);
	assert_non_null(vals);
	assert_int_equal(bpf_map_lookup_elem(slots, &slot, vals), 0);
	if (bump) {
		((struct guard_port *)vals)->pass_packets += 7;
		assert_int_equal(bpf_map_update_elem(slots, &slot, vals, BPF_ANY), 0);
	}
	struct guard_port p;
	memcpy(&p, vals, sizeof(p));
	free(vals);
	close(index);
	close(slots);
	return p;
}

/* Connections to UDP port 9 tracked in nsfd's namespace: the tests'. Not
 * the namespace's whole count, which takes in the IGMP reports the kernel
 * sends from each bridge at random moments after it comes up. */
static int tracked_port9(int nsfd)
{
	int fd = netns_open_file(nsfd, "/proc/thread-self/net/nf_conntrack", O_RDONLY);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "r");
	assert_non_null(f);
	int n = 0;
	char line[512];
	while (fgets(line, sizeof(line), f))
		n += strstr(line, " udp ") && strstr(line, " dport=9 ");
	fclose(f);
	return n;
}

/* A UDP datagram from pg-P to its own gateway, port 9: a tracked
 * connection, received before returning, so nothing of it is in flight. */
static void track_one(int nsfd, uint32_t gateway)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(gateway) };
	int rx = netns_socket(nsfd, AF_INET, SOCK_DGRAM, 0);
	int tx = netns_socket(nsfd, AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 0 && tx >= 0);
	struct timeval limit = { .tv_sec = 5 };
	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_true(sendto(tx, "x", 1, 0, (struct sockaddr *)&at, sizeof(at)) == 1);
	char c;
	assert_true(recv(rx, &c, 1, 0) == 1);
	close(tx);
	close(rx);
}

struct transit_owner {
	long index;
	char name[64];
};

static int transit_owner(long index, const char *name, void *arg)
{
	struct transit_owner *o = arg;
	if (index == o->index)
		snprintf(o->name, sizeof(o->name), "%s", name);
	return 0;
}

/* The kernel has every object of P's record (fabric_inspect). */
static void assert_whole(const struct plan *p)
{
	struct state_record rec;
	assert_int_equal(state_read(W.state_dir, p->name, &rec), 0);
	struct fabric_report r = { 0 };
	assert_int_equal(fabric_inspect(W.f, p, &rec, &r, &W.err), 0);
	for (size_t i = 0; i < r.n_missing; i++)
		fprintf(stderr, "missing: %s\n", r.missing[i]);
	assert_int_equal(r.n_missing, 0);
	fabric_report_free(&r);
	state_record_free(&rec);
}

/* P holds the namespace COOKIE, the host end HOST_IDX and the /31
 * TRANSIT, with a ready record of the manifest. */
static void assert_holds(const struct plan *p, uint64_t cookie, int host_idx, long transit)
{
	assert_true(cookie_of(p->netns) == cookie);
	assert_int_equal(link_ifindex(W.hsk, p->uplink_host), host_idx);
	struct state_record rec;
	assert_int_equal(state_read(W.state_dir, p->name, &rec), 0);
	assert_int_equal(rec.phase, STATE_READY);
	assert_int_equal(rec.transit_index, transit);
	assert_string_equal(rec.manifest, manifest_text);
	state_record_free(&rec);
	struct transit_owner owner = { .index = transit };
	assert_int_equal(state_transit_each(W.state_dir, transit_owner, &owner), 0);
	assert_string_equal(owner.name, p->name);
}

static void t_recycle(void **state)
{
	(void)state;
	NEED_ROOT();
	struct plan a, b;
	deleted_playground(manifest_text, "ra", &a);
	plan_of(manifest_text, "rb", &b);
	long transit = transit_of("ra");
	uint64_t cookie = cookie_of(a.netns);
	int host_idx = link_ifindex(W.hsk, a.uplink_host);
	assert_true(host_idx > 0);

	/* What a's machines leave: counters, a neighbour, a connection. */
	int ans = netns_open(a.netns);
	assert_true(ans >= 0);
	const struct plan_interface *tap = &a.machines[0].interfaces[0];
	assert_int_equal(slot_of(ans, tap->device, true).pass_packets, 7);
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "ip -n %s neigh add 10.20.0.77 lladdr 02:00:00:00:00:77 dev %s nud reachable",
		 a.netns, a.networks[0].bridge);
	assert_int_equal(system(cmd), 0);
	track_one(ans, a.networks[0].gateway);
	assert_int_equal(tracked_port9(ans), 1);
	close(ans);

	if (playground_recycle(W.f, "ra", &b, manifest_text, NULL, &W.err) < 0)
		fail_msg("recycle: %s", W.err.msg);

	/* a is gone by every name; b has its namespace, uplink and /31 */
	assert_false(netns_exists(a.netns));
	assert_int_equal(link_ifindex(W.hsk, a.uplink_host), -ENODEV);
	struct state_record ra;
	assert_int_equal(state_read(W.state_dir, "ra", &ra), -ENOENT);
	assert_holds(&b, cookie, host_idx, transit);

	/* b's marks, which recovery goes by */
	char want[128], alias[256];
	fabric_owner_alias(W.f, "rb", want, sizeof(want));
	assert_int_equal(link_alias(W.hsk, b.uplink_host, alias, sizeof(alias)), 0);
	assert_string_equal(alias, want);
	int bns = netns_open(b.netns);
	struct nl_sock *bsk = NULL;
	assert_int_equal(link_sock_open(bns, &bsk), 0);
	assert_int_equal(link_alias(bsk, "lo", alias, sizeof(alias)), 0);
	assert_string_equal(alias, want);
	link_sock_close(bsk);

	/* b's MACs in the guards, counters from zero; none of a's leftovers */
	for (size_t i = 0; i < b.n_machines; i++)
		for (size_t j = 0; j < b.machines[i].n_interfaces; j++) {
			const struct plan_interface *ifc = &b.machines[i].interfaces[j];
			struct guard_port p = slot_of(bns, ifc->device, false);
			assert_memory_equal(p.mac, ifc->mac, 6);
			assert_int_equal(p.pass_packets, 0);
		}
	assert_memory_not_equal(a.machines[0].interfaces[0].mac, b.machines[0].interfaces[0].mac, 6);
	struct guard_port up = slot_of(W.hns, b.uplink_host, false);
	uint32_t host, inside;
	fabric_transit_addrs(W.f, &(struct state_record){ .transit_index = transit }, &host,
			     &inside);
	assert_int_equal(up.ipv4, htonl(inside));
	snprintf(cmd, sizeof(cmd), "ip -n %s neigh show 10.20.0.77 | grep -q 02:00:00:00:00:77",
		 b.netns);
	assert_int_not_equal(system(cmd), 0);
	assert_int_equal(tracked_port9(bns), 0);
	close(bns);

	/* and the kernel has all of b's objects */
	assert_whole(&b);
	assert_int_equal(playground_delete(W.f, "rb", &W.err), 0);
	plan_free(&a);
	plan_free(&b);
}

/* Deleted and created again under its own name: reset where it stands,
 * with the same namespace, uplink and /31, and nothing of before. */
static void t_reset(void **state)
{
	(void)state;
	NEED_ROOT();
	struct plan a;
	deleted_playground(manifest_text, "rs", &a);
	long transit = transit_of("rs");
	uint64_t cookie = cookie_of(a.netns);
	int host_idx = link_ifindex(W.hsk, a.uplink_host);
	int ns = netns_open(a.netns);
	assert_true(ns >= 0 && host_idx > 0);
	const struct plan_interface *tap = &a.machines[0].interfaces[0];
	assert_int_equal(slot_of(ns, tap->device, true).pass_packets, 7);
	track_one(ns, a.networks[0].gateway);
	assert_int_equal(tracked_port9(ns), 1);

	if (playground_recycle(W.f, "rs", &a, manifest_text, NULL, &W.err) < 0)
		fail_msg("reset: %s", W.err.msg);

	assert_holds(&a, cookie, host_idx, transit);
	assert_int_equal(slot_of(ns, tap->device, false).pass_packets, 0);
	assert_int_equal(tracked_port9(ns), 0);
	close(ns);
	assert_whole(&a);
	/* ready again, so not to be reset twice */
	assert_int_equal(playground_recycle(W.f, "rs", &a, manifest_text, NULL, &W.err), -ESTALE);
	assert_int_equal(playground_delete(W.f, "rs", &W.err), 0);
	plan_free(&a);
}

/* 0 if the shell command that fmt makes succeeds. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* The frame (as many networks, each machine's ports on the same ones) is
 * what a takeover needs; comments, layout and title are not even seen. */
static void t_shape(void **state)
{
	(void)state;
	static const char relaid[] = "# playground for student 12\ntitle: Lab 12\n" ONE_MACHINE
				     "    - name: \"vm-b\"\n"
				     "      network:\n"
				     "        interfaces:\n"
				     "          - network: priv\n";
	static const char moved[] = ONE_MACHINE
				    "    - name: vm-b\n"
				    "      network: {interfaces: [{network: lan}]}\n";
	uint64_t shape = shape_of(manifest_text);
	assert_true(shape != 0);
	assert_true(shape_of(relaid) == shape);
	assert_false(shape_of(other_text) == shape); /* one machine fewer */
	assert_false(shape_of(moved) == shape);      /* a port on another network */
	assert_true(shape_of("kind: playground\nplayground: [\n") == 0);
}

/* A manifest of the same frame and nothing else alike: networks swapped
 * and renamed (so two bridges trade names), other subnets, NAT on the
 * other network, an MTU, other machines. Its create takes the namespace
 * over and refits it: P's names, aliases, gateways, table and policies,
 * none of OLD's. */
#define REFIT                                                                  \
	"kind: playground\n"                                                   \
	"playground:\n"                                                        \
	"  networks:\n"                                                        \
	"    - {name: priv, subnet: 10.40.0.0/24, mtu: 1400}\n"                 \
	"    - {name: lan, subnet: 10.50.0.0/24, private: true}\n"             \
	"  machines:\n"                                                        \
	"    - name: web\n"                                                    \
	"      network: {interfaces: [{network: priv}, {network: lan}]}\n"      \
	"    - name: db\n"                                                     \
	"      network: {interfaces: [{network: lan}]}\n"

static void t_refit(void **state)
{
	(void)state;
	NEED_ROOT();
	static const char refit[] = REFIT;
	struct plan a, b;
	deleted_playground(manifest_text, "fa", &a);
	plan_of(refit, "fb", &b);
	assert_true(shape_of(refit) == shape_of(manifest_text));
	uint64_t cookie = cookie_of(a.netns);
	int ans = netns_open(a.netns);
	struct nl_sock *sk = NULL;
	assert_true(ans >= 0);
	assert_int_equal(link_sock_open(ans, &sk), 0);
	int lan_idx = link_ifindex(sk, a.networks[0].bridge);
	int tap_idx = link_ifindex(sk, a.machines[1].interfaces[0].device);
	assert_true(lan_idx > 0 && tap_idx > 0);

	if (playground_recycle(W.f, "fa", &b, refit, NULL, &W.err) < 0)
		fail_msg("refit: %s", W.err.msg);
	assert_true(cookie_of(b.netns) == cookie);
	assert_false(netns_exists(a.netns));

	/* the same links, by P's names: a's first bridge is b's "priv" */
	assert_int_equal(link_ifindex(sk, b.networks[0].bridge), lan_idx);
	assert_int_equal(link_ifindex(sk, b.machines[1].interfaces[0].device), tap_idx);
	char alias[256];
	assert_int_equal(link_alias(sk, b.networks[0].bridge, alias, sizeof(alias)), 0);
	assert_string_equal(alias, "priv");
	assert_int_equal(link_alias(sk, "t-db-0", alias, sizeof(alias)), 0);
	assert_string_equal(alias, "db/eth0");
	for (size_t i = 0; i < a.n_machines; i++)
		assert_int_equal(link_ifindex(sk, a.machines[i].interfaces[0].device), -ENODEV);
	link_sock_close(sk);
	assert_int_equal(sh("ip -n %s -o link show br-priv | grep -q ' mtu 1400 '", b.netns), 0);
	assert_int_equal(sh("ip -n %s -o link show t-web-0 | grep -q ' mtu 1400 '", b.netns), 0);

	/* P's gateway on "priv", none on the now private "lan", none of a's */
	assert_int_equal(sh("test \"$(ip -n %s -4 -o addr show | awk '$2 ~ /^br-/ { print $2, $4 }')\" = 'br-priv 10.40.0.1/24'",
			    b.netns), 0);
	/* NAT for P's subnet only */
	assert_int_equal(sh("ip netns exec %s nft list table ip playnet | grep -q 'ip saddr 10.40.0.0/24 masquerade'",
			    b.netns), 0);
	assert_int_not_equal(sh("ip netns exec %s nft list table ip playnet | grep -q '10.20.0.0'",
				b.netns), 0);

	/* b's policies in the guards */
	int bns = netns_open(b.netns);
	for (size_t i = 0; i < b.n_machines; i++)
		for (size_t j = 0; j < b.machines[i].n_interfaces; j++) {
			const struct plan_interface *ifc = &b.machines[i].interfaces[j];
			struct guard_port gp = slot_of(bns, ifc->device, false);
			assert_memory_equal(gp.mac, ifc->mac, 6);
		}
	close(bns);
	close(ans);
	assert_whole(&b);
	struct state_record rec;
	assert_int_equal(state_read(W.state_dir, "fb", &rec), 0);
	assert_string_equal(rec.manifest, refit);
	state_record_free(&rec);
	assert_int_equal(playground_delete(W.f, "fb", &W.err), 0);
	plan_free(&a);
	plan_free(&b);
}

/* Whether name's objects are all there (1), all gone (0), or some (-1). */
static int presence(const struct plan *p)
{
	struct state_record rec;
	bool recorded = state_read(W.state_dir, p->name, &rec) == 0;
	if (recorded)
		state_record_free(&rec);
	bool ns = netns_exists(p->netns);
	bool up = link_ifindex(W.hsk, p->uplink_host) > 0;
	return recorded && ns && up ? 1 : !recorded && !ns && !up ? 0 : -1;
}

/* What cannot be taken over is left as it was. */
static void t_refused(void **state)
{
	(void)state;
	NEED_ROOT();
	struct plan a, b, other;
	deleted_playground(manifest_text, "na", &a);
	plan_of(manifest_text, "nb", &b);
	plan_of(other_text, "nb", &other);
	assert_int_equal(playground_recycle(W.f, "na", &other, other_text, NULL, &W.err), -ESTALE);
	assert_int_equal(playground_recycle(W.f, "no-such", &b, manifest_text, NULL, &W.err), -ESTALE);

	/* b exists: a conflict, as a create would say */
	assert_int_equal(playground_create(W.f, &b, manifest_text, NULL, &W.err), 0);
	assert_int_equal(playground_recycle(W.f, "na", &b, manifest_text, NULL, &W.err), -EEXIST);
	assert_int_equal(playground_delete(W.f, "nb", &W.err), 0);

	/* a bridge already taken apart */
	assert_int_equal(fabric_shed(W.f, "na", &W.err), 1);
	assert_int_equal(playground_recycle(W.f, "na", &b, manifest_text, NULL, &W.err), -ESTALE);
	assert_int_equal(presence(&a), 1);
	assert_int_equal(presence(&b), 0);

	/* a playground not being deleted */
	assert_int_equal(playground_delete(W.f, "na", &W.err), 0);
	assert_int_equal(playground_create(W.f, &a, manifest_text, NULL, &W.err), 0);
	assert_int_equal(playground_recycle(W.f, "na", &b, manifest_text, NULL, &W.err), -ESTALE);
	assert_int_equal(presence(&a), 1);
	assert_int_equal(presence(&b), 0);
	assert_int_equal(playground_delete(W.f, "na", &W.err), 0);
	plan_free(&a);
	plan_free(&b);
	plan_free(&other);
}

/* Each step failed in turn: the old playground as it was, or both gone,
 * and never a transit /31 left behind. With TEXT, b takes over a of
 * manifest_text: the same manifest, or one that a refit must rename,
 * re-address and re-table (more steps to fail). */
static void fail_each_step(const char *text)
{
	int kept = 0, removed = 0, step;
	for (step = 1; step < 200; step++) {
		struct plan a, b;
		char an[16], bn[16];
		snprintf(an, sizeof(an), "fa%d", step);
		snprintf(bn, sizeof(bn), "fb%d", step);
		deleted_playground(manifest_text, an, &a);
		plan_of(text, bn, &b);
		fabric_fail_at(W.f, step);
		int e = playground_recycle(W.f, an, &b, text, NULL, &W.err);
		fabric_fail_at(W.f, 0);
		if (e == 0) {
			assert_int_equal(presence(&b), 1);
			assert_int_equal(presence(&a), 0);
		} else {
			assert_int_equal(e, -ECANCELED);
			assert_int_equal(presence(&b), 0);
			int pa = presence(&a);
			assert_int_not_equal(pa, -1);
			kept += pa == 1;
			removed += pa == 0;
		}
		assert_int_equal(playground_delete(W.f, an, &W.err), 0);
		assert_int_equal(playground_delete(W.f, bn, &W.err), 0);
		plan_free(&a);
		plan_free(&b);
		if (e == 0)
			break;
	}
	assert_true(step < 200);
	assert_true(kept > 0 && removed > 0);
	/* no transit /31 is left allocated */
	assert_int_not_equal(sh("ls -A %s/transit | grep -q .", W.state_dir), 0);
}

static void t_fail_each_step(void **state)
{
	(void)state;
	NEED_ROOT();
	fail_each_step(manifest_text);
}

static void t_fail_each_refit_step(void **state)
{
	(void)state;
	NEED_ROOT();
	fail_each_step(REFIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_recycle),
		cmocka_unit_test(t_reset),
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_shape),
		cmocka_unit_test(t_refit),
		cmocka_unit_test(t_fail_each_step),
		cmocka_unit_test(t_fail_each_refit_step),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
