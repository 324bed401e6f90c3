/*
 * Network namespaces made ahead of need. Making one costs a create half a
 * millisecond of unshare, and its first /proc/sys writes walk a dentry
 * chain with an entry for every namespace alive (a millisecond more with a
 * thousand up). A thread of the pool makes them while the caller is busy
 * with other work; a caller takes one, or makes its own when none is ready.
 * The namespaces have no name until taken: one the process never took dies
 * with it.
 */
#ifndef PLAYNET_NSPOOL_H
#define PLAYNET_NSPOOL_H

#include <stddef.h>

struct nspool;

/* Readies a new namespace (nsfd) for use; called on the pool's thread. */
typedef int (*nspool_prep_fn)(int nsfd);

#define NSPOOL_MAX 16

/* Starts a thread that keeps depth (1..NSPOOL_MAX) namespaces ready. */
int nspool_start(struct nspool **out, size_t depth, nspool_prep_fn prep);
/* An fd on a ready namespace, now the caller's; -EAGAIN when none is. */
int nspool_take(struct nspool *p);
/* Ends the thread and closes the namespaces nobody took. NULL: nothing. */
void nspool_stop(struct nspool *p);

#endif
