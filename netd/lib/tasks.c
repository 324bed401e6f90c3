/* A playground's tasks: the record, the runs, the views. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_proto.h"
#include "machine_exec.h"
#include "tasks.h"
#include "util.h"
#include "vm.h"
#include "vm_agent.h"

/* Runs the script with bash where the machine has it (labctl's scripts
 * are bash), else sh. */
#define TASK_SHELL "if [ -x /bin/bash ]; then exec /bin/bash -c \"$1\"; fi; exec /bin/sh -c \"$1\""

static int record_path(const char *state_dir, const char *pg, char *out, size_t len)
{
	char dir[PATH_MAX];
	if (vm_dir(state_dir, pg, dir) < 0)
		return -ENAMETOOLONG;
	return snprintf(out, len, "%s/tasks.json", dir) < (int)len ? 0 : -ENAMETOOLONG;
}

static int log_path(const char *state_dir, const char *pg, const char *task, char *out,
		    size_t len)
{
	char dir[PATH_MAX];
	if (vm_dir(state_dir, pg, dir) < 0)
		return -ENAMETOOLONG;
	/* Machine names have no dots: NAME.task.log is no machine's file. */
	return snprintf(out, len, "%s/%s.task.log", dir, task) < (int)len ? 0 : -ENAMETOOLONG;
}

static struct json_object *load(const char *state_dir, const char *pg)
{
	char path[PATH_MAX];
	if (record_path(state_dir, pg, path, sizeof(path)) < 0)
		return NULL;
	struct json_object *j = json_object_from_file(path);
	struct json_object *tasks;
	if (j && (!json_object_object_get_ex(j, "tasks", &tasks) ||
		  !json_object_is_type(tasks, json_type_array))) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

static int save(const char *state_dir, const char *pg, struct json_object *j)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	if (record_path(state_dir, pg, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (json_object_to_file_ext(tmp, j, JSON_C_TO_STRING_PRETTY) < 0 || rename(tmp, path) < 0)
		return -EIO;
	return 0;
}

static const char *str(struct json_object *t, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(t, key, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : "";
}

static int num(struct json_object *t, const char *key, int dflt)
{
	struct json_object *v;
	return json_object_object_get_ex(t, key, &v) && json_object_is_type(v, json_type_int) ?
		       json_object_get_int(v) : dflt;
}

static bool flag(struct json_object *t, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(t, key, &v) && json_object_get_boolean(v);
}

int tasks_record(const char *state_dir, const struct manifest *m, const struct plan *p)
{
	char path[PATH_MAX];
	if (record_path(state_dir, p->name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (!m->n_tasks)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	char dir[PATH_MAX];
	vm_dir(state_dir, p->name, dir);
	int e = mkdir_p(dir, 0755);
	if (e < 0)
		return e;
	size_t order[MANIFEST_MAX_TASKS];
	manifest_task_order(m, order);
	struct json_object *arr = json_object_new_array();
	for (size_t k = 0; k < m->n_tasks; k++) {
		const struct manifest_task *t = &m->tasks[order[k]];
		const struct plan_machine *pm = &p->machines[t->machine];
		struct json_object *o = json_object_new_object(), *needs = json_object_new_array();
		for (size_t i = 0; i < t->n_needs; i++)
			json_object_array_add(needs, json_object_new_string(m->tasks[t->needs[i]].name));
		json_object_object_add(o, "name", json_object_new_string(t->name));
		json_object_object_add(o, "init", json_object_new_boolean(t->init));
		json_object_object_add(o, "machine", json_object_new_string(pm->name));
		json_object_object_add(o, "runtime", json_object_new_string(
							     pm->runtime == MANIFEST_RUNTIME_VM ? "vm" : "netns"));
		json_object_object_add(o, "netns", json_object_new_string(pm->netns));
		json_object_object_add(o, "user", json_object_new_string(t->user));
		json_object_object_add(o, "timeout_seconds", json_object_new_int((int)t->timeout_s));
		json_object_object_add(o, "needs", needs);
		json_object_object_add(o, "run", json_object_new_string(t->run ? t->run : ""));
		json_object_object_add(o, "status", json_object_new_string("pending"));
		json_object_object_add(o, "exit_status", NULL);
		json_object_object_add(o, "note", json_object_new_string(""));
		json_object_object_add(o, "output_tail", json_object_new_string(""));
		json_object_array_add(arr, o);
		char log[PATH_MAX];
		if (log_path(state_dir, p->name, t->name, log, sizeof(log)) == 0)
			unlink(log);
	}
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "tasks", arr);
	e = save(state_dir, p->name, j);
	json_object_put(j);
	return e;
}

/* --- running --- */

struct output {
	int log;
	char tail[TASKS_TAIL_MAX + 1];
	size_t n;
};

static void sink(void *ctx, int which, const char *p, size_t n)
{
	(void)which; /* one log, in the order it came, as a console shows it */
	struct output *o = ctx;
	if (o->log >= 0)
		agent_write_all(o->log, p, n);
	if (n >= TASKS_TAIL_MAX) {
		memcpy(o->tail, p + n - TASKS_TAIL_MAX, TASKS_TAIL_MAX);
		o->n = TASKS_TAIL_MAX;
	} else {
		size_t keep = o->n + n > TASKS_TAIL_MAX ? TASKS_TAIL_MAX - n : o->n;
		memmove(o->tail, o->tail + o->n - keep, keep);
		memcpy(o->tail + keep, p, n);
		o->n = keep + n;
	}
	o->tail[o->n] = '\0';
}

/* When a task started and ended, for people and for order: seconds since
 * the epoch. */
static double wall_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)(t.tv_nsec / 1000000) / 1e3;
}

static void set_end(struct json_object *t, const char *status, const struct vm_agent_result *r,
		    const char *note, const struct output *o)
{
	json_object_object_add(t, "status", json_object_new_string(status));
	json_object_object_add(t, "ended", json_object_new_double(wall_seconds()));
	bool exited = r && r->how == VM_AGENT_EXITED;
	json_object_object_add(t, "exit_status", exited ? json_object_new_int(r->code) : NULL);
	json_object_object_add(t, "note", json_object_new_string(note));
	json_object_object_add(t, "output_tail",
			       json_object_new_string_len(o ? o->tail : "", o ? (int)o->n : 0));
}

/* One task, its record updated as it starts and ends; true when done. */
static bool run_one(const char *state_dir, const char *pg, struct json_object *j,
		    struct json_object *t, unsigned wait_ms, FILE *out)
{
	const char *name = str(t, "name"), *machine = str(t, "machine");
	json_object_object_add(t, "status", json_object_new_string("running"));
	json_object_object_add(t, "started", json_object_new_double(wall_seconds()));
	save(state_dir, pg, j);
	if (out)
		fprintf(out, "task %s: running in %s as %s\n", name, machine, str(t, "user"));
	char log[PATH_MAX], msg[256], note[300];
	struct output o = { .log = -1 };
	if (log_path(state_dir, pg, name, log, sizeof(log)) == 0)
		o.log = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	enum machine_refusal why;
	bool vm = strcmp(str(t, "runtime"), "vm") == 0;
	/* A VM's own init up first, so that a task finds its services. */
	int fd = vm ? machine_wait_booted(state_dir, pg, machine, wait_ms, msg, sizeof(msg)) : 0;
	if (fd == 0)
		fd = machine_stream(state_dir, pg, machine, vm, str(t, "netns"), AGENT_PORT_EXEC,
				    wait_ms, &why, msg, sizeof(msg));
	struct vm_agent_result r = { .how = VM_AGENT_FAILED };
	if (fd >= 0) {
		cleanup_free char *script = strdup(str(t, "run"));
		char *argv[] = { "sh", "-c", TASK_SHELL, "task", script, NULL };
		struct vm_agent_command c = { .argv = argv, .user = str(t, "user"),
					      .timeout_s = (unsigned)num(t, "timeout_seconds", 300),
					      .stdin_fd = -1 };
		if (script)
			vm_agent_exec(fd, &c, sink, &o, &r);
		close(fd);
		snprintf(msg, sizeof(msg), "%s", script ? r.error : "out of memory");
	}
	if (o.log >= 0)
		close(o.log);
	bool ok = fd >= 0 && r.how == VM_AGENT_EXITED && r.code == 0;
	if (ok)
		snprintf(note, sizeof(note), "exit status 0");
	else if (fd < 0 || r.how == VM_AGENT_FAILED)
		snprintf(note, sizeof(note), "%s", msg);
	else if (r.how == VM_AGENT_TIMED_OUT)
		snprintf(note, sizeof(note), "timed out after %d s", num(t, "timeout_seconds", 0));
	else if (r.how == VM_AGENT_SIGNALED)
		snprintf(note, sizeof(note), "killed by signal %d", r.code);
	else
		snprintf(note, sizeof(note), "exit status %d", r.code);
	set_end(t, ok ? "done" : "failed", fd >= 0 ? &r : NULL, note, &o);
	save(state_dir, pg, j);
	if (out)
		fprintf(out, "task %s: %s (%s)\n", name, ok ? "done" : "failed", note);
	return ok;
}

static struct json_object *find(struct json_object *arr, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i);
		if (strcmp(str(t, "name"), name) == 0)
			return t;
	}
	return NULL;
}

/* The first task t needs that did not end done, or NULL. */
static const char *unmet_need(struct json_object *arr, struct json_object *t)
{
	struct json_object *needs;
	if (!json_object_object_get_ex(t, "needs", &needs))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(needs); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(needs, i));
		struct json_object *need = find(arr, n);
		if (!need || strcmp(str(need, "status"), "done") != 0)
			return n;
	}
	return NULL;
}

int tasks_run(const char *state_dir, const char *pg, bool init, unsigned wait_ms, FILE *out)
{
	struct json_object *j = load(state_dir, pg), *arr;
	if (!j)
		return -ENOENT;
	json_object_object_get_ex(j, "tasks", &arr);
	int failed = 0;
	/* Recorded in an order that has each after what it needs. */
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i);
		if (flag(t, "init") != init || (init && strcmp(str(t, "status"), "done") == 0))
			continue;
		const char *need = unmet_need(arr, t);
		if (need) {
			char note[160];
			snprintf(note, sizeof(note), "not run: it needs %s, which did not succeed", need);
			set_end(t, "failed", NULL, note, NULL);
			save(state_dir, pg, j);
			if (out)
				fprintf(out, "task %s: failed (%s)\n", str(t, "name"), note);
			failed++;
			continue;
		}
		if (!run_one(state_dir, pg, j, t, wait_ms, out))
			failed++;
	}
	json_object_put(j);
	return failed;
}

/* --- views --- */

struct json_object *tasks_json(const char *state_dir, const char *pg)
{
	struct json_object *j = load(state_dir, pg), *arr;
	if (!j)
		return NULL;
	json_object_object_get_ex(j, "tasks", &arr);
	json_object_get(arr);
	json_object_put(j);
	return arr;
}

/* The last line of a text with something on it. */
static void last_line(const char *s, char *out, size_t len)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	size_t from = n;
	while (from && s[from - 1] != '\n')
		from--;
	snprintf(out, len, "%.*s", (int)(n - from), s + from);
}

int tasks_print(const char *state_dir, const char *pg, bool whole, FILE *out)
{
	struct json_object *j = load(state_dir, pg), *arr;
	if (!j)
		return -ENOENT;
	json_object_object_get_ex(j, "tasks", &arr);
	fprintf(out, "%-24s %-6s %-16s %-8s %-6s %s\n", "TASK", "KIND", "MACHINE", "STATUS", "EXIT",
		"NOTE / LAST LINE");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i), *ex;
		char code[16] = "-", line[120];
		if (json_object_object_get_ex(t, "exit_status", &ex) && ex)
			snprintf(code, sizeof(code), "%d", json_object_get_int(ex));
		last_line(str(t, "output_tail"), line, sizeof(line));
		fprintf(out, "%-24s %-6s %-16s %-8s %-6s %s%s%s\n", str(t, "name"),
			flag(t, "init") ? "init" : "check", str(t, "machine"), str(t, "status"), code,
			str(t, "note"), *str(t, "note") && *line ? ": " : "", line);
		char log[PATH_MAX];
		if (!whole || log_path(state_dir, pg, str(t, "name"), log, sizeof(log)) < 0)
			continue;
		FILE *f = fopen(log, "re");
		if (!f)
			continue;
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, out);
		fclose(f);
	}
	json_object_put(j);
	return 0;
}
