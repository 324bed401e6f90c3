/*
 * The fabric of a playground in the kernel (DESIGN.md section 2): turns a
 * plan into a namespace, bridges, taps, netns machines, an uplink and
 * nftables rules, and back; removal works from names alone, so it also
 * finishes what a crash left. It knows nothing of a playground's life:
 * the records of intent around each step, the transit allocations and
 * the VMs are the playground layer's (playground.h).
 */
#ifndef PLAYNET_FABRIC_H
#define PLAYNET_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cliopt.h"
#include "guard_config.h"
#include "plan.h"
#include "state.h"

#define FABRIC_POOL_DEFAULT CLIOPT_POOL_DEFAULT
/* Test hooks: make step N of a create fail (see playground_create), or kill the
 * process with SIGKILL at step N of a create or a delete. */
#define FABRIC_FAIL_STEP_ENV "PLAYNET_TEST_FAIL_STEP"
#define FABRIC_KILL_STEP_ENV "PLAYNET_TEST_KILL_STEP"
/* The names of the namespaces of deleted playgrounds (fabric_hide). */
#define FABRIC_HIDDEN_PREFIX "pn-deleted-"

/* The alias prefix of the objects that say whose they are. */
#define FABRIC_ALIAS_PREFIX "playnet/"
#define FABRIC_OWNER_LEN 8

struct fabric_opts {
	const char *state_dir;
	const char *host_netns; /* NULL or "": the netns this process is in */
	long tap_uid;           /* -1: root */
	long tap_gid;           /* -1: none */
	uint32_t pool;          /* transit pool, one /31 per playground */
	uint8_t pool_prefix;
	const char *pin_dir;    /* bpffs dir of the guards' maps */
	uint64_t uplink_rate;   /* bits per second out of each playground, 0: no limit */
	const struct guard_config *guard_config; /* NULL: none */
	unsigned netns_spares;  /* namespaces a thread makes ahead; 0: none */
	/* Closes an fd whose release may wait for an RCU grace period, off
	 * the caller's path (netd: its closer thread); NULL: close at once. */
	void (*close_later)(int fd);
};

struct guard;
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
	char err[512]; /* what failed and why, after a negative return */
};

/* Opens the host netns and the state dir. -ENOENT: no such host netns. */
int fabric_open(struct fabric *f, const struct fabric_opts *o);
void fabric_close(struct fabric *f);

/* Says in f->err what failed ("what: strerror(-e)"); returns e. */
int fabric_fail(struct fabric *f, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The watch on the host netns's addresses, -1 until the first create has
 * opened it: when it is readable, fabric_hostaddr_update puts the new
 * addresses in the uplinks' deny list at once, not at the next create. */
int fabric_hostaddr_fd(const struct fabric *f);
int fabric_hostaddr_update(struct fabric *f);

/* Mends a recorded playground in place: its ports back on their bridges,
 * up and guarded, its nftables tables back. 0: mended; 1: objects are
 * gone that only a rebuild makes (a bridge, a port, a namespace, the
 * uplink); negative: it failed, in f->err. */
int fabric_repair(struct fabric *f, const struct plan *p, const struct state_record *rec);

/*
 * The steps of building and removing, for the playground layer
 * (playground.h), which records the intent around them. Each counts as a
 * step of the test hooks above; fabric_step counts one of the caller's
 * own (a record written), fabric_point a point a crash may hit.
 */
int fabric_step(struct fabric *f, const char *what);
void fabric_point(struct fabric *f);

/* -EDOM: a subnet of P lies in the transit pool. */
int fabric_check_subnets(struct fabric *f, const struct plan *p);
/* -EEXIST: P's namespace or uplink is in the kernel already. */
int fabric_check_free(struct fabric *f, const struct plan *p);
/* P's objects, its uplink on the /31 whose host end is transit. On
 * failure what was made is left for fabric_remove. */
int fabric_build(struct fabric *f, const struct plan *p, uint32_t transit);
/* Every object of NAME, found by name (and where a delete hid it), in
 * host_netns (NULL or "": this fabric's). keep_host_end: the uplink's host
 * end is left to die with the namespace; owned_only: only what carries
 * this fabric's tag for NAME goes (there is no record of it). */
int fabric_remove(struct fabric *f, const char *name, const char *host_netns, bool keep_host_end,
		  bool owned_only);
/* 1 once NAME's uplink host end is gone from host_netns, 0 before. */
int fabric_host_end_gone(struct fabric *f, const char *name, const char *host_netns);
/* The guards' maps unpinned: no playground is left. */
int fabric_unpin(struct fabric *f);
/* How many /31s the transit pool holds. */
long fabric_pool_size(const struct fabric *f);

/*
 * Before a paced delete's kernel work (netd: the kernel destroys namespaces
 * one after another, holding the rtnl lock, and a burst of deletes would
 * stall every create behind it), fabric_shed may delete the playground's
 * bridges one per call (1; 0 once none is left): the kernel deletes each
 * under the rtnl lock across an RCU grace period (an rcu_barrier in the
 * bridge's multicast teardown, tens of ms), three in a row when it
 * destroys the namespace itself. One at a time, a create can come in
 * between.
 */
int fabric_shed(struct fabric *f, const char *name);
/* After its delete is recorded: the playground's namespaces (and its
 * machines') under names of this fabric's own (FABRIC_HIDDEN_PREFIX
 * OWNER-HASH[.MACHINE]), held there until they are destroyed or taken
 * over, so that its names are free the moment its delete is answered.
 * Every step after (shed, takeover, remove) finds them there. */
int fabric_hide(struct fabric *f, const char *name);

/*
 * The kernel half of a takeover (playground_recycle): OLD's namespace,
 * built by this fabric from WAS, of the same frame as P (fabric_same_frame).
 * open checks that OLD's bridges, ports and uplink are all there (-ESTALE
 * if not); finish renames them P's and refits them: bridges, taps, uplink
 * and guard attachments stay; P's names, aliases, MTUs, gateways and
 * nftables table replace OLD's where they differ; the guard policies and
 * counters become P's; the neighbours and tracked connections of OLD's
 * machines are forgotten. No link is made or destroyed, which is what keeps
 * it cheap while the kernel destroys other namespaces.
 */
struct fabric_takeover;
int fabric_takeover_open(struct fabric *f, const char *old, const struct plan *was,
			 const struct plan *p, uint32_t transit, struct fabric_takeover **t);
int fabric_takeover_finish(struct fabric_takeover *t);
void fabric_takeover_close(struct fabric_takeover *t);
/* As many networks, and machines with ports on the same networks, in
 * order: what a takeover keeps. */
bool fabric_same_frame(const struct plan *a, const struct plan *b);
/* Plans of the same frame have equal shapes, never 0 (which means "none"
 * to a caller). */
uint64_t fabric_shape(const struct plan *p);

/* The alias that marks P's objects as this fabric's. */
void fabric_owner_alias(const struct fabric *f, const char *name, char *out, size_t len);
/* Whether alias is one of this fabric's; if so, the playground's name. */
bool fabric_owns(const struct fabric *f, const char *alias, char *name, size_t len);
/* The same for a namespace, by the alias of its lo. */
bool fabric_netns_owns(const struct fabric *f, int nsfd, char *name, size_t len);

/* Removes a link of the host netns and its guard: an uplink's host end
 * whose playground is gone. */
int fabric_remove_host_link(struct fabric *f, const char *dev);

/* Removes the guard entries of every interface that belongs to none of the
 * named (recorded) playgrounds. */
int fabric_sweep_guards(struct fabric *f, char *const *names, size_t n, size_t *removed);

/* The pin dir of the guards' maps: the one given (--bpf-dir), else
 * /sys/fs/bpf/playnet for the default state dir and another per state dir,
 * so that test runs stay apart. */
void fabric_pin_dir(const char *state_dir, const char *given, char *out, size_t len);

/* The fabric's options as the option table (cliopt.h) read them, with
 * the pin dir worked out into pin_dir (fabric_pin_dir); the caller sets
 * the rest (guard config, spares, close_later). */
void fabric_opts_of(const struct cliopt_fabric *c, char *pin_dir, size_t len,
		    struct fabric_opts *out);

/* The transit /31 of a record: host end, and the inside (uplink0) end. A
 * record from before the /31 itself was kept has it worked out from its
 * index in today's pool. */
void fabric_transit_addrs(const struct fabric *f, const struct state_record *rec,
			  uint32_t *host, uint32_t *inside);

/* What the kernel lacks of a created playground, one line per object. */
struct fabric_report {
	char **missing;
	size_t n_missing;
};
int fabric_inspect(struct fabric *f, const struct plan *p,
		   const struct state_record *rec, struct fabric_report *r);
void fabric_report_free(struct fabric_report *r);

#endif
