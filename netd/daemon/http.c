#define _GNU_SOURCE
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_machine.h"
#include "channel.h"
#include "frontend.h"
#include "log.h"
#include "plan_wire.h"
#include "util.h"

/* Requests served per wakeup, so that a busy API cannot starve DHCP. */
#define HTTP_BURST 16

struct http {
	struct api_backend b;
	struct http_access acc;
	int listen_fd;
	int chan;
	pid_t pid;
	double spawned; /* when the front end was started (now_seconds) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* The directories above a socket (/run/playnet after a reboot, or when
 * only --state-dir was put elsewhere): made as root's, 0755. */
static int make_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int listen_unix(const char *path, gid_t gid, mode_t mask, struct pn_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return pn_failx(err, -ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int e = make_parents(path);
	if (e < 0)
		return pn_fail(err, e, "directory of %s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pn_fail(err, -errno, "socket for %s", path);
	/* The state dir lock is ours, so a socket left here is a dead netd's. */
	unlink(path);
	/* Mode and group come with the bind itself (umask, fsgid): a chmod
	 * or chown by path afterwards would follow whatever a writer of the
	 * directory put there meanwhile. */
	mode_t old = umask(mask);
	int oldgid = gid != (gid_t)-1 ? setfsgid(gid) : -1;
	e = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	if (oldgid >= 0)
		setfsgid((gid_t)oldgid);
	umask(old);
	if (e == 0 && listen(fd, 256) < 0)
		e = -errno;
	if (e < 0) {
		pn_fail(err, e, "listen on %s", path);
		close(fd);
		return e;
	}
	return fd;
}

/* netd itself again, as the front end: a new image, nothing of the
 * parent's memory, its listening socket as fd 3 and its channel as fd 4. */
static _Noreturn void exec_frontend(const struct http *h, int chan)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (dup2(h->listen_fd, 3) < 0 || dup2(chan, 4) < 0 || close_range(5, ~0u, 0) < 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char owner[32], admin[32], readg[32], lim[3][24];
	gid_t a = h->acc.admin_gid != (gid_t)-1 ? h->acc.admin_gid : getegid();
	snprintf(owner, sizeof(owner), "%u", (unsigned)geteuid());
	snprintf(admin, sizeof(admin), "%u", (unsigned)a);
	snprintf(readg, sizeof(readg), "%lld",
		 h->acc.read_gid != (gid_t)-1 ? (long long)h->acc.read_gid : -1LL);
	const size_t limits[3] = { h->b.limits->max_machines, h->b.limits->max_networks,
				   h->b.limits->max_interfaces };
	for (int i = 0; i < 3; i++)
		snprintf(lim[i], sizeof(lim[i]), "%zu", limits[i]);
	char *argv[] = { "netd", FRONTEND_FLAG, "3", "4", owner, admin, readg,
			 h->acc.verbose ? "1" : "0", lim[0], lim[1], lim[2], NULL };
	execv("/proc/self/exe", argv);
	_exit(127);
}

static int spawn(struct http *h)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if (pid == 0)
		exec_frontend(h, sv[1]);
	close(sv[1]);
	h->spawned = now_seconds();
	/* A front end that stops halfway through a frame must not hold up
	 * netd: past this, it is taken for dead. */
	const struct timeval tv = { .tv_sec = 5 };
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	h->chan = sv[0];
	h->pid = pid;
	return 0;
}

static void reap(struct http *h)
{
	if (h->chan >= 0)
		close(h->chan);
	h->chan = -1;
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	h->pid = -1;
}

int http_start(const char *path, const struct http_access *acc, const struct api_backend *b,
	       struct http **out, struct pn_error *err)
{
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return pn_fail(err, -ENOMEM, "the HTTP front end");
	*h = (struct http){ .b = *b, .acc = *acc, .chan = -1, .pid = -1 };
	snprintf(h->path, sizeof(h->path), "%s", path);
	mode_t mask = acc->read_gid != (gid_t)-1 ? 0111 : 0117;
	h->listen_fd = listen_unix(path, acc->admin_gid, mask, err);
	int e = h->listen_fd;
	if (e >= 0 && (e = spawn(h)) < 0)
		pn_fail(err, e, "start the HTTP front end");
	if (e < 0) {
		if (h->listen_fd >= 0) {
			close(h->listen_fd);
			unlink(path);
		}
		free(h);
		return e;
	}
	*out = h;
	return 0;
}

int http_epoll_fd(const struct http *h)
{
	return h->chan;
}

pid_t http_frontend_pid(const struct http *h)
{
	return h->pid;
}

/* A PUT as the front end planned it: the parent reads the plan itself,
 * by its own limits, and takes nothing else on trust. */
static void put(struct http *h, const struct channel_request *rq, struct api_response *r)
{
	struct api_response refusal = { .status = 422, .content_type = "application/json" };
	struct api_manifest m = { .text = rq->manifest, .len = rq->manifest_len,
				  .refusal = &refusal };
	struct plan p;
	if (rq->refused) {
		refusal.body = (char *)(uintptr_t)rq->plan; /* only read, by api_copy */
		refusal.len = rq->plan_len;
	} else {
		struct pn_error err = PN_ERROR_INIT;
		if (plan_wire_parse(rq->plan, rq->plan_len, rq->name, h->b.limits, &p, &err) < 0) {
			log_warn("HTTP front end (pid %d) sent a plan netd refuses: %s",
				 (int)h->pid, err.msg);
			return api_error(r, 500, "invalid_plan", err.msg, 0, 0);
		}
		m.plan = &p;
	}
	h->b.put(h->b.ctx, rq->name, &m, r);
	if (m.plan)
		plan_free(&p);
}

/* The front end's action, read again as distrustfully as a plan. */
static void machine_op(struct http *h, const struct channel_request *rq, struct api_response *r)
{
	struct api_machine_op op;
	if (api_machine_op_parse(rq->action, &op) < 0) {
		log_warn("HTTP front end (pid %d) sent an action netd refuses", (int)h->pid);
		return api_error(r, 500, "invalid_action", "the front end sent a bad action", 0, 0);
	}
	if (!h->b.machine)
		return api_error(r, 501, "not_implemented", "this server changes no machines", 0, 0);
	h->b.machine(h->b.ctx, rq->name, rq->machine, &op, r);
}

static void dispatch(struct http *h, const struct channel_request *rq, struct api_response *r)
{
	const struct api_backend *b = &h->b;
	memset(r, 0, sizeof(*r));
	switch (rq->op) {
	case CHANNEL_HEALTH:
		return b->health ? b->health(b->ctx, r) : api_health(r);
	case CHANNEL_LIST:
		return b->list(b->ctx, rq->text, r);
	case CHANNEL_GET:
		return b->get(b->ctx, rq->name, rq->text, r);
	case CHANNEL_PUT:
		return put(h, rq, r);
	case CHANNEL_DELETE:
		return b->del(b->ctx, rq->name, r);
	case CHANNEL_STATS:
		return b->stats(b->ctx, rq->name, rq->text, r);
	case CHANNEL_METRICS:
		return b->metrics(b->ctx, r);
	case CHANNEL_EXEC:
	case CHANNEL_CAPTURE:
		break; /* serve_one's: they send fds */
	case CHANNEL_MACHINE:
		return machine_op(h, rq, r);
	}
}

/* An EXEC: the answer, and with a 200 the stream to the machine. */
static int exec_open(struct http *h, const struct channel_request *rq)
{
	struct api_response r = { 0 };
	int fd = h->b.exec_open ? h->b.exec_open(h->b.ctx, rq->name, rq->machine, &r) : -ENOSYS;
	if (fd == -ENOSYS)
		api_error(&r, 501, "not_implemented", "this server runs no commands in machines", 0, 0);
	if (fd >= 0)
		api_json(&r, 200, json_object_new_object());
	log_debug("exec %s/%s -> %d", rq->name, rq->machine, r.status);
	int e = channel_send_response(h->chan, &r);
	if (!e && fd >= 0)
		e = channel_send_fd(h->chan, fd);
	if (fd >= 0)
		close(fd);
	api_response_free(&r);
	return e;
}

/* A CAPTURE: the answer, and with a 200 the packet socket and the pipe
 * that ends it. */
static int capture_open(struct http *h, const struct channel_request *rq)
{
	struct api_response r = { 0 };
	int ctl = -1;
	int fd = h->b.capture_open ? h->b.capture_open(h->b.ctx, rq->name, rq->machine, &ctl, &r)
				   : -ENOSYS;
	if (fd == -ENOSYS)
		api_error(&r, 501, "not_implemented", "this server captures no packets", 0, 0);
	if (fd >= 0)
		api_json(&r, 200, json_object_new_object());
	log_debug("capture %s/%s -> %d", rq->name, rq->machine, r.status);
	int e = channel_send_response(h->chan, &r);
	if (!e && fd >= 0 && !(e = channel_send_fd(h->chan, fd)))
		e = channel_send_fd(h->chan, ctl);
	if (fd >= 0) {
		close(fd);
		close(ctl);
	}
	api_response_free(&r);
	return e;
}

/* One request, answered; false when the front end is to be made anew. */
static bool serve_one(struct http *h)
{
	struct channel_request rq;
	int e = channel_recv_request(h->chan, &rq);
	if (e < 0) {
		if (e != -EPIPE)
			log_warn("HTTP front end (pid %d) sent what is not a request", (int)h->pid);
		return false;
	}
	if (rq.op == CHANNEL_EXEC || rq.op == CHANNEL_CAPTURE) {
		e = rq.op == CHANNEL_EXEC ? exec_open(h, &rq) : capture_open(h, &rq);
		channel_request_free(&rq);
		return e == 0;
	}
	struct api_response r;
	dispatch(h, &rq, &r);
	log_debug("op %d %s -> %d", (int)rq.op, rq.name, r.status);
	e = channel_send_response(h->chan, &r);
	api_response_free(&r);
	channel_request_free(&rq);
	return e == 0;
}

void http_run(struct http *h)
{
	for (int i = 0; i < HTTP_BURST && h->chan >= 0; i++) {
		struct pollfd p = { .fd = h->chan, .events = POLLIN };
		if (poll(&p, 1, 0) != 1)
			return;
		if (serve_one(h))
			continue;
		log_warn("HTTP front end (pid %d) is gone; starting another", (int)h->pid);
		reap(h);
		/* One that dies at once would have netd do nothing but start
		 * them: at most five a second. */
		if (now_seconds() - h->spawned < 1)
			nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
		int e = spawn(h);
		if (e < 0)
			log_errno(LOG_LVL_ERR, -e, "start the HTTP front end");
		return;
	}
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	reap(h);
	close(h->listen_fd);
	unlink(h->path);
	free(h);
}
