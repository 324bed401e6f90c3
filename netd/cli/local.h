/*
 * playnet --direct: the API answered in this process, by the very backend
 * netd serves (netd/lib/backend.h), on the state dir itself. A request that
 * changes something takes the state dir's writer lock, which netd holds
 * while it runs. The answer comes as client_call's does.
 */
#ifndef PLAYNET_LOCAL_H
#define PLAYNET_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "fabric.h"
#include "manifest.h"

struct local {
	const struct fabric_opts *fabric;
	struct manifest_limits limits;
};

/* -ENOENT: no such host netns; other negative errnos when the state dir
 * or the fabric cannot be opened; err says why. */
int local_call(const struct local *l, const char *method, const char *path, const char *body,
	       size_t len, bool text, struct client_response *r, struct pn_error *err);

#endif
