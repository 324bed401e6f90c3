#define _GNU_SOURCE
#include "playground.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipam.h"
#include "log.h"
#include "plan_wire.h"
#include "vm_run.h"

/* A step that writes the record: counted, and failed on request, as the
 * fabric's own steps are; on error a message naming it. */
#define PG_DO(f, err, call, ...)                                               \
	({                                                                     \
		char _what[256];                                               \
		snprintf(_what, sizeof(_what), __VA_ARGS__);                   \
		int _e = fabric_step((f), _what, (err));                       \
		if (_e == 0 && (_e = (call)) < 0)                              \
			pn_fail((err), _e, "%s", _what);                       \
		_e < 0 ? _e : 0;                                               \
	})

int playground_load(const char *state_dir, const char *name, struct state_record *rec,
		    struct plan *p, struct diag *d)
{
	if (!naming_valid_playground(name)) {
		diag_add(d, 0, 0, "invalid playground name '%.64s'", name);
		return -EINVAL;
	}
	int e = state_read(state_dir, name, rec);
	if (e < 0)
		return e;
	struct pn_error err = PN_ERROR_INIT;
	e = plan_wire_of_record(rec, p, &err);
	if (e < 0) {
		diag_add(d, 0, 0, "the record of %s: %s", name, err.msg);
		state_record_free(rec);
	}
	return e;
}

int playground_load_quiet(const char *state_dir, const char *name, struct state_record *rec,
			  struct plan *p)
{
	struct diag d;
	diag_init(&d, name);
	int e = playground_load(state_dir, name, rec, p, &d);
	diag_free(&d);
	return e;
}

/* The plan of a record; why not, logged. */
static int recorded_plan(const struct state_record *rec, struct plan *p)
{
	struct pn_error err = PN_ERROR_INIT;
	int e = plan_wire_of_record(rec, p, &err);
	if (e < 0)
		log_warn("playground %s: %s", rec->name, err.msg);
	return e;
}

/* No record of P, nor anything of it in the kernel. */
static int check_absent(struct fabric *f, const struct plan *p, struct pn_error *err)
{
	struct state_record rec;
	int e = state_read(fabric_options(f)->state_dir, p->name, &rec);
	if (e == 0) {
		state_record_free(&rec);
		return pn_failx(err, -EEXIST, "playground %s already exists", p->name);
	}
	if (e != -ENOENT)
		return pn_fail(err, e, "read state of %s", p->name);
	return fabric_check_free(f, p, err);
}

static int count_cb(const char *name, void *arg)
{
	(void)name;
	(*(size_t *)arg)++;
	return 0;
}

/* The maps outlive each process; with no playground left they go too. */
static int unpin_if_unused(struct fabric *f, struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	size_t n = 0;
	int e = state_list(dir, count_cb, &n);
	if (e < 0 || n > 0)
		return e < 0 ? pn_fail(err, e, "list %s", dir) : 0;
	return fabric_unpin(f, err);
}

/* The record a create or takeover ended with: the caller's, or freed. */
static void record_hand_back(struct state_record *rec, struct state_record *out)
{
	if (out)
		*out = *rec;
	else
		state_record_free(rec);
}

/* P's record as it is first written: creating, in this fabric's host netns. */
static int record_new(struct fabric *f, const struct plan *p, const char *manifest, long transit,
		      uint32_t transit_host, struct state_record *rec, struct pn_error *err)
{
	const char *host = fabric_options(f)->host_netns;
	*rec = (struct state_record){
		.phase = STATE_CREATING,
		.transit_index = transit,
		.transit = transit_host,
		.created = (int64_t)time(NULL),
		.manifest = strdup(manifest),
		.plan = plan_wire_encode(p),
	};
	snprintf(rec->name, sizeof(rec->name), "%s", p->name);
	snprintf(rec->host_netns, sizeof(rec->host_netns), "%s", host ? host : "");
	if (rec->manifest && rec->plan)
		return 0;
	state_record_free(rec);
	return pn_fail(err, -ENOMEM, "record state of %s", p->name);
}

static int transit_alloc(struct fabric *f, const char *name, long *index, struct pn_error *err)
{
	const struct fabric_opts *o = fabric_options(f);
	int e = PG_DO(f, err, state_transit_alloc(o->state_dir, name, fabric_pool_size(f),
						  fabric_transit_hint(f), index),
		      "allocate a transit /31");
	if (e == 0)
		fabric_transit_taken(f, *index);
	char pool[IPAM_CIDR_STRLEN];
	if (e == -EADDRNOTAVAIL) {
		ipam_format_cidr(o->pool, o->pool_prefix, pool);
		pn_failx(err, e, "transit pool %s is exhausted: all %ld /31s are in use", pool,
			 fabric_pool_size(f));
	} else if (e == -ENOSPC) {
		pn_failx(err, e, "state dir %s is full: no room to record a transit /31",
			 o->state_dir);
	}
	return e;
}

/* Undo of a create of NAME (or a takeover of OLD by it, OLD NULL for
 * none): the same removal as a delete, which works from names, whichever
 * names the objects had got to. What the undo itself meets is logged
 * apart: the caller's error keeps why it undid. */
static void undo(struct fabric *f, const char *name, const char *old, long transit)
{
	const char *dir = fabric_options(f)->state_dir;
	struct pn_error why = PN_ERROR_INIT;
	if (fabric_remove(f, name, NULL, false, false, &why) < 0)
		log_warn("undo of %s incomplete: %s", name, why.msg);
	if (old && fabric_remove(f, old, NULL, false, false, &why) < 0)
		log_warn("undo of %s incomplete: %s", old, why.msg);
	state_transit_free(dir, transit);
	state_remove(dir, name);
	if (old)
		state_remove(dir, old);
	if (unpin_if_unused(f, &why) < 0)
		log_warn("undo of %s: %s", name, why.msg);
}

int playground_create(struct fabric *f, const struct plan *p, const char *manifest,
		      struct state_record *out, struct pn_error *err)
{
	const struct fabric_opts *o = fabric_options(f);
	fabric_begin(f);
	int e = fabric_check_subnets(f, p, err);
	if (e < 0 || (e = fabric_check_shape(p, err)) < 0 || (e = check_absent(f, p, err)) < 0 ||
	    (e = playground_check_forwards(f, p, err)) < 0)
		return e;
	long transit;
	if ((e = transit_alloc(f, p->name, &transit, err)) < 0)
		return e;
	struct state_record rec;
	if ((e = record_new(f, p, manifest, transit, o->pool + 2 * (uint32_t)transit, &rec,
			    err)) < 0) {
		state_transit_free(o->state_dir, transit);
		return e;
	}
	/* Intent first: a crash from here on leaves a record to finish. */
	if ((e = PG_DO(f, err, state_write(o->state_dir, &rec), "write state of %s", p->name)) <
	    0) {
		state_transit_free(o->state_dir, rec.transit_index);
		state_record_free(&rec);
		return e;
	}
	e = fabric_build(f, p, rec.transit, err);
	if (e == 0) {
		rec.phase = STATE_READY;
		e = PG_DO(f, err, state_write(o->state_dir, &rec), "write state of %s", p->name);
	}
	if (e == 0) {
		record_hand_back(&rec, out);
		return 0;
	}
	state_record_free(&rec);
	undo(f, p->name, NULL, transit);
	return e;
}

/* The record of NAME marked deleting (have: there is one), its VMs stopped. */
static int begin_delete(struct fabric *f, const char *name, struct state_record *rec,
			bool *have, struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	fabric_begin(f);
	*have = false;
	if (!naming_valid_playground(name))
		return pn_failx(err, -EINVAL, "invalid playground name '%s'", name);
	int e = state_read(dir, name, rec);
	*have = e == 0;
	if (e < 0 && e != -ENOENT)
		return pn_fail(err, e, "read state of %s", name);
	fabric_point(f);
	if (*have && rec->phase != STATE_DELETING) {
		rec->phase = STATE_DELETING;
		e = state_write(dir, rec);
		if (e == -ENOSPC || e == -EDQUOT) {
			/* No room to record the intent: the record goes first
			 * instead, which needs none. What a crash would leave
			 * carries this fabric's tag, and recovery removes it as
			 * an orphan. */
			log_warn("playground %s: state dir full: deleted without a record of it",
				 name);
			if ((e = state_transit_free(dir, rec->transit_index)) == 0)
				e = state_remove(dir, name);
			if (e == 0) {
				state_record_free(rec);
				*have = false;
			}
		}
		if (e < 0)
			return pn_fail(err, e, "write state of %s", name);
	}
	/* VMMs hold the taps and keep the namespace alive: they go first. */
	vm_remove(dir, name);
	return 0;
}

int playground_mark_deleting(struct fabric *f, const char *name, uint64_t *shape,
			     struct pn_error *err)
{
	struct state_record rec;
	bool have;
	int e = begin_delete(f, name, &rec, &have, err);
	struct plan was;
	if (shape)
		*shape = 0;
	if (shape && have && recorded_plan(&rec, &was) == 0) {
		*shape = fabric_shape(&was);
		plan_free(&was);
	}
	if (have)
		state_record_free(&rec);
	return e < 0 ? e : have;
}

int playground_release(struct fabric *f, const char *name, struct pn_error *err)
{
	struct state_record rec;
	bool have;
	int e = begin_delete(f, name, &rec, &have, err);
	if (e == 0)
		e = fabric_remove(f, name, have ? rec.host_netns : NULL, true, !have, err);
	if (have)
		state_record_free(&rec);
	return e;
}

int playground_released(struct fabric *f, const char *name)
{
	struct state_record rec;
	int e = state_read(fabric_options(f)->state_dir, name, &rec);
	if (e < 0)
		return e == -ENOENT ? 1 : e;
	e = fabric_host_end_gone(f, name, rec.host_netns);
	state_record_free(&rec);
	return e;
}

int playground_delete(struct fabric *f, const char *name, struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	struct state_record rec;
	bool have;
	int e = begin_delete(f, name, &rec, &have, err);
	if (e < 0) {
		if (have)
			state_record_free(&rec);
		return e;
	}
	e = fabric_remove(f, name, have ? rec.host_netns : NULL, false, !have, err);
	if (e == 0 && have) {
		fabric_point(f);
		/* The record goes last: until then, a crash leaves it
		 * for recovery to finish the delete. */
		if ((e = state_transit_free(dir, rec.transit_index)) < 0)
			pn_fail(err, e, "free transit allocation of %s", name);
	}
	if (e == 0 && have) {
		fabric_point(f);
		if ((e = state_remove(dir, name)) < 0)
			pn_fail(err, e, "remove state of %s", name);
	}
	if (e == 0)
		e = unpin_if_unused(f, err);
	if (have)
		state_record_free(&rec);
	return e;
}

/* Deleted, built by this fabric (with its options) in the same host
 * netns, of the same frame, and nothing in it named after the playground
 * but what a takeover renames: no machine namespaces. */
static bool recyclable(const struct fabric *f, const struct state_record *old,
		       const struct plan *was, const struct plan *p)
{
	const char *host = fabric_options(f)->host_netns;
	if (old->phase != STATE_DELETING || old->transit_index < 0 ||
	    old->created < fabric_opened_at(f) || strcmp(old->host_netns, host ? host : "") != 0 ||
	    !fabric_same_frame(was, p))
		return false;
	for (size_t i = 0; i < p->n_machines; i++)
		if (p->machines[i].runtime == MANIFEST_RUNTIME_NETNS)
			return false;
	return true;
}

/* OLD's transit /31 and its place in the state dir pass to P, whose
 * record is written: from here a crash leaves P "creating", which recovery
 * removes, and what still has OLD's names is an orphan, removed too. */
static int recycle_records(struct fabric *f, const char *old, const struct state_record *rec,
			   struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	int e = PG_DO(f, err, state_transit_give(dir, rec->transit_index, rec->name),
		      "give transit allocation %ld to %s", rec->transit_index, rec->name);
	if (e == 0)
		e = PG_DO(f, err, state_remove(dir, old), "remove state of %s", old);
	return e;
}

/* OLD's record and plan, if OLD can be taken over by P. */
static int recycle_donor(struct fabric *f, const char *old, const struct plan *p,
			 struct state_record *rec, struct plan *was, struct pn_error *err)
{
	int e = state_read(fabric_options(f)->state_dir, old, rec);
	if (e < 0)
		return e == -ENOENT ? -ESTALE : pn_fail(err, e, "read state of %s", old);
	bool ok = recorded_plan(rec, was) == 0;
	if (ok && !recyclable(f, rec, was, p)) {
		plan_free(was);
		ok = false;
	}
	if (!ok)
		state_record_free(rec);
	return ok ? 0 : -ESTALE;
}

int playground_recycle(struct fabric *f, const char *old, const struct plan *p,
		       const char *manifest, struct state_record *out, struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	fabric_begin(f);
	bool self = strcmp(old, p->name) == 0;
	int e = self ? 0 : check_absent(f, p, err);
	struct state_record rec;
	struct plan was;
	if (e < 0 || (e = recycle_donor(f, old, p, &rec, &was, err)) < 0)
		return e;
	long transit = rec.transit_index;
	uint32_t transit_host;
	fabric_transit_addrs(f, &rec, &transit_host, &(uint32_t){ 0 });
	state_record_free(&rec);

	struct fabric_takeover *t = NULL;
	bool taken = false;
	e = record_new(f, p, manifest, transit, transit_host, &rec, err);
	if (e == 0 && (e = fabric_takeover_open(f, old, &was, p, transit_host, &t, err)) < 0)
		state_record_free(&rec);
	if (e == 0 &&
	    (e = PG_DO(f, err, state_write(dir, &rec), "write state of %s", p->name)) == 0) {
		taken = true;
		/* its own: P's record has replaced OLD's, the names are P's */
		if (!self)
			e = recycle_records(f, old, &rec, err);
	}
	if (e == 0)
		e = fabric_takeover_finish(t, err);
	if (e == 0) {
		rec.phase = STATE_READY;
		e = PG_DO(f, err, state_write(dir, &rec), "write state of %s", p->name);
	}
	fabric_takeover_close(t);
	plan_free(&was);
	if (e == 0) {
		record_hand_back(&rec, out);
		return 0;
	}
	if (rec.manifest)
		state_record_free(&rec);
	if (!taken)
		return e;

	undo(f, p->name, self ? NULL : old, transit);
	return e;
}
