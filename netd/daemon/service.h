/*
 * netd's side of the API: the library's backend (netd/lib/backend.h) with
 * what only the daemon has plugged in through its hooks: DHCP on every
 * bridge, deletes paced by the reaper and creates that take over a deleted
 * playground's namespace, and the counters behind GET /metrics.
 */
#ifndef PLAYNET_SERVICE_H
#define PLAYNET_SERVICE_H

#include <stdbool.h>

#include "api.h"
#include "backend.h"
#include "dhcpd.h"
#include "dnsd.h"
#include "fabric.h"
#include "metrics.h"
#include "reaper.h"

struct service {
	struct backend backend; /* fabric, state_dir, pin_dir and limits set */
	struct dhcpd *dhcpd;
	struct dnsd *dnsd;
	bool no_takeover; /* every create builds from scratch */
	struct reaper reaper;
	struct metrics metrics;
};

/* Recovery (netd/lib/recover.h), then every playground loaded and served
 * (DHCP, DNS): before the API opens. Negative when the state dir cannot be
 * read. */
int service_recover(struct service *s);

/* The backend for api_handle, over s. */
struct api_backend service_backend(struct service *s);

/* The reaper's step, and its end (reaper.h). */
int service_reap(struct service *s);
void service_reap_all(struct service *s);

void service_free(struct service *s);

#endif
