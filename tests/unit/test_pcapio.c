/* A capture's filter and file format: what pcapio compiles filters as the
 * kernel would run them, and what it writes libpcap reads back. */
#include "testutil.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapio.h"

/* An Ethernet frame: IPv4 ICMP when icmp, else UDP. */
static size_t frame(uint8_t *f, bool icmp)
{
	static const uint8_t head[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,       /* Ethernet */
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0,               /* IPv4, proto at 23 */
		172, 16, 5, 10, 172, 16, 5, 20,
		8, 0, 0, 0, 0, 0, 0, 0,                                 /* ICMP or UDP */
	};
	memcpy(f, head, sizeof(head));
	f[23] = icmp ? 1 : 17;
	return sizeof(head);
}

/* What the kernel's filter would return for f: pcap's own interpreter
 * of the same instructions. */
static unsigned run(const struct sock_fprog *p, const uint8_t *f, size_t len)
{
	return bpf_filter((const struct bpf_insn *)p->filter, f, (u_int)len, (u_int)len);
}

static void t_filter(void **state)
{
	(void)state;
	struct sock_fprog p;
	char err[256];
	uint8_t f[64];
	size_t len = frame(f, true);
	assert_int_equal(pcapio_filter("icmp and host 172.16.5.20", &p, err, sizeof(err)), 0);
	assert_true(p.len > 1);
	assert_int_not_equal(run(&p, f, len), 0);
	len = frame(f, false);
	assert_int_equal(run(&p, f, len), 0);
	pcapio_filter_free(&p);
	/* none: every frame, whole */
	assert_int_equal(pcapio_filter(NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(run(&p, f, len), PCAPIO_SNAPLEN);
	pcapio_filter_free(&p);
	assert_int_equal(pcapio_filter("icmp and", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "syntax error"));
	assert_null(p.filter);
	assert_int_equal(pcapio_filter("ether host 1:2:3", &p, err, sizeof(err)), -EINVAL);
	char lng[PCAPIO_FILTER_MAX + 2];
	memset(lng, ' ', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(pcapio_filter(lng, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
}

/* Frames written, taken in pieces as a client would, read back by
 * libpcap as a file. */
static void t_writer(void **state)
{
	(void)state;
	struct pcapio_writer *w = pcapio_writer_new();
	assert_non_null(w);
	const uint8_t *at;
	assert_int_equal(pcapio_pending(w, &at), 24); /* the file header, at once */
	uint8_t f[64];
	size_t len = frame(f, true);
	char *all = NULL;
	size_t all_len = 0;
	FILE *mem = open_memstream(&all, &all_len);
	for (int i = 0; i < 3; i++) {
		struct timeval ts = { 1000 + i, 250 * i };
		/* the third was cut: 20 of its 42 bytes kept */
		assert_int_equal(pcapio_write(w, &ts, f, i == 2 ? 20 : len, len), 0);
		size_t n = pcapio_pending(w, &at);
		size_t half = n / 2;
		fwrite(at, 1, half, mem);
		pcapio_take(w, half);
		n = pcapio_pending(w, &at);
		fwrite(at, 1, n, mem);
		pcapio_take(w, n);
		assert_int_equal(pcapio_pending(w, &at), 0);
	}
	fclose(mem);
	pcapio_writer_free(w);
	char err[PCAP_ERRBUF_SIZE];
	FILE *in = fmemopen(all, all_len, "r");
	pcap_t *r = pcap_fopen_offline(in, err);
	assert_non_null(r);
	assert_int_equal(pcap_datalink(r), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(r), PCAPIO_SNAPLEN);
	struct pcap_pkthdr *h;
	const u_char *data;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pcap_next_ex(r, &h, &data), 1);
		assert_int_equal(h->ts.tv_sec, 1000 + i);
		assert_int_equal(h->ts.tv_usec, 250 * i);
		assert_int_equal(h->len, len);
		assert_int_equal(h->caplen, i == 2 ? 20 : len);
		assert_memory_equal(data, f, h->caplen);
	}
	assert_int_equal(pcap_next_ex(r, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(r);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_filter),
		cmocka_unit_test(t_writer),
	};
	return cmocka_run_group_tests_name("pcapio", tests, NULL, NULL);
}
