/* IPv4 address helpers: parse, format, masks, containment, overlap. */
#ifndef PLAYNET_IPAM_H
#define PLAYNET_IPAM_H

#include <stdbool.h>
#include <stdint.h>


#define IPAM_ADDR_STRLEN 16 /* "255.255.255.255" */
#define IPAM_CIDR_STRLEN 19 /* "255.255.255.255/32" */

/* Dotted quad, exactly four decimal parts, no leading zeros; host order. */
bool ipam_parse_addr(const char *s, uint32_t *addr);
/* "a.b.c.d/N"; the address may have host bits set (the caller decides). */
bool ipam_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix);

void ipam_format_addr(uint32_t addr, char buf[IPAM_ADDR_STRLEN]);
void ipam_format_cidr(uint32_t addr, uint8_t prefix,
		      char buf[IPAM_CIDR_STRLEN]);

static inline uint32_t ipam_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix);
}

static inline uint32_t ipam_broadcast(uint32_t subnet, uint8_t prefix)
{
	return subnet | ~ipam_mask(prefix);
}

static inline bool ipam_contains(uint32_t subnet, uint8_t prefix, uint32_t a)
{
	return (a & ipam_mask(prefix)) == subnet;
}

static inline bool ipam_overlap(uint32_t a, uint8_t pa, uint32_t b, uint8_t pb)
{
	uint8_t p = pa < pb ? pa : pb;
	return (a & ipam_mask(p)) == (b & ipam_mask(p));
}

#endif
