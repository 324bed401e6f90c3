/*
 * What can be done to one machine of a running playground besides exec:
 * its interfaces' impairments and links. The router
 * reads a request into a struct api_machine_op; netd's front end hands the
 * op to its parent as one line of text (api_machine_op_format), which the
 * parent reads back as strictly as it reads anything from there.
 *
 *   PUT    .../machines/M/interfaces/I/impair   the manifest's impair mapping
 *   DELETE .../machines/M/interfaces/I/impair   no impairment
 *   PUT    .../machines/M/interfaces/I/link     {"state": "up" | "down"}
 *   POST   .../machines/M/forwards              a forward, the manifest's keys
 *   DELETE .../machines/M/forwards/PROTO/PORT   the forward of that host port
 */
#ifndef PLAYNET_API_MACHINE_H
#define PLAYNET_API_MACHINE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "manifest.h"

enum api_machine_verb {
	API_MACHINE_IMPAIR = 1,
	API_MACHINE_LINK,
	API_MACHINE_CAPTURE, /* GET .../interfaces/I/capture: the router's, never an op */
	API_MACHINE_FORWARD,   /* forward added (or changed: its host port's) */
	API_MACHINE_UNFORWARD, /* forward.proto and .host_port removed */
};

struct api_machine_op {
	enum api_machine_verb verb;
	char iface[IFNAMSIZ];          /* eth0, eth1, ... */
	struct manifest_impair impair; /* IMPAIR: nothing set clears */
	bool up;                       /* LINK */
	struct manifest_forward forward; /* FORWARD, UNFORWARD (pos unused) */
};

/* Routes METHOD on REST, what follows ".../machines/M/" (not "exec"),
 * into op: 0, or -1 with r the answer that refuses. */
int api_machine_route(const char *method, const char *rest, const char *body, size_t len,
		      struct api_machine_op *op, struct api_response *r);

/* "eth" and a number below 1000, as interfaces are named in machines. */
bool api_valid_iface(const char *s);

#define API_MACHINE_OP_MAX 256
/* op as one line; -ENOSPC if len is too short. */
int api_machine_op_format(const struct api_machine_op *op, char *buf, size_t len);
/* The line back: -EINVAL for anything format would not have written. */
int api_machine_op_parse(const char *s, struct api_machine_op *op);

/* The answer to an IMPAIR or LINK done: the interface as it now is. */
void api_machine_iface_answer(struct api_response *r, const char *machine, const char *iface,
			      const struct manifest_impair *im, bool link_down);

/* The answer to a FORWARD or UNFORWARD done: the machine's forwards. */
struct plan_machine;
void api_machine_forwards_answer(struct api_response *r, int status, const char *machine,
				 const struct plan_machine *mc);

#endif
