/*
 * What the fabric's files share (fabric.c, fabric_build.c, fabric_refit.c,
 * fabric_teardown.c, fabric_inspect.c), and nothing outside them uses.
 */
#ifndef PLAYNET_FABRIC_INTERNAL_H
#define PLAYNET_FABRIC_INTERNAL_H

#include <net/if.h>
#include <netlink/route/link.h>

#include "fabric.h"
#include "guard.h"
#include "naming.h"

struct fab_held;
struct hostaddr;
struct nspool;

struct fabric {
	struct fabric_opts o;
	int host_nsfd;
	int host_proc;         /* procfs instance for the host netns's sysctls */
	uint64_t host_cookie;  /* the host netns's, in the uplink guards' keys */
	bool host_forwarding;  /* turned on by this fabric already */
	struct guard *guard; /* loaded on first need */
	/* The host netns's addresses, watched from the first create after
	 * the guard's maps were loaded, which it filled the deny list of. */
	struct hostaddr *hostaddr;
	long transit_next; /* where the next transit allocation looks first */
	struct nspool *spares; /* NULL: each create makes its namespace */
	/* Tags the playground's lo and uplink with "playnet/P OWNER", OWNER
	 * hashed from the state dir's real path: recovery removes orphans
	 * of its own state dir and never another's. */
	char owner[FABRIC_OWNER_LEN + 1];
	int fail_step; /* 0: none */
	int kill_step; /* 0: none */
	int step;      /* steps done by the last create or delete */
	int64_t opened; /* unix time: what was created since has its options */
	/* Deleted playgrounds' namespaces, held by fd (fabric_held.c). */
	struct fab_held *held;
	size_t n_held;
};

/* Everything one create holds while it builds. */
struct build {
	struct fabric *f;
	struct pn_error *err;   /* the caller's */
	const struct plan *p;
	const struct plan *was; /* a takeover: OLD's plan, whose objects P's become;
				 * or P itself, when its nft rules change */
	int ns;                 /* pg-P */
	struct nl_sock *sk;     /* in pg-P */
	struct nl_sock *host;   /* in the host netns */
	struct guard *guard;
	uint64_t cookie;        /* pg-P's, in guard keys */
	int *bridges;           /* ifindex of each network's bridge */
	size_t ports;           /* machine ports on pg-P's shared tc block */
	uint32_t transit; /* the host end of its /31 */
	char owner_alias[128];  /* on every lo and the uplink's host end */
};

/* Counts the steps of a create or delete; a test hook kills the process at
 * the one it names, as a crash would. */
void fab_point(struct fabric *f);
/* A step of a create; the other test hook fails the one it names. */
int fab_step(struct fabric *f, const char *what, struct pn_error *err);

/* Step, call, and on error a message in err naming the object. */
#define FAB_DO(f, err, call, ...)                                              \
	({                                                                     \
		char _what[256];                                               \
		snprintf(_what, sizeof(_what), __VA_ARGS__);                   \
		int _e = fab_step((f), _what, (err));                          \
		if (_e == 0) {                                                 \
			_e = (call);                                           \
			if (_e < 0)                                            \
				pn_fail((err), _e, "%s", _what);               \
		}                                                              \
		_e < 0 ? _e : 0;                                               \
	})

#define FAB_PORT_ALIAS_MAX 128

/* Whether alias, on a link of what would be NAME's, says this fabric made
 * it for NAME. */
bool fab_alias_is_ours(const struct fabric *f, const char *alias, const char *name);

/* Whether the namespace's lo carries this fabric's tag for NAME. */
bool fab_netns_is_ours(const struct fabric *f, int nsfd, const char *name);

int fab_prep_spare(int nsfd);

unsigned fab_port_guard_flags(const struct plan_interface *ifc);

/* fabric_port.c */
int fab_shape_check(const struct plan_machine *mc, const struct plan_interface *ifc,
		    const struct manifest_impair *im, struct pn_error *err);
int fab_shape_port(struct build *b, const struct plan_interface *ifc,
		   const struct manifest_impair *im);

/* A machine port's alias, "machine/interface": the same whether the port
 * is built or refitted. */
void fab_port_alias(const struct plan_machine *mc, const struct plan_interface *ifc,
		    char out[FAB_PORT_ALIAS_MAX]);

int fab_add_gateway(struct build *b, int bridge_idx, const struct plan_network *n);

/* The guard key of link dev, found through sk, whose namespace is cookie's. */
int fab_port_key(struct nl_sock *sk, uint64_t cookie, const char *dev, struct guard_key *k);

/* The uplink's host end (ifindex hidx) guarded, checking sources against
 * inside, and up. */
int fab_guard_uplink_up(struct build *b, int hidx, uint32_t inside);

/* In a takeover, P's rules take the place of OLD's. */
int fab_build_nft(struct build *b);

/* The host side is shared by every playground and the same for all of
 * them (whatever the transit pool): made when missing, left alone otherwise,
 * since replacing it costs a grace period (~20 ms) on every create.
 * Forwarding must be on for the uplinks. */
int fab_build_host(struct build *b);
/* P's forwards on the host's side, when it has some (fabric_forward.c). */
int fab_build_forwards(struct build *b);

/* Whether fabric_hide holds NAME's namespaces. */
bool fab_held(const struct fabric *f, const char *name);
/* A new fd of NAME's namespace as fabric_hide holds it (-ENOENT: it
 * holds none), or else of pg-NAME. */
int fab_held_netns(const struct fabric *f, const char *name);
int fab_netns_open(const struct fabric *f, const char *name);
/* Lets go of NAME's namespaces (the kernel destroys what nothing else
 * holds), or of all. */
void fab_unhold(struct fabric *f, const char *name);
void fab_unhold_all(struct fabric *f);

/* The host netns a playground was made in (NULL or "": the one this
 * fabric was opened with). Never -1 for "current": callers treat a
 * negative result as "gone". */
int fab_host_netns_fd(struct fabric *f, const char *host_netns);

#endif
