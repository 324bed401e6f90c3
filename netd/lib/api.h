/*
 * The HTTP API of netd (DESIGN.md section 4), as a pure router: method, path
 * and body in, status and body out. A PUT's manifest is read and planned
 * here, so that a backend is handed a plan and never the YAML: in netd this
 * runs in the unprivileged front end, and the parent gets only the plan
 * (plan_wire). What a route does is the backend's; the HTTP server only
 * moves bytes. Errors are {"error": {"code", "message", "line", "column"}}.
 */
#ifndef PLAYNET_API_H
#define PLAYNET_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

#define API_MAX_BODY (1024 * 1024) /* a manifest's own limit */

struct api_response {
	int status;
	char *body;               /* owned; NULL for none */
	size_t len;
	const char *content_type;
	const char *allow;        /* the Allow header of a 405 */
};

struct plan;
struct api_exec;
struct api_machine_op;

/* A PUT's manifest as api_handle read it: its text, which a backend keeps
 * and compares as it is (NUL-terminated, no NUL within when planned), and
 * its plan, or the answer that refuses it (a 422 with every problem). The
 * backend may take the plan over (moving it out, so that plan_free of what
 * is left frees nothing). */
struct api_manifest {
	const char *text;
	size_t len;
	struct plan *plan;                  /* NULL: refused */
	const struct api_response *refusal; /* when plan is NULL */
};

struct api_backend {
	void *ctx;
	const struct manifest_limits *limits; /* what a PUT's manifest may hold */
	/* NULL: /healthz is answered by the router itself (api_health). */
	void (*health)(void *ctx, struct api_response *r);
	/* text: the client asked for text/plain, what playnet prints. */
	void (*list)(void *ctx, bool text, struct api_response *r);
	void (*get)(void *ctx, const char *name, bool text, struct api_response *r);
	void (*put)(void *ctx, const char *name, const struct api_manifest *m,
		    struct api_response *r);
	void (*del)(void *ctx, const char *name, struct api_response *r);
	void (*stats)(void *ctx, const char *name, bool text, struct api_response *r);
	void (*metrics)(void *ctx, struct api_response *r);
	/* POST .../machines/M/exec, its body read (api_exec.h). NULL: 501.
	 * An answer of status 0 is deferred: the backend gives it later. */
	void (*exec)(void *ctx, const char *name, const char *machine, const struct api_exec *x,
		     struct api_response *r);
	/* netd's parent, for its front end's exec: a stream to the exec
	 * server of the machine (agent_proto.h), or -errno with r the answer
	 * that refuses. */
	int (*exec_open)(void *ctx, const char *name, const char *machine, struct api_response *r);
	/* An impairment, a link or a restart of one machine (api_machine.h).
	 * NULL: 501. */
	void (*machine)(void *ctx, const char *name, const char *machine,
			const struct api_machine_op *op, struct api_response *r);
	/* GET .../networks/N/capture or .../machines/M/interfaces/I/capture:
	 * TARGET is "N" or "M/I" (api_valid_capture_target). NULL: 501. An
	 * answer of status 0 is a pcap stream under way (netd's front end). */
	void (*capture)(void *ctx, const char *name, const char *target, struct api_response *r);
	/* netd's parent, for its front end's capture: a packet socket on the
	 * target's device (capture.h) and in *ctl the pipe whose closing ends
	 * it, or -errno with r the answer that refuses. */
	int (*capture_open)(void *ctx, const char *name, const char *target, int *ctl,
			    struct api_response *r);
};

/* A network's name, or MACHINE/ethN. */
bool api_valid_capture_target(const char *s);
/* A capture's ?count=: 1 to API_CAPTURE_COUNT_MAX frames. */
#define API_CAPTURE_COUNT_MAX 1000000000
bool api_capture_count(const char *s, uint64_t *count);

/* text: the request's Accept header asks for text/plain (see api_wants_text). */
void api_handle(const struct api_backend *b, const char *method, const char *path,
		const char *body, size_t len, bool text, struct api_response *r);
/* Whether an Accept header prefers text/plain to JSON. */
bool api_wants_text(const char *accept);

/* Helpers for backends: each replaces what r held. */
void api_json(struct api_response *r, int status, struct json_object *j); /* takes j */
void api_error(struct api_response *r, int status, const char *code, const char *message,
	       int line, int column);
void api_text(struct api_response *r, int status, const char *content_type, char *text,
	      size_t len); /* takes text */
void api_response_free(struct api_response *r);
/* r becomes a copy of what (content type and Allow are static strings). */
void api_copy(struct api_response *r, const struct api_response *what);
/* The answer of /healthz. */
void api_health(struct api_response *r);

#endif
