/*
 * The DHCP engine: the one process of netd that reads what guests send.
 * It runs as nobody, with no capabilities, no_new_privs and a seccomp
 * filter that lets it read and write its socket and little else (as
 * OpenBSD's dhcpleased engine does under pledge("stdio")). netd keeps the
 * packet sockets and hands it each packet with the lease table of its
 * network over a socketpair; the answer is checked before anything is sent.
 */
#ifndef PLAYNET_ENGINE_H
#define PLAYNET_ENGINE_H

#include <stdint.h>
#include <sys/types.h>

#include "dhcp_engine.h"

struct engine {
	pid_t pid;
	int fd;
	uint32_t seq;
};

/* Forks the engine. */
int engine_start(struct engine *e);
/* Stops it and waits for it. */
void engine_stop(struct engine *e);

/* The engine's answer to a packet from src_mac on net's bridge: 0, or
 * negative when the engine did not answer in time or answered wrong (it
 * is then made anew, and the packet goes unanswered). */
int engine_ask(struct engine *e, const struct dhcp_network *net, const uint8_t src_mac[6],
	       const uint8_t *packet, size_t len, struct dhcp_engine_answer *a);

#endif
