/* playnet up, down, ls, show, stats and exec: a playground, through the API. */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "naming.h"
#include "netns.h"
#include "util.h"
#include "vm_run.h"

double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int parse_json_flag(int argc, char **argv, bool *json, int want_args)
{
	*json = false;
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else if (argv[i][0] == '-')
			return usage_error("%s: unknown option '%s'", argv[0], argv[i]);
		else
			argv[1 + n++] = argv[i];
	}
	if (n != want_args)
		return usage_error("%s takes %s", argv[0],
				   want_args ? "one playground name" : "no arguments");
	return EXIT_OK;
}

int bad_name(const char *cmd, const char *name)
{
	fprintf(stderr, "playnet: %s: invalid playground name '%s'\n", cmd, name);
	return EXIT_USER;
}

/* The netns of machine m of playground name, from the answer for it. */
static int machine_netns(const struct options *o, const char *name, const char *m,
			      char *ns, size_t len, bool *is_vm, bool *found)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", name);
	struct client_response r;
	int rc = ask_netd(o, "exec", "GET", path, NULL, 0, false, &r);
	if (rc)
		return rc;
	struct json_object *j = json_tokener_parse(r.body ? r.body : ""), *ms, *v;
	client_response_free(&r);
	if (!j || !json_object_object_get_ex(j, "machines", &ms)) {
		json_object_put(j);
		fprintf(stderr, "playnet: exec: netd's answer lacks the machines\n");
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *mc = json_object_array_get_idx(ms, i);
		if (!json_object_object_get_ex(mc, "name", &v) ||
		    strcmp(json_object_get_string(v), m) != 0)
			continue;
		*found = true;
		json_object_object_get_ex(mc, "netns", &v);
		*is_vm = !v;
		snprintf(ns, len, "%s", v ? json_object_get_string(v) : "");
	}
	json_object_put(j);
	return EXIT_OK;
}

int cmd_up(const struct options *o, int argc, char **argv)
{
	struct file_cmd c;
	int rc = parse_file_cmd(argc, argv, false, false, &c);
	if (rc)
		return rc;
	cleanup_free char *text = NULL;
	struct plan p;
	if ((rc = load_plan(o, c.file, c.name, &p, &text)) != EXIT_OK)
		return rc;
	if (c.vms) {
		struct diag d;
		diag_init(&d, c.file);
		int e = vm_check(o->state_dir, &p, &c.vm, &d);
		diag_print(&d, stderr);
		diag_free(&d);
		if (e < 0) {
			plan_free(&p);
			return e == -ENOMEM ? EXIT_SYSTEM : EXIT_USER;
		}
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", p.name);
	snprintf(what, sizeof(what), "up %s", p.name);
	struct client_response r;
	rc = ask_netd(o, what, "PUT", path, text, strlen(text), false, &r);
	long status = r.status;
	if (rc == EXIT_OK)
		client_response_free(&r);
	if (rc == EXIT_OK && status == 200) {
		fprintf(stderr, "playground %s is up already, from the same manifest\n", p.name);
	} else if (rc == EXIT_OK) {
		size_t taps = 0, veths = 0;
		for (size_t i = 0; i < p.n_machines; i++)
			for (size_t j = 0; j < p.machines[i].n_interfaces; j++)
				p.machines[i].interfaces[j].kind == PLAN_PORT_TAP ? taps++ : veths++;
		fprintf(stderr,
			"playground %s is up in %.1f ms: netns %s, %zu bridge%s, %zu tap%s, %zu netns machine port%s\n",
			p.name, ms_since(&t0), p.netns, p.n_networks,
			p.n_networks == 1 ? "" : "s", taps, taps == 1 ? "" : "s", veths,
			veths == 1 ? "" : "s");
	}
	if (rc == EXIT_OK && c.vms)
		rc = start_vms(o, &p, &c.vm);
	if (rc == EXIT_OK)
		rc = up_tasks(o, &p, text, status == 201, c.vms);
	plan_free(&p);
	return rc;
}

int cmd_down(const struct options *o, int argc, char **argv)
{
	if (argc != 2)
		return usage_error("down takes exactly one playground name");
	const char *name = argv[1];
	if (!naming_valid_playground(name))
		return bad_name("down", name);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The guests power off before their taps go; the fabric's delete
	 * would only force them. */
	int stopped = vm_stop(o->state_dir, name, VM_STOP_GRACE_MS, NULL);
	if (stopped > 0)
		fprintf(stderr, "stopped %d VM%s of %s\n", stopped, stopped == 1 ? "" : "s", name);
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", name);
	snprintf(what, sizeof(what), "down %s", name);
	/* A delete of nothing is no error (it is idempotent), but it is not
	 * news that a playground went either. */
	struct client_response r;
	int rc = call(o, what, "GET", path, NULL, 0, false, &r);
	if (rc)
		return rc;
	bool absent = r.status == 404;
	client_response_free(&r);
	if (absent)
		fprintf(stderr, "playnet: no playground named %s: nothing to take down\n", name);
	if ((rc = ask_netd(o, what, "DELETE", path, NULL, 0, false, &r)) == EXIT_OK)
		client_response_free(&r);
	if (absent)
		return rc;
	if (rc == EXIT_OK)
		fprintf(stderr, "playground %s is down (%.1f ms)\n", name, ms_since(&t0));
	return rc;
}

/* "CMD P [--json]": show and stats, the same route with another suffix. */
static int playground_cmd(const struct options *o, int argc, char **argv, const char *suffix)
{
	bool json;
	int rc = parse_json_flag(argc, argv, &json, 1);
	if (rc)
		return rc;
	if (!naming_valid_playground(argv[1]))
		return bad_name(argv[0], argv[1]);
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s%s", argv[1], suffix);
	snprintf(what, sizeof(what), "%s %s", argv[0], argv[1]);
	return get_and_print(o, what, path, json, NULL);
}

int cmd_show(const struct options *o, int argc, char **argv)
{
	return playground_cmd(o, argc, argv, "");
}

int cmd_stats(const struct options *o, int argc, char **argv)
{
	return playground_cmd(o, argc, argv, "/stats");
}

int cmd_ls(const struct options *o, int argc, char **argv)
{
	bool json;
	int rc = parse_json_flag(argc, argv, &json, 0);
	if (rc)
		return rc;
	return get_and_print(o, "ls", "/v1/playgrounds", json, "playgrounds");
}

/* argv in a session of its own, killed (124, as timeout(1) says) when
 * it runs longer than timeout_s; else its own status. */
static int exec_timed(char *const *argv, unsigned timeout_s)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "playnet: exec: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pidfd < 0) {
		fprintf(stderr, "playnet: exec: cannot start %s: %s\n", argv[0], strerror(errno));
		return EXIT_SYSTEM;
	}
	struct pollfd p = { pidfd, POLLIN, 0 };
	int r;
	while ((r = poll(&p, 1, (int)timeout_s * 1000)) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (r == 0)
		kill(-pid, SIGKILL);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (r == 0) {
		fprintf(stderr, "playnet: exec: %s timed out after %u s and was killed\n", argv[0],
			timeout_s);
		return 124;
	}
	return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
}

/* exec P MACHINE [--timeout S] [--user U] -- CMD...: the options, and the
 * index of CMD. */
static int parse_exec(int argc, char **argv, struct exec_opts *x, int *cmd)
{
	int i = 3;
	for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		if (i + 1 >= argc)
			return usage_error("exec: %s needs a value", argv[i]);
		char *end;
		if (strcmp(argv[i], "--timeout") == 0) {
			unsigned long t = strtoul(argv[i + 1], &end, 10);
			if (*end || !argv[i + 1][0] || t == 0 || t > 86400)
				return usage_error("exec: --timeout takes seconds, 1 to 86400, not '%s'",
						   argv[i + 1]);
			x->timeout_s = (unsigned)t;
		} else if (strcmp(argv[i], "--user") == 0) {
			x->user = argv[i + 1];
		} else {
			return usage_error("exec: unknown option %s", argv[i]);
		}
	}
	if (i + 1 >= argc)
		return usage_error("usage: exec P MACHINE [--timeout SECONDS] [--user USER] -- CMD [ARGS...]");
	*cmd = i + 1;
	return EXIT_OK;
}

int cmd_exec(const struct options *o, int argc, char **argv)
{
	struct exec_opts x = { 0 };
	int at = 0;
	int rc = argc < 3 ? usage_error("usage: exec P MACHINE [--timeout SECONDS] [--user USER] -- CMD [ARGS...]")
			  : parse_exec(argc, argv, &x, &at);
	if (rc)
		return rc;
	if (!naming_valid_playground(argv[1]))
		return bad_name("exec", argv[1]);
	char ns[NAMING_NETNS_MAX] = "";
	bool is_vm = false, found = false;
	rc = machine_netns(o, argv[1], argv[2], ns, sizeof(ns), &is_vm, &found);
	if (rc)
		return rc;
	if (!found) {
		fprintf(stderr, "playnet: exec: %s has no machine named %s\n", argv[1], argv[2]);
		return EXIT_USER;
	}
	if (is_vm)
		return exec_vm(o, argv[1], argv[2], &x, argv + at);
	if (x.user) {
		fprintf(stderr, "playnet: exec: %s is a netns machine: its commands run as you (--user is for VMs)\n",
			argv[2]);
		return EXIT_USER;
	}
	int fd = netns_open(ns);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "playnet: exec: netns %s: %s\n", ns,
			strerror(fd < 0 ? -fd : errno));
		return EXIT_SYSTEM;
	}
	close(fd);
	if (x.timeout_s)
		return exec_timed(argv + at, x.timeout_s);
	execvp(argv[at], argv + at);
	fprintf(stderr, "playnet: exec: %s: %s\n", argv[at], strerror(errno));
	return EXIT_SYSTEM;
}
