#define _GNU_SOURCE
#include "pcapio.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpcap's struct bpf_insn and the kernel's struct sock_filter are the
 * same four fields, which is what lets tcpdump attach what it compiles. */
_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter),
	       "libpcap's BPF instructions are the kernel's");

int pcapio_filter(const char *expr, struct sock_fprog *prog, char *err, size_t errlen)
{
	memset(prog, 0, sizeof(*prog));
	if (expr && strlen(expr) > PCAPIO_FILTER_MAX) {
		snprintf(err, errlen, "the filter is longer than %d characters", PCAPIO_FILTER_MAX);
		return -EINVAL;
	}
	pcap_t *p = pcap_open_dead(DLT_EN10MB, PCAPIO_SNAPLEN);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct bpf_program bp;
	if (pcap_compile(p, &bp, expr ? expr : "", 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	pcap_close(p);
	prog->filter = calloc(bp.bf_len, sizeof(*prog->filter));
	if (!prog->filter) {
		pcap_freecode(&bp);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(prog->filter, bp.bf_insns, bp.bf_len * sizeof(*prog->filter));
	prog->len = (unsigned short)bp.bf_len;
	pcap_freecode(&bp);
	return 0;
}

void pcapio_filter_free(struct sock_fprog *prog)
{
	free(prog->filter);
	memset(prog, 0, sizeof(*prog));
}

struct pcapio_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint8_t *buf;
	size_t off, len, cap;
	bool failed; /* a write found no memory */
};

/* The stream libpcap writes into: our buffer, through a FILE. */
static ssize_t cookie_write(void *cookie, const char *data, size_t n)
{
	struct pcapio_writer *w = cookie;
	if (w->len + n > w->cap) {
		if (w->off) {
			memmove(w->buf, w->buf + w->off, w->len - w->off);
			w->len -= w->off;
			w->off = 0;
		}
		size_t cap = w->cap ? w->cap : 65536;
		while (cap < w->len + n)
			cap *= 2;
		if (cap != w->cap) {
			uint8_t *nb = realloc(w->buf, cap);
			if (!nb) {
				w->failed = true;
				return -1;
			}
			w->buf = nb;
			w->cap = cap;
		}
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	return (ssize_t)n;
}

struct pcapio_writer *pcapio_writer_new(void)
{
	struct pcapio_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	FILE *f = fopencookie(w, "w", (cookie_io_functions_t){ .write = cookie_write });
	/* Unbuffered: each frame's bytes are in buf as soon as it is written. */
	if (f)
		setvbuf(f, NULL, _IONBF, 0);
	w->dead = pcap_open_dead(DLT_EN10MB, PCAPIO_SNAPLEN);
	if (f && w->dead && (w->dumper = pcap_dump_fopen(w->dead, f)) && !w->failed)
		return w;
	if (!w->dumper && f)
		fclose(f);
	pcapio_writer_free(w);
	return NULL;
}

void pcapio_writer_free(struct pcapio_writer *w)
{
	if (!w)
		return;
	if (w->dumper)
		pcap_dump_close(w->dumper);
	if (w->dead)
		pcap_close(w->dead);
	free(w->buf);
	free(w);
}

int pcapio_write(struct pcapio_writer *w, const struct timeval *ts, const uint8_t *frame,
		 size_t len, size_t orig_len)
{
	struct pcap_pkthdr h = { .ts = *ts, .caplen = (bpf_u_int32)len,
				 .len = (bpf_u_int32)(orig_len > len ? orig_len : len) };
	pcap_dump((u_char *)w->dumper, &h, frame);
	return w->failed ? -ENOMEM : 0;
}

size_t pcapio_pending(struct pcapio_writer *w, const uint8_t **at)
{
	*at = w->buf + w->off;
	return w->len - w->off;
}

void pcapio_take(struct pcapio_writer *w, size_t n)
{
	w->off += n;
	if (w->off == w->len)
		w->off = w->len = 0;
}
