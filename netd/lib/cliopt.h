/* Option values that playnet and netd both read: parsed one way for both. */
#ifndef PLAYNET_CLIOPT_H
#define PLAYNET_CLIOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIOPT_STATE_DIR_DEFAULT "/run/playnet"
#define CLIOPT_SOCKET_DEFAULT "/run/playnet/netd.sock"

/* The environment variable NAME, or fallback when it is unset or empty. */
const char *cliopt_env(const char *name, const char *fallback);

/* "UID" or "UID:GID", numbers; an absent GID stays -1. */
bool cliopt_tap_owner(const char *s, long *uid, long *gid);
/* An IPv4 CIDR of /31 or larger with no host bits. */
bool cliopt_pool(const char *s, uint32_t *net, uint8_t *prefix);
/* A manifest limit, 1 to 4096. */
bool cliopt_limit(const char *s, size_t *out);

#endif
