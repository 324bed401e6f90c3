#define _GNU_SOURCE
#include "recover.h"
#include "playground.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "netns.h"
#include "report.h"
#include "state.h"
#include "util.h"

struct names {
	char **v;
	size_t n;
};

static int names_add(const char *name, void *arg)
{
	struct names *l = arg;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 0;
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	if (!(v[l->n] = strdup(name)))
		return -ENOMEM;
	l->n++;
	return 0;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static bool recorded(const struct fabric *f, const char *name)
{
	struct state_record rec;
	int e = state_read(fabric_options(f)->state_dir, name, &rec);
	if (e == 0)
		state_record_free(&rec);
	return e != -ENOENT;
}

static void delete_or_count(struct fabric *f, const char *name, const char *why,
			    size_t *done, struct recover_report *r)
{
	struct pn_error err = PN_ERROR_INIT;
	if (playground_delete(f, name, &err) < 0) {
		log_err("playground %s: %s: %s", name, why, err.msg);
		r->failed++;
		return;
	}
	log_info("playground %s: %s", name, why);
	(*done)++;
}

/* What is missing, rebuilt from the manifest (same names, MACs and
 * addresses: the plan is a function of the manifest and the name). A
 * rebuild that fails leaves the record, ready and degraded, so that show
 * says what is missing and a later start or a down deals with it: a
 * playground is never lost to a repair. */
static int rebuild(struct fabric *f, const char *name, const struct plan *p,
		   const struct state_record *rec, struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	int e = playground_delete(f, name, err);
	if (e == 0)
		e = playground_create(f, p, rec->manifest, NULL, err);
	if (e == 0)
		return 0;
	struct state_record keep = *rec, now;
	keep.phase = STATE_READY;
	int k = state_read(dir, name, &now);
	if (k == 0)
		state_record_free(&now);
	/* Its transit /31 back if no one took it meanwhile, else none. */
	if (k == -ENOENT && rec->transit_index >= 0 &&
	    state_transit_alloc(dir, name, rec->transit_index + 1, rec->transit_index,
				&keep.transit_index) < 0) {
		keep.transit_index = -1;
		keep.transit = 0;
	}
	if (k == -ENOENT && state_write(dir, &keep) < 0)
		log_err("playground %s: its record could not be kept", name);
	return e;
}

/* A ready playground: kept if the kernel has all of it, else mended in
 * place, else rebuilt. */
static void check_ready(struct fabric *f, const char *name, struct recover_report *r)
{
	struct state_record rec;
	struct plan p;
	int e = playground_load_quiet(fabric_options(f)->state_dir, name, &rec, &p);
	if (e < 0) {
		log_err("playground %s: its record cannot be read back; left as it is", name);
		r->failed++;
		return;
	}
	struct fabric_report rep;
	struct pn_error err = PN_ERROR_INIT;
	e = fabric_inspect(f, &p, &rec, &rep, &err);
	if (e < 0) {
		/* Unknown is not missing: nothing is rebuilt on a guess. */
		log_err("playground %s: cannot be checked: %s", name, err.msg);
		r->failed++;
	} else if (rep.n_missing == 0) {
		r->kept++;
	} else {
		for (size_t i = 0; i < rep.n_missing; i++)
			log_warn("playground %s: %s", name, rep.missing[i]);
		e = fabric_repair(f, &p, &rec, &err);
		const char *how = "repaired in place";
		if (e > 0) {
			how = "rebuilt";
			e = rebuild(f, name, &p, &rec, &err);
		}
		if (e < 0) {
			log_err("playground %s: repair failed: %s (its record is kept)", name, err.msg);
			r->failed++;
		} else {
			log_info("playground %s: %s", name, how);
			r->repaired++;
		}
	}
	fabric_report_free(&rep);
	state_record_free(&rec);
	plan_free(&p);
}

static void finish_record(struct fabric *f, const char *name, struct recover_report *r)
{
	struct state_record rec;
	if (state_read(fabric_options(f)->state_dir, name, &rec) < 0) {
		log_err("playground %s: its record is unreadable; left as it is", name);
		r->failed++;
		return;
	}
	enum state_phase phase = rec.phase;
	state_record_free(&rec);
	if (phase == STATE_CREATING)
		delete_or_count(f, name, "half-created before a crash: removed", &r->removed, r);
	else if (phase == STATE_DELETING)
		delete_or_count(f, name, "half-deleted before a crash: delete finished",
				&r->finished, r);
	else
		check_ready(f, name, r);
}

struct orphan_walk {
	struct fabric *f;
	struct names *playgrounds;
	struct names *links; /* host links by their own names */
};

static bool owned_orphan(struct orphan_walk *w, const char *alias, char *name, size_t len)
{
	return fabric_owns(w->f, alias, name, len) && !recorded(w->f, name);
}

/* A playground or machine netns: its lo says whose it is. Namespace names
 * are global, so one whose playground is recorded here is ours and kept
 * without opening a netlink socket in each of thousands. */
static int netns_orphan(const char *ns, void *arg)
{
	struct orphan_walk *w = arg;
	char pg[NAMING_PLAYGROUND_MAX + 1];
	const char *rest = ns + strlen(NAMING_NETNS_PREFIX);
	snprintf(pg, sizeof(pg), "%.*s", (int)strcspn(rest, "."), rest);
	if (naming_valid_playground(pg) && recorded(w->f, pg))
		return 0;
	cleanup_close int fd = netns_open(ns);
	char name[NAMING_PLAYGROUND_MAX + 1];
	return fabric_netns_owns(w->f, fd, name, sizeof(name)) && !recorded(w->f, name)
		       ? names_add(name, w->playgrounds) : 0;
}

/* Where an older netd left the namespaces of deleted playgrounds until it
 * destroyed them (pn-deleted-OWNER-NAME or -HASH, with .MACHINE): this
 * one holds them by fd instead, so what a crash left there is ours to
 * remove when its lo carries our tag. */
#define RECOVER_HIDDEN_PREFIX "pn-deleted-"

static int hidden_orphan(const char *ns, void *arg)
{
	struct orphan_walk *w = arg;
	cleanup_close int fd = netns_open(ns);
	char name[NAMING_PLAYGROUND_MAX + 1];
	if (!fabric_netns_owns(w->f, fd, name, sizeof(name)))
		return 0;
	int e = netns_delete(ns);
	if (e < 0)
		log_errno(LOG_LVL_ERR, -e, "netns %s (of deleted %s)", ns, name);
	else
		log_info("netns %s, hidden by an older netd (of deleted %s): removed", ns, name);
	return 0;
}

static int link_orphan(const char *dev, const char *alias, void *arg)
{
	struct orphan_walk *w = arg;
	char name[NAMING_PLAYGROUND_MAX + 1];
	if (!owned_orphan(w, alias, name, sizeof(name)))
		return 0;
	int e = names_add(name, w->playgrounds);
	return e < 0 ? e : names_add(dev, w->links);
}

static int collect_orphans(struct fabric *f, struct names *playgrounds, struct names *links)
{
	struct orphan_walk w = { f, playgrounds, links };
	int e = netns_list(NAMING_NETNS_PREFIX, netns_orphan, &w);
	if (e == 0)
		e = netns_list(RECOVER_HIDDEN_PREFIX, hidden_orphan, &w);
	struct nl_sock *hsk = NULL;
	if (e == 0 && (e = link_sock_open(fabric_host_nsfd(f), &hsk)) == 0) {
		e = link_each(hsk, link_orphan, &w);
		link_sock_close(hsk);
	}
	return e;
}

/* The forwards table of a playground with no record here, and no uplink
 * either: of no playground (one with an uplink is another state dir's,
 * or an orphan whose removal above took its table too). */
static int forward_orphan(const char *pg, void *arg)
{
	struct fabric *f = arg;
	if (!naming_valid_playground(pg) || recorded(f, pg))
		return 0;
	char host_end[IFNAMSIZ];
	naming_uplink_host(pg, host_end);
	struct nl_sock *hsk = NULL;
	int e = link_sock_open(fabric_host_nsfd(f), &hsk);
	if (e < 0)
		return 0;
	bool uplink = link_ifindex(hsk, host_end) >= 0;
	link_sock_close(hsk);
	if (uplink)
		return 0;
	e = nft_forward_delete(fabric_host_nsfd(f), pg);
	if (e < 0)
		log_errno(LOG_LVL_ERR, -e, "the forwards table of %s", pg);
	else
		log_info("the forwards table of %s had no playground: removed", pg);
	return 0;
}

struct transit_walk {
	struct fabric *f;
	size_t freed;
};

/* An allocation whose record is gone, or names another index. */
static int transit_orphan(long index, const char *name, void *arg)
{
	struct transit_walk *w = arg;
	struct state_record rec;
	bool keep = false;
	const char *dir = fabric_options(w->f)->state_dir;
	if (naming_valid_playground(name) && state_read(dir, name, &rec) == 0) {
		keep = rec.transit_index == index;
		state_record_free(&rec);
	}
	if (!keep && state_transit_free(dir, index) == 0) {
		log_info("transit allocation %ld (%s) had no playground: freed", index,
			 *name ? name : "?");
		w->freed++;
	}
	return 0;
}

int recover_run(struct fabric *f, struct recover_report *r, struct pn_error *err)
{
	memset(r, 0, sizeof(*r));
	const char *dir = fabric_options(f)->state_dir;
	struct names rec = { 0 }, orphans = { 0 }, links = { 0 };
	int e = state_list(dir, names_add, &rec);
	if (e < 0) {
		names_free(&rec);
		return pn_fail(err, e, "list %s", dir);
	}
	for (size_t i = 0; i < rec.n; i++)
		finish_record(f, rec.v[i], r);

	if ((e = collect_orphans(f, &orphans, &links)) < 0)
		log_errno(LOG_LVL_ERR, -e, "looking for orphans");
	for (size_t i = 0; i < orphans.n; i++)
		delete_or_count(f, orphans.v[i], "objects without a record: removed",
				&r->orphans, r);
	/* A host end renamed since, or left by an older naming scheme. */
	struct pn_error why = PN_ERROR_INIT;
	for (size_t i = 0; i < links.n; i++)
		if (fabric_remove_host_link(f, links.v[i], &why) < 0)
			log_err("%s", why.msg);

	if ((e = nft_forward_each(fabric_host_nsfd(f), forward_orphan, f)) < 0)
		log_errno(LOG_LVL_ERR, -e, "forwards tables in the host netns");

	struct transit_walk tw = { f, 0 };
	if ((e = state_transit_each(dir, transit_orphan, &tw)) < 0)
		log_errno(LOG_LVL_ERR, -e, "transit allocations in %s", dir);
	r->transits = tw.freed;

	names_free(&rec);
	rec = (struct names){ 0 };
	if ((e = state_list(dir, names_add, &rec)) == 0 &&
	    (e = fabric_sweep_guards(f, rec.v, rec.n, &r->guards, &why)) < 0)
		log_err("%s", why.msg);
	if (r->guards)
		log_info("%zu guard entries of vanished interfaces: removed", r->guards);
	names_free(&rec);
	names_free(&orphans);
	names_free(&links);
	return 0;
}
