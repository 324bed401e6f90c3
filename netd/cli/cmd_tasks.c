/* The tasks of a playground (tasks.h): init tasks at up, playnet tasks,
 * playnet check. */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "naming.h"
#include "tasks.h"

/* How long a task waits for its VM's agent: a Debian VM under TCG takes
 * most of a minute to boot. */
#define TASK_AGENT_WAIT_MS 300000

/* At up: the manifest's tasks recorded (fresh: the playground was just
 * made, so any record is an older one's), then its init tasks run when
 * their machines are up. */
int up_tasks(const struct options *o, const struct plan *p, const char *text, bool fresh,
	     bool vms)
{
	struct manifest m;
	struct diag d;
	diag_init(&d, p->name);
	int e = manifest_parse(text, strlen(text), &o->limits, &m, &d);
	diag_free(&d);
	if (e < 0)
		return EXIT_SYSTEM; /* it was planned from this very text */
	struct json_object *had = tasks_json(o->state_dir, p->name);
	if (fresh || !had)
		e = tasks_record(o->state_dir, &m, p);
	json_object_put(had);
	size_t n_init = 0, in_vms = 0;
	for (size_t i = 0; i < m.n_tasks; i++) {
		n_init += m.tasks[i].init;
		in_vms += m.tasks[i].init && m.machines[m.tasks[i].machine].runtime == MANIFEST_RUNTIME_VM;
	}
	manifest_free(&m);
	if (e < 0) {
		fprintf(stderr, "playnet: up: cannot record the tasks of %s: %s\n", p->name, strerror(-e));
		return EXIT_SYSTEM;
	}
	if (!n_init)
		return EXIT_OK;
	if (in_vms && !vms) {
		fprintf(stderr, "%s's %zu init task%s wait for its VMs: 'playnet up FILE --vms', or 'playnet tasks %s --run' once they run\n",
			p->name, n_init, n_init == 1 ? "" : "s", p->name);
		return EXIT_OK;
	}
	int failed = tasks_run(o->state_dir, p->name, true, TASK_AGENT_WAIT_MS, stderr);
	if (failed < 0) {
		fprintf(stderr, "playnet: up: the tasks of %s: %s\n", p->name, strerror(-failed));
		return EXIT_SYSTEM;
	}
	if (failed) {
		fprintf(stderr, "playnet: %d init task%s of %s failed: 'playnet tasks %s' shows them\n",
			failed, failed == 1 ? "" : "s", p->name, p->name);
		return EXIT_USER;
	}
	return EXIT_OK;
}

/* tasks P [--run] [--json]: with --run, 1 when an init task failed. */
int cmd_tasks(const struct options *o, int argc, char **argv)
{
	bool run = false, json = false;
	int failed = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--run") == 0)
			run = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return usage_error("usage: tasks P [--run] [--json]");
	}
	if (argc < 2)
		return usage_error("usage: tasks P [--run] [--json]");
	if (!naming_valid_playground(argv[1]))
		return bad_name("tasks", argv[1]);
	if (run) {
		failed = tasks_run(o->state_dir, argv[1], true, TASK_AGENT_WAIT_MS, stderr);
		if (failed == -ENOENT) {
			fprintf(stderr, "playnet: tasks: %s has no tasks (none in its manifest, or not up with playnet up)\n",
				argv[1]);
			return EXIT_USER;
		}
		if (failed < 0)
			return EXIT_SYSTEM;
	}
	if (json) {
		struct json_object *arr = tasks_json(o->state_dir, argv[1]);
		if (arr) {
			puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(arr);
			return failed ? EXIT_USER : EXIT_OK;
		}
	} else if (tasks_print(o->state_dir, argv[1], true, stdout) == 0) {
		return failed ? EXIT_USER : EXIT_OK;
	}
	fprintf(stderr, "playnet: tasks: %s has no tasks (none in its manifest, or not up with playnet up)\n",
		argv[1]);
	return EXIT_USER;
}

/* check P: every check, each PASS or FAIL; 0 only when all pass. */
int cmd_check(const struct options *o, int argc, char **argv)
{
	if (argc != 2)
		return usage_error("usage: check P");
	if (!naming_valid_playground(argv[1]))
		return bad_name("check", argv[1]);
	struct json_object *arr = tasks_json(o->state_dir, argv[1]);
	size_t checks = 0;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *v;
		checks += json_object_object_get_ex(json_object_array_get_idx(arr, i), "init", &v) &&
			  !json_object_get_boolean(v);
	}
	json_object_put(arr);
	if (!checks) {
		fprintf(stderr, "playnet: check: %s has no checks (tasks without init: true in its manifest)\n",
			argv[1]);
		return EXIT_USER;
	}
	int failed = tasks_run(o->state_dir, argv[1], false, TASK_AGENT_WAIT_MS, NULL);
	if (failed < 0) {
		fprintf(stderr, "playnet: check: %s\n", strerror(-failed));
		return EXIT_SYSTEM;
	}
	arr = tasks_json(o->state_dir, argv[1]);
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i), *v;
		if (json_object_object_get_ex(t, "init", &v) && json_object_get_boolean(v))
			continue;
		json_object_object_get_ex(t, "status", &v);
		bool pass = strcmp(json_object_get_string(v), "done") == 0;
		struct json_object *name, *note;
		json_object_object_get_ex(t, "name", &name);
		json_object_object_get_ex(t, "note", &note);
		printf("%s %s%s%s\n", pass ? "PASS" : "FAIL", json_object_get_string(name),
		       pass ? "" : ": ", pass ? "" : json_object_get_string(note));
	}
	json_object_put(arr);
	printf("%zu checks, %d failed\n", checks, failed);
	return failed ? EXIT_USER : EXIT_OK;
}
