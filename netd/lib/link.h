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

/* A bridge, up, no STP, with its network's name as alias. */
int link_bridge_add(struct nl_sock *sk, const char *name, const char *alias,
		    unsigned mtu, const uint8_t mac[6]);

/* Master (0: none), alias (NULL: keep), MTU (0: keep), then up. */
int link_configure(struct nl_sock *sk, const char *name, int master,
		   const char *alias, unsigned mtu);

/*
 * A veth pair: NAME here, enslaved to master (0: none), up; PEER in
 * peer_nsfd's namespace, with MAC (NULL: random) and MTU, still down: bring
 * it up from a socket in its namespace.
 */
int link_veth_add(struct nl_sock *sk, const char *name, int master,
		  const char *alias, const char *peer, int peer_nsfd,
		  const uint8_t *peer_mac, unsigned mtu);

/* 0 also when the link does not exist. */
int link_delete(struct nl_sock *sk, const char *name);

int link_set_up(struct nl_sock *sk, const char *name);

/* Calls fn for each link of sk's namespace, with its alias ("" if none);
 * a non-zero return stops the walk and is returned. */
int link_each(struct nl_sock *sk,
	      int (*fn)(const char *name, const char *alias, void *arg), void *arg);
/* The alias of one link ("" if none); -ENODEV when there is no such link. */
int link_alias(struct nl_sock *sk, const char *name, char *buf, size_t len);

int link_addr_add(struct nl_sock *sk, int ifindex, uint32_t addr,
		  uint8_t prefix);
int link_route_default(struct nl_sock *sk, uint32_t gateway);

/* libnl's error code as -errno. */
int link_nlerr(int nle);

#endif
