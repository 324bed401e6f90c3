/* Frames of an exec stream on a blocking fd. Built into pnagent too, so
 * it needs nothing but libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_proto.h"

int agent_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int agent_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int agent_send(int fd, enum agent_exec_type type, const void *payload, size_t len)
{
	if (len > AGENT_MAX_PAYLOAD)
		return -EMSGSIZE;
	uint8_t h[AGENT_HEADER] = { (uint8_t)type };
	agent_put32(h + 4, (uint32_t)len);
	int e = agent_write_all(fd, h, sizeof(h));
	return e < 0 || !len ? e : agent_write_all(fd, payload, len);
}

int agent_recv(int fd, enum agent_exec_type *type, char **payload, size_t *len)
{
	uint8_t h[AGENT_HEADER];
	int e = agent_read_full(fd, h, sizeof(h));
	if (e < 0)
		return e;
	uint32_t n = agent_get32(h + 4);
	if (n > AGENT_MAX_PAYLOAD || h[0] < AGENT_REQUEST || h[0] > AGENT_EXIT ||
	    h[1] || h[2] || h[3])
		return -EPROTO;
	char *p = malloc((size_t)n + 1);
	if (!p)
		return -ENOMEM;
	if ((e = agent_read_full(fd, p, n)) < 0) {
		free(p);
		return e;
	}
	p[n] = '\0';
	*type = (enum agent_exec_type)h[0];
	*payload = p;
	*len = n;
	return 0;
}

void agent_relay(int in, int out, int sock)
{
	bool in_open = true, sock_open = true;
	char buf[64 * 1024];
	while (sock_open) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { in, in_open ? POLLIN : 0, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents) {
			ssize_t n = read(in, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				shutdown(sock, SHUT_WR);
				in_open = false;
			} else if (n > 0 && agent_write_all(sock, buf, (size_t)n) < 0) {
				return;
			}
		}
		if (p[0].revents) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				sock_open = false;
			else if (n > 0 && agent_write_all(out, buf, (size_t)n) < 0)
				return;
		}
	}
}

int agent_request_encode(char *const *argv, const char *user, unsigned timeout_s,
			 const char *dir, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	for (char *const *a = argv; *a; a++)
		fprintf(f, "a:%s%c", *a, 0);
	if (user)
		fprintf(f, "u:%s%c", user, 0);
	if (timeout_s)
		fprintf(f, "t:%u%c", timeout_s, 0);
	if (dir)
		fprintf(f, "d:%s%c", dir, 0);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
