/*
 * The way into a machine that is not its lab's network: playnet's agent
 * (pnagent) runs in every VM booted with the toolkit guest's init, and
 * answers on a channel of its own to the host.
 *
 * A connection to the agent is a stream to one of its ports, opened the
 * way Firecracker's and Cloud Hypervisor's vsock devices open one: connect
 * to the VM's agent socket (STATE/vm/P/M.agent), write "CONNECT PORT\n",
 * read "OK ...\n" (anything else, or the end: refused). Under those two
 * VMMs the socket is the vsock device's own; under QEMU, whose vhost-vsock
 * needs a kernel module many hosts lack, it is the VM's supervisor, which
 * carries every stream over one virtio-serial port (the mux frames below)
 * and answers "ERR booting" while the agent has not yet said hello.
 *
 * Ports: AGENT_PORT_EXEC runs one command (the exec frames below);
 * AGENT_PORT_SSH is the guest's own sshd, relayed to 127.0.0.1:22.
 */
#ifndef PLAYNET_AGENT_PROTO_H
#define PLAYNET_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_PORT_EXEC 1024u
#define AGENT_PORT_SSH 22u
#define AGENT_SERIAL_NAME "org.playnet.agent" /* the virtio-serial port */

/* --- An exec stream: frames of an 8-byte header (type, three zero bytes,
 * the payload's length, little-endian) and the payload. --- */
enum agent_exec_type {
	AGENT_REQUEST = 1, /* client: NUL-terminated "KEY:VALUE" fields */
	AGENT_STDIN,       /* client: bytes for the command's stdin */
	AGENT_STDIN_END,   /* client: stdin is at its end */
	AGENT_STDOUT,      /* agent */
	AGENT_STDERR,      /* agent */
	AGENT_EXIT,        /* agent, last: "exit N", "signal N", "timeout" or "error TEXT" */
};
#define AGENT_HEADER 8
#define AGENT_MAX_PAYLOAD (256 * 1024)
/* A request's fields: "a:ARG" each argument in order, "u:USER" (default
 * root), "t:SECONDS" (default none), "d:DIR" (default the user's home),
 * "e:NAME=VALUE" more environment. */

/* --- The mux of a virtio-serial port: frames of a 16-byte header (magic,
 * type, zero, stream, payload length; little-endian) and the payload.
 * Each side may send DATA on a stream up to the credit the other granted:
 * AGENT_WINDOW at OPEN, then what each CREDIT adds, so that one slow
 * stream never blocks the port. --- */
#define AGENT_MUX_MAGIC 0x6e70u /* "pn" */
#define AGENT_MUX_HEADER 16
#define AGENT_MUX_MAX_PAYLOAD (32 * 1024)
#define AGENT_WINDOW (256 * 1024)
enum agent_mux_type {
	AGENT_MUX_HELLO = 1, /* payload 0: "I started: every earlier stream is
			      * gone", answered with payload 1: "here" */
	AGENT_MUX_OPEN,      /* host: payload the port, 4 bytes */
	AGENT_MUX_OPENED,    /* agent: the stream is connected */
	AGENT_MUX_DATA,
	AGENT_MUX_EOF,       /* the sender writes no more */
	AGENT_MUX_CLOSE,     /* the stream is gone; payload: why, if refused */
	AGENT_MUX_CREDIT,    /* payload: 4 bytes more the sender may send */
};

struct agent_mux_header {
	uint16_t type;
	uint32_t stream;
	uint32_t len;
};

static inline void agent_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t agent_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void agent_mux_encode(uint8_t h[AGENT_MUX_HEADER], unsigned type,
				    uint32_t stream, uint32_t len)
{
	h[0] = (uint8_t)AGENT_MUX_MAGIC;
	h[1] = (uint8_t)(AGENT_MUX_MAGIC >> 8);
	h[2] = (uint8_t)type;
	h[3] = 0;
	agent_put32(h + 4, stream);
	agent_put32(h + 8, len);
	agent_put32(h + 12, 0);
}

/* 0 and *out for a header, -1 for bytes that are not one. */
static inline int agent_mux_decode(const uint8_t h[AGENT_MUX_HEADER],
				   struct agent_mux_header *out)
{
	if (h[0] != (uint8_t)AGENT_MUX_MAGIC || h[1] != (uint8_t)(AGENT_MUX_MAGIC >> 8) ||
	    h[2] < AGENT_MUX_HELLO || h[2] > AGENT_MUX_CREDIT || h[3] != 0)
		return -1;
	out->type = h[2];
	out->stream = agent_get32(h + 4);
	out->len = agent_get32(h + 8);
	return out->len <= AGENT_MUX_MAX_PAYLOAD ? 0 : -1;
}

/* Frame I/O of an exec stream on a blocking fd (agent_wire.c). */
int agent_write_all(int fd, const void *buf, size_t len);
int agent_read_full(int fd, void *buf, size_t len); /* 0, -EPIPE at the end, -errno */
int agent_send(int fd, enum agent_exec_type type, const void *payload, size_t len);
/* One frame: its type and payload (malloc'd, NUL-terminated; *len its
 * length). -EPIPE at the stream's end, -EPROTO for a frame too long. */
int agent_recv(int fd, enum agent_exec_type *type, char **payload, size_t *len);

/* A request's payload (malloc'd in *out): argv, and user, timeout and
 * dir where given (NULL, 0: the agent's defaults). */
int agent_request_encode(char *const *argv, const char *user, unsigned timeout_s,
			 const char *dir, char **out, size_t *len);

/* Copies in to sock and sock to out until sock ends (in's end is told to
 * sock as a half close): a relay to a stream, such as ssh's. */
void agent_relay(int in, int out, int sock);

/* Serves one exec stream on fd: reads the request, runs the command in a
 * session of its own as the user asked, streams its output, and ends with
 * AGENT_EXIT. The command is killed when the client goes or its time is
 * up. Used by pnagent and by netd for netns machines (agent_exec.c). */
void agent_exec_serve(int fd);

/* What the agent serves (agent_serve.c). */
/* In a forked handler: fd as fd 3, nothing else of the agent's open (a
 * stream's socket held there would outlive its stream). Returns 3. */
int agent_keep_only(int fd);
/* The fd of a new stream to port (a socket to a forked command server, or
 * to the guest's sshd), or -errno with why. */
int agent_open_port(uint32_t port, const char **why);
/* Serves the mux on a virtio-serial port fd (non-blocking). When its host
 * goes: waits for the next one (wait_for_host), or returns. */
void agent_serve_port(int fd, bool wait_for_host);

#endif
