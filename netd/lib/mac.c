#include "mac.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static uint64_t mac_fnv1a64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

void mac_derive(const char *pg, const char *machine, size_t iface,
		unsigned round, uint8_t mac[6])
{
	/* The NULs keep ("ab","c") and ("a","bc") apart. */
	uint64_t h = 14695981039346656037ull;
	h = mac_fnv1a64(h, "playnet", 8);
	h = mac_fnv1a64(h, pg, strlen(pg) + 1);
	h = mac_fnv1a64(h, machine, strlen(machine) + 1);
	/* Text, not raw integers, so the MAC is the same on every byte order. */
	char tail[32];
	int n = round ? snprintf(tail, sizeof(tail), "%zu/%u", iface, round)
		      : snprintf(tail, sizeof(tail), "%zu", iface);
	h = mac_fnv1a64(h, tail, (size_t)n);
	/* FNV's low bytes change little between close inputs (eth0, eth1):
	 * finish with murmur3's fmix64 so every byte depends on every input. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

void mac_format(const uint8_t m[6], char out[MAC_STRLEN])
{
	snprintf(out, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
}

bool mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (strlen(s) != MAC_STRLEN - 1 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return false;
	for (size_t i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}
