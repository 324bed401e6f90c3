/*
 * Packet capture, netd's parent's half: a packet socket on one device of
 * a playground's namespace, handed to the front end, which filters it,
 * frames what it reads as pcap and streams that (pcapio.h). The parent
 * never reads a frame or a filter.
 *
 * A socket holds its namespace, and a deleted playground's namespace may
 * be taken over by the next create: so the parent keeps every socket it
 * gave out under its playground, and a delete cuts them off at once (a
 * locked filter that takes nothing) and tells the front end (its end of
 * a pipe closes), before the namespace goes. A capture never holds a
 * delete up.
 */
#ifndef PLAYNET_CAPTURE_H
#define PLAYNET_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

/* Captures under way at once, netd-wide. */
#define CAPTURE_MAX 32

/* A packet socket on DEV in nsfd's namespace, taking nothing until the
 * front end attaches its filter, stamping each frame's time. promisc: a
 * bridge, which hands its sockets the frames it forwards only so. */
int capture_socket(int nsfd, const char *dev, bool promisc);

struct capture_set;

struct capture_set *capture_set_new(void);
void capture_set_free(struct capture_set *set);
/* Keeps a copy of sock under playground NAME; *ctl is the end of its
 * pipe the front end watches. -EBUSY: CAPTURE_MAX under way. */
int capture_set_add(struct capture_set *set, const char *name, int sock, int *ctl);
/* NAME's captures take nothing more, and their front end is told. */
void capture_set_end(struct capture_set *set, const char *name);
/* Captures under way (those whose front end has not let go). */
size_t capture_set_count(struct capture_set *set);

#endif
