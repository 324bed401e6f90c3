#define _GNU_SOURCE
#include "dhcpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "closer.h"
#include "engine.h"
#include "log.h"
#include "mac.h"
#include "netns.h"
#include "util.h"

#define BURST 64 /* packets read per wakeup, so that one bridge cannot starve the rest */

/* Requests answered per bridge: a second's worth of a few dozen machines
 * booting at once, refilled at RATE_PER_S. A guest's flood beyond it is
 * counted, not answered, and writes nothing to the log. */
#define RATE_PER_S 50
#define RATE_BURST 200

struct dhcp_server {
	struct dhcpd *d;
	struct token_bucket rate;
	const char *playground; /* its dhcp_pg's name */
	char network[MANIFEST_NAME_MAX + 1];
	int fd;
	int ifindex;
	struct dhcp_network net;
	struct dhcp_lease *leases;
};

struct dhcp_pg {
	char name[NAMING_PLAYGROUND_MAX + 1];
	struct dhcp_server **servers;
	size_t n;
};

struct dhcpd {
	int epfd;
	struct engine engine;
	struct dhcp_pg **pgs;
	size_t n, cap;
	struct dhcpd_counters c;
};

/* Only UDP to port 67 wakes netd: without fragments, any header length.
 * The packet socket is SOCK_DGRAM, so offsets start at the IP header. */
static struct sock_filter port67[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_SERVER_PORT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

int dhcpd_new(int epfd, struct dhcpd **out)
{
	struct dhcpd *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->epfd = epfd;
	int e = engine_start(&d->engine);
	if (e < 0) {
		log_errno(LOG_LVL_ERR, -e, "start the DHCP engine");
		free(d);
		return e;
	}
	*out = d;
	return 0;
}

static void server_free(struct dhcp_server *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		epoll_ctl(s->d->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		closer_close(s->fd);
	}
	free(s->leases);
	free(s);
}

static void pg_free(struct dhcp_pg *pg)
{
	if (!pg)
		return;
	for (size_t i = 0; i < pg->n; i++)
		server_free(pg->servers[i]);
	free(pg->servers);
	free(pg);
}

void dhcpd_free(struct dhcpd *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		pg_free(d->pgs[i]);
	free(d->pgs);
	engine_stop(&d->engine);
	free(d);
}

/* What the server of network index ni hands out, from the plan. */
static int server_config(struct dhcp_server *s, const struct plan *p, size_t ni)
{
	const struct plan_network *n = &p->networks[ni];
	size_t count = 0;
	for (size_t i = 0; i < p->n_machines; i++)
		for (size_t j = 0; j < p->machines[i].n_interfaces; j++)
			count += p->machines[i].interfaces[j].network == ni;
	s->leases = calloc(count ? count : 1, sizeof(*s->leases));
	if (!s->leases)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		for (size_t j = 0; j < mc->n_interfaces; j++) {
			const struct plan_interface *ifc = &mc->interfaces[j];
			if (ifc->network != ni)
				continue;
			struct dhcp_lease *l = &s->leases[k++];
			memcpy(l->mac, ifc->mac, 6);
			l->address = ifc->address;
			l->prefix = ifc->prefix;
			snprintf(l->hostname, sizeof(l->hostname), "%s", mc->name);
		}
	}
	snprintf(s->network, sizeof(s->network), "%s", n->name);
	s->net = (struct dhcp_network){
		.server_id = n->has_gateway ? n->gateway : DHCP_PRIVATE_SERVER_ID,
		.has_router = n->has_gateway,
		.router = n->gateway,
		.mtu = (uint16_t)n->mtu,
		.leases = s->leases,
		.n_leases = count,
	};
	if (!n->private_net) {
		s->net.n_dns = n->n_dns < DHCP_MAX_DNS ? n->n_dns : DHCP_MAX_DNS;
		memcpy(s->net.dns, n->dns, s->net.n_dns * sizeof(s->net.dns[0]));
	}
	return 0;
}

/* A packet socket on the bridge, made inside the playground's namespace.
 * It is opened for no protocol and gets one at bind: a socket opened for a
 * protocol is already hooked in, and bind then unhooks it, which waits for
 * an RCU grace period (~15 ms here) per bridge. */
static int server_socket(struct dhcp_server *s, int nsfd, const char *bridge)
{
	int fd = netns_socket(nsfd, AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	s->fd = fd;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) /* resolved in the socket's netns */
		return -errno;
	s->ifindex = ifr.ifr_ifindex;
	struct sock_fprog prog = { ARRAY_SIZE(port67), port67 };
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = s->ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	if (epoll_ctl(s->d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

static struct dhcp_pg **find_pg(struct dhcpd *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->pgs[i]->name, name) == 0)
			return &d->pgs[i];
	return NULL;
}

static int pg_build(struct dhcpd *d, const struct plan *p, int nsfd, struct dhcp_pg *pg,
		    struct pn_error *err)
{
	snprintf(pg->name, sizeof(pg->name), "%s", p->name);
	pg->servers = calloc(p->n_networks ? p->n_networks : 1, sizeof(*pg->servers));
	if (!pg->servers)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_networks; i++) {
		struct dhcp_server *s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		pg->servers[pg->n++] = s;
		*s = (struct dhcp_server){ .d = d, .playground = pg->name, .fd = -1 };
		int e = server_config(s, p, i);
		if (e == 0)
			e = server_socket(s, nsfd, p->networks[i].bridge);
		if (e < 0)
			return pn_fail(err, e, "DHCP server on %s in %s", p->networks[i].bridge,
				       p->netns);
	}
	return 0;
}

int dhcpd_add(struct dhcpd *d, const struct plan *p, int nsfd, struct pn_error *err)
{
	dhcpd_remove(d, p->name);
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct dhcp_pg **pgs = realloc(d->pgs, cap * sizeof(*pgs));
		if (!pgs)
			return pn_failx(err, -ENOMEM, "DHCP servers of %s: out of memory", p->name);
		d->pgs = pgs;
		d->cap = cap;
	}
	struct dhcp_pg *pg = calloc(1, sizeof(*pg));
	int e = pg ? pg_build(d, p, nsfd, pg, err) : -ENOMEM;
	if (e < 0) {
		if (e == -ENOMEM)
			pn_failx(err, e, "DHCP servers of %s: out of memory", p->name);
		pg_free(pg);
		return e;
	}
	d->pgs[d->n++] = pg;
	return 0;
}

void dhcpd_remove(struct dhcpd *d, const char *playground)
{
	struct dhcp_pg **slot = find_pg(d, playground);
	if (!slot)
		return;
	pg_free(*slot);
	*slot = d->pgs[--d->n];
}

/* The engine reads the packet; netd only sends what it answers. */
static void answer(struct dhcp_server *s, const uint8_t *pkt, size_t len, const uint8_t src[6])
{
	struct dhcpd *d = s->d;
	if (!token_take(&s->rate, RATE_PER_S, RATE_BURST)) {
		d->c.received[DHCP_INFORM + 1]++;
		d->c.ignored[DHCP_IGNORE_RATE]++;
		return;
	}
	struct dhcp_engine_answer a;
	if (engine_ask(&d->engine, &s->net, src, pkt, len, &a) < 0) {
		d->c.engine_errors++;
		return;
	}
	if (a.received)
		d->c.received[a.received]++;
	if (!a.reply) {
		d->c.ignored[a.ignored]++;
		log_debug("%s: DHCP on %s ignored: %s", s->playground, s->network,
			  dhcp_ignore_name((enum dhcp_ignore)a.ignored));
		return;
	}
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = s->ifindex, .sll_halen = 6 };
	memset(to.sll_addr, 0xff, 6);
	if (!a.broadcast)
		memcpy(to.sll_addr, a.dst_mac, 6);
	char mac[MAC_STRLEN];
	mac_format(a.dst_mac, mac);
	if (sendto(s->fd, a.packet, a.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		d->c.send_errors++;
		log_warn("%s: DHCP %s to %s on %s: %s", s->playground, dhcp_type_name(a.type),
			 mac, s->network, strerror(errno));
		return;
	}
	d->c.sent[a.type]++;
	struct in_addr ya = { htonl(a.yiaddr) };
	/* A lease bound is worth the log; offers and NAKs are not (and the
	 * rate above bounds what a guest can make it write). */
	log_msg(a.type == DHCP_ACK ? LOG_LVL_INFO : LOG_LVL_DEBUG, "%s: DHCP %s %s to %s on %s",
		s->playground, dhcp_type_name(a.type), a.yiaddr ? inet_ntoa(ya) : "-", mac,
		s->network);
}

void dhcpd_event(struct dhcpd *d, void *ptr)
{
	struct dhcp_server *s = ptr;
	uint8_t buf[2048];
	for (int i = 0; i < BURST; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return; /* EAGAIN, or an error that the next wakeup meets again */
		if (from.sll_halen != 6) {
			d->c.ignored[DHCP_IGNORE_MALFORMED]++;
			continue;
		}
		answer(s, buf, (size_t)n, from.sll_addr);
	}
}

void dhcpd_metrics(const struct dhcpd *d, FILE *out)
{
	fputs("# HELP playnet_dhcp_received_total DHCP messages received, by type.\n"
	      "# TYPE playnet_dhcp_received_total counter\n", out);
	for (uint8_t t = DHCP_DISCOVER; t <= DHCP_INFORM + 1; t++)
		fprintf(out, "playnet_dhcp_received_total{type=\"%s\"} %llu\n",
			dhcp_type_name(t), (unsigned long long)d->c.received[t]);
	fputs("# HELP playnet_dhcp_sent_total DHCP replies sent, by type.\n"
	      "# TYPE playnet_dhcp_sent_total counter\n", out);
	static const uint8_t replies[] = { DHCP_OFFER, DHCP_ACK, DHCP_NAK };
	for (size_t i = 0; i < ARRAY_SIZE(replies); i++)
		fprintf(out, "playnet_dhcp_sent_total{type=\"%s\"} %llu\n",
			dhcp_type_name(replies[i]),
			(unsigned long long)d->c.sent[replies[i]]);
	fputs("# HELP playnet_dhcp_ignored_total DHCP packets not answered, by reason.\n"
	      "# TYPE playnet_dhcp_ignored_total counter\n", out);
	for (int r = 0; r < DHCP_IGNORE_REASONS; r++)
		fprintf(out, "playnet_dhcp_ignored_total{reason=\"%s\"} %llu\n",
			dhcp_ignore_name((enum dhcp_ignore)r),
			(unsigned long long)d->c.ignored[r]);
	fprintf(out, "# HELP playnet_dhcp_send_errors_total DHCP replies that could not be sent.\n"
		     "# TYPE playnet_dhcp_send_errors_total counter\n"
		     "playnet_dhcp_send_errors_total %llu\n"
		     "# HELP playnet_dhcp_engine_errors_total Packets the DHCP engine did not answer (it was made anew).\n"
		     "# TYPE playnet_dhcp_engine_errors_total counter\n"
		     "playnet_dhcp_engine_errors_total %llu\n"
		     "# HELP playnet_dhcp_engine_pid The DHCP engine's process.\n"
		     "# TYPE playnet_dhcp_engine_pid gauge\n"
		     "playnet_dhcp_engine_pid %d\n",
		(unsigned long long)d->c.send_errors, (unsigned long long)d->c.engine_errors,
		(int)d->engine.pid);
}
