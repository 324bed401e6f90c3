#include "hostaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link.h"

struct hostaddr {
	int nsfd;
	struct nl_sock *watch; /* subscribed to RTNLGRP_IPV4_IFADDR */
	bool stale;            /* a dump is due: first use, or lost notifications */
	uint32_t *addrs;       /* sorted */
	size_t n, cap;
	int (*added)(uint32_t addr, void *arg);
	void *arg;
	int err; /* of added, or ENOMEM, during a receive */
};

/* Index of the first element >= addr. */
static size_t find(const struct hostaddr *h, uint32_t addr)
{
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->addrs[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool hostaddr_has(const struct hostaddr *h, uint32_t addr)
{
	size_t i = find(h, addr);
	return i < h->n && h->addrs[i] == addr;
}

static int insert(struct hostaddr *h, uint32_t addr)
{
	size_t i = find(h, addr);
	if (i < h->n && h->addrs[i] == addr)
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		uint32_t *a = realloc(h->addrs, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		h->addrs = a;
		h->cap = cap;
	}
	memmove(h->addrs + i + 1, h->addrs + i, (h->n - i) * sizeof(*h->addrs));
	h->addrs[i] = addr;
	h->n++;
	return h->added ? h->added(addr, h->arg) : 0;
}

/* An address on two links at once is forgotten when it leaves one of
 * them: nothing here counts on more. */
static void forget(struct hostaddr *h, uint32_t addr)
{
	size_t i = find(h, addr);
	if (i < h->n && h->addrs[i] == addr)
		memmove(h->addrs + i, h->addrs + i + 1, (--h->n - i) * sizeof(*h->addrs));
}

/* One RTM_NEWADDR or RTM_DELADDR, from a dump or a notification. */
static int on_msg(struct nl_msg *m, void *arg)
{
	struct hostaddr *h = arg;
	struct nlmsghdr *n = nlmsg_hdr(m);
	if (n->nlmsg_type != RTM_NEWADDR && n->nlmsg_type != RTM_DELADDR)
		return NL_OK;
	const struct ifaddrmsg *ifa = nlmsg_data(n);
	struct nlattr *tb[IFA_MAX + 1];
	if (ifa->ifa_family != AF_INET || nlmsg_parse(n, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_OK;
	struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || nla_len(a) < 4)
		return NL_OK;
	uint32_t be;
	memcpy(&be, nla_data(a), 4);
	if (n->nlmsg_type == RTM_DELADDR) {
		forget(h, ntohl(be));
		return NL_OK;
	}
	h->err = insert(h, ntohl(be));
	return h->err < 0 ? NL_STOP : NL_OK;
}

static int set_handler(struct nl_sock *sk, struct hostaddr *h)
{
	return link_nlerr(nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, h));
}

int hostaddr_open(int nsfd, struct hostaddr **out)
{
	struct hostaddr *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->nsfd = nsfd;
	h->stale = true;
	int e = link_sock_open(nsfd, &h->watch);
	if (e == 0) {
		nl_socket_disable_seq_check(h->watch);
		e = link_nlerr(nl_socket_add_membership(h->watch, RTNLGRP_IPV4_IFADDR));
	}
	if (e == 0)
		e = set_handler(h->watch, h);
	if (e == 0)
		e = link_nlerr(nl_socket_set_nonblocking(h->watch));
	if (e < 0) {
		hostaddr_close(h);
		return e;
	}
	*out = h;
	return 0;
}

int hostaddr_fd(const struct hostaddr *h)
{
	return nl_socket_get_fd(h->watch);
}

void hostaddr_close(struct hostaddr *h)
{
	if (!h)
		return;
	link_sock_close(h->watch);
	free(h->addrs);
	free(h);
}

/* Every address, on a socket of its own: the watch socket may hold
 * notifications that would mix with the dump's answers. Those that
 * overlap with it change nothing when taken in afterwards. */
static int dump(struct hostaddr *h)
{
	struct nl_sock *sk = NULL;
	int e = link_sock_open(h->nsfd, &sk);
	if (e < 0)
		return e;
	h->n = 0;
	if ((e = set_handler(sk, h)) == 0)
		e = link_nlerr(nl_rtgen_request(sk, RTM_GETADDR, AF_INET, NLM_F_DUMP));
	if (e == 0)
		e = link_nlerr(nl_recvmsgs_default(sk));
	link_sock_close(sk);
	return h->err < 0 ? h->err : e;
}

int hostaddr_refresh(struct hostaddr *h, int (*added)(uint32_t addr, void *arg), void *arg)
{
	h->added = added;
	h->arg = arg;
	h->err = 0;
	int e;
	while ((e = nl_recvmsgs_default(h->watch)) >= 0 && h->err == 0)
		;
	if (h->err < 0)
		return h->err;
	if (e != -NLE_AGAIN)
		h->stale = true; /* ENOBUFS: the kernel dropped some */
	if (!h->stale)
		return 0;
	e = dump(h);
	if (e == 0)
		h->stale = false;
	return e;
}
