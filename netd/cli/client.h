/*
 * playnet's side of netd's API: one HTTP request over netd's unix socket
 * (libcurl), and netd started in the background when nothing listens there.
 */
#ifndef PLAYNET_CLIENT_H
#define PLAYNET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "pn_error.h"

struct client {
	const char *socket;
	const char *state_dir;  /* netd's log goes there when playnet starts it */
	const char *const *netd_argv; /* argv[0] is replaced by the netd binary found */
};

struct client_response {
	long status;
	char *body; /* NUL-terminated */
	size_t len;
};

/* text: ask for text/plain. -errno when netd cannot be reached or started;
 * err says why. Any HTTP status is a success here. */
#define CLIENT_LOG_DIR "/var/log/playnet"

/* Where a netd that playnet starts logs (PLAYNET_LOG, else under
 * CLIENT_LOG_DIR, made here if need be). */
int client_log_path(const char *state_dir, char *out, size_t len);

int client_call(const struct client *c, const char *method, const char *path,
		const char *body, size_t len, bool text, struct client_response *r,
		struct pn_error *err);
void client_response_free(struct client_response *r);

/* A GET whose answer is a stream (a capture): a 200's body goes to data
 * as it comes, never into r (which gets the status, and any other
 * answer's body); trailers (and headers) named Playnet-* go to trailer.
 * No time limit: the transfer ends with the stream, when data returns
 * false, or when stop (asked at least once a second) returns true. */
struct client_stream {
	bool (*data)(const void *buf, size_t len, void *arg);
	void (*trailer)(const char *name, const char *value, void *arg);
	bool (*stop)(void *arg);
	void *arg;
};

/* -ECANCELED when data or stop ended it; else as client_call. */
int client_stream(const struct client *c, const char *path, const struct client_stream *s,
		  struct client_response *r, struct pn_error *err);

#endif
