/*
 * netd's parent and its HTTP front end (frontend.c) talk over a stream
 * socketpair, one length-prefixed frame a message: a request (method, path,
 * whether text is wanted, body) one way, its response the other. The parent
 * distrusts what comes: every length is checked against what arrived.
 */
#ifndef PLAYNET_CHANNEL_H
#define PLAYNET_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define CHANNEL_MAX_PATH 65536
#define CHANNEL_MAX_FRAME (API_MAX_BODY + CHANNEL_MAX_PATH + 64)

struct channel_request {
	char *method; /* NUL-terminated, in buf */
	char *path;
	char *body;   /* NUL-terminated too */
	size_t len;
	bool text;
	uint8_t *buf; /* owns them */
};

int channel_send_request(int fd, const char *method, const char *path, const char *body,
			 size_t len, bool text);
/* -EPIPE when the other side is gone, -EPROTO for a frame that is not one. */
int channel_recv_request(int fd, struct channel_request *rq);
void channel_request_free(struct channel_request *rq);

int channel_send_response(int fd, const struct api_response *r);
/* r->content_type and r->allow point into *keep, which the caller frees
 * after r. */
int channel_recv_response(int fd, struct api_response *r, char **keep);

#endif
