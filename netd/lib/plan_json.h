/* The stable JSON form of a plan: `playnet plan --json`, `show --json`, API. */
#ifndef PLAYNET_PLAN_JSON_H
#define PLAYNET_PLAN_JSON_H

#include <json-c/json.h>

#include "plan.h"

#define PLAN_JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)

/* A new object (caller puts it), or NULL when out of memory. */
struct json_object *plan_to_json(const struct plan *p);

/* An interface's impairment as show --json, the API and plan_wire give
 * it (delayUs, lossPpm, ...); NULL when it has none. */
struct json_object *plan_impair_json(const struct manifest_impair *im);

/* A machine's forwards as show --json, the API and plan_wire give them:
 * [{protocol, port, hostPort, hostAddress (null: every address)}]. */
struct json_object *plan_forwards_json(const struct plan_machine *mc);

#endif
