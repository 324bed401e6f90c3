/*
 * The operator's additions to the uplink deny list and exceptions to it, one
 * per line:
 *     deny 203.0.113.0/24     # never reachable from a playground
 *     allow 10.1.2.3/32       # a package mirror on a private address
 * Blank lines and '#' comments are ignored. Exceptions win over the list.
 */
#ifndef PLAYNET_GUARD_CONFIG_H
#define PLAYNET_GUARD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct guard_prefix {
	uint32_t net;
	uint8_t prefix;
};

struct guard_config {
	struct guard_prefix *deny;
	size_t n_deny;
	struct guard_prefix *allow;
	size_t n_allow;
};

/* Parses text; errors name the line in d. */
int guard_config_parse(const char *text, struct guard_config *c, struct diag *d);
int guard_config_load(const char *path, struct guard_config *c, struct diag *d);
void guard_config_free(struct guard_config *c);

#endif
