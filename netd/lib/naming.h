/*
 * Names of the kernel objects of a playground (DESIGN.md section 2).
 *
 * Interface names must fit IFNAMSIZ (15 characters). A name is readable when
 * it fits ("br-net-1", "t-leaf-01-0"); otherwise it is cut and completed with
 * a hash after a '.', a character no network, machine or playground name may
 * hold, so a cut name never equals a readable one. Cut names of one class that
 * still collide fall back to index names ("br2", "t1-0"), which have no '-'
 * after the class letters and so equal neither. See plan.c for that step.
 */
#ifndef PLAYNET_NAMING_H
#define PLAYNET_NAMING_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAMING_PLAYGROUND_MAX 32
#define NAMING_NETNS_PREFIX "pg-"
#define NAMING_UPLINK_INSIDE "uplink0"
#define NAMING_UPLINK_HOST_PREFIX "pn-"
/* "pg-" + playground + "." + machine */
#define NAMING_NETNS_MAX (3 + NAMING_PLAYGROUND_MAX + 1 + 63 + 1)

/* [a-z0-9][a-z0-9-]*, at most max characters: playground and network
 * names. No '.', which cut names use (see above). */
bool naming_valid_label(const char *name, size_t max);
bool naming_valid_playground(const char *name);

void naming_netns(const char *pg, char out[NAMING_NETNS_MAX]);
void naming_machine_netns(const char *pg, const char *machine,
			  char out[NAMING_NETNS_MAX]);

void naming_bridge(const char *network, char out[IFNAMSIZ]);
void naming_bridge_fallback(size_t network_index, char out[IFNAMSIZ]);

/* A machine's port on a bridge: its tap ("t-"), or the bridge end of a netns
 * machine's veth ("v-"). */
void naming_port(bool veth, const char *machine, size_t iface,
		 char out[IFNAMSIZ]);
void naming_port_fallback(bool veth, size_t machine_index, size_t iface,
			  char out[IFNAMSIZ]);

/* Host end of a playground's uplink: unique among playgrounds in one host
 * netns; a cut name carries 32 bits of hash. */
void naming_uplink_host(const char *pg, char out[IFNAMSIZ]);

uint32_t naming_hash32(const char *s);

#endif
