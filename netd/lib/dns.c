#define _GNU_SOURCE
#include "dns.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLAG_QR 0x8000
#define FLAG_OPCODE 0x7800
#define FLAG_AA 0x0400
#define FLAG_TC 0x0200
#define FLAG_RD 0x0100
#define FLAG_RA 0x0080

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The question's name, label by label: no compression (a question has
 * nothing before it to point at), at most DNS_NAME_MAX dotted. */
static int read_name(const uint8_t *pkt, size_t len, size_t *at, char *name)
{
	size_t out = 0;
	for (;;) {
		if (*at >= len)
			return -EINVAL;
		uint8_t n = pkt[(*at)++];
		if (n == 0)
			break;
		if (n > 63 || *at + n > len || out + (out ? 1 : 0) + n > DNS_NAME_MAX)
			return -EINVAL;
		if (out)
			name[out++] = '.';
		for (uint8_t i = 0; i < n; i++) {
			unsigned char c = pkt[(*at)++];
			/* a dot or a NUL inside a label would read as another name */
			if (c == '.' || c == '\0')
				return -EINVAL;
			name[out++] = (char)tolower(c);
		}
	}
	name[out] = '\0';
	return 0;
}

int dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN)
		return -EINVAL;
	uint16_t flags = get16(pkt + 2);
	if ((flags & (FLAG_QR | FLAG_OPCODE | FLAG_TC)) || get16(pkt + 4) != 1 ||
	    get16(pkt + 6) != 0 || get16(pkt + 8) != 0)
		return -EINVAL;
	size_t at = DNS_HEADER_LEN;
	if (read_name(pkt, len, &at, q->name) < 0 || at + 4 > len)
		return -EINVAL;
	q->id = get16(pkt);
	q->rd = flags & FLAG_RD;
	q->qtype = get16(pkt + at);
	q->qclass = get16(pkt + at + 2);
	q->end = at + 4;
	return 0;
}

/* Header and question of the answer to q; its length, 0 if out is short. */
static size_t begin(const uint8_t *query, const struct dns_query *q, uint16_t flags,
		    uint16_t answers, uint8_t *out, size_t outlen)
{
	if (q->end > outlen)
		return 0;
	put16(out, q->id);
	put16(out + 2, (uint16_t)(FLAG_QR | (q->rd ? FLAG_RD : 0) | FLAG_RA | flags));
	put16(out + 4, 1);
	put16(out + 6, answers);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + DNS_HEADER_LEN, query + DNS_HEADER_LEN, q->end - DNS_HEADER_LEN);
	return q->end;
}

size_t dns_servfail(const uint8_t *query, const struct dns_query *q, uint8_t *out,
		    size_t outlen)
{
	return begin(query, q, DNS_RCODE_SERVFAIL, 0, out, outlen);
}

/* An answer record for the question's name (a pointer to it), then rdata. */
static size_t record(uint8_t *out, size_t at, size_t outlen, uint16_t type, const uint8_t *rdata,
		     size_t rdlen)
{
	if (at + 12 + rdlen > outlen)
		return 0;
	put16(out + at, 0xc000 | DNS_HEADER_LEN);
	put16(out + at + 2, type);
	put16(out + at + 4, DNS_CLASS_IN);
	put16(out + at + 6, 0);
	put16(out + at + 8, DNS_TTL);
	put16(out + at + 10, (uint16_t)rdlen);
	memcpy(out + at + 12, rdata, rdlen);
	return at + 12 + rdlen;
}

/* "machine.network" as a wire name. */
static size_t wire_name(const char *machine, const char *network, uint8_t *w)
{
	size_t m = strlen(machine), n = strlen(network);
	w[0] = (uint8_t)m;
	memcpy(w + 1, machine, m);
	w[1 + m] = (uint8_t)n;
	memcpy(w + 2 + m, network, n);
	w[2 + m + n] = 0;
	return 3 + m + n;
}

static const struct plan_machine *machine_named(const struct plan *p, const char *name, size_t n)
{
	for (size_t i = 0; i < p->n_machines; i++)
		if (strlen(p->machines[i].name) == n && strncasecmp(p->machines[i].name, name, n) == 0)
			return &p->machines[i];
	return NULL;
}

static ssize_t network_named(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_networks; i++)
		if (strcasecmp(p->networks[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* The address MACHINE[.NETWORK] has: on NETWORK, or else on the network
 * asked on, or its first. 1 with *addr; 0 for a name of p that has none
 * (NXDOMAIN); -1 for a name not p's. */
static int lookup_a(const struct plan *p, size_t ni, const char *name, uint32_t *addr)
{
	const char *dot = strchr(name, '.');
	ssize_t net = dot ? network_named(p, dot + 1) : -1;
	if (dot && net < 0)
		return -1;
	const struct plan_machine *mc = machine_named(p, name, dot ? (size_t)(dot - name) : strlen(name));
	if (!mc || !mc->n_interfaces)
		return 0;
	const struct plan_interface *pick = dot ? NULL : &mc->interfaces[0];
	for (size_t i = 0; i < mc->n_interfaces; i++) {
		size_t on = mc->interfaces[i].network;
		if (dot ? on == (size_t)net : on == ni) {
			pick = &mc->interfaces[i];
			break;
		}
	}
	if (!pick)
		return 0;
	*addr = pick->address;
	return 1;
}

/* d.c.b.a.in-addr.arpa: the address, or false. */
static bool reverse_addr(const char *name, uint32_t *addr)
{
	unsigned o[4];
	int end = 0;
	if (sscanf(name, "%3u.%3u.%3u.%3u.in-addr.arpa%n", &o[0], &o[1], &o[2], &o[3], &end) != 4 ||
	    name[end] != '\0' || o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255)
		return false;
	*addr = o[3] << 24 | o[2] << 16 | o[1] << 8 | o[0];
	return true;
}

/* The machine and network of addr in p, for PTR: 1; 0 for an address of
 * one of p's subnets that no machine has (NXDOMAIN); -1 for another. */
static int lookup_ptr(const struct plan *p, uint32_t addr, const struct plan_machine **mc,
		      const struct plan_network **net)
{
	for (size_t i = 0; i < p->n_machines; i++)
		for (size_t j = 0; j < p->machines[i].n_interfaces; j++)
			if (p->machines[i].interfaces[j].address == addr) {
				*mc = &p->machines[i];
				*net = &p->networks[p->machines[i].interfaces[j].network];
				return 1;
			}
	for (size_t i = 0; i < p->n_networks; i++) {
		uint32_t mask = p->networks[i].prefix ? ~0u << (32 - p->networks[i].prefix) : 0;
		if ((addr & mask) == p->networks[i].subnet)
			return 0;
	}
	return -1;
}

/* The answer for a name found (1), of p's but not there (0: NXDOMAIN) or
 * not p's (-1: none, 0 returned): the record of type when it is asked
 * for (or ANY); for another type, the name with no record of it. */
static size_t answer(const uint8_t *query, const struct dns_query *q, int found, uint16_t type,
		     const uint8_t *rdata, size_t rdlen, uint8_t *out, size_t outlen)
{
	if (found < 0)
		return 0;
	if (!found)
		return begin(query, q, FLAG_AA | DNS_RCODE_NXDOMAIN, 0, out, outlen);
	bool want = q->qtype == type || q->qtype == DNS_TYPE_ANY;
	size_t at = begin(query, q, FLAG_AA, want, out, outlen);
	return at && want ? record(out, at, outlen, type, rdata, rdlen) : at;
}

size_t dns_answer(const struct plan *p, size_t ni, const uint8_t *query,
		  const struct dns_query *q, uint8_t *out, size_t outlen)
{
	if (q->qclass != DNS_CLASS_IN || !q->name[0])
		return 0;
	uint32_t a = 0;
	if (reverse_addr(q->name, &a)) {
		const struct plan_machine *mc;
		const struct plan_network *net;
		uint8_t w[DNS_NAME_MAX + 2];
		int found = lookup_ptr(p, a, &mc, &net);
		size_t wlen = found > 0 ? wire_name(mc->name, net->name, w) : 0;
		return answer(query, q, found, DNS_TYPE_PTR, w, wlen, out, outlen);
	}
	int found = lookup_a(p, ni, q->name, &a);
	const uint8_t rdata[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
				   (uint8_t)a };
	return answer(query, q, found, DNS_TYPE_A, rdata, 4, out, outlen);
}

bool dns_answers(const uint8_t *resp, size_t len, uint16_t id, const uint8_t *query, size_t end)
{
	return len >= end && dns_id(resp) == id && (get16(resp + 2) & FLAG_QR) &&
	       get16(resp + 4) == 1 &&
	       memcmp(resp + DNS_HEADER_LEN, query + DNS_HEADER_LEN, end - DNS_HEADER_LEN) == 0;
}
