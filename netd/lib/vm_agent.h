/*
 * The host's side of a VM's agent (agent_proto.h): under QEMU the VM's
 * supervisor carries every stream over the agent's virtio-serial port
 * (vm_agent_serve); under every VMM a client opens a stream to a port the
 * same way (vm_agent_connect) and runs a command over it (vm_agent_exec).
 */
#ifndef PLAYNET_VM_AGENT_H
#define PLAYNET_VM_AGENT_H

#include <stdbool.h>
#include <stddef.h>

/* A listening socket at path (mode 0600, anything there before removed). */
int vm_agent_listen(const char *path);

/* Serves clients of listen_fd over the port QEMU offers as a socket at
 * vport, until pidfd (the VMM's) is readable. */
void vm_agent_serve(int listen_fd, const char *vport, int pidfd);

/* A stream to port of the agent at sock; waits up to wait_ms for an agent
 * still booting. -ETIMEDOUT (booting still), -ECONNREFUSED (refused: why
 * says what the agent said) or -errno, with why. */
int vm_agent_connect(const char *sock, unsigned port, unsigned wait_ms, char *why,
		     size_t why_len);

/* Waits, through the agent at sock, until the guest's own init has booted:
 * systemd done starting (in any state but offline, initializing or
 * starting), or PID 1 another init. The agent answers from the first
 * moment, before the image's services run: tasks and ssh wait for this.
 * 0, or -errno with why (-ETIMEDOUT after wait_ms). */
int vm_agent_wait_booted(const char *sock, unsigned wait_ms, char *why, size_t why_len);

/* One command to run (agent_proto.h's request). */
struct vm_agent_command {
	char *const *argv;
	const char *user;      /* NULL: root */
	unsigned timeout_s;    /* 0: none */
	const char *dir;       /* NULL: the user's home */
	const char *stdin_data; /* with stdin_fd < 0: all of stdin (NULL: none) */
	size_t stdin_len;
	int stdin_fd;          /* >= 0: stdin read from it */
};

enum vm_agent_end { VM_AGENT_EXITED, VM_AGENT_SIGNALED, VM_AGENT_TIMED_OUT, VM_AGENT_FAILED };

struct vm_agent_result {
	enum vm_agent_end how;
	int code;             /* the exit status, or the signal */
	char error[256];      /* VM_AGENT_FAILED: why */
};

/* Where output goes: which is 1 (stdout) or 2 (stderr). */
typedef void vm_agent_sink(void *ctx, int which, const char *p, size_t n);

/* A sink for output nobody reads. */
void vm_agent_discard(void *ctx, int which, const char *p, size_t n);

/* Runs c over stream fd (from vm_agent_connect to AGENT_PORT_EXEC). 0 with
 * r filled, or -errno when the stream broke (r->error says how). */
int vm_agent_exec(int fd, const struct vm_agent_command *c, vm_agent_sink *sink, void *ctx,
		  struct vm_agent_result *r);

/* What a shell would exit with for r: the status, 128+signal, 124 for a
 * timeout, 255 for a failure. */
int vm_agent_exit_code(const struct vm_agent_result *r);

#endif
