#define _GNU_SOURCE
#include "yread.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipam.h"

void yread_err(struct diag *d, const struct ytree_node *n, const char *path,
	       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(d, n ? n->line : 0, n ? n->column : 0, "%s: %s", path, msg);
}

void yread_path(char buf[YREAD_PATH_LEN], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, YREAD_PATH_LEN, fmt, ap);
	va_end(ap);
}

/* Keys and typo hints */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return SIZE_MAX;
	size_t row[33];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) ==
						      tolower((unsigned char)b[j - 1])
					      ? 0
					      : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void join_keys(const char *const *keys, size_t n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i]);
	}
}

/*
 * Checks the keys of a mapping: each a scalar, none twice, and, when strict,
 * each one of the allowed keys. Returns false if anything was wrong.
 */
bool yread_keys(struct diag *d, const struct ytree_node *map,
		const char *path, const char *const *allowed,
		size_t n_allowed, bool strict)
{
	bool ok = true;
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ytree_node *k = map->items[i];
		if (k->kind != YTREE_SCALAR) {
			yread_err(d, k, path, "keys must be plain strings, not %s",
				  ytree_kind_name(k->kind));
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			const struct ytree_node *prev = map->items[j];
			if (prev->kind == YTREE_SCALAR &&
			    strcmp(prev->value, k->value) == 0) {
				yread_err(d, k, path,
					  "duplicate key '%s' (first at line %d)",
					  k->value, prev->line);
				ok = false;
				break;
			}
		}
		if (!strict && !n_allowed)
			continue;
		size_t best = SIZE_MAX, best_i = 0;
		bool known = false;
		for (size_t j = 0; j < n_allowed; j++) {
			if (strcmp(k->value, allowed[j]) == 0) {
				known = true;
				break;
			}
			size_t dist = edit_distance(k->value, allowed[j]);
			if (dist < best) {
				best = dist;
				best_i = j;
			}
		}
		if (known)
			continue;
		/* Not strict (labctl's keys are kept): only a near miss of a
		 * key that playnet reads is an error, as it would silently
		 * lose what the user meant. */
		if (!strict) {
			if (best > 2 || strlen(k->value) < 4)
				continue;
			yread_err(d, k, path, "unknown key '%s' (did you mean '%s'?)", k->value,
				  allowed[best_i]);
			ok = false;
			continue;
		}
		char list[256];
		join_keys(allowed, n_allowed, list, sizeof(list));
		if (best <= 2)
			yread_err(d, k, path,
				  "unknown key '%s' (did you mean '%s'? expected one of: %s)",
				  k->value, allowed[best_i], list);
		else
			yread_err(d, k, path, "unknown key '%s' (expected one of: %s)",
				  k->value, list);
		ok = false;
	}
	return ok;
}

const struct ytree_node *yread_get(const struct ytree_node *map, const char *key)
{
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ytree_node *k = map->items[i];
		if (k->kind == YTREE_SCALAR && strcmp(k->value, key) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

/* A YAML null (empty value, ~, null) counts as the key being absent. */
static bool is_null(const struct ytree_node *n)
{
	if (!n || n->kind != YTREE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->value, "~") == 0 ||
	       strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	       strcmp(n->value, "NULL") == 0;
}

const struct ytree_node *yread_get_present(const struct ytree_node *map, const char *key)
{
	const struct ytree_node *v = yread_get(map, key);
	return is_null(v) ? NULL : v;
}

/* Typed scalar readers: each reports its own error and returns false. */

bool yread_kind(struct diag *d, const struct ytree_node *n,
		const char *path, enum ytree_kind kind, const char *what)
{
	if (n->kind == kind)
		return true;
	yread_err(d, n, path, "expected %s, got %s", what, ytree_kind_name(n->kind));
	return false;
}

bool yread_string(struct diag *d, const struct ytree_node *n,
		  const char *path, const char *what, const char **out)
{
	if (!yread_kind(d, n, path, YTREE_SCALAR, what))
		return false;
	if (strlen(n->value) != n->len) {
		yread_err(d, n, path, "expected %s, got a string with a NUL byte",
			  what);
		return false;
	}
	*out = n->value;
	return true;
}

bool yread_bool(struct diag *d, const struct ytree_node *n,
		const char *path, bool *out)
{
	if (!yread_kind(d, n, path, YTREE_SCALAR, "true or false"))
		return false;
	if (n->plain) {
		if (!strcmp(n->value, "true") || !strcmp(n->value, "True") ||
		    !strcmp(n->value, "TRUE")) {
			*out = true;
			return true;
		}
		if (!strcmp(n->value, "false") || !strcmp(n->value, "False") ||
		    !strcmp(n->value, "FALSE")) {
			*out = false;
			return true;
		}
	}
	yread_err(d, n, path, "expected true or false, got '%s'", n->value);
	return false;
}

static bool parse_uint64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool yread_uint(struct diag *d, const struct ytree_node *n,
		const char *path, uint64_t min, uint64_t max,
		uint64_t *out)
{
	if (!yread_kind(d, n, path, YTREE_SCALAR, "a whole number"))
		return false;
	uint64_t v;
	if (!n->plain || !parse_uint64(n->value, &v)) {
		yread_err(d, n, path, "expected a whole number from %" PRIu64
			  " to %" PRIu64 ", got '%s'", min, max, n->value);
		return false;
	}
	if (v < min || v > max) {
		yread_err(d, n, path, "%" PRIu64 " is out of range (%" PRIu64
			  " to %" PRIu64 ")", v, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool yread_addr(struct diag *d, const struct ytree_node *n,
		const char *path, uint32_t *out)
{
	const char *s;
	if (!yread_string(d, n, path, "an IPv4 address", &s))
		return false;
	if (ipam_parse_addr(s, out))
		return true;
	yread_err(d, n, path, "expected an IPv4 address such as 10.0.0.1, got '%s'", s);
	return false;
}

/* An address, or one with a prefix as labctl writes them ("10.0.0.5/24"):
 * the prefix, checked against the network's once that is known. */
bool yread_addr_prefix(struct diag *d, const struct ytree_node *n, const char *path,
		       uint32_t *out, uint8_t *prefix)
{
	const char *s;
	if (!yread_string(d, n, path, "an IPv4 address", &s))
		return false;
	const char *slash = strchr(s, '/');
	char a[IPAM_ADDR_STRLEN];
	if (!slash) {
		*prefix = 0;
		return yread_addr(d, n, path, out);
	}
	char *end;
	unsigned long pl = strtoul(slash + 1, &end, 10);
	size_t alen = (size_t)(slash - s);
	bool ok = alen < sizeof(a) && isdigit((unsigned char)slash[1]) && !*end && pl >= 1 &&
		  pl <= 32;
	if (ok) {
		memcpy(a, s, alen);
		a[alen] = '\0';
		ok = ipam_parse_addr(a, out);
	}
	if (!ok) {
		yread_err(d, n, path, "expected an IPv4 address such as 10.0.0.5 or 10.0.0.5/24, got '%s'", s);
		return false;
	}
	*prefix = (uint8_t)pl;
	return true;
}

/*
 * "<number>[.<fraction>]<unit>" with the unit's multiplier from a table.
 * Used for durations, sizes, rates and percentages.
 */

bool yread_parse_unit(const char *s, const struct yread_unit *units,
		      size_t n_units, double *out)
{
	if (!isdigit((unsigned char)s[0]))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !isfinite(v) || v < 0)
		return false;
	for (size_t i = 0; i < n_units; i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			*out = v * units[i].mult;
			return true;
		}
	}
	return false;
}

bool yread_unit(struct diag *d, const struct ytree_node *n,
		const char *path, const struct yread_unit *units,
		size_t n_units, const char *expected, double max,
		double *out)
{
	const char *s;
	if (!yread_string(d, n, path, expected, &s))
		return false;
	double v;
	if (!yread_parse_unit(s, units, n_units, &v)) {
		yread_err(d, n, path, "expected %s, got '%s'", expected, s);
		return false;
	}
	if (v > max) {
		yread_err(d, n, path, "'%s' is too large", s);
		return false;
	}
	*out = v;
	return true;
}

