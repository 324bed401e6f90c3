/*
 * A capture, netd's front end's half: it reads the packet socket its
 * parent opened (capture.h) through the client's filter, writes what
 * passes as pcap (pcapio.h), and hands that to libmicrohttpd as a chunked
 * response, suspending the connection while there is nothing to send.
 * It ends when the client goes (watched on its own while suspended), when
 * COUNT frames are sent, or when the playground is deleted (the parent
 * closes its pipe); its trailers say how many frames were sent and how
 * many the kernel dropped for want of room.
 */
#ifndef PLAYNET_CAPTURE_STREAM_H
#define PLAYNET_CAPTURE_STREAM_H

#include <linux/filter.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

/* What the front end's epoll set tells apart: each data.ptr points at one. */
enum fe_watch { FE_EXEC = 1, FE_CAPTURE_SOCK, FE_CAPTURE_CTL, FE_CAPTURE_PEER };

/* Trailers of a capture's response. */
#define CAPTURE_TRAILER_PACKETS "Playnet-Packets"
#define CAPTURE_TRAILER_DROPPED "Playnet-Dropped"
#define CAPTURE_TRAILER_END "Playnet-End" /* count, deleted, error */

struct capture_stream;

/* The stream of sock (taken, as ctl is, also on failure) under filter
 * for connection c; count 0: no end of its own. The response to queue
 * for it, which frees the stream once libmicrohttpd is done with it; NULL
 * with errno set on failure. */
struct MHD_Response *capture_stream_start(int ep, struct MHD_Connection *c, int sock, int ctl,
					  const struct sock_fprog *filter, uint64_t count);
/* An event of the epoll set on one of a stream's watches. */
void capture_stream_event(enum fe_watch *w, uint32_t events);
/* Streams under way. */
size_t capture_stream_count(void);

#endif
