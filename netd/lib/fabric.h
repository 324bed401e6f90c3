/*
 * The fabric of a playground in the kernel (DESIGN.md section 2): turns a
 * plan into a namespace, bridges, taps, netns machines, an uplink and
 * nftables rules, and back. Create is all-or-nothing; delete is idempotent
 * and works from names alone, so it also finishes what a crash left.
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
/* Test hooks: make step N of a create fail (see fabric_create), or kill the
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

/* -EEXIST: the playground or one of its objects exists already;
 * -EADDRNOTAVAIL: the transit pool is exhausted; -ENOSPC: the state
 * dir's filesystem is full; -EDOM: a subnet lies in the transit pool.
 * out, if not NULL: the record written, the caller's to free. */
int fabric_create(struct fabric *f, const struct plan *p, const char *manifest,
		  struct state_record *out);
/* 0 also when the playground does not exist. */
int fabric_delete(struct fabric *f, const char *name);

/*
 * A delete in three calls, for a caller that paces the kernel's work (netd:
 * the kernel destroys namespaces one after another, holding the rtnl lock,
 * and a burst of deletes would stall every create behind it):
 * fabric_mark_deleting records the intent and stops the VMs (1; 0 when
 * there is no record to mark; shape, if not NULL: fabric_shape of its
 * plan, 0 without a record); after that the playground is gone as far
 * as a user is concerned. fabric_release removes
 * its names and hands the namespace to the kernel, leaving the uplink's
 * host end to die with it: fabric_released is 1 once the kernel has done
 * so, 0 before. fabric_delete then frees the transit /31 and the record.
 * A crash anywhere leaves a "deleting" record that recovery finishes.
 *
 * Before fabric_release, fabric_shed may delete the playground's bridges
 * one per call (1; 0 once none is left): the kernel deletes each under the
 * rtnl lock across an RCU grace period (an rcu_barrier in the bridge's
 * multicast teardown, tens of ms), three in a row when it destroys the
 * namespace itself. One at a time, a create can come in between.
 */
int fabric_mark_deleting(struct fabric *f, const char *name, uint64_t *shape);
/* After fabric_mark_deleting: the playground's namespaces (and its
 * machines') under names of this fabric's own (FABRIC_HIDDEN_PREFIX
 * OWNER-HASH[.MACHINE]), held there until they are destroyed or taken
 * over, so that its names are free the moment its delete is answered.
 * Every step after (shed, release, recycle, delete) finds them there. */
int fabric_hide(struct fabric *f, const char *name);
int fabric_shed(struct fabric *f, const char *name);
int fabric_release(struct fabric *f, const char *name);
int fabric_released(struct fabric *f, const char *name);

/*
 * A create that takes over the namespace of OLD, a playground marked
 * deleting but not yet taken apart (neither shed nor released), built by
 * this fabric from a manifest of the same frame: as many networks, and
 * machines with ports on the same networks, in order (fabric_shape).
 * Bridges, taps, uplink and guard attachments stay; P's names, aliases,
 * MTUs, gateways and nftables table replace OLD's where they differ; the
 * guard policies (MACs derive from the name) and counters become P's, the
 * transit /31 passes to P, and the neighbours and tracked connections of
 * OLD's machines are forgotten. OLD's record goes, as its delete would
 * have ended. No link is made or destroyed, which is what keeps it cheap
 * while the kernel destroys other namespaces.
 * OLD may be P's own name: a playground deleted and created again is
 * reset where it stands.
 * -ESTALE: OLD cannot be taken over (another frame or fabric, machine
 * namespaces, something missing). On any error, OLD is either as it was,
 * still recorded, or removed with whatever P had of it.
 */
int fabric_recycle(struct fabric *f, const char *old, const struct plan *p,
		   const char *manifest, struct state_record *out);
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
