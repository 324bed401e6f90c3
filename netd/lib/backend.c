#define _GNU_SOURCE
#include "backend.h"
#include "api_machine.h"
#include "capture.h"
#include "machine_exec.h"
#include "playground.h"
#include "tasks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netns.h"
#include "plan_text.h"
#include "report.h"
#include "util.h"

struct backend_entry {
	struct state_record rec;
	struct plan plan;
};

static void entry_free(struct backend_entry *e)
{
	if (!e)
		return;
	state_record_free(&e->rec);
	plan_free(&e->plan);
	free(e);
}

static size_t entry_index(const struct backend *b, const char *name)
{
	size_t i = 0;
	while (i < b->n_entries && strcmp(b->entries[i]->rec.name, name) != 0)
		i++;
	return i;
}

/* Keeps rec and p (both taken, also on failure). */
static struct backend_entry *entry_keep(struct backend *b, struct state_record *rec,
					struct plan *p)
{
	struct backend_entry *e = calloc(1, sizeof(*e));
	if (e && b->n_entries == b->cap_entries) {
		size_t cap = b->cap_entries ? 2 * b->cap_entries : 16;
		struct backend_entry **grown = realloc(b->entries, cap * sizeof(*grown));
		if (grown) {
			b->entries = grown;
			b->cap_entries = cap;
		}
	}
	if (!e || b->n_entries == b->cap_entries) {
		free(e);
		state_record_free(rec);
		plan_free(p);
		return NULL;
	}
	e->rec = *rec;
	e->plan = *p;
	memset(p, 0, sizeof(*p));
	/* The plan is held decoded: its JSON in the record is only for
	 * writing the record, which is not done from here. */
	json_object_put(e->rec.plan);
	e->rec.plan = NULL;
	b->entries[b->n_entries++] = e;
	return e;
}

void backend_forget(struct backend *b, const char *name)
{
	size_t i = entry_index(b, name);
	if (i == b->n_entries)
		return;
	entry_free(b->entries[i]);
	b->entries[i] = b->entries[--b->n_entries];
}

/* NAME's record and plan: held, or loaded (and held from then on).
 * -ENOENT also for a playground being deleted: it is gone to a client. */
static int lookup(struct backend *b, const char *name, struct backend_entry **out)
{
	size_t i = entry_index(b, name);
	if (i < b->n_entries) {
		*out = b->entries[i];
		return 0;
	}
	if (b->complete)
		return -ENOENT;
	struct state_record rec;
	struct plan p;
	int e = playground_load_quiet(b->state_dir, name, &rec, &p);
	if (e < 0)
		return e;
	if (rec.phase == STATE_DELETING) {
		state_record_free(&rec);
		plan_free(&p);
		return -ENOENT;
	}
	return (*out = entry_keep(b, &rec, &p)) ? 0 : -ENOMEM;
}

static int lookup_or_respond(struct backend *b, const char *name, struct backend_entry **out,
			     struct api_response *r)
{
	int e = lookup(b, name, out);
	if (e == -ENOENT)
		api_error(r, 404, "not_found", "no such playground", 0, 0);
	else if (e < 0)
		api_error(r, 500, "state", "the playground's record cannot be read", 0, 0);
	return e;
}

struct load_walk {
	struct backend *b;
	int (*fn)(const struct plan *p, void *arg);
	void *arg;
};

static int load_one(const char *name, void *arg)
{
	struct load_walk *w = arg;
	struct backend_entry *e;
	int k = lookup(w->b, name, &e);
	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		if (k != -ENOENT)
			log_err("playground %s: its record cannot be read: %s", name, strerror(-k));
		return 0;
	}
	return w->fn ? w->fn(&e->plan, w->arg) : 0;
}

int backend_load_all(struct backend *b, int (*fn)(const struct plan *p, void *arg), void *arg)
{
	b->complete = false;
	struct load_walk w = { b, fn, arg };
	int e = state_list(b->state_dir, load_one, &w);
	b->complete = e == 0;
	return e;
}

void backend_free(struct backend *b)
{
	for (size_t i = 0; i < b->n_entries; i++)
		entry_free(b->entries[i]);
	free(b->entries);
	b->entries = NULL;
	b->n_entries = b->cap_entries = 0;
	capture_set_free(b->captures);
	b->captures = NULL;
}

static void observe(struct backend *b, enum backend_event ev, double seconds)
{
	if (b->hooks && b->hooks->observe)
		b->hooks->observe(b->hooks_ctx, ev, seconds);
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

/* The show JSON (or text) of a playground: what GET returns and PUT
 * answers with. inspect: against the kernel; a playground just built
 * lacks nothing by construction. */
static void respond(struct backend *b, const struct backend_entry *e, int status, bool text,
		    bool inspect, struct api_response *r)
{
	struct fabric_report rep = { 0 };
	struct pn_error err = PN_ERROR_INIT;
	struct text_buf t;
	if (inspect && fabric_inspect(b->fabric, &e->plan, &e->rec, &rep, &err) < 0) {
		api_error(r, 500, "kernel", err.msg, 0, 0);
	} else if (text && text_begin(&t)) {
		report_show_text(t.f, b->fabric, &e->rec, &e->plan, &rep);
		if (tasks_print(b->state_dir, e->plan.name, false, t.f) == 0)
			fputc('\n', t.f);
		text_end(&t, status, r);
	} else {
		struct json_object *j = report_show_json(b->fabric, &e->rec, &e->plan, &rep);
		struct json_object *tasks = tasks_json(b->state_dir, e->plan.name);
		if (tasks)
			json_object_object_add(j, "tasks", tasks);
		api_json(r, status, j);
	}
	fabric_report_free(&rep);
}

static void be_get(void *ctx, const char *name, bool text, struct api_response *r)
{
	struct backend *b = ctx;
	struct backend_entry *e;
	if (lookup_or_respond(b, name, &e, r) == 0)
		respond(b, e, 200, text, true, r);
}

struct list_walk {
	struct backend *b;
	struct json_object *arr;
};

static int list_one(const char *name, void *arg)
{
	struct list_walk *w = arg;
	struct backend_entry *e;
	if (lookup(w->b, name, &e) == 0) /* else gone, being deleted, or unreadable */
		json_object_array_add(w->arr, report_list_entry(&e->rec));
	return 0;
}

static void be_list(void *ctx, bool text, struct api_response *r)
{
	struct backend *b = ctx;
	struct list_walk w = { b, json_object_new_array() };
	int e = state_list(b->state_dir, list_one, &w);
	if (e < 0) {
		json_object_put(w.arr);
		return api_error(r, 500, "state", strerror(-e), 0, 0);
	}
	struct text_buf t;
	if (text && text_begin(&t)) {
		report_list_text(t.f, w.arr);
		json_object_put(w.arr);
		return text_end(&t, 200, r);
	}
	struct json_object *top = json_object_new_object();
	json_object_object_add(top, "playgrounds", w.arr);
	api_json(r, 200, top);
}

/* A playground made but not served: removed; what the undo meets is
 * logged, not answered. */
static void undo_create(struct backend *b, const char *name)
{
	struct pn_error err = PN_ERROR_INIT;
	if (playground_delete(b->fabric, name, &err) < 0)
		log_err("playground %s: undo failed: %s", name, err.msg);
}

/* The answer to a create that failed with e, for the reason in why. */
static void create_failed(struct backend *b, const char *name, int e, const char *why,
			  struct api_response *r)
{
	log_err("playground %s: create failed: %s", name, why);
	if (e == -EEXIST || e == -EADDRINUSE) {
		observe(b, BACKEND_FAILED_CONFLICT, 0);
		return api_error(r, 409, "conflict", why, 0, 0);
	}
	observe(b, BACKEND_FAILED_KERNEL, 0);
	if (e == -EADDRNOTAVAIL)
		return api_error(r, 503, "exhausted", why, 0, 0);
	if (e == -EDOM)
		return api_error(r, 422, "invalid_manifest", why, 0, 0);
	if (e == -EOPNOTSUPP)
		return api_error(r, 422, "kernel_lacks", why, 0, 0);
	if (e == -ENOSPC)
		return api_error(r, 503, "no_space", why, 0, 0);
	api_error(r, 500, "kernel", why, 0, 0);
}

static int create(struct backend *b, const struct api_manifest *m, struct state_record *rec,
		  struct pn_error *err)
{
	const struct backend_hooks *h = b->hooks;
	int e = h && h->create ? h->create(b->hooks_ctx, m->plan, m->text, rec, err)
			       : playground_create(b->fabric, m->plan, m->text, rec, err);
	if (e == 0 && h && h->serve && (e = h->serve(b->hooks_ctx, m->plan, err)) < 0) {
		state_record_free(rec);
		undo_create(b, m->plan->name);
	}
	return e;
}

static void be_put(void *ctx, const char *name, const struct api_manifest *m,
		   struct api_response *r)
{
	struct backend *b = ctx;
	const struct backend_hooks *h = b->hooks;
	bool reset = false;
	struct pn_error err = PN_ERROR_INIT;
	if (h && h->prepare && h->prepare(b->hooks_ctx, name, m->plan, &reset, &err) < 0) {
		observe(b, BACKEND_FAILED_KERNEL, 0);
		return api_error(r, 500, "kernel", err.msg, 0, 0);
	}
	/* PUT is idempotent: the same manifest again changes nothing. */
	struct backend_entry *held;
	if (!reset && lookup(b, name, &held) == 0) {
		bool same = strlen(held->rec.manifest) == m->len &&
			    memcmp(held->rec.manifest, m->text, m->len) == 0 &&
			    held->rec.phase == STATE_READY;
		if (same)
			return respond(b, held, 200, false, true, r);
		observe(b, BACKEND_FAILED_CONFLICT, 0);
		return api_error(r, 409, "conflict",
				 "a playground of that name exists with another manifest", 0, 0);
	}
	if (!m->plan) {
		observe(b, BACKEND_FAILED_MANIFEST, 0);
		return api_copy(r, m->refusal);
	}
	backend_forget(b, name); /* a record that could not be read */

	double t0 = now_seconds();
	struct state_record rec;
	int e = create(b, m, &rec, &err);
	if (e < 0)
		return create_failed(b, name, e, err.msg, r);
	double dt = now_seconds() - t0;
	observe(b, BACKEND_CREATED, dt);
	log_info("playground %s: created in %.1f ms", name, dt * 1e3);
	struct backend_entry *made = entry_keep(b, &rec, m->plan);
	if (!made)
		return api_error(r, 500, "memory", "out of memory", 0, 0);
	respond(b, made, 201, false, false, r);
}

static void be_del(void *ctx, const char *name, struct api_response *r)
{
	struct backend *b = ctx;
	const struct backend_hooks *h = b->hooks;
	double t0 = now_seconds();
	backend_forget(b, name);
	/* Before the namespace goes, which a capture's socket would hold. */
	capture_set_end(b->captures, name);
	/* Whatever serves it stops once the delete is under way: a delete
	 * that fails leaves the playground served as it was. */
	bool queued = h && h->queue_delete && h->queue_delete(b->hooks_ctx, name) == 0;
	struct pn_error err = PN_ERROR_INIT;
	if (!queued && playground_delete(b->fabric, name, &err) < 0) {
		observe(b, BACKEND_FAILED_KERNEL, 0);
		log_err("playground %s: delete failed: %s", name, err.msg);
		return api_error(r, 500, "kernel", err.msg, 0, 0);
	}
	if (h && h->gone)
		h->gone(b->hooks_ctx, name);
	double dt = now_seconds() - t0;
	observe(b, BACKEND_DELETED, dt);
	log_info("playground %s: deleted in %.1f ms (answered)", name, dt * 1e3);
	api_text(r, 204, NULL, NULL, 0);
}

static void be_stats(void *ctx, const char *name, bool text, struct api_response *r)
{
	struct backend *b = ctx;
	struct backend_entry *e;
	if (lookup_or_respond(b, name, &e, r) < 0)
		return;
	struct report_stats st;
	struct pn_error err = PN_ERROR_INIT;
	struct text_buf t;
	if (report_stats(b->pin_dir, &e->rec, &e->plan, &st, &err) < 0)
		return api_error(r, 503, "unavailable", err.msg, 0, 0);
	if (text && text_begin(&t)) {
		report_stats_text(t.f, &st);
		text_end(&t, 200, r);
	} else {
		api_json(r, 200, report_stats_json(name, &st));
	}
	report_stats_free(&st);
}

static void metrics_playground(FILE *f, const struct backend *b, const struct backend_entry *e)
{
	struct report_stats st;
	if (report_stats(b->pin_dir, &e->rec, &e->plan, &st, NULL) < 0)
		return;
	const char *name = e->rec.name;
	fprintf(f, "playnet_guard_passed_packets_total{playground=\"%s\"} %llu\n", name,
		(unsigned long long)st.total.pass_packets);
	fprintf(f, "playnet_guard_passed_bytes_total{playground=\"%s\"} %llu\n", name,
		(unsigned long long)st.total.pass_bytes);
	for (int k = 0; k < GUARD_REASONS; k++)
		fprintf(f, "playnet_guard_dropped_packets_total{playground=\"%s\",reason=\"%s\"} %llu\n",
			name, guard_reason_name(k), (unsigned long long)st.total.drops[k]);
	report_stats_free(&st);
}

static int count_one(const char *name, void *arg)
{
	(void)name;
	(*(size_t *)arg)++;
	return 0;
}

static void be_metrics(void *ctx, struct api_response *r)
{
	struct backend *b = ctx;
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
	if (!b->complete)
		backend_load_all(b, NULL, NULL);
	for (size_t i = 0; i < b->n_entries; i++)
		metrics_playground(f, b, b->entries[i]);
	size_t n = 0;
	state_list(b->state_dir, count_one, &n);
	fprintf(f, "# HELP playnet_playgrounds Playgrounds recorded.\n# TYPE playnet_playgrounds gauge\n"
		   "playnet_playgrounds %zu\n", n);
	if (b->captures)
		fprintf(f, "# HELP playnet_captures Packet captures under way.\n"
			   "# TYPE playnet_captures gauge\nplaynet_captures %zu\n",
			capture_set_count(b->captures));
	if (b->hooks && b->hooks->metrics)
		b->hooks->metrics(b->hooks_ctx, f);
	fclose(f);
	api_text(r, 200, "text/plain; version=0.0.4", text, len);
}

/* /healthz, with the settings of the fabric that answers: a client given
 * other ones refuses to act on it (see playnet's fabric_check). */
static void be_health(void *ctx, struct api_response *r)
{
	struct backend *b = ctx;
	struct json_object *top = json_object_new_object();
	json_object_object_add(top, "status", json_object_new_string("ok"));
	json_object_object_add(top, "fabric",
			       report_settings_json(fabric_options(b->fabric), &b->limits, b->guard_config));
	api_json(r, 200, top);
}

static int be_exec_open(void *ctx, const char *name, const char *machine,
			struct api_response *r)
{
	struct backend *b = ctx;
	struct backend_entry *e;
	if (lookup_or_respond(b, name, &e, r) < 0)
		return -ENOENT;
	return machine_exec_open(b->state_dir, &e->plan, machine, r);
}

/* Index of machine in p; -1 with r the 404. */
static int find_machine(const struct plan *p, const char *machine, size_t *mi,
			struct api_response *r)
{
	for (*mi = 0; *mi < p->n_machines; (*mi)++)
		if (strcmp(p->machines[*mi].name, machine) == 0)
			return 0;
	char msg[160];
	snprintf(msg, sizeof(msg), "playground %s has no machine %s", p->name, machine);
	api_error(r, 404, "not_found", msg, 0, 0);
	return -1;
}

/* Indexes of machine and of its interface iface in p; -1 with r the 404. */
static int find_port(const struct plan *p, const char *machine, const char *iface, size_t *mi,
		     size_t *ii, struct api_response *r)
{
	if (find_machine(p, machine, mi, r) < 0)
		return -1;
	const struct plan_machine *mc = &p->machines[*mi];
	for (*ii = 0; *ii < mc->n_interfaces; (*ii)++)
		if (strcmp(mc->interfaces[*ii].name, iface) == 0)
			return 0;
	char msg[160];
	snprintf(msg, sizeof(msg), "machine %s has no interface %s (it has %zu)", machine, iface,
		 mc->n_interfaces);
	api_error(r, 404, "not_found", msg, 0, 0);
	return -1;
}

/* A forward added to or removed from machine of en. */
static void be_forward(struct backend *b, struct backend_entry *en, const char *machine,
		       const struct api_machine_op *op, struct api_response *r)
{
	size_t mi;
	if (find_machine(&en->plan, machine, &mi, r) < 0)
		return;
	bool add = op->verb == API_MACHINE_FORWARD;
	const struct manifest_forward *fw = &op->forward;
	struct pn_error err = PN_ERROR_INIT;
	int e = playground_forward(b->fabric, &en->plan, mi, add, fw, &err);
	if (e == -EADDRINUSE)
		return api_error(r, 409, "port_taken", err.msg, 0, 0);
	if (e == -EDOM)
		return api_error(r, 422, "invalid_forward", err.msg, 0, 0);
	if (e == -ENOENT)
		return api_error(r, 404, "not_found", err.msg, 0, 0);
	if (e == -ENOSPC)
		return api_error(r, 422, "too_many", err.msg, 0, 0);
	if (e < 0) {
		log_err("playground %s: %s", en->plan.name, err.msg);
		return api_error(r, 500, "kernel", err.msg, 0, 0);
	}
	log_info("playground %s: host port %u/%s %s %s", en->plan.name, fw->host_port,
		 manifest_proto_name(fw->proto), add ? "forwarded to" : "no longer forwarded to",
		 machine);
	api_machine_forwards_answer(r, 200, machine, &en->plan.machines[mi]);
}

static void be_machine(void *ctx, const char *name, const char *machine,
		       const struct api_machine_op *op, struct api_response *r)
{
	struct backend *b = ctx;
	struct backend_entry *en;
	size_t mi, ii;
	if (lookup_or_respond(b, name, &en, r) < 0)
		return;
	if (op->verb == API_MACHINE_FORWARD || op->verb == API_MACHINE_UNFORWARD)
		return be_forward(b, en, machine, op, r);
	if (find_port(&en->plan, machine, op->iface, &mi, &ii, r) < 0)
		return;
	struct pn_error err = PN_ERROR_INIT;
	int e = op->verb == API_MACHINE_IMPAIR
			? playground_impair(b->fabric, &en->plan, mi, ii, &op->impair, &err)
			: playground_link(b->fabric, &en->plan, mi, ii, op->up, &err);
	if (e == -EOPNOTSUPP)
		return api_error(r, 422, "kernel_lacks", err.msg, 0, 0);
	if (e < 0) {
		log_err("playground %s: %s", name, err.msg);
		return api_error(r, 500, "kernel", err.msg, 0, 0);
	}
	const struct plan_interface *ifc = &en->plan.machines[mi].interfaces[ii];
	char im[256];
	plan_impair_text(&ifc->impair, im, sizeof(im));
	if (op->verb == API_MACHINE_IMPAIR)
		log_info("playground %s: %s/%s impaired each way: %s", name, machine, ifc->name, im);
	else
		log_info("playground %s: %s/%s link %s", name, machine, ifc->name, op->up ? "up" : "down");
	api_machine_iface_answer(r, machine, ifc->name, &ifc->impair, ifc->link_down);
}

/* TARGET's device in P's namespace: a network's bridge, or a port. */
static int capture_device(const struct plan *p, const char *target, char dev[IFNAMSIZ],
			  bool *bridge, struct api_response *r)
{
	const char *slash = strchr(target, '/');
	if (slash) {
		char machine[MANIFEST_HOSTNAME_MAX + 1];
		snprintf(machine, sizeof(machine), "%.*s", (int)(slash - target), target);
		size_t mi, ii;
		if (find_port(p, machine, slash + 1, &mi, &ii, r) < 0)
			return -ENOENT;
		snprintf(dev, IFNAMSIZ, "%s", p->machines[mi].interfaces[ii].device);
		*bridge = false;
		return 0;
	}
	for (size_t i = 0; i < p->n_networks; i++)
		if (strcmp(p->networks[i].name, target) == 0) {
			snprintf(dev, IFNAMSIZ, "%s", p->networks[i].bridge);
			*bridge = true;
			return 0;
		}
	char msg[160];
	snprintf(msg, sizeof(msg), "playground %s has no network %s", p->name, target);
	api_error(r, 404, "not_found", msg, 0, 0);
	return -ENOENT;
}

static int be_capture_open(void *ctx, const char *name, const char *target, int *ctl,
			   struct api_response *r)
{
	struct backend *b = ctx;
	struct backend_entry *en;
	char dev[IFNAMSIZ];
	bool bridge;
	if (!b->captures)
		return -ENOSYS;
	if (lookup_or_respond(b, name, &en, r) < 0 ||
	    capture_device(&en->plan, target, dev, &bridge, r) < 0)
		return -ENOENT;
	int nsfd = netns_open(en->plan.netns);
	int fd = nsfd >= 0 ? capture_socket(nsfd, dev, bridge) : nsfd;
	if (nsfd >= 0)
		close(nsfd);
	int e = fd >= 0 ? capture_set_add(b->captures, name, fd, ctl) : fd;
	if (e == -EBUSY) {
		api_error(r, 503, "busy", "too many captures under way: try again later", 0, 0);
	} else if (e < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "a packet socket on %s in %s: %s", dev, en->plan.netns,
			 strerror(-e));
		log_err("playground %s: capture of %s: %s", name, target, msg);
		api_error(r, 500, "kernel", msg, 0, 0);
	}
	if (e < 0 && fd >= 0)
		close(fd);
	if (e == 0)
		log_info("playground %s: capture of %s (%s) begins", name, target, dev);
	return e < 0 ? e : fd;
}

struct api_backend backend_api(struct backend *b)
{
	return (struct api_backend){
		.ctx = b,
		.limits = &b->limits,
		.health = be_health,
		.list = be_list,
		.get = be_get,
		.put = be_put,
		.del = be_del,
		.stats = be_stats,
		.metrics = be_metrics,
		.exec_open = be_exec_open,
		.machine = be_machine,
		.capture_open = be_capture_open,
	};
}
