/* playground.initTasks and playground.tasks: labctl's init tasks and the
 * checks of a challenge, read and checked (names, machines, needs, cycles)
 * at their lines and columns. Unknown keys of a task are labctl's (env,
 * hintcheck, ...): kept and ignored, unless they are a near miss of ours. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "util.h"
#include "yread.h"
#include "ytree.h"

static const char *const task_keys[] = { "machine", "user", "run", "needs", "timeout_seconds",
					 "init" };

static struct manifest_pos pos_of(const struct ytree_node *n)
{
	return (struct manifest_pos){ n->line, n->column };
}

static bool valid_task_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MANIFEST_TASK_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static void read_machine_ref(struct diag *d, const struct ytree_node *n, const char *path,
			     struct manifest *m, struct manifest_task *t)
{
	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	yread_path(p, "%s.machine", path);
	if (!(v = yread_get_present(n, "machine"))) {
		yread_err(d, n, path, "missing required key 'machine' (the machine it runs in)");
		return;
	}
	if (!yread_string(d, v, p, "a machine's name", &s))
		return;
	for (size_t i = 0; i < m->n_machines; i++)
		if (strcmp(m->machines[i].name, s) == 0) {
			t->machine = i;
			return;
		}
	char names[256] = "";
	for (size_t i = 0; i < m->n_machines && strlen(names) < 200; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
			 m->machines[i].name);
	yread_err(d, v, p, "no machine named '%.64s' (the machines: %s)", s, names);
}

static int read_task(struct diag *d, const struct ytree_node *n, const char *path,
		     bool in_init_tasks, struct manifest *m, struct manifest_task *t)
{
	char p[YREAD_PATH_LEN];
	const struct ytree_node *v;
	const char *s;
	t->pos = pos_of(n);
	t->timeout_s = MANIFEST_TASK_TIMEOUT_DEFAULT;
	t->init = in_init_tasks;
	strcpy(t->user, "root");
	if (!yread_kind(d, n, path, YTREE_MAP, "a task (a mapping with machine and run)"))
		return 0;
	yread_keys(d, n, path, task_keys, ARRAY_SIZE(task_keys), false);
	read_machine_ref(d, n, path, m, t);
	yread_path(p, "%s.run", path);
	if (!(v = yread_get_present(n, "run"))) {
		yread_err(d, n, path, "missing required key 'run' (the script it runs)");
	} else if (yread_string(d, v, p, "a script", &s)) {
		if (!*s)
			yread_err(d, v, p, "expected a script, got an empty string");
		else if (!(t->run = strdup(s)))
			return -ENOMEM;
	}
	yread_path(p, "%s.user", path);
	if ((v = yread_get_present(n, "user")) && yread_string(d, v, p, "a user name", &s)) {
		if (!manifest_valid_user(s))
			yread_err(d, v, p, "expected a user name (a-z, 0-9, '_' and '-', at most %d), got '%.40s'",
				  MANIFEST_USER_MAX, s);
		else
			strcpy(t->user, s);
	}
	uint64_t secs;
	yread_path(p, "%s.timeout_seconds", path);
	if ((v = yread_get_present(n, "timeout_seconds")) &&
	    yread_uint(d, v, p, 1, MANIFEST_TASK_TIMEOUT_MAX, &secs))
		t->timeout_s = (unsigned)secs;
	yread_path(p, "%s.init", path);
	if ((v = yread_get_present(n, "init")))
		yread_bool(d, v, p, &t->init);
	return 0;
}

static ssize_t task_index(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_tasks; i++)
		if (strcmp(m->tasks[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* A section's tasks, appended to m->tasks; node_of[i] is task i's node. */
static int read_section(struct diag *d, const struct ytree_node *pg, const char *section,
			struct manifest *m, const struct ytree_node **node_of)
{
	const struct ytree_node *sec = yread_get_present(pg, section);
	char path[YREAD_PATH_LEN];
	yread_path(path, "playground.%s", section);
	if (!sec || !yread_kind(d, sec, path, YTREE_MAP, "a mapping of task names to tasks"))
		return 0;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ytree_node *key = sec->items[i];
		const char *name = key->kind == YTREE_SCALAR ? key->value : "";
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s.%s", path, name);
		if (m->n_tasks == MANIFEST_MAX_TASKS) {
			yread_err(d, key, p, "too many tasks (the limit is %d)", MANIFEST_MAX_TASKS);
			return 0;
		}
		if (!valid_task_name(name)) {
			yread_err(d, key, p, "expected a task name (1 to %d of A-Z, a-z, 0-9, '_' and '-'), got '%.64s'",
				  MANIFEST_TASK_NAME_MAX, name);
			continue;
		}
		if (task_index(m, name) >= 0) {
			yread_err(d, key, p, "a second task named '%s' (initTasks and tasks share their names)",
				  name);
			continue;
		}
		struct manifest_task *t = &m->tasks[m->n_tasks];
		strcpy(t->name, name);
		node_of[m->n_tasks++] = sec->items[i + 1];
		if (read_task(d, sec->items[i + 1], p, strcmp(section, "initTasks") == 0, m, t) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int read_needs(struct diag *d, const struct ytree_node *n, struct manifest *m,
		      struct manifest_task *t)
{
	char path[YREAD_PATH_LEN];
	yread_path(path, "tasks.%s.needs", t->name);
	const struct ytree_node *v = n->kind == YTREE_MAP ? yread_get_present(n, "needs") : NULL;
	if (!v || !yread_kind(d, v, path, YTREE_SEQ, "a list of task names"))
		return 0;
	if (!(t->needs = calloc(v->n ? v->n : 1, sizeof(*t->needs))))
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const char *s;
		char p[YREAD_PATH_LEN];
		yread_path(p, "%s[%zu]", path, i);
		if (!yread_string(d, v->items[i], p, "a task's name", &s))
			continue;
		ssize_t k = task_index(m, s);
		if (k < 0) {
			yread_err(d, v->items[i], p, "no task named '%.64s'", s);
			continue;
		}
		const struct manifest_task *need = &m->tasks[k];
		if (t->init && !need->init)
			yread_err(d, v->items[i], p,
				  "init task '%s' needs '%s', a check: init tasks run at up, checks at 'playnet check'",
				  t->name, s);
		else
			t->needs[t->n_needs++] = (size_t)k;
	}
	return 0;
}

/* Depth-first: 0 unseen, 1 on the path, 2 done. A task met again on the
 * path closes a cycle, said from that task round to it. */
static bool find_cycle(const struct manifest *m, size_t i, unsigned char *mark, size_t *path,
		       size_t depth, struct diag *d)
{
	if (mark[i] == 2)
		return false;
	if (mark[i] == 1) {
		char text[512] = "";
		size_t from = 0;
		while (path[from] != i)
			from++;
		for (size_t k = from; k < depth && strlen(text) < 400; k++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s -> ",
				 m->tasks[path[k]].name);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s", m->tasks[i].name);
		diag_add(d, m->tasks[i].pos.line, m->tasks[i].pos.column,
			 "playground tasks: '%s' needs itself, round a cycle: %s", m->tasks[i].name, text);
		return true;
	}
	mark[i] = 1;
	path[depth] = i;
	for (size_t k = 0; k < m->tasks[i].n_needs; k++)
		if (find_cycle(m, m->tasks[i].needs[k], mark, path, depth + 1, d))
			return true;
	mark[i] = 2;
	return false;
}

int manifest_read_tasks(struct diag *d, const struct ytree_node *pg, struct manifest *m)
{
	const struct ytree_node *node_of[MANIFEST_MAX_TASKS];
	if (!yread_get_present(pg, "initTasks") && !yread_get_present(pg, "tasks"))
		return 0;
	if (!(m->tasks = calloc(MANIFEST_MAX_TASKS, sizeof(*m->tasks))))
		return -ENOMEM;
	int e = read_section(d, pg, "initTasks", m, node_of);
	if (!e)
		e = read_section(d, pg, "tasks", m, node_of);
	for (size_t i = 0; !e && i < m->n_tasks; i++)
		e = read_needs(d, node_of[i], m, &m->tasks[i]);
	if (e || diag_failed(d))
		return e;
	unsigned char mark[MANIFEST_MAX_TASKS] = { 0 };
	size_t path[MANIFEST_MAX_TASKS + 1];
	for (size_t i = 0; i < m->n_tasks; i++)
		if (find_cycle(m, i, mark, path, 0, d))
			break;
	return 0;
}

static void visit(const struct manifest *m, size_t i, bool *done, size_t *order, size_t *n)
{
	if (done[i])
		return;
	done[i] = true;
	for (size_t k = 0; k < m->tasks[i].n_needs; k++)
		visit(m, m->tasks[i].needs[k], done, order, n);
	order[(*n)++] = i;
}

void manifest_task_order(const struct manifest *m, size_t *order)
{
	bool done[MANIFEST_MAX_TASKS] = { false };
	size_t n = 0;
	for (size_t i = 0; i < m->n_tasks; i++)
		visit(m, i, done, order, &n);
}

void manifest_tasks_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n_tasks; i++) {
		free(m->tasks[i].run);
		free(m->tasks[i].needs);
	}
	free(m->tasks);
	m->tasks = NULL;
	m->n_tasks = 0;
}
