/*
 * A playground's tasks (manifest.h's struct manifest_task) as they run:
 * recorded at up in STATE/vm/P/tasks.json (each with its machine, status,
 * exit status and the tail of its output; the whole output in
 * STATE/vm/P/tasks/NAME.log), run through the machines' exec servers
 * (machine_exec.h) in needs order, and shown. Init tasks run once the
 * machines are up; the others are checks, run on demand (playnet check).
 * Statuses: pending, running, done, failed.
 */
#ifndef PLAYNET_TASKS_H
#define PLAYNET_TASKS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "manifest.h"
#include "plan.h"

#define TASKS_TAIL_MAX 2048 /* of output kept in the record */

/* Records m's tasks for playground p, all pending (none: removes the
 * record). 0 or -errno. */
int tasks_record(const char *state_dir, const struct manifest *m, const struct plan *p);

/* Runs the init tasks not yet done (init), or every check (!init), each
 * after what it needs, waiting up to wait_ms for a VM's agent; says each
 * on out. The number that failed, or -ENOENT for no record, -errno. */
int tasks_run(const char *state_dir, const char *pg, bool init, unsigned wait_ms, FILE *out);

/* The record's tasks as a JSON array (the caller puts it), NULL for none. */
struct json_object *tasks_json(const char *state_dir, const char *pg);

/* A table of the tasks (whole: each with all of its output, else its
 * last line). 0, or -ENOENT for no record. */
int tasks_print(const char *state_dir, const char *pg, bool whole, FILE *out);

#endif
