/*
 * A playground's kernel objects removed by name and owner tag (and
 * where a delete holds them: fabric_held.c), one bridge at a time when
 * asked.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "netns.h"
#include "nft.h"
#include "util.h"


struct teardown_walk {
	struct fabric *f;
	const char *name;
	bool owned_only;
};

static int teardown_netns_cb(const char *ns, void *arg)
{
	struct teardown_walk *w = arg;
	fab_point(w->f);
	if (w->owned_only) {
		cleanup_close int fd = netns_open(ns);
		if (!fab_netns_is_ours(w->f, fd, w->name))
			return 0;
	}
	return netns_delete(ns);
}

/* Removes every kernel object of a playground, found by name and where
 * fabric_hide holds it. host_nsfd < 0: the host netns is gone, and the
 * uplink's host end with it. keep_host_end: the uplink's host end is left
 * to die with the namespace (see playground_release). owned_only: there
 * is no record of NAME, so only what carries this fabric's tag for it
 * goes (a namespace by its lo's alias, the host end by its own): names
 * alone may be another state dir's, or no playground's at all. */
static int fabric_teardown(struct fabric *f, const char *name, int host_nsfd,
			   bool keep_host_end, bool owned_only, struct pn_error *err)
{
	char host_end[IFNAMSIZ], ns[NAMING_NETNS_MAX];
	naming_uplink_host(name, host_end);
	naming_netns(name, ns);
	int first = 0;
	/* The guards' entries go before their interfaces, while the names
	 * still lead to them; with neither left there is nothing to forget,
	 * and no reason to load the programs. pg-P by name, and the one
	 * held (only ever this fabric's). */
	int pns[2] = { netns_open(ns), fab_held_netns(f, name) };
	bool named = pns[0] >= 0 && (!owned_only || fab_netns_is_ours(f, pns[0], name));
	if (!named && pns[0] >= 0) {
		close(pns[0]);
		pns[0] = -1;
	}
	struct nl_sock *hsk = NULL;
	int e = host_nsfd >= 0 ? link_sock_open(host_nsfd, &hsk) : 0;
	if (e < 0)
		first = pn_fail(err, e, "netlink socket in the host netns");
	bool host_end_exists = hsk && link_ifindex(hsk, host_end) >= 0;
	char alias[256];
	if (host_end_exists && owned_only)
		host_end_exists = link_alias(hsk, host_end, alias, sizeof(alias)) == 0 &&
				  fab_alias_is_ours(f, alias, name);
	struct guard *g = NULL;
	e = 0;
	fab_point(f);
	if ((pns[0] >= 0 || pns[1] >= 0 || host_end_exists) && (e = fabric_guard(f, &g, err)) == 0) {
		for (int i = 0; e == 0 && i < 2; i++)
			if (pns[i] >= 0)
				e = guard_forget_netns(g, pns[i]);
		if (e == 0 && host_end_exists)
			e = guard_forget(g, host_nsfd, host_end);
	}
	for (int i = 0; i < 2; i++)
		if (pns[i] >= 0)
			close(pns[i]);
	if (e < 0 && !first)
		first = pn_fail(err, e, "forget the guards of %s", name);
	/* The host end first and explicitly: a namespace is destroyed
	 * asynchronously, and its veth peer would linger in the host netns
	 * (which is what a paced delete waits for: playground_released). */
	fab_point(f);
	if (host_end_exists && !keep_host_end && (e = link_delete(hsk, host_end)) < 0 &&
	    !first)
		first = pn_fail(err, e, "delete uplink %s", host_end);
	link_sock_close(hsk);
	/* By its name, which holds the playground's. */
	fab_point(f);
	if (host_nsfd >= 0 && (e = nft_forward_delete(host_nsfd, name)) < 0 && !first)
		first = pn_fail(err, e, "delete the forwards of %s in the host netns", name);
	char prefix[NAMING_NETNS_MAX + 1];
	snprintf(prefix, sizeof(prefix), "%s.", ns);
	struct teardown_walk w = { f, name, owned_only };
	e = netns_list(prefix, teardown_netns_cb, &w);
	if (e < 0 && !first)
		first = pn_fail(err, e, "delete the machine namespaces of %s", name);
	fab_point(f);
	e = named || !owned_only ? netns_delete(ns) : 0;
	if (e < 0 && !first)
		first = pn_fail(err, e, "delete netns %s", ns);
	fab_point(f);
	fab_unhold(f, name);
	return first;
}

/* The host netns a playground was made in (NULL or "": the one this
 * fabric was opened with). Never -1 for "current": callers treat a
 * negative result as "gone". */
int fab_host_netns_fd(struct fabric *f, const char *host_netns)
{
	const char *want = host_netns ? host_netns : "";
	const char *have = f->o.host_netns ? f->o.host_netns : "";
	if (strcmp(want, have) == 0 || !*want) {
		if (f->host_nsfd < 0)
			return -EBADF;
		int fd = fcntl(f->host_nsfd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	return netns_open(want);
}

int fabric_unpin(struct fabric *f, struct pn_error *err)
{
	guard_close(f->guard);
	f->guard = NULL;
	int e = guard_unpin(f->o.pin_dir);
	return e < 0 ? pn_fail(err, e, "unpin %s", f->o.pin_dir) : 0;
}

int fabric_remove(struct fabric *f, const char *name, const char *host_netns, bool keep_host_end,
		  bool owned_only, struct pn_error *err)
{
	int hfd = fab_host_netns_fd(f, host_netns);
	int e = fabric_teardown(f, name, hfd, keep_host_end, owned_only, err);
	if (hfd >= 0)
		close(hfd);
	return e;
}

int fabric_host_end_gone(struct fabric *f, const char *name, const char *host_netns)
{
	char host_end[IFNAMSIZ];
	naming_uplink_host(name, host_end);
	int hfd = fab_host_netns_fd(f, host_netns);
	if (hfd < 0)
		return 1; /* the host netns is gone, the host end with it */
	struct nl_sock *hsk = NULL;
	int e = link_sock_open(hfd, &hsk);
	close(hfd);
	if (e < 0)
		return e;
	int idx = link_ifindex(hsk, host_end);
	link_sock_close(hsk);
	return idx == -ENODEV ? 1 : idx < 0 ? idx : 0;
}

int fabric_shed(struct fabric *f, const char *name, struct pn_error *err)
{
	char bridge[IFNAMSIZ];
	cleanup_close int nsfd = fab_netns_open(f, name);
	if (nsfd == -ENOENT)
		return 0;
	if (nsfd < 0)
		return pn_fail(err, nsfd, "open the namespace of deleted %s", name);
	struct nl_sock *sk = NULL;
	int e = link_sock_open(nsfd, &sk);
	if (e < 0)
		return pn_fail(err, e, "netlink socket in the namespace of deleted %s", name);
	e = link_find_kind(sk, "bridge", bridge);
	if (e > 0 && (e = link_delete(sk, bridge)) == 0)
		e = 1;
	link_sock_close(sk);
	return e < 0 ? pn_fail(err, e, "delete a bridge of deleted %s", name) : e;
}

int fabric_remove_host_link(struct fabric *f, const char *dev, struct pn_error *err)
{
	struct guard *g;
	int e = fabric_guard(f, &g, err);
	if (e == 0 && (e = guard_forget(g, f->host_nsfd, dev)) < 0)
		return pn_fail(err, e, "forget the guard of %s", dev);
	struct nl_sock *hsk = NULL;
	if (e < 0 || (e = link_sock_open(f->host_nsfd, &hsk)) < 0)
		return pn_fail(err, e, "remove %s from the host netns", dev);
	e = link_delete(hsk, dev);
	link_sock_close(hsk);
	return e < 0 ? pn_fail(err, e, "delete %s in the host netns", dev) : 0;
}
