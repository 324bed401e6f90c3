/*
 * A capture's filter and file format, both libpcap's: a filter expression
 * compiled to the classic BPF a packet socket runs (tcpdump's language),
 * and frames written as a pcap stream into memory, from where netd's front
 * end hands them to the HTTP client as they come.
 */
#ifndef PLAYNET_PCAPIO_H
#define PLAYNET_PCAPIO_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* What a capture keeps of each frame: all of it, GSO frames included. */
#define PCAPIO_SNAPLEN 262144
/* The longest filter expression taken. */
#define PCAPIO_FILTER_MAX 1024

/* EXPR (NULL or "": every frame) compiled into prog, which
 * pcapio_filter_free frees. -EINVAL with libpcap's message in err. */
int pcapio_filter(const char *expr, struct sock_fprog *prog, char *err, size_t errlen);
void pcapio_filter_free(struct sock_fprog *prog);

struct pcapio_writer;

/* A pcap stream (Ethernet, PCAPIO_SNAPLEN) whose header is already in
 * the bytes to take. NULL when out of memory. */
struct pcapio_writer *pcapio_writer_new(void);
void pcapio_writer_free(struct pcapio_writer *w);
/* One frame of orig_len bytes, of which len were read, seen at ts. */
int pcapio_write(struct pcapio_writer *w, const struct timeval *ts, const uint8_t *frame,
		 size_t len, size_t orig_len);
/* The bytes written and not yet taken. */
size_t pcapio_pending(struct pcapio_writer *w, const uint8_t **at);
/* The first n of them are taken. */
void pcapio_take(struct pcapio_writer *w, size_t n);

#endif
