/*
 * forward: a host port sent on to a machine's port, listed, added and
 * removed on a running playground (manifest: forwards; docs/forward.md).
 */
#define _GNU_SOURCE
#include "playnet.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "naming.h"
#include "util.h"

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* One line a forward: "P MACHINE: tcp ADDR:HOSTPORT -> PORT". */
static void print_forwards(const char *pg, const char *machine, struct json_object *fws)
{
	for (size_t i = 0; i < json_object_array_length(fws); i++) {
		struct json_object *f = json_object_array_get_idx(fws, i), *v;
		const char *addr = str_of(f, "hostAddress");
		int hp = json_object_object_get_ex(f, "hostPort", &v) ? json_object_get_int(v) : 0;
		int port = json_object_object_get_ex(f, "port", &v) ? json_object_get_int(v) : 0;
		printf("%s %s: %s %s:%d -> %d\n", pg, machine, str_of(f, "protocol"),
		       addr ? addr : "*", hp, port);
	}
}

static int list(const struct options *o, const char *pg)
{
	char path[128], what[96];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", pg);
	snprintf(what, sizeof(what), "forward %s", pg);
	struct client_response r;
	int rc = ask_netd(o, what, "GET", path, NULL, 0, false, &r);
	if (rc)
		return rc;
	struct json_object *j = json_tokener_parse(r.body ? r.body : ""), *ms;
	client_response_free(&r);
	if (!j || !json_object_object_get_ex(j, "machines", &ms)) {
		json_object_put(j);
		fprintf(stderr, "playnet: %s: netd answered something that is not a playground\n",
			what);
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *fws;
		if (json_object_object_get_ex(m, "forwards", &fws))
			print_forwards(pg, str_of(m, "name"), fws);
	}
	json_object_put(j);
	return EXIT_OK;
}

/* "PORT" or "PORT/udp" (or /tcp); 0 when it is neither. */
static unsigned port_proto(const char *s, const char **proto)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	*proto = "tcp";
	if (*end == '/' && (strcmp(end + 1, "udp") == 0 || strcmp(end + 1, "tcp") == 0))
		*proto = end + 1;
	else if (*end)
		return 0;
	return end != s && *s != '0' && v <= 65535 ? (unsigned)v : 0;
}

/* "[ADDR:]HOSTPORT" into addr ("" when none) and *hp. */
static bool host_side(const char *arg, char addr[INET_ADDRSTRLEN], unsigned *hp)
{
	const char *colon = strrchr(arg, ':'), *port = colon ? colon + 1 : arg, *proto;
	struct in_addr a;
	if (colon) {
		size_t n = (size_t)(colon - arg);
		if (n >= INET_ADDRSTRLEN)
			return false;
		memcpy(addr, arg, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, &a) != 1)
			return false;
	}
	*hp = strchr(port, '/') ? 0 : port_proto(port, &proto);
	return *hp != 0;
}

static int change(const struct options *o, const char *pg, const char *machine,
		  const char *method, const char *suffix, const char *body)
{
	char path[256], what[160];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s/machines/%s/forwards%s", pg, machine,
		 suffix);
	snprintf(what, sizeof(what), "forward %s %s", pg, machine);
	struct client_response r;
	int rc = ask_netd(o, what, method, path, body, body ? strlen(body) : 0, false, &r);
	if (rc)
		return rc;
	struct json_object *j = json_tokener_parse(r.body ? r.body : ""), *fws;
	if (j && json_object_object_get_ex(j, "forwards", &fws))
		print_forwards(pg, machine, fws);
	json_object_put(j);
	client_response_free(&r);
	return EXIT_OK;
}

static int forward_usage(void)
{
	return usage_error("forward takes P, or P MACHINE PORT[/udp] [[ADDR:]HOSTPORT], or "
			   "P MACHINE --remove HOSTPORT[/udp]");
}

int cmd_forward(const struct options *o, int argc, char **argv)
{
	if (argc < 2 || argc > 5)
		return forward_usage();
	const char *pg = argv[1];
	if (!naming_valid_playground(pg))
		return bad_name("forward", pg);
	if (argc == 2)
		return list(o, pg);
	const char *machine = argv[2];
	if (!manifest_valid_hostname(machine) || argc < 4)
		return forward_usage();
	const char *proto;
	if (strcmp(argv[3], "--remove") == 0) {
		unsigned hp = argc == 5 ? port_proto(argv[4], &proto) : 0;
		if (!hp)
			return usage_error("forward: --remove takes HOSTPORT[/udp], such as 8080");
		char suffix[32];
		snprintf(suffix, sizeof(suffix), "/%s/%u", proto, hp);
		return change(o, pg, machine, "DELETE", suffix, NULL);
	}
	unsigned port = port_proto(argv[3], &proto), hp = port;
	if (!port)
		return usage_error("forward: '%s' is not PORT or PORT/udp (1 to 65535)", argv[3]);
	char addr[INET_ADDRSTRLEN] = "";
	if (argc == 5 && !host_side(argv[4], addr, &hp))
		return usage_error("forward: '%s' is not [ADDR:]HOSTPORT", argv[4]);
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "port", json_object_new_int((int)port));
	json_object_object_add(body, "hostPort", json_object_new_int((int)hp));
	json_object_object_add(body, "protocol", json_object_new_string(proto));
	if (addr[0])
		json_object_object_add(body, "hostAddress", json_object_new_string(addr));
	int rc = change(o, pg, machine, "POST", "", json_object_to_json_string(body));
	json_object_put(body);
	return rc;
}
