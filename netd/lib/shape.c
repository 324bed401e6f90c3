#define _GNU_SOURCE
#include "shape.h"

#include <errno.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/tc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "netns.h"
#include "util.h"

#define NETEM_HANDLE TC_H_MAKE(1u << 16, 0) /* 1: */
#define RATE_HANDLE TC_H_MAKE(10u << 16, 0) /* 10:, the tbf under a netem */
#define RATE_LATENCY_US 100000 /* how long a packet may wait for tokens */

bool shape_any(const struct manifest_impair *im)
{
	return im->set && (im->delay_us || im->jitter_us || im->loss_ppm || im->rate_bps ||
			   im->duplicate_ppm || im->reorder_ppm || im->corrupt_ppm);
}

static bool wants_netem(const struct manifest_impair *im)
{
	return im->delay_us || im->jitter_us || im->loss_ppm || im->duplicate_ppm ||
	       im->reorder_ppm || im->corrupt_ppm;
}

unsigned shape_needs(const struct manifest_impair *im)
{
	if (!shape_any(im))
		return 0;
	return SHAPE_IFB | SHAPE_STEER | (wants_netem(im) ? SHAPE_NETEM : 0) |
	       (im->rate_bps ? SHAPE_TBF : 0);
}

void shape_ifb_name(const char *port, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "i%s", port[0] ? port + 1 : "");
}

static int qdisc_new(int ifindex, uint32_t parent, uint32_t handle, const char *kind,
		     struct rtnl_qdisc **out)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	int e = rtnl_tc_set_kind(TC_CAST(q), kind);
	if (e < 0) {
		rtnl_qdisc_put(q);
		return link_nlerr(e);
	}
	*out = q;
	return 0;
}

/* A share in parts per million as netem takes it: of 2^32 - 1. */
static int netem_share(uint32_t ppm)
{
	return (int)(uint32_t)((uint64_t)ppm * UINT32_MAX / 1000000);
}

static void netem_fill(struct rtnl_qdisc *q, const struct manifest_impair *im)
{
	rtnl_netem_set_limit(q, 10000);
	if (im->delay_us)
		rtnl_netem_set_delay(q, (int)im->delay_us);
	if (im->jitter_us)
		rtnl_netem_set_jitter(q, (int)im->jitter_us);
	if (im->loss_ppm)
		rtnl_netem_set_loss(q, netem_share(im->loss_ppm));
	if (im->duplicate_ppm)
		rtnl_netem_set_duplicate(q, netem_share(im->duplicate_ppm));
	if (im->corrupt_ppm)
		rtnl_netem_set_corruption_probability(q, netem_share(im->corrupt_ppm));
	if (im->reorder_ppm) {
		/* tc's own default: without a gap, netem reorders nothing */
		rtnl_netem_set_gap(q, 1);
		rtnl_netem_set_reorder_probability(q, netem_share(im->reorder_ppm));
	}
}

static void tbf_fill(struct rtnl_qdisc *q, uint64_t rate_bps)
{
	uint64_t bytes = rate_bps / 8;
	if (bytes > INT_MAX)
		bytes = INT_MAX;
	/* a hundredth of a second's worth, and at least a few full frames */
	uint64_t burst = bytes / 100 > 16384 ? bytes / 100 : 16384;
	if (burst > INT_MAX / 2)
		burst = INT_MAX / 2;
	rtnl_qdisc_tbf_set_rate(q, (int)bytes, (int)burst, 0);
	rtnl_qdisc_tbf_set_limit_by_latency(q, RATE_LATENCY_US);
}

static int qdisc_put(struct nl_sock *sk, struct rtnl_qdisc *q)
{
	int e = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	return link_nlerr(e);
}

/* The root qdisc of ifindex gone; 0 also when it had only the default. */
static int root_clear(struct nl_sock *sk, int ifindex)
{
	/* No kind: the kernel refuses a delete whose kind is not the root's. */
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	int e = link_nlerr(rtnl_qdisc_delete(sk, q));
	rtnl_qdisc_put(q);
	/* ENOENT, as libnl says "not found": a default root, of handle 0 */
	return e == -ENODEV ? 0 : e;
}

int shape_egress(struct nl_sock *sk, int ifindex, const struct manifest_impair *im)
{
	if (!shape_any(im))
		return root_clear(sk, ifindex);
	struct rtnl_qdisc *q;
	/* A root of one kind is not replaced by one of another in place
	 * (netem by tbf, say): the old one goes first. */
	int e = root_clear(sk, ifindex);
	if (e < 0)
		return e;
	if (!wants_netem(im)) {
		if ((e = qdisc_new(ifindex, TC_H_ROOT, NETEM_HANDLE, "tbf", &q)) < 0)
			return e;
		tbf_fill(q, im->rate_bps);
		return qdisc_put(sk, q);
	}
	if ((e = qdisc_new(ifindex, TC_H_ROOT, NETEM_HANDLE, "netem", &q)) < 0)
		return e;
	netem_fill(q, im);
	if ((e = qdisc_put(sk, q)) < 0 || !im->rate_bps)
		return e;
	if ((e = qdisc_new(ifindex, TC_H_MAKE(NETEM_HANDLE, 1), RATE_HANDLE, "tbf", &q)) < 0)
		return e;
	tbf_fill(q, im->rate_bps);
	return qdisc_put(sk, q);
}

int shape_ifb_add(struct nl_sock *sk, const char *name, unsigned mtu)
{
	int idx = link_ifindex(sk, name);
	if (idx >= 0)
		return idx;
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	int e = rtnl_link_set_type(l, "ifb");
	if (e == 0 && mtu)
		rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_flags(l, IFF_UP);
	if (e == 0)
		e = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if ((e = link_nlerr(e)) < 0)
		return e;
	return link_ifindex(sk, name);
}

#define STEER_PRIO 2 /* after the guard's filter, priority 1 */
#define STEER_HT 0x800 /* the root hash table u32 makes at a priority */

/* The u32 filter of node ifb on block: what a delete needs, and an add
 * fills in. */
static int steer_new(uint32_t block, int ifb, struct rtnl_cls **out)
{
	if (ifb <= 0 || ifb > 0xfff)
		return -ERANGE;
	struct rtnl_cls *c = rtnl_cls_alloc();
	if (!c)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(c), (int)TCM_IFINDEX_MAGIC_BLOCK);
	rtnl_tc_set_parent(TC_CAST(c), block);
	rtnl_cls_set_prio(c, STEER_PRIO);
	rtnl_cls_set_protocol(c, ETH_P_ALL);
	int e = rtnl_tc_set_kind(TC_CAST(c), "u32");
	if (e == 0)
		rtnl_u32_set_handle(c, STEER_HT, 0, ifb);
	if (e < 0) {
		rtnl_cls_put(c);
		return link_nlerr(e);
	}
	*out = c;
	return 0;
}

int shape_steer_add(struct nl_sock *sk, uint32_t block, const uint8_t mac[6], int ifb)
{
	struct rtnl_cls *c;
	int e = steer_new(block, ifb, &c);
	if (e < 0)
		return e;
	struct rtnl_act *a = rtnl_act_alloc();
	if (!a) {
		rtnl_cls_put(c);
		return -ENOMEM;
	}
	/* At ingress the frame starts at its network header: its source MAC
	 * is the 6 bytes 8 before, in two keys of 4 (u32's unit). */
	uint32_t hi, lo, lo_mask;
	memcpy(&hi, mac, 4);
	memcpy(&lo, (const uint8_t[4]){ mac[4], mac[5], 0, 0 }, 4);
	memcpy(&lo_mask, (const uint8_t[4]){ 0xff, 0xff, 0, 0 }, 4);
	if ((e = rtnl_tc_set_kind(TC_CAST(a), "mirred")) == 0 &&
	    (e = rtnl_mirred_set_action(a, TCA_EGRESS_REDIR)) == 0 &&
	    (e = rtnl_mirred_set_ifindex(a, (uint32_t)ifb)) == 0 &&
	    (e = rtnl_mirred_set_policy(a, TC_ACT_STOLEN)) == 0 &&
	    (e = rtnl_u32_add_key(c, hi, 0xffffffff, -8, 0)) == 0 &&
	    (e = rtnl_u32_add_key(c, lo, lo_mask, -4, 0)) == 0 &&
	    (e = rtnl_u32_set_cls_terminal(c)) == 0 && (e = rtnl_u32_add_action(c, a)) == 0)
		e = rtnl_cls_add(sk, c, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_act_put(a);
	rtnl_cls_put(c);
	return link_nlerr(e);
}

int shape_steer_del(struct nl_sock *sk, uint32_t block, int ifb)
{
	struct rtnl_cls *c;
	int e = steer_new(block, ifb, &c);
	if (e < 0)
		return e;
	e = link_nlerr(rtnl_cls_delete(sk, c, 0));
	rtnl_cls_put(c);
	return e == -ENODEV ? 0 : e;
}

/* Each need tried for real on the lo of a namespace of its own: a module
 * the kernel can load counts as there. */
static unsigned probe(void)
{
	unsigned lacks = 0;
	int ns = netns_new();
	struct nl_sock *sk = NULL;
	if (ns < 0 || link_sock_open(ns, &sk) < 0) {
		if (ns >= 0)
			close(ns);
		return 0; /* cannot tell: let the build say what fails */
	}
	const struct manifest_impair delay = { .set = true, .delay_us = 1000 };
	const struct manifest_impair rate = { .set = true, .rate_bps = 1000000 };
	if (shape_egress(sk, 1, &delay) < 0)
		lacks |= SHAPE_NETEM;
	root_clear(sk, 1);
	if (shape_egress(sk, 1, &rate) < 0)
		lacks |= SHAPE_TBF;
	if (shape_ifb_add(sk, "ifb-probe", 0) < 0)
		lacks |= SHAPE_IFB;
	/* lo on a block of its own, and a steering filter there back to lo */
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	if (link_ingress_add(sk, 1, 1) < 0 || shape_steer_add(sk, 1, mac, 1) < 0)
		lacks |= SHAPE_STEER;
	link_sock_close(sk);
	close(ns);
	return lacks;
}

const char *shape_missing(unsigned needs)
{
	static int lacks = -1;
	if (!needs)
		return NULL;
	if (lacks < 0)
		lacks = (int)probe();
	unsigned l = (unsigned)lacks & needs;
	if (l & SHAPE_NETEM)
		return "the netem qdisc (sch_netem)";
	if (l & SHAPE_TBF)
		return "the tbf qdisc (sch_tbf)";
	if (l & SHAPE_IFB)
		return "ifb devices (ifb)";
	if (l & SHAPE_STEER)
		return "the u32 classifier and the mirred action (cls_u32, act_mirred)";
	return NULL;
}
