/*
 * A playground's life (DESIGN.md section 5): the record of intent before
 * the fabric acts and of the outcome after, the transit /31, the fabric
 * (fabric.h), its VMs stopped before its taps go, and the takeover of a
 * deleted playground's namespace. A crash at any step leaves a record that
 * recovery (recover.h) finishes. This is also the one loader of a recorded
 * playground.
 */
#ifndef PLAYNET_PLAYGROUND_H
#define PLAYNET_PLAYGROUND_H

#include <stdint.h>

#include "diag.h"
#include "fabric.h"
#include "plan.h"
#include "pn_error.h"
#include "state.h"

/* The record of NAME and its plan as recorded. -ENOENT: no such
 * playground; -EINVAL: bad name or record (d says why). */
int playground_load(const char *state_dir, const char *name, struct state_record *rec,
		    struct plan *p, struct diag *d);
/* The same for callers that need only whether it worked. */
int playground_load_quiet(const char *state_dir, const char *name, struct state_record *rec,
			  struct plan *p);

/* Each says in err, the caller's own, what failed and why. */

/* All or nothing. -EEXIST: the playground or one of its objects exists
 * already; -EADDRNOTAVAIL: the transit pool is exhausted; -ENOSPC: the
 * state dir's filesystem is full; -EDOM: a subnet lies in the transit
 * pool. out, if not NULL: the record written, the caller's to free. */
int playground_create(struct fabric *f, const struct plan *p, const char *manifest,
		      struct state_record *out, struct pn_error *err);
/* 0 also when the playground does not exist. */
int playground_delete(struct fabric *f, const char *name, struct pn_error *err);

/* The impairment of interface ii of machine mi of P, which is built, set
 * to im: recorded, then put on both directions of its port (p changes
 * with it; on failure neither p nor the record does). -EOPNOTSUPP: the
 * kernel lacks what im needs, err names it. */
/* P's record written with its plan now p (a change at runtime, said
 * before it is made); out, if not NULL, gets the record. */
int playground_record(struct fabric *f, const struct plan *p, struct state_record *out,
		      struct pn_error *err);
int playground_impair(struct fabric *f, struct plan *p, size_t mi, size_t ii,
		      const struct manifest_impair *im, struct pn_error *err);
/* The same for its link: its port up or down, and a VM's guest told. */
int playground_link(struct fabric *f, struct plan *p, size_t mi, size_t ii, bool up,
		    struct pn_error *err);

/* p's forwards checked against every other playground's of the state dir
 * (-EADDRINUSE) and the host's other programs (fabric_forward_free). */
int playground_check_forwards(struct fabric *f, const struct plan *p, struct pn_error *err);
/* A forward added to (or, add false, its host port's removed from)
 * machine mi of running p, recorded first: -EADDRINUSE when the host
 * port is taken, -EDOM when the machine has no non-private network,
 * -ENOENT for no such forward, -ENOSPC past MANIFEST_MAX_FORWARDS. */
int playground_forward(struct fabric *f, struct plan *p, size_t mi, bool add,
		       const struct manifest_forward *fw, struct pn_error *err);

/*
 * A delete in three calls, for a caller that paces the kernel's work:
 * playground_mark_deleting records the intent and stops the VMs (1; 0
 * when there is no record to mark; shape, if not NULL: fabric_shape of its
 * plan, 0 without a record); after that the playground is gone as far as a
 * user is concerned. playground_release removes its names and hands the
 * namespace to the kernel, leaving the uplink's host end to die with it:
 * playground_released is 1 once the kernel has done so, 0 before.
 * playground_delete then frees the transit /31 and the record. A crash
 * anywhere leaves a "deleting" record that recovery finishes. In between,
 * fabric_hide and fabric_shed may act on it.
 */
int playground_mark_deleting(struct fabric *f, const char *name, uint64_t *shape,
			     struct pn_error *err);
int playground_release(struct fabric *f, const char *name, struct pn_error *err);
int playground_released(struct fabric *f, const char *name);

/*
 * A create that takes over the namespace of OLD, a playground marked
 * deleting but not yet taken apart (neither shed nor released), built by
 * this fabric from a manifest of the same frame (fabric_same_frame): the
 * kernel's side is fabric_takeover_*, the transit /31 passes to P, and
 * OLD's record goes, as its delete would have ended. OLD may be P's own
 * name: a playground deleted and created again is reset where it stands.
 * -ESTALE: OLD cannot be taken over (another frame or fabric, machine
 * namespaces, something missing). On any error, OLD is either as it was,
 * still recorded, or removed with whatever P had of it.
 */
int playground_recycle(struct fabric *f, const char *old, const struct plan *p,
		       const char *manifest, struct state_record *out, struct pn_error *err);

#endif
