#define _GNU_SOURCE
#include "capture_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pcapio.h"

/* Bytes held for a client that reads slowly: past this the socket is
 * left alone, and the kernel drops (and counts) what does not fit. */
#define HIGH_WATER (1u << 20)
/* Frames read per wakeup, so that one busy capture cannot starve the API. */
#define BATCH 64

struct capture_stream {
	enum fe_watch w_sock, w_ctl, w_peer;
	int ep;
	struct MHD_Connection *c;
	struct MHD_Response *resp;
	int sock;  /* the packet socket; -1 once ended */
	int ctl;   /* the parent's pipe; -1 once ended */
	int peer;  /* our copy of the client's socket, to see it go */
	struct pcapio_writer *out;
	uint64_t left; /* frames still to send, with a count */
	bool counted;
	uint64_t sent, dropped;
	const char *end; /* why it ended; NULL while under way */
	bool reading;    /* sock is watched for frames */
	bool suspended;
	bool client_gone;
};

static size_t live;

#define STREAM_OF(w, member) \
	((struct capture_stream *)((char *)(w) - offsetof(struct capture_stream, member)))

size_t capture_stream_count(void)
{
	return live;
}

static void unwatch(struct capture_stream *s, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

static void set_reading(struct capture_stream *s, bool on)
{
	if (s->reading == on || s->sock < 0)
		return;
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = &s->w_sock };
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->sock, &ev) == 0)
		s->reading = on;
}

static void wake(struct capture_stream *s)
{
	if (!s->suspended)
		return;
	s->suspended = false;
	MHD_resume_connection(s->c);
}

/* What the kernel dropped for want of room, as libpcap's ps_drop. */
static void take_drops(struct capture_stream *s)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	if (s->sock >= 0 && getsockopt(s->sock, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		s->dropped += st.tp_drops;
}

static void finish(struct capture_stream *s, const char *why)
{
	if (s->end)
		return;
	s->end = why;
	take_drops(s);
	unwatch(s, &s->sock);
	unwatch(s, &s->ctl);
	wake(s);
}

static struct timeval stamp_of(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP) {
			struct timeval tv;
			memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			return tv;
		}
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (struct timeval){ t.tv_sec, t.tv_nsec / 1000 };
}

static void read_frames(struct capture_stream *s)
{
	static uint8_t frame[PCAPIO_SNAPLEN];
	const uint8_t *at;
	for (int i = 0; i < BATCH && !s->end; i++) {
		if (pcapio_pending(s->out, &at) >= HIGH_WATER) {
			set_reading(s, false);
			break;
		}
		char cbuf[CMSG_SPACE(sizeof(struct timeval))];
		struct iovec iov = { frame, sizeof(frame) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		/* MSG_TRUNC: the frame's whole length, also when cut. */
		ssize_t n = recvmsg(s->sock, &m, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			log_errno(LOG_LVL_WARN, errno, "capture: read a frame");
			finish(s, "error");
			break;
		}
		size_t len = (size_t)n < sizeof(frame) ? (size_t)n : sizeof(frame);
		struct timeval ts = stamp_of(&m);
		if (pcapio_write(s->out, &ts, frame, len, (size_t)n) < 0) {
			finish(s, "error");
			break;
		}
		s->sent++;
		if (s->counted && --s->left == 0)
			finish(s, "count");
	}
	if (pcapio_pending(s->out, &at) || s->end)
		wake(s);
}

static void trailer(struct capture_stream *s, const char *name, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	MHD_add_response_footer(s->resp, name, buf);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct capture_stream *s = cls;
	if (s->client_gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	const uint8_t *at;
	size_t n = pcapio_pending(s->out, &at);
	if (n) {
		n = n < max ? n : max;
		memcpy(buf, at, n);
		pcapio_take(s->out, n);
		if (!s->reading && pcapio_pending(s->out, &at) < HIGH_WATER / 2)
			set_reading(s, true);
		return (ssize_t)n;
	}
	if (s->end) {
		trailer(s, CAPTURE_TRAILER_PACKETS, s->sent);
		trailer(s, CAPTURE_TRAILER_DROPPED, s->dropped);
		MHD_add_response_footer(s->resp, CAPTURE_TRAILER_END, s->end);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing to send: off libmicrohttpd's loop until a frame comes
	 * (returning 0 alone would have it call again at once). */
	s->suspended = true;
	MHD_suspend_connection(s->c);
	return 0;
}

static void stream_free(void *cls)
{
	struct capture_stream *s = cls;
	take_drops(s);
	unwatch(s, &s->sock);
	unwatch(s, &s->ctl);
	unwatch(s, &s->peer);
	log_info("capture ended (%s): %" PRIu64 " frames taken, %" PRIu64 " dropped by the kernel",
		 s->end && !s->client_gone ? s->end : "client gone", s->sent, s->dropped);
	pcapio_writer_free(s->out);
	free(s);
	live--;
}

void capture_stream_event(enum fe_watch *w, uint32_t events)
{
	struct capture_stream *s;
	switch (*w) {
	case FE_CAPTURE_SOCK:
		/* frames, or an error, which read_frames meets and ends on */
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			read_frames(STREAM_OF(w, w_sock));
		return;
	case FE_CAPTURE_CTL:
		finish(STREAM_OF(w, w_ctl), "deleted");
		return;
	case FE_CAPTURE_PEER:
		s = STREAM_OF(w, w_peer);
		s->client_gone = true;
		unwatch(s, &s->peer);
		wake(s);
		return;
	case FE_EXEC:
		return;
	}
}

static int watch(struct capture_stream *s, int fd, uint32_t events, enum fe_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

struct MHD_Response *capture_stream_start(int ep, struct MHD_Connection *c, int sock, int ctl,
					  const struct sock_fprog *filter, uint64_t count)
{
	struct capture_stream *s = calloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!s) {
		close(sock);
		close(ctl);
		errno = ENOMEM;
		return NULL;
	}
	*s = (struct capture_stream){ .w_sock = FE_CAPTURE_SOCK, .w_ctl = FE_CAPTURE_CTL,
				      .w_peer = FE_CAPTURE_PEER, .ep = ep, .c = c, .sock = sock,
				      .ctl = ctl, .peer = -1, .left = count, .counted = count > 0 };
	int e = 0;
	errno = 0;
	/* The parent's filter took nothing: what is read from here on is
	 * what the client asked for. */
	if (!ci || (s->peer = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, filter, sizeof(*filter)) < 0 ||
	    !(s->out = pcapio_writer_new()))
		e = errno ? errno : ENOMEM;
	/* The sockets first go in the set, then are watched: unwatch takes
	 * them out of it, whichever failed. */
	if (!e && (watch(s, sock, EPOLLIN, &s->w_sock) < 0 || watch(s, ctl, EPOLLIN, &s->w_ctl) < 0 ||
		   watch(s, s->peer, EPOLLRDHUP, &s->w_peer) < 0))
		e = errno;
	s->reading = true;
	if (!e && !(s->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, reader, s,
								 stream_free)))
		e = ENOMEM;
	if (e) {
		unwatch(s, &s->sock);
		unwatch(s, &s->ctl);
		unwatch(s, &s->peer);
		pcapio_writer_free(s->out);
		free(s);
		errno = e;
		return NULL;
	}
	MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.tcpdump.pcap");
	live++;
	return s->resp;
}
