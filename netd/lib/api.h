/*
 * The HTTP API of netd (DESIGN.md section 4), as a pure router: method, path
 * and body in, status and body out. What a route does is the backend's; the
 * HTTP server (netd/daemon/http.c) only moves bytes. Errors are
 * {"error": {"code", "message", "line", "column"}}.
 */
#ifndef PLAYNET_API_H
#define PLAYNET_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define API_MAX_BODY (1024 * 1024) /* a manifest's own limit */

struct api_response {
	int status;
	char *body;               /* owned; NULL for none */
	size_t len;
	const char *content_type;
	const char *allow;        /* the Allow header of a 405 */
};

struct api_backend {
	void *ctx;
	/* text: the client asked for text/plain, what playnet prints. */
	void (*list)(void *ctx, bool text, struct api_response *r);
	void (*get)(void *ctx, const char *name, bool text, struct api_response *r);
	void (*put)(void *ctx, const char *name, const char *body, size_t len,
		    struct api_response *r);
	void (*del)(void *ctx, const char *name, struct api_response *r);
	void (*stats)(void *ctx, const char *name, bool text, struct api_response *r);
	void (*metrics)(void *ctx, struct api_response *r);
};

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

#endif
