/* Small helpers shared by every module: cleanup attributes, array sizes,
 * the monotonic clock. */
#ifndef PLAYNET_UTIL_H
#define PLAYNET_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define cleanup_free __attribute__((cleanup(freep)))
#define cleanup_close __attribute__((cleanup(closep)))
#define cleanup_fclose __attribute__((cleanup(fclosep)))

static inline double now_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A token bucket against a guest's flood: full (burst) at first, refilled
 * at per_s tokens a second. */
struct token_bucket {
	double tokens;
	double refilled; /* when, in seconds on the monotonic clock; 0: never */
};

/* A token taken, or false when there is none. */
static inline bool token_take(struct token_bucket *b, double per_s, double burst)
{
	double now = now_seconds();
	b->tokens = b->refilled == 0 ? burst : b->tokens + (now - b->refilled) * per_s;
	if (b->tokens > burst)
		b->tokens = burst;
	b->refilled = now;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

/* mkdir -p: dir and every missing parent, with mode. */
static inline int mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -errno : 0;
}

/* Hand a cleanup-owned value over to the caller. */
#define steal_ptr(p)                                                           \
	({                                                                     \
		__typeof__(p) _tmp = (p);                                      \
		(p) = NULL;                                                    \
		_tmp;                                                          \
	})

#endif
