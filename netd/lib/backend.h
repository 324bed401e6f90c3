/*
 * What the API means (DESIGN.md section 4): get, put, delete, list, stats
 * and metrics of playgrounds, as one struct api_backend over the fabric and
 * the state dir. netd serves it over HTTP; `playnet --direct` calls
 * api_handle on it in its own process, so both give the same JSON, text and
 * statuses by construction. What only the daemon has (DHCP, paced deletes
 * and takeovers, counters) comes in through struct backend_hooks; without
 * hooks a create builds from scratch and a delete is done before its
 * answer.
 *
 * The backend keeps each playground it has seen as its record and plan,
 * so that a GET, a stats call or a /metrics scrape works nothing out again.
 */
#ifndef PLAYNET_BACKEND_H
#define PLAYNET_BACKEND_H

#include <stdbool.h>
#include <stdio.h>

#include "api.h"
#include "fabric.h"
#include "manifest.h"
#include "plan.h"
#include "state.h"

enum backend_event {
	BACKEND_CREATED,        /* seconds: how long the create took */
	BACKEND_DELETED,        /* seconds: until the delete was answered */
	BACKEND_FAILED_MANIFEST,
	BACKEND_FAILED_CONFLICT,
	BACKEND_FAILED_KERNEL,
};

struct backend_hooks {
	/* Before a PUT of NAME looks at what is recorded: a delete of NAME
	 * still under way ends first, unless the playground can be reset
	 * where it stands (*reset: then NAME is not looked up, p is built).
	 * p is NULL for a manifest that was refused. Negative: failed, the
	 * reason in err. */
	int (*prepare)(void *ctx, const char *name, const struct plan *p, bool *reset,
		       struct pn_error *err);
	/* Builds p, perhaps by taking over a deleted playground's namespace,
	 * and hands back the record written (playground_create's contract). */
	int (*create)(void *ctx, const struct plan *p, const char *text,
		      struct state_record *rec, struct pn_error *err);
	/* p is built: serve it (DHCP). Negative: the create is undone. */
	int (*serve)(void *ctx, const struct plan *p, struct pn_error *err);
	/* A DELETE: 0 when it is recorded and the rest is queued (or was
	 * already), -EAGAIN when it is to be done at once. */
	int (*queue_delete)(void *ctx, const char *name);
	/* NAME's delete is answered: whatever served it stops. */
	void (*gone)(void *ctx, const char *name);
	void (*observe)(void *ctx, enum backend_event ev, double seconds);
	/* /metrics: the daemon's own families, after the backend's. */
	void (*metrics)(void *ctx, FILE *f);
};

struct backend_entry;
struct capture_set;

struct backend {
	struct fabric *fabric;
	const char *state_dir;
	const char *pin_dir;
	struct manifest_limits limits;
	const char *guard_config; /* its file, said in /healthz; NULL: none */
	const struct backend_hooks *hooks; /* NULL: none */
	struct capture_set *captures;       /* NULL: no capture (capture.h) */
	void *hooks_ctx;
	/* Every recorded playground not being deleted is in entries (netd,
	 * which holds the state dir's lock, after backend_load_all): a name
	 * not there is not looked for on disk. */
	bool complete;
	struct backend_entry **entries;
	size_t n_entries;
	size_t cap_entries;
};

/* The routes' backend over b. */
struct api_backend backend_api(struct backend *b);

/* Loads every playground recorded and not being deleted; afterwards b is
 * complete. fn, if not NULL, is called for each one loaded. */
int backend_load_all(struct backend *b, int (*fn)(const struct plan *p, void *arg), void *arg);

/* Forgets what b holds of NAME: its record is about to change. */
void backend_forget(struct backend *b, const char *name);

void backend_free(struct backend *b);

#endif
