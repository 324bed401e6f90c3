/* What the agent serves, the same whether a stream comes over its
 * virtio-serial port or over vsock: a command (port 1024) or the guest's
 * sshd (port 22). Built into pnagent: libc only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_mux.h"
#include "agent_proto.h"

/* --- a stream's far end in the guest --- */

int agent_keep_only(int fd)
{
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	signal(SIGCHLD, SIG_DFL);
	return 3;
}

/* A connection to the guest's sshd, or -errno. */
static int connect_ssh(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(22),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* A process that serves the exec stream on the other end of the returned
 * fd, or -errno. */
static int start_exec(pid_t *pid)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if (*pid == 0) {
		agent_exec_serve(agent_keep_only(sv[1]));
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

/* The fd of a new stream to port, or -errno with why. */
int agent_open_port(uint32_t port, const char **why)
{
	pid_t pid;
	int fd;
	if (port == AGENT_PORT_EXEC) {
		if ((fd = start_exec(&pid)) < 0)
			*why = "cannot start a command";
		return fd;
	}
	if (port == AGENT_PORT_SSH) {
		if ((fd = connect_ssh()) < 0)
			*why = "no sshd listens on port 22 in the machine";
		return fd;
	}
	*why = "no such port";
	return -ECONNREFUSED;
}

/* --- virtio-serial: every stream over one port --- */

static void control(struct agent_mux *m, const struct agent_mux_header *h, const uint8_t *p)
{
	if (agent_mux_hello(m, h, p) || h->type != AGENT_MUX_OPEN)
		return;
	const char *why = "no port";
	int fd = -1;
	if (agent_mux_find(m, h->stream))
		why = "the stream is open already";
	else if (h->len == 4)
		fd = agent_open_port(agent_get32(p), &why);
	if (fd >= 0 && !agent_mux_add(m, h->stream, fd, true)) {
		close(fd);
		fd = -1;
		why = "too many streams";
	}
	if (fd < 0)
		agent_mux_frame(m, AGENT_MUX_CLOSE, h->stream, why, strlen(why));
	else
		agent_mux_frame(m, AGENT_MUX_OPENED, h->stream, NULL, 0);
}

void agent_serve_port(int fd, bool wait_for_host)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* handlers are reaped by the kernel: none is waited for */
	struct agent_mux m = { .port = fd, .control = control };
	agent_mux_greet(&m);
	for (;;) {
		struct pollfd p[AGENT_MUX_POLLFDS];
		struct agent_stream *who[AGENT_MUX_POLLFDS];
		size_t n = agent_mux_poll(&m, p, who);
		if (poll(p, n, -1) < 0)
			continue;
		if (agent_mux_events(&m, p, who, n) < 0) {
			if (!wait_for_host)
				break;
			/* No host on the port's other end: wait for one, which
			 * says hello. */
			agent_mux_reset(&m);
			usleep(100 * 1000);
		}
	}
	agent_mux_free(&m);
}
