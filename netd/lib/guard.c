#define _GNU_SOURCE
#include "guard.h"
#include "nft.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* bpftool's generated code casts away const. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "guard.skel.h"
#include "guard_compat.skel.h"
#pragma GCC diagnostic pop
#include "link.h"
#include "log.h"
#include "netns.h"
#include "util.h"

static const char *const reason_names[GUARD_REASONS] = {
	[GUARD_DROP_SRC_MAC] = "src_mac",
	[GUARD_DROP_ARP_SHA] = "arp_sha",
	[GUARD_DROP_ARP_SPA] = "arp_spa",
	[GUARD_DROP_IP_SRC] = "ip_src",
	[GUARD_DROP_DHCP_SERVER] = "dhcp_server",
	[GUARD_DROP_UPLINK_SRC] = "uplink_src",
	[GUARD_DROP_UPLINK_DENY] = "uplink_deny",
	[GUARD_DROP_UPLINK_PROTO] = "uplink_proto",
	[GUARD_DROP_MALFORMED] = "malformed",
	[GUARD_DROP_UPLINK_RATE] = "uplink_rate",
	[GUARD_DROP_VLAN] = "vlan",
	[GUARD_DROP_ETHERTYPE] = "ethertype",
};

static const char *const map_names[] = { "guard_slots", "guard_index", "guard_owner",
					 "guard_rates", "guard_deny", "guard_allow" };

const char *guard_reason_name(enum guard_reason r)
{
	return r < GUARD_REASONS ? reason_names[r] : "?";
}

struct guard {
	/* One build of guard.bpf.c, by what the kernel has: fast from Linux
	 * 6.2, compat before (Debian 12's 6.1). */
	struct guard_bpf *fast;
	struct guard_compat_bpf *compat;
	struct bpf_object *obj; /* the one's */
	int ncpus;
	uint32_t next_slot; /* where the search for a free slot starts */
};

static int prog_fd(const struct guard *g, const char *name)
{
	return bpf_program__fd(bpf_object__find_program_by_name(g->obj, name));
}

static int map_fd(const struct guard *g, const char *name)
{
	return bpf_object__find_map_fd_by_name(g->obj, name);
}

int guard_port_fd(const struct guard *g)
{
	return prog_fd(g, "guard_port");
}

int guard_uplink_fd(const struct guard *g)
{
	return prog_fd(g, "guard_uplink");
}

static int slots_fd(const struct guard *g)
{
	return map_fd(g, "guard_slots");
}

static int index_fd(const struct guard *g)
{
	return map_fd(g, "guard_index");
}

static int owner_fd(const struct guard *g)
{
	return map_fd(g, "guard_owner");
}

int guard_rates_map_fd(const struct guard *g)
{
	return map_fd(g, "guard_rates");
}

/* Whether the kernel has the kfunc bpf_cast_to_kern_ctx (Linux 6.2 on),
 * which the fast build calls. */
static bool has_kern_ctx(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf)
		return false;
	bool have = btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) >= 0;
	btf__free(btf);
	return have;
}

/* libbpf's messages go through our log, warnings and errors only. */
static int guard_libbpf_print(enum libbpf_print_level level, const char *fmt,
			      va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	log_msg(level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_INFO, "libbpf: %s", buf);
	return 0;
}

static int guard_mount_bpffs(void)
{
	struct statfs st;
	if (statfs(GUARD_PIN_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", GUARD_PIN_ROOT, "bpf", 0, "mode=0700") < 0)
		return -errno;
	return 0;
}

int guard_open(const char *pin_dir, struct guard **out, struct pn_error *err)
{
	libbpf_set_print(guard_libbpf_print);
	int e = guard_mount_bpffs();
	if (e < 0)
		return pn_fail(err, e, "mount bpffs on %s", GUARD_PIN_ROOT);
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST)
		return pn_fail(err, -errno, "make %s", pin_dir);
	struct guard *g = calloc(1, sizeof(*g));
	if (!g)
		return pn_fail(err, -ENOMEM, "the guards");
	g->ncpus = libbpf_num_possible_cpus();
	g->next_slot = 1;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	if (has_kern_ctx() && (g->fast = guard_bpf__open_opts(&opts)))
		g->obj = g->fast->obj;
	else if (!g->fast && (g->compat = guard_compat_bpf__open_opts(&opts)))
		g->obj = g->compat->obj;
	if (!g->obj) {
		e = pn_fail(err, -errno, "open BPF object");
		free(g);
		return e;
	}
	e = g->fast ? guard_bpf__load(g->fast) : guard_compat_bpf__load(g->compat);
	if (e < 0) {
		pn_fail(err, e, "load BPF programs (verifier or pinned maps)");
		guard_close(g);
		return e;
	}
	*out = g;
	return 0;
}

void guard_close(struct guard *g)
{
	if (!g)
		return;
	guard_bpf__destroy(g->fast);
	guard_compat_bpf__destroy(g->compat);
	free(g);
}

static int guard_key_of(int nsfd, const char *dev, struct guard_key *k)
{
	memset(k, 0, sizeof(*k));
	uint64_t cookie;
	int e = netns_cookie(nsfd, &cookie);
	if (e < 0)
		return e;
	k->netns_cookie = cookie;
	int saved = netns_enter(nsfd);
	if (saved < 0)
		return saved;
	unsigned idx = if_nametoindex(dev);
	e = idx ? 0 : -errno;
	netns_leave(saved);
	k->ifindex = idx;
	return e;
}

/* Each CPU's value of a per-CPU map, padded to 8 bytes. */
#define GUARD_PERCPU_SIZE ((sizeof(struct guard_port) + 7) & ~(size_t)7)

/* The same policy on every CPU, counters from zero (policy NULL: a free
 * slot, all zeros). */
static int guard_put(struct guard *g, uint32_t slot, const struct guard_port *policy)
{
	cleanup_free char *vals = calloc((size_t)g->ncpus, GUARD_PERCPU_SIZE);
	if (!vals)
		return -ENOMEM;
	for (int i = 0; policy && i < g->ncpus; i++)
		memcpy(vals + (size_t)i * GUARD_PERCPU_SIZE, policy, sizeof(*policy));
	return bpf_map_update_elem(slots_fd(g), &slot, vals, BPF_ANY) < 0 ? -errno : 0;
}

int guard_slot_of(struct guard *g, const struct guard_key *k, uint32_t *slot)
{
	return bpf_map_lookup_elem(index_fd(g), k, slot) < 0 ? -errno : 0;
}

int guard_slot(struct guard *g, const struct guard_key *k, uint32_t *slot)
{
	if (guard_slot_of(g, k, slot) == 0)
		return 0;
	for (uint32_t tries = 1; tries < GUARD_MAX_PORTS; tries++) {
		uint32_t s = g->next_slot;
		g->next_slot = s + 1 < GUARD_MAX_PORTS ? s + 1 : 1;
		if (bpf_map_update_elem(owner_fd(g), &s, k, BPF_NOEXIST) < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		if (bpf_map_update_elem(index_fd(g), k, &s, BPF_ANY) < 0) {
			int e = -errno;
			bpf_map_delete_elem(owner_fd(g), &s);
			return e;
		}
		*slot = s;
		return 0;
	}
	return -ENOSPC;
}

/* Gives slot back: the key's entry first, the claim last, so that a crash
 * in between leaves a claim for guard_sweep, never a key without one. */
static void guard_free_slot(struct guard *g, const struct guard_key *k, uint32_t slot)
{
	uint32_t have;
	if (bpf_map_lookup_elem(index_fd(g), k, &have) == 0 && have == slot)
		bpf_map_delete_elem(index_fd(g), k);
	guard_put(g, slot, NULL);
	bpf_map_delete_elem(owner_fd(g), &slot);
}

/* policy in k's slot, with k as its owner. */
static int guard_put_owned(struct guard *g, const struct guard_key *k, uint32_t slot,
			   const struct guard_port *policy)
{
	struct guard_port p = *policy;
	p.key = *k;
	return guard_put(g, slot, &p);
}

int guard_put_policy(struct guard *g, const struct guard_key *k,
		     const struct guard_port *policy, uint32_t *slot)
{
	int e = guard_slot(g, k, slot);
	return e < 0 ? e : guard_put_owned(g, k, *slot, policy);
}

/*
 * sk is a netlink socket in the device's namespace. An ingress qdisc, not
 * clsact, and a port's on its namespace's shared block: each tc block bound
 * costs a walk of a list of every block in the system, clsact makes two,
 * and a playground has a port per machine interface. Not tcx, though it
 * needs no qdisc: its attach holds the rtnl lock across an RCU grace
 * period, ~15 ms each.
 */
static int guard_attach(struct guard *g, struct nl_sock *sk, const struct guard_key *k,
			uint32_t slot, const struct guard_port *policy, uint32_t block,
			int prog_fd, const char *prog)
{
	/* Policy first, so the first packet already meets it. */
	int e = guard_put_owned(g, k, slot, policy);
	if (e == 0 && (e = link_ingress_add(sk, (int)k->ifindex, block)) == 0 && !block)
		e = link_tc_bpf_attach(sk, (int)k->ifindex, 0, prog_fd, prog);
	if (e < 0)
		guard_free_slot(g, k, slot);
	return e;
}

static struct guard_port port_policy(const uint8_t mac[6], uint32_t ipv4, unsigned flags)
{
	struct guard_port p = { .flags = (uint16_t)(flags & ~GUARD_F_UPLINK),
				.ipv4 = htonl(ipv4) };
	memcpy(p.mac, mac, 6);
	return p;
}

int guard_attach_port(struct guard *g, struct nl_sock *sk, const struct guard_key *k,
		      uint32_t slot, const uint8_t mac[6], uint32_t ipv4, unsigned flags)
{
	const struct guard_port p = port_policy(mac, ipv4, flags);
	return guard_attach(g, sk, k, slot, &p, GUARD_PORT_BLOCK, -1, NULL);
}

int guard_reset_port(struct guard *g, const struct guard_key *k, uint32_t slot,
		     const uint8_t mac[6], uint32_t ipv4, unsigned flags)
{
	const struct guard_port p = port_policy(mac, ipv4, flags);
	return guard_put_owned(g, k, slot, &p);
}

_Static_assert(GUARD_FORWARD_MARK == NFT_FORWARD_MARK, "the guard marks what nft looks for");

/* k's policy on every CPU changed by set(p, arg), its counters kept. */
static int guard_update(struct guard *g, const struct guard_key *k,
			void (*set)(struct guard_port *p, unsigned arg), unsigned arg)
{
	uint32_t slot;
	int e = guard_slot_of(g, k, &slot);
	if (e < 0)
		return e;
	cleanup_free char *vals = calloc((size_t)g->ncpus, GUARD_PERCPU_SIZE);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(slots_fd(g), &slot, vals) < 0)
		return -errno;
	for (int i = 0; i < g->ncpus; i++) {
		struct guard_port *p = (struct guard_port *)(vals + (size_t)i * GUARD_PERCPU_SIZE);
		if (p->key.ifindex != k->ifindex || p->key.netns_cookie != k->netns_cookie)
			return -ESTALE;
		set(p, arg);
	}
	return bpf_map_update_elem(slots_fd(g), &slot, vals, BPF_EXIST) < 0 ? -errno : 0;
}

static void set_shaped(struct guard_port *p, unsigned shaped)
{
	p->shaped = shaped;
}

int guard_port_shaped(struct guard *g, const struct guard_key *k, bool shaped)
{
	return guard_update(g, k, set_shaped, shaped);
}

static void set_forwards(struct guard_port *p, unsigned on)
{
	p->flags = (uint16_t)(on ? p->flags | GUARD_F_FORWARDS : p->flags & ~GUARD_F_FORWARDS);
}

int guard_uplink_forwards(struct guard *g, const struct guard_key *k, bool on)
{
	return guard_update(g, k, set_forwards, on);
}

bool guard_attached(struct nl_sock *sk, int ifindex, bool uplink)
{
	uint32_t id = link_tc_bpf_prog(sk, ifindex);
	if (!id)
		return false;
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int e = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	return e == 0 && strcmp(info.name, uplink ? "guard_uplink" : "guard_port") == 0;
}

int guard_port_block(struct guard *g, struct nl_sock *sk)
{
	return link_tc_bpf_attach(sk, 0, GUARD_PORT_BLOCK, guard_port_fd(g), "guard_port");
}

/* A tenth of a second's worth, and at least a few full frames. */
static int guard_put_rate(struct guard *g, const struct guard_key *k, uint64_t rate_bps)
{
	struct guard_rate r = { .rate = rate_bps / 8 };
	if (r.rate > GUARD_RATE_MAX)
		r.rate = GUARD_RATE_MAX;
	r.burst = r.rate / 10 > 16384 ? r.rate / 10 : 16384;
	r.tokens = r.burst;
	return bpf_map_update_elem(guard_rates_map_fd(g), k, &r, BPF_ANY) < 0 ? -errno : 0;
}

/* The uplink's policy, its token bucket full. */
static int uplink_policy(struct guard *g, const struct guard_key *k, uint32_t transit_src,
			 uint64_t rate_bps, struct guard_port *p)
{
	*p = (struct guard_port){ .flags = GUARD_F_UPLINK, .ipv4 = htonl(transit_src) };
	if (!rate_bps)
		return 0;
	p->flags |= GUARD_F_RATE;
	return guard_put_rate(g, k, rate_bps);
}

int guard_attach_uplink(struct guard *g, struct nl_sock *sk, const struct guard_key *k,
			uint32_t slot, uint32_t transit_src, uint64_t rate_bps)
{
	struct guard_port p;
	int e = uplink_policy(g, k, transit_src, rate_bps, &p);
	return e < 0 ? e : guard_attach(g, sk, k, slot, &p, 0, guard_uplink_fd(g), "guard_uplink");
}

int guard_reset_uplink(struct guard *g, const struct guard_key *k, uint32_t slot,
		       uint32_t transit_src, uint64_t rate_bps)
{
	struct guard_port p;
	int e = uplink_policy(g, k, transit_src, rate_bps, &p);
	return e < 0 ? e : guard_put_owned(g, k, slot, &p);
}

int guard_forget(struct guard *g, int nsfd, const char *dev)
{
	struct guard_key k;
	int e = guard_key_of(nsfd, dev, &k);
	if (e < 0)
		return e == -ENODEV ? 0 : e;
	bpf_map_delete_elem(guard_rates_map_fd(g), &k);
	uint32_t slot;
	if (bpf_map_lookup_elem(index_fd(g), &k, &slot) < 0)
		return errno == ENOENT ? 0 : -errno;
	guard_free_slot(g, &k, slot);
	return 0;
}

/* Appends to a growing array of n items of size sz. */
static int push(void *arr, size_t *n, size_t *cap, const void *item, size_t sz)
{
	char **a = arr;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		char *grown = realloc(*a, c * sz);
		if (!grown)
			return -ENOMEM;
		*a = grown;
		*cap = c;
	}
	memcpy(*a + *n * sz, item, sz);
	(*n)++;
	return 0;
}

/* Whether slot s is k's claim that its index entry never got (a crash in
 * guard_slot between the two). */
static bool guard_orphan(struct guard *g, const struct guard_key *k, uint32_t s)
{
	uint32_t have;
	return bpf_map_lookup_elem(index_fd(g), k, &have) < 0 ? errno == ENOENT : have != s;
}

/* Frees the slots whose keys keep rejects, and orphaned claims; counts them
 * in *removed. Collected first: deleting while iterating restarts the walk. */
static int guard_sweep_slots(struct guard *g, bool (*keep)(const struct guard_key *k, void *arg),
			     void *arg, size_t *removed)
{
	uint32_t s, next, *prev = NULL, *doomed = NULL;
	size_t n = 0, cap = 0;
	int e = 0;
	while (e == 0 && bpf_map_get_next_key(owner_fd(g), prev, &next) == 0) {
		s = next;
		prev = &s;
		struct guard_key k;
		if (bpf_map_lookup_elem(owner_fd(g), &s, &k) == 0 &&
		    (!keep(&k, arg) || guard_orphan(g, &k, s)))
			e = push(&doomed, &n, &cap, &s, sizeof(s));
	}
	for (size_t i = 0; e == 0 && i < n; i++) {
		struct guard_key k;
		if (bpf_map_lookup_elem(owner_fd(g), &doomed[i], &k) < 0)
			continue;
		guard_free_slot(g, &k, doomed[i]);
		(*removed)++;
	}
	free(doomed);
	return e;
}

/* Deletes the keys of the rate map that keep rejects; counts them. */
static int guard_sweep_rates(int fd, bool (*keep)(const struct guard_key *k, void *arg),
			     void *arg, size_t *removed)
{
	struct guard_key k, next, *prev = NULL, *doomed = NULL;
	size_t n = 0, cap = 0;
	int e = 0;
	while (e == 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (!keep(&k, arg))
			e = push(&doomed, &n, &cap, &k, sizeof(k));
	}
	for (size_t i = 0; e == 0 && i < n; i++)
		*removed += bpf_map_delete_elem(fd, &doomed[i]) == 0;
	free(doomed);
	return e;
}

int guard_sweep(struct guard *g, bool (*keep)(const struct guard_key *k, void *arg),
		void *arg, size_t *removed)
{
	size_t dummy = 0;
	if (!removed)
		removed = &dummy;
	int e = guard_sweep_slots(g, keep, arg, removed);
	if (e == 0)
		e = guard_sweep_rates(guard_rates_map_fd(g), keep, arg, removed);
	return e;
}

static bool other_netns(const struct guard_key *k, void *arg)
{
	return k->netns_cookie != *(const uint64_t *)arg;
}

int guard_forget_netns(struct guard *g, int nsfd)
{
	uint64_t cookie;
	int e = netns_cookie(nsfd, &cookie);
	return e < 0 ? e : guard_sweep(g, other_netns, &cookie, NULL);
}

static int guard_lpm_put(int fd, uint32_t net, uint8_t prefix)
{
	struct guard_lpm_key k = { .prefixlen = prefix, .addr = htonl(net) };
	uint8_t one = 1;
	return bpf_map_update_elem(fd, &k, &one, BPF_ANY) < 0 ? -errno : 0;
}

int guard_deny(struct guard *g, uint32_t net, uint8_t prefix)
{
	return guard_lpm_put(map_fd(g, "guard_deny"), net, prefix);
}

int guard_allow(struct guard *g, uint32_t net, uint8_t prefix)
{
	return guard_lpm_put(map_fd(g, "guard_allow"), net, prefix);
}

static int pinned(const char *pin_dir, const char *map)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, map);
	int fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int guard_read(const char *pin_dir, int nsfd, const char *dev,
	       struct guard_counters *out)
{
	memset(out, 0, sizeof(*out));
	cleanup_close int index = pinned(pin_dir, "guard_index");
	cleanup_close int slots = pinned(pin_dir, "guard_slots");
	if (index < 0 || slots < 0)
		return index < 0 ? index : slots;
	struct guard_key k;
	int e = guard_key_of(nsfd, dev, &k);
	if (e < 0)
		return e;
	uint32_t slot;
	if (bpf_map_lookup_elem(index, &k, &slot) < 0)
		return -errno;
	int ncpus = libbpf_num_possible_cpus();
	cleanup_free char *vals = calloc((size_t)ncpus, GUARD_PERCPU_SIZE);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(slots, &slot, vals) < 0)
		return -errno;
	for (int i = 0; i < ncpus; i++) {
		const struct guard_port *p = (const void *)(vals + (size_t)i * GUARD_PERCPU_SIZE);
		out->pass_packets += p->pass_packets;
		out->pass_bytes += p->pass_bytes;
		for (int r = 0; r < GUARD_REASONS; r++)
			out->drops[r] += p->drops[r];
	}
	return 0;
}

int guard_unpin(const char *pin_dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(map_names); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", pin_dir, map_names[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	return rmdir(pin_dir) < 0 && errno != ENOENT ? -errno : 0;
}
