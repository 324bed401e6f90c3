/*
 * netd's own counters behind GET /metrics (DESIGN.md section 4): creates,
 * takeovers, deletes, failures by kind, and how long creates and deletes
 * took, in the Prometheus text format.
 */
#ifndef PLAYNET_METRICS_H
#define PLAYNET_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "backend.h"

#define METRICS_BUCKETS 10

struct metrics_histogram {
	uint64_t counts[METRICS_BUCKETS + 1]; /* the last is +Inf */
	uint64_t n;
	double sum;
};

enum metrics_error { METRICS_ERR_MANIFEST, METRICS_ERR_CONFLICT, METRICS_ERR_KERNEL,
		     METRICS_ERR_KINDS };

struct metrics {
	uint64_t creates;
	uint64_t recycled; /* creates that took over a deleted playground's namespace */
	uint64_t deletes;
	uint64_t errors[METRICS_ERR_KINDS];
	struct metrics_histogram create_seconds;
	struct metrics_histogram delete_seconds;
};

/* Counts what the backend saw (backend_hooks.observe). */
void metrics_observe(struct metrics *m, enum backend_event ev, double seconds);
/* Every family of m; pending: deletes answered that are not done. */
void metrics_print(const struct metrics *m, size_t pending, FILE *f);

#endif
