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

/* Forks twice (the server belongs to init, and no one waits for it),
 * enters the netns and serves the stream: commands run as the caller
 * does, with no signal blocked. */
static int netns_server(const char *netns, char *msg, size_t msg_len)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(msg, msg_len, "socketpair: %s", strerror(errno));
		return -errno;
	}
	pid_t mid = fork();
	if (mid == 0) {
		if (fork() == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			int fd = agent_keep_only(sv[1]);
			int ns = netns_open(netns);
			if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
				char text[128];
				snprintf(text, sizeof(text), "error cannot enter netns %s", netns);
				agent_send(fd, AGENT_EXIT, text, strlen(text));
				_exit(1);
			}
			close(ns);
			agent_exec_serve(fd);
		}
		_exit(0);
	}
	int e = mid < 0 ? -errno : 0;
	close(sv[1]);
	if (e < 0) {
		close(sv[0]);
		snprintf(msg, msg_len, "fork: %s", strerror(-e));
		return e;
	}
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	return sv[0];
}

static int paths_of(const char *state_dir, const char *pg, const char *m, struct vm_paths *pa,
		    char *msg, size_t msg_len)
{
	struct diag d;
	diag_init(&d, pg);
	int e = vm_paths_for(state_dir, pg, m, pa, &d);
	diag_free(&d);
	if (e < 0)
		snprintf(msg, msg_len, "the VM's files have no path (a state dir too long?)");
	return e;
}

static int vm_stream(const char *state_dir, const char *pg, const char *m, unsigned port,
		     unsigned wait_ms, enum machine_refusal *why, char *msg, size_t msg_len)
{
	struct vm_paths pa;
	*why = MACHINE_FAILED;
	int e = paths_of(state_dir, pg, m, &pa, msg, msg_len);
	if (e < 0)
		return e;
	struct vm_status st;
	if (vm_status_read(pa.status, &st) < 0 || !vm_state_live(st.state)) {
		*why = MACHINE_NOT_RUNNING;
		snprintf(msg, msg_len, "the VM is not running");
		return -ENOENT;
	}
	if (st.backend == VM_QEMU && access(pa.agent, F_OK) < 0) {
		*why = MACHINE_NO_AGENT;
		snprintf(msg, msg_len, "the VM boots an initrd of its own, without playnet's agent");
		return -ENOENT;
	}
	int fd = vm_agent_connect(pa.agent, port, wait_ms, msg, msg_len);
	if (fd == -ETIMEDOUT)
		*why = MACHINE_BOOTING;
	else if (fd == -ECONNREFUSED)
		*why = MACHINE_REFUSED;
	return fd;
}

int machine_stream(const char *state_dir, const char *pg, const char *m, bool vm,
		   const char *netns, unsigned port, unsigned wait_ms, enum machine_refusal *why,
		   char *msg, size_t msg_len)
{
	if (vm)
		return vm_stream(state_dir, pg, m, port, wait_ms, why, msg, msg_len);
	*why = MACHINE_FAILED;
	if (port != AGENT_PORT_EXEC) {
		snprintf(msg, msg_len, "a netns machine serves commands only (it shares this host's files: no ssh, no cp)");
		return -EINVAL;
	}
	return netns_server(netns, msg, msg_len);
}

int machine_wait_booted(const char *state_dir, const char *pg, const char *m, unsigned wait_ms,
			char *msg, size_t msg_len)
{
	struct vm_paths pa;
	int e = paths_of(state_dir, pg, m, &pa, msg, msg_len);
	return e < 0 ? e : vm_agent_wait_booted(pa.agent, wait_ms, msg, msg_len);
}

int machine_exec_open(const char *state_dir, const struct plan *p, const char *m,
		      struct api_response *r)
{
	static const struct {
		int status;
		const char *code;
	} answers[] = {
		[MACHINE_NOT_RUNNING] = { 409, "not_running" },
		[MACHINE_NO_AGENT] = { 409, "no_agent" },
		[MACHINE_BOOTING] = { 503, "booting" },
		[MACHINE_REFUSED] = { 502, "agent_refused" },
		[MACHINE_FAILED] = { 500, "exec" },
	};
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *pm = &p->machines[i];
		if (strcmp(pm->name, m) != 0)
			continue;
		enum machine_refusal why;
		char msg[256];
		int fd = machine_stream(state_dir, p->name, m, pm->runtime == MANIFEST_RUNTIME_VM,
					pm->netns, AGENT_PORT_EXEC, 0, &why, msg, sizeof(msg));
		if (fd < 0)
			api_error(r, answers[why].status, answers[why].code, msg, 0, 0);
		return fd;
	}
	api_error(r, 404, "not_found", "the playground has no such machine", 0, 0);
	return -ENOENT;
}
