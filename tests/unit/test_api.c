/* The API's routing: which route each method and path reaches, names
 * checked before any backend runs, and the error shape. */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>

#include "agent_proto.h"
#include "api.h"
#include "api_exec.h"
#include "api_machine.h"
#include "plan.h"

static char last[128];

static void note(struct api_response *r, const char *what)
{
	snprintf(last, sizeof(last), "%s", what);
	char *b = strdup("{}");
	api_text(r, 299, "application/json", b, 2);
}

static void f_list(void *ctx, bool text, struct api_response *r)
{
	(void)ctx;
	note(r, text ? "list text" : "list");
}
static void f_get(void *ctx, const char *n, bool text, struct api_response *r)
{
	(void)ctx;
	char w[96];
	snprintf(w, sizeof(w), "get %s%s", n, text ? " text" : "");
	note(r, w);
}
/* What a backend is handed: the text, and its plan or the refusal. */
static void f_put(void *ctx, const char *n, const struct api_manifest *m,
		  struct api_response *r)
{
	(void)ctx;
	char w[128];
	if (m->plan)
		snprintf(w, sizeof(w), "put %s %zu bytes: plan %s, %zu machines", n, m->len,
			 m->plan->name, m->plan->n_machines);
	else
		snprintf(w, sizeof(w), "put %s %zu bytes: refused %d %.80s", n, m->len,
			 m->refusal->status, m->refusal->body);
	note(r, w);
}
static void f_del(void *ctx, const char *n, struct api_response *r)
{
	(void)ctx;
	char w[96];
	snprintf(w, sizeof(w), "delete %s", n);
	note(r, w);
}
static void f_stats(void *ctx, const char *n, bool text, struct api_response *r)
{
	(void)ctx;
	char w[96];
	snprintf(w, sizeof(w), "stats %s%s", n, text ? " text" : "");
	note(r, w);
}
static void f_metrics(void *ctx, struct api_response *r) { (void)ctx; note(r, "metrics"); }
static void f_exec(void *ctx, const char *n, const char *m, const struct api_exec *x,
		   struct api_response *r)
{
	(void)ctx;
	char w[128];
	snprintf(w, sizeof(w), "exec %s %s: %zu args, %s%s, %u s, %s, stdin %zu", n, m, x->argc,
		 x->argv[0], x->argc > 1 ? " ..." : "", x->timeout_s, x->user, x->stdin_len);
	note(r, w);
}

static void f_capture(void *ctx, const char *n, const char *target, struct api_response *r)
{
	(void)ctx;
	char w[128];
	snprintf(w, sizeof(w), "capture %s %s", n, target);
	note(r, w);
}

static const struct manifest_limits lim = { .max_machines = 2, .max_networks = 8,
					    .max_interfaces = 8 };
static const struct api_backend B = { .limits = &lim, .list = f_list, .get = f_get,
				      .put = f_put, .del = f_del, .stats = f_stats,
				      .metrics = f_metrics, .exec = f_exec, .capture = f_capture };

/* Routes to the backend: status 299 and what it saw. */
static void expect_route(const char *method, const char *path, const char *body,
			 const char *want)
{
	struct api_response r;
	last[0] = '\0';
	api_handle(&B, method, path, body, body ? strlen(body) : 0, false, &r);
	assert_int_equal(r.status, 299);
	assert_string_equal(last, want);
	api_response_free(&r);
}

static void expect_error(const char *method, const char *path, int status, const char *code)
{
	struct api_response r;
	last[0] = '\0';
	api_handle(&B, method, path, "x", 1, false, &r);
	assert_int_equal(r.status, status);
	assert_string_equal(last, ""); /* no backend ran */
	struct json_object *j = json_tokener_parse(r.body);
	assert_non_null(j);
	struct json_object *e, *c;
	assert_true(json_object_object_get_ex(j, "error", &e));
	assert_true(json_object_object_get_ex(e, "code", &c));
	assert_string_equal(json_object_get_string(c), code);
	assert_true(json_object_object_get_ex(e, "message", &c));
	json_object_put(j);
	api_response_free(&r);
}

static void t_routes(void **state)
{
	(void)state;
	expect_route("GET", "/v1/playgrounds", NULL, "list");
	expect_route("GET", "/v1/playgrounds/lab-1", NULL, "get lab-1");
	expect_route("PUT", "/v1/playgrounds/lab-1",
		     "kind: playground\nplayground:\n  machines:\n    - name: a\n",
		     "put lab-1 55 bytes: plan lab-1, 1 machines");
	expect_route("DELETE", "/v1/playgrounds/lab-1", NULL, "delete lab-1");
	expect_route("GET", "/v1/playgrounds/lab-1/stats", NULL, "stats lab-1");
	expect_route("GET", "/metrics", NULL, "metrics");
}

/* The exec route: the body read and checked before the backend runs. */
static void expect_exec_error(const char *path, const char *body, int status, const char *msg)
{
	struct api_response r;
	last[0] = '\0';
	api_handle(&B, "POST", path, body, strlen(body), false, &r);
	assert_int_equal(r.status, status);
	assert_string_equal(last, "");
	if (!strstr(r.body, msg))
		fprintf(stderr, "%s\n", r.body);
	assert_non_null(strstr(r.body, msg));
	api_response_free(&r);
}

static void t_exec_route(void **state)
{
	(void)state;
	const char *P = "/v1/playgrounds/lab-1/machines/router/exec";
	expect_route("POST", P, "{\"command\": [\"ip\", \"route\"]}",
		     "exec lab-1 router: 2 args, ip ..., 60 s, root, stdin 0");
	expect_route("POST", P,
		     "{\"command\": [\"cat\"], \"timeout_seconds\": 5, \"user\": \"laborant\", \"stdin\": \"abc\"}",
		     "exec lab-1 router: 1 args, cat, 5 s, laborant, stdin 3");
	expect_exec_error(P, "not json", 400, "the body is a JSON object");
	expect_exec_error(P, "[\"ip\"]", 400, "the body is a JSON object");
	expect_exec_error(P, "{}", 400, "command: missing");
	expect_exec_error(P, "{\"command\": []}", 400, "command: 1 to 1024 strings");
	expect_exec_error(P, "{\"command\": \"ip route\"}", 400, "command: a list of strings");
	expect_exec_error(P, "{\"command\": [\"ip\", 7]}", 400, "command: a list of strings");
	expect_exec_error(P, "{\"command\": [\"\"]}", 400, "the program's name is empty");
	expect_exec_error(P, "{\"command\": [\"a\\u0000b\"]}", 400, "holds a NUL byte");
	expect_exec_error(P, "{\"command\": [\"ip\"], \"timeout_seconds\": 0}", 400, "1 to 3600");
	expect_exec_error(P, "{\"command\": [\"ip\"], \"timeout_seconds\": 3601}", 400, "1 to 3600");
	expect_exec_error(P, "{\"command\": [\"ip\"], \"user\": \"../root\"}", 400, "user: a user name");
	expect_exec_error(P, "{\"command\": [\"ip\"], \"cmd\": 1}", 400, "unknown field 'cmd'");
	expect_exec_error("/v1/playgrounds/lab-1/machines/-bad/exec", "{}", 400, "a machine name is a hostname");
	expect_exec_error("/v1/playgrounds/lab-1/machines/router/run", "{}", 404, "a machine has /exec");
	expect_exec_error("/v1/playgrounds/lab-1/machines/router", "{}", 404, "a machine has /exec");
	expect_error("GET", P, 405, "method_not_allowed");
}

static void frame(uint8_t **p, unsigned type, const char *s, size_t len)
{
	(*p)[0] = (uint8_t)type;
	(*p)[1] = (*p)[2] = (*p)[3] = 0;
	agent_put32(*p + 4, (uint32_t)len);
	memcpy(*p + 8, s, len);
	*p += 8 + len;
}

static struct json_object *answer_of(const uint8_t *buf, size_t len, size_t step, int status)
{
	struct api_exec_result x = { 0 };
	for (size_t off = 0; off < len; off += step)
		api_exec_feed(&x, buf + off, len - off < step ? len - off : step);
	struct api_response r = { 0 };
	api_exec_answer(&x, &r);
	api_exec_result_free(&x);
	assert_int_equal(r.status, status);
	struct json_object *j = json_tokener_parse(r.body);
	assert_non_null(j);
	api_response_free(&r);
	return j;
}

static const char *member(struct json_object *j, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(j, k, &v) ? json_object_to_json_string(v) : "absent";
}

/* The machine's frames, byte by byte or whole, make one answer. */
static void t_exec_answer(void **state)
{
	(void)state;
	uint8_t buf[256], *p = buf;
	frame(&p, AGENT_STDOUT, "out", 3);
	frame(&p, AGENT_STDERR, "err", 3);
	frame(&p, AGENT_STDOUT, "put", 3);
	frame(&p, AGENT_EXIT, "exit 7", 6);
	for (size_t step = 1; step <= 64; step *= 4) {
		struct json_object *j = answer_of(buf, (size_t)(p - buf), step, 200);
		assert_string_equal(member(j, "exit_status"), "7");
		assert_string_equal(member(j, "signal"), "null");
		assert_string_equal(member(j, "timed_out"), "false");
		assert_string_equal(member(j, "stdout"), "\"output\"");
		assert_string_equal(member(j, "stderr"), "\"err\"");
		json_object_put(j);
	}
	p = buf;
	frame(&p, AGENT_STDOUT, "\xff\xfe", 2);
	frame(&p, AGENT_EXIT, "timeout", 7);
	struct json_object *j = answer_of(buf, (size_t)(p - buf), 100, 200);
	assert_string_equal(member(j, "timed_out"), "true");
	assert_string_equal(member(j, "exit_status"), "null");
	assert_string_equal(member(j, "stdout_base64"), "\"\\/\\/4=\"");
	json_object_put(j);
	p = buf;
	frame(&p, AGENT_EXIT, "error no user bob", 17);
	j = answer_of(buf, (size_t)(p - buf), 100, 422);
	json_object_put(j);
	p = buf;
	frame(&p, AGENT_STDOUT, "cut", 3); /* and no end */
	j = answer_of(buf, (size_t)(p - buf), 100, 502);
	json_object_put(j);
	j = answer_of((const uint8_t *)"\x09garbage-frame", 15, 100, 502);
	json_object_put(j);
}

static void t_healthz(void **state)
{
	(void)state;
	struct api_response r;
	api_handle(&B, "GET", "/healthz", NULL, 0, false, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	assert_string_equal(r.content_type, "application/json");
	api_response_free(&r);
}

static void t_not_found(void **state)
{
	(void)state;
	expect_error("GET", "/", 404, "not_found");
	expect_error("GET", "/v2/playgrounds", 404, "not_found");
	expect_error("GET", "/v1/playgroundsx", 404, "not_found");
	expect_error("GET", "/v1/playgrounds/lab/other", 404, "not_found");
	expect_error("GET", "/v1/playgrounds/a/b", 404, "not_found");
	expect_error("GET", "/v1/playgrounds/lab/stats/x", 404, "not_found");
}

/* .../machines/M/interfaces/I/impair and /link: read, and carried to the
 * parent as a line it reads back the same. */
static void t_machine_routes(void **state)
{
	(void)state;
	struct api_machine_op op;
	struct api_response r = { 0 };
	const char *body = "{\"delay\": \"50ms\", \"rate\": \"10mbit\", \"reorder\": \"25%\"}";
	assert_int_equal(api_machine_route("PUT", "interfaces/eth1/impair", body, strlen(body), &op, &r), 0);
	assert_int_equal(op.verb, API_MACHINE_IMPAIR);
	assert_string_equal(op.iface, "eth1");
	assert_int_equal(op.impair.delay_us, 50000);
	assert_int_equal(op.impair.rate_bps, 10000000);
	char line[API_MACHINE_OP_MAX];
	assert_int_equal(api_machine_op_format(&op, line, sizeof(line)), 0);
	assert_string_equal(line, "impair eth1 1 50000 0 0 10000000 0 250000 0");
	struct api_machine_op back;
	assert_int_equal(api_machine_op_parse(line, &back), 0);
	assert_int_equal(back.impair.reorder_ppm, 250000);
	/* what format would not write is refused */
	assert_int_equal(api_machine_op_parse("impair eth1 1 50000 0 2000000 0 0 0 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("impair eth1 1 050000 0 0 0 0 0 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("impair eth1 1 1 0 0 100 0 0 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("link eth0 sideways", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("link ../x up", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("link eth0 up", &back), 0);
	assert_true(back.up);
	assert_int_equal(api_machine_route("DELETE", "interfaces/eth0/impair", NULL, 0, &op, &r), 0);
	assert_false(op.impair.set);
	assert_int_equal(api_machine_route("PUT", "interfaces/eth0/link", "{\"state\": \"down\"}", 17,
					   &op, &r), 0);
	assert_false(op.up);
	expect_error("PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth0/link", 422, "invalid_link");
	expect_error("PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth01/impair", 400,
		     "invalid_interface");
	expect_error("PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth0/speed", 404, "not_found");
	expect_error("PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth0/impair", 422,
		     "invalid_impair"); /* "x" */
	assert_int_equal(api_machine_route("PUT", "interfaces/eth0/impair", "", 0, &op, &r), -1);
	assert_int_equal(r.status, 400);
	api_response_free(&r);
	expect_error("GET", "/v1/playgrounds/lab/machines/r/interfaces/eth0/impair", 405,
		     "method_not_allowed");
	expect_error("PUT", "/v1/playgrounds/lab/machines/r/restart", 404, "not_found");
	api_handle(&B, "PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth0/impair", "{loss: 2}", 9,
		   false, &r);
	assert_int_equal(r.status, 501); /* B changes no machines */
	api_response_free(&r);
	api_handle(&B, "PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth0/impair", "{lost: 2}", 9,
		   false, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "unknown key 'lost'"));
	api_response_free(&r);
}

/* A machine's forwards: POST one (the manifest's keys), DELETE one by its
 * host port; each carried to the parent as one line it reads back. */
static void t_forward_routes(void **state)
{
	(void)state;
	struct api_machine_op op, back;
	struct api_response r = { 0 };
	char line[API_MACHINE_OP_MAX];
	const char *body = "{\"port\": 80, \"hostPort\": 8080, \"hostAddress\": \"192.0.2.1\"}";
	assert_int_equal(api_machine_route("POST", "forwards", body, strlen(body), &op, &r), 0);
	assert_int_equal(op.verb, API_MACHINE_FORWARD);
	assert_int_equal(op.forward.port, 80);
	assert_int_equal(op.forward.host_port, 8080);
	assert_int_equal(api_machine_op_format(&op, line, sizeof(line)), 0);
	assert_string_equal(line, "forward tcp 8080 80 3221225985");
	assert_int_equal(api_machine_op_parse(line, &back), 0);
	assert_int_equal(back.forward.host_addr, 0xc0000201);
	assert_int_equal(api_machine_route("DELETE", "forwards/udp/53", NULL, 0, &op, &r), 0);
	assert_int_equal(op.verb, API_MACHINE_UNFORWARD);
	assert_int_equal(op.forward.proto, 17);
	assert_int_equal(op.forward.host_port, 53);
	assert_int_equal(api_machine_op_format(&op, line, sizeof(line)), 0);
	assert_string_equal(line, "unforward udp 53");
	assert_int_equal(api_machine_op_parse(line, &back), 0);
	/* what format would not write is refused */
	assert_int_equal(api_machine_op_parse("forward tcp 70000 80 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("forward tcp 8080 0 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("forward sctp 8080 80 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("forward tcp 08080 80 0", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("forward tcp 8080 80 2130706433", &back), -EINVAL);
	assert_int_equal(api_machine_op_parse("unforward tcp 8080 80", &back), -EINVAL);
	expect_error("DELETE", "/v1/playgrounds/lab/machines/web/forwards/tcp/0", 404, "not_found");
	expect_error("DELETE", "/v1/playgrounds/lab/machines/web/forwards/tcp/65536", 404, "not_found");
	expect_error("DELETE", "/v1/playgrounds/lab/machines/web/forwards/sctp/80", 404, "not_found");
	expect_error("GET", "/v1/playgrounds/lab/machines/web/forwards", 405, "method_not_allowed");
	expect_error("PUT", "/v1/playgrounds/lab/machines/web/forwards/tcp/80", 405,
		     "method_not_allowed");
	expect_error("POST", "/v1/playgrounds/lab/machines/web/forwards", 422, "invalid_forward");
}

/* A network's or an interface's frames: GET only, and what it names
 * checked before the backend sees it. */
static void t_capture_routes(void **state)
{
	(void)state;
	expect_route("GET", "/v1/playgrounds/lab/networks/net-1/capture", NULL,
		     "capture lab net-1");
	expect_route("GET", "/v1/playgrounds/lab/machines/r/interfaces/eth2/capture", NULL,
		     "capture lab r/eth2");
	expect_error("POST", "/v1/playgrounds/lab/networks/net-1/capture", 405,
		     "method_not_allowed");
	expect_error("PUT", "/v1/playgrounds/lab/machines/r/interfaces/eth0/capture", 405,
		     "method_not_allowed");
	expect_error("GET", "/v1/playgrounds/lab/networks/Net_1/capture", 400, "invalid_name");
	expect_error("GET", "/v1/playgrounds/lab/networks//capture", 400, "invalid_name");
	expect_error("GET", "/v1/playgrounds/lab/networks/net-1", 404, "not_found");
	expect_error("GET", "/v1/playgrounds/lab/networks/net-1/stats", 404, "not_found");
	expect_error("GET", "/v1/playgrounds/lab/machines/r/interfaces/wlan0/capture", 400,
		     "invalid_interface");
	struct api_backend none = B;
	none.capture = NULL;
	struct api_response r;
	api_handle(&none, "GET", "/v1/playgrounds/lab/networks/lan/capture", "", 0, false, &r);
	assert_int_equal(r.status, 501);
	api_response_free(&r);
	assert_true(api_valid_capture_target("net-1"));
	assert_true(api_valid_capture_target("router/eth0"));
	assert_false(api_valid_capture_target("router/"));
	assert_false(api_valid_capture_target("/eth0"));
	assert_false(api_valid_capture_target("router/eth0/x"));
	assert_false(api_valid_capture_target("-bad/eth0"));
	assert_false(api_valid_capture_target(""));
	uint64_t n;
	assert_true(api_capture_count("1", &n) && n == 1);
	assert_true(api_capture_count("1000000000", &n));
	assert_false(api_capture_count("0", &n));
	assert_false(api_capture_count("1000000001", &n));
	assert_false(api_capture_count("99999999999", &n));
	assert_false(api_capture_count("-1", &n));
	assert_false(api_capture_count("1e3", &n));
	assert_false(api_capture_count("", &n));
}

static void t_bad_names(void **state)
{
	(void)state;
	char long_name[400] = "/v1/playgrounds/";
	memset(long_name + strlen(long_name), 'a', 300);
	expect_error("PUT", long_name, 400, "invalid_name");
	expect_error("PUT", "/v1/playgrounds/..", 400, "invalid_name");
	expect_error("PUT", "/v1/playgrounds/a b", 400, "invalid_name");
	expect_error("PUT", "/v1/playgrounds/Lab", 400, "invalid_name");
	expect_error("GET", "/v1/playgrounds/", 400, "invalid_name");
	expect_error("DELETE", "/v1/playgrounds/-x", 400, "invalid_name");
	expect_error("GET", "/v1/playgrounds/a.b/stats", 400, "invalid_name");
}

static void t_methods(void **state)
{
	(void)state;
	struct api_response r;
	api_handle(&B, "POST", "/v1/playgrounds/lab", "x", 1, false, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, PUT, DELETE");
	api_response_free(&r);
	api_handle(&B, "DELETE", "/v1/playgrounds", NULL, 0, false, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET");
	api_response_free(&r);
	expect_error("PUT", "/v1/playgrounds/lab/stats", 405, "method_not_allowed");
	expect_error("POST", "/healthz", 405, "method_not_allowed");
	expect_error("PUT", "/metrics", 405, "method_not_allowed");
}

static void t_empty_put(void **state)
{
	(void)state;
	struct api_response r;
	api_handle(&B, "PUT", "/v1/playgrounds/lab", "", 0, false, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "empty_body"));
	api_response_free(&r);
}

/* A PUT's body is read and planned by the router, under the name and the
 * backend's limits; a refusal carries every problem and the first one's
 * place, and the backend decides when to give it. */
static void t_put_plans(void **state)
{
	(void)state;
	expect_route("PUT", "/v1/playgrounds/lab",
		     "kind: playground\nplayground:\n  machines:\n    - name: a\n    - name: b\n",
		     "put lab 69 bytes: plan lab, 2 machines");
	expect_route("PUT", "/v1/playgrounds/lab",
		     "kind: playground\nplayground:\n  machines:\n    - name: a\n    - name: b\n    - name: c\n",
		     "put lab 83 bytes: refused 422 {\"error\":{\"code\":\"invalid_manifest\",\"message\":\"manifest:4:5: playground.machines");
	expect_route("PUT", "/v1/playgrounds/lab", "kind: playgrund\n",
		     "put lab 16 bytes: refused 422 {\"error\":{\"code\":\"invalid_manifest\",\"message\":\"manifest:1:7: kind: expected 'pla");
	struct api_response r;
	api_handle(&B, "PUT", "/v1/playgrounds/lab", "kind: play\0ground", 17, false, &r);
	assert_string_equal(last, "put lab 17 bytes: refused 422 {\"error\":{\"code\":\"invalid_manifest\",\"message\":\"the manifest holds a NUL byte\"}}");
	api_response_free(&r);
}

static void t_error_position(void **state)
{
	(void)state;
	struct api_response r = { 0 };
	api_error(&r, 422, "invalid_manifest", "t.yaml:3:7: bad", 3, 7);
	assert_string_equal(r.body,
			    "{\"error\":{\"code\":\"invalid_manifest\",\"message\":\"t.yaml:3:7: bad\",\"line\":3,\"column\":7}}");
	api_response_free(&r);
}

/* Accept: text/plain reaches the routes that have a text form. */
static void t_text(void **state)
{
	(void)state;
	static const struct { const char *path, *want; } routes[] = {
		{ "/v1/playgrounds", "list text" },
		{ "/v1/playgrounds/lab", "get lab text" },
		{ "/v1/playgrounds/lab/stats", "stats lab text" },
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		struct api_response r;
		api_handle(&B, "GET", routes[i].path, NULL, 0, true, &r);
		assert_string_equal(last, routes[i].want);
		api_response_free(&r);
	}
	assert_true(api_wants_text("text/plain"));
	assert_true(api_wants_text("text/plain; charset=utf-8"));
	assert_false(api_wants_text("application/json"));
	assert_false(api_wants_text("*/*"));
	assert_false(api_wants_text(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_routes),
		cmocka_unit_test(t_exec_route),
		cmocka_unit_test(t_exec_answer),
		cmocka_unit_test(t_machine_routes),
		cmocka_unit_test(t_capture_routes),
		cmocka_unit_test(t_forward_routes),
		cmocka_unit_test(t_healthz),
		cmocka_unit_test(t_not_found),
		cmocka_unit_test(t_bad_names),
		cmocka_unit_test(t_methods),
		cmocka_unit_test(t_empty_put),
		cmocka_unit_test(t_put_plans),
		cmocka_unit_test(t_error_position),
		cmocka_unit_test(t_text),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
