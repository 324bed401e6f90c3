#define _GNU_SOURCE
#include "frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <microhttpd.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_exec.h"
#include "api_machine.h"
#include "capture.h"
#include "capture_stream.h"
#include "channel.h"
#include "log.h"
#include "pcapio.h"
#include "plan_wire.h"
#include "privdrop.h"
#include "util.h"


struct exec_session;

struct frontend {
	struct MHD_Daemon *d;
	int ep;            /* the loop's epoll set: MHD's, the channel, exec streams */
	int chan;          /* to netd's parent */
	uid_t owner;       /* netd's own user */
	gid_t admin_gid;   /* netd's group when none was given */
	gid_t read_gid;    /* -1: none */
	struct manifest_limits limits; /* netd's, for the manifests it plans */
	struct api_backend backend;    /* the parent, over chan */
	char *keep;        /* what the parent's last answer points into */
	struct MHD_Connection *current; /* the request being routed */
	struct pending *current_p;
	struct exec_session *sessions;
	size_t n_sessions;
	struct MHD_Response *stream; /* a capture the request being routed opened */
};

enum role { ROLE_NONE, ROLE_READ, ROLE_ADMIN };

/* A request while its body comes in. */
struct pending {
	char *body;
	size_t len;
	bool too_big;
	enum role role;
	bool answered;             /* a deferred answer is ready */
	struct api_response answer;
};

/* An exec under way: the stream netd's parent opened to the machine,
 * what is still to be written to it, what came back. Its connection is
 * suspended until the command's end, or the deadline. */
struct exec_session {
	enum fe_watch kind; /* FE_EXEC: first, as epoll's data points here */
	struct exec_session *next;
	int fd;
	struct MHD_Connection *c;
	struct pending *p;
	uint8_t *wire;
	size_t wire_len, wire_off;
	struct api_exec_result res;
	double deadline;
};

#define EXEC_SESSIONS_MAX 64
#define EXEC_GRACE_S 30 /* beyond the command's timeout, for the stream */

static bool in_group(const struct ucred *cr, gid_t g)
{
	if (cr->gid == g)
		return true;
	char buf[4096];
	struct passwd pw, *found = NULL;
	if (getpwuid_r(cr->uid, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return false;
	gid_t groups[256];
	int n = 256;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* The socket's mode lets someone connect; this says what they may do. */
static enum role peer_role(const struct frontend *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (!i || getsockopt(i->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return ROLE_NONE;
	if (cr.uid == 0 || cr.uid == h->owner || in_group(&cr, h->admin_gid))
		return ROLE_ADMIN;
	if (h->read_gid != (gid_t)-1 && in_group(&cr, h->read_gid))
		return ROLE_READ;
	return ROLE_NONE;
}


static enum MHD_Result respond(struct MHD_Connection *c, const struct api_response *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		r->len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result forbidden(struct MHD_Connection *c, const char *why)
{
	struct api_response r = { 0 };
	api_error(&r, 403, "forbidden", why, 0, 0);
	enum MHD_Result ret = respond(c, &r);
	api_response_free(&r);
	return ret;
}

static enum MHD_Result too_big(struct MHD_Connection *c)
{
	struct api_response r = { 0 };
	char msg[96];
	snprintf(msg, sizeof(msg), "the body is larger than %d bytes", API_MAX_BODY);
	api_error(&r, 413, "too_large", msg, 0, 0);
	enum MHD_Result ret = respond(c, &r);
	api_response_free(&r);
	return ret;
}

/* --- The parent as the router's backend ---------------------------------- */

/* How long the front end waits on the CPU for a short answer. */
#define FRONTEND_SPIN_US 1000

static void forward(struct frontend *h, const struct channel_request *rq,
		    struct api_response *r)
{
	free(h->keep);
	h->keep = NULL;
	if (channel_send_request(h->chan, rq) < 0)
		_exit(0); /* netd is gone: so are we */
	/* All but a PUT are answered in well under a millisecond: waiting
	 * for that on the CPU spares the wakeup of a sleeping one, which on
	 * a VM costs as much as the answer itself. */
	if (rq->op != CHANNEL_PUT)
		channel_await(h->chan, FRONTEND_SPIN_US);
	if (channel_recv_response(h->chan, r, &h->keep) < 0)
		_exit(0);
}

static void fwd_health(void *ctx, struct api_response *r)
{
	forward(ctx, &(struct channel_request){ .op = CHANNEL_HEALTH, .name = "" }, r);
}

static void fwd_list(void *ctx, bool text, struct api_response *r)
{
	forward(ctx, &(struct channel_request){ .op = CHANNEL_LIST, .text = text, .name = "" }, r);
}

static void fwd_get(void *ctx, const char *name, bool text, struct api_response *r)
{
	forward(ctx, &(struct channel_request){ .op = CHANNEL_GET, .text = text, .name = name }, r);
}

static void fwd_stats(void *ctx, const char *name, bool text, struct api_response *r)
{
	forward(ctx, &(struct channel_request){ .op = CHANNEL_STATS, .text = text, .name = name },
		r);
}

static void fwd_del(void *ctx, const char *name, struct api_response *r)
{
	forward(ctx, &(struct channel_request){ .op = CHANNEL_DELETE, .name = name }, r);
}

static void session_end(struct frontend *h, struct exec_session *s, bool late)
{
	struct pending *p = s->p;
	if (late)
		api_error(&p->answer, 504, "machine_timeout",
			  "the machine did not answer within the command's timeout", 0, 0);
	else
		api_exec_answer(&s->res, &p->answer);
	p->answered = true;
	MHD_resume_connection(s->c);
	close(s->fd);
	for (struct exec_session **at = &h->sessions; *at; at = &(*at)->next)
		if (*at == s) {
			*at = s->next;
			break;
		}
	h->n_sessions--;
	free(s->wire);
	api_exec_result_free(&s->res);
	free(s);
}

static void session_io(struct frontend *h, struct exec_session *s, uint32_t events)
{
	if ((events & EPOLLOUT) && s->wire_off < s->wire_len) {
		ssize_t n = write(s->fd, s->wire + s->wire_off, s->wire_len - s->wire_off);
		if (n > 0)
			s->wire_off += (size_t)n;
		if (s->wire_off == s->wire_len) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
			epoll_ctl(h->ep, EPOLL_CTL_MOD, s->fd, &ev);
		}
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	uint8_t buf[65536];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || api_exec_feed(&s->res, buf, (size_t)n))
		session_end(h, s, false);
}

/* The stream to the machine from the parent, and the request written to
 * it as the stream takes it; the answer is deferred (status 0). */
static void fwd_exec(void *ctx, const char *name, const char *machine, const struct api_exec *x,
		     struct api_response *r)
{
	struct frontend *h = ctx;
	if (h->n_sessions == EXEC_SESSIONS_MAX)
		return api_error(r, 503, "busy", "too many commands under way: try again", 0, 0);
	forward(h, &(struct channel_request){ .op = CHANNEL_EXEC, .name = name, .machine = machine },
		r);
	if (r->status != 200)
		return;
	int fd = channel_recv_fd(h->chan);
	if (fd < 0)
		_exit(0); /* the parent wrote out of turn */
	api_response_free(r);
	struct exec_session *s = calloc(1, sizeof(*s));
	if (!s || api_exec_wire(x, &s->wire, &s->wire_len) < 0) {
		free(s);
		close(fd);
		return api_error(r, 500, "memory", "out of memory", 0, 0);
	}
	s->kind = FE_EXEC;
	s->fd = fd;
	s->c = h->current;
	s->p = h->current_p;
	s->deadline = now_seconds() + x->timeout_s + EXEC_GRACE_S;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = s };
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(s->wire);
		free(s);
		close(fd);
		return api_error(r, 500, "epoll", strerror(errno), 0, 0);
	}
	s->next = h->sessions;
	h->sessions = s;
	h->n_sessions++;
	r->status = 0;
}

static void fwd_machine(void *ctx, const char *name, const char *machine,
			const struct api_machine_op *op, struct api_response *r)
{
	char action[API_MACHINE_OP_MAX];
	if (api_machine_op_format(op, action, sizeof(action)) < 0)
		return api_error(r, 500, "action", "the action does not fit the channel", 0, 0);
	forward(ctx,
		&(struct channel_request){ .op = CHANNEL_MACHINE, .name = name, .machine = machine,
					   .action = action },
		r);
}

/* The client's filter is compiled here, never in the parent, which opens
 * the packet socket and hands it over with the pipe that ends it. */
static void fwd_capture(void *ctx, const char *name, const char *target,
			struct api_response *r)
{
	struct frontend *h = ctx;
	/* Frames carry what machines say to each other: more than a read. */
	if (h->current_p->role != ROLE_ADMIN)
		return api_error(r, 403, "forbidden",
				 "a capture needs netd's group: this user may only read", 0, 0);
	if (capture_stream_count() >= CAPTURE_MAX)
		return api_error(r, 503, "busy", "too many captures under way: try again later", 0,
				 0);
	const char *expr = MHD_lookup_connection_value(h->current, MHD_GET_ARGUMENT_KIND, "filter");
	const char *cnt = MHD_lookup_connection_value(h->current, MHD_GET_ARGUMENT_KIND, "count");
	uint64_t count = 0;
	if (cnt && !api_capture_count(cnt, &count))
		return api_error(r, 400, "invalid_count",
				 "count is a number of frames from 1 to 1000000000", 0, 0);
	struct sock_fprog prog;
	char msg[600], why[512];
	if (pcapio_filter(expr, &prog, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "filter: %s", why);
		return api_error(r, 400, "invalid_filter", msg, 0, 0);
	}
	forward(h, &(struct channel_request){ .op = CHANNEL_CAPTURE, .name = name, .machine = target },
		r);
	if (r->status != 200) {
		pcapio_filter_free(&prog);
		return;
	}
	int sock = channel_recv_fd(h->chan);
	int ctl = sock >= 0 ? channel_recv_fd(h->chan) : -1;
	if (ctl < 0)
		_exit(0); /* the parent wrote out of turn */
	api_response_free(r);
	h->stream = capture_stream_start(h->ep, h->current, sock, ctl, &prog, count);
	pcapio_filter_free(&prog);
	if (!h->stream)
		return api_error(r, 500, "capture", strerror(errno), 0, 0);
	r->status = 0;
}

static void fwd_metrics(void *ctx, struct api_response *r)
{
	forward(ctx, &(struct channel_request){ .op = CHANNEL_METRICS, .name = "" }, r);
}

/* The manifest's text and its plan, or the refusal the parent is to give
 * when the name does not answer for itself. */
static void fwd_put(void *ctx, const char *name, const struct api_manifest *m,
		    struct api_response *r)
{
	struct channel_request rq = { .op = CHANNEL_PUT, .name = name, .manifest = m->text,
				      .manifest_len = m->len };
	cleanup_free char *plan = NULL;
	if (m->plan) {
		if (!(plan = plan_wire_text(m->plan, &rq.plan_len)))
			return api_error(r, 500, "memory", "out of memory", 0, 0);
		rq.plan = plan;
	} else if (m->refusal->status != 422) {
		return api_copy(r, m->refusal); /* not the manifest's fault: ours */
	} else {
		rq.refused = true;
		rq.plan = m->refusal->body;
		rq.plan_len = m->refusal->len;
	}
	forward(ctx, &rq, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	struct frontend *h = cls;
	struct pending *p = *state;
	if (!p) {
		/* Headers only so far: refuse a declared oversize body at once. */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY)
			return too_big(c);
		if (!(p = calloc(1, sizeof(*p))))
			return MHD_NO;
		p->role = peer_role(h, c);
		*state = p;
		return MHD_YES;
	}
	if (p->answered) { /* resumed: the exec's answer */
		enum MHD_Result ret = respond(c, &p->answer);
		api_response_free(&p->answer);
		p->answered = false;
		return ret;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (p->too_big || p->len + n > API_MAX_BODY) {
			p->too_big = true; /* read and dropped: memory stays bounded */
			return MHD_YES;
		}
		char *nb = realloc(p->body, p->len + n + 1);
		if (!nb)
			return MHD_NO;
		memcpy(nb + p->len, upload, n);
		p->body = nb;
		p->len += n;
		p->body[p->len] = '\0';
		return MHD_YES;
	}
	if (p->too_big)
		return too_big(c);
	if (p->role == ROLE_NONE)
		return forbidden(c, "this user may not use netd");
	if (p->role == ROLE_READ && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return forbidden(c, "this user may only read (GET)");
	/* The router reads and plans it here; netd's parent, which alone
	 * acts on it, gets an operation and a plan. */
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);
	struct api_response r;
	h->current = c;
	h->current_p = p;
	api_handle(&h->backend, method, url, p->body ? p->body : "", p->len,
		   api_wants_text(accept), &r);
	log_debug("%s %s -> %d", method, url, r.status);
	if (r.status == 0 && h->stream) { /* a capture, streamed */
		enum MHD_Result ret = MHD_queue_response(c, 200, h->stream);
		MHD_destroy_response(h->stream);
		h->stream = NULL;
		return ret;
	}
	if (r.status == 0) { /* an exec under way */
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	enum MHD_Result ret = respond(c, &r);
	api_response_free(&r);
	free(h->keep);
	h->keep = NULL;
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	struct pending *p = *state;
	if (p) {
		free(p->body);
		api_response_free(&p->answer);
		free(p);
		*state = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	log_debug("libmicrohttpd: %s", buf);
}

/* libmicrohttpd's own unescaping, but an escaped NUL (%00) would end the
 * path early for every reader of it as a C string (DELETE .../a%00b would
 * delete a): it becomes DEL, which no name or route has, so the request
 * is refused as it is. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
	(void)cls, (void)c;
	size_t len = MHD_http_unescape(uri);
	for (size_t i = 0; i < len; i++)
		if (uri[i] == '\0')
			uri[i] = 0x7f;
	return len;
}

static unsigned connections(const struct frontend *h)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i ? i->num_connections : 0;
}

/* At its connection limit libmicrohttpd takes the listen socket out of its
 * epoll set, and puts it back only at the start of a later MHD_run. A run
 * that closed connections (timed out, say) may be the last one for a long
 * while: with no connection left, nothing wakes the loop. So run again
 * while runs close connections; the listen socket is back after the first. */
static void run(struct frontend *h)
{
	unsigned before = connections(h);
	for (int i = 0; i < 4; i++) {
		MHD_run(h->d);
		unsigned after = connections(h);
		if (after >= before)
			return;
		before = after;
	}
}

/* What the front end may do once it serves: its sockets, epoll, the
 * allocator, and reading /etc/passwd and /etc/group for the peers' groups.
 * Anything else fails with EPERM. */
static const int frontend_syscalls[] = {
	SCMP_SYS(read),        SCMP_SYS(write),        SCMP_SYS(readv),
	SCMP_SYS(writev),      SCMP_SYS(recvfrom),     SCMP_SYS(recvmsg),
	SCMP_SYS(sendto),      SCMP_SYS(sendmsg),      SCMP_SYS(accept),
	SCMP_SYS(accept4),     SCMP_SYS(close),        SCMP_SYS(shutdown),
	SCMP_SYS(epoll_wait),  SCMP_SYS(epoll_pwait),  SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_create1),
	SCMP_SYS(getsockopt),  SCMP_SYS(setsockopt),   SCMP_SYS(fcntl),
	SCMP_SYS(mmap),        SCMP_SYS(munmap),       SCMP_SYS(mremap),
	SCMP_SYS(brk),         SCMP_SYS(madvise),      SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(poll),       SCMP_SYS(ppoll),
	SCMP_SYS(openat),      SCMP_SYS(fstat),        SCMP_SYS(newfstatat),
	SCMP_SYS(lseek),       SCMP_SYS(getpid),       SCMP_SYS(gettid),
	SCMP_SYS(exit),        SCMP_SYS(exit_group),   SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(getrandom),
};

/* nobody with nothing (privdrop.h), and frontend_syscalls. */
static int confine(void)
{
	int e = privdrop_to_nobody();
	if (e < 0)
		return e;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(frontend_syscalls); i++)
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, frontend_syscalls[i], 0);
	if (e == 0)
		e = seccomp_load(ctx);
	seccomp_release(ctx);
	return e;
}

static bool number(const char *s, long long *out)
{
	char *end;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return *s && !*end && !errno;
}

int frontend_main(int argc, char **argv)
{
	log_init("netd-frontend", LOG_LVL_INFO);
	long long v[9];
	if (argc != 11 || strcmp(argv[1], FRONTEND_FLAG) != 0) {
		log_err("usage: netd %s LISTEN_FD CHANNEL_FD OWNER ADMIN_GID READ_GID VERBOSE MACHINES NETWORKS INTERFACES",
			FRONTEND_FLAG);
		return 2;
	}
	for (int i = 0; i < 9; i++)
		if (!number(argv[i + 2], &v[i]) || (i >= 6 && v[i] <= 0)) {
			log_err("bad argument '%s'", argv[i + 2]);
			return 2;
		}
	if (v[5])
		log_set_level(LOG_LVL_DEBUG);
	struct frontend h = { .chan = (int)v[1], .owner = (uid_t)v[2],
			      .admin_gid = (gid_t)v[3], .read_gid = (gid_t)v[4],
			      .limits = { (size_t)v[6], (size_t)v[7], (size_t)v[8] } };
	h.backend = (struct api_backend){
		.ctx = &h, .limits = &h.limits, .health = fwd_health, .list = fwd_list,
		.get = fwd_get, .put = fwd_put, .del = fwd_del, .stats = fwd_stats,
		.metrics = fwd_metrics, .exec = fwd_exec, .machine = fwd_machine,
		.capture = fwd_capture,
	};
	/* Started before it gives up its user, as it reads no request yet. */
	h.d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
			       NULL, NULL, on_request, &h,
			       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &h,
			       MHD_OPTION_LISTEN_SOCKET, (int)v[0],
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, &h,
			       MHD_OPTION_UNESCAPE_CALLBACK, unescape, &h,
			       MHD_OPTION_END);
	const union MHD_DaemonInfo *i = h.d ? MHD_get_daemon_info(h.d, MHD_DAEMON_INFO_EPOLL_FD)
					    : NULL;
	if (!i) {
		log_err("libmicrohttpd did not start");
		_exit(3);
	}
	int ep = h.ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &h.d };
	struct epoll_event cev = { .events = EPOLLIN, .data.ptr = &h.chan };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, i->epoll_fd, &ev) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, h.chan, &cev) < 0) {
		log_errno(LOG_LVL_ERR, errno, "epoll");
		_exit(3);
	}
	int e = confine();
	if (e < 0) {
		log_errno(LOG_LVL_ERR, -e, "give up privileges");
		_exit(3);
	}
	for (;;) {
		MHD_UNSIGNED_LONG_LONG ms;
		double timeout = MHD_get_timeout(h.d, &ms) == MHD_YES ? (double)(ms > 60000 ? 60000 : ms) : -1;
		double now = now_seconds();
		for (struct exec_session *s = h.sessions; s; s = s->next) {
			double left = s->deadline > now ? (s->deadline - now) * 1e3 : 0;
			if (timeout < 0 || left < timeout)
				timeout = left;
		}
		struct epoll_event got[16];
		int n = epoll_wait(ep, got, 16, timeout < 0 ? -1 : (int)timeout + 1);
		for (int k = 0; k < n; k++) {
			void *who = got[k].data.ptr;
			if (who == &h.chan)
				_exit(0); /* netd's end closed, or it wrote out of turn */
			if (who == &h.d)
				continue;
			if (*(enum fe_watch *)who == FE_EXEC)
				session_io(&h, who, got[k].events);
			else
				capture_stream_event(who, got[k].events);
		}
		now = now_seconds();
		for (struct exec_session *s = h.sessions, *next; s; s = next) {
			next = s->next;
			if (now >= s->deadline)
				session_end(&h, s, true);
		}
		run(&h);
	}
}
