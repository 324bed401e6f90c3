/* One command for an exec stream (agent_proto.h): run in a session of its
 * own as the user asked, its stdin fed from the stream, its stdout and
 * stderr streamed back apart, its end told last. Built into pnagent, so it
 * needs nothing but libc (and util.h's inline helpers): users are read from /etc/passwd and /etc/group
 * themselves (a static binary has no NSS). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_proto.h"
#include "util.h"

#define MAX_ARGS 4096
#define MAX_ENV 256
#define MAX_GROUPS 64

struct request {
	char *argv[MAX_ARGS + 1];
	size_t argc;
	char *env[MAX_ENV + 1];
	size_t n_env;
	const char *user;
	const char *dir;
	long timeout_s; /* 0: none */
};

struct account {
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	int n_groups;
	char home[256];
	char shell[256];
};

static int parse_request(char *p, size_t len, struct request *rq, const char **why)
{
	rq->user = "root";
	for (char *end = p + len; p < end; p += strlen(p) + 1) {
		if (strlen(p) < 2 || p[1] != ':') {
			*why = "a request field is not KEY:VALUE";
			return -1;
		}
		char *v = p + 2;
		switch (p[0]) {
		case 'a':
			if (rq->argc == MAX_ARGS) {
				*why = "too many arguments";
				return -1;
			}
			rq->argv[rq->argc++] = v;
			break;
		case 'e':
			if (rq->n_env == MAX_ENV || !strchr(v, '=')) {
				*why = "an environment field is not NAME=VALUE, or too many";
				return -1;
			}
			rq->env[rq->n_env++] = v;
			break;
		case 'u':
			rq->user = v;
			break;
		case 'd':
			rq->dir = v;
			break;
		case 't':
			rq->timeout_s = strtol(v, NULL, 10);
			break;
		default:
			break; /* a field of a later client */
		}
	}
	if (!rq->argc) {
		*why = "no command";
		return -1;
	}
	return 0;
}

/* The user's line of /etc/passwd: name:x:uid:gid:gecos:home:shell. */
static int find_account(const char *user, struct account *a)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return -1;
	char line[1024];
	int found = -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *field[7];
		char *s = line;
		int n = 0;
		for (; n < 7 && s; n++)
			field[n] = strsep(&s, ":");
		if (n < 7 || strcmp(field[0], user) != 0)
			continue;
		a->uid = (uid_t)strtoul(field[2], NULL, 10);
		a->gid = (gid_t)strtoul(field[3], NULL, 10);
		snprintf(a->home, sizeof(a->home), "%s", field[5][0] ? field[5] : "/");
		snprintf(a->shell, sizeof(a->shell), "%s", field[6][0] ? field[6] : "/bin/sh");
		found = 0;
	}
	fclose(f);
	if (found < 0)
		return -1;
	/* Its groups: the primary and each that lists it. */
	a->groups[a->n_groups++] = a->gid;
	if (!(f = fopen("/etc/group", "re")))
		return 0;
	while (a->n_groups < MAX_GROUPS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *s = line;
		char *name = strsep(&s, ":"), *pw = strsep(&s, ":"), *gid = strsep(&s, ":");
		(void)name, (void)pw;
		if (!gid || !s)
			continue;
		for (char *m; (m = strsep(&s, ","));)
			if (strcmp(m, user) == 0)
				a->groups[a->n_groups++] = (gid_t)strtoul(gid, NULL, 10);
	}
	fclose(f);
	return 0;
}

static void __attribute__((noreturn))
run_child(const struct request *rq, const struct account *a, int in, int out, int err)
{
	setsid();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (getuid() == 0 && (setgroups((size_t)a->n_groups, a->groups) < 0 ||
			      setgid(a->gid) < 0 || setuid(a->uid) < 0)) {
		dprintf(2, "pnagent: cannot become %s: %s\n", rq->user, strerror(errno));
		_exit(126);
	}
	const char *dir = rq->dir ? rq->dir : a->home;
	if (chdir(dir) < 0 && (rq->dir || chdir("/") < 0)) {
		dprintf(2, "pnagent: cannot enter %s: %s\n", dir, strerror(errno));
		_exit(126);
	}
	clearenv();
	setenv("HOME", a->home, 1);
	setenv("USER", rq->user, 1);
	setenv("LOGNAME", rq->user, 1);
	setenv("SHELL", a->shell, 1);
	setenv("PATH", a->uid ? "/usr/local/bin:/usr/bin:/bin" :
				"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	for (size_t i = 0; i < rq->n_env; i++)
		putenv(rq->env[i]);
	execvp(rq->argv[0], rq->argv);
	dprintf(2, "pnagent: %s: %s\n", rq->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

struct session {
	int sock, in, out, err, pidfd;
	pid_t pid;
	char *pending; /* stdin not yet written */
	size_t pending_len, pending_off;
	bool client_gone, timed_out, exited;
};

/* The command's output, a read's worth, to the client; false at its end. */
static bool pump(struct session *s, int *fd, enum agent_exec_type type)
{
	char buf[64 * 1024];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return false;
	}
	if (!s->client_gone && agent_send(s->sock, type, buf, (size_t)n) < 0)
		s->client_gone = true;
	return true;
}

/* A frame from the client: stdin, its end, or the client's own end. */
static void from_client(struct session *s)
{
	enum agent_exec_type type;
	char *p;
	size_t len;
	if (agent_recv(s->sock, &type, &p, &len) < 0) {
		s->client_gone = true;
		return;
	}
	if (type == AGENT_STDIN && s->in >= 0 && len) {
		s->pending = p;
		s->pending_len = len;
		s->pending_off = 0;
		return;
	}
	if (type == AGENT_STDIN_END && s->in >= 0) {
		close(s->in);
		s->in = -1;
	}
	free(p);
}

static void to_stdin(struct session *s)
{
	ssize_t n = write(s->in, s->pending + s->pending_off, s->pending_len - s->pending_off);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) { /* it closed its stdin: the rest is dropped */
		close(s->in);
		s->in = -1;
		n = (ssize_t)(s->pending_len - s->pending_off);
	}
	s->pending_off += (size_t)n;
	if (s->pending_off == s->pending_len) {
		free(s->pending);
		s->pending = NULL;
	}
}

/* Output after the command's end, of what it left running in the
 * background with its stdout: read while it comes, for so long. */
#define TRAILING_QUIET_MS 200
#define TRAILING_MAX_MS 2000

/* Until the command ends and its output is read. */
static void session_loop(struct session *s, long deadline)
{
	long quiet_until = -1, ended = -1;
	while (!s->client_gone && (!s->exited || s->out >= 0 || s->err >= 0)) {
		struct pollfd p[5];
		int n = 0, i_sock = -1, i_in = -1, i_out = -1, i_err = -1, i_pid = -1;
		if (!s->pending) {
			p[n] = (struct pollfd){ s->sock, POLLIN, 0 };
			i_sock = n++;
		} else if (s->in >= 0) {
			p[n] = (struct pollfd){ s->in, POLLOUT, 0 };
			i_in = n++;
		}
		if (s->out >= 0) {
			p[n] = (struct pollfd){ s->out, POLLIN, 0 };
			i_out = n++;
		}
		if (s->err >= 0) {
			p[n] = (struct pollfd){ s->err, POLLIN, 0 };
			i_err = n++;
		}
		if (!s->exited) {
			p[n] = (struct pollfd){ s->pidfd, POLLIN, 0 };
			i_pid = n++;
		}
		long now = now_ms(), wait = -1;
		if (deadline > 0 && !s->exited)
			wait = deadline > now ? deadline - now : 0;
		if (s->exited) {
			long until = quiet_until < ended + TRAILING_MAX_MS ? quiet_until :
									     ended + TRAILING_MAX_MS;
			wait = until > now ? until - now : 0;
		}
		int r = poll(p, (nfds_t)n, (int)wait);
		if (r < 0 && errno != EINTR)
			return;
		if (r == 0 && s->exited)
			return; /* background output may go on: it is not waited for */
		if (r == 0) {
			kill(-s->pid, SIGKILL);
			s->timed_out = true;
			deadline = 0;
			continue;
		}
		if (r < 0)
			continue;
		if (i_sock >= 0 && p[i_sock].revents)
			from_client(s);
		if (i_in >= 0 && p[i_in].revents)
			to_stdin(s);
		if (i_out >= 0 && p[i_out].revents)
			pump(s, &s->out, AGENT_STDOUT);
		if (i_err >= 0 && p[i_err].revents)
			pump(s, &s->err, AGENT_STDERR);
		if (i_pid >= 0 && p[i_pid].revents) {
			s->exited = true;
			ended = now_ms();
		}
		if (s->exited)
			quiet_until = now_ms() + TRAILING_QUIET_MS;
	}
}

static void end_with(int fd, const char *text)
{
	agent_send(fd, AGENT_EXIT, text, strlen(text));
}

void agent_exec_serve(int fd)
{
	signal(SIGPIPE, SIG_IGN);
	enum agent_exec_type type;
	char *p;
	size_t len;
	if (agent_recv(fd, &type, &p, &len) < 0)
		return;
	struct request rq = { 0 };
	struct account a = { 0 };
	const char *why = NULL;
	char msg[512], what[400];
	if (type != AGENT_REQUEST)
		why = "the stream did not begin with a request";
	else if (parse_request(p, len, &rq, &why) == 0 && find_account(rq.user, &a) < 0) {
		snprintf(what, sizeof(what), "no user %.64s in the machine's /etc/passwd", rq.user);
		why = what;
	}
	if (why) {
		snprintf(msg, sizeof(msg), "error %s", why);
		end_with(fd, msg);
		free(p);
		return;
	}
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		snprintf(msg, sizeof(msg), "error pipe: %s", strerror(errno));
		end_with(fd, msg);
		free(p);
		return;
	}
	pid_t pid = fork();
	if (pid == 0)
		run_child(&rq, &a, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pidfd < 0) {
		snprintf(msg, sizeof(msg), "error cannot start: %s", strerror(errno));
		if (pid > 0)
			kill(pid, SIGKILL);
		end_with(fd, msg);
		free(p);
		return;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	struct session s = { .sock = fd, .in = in[1], .out = out[0], .err = err[0],
			     .pidfd = pidfd, .pid = pid };
	session_loop(&s, rq.timeout_s > 0 ? now_ms() + rq.timeout_s * 1000 : 0);
	if (s.client_gone)
		kill(-pid, SIGKILL);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (s.timed_out)
		snprintf(msg, sizeof(msg), "timeout");
	else if (WIFSIGNALED(ws))
		snprintf(msg, sizeof(msg), "signal %d", WTERMSIG(ws));
	else
		snprintf(msg, sizeof(msg), "exit %d", WEXITSTATUS(ws));
	if (!s.client_gone)
		end_with(fd, msg);
	free(s.pending);
	int fds[] = { s.in, s.out, s.err, pidfd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(p);
}
