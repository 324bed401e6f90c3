// SPDX-License-Identifier: GPL-2.0
/*
 * tc ingress programs of the fabric (DESIGN.md section 3).
 *
 * guard_port runs on every machine port (a VM's tap, the bridge end of a
 * netns machine's veth): frames there come from the machine. guard_uplink runs
 * on the host end of each uplink: packets there leave a playground, after its
 * NAT. Policy and counters live in one per-CPU array, at the slot the
 * interface's netdev group names (guard_abi.h): one array lookup per packet,
 * which the verifier inlines, decides and counts.
 *
 * Built twice: as it is, for kernels from 6.2, and with GUARD_PROBE_READ
 * (guard_compat), for older ones such as Debian 12's 6.1.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "guard_abi.h"

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1 0x9100 /* pre-standard stacked tags */
#define ETH_P_LLDP 0x88cc
#define ETH_P_PAE 0x888e
#define ETH_P_802_3_MIN 0x0600 /* below: a length, an 802.2 LLC frame (STP) */
#define IPPROTO_UDP 17
#define DHCP_CLIENT_PORT 68

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GUARD_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct guard_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} guard_slots SEC(".maps");

/* The loader's own books, which no program reads: the slot of each key,
 * and the key of each slot taken (claimed with BPF_NOEXIST, so that two
 * processes sharing the pins never take the same one). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_PORTS);
	__type(key, struct guard_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} guard_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct guard_key);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} guard_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_PORTS);
	__type(key, struct guard_key);
	__type(value, struct guard_rate);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} guard_rates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GUARD_MAX_PREFIXES);
	__type(key, struct guard_lpm_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} guard_deny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GUARD_MAX_PREFIXES);
	__type(key, struct guard_lpm_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} guard_allow SEC(".maps");

#ifndef GUARD_PROBE_READ
extern void *bpf_cast_to_kern_ctx(void *) __ksym;
#endif

/*
 * Only the fields we read, as CO-RE flavors of the kernel's structs: naming
 * struct sk_buff itself would pull most of the kernel's types into this
 * object's BTF (hundreds of KB, loaded and checked at every start).
 */
struct net___guard {
	__u64 net_cookie;
} __attribute__((preserve_access_index));

struct possible_net_t___guard {
	struct net___guard *net;
} __attribute__((preserve_access_index));

struct net_device___guard {
	struct possible_net_t___guard nd_net;
	__u32 group;
} __attribute__((preserve_access_index));

struct sk_buff___guard {
	struct net_device___guard *dev;
} __attribute__((preserve_access_index));

/* The policy of the device the packet came in on, if it is ours: the slot
 * its group names, if that slot is this device's, by ifindex and the
 * cookie of its namespace (taps of two playgrounds may share an ifindex,
 * never a (cookie, ifindex) pair). */
static __always_inline struct guard_port *guard_of(struct __sk_buff *ctx)
{
#ifdef GUARD_PROBE_READ
	/* A tc program's context is the kernel's sk_buff: before Linux 6.2,
	 * which brought bpf_cast_to_kern_ctx, its fields are read through
	 * bpf_probe_read_kernel (CO-RE), at ~90 ns a packet more. */
	struct sk_buff___guard *skb = (void *)ctx;
	struct net_device___guard *dev = BPF_CORE_READ(skb, dev);
	__u32 slot = BPF_CORE_READ(dev, group);
	__u64 cookie = BPF_CORE_READ(dev, nd_net.net, net_cookie);
#else
	struct sk_buff___guard *skb = bpf_cast_to_kern_ctx(ctx);
	struct net_device___guard *dev = skb->dev;
	__u32 slot = dev->group;
	__u64 cookie = dev->nd_net.net->net_cookie;
#endif
	struct guard_port *p = bpf_map_lookup_elem(&guard_slots, &slot);
	if (!p || p->key.ifindex != ctx->ifindex || p->key.netns_cookie != cookie)
		return NULL;
	return p;
}

static __always_inline int drop(struct guard_port *p, enum guard_reason why)
{
	p->drops[why]++;
	return TC_ACT_SHOT;
}

static __always_inline int pass(struct guard_port *p, struct __sk_buff *skb)
{
	p->pass_packets++;
	p->pass_bytes += skb->len;
	/* On to the block's next filter, which sends it to the port's ifb
	 * (tc's mirred, as every kernel's ifb takes it); the ifb sends it back
	 * in on this port, past tc. */
	return p->shaped ? TC_ACT_UNSPEC : TC_ACT_OK;
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/* ARP for IPv4 over Ethernet: the fixed part and the sender fields. */
struct arp_eth {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
} __attribute__((packed));

static __always_inline int port_arp(struct guard_port *p, struct __sk_buff *skb,
				    void *l3, void *end)
{
	struct arp_eth *arp = l3;
	if ((void *)(arp + 1) > end)
		return drop(p, GUARD_DROP_MALFORMED);
	if (!mac_eq(arp->sha, p->mac))
		return drop(p, GUARD_DROP_ARP_SHA);
	if (p->flags & GUARD_F_IP_SOURCE) {
		__u32 spa = *(__u32 *)arp->spa;
		/* 0.0.0.0: an address conflict probe (RFC 5227) */
		if (spa && spa != p->ipv4)
			return drop(p, GUARD_DROP_ARP_SPA);
	}
	return pass(p, skb);
}

static __always_inline int port_ipv4(struct guard_port *p, struct __sk_buff *skb,
				     void *l3, void *end)
{
	struct iphdr *ip = l3;
	if ((void *)(ip + 1) > end)
		return drop(p, GUARD_DROP_MALFORMED);
	/* 0.0.0.0: a DHCP client before it has an address */
	if ((p->flags & GUARD_F_IP_SOURCE) && ip->saddr && ip->saddr != p->ipv4)
		return drop(p, GUARD_DROP_IP_SRC);
	if ((p->flags & GUARD_F_DHCP_SERVER) && ip->protocol == IPPROTO_UDP) {
		__u32 ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return drop(p, GUARD_DROP_MALFORMED);
		struct udphdr *udp = l3 + ihl;
		if ((void *)(udp + 1) > end)
			return drop(p, GUARD_DROP_MALFORMED);
		/* A client takes whatever reaches its port 68 as a server's
		 * reply, whichever port it came from. */
		if (udp->dest == bpf_htons(DHCP_CLIENT_PORT) || udp->source == bpf_htons(67))
			return drop(p, GUARD_DROP_DHCP_SERVER);
	}
	return pass(p, skb);
}

SEC("tc")
int guard_port(struct __sk_buff *skb)
{
	struct guard_port *p = guard_of(skb);
	if (!p)
		return TC_ACT_OK; /* not a port of ours */
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return drop(p, GUARD_DROP_MALFORMED);
	if (!mac_eq(eth->h_source, p->mac))
		return drop(p, GUARD_DROP_SRC_MAC);
	/* The kernel has taken the outer tag off before tc (skb->vlan_present);
	 * a tag still in the frame is the second of a stack, which the bridge
	 * and the machines behind it strip in turn. Unchecked, either would
	 * carry ARP or IPv4 past every check below. */
	__u16 proto = bpf_ntohs(eth->h_proto);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD || proto == ETH_P_QINQ1)
		return drop(p, GUARD_DROP_VLAN);
	if (skb->vlan_present && !(p->flags & GUARD_F_VLAN))
		return drop(p, GUARD_DROP_VLAN);
	if (proto == ETH_P_ARP)
		return port_arp(p, skb, eth + 1, end);
	if (proto == ETH_P_IP)
		return port_ipv4(p, skb, eth + 1, end);
	/* What else may pass: IPv6 and the link's own control frames. Any
	 * other ethertype (MPLS, PPPoE, PBB, ...) can carry IPv4 or a whole
	 * frame inside, which no check here would see. */
	if (proto == ETH_P_IPV6 || proto == ETH_P_LLDP || proto == ETH_P_PAE ||
	    proto < ETH_P_802_3_MIN)
		return pass(p, skb);
	return drop(p, GUARD_DROP_ETHERTYPE);
}

/* Token bucket: refilled by elapsed time, at most a second's worth at once
 * (the bucket holds less anyway), so the product stays within 64 bits. */
static __always_inline int over_rate(const struct guard_key *k, __u32 len)
{
	struct guard_rate *r = bpf_map_lookup_elem(&guard_rates, k);
	if (!r)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	int over = 0;
	bpf_spin_lock(&r->lock);
	__u64 elapsed = now - r->last_ns;
	if (elapsed > 1000000000ull)
		elapsed = 1000000000ull;
	__u64 tokens = r->tokens + elapsed * r->rate / 1000000000ull;
	if (tokens > r->burst)
		tokens = r->burst;
	r->last_ns = now;
	if (tokens < len)
		over = 1;
	else
		tokens -= len;
	r->tokens = tokens;
	bpf_spin_unlock(&r->lock);
	return over;
}

SEC("tc")
int guard_uplink(struct __sk_buff *skb)
{
	struct guard_port *p = guard_of(skb);
	if (!p)
		return TC_ACT_OK;
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return drop(p, GUARD_DROP_MALFORMED);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return pass(p, skb); /* the /31's neighbour resolution */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return drop(p, GUARD_DROP_UPLINK_PROTO);
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return drop(p, GUARD_DROP_MALFORMED);
	if (ip->saddr != p->ipv4)
		return drop(p, GUARD_DROP_UPLINK_SRC);
	/* Most traffic is not denied: one trie lookup; the exceptions are
	 * consulted only for what the deny list catches. */
	struct guard_lpm_key lk = { .prefixlen = 32, .addr = ip->daddr };
	if (bpf_map_lookup_elem(&guard_deny, &lk) && !bpf_map_lookup_elem(&guard_allow, &lk)) {
		if (!(p->flags & GUARD_F_FORWARDS))
			return drop(p, GUARD_DROP_UPLINK_DENY);
		skb->mark = GUARD_FORWARD_MARK;
	}
	struct guard_key k = p->key;
	if ((p->flags & GUARD_F_RATE) && over_rate(&k, skb->len))
		return drop(p, GUARD_DROP_UPLINK_RATE);
	return pass(p, skb);
}
