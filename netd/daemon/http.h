/*
 * HTTP/1.1 on a unix socket through libmicrohttpd, driven from netd's own
 * epoll loop: its sockets are non-blocking, so a slow or half-sent request
 * never holds up another client. Bodies are bounded (413 past API_MAX_BODY).
 */
#ifndef PLAYNET_HTTP_H
#define PLAYNET_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include "api.h"

struct http;

/* Listens on path (mode 0660, group gid unless -1), replacing a stale one. */
/* Who may do what, by the peer's credentials (SO_PEERCRED): root, netd's
 * own user and the members of admin_gid (netd's group when -1) everything;
 * members of read_gid (none when -1) only GET; anyone else nothing. The
 * socket's group is admin_gid, its mode 0660, or 0666 with a read_gid. */
struct http_access {
	gid_t admin_gid;
	gid_t read_gid;
};

int http_start(const char *path, const struct http_access *acc, const struct api_backend *b,
	       struct http **out, char *err, size_t errlen);
/* For the caller's epoll set: readable means call http_run. */
int http_epoll_fd(const struct http *h);
void http_run(struct http *h);
/* Milliseconds until libmicrohttpd wants to run anyway, or -1. */
long long http_timeout_ms(const struct http *h);
void http_stop(struct http *h);

#endif
