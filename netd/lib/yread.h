/*
 * Typed readers over a YAML tree (ytree.h), for any schema: each reads one
 * node, and on a wrong kind or value says so at its line and column, under
 * the field's path ("playground.networks[0].subnet"), and returns false.
 * Key checks with typo hints ("did you mean"). The manifest's schema
 * (manifest.c) is written with these.
 */
#ifndef PLAYNET_YREAD_H
#define PLAYNET_YREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ytree.h"

#define YREAD_PATH_LEN 128

/* "PATH: message" at n's place (none when n is NULL). */
void yread_err(struct diag *d, const struct ytree_node *n, const char *path, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));
/* A field's path for messages; one cut short still reads well enough. */
void yread_path(char buf[YREAD_PATH_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A mapping's keys: each a scalar, none twice; when strict, each one of
 * allowed (else "unknown key", with the nearest as a hint); when not
 * strict, unknown keys pass unless they are a near miss of an allowed one.
 * Returns false if anything was wrong. */
bool yread_keys(struct diag *d, const struct ytree_node *map, const char *path,
		const char *const *allowed, size_t n_allowed, bool strict);

/* The value of key in map, or NULL; _present also takes a YAML null
 * (empty, ~, null) for absent. */
const struct ytree_node *yread_get(const struct ytree_node *map, const char *key);
const struct ytree_node *yread_get_present(const struct ytree_node *map, const char *key);

bool yread_kind(struct diag *d, const struct ytree_node *n, const char *path,
		enum ytree_kind kind, const char *what);
bool yread_string(struct diag *d, const struct ytree_node *n, const char *path,
		  const char *what, const char **out);
bool yread_bool(struct diag *d, const struct ytree_node *n, const char *path, bool *out);
bool yread_uint(struct diag *d, const struct ytree_node *n, const char *path, uint64_t min,
		uint64_t max, uint64_t *out);
/* An IPv4 address; _prefix also takes "A.B.C.D/N" (prefix 0: none given). */
bool yread_addr(struct diag *d, const struct ytree_node *n, const char *path, uint32_t *out);
bool yread_addr_prefix(struct diag *d, const struct ytree_node *n, const char *path,
		       uint32_t *out, uint8_t *prefix);

/* "<number>[.<fraction>]<unit>" with the unit's multiplier from a table:
 * durations, sizes, rates, percentages. */
struct yread_unit {
	const char *suffix;
	double mult;
};
bool yread_parse_unit(const char *s, const struct yread_unit *units, size_t n_units,
		      double *out);
bool yread_unit(struct diag *d, const struct ytree_node *n, const char *path,
		const struct yread_unit *units, size_t n_units, const char *expected,
		double max, double *out);

#endif
