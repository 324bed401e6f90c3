#include "metrics.h"

static const double bucket_bounds[METRICS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

static const char *const error_kinds[METRICS_ERR_KINDS] = {
	[METRICS_ERR_MANIFEST] = "manifest",
	[METRICS_ERR_CONFLICT] = "conflict",
	[METRICS_ERR_KERNEL] = "kernel",
};

static void observe(struct metrics_histogram *h, double seconds)
{
	size_t i = 0;
	while (i < METRICS_BUCKETS && seconds > bucket_bounds[i])
		i++;
	h->counts[i]++;
	h->n++;
	h->sum += seconds;
}

void metrics_observe(struct metrics *m, enum backend_event ev, double seconds)
{
	switch (ev) {
	case BACKEND_CREATED:
		m->creates++;
		return observe(&m->create_seconds, seconds);
	case BACKEND_DELETED:
		m->deletes++;
		return observe(&m->delete_seconds, seconds);
	case BACKEND_FAILED_MANIFEST:
		m->errors[METRICS_ERR_MANIFEST]++;
		return;
	case BACKEND_FAILED_CONFLICT:
		m->errors[METRICS_ERR_CONFLICT]++;
		return;
	case BACKEND_FAILED_KERNEL:
		m->errors[METRICS_ERR_KERNEL]++;
		return;
	}
}

static void print_histogram(FILE *f, const char *name, const char *help,
			    const struct metrics_histogram *h)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	uint64_t cum = 0;
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cum += h->counts[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds[i],
			(unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
		(unsigned long long)h->n, name, h->sum, name, (unsigned long long)h->n);
}

void metrics_print(const struct metrics *m, size_t pending, FILE *f)
{
	fprintf(f, "# HELP playnet_deletes_pending Deletes answered that the kernel has yet to finish.\n"
		   "# TYPE playnet_deletes_pending gauge\nplaynet_deletes_pending %zu\n",
		pending);
	fprintf(f, "# HELP playnet_creates_total Playgrounds created.\n# TYPE playnet_creates_total counter\n"
		   "playnet_creates_total %llu\n", (unsigned long long)m->creates);
	fprintf(f, "# HELP playnet_creates_recycled_total Creates that took over the namespace of a deleted playground.\n"
		   "# TYPE playnet_creates_recycled_total counter\nplaynet_creates_recycled_total %llu\n",
		(unsigned long long)m->recycled);
	fprintf(f, "# HELP playnet_deletes_total Playgrounds deleted.\n# TYPE playnet_deletes_total counter\n"
		   "playnet_deletes_total %llu\n", (unsigned long long)m->deletes);
	fputs("# HELP playnet_errors_total Failed requests, by kind.\n# TYPE playnet_errors_total counter\n", f);
	for (int k = 0; k < METRICS_ERR_KINDS; k++)
		fprintf(f, "playnet_errors_total{kind=\"%s\"} %llu\n", error_kinds[k],
			(unsigned long long)m->errors[k]);
	print_histogram(f, "playnet_create_seconds", "Time to create a playground.", &m->create_seconds);
	print_histogram(f, "playnet_delete_seconds", "Time to delete a playground.", &m->delete_seconds);
}
