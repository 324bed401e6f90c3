/*
 * netd's side of the API: the backend behind the router (netd/lib/api.c),
 * doing each request with the fabric library, and the counters behind
 * GET /metrics.
 */
#ifndef PLAYNET_SERVICE_H
#define PLAYNET_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "dhcpd.h"
#include "fabric.h"
#include "manifest.h"

#define SERVICE_BUCKETS 10

struct service_histogram {
	uint64_t counts[SERVICE_BUCKETS + 1]; /* the last is +Inf */
	uint64_t n;
	double sum;
};

enum service_error { SERVICE_ERR_MANIFEST, SERVICE_ERR_CONFLICT, SERVICE_ERR_KERNEL,
		     SERVICE_ERR_KINDS };

struct service_delete {
	char *name;
	uint64_t shape; /* fabric_shape of its manifest; 0: not to be taken over */
};

struct service {
	struct fabric *fabric;
	struct dhcpd *dhcpd;
	const char *state_dir;
	const char *pin_dir;
	struct manifest_limits limits;
	bool no_takeover; /* every create builds from scratch */
	uint64_t creates;
	uint64_t recycled; /* creates that took over a deleted playground's namespace */
	uint64_t deletes;
	uint64_t errors[SERVICE_ERR_KINDS];
	struct service_histogram create_seconds;
	struct service_histogram delete_seconds;
	/* Deletes answered but not yet done, oldest first: the kernel gets
	 * one namespace at a time (see service_reap), unless a create of the
	 * same shape takes one over first (fabric_recycle). */
	struct service_delete *pending;
	size_t n_pending;
	char *draining; /* being taken apart, or handed to the kernel */
	bool shedding;  /* draining still has bridges: fabric_shed */
	bool untrimmed; /* deletes happened since the heap was last trimmed */
	double last_build; /* when a PUT last built a playground from scratch
			    * (monotonic seconds) */
};

/* While creates come that build from scratch, the deletes take bridges
 * apart one per step, so that such a create waits for one bridge at most
 * (see service_reap); with none for this long, whole namespaces go to the
 * kernel, which is faster overall. Creates that take over a deleted
 * namespace need the rtnl lock twice, not dozens of times: for them, a
 * step that holds netd's thread across a bridge's teardown costs more
 * than waiting once for the kernel's. */
#define SERVICE_SHED_WINDOW 2.0

/* Beyond this many deletes waiting, a delete is done before its answer:
 * the backlog, and the namespaces it keeps alive, stay bounded. */
#define SERVICE_PENDING_MAX 256

/* One step of the paced deletes: deletes one bridge of the playground
 * being taken apart (while creates come), or hands its namespace to the
 * kernel, or finishes it once the kernel is done, or takes the next one.
 * Call it when no request is waiting.
 * Returns how many ms until it wants to run again, -1 when there is
 * nothing to do. */
int service_reap(struct service *s);

/* Finishes every delete still waiting, at once (netd stopping). */
void service_reap_all(struct service *s);

/* Recovery (netd/lib/recover.h), then DHCP for every playground: before
 * the API opens. Negative when the state dir cannot be read. */
int service_recover(struct service *s);

/* Serves DHCP on the playground's bridges; its record must be ready. */
int service_serve(struct service *s, const char *name);

/* The backend for api_handle, over s. */
struct api_backend service_backend(struct service *s);

#endif
