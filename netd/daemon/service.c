#define _GNU_SOURCE
#include "service.h"
#include "playground.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "naming.h"
#include "netns.h"
#include "recover.h"
#include "state.h"
#include "util.h"

static struct fabric *fabric_of(struct service *s)
{
	return s->backend.fabric;
}

/* Only a queued delete can be taken over. */
static uint64_t shape_of(const struct service *s, const struct plan *p)
{
	return p && s->reaper.n_pending && !s->no_takeover ? fabric_shape(p) : 0;
}

static int hook_prepare(void *ctx, const char *name, const struct plan *p, bool *reset,
			struct pn_error *err)
{
	struct service *s = ctx;
	/* A delete of that name still under way is finished first, unless
	 * the playground can be reset where it stands. */
	*reset = reaper_resettable(&s->reaper, name, shape_of(s, p));
	return *reset ? 0 : reaper_finish(&s->reaper, name, err);
}

/* A queued delete of a playground of the same frame (fabric_shape): its
 * namespace becomes P's if it can (playground_recycle), which spares the
 * kernel a namespace to destroy and the create nearly all of its work. */
static int recycle(struct service *s, const struct plan *p, const char *text,
		   struct state_record *rec, struct pn_error *err)
{
	char donor[NAMING_PLAYGROUND_MAX + 1];
	if (!reaper_donor(&s->reaper, p->name, shape_of(s, p), donor, sizeof(donor)))
		return -ESTALE;
	bool self = strcmp(donor, p->name) == 0;
	int e = playground_recycle(fabric_of(s), donor, p, text, rec, err);
	if (e == -ESTALE) {
		reaper_spoiled(&s->reaper, donor); /* no use asking again */
		return e;
	}
	struct state_record left;
	if (!self && state_read(s->backend.state_dir, donor, &left) == 0)
		state_record_free(&left);
	else
		reaper_forget(&s->reaper, donor); /* taken over, or gone in the undo */
	if (e == 0) {
		/* The creates coming take over too, most likely: shedding
		 * bridges would hold them up, not speed them. */
		s->reaper.last_build = 0;
		s->metrics.recycled++;
		if (self)
			log_info("playground %s: deleted and created again where it stood", p->name);
		else
			log_info("playground %s: took over the namespace of deleted %s", p->name,
				 donor);
	}
	return e;
}

static int hook_create(void *ctx, const struct plan *p, const char *text,
		       struct state_record *rec, struct pn_error *err)
{
	struct service *s = ctx;
	int e = recycle(s, p, text, rec, err);
	if (e < 0 && e != -ESTALE && e != -EEXIST)
		log_warn("playground %s: taking over a deleted namespace failed: %s", p->name,
			 err->msg);
	if (e == 0 || e == -EEXIST)
		return e;
	/* its own delete, if still queued, ends before it is built again */
	if ((e = reaper_finish(&s->reaper, p->name, err)) < 0)
		return e;
	s->reaper.last_build = now_seconds();
	return playground_create(fabric_of(s), p, text, rec, err);
}

static int hook_serve(void *ctx, const struct plan *p, struct pn_error *err)
{
	struct service *s = ctx;
	cleanup_close int nsfd = netns_open(p->netns);
	if (nsfd < 0)
		return pn_fail(err, nsfd, "open netns %s", p->netns);
	int e = dhcpd_add(s->dhcpd, p, nsfd, err);
	if (e == 0 && (e = dnsd_add(s->dnsd, p, nsfd, err)) < 0)
		dhcpd_remove(s->dhcpd, p->name);
	return e;
}

static int hook_queue_delete(void *ctx, const char *name)
{
	struct service *s = ctx;
	return reaper_queue(&s->reaper, name);
}

static void hook_gone(void *ctx, const char *name)
{
	struct service *s = ctx;
	dhcpd_remove(s->dhcpd, name);
	dnsd_remove(s->dnsd, name);
	s->reaper.untrimmed = true; /* the reaper gives the memory back, after the answer */
}

static void hook_observe(void *ctx, enum backend_event ev, double seconds)
{
	struct service *s = ctx;
	metrics_observe(&s->metrics, ev, seconds);
}

static void hook_metrics(void *ctx, FILE *f)
{
	struct service *s = ctx;
	metrics_print(&s->metrics, reaper_pending(&s->reaper), f);
	dhcpd_metrics(s->dhcpd, f);
	dnsd_metrics(s->dnsd, f);
}

static const struct backend_hooks hooks = {
	.prepare = hook_prepare,
	.create = hook_create,
	.serve = hook_serve,
	.queue_delete = hook_queue_delete,
	.gone = hook_gone,
	.observe = hook_observe,
	.metrics = hook_metrics,
};

static int serve_one(const struct plan *p, void *arg)
{
	struct service *s = arg;
	struct pn_error err = PN_ERROR_INIT;
	if (hook_serve(s, p, &err) < 0)
		log_err("playground %s: no DHCP or DNS: %s", p->name, err.msg);
	return 0;
}

int service_recover(struct service *s)
{
	struct recover_report r;
	s->reaper.fabric = fabric_of(s);
	struct pn_error err = PN_ERROR_INIT;
	if (recover_run(fabric_of(s), &r, &err) < 0) {
		log_err("recovery: %s", err.msg);
		return -1;
	}
	log_info("recovery: %zu kept, %zu repaired, %zu half-deleted finished, %zu half-created removed, %zu failed; removed %zu orphan playgrounds, %zu transit allocations, %zu guard entries",
		 r.kept, r.repaired, r.finished, r.removed, r.failed, r.orphans, r.transits,
		 r.guards);
	return backend_load_all(&s->backend, serve_one, s);
}

struct api_backend service_backend(struct service *s)
{
	s->backend.hooks = &hooks;
	s->backend.hooks_ctx = s;
	if (!s->backend.captures)
		s->backend.captures = capture_set_new(); /* NULL: captures get a 501 */
	s->reaper.fabric = fabric_of(s);
	return backend_api(&s->backend);
}

int service_reap(struct service *s)
{
	return reaper_step(&s->reaper);
}

void service_reap_all(struct service *s)
{
	reaper_finish_all(&s->reaper);
}

void service_free(struct service *s)
{
	backend_free(&s->backend);
}
