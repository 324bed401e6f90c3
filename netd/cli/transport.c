/* How playnet reaches the API: netd on its socket (client.c), or the same
 * backend in this process (local.c, --direct); and what a running netd
 * must agree with. */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"
#include "report.h"
#include "plan_json.h"
#include "util.h"

/* What the user can mend (a name, a manifest, a pool too small for one
 * more playground) is theirs; the rest is the system's. */
static int exit_for_status(long status, const char *code)
{
	if (status >= 200 && status < 300)
		return EXIT_OK;
	return status == 400 || status == 404 || status == 409 || status == 413 ||
			       status == 422 || (status == 503 && code && strcmp(code, "exhausted") == 0)
		       ? EXIT_USER
		       : EXIT_SYSTEM;
}

/* The message of an API error body, or the body itself; the exit code. */
static int print_api_error(const char *what, const struct client_response *r)
{
	struct json_object *j = r->body ? json_tokener_parse(r->body) : NULL, *e, *m, *c;
	const char *code = NULL;
	if (j && json_object_object_get_ex(j, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m)) {
		fprintf(stderr, "playnet: %s: %s\n", what, json_object_get_string(m));
		if (json_object_object_get_ex(e, "code", &c))
			code = json_object_get_string(c);
	} else {
		fprintf(stderr, "playnet: %s: HTTP %ld %s\n", what, r->status,
			r->body ? r->body : "");
	}
	int rc = exit_for_status(r->status, code);
	json_object_put(j);
	return rc;
}

/* Two paths are the same file. */
static bool same_path(const char *a, const char *b)
{
	cleanup_free char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	return ra && rb ? strcmp(ra, rb) == 0 : strcmp(a, b) == 0;
}

/* The settings compared: what playnet was given, against what the netd
 * on its socket says of itself (report_settings_json on both sides). */
static const struct {
	enum cliopt_key key;
	const char *name; /* in report_settings_json */
	const char *unit; /* how the value is written, when not as given */
	bool path;        /* compared as files */
} settings[] = {
	{ CLIOPT_STATE_DIR, "stateDir", NULL, true },
	{ CLIOPT_HOST_NETNS, "hostNetns", NULL, false },
	{ CLIOPT_POOL, "transitPool", NULL, false },
	{ CLIOPT_TAP_OWNER, "tapOwner", "UID:GID", false },
	{ CLIOPT_RATE, "uplinkRate", "bit/s", false },
	{ CLIOPT_BPF_DIR, "bpfDir", NULL, true },
	{ CLIOPT_GUARD_CONFIG, "guardConfig", NULL, true },
	{ CLIOPT_MAX_MACHINES, "maxMachines", NULL, false },
	{ CLIOPT_MAX_NETWORKS, "maxNetworks", NULL, false },
	{ CLIOPT_MAX_INTERFACES, "maxInterfaces", NULL, false },
};

/* The fabric options given to playnet are the running netd's: a netd
 * already listening with others would silently build elsewhere (another
 * host netns, another pool) than what the user asked for. */
static int fabric_check(const struct options *o, const struct client *c)
{
	if (!o->given)
		return EXIT_OK;
	struct client_response r;
	struct pn_error err = PN_ERROR_INIT;
	if (client_call(c, "GET", "/healthz", NULL, 0, false, &r, &err) < 0) {
		fprintf(stderr, "playnet: %s\n", err.msg);
		return EXIT_SYSTEM;
	}
	struct json_object *j = json_tokener_parse(r.body ? r.body : ""), *theirs;
	client_response_free(&r);
	if (!j || !json_object_object_get_ex(j, "fabric", &theirs)) {
		json_object_put(j);
		return EXIT_OK; /* a netd that does not say: nothing to compare */
	}
	struct json_object *mine = report_settings_json(&o->fabric, &o->limits, o->guard_config);
	int rc = EXIT_OK;
	for (size_t i = 0; rc == EXIT_OK && i < ARRAY_SIZE(settings); i++) {
		const char *want = report_member(mine, settings[i].name, NULL);
		const char *have = report_member(theirs, settings[i].name, NULL);
		if (!(o->given & (1u << settings[i].key)) || !want || !have)
			continue;
		if (settings[i].path && *want && *have ? same_path(want, have)
						       : strcmp(want, have) == 0)
			continue;
		fprintf(stderr,
			"playnet: netd on %s runs with --%s%s%s%s '%s', not '%s' as asked: playnet would act on its fabric, not the one asked for. Stop that netd first (kill $(cat %s/netd.pid)), or give this fabric a socket of its own (--socket / PLAYNET_SOCKET)\n",
			o->socket, cliopt_fabric_name(settings[i].key),
			settings[i].unit ? " (" : "", settings[i].unit ? settings[i].unit : "",
			settings[i].unit ? ")" : "", *have ? have : "(none)", *want ? want : "(none)",
			report_member(theirs, "stateDir", NULL));
		rc = EXIT_USER;
	}
	json_object_put(mine);
	json_object_put(j);
	return rc;
}

/* One request to netd, started if need be, or to the backend in this
 * process (--direct): EXIT_OK with the answer in r, whatever its status,
 * or an exit code once the reason is said. */
int call(const struct options *o, const char *what, const char *method,
		const char *path, const char *body, size_t len, bool text,
		struct client_response *r)
{
	const struct client c = { o->socket, o->state_dir, o->netd_argv };
	const struct local l = { &o->fabric, o->limits };
	struct pn_error err = PN_ERROR_INIT;
	static bool checked;
	if (!o->direct && !checked) {
		checked = true;
		int rc = fabric_check(o, &c);
		if (rc)
			return rc;
	}
	int e = o->direct ? local_call(&l, method, path, body, len, text, r, &err)
			  : client_call(&c, method, path, body, len, text, r, &err);
	if (e < 0) {
		fprintf(stderr, "playnet: %s: %s\n", what, err.msg);
		return e == -ENOENT && o->direct ? EXIT_USER : EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* A stream from netd (it alone streams): an exit code once an error is
 * said; stopped by the caller (a signal) is a success. */
int stream_netd(const struct options *o, const char *what, const char *path,
		const struct client_stream *s)
{
	if (o->direct) {
		fprintf(stderr, "playnet: %s: netd streams it: not with --direct\n", what);
		return EXIT_USER;
	}
	const struct client c = { o->socket, o->state_dir, o->netd_argv };
	int rc = fabric_check(o, &c);
	if (rc)
		return rc;
	struct client_response r;
	struct pn_error err = PN_ERROR_INIT;
	int e = client_stream(&c, path, s, &r, &err);
	if (e < 0 && e != -ECANCELED) {
		fprintf(stderr, "playnet: %s: %s\n", what, err.msg);
		return EXIT_SYSTEM;
	}
	rc = e == -ECANCELED ? EXIT_OK : exit_for_status(r.status, NULL);
	if (rc != EXIT_OK)
		rc = print_api_error(what, &r);
	client_response_free(&r);
	return rc;
}

/* The same, for an answer of success: an exit code once an error is said. */
int ask_netd(const struct options *o, const char *what, const char *method,
		    const char *path, const char *body, size_t len, bool text,
		    struct client_response *r)
{
	int rc = call(o, what, method, path, body, len, text, r);
	if (rc)
		return rc;
	rc = exit_for_status(r->status, NULL);
	if (rc != EXIT_OK) {
		rc = print_api_error(what, r);
		client_response_free(r);
	}
	return rc;
}

/* A JSON answer on stdout in playnet's stable form; member: only that. */
int print_json(const struct client_response *r, const char *member)
{
	struct json_object *j = json_tokener_parse(r->body ? r->body : ""), *m = j;
	if (!j || (member && !json_object_object_get_ex(j, member, &m))) {
		fprintf(stderr, "playnet: netd answered something that is not the JSON expected\n");
		json_object_put(j);
		return EXIT_SYSTEM;
	}
	puts(json_object_to_json_string_ext(m, PLAN_JSON_FLAGS));
	json_object_put(j);
	return EXIT_OK;
}

/* GET PATH as text or JSON, printed as it comes. */
int get_and_print(const struct options *o, const char *what, const char *path,
			 bool json, const char *member)
{
	struct client_response r;
	int rc = ask_netd(o, what, "GET", path, NULL, 0, !json, &r);
	if (rc)
		return rc;
	if (json)
		rc = print_json(&r, member);
	else
		fputs(r.body ? r.body : "", stdout);
	client_response_free(&r);
	return rc;
}

