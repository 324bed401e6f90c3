/* The host's side of a VM's agent: the supervisor's mux, and clients. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent_mux.h"
#include "agent_proto.h"
#include "util.h"
#include "vm_agent.h"

#define PENDING_MAX 16 /* clients that have not yet said CONNECT */
#define LINE_MAX_LEN 64

static int unix_socket(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int vm_agent_listen(const char *path)
{
	struct sockaddr_un a;
	int fd = unix_socket(path, &a);
	if (fd < 0)
		return fd;
	unlink(path);
	mode_t old = umask(0077);
	int e = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ? -errno : 0;
	umask(old);
	if (e < 0) {
		close(fd);
		return e;
	}
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a;
	int fd = unix_socket(path, &a);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* --- the supervisor's mux --- */

struct pending {
	int fd;
	size_t len;
	char line[LINE_MAX_LEN];
};

struct host {
	struct agent_mux m;
	bool ready;        /* the agent said hello */
	uint32_t next_id;
	struct pending p[PENDING_MAX];
	size_t n_pending;
};

static void say_to(int fd, const char *text)
{
	ssize_t n = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n; /* a client that went meanwhile learns nothing */
}

static void host_control(struct agent_mux *m, const struct agent_mux_header *h,
			 const uint8_t *p)
{
	struct host *H = m->ctx;
	struct agent_stream *s = agent_mux_find(m, h->stream);
	if (agent_mux_hello(m, h, p)) {
		H->ready = true;
		return;
	}
	if (h->type == AGENT_MUX_OPENED && s && !s->opened) {
		char ok[32];
		snprintf(ok, sizeof(ok), "OK %u\n", (unsigned)s->id);
		say_to(s->fd, ok);
		s->opened = true;
		return;
	}
	if (h->type == AGENT_MUX_CLOSE && s && !s->opened) {
		char err[AGENT_MUX_MAX_PAYLOAD + 8];
		int n = snprintf(err, sizeof(err), "ERR %.*s\n", (int)h->len, (const char *)p);
		/* The agent's words, one line of printable ASCII. */
		for (int i = 4; i < n - 1; i++)
			if (err[i] < 0x20 || err[i] > 0x7e)
				err[i] = '?';
		say_to(s->fd, err);
		agent_mux_drop(m, s, false, NULL);
	}
}

static void accept_client(struct host *H, int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (H->n_pending == PENDING_MAX) {
		say_to(fd, "ERR too many connections at once\n");
		close(fd);
		return;
	}
	H->p[H->n_pending++] = (struct pending){ .fd = fd };
}

static void forget_pending(struct host *H, size_t i, bool close_it)
{
	if (close_it)
		close(H->p[i].fd);
	H->p[i] = H->p[--H->n_pending];
}

/* "CONNECT PORT\n": a stream opened to the agent for the client. */
static void read_connect(struct host *H, size_t i)
{
	struct pending *c = &H->p[i];
	ssize_t n = read(c->fd, c->line + c->len, 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return forget_pending(H, i, true);
	if (c->line[c->len] != '\n') {
		if (++c->len == LINE_MAX_LEN) {
			say_to(c->fd, "ERR the line is too long\n");
			forget_pending(H, i, true);
		}
		return;
	}
	c->line[c->len] = '\0';
	unsigned port;
	char extra;
	if (sscanf(c->line, "CONNECT %u%c", &port, &extra) != 1) {
		say_to(c->fd, "ERR not CONNECT PORT\n");
		return forget_pending(H, i, true);
	}
	if (!H->ready) {
		say_to(c->fd, "ERR booting\n");
		return forget_pending(H, i, true);
	}
	uint32_t id = ++H->next_id;
	if (!agent_mux_add(&H->m, id, c->fd, false)) {
		say_to(c->fd, "ERR too many streams\n");
		return forget_pending(H, i, true);
	}
	uint8_t p[4];
	agent_put32(p, port);
	agent_mux_frame(&H->m, AGENT_MUX_OPEN, id, p, sizeof(p));
	forget_pending(H, i, false);
}

static void port_gone(struct host *H)
{
	agent_mux_reset(&H->m);
	if (H->m.port >= 0)
		close(H->m.port);
	H->m.port = -1;
	H->ready = false;
}

void vm_agent_serve(int listen_fd, const char *vport, int pidfd)
{
	struct host H = { .m = { .port = -1, .control = host_control } };
	H.m.ctx = &H;
	enum { FIXED = 2 };
	for (;;) {
		if (H.m.port < 0 && (H.m.port = connect_to(vport)) >= 0) {
			fcntl(H.m.port, F_SETFL, O_NONBLOCK);
			agent_mux_greet(&H.m);
		}
		struct pollfd p[AGENT_MUX_POLLFDS + FIXED + PENDING_MAX];
		struct agent_stream *who[AGENT_MUX_POLLFDS];
		size_t n = agent_mux_poll(&H.m, p, who);
		p[n] = (struct pollfd){ pidfd, POLLIN, 0 };
		p[n + 1] = (struct pollfd){ listen_fd, POLLIN, 0 };
		for (size_t i = 0; i < H.n_pending; i++)
			p[n + FIXED + i] = (struct pollfd){ H.p[i].fd, POLLIN, 0 };
		size_t n_pending = H.n_pending;
		int r = poll(p, n + FIXED + n_pending, H.m.port < 0 ? 50 : -1);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (p[n].revents)
			break; /* the VMM ended */
		if (agent_mux_events(&H.m, p, who, n) < 0)
			port_gone(&H);
		for (size_t i = n_pending; i-- > 0;)
			if (p[n + FIXED + i].revents)
				read_connect(&H, i);
		if (p[n + 1].revents)
			accept_client(&H, listen_fd);
	}
	while (H.n_pending)
		forget_pending(&H, 0, true);
	port_gone(&H);
	agent_mux_free(&H.m);
}

/* --- clients --- */

/* The answer to CONNECT, a byte at a time: what follows is the stream's. */
static int read_line(int fd, char *line, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		ssize_t r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return n ? 0 : -EPIPE;
}

static int try_connect(const char *sock, unsigned port, char *why, size_t why_len)
{
	int fd = connect_to(sock);
	if (fd < 0) {
		snprintf(why, why_len, "cannot connect to %s: %s", sock, strerror(-fd));
		return fd == -ENOENT || fd == -ECONNREFUSED ? -EAGAIN : fd;
	}
	char req[32], line[512];
	snprintf(req, sizeof(req), "CONNECT %u\n", port);
	if (agent_write_all(fd, req, strlen(req)) < 0 || read_line(fd, line, sizeof(line)) < 0) {
		close(fd);
		snprintf(why, why_len, "the agent closed the connection");
		return -ECONNREFUSED;
	}
	if (strncmp(line, "OK", 2) == 0)
		return fd;
	close(fd);
	if (strcmp(line, "ERR booting") == 0) {
		snprintf(why, why_len, "the machine is booting: its agent has not started yet");
		return -EAGAIN;
	}
	snprintf(why, why_len, "%s", strncmp(line, "ERR ", 4) == 0 ? line + 4 : line);
	return -ECONNREFUSED;
}

int vm_agent_connect(const char *sock, unsigned port, unsigned wait_ms, char *why,
		     size_t why_len)
{
	long until = now_ms() + wait_ms;
	for (;;) {
		int fd = try_connect(sock, port, why, why_len);
		if (fd != -EAGAIN)
			return fd;
		if (now_ms() >= until)
			return -ETIMEDOUT;
		struct timespec t = { 0, 100 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
}

static int send_request(int fd, const struct vm_agent_command *c)
{
	char *buf;
	size_t len;
	int e = agent_request_encode(c->argv, c->user, c->timeout_s, c->dir, &buf, &len);
	if (e < 0)
		return e;
	e = agent_send(fd, AGENT_REQUEST, buf, len);
	free(buf);
	return e;
}

/* stdin given whole: in frames, then its end. */
static int send_stdin_data(int fd, const char *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off < 65536 ? len - off : 65536;
		int e = agent_send(fd, AGENT_STDIN, p + off, n);
		if (e < 0)
			return e;
		off += n;
	}
	return agent_send(fd, AGENT_STDIN_END, NULL, 0);
}

static void parse_end(const char *text, struct vm_agent_result *r)
{
	if (sscanf(text, "exit %d", &r->code) == 1) {
		r->how = VM_AGENT_EXITED;
	} else if (sscanf(text, "signal %d", &r->code) == 1) {
		r->how = VM_AGENT_SIGNALED;
	} else if (strcmp(text, "timeout") == 0) {
		r->how = VM_AGENT_TIMED_OUT;
	} else {
		r->how = VM_AGENT_FAILED;
		snprintf(r->error, sizeof(r->error), "%s",
			 strncmp(text, "error ", 6) == 0 ? text + 6 : text);
	}
}

/* One frame from the agent: output to the sink, or the end (1). */
static int from_agent(int fd, vm_agent_sink *sink, void *ctx, struct vm_agent_result *r)
{
	enum agent_exec_type type;
	char *p;
	size_t len;
	int e = agent_recv(fd, &type, &p, &len);
	if (e < 0)
		return e;
	if (type == AGENT_STDOUT || type == AGENT_STDERR)
		sink(ctx, type == AGENT_STDOUT ? 1 : 2, p, len);
	if (type == AGENT_EXIT)
		parse_end(p, r);
	free(p);
	return type == AGENT_EXIT;
}

int vm_agent_exec(int fd, const struct vm_agent_command *c, vm_agent_sink *sink, void *ctx,
		  struct vm_agent_result *r)
{
	memset(r, 0, sizeof(*r));
	r->how = VM_AGENT_FAILED;
	int e = send_request(fd, c);
	if (!e && c->stdin_fd < 0)
		e = send_stdin_data(fd, c->stdin_data, c->stdin_data ? c->stdin_len : 0);
	bool in_open = !e && c->stdin_fd >= 0;
	while (!e) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { c->stdin_fd, in_open ? POLLIN : 0, 0 } };
		if (poll(p, in_open ? 2 : 1, -1) < 0) {
			e = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (in_open && p[1].revents) {
			char buf[65536];
			ssize_t n = read(c->stdin_fd, buf, sizeof(buf));
			if (n > 0) {
				e = agent_send(fd, AGENT_STDIN, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				in_open = false;
				e = agent_send(fd, AGENT_STDIN_END, NULL, 0);
			}
		}
		if (!e && p[0].revents) {
			int got = from_agent(fd, sink, ctx, r);
			if (got == 1)
				return 0;
			e = got;
		}
	}
	snprintf(r->error, sizeof(r->error), "the stream to the agent broke: %s",
		 e == -EPIPE ? "it closed" : strerror(-e));
	return e;
}

int vm_agent_exit_code(const struct vm_agent_result *r)
{
	switch (r->how) {
	case VM_AGENT_EXITED:
		return r->code;
	case VM_AGENT_SIGNALED:
		return 128 + r->code;
	case VM_AGENT_TIMED_OUT:
		return 124;
	default:
		return 255;
	}
}

void vm_agent_discard(void *ctx, int which, const char *p, size_t n)
{
	(void)ctx, (void)which, (void)p, (void)n;
}

int vm_agent_wait_booted(const char *sock, unsigned wait_ms, char *why, size_t why_len)
{
	static char probe[] =
		"while case \"$(readlink /proc/1/exe)\" in */systemd) true ;; *) false ;; esac; do\n"
		"	case \"$(systemctl is-system-running 2>/dev/null)\" in\n"
		"	offline|initializing|starting|'') sleep 0.5 ;;\n"
		"	*) exit 0 ;;\n"
		"	esac\n"
		"done\n";
	long until = now_ms() + wait_ms;
	int fd = vm_agent_connect(sock, AGENT_PORT_EXEC, wait_ms, why, why_len);
	if (fd < 0)
		return fd;
	long left = until - now_ms();
	char *argv[] = { "sh", "-c", probe, NULL };
	struct vm_agent_command c = { .argv = argv, .timeout_s = left > 1000 ? (unsigned)(left / 1000) : 1,
				      .stdin_fd = -1 };
	struct vm_agent_result r;
	int e = vm_agent_exec(fd, &c, vm_agent_discard, NULL, &r);
	close(fd);
	if (e < 0)
		snprintf(why, why_len, "%s", r.error);
	else if (r.how == VM_AGENT_TIMED_OUT)
		snprintf(why, why_len, "the machine's init has not finished booting (waited %u s)",
			 wait_ms / 1000);
	else if (r.how == VM_AGENT_FAILED)
		snprintf(why, why_len, "%s", r.error);
	return e < 0 ? e : r.how == VM_AGENT_TIMED_OUT ? -ETIMEDOUT : r.how == VM_AGENT_FAILED ? -EIO : 0;
}
