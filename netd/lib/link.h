/*
 * Links, addresses and routes through libnl-route-3, on a netlink socket
 * opened inside one namespace. Every request waits for its ack. Functions
 * return 0 or -errno.
 */
#ifndef PLAYNET_LINK_H
#define PLAYNET_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock;

int link_sock_open(int nsfd, struct nl_sock **out);
void link_sock_close(struct nl_sock *sk);

/* ifindex, or -ENODEV. */
int link_ifindex(struct nl_sock *sk, const char *name);

/* What link_configure sets on a link; zero fields leave it as it is. */
struct link_conf {
	int master;        /* the bridge it is a port of */
	const char *alias;
	unsigned mtu;
	bool forwarding;   /* IPv4 forwarding of what comes in on it */
	uint32_t group;    /* netdev group (IFLA_GROUP) */
	bool down;         /* leave it down: a qdisc added to a link that is
			    * up costs an RCU grace period (dev_deactivate) */
};

/* Sets c in one request (c may be NULL), and brings the link up unless
 * c->down. */
int link_configure(struct nl_sock *sk, const char *name, const struct link_conf *c);

/* A bridge, up, no STP, then configured with after (NULL: nothing; the
 * kernel ignores an alias given at creation). */
int link_bridge_add(struct nl_sock *sk, const char *name, unsigned mtu,
		    const uint8_t mac[6], const struct link_conf *after);

/*
 * A veth pair of one queue each way: NAME here, enslaved to master (0:
 * none), up unless after->down, then configured with after (NULL: nothing);
 * PEER in peer_nsfd's namespace, with MAC (NULL: random) and MTU, still
 * down: bring it up from a socket in its namespace.
 */
int link_veth_add(struct nl_sock *sk, const char *name, int master,
		  const char *peer, int peer_nsfd, const uint8_t *peer_mac,
		  unsigned mtu, const struct link_conf *after);

/* An ingress qdisc on the link, for tc filters, its block shared under the
 * index block with every link given the same (0: a block of its own); 0 if
 * it has one already. */
int link_ingress_add(struct nl_sock *sk, int ifindex, uint32_t block);

/* A BPF program (direct action, named name) at tc ingress, replacing the
 * one there: a filter of priority 1, handle 1, as libbpf's bpf_tc_attach
 * makes. On shared block block if not 0, which a link must have joined;
 * else on the ingress of ifindex, which needs an ingress or clsact qdisc. */
int link_tc_bpf_attach(struct nl_sock *sk, int ifindex, uint32_t block, int prog_fd,
		       const char *name);

/* The id of the BPF program at tc ingress of the link, on its own block or
 * a shared one; 0 when there is none. */
uint32_t link_tc_bpf_prog(struct nl_sock *sk, int ifindex);

/* Renames a link, up or not, and sets its alias (NULL: left as it is). */
int link_rename(struct nl_sock *sk, const char *name, const char *to, const char *alias);

/* Forgets every neighbour (ARP entry) learnt in sk's namespace; static
 * ones stay. */
int link_neigh_flush(struct nl_sock *sk);

/* 0 also when the link does not exist. */
int link_delete(struct nl_sock *sk, const char *name);

int link_set_up(struct nl_sock *sk, const char *name);
int link_set_down(struct nl_sock *sk, const char *name);

/* Calls fn for each link of sk's namespace, with its alias ("" if none);
 * a non-zero return stops the walk and is returned. */
int link_each(struct nl_sock *sk,
	      int (*fn)(const char *name, const char *alias, void *arg), void *arg);
/* The name of a link of that kind (IFLA_INFO_KIND: "bridge", "veth")
 * into name (IFNAMSIZ bytes): 1 if there is one, 0 if none. */
int link_find_kind(struct nl_sock *sk, const char *kind, char *name);
/* The alias of one link ("" if none); -ENODEV when there is no such link. */
int link_alias(struct nl_sock *sk, const char *name, char *buf, size_t len);

int link_addr_add(struct nl_sock *sk, int ifindex, uint32_t addr,
		  uint8_t prefix);
/* 0 also when the link has no such address. */
int link_addr_del(struct nl_sock *sk, int ifindex, uint32_t addr, uint8_t prefix);
int link_route_default(struct nl_sock *sk, uint32_t gateway);

/* libnl's error code as -errno. */
int link_nlerr(int nle);

#endif
