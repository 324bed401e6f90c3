/*
 * impair, link and restart: a running playground's machines changed
 * without a new manifest.
 */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "api_machine.h"
#include "naming.h"
#include "plan_text.h"
#include "playground.h"
#include "util.h"
#include "vm_run.h"

/* "MACHINE/ethN" into its two halves; an exit code once said why. */
static int split_port(const char *cmd, const char *arg, char machine[MANIFEST_HOSTNAME_MAX + 1],
		      char iface[IFNAMSIZ])
{
	const char *slash = strchr(arg, '/');
	size_t n = slash ? (size_t)(slash - arg) : 0;
	if (!slash || n == 0 || n > MANIFEST_HOSTNAME_MAX || strlen(slash + 1) >= IFNAMSIZ)
		return usage_error("%s: expected MACHINE/ethN, such as router/eth0, not '%s'", cmd,
				   arg);
	memcpy(machine, arg, n);
	machine[n] = '\0';
	snprintf(iface, IFNAMSIZ, "%s", slash + 1);
	if (!manifest_valid_hostname(machine) || !api_valid_iface(iface))
		return usage_error("%s: expected MACHINE/ethN, such as router/eth0, not '%s'", cmd,
				   arg);
	return EXIT_OK;
}

/* What netd answered of an interface, as a line. */
static void print_port(const char *pg, const struct client_response *r)
{
	struct json_object *j = json_tokener_parse(r->body ? r->body : ""), *im = NULL, *v;
	if (!j)
		return;
	struct manifest_impair m = { 0 };
	if (json_object_object_get_ex(j, "impair", &im) && im) {
		m.set = true;
		static const char *const keys[] = { "delayUs",	    "jitterUs",	  "lossPpm",
						    "duplicatePpm", "reorderPpm", "corruptPpm" };
		uint32_t *const out[] = { &m.delay_us,	    &m.jitter_us,   &m.loss_ppm,
					  &m.duplicate_ppm, &m.reorder_ppm, &m.corrupt_ppm };
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (json_object_object_get_ex(im, keys[i], &v))
				*out[i] = (uint32_t)json_object_get_int64(v);
		if (json_object_object_get_ex(im, "rateBps", &v))
			m.rate_bps = (uint64_t)json_object_get_int64(v);
	}
	char text[256];
	plan_impair_text(&m, text, sizeof(text));
	const char *link = json_object_object_get_ex(j, "link", &v) ? json_object_get_string(v) : "?";
	const char *machine = json_object_object_get_ex(j, "machine", &v) ? json_object_get_string(v)
									 : "?";
	const char *iface = json_object_object_get_ex(j, "interface", &v) ? json_object_get_string(v)
									   : "?";
	printf("%s %s/%s: link %s, impairment (each way) %s\n", pg, machine, iface, link, text);
	json_object_put(j);
}

static int port_request(const struct options *o, const char *cmd, const char *pg,
			const char *port, const char *method, const char *suffix, const char *body)
{
	char machine[MANIFEST_HOSTNAME_MAX + 1], iface[IFNAMSIZ];
	int rc = split_port(cmd, port, machine, iface);
	if (rc)
		return rc;
	if (!naming_valid_playground(pg))
		return bad_name(cmd, pg);
	char path[256], what[256];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s/machines/%s/interfaces/%s/%s", pg, machine,
		 iface, suffix);
	snprintf(what, sizeof(what), "%s %s %s", cmd, pg, port);
	struct client_response r;
	if ((rc = ask_netd(o, what, method, path, body, body ? strlen(body) : 0, false, &r)))
		return rc;
	print_port(pg, &r);
	client_response_free(&r);
	return EXIT_OK;
}

int cmd_impair(const struct options *o, int argc, char **argv)
{
	if (argc < 4)
		return usage_error("impair takes P MACHINE/ethN and [delay D] [jitter J] [loss L%%] "
				   "[rate R] [duplicate P%%] [reorder P%%] [corrupt P%%], or --clear");
	if (argc == 4 && strcmp(argv[3], "--clear") == 0)
		return port_request(o, "impair", argv[1], argv[2], "DELETE", "impair", NULL);
	if ((argc - 3) % 2)
		return usage_error("impair: '%s' has no value", argv[argc - 1]);
	struct json_object *body = json_object_new_object();
	for (int i = 3; i + 1 < argc; i += 2) {
		bool known = false;
		for (size_t k = 0; k < MANIFEST_IMPAIR_KEYS; k++)
			known |= strcmp(argv[i], manifest_impair_keys[k]) == 0;
		if (!known || json_object_object_get_ex(body, argv[i], NULL)) {
			json_object_put(body);
			return usage_error("impair: %s '%s' (expected delay, jitter, loss, rate, "
					   "duplicate, reorder or corrupt, each once)",
					   known ? "twice" : "unknown", argv[i]);
		}
		json_object_object_add(body, argv[i], json_object_new_string(argv[i + 1]));
	}
	int rc = port_request(o, "impair", argv[1], argv[2], "PUT", "impair",
			      json_object_to_json_string(body));
	json_object_put(body);
	return rc;
}

int cmd_link(const struct options *o, int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[3], "up") != 0 && strcmp(argv[3], "down") != 0))
		return usage_error("link takes P MACHINE/ethN and up or down");
	const char *body = strcmp(argv[3], "up") == 0 ? "{\"state\": \"up\"}" : "{\"state\": \"down\"}";
	return port_request(o, "link", argv[1], argv[2], "PUT", "link", body);
}

int cmd_restart(const struct options *o, int argc, char **argv)
{
	if (argc != 3)
		return usage_error("restart takes a playground and a VM machine's name");
	const char *pg = argv[1], *m = argv[2];
	if (!naming_valid_playground(pg))
		return bad_name("restart", pg);
	struct state_record rec;
	struct plan p;
	struct diag d;
	diag_init(&d, pg);
	int e = playground_load(o->state_dir, pg, &rec, &p, &d);
	if (e < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		if (e == -ENOENT)
			fprintf(stderr, "playnet: restart: no playground named %s\n", pg);
		return e == -ENOENT ? EXIT_USER : EXIT_SYSTEM;
	}
	state_record_free(&rec);
	int rc = EXIT_USER;
	const struct plan_machine *mc = NULL;
	for (size_t i = 0; i < p.n_machines; i++)
		if (strcmp(p.machines[i].name, m) == 0)
			mc = &p.machines[i];
	struct vm_options vo;
	if (!mc) {
		fprintf(stderr, "playnet: restart: playground %s has no machine %s\n", pg, m);
	} else if (mc->runtime != MANIFEST_RUNTIME_VM) {
		fprintf(stderr, "playnet: restart: %s is a netns machine: it has no power to cycle (only VMs restart)\n",
			m);
	} else if (vm_options_init(&vo, &d) == 0) {
		e = vm_restart(o->state_dir, &p, &vo, m, stderr, &d);
		rc = e > 0 ? EXIT_OK : e == -ENOMEM || e == -EIO ? EXIT_SYSTEM : EXIT_USER;
		if (e == 0)
			fprintf(stderr, "playnet: restart: %s did not start again\n", m);
	}
	diag_print(&d, stderr);
	diag_free(&d);
	plan_free(&p);
	if (rc == EXIT_OK)
		fprintf(stderr, "%s of %s restarted, on the same taps\n", m, pg);
	return rc;
}
