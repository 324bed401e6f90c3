#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipam.h"
#include "netns.h"
#include "util.h"

#define NFT_BATCH_BUF (64 * 1024)
#define NFT_RECV_BUF 16384

struct nft_batch {
	const char *table; /* NFT_TABLE, or a playground's forwards' */
	char table_buf[NFT_FORWARD_TABLE_MAX];
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
	uint32_t first_seq;
	size_t objects;
	bool failed; /* out of memory or room while building */
};

static struct nft_batch *nft_batch_new(void)
{
	struct nft_batch *nb = calloc(1, sizeof(*nb));
	if (!nb)
		return NULL;
	nb->buf = malloc(NFT_BATCH_BUF);
	if (!nb->buf) {
		free(nb);
		return NULL;
	}
	nb->table = NFT_TABLE;
	nb->b = mnl_nlmsg_batch_start(nb->buf, NFT_BATCH_BUF);
	nb->seq = 1;
	nftnl_batch_begin(mnl_nlmsg_batch_current(nb->b), nb->seq++);
	mnl_nlmsg_batch_next(nb->b);
	nb->first_seq = nb->seq;
	return nb;
}

void nft_batch_free(struct nft_batch *nb)
{
	if (!nb)
		return;
	if (nb->b)
		mnl_nlmsg_batch_stop(nb->b);
	free(nb->buf);
	free(nb);
}

static struct nlmsghdr *nft_batch_msg(struct nft_batch *nb, uint16_t type,
				      uint16_t flags)
{
	/* Room for the largest message we build, and the batch end. */
	if (NFT_BATCH_BUF - mnl_nlmsg_batch_size(nb->b) < 4096) {
		nb->failed = true;
		return NULL;
	}
	nb->objects++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(nb->b), type,
				     NFPROTO_IPV4, flags | NLM_F_ACK, nb->seq++);
}

static void nft_add_table(struct nft_batch *nb, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *h = t ? nft_batch_msg(nb, type, flags) : NULL;
	if (!h) {
		nb->failed = true;
		nftnl_table_free(t);
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, nb->table);
	nftnl_table_nlmsg_build_payload(h, t);
	nftnl_table_free(t);
	mnl_nlmsg_batch_next(nb->b);
}

static void nft_add_chain(struct nft_batch *nb, const char *name,
			  const char *type, uint32_t hook, int prio,
			  uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *h = c ? nft_batch_msg(nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE) : NULL;
	if (!h) {
		nb->failed = true;
		nftnl_chain_free(c);
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, nb->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	nftnl_chain_nlmsg_build_payload(h, c);
	nftnl_chain_free(c);
	mnl_nlmsg_batch_next(nb->b);
}

/* Deletes every rule of the chain: a DELRULE naming no rule. */
static void nft_flush_chain(struct nft_batch *nb, const char *name)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *h = r ? nft_batch_msg(nb, NFT_MSG_DELRULE, 0) : NULL;
	if (!h) {
		nb->failed = true;
		nftnl_rule_free(r);
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, nb->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
	nftnl_rule_nlmsg_build_payload(h, r);
	nftnl_rule_free(r);
	mnl_nlmsg_batch_next(nb->b);
}

/* Rules are built expression by expression; a failed allocation marks the
 * rule, and the batch, as failed. */
struct nft_rule {
	struct nftnl_rule *r;
	bool failed;
};

static void rule_expr(struct nft_rule *nr, struct nftnl_expr *e)
{
	if (!e) {
		nr->failed = true;
		return;
	}
	nftnl_rule_add_expr(nr->r, e);
}

static void rule_cmp(struct nft_rule *nr, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *c = nftnl_expr_alloc("cmp");
	if (c) {
		nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, data, len);
	}
	rule_expr(nr, c);
}

/* meta KEY into reg 1 */
static void rule_meta(struct nft_rule *nr, uint32_t key)
{
	struct nftnl_expr *m = nftnl_expr_alloc("meta");
	if (m) {
		nftnl_expr_set_u32(m, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(m, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	rule_expr(nr, m);
}

/* meta iifname/oifname into reg 1, compared with name (exact: the whole
 * IFNAMSIZ buffer; prefix: only its bytes, like nft's "pn-*"). */
static void rule_ifname(struct nft_rule *nr, bool out, const char *name,
			bool prefix, bool equal)
{
	rule_meta(nr, out ? NFT_META_OIFNAME : NFT_META_IIFNAME);
	char buf[IFNAMSIZ] = { 0 };
	snprintf(buf, sizeof(buf), "%s", name);
	rule_cmp(nr, equal ? NFT_CMP_EQ : NFT_CMP_NEQ, buf,
		 prefix ? (uint32_t)strlen(name) : IFNAMSIZ);
}

static void rule_bitwise_cmp(struct nft_rule *nr, const void *mask,
			     const void *value, uint32_t len, uint32_t op)
{
	static const uint8_t zero[16];
	struct nftnl_expr *b = nftnl_expr_alloc("bitwise");
	if (b) {
		nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(b, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(b, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	rule_expr(nr, b);
	rule_cmp(nr, op, value, len);
}

/* ct state established,related */
static void rule_ct_established(struct nft_rule *nr)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	if (ct) {
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	rule_expr(nr, ct);
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	rule_bitwise_cmp(nr, &mask, &zero, 4, NFT_CMP_NEQ);
}

/* 4 bytes of the IPv4 header at offset into reg 1. */
static void rule_ip_field(struct nft_rule *nr, uint32_t offset)
{
	struct nftnl_expr *p = nftnl_expr_alloc("payload");
	if (p) {
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, 4);
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	rule_expr(nr, p);
}

/* ip saddr PREFIX (op NFT_CMP_EQ) or ip saddr != PREFIX (NFT_CMP_NEQ) */
static void rule_saddr(struct nft_rule *nr, uint32_t net, uint8_t prefix, uint32_t op)
{
	rule_ip_field(nr, 12);
	uint32_t mask = htonl(ipam_mask(prefix)), value = htonl(net);
	rule_bitwise_cmp(nr, &mask, &value, 4, op);
}

/* ip daddr != ADDR */
static void rule_daddr_not(struct nft_rule *nr, uint32_t addr)
{
	rule_ip_field(nr, 16);
	uint32_t value = htonl(addr);
	rule_cmp(nr, NFT_CMP_NEQ, &value, 4);
}

/* fib daddr type local: the packet is for one of pg-P's own addresses. */
static void rule_to_local(struct nft_rule *nr)
{
	struct nftnl_expr *f = nftnl_expr_alloc("fib");
	if (f) {
		nftnl_expr_set_u32(f, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(f, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(f, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	rule_expr(nr, f);
	uint32_t local = RTN_LOCAL;
	rule_cmp(nr, NFT_CMP_EQ, &local, sizeof(local));
}

/* A counter, and the rule's comment "REASON NETWORK", by which
 * nft_drops_read finds it again (and which `nft list` shows). */
static void rule_counted(struct nft_rule *nr, const char *reason, const char *network)
{
	rule_expr(nr, nftnl_expr_alloc("counter"));
	char text[128];
	snprintf(text, sizeof(text), "%s %s", reason, network);
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, text)) {
		nftnl_udata_buf_free(u);
		nr->failed = true;
		return;
	}
	nftnl_rule_set_data(nr->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

static void rule_verdict(struct nft_rule *nr, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	}
	rule_expr(nr, e);
}

static void rule_masquerade(struct nft_rule *nr)
{
	rule_expr(nr, nftnl_expr_alloc("masq"));
}

/* meta l4proto PROTO th dport PORT */
static void rule_l4_dport(struct nft_rule *nr, uint8_t proto, uint16_t port)
{
	rule_meta(nr, NFT_META_L4PROTO);
	rule_cmp(nr, NFT_CMP_EQ, &proto, 1);
	struct nftnl_expr *p = nftnl_expr_alloc("payload");
	if (p) {
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, 2);
		nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	rule_expr(nr, p);
	uint16_t be = htons(port);
	rule_cmp(nr, NFT_CMP_EQ, &be, 2);
}

/* ip daddr ADDR */
static void rule_daddr(struct nft_rule *nr, uint32_t addr)
{
	rule_ip_field(nr, 16);
	uint32_t value = htonl(addr);
	rule_cmp(nr, NFT_CMP_EQ, &value, 4);
}

static void rule_immediate(struct nft_rule *nr, uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	rule_expr(nr, e);
}

/* dnat to ADDR:PORT */
static void rule_dnat(struct nft_rule *nr, uint32_t addr, uint16_t port)
{
	uint32_t a = htonl(addr);
	uint16_t p = htons(port);
	rule_immediate(nr, NFT_REG_1, &a, 4);
	rule_immediate(nr, NFT_REG_2, &p, 2);
	struct nftnl_expr *n = nftnl_expr_alloc("nat");
	if (n) {
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	}
	rule_expr(nr, n);
}

/* ct KEY into reg 1 */
static void rule_ct(struct nft_rule *nr, uint32_t key)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	if (ct) {
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	rule_expr(nr, ct);
}

/* ct status dnat: a connection one of the forwards made */
static void rule_ct_dnat(struct nft_rule *nr)
{
	rule_ct(nr, NFT_CT_STATUS);
	uint32_t mask = IPS_DST_NAT, zero = 0;
	rule_bitwise_cmp(nr, &mask, &zero, 4, NFT_CMP_NEQ);
}

/* ct direction reply */
static void rule_ct_reply(struct nft_rule *nr)
{
	rule_ct(nr, NFT_CT_DIRECTION);
	uint8_t dir = 1; /* IP_CT_DIR_REPLY, which no uapi header has */
	rule_cmp(nr, NFT_CMP_EQ, &dir, 1);
}

/* meta mark MARK */
static void rule_mark(struct nft_rule *nr, uint32_t mark)
{
	rule_meta(nr, NFT_META_MARK);
	rule_cmp(nr, NFT_CMP_EQ, &mark, 4);
}

static struct nft_rule rule_begin(const struct nft_batch *nb, const char *chain)
{
	struct nft_rule nr = { .r = nftnl_rule_alloc() };
	if (!nr.r) {
		nr.failed = true;
		return nr;
	}
	nftnl_rule_set_str(nr.r, NFTNL_RULE_TABLE, nb->table);
	nftnl_rule_set_str(nr.r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(nr.r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return nr;
}

static void rule_end(struct nft_batch *nb, struct nft_rule *nr)
{
	struct nlmsghdr *h = nr->failed ? NULL
			     : nft_batch_msg(nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	if (!h) {
		nb->failed = true;
	} else {
		nftnl_rule_nlmsg_build_payload(h, nr->r);
		mnl_nlmsg_batch_next(nb->b);
	}
	nftnl_rule_free(nr->r);
}

/* add + delete + add: replaces a table atomically, whether it existed. */
static void nft_replace_table(struct nft_batch *nb)
{
	nft_add_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_add_table(nb, NFT_MSG_DELTABLE, 0);
	nft_add_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
}

static int nft_batch_finish(struct nft_batch *nb, struct nft_batch **out)
{
	if (nb->failed) {
		nft_batch_free(nb);
		return -ENOMEM;
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(nb->b), nb->seq++);
	mnl_nlmsg_batch_next(nb->b);
	*out = nb;
	return 0;
}

/* What reaches pg-P's own stack from a network's bridge, before conntrack
 * undoes any NAT: from a private network, nothing (netd's DHCP reads its
 * packet sockets before this hook); from another, only its own subnet's
 * sources, and of pg-P's addresses only the network's gateway. */
static void prerouting_rules(struct nft_batch *nb, const struct plan_network *n)
{
	struct nft_rule r = rule_begin(nb, "prerouting");
	rule_ifname(&r, false, n->bridge, false, true);
	if (n->private_net) {
		rule_counted(&r, NFT_DROP_PRIVATE, n->name);
		rule_verdict(&r, NF_DROP);
		rule_end(nb, &r);
		return;
	}
	rule_saddr(&r, n->subnet, n->prefix, NFT_CMP_NEQ);
	rule_counted(&r, NFT_DROP_SPOOFED, n->name);
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);
	r = rule_begin(nb, "prerouting");
	rule_ifname(&r, false, n->bridge, false, true);
	rule_to_local(&r);
	rule_daddr_not(&r, n->has_gateway ? n->gateway : 0);
	rule_counted(&r, NFT_DROP_FABRIC, n->name);
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);
}

/* Out of a NAT network to the uplink, and the answers back to the same
 * network only; anything else from a bridge (to another network) is
 * counted and dropped, anything else from the uplink falls to the policy. */
static void forward_rules(struct nft_batch *nb, const struct plan_network *n)
{
	struct nft_rule r;
	if (!n->private_net) {
		r = rule_begin(nb, "forward");
		rule_ifname(&r, false, n->bridge, false, true);
		rule_ifname(&r, true, NAMING_UPLINK_INSIDE, false, true);
		rule_verdict(&r, NF_ACCEPT);
		rule_end(nb, &r);
		r = rule_begin(nb, "forward");
		rule_ifname(&r, false, NAMING_UPLINK_INSIDE, false, true);
		rule_ifname(&r, true, n->bridge, false, true);
		rule_ct_established(&r);
		rule_verdict(&r, NF_ACCEPT);
		rule_end(nb, &r);
		r = rule_begin(nb, "forward"); /* what a forward sends in */
		rule_ifname(&r, false, NAMING_UPLINK_INSIDE, false, true);
		rule_ifname(&r, true, n->bridge, false, true);
		rule_ct_dnat(&r);
		rule_verdict(&r, NF_ACCEPT);
		rule_end(nb, &r);
	}
	r = rule_begin(nb, "forward");
	rule_ifname(&r, false, n->bridge, false, true);
	rule_counted(&r, NFT_DROP_FORWARD, n->name);
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);
}

int nft_playground_batch(const struct plan *p, bool refill, struct nft_batch **out)
{
	struct nft_batch *nb = nft_batch_new();
	if (!nb)
		return -ENOMEM;
	nft_add_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE | (refill ? 0 : NLM_F_EXCL));
	nft_add_chain(nb, "prerouting", "filter", NF_INET_PRE_ROUTING,
		      NF_IP_PRI_MANGLE, NF_ACCEPT);
	nft_add_chain(nb, "postrouting", "nat", NF_INET_POST_ROUTING,
		      NF_IP_PRI_NAT_SRC, NF_ACCEPT);
	nft_add_chain(nb, "forward", "filter", NF_INET_FORWARD, NF_IP_PRI_FILTER,
		      NF_DROP);
	nft_add_chain(nb, "dnat", "nat", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST, NF_ACCEPT);
	if (refill) {
		nft_flush_chain(nb, "prerouting");
		nft_flush_chain(nb, "postrouting");
		nft_flush_chain(nb, "forward");
		nft_flush_chain(nb, "dnat");
	}
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		const struct plan_interface *ifc = plan_forward_interface(p, mc);
		for (size_t j = 0; ifc && j < mc->n_forwards; j++) {
			const struct manifest_forward *f = &mc->forwards[j];
			struct nft_rule r = rule_begin(nb, "dnat");
			rule_ifname(&r, false, NAMING_UPLINK_INSIDE, false, true);
			rule_l4_dport(&r, f->proto, f->host_port);
			rule_dnat(&r, ifc->address, f->port);
			rule_end(nb, &r);
		}
	}
	for (size_t i = 0; i < p->n_networks; i++) {
		const struct plan_network *n = &p->networks[i];
		prerouting_rules(nb, n);
		forward_rules(nb, n);
		if (n->private_net)
			continue;
		struct nft_rule r = rule_begin(nb, "postrouting");
		rule_ifname(&r, true, NAMING_UPLINK_INSIDE, false, true);
		rule_saddr(&r, n->subnet, n->prefix, NFT_CMP_EQ);
		rule_masquerade(&r);
		rule_end(nb, &r);
	}
	return nft_batch_finish(nb, out);
}

int nft_host_batch(struct nft_batch **out)
{
	const char *up = NAMING_UPLINK_HOST_PREFIX;
	struct nft_batch *nb = nft_batch_new();
	if (!nb)
		return -ENOMEM;
	nft_replace_table(nb);
	nft_add_chain(nb, "postrouting", "nat", NF_INET_POST_ROUTING,
		      NF_IP_PRI_NAT_SRC, NF_ACCEPT);
	nft_add_chain(nb, "forward", "filter", NF_INET_FORWARD, NF_IP_PRI_FILTER,
		      NF_ACCEPT);
	nft_add_chain(nb, "input", "filter", NF_INET_LOCAL_IN, NF_IP_PRI_FILTER,
		      NF_ACCEPT);
	nft_add_chain(nb, "prerouting", "filter", NF_INET_PRE_ROUTING, NF_IP_PRI_MANGLE,
		      NF_ACCEPT);

	/* What an uplink guard let through to a destination it denies, with
	 * its mark, because the playground has forwards: only the replies of
	 * a connection a forward made, which conntrack knows and the guard
	 * does not (a client on the host itself, or on a private network). */
	struct nft_rule r = rule_begin(nb, "prerouting");
	rule_ifname(&r, false, up, true, true);
	rule_mark(&r, NFT_FORWARD_MARK);
	rule_ct_reply(&r);
	rule_ct_dnat(&r);
	rule_verdict(&r, NF_ACCEPT);
	rule_end(nb, &r);
	r = rule_begin(nb, "prerouting");
	rule_ifname(&r, false, up, true, true);
	rule_mark(&r, NFT_FORWARD_MARK);
	rule_counted(&r, "denied", "uplinks");
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);

	/* By interface, not by the transit pool: every state dir may have its
	 * own pool, and this table is the same for all of them. The uplink
	 * guard has already checked each packet's transit source. */
	r = rule_begin(nb, "postrouting");
	rule_ifname(&r, false, up, true, true);
	rule_ifname(&r, true, up, true, false);
	rule_masquerade(&r);
	rule_end(nb, &r);

	r = rule_begin(nb, "forward"); /* not into each other */
	rule_ifname(&r, false, up, true, true);
	rule_ifname(&r, true, up, true, true);
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);
	r = rule_begin(nb, "forward"); /* out */
	rule_ifname(&r, false, up, true, true);
	rule_verdict(&r, NF_ACCEPT);
	rule_end(nb, &r);
	r = rule_begin(nb, "forward"); /* replies in */
	rule_ifname(&r, true, up, true, true);
	rule_ct_established(&r);
	rule_verdict(&r, NF_ACCEPT);
	rule_end(nb, &r);
	r = rule_begin(nb, "forward"); /* what a forward sends in */
	rule_ifname(&r, true, up, true, true);
	rule_ct_dnat(&r);
	rule_verdict(&r, NF_ACCEPT);
	rule_end(nb, &r);
	r = rule_begin(nb, "forward"); /* nothing else in */
	rule_ifname(&r, true, up, true, true);
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);

	r = rule_begin(nb, "input"); /* not into the host */
	rule_ifname(&r, false, up, true, true);
	rule_ct_established(&r);
	rule_verdict(&r, NF_ACCEPT);
	rule_end(nb, &r);
	r = rule_begin(nb, "input");
	rule_ifname(&r, false, up, true, true);
	rule_verdict(&r, NF_DROP);
	rule_end(nb, &r);
	return nft_batch_finish(nb, out);
}

void nft_forward_table_name(const char *pg, char out[NFT_FORWARD_TABLE_MAX])
{
	snprintf(out, NFT_FORWARD_TABLE_MAX, "%s-fwd-%s", NFT_TABLE, pg);
}

/* A forward's match: to one of the host's own addresses (or the one it
 * names), its protocol and port. */
static void forward_match(struct nft_rule *r, const struct manifest_forward *f)
{
	rule_to_local(r);
	if (f->host_addr)
		rule_daddr(r, f->host_addr);
	rule_l4_dport(r, f->proto, f->host_port);
}

int nft_forward_batch(const struct plan *p, uint32_t inside, const char *host_end,
		      struct nft_batch **out)
{
	struct nft_batch *nb = nft_batch_new();
	if (!nb)
		return -ENOMEM;
	nft_forward_table_name(p->name, nb->table_buf);
	nb->table = nb->table_buf;
	size_t n = plan_n_forwards(p);
	/* Made and deleted: gone, whether it was there; then, with forwards,
	 * made anew (nft_replace_table). */
	nft_add_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_add_table(nb, NFT_MSG_DELTABLE, 0);
	if (!n)
		return nft_batch_finish(nb, out);
	nft_add_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_add_chain(nb, "prerouting", "nat", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST, NF_ACCEPT);
	nft_add_chain(nb, "output", "nat", NF_INET_LOCAL_OUT, NF_IP_PRI_NAT_DST, NF_ACCEPT);
	nft_add_chain(nb, "postrouting", "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC,
		      NF_ACCEPT);
	for (size_t i = 0; i < p->n_machines; i++)
		for (size_t j = 0; j < p->machines[i].n_forwards; j++) {
			const struct manifest_forward *f = &p->machines[i].forwards[j];
			/* From elsewhere, and from the host itself: to pg-P's end
			 * of the uplink, where pg-P's own dnat sends it on. */
			for (int k = 0; k < 2; k++) {
				struct nft_rule r = rule_begin(nb, k ? "output" : "prerouting");
				forward_match(&r, f);
				rule_dnat(&r, inside, f->host_port);
				rule_end(nb, &r);
			}
		}
	/* A client on the host's loopback: its source cannot leave the
	 * host, so it takes the uplink's host end address. */
	struct nft_rule r = rule_begin(nb, "postrouting");
	rule_ifname(&r, true, host_end, false, true);
	rule_saddr(&r, 0x7f000000, 8, NFT_CMP_EQ);
	rule_masquerade(&r);
	rule_end(nb, &r);
	return nft_batch_finish(nb, out);
}

size_t nft_batch_objects(const struct nft_batch *nb)
{
	return nb->objects;
}

const void *nft_batch_data(const struct nft_batch *nb, size_t *len)
{
	*len = mnl_nlmsg_batch_size(nb->b);
	return mnl_nlmsg_batch_head(nb->b);
}

static const char *nft_msg_name(uint16_t type)
{
	switch (type & 0xff) {
	case NFT_MSG_NEWTABLE:
		return "add table";
	case NFT_MSG_DELTABLE:
		return "delete table";
	case NFT_MSG_NEWCHAIN:
		return "add chain";
	case NFT_MSG_NEWRULE:
		return "add rule";
	default:
		return "message";
	}
}

/* Finds which message of the batch a sequence number belongs to. */
static uint16_t nft_batch_type_of(const struct nft_batch *nb, uint32_t seq)
{
	size_t len;
	const struct nlmsghdr *h = nft_batch_data(nb, &len);
	int rem = (int)len;
	for (; mnl_nlmsg_ok(h, rem); h = mnl_nlmsg_next(h, &rem))
		if (h->nlmsg_seq == seq)
			return h->nlmsg_type;
	return 0;
}

static struct mnl_socket *nft_socket(int nsfd)
{
	int fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	struct mnl_socket *nl = mnl_socket_fdopen(fd);
	if (!nl) {
		close(fd);
		return NULL;
	}
	int one = 1;
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	return nl;
}

int nft_batch_send(const struct nft_batch *nb, int nsfd, void (*close_fd)(int fd),
		   struct pn_error *err)
{
	struct mnl_socket *nl = nft_socket(nsfd);
	if (!nl)
		return pn_fail(err, -errno, "netfilter netlink socket");
	size_t len;
	const void *data = nft_batch_data(nb, &len);
	int ret = 0;
	if (mnl_socket_sendto(nl, data, len) < 0) {
		ret = pn_fail(err, -errno, "send nftables batch");
		goto out;
	}
	/* Every object carries NLM_F_ACK: wait for that many acks, or the
	 * first error, which names the message that caused it. */
	char buf[NFT_RECV_BUF];
	size_t acked = 0;
	while (acked < nb->objects) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			ret = pn_fail(err, -errno, "receive nftables acks");
			goto out;
		}
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		int rem = (int)n;
		for (; mnl_nlmsg_ok(h, rem); h = mnl_nlmsg_next(h, &rem)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (e->error == 0) {
				acked++;
				continue;
			}
			ret = pn_fail(err, e->error, "nftables %s (message %u of the batch)",
				      nft_msg_name(nft_batch_type_of(nb, h->nlmsg_seq)),
				      h->nlmsg_seq - nb->first_seq + 1);
			goto out;
		}
	}
out:
	if (close_fd) {
		int last = dup(mnl_socket_get_fd(nl));
		if (last >= 0)
			close_fd(last);
	}
	mnl_socket_close(nl);
	return ret;
}

/* The ack of the one request sent on nl; -errno when it is an error. */
static int nft_ack(struct mnl_socket *nl, char *buf, size_t len)
{
	ssize_t n = mnl_socket_recvfrom(nl, buf, len);
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, (size_t)n, 0, 0, NULL, NULL) < 0 ? -errno : 0;
}

struct table_walk {
	int (*fn)(const char *pg, void *arg);
	void *arg;
	int e;
};

static int table_cb(const struct nlmsghdr *h, void *data)
{
	struct table_walk *w = data;
	struct nftnl_table *t = nftnl_table_alloc();
	char prefix[NFT_FORWARD_TABLE_MAX];
	nft_forward_table_name("", prefix);
	if (t && nftnl_table_nlmsg_parse(h, t) == 0 &&
	    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_IPV4) {
		const char *name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
		if (name && strncmp(name, prefix, strlen(prefix)) == 0 && !w->e)
			w->e = w->fn(name + strlen(prefix), w->arg);
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int nft_forward_each(int nsfd, int (*fn)(const char *pg, void *arg), void *arg)
{
	struct mnl_socket *nl = nft_socket(nsfd);
	if (!nl)
		return -errno;
	char buf[NFT_RECV_BUF];
	struct nlmsghdr *h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_IPV4,
						   NLM_F_DUMP, 1);
	struct table_walk w = { fn, arg, 0 };
	int r = mnl_socket_sendto(nl, h, h->nlmsg_len) < 0 ? -1 : MNL_CB_OK;
	ssize_t n = 0;
	while (r > 0 && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		r = mnl_cb_run(buf, (size_t)n, 1, 0, table_cb, &w);
	int e = r < 0 || n < 0 ? -errno : w.e;
	mnl_socket_close(nl);
	return e;
}

/* A one-message request about a table, acked. */
static int nft_table_request(int nsfd, const char *name, uint16_t type, uint16_t flags)
{
	struct mnl_socket *nl = nft_socket(nsfd);
	if (!nl)
		return -errno;
	char buf[NFT_RECV_BUF];
	struct nlmsghdr *h;
	struct nftnl_table *t = nftnl_table_alloc();
	int ret = -ENOMEM;
	if (!t)
		goto out;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	if (type == NFT_MSG_DELTABLE) {
		/* Deleting needs a batch. */
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
		nftnl_batch_begin(mnl_nlmsg_batch_current(b), 1);
		mnl_nlmsg_batch_next(b);
		h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type,
					  NFPROTO_IPV4, flags | NLM_F_ACK, 2);
		nftnl_table_nlmsg_build_payload(h, t);
		mnl_nlmsg_batch_next(b);
		nftnl_batch_end(mnl_nlmsg_batch_current(b), 3);
		mnl_nlmsg_batch_next(b);
		ret = mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
					mnl_nlmsg_batch_size(b)) < 0 ? -errno : 0;
		mnl_nlmsg_batch_stop(b);
	} else {
		h = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_IPV4, flags | NLM_F_ACK, 1);
		nftnl_table_nlmsg_build_payload(h, t);
		ret = mnl_socket_sendto(nl, h, h->nlmsg_len) < 0 ? -errno : 0;
	}
	nftnl_table_free(t);
	if (ret == 0)
		ret = nft_ack(nl, buf, sizeof(buf));
out:
	mnl_socket_close(nl);
	return ret;
}

/* 1 if table NAME exists, 0 if not, or -errno. */
static int table_exists(int nsfd, const char *name)
{
	int e = nft_table_request(nsfd, name, NFT_MSG_GETTABLE, 0);
	if (e == -ENOENT)
		return 0;
	return e < 0 ? e : 1;
}

/* Table NAME deleted; 0 also when there is none. */
static int table_delete(int nsfd, const char *name)
{
	int e = nft_table_request(nsfd, name, NFT_MSG_DELTABLE, 0);
	return e == -ENOENT ? 0 : e;
}

int nft_table_exists(int nsfd)
{
	return table_exists(nsfd, NFT_TABLE);
}

int nft_table_delete(int nsfd)
{
	return table_delete(nsfd, NFT_TABLE);
}

int nft_forward_exists(int nsfd, const char *pg)
{
	char name[NFT_FORWARD_TABLE_MAX];
	nft_forward_table_name(pg, name);
	return table_exists(nsfd, name);
}

int nft_forward_delete(int nsfd, const char *pg)
{
	char name[NFT_FORWARD_TABLE_MAX];
	nft_forward_table_name(pg, name);
	return table_delete(nsfd, name);
}

int nft_conntrack_flush(int nsfd)
{
	struct mnl_socket *nl = nft_socket(nsfd);
	if (!nl)
		return -errno;
	char buf[NFT_RECV_BUF];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = AF_INET;
	g->version = NFNETLINK_V0;
	/* No tuple: the whole table. */
	int ret = mnl_socket_sendto(nl, h, h->nlmsg_len) < 0 ? -errno
							     : nft_ack(nl, buf, sizeof(buf));
	mnl_socket_close(nl);
	return ret;
}

static const char *const drop_reasons[NFT_DROP_REASONS] = {
	NFT_DROP_PRIVATE, NFT_DROP_SPOOFED, NFT_DROP_FABRIC, NFT_DROP_FORWARD,
};

const char *nft_drop_reason_name(size_t r)
{
	return r < NFT_DROP_REASONS ? drop_reasons[r] : "?";
}

struct drops_walk {
	const struct plan *p;
	struct nft_drops *drops;
};

static int comment_of(const struct nftnl_udata *attr, void *data)
{
	const char **out = data;
	uint8_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && v[len - 1] == '\0')
		*out = v;
	return MNL_CB_OK;
}

static int counter_of(struct nftnl_expr *e, void *data)
{
	uint64_t *packets = data;
	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0)
		*packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	return 0;
}

/* A rule commented "REASON NETWORK" adds its counter to that network's. */
static void drops_add(struct drops_walk *w, const char *comment, uint64_t packets)
{
	const char *sp = strchr(comment, ' ');
	if (!sp)
		return;
	for (size_t r = 0; r < NFT_DROP_REASONS; r++) {
		if (strncmp(comment, drop_reasons[r], (size_t)(sp - comment)) != 0 ||
		    drop_reasons[r][sp - comment] != '\0')
			continue;
		for (size_t i = 0; i < w->p->n_networks; i++)
			if (strcmp(w->p->networks[i].name, sp + 1) == 0)
				w->drops[i].packets[r] += packets;
	}
}

static int drops_rule(const struct nlmsghdr *h, void *arg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(h, r) == 0 && nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
		uint32_t len;
		const void *u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
		const char *comment = NULL;
		uint64_t packets = 0;
		nftnl_udata_parse(u, len, comment_of, &comment);
		nftnl_expr_foreach(r, counter_of, &packets);
		if (comment)
			drops_add(arg, comment, packets);
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int nft_drops_read(int nsfd, const struct plan *p, struct nft_drops *drops)
{
	memset(drops, 0, p->n_networks * sizeof(*drops));
	struct mnl_socket *nl = nft_socket(nsfd);
	if (!nl)
		return -errno;
	char buf[NFT_RECV_BUF];
	struct nftnl_rule *r = nftnl_rule_alloc();
	int ret = -ENOMEM;
	if (!r)
		goto out;
	struct nlmsghdr *h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4,
						   NLM_F_DUMP, 1);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
	nftnl_rule_nlmsg_build_payload(h, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	struct drops_walk w = { .p = p, .drops = drops };
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, 1, 0, drops_rule, &w);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}
