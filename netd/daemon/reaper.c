#define _GNU_SOURCE
#include "reaper.h"
#include "playground.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "naming.h"
#include "state.h"
#include "util.h"

/* Where NAME's delete waits in the queue, or n_pending. */
static size_t pending_index(const struct reaper *r, const char *name)
{
	size_t i = 0;
	while (i < r->n_pending && strcmp(r->pending[i].name, name) != 0)
		i++;
	return i;
}

/* The queue of deletes under way: a name is in pending, or is draining. */
static bool forget(struct reaper *r, const char *name)
{
	size_t i = pending_index(r, name);
	if (i < r->n_pending) {
		free(r->pending[i].name);
		memmove(&r->pending[i], &r->pending[i + 1],
			(r->n_pending - i - 1) * sizeof(*r->pending));
		r->n_pending--;
		return true;
	}
	if (r->draining && strcmp(r->draining, name) == 0) {
		free(r->draining);
		r->draining = NULL;
		r->shedding = false;
		return true;
	}
	return false;
}

static bool queued(const struct reaper *r, const char *name)
{
	return pending_index(r, name) < r->n_pending ||
	       (r->draining && strcmp(r->draining, name) == 0);
}

int reaper_queue(struct reaper *r, const char *name)
{
	if (queued(r, name))
		return 0;
	if (r->n_pending >= REAPER_PENDING_MAX)
		return -EAGAIN;
	struct reaper_delete *grown = realloc(r->pending, (r->n_pending + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->pending = grown;
	struct reaper_delete d = { .name = strdup(name) };
	if (!d.name)
		return -ENOMEM;
	/* A failure here is the caller's to meet again: it deletes at once. */
	struct pn_error err = PN_ERROR_INIT;
	int e = playground_mark_deleting(r->fabric, name, &d.shape, &err);
	if (e <= 0) {
		free(d.name);
		return e < 0 ? e : -EAGAIN;
	}
	/* Gone as far as a user is concerned: so are its names. */
	if (fabric_hide(r->fabric, name, &err) < 0)
		log_warn("playground %s: %s", name, err.msg);
	r->pending[r->n_pending++] = d;
	return 0;
}

int reaper_finish(struct reaper *r, const char *queued_name, struct pn_error *err)
{
	char name[NAMING_PLAYGROUND_MAX + 1]; /* the queue's copy goes */
	snprintf(name, sizeof(name), "%s", queued_name);
	if (!forget(r, name))
		return 0;
	struct pn_error own = PN_ERROR_INIT;
	if (!err)
		err = &own;
	int e = playground_delete(r->fabric, name, err);
	if (e < 0)
		log_err("playground %s: delete failed: %s", name, err->msg);
	else
		log_info("playground %s: gone from the kernel", name);
	return e;
}

bool reaper_resettable(const struct reaper *r, const char *name, uint64_t shape)
{
	size_t i = pending_index(r, name);
	return shape && i < r->n_pending && r->pending[i].shape == shape;
}

bool reaper_donor(const struct reaper *r, const char *name, uint64_t shape, char *donor,
		  size_t len)
{
	if (!shape)
		return false;
	size_t i = pending_index(r, name);
	if (i == r->n_pending || r->pending[i].shape != shape)
		for (i = 0; i < r->n_pending && r->pending[i].shape != shape; i++)
			;
	if (i == r->n_pending)
		return false;
	snprintf(donor, len, "%s", r->pending[i].name);
	return true;
}

void reaper_spoiled(struct reaper *r, const char *donor)
{
	size_t i = pending_index(r, donor);
	if (i < r->n_pending)
		r->pending[i].shape = 0;
}

void reaper_forget(struct reaper *r, const char *donor)
{
	forget(r, donor);
}

size_t reaper_pending(const struct reaper *r)
{
	return r->n_pending + (r->draining ? 1 : 0);
}

/* Hands the playground being taken apart to the kernel. */
static int release_draining(struct reaper *r)
{
	r->shedding = false;
	struct pn_error err = PN_ERROR_INIT;
	if (playground_release(r->fabric, r->draining, &err) < 0) {
		log_err("playground %s: delete failed: %s", r->draining, err.msg);
		reaper_finish(r, r->draining, NULL);
	}
	return r->draining || r->n_pending ? 2 : -1;
}

static bool creates_coming(const struct reaper *r)
{
	return now_seconds() - r->last_build < REAPER_SHED_WINDOW;
}

int reaper_step(struct reaper *r)
{
	if (r->draining && r->shedding) {
		struct pn_error err = PN_ERROR_INIT;
		int e = creates_coming(r) ? fabric_shed(r->fabric, r->draining, &err) : 0;
		if (e > 0)
			return 0;
		if (e < 0) /* the namespace's destruction deletes what is left */
			log_warn("playground %s: %s", r->draining, err.msg);
		return release_draining(r);
	}
	if (r->draining) {
		int e = playground_released(r->fabric, r->draining);
		if (e == 0)
			return 2; /* the kernel is still at it: look again soon */
		if (e < 0)
			log_warn("playground %s: %s", r->draining, strerror(-e));
		reaper_finish(r, r->draining, NULL);
	}
	if (!r->n_pending) {
		/* The queue is done: give back what the burst took, so that
		 * netd's size follows the playgrounds it holds. */
		if (r->untrimmed)
			malloc_trim(0);
		r->untrimmed = false;
		return -1;
	}
	r->draining = r->pending[0].name;
	memmove(&r->pending[0], &r->pending[1], (r->n_pending - 1) * sizeof(*r->pending));
	r->n_pending--;
	r->shedding = true;
	return 0;
}

void reaper_finish_all(struct reaper *r)
{
	while (r->draining || r->n_pending)
		reaper_finish(r, r->draining ? r->draining : r->pending[0].name, NULL);
	free(r->pending);
	r->pending = NULL;
}
