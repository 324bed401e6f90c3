/* Helpers shared by the cmocka unit tests. */
#ifndef PLAYNET_TESTUTIL_H
#define PLAYNET_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "manifest.h"

static inline int parse_with(const char *yaml, const struct manifest_limits *lim,
			     struct manifest *m, struct diag *d)
{
	diag_init(d, "t.yaml");
	return manifest_parse(yaml, strlen(yaml), lim, m, d);
}

static inline void dump_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  got %d:%d: %s\n", d->entries[i].line,
			d->entries[i].column, d->entries[i].message);
}

/* The manifest must be rejected with exactly this one error. */
static inline void expect_only_error_lim(const char *yaml,
					 const struct manifest_limits *lim,
					 int line, int col, const char *msg)
{
	struct manifest m;
	struct diag d;
	int r = parse_with(yaml, lim, &m, &d);
	if (r == 0 || d.count != 1 || d.entries[0].line != line ||
	    d.entries[0].column != col || strcmp(d.entries[0].message, msg) != 0) {
		fprintf(stderr, "expected %d:%d: %s\n", line, col, msg);
		dump_diag(&d);
	}
	assert_int_not_equal(r, 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.entries[0].line, line);
	assert_int_equal(d.entries[0].column, col);
	assert_string_equal(d.entries[0].message, msg);
	assert_null(m.machines);
	assert_null(m.networks);
	diag_free(&d);
}

static inline void expect_only_error(const char *yaml, int line, int col,
				     const char *msg)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	expect_only_error_lim(yaml, &lim, line, col, msg);
}

/* The manifest must parse; the caller frees m. */
static inline void expect_ok(const char *yaml, struct manifest *m)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	int r = parse_with(yaml, &lim, m, &d);
	if (r != 0)
		dump_diag(&d);
	assert_int_equal(r, 0);
	assert_int_equal(d.count, 0);
	diag_free(&d);
}

#endif
