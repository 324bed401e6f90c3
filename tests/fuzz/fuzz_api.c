/* libFuzzer target: the API router on any request, a PUT's body through
 * the manifest reader and planner as netd's front end runs them, and the
 * plan through the parent's reader of it (plan_wire): the parent must take
 * every plan the planner makes, and read it back as it was. The input is
 * "METHOD PATH\n" then the body; every answer must be a status netd can
 * send, with a body that parses as JSON where it says it is JSON. An
 * exec's request is put on the wire, and its stdin read back as the
 * machine's frames (what a hostile guest may send the front end). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_exec.h"
#include "api_machine.h"
#include "diag.h"
#include "plan.h"
#include "plan_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;

static void list(void *ctx, bool text, struct api_response *r)
{
	(void)ctx, (void)text;
	api_json(r, 200, json_object_new_array());
}

static void get(void *ctx, const char *name, bool text, struct api_response *r)
{
	(void)ctx, (void)text;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	api_json(r, 200, o);
}

/* As netd's parent does: the plan, read back by its own rules. */
static void put(void *ctx, const char *name, const struct api_manifest *m,
		struct api_response *r)
{
	(void)ctx;
	if (!m->plan)
		return api_copy(r, m->refusal);
	size_t len, len2;
	char *text = plan_wire_text(m->plan, &len);
	if (!text)
		return api_error(r, 500, "memory", "out of memory", 0, 0);
	struct plan p;
	struct pn_error err = PN_ERROR_INIT;
	if (plan_wire_parse(text, len, name, &lim, &p, &err) < 0) {
		fprintf(stderr, "the parent refuses a plan the planner made: %s\n%s\n", err.msg, text);
		__builtin_trap();
	}
	char *again = plan_wire_text(&p, &len2);
	if (again && strcmp(again, text) != 0) {
		fprintf(stderr, "a plan read back differs:\n%s\n%s\n", text, again);
		__builtin_trap();
	}
	free(again);
	free(text);
	plan_free(&p);
	api_json(r, 201, json_object_new_object());
}

static void del(void *ctx, const char *name, struct api_response *r)
{
	(void)ctx, (void)name;
	api_text(r, 204, NULL, NULL, 0);
}

static void stats(void *ctx, const char *name, bool text, struct api_response *r)
{
	get(ctx, name, text, r);
}

static void metrics(void *ctx, struct api_response *r)
{
	(void)ctx;
	api_text(r, 200, "text/plain", strdup("x 1\n"), 4);
}

static void exec(void *ctx, const char *name, const char *machine, const struct api_exec *x,
		 struct api_response *r)
{
	(void)ctx, (void)name, (void)machine;
	uint8_t *wire;
	size_t len;
	if (api_exec_wire(x, &wire, &len) < 0)
		return api_error(r, 500, "memory", "out of memory", 0, 0);
	free(wire);
	struct api_exec_result res = { 0 };
	/* In two pieces, as a stream may bring them. */
	size_t half = x->stdin_len / 2;
	if (!api_exec_feed(&res, (const uint8_t *)x->stdin_data, half) && x->stdin_data)
		api_exec_feed(&res, (const uint8_t *)x->stdin_data + half, x->stdin_len - half);
	api_exec_answer(&res, r);
	api_exec_result_free(&res);
}

/* What the front end sends the parent must read back the same there. */
static void machine(void *ctx, const char *name, const char *m, const struct api_machine_op *op,
		    struct api_response *r)
{
	(void)ctx, (void)name;
	char line[API_MACHINE_OP_MAX], again[API_MACHINE_OP_MAX];
	struct api_machine_op back;
	if (api_machine_op_format(op, line, sizeof(line)) < 0 ||
	    api_machine_op_parse(line, &back) < 0 ||
	    api_machine_op_format(&back, again, sizeof(again)) < 0 || strcmp(line, again) != 0) {
		fprintf(stderr, "an op read back differs: %s\n", line);
		__builtin_trap();
	}
	api_machine_iface_answer(r, m, back.iface, &back.impair, !back.up);
}

/* As the channel does: the target must be one the parent takes. */
static void capture(void *ctx, const char *name, const char *target, struct api_response *r)
{
	(void)ctx, (void)name;
	if (!api_valid_capture_target(target)) {
		fprintf(stderr, "the router passed capture target '%s'\n", target);
		abort();
	}
	api_json(r, 200, json_object_new_object());
}

static const struct api_backend backend = { .limits = &lim, .list = list, .get = get,
					    .put = put, .del = del, .stats = stats,
					    .metrics = metrics, .exec = exec, .machine = machine,
					    .capture = capture };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	char *head = strndup((const char *)data, (size_t)(nl - data));
	char *sp = head ? strchr(head, ' ') : NULL;
	if (!sp) {
		free(head);
		return 0;
	}
	*sp = '\0';
	size_t blen = size - (size_t)(nl + 1 - data);
	char *body = malloc(blen + 1);
	if (!body) {
		free(head);
		return 0;
	}
	memcpy(body, nl + 1, blen);
	body[blen] = '\0';
	struct api_response r = { 0 };
	api_handle(&backend, head, sp + 1, body, blen, blen & 1, &r);
	if (r.status < 200 || r.status > 599)
		__builtin_trap();
	if (r.content_type && strcmp(r.content_type, "application/json") == 0) {
		struct json_object *j = json_tokener_parse(r.body);
		if (!j)
			__builtin_trap();
		json_object_put(j);
	}
	api_response_free(&r);
	free(body);
	free(head);
	return 0;
}
