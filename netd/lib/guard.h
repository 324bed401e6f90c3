/*
 * Loader of the fabric's BPF programs (ebpf/guard.bpf.c): one object per
 * process, its maps pinned in bpffs so that policy and counters outlive the
 * process that wrote them; programs attached at tc ingress of many
 * interfaces, policy per interface in a slot of the maps that the
 * interface's netdev group names.
 */
#ifndef PLAYNET_GUARD_H
#define PLAYNET_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../ebpf/guard_abi.h"
#include "pn_error.h"

#define GUARD_PIN_ROOT "/sys/fs/bpf"

struct guard;

struct guard_counters {
	uint64_t pass_packets;
	uint64_t pass_bytes;
	uint64_t drops[GUARD_REASONS];
};

/* Loads the programs, reusing the maps pinned in pin_dir (made if absent;
 * bpffs mounted on GUARD_PIN_ROOT if it is not). */
int guard_open(const char *pin_dir, struct guard **out, struct pn_error *err);
void guard_close(struct guard *g);

struct nl_sock;

/* The tc block that every machine port of a namespace joins. */
#define GUARD_PORT_BLOCK 0x706e

/* The slot of interface k, claimed if it has none (-ENOSPC when all
 * GUARD_MAX_PORTS are taken): the interface must carry its number as its
 * netdev group (link_conf.group, in the request that brings it up) for the
 * programs to find its policy there. */
int guard_slot(struct guard *g, const struct guard_key *k, uint32_t *slot);

/* The slot interface k has; -ENOENT when it has none. */
int guard_slot_of(struct guard *g, const struct guard_key *k, uint32_t *slot);
/* The guard of a machine port k in its slot: its MAC, address, GUARD_F_*
 * flags; the port joins its namespace's GUARD_PORT_BLOCK. sk: a netlink
 * socket in k's namespace. */
int guard_attach_port(struct guard *g, struct nl_sock *sk, const struct guard_key *k,
		      uint32_t slot, const uint8_t mac[6], uint32_t ipv4, unsigned flags);
/* What passes k's port guard (in its slot) goes on to the next filter of
 * its block from now on (shaped), or to the bridge at once; its counters
 * stay. */
int guard_port_shaped(struct guard *g, const struct guard_key *k, bool shaped);
/* The uplink k leaves what goes to a denied destination to the host's
 * nftables (GUARD_FORWARD_MARK) when on: its playground has forwards. */
int guard_uplink_forwards(struct guard *g, const struct guard_key *k, bool on);
/* Whether a guard program (the uplink's, or the port's) runs at ingress of
 * the link ifindex in sk's namespace: by the name of the program there,
 * since a netd started again loads its programs anew. */
bool guard_attached(struct nl_sock *sk, int ifindex, bool uplink);

/* The port program on sk's namespace's GUARD_PORT_BLOCK, which a port must
 * have joined: once per namespace. */
int guard_port_block(struct guard *g, struct nl_sock *sk);
/* The guard of an uplink's host end k in its slot: packets must come from
 * transit_src; rate_bps > 0 limits the playground's egress to that many bits
 * per second. */
int guard_attach_uplink(struct guard *g, struct nl_sock *sk, const struct guard_key *k,
			uint32_t slot, uint32_t transit_src, uint64_t rate_bps);
/* New policy, counters from zero, for an interface that keeps its slot
 * and tc attachment: a port or an uplink taken over by another playground
 * (playground_recycle). */
int guard_reset_port(struct guard *g, const struct guard_key *k, uint32_t slot,
		     const uint8_t mac[6], uint32_t ipv4, unsigned flags);
int guard_reset_uplink(struct guard *g, const struct guard_key *k, uint32_t slot,
		       uint32_t transit_src, uint64_t rate_bps);
/* Forgets every interface of nsfd's namespace (a playground's ports). */
int guard_forget_netns(struct guard *g, int nsfd);
/* Forgets every interface whose key keep rejects: entries that outlived
 * their namespace. removed (may be NULL) counts them. */
int guard_sweep(struct guard *g, bool (*keep)(const struct guard_key *k, void *arg),
		void *arg, size_t *removed);
/* Forgets one interface (an uplink's host end); 0 if unknown. */
int guard_forget(struct guard *g, int nsfd, const char *dev);

/* Destination prefixes that leave no playground, and exceptions to them. */
int guard_deny(struct guard *g, uint32_t net, uint8_t prefix);
int guard_allow(struct guard *g, uint32_t net, uint8_t prefix);

/* Counters of an interface, summed over CPUs, from the pinned map alone:
 * no program is loaded. -ENOENT when the interface is not guarded. */
int guard_read(const char *pin_dir, int nsfd, const char *dev,
	       struct guard_counters *out);

/* Removes the pinned maps and the dir. */
int guard_unpin(const char *pin_dir);

const char *guard_reason_name(enum guard_reason r);

/* The prog fds, for tests that run them with BPF_PROG_TEST_RUN. */
int guard_port_fd(const struct guard *g);
int guard_uplink_fd(const struct guard *g);
int guard_rates_map_fd(const struct guard *g);
/* policy (its key aside) for k, counters from zero, in k's slot (claimed if
 * k has none), which *slot says: guard_slot and the policy half of
 * guard_attach_*, without tc. For tests, which set the group themselves. */
int guard_put_policy(struct guard *g, const struct guard_key *k,
		     const struct guard_port *policy, uint32_t *slot);

#endif
