#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
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
	/* Bound before libnl reads its port id: an unbound socket has port 0,
	 * and multicast notifications (the host's address changes, say) are
	 * never delivered to it. */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int b = -errno;
		close(fd);
		nl_socket_free(sk);
		return b;
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
	/* An ioctl on the netlink socket answers for the socket's namespace,
	 * and costs far less than an RTM_GETLINK, which fills in statistics
	 * and every address family's settings. */
	struct ifreq ifr = { 0 };
	if (strlen(name) >= sizeof(ifr.ifr_name))
		return -ENODEV;
	strcpy(ifr.ifr_name, name);
	if (ioctl(nl_socket_get_fd(sk), SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	return ifr.ifr_ifindex;
}

static struct nl_addr *link_lladdr(const uint8_t mac[6])
{
	return nl_addr_build(AF_LLC, mac, 6);
}

int link_bridge_add(struct nl_sock *sk, const char *name, unsigned mtu,
		    const uint8_t mac[6], const struct link_conf *after)
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
	return after ? link_configure(sk, name, after) : 0;
}

int link_configure(struct nl_sock *sk, const char *name, const struct link_conf *c)
{
	static const struct link_conf none;
	if (!c)
		c = &none;
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	int e = -NLE_NOMEM;
	if (!orig || !change)
		goto out;
	/* libnl identifies the link by the change's name when the original
	 * has no ifindex. */
	rtnl_link_set_name(orig, name);
	rtnl_link_set_name(change, name);
	if (c->master)
		rtnl_link_set_master(change, c->master);
	if (c->alias)
		rtnl_link_set_ifalias(change, c->alias);
	if (c->mtu)
		rtnl_link_set_mtu(change, c->mtu);
	if (c->group)
		rtnl_link_set_group(change, c->group);
	if (c->forwarding && (e = rtnl_link_inet_set_conf(change, IPV4_DEVCONF_FORWARDING, 1)) < 0)
		goto out;
	if (!c->down)
		rtnl_link_set_flags(change, IFF_UP);
	e = rtnl_link_change(sk, orig, change, 0);
out:
	rtnl_link_put(orig);
	rtnl_link_put(change);
	return link_nlerr(e);
}

int link_rename(struct nl_sock *sk, const char *name, const char *to, const char *alias)
{
	int idx = link_ifindex(sk, name);
	if (idx < 0)
		return idx;
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	int e = -NLE_NOMEM;
	if (orig && change) {
		rtnl_link_set_ifindex(orig, idx);
		rtnl_link_set_name(change, to);
		if (alias)
			rtnl_link_set_ifalias(change, alias);
		e = rtnl_link_change(sk, orig, change, 0);
	}
	rtnl_link_put(orig);
	rtnl_link_put(change);
	return link_nlerr(e);
}

int link_neigh_flush(struct nl_sock *sk)
{
	struct nl_cache *cache = NULL;
	int e = rtnl_neigh_alloc_cache(sk, &cache);
	if (e < 0)
		return link_nlerr(e);
	for (struct nl_object *o = nl_cache_get_first(cache); o && e >= 0;
	     o = nl_cache_get_next(o)) {
		struct rtnl_neigh *n = (struct rtnl_neigh *)o;
		if (rtnl_neigh_get_state(n) & (NUD_PERMANENT | NUD_NOARP))
			continue;
		e = rtnl_neigh_delete(sk, n, 0);
		if (e == -NLE_OBJ_NOTFOUND)
			e = 0; /* gone meanwhile */
	}
	nl_cache_free(cache);
	return link_nlerr(e);
}

int link_set_up(struct nl_sock *sk, const char *name)
{
	return link_configure(sk, name, NULL);
}

int link_set_down(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	int e = -NLE_NOMEM;
	if (orig && change) {
		rtnl_link_set_name(orig, name);
		rtnl_link_set_name(change, name);
		rtnl_link_unset_flags(change, IFF_UP);
		e = rtnl_link_change(sk, orig, change, 0);
	}
	rtnl_link_put(orig);
	rtnl_link_put(change);
	return link_nlerr(e);
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

int link_find_kind(struct nl_sock *sk, const char *kind, char *name)
{
	struct nl_cache *cache = NULL;
	int e = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (e < 0)
		return link_nlerr(e);
	int found = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !found;
	     o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *type = rtnl_link_get_type(l);
		found = type && strcmp(type, kind) == 0;
		if (found)
			snprintf(name, IFNAMSIZ, "%s", rtnl_link_get_name(l));
	}
	nl_cache_free(cache);
	return found;
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
		  const char *peer_name, int peer_nsfd, const uint8_t *peer_mac,
		  unsigned mtu, const struct link_conf *after)
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
	if (!after || !after->down)
		rtnl_link_set_flags(l, IFF_UP);
	/* One queue each way from the start: the kernel otherwise makes one
	 * per CPU and cuts them to one once registered, across an RCU grace
	 * period. */
	rtnl_link_set_num_tx_queues(l, 1);
	rtnl_link_set_num_rx_queues(l, 1);
	rtnl_link_set_num_tx_queues(peer, 1);
	rtnl_link_set_num_rx_queues(peer, 1);
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
	if (e < 0 || !after)
		return e;
	return link_configure(sk, name, after);
}

/* A tc request: the message with its tcmsg, or NULL without memory. */
static struct nl_msg *tc_msg(int type, int flags, struct tcmsg *t)
{
	struct nl_msg *m = nlmsg_alloc_simple(type, flags);
	if (m && nlmsg_append(m, t, sizeof(*t), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/* Sends m (freed) and waits for the ack, unless building it failed (e). */
static int tc_send(struct nl_sock *sk, struct nl_msg *m, int e)
{
	if (e < 0) {
		nlmsg_free(m);
		return link_nlerr(e);
	}
	return link_nlerr(nl_send_sync(sk, m));
}

int link_ingress_add(struct nl_sock *sk, int ifindex, uint32_t block)
{
	struct tcmsg t = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0), /* ffff: */
		.tcm_parent = TC_H_INGRESS,
	};
	struct nl_msg *m = tc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &t);
	if (!m)
		return -ENOMEM;
	int e = nla_put_string(m, TCA_KIND, "ingress");
	if (e == 0 && block)
		e = nla_put_u32(m, TCA_INGRESS_BLOCK, block);
	e = tc_send(sk, m, e);
	return e == -EEXIST ? 0 : e;
}

/* Where our filter is: priority 1, handle 1, every protocol (as libbpf's
 * bpf_tc_attach has it), at ingress of ifindex or on shared block block,
 * which answers only to its index. */
static struct tcmsg bpf_filter(int ifindex, uint32_t block)
{
	return (struct tcmsg){
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = block ? (int)TCM_IFINDEX_MAGIC_BLOCK : ifindex,
		.tcm_handle = 1,
		.tcm_parent = block ? block : TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		.tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL)),
	};
}

int link_tc_bpf_attach(struct nl_sock *sk, int ifindex, uint32_t block, int prog_fd,
		       const char *name)
{
	struct tcmsg t = bpf_filter(ifindex, block);
	struct nl_msg *m = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, &t);
	if (!m)
		return -ENOMEM;
	struct nlattr *opts;
	int e = nla_put_string(m, TCA_KIND, "bpf");
	if (e == 0 && !(opts = nla_nest_start(m, TCA_OPTIONS)))
		e = -NLE_NOMEM;
	if (e == 0)
		e = nla_put_u32(m, TCA_BPF_FD, (uint32_t)prog_fd);
	if (e == 0)
		e = nla_put_string(m, TCA_BPF_NAME, name);
	if (e == 0)
		e = nla_put_u32(m, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	if (e == 0)
		e = nla_nest_end(m, opts);
	return tc_send(sk, m, e);
}

/* The one message of a tc answer or dump that matches: its attributes. */
struct tc_answer {
	int ifindex;     /* what to match: the tcmsg's ifindex */
	uint32_t parent; /* and parent */
	struct nlattr *tb[TCA_MAX + 1];
	struct nl_msg *msg; /* held while tb points into it */
};

static int tc_answer_cb(struct nl_msg *m, void *arg)
{
	struct tc_answer *a = arg;
	const struct tcmsg *t = nlmsg_data(nlmsg_hdr(m));
	if (a->msg || t->tcm_ifindex != a->ifindex || t->tcm_parent != a->parent ||
	    nlmsg_parse(nlmsg_hdr(m), sizeof(*t), a->tb, TCA_MAX, NULL) < 0)
		return NL_SKIP;
	nlmsg_get(m);
	a->msg = m;
	return NL_OK;
}

/* Sends a request (flags: NLM_F_DUMP, NLM_F_ECHO or 0) and keeps in a the
 * answer that matches t's ifindex and parent. */
static int tc_ask(struct nl_sock *sk, int type, int flags, struct tcmsg *t,
		  struct tc_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->ifindex = t->tcm_ifindex;
	a->parent = t->tcm_parent;
	struct nl_msg *m = tc_msg(type, flags, t);
	struct nl_cb *own = nl_socket_get_cb(sk); /* a reference */
	struct nl_cb *cb = own ? nl_cb_clone(own) : NULL;
	nl_cb_put(own);
	int e = m && cb ? 0 : -NLE_NOMEM;
	if (e == 0)
		e = nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, tc_answer_cb, a);
	if (e == 0 && (e = nl_send_auto(sk, m)) >= 0)
		e = nl_recvmsgs(sk, cb);
	/* A GET's answer comes before the ack that libnl asked for: read it,
	 * or the socket's next request takes it for its own answer. */
	if (e >= 0 && a->msg && !(flags & NLM_F_DUMP))
		e = nl_wait_for_ack(sk);
	nlmsg_free(m);
	nl_cb_put(cb);
	if (e >= 0 && !a->msg)
		e = -NLE_OBJ_NOTFOUND;
	return e < 0 ? link_nlerr(e) : 0;
}

uint32_t link_tc_bpf_prog(struct nl_sock *sk, int ifindex)
{
	struct tcmsg q = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_INGRESS,
	};
	/* The kernel sends a qdisc GET's answer to the tc multicast group,
	 * and to the asker only with NLM_F_ECHO; a dump would walk every
	 * device of the namespace (thousands of uplinks in a host netns). */
	q.tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0);
	struct tc_answer a;
	if (tc_ask(sk, RTM_GETQDISC, NLM_F_ECHO, &q, &a) < 0)
		return 0;
	uint32_t block = a.tb[TCA_INGRESS_BLOCK] ? nla_get_u32(a.tb[TCA_INGRESS_BLOCK]) : 0;
	nlmsg_free(a.msg);
	struct tcmsg f = bpf_filter(ifindex, block);
	if (tc_ask(sk, RTM_GETTFILTER, 0, &f, &a) < 0)
		return 0;
	struct nlattr *opt[TCA_BPF_MAX + 1];
	uint32_t id = 0;
	if (a.tb[TCA_OPTIONS] && nla_parse_nested(opt, TCA_BPF_MAX, a.tb[TCA_OPTIONS], NULL) == 0 &&
	    opt[TCA_BPF_ID])
		id = nla_get_u32(opt[TCA_BPF_ID]);
	nlmsg_free(a.msg);
	return id;
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

/* The same request as an add, bar the flags: libnl matches by ifindex,
 * local address and prefix length. */
static struct rtnl_addr *link_addr_of(int ifindex, uint32_t addr, uint8_t prefix)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = link_inaddr(addr, prefix);
	if (!ra || !local) {
		nl_addr_put(local);
		rtnl_addr_put(ra);
		return NULL;
	}
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, prefix);
	nl_addr_put(local);
	return ra;
}

int link_addr_add(struct nl_sock *sk, int ifindex, uint32_t addr,
		  uint8_t prefix)
{
	struct rtnl_addr *ra = link_addr_of(ifindex, addr, prefix);
	int e = ra ? link_nlerr(rtnl_addr_add(sk, ra, NLM_F_EXCL)) : -ENOMEM;
	rtnl_addr_put(ra);
	return e;
}

int link_addr_del(struct nl_sock *sk, int ifindex, uint32_t addr, uint8_t prefix)
{
	struct rtnl_addr *ra = link_addr_of(ifindex, addr, prefix);
	int e = ra ? link_nlerr(rtnl_addr_delete(sk, ra, 0)) : -ENOMEM;
	rtnl_addr_put(ra);
	return e == -EADDRNOTAVAIL ? 0 : e;
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
