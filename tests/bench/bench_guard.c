/*
 * Cost per packet of the guards: BPF_PROG_TEST_RUN with repeat (the median
 * of five runs), on the same frames the tests use, in a network namespace
 * of its own. A benchmark: it prints figures and asserts nothing about them.
 * usage: bench_guard [REPEAT]   (default 1000000)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "link.h"
#include "netns.h"

static uint64_t cookie;
static struct nl_sock *sk;

/* lo's policy, in the slot its group names, as guard_attach_* set it. */
static void policy(struct guard *g, unsigned flags, uint32_t ipv4, const uint8_t mac[6])
{
	struct guard_key k = { .netns_cookie = cookie, .ifindex = 1 };
	struct guard_port p = { .flags = (uint16_t)flags, .ipv4 = htonl(ipv4) };
	memcpy(p.mac, mac, 6);
	uint32_t slot;
	if (guard_put_policy(g, &k, &p, &slot) < 0 ||
	    link_configure(sk, "lo", &(struct link_conf){ .group = slot }) < 0) {
		fprintf(stderr, "bench_guard: cannot set lo's policy\n");
		exit(3);
	}
}

static size_t frame(uint8_t *b, const uint8_t mac[6], uint32_t src, uint32_t dst)
{
	memset(b, 0, 64);
	memset(b, 0xff, 6);
	memcpy(b + 6, mac, 6);
	b[12] = 0x08;
	uint8_t *ip = b + 14;
	ip[0] = 0x45;
	ip[3] = 28;
	ip[8] = 64;
	ip[9] = 17;
	uint32_t s = htonl(src), d = htonl(dst);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	return 64;
}

static double run(int fd, const uint8_t *b, size_t len, unsigned repeat, int *verdict)
{
	struct __sk_buff ctx = { .ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b, .data_size_in = (uint32_t)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	if (bpf_prog_test_run_opts(fd, &opts) < 0) {
		perror("BPF_PROG_TEST_RUN");
		exit(3);
	}
	*verdict = (int)opts.retval;
	return opts.duration; /* ns per run, averaged by the kernel */
}

#define ROUNDS 5

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of ROUNDS runs: the host's other guests steal time from one
 * run now and then, and the kernel's timer counts it. */
static void report(const char *label, int fd, const uint8_t *b, size_t len, unsigned repeat)
{
	int verdict;
	double ns[ROUNDS];
	for (int i = 0; i < ROUNDS; i++)
		ns[i] = run(fd, b, len, repeat, &verdict);
	qsort(ns, ROUNDS, sizeof(ns[0]), by_value);
	printf("  %-40s %6.1f ns (verdict %s; runs %.0f-%.0f)\n", label, ns[ROUNDS / 2],
	       verdict == 2 ? "drop" : "pass", ns[0], ns[ROUNDS - 1]);
}

/* What BPF_PROG_TEST_RUN costs by itself: the guards' figures less this
 * are what they add. */
static int empty_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "empty", "GPL", insns, 2, NULL);
	if (fd < 0)
		perror("load the empty program");
	return fd;
}

int main(int argc, char **argv)
{
	unsigned repeat = argc > 1 ? (unsigned)atoi(argv[1]) : 1000000;
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare (run as root)");
		return 3;
	}
	int ns = netns_open_current();
	netns_cookie(ns, &cookie);
	if (link_sock_open(ns, &sk) < 0) {
		fprintf(stderr, "bench_guard: netlink socket\n");
		return 3;
	}
	char pin[64];
	struct pn_error err = PN_ERROR_INIT;
	snprintf(pin, sizeof(pin), "%s/playnet-bench-%d", GUARD_PIN_ROOT, getpid());
	struct guard *g;
	if (guard_open(pin, &g, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 3;
	}
	static const struct { uint32_t net; uint8_t p; } deny[] = {
		{ 0x0a000000, 8 }, { 0xac100000, 12 }, { 0xc0a80000, 16 }, { 0xa9fe0000, 16 },
		{ 0x64400000, 10 }, { 0xe0000000, 4 }, { 0xf0000000, 4 }, { 0xcb007101, 32 },
	};
	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		guard_deny(g, deny[i].net, deny[i].p);

	const uint8_t mac[6] = { 2, 1, 2, 3, 4, 5 };
	uint8_t b[64];
	printf("BPF_PROG_TEST_RUN, %u repeats, 64-byte IPv4/UDP frames, ns per packet (median of %d runs):\n",
	       repeat, ROUNDS);
	size_t len = frame(b, mac, 0x0a000005, 0x0a000001);
	int empty = empty_prog();
	if (empty >= 0) {
		report("floor: a program that only returns", empty, b, len, repeat);
		close(empty);
	}
	policy(g, 0, 0x0a000005, mac);
	report("tap guard, pass (MAC checked)", guard_port_fd(g), b, len, repeat);
	policy(g, GUARD_F_IP_SOURCE | GUARD_F_DHCP_SERVER, 0x0a000005, mac);
	report("tap guard, pass (MAC, IP, DHCP guard)", guard_port_fd(g), b, len, repeat);
	len = frame(b, (const uint8_t[]){ 2, 9, 9, 9, 9, 9 }, 0x0a000005, 0x0a000001);
	report("tap guard, drop (spoofed MAC)", guard_port_fd(g), b, len, repeat);
	policy(g, GUARD_F_UPLINK, 0x64400001, mac);
	len = frame(b, mac, 0x64400001, 0xcb007102);
	report("uplink guard, pass (allowed dst)", guard_uplink_fd(g), b, len, repeat);
	len = frame(b, mac, 0x64400001, 0xa9fea9fe);
	report("uplink guard, drop (169.254.169.254)", guard_uplink_fd(g), b, len, repeat);
	guard_close(g);
	link_sock_close(sk);
	guard_unpin(pin);
	return 0;
}
