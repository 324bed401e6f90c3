/* The fabric's settings, which playnet, netd and vmlaunch take: one table
 * of names, environment variables and defaults, parsed one way for all. */
#ifndef PLAYNET_CLIOPT_H
#define PLAYNET_CLIOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <getopt.h>

#include "manifest.h"
#include "pn_error.h"

#define CLIOPT_STATE_DIR_DEFAULT "/run/playnet"
#define CLIOPT_SOCKET_DEFAULT "/run/playnet/netd.sock"
#define CLIOPT_POOL_DEFAULT "100.64.0.0/10"

enum cliopt_key {
	CLIOPT_STATE_DIR,
	CLIOPT_SOCKET,
	CLIOPT_HOST_NETNS,
	CLIOPT_TAP_OWNER,
	CLIOPT_POOL,
	CLIOPT_RATE,
	CLIOPT_GUARD_CONFIG,
	CLIOPT_BPF_DIR,
	CLIOPT_MAX_MACHINES,
	CLIOPT_MAX_NETWORKS,
	CLIOPT_MAX_INTERFACES,
	CLIOPT_KEYS
};

/* getopt_long's val of each key's option: CLIOPT_OPT + key. */
#define CLIOPT_OPT 0x1000

struct cliopt_fabric {
	const char *text[CLIOPT_KEYS]; /* as given (flag, else environment), else
					* the default; NULL: none */
	unsigned given;                /* 1 << key: set by a flag or the environment */
	/* What the text says, once cliopt_fabric_finish has read it. */
	long tap_uid, tap_gid;         /* -1: root, none */
	uint32_t pool;
	uint8_t pool_prefix;
	uint64_t uplink_rate;          /* 0: no limit */
	struct manifest_limits limits;
};

/* The keys' long options ("config" is --guard-config's old name), ended
 * by a zero entry. */
extern const struct option cliopt_fabric_options[];

/* OWN's options and then the fabric's into OUT (cap entries, with room for
 * the zero entry); false when they do not fit. */
bool cliopt_fabric_longopts(const struct option *own, struct option *out, size_t cap);

/* Defaults, then the environment. */
void cliopt_fabric_init(struct cliopt_fabric *f);
/* A flag of getopt_long's (its val and optarg); false when it is no key's. */
bool cliopt_fabric_set(struct cliopt_fabric *f, int opt, const char *value);
/* Reads the texts; -EINVAL with what is wrong and what was expected in err. */
int cliopt_fabric_finish(struct cliopt_fabric *f, struct pn_error *err);
/* "--NAME VALUE" for each key that has a value (a netd's command line for
 * these settings); returns how many strings were put in argv (at most max). */
size_t cliopt_fabric_argv(const struct cliopt_fabric *f, const char **argv, size_t max);
/* A key's option name ("transit-pool"). */
const char *cliopt_fabric_name(enum cliopt_key k);

/* The environment variable NAME, or fallback when it is unset or empty. */
const char *cliopt_env(const char *name, const char *fallback);

/* "UID" or "UID:GID", numbers; an absent GID stays -1. */
bool cliopt_tap_owner(const char *s, long *uid, long *gid);
/* An IPv4 CIDR of /31 or larger with no host bits. */
bool cliopt_pool(const char *s, uint32_t *net, uint8_t *prefix);
/* A manifest limit, 1 to 4096. */
bool cliopt_limit(const char *s, size_t *out);

#endif
