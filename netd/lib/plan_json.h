/* The stable JSON form of a plan: `playnet plan --json`, `show --json`, API. */
#ifndef PLAYNET_PLAN_JSON_H
#define PLAYNET_PLAN_JSON_H

#include <json-c/json.h>

#include "plan.h"

#define PLAN_JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)

/* A new object (caller puts it), or NULL when out of memory. */
struct json_object *plan_to_json(const struct plan *p);

/* What two manifests are compared by when one playground's fabric could
 * serve the other (a takeover): the plan the text makes for a name that
 * is no playground's, as compact JSON, so that comments, layout, quoting
 * and key order do not count. A new string (caller frees), or NULL when
 * the text is not a manifest or memory ran out. */
char *plan_json_canonical(const char *manifest);

#endif
