/*
 * The IPv4 addresses of a namespace (the fabric's host netns), dumped once
 * and then kept up to date from netlink notifications: a dump per create
 * grew with every playground's transit address, 1000 of them at 1000 up.
 */
#ifndef PLAYNET_HOSTADDR_H
#define PLAYNET_HOSTADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hostaddr;

/* Watches nsfd's namespace from now on. */
int hostaddr_open(int nsfd, struct hostaddr **out);
void hostaddr_close(struct hostaddr *h);

/* The watch's socket, readable when changes wait for hostaddr_refresh. */
int hostaddr_fd(const struct hostaddr *h);

/*
 * Takes in the changes since the last call (a full dump the first time, and
 * again when the kernel dropped notifications), calling added(addr, arg) for
 * each address that appeared; a negative return from it stops and is
 * returned. Addresses in host byte order.
 */
int hostaddr_refresh(struct hostaddr *h, int (*added)(uint32_t addr, void *arg), void *arg);

/* Whether the namespace had addr at the last refresh. */
bool hostaddr_has(const struct hostaddr *h, uint32_t addr);

#endif
