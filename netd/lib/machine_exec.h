/*
 * A stream to a machine's exec server (agent_proto.h), for netd's exec
 * route and for tasks: a VM's agent, over its own channel; for a netns
 * machine, a process started in the machine's netns that serves the same
 * protocol (agent_exec_serve), so both answer alike.
 */
#ifndef PLAYNET_MACHINE_EXEC_H
#define PLAYNET_MACHINE_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "plan.h"

enum machine_refusal {
	MACHINE_NOT_RUNNING = 1, /* a VM that is not */
	MACHINE_NO_AGENT,        /* a VM that boots an initrd of its own */
	MACHINE_BOOTING,         /* its agent has not started within wait_ms */
	MACHINE_REFUSED,         /* its agent refused */
	MACHINE_FAILED,
};

/* A stream to port (agent_proto.h) of machine m of playground pg (a VM,
 * or a netns machine in netns: commands only), waiting up to wait_ms for a
 * VM's agent, or -errno with *why and msg saying why. */
int machine_stream(const char *state_dir, const char *pg, const char *m, bool vm,
		   const char *netns, unsigned port, unsigned wait_ms, enum machine_refusal *why,
		   char *msg, size_t msg_len);

/* VM m's own init has booted (vm_agent_wait_booted): 0, or -errno with msg. */
int machine_wait_booted(const char *state_dir, const char *pg, const char *m, unsigned wait_ms,
			char *msg, size_t msg_len);

/* The stream to machine m of p at once, or -errno with r the answer: 404
 * no such machine, 409 a VM that is not running or has no agent, 503 one
 * still booting, 502 an agent that refused, 500 otherwise. */
int machine_exec_open(const char *state_dir, const struct plan *p, const char *m,
		      struct api_response *r);

#endif
