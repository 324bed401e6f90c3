/* playnet console and exec in a VM, and the VMs that up --vms starts:
 * through the library in this process, on the fabric netd made. */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "agent_proto.h"
#include "machine_exec.h"
#include "naming.h"
#include "vm_agent.h"
#include "vm_console.h"
#include "vm_run.h"

/* up --vms: the fabric is up; its VMs start on it. A VM that cannot start
 * leaves the fabric as it is, for another try with vmlaunch. */
int start_vms(const struct options *o, const struct plan *p, const struct vm_options *vo)
{
	struct diag d;
	diag_init(&d, p->name);
	int e = vm_start(o->state_dir, p, vo, NULL, 0, stderr, &d);
	if (e == 0) {
		diag_free(&d);
		fprintf(stderr, "no VM to start: %s's VM machines are running, or it has none\n",
			p->name);
		return EXIT_OK;
	}
	if (e < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		fprintf(stderr, "playnet: the fabric of %s is up without its VMs: 'vmlaunch start %s' tries again, 'playnet down %s' removes it\n",
			p->name, p->name, p->name);
		return e == -ENOMEM || e == -EIO ? EXIT_SYSTEM : EXIT_USER;
	}
	diag_free(&d);
	fprintf(stderr, "console: playnet console %s MACHINE (Ctrl-] leaves); all down: playnet down %s\n",
		p->name, p->name);
	return EXIT_OK;
}

int cmd_console(const struct options *o, int argc, char **argv)
{
	if (argc != 3)
		return usage_error("console takes a playground and a machine name");
	if (!naming_valid_playground(argv[1]))
		return bad_name("console", argv[1]);
	struct diag d;
	diag_init(&d, argv[1]);
	int e = vm_console_machine(o->state_dir, argv[1], argv[2], &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (e == -EINVAL || e == -EBUSY)
		return EXIT_USER;
	if (e == -ENOENT) {
		fprintf(stderr, "playnet: %s/%s has no console: no such VM running (playnet show %s)\n",
			argv[1], argv[2], argv[1]);
		return EXIT_USER;
	}
	if (e < 0) {
		fprintf(stderr, "playnet: console of %s/%s: %s\n", argv[1], argv[2], strerror(-e));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* How long exec and ssh wait for the agent of a VM still booting. */
#define AGENT_WAIT_MS 180000

/* A stream to port of the agent of VM m, or an exit code once said why. */
int open_agent(const struct options *o, const char *what, const char *pg, const char *m,
	       unsigned port, int *fd)
{
	enum machine_refusal why;
	char msg[512];
	*fd = machine_stream(o->state_dir, pg, m, true, NULL, port, AGENT_WAIT_MS, &why, msg,
			     sizeof(msg));
	if (*fd >= 0)
		return EXIT_OK;
	fprintf(stderr, "playnet: %s: %s/%s: %s%s\n", what, pg, m, msg,
		why == MACHINE_NOT_RUNNING ? " ('playnet show' says how it is)" :
		why == MACHINE_NO_AGENT	   ? " (use its console)" :
					     "");
	return why == MACHINE_FAILED ? EXIT_SYSTEM : EXIT_USER;
}

/* The paths of VM m, or an exit code once said why. */
int vm_paths_said(const struct options *o, const char *pg, const char *m, struct vm_paths *pa)
{
	struct diag d;
	diag_init(&d, pg);
	int e = vm_paths_for(o->state_dir, pg, m, pa, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	return e < 0 ? EXIT_USER : EXIT_OK;
}

static void to_fd(void *ctx, int which, const char *p, size_t n)
{
	(void)ctx;
	agent_write_all(which, p, n); /* a reader that went away loses the rest */
}

int exec_vm(const struct options *o, const char *pg, const char *m, const struct exec_opts *x,
	    char *const *argv)
{
	int fd;
	int rc = open_agent(o, "exec", pg, m, AGENT_PORT_EXEC, &fd);
	if (rc)
		return rc;
	struct vm_agent_command c = { .argv = argv, .user = x->user, .timeout_s = x->timeout_s,
				      .stdin_fd = STDIN_FILENO };
	struct vm_agent_result r;
	int e = vm_agent_exec(fd, &c, to_fd, NULL, &r);
	close(fd);
	if (e < 0 || r.how == VM_AGENT_FAILED) {
		fprintf(stderr, "playnet: exec: %s/%s: %s\n", pg, m, r.error);
		return e < 0 ? EXIT_SYSTEM : EXIT_USER;
	}
	if (r.how == VM_AGENT_TIMED_OUT)
		fprintf(stderr, "playnet: exec: %s/%s: %s timed out after %u s and was killed\n", pg,
			m, argv[0], x->timeout_s);
	return vm_agent_exit_code(&r);
}
