/*
 * nftables rulesets of the fabric, built with libnftnl, each sent as one
 * atomic batch (DESIGN.md section 2, issue 3):
 *
 * inside pg-P, table ip playnet (rules commented "REASON NETWORK" count
 * their drops, read back by nft_drops_read):
 *   prerouting (filter, before NAT): from a private bridge, drop;
 *     from another, ip saddr outside its subnet drop, and to pg-P's own
 *     addresses but its gateway drop
 *   postrouting (nat): oifname uplink0 ip saddr <non-private subnet> masquerade
 *   forward (filter, policy drop): iifname <non-private bridge> oifname
 *     uplink0 accept; iifname uplink0 oifname <that bridge> established,
 *     related accept; anything else from a bridge, drop
 *   Bridged frames do not reach these chains: the fabric turns bridge
 *   netfilter off in pg-P, so machines on one bridge always reach each other,
 *   and nothing is ever routed from one bridge to another.
 *
 *   dnat (nat): iifname uplink0, a forward's protocol and host port:
 *     dnat to its machine's address and port (and the forward chain takes
 *     ct status dnat from uplink0 to a non-private bridge)
 *
 * in the host netns, table ip playnet (shared by all playgrounds, replaced
 * atomically, the same whatever the transit pool, no per-playground element):
 *   postrouting (nat): iifname "pn-*" oifname != "pn-*" masquerade
 *   forward (filter): pn-* to pn-* drop; from pn-* accept; to pn-*
 *     established,related or ct status dnat accept, else drop
 *   input (filter): from pn-* established,related accept, else drop
 *   prerouting (filter): from pn-* with NFT_FORWARD_MARK (the uplink guard's,
 *     on what goes to a destination it denies, for a playground with
 *     forwards): a reply of a forward's connection accept, else drop
 *
 * and per playground P with forwards, table ip playnet-fwd-P:
 *   prerouting, output (nat): fib daddr type local [ip daddr A], the
 *     protocol and host port: dnat to P's uplink0 address, same port
 *   postrouting (nat): oifname P's host end, ip saddr 127.0.0.0/8
 *     masquerade (a client on the host's loopback)
 */
#ifndef PLAYNET_NFT_H
#define PLAYNET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "pn_error.h"

#define NFT_TABLE "playnet"
/* The table of a playground's forwards in the host netns. */
#define NFT_FORWARD_TABLE_MAX 64
/* What the uplink guard marks a packet it leaves to the host's nftables
 * with (guard_abi.h's GUARD_FORWARD_MARK). */
#define NFT_FORWARD_MARK 0x706e0001u

struct nft_batch;

/* Why pg-P dropped a packet from a network's bridge. */
#define NFT_DROP_PRIVATE "private" /* to pg-P's stack from a private network */
#define NFT_DROP_SPOOFED "spoofed" /* a source outside the network's subnet */
#define NFT_DROP_FABRIC "fabric"   /* to a pg-P address other than its gateway */
#define NFT_DROP_FORWARD "forward" /* to another network, or unsolicited */
#define NFT_DROP_REASONS 4

/* The drops of one network, by reason, in the order above. */
struct nft_drops {
	uint64_t packets[NFT_DROP_REASONS];
};

/* Reads the drop counters of pg-P's table: drops[i] for p's network i. */
int nft_drops_read(int nsfd, const struct plan *p, struct nft_drops *drops);
const char *nft_drop_reason_name(size_t r);

/* refill: P's rules take the place of those in the table there, in one
 * transaction (a takeover); its chains stay, which spares their hooks a
 * new registration (milliseconds, under churn). Else there must be no
 * table. */
int nft_playground_batch(const struct plan *p, bool refill, struct nft_batch **out);
int nft_host_batch(struct nft_batch **out);
/* P's forwards table replaced (deleted when P has no forward); inside is
 * the pg-P end of its uplink, host_end the host's. */
int nft_forward_batch(const struct plan *p, uint32_t inside, const char *host_end,
		      struct nft_batch **out);
void nft_forward_table_name(const char *pg, char out[NFT_FORWARD_TABLE_MAX]);
/* 1 if P's forwards table exists in nsfd's namespace, 0 if not, or -errno. */
int nft_forward_exists(int nsfd, const char *pg);
/* P's forwards table deleted; 0 also when there is none. */
int nft_forward_delete(int nsfd, const char *pg);
/* fn(P) for each forwards table in nsfd's namespace, until it returns
 * other than 0. */
int nft_forward_each(int nsfd, int (*fn)(const char *pg, void *arg), void *arg);

/* Objects (tables, chains, rules) in the batch, each acked on send. */
size_t nft_batch_objects(const struct nft_batch *b);
const void *nft_batch_data(const struct nft_batch *b, size_t *len);

/* Sends in nsfd's namespace (-1: current). On error, err says why.
 * close_fd, if not NULL, is handed the socket's last reference to close:
 * once a batch has deleted anything, the release of a netfilter netlink
 * socket waits until nf_tables has freed it, after an RCU grace period
 * (nft_rcv_nl_event), which a caller may rather not wait for. */
int nft_batch_send(const struct nft_batch *b, int nsfd, void (*close_fd)(int fd),
		   struct pn_error *err);
void nft_batch_free(struct nft_batch *b);

/* 1 if table ip playnet exists in nsfd's namespace, 0 if not, or -errno. */
int nft_table_exists(int nsfd);
/* Deletes table ip playnet; 0 also when it does not exist. */
int nft_table_delete(int nsfd);
/* Forgets every IPv4 connection nsfd's namespace tracks (its NAT among
 * them), through the same netfilter netlink. */
int nft_conntrack_flush(int nsfd);

#endif
