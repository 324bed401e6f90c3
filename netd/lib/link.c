#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <linux/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"

int link_nlerr(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
	case NLE_MSGTYPE_NOSUPPORT:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	default:
		return -EIO;
	}
}

int link_sock_open(int nsfd, struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	/* The socket belongs to the namespace it is created in: make the fd
	 * there and hand it to libnl. */
	int fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0) {
		nl_socket_free(sk);
		return fd;
	}
	int e = nl_socket_set_fd(sk, NETLINK_ROUTE, fd);
	if (e < 0) {
		close(fd);
		nl_socket_free(sk);
		return link_nlerr(e);
	}
	*out = sk;
	return 0;
}

void link_sock_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk); /* closes the fd */
}

int link_ifindex(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	int e = rtnl_link_get_kernel(sk, 0, name, &l);
	if (e < 0)
		return link_nlerr(e);
	int idx = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return idx;
}

static struct nl_addr *link_lladdr(const uint8_t mac[6])
{
	return nl_addr_build(AF_LLC, mac, 6);
}

int link_bridge_add(struct nl_sock *sk, const char *name, const char *alias,
		    unsigned mtu, const uint8_t mac[6])
{
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	struct nl_addr *a = mac ? link_lladdr(mac) : NULL;
	if (a)
		rtnl_link_set_addr(l, a);
	rtnl_link_set_flags(l, IFF_UP);
	int e = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	nl_addr_put(a);
	if (e < 0)
		return link_nlerr(e);
	/* The kernel ignores IFLA_IFALIAS when it creates a link. */
	return alias ? link_configure(sk, name, 0, alias, 0) : 0;
}

int link_configure(struct nl_sock *sk, const char *name, int master,
		   const char *alias, unsigned mtu)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	int e = -ENOMEM;
	if (!orig || !change)
		goto out;
	/* libnl identifies the link by the change's name when the original
	 * has no ifindex. */
	rtnl_link_set_name(orig, name);
	rtnl_link_set_name(change, name);
	if (master)
		rtnl_link_set_master(change, master);
	if (alias)
		rtnl_link_set_ifalias(change, alias);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	rtnl_link_set_flags(change, IFF_UP);
	e = link_nlerr(rtnl_link_change(sk, orig, change, 0));
out:
	rtnl_link_put(orig);
	rtnl_link_put(change);
	return e;
}

int link_set_up(struct nl_sock *sk, const char *name)
{
	return link_configure(sk, name, 0, NULL, 0);
}

int link_each(struct nl_sock *sk,
	      int (*fn)(const char *name, const char *alias, void *arg), void *arg)
{
	struct nl_cache *cache = NULL;
	int e = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (e < 0)
		return link_nlerr(e);
	int r = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && r == 0;
	     o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *alias = rtnl_link_get_ifalias(l);
		r = fn(rtnl_link_get_name(l), alias ? alias : "", arg);
	}
	nl_cache_free(cache);
	return r;
}

int link_alias(struct nl_sock *sk, const char *name, char *buf, size_t len)
{
	struct rtnl_link *l = NULL;
	int e = rtnl_link_get_kernel(sk, 0, name, &l);
	if (e < 0)
		return link_nlerr(e);
	const char *alias = rtnl_link_get_ifalias(l);
	snprintf(buf, len, "%s", alias ? alias : "");
	rtnl_link_put(l);
	return 0;
}

int link_veth_add(struct nl_sock *sk, const char *name, int master,
		  const char *alias, const char *peer_name, int peer_nsfd,
		  const uint8_t *peer_mac, unsigned mtu)
{
	struct rtnl_link *l = rtnl_link_veth_alloc();
	if (!l)
		return -ENOMEM;
	struct rtnl_link *peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, name);
	if (master)
		rtnl_link_set_master(l, master);
	if (mtu) {
		rtnl_link_set_mtu(l, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	rtnl_link_set_flags(l, IFF_UP);
	rtnl_link_set_name(peer, peer_name);
	if (peer_nsfd >= 0)
		rtnl_link_set_ns_fd(peer, peer_nsfd);
	struct nl_addr *a = peer_mac ? link_lladdr(peer_mac) : NULL;
	if (a)
		rtnl_link_set_addr(peer, a);
	/* No IFF_UP on the peer: the kernel configures it before the two ends
	 * know each other, and veth_open then fails with ENOTCONN. */
	int e = link_nlerr(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_link_put(peer);
	rtnl_link_put(l);
	nl_addr_put(a);
	if (e < 0 || !alias)
		return e;
	return link_configure(sk, name, 0, alias, 0);
}

int link_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	int e = link_nlerr(rtnl_link_delete(sk, l));
	rtnl_link_put(l);
	return e == -ENODEV ? 0 : e;
}

static struct nl_addr *link_inaddr(uint32_t addr, uint8_t prefix)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);
	if (a)
		nl_addr_set_prefixlen(a, prefix);
	return a;
}

int link_addr_add(struct nl_sock *sk, int ifindex, uint32_t addr,
		  uint8_t prefix)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = link_inaddr(addr, prefix);
	int e = -ENOMEM;
	if (ra && local) {
		rtnl_addr_set_ifindex(ra, ifindex);
		rtnl_addr_set_local(ra, local);
		rtnl_addr_set_prefixlen(ra, prefix);
		e = link_nlerr(rtnl_addr_add(sk, ra, NLM_F_EXCL));
	}
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return e;
}

int link_route_default(struct nl_sock *sk, uint32_t gateway)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = link_inaddr(0, 0), *gw = link_inaddr(gateway, 32);
	int e = -ENOMEM;
	if (r && nh && dst && gw) {
		rtnl_route_set_family(r, AF_INET);
		rtnl_route_set_dst(r, dst);
		rtnl_route_nh_set_gateway(nh, gw);
		rtnl_route_add_nexthop(r, nh);
		nh = NULL; /* owned by the route now */
		e = link_nlerr(rtnl_route_add(sk, r, NLM_F_EXCL));
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	nl_addr_put(gw);
	rtnl_route_put(r);
	return e;
}
