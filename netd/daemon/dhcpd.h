/*
 * netd's DHCP servers (DESIGN.md section 4): one packet socket per bridge of
 * each playground, opened inside the playground's namespace so that private
 * networks, whose bridges have no address, are served too. The decisions are
 * netd/lib/dhcp.c's; this module moves packets and counts them.
 */
#ifndef PLAYNET_DHCPD_H
#define PLAYNET_DHCPD_H

#include <stdint.h>
#include <stdio.h>

#include "dhcp.h"
#include "plan.h"
#include "pn_error.h"

struct dhcpd;

struct dhcpd_counters {
	uint64_t received[DHCP_INFORM + 2]; /* by message type; the last: other */
	uint64_t sent[DHCP_INFORM + 1];
	uint64_t ignored[DHCP_IGNORE_REASONS];
	uint64_t send_errors;
	uint64_t engine_errors;
};

/* Servers register their sockets in epfd with data.ptr naming the server. */
int dhcpd_new(int epfd, struct dhcpd **out);
void dhcpd_free(struct dhcpd *d);

/* Serves every network of p, whose namespace is nsfd. Replaces any servers
 * the playground had. */
int dhcpd_add(struct dhcpd *d, const struct plan *p, int nsfd, struct pn_error *err);
/* Closes the playground's sockets: they hold its namespace alive. */
void dhcpd_remove(struct dhcpd *d, const char *playground);

/* The socket of the server ptr (an epoll event's data.ptr) is readable. */
void dhcpd_event(struct dhcpd *d, void *ptr);

void dhcpd_metrics(const struct dhcpd *d, FILE *out);

#endif
