/*
 * DNS for guests (RFC 1035), the packet logic: pure functions over
 * buffers, fuzzed (tests/fuzz/fuzz_dns.c). netd answers at each
 * non-private network's gateway for the playground's own names, from the
 * plan: MACHINE and MACHINE.NETWORK (A), and the reverse names of their
 * addresses (PTR); every other name is relayed to the host's resolvers
 * (netd/daemon/dnsd.c moves the packets). A query that is not one is
 * never answered: the caller counts it.
 */
#ifndef PLAYNET_DNS_H
#define PLAYNET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define DNS_PORT 53
#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX 253      /* dotted, without the final dot */
#define DNS_MAX_PACKET 4096   /* what is read of a query or an answer */
#define DNS_TTL 60            /* of the names netd answers for */

#define DNS_TYPE_A 1
#define DNS_TYPE_PTR 12
#define DNS_TYPE_ANY 255
#define DNS_CLASS_IN 1

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

struct dns_query {
	uint16_t id;
	bool rd;                      /* recursion desired, echoed */
	uint16_t qtype, qclass;
	char name[DNS_NAME_MAX + 1];  /* lowercase, dotted; "" for the root */
	size_t end;                   /* where the question ends */
};

/* A standard query with one question, read into q; -EINVAL for anything
 * else (an answer, another opcode, a truncated or looping name). */
int dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);

/* The answer for q, asked on network ni of p, into out: its length; 0
 * when the name is not p's to answer (it is relayed). Answered: the
 * machines' names (NXDOMAIN for a name under one of p's networks, or a
 * single label, that no machine has), and the reverse names of p's
 * machines' addresses. */
size_t dns_answer(const struct plan *p, size_t ni, const uint8_t *query,
		  const struct dns_query *q, uint8_t *out, size_t outlen);

/* A SERVFAIL for q (no resolver answered, or there is none). */
size_t dns_servfail(const uint8_t *query, const struct dns_query *q, uint8_t *out,
		    size_t outlen);

/* Whether resp is an answer to the query whose question is
 * query[DNS_HEADER_LEN, end) under id: the same id and question. */
bool dns_answers(const uint8_t *resp, size_t len, uint16_t id, const uint8_t *query,
		 size_t end);

static inline uint16_t dns_id(const uint8_t *pkt)
{
	return (uint16_t)(pkt[0] << 8 | pkt[1]);
}

static inline void dns_set_id(uint8_t *pkt, uint16_t id)
{
	pkt[0] = (uint8_t)(id >> 8);
	pkt[1] = (uint8_t)id;
}

#endif
