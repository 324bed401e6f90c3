#define _GNU_SOURCE
#include "closer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

static int pipe_w = -1;
static pthread_t thread;

static void *run(void *arg)
{
	int r = (int)(long)arg, fd;
	while (read(r, &fd, sizeof(fd)) == sizeof(fd))
		close(fd);
	close(r);
	return NULL;
}

int closer_start(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	int e = pthread_create(&thread, NULL, run, (void *)(long)p[0]);
	if (e != 0) {
		close(p[0]);
		close(p[1]);
		return -e;
	}
	pipe_w = p[1];
	return 0;
}

void closer_close(int fd)
{
	/* A write of an int to a pipe is atomic; a full pipe only slows. */
	if (pipe_w < 0 || write(pipe_w, &fd, sizeof(fd)) != sizeof(fd))
		close(fd);
}

void closer_stop(void)
{
	if (pipe_w < 0)
		return;
	close(pipe_w); /* the thread drains the pipe, then sees its end */
	pipe_w = -1;
	pthread_join(thread, NULL);
}
