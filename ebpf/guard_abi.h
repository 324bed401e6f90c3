/*
 * Shared by the BPF programs (guard.bpf.c) and their loader (netd/lib/guard.c):
 * map keys, values and drop reasons, fixed-width types only.
 */
#ifndef PLAYNET_EBPF_GUARD_ABI_H
#define PLAYNET_EBPF_GUARD_ABI_H

#ifndef __BPF__
#include <linux/bpf.h>
#include <linux/types.h>
#endif

/* Guarded interfaces on a host (a playground has one per machine interface
 * and its uplink): slots of a preallocated per-CPU array, sizeof(struct
 * guard_port) = 144 bytes each per CPU. */
#define GUARD_MAX_PORTS 16384
#define GUARD_MAX_PREFIXES 4096

enum guard_reason {
	GUARD_DROP_SRC_MAC,     /* frame's source MAC is not the port's */
	GUARD_DROP_ARP_SHA,     /* ARP sender hardware address is not the port's */
	GUARD_DROP_ARP_SPA,     /* ip guard: ARP sender address not assigned */
	GUARD_DROP_IP_SRC,      /* ip guard: IPv4 source not assigned */
	GUARD_DROP_DHCP_SERVER, /* DHCP server reply (UDP from port 67 or to port 68) */
	GUARD_DROP_UPLINK_SRC,  /* leaving a playground from another source */
	GUARD_DROP_UPLINK_DENY, /* destination in the deny list */
	GUARD_DROP_UPLINK_PROTO, /* neither IPv4 nor ARP on an uplink */
	GUARD_DROP_MALFORMED,   /* too short for the headers it claims */
	GUARD_DROP_UPLINK_RATE, /* over the playground's egress rate */
	GUARD_DROP_VLAN,        /* port: a VLAN tag, or a second one */
	GUARD_DROP_ETHERTYPE,   /* port: an ethertype that could hide IPv4 or ARP */
	GUARD_REASONS,
};

/* Interface indexes repeat across namespaces: the netns cookie makes the
 * key unique. */
struct guard_key {
	__u64 netns_cookie;
	__u32 ifindex;
	__u32 pad;
};

#define GUARD_F_UPLINK (1u << 0)      /* uplink guard, else port guard */
#define GUARD_F_IP_SOURCE (1u << 1)   /* port: check IPv4/ARP sender address */
#define GUARD_F_DHCP_SERVER (1u << 2) /* port: drop DHCP server replies */
#define GUARD_F_RATE (1u << 3)        /* uplink: a token bucket in guard_rates */
#define GUARD_F_VLAN (1u << 4)        /* port: one VLAN tag allowed (the network opts in) */
#define GUARD_F_FORWARDS (1u << 5)    /* uplink: the playground has forwards */

/* An uplink with forwards leaves what goes to a denied destination to the
 * host's nftables with this mark, which keep only the replies of a
 * forward's connections (conntrack knows them; nft.h). */
#define GUARD_FORWARD_MARK 0x706e0001u

/*
 * A guarded interface's slot in the per-CPU array guard_slots: the policy
 * (the same on every CPU, written by the loader) and that CPU's counters
 * (summed by the reader). The interface carries its slot's number as its
 * netdev group (IFLA_GROUP), so a packet finds its policy by an array
 * index, not a hash; key says whose slot it is, so a stale group number
 * finds nothing (slot 0, every device's default group, is never used).
 */
struct guard_port {
	struct guard_key key;
	__u8 mac[6];   /* port: the machine's MAC */
	__u16 flags;
	__u32 ipv4;    /* network order: port's address, or uplink's transit source */
	__u32 shaped;  /* port: what passes goes on to the block's next filter,
			* which sends it to the port's ifb (shape.h); 0: on to
			* the bridge at once */
	__u64 pass_packets;
	__u64 pass_bytes;
	__u64 drops[GUARD_REASONS];
};

/* A playground's egress token bucket, shared by all CPUs. */
struct guard_rate {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 rate;    /* bytes per second */
	__u64 burst;   /* bytes */
	__u64 tokens;  /* bytes */
	__u64 last_ns;
};

#define GUARD_RATE_MAX 10000000000ull /* 80 Gbit/s: keeps the refill in 64 bits */

struct guard_lpm_key {
	__u32 prefixlen;
	__u32 addr; /* network order */
};

#endif
