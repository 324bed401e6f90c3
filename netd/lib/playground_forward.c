/*
 * A playground's forwards: checked against every other playground of the
 * state dir and the host's other programs before a create, and added or
 * removed on a running playground (recorded first, as playground_port.c
 * does, and taken back out when the kernel refuses).
 */
#define _GNU_SOURCE
#include "playground.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct taken_walk {
	const char *state_dir;
	const char *name;                      /* whose forwards are looked for */
	const struct manifest_forward *const *fw;
	size_t n;
	struct pn_error *err;
};

/* The first of w's forwards that playground NAME's forwards take. */
static int taken_by(const char *name, void *arg)
{
	struct taken_walk *w = arg;
	if (strcmp(name, w->name) == 0)
		return 0;
	struct state_record rec;
	struct plan other;
	if (playground_load_quiet(w->state_dir, name, &rec, &other) < 0)
		return 0; /* gone meanwhile, or half made: no forward of its own yet */
	int e = 0;
	for (size_t i = 0; !e && i < w->n; i++) {
		const struct manifest_forward *f = w->fw[i];
		size_t m;
		if (plan_find_forward(&other, f, &m))
			e = pn_failx(w->err, -EADDRINUSE,
				     "host port %u/%s is already forwarded to machine %s of playground %s",
				     f->host_port, manifest_proto_name(f->proto), other.machines[m].name,
				     name);
	}
	state_record_free(&rec);
	plan_free(&other);
	return e;
}

/* fw[0..n) of playground NAME: no other playground's, no other program's. */
static int check_free(struct fabric *f, const char *name, const struct manifest_forward *const *fw,
		      size_t n, struct pn_error *err)
{
	struct taken_walk w = { fabric_options(f)->state_dir, name, fw, n, err };
	int e = state_list(w.state_dir, taken_by, &w);
	if (e < 0)
		return e == -EADDRINUSE ? e : pn_fail(err, e, "list the playgrounds");
	for (size_t i = 0; i < n; i++)
		if ((e = fabric_forward_free(f, fw[i], err)) < 0)
			return e;
	return 0;
}

int playground_check_forwards(struct fabric *f, const struct plan *p, struct pn_error *err)
{
	size_t n = plan_n_forwards(p);
	if (!n)
		return 0;
	cleanup_free const struct manifest_forward **fw = calloc(n, sizeof(*fw));
	if (!fw)
		return pn_fail(err, -ENOMEM, "the forwards of %s", p->name);
	n = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		for (size_t j = 0; j < p->machines[i].n_forwards; j++)
			fw[n++] = &p->machines[i].forwards[j];
	return check_free(f, p->name, fw, n, err);
}

/* P's record, its plan now p, and the kernel made to match it. */
static int record_and_apply(struct fabric *f, const struct plan *p, struct pn_error *err)
{
	struct state_record rec;
	int e = playground_record(f, p, &rec, err);
	if (e < 0)
		return e;
	e = fabric_forwards_apply(f, p, &rec, err);
	state_record_free(&rec);
	return e;
}

static int add(struct fabric *f, struct plan *p, size_t mi, const struct manifest_forward *fw,
	       struct pn_error *err)
{
	struct plan_machine *mc = &p->machines[mi];
	if (!plan_forward_interface(p, mc))
		return pn_failx(err, -EDOM,
				"machine %s is on no non-private network: a forward reaches a machine through its playground's uplink, which private networks do not have",
				mc->name);
	size_t owner;
	const struct manifest_forward *had = plan_find_forward(p, fw, &owner);
	if (had && (owner != mi || had->host_addr != fw->host_addr))
		return pn_failx(err, -EADDRINUSE, "host port %u/%s is already forwarded to machine %s",
				fw->host_port, manifest_proto_name(fw->proto), p->machines[owner].name);
	if (!had && mc->n_forwards == MANIFEST_MAX_FORWARDS)
		return pn_failx(err, -ENOSPC, "machine %s has %d forwards, the most it may",
				mc->name, MANIFEST_MAX_FORWARDS);
	int e = had ? 0 : check_free(f, p->name, &fw, 1, err);
	if (e < 0)
		return e;
	size_t at = had ? (size_t)(had - mc->forwards) : mc->n_forwards++;
	mc->forwards[at] = *fw;
	return 0;
}

static int drop(struct plan *p, size_t mi, const struct manifest_forward *fw, struct pn_error *err)
{
	struct plan_machine *mc = &p->machines[mi];
	for (size_t j = 0; j < mc->n_forwards; j++)
		if (mc->forwards[j].proto == fw->proto && mc->forwards[j].host_port == fw->host_port) {
			memmove(&mc->forwards[j], &mc->forwards[j + 1],
				(mc->n_forwards - j - 1) * sizeof(*mc->forwards));
			mc->n_forwards--;
			return 0;
		}
	return pn_failx(err, -ENOENT, "machine %s has no forward of host port %u/%s", mc->name,
			fw->host_port, manifest_proto_name(fw->proto));
}

int playground_forward(struct fabric *f, struct plan *p, size_t mi, bool add_it,
		       const struct manifest_forward *fw, struct pn_error *err)
{
	struct plan_machine *mc = &p->machines[mi];
	struct manifest_forward was[MANIFEST_MAX_FORWARDS];
	size_t n_was = mc->n_forwards;
	memcpy(was, mc->forwards, sizeof(was));
	int e = add_it ? add(f, p, mi, fw, err) : drop(p, mi, fw, err);
	if (e == 0 && (e = record_and_apply(f, p, err)) < 0) {
		struct pn_error ignored = PN_ERROR_INIT;
		memcpy(mc->forwards, was, sizeof(was));
		mc->n_forwards = n_was;
		record_and_apply(f, p, &ignored);
	}
	return e;
}
