/*
 * netd's deletes, paced: a delete is answered once it is recorded, and the
 * kernel gets one namespace at a time afterwards, unless a create of the
 * same frame takes one over first (playground_recycle). The records stay the
 * truth: a crash leaves "deleting" records that recovery finishes.
 */
#ifndef PLAYNET_REAPER_H
#define PLAYNET_REAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fabric.h"

struct reaper_delete {
	char *name;
	uint64_t shape; /* fabric_shape of its plan; 0: not to be taken over */
};

struct reaper {
	struct fabric *fabric;
	/* Deletes answered but not yet done, oldest first. */
	struct reaper_delete *pending;
	size_t n_pending;
	char *draining; /* being taken apart, or handed to the kernel */
	bool shedding;  /* draining still has bridges: fabric_shed */
	bool untrimmed; /* deletes happened since the heap was last trimmed */
	/* When a create last built from scratch (monotonic s); 0 once one
	 * has taken over a namespace since. */
	double last_build;
};

/* While creates come that build from scratch, the deletes take bridges
 * apart one per step, so that such a create waits for one bridge at most
 * (see reaper_step); with none for this long, or once a create has taken
 * over a namespace, whole namespaces go to the kernel, which is faster
 * overall. Creates that take over a deleted namespace need the rtnl lock
 * twice, not dozens of times: for them, a step that holds netd's thread
 * across a bridge's teardown costs more than waiting once for the
 * kernel's. */
#define REAPER_SHED_WINDOW 2.0

/* Beyond this many deletes waiting, a delete is done before its answer:
 * the backlog, and the namespaces it keeps alive, stay bounded. */
#define REAPER_PENDING_MAX 256

/* Records the delete and queues the rest (0, also when it is queued
 * already); -EAGAIN: to be done at once (nothing recorded, or the queue
 * is full). */
int reaper_queue(struct reaper *r, const char *name);
/* Finishes a delete under way of that name, before anything else is done
 * with the name. 0 also when there is none; on failure, err (NULL: only
 * the log) says why. */
int reaper_finish(struct reaper *r, const char *name, struct pn_error *err);
/* NAME's delete is queued, of a playground of that frame: a PUT of it
 * resets the playground where it stands instead of waiting for the kernel
 * to destroy it (an orchestrator's delete and create again). */
bool reaper_resettable(const struct reaper *r, const char *name, uint64_t shape);
/* A queued delete of that frame to take over, NAME's own first, else the
 * oldest; false when there is none. */
bool reaper_donor(const struct reaper *r, const char *name, uint64_t shape, char *donor,
		  size_t len);
/* The donor cannot be taken over: not offered again. */
void reaper_spoiled(struct reaper *r, const char *donor);
/* The donor's delete is over (taken over, or gone in an undo). */
void reaper_forget(struct reaper *r, const char *donor);
/* Deletes answered that the kernel has yet to finish. */
size_t reaper_pending(const struct reaper *r);
/* One step: deletes one bridge of the playground being taken apart (while
 * creates come), or hands its namespace to the kernel, or finishes it once
 * the kernel is done, or takes the next one. Call it when no request is
 * waiting. Returns how many ms until it wants to run again, -1 when there
 * is nothing to do. */
int reaper_step(struct reaper *r);
/* Finishes every delete still waiting, at once (netd stopping). */
void reaper_finish_all(struct reaper *r);

#endif
