/*
 * netd's DNS servers (dns.h has the packet logic): one UDP socket on port
 * 53 of each non-private network's gateway, in the playground's namespace,
 * answering the playground's own names, and one socket in the host netns
 * that relays every other name to the host's resolvers (the first that
 * answers; SERVFAIL at once when there are none, or after DNSD_WAIT_MS).
 * Its sockets are in an epoll set of its own, which netd's loop watches.
 */
#ifndef PLAYNET_DNSD_H
#define PLAYNET_DNSD_H

#include <stdint.h>
#include <stdio.h>

#include "plan.h"
#include "pn_error.h"

#define DNSD_MAX_UPSTREAMS 3
#define DNSD_WAIT_MS 2000

struct dnsd;

/* upstreams (host byte order, n of them, port 53) are reached from
 * host_nsfd's namespace. */
int dnsd_new(int host_nsfd, const uint32_t *upstreams, size_t n, struct dnsd **out);
void dnsd_free(struct dnsd *d);
/* The epoll set netd's loop watches. */
int dnsd_fd(const struct dnsd *d);
/* Serves p's non-private networks, whose namespace is nsfd (replacing
 * any servers it had). */
int dnsd_add(struct dnsd *d, const struct plan *p, int nsfd, struct pn_error *err);
void dnsd_remove(struct dnsd *d, const char *playground);
/* Reads what came, answers what is due (relays that waited too long:
 * SERVFAIL). */
void dnsd_run(struct dnsd *d);
/* Milliseconds until a relay waits too long; -1: none waits. */
int dnsd_timeout_ms(const struct dnsd *d);
void dnsd_metrics(const struct dnsd *d, FILE *out);

/* The nameservers of a resolv.conf, at most max: how many. */
size_t dnsd_resolv_conf(const char *path, uint32_t *out, size_t max);

#endif
