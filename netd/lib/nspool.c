#define _GNU_SOURCE
#include "nspool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

/* After a failure, the thread waits this long before it tries again: the
 * cause (no memory, no fds) rarely passes at once, and a caller with no
 * namespace ready makes its own and reports the error. */
#define NSPOOL_RETRY_MS 500

struct nspool {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	nspool_prep_fn prep;
	size_t depth;
	size_t n;
	int fds[NSPOOL_MAX];
	bool stop;
};

/* A new namespace, readied; -errno when either step failed. */
static int make_one(const struct nspool *p)
{
	int fd = netns_new();
	if (fd < 0)
		return fd;
	int e = p->prep ? p->prep(fd) : 0;
	if (e < 0) {
		close(fd);
		return e;
	}
	return fd;
}

static void wait_retry(struct nspool *p)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += NSPOOL_RETRY_MS * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&p->cv, &p->mu, &t);
}

static void *run(void *arg)
{
	struct nspool *p = arg;
	/* Spares are for later: at a thousand namespaces each takes a couple
	 * of ms of CPU, which the create under way needs more (on Linux a
	 * thread has a nice value of its own). */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (p->n >= p->depth) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		int fd = make_one(p);
		pthread_mutex_lock(&p->mu);
		if (fd >= 0) {
			p->fds[p->n++] = fd;
			continue;
		}
		log_errno(LOG_LVL_WARN, -fd, "cannot make a spare network namespace");
		if (!p->stop)
			wait_retry(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void nspool_free(struct nspool *p)
{
	for (size_t i = 0; i < p->n; i++)
		close(p->fds[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int nspool_start(struct nspool **out, size_t depth, nspool_prep_fn prep)
{
	if (depth < 1 || depth > NSPOOL_MAX)
		return -EINVAL;
	struct nspool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->depth = depth;
	p->prep = prep;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the caller's to take (netd reads them from a
	 * signalfd): the thread starts with all of them blocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&p->thread, NULL, run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		nspool_free(p);
		return -e;
	}
	*out = p;
	return 0;
}

int nspool_take(struct nspool *p)
{
	pthread_mutex_lock(&p->mu);
	int fd = p->n > 0 ? p->fds[--p->n] : -EAGAIN;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return fd;
}

void nspool_stop(struct nspool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	nspool_free(p);
}
