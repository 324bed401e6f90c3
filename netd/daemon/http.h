/*
 * The API's socket, as netd's parent holds it: the parent makes the
 * listening unix socket and starts the HTTP front end (frontend.h) on it,
 * then serves the requests the front end hands it, one at a time, from
 * netd's own epoll loop. A front end that dies or sends what is not a
 * request is started again.
 */
#ifndef PLAYNET_HTTP_H
#define PLAYNET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "api.h"
#include "pn_error.h"

struct http;

/* Who may do what, by the peer's credentials (SO_PEERCRED): root, netd's
 * own user and the members of admin_gid (netd's group when -1) everything;
 * members of read_gid (none when -1) only GET; anyone else nothing. The
 * socket's group is admin_gid, its mode 0660, or 0666 with a read_gid. */
struct http_access {
	gid_t admin_gid;
	gid_t read_gid;
	bool verbose; /* the front end logs at debug too */
};

/* Listens on path, replacing a stale socket, and starts the front end. */
int http_start(const char *path, const struct http_access *acc, const struct api_backend *b,
	       struct http **out, struct pn_error *err);
/* For the caller's epoll set: readable means call http_run. It changes
 * when a front end is started again. */
int http_epoll_fd(const struct http *h);
void http_run(struct http *h);
pid_t http_frontend_pid(const struct http *h);
void http_stop(struct http *h);

#endif
