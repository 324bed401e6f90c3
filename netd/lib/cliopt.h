/* Option values that playnet and netd both read: parsed one way for both. */
#ifndef PLAYNET_CLIOPT_H
#define PLAYNET_CLIOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "UID" or "UID:GID", numbers; an absent GID stays -1. */
bool cliopt_tap_owner(const char *s, long *uid, long *gid);
/* An IPv4 CIDR of /31 or larger with no host bits. */
bool cliopt_pool(const char *s, uint32_t *net, uint8_t *prefix);
/* A manifest limit, 1 to 4096. */
bool cliopt_limit(const char *s, size_t *out);

#endif
