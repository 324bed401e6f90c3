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
int http_start(const char *path, gid_t gid, const struct api_backend *b,
	       struct http **out, char *err, size_t errlen);
/* For the caller's epoll set: readable means call http_run. */
int http_epoll_fd(const struct http *h);
void http_run(struct http *h);
/* Milliseconds until libmicrohttpd wants to run anyway, or -1. */
long long http_timeout_ms(const struct http *h);
void http_stop(struct http *h);

#endif
