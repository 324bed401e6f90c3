/*
 * A running playground's ports changed: an interface's impairment or link;
 * and the record of such a change, which forwards write too.
 * The record says it first, so that recovery mends the port to what was
 * asked; what the kernel refuses is taken back out of the record.
 */
#define _GNU_SOURCE
#include "playground.h"

#include <errno.h>

#include "plan_wire.h"
#include "shape.h"
#include "vm_run.h"

int playground_record(struct fabric *f, const struct plan *p, struct state_record *out,
		      struct pn_error *err)
{
	const char *dir = fabric_options(f)->state_dir;
	struct state_record rec;
	int e = state_read(dir, p->name, &rec);
	if (e < 0)
		return pn_fail(err, e, "read state of %s", p->name);
	json_object_put(rec.plan);
	rec.plan = plan_wire_encode(p);
	e = rec.plan ? state_write(dir, &rec) : -ENOMEM;
	if (e == 0 && out)
		*out = rec;
	else
		state_record_free(&rec);
	return e < 0 ? pn_fail(err, e, "write state of %s", p->name) : 0;
}


int playground_impair(struct fabric *f, struct plan *p, size_t mi, size_t ii,
		      const struct manifest_impair *im, struct pn_error *err)
{
	struct plan_interface *ifc = &p->machines[mi].interfaces[ii];
	const struct manifest_impair was = ifc->impair;
	ifc->impair = *im;
	ifc->impair.set = shape_any(im);
	int e = playground_record(f, p, NULL, err);
	if (e == 0 && (e = fabric_impair(f, p, mi, ii, &ifc->impair, err)) < 0) {
		struct pn_error ignored = PN_ERROR_INIT;
		ifc->impair = was;
		if (e != -EOPNOTSUPP) /* that one was refused before anything */
			fabric_impair(f, p, mi, ii, &was, &ignored);
		playground_record(f, p, NULL, &ignored);
	}
	if (e < 0)
		ifc->impair = was;
	return e;
}

int playground_link(struct fabric *f, struct plan *p, size_t mi, size_t ii, bool up,
		    struct pn_error *err)
{
	const struct plan_machine *mc = &p->machines[mi];
	struct plan_interface *ifc = &mc->interfaces[ii];
	const bool was = ifc->link_down;
	ifc->link_down = !up;
	int e = playground_record(f, p, NULL, err);
	if (e == 0)
		e = fabric_link(f, p, mi, ii, up, err);
	if (e == 0 && mc->runtime == MANIFEST_RUNTIME_VM &&
	    (e = vm_link(fabric_options(f)->state_dir, p->name, mc->name, ii, up)) < 0)
		pn_fail(err, e, "tell machine %s's VMM that %s is %s", mc->name, ifc->name,
			up ? "up" : "down");
	if (e < 0) {
		struct pn_error ignored = PN_ERROR_INIT;
		ifc->link_down = was;
		fabric_link(f, p, mi, ii, !was, &ignored);
		playground_record(f, p, NULL, &ignored);
	}
	return e;
}
