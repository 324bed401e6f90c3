/*
 * Many streams over one virtio-serial port (agent_proto.h's mux frames),
 * the same on both of its ends: pnagent in the guest and the VM's
 * supervisor on the host. Each stream is an fd on this side (a client's
 * connection, or what the agent serves); DATA goes out only within the
 * credit the other side granted, so a stream whose reader is slow stops
 * itself and no other. Frames about opening and hello are the caller's
 * (control). Built into pnagent too: libc only.
 */
#ifndef PLAYNET_AGENT_MUX_H
#define PLAYNET_AGENT_MUX_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_proto.h"

#define AGENT_MUX_STREAMS 64
#define AGENT_MUX_POLLFDS (AGENT_MUX_STREAMS + 1)

struct agent_buf {
	uint8_t *p;
	size_t len, cap;
};

struct agent_stream {
	bool used;
	bool opened;       /* data flows (until then: the caller's) */
	uint32_t id;
	int fd;
	size_t credit;     /* what the other side still takes */
	size_t unacked;    /* written to fd, not yet granted back */
	struct agent_buf out; /* from the port, for fd */
	bool peer_eof, local_eof;
	bool write_dead;   /* fd takes no more: what comes is dropped, and granted */
};

struct agent_mux;
/* HELLO, OPEN, OPENED, and CLOSE of a stream not opened yet. */
typedef void agent_mux_control_fn(struct agent_mux *m, const struct agent_mux_header *h,
				  const uint8_t *payload);

struct agent_mux {
	int port;              /* -1: none */
	struct agent_buf in, out;
	struct agent_stream s[AGENT_MUX_STREAMS];
	agent_mux_control_fn *control;
	void *ctx;
};

/* Queues a frame for the port. */
void agent_mux_frame(struct agent_mux *m, unsigned type, uint32_t stream,
		     const void *payload, size_t len);
/* A new stream on fd (made non-blocking), or NULL when all are taken. */
struct agent_stream *agent_mux_add(struct agent_mux *m, uint32_t id, int fd, bool opened);
struct agent_stream *agent_mux_find(struct agent_mux *m, uint32_t id);
/* Closes its fd; tell: a CLOSE frame (with why, when not NULL) goes out. */
void agent_mux_drop(struct agent_mux *m, struct agent_stream *s, bool tell, const char *why);
/* Says hello as one that started anew (each end, once its port is open). */
void agent_mux_greet(struct agent_mux *m);
/* For control: a HELLO handled (true). A greeting drops every stream and
 * is answered; an answer only says the other end is there. Without the
 * two kinds, an answer would drop the streams opened since the greeting. */
bool agent_mux_hello(struct agent_mux *m, const struct agent_mux_header *h, const uint8_t *p);
/* Every stream dropped, nothing queued either way (the other end went;
 * not from control). */
void agent_mux_reset(struct agent_mux *m);

/* The port's and the streams' pollfds (at most AGENT_MUX_POLLFDS; the
 * port's first, when there is one): n. */
size_t agent_mux_poll(struct agent_mux *m, struct pollfd *p, struct agent_stream **who);
/* Acts on what poll said. -EPIPE when the port's other end is gone
 * (read gave 0 or an error): the caller resets or stops. */
int agent_mux_events(struct agent_mux *m, const struct pollfd *p, struct agent_stream **who,
		     size_t n);

void agent_mux_free(struct agent_mux *m);

#endif
