/*
 * A plan as it crosses a trust boundary: from netd's unprivileged front end
 * to its root parent, and into the records of the state dir. JSON holding
 * only what the planner chose (networks, machines, addresses, MACs, drives);
 * all that follows from those (every kernel object's name, prefixes,
 * default gateways) the reader derives itself with plan_derive, so no
 * name of a kernel object ever comes from outside.
 *
 * The reader trusts nothing: every field is checked on its own and against
 * the others, by the same rules as the manifest reader's (docs/security.md
 * lists them). A plan that passes is one the planner could have made.
 */
#ifndef PLAYNET_PLAN_WIRE_H
#define PLAYNET_PLAN_WIRE_H

#include <json-c/json.h>
#include <stddef.h>

#include "plan.h"
#include "pn_error.h"
#include "state.h"

#define PLAN_WIRE_VERSION 1

/* NULL when out of memory. */
struct json_object *plan_wire_encode(const struct plan *p);
/* Text of at most len bytes, as the channel carries it (NUL-terminated). */
char *plan_wire_text(const struct plan *p, size_t *len);

/* The plan of playground NAME from o, within lim: 0, or -EINVAL with what
 * is wrong and where in err ("machines[1].interfaces[0].address: ..."),
 * or -ENOMEM. p is empty on failure. */
int plan_wire_decode(struct json_object *o, const char *name,
		     const struct manifest_limits *lim, struct plan *p, struct pn_error *err);
/* The same from text, which must be one JSON object and nothing else. */
int plan_wire_parse(const char *text, size_t len, const char *name,
		    const struct manifest_limits *lim, struct plan *p, struct pn_error *err);

/* The plan of a record: the one recorded, or for a record written before
 * plans were (it holds only its manifest), the manifest planned again. A
 * record met netd's limits when it was made: none apply here. */
int plan_wire_of_record(const struct state_record *rec, struct plan *p, struct pn_error *err);

#endif
