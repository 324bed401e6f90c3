/* Many streams over one virtio-serial port: the half both ends share. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_mux.h"

/* Frames queued for the port beyond which streams are read no more. */
#define PORT_OUT_HIGH (1024 * 1024)

static int buf_add(struct agent_buf *b, const void *data, size_t len)
{
	if (!len)
		return 0;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static void buf_drop(struct agent_buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void agent_mux_frame(struct agent_mux *m, unsigned type, uint32_t stream,
		     const void *payload, size_t len)
{
	uint8_t h[AGENT_MUX_HEADER];
	agent_mux_encode(h, type, stream, (uint32_t)len);
	size_t had = m->out.len;
	if (buf_add(&m->out, h, sizeof(h)) < 0 || buf_add(&m->out, payload, len) < 0)
		m->out.len = had; /* out of memory: the frame is lost, not half sent */
}

static void credit(struct agent_mux *m, struct agent_stream *s)
{
	uint8_t p[4];
	agent_put32(p, (uint32_t)s->unacked);
	agent_mux_frame(m, AGENT_MUX_CREDIT, s->id, p, sizeof(p));
	s->unacked = 0;
}

struct agent_stream *agent_mux_find(struct agent_mux *m, uint32_t id)
{
	for (size_t i = 0; i < AGENT_MUX_STREAMS; i++)
		if (m->s[i].used && m->s[i].id == id)
			return &m->s[i];
	return NULL;
}

struct agent_stream *agent_mux_add(struct agent_mux *m, uint32_t id, int fd, bool opened)
{
	for (size_t i = 0; i < AGENT_MUX_STREAMS; i++) {
		struct agent_stream *s = &m->s[i];
		if (s->used)
			continue;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		*s = (struct agent_stream){ .used = true, .opened = opened, .id = id, .fd = fd,
					    .credit = AGENT_WINDOW };
		return s;
	}
	return NULL;
}

void agent_mux_drop(struct agent_mux *m, struct agent_stream *s, bool tell, const char *why)
{
	if (tell)
		agent_mux_frame(m, AGENT_MUX_CLOSE, s->id, why, why ? strlen(why) : 0);
	close(s->fd);
	free(s->out.p);
	memset(s, 0, sizeof(*s));
}

/* Every stream dropped, no CLOSE told (the other end started anew). */
static void drop_all(struct agent_mux *m)
{
	for (size_t i = 0; i < AGENT_MUX_STREAMS; i++)
		if (m->s[i].used)
			agent_mux_drop(m, &m->s[i], false, NULL);
}

enum { HELLO_GREETING, HELLO_ANSWER };

void agent_mux_greet(struct agent_mux *m)
{
	uint8_t kind = HELLO_GREETING;
	agent_mux_frame(m, AGENT_MUX_HELLO, 0, &kind, 1);
}

bool agent_mux_hello(struct agent_mux *m, const struct agent_mux_header *h, const uint8_t *p)
{
	if (h->type != AGENT_MUX_HELLO)
		return false;
	if (h->len == 1 && p[0] == HELLO_GREETING) {
		uint8_t kind = HELLO_ANSWER;
		drop_all(m);
		agent_mux_frame(m, AGENT_MUX_HELLO, 0, &kind, 1);
	}
	return true;
}

void agent_mux_reset(struct agent_mux *m)
{
	drop_all(m);
	m->in.len = m->out.len = 0;
}

void agent_mux_free(struct agent_mux *m)
{
	agent_mux_reset(m);
	free(m->in.p);
	free(m->out.p);
	m->in = m->out = (struct agent_buf){ 0 };
}

/* Both ways ended and everything written: the stream is done. */
static void maybe_done(struct agent_mux *m, struct agent_stream *s)
{
	if (s->used && s->peer_eof && s->local_eof && !s->out.len)
		agent_mux_drop(m, s, true, NULL);
}

static void on_frame(struct agent_mux *m, const struct agent_mux_header *h, const uint8_t *p)
{
	struct agent_stream *s = agent_mux_find(m, h->stream);
	if (h->type == AGENT_MUX_HELLO || h->type == AGENT_MUX_OPEN ||
	    h->type == AGENT_MUX_OPENED || (s && !s->opened)) {
		m->control(m, h, p);
		return;
	}
	if (!s)
		return; /* a stream just closed here: what was under way is dropped */
	switch (h->type) {
	case AGENT_MUX_DATA:
		/* Beyond the credit granted: the other end is broken. */
		if (s->peer_eof || s->out.len + h->len > AGENT_WINDOW) {
			agent_mux_drop(m, s, true, "more data than granted");
		} else if (s->write_dead) {
			s->unacked += h->len;
			credit(m, s);
		} else if (buf_add(&s->out, p, h->len) < 0) {
			agent_mux_drop(m, s, true, "out of memory");
		}
		break;
	case AGENT_MUX_EOF:
		s->peer_eof = true;
		if (!s->out.len)
			shutdown(s->fd, SHUT_WR);
		maybe_done(m, s);
		break;
	case AGENT_MUX_CLOSE:
		agent_mux_drop(m, s, false, NULL);
		break;
	case AGENT_MUX_CREDIT:
		if (h->len == 4)
			s->credit += agent_get32(p);
		break;
	}
}

/* Each whole frame in m->in; bytes that are not a frame are skipped to
 * the next that is (the other end started anew mid-frame). */
static void parse_in(struct agent_mux *m)
{
	size_t off = 0;
	while (m->in.len - off >= AGENT_MUX_HEADER) {
		struct agent_mux_header h;
		if (agent_mux_decode(m->in.p + off, &h) < 0) {
			off++;
			continue;
		}
		if (m->in.len - off < AGENT_MUX_HEADER + h.len)
			break;
		on_frame(m, &h, m->in.p + off + AGENT_MUX_HEADER);
		off += AGENT_MUX_HEADER + h.len;
	}
	buf_drop(&m->in, off);
}

static int port_read(struct agent_mux *m)
{
	uint8_t b[64 * 1024];
	ssize_t n = read(m->port, b, sizeof(b));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -EPIPE;
	if (buf_add(&m->in, b, (size_t)n) == 0)
		parse_in(m);
	return 0;
}

static int port_write(struct agent_mux *m)
{
	ssize_t n = write(m->port, m->out.p, m->out.len);
	/* A virtio-serial port whose queue is full takes nothing (0): later. */
	if (n == 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return 0;
	if (n < 0)
		return -EPIPE;
	buf_drop(&m->out, (size_t)n);
	return 0;
}

static void stream_read(struct agent_mux *m, struct agent_stream *s)
{
	uint8_t b[AGENT_MUX_MAX_PAYLOAD];
	size_t want = s->credit < sizeof(b) ? s->credit : sizeof(b);
	ssize_t n = read(s->fd, b, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		s->local_eof = true;
		agent_mux_frame(m, AGENT_MUX_EOF, s->id, NULL, 0);
		maybe_done(m, s);
		return;
	}
	s->credit -= (size_t)n;
	agent_mux_frame(m, AGENT_MUX_DATA, s->id, b, (size_t)n);
}

static void stream_write(struct agent_mux *m, struct agent_stream *s)
{
	ssize_t n = send(s->fd, s->out.p, s->out.len, MSG_NOSIGNAL);
	if (n < 0 && errno == ENOTSOCK)
		n = write(s->fd, s->out.p, s->out.len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* Its reader went, but what it wrote before may still be
		 * unread here (a command's end): read on, drop what comes. */
		s->write_dead = true;
		s->unacked += s->out.len;
		s->out.len = 0;
		credit(m, s);
		maybe_done(m, s);
		return;
	}
	buf_drop(&s->out, (size_t)n);
	s->unacked += (size_t)n;
	if (s->unacked >= AGENT_WINDOW / 4 || !s->out.len)
		credit(m, s);
	if (!s->out.len && s->peer_eof) {
		shutdown(s->fd, SHUT_WR);
		maybe_done(m, s);
	}
}

size_t agent_mux_poll(struct agent_mux *m, struct pollfd *p, struct agent_stream **who)
{
	size_t n = 0;
	if (m->port >= 0) {
		p[n] = (struct pollfd){ m->port, (short)(POLLIN | (m->out.len ? POLLOUT : 0)), 0 };
		who[n++] = NULL;
	}
	for (size_t i = 0; i < AGENT_MUX_STREAMS; i++) {
		struct agent_stream *s = &m->s[i];
		if (!s->used || !s->opened)
			continue;
		short ev = s->out.len ? POLLOUT : 0;
		if (!s->local_eof && s->credit && m->out.len < PORT_OUT_HIGH)
			ev |= POLLIN;
		/* Nothing wanted of it: out of the set, or a hang-up poll
		 * reports anyway would spin the loop. */
		p[n] = (struct pollfd){ ev ? s->fd : -1, ev, 0 };
		who[n++] = s;
	}
	return n;
}

int agent_mux_events(struct agent_mux *m, const struct pollfd *p, struct agent_stream **who,
		     size_t n)
{
	/* The streams first: a CLOSE read from the port below may free one. */
	for (size_t i = 0; i < n; i++) {
		struct agent_stream *s = who[i];
		if (!s || !s->used || !p[i].revents)
			continue;
		if (p[i].revents & POLLOUT)
			stream_write(m, s);
		/* Without credit a read of nothing would look like its end:
		 * what is left (a command's end, say) waits for credit. */
		if (s->used && !s->local_eof && s->credit &&
		    (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			stream_read(m, s);
	}
	if (n && !who[0] && p[0].fd == m->port) {
		if ((p[0].revents & POLLOUT) && port_write(m) < 0)
			return -EPIPE;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && port_read(m) < 0)
			return -EPIPE;
	}
	return 0;
}
