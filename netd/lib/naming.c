#include "naming.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

uint32_t naming_hash32(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

bool naming_valid_label(const char *name, size_t max)
{
	size_t len = strlen(name);
	if (len == 0 || len > max)
		return false;
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!islower(c) && !isdigit(c) && c != '-')
			return false;
	}
	return true;
}

bool naming_valid_playground(const char *name)
{
	return naming_valid_label(name, NAMING_PLAYGROUND_MAX);
}

void naming_netns(const char *pg, char out[NAMING_NETNS_MAX])
{
	snprintf(out, NAMING_NETNS_MAX, NAMING_NETNS_PREFIX "%s", pg);
}

void naming_machine_netns(const char *pg, const char *machine,
			  char out[NAMING_NETNS_MAX])
{
	snprintf(out, NAMING_NETNS_MAX, NAMING_NETNS_PREFIX "%s.%s", pg, machine);
}

/*
 * prefix + body + suffix when it fits; otherwise prefix + the start of body
 * + '.' + hex hash of body (hash_digits of them) + suffix.
 */
static void naming_fit(const char *prefix, const char *body, const char *suffix,
		       int hash_digits, char out[IFNAMSIZ])
{
	size_t fixed = strlen(prefix) + strlen(suffix);
	if (fixed + strlen(body) <= IFNAMSIZ - 1) {
		snprintf(out, IFNAMSIZ, "%s%s%s", prefix, body, suffix);
		return;
	}
	int keep = (int)(IFNAMSIZ - 1 - fixed) - 1 - hash_digits;
	if (keep < 0)
		keep = 0;
	snprintf(out, IFNAMSIZ, "%s%.*s.%0*x%s", prefix, keep, body, hash_digits,
		 naming_hash32(body) & (hash_digits >= 8 ? 0xffffffffu
							 : (1u << (4 * hash_digits)) - 1),
		 suffix);
}

void naming_bridge(const char *network, char out[IFNAMSIZ])
{
	naming_fit("br-", network, "", 4, out);
}

void naming_bridge_fallback(size_t network_index, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "br%zu", network_index);
}

void naming_port(bool veth, const char *machine, size_t iface,
		 char out[IFNAMSIZ])
{
	char suffix[24];
	snprintf(suffix, sizeof(suffix), "-%zu", iface);
	naming_fit(veth ? "v-" : "t-", machine, suffix, 4, out);
}

void naming_port_fallback(bool veth, size_t machine_index, size_t iface,
			  char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "%c%zu-%zu", veth ? 'v' : 't', machine_index, iface);
}

void naming_uplink_host(const char *pg, char out[IFNAMSIZ])
{
	naming_fit(NAMING_UPLINK_HOST_PREFIX, pg, "", 8, out);
}
