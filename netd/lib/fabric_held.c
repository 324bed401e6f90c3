/*
 * The namespaces of deleted playgrounds, held by fd (fabric_hide) from
 * their delete until they are taken over or released.
 *
 * A delete is answered at once and its kernel work is paced (the reaper),
 * so a namespace outlives its playground for seconds. It must not keep
 * the playground's names meanwhile: `down` means they are gone. Holding
 * it by fd costs one unmount per name at the delete and nothing later: a
 * takeover names it once (one mount), a release is a close(2), and a
 * crash frees it with netd's fds. Renaming it instead (a mount and an
 * unmount at the delete, an unmount at the release) made every delete
 * of a burst wait on the mount table while the kernel was destroying
 * namespaces, and the creates behind them waited too.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

struct fab_held {
	char name[NAMING_PLAYGROUND_MAX + 1];
	int ns;        /* pg-P's */
	int *machines; /* its netns machines' */
	size_t n_machines;
};

static struct fab_held *held_find(const struct fabric *f, const char *name)
{
	for (size_t i = 0; i < f->n_held; i++)
		if (strcmp(f->held[i].name, name) == 0)
			return &f->held[i];
	return NULL;
}

static void held_free(struct fab_held *h)
{
	if (h->ns >= 0)
		close(h->ns);
	for (size_t i = 0; i < h->n_machines; i++)
		close(h->machines[i]);
	free(h->machines);
}

static int hold_machine_cb(const char *ns, void *arg)
{
	struct fab_held *h = arg;
	int *grown = realloc(h->machines, (h->n_machines + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	h->machines = grown;
	int fd = netns_open(ns);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	h->machines[h->n_machines++] = fd;
	return 0;
}

static int unname_machine_cb(const char *ns, void *arg)
{
	(void)arg;
	return netns_delete(ns);
}

int fabric_hide(struct fabric *f, const char *name, struct pn_error *err)
{
	if (held_find(f, name))
		return 0;
	char ns[NAMING_NETNS_MAX], prefix[NAMING_NETNS_MAX + 1];
	naming_netns(name, ns);
	snprintf(prefix, sizeof(prefix), "%s.", ns);
	struct fab_held h = { .ns = netns_open(ns) };
	snprintf(h.name, sizeof(h.name), "%s", name);
	int e = h.ns < 0 && h.ns != -ENOENT ? h.ns : 0;
	if (e == 0)
		e = netns_list(prefix, hold_machine_cb, &h);
	if (e == 0 && h.ns < 0 && !h.n_machines)
		return 0; /* nothing of it in the kernel */
	struct fab_held *grown = NULL;
	if (e == 0 && !(grown = realloc(f->held, (f->n_held + 1) * sizeof(*grown))))
		e = -ENOMEM;
	if (e < 0) {
		held_free(&h);
		return pn_fail(err, e, "hold the namespaces of deleted %s", name);
	}
	f->held = grown;
	f->held[f->n_held++] = h;
	/* Held: its names can go. What a failure here leaves named, the
	 * teardown still finds by name. */
	e = netns_list(prefix, unname_machine_cb, NULL);
	if (e == 0)
		e = netns_delete(ns);
	return e < 0 ? pn_fail(err, e, "unname the namespaces of deleted %s", name) : 0;
}

bool fab_held(const struct fabric *f, const char *name)
{
	return held_find(f, name) != NULL;
}

int fab_held_netns(const struct fabric *f, const char *name)
{
	const struct fab_held *h = held_find(f, name);
	if (!h || h->ns < 0)
		return -ENOENT;
	int fd = fcntl(h->ns, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int fab_netns_open(const struct fabric *f, const char *name)
{
	int fd = fab_held_netns(f, name);
	if (fd != -ENOENT)
		return fd;
	char ns[NAMING_NETNS_MAX];
	naming_netns(name, ns);
	return netns_open(ns);
}

void fab_unhold(struct fabric *f, const char *name)
{
	struct fab_held *h = held_find(f, name);
	if (!h)
		return;
	held_free(h);
	*h = f->held[--f->n_held];
	if (!f->n_held) {
		free(f->held);
		f->held = NULL;
	}
}

void fab_unhold_all(struct fabric *f)
{
	for (size_t i = 0; i < f->n_held; i++)
		held_free(&f->held[i]);
	free(f->held);
	f->held = NULL;
	f->n_held = 0;
}
