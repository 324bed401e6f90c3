/*
 * Diagnostics: a bounded list of user-facing errors, each tied to a place in
 * an input file. Validation keeps going after an error so that one run reports
 * everything wrong with a manifest, up to a limit.
 */
#ifndef PLAYNET_DIAG_H
#define PLAYNET_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define DIAG_MAX_DEFAULT 20

struct diag_entry {
	int line; /* 1-based; 0 when the error has no position */
	int column;
	char *message;
};

struct diag {
	const char *file; /* name used in messages; not owned */
	struct diag_entry *entries;
	size_t count;
	size_t max;       /* entries kept; further errors are only counted */
	size_t dropped;
	/* What is allowed but likely not meant; printed apart, never fails. */
	struct diag_entry *warnings;
	size_t n_warnings;
};

void diag_init(struct diag *d, const char *file);
void diag_free(struct diag *d);

void diag_add(struct diag *d, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void diag_warn(struct diag *d, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline bool diag_failed(const struct diag *d)
{
	return d->count > 0 || d->dropped > 0;
}

/* "FILE:LINE:COL: message" per entry, then a line for what was dropped. */
void diag_print(const struct diag *d, FILE *out);
/* "FILE:LINE:COL: warning: message" per warning. */
void diag_print_warnings(const struct diag *d, FILE *out);

#endif
