#define _GNU_SOURCE
#include "dnsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "log.h"
#include "naming.h"
#include "netns.h"
#include "util.h"

#define BURST 64          /* queries read per wakeup and socket */
#define MAX_PENDING 1024  /* relays waiting for an answer */
/* Queries answered per network: a guest's flood beyond this is counted,
 * not answered (nor relayed). */
#define RATE_PER_S 1000
#define RATE_BURST 2000

struct dns_server {
	struct dnsd *d;
	const struct plan *p;  /* its dns_pg's */
	size_t network;        /* index in p */
	int fd;
	struct token_bucket rate;
};

struct dns_pg {
	char name[NAMING_PLAYGROUND_MAX + 1];
	struct plan names; /* what answers need of the plan: networks, machines */
	struct dns_server *servers;
	size_t n;
};

/* A query relayed, waiting for an upstream's answer. */
struct pending {
	bool used;
	uint16_t id;          /* ours, upstream */
	struct dns_server *s; /* where the query came in */
	struct sockaddr_in client;
	uint8_t query[DNS_HEADER_LEN + DNS_NAME_MAX + 2 + 4]; /* its header and question */
	size_t end;
	double deadline;
};

struct dnsd_counters {
	uint64_t queries, answered, nxdomain, relayed, relay_answers, servfail, malformed,
		limited;
};

struct dnsd {
	int ep;
	int relay; /* in the host netns */
	uint32_t upstreams[DNSD_MAX_UPSTREAMS];
	size_t n_upstreams;
	struct dns_pg **pgs;
	size_t n_pgs;
	struct pending pending[MAX_PENDING];
	size_t n_pending;
	struct dnsd_counters c;
};

/* epoll's data for the relay socket; a server's is the server. */
static int relay_token;

static void names_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_machines; i++)
		free(p->machines[i].interfaces);
	free(p->machines);
	free(p->networks);
	memset(p, 0, sizeof(*p));
}

/* The networks and machines of p, with their interfaces: nothing else. */
static int names_copy(const struct plan *p, struct plan *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", p->name);
	out->networks = calloc(p->n_networks + 1, sizeof(*out->networks));
	out->machines = calloc(p->n_machines + 1, sizeof(*out->machines));
	if (!out->networks || !out->machines) {
		names_free(out);
		return -ENOMEM;
	}
	memcpy(out->networks, p->networks, p->n_networks * sizeof(*p->networks));
	out->n_networks = p->n_networks;
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *mc = &p->machines[i];
		struct plan_machine *to = &out->machines[i];
		snprintf(to->name, sizeof(to->name), "%s", mc->name);
		to->interfaces = calloc(mc->n_interfaces + 1, sizeof(*to->interfaces));
		if (!to->interfaces) {
			out->n_machines = i;
			names_free(out);
			return -ENOMEM;
		}
		memcpy(to->interfaces, mc->interfaces, mc->n_interfaces * sizeof(*mc->interfaces));
		to->n_interfaces = mc->n_interfaces;
		out->n_machines = i + 1;
	}
	return 0;
}

int dnsd_new(int host_nsfd, const uint32_t *upstreams, size_t n, struct dnsd **out)
{
	struct dnsd *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->relay = -1;
	d->n_upstreams = n < DNSD_MAX_UPSTREAMS ? n : DNSD_MAX_UPSTREAMS;
	memcpy(d->upstreams, upstreams, d->n_upstreams * sizeof(*upstreams));
	int e = (d->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ? -errno : 0;
	if (e == 0 && d->n_upstreams &&
	    (d->relay = netns_socket(host_nsfd, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) < 0)
		e = d->relay;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &relay_token };
	if (e == 0 && d->relay >= 0 && epoll_ctl(d->ep, EPOLL_CTL_ADD, d->relay, &ev) < 0)
		e = -errno;
	if (e < 0) {
		dnsd_free(d);
		return e;
	}
	*out = d;
	return 0;
}

static void pg_free(struct dnsd *d, struct dns_pg *pg)
{
	for (size_t i = 0; i < MAX_PENDING; i++)
		for (size_t j = 0; j < pg->n && d->pending[i].used; j++)
			if (d->pending[i].s == &pg->servers[j]) {
				d->pending[i].used = false;
				d->n_pending--;
			}
	for (size_t i = 0; i < pg->n; i++)
		if (pg->servers[i].fd >= 0)
			close(pg->servers[i].fd); /* leaves the epoll set with it */
	free(pg->servers);
	names_free(&pg->names);
	free(pg);
}

void dnsd_free(struct dnsd *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_pgs; i++)
		pg_free(d, d->pgs[i]);
	free(d->pgs);
	if (d->relay >= 0)
		close(d->relay);
	if (d->ep >= 0)
		close(d->ep);
	free(d);
}

int dnsd_fd(const struct dnsd *d)
{
	return d->ep;
}

void dnsd_remove(struct dnsd *d, const char *playground)
{
	for (size_t i = 0; i < d->n_pgs; i++)
		if (strcmp(d->pgs[i]->name, playground) == 0) {
			pg_free(d, d->pgs[i]);
			d->pgs[i] = d->pgs[--d->n_pgs];
			return;
		}
}

/* A socket on the gateway's port 53 in nsfd's namespace. */
static int server_socket(int nsfd, uint32_t gateway)
{
	cleanup_close int fd = netns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT),
				 .sin_addr.s_addr = htonl(gateway) };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -errno;
	int out = fd;
	fd = -1;
	return out;
}

static int pg_open(struct dnsd *d, struct dns_pg *pg, const struct plan *p, int nsfd,
		   struct pn_error *err)
{
	for (size_t i = 0; i < p->n_networks; i++) {
		const struct plan_network *n = &p->networks[i];
		if (n->private_net || !n->has_gateway)
			continue;
		struct dns_server *s = &pg->servers[pg->n];
		*s = (struct dns_server){ .d = d, .p = &pg->names, .network = i };
		if ((s->fd = server_socket(nsfd, n->gateway)) < 0)
			return pn_fail(err, s->fd, "DNS on network %s's gateway", n->name);
		pg->n++;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
			return pn_fail(err, -errno, "epoll");
	}
	return 0;
}

int dnsd_add(struct dnsd *d, const struct plan *p, int nsfd, struct pn_error *err)
{
	dnsd_remove(d, p->name);
	struct dns_pg *pg = calloc(1, sizeof(*pg));
	struct dns_pg **grown = pg ? realloc(d->pgs, (d->n_pgs + 1) * sizeof(*grown)) : NULL;
	if (grown)
		d->pgs = grown;
	if (!grown || !(pg->servers = calloc(p->n_networks + 1, sizeof(*pg->servers))) ||
	    names_copy(p, &pg->names) < 0) {
		if (pg)
			free(pg->servers);
		free(pg);
		return pn_fail(err, -ENOMEM, "DNS of %s", p->name);
	}
	snprintf(pg->name, sizeof(pg->name), "%s", p->name);
	int e = pg_open(d, pg, p, nsfd, err);
	if (e < 0) {
		pg_free(d, pg);
		return e;
	}
	d->pgs[d->n_pgs++] = pg;
	return 0;
}

static void reply(struct dns_server *s, const struct sockaddr_in *to, const uint8_t *pkt,
		  size_t len)
{
	if (sendto(s->fd, pkt, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		log_debug("DNS: answer to %s: %s", inet_ntoa(to->sin_addr), strerror(errno));
}

static void servfail(struct dns_server *s, const struct sockaddr_in *to, const uint8_t *query,
		     const struct dns_query *q)
{
	uint8_t out[DNS_MAX_PACKET];
	size_t n = dns_servfail(query, q, out, sizeof(out));
	s->d->c.servfail++;
	if (n)
		reply(s, to, out, n);
}

static struct pending *pending_new(struct dnsd *d, uint16_t *id)
{
	if (d->n_pending == MAX_PENDING)
		return NULL;
	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
			return NULL;
		bool taken = false;
		struct pending *free_slot = NULL;
		for (size_t i = 0; i < MAX_PENDING && !taken; i++) {
			taken = d->pending[i].used && d->pending[i].id == *id;
			if (!d->pending[i].used && !free_slot)
				free_slot = &d->pending[i];
		}
		if (!taken)
			return free_slot;
	}
	return NULL;
}

/* The query to the first upstream under an id of ours. */
static void relay(struct dns_server *s, const struct sockaddr_in *from, uint8_t *query,
		  size_t len, const struct dns_query *q)
{
	struct dnsd *d = s->d;
	uint16_t id;
	struct pending *pd = d->relay >= 0 ? pending_new(d, &id) : NULL;
	if (!pd || q->end > sizeof(pd->query))
		return servfail(s, from, query, q);
	*pd = (struct pending){ .used = true, .id = id, .s = s, .client = *from, .end = q->end,
				.deadline = now_seconds() + DNSD_WAIT_MS / 1e3 };
	memcpy(pd->query, query, q->end);
	dns_set_id(query, id);
	struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT),
				  .sin_addr.s_addr = htonl(d->upstreams[0]) };
	d->n_pending++;
	d->c.relayed++;
	if (sendto(d->relay, query, len, 0, (struct sockaddr *)&up, sizeof(up)) < 0) {
		log_debug("DNS: relay to %s: %s", inet_ntoa(up.sin_addr), strerror(errno));
		pd->deadline = 0; /* answered SERVFAIL by the next run */
	}
}

static void serve_query(struct dns_server *s, uint8_t *pkt, size_t len,
			const struct sockaddr_in *from)
{
	struct dnsd *d = s->d;
	struct dns_query q;
	d->c.queries++;
	if (dns_parse_query(pkt, len, &q) < 0) {
		d->c.malformed++;
		return;
	}
	if (!token_take(&s->rate, RATE_PER_S, RATE_BURST)) {
		d->c.limited++;
		return;
	}
	uint8_t out[DNS_MAX_PACKET];
	size_t n = dns_answer(s->p, s->network, pkt, &q, out, sizeof(out));
	if (!n)
		return relay(s, from, pkt, len, &q);
	d->c.answered++;
	if ((out[3] & 0x0f) == DNS_RCODE_NXDOMAIN)
		d->c.nxdomain++;
	reply(s, from, out, n);
}

static void serve(struct dns_server *s)
{
	for (int i = 0; i < BURST; i++) {
		uint8_t pkt[DNS_MAX_PACKET];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, pkt, sizeof(pkt), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if ((size_t)n > sizeof(pkt) || fl != sizeof(from)) {
			s->d->c.queries++;
			s->d->c.malformed++;
			continue;
		}
		serve_query(s, pkt, (size_t)n, &from);
	}
}

static bool from_upstream(const struct dnsd *d, const struct sockaddr_in *a)
{
	if (a->sin_port != htons(DNS_PORT))
		return false;
	for (size_t i = 0; i < d->n_upstreams; i++)
		if (a->sin_addr.s_addr == htonl(d->upstreams[i]))
			return true;
	return false;
}

/* Upstreams' answers, each back to the guest that asked, under its id. */
static void relay_answers(struct dnsd *d)
{
	for (int i = 0; i < BURST; i++) {
		uint8_t pkt[DNS_MAX_PACKET];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(d->relay, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (fl != sizeof(from) || !from_upstream(d, &from) || n < DNS_HEADER_LEN)
			continue;
		for (size_t j = 0; j < MAX_PENDING; j++) {
			struct pending *pd = &d->pending[j];
			if (!pd->used || !dns_answers(pkt, (size_t)n, pd->id, pd->query, pd->end))
				continue;
			dns_set_id(pkt, dns_id(pd->query));
			reply(pd->s, &pd->client, pkt, (size_t)n);
			pd->used = false;
			d->n_pending--;
			d->c.relay_answers++;
			break;
		}
	}
}

static void expire(struct dnsd *d)
{
	double now = now_seconds();
	for (size_t i = 0; i < MAX_PENDING && d->n_pending; i++) {
		struct pending *pd = &d->pending[i];
		if (!pd->used || pd->deadline > now)
			continue;
		struct dns_query q;
		if (dns_parse_query(pd->query, pd->end, &q) == 0)
			servfail(pd->s, &pd->client, pd->query, &q);
		pd->used = false;
		d->n_pending--;
	}
}

void dnsd_run(struct dnsd *d)
{
	struct epoll_event evs[32];
	int n = epoll_wait(d->ep, evs, ARRAY_SIZE(evs), 0);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == &relay_token)
			relay_answers(d);
		else
			serve(evs[i].data.ptr);
	}
	expire(d);
}

int dnsd_timeout_ms(const struct dnsd *d)
{
	if (!d->n_pending)
		return -1;
	double first = -1, now = now_seconds();
	for (size_t i = 0; i < MAX_PENDING; i++)
		if (d->pending[i].used && (first < 0 || d->pending[i].deadline < first))
			first = d->pending[i].deadline;
	return first <= now ? 0 : (int)((first - now) * 1e3) + 1;
}

void dnsd_metrics(const struct dnsd *d, FILE *out)
{
	const struct dnsd_counters *c = &d->c;
	fprintf(out,
		"# HELP playnet_dns_queries_total DNS queries to the gateways, by what became of them.\n"
		"# TYPE playnet_dns_queries_total counter\n"
		"playnet_dns_queries_total{result=\"answered\"} %llu\n"
		"playnet_dns_queries_total{result=\"relayed\"} %llu\n"
		"playnet_dns_queries_total{result=\"malformed\"} %llu\n"
		"playnet_dns_queries_total{result=\"rate_limited\"} %llu\n"
		"# HELP playnet_dns_answers_total DNS answers sent, by kind.\n"
		"# TYPE playnet_dns_answers_total counter\n"
		"playnet_dns_answers_total{kind=\"nxdomain\"} %llu\n"
		"playnet_dns_answers_total{kind=\"relayed\"} %llu\n"
		"playnet_dns_answers_total{kind=\"servfail\"} %llu\n"
		"# HELP playnet_dns_malformed_total DNS queries that were not one, ignored.\n"
		"# TYPE playnet_dns_malformed_total counter\n"
		"playnet_dns_malformed_total %llu\n",
		(unsigned long long)c->answered, (unsigned long long)c->relayed,
		(unsigned long long)c->malformed, (unsigned long long)c->limited,
		(unsigned long long)c->nxdomain, (unsigned long long)c->relay_answers,
		(unsigned long long)c->servfail, (unsigned long long)c->malformed);
}

size_t dnsd_resolv_conf(const char *path, uint32_t *out, size_t max)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char line[256];
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char addr[64];
		struct in_addr a;
		if (sscanf(line, " nameserver %63s", addr) == 1 && inet_pton(AF_INET, addr, &a) == 1)
			out[n++] = ntohl(a.s_addr);
	}
	return n;
}
