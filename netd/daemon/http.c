#define _GNU_SOURCE
#include "http.h"

#include <errno.h>
#include <grp.h>
#include <microhttpd.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

struct http {
	struct MHD_Daemon *d;
	struct api_backend b;
	struct http_access acc;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

enum role { ROLE_NONE, ROLE_READ, ROLE_ADMIN };

/* A request while its body comes in. */
struct pending {
	char *body;
	size_t len;
	bool too_big;
	enum role role;
};

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
static enum role peer_role(const struct http *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (!i || getsockopt(i->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return ROLE_NONE;
	gid_t admin = h->acc.admin_gid != (gid_t)-1 ? h->acc.admin_gid : getegid();
	if (cr.uid == 0 || cr.uid == geteuid() || in_group(&cr, admin))
		return ROLE_ADMIN;
	if (h->acc.read_gid != (gid_t)-1 && in_group(&cr, h->acc.read_gid))
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	struct http *h = cls;
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
	struct api_response r;
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);
	api_handle(&h->b, method, url, p->body ? p->body : "", p->len, api_wants_text(accept),
		   &r);
	log_debug("%s %s -> %d", method, url, r.status);
	enum MHD_Result ret = respond(c, &r);
	api_response_free(&r);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	struct pending *p = *state;
	if (p) {
		free(p->body);
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

static int listen_unix(const char *path, gid_t gid, mode_t mask, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The state dir lock is ours, so a socket left here is a dead netd's. */
	unlink(path);
	/* Mode and group come with the bind itself (umask, fsgid): a chmod
	 * or chown by path afterwards would follow whatever a writer of the
	 * directory put there meanwhile. */
	mode_t old = umask(mask);
	int oldgid = gid != (gid_t)-1 ? setfsgid(gid) : -1;
	int e = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	if (oldgid >= 0)
		setfsgid((gid_t)oldgid);
	umask(old);
	if (e == 0 && listen(fd, 256) < 0)
		e = -errno;
	if (e < 0) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(-e));
		close(fd);
		return e;
	}
	return fd;
}

int http_start(const char *path, const struct http_access *acc, const struct api_backend *b,
	       struct http **out, char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->b = *b;
	h->acc = *acc;
	snprintf(h->path, sizeof(h->path), "%s", path);
	mode_t mask = acc->read_gid != (gid_t)-1 ? 0111 : 0117;
	int fd = listen_unix(path, acc->admin_gid, mask, err, errlen);
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "libmicrohttpd did not start on %s", path);
		close(fd);
		unlink(path);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

int http_epoll_fd(const struct http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

static unsigned connections(const struct http *h)
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
void http_run(struct http *h)
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

long long http_timeout_ms(const struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	return MHD_get_timeout(h->d, &ms) == MHD_YES ? (long long)ms : -1;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	unlink(h->path);
	free(h);
}
