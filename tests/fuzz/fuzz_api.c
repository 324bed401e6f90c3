/* libFuzzer target: the API router on any request, and a PUT's body through
 * the manifest reader as netd's service reads it. The input is
 * "METHOD PATH\n" then the body; every answer must be a status netd can
 * send, with a body that parses as JSON where it says it is JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "diag.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* As svc_put does: the body is a manifest, planned under the name. */
static void put(void *ctx, const char *name, const char *body, size_t len,
		struct api_response *r)
{
	(void)ctx;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	diag_init(&d, "manifest");
	struct plan p;
	if (plan_parse(body, len, name, &lim, &p, &d) == 0) {
		plan_free(&p);
		api_json(r, 201, json_object_new_object());
	} else {
		api_error(r, 422, "invalid_manifest", d.count ? d.entries[0].message : "invalid",
			  0, 0);
	}
	diag_free(&d);
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

static const struct api_backend backend = { NULL, list, get, put, del, stats, metrics };

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
