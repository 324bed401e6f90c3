#include "channel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api_machine.h"
#include "manifest.h"
#include "naming.h"
#include "util.h"

/* All of len bytes, or -EPIPE. */
static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

void channel_await(int fd, unsigned us)
{
	double end = now_seconds() + us / 1e6;
	char c;

	do {
		if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno != EAGAIN)
			return; /* something to read, or an end to see */
	} while (now_seconds() < end);
}

/* A frame: its length, then a header of four u32 (lengths, flags), then
 * three strings. */
struct frame_head {
	uint32_t a, b, c, flags;
};

static int send_frame(int fd, const struct frame_head *h, const char *s1, const char *s2,
		      const char *s3)
{
	uint32_t total = (uint32_t)(sizeof(*h) + h->a + h->b + h->c);
	/* writev takes no const: the bytes are only read. */
	struct iovec iov[] = {
		{ &total, sizeof(total) },
		{ (void *)(uintptr_t)h, sizeof(*h) },
		{ (void *)(uintptr_t)s1, h->a },
		{ (void *)(uintptr_t)s2, h->b },
		{ (void *)(uintptr_t)s3, h->c },
	};
	return write_all(fd, iov, 5);
}

/* A frame whose three strings lie within it, each made NUL-terminated in
 * a copy: *buf holds them. */
static int recv_frame(int fd, struct frame_head *h, char **s, uint8_t **buf)
{
	uint32_t total;
	int e = read_all(fd, &total, sizeof(total));
	if (e < 0)
		return e;
	if (total < sizeof(*h) || total > CHANNEL_MAX_FRAME)
		return -EPROTO;
	uint8_t *raw = malloc(total);
	if (!raw)
		return -ENOMEM;
	if ((e = read_all(fd, raw, total)) < 0) {
		free(raw);
		return e;
	}
	memcpy(h, raw, sizeof(*h));
	size_t want = (size_t)h->a + h->b + h->c;
	if (want != total - sizeof(*h)) {
		free(raw);
		return -EPROTO;
	}
	/* Move the strings apart to make room for their NULs. */
	uint8_t *out = malloc(want + 3);
	if (!out) {
		free(raw);
		return -ENOMEM;
	}
	const uint8_t *in = raw + sizeof(*h);
	size_t lens[3] = { h->a, h->b, h->c }, at = 0;
	for (int i = 0; i < 3; i++) {
		memcpy(out + at, in, lens[i]);
		out[at + lens[i]] = '\0';
		s[i] = (char *)out + at;
		in += lens[i];
		at += lens[i] + 1;
	}
	free(raw);
	*buf = out;
	return 0;
}

/* Flags of a request frame: the op in the low byte. */
#define RQ_TEXT (1u << 8)
#define RQ_REFUSED (1u << 9)

int channel_send_request(int fd, const struct channel_request *rq)
{
	/* A machine goes where a PUT's manifest does, an action where its
	 * plan does. */
	bool machine = rq->op == CHANNEL_EXEC || rq->op == CHANNEL_MACHINE ||
		       rq->op == CHANNEL_CAPTURE;
	const char *second = machine ? rq->machine : rq->manifest;
	size_t second_len = machine ? strlen(rq->machine) : rq->manifest_len;
	const char *third = rq->op == CHANNEL_MACHINE ? rq->action : rq->plan;
	size_t third_len = rq->op == CHANNEL_MACHINE ? strlen(rq->action) : rq->plan_len;
	const struct frame_head h = {
		(uint32_t)strlen(rq->name), (uint32_t)second_len, (uint32_t)third_len,
		(uint32_t)rq->op | (rq->text ? RQ_TEXT : 0) | (rq->refused ? RQ_REFUSED : 0),
	};
	return send_frame(fd, &h, rq->name, second ? second : "", third ? third : "");
}

static bool names_playground(enum channel_op op)
{
	return op == CHANNEL_GET || op == CHANNEL_PUT || op == CHANNEL_DELETE ||
	       op == CHANNEL_STATS || op == CHANNEL_EXEC || op == CHANNEL_MACHINE ||
	       op == CHANNEL_CAPTURE;
}

/* What a frame must be to be a request. */
static bool request_ok(const struct frame_head *h, char *const s[3])
{
	uint32_t op = h->flags & 0xff;
	if (op < CHANNEL_HEALTH || op > CHANNEL_CAPTURE ||
	    (h->flags & ~(0xffu | RQ_TEXT | RQ_REFUSED)))
		return false;
	if (strlen(s[0]) != h->a || strlen(s[1]) != h->b)
		return false;
	if (names_playground(op) ? !naming_valid_playground(s[0]) : h->a != 0)
		return false;
	if (op == CHANNEL_EXEC)
		return manifest_valid_hostname(s[1]) && h->c == 0 && !(h->flags & RQ_REFUSED);
	if (op == CHANNEL_CAPTURE)
		return api_valid_capture_target(s[1]) && h->c == 0 && !(h->flags & RQ_REFUSED);
	if (op == CHANNEL_MACHINE)
		return manifest_valid_hostname(s[1]) && h->c > 0 && h->c < API_MACHINE_OP_MAX &&
		       strlen(s[2]) == h->c && !(h->flags & RQ_REFUSED);
	if (op != CHANNEL_PUT)
		return h->b == 0 && h->c == 0 && !(h->flags & RQ_REFUSED);
	return h->b > 0 && h->b <= API_MAX_BODY && h->c > 0 && h->c <= CHANNEL_MAX_PLAN &&
	       strlen(s[2]) == h->c;
}

int channel_recv_request(int fd, struct channel_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	struct frame_head h;
	char *s[3];
	int e = recv_frame(fd, &h, s, &rq->buf);
	if (e < 0)
		return e;
	if (!request_ok(&h, s)) {
		channel_request_free(rq);
		return -EPROTO;
	}
	rq->op = (enum channel_op)(h.flags & 0xff);
	rq->text = h.flags & RQ_TEXT;
	rq->refused = h.flags & RQ_REFUSED;
	rq->name = s[0];
	bool machine = rq->op == CHANNEL_EXEC || rq->op == CHANNEL_MACHINE ||
		       rq->op == CHANNEL_CAPTURE;
	rq->machine = machine ? s[1] : "";
	rq->manifest = machine ? "" : s[1];
	rq->manifest_len = machine ? 0 : h.b;
	rq->action = rq->op == CHANNEL_MACHINE ? s[2] : "";
	rq->plan = rq->op == CHANNEL_MACHINE ? "" : s[2];
	rq->plan_len = rq->op == CHANNEL_MACHINE ? 0 : h.c;
	return 0;
}

void channel_request_free(struct channel_request *rq)
{
	free(rq->buf);
	memset(rq, 0, sizeof(*rq));
}

int channel_send_response(int fd, const struct api_response *r)
{
	const char *ct = r->content_type ? r->content_type : "";
	const char *allow = r->allow ? r->allow : "";
	const struct frame_head h = { (uint32_t)strlen(ct), (uint32_t)strlen(allow),
				      (uint32_t)r->len, (uint32_t)r->status };
	return send_frame(fd, &h, ct, allow, r->body ? r->body : "");
}

int channel_recv_response(int fd, struct api_response *r, char **keep)
{
	memset(r, 0, sizeof(*r));
	struct frame_head h;
	char *s[3];
	uint8_t *buf;
	int e = recv_frame(fd, &h, s, &buf);
	if (e < 0)
		return e;
	if (h.flags < 100 || h.flags > 599) {
		free(buf);
		return -EPROTO;
	}
	r->status = (int)h.flags;
	r->content_type = h.a ? s[0] : NULL;
	r->allow = h.b ? s[1] : NULL;
	r->body = h.c ? malloc(h.c) : NULL;
	if (h.c && !r->body) {
		free(buf);
		return -ENOMEM;
	}
	if (h.c)
		memcpy(r->body, s[2], h.c);
	r->len = h.c;
	*keep = (char *)buf;
	return 0;
}

int channel_send_fd(int chan, int fd)
{
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c = { 0 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(chan, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -EPIPE;
}

int channel_recv_fd(int chan)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	ssize_t n;
	while ((n = recvmsg(chan, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	struct cmsghdr *h = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
	    h->cmsg_len != CMSG_LEN(sizeof(int)) || byte != 'F')
		return -EPROTO;
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}
