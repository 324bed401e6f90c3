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

#endif
