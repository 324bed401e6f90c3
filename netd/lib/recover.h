/*
 * Recovery (DESIGN.md section 5): on start, before serving, every record in
 * the state dir is brought to an end state, and what the kernel holds under
 * this state dir's names without a record is removed. Objects carry their
 * state dir's owner tag (see fabric_owner_alias), so a netd never touches
 * the playgrounds of another state dir.
 */
#ifndef PLAYNET_RECOVER_H
#define PLAYNET_RECOVER_H

#include <stddef.h>

#include "fabric.h"

struct recover_report {
	size_t kept;      /* ready, and all there */
	size_t repaired;  /* ready, objects missing: rebuilt */
	size_t finished;  /* half-deleted: delete finished */
	size_t removed;   /* half-created: removed */
	size_t failed;    /* could not be brought to an end state */
	size_t orphans;   /* playgrounds with objects and no record */
	size_t transits;  /* transit allocations without a record */
	size_t guards;    /* guard entries of interfaces that are gone */
};

/* Logs each action with the playground's name. Negative only when the
 * state dir cannot be read; a playground that fails counts in failed. */
int recover_run(struct fabric *f, struct recover_report *r, struct pn_error *err);

#endif
