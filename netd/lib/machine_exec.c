/* Streams to machines' exec servers, for netd's exec route. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_proto.h"
#include "machine_exec.h"
#include "netns.h"
#include "vm.h"
#include "vm_agent.h"

/* Forks twice (the server belongs to init, and netd waits for nobody),
 * enters the netns and serves the stream: commands run as netd does,
 * with no signal blocked. */
static int netns_server(const char *netns, struct api_response *r)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return api_error(r, 500, "exec", strerror(errno), 0, 0), -errno;
	pid_t mid = fork();
	if (mid == 0) {
		if (fork() == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			int fd = agent_keep_only(sv[1]);
			int ns = netns_open(netns);
			if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
				char msg[128];
				snprintf(msg, sizeof(msg), "error cannot enter netns %s", netns);
				agent_send(fd, AGENT_EXIT, msg, strlen(msg));
				_exit(1);
			}
			close(ns);
			agent_exec_serve(fd);
		}
		_exit(0);
	}
	close(sv[1]);
	if (mid < 0) {
		close(sv[0]);
		return api_error(r, 500, "exec", strerror(errno), 0, 0), -EAGAIN;
	}
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	return sv[0];
}

static int vm_stream(const char *state_dir, const struct plan *p, const char *m,
		     struct api_response *r)
{
	struct vm_paths pa;
	struct diag d;
	diag_init(&d, p->name);
	int e = vm_paths_for(state_dir, p->name, m, &pa, &d);
	diag_free(&d);
	if (e < 0)
		return api_error(r, 500, "exec", "the VM's files have no path", 0, 0), e;
	struct vm_status st;
	if (vm_status_read(pa.status, &st) < 0 || !vm_state_live(st.state))
		return api_error(r, 409, "not_running", "the VM is not running", 0, 0), -ENOENT;
	if (st.backend == VM_QEMU && access(pa.agent, F_OK) < 0)
		return api_error(r, 409, "no_agent",
				 "the VM boots an initrd of its own, without playnet's agent", 0, 0),
		       -ENOENT;
	char why[256];
	int fd = vm_agent_connect(pa.agent, AGENT_PORT_EXEC, 0, why, sizeof(why));
	if (fd == -ETIMEDOUT)
		api_error(r, 503, "booting", why, 0, 0);
	else if (fd == -ECONNREFUSED)
		api_error(r, 502, "agent_refused", why, 0, 0);
	else if (fd < 0)
		api_error(r, 500, "exec", why, 0, 0);
	return fd;
}

int machine_exec_open(const char *state_dir, const struct plan *p, const char *m,
		      struct api_response *r)
{
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (strcmp(pm->name, m) != 0)
			continue;
		return pm->runtime == MANIFEST_RUNTIME_VM ? vm_stream(state_dir, p, m, r) :
							    netns_server(pm->netns, r);
	}
	api_error(r, 404, "not_found", "the playground has no such machine", 0, 0);
	return -ENOENT;
}
