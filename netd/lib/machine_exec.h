/*
 * A stream to a machine's exec server (agent_proto.h), for netd's exec
 * route: a VM's agent, over its own channel; for a netns machine, a
 * process netd starts in the machine's netns that serves the same
 * protocol (agent_exec_serve), so both answer alike.
 */
#ifndef PLAYNET_MACHINE_EXEC_H
#define PLAYNET_MACHINE_EXEC_H

#include "api.h"
#include "plan.h"

/* The stream to machine m of p (state_dir: where VMs keep their files),
 * or -errno with r the answer: 404 no such machine, 409 a VM that is not
 * running or has no agent, 503 one still booting, 502 an agent that
 * refused, 500 otherwise. */
int machine_exec_open(const char *state_dir, const struct plan *p, const char *m,
		      struct api_response *r);

#endif
