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
#include "pn_error.h"
#include "state.h"

#define FABRIC_POOL_DEFAULT CLIOPT_POOL_DEFAULT
/* Test hooks: make step N of a create fail (see playground_create), or kill the
 * process with SIGKILL at step N of a create or a delete. */
#define FABRIC_FAIL_STEP_ENV "PLAYNET_TEST_FAIL_STEP"
#define FABRIC_KILL_STEP_ENV "PLAYNET_TEST_KILL_STEP"
/* The same hook set by a test that drives a fabric itself (0: none). */
struct fabric; /* private to the fabric's files (fabric_internal.h) */
void fabric_fail_at(struct fabric *f, int step);
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

/* Opens the host netns and the state dir into a new fabric. -ENOENT: no
 * such host netns. */
int fabric_open(struct fabric **out, const struct fabric_opts *o, struct pn_error *err);
/* NULL: nothing. */
void fabric_close(struct fabric *f);

/* The options it was opened with. */
const struct fabric_opts *fabric_options(const struct fabric *f);
/* The host netns, as an fd. */
int fabric_host_nsfd(const struct fabric *f);
/* Unix time it was opened: what was created since has its options. */
int64_t fabric_opened_at(const struct fabric *f);
/* The guards' programs and maps, loaded on first need. */
int fabric_guard(struct fabric *f, struct guard **out, struct pn_error *err);

/* The watch on the host netns's addresses, -1 until the first create has
 * opened it: when it is readable, fabric_hostaddr_update puts the new
 * addresses in the uplinks' deny list at once, not at the next create. */
int fabric_hostaddr_fd(const struct fabric *f);
int fabric_hostaddr_update(struct fabric *f, struct pn_error *err);

/* Mends a recorded playground in place: its ports back on their bridges,
 * up and guarded, its nftables tables back. 0: mended; 1: objects are
 * gone that only a rebuild makes (a bridge, a port, a namespace, the
 * uplink); negative: it failed, in err. */
int fabric_repair(struct fabric *f, const struct plan *p, const struct state_record *rec,
		  struct pn_error *err);

/*
 * The steps of building and removing, for the playground layer
 * (playground.h), which records the intent around them. Each counts as a
 * step of the test hooks above; fabric_step counts one of the caller's
 * own (a record written), fabric_point a point a crash may hit;
 * fabric_begin starts the count of a create or delete again.
 */
void fabric_begin(struct fabric *f);
int fabric_step(struct fabric *f, const char *what, struct pn_error *err);
void fabric_point(struct fabric *f);
/* Where the next transit allocation looks first, after the last one. */
long fabric_transit_hint(const struct fabric *f);
void fabric_transit_taken(struct fabric *f, long index);

/* -EDOM: a subnet of P lies in the transit pool. */
int fabric_check_subnets(struct fabric *f, const struct plan *p, struct pn_error *err);
/* -EOPNOTSUPP: an interface's impairment needs what this kernel lacks,
 * named in err. */
int fabric_check_shape(const struct plan *p, struct pn_error *err);
/* Whether any interface of P is impaired (its ports then have ifbs, and
 * no other playground takes over its namespace). */
bool fabric_shaped(const struct plan *p);

/* Forwards (fabric_forward.c). P's forwards made as its plan has them (added or taken away): pg-P's
 * rules, the host's forwards table, the uplink guard. rec: P's record. */
struct state_record;
int fabric_forwards_apply(struct fabric *f, const struct plan *p, const struct state_record *rec,
			  struct pn_error *err);
/* -EADDRINUSE (said in err) when another program of the host netns has
 * fw's host port; -EDOM when its hostAddress is not the host's. */
int fabric_forward_free(struct fabric *f, const struct manifest_forward *fw, struct pn_error *err);
/* Sets the impairment of P's machine's interface (indexes into P) to im,
 * both directions, on the running playground. P is what is built; its
 * record is the caller's to change. */
int fabric_impair(struct fabric *f, const struct plan *p, size_t machine, size_t iface,
		  const struct manifest_impair *im, struct pn_error *err);
/* Brings the port of P's machine's interface up or down: a netns
 * machine's veth loses its carrier; a VM's tap stops carrying frames (its
 * guest is told by its VMM: vm_link). */
int fabric_link(struct fabric *f, const struct plan *p, size_t machine, size_t iface, bool up,
		struct pn_error *err);
/* -EEXIST: P's namespace or uplink is in the kernel already. */
int fabric_check_free(struct fabric *f, const struct plan *p, struct pn_error *err);
/* P's objects, its uplink on the /31 whose host end is transit. On
 * failure what was made is left for fabric_remove. */
int fabric_build(struct fabric *f, const struct plan *p, uint32_t transit,
		 struct pn_error *err);
/* Every object of NAME, found by name (and where a delete hid it), in
 * host_netns (NULL or "": this fabric's). keep_host_end: the uplink's host
 * end is left to die with the namespace; owned_only: only what carries
 * this fabric's tag for NAME goes (there is no record of it). */
int fabric_remove(struct fabric *f, const char *name, const char *host_netns, bool keep_host_end,
		  bool owned_only, struct pn_error *err);
/* 1 once NAME's uplink host end is gone from host_netns, 0 before. */
int fabric_host_end_gone(struct fabric *f, const char *name, const char *host_netns);
/* The guards' maps unpinned: no playground is left. */
int fabric_unpin(struct fabric *f, struct pn_error *err);
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
int fabric_shed(struct fabric *f, const char *name, struct pn_error *err);
/* After its delete is recorded: the playground's namespaces (and its
 * machines') held by fd, their names gone, until they are taken over or
 * removed, so that its names are free the moment its delete is answered.
 * Every step after (shed, takeover, remove) finds them there; a crash
 * lets go of them with the process. */
int fabric_hide(struct fabric *f, const char *name, struct pn_error *err);

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
			 const struct plan *p, uint32_t transit, struct fabric_takeover **t,
			 struct pn_error *err);
int fabric_takeover_finish(struct fabric_takeover *t, struct pn_error *err);
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
int fabric_remove_host_link(struct fabric *f, const char *dev, struct pn_error *err);

/* Removes the guard entries of every interface that belongs to none of the
 * named (recorded) playgrounds. */
int fabric_sweep_guards(struct fabric *f, char *const *names, size_t n, size_t *removed,
			struct pn_error *err);

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
		   const struct state_record *rec, struct fabric_report *r, struct pn_error *err);
void fabric_report_free(struct fabric_report *r);

#endif
