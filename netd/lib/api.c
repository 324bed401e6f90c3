#define _GNU_SOURCE
#include "api.h"
#include "api_exec.h"
#include "api_machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "naming.h"
#include "plan.h"

#define PREFIX "/v1/playgrounds"

void api_response_free(struct api_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void api_text(struct api_response *r, int status, const char *content_type, char *text,
	      size_t len)
{
	api_response_free(r);
	r->status = status;
	r->body = text;
	r->len = len;
	r->content_type = content_type;
}

void api_json(struct api_response *r, int status, struct json_object *j)
{
	const char *s = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE)
			  : NULL;
	char *copy = s ? strdup(s) : NULL;
	json_object_put(j);
	if (!copy) {
		api_response_free(r);
		r->status = 500;
		return;
	}
	api_text(r, status, "application/json", copy, strlen(copy));
}

void api_error(struct api_response *r, int status, const char *code, const char *message,
	       int line, int column)
{
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (line > 0) {
		json_object_object_add(e, "line", json_object_new_int(line));
		json_object_object_add(e, "column", json_object_new_int(column));
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", e);
	api_json(r, status, o);
}

void api_copy(struct api_response *r, const struct api_response *what)
{
	/* NUL-terminated as api_json's are, for readers of it as a string */
	char *body = what->len ? malloc(what->len + 1) : NULL;
	if (what->len && !body)
		return api_error(r, 500, "memory", "out of memory", 0, 0);
	if (body) {
		memcpy(body, what->body, what->len);
		body[what->len] = '\0';
	}
	api_text(r, what->status, what->content_type, body, what->len);
	r->allow = what->allow;
}

void api_health(struct api_response *r)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	api_json(r, 200, o);
}

/* All the manifest's problems in one message; the first one's position. */
static void refuse_manifest(struct api_response *r, const struct diag *d)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);
	if (f) {
		diag_print(d, f);
		fclose(f);
	}
	if (len && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	int line = d->count ? d->entries[0].line : 0, col = d->count ? d->entries[0].column : 0;
	api_error(r, 422, "invalid_manifest", msg && *msg ? msg : "invalid manifest", line, col);
	free(msg);
}

/* The body planned under the name, or refused; the backend decides which
 * answer a refused manifest gets (an existing playground's name answers
 * for itself first). */
static void put(const struct api_backend *b, const char *name, const char *body, size_t len,
		struct api_response *r)
{
	struct api_response refusal = { 0 };
	struct api_manifest m = { .text = body, .len = len, .refusal = &refusal };
	struct plan p;
	if (memchr(body, '\0', len)) {
		api_error(&refusal, 422, "invalid_manifest", "the manifest holds a NUL byte", 0, 0);
	} else {
		struct diag d;
		diag_init(&d, "manifest");
		int e = plan_parse(body, len, name, b->limits, &p, &d);
		if (e == 0)
			m.plan = &p;
		else if (e == -ENOMEM)
			api_error(&refusal, 500, "memory", "out of memory", 0, 0);
		else
			refuse_manifest(&refusal, &d);
		diag_free(&d);
	}
	b->put(b->ctx, name, &m, r);
	if (m.plan)
		plan_free(&p);
	api_response_free(&refusal);
}

static void method_not_allowed(struct api_response *r, const char *allow)
{
	api_error(r, 405, "method_not_allowed", "method not allowed here", 0, 0);
	r->allow = allow;
}

bool api_valid_capture_target(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return manifest_valid_network_name(s);
	char machine[MANIFEST_HOSTNAME_MAX + 1];
	size_t n = (size_t)(slash - s);
	if (n == 0 || n > MANIFEST_HOSTNAME_MAX)
		return false;
	memcpy(machine, s, n);
	machine[n] = '\0';
	return manifest_valid_hostname(machine) && api_valid_iface(slash + 1);
}

bool api_capture_count(const char *s, uint64_t *count)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 10 || s[n] != '\0')
		return false;
	*count = strtoull(s, NULL, 10);
	return *count >= 1 && *count <= API_CAPTURE_COUNT_MAX;
}

static void capture(const struct api_backend *b, const char *name, const char *target,
		    struct api_response *r)
{
	if (!b->capture)
		return api_error(r, 501, "not_implemented",
				 "this server captures no packets (netd does; playnet --direct does not)",
				 0, 0);
	b->capture(b->ctx, name, target, r);
}

/* .../networks/N/capture */
static void route_network(const struct api_backend *b, const char *method, const char *name,
			  const char *rest, struct api_response *r)
{
	const char *slash = strchr(rest, '/');
	if (!slash || strcmp(slash + 1, "capture") != 0)
		return api_error(r, 404, "not_found", "no such resource (a network has /capture)", 0,
				 0);
	char net[MANIFEST_NAME_MAX + 1];
	size_t n = (size_t)(slash - rest);
	if (n > MANIFEST_NAME_MAX)
		n = 0;
	memcpy(net, rest, n);
	net[n] = '\0';
	if (!manifest_valid_network_name(net))
		return api_error(r, 400, "invalid_name",
				 "a network name has 1 to 32 characters of a-z, 0-9 and '-'", 0, 0);
	if (strcmp(method, "GET") != 0)
		return method_not_allowed(r, "GET");
	capture(b, name, net, r);
}

static void route_machine_op(const struct api_backend *b, const char *method,
			     const char *name, const char *machine, const char *rest,
			     const char *body, size_t len, struct api_response *r)
{
	struct api_machine_op op;
	if (api_machine_route(method, rest, body, len, &op, r) < 0)
		return;
	if (op.verb == API_MACHINE_CAPTURE) {
		char target[MANIFEST_HOSTNAME_MAX + 1 + IFNAMSIZ];
		snprintf(target, sizeof(target), "%s/%s", machine, op.iface);
		return capture(b, name, target, r);
	}
	if (!b->machine) {
		api_error(r, 501, "not_implemented", "this server changes no machines", 0, 0);
		return;
	}
	b->machine(b->ctx, name, machine, &op, r);
}

/* /v1/playgrounds/P/machines/M/exec, and what api_machine.h routes */
static void route_machine(const struct api_backend *b, const char *method, const char *name,
			  const char *rest, const char *body, size_t len, struct api_response *r)
{
	const char *slash = strchr(rest, '/');
	size_t mlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (!slash) {
		api_error(r, 404, "not_found",
			  "no such resource (a machine has /exec and /interfaces/I/...)", 0, 0);
		return;
	}
	char machine[MANIFEST_HOSTNAME_MAX + 1];
	if (mlen == 0 || mlen > MANIFEST_HOSTNAME_MAX) {
		api_error(r, 400, "invalid_name", "a machine name has 1 to 63 characters", 0, 0);
		return;
	}
	memcpy(machine, rest, mlen);
	machine[mlen] = '\0';
	if (!manifest_valid_hostname(machine)) {
		api_error(r, 400, "invalid_name",
			  "a machine name is a hostname: a-z, 0-9 and '-', not starting or ending with '-'",
			  0, 0);
		return;
	}
	if (strcmp(slash + 1, "exec") != 0)
		return route_machine_op(b, method, name, machine, slash + 1, body, len, r);
	if (strcmp(method, "POST") != 0)
		return method_not_allowed(r, "POST");
	if (!b->exec) {
		api_error(r, 501, "not_implemented", "this server runs no commands in machines", 0, 0);
		return;
	}
	struct api_exec x;
	if (api_exec_parse(body, len, &x, r) < 0)
		return;
	b->exec(b->ctx, name, machine, &x, r);
	api_exec_free(&x);
}

static void route_playground(const struct api_backend *b, const char *method,
			     const char *rest, const char *body, size_t len, bool text,
			     struct api_response *r)
{
	const char *slash = strchr(rest, '/');
	size_t nlen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *sub = slash ? slash + 1 : NULL;
	bool machine = sub && strncmp(sub, "machines/", 9) == 0;
	bool network = sub && strncmp(sub, "networks/", 9) == 0;
	if (sub && strcmp(sub, "stats") != 0 && !machine && !network) {
		api_error(r, 404, "not_found", "no such resource", 0, 0);
		return;
	}
	char name[NAMING_PLAYGROUND_MAX + 1];
	if (nlen == 0 || nlen > NAMING_PLAYGROUND_MAX) {
		api_error(r, 400, "invalid_name",
			  "a playground name has 1 to 32 characters of a-z, 0-9 and '-'", 0, 0);
		return;
	}
	memcpy(name, rest, nlen);
	name[nlen] = '\0';
	if (!naming_valid_playground(name)) {
		api_error(r, 400, "invalid_name",
			  "a playground name has 1 to 32 characters of a-z, 0-9 and '-', starting with a letter or digit",
			  0, 0);
		return;
	}
	if (machine)
		return route_machine(b, method, name, sub + 9, body, len, r);
	if (network)
		return route_network(b, method, name, sub + 9, r);
	if (sub) {
		if (strcmp(method, "GET") != 0)
			return method_not_allowed(r, "GET");
		return b->stats(b->ctx, name, text, r);
	}
	if (strcmp(method, "GET") == 0)
		return b->get(b->ctx, name, text, r);
	if (strcmp(method, "PUT") == 0) {
		if (len == 0) {
			api_error(r, 400, "empty_body", "PUT needs a manifest (YAML or JSON) as its body",
				  0, 0);
			return;
		}
		return put(b, name, body, len, r);
	}
	if (strcmp(method, "DELETE") == 0)
		return b->del(b->ctx, name, r);
	method_not_allowed(r, "GET, PUT, DELETE");
}

bool api_wants_text(const char *accept)
{
	return accept && strncmp(accept, "text/plain", 10) == 0;
}

void api_handle(const struct api_backend *b, const char *method, const char *path,
		const char *body, size_t len, bool text, struct api_response *r)
{
	memset(r, 0, sizeof(*r));
	if (strcmp(path, "/healthz") == 0) {
		if (strcmp(method, "GET") != 0)
			return method_not_allowed(r, "GET");
		return b->health ? b->health(b->ctx, r) : api_health(r);
	}
	if (strcmp(path, "/metrics") == 0) {
		if (strcmp(method, "GET") != 0)
			return method_not_allowed(r, "GET");
		return b->metrics(b->ctx, r);
	}
	if (strcmp(path, PREFIX) == 0) {
		if (strcmp(method, "GET") != 0)
			return method_not_allowed(r, "GET");
		return b->list(b->ctx, text, r);
	}
	if (strncmp(path, PREFIX "/", sizeof(PREFIX)) == 0)
		return route_playground(b, method, path + sizeof(PREFIX), body, len, text, r);
	api_error(r, 404, "not_found", "no such resource", 0, 0);
}
