#define _GNU_SOURCE
#include "engine.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "util.h"

#define ENGINE_TIMEOUT_MS 200

/* What the engine may do once it serves: its socket, and what exiting and
 * the C library's allocator need. Anything else kills it. */
static const int engine_syscalls[] = {
	SCMP_SYS(read),  SCMP_SYS(write),     SCMP_SYS(exit),   SCMP_SYS(exit_group),
	SCMP_SYS(brk),   SCMP_SYS(mmap),      SCMP_SYS(munmap), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(madvise),
};

/* The filter as BPF, made in the parent: libseccomp allocates, which a
 * child forked from a process with threads had better not do. */
static struct sock_fprog engine_filter;

static int filter_build(void)
{
	if (engine_filter.filter)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int e = 0;
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(engine_syscalls); i++)
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, engine_syscalls[i], 0);
	int mfd = e == 0 ? memfd_create("engine-filter", MFD_CLOEXEC) : -1;
	if (e == 0 && mfd < 0)
		e = -errno;
	if (e == 0)
		e = seccomp_export_bpf(ctx, mfd);
	seccomp_release(ctx);
	off_t size = e == 0 ? lseek(mfd, 0, SEEK_END) : 0;
	struct sock_filter *f = size > 0 ? malloc((size_t)size) : NULL;
	if (e == 0 && (!f || pread(mfd, f, (size_t)size, 0) != size))
		e = -EIO;
	if (mfd >= 0)
		close(mfd);
	if (e < 0) {
		free(f);
		return e;
	}
	engine_filter.filter = f;
	engine_filter.len = (unsigned short)(size / (off_t)sizeof(*f));
	return 0;
}

/* In the child: only its socket, nobody with nothing (privdrop.h), then
 * only engine_syscalls. Any failure ends it before it reads a byte. */
static void engine_confine(int fd)
{
	if (close_range(3, (unsigned)fd - 1, 0) < 0 || close_range((unsigned)fd + 1, ~0u, 0) < 0)
		_exit(120);
	if (privdrop_to_nobody() < 0)
		_exit(121);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &engine_filter) < 0)
		_exit(124);
}

static _Noreturn void engine_main(int fd)
{
	engine_confine(fd);
	static uint8_t req[DHCP_ENGINE_MAX_REQUEST];
	static struct dhcp_engine_answer a;
	for (;;) {
		ssize_t n = read(fd, req, sizeof(req));
		if (n <= 0)
			_exit(0); /* netd is gone, or stops us */
		if (dhcp_engine_serve(req, (size_t)n, &a) < 0)
			_exit(125); /* netd sent what it never sends */
		if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(126);
	}
}

int engine_start(struct engine *e)
{
	e->pid = -1;
	e->fd = -1;
	int r = filter_build();
	if (r < 0)
		return r;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		engine_main(sv[1]);
	}
	close(sv[1]);
	e->pid = pid;
	e->fd = sv[0];
	return 0;
}

void engine_stop(struct engine *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
	}
	e->pid = -1;
}

static void engine_restart(struct engine *e, const char *why)
{
	int st = 0;
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, &st, 0);
	}
	log_warn("DHCP engine (pid %d) %s (%s %d); starting another", (int)e->pid, why,
		 WIFSIGNALED(st) ? "signal" : "status",
		 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	close(e->fd);
	if (engine_start(e) < 0)
		log_err("DHCP engine: cannot start another");
}

int engine_ask(struct engine *e, const struct dhcp_network *net, const uint8_t src_mac[6],
	       const uint8_t *packet, size_t len, struct dhcp_engine_answer *a)
{
	static uint8_t req[DHCP_ENGINE_MAX_REQUEST];
	if (e->fd < 0 && engine_start(e) < 0)
		return -ECHILD;
	size_t n = dhcp_engine_request(++e->seq, net, src_mac, packet, len, req, sizeof(req));
	if (!n)
		return -E2BIG;
	if (send(e->fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		engine_restart(e, "does not take requests");
		return -EPIPE;
	}
	struct pollfd p = { .fd = e->fd, .events = POLLIN };
	if (poll(&p, 1, ENGINE_TIMEOUT_MS) != 1) {
		engine_restart(e, "did not answer in time");
		return -ETIMEDOUT;
	}
	ssize_t got = recv(e->fd, a, sizeof(*a), 0);
	if (got <= 0 || dhcp_engine_check(a, (size_t)got, e->seq) < 0) {
		engine_restart(e, got <= 0 ? "is gone" : "answered out of turn");
		return -EPROTO;
	}
	return 0;
}
