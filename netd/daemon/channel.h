/*
 * netd's parent and its HTTP front end (frontend.c) talk over a stream
 * socketpair, one length-prefixed frame a message: a request one way, its
 * response the other. The front end has routed the request and planned a
 * PUT's manifest: a request is an operation on a checked name, and a PUT
 * carries the manifest's text (kept and compared, never parsed by the
 * parent) and its plan (plan_wire, which the parent checks field by field)
 * or the answer that refused it. The parent distrusts what comes: every
 * length is checked against what arrived, every name against the rules.
 */
#ifndef PLAYNET_CHANNEL_H
#define PLAYNET_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define CHANNEL_MAX_PLAN (4 * 1024 * 1024)
#define CHANNEL_MAX_FRAME (API_MAX_BODY + CHANNEL_MAX_PLAN + 256)

enum channel_op {
	CHANNEL_HEALTH = 1,
	CHANNEL_LIST,
	CHANNEL_GET,
	CHANNEL_PUT,
	CHANNEL_DELETE,
	CHANNEL_STATS,
	CHANNEL_METRICS,
	CHANNEL_EXEC,   /* name: the playground; machine: the machine. A 200
			 * is followed by the stream's fd (channel_send_fd). */
	CHANNEL_MACHINE, /* name, machine, and what to do as one line (action:
			  * api_machine_op_format) */
	CHANNEL_CAPTURE, /* name, and in machine what to capture ("N" or
			  * "M/ethN"). A 200 is followed by two fds: the packet
			  * socket and the pipe that ends it (capture.h). */
};

struct channel_request {
	enum channel_op op;
	bool text;       /* text/plain is wanted */
	const char *name; /* a valid playground name; "" for HEALTH, LIST, METRICS */
	/* PUT only (else empty): the manifest as given, and its plan
	 * (plan_wire text) or, when refused, the refusal's JSON body. All
	 * NUL-terminated. */
	const char *manifest;
	size_t manifest_len;
	const char *plan;
	size_t plan_len;
	bool refused;
	const char *machine; /* EXEC, MACHINE: a valid machine name; CAPTURE: a
			      * target (api_valid_capture_target); else "" */
	const char *action;  /* MACHINE only: what to do (else "") */
	uint8_t *buf; /* a received request's strings */
};

/* Looks, without sleeping, for up to US microseconds for something to
 * read on FD (or its end closed): for an answer expected at once. */
void channel_await(int fd, unsigned us);
int channel_send_request(int fd, const struct channel_request *rq);
/* -EPIPE when the other side is gone, -EPROTO for a frame that is not one. */
int channel_recv_request(int fd, struct channel_request *rq);
void channel_request_free(struct channel_request *rq);

int channel_send_response(int fd, const struct api_response *r);
/* One fd, after an EXEC's or a CAPTURE's 200 (SCM_RIGHTS). */
int channel_send_fd(int chan, int fd);
/* The fd sent, or -errno. */
int channel_recv_fd(int chan);
/* r->content_type and r->allow point into *keep, which the caller frees
 * after r. */
int channel_recv_response(int fd, struct api_response *r, char **keep);

#endif
