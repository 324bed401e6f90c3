/* The exec route's request, the agent's frames, and the answer. */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "api_exec.h"

static int bad(struct api_response *r, const char *msg)
{
	api_error(r, 400, "invalid_request", msg, 0, 0);
	return -EINVAL;
}

static int take_command(struct json_object *v, struct api_exec *x, struct api_response *r)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(r, "command: a list of strings, the program first");
	size_t n = json_object_array_length(v);
	if (n == 0 || n > API_EXEC_ARGS_MAX)
		return bad(r, "command: 1 to 1024 strings, the program first");
	if (!(x->argv = calloc(n + 1, sizeof(*x->argv))))
		return api_error(r, 500, "memory", "out of memory", 0, 0), -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(v, i);
		if (!json_object_is_type(a, json_type_string))
			return bad(r, "command: a list of strings, the program first");
		const char *s = json_object_get_string(a);
		if (strlen(s) != (size_t)json_object_get_string_len(a))
			return bad(r, "command: an argument holds a NUL byte");
		if (i == 0 && !*s)
			return bad(r, "command: the program's name is empty");
		if (!(x->argv[x->argc++] = strdup(s)))
			return api_error(r, 500, "memory", "out of memory", 0, 0), -ENOMEM;
	}
	return 0;
}

static int take_field(const char *key, struct json_object *v, struct api_exec *x,
		      struct api_response *r)
{
	if (strcmp(key, "command") == 0)
		return take_command(v, x, r);
	if (strcmp(key, "timeout_seconds") == 0) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
		    json_object_get_int64(v) > API_EXEC_TIMEOUT_MAX)
			return bad(r, "timeout_seconds: a whole number of seconds, 1 to 3600");
		x->timeout_s = (unsigned)json_object_get_int64(v);
		return 0;
	}
	if (strcmp(key, "user") == 0) {
		if (!json_object_is_type(v, json_type_string) || !manifest_valid_user(json_object_get_string(v)))
			return bad(r, "user: a user name (a-z, 0-9, '_' and '-', at most 32)");
		snprintf(x->user, sizeof(x->user), "%s", json_object_get_string(v));
		return 0;
	}
	if (strcmp(key, "stdin") == 0) {
		if (!json_object_is_type(v, json_type_string))
			return bad(r, "stdin: a string");
		x->stdin_len = (size_t)json_object_get_string_len(v);
		if (!(x->stdin_data = malloc(x->stdin_len + 1)))
			return api_error(r, 500, "memory", "out of memory", 0, 0), -ENOMEM;
		memcpy(x->stdin_data, json_object_get_string(v), x->stdin_len + 1);
		return 0;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "unknown field '%.40s' (command, timeout_seconds, user, stdin)",
		 key);
	return bad(r, msg);
}

int api_exec_parse(const char *body, size_t len, struct api_exec *x, struct api_response *r)
{
	memset(x, 0, sizeof(*x));
	x->timeout_s = API_EXEC_TIMEOUT_DEFAULT;
	snprintf(x->user, sizeof(x->user), "root");
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return api_error(r, 500, "memory", "out of memory", 0, 0), -ENOMEM;
	struct json_object *j = json_tokener_parse_ex(tok, body, (int)len);
	bool whole = j && json_tokener_get_error(tok) == json_tokener_success &&
		     (size_t)json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	int e = 0;
	if (!whole || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return bad(r, "the body is a JSON object: {\"command\": [\"PROGRAM\", \"ARG\", ...]}");
	}
	json_object_object_foreach(j, key, v)
	{
		if (e)
			break;
		e = take_field(key, v, x, r);
	}
	if (!e && !x->argv)
		e = bad(r, "command: missing (a list of strings, the program first)");
	json_object_put(j);
	if (e)
		api_exec_free(x);
	return e;
}

void api_exec_free(struct api_exec *x)
{
	for (size_t i = 0; x->argv && i < x->argc; i++)
		free(x->argv[i]);
	free(x->argv);
	free(x->stdin_data);
	memset(x, 0, sizeof(*x));
}

static int add(FILE *f, unsigned type, const void *p, size_t len)
{
	uint8_t h[AGENT_HEADER] = { (uint8_t)type };
	agent_put32(h + 4, (uint32_t)len);
	return fwrite(h, 1, sizeof(h), f) == sizeof(h) && (!len || fwrite(p, 1, len, f) == len) ?
		       0 : -ENOMEM;
}

int api_exec_wire(const struct api_exec *x, uint8_t **out, size_t *len)
{
	char *req;
	size_t req_len;
	int e = agent_request_encode(x->argv, x->user, x->timeout_s, NULL, &req, &req_len);
	if (e < 0)
		return e;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f) {
		free(req);
		return -ENOMEM;
	}
	e = add(f, AGENT_REQUEST, req, req_len);
	for (size_t off = 0; !e && off < x->stdin_len; off += AGENT_MAX_PAYLOAD)
		e = add(f, AGENT_STDIN, x->stdin_data + off,
			x->stdin_len - off < AGENT_MAX_PAYLOAD ? x->stdin_len - off : AGENT_MAX_PAYLOAD);
	if (!e)
		e = add(f, AGENT_STDIN_END, NULL, 0);
	free(req);
	if (fclose(f) != 0 || e) {
		free(buf);
		return -ENOMEM;
	}
	*out = (uint8_t *)buf;
	return 0;
}

/* Output kept up to API_EXEC_OUTPUT_MAX a stream. */
static void keep(struct api_exec_result *x, char **buf, size_t *n, const uint8_t *p, size_t len)
{
	size_t room = API_EXEC_OUTPUT_MAX - *n;
	if (len > room) {
		x->truncated = true;
		len = room;
	}
	if (!len)
		return;
	char *nb = realloc(*buf, *n + len + 1);
	if (!nb) {
		x->truncated = true;
		return;
	}
	memcpy(nb + *n, p, len);
	*n += len;
	nb[*n] = '\0';
	*buf = nb;
}

bool api_exec_feed(struct api_exec_result *x, const uint8_t *p, size_t len)
{
	while (len && !x->done) {
		if (x->head_len < AGENT_HEADER) {
			size_t n = AGENT_HEADER - x->head_len < len ? AGENT_HEADER - x->head_len : len;
			memcpy(x->head + x->head_len, p, n);
			x->head_len += n;
			p += n;
			len -= n;
			if (x->head_len < AGENT_HEADER)
				break;
			x->type = x->head[0];
			x->want = agent_get32(x->head + 4);
			if (x->type < AGENT_STDOUT || x->type > AGENT_EXIT || x->head[1] ||
			    x->head[2] || x->head[3] || x->want > AGENT_MAX_PAYLOAD) {
				x->broken = x->done = true;
				break;
			}
		}
		size_t n = x->want < len ? x->want : len;
		if (x->type == AGENT_STDOUT)
			keep(x, &x->out, &x->n_out, p, n);
		else if (x->type == AGENT_STDERR)
			keep(x, &x->err, &x->n_err, p, n);
		else {
			size_t room = sizeof(x->end) - 1 - x->n_end;
			memcpy(x->end + x->n_end, p, n < room ? n : room);
			x->n_end += n < room ? n : room;
			x->end[x->n_end] = '\0';
		}
		p += n;
		len -= n;
		x->want -= (uint32_t)n;
		if (!x->want) {
			x->head_len = 0;
			x->done = x->type == AGENT_EXIT;
		}
	}
	return x->done;
}

static bool utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		size_t k = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 :
			   (*p & 0xf8) == 0xf0 ? 3 : 4;
		if (k == 4 || (k == 1 && *p < 0xc2) || (size_t)(end - p) <= k)
			return false;
		for (size_t i = 1; i <= k; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += k + 1;
	}
	return true;
}

static char *base64(const char *s, size_t n)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; out && i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		*o++ = abc[v >> 18];
		*o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? abc[v & 63] : '=';
	}
	if (out)
		*o = '\0';
	return out;
}

static void add_output(struct json_object *o, const char *name, const char *s, size_t n)
{
	if (utf8(s ? s : "", n)) {
		json_object_object_add(o, name, json_object_new_string_len(s ? s : "", (int)n));
		return;
	}
	char key[32];
	snprintf(key, sizeof(key), "%s_base64", name);
	char *b = base64(s, n);
	json_object_object_add(o, key, json_object_new_string(b ? b : ""));
	free(b);
}

void api_exec_answer(const struct api_exec_result *x, struct api_response *r)
{
	if (!x->done || x->broken)
		return api_error(r, 502, "machine_unreachable",
				 "the stream to the machine ended before the command did", 0, 0);
	int code;
	bool timed_out = strcmp(x->end, "timeout") == 0, exited = false, signalled = false;
	if (sscanf(x->end, "exit %d", &code) == 1)
		exited = true;
	else if (sscanf(x->end, "signal %d", &code) == 1)
		signalled = true;
	else if (!timed_out)
		return api_error(r, 422, "exec_failed",
				 strncmp(x->end, "error ", 6) == 0 ? x->end + 6 : x->end, 0, 0);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "exit_status", exited ? json_object_new_int(code) : NULL);
	json_object_object_add(o, "signal", signalled ? json_object_new_int(code) : NULL);
	json_object_object_add(o, "timed_out", json_object_new_boolean(timed_out));
	add_output(o, "stdout", x->out, x->n_out);
	add_output(o, "stderr", x->err, x->n_err);
	json_object_object_add(o, "truncated", json_object_new_boolean(x->truncated));
	api_json(r, 200, o);
}

void api_exec_result_free(struct api_exec_result *x)
{
	free(x->out);
	free(x->err);
	memset(x, 0, sizeof(*x));
}
