/*
 * Impairments of a machine's port (manifest `impair:`, `playnet impair`),
 * through the kernel's qdiscs, built with libnl's tc support. Both
 * directions get the same: what goes to the machine meets the port's own
 * root qdisc; what comes from it passes the port's guard (guard.bpf.c),
 * which then lets the next filter of the namespace's shared block see it:
 * a u32 filter matching the port's MAC (which the guard has checked) sends
 * it with mirred to an ifb device of the port's own, whose root qdisc holds
 * the same impairment; the ifb sends it back in on the port, past tc.
 *
 * netem carries delay, jitter, loss, duplicate, reorder and corrupt, with
 * a tbf under it for a rate; a rate alone is a tbf, which needs no netem.
 */
#ifndef PLAYNET_SHAPE_H
#define PLAYNET_SHAPE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"

struct nl_sock;

enum shape_need {
	SHAPE_NETEM = 1u << 0,
	SHAPE_TBF = 1u << 1,
	SHAPE_IFB = 1u << 2,
	SHAPE_STEER = 1u << 3, /* the u32 classifier and the mirred action */
};

/* What im needs of the kernel (0: nothing, im is empty). */
unsigned shape_needs(const struct manifest_impair *im);

/* Whether im asks for anything at all. */
bool shape_any(const struct manifest_impair *im);

/* Of needs, the first this kernel cannot meet, named for a user ("the
 * netem qdisc (sch_netem)"), or NULL when it meets them all. The kernel is
 * asked once per process, in a namespace made and dropped for it. */
const char *shape_missing(unsigned needs);

/* The ifb device that carries port's other direction: "i" for port's
 * first letter ("t-r-0" -> "i-r-0"). */
void shape_ifb_name(const char *port, char out[IFNAMSIZ]);

/*
 * Puts im on the egress of the link ifindex (its root qdisc replaced),
 * or, when im asks for nothing, takes the root qdisc off (the kernel's
 * default comes back). sk is in the link's namespace.
 */
int shape_egress(struct nl_sock *sk, int ifindex, const struct manifest_impair *im);

/* The ifb named name, made if missing, with mtu (0: the default), up; its
 * ifindex, or -errno. */
int shape_ifb_add(struct nl_sock *sk, const char *name, unsigned mtu);

/* On shared tc block block, after its guard: frames from source MAC mac go
 * to the ifb of index ifb (mirred), by a u32 filter whose node is ifb's
 * ifindex (unique in the namespace; -ERANGE past u32's 4095). */
int shape_steer_add(struct nl_sock *sk, uint32_t block, const uint8_t mac[6], int ifb);
/* That filter gone; 0 also when it was not there. */
int shape_steer_del(struct nl_sock *sk, uint32_t block, int ifb);

#endif
