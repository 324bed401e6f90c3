/*
 * Named network namespaces, made the way iproute2 makes them (a bind mount
 * under /run/netns), so `ip netns exec` works on them. The calling thread
 * switches into a namespace only for the duration of one call and always
 * comes back.
 */
#ifndef PLAYNET_NETNS_H
#define PLAYNET_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETNS_RUN_DIR "/run/netns"

/* Creates NAME; -EEXIST when it exists. */
int netns_create(const char *name);
/* A new namespace with no name, held only by the fd returned (or -errno). */
int netns_new(void);
/* Names nsfd's namespace NAME, as netns_create would have; -EEXIST when
 * the name is taken. */
int netns_attach(const char *name, int nsfd);
/* Removes NAME; 0 when it did not exist. */
int netns_delete(const char *name);
bool netns_exists(const char *name);
/* An O_RDONLY|O_CLOEXEC fd on the namespace, or -errno. */
int netns_open(const char *name);
/* The namespace this process started in (the root netns by default). */
int netns_open_current(void);

/* socket(2) inside the namespace of nsfd (-1: the current one). */
int netns_socket(int nsfd, int domain, int type, int protocol);
/* open(2) inside the namespace of nsfd: /dev/net/tun, /proc/sys/net. */
int netns_open_file(int nsfd, const char *path, int flags);
/* Writes VALUE to a sysctl such as "net/ipv4/ip_forward" in nsfd's netns. */
int netns_sysctl(int nsfd, const char *key, const char *value);

struct netns_sysctl {
	const char *key;
	const char *value;
	bool optional; /* absent (its module not loaded): not an error */
};
/* Writes n sysctls with the thread entering nsfd's namespace once; on an
 * error, *failed is the index of the one that failed. */
int netns_sysctls(int nsfd, const struct netns_sysctl *s, size_t n, size_t *failed);
/* An fd on the root of a procfs instance of the caller's own (on /proc
 * where none can be made; -1 with errno), and netns_sysctls through one:
 * kept for one namespace's writes again and again, it holds no entries
 * of any other namespace. */
int netns_proc_open(void);
int netns_sysctls_at(int proc, int nsfd, const struct netns_sysctl *s, size_t n,
		     size_t *failed);

/* Moves the calling thread into nsfd's namespace; returns an fd on the one
 * it left, for netns_leave. For calls that answer for the caller's
 * namespace (if_nametoindex, /proc/sys), several in one entry. */
int netns_enter(int nsfd);
void netns_leave(int saved);

/* The namespace's cookie (SO_NETNS_COOKIE), as BPF programs see it. */
int netns_cookie(int nsfd, uint64_t *cookie);

/* Calls fn(name, arg) for each name under /run/netns starting with prefix. */
int netns_list(const char *prefix, int (*fn)(const char *name, void *arg),
	       void *arg);

#endif
