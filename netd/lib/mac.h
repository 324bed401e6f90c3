/* Deterministic MAC addresses for machine interfaces (DESIGN.md section 1). */
#ifndef PLAYNET_MAC_H
#define PLAYNET_MAC_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define MAC_STRLEN 18

/*
 * A locally administered unicast MAC (02:xx:xx:xx:xx:xx) from a hash of the
 * playground, machine and interface index; round > 0 picks another one when
 * the caller found a collision.
 */
void mac_derive(const char *pg, const char *machine, size_t iface,
		unsigned round, uint8_t mac[6]);

/* "02:00:00:00:00:01", hex digits of either case. */
bool mac_parse(const char *s, uint8_t mac[6]);
void mac_format(const uint8_t mac[6], char out[MAC_STRLEN]);

#endif
