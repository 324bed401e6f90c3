/*
 * pnagent: playnet's agent in a VM (agent_proto.h). A static binary the
 * toolkit guest's init starts, in the toolkit guest and in every image it
 * boots, on a channel that is not the lab's network:
 *   - a virtio-serial port named org.playnet.agent (QEMU): every stream
 *     multiplexed over it, with credits per stream;
 *   - else vsock (Firecracker, Cloud Hypervisor): a connection a stream.
 * Port 1024 runs a command (agent_exec.c), port 22 is relayed to the
 * guest's sshd on 127.0.0.1:22.
 *
 *   pnagent            serve
 *   pnagent --init P   as PID 1: serve from a child, and become P (the
 *                      image's own init), so that any init works
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent_mux.h"
#include "agent_proto.h"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dprintf(fd, "pnagent: %.*s\n", n < 0 ? 0 : n, buf);
		close(fd);
	}
}

/* --- vsock: a connection a stream, a process a connection --- */

static int vsock_listen(uint32_t port)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_port = port,
				 .svm_cid = VMADDR_CID_ANY };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int serve_vsock(void)
{
	int ls[2] = { vsock_listen(AGENT_PORT_EXEC), vsock_listen(AGENT_PORT_SSH) };
	if (ls[0] < 0 || ls[1] < 0) {
		say("no virtio-serial port %s and no vsock (%s)", AGENT_SERIAL_NAME,
		    strerror(-(ls[0] < 0 ? ls[0] : ls[1])));
		return 1;
	}
	say("serving on vsock ports %u and %u", AGENT_PORT_EXEC, AGENT_PORT_SSH);
	for (;;) {
		struct pollfd p[2] = { { ls[0], POLLIN, 0 }, { ls[1], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			int c = accept4(ls[i], NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			if (fork() == 0) {
				c = agent_keep_only(c);
				if (i == 0) {
					agent_exec_serve(c);
				} else {
					const char *why;
					int s = agent_open_port(AGENT_PORT_SSH, &why);
					if (s >= 0)
						agent_relay(c, c, s);
				}
				_exit(0);
			}
			close(c);
		}
	}
}

/* /dev/vportNpM of the port named AGENT_SERIAL_NAME, or "". */
static void find_port(char *out, size_t len)
{
	out[0] = '\0';
	DIR *d = opendir("/sys/class/virtio-ports");
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[512], name[64] = "";
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
		if (strcmp(name, AGENT_SERIAL_NAME) == 0) {
			snprintf(out, len, "/dev/%s", e->d_name);
			break;
		}
	}
	closedir(d);
}

static int serve_serial(const char *dev)
{
	int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		say("cannot open %s: %s", dev, strerror(errno));
		return 1;
	}
	agent_serve_port(fd, true);
	return 0;
}

static int serve(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* the kernel reaps handlers: none is waited for */
	char dev[300];
	find_port(dev, sizeof(dev));
	if (dev[0]) {
		say("serving on %s (%s)", dev, AGENT_SERIAL_NAME);
		return serve_serial(dev);
	}
	return serve_vsock();
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--init") == 0) {
		/* PID 1 stays PID 1 as the image's init; the agent is its child. */
		pid_t pid = fork();
		if (pid == 0) {
			setsid();
			_exit(serve());
		}
		execv(argv[2], argv + 2);
		say("cannot run %s: %s", argv[2], strerror(errno));
		return 1;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: pnagent [--init PROGRAM]\n");
		return 2;
	}
	return serve();
}
