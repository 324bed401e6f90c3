#define _GNU_SOURCE
#include "service.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "naming.h"
#include "netns.h"
#include "plan.h"
#include "recover.h"
#include "report.h"
#include "state.h"
#include "util.h"

static const double bucket_bounds[SERVICE_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

static const char *const error_kinds[SERVICE_ERR_KINDS] = {
	[SERVICE_ERR_MANIFEST] = "manifest",
	[SERVICE_ERR_CONFLICT] = "conflict",
	[SERVICE_ERR_KERNEL] = "kernel",
};

static void observe(struct service_histogram *h, double seconds)
{
	size_t i = 0;
	while (i < SERVICE_BUCKETS && seconds > bucket_bounds[i])
		i++;
	h->counts[i]++;
	h->n++;
	h->sum += seconds;
}

/* A recorded playground and its plan; on failure r holds the answer. */
static int load_or_respond(struct service *s, const char *name, struct state_record *rec,
			   struct plan *p, struct api_response *r)
{
	int e = report_load_quiet(s->state_dir, name, rec, p);
	if (e == 0 && rec->phase == STATE_DELETING) {
		state_record_free(rec);
		plan_free(p);
		e = -ENOENT; /* answered as deleted; the kernel is finishing */
	}
	if (e == -ENOENT)
		api_error(r, 404, "not_found", "no such playground", 0, 0);
	else if (e < 0)
		api_error(r, 500, "state", "the playground's record cannot be read", 0, 0);
	return e;
}

/* A text answer, printed into memory: what playnet shows as it is. */
struct text_buf {
	char *text;
	size_t len;
	FILE *f;
};

static FILE *text_begin(struct text_buf *t)
{
	*t = (struct text_buf){ 0 };
	t->f = open_memstream(&t->text, &t->len);
	return t->f;
}

/* After a text_begin that succeeded. */
static void text_end(struct text_buf *t, int status, struct api_response *r)
{
	fclose(t->f);
	api_text(r, status, "text/plain; charset=utf-8", t->text, t->len);
}

/* The show JSON of a playground: what GET returns and PUT answers with. */
static void respond_playground(struct service *s, const char *name, int status, bool text,
			       struct api_response *r)
{
	struct state_record rec;
	struct plan p;
	if (load_or_respond(s, name, &rec, &p, r) < 0)
		return;
	struct fabric_report rep;
	struct text_buf t;
	if (fabric_inspect(s->fabric, &p, &rec, &rep) < 0) {
		api_error(r, 500, "kernel", s->fabric->err, 0, 0);
	} else if (text && text_begin(&t)) {
		report_show_text(t.f, s->fabric, &rec, &p, &rep);
		text_end(&t, status, r);
	} else {
		api_json(r, status, report_show_json(s->fabric, &rec, &p, &rep));
	}
	fabric_report_free(&rep);
	state_record_free(&rec);
	plan_free(&p);
}

static void svc_get(void *ctx, const char *name, bool text, struct api_response *r)
{
	respond_playground(ctx, name, 200, text, r);
}

static int serve_plan(struct service *s, const struct plan *p)
{
	cleanup_close int nsfd = netns_open(p->netns);
	if (nsfd < 0)
		return fabric_fail(s->fabric, nsfd, "open netns %s", p->netns);
	return dhcpd_add(s->dhcpd, p, nsfd, s->fabric->err, sizeof(s->fabric->err));
}

int service_serve(struct service *s, const char *name)
{
	struct state_record rec;
	struct plan p;
	int e = report_load_quiet(s->state_dir, name, &rec, &p);
	if (e < 0)
		return fabric_fail(s->fabric, e, "read back playground %s", name);
	e = serve_plan(s, &p);
	state_record_free(&rec);
	plan_free(&p);
	return e;
}

static int serve_one(const char *name, void *arg)
{
	struct service *s = arg;
	if (service_serve(s, name) < 0)
		log_err("playground %s: no DHCP: %s", name, s->fabric->err);
	return 0;
}

int service_recover(struct service *s)
{
	struct recover_report r;
	if (recover_run(s->fabric, &r) < 0) {
		log_err("recovery: %s", s->fabric->err);
		return -1;
	}
	log_info("recovery: %zu kept, %zu repaired, %zu half-deleted finished, %zu half-created removed, %zu failed; removed %zu orphan playgrounds, %zu transit allocations, %zu guard entries",
		 r.kept, r.repaired, r.finished, r.removed, r.failed, r.orphans, r.transits,
		 r.guards);
	return state_list(s->state_dir, serve_one, s);
}

/* Deletes answered but still under way are gone to the client. */
static void drop_deleting(struct json_object *arr)
{
	for (size_t i = json_object_array_length(arr); i-- > 0;) {
		struct json_object *phase;
		if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "phase", &phase) &&
		    strcmp(json_object_get_string(phase), state_phase_name(STATE_DELETING)) == 0)
			json_object_array_del_idx(arr, i, 1);
	}
}

static void svc_list(void *ctx, bool text, struct api_response *r)
{
	struct service *s = ctx;
	struct json_object *arr;
	int e = report_list_json(s->state_dir, &arr);
	if (e < 0)
		return api_error(r, 500, "state", strerror(-e), 0, 0);
	drop_deleting(arr);
	struct text_buf t;
	if (text && text_begin(&t)) {
		report_list_text(t.f, arr);
		json_object_put(arr);
		return text_end(&t, 200, r);
	}
	struct json_object *top = json_object_new_object();
	json_object_object_add(top, "playgrounds", arr);
	api_json(r, 200, top);
}

/* A playground made but not served: removed, keeping the reason in
 * fabric->err for the answer (fabric_delete writes its own there). */
static void undo_create(struct service *s, const char *name)
{
	char why[sizeof(s->fabric->err)];
	memcpy(why, s->fabric->err, sizeof(why));
	if (fabric_delete(s->fabric, name) < 0)
		log_err("playground %s: undo failed: %s", name, s->fabric->err);
	memcpy(s->fabric->err, why, sizeof(why));
}

/* The queue of deletes under way: a name is in pending, or is draining. */
static bool forget_pending(struct service *s, const char *name)
{
	for (size_t i = 0; i < s->n_pending; i++) {
		if (strcmp(s->pending[i].name, name) != 0)
			continue;
		free(s->pending[i].name);
		memmove(&s->pending[i], &s->pending[i + 1],
			(s->n_pending - i - 1) * sizeof(*s->pending));
		s->n_pending--;
		return true;
	}
	if (s->draining && strcmp(s->draining, name) == 0) {
		free(s->draining);
		s->draining = NULL;
		s->shedding = false;
		return true;
	}
	return false;
}

static void deleted(struct service *s, const char *name, double seconds)
{
	observe(&s->delete_seconds, seconds);
	s->deletes++;
	log_info("playground %s: deleted in %.1f ms (answered)", name, seconds * 1e3);
	s->untrimmed = true; /* service_reap gives the memory back, after the answer */
}

/* Finishes a delete under way of that name, before anything else is done
 * with the name. */
static int finish_now(struct service *s, const char *queued_name)
{
	char name[NAMING_PLAYGROUND_MAX + 1]; /* the queue's copy goes */
	snprintf(name, sizeof(name), "%s", queued_name);
	if (!forget_pending(s, name))
		return 0;
	int e = fabric_delete(s->fabric, name);
	if (e < 0)
		log_err("playground %s: delete failed: %s", name, s->fabric->err);
	else
		log_info("playground %s: gone from the kernel", name);
	return e;
}

/* Where NAME's delete waits in the queue, or n_pending. */
static size_t pending_index(const struct service *s, const char *name)
{
	size_t i = 0;
	while (i < s->n_pending && strcmp(s->pending[i].name, name) != 0)
		i++;
	return i;
}

static bool queued(const struct service *s, const char *name)
{
	return pending_index(s, name) < s->n_pending ||
	       (s->draining && strcmp(s->draining, name) == 0);
}

/* Records the delete and queues the rest; -EAGAIN: to be done at once
 * (nothing recorded, or the queue is full). */
static int queue_delete(struct service *s, const char *name)
{
	if (s->n_pending >= SERVICE_PENDING_MAX)
		return -EAGAIN;
	struct service_delete *grown = realloc(s->pending, (s->n_pending + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->pending = grown;
	struct service_delete d = { .name = strdup(name) };
	if (!d.name)
		return -ENOMEM;
	int e = fabric_mark_deleting(s->fabric, name, &d.shape);
	if (e <= 0) {
		free(d.name);
		return e < 0 ? e : -EAGAIN;
	}
	s->pending[s->n_pending++] = d;
	return 0;
}

/* NAME's delete is queued, of a playground of that frame: a PUT of it
 * resets the playground where it stands instead of waiting for the kernel
 * to destroy it (an orchestrator's delete and create again). */
static bool resettable(const struct service *s, const char *name, uint64_t shape)
{
	size_t i = pending_index(s, name);
	return shape && i < s->n_pending && s->pending[i].shape == shape;
}

/* A queued delete of a playground of the same frame (fabric_shape), P's
 * own first, else the oldest: its namespace becomes P's if it can
 * (fabric_recycle), which spares the kernel a namespace to destroy and
 * the create nearly all of its work. SHAPE: fabric_shape of TEXT, 0 when
 * no delete was queued or the text does not plan. */
static int recycle(struct service *s, const struct plan *p, const char *text, uint64_t shape)
{
	if (!shape)
		return -ESTALE;
	size_t i = pending_index(s, p->name);
	if (i == s->n_pending || s->pending[i].shape != shape)
		for (i = 0; i < s->n_pending && s->pending[i].shape != shape; i++)
			;
	if (i == s->n_pending)
		return -ESTALE;
	char donor[NAMING_PLAYGROUND_MAX + 1];
	snprintf(donor, sizeof(donor), "%s", s->pending[i].name);
	bool self = strcmp(donor, p->name) == 0;
	int e = fabric_recycle(s->fabric, donor, p, text);
	if (e == -ESTALE) {
		s->pending[i].shape = 0; /* no use asking again */
		return e;
	}
	struct state_record rec;
	if (!self && state_read(s->state_dir, donor, &rec) == 0)
		state_record_free(&rec);
	else
		forget_pending(s, donor); /* taken over, or gone in the undo */
	if (e == 0) {
		s->recycled++;
		if (self)
			log_info("playground %s: deleted and created again where it stood", p->name);
		else
			log_info("playground %s: took over the namespace of deleted %s", p->name,
				 donor);
	}
	return e;
}

static int create(struct service *s, const struct plan *p, const char *text, uint64_t shape)
{
	int e = recycle(s, p, text, shape);
	if (e < 0 && e != -ESTALE && e != -EEXIST)
		log_warn("playground %s: taking over a deleted namespace failed: %s", p->name,
			 s->fabric->err);
	if (e == 0 || e == -EEXIST)
		return e;
	/* its own delete, if still queued, ends before it is built again */
	if ((e = finish_now(s, p->name)) < 0)
		return e;
	s->last_build = now_seconds();
	return fabric_create(s->fabric, p, text);
}

static void svc_put(void *ctx, const char *name, const struct api_manifest *m,
		    struct api_response *r)
{
	struct service *s = ctx;
	/* Only a queued delete can be taken over. */
	uint64_t shape = m->plan && s->n_pending && !s->no_takeover ? fabric_shape(m->plan) : 0;
	/* A delete of that name still under way is finished first, unless
	 * the playground can be reset where it stands. */
	bool reset = resettable(s, name, shape);
	if (!reset && finish_now(s, name) < 0) {
		s->errors[SERVICE_ERR_KERNEL]++;
		return api_error(r, 500, "kernel", s->fabric->err, 0, 0);
	}
	/* PUT is idempotent: the same manifest again changes nothing. */
	struct state_record rec;
	if (!reset && state_read(s->state_dir, name, &rec) == 0) {
		bool same = strlen(rec.manifest) == m->len &&
			    memcmp(rec.manifest, m->text, m->len) == 0 && rec.phase == STATE_READY;
		state_record_free(&rec);
		if (same)
			return respond_playground(s, name, 200, false, r);
		s->errors[SERVICE_ERR_CONFLICT]++;
		return api_error(r, 409, "conflict",
				 "a playground of that name exists with another manifest", 0, 0);
	}
	if (!m->plan) {
		s->errors[SERVICE_ERR_MANIFEST]++;
		return api_copy(r, m->refusal);
	}

	double t0 = now_seconds();
	int e = create(s, m->plan, m->text, shape);
	if (e == 0 && (e = serve_plan(s, m->plan)) < 0)
		undo_create(s, name);
	if (e < 0) {
		log_err("playground %s: create failed: %s", name, s->fabric->err);
		if (e == -EEXIST || e == -EADDRINUSE) {
			s->errors[SERVICE_ERR_CONFLICT]++;
			return api_error(r, 409, "conflict", s->fabric->err, 0, 0);
		}
		s->errors[SERVICE_ERR_KERNEL]++;
		if (e == -EADDRNOTAVAIL)
			return api_error(r, 503, "exhausted", s->fabric->err, 0, 0);
		if (e == -EDOM)
			return api_error(r, 422, "invalid_manifest", s->fabric->err, 0, 0);
		if (e == -ENOSPC)
			return api_error(r, 503, "no_space", s->fabric->err, 0, 0);
		return api_error(r, 500, "kernel", s->fabric->err, 0, 0);
	}
	double dt = now_seconds() - t0;
	observe(&s->create_seconds, dt);
	s->creates++;
	log_info("playground %s: created in %.1f ms", name, dt * 1e3);
	respond_playground(s, name, 201, false, r);
}

static void svc_del(void *ctx, const char *name, struct api_response *r)
{
	struct service *s = ctx;
	double t0 = now_seconds();
	/* DHCP goes once the delete is under way: a delete that fails
	 * leaves the playground served as it was. */
	if (queued(s, name) || queue_delete(s, name) == 0) {
		dhcpd_remove(s->dhcpd, name);
		deleted(s, name, now_seconds() - t0);
		return api_text(r, 204, NULL, NULL, 0);
	}
	if (fabric_delete(s->fabric, name) < 0) {
		s->errors[SERVICE_ERR_KERNEL]++;
		log_err("playground %s: delete failed: %s", name, s->fabric->err);
		return api_error(r, 500, "kernel", s->fabric->err, 0, 0);
	}
	dhcpd_remove(s->dhcpd, name);
	deleted(s, name, now_seconds() - t0);
	api_text(r, 204, NULL, NULL, 0);
}

/* Hands the playground being taken apart to the kernel. */
static int release_draining(struct service *s)
{
	s->shedding = false;
	if (fabric_release(s->fabric, s->draining) < 0) {
		log_err("playground %s: delete failed: %s", s->draining, s->fabric->err);
		finish_now(s, s->draining);
	}
	return s->draining || s->n_pending ? 2 : -1;
}

static bool creates_coming(const struct service *s)
{
	return now_seconds() - s->last_build < SERVICE_SHED_WINDOW;
}

int service_reap(struct service *s)
{
	if (s->draining && s->shedding) {
		int e = creates_coming(s) ? fabric_shed(s->fabric, s->draining) : 0;
		if (e > 0)
			return 0;
		if (e < 0) /* the namespace's destruction deletes what is left */
			log_warn("playground %s: %s", s->draining, s->fabric->err);
		return release_draining(s);
	}
	if (s->draining) {
		int e = fabric_released(s->fabric, s->draining);
		if (e == 0)
			return 2; /* the kernel is still at it: look again soon */
		if (e < 0)
			log_warn("playground %s: %s", s->draining, strerror(-e));
		finish_now(s, s->draining);
	}
	if (!s->n_pending) {
		/* The queue is done: give back what the burst took, so that
		 * netd's size follows the playgrounds it holds. */
		if (s->untrimmed)
			malloc_trim(0);
		s->untrimmed = false;
		return -1;
	}
	s->draining = s->pending[0].name;
	memmove(&s->pending[0], &s->pending[1], (s->n_pending - 1) * sizeof(*s->pending));
	s->n_pending--;
	s->shedding = true;
	return 0;
}

void service_reap_all(struct service *s)
{
	while (s->draining || s->n_pending)
		finish_now(s, s->draining ? s->draining : s->pending[0].name);
	free(s->pending);
	s->pending = NULL;
}

static void svc_stats(void *ctx, const char *name, bool text, struct api_response *r)
{
	struct service *s = ctx;
	struct state_record rec;
	struct plan p;
	if (load_or_respond(s, name, &rec, &p, r) < 0)
		return;
	struct report_stats st;
	char err[256];
	struct text_buf t;
	if (report_stats(s->pin_dir, &rec, &p, &st, err, sizeof(err)) < 0) {
		api_error(r, 503, "unavailable", err, 0, 0);
	} else if (text && text_begin(&t)) {
		report_stats_text(t.f, &st);
		text_end(&t, 200, r);
		report_stats_free(&st);
	} else {
		api_json(r, 200, report_stats_json(name, &st));
		report_stats_free(&st);
	}
	state_record_free(&rec);
	plan_free(&p);
}

static void print_histogram(FILE *f, const char *name, const char *help,
			    const struct service_histogram *h)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	uint64_t cum = 0;
	for (size_t i = 0; i < SERVICE_BUCKETS; i++) {
		cum += h->counts[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds[i],
			(unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
		(unsigned long long)h->n, name, h->sum, name, (unsigned long long)h->n);
}

struct metrics_walk {
	struct service *s;
	FILE *f;
	size_t n;
};

static int metrics_playground(const char *name, void *arg)
{
	struct metrics_walk *w = arg;
	w->n++;
	struct state_record rec;
	struct plan p;
	int e = report_load_quiet(w->s->state_dir, name, &rec, &p);
	if (e < 0)
		return 0;
	struct report_stats st;
	char err[128];
	if (report_stats(w->s->pin_dir, &rec, &p, &st, err, sizeof(err)) == 0) {
		fprintf(w->f, "playnet_guard_passed_packets_total{playground=\"%s\"} %llu\n", name,
			(unsigned long long)st.total.pass_packets);
		fprintf(w->f, "playnet_guard_passed_bytes_total{playground=\"%s\"} %llu\n", name,
			(unsigned long long)st.total.pass_bytes);
		for (int r = 0; r < GUARD_REASONS; r++)
			fprintf(w->f,
				"playnet_guard_dropped_packets_total{playground=\"%s\",reason=\"%s\"} %llu\n",
				name, guard_reason_name(r), (unsigned long long)st.total.drops[r]);
		report_stats_free(&st);
	}
	state_record_free(&rec);
	plan_free(&p);
	return 0;
}

static void svc_metrics(void *ctx, struct api_response *r)
{
	struct service *s = ctx;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return api_error(r, 500, "memory", "out of memory", 0, 0);
	fputs("# HELP playnet_guard_passed_packets_total Packets the guards let through.\n"
	      "# TYPE playnet_guard_passed_packets_total counter\n"
	      "# HELP playnet_guard_dropped_packets_total Packets the guards dropped, by reason.\n"
	      "# TYPE playnet_guard_dropped_packets_total counter\n",
	      f);
	struct metrics_walk w = { s, f, 0 };
	state_list(s->state_dir, metrics_playground, &w);
	fprintf(f, "# HELP playnet_playgrounds Playgrounds recorded.\n# TYPE playnet_playgrounds gauge\n"
		   "playnet_playgrounds %zu\n", w.n);
	fprintf(f, "# HELP playnet_deletes_pending Deletes answered that the kernel has yet to finish.\n"
		   "# TYPE playnet_deletes_pending gauge\nplaynet_deletes_pending %zu\n",
		s->n_pending + (s->draining ? 1 : 0));
	fprintf(f, "# HELP playnet_creates_total Playgrounds created.\n# TYPE playnet_creates_total counter\n"
		   "playnet_creates_total %llu\n", (unsigned long long)s->creates);
	fprintf(f, "# HELP playnet_creates_recycled_total Creates that took over the namespace of a deleted playground.\n"
		   "# TYPE playnet_creates_recycled_total counter\nplaynet_creates_recycled_total %llu\n",
		(unsigned long long)s->recycled);
	fprintf(f, "# HELP playnet_deletes_total Playgrounds deleted.\n# TYPE playnet_deletes_total counter\n"
		   "playnet_deletes_total %llu\n", (unsigned long long)s->deletes);
	fputs("# HELP playnet_errors_total Failed requests, by kind.\n# TYPE playnet_errors_total counter\n", f);
	for (int k = 0; k < SERVICE_ERR_KINDS; k++)
		fprintf(f, "playnet_errors_total{kind=\"%s\"} %llu\n", error_kinds[k],
			(unsigned long long)s->errors[k]);
	print_histogram(f, "playnet_create_seconds", "Time to create a playground.", &s->create_seconds);
	print_histogram(f, "playnet_delete_seconds", "Time to delete a playground.", &s->delete_seconds);
	dhcpd_metrics(s->dhcpd, f);
	fclose(f);
	api_text(r, 200, "text/plain; version=0.0.4", text, len);
}

struct api_backend service_backend(struct service *s)
{
	return (struct api_backend){
		.ctx = s,
		.limits = &s->limits,
		.list = svc_list,
		.get = svc_get,
		.put = svc_put,
		.del = svc_del,
		.stats = svc_stats,
		.metrics = svc_metrics,
	};
}
