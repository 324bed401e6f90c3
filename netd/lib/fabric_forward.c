/*
 * A playground's forwards in the kernel (nft.h has the rules): pg-P's dnat
 * rules come with its table (fab_build_nft); here the host's side: the
 * playground's own forwards table, the uplink guard's flag that leaves a
 * forward's replies to a denied client to nftables, and route_localnet on
 * the uplink's host end, so that a client on the host's loopback gets
 * through. And whether a host port is free of other programs.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"
#include "netns.h"
#include "nft.h"
#include "util.h"

/* The host's side of b's playground's forwards, as its plan has them
 * (none: taken away). */
static int forwards_host(struct build *b)
{
	struct fabric *f = b->f;
	struct pn_error *err = b->err;
	const struct plan *p = b->p;
	const char *dev = p->uplink_host;
	bool any = plan_n_forwards(p) > 0;
	int hidx = link_ifindex(b->host, dev);
	if (hidx < 0)
		return pn_fail(err, hidx, "uplink %s in the host netns", dev);
	char key[64];
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/route_localnet", dev);
	int e = 0;
	if (any && (e = FAB_DO(f, err, netns_sysctl(f->host_nsfd, key, "1"), "%s", key)) < 0)
		return e;
	struct nft_batch *nb = NULL;
	if ((e = nft_forward_batch(p, b->transit + 1, dev, &nb)) < 0)
		return pn_fail(err, e, "build the forwards of %s", p->name);
	char what[128];
	snprintf(what, sizeof(what), "load the forwards of %s in the host netns", p->name);
	if ((e = fab_step(f, what, err)) == 0 && (e = nft_batch_send(nb, f->host_nsfd, NULL, err)) < 0)
		pn_wrap(err, "%s", what);
	nft_batch_free(nb);
	const struct guard_key k = { .netns_cookie = f->host_cookie, .ifindex = (uint32_t)hidx };
	if (e == 0)
		e = FAB_DO(f, err, guard_uplink_forwards(b->guard, &k, any),
			   "the guard of %s: forwards %s", dev, any ? "on" : "off");
	return e;
}

int fab_build_forwards(struct build *b)
{
	return plan_n_forwards(b->p) ? forwards_host(b) : 0;
}

int fabric_forwards_apply(struct fabric *f, const struct plan *p, const struct state_record *rec,
			  struct pn_error *err)
{
	/* was: pg-P's table holds P's own rules, which fab_build_nft refills
	 * with those of its forwards now */
	struct build b = { .f = f, .err = err, .p = p, .was = p, .ns = netns_open(p->netns) };
	fabric_transit_addrs(f, rec, &b.transit, &(uint32_t){ 0 });
	if (b.ns < 0)
		return pn_fail(err, b.ns, "open netns %s", p->netns);
	int e = fabric_guard(f, &b.guard, err);
	if (e == 0 && (e = link_sock_open(f->host_nsfd, &b.host)) < 0)
		pn_fail(err, e, "netlink socket in the host netns");
	if (e == 0 && (e = fab_build_nft(&b)) == 0)
		e = forwards_host(&b);
	link_sock_close(b.host);
	close(b.ns);
	return e;
}

int fabric_forward_free(struct fabric *f, const struct manifest_forward *fw, struct pn_error *err)
{
	bool udp = fw->proto == IPPROTO_UDP;
	cleanup_close int fd = netns_socket(f->host_nsfd, AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return pn_fail(err, fd, "a socket in the host netns");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(fw->host_port),
				 .sin_addr.s_addr = htonl(fw->host_addr) };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return 0;
	int e = -errno;
	if (e == -EADDRINUSE)
		return pn_failx(err, -EADDRINUSE,
				"host port %u/%s is in use in the host netns: another program has it",
				fw->host_port, manifest_proto_name(fw->proto));
	if (e == -EADDRNOTAVAIL)
		return pn_failx(err, -EDOM,
				"hostAddress of %u/%s is not an address of the host netns",
				fw->host_port, manifest_proto_name(fw->proto));
	return pn_fail(err, e, "try host port %u/%s", fw->host_port, manifest_proto_name(fw->proto));
}
