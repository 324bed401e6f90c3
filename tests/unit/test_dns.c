/* The DNS packet logic: queries read or refused, the playground's names
 * answered from its plan, the rest left to be relayed. */
#include "testutil.h"

#include <errno.h>
#include <string.h>

#include "diag.h"
#include "dns.h"
#include "plan.h"

static struct plan P;

static int setup(void **state)
{
	(void)state;
	static const char manifest[] =
		"kind: playground\nplayground:\n  networks:\n"
		"    - {name: lan, subnet: 172.16.8.0/24}\n"
		"    - {name: back, subnet: 10.9.8.0/24, private: true}\n"
		"  machines:\n"
		"    - {name: a, network: {interfaces: [{network: lan, address: 172.16.8.10}]}}\n"
		"    - {name: router, network: {interfaces: [{network: back, address: 10.9.8.1},\n"
		"                                            {network: lan, address: 172.16.8.2}]}}\n";
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	diag_init(&d, "test");
	int e = plan_parse(manifest, sizeof(manifest) - 1, "dns", &lim, &P, &d);
	diag_free(&d);
	return e;
}

static int teardown(void **state)
{
	(void)state;
	plan_free(&P);
	return 0;
}

/* A query for name (dotted) of type t. */
static size_t query(const char *name, uint16_t t, uint8_t *b)
{
	static const uint8_t head[12] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	memcpy(b, head, 12);
	size_t at = 12;
	for (const char *l = name; *l;) {
		size_t n = strcspn(l, ".");
		b[at++] = (uint8_t)n;
		memcpy(b + at, l, n);
		at += n;
		l += n + (l[n] == '.');
	}
	b[at++] = 0;
	b[at++] = (uint8_t)(t >> 8);
	b[at++] = (uint8_t)t;
	b[at++] = 0;
	b[at++] = 1;
	return at;
}

/* The rcode of the answer to name/t asked on lan, and in addr the A or
 * PTR data's first bytes; 0 length when not answered. */
static size_t ask(const char *name, uint16_t t, uint8_t *out, int *rcode)
{
	uint8_t q[300];
	size_t len = query(name, t, q);
	struct dns_query dq;
	assert_int_equal(dns_parse_query(q, len, &dq), 0);
	size_t n = dns_answer(&P, 0, q, &dq, out, DNS_MAX_PACKET);
	if (n) {
		assert_true(dns_answers(out, n, 0xabcd, q, dq.end));
		*rcode = out[3] & 0x0f;
	}
	return n;
}

static void t_parse(void **state)
{
	(void)state;
	uint8_t q[400];
	struct dns_query dq;
	size_t len = query("Router.LAN", DNS_TYPE_A, q);
	assert_int_equal(dns_parse_query(q, len, &dq), 0);
	assert_string_equal(dq.name, "router.lan");
	assert_int_equal(dq.id, 0xabcd);
	assert_true(dq.rd);
	assert_int_equal(dq.end, len);
	assert_int_equal(dns_parse_query(q, len - 1, &dq), -EINVAL); /* cut short */
	q[2] |= 0x80;
	assert_int_equal(dns_parse_query(q, len, &dq), -EINVAL); /* an answer */
	q[2] &= 0x7f;
	q[5] = 2;
	assert_int_equal(dns_parse_query(q, len, &dq), -EINVAL); /* two questions */
	q[5] = 1;
	q[12] = 0xc0; /* a pointer in the question */
	assert_int_equal(dns_parse_query(q, len, &dq), -EINVAL);
	len = query("a.b", DNS_TYPE_A, q);
	q[14] = '.'; /* a dot inside a label: another name */
	assert_int_equal(dns_parse_query(q, len, &dq), -EINVAL);
	char lng[300];
	memset(lng, 'x', sizeof(lng));
	for (int i = 63; i < 299; i += 64)
		lng[i] = '.';
	lng[299] = '\0';
	len = query(lng, DNS_TYPE_A, q);
	assert_int_equal(dns_parse_query(q, len, &dq), -EINVAL); /* over 253 */
}

static void t_answers(void **state)
{
	(void)state;
	uint8_t out[DNS_MAX_PACKET];
	int rc;
	size_t n = ask("router", DNS_TYPE_A, out, &rc);
	assert_int_equal(rc, DNS_RCODE_NOERROR);
	assert_int_equal(out[7], 1);
	assert_memory_equal(out + n - 4, ((uint8_t[]){ 172, 16, 8, 2 }), 4); /* on lan */
	n = ask("router.back", DNS_TYPE_A, out, &rc);
	assert_memory_equal(out + n - 4, ((uint8_t[]){ 10, 9, 8, 1 }), 4);
	assert_true(ask("a.back", DNS_TYPE_A, out, &rc) && rc == DNS_RCODE_NXDOMAIN);
	assert_true(ask("nosuch", DNS_TYPE_A, out, &rc) && rc == DNS_RCODE_NXDOMAIN);
	assert_true(ask("router", 28, out, &rc) && rc == DNS_RCODE_NOERROR && out[7] == 0);
	n = ask("10.8.16.172.in-addr.arpa", DNS_TYPE_PTR, out, &rc);
	assert_int_equal(rc, DNS_RCODE_NOERROR);
	assert_memory_equal(out + n - 7, "\x01" "a\x03lan\x00", 7);
	assert_true(ask("99.8.16.172.in-addr.arpa", DNS_TYPE_PTR, out, &rc) &&
		    rc == DNS_RCODE_NXDOMAIN);
	/* not the playground's: relayed */
	assert_int_equal(ask("www.example.com", DNS_TYPE_A, out, &rc), 0);
	assert_int_equal(ask("8.8.8.8.in-addr.arpa", DNS_TYPE_PTR, out, &rc), 0);
	assert_int_equal(ask("router.example", DNS_TYPE_A, out, &rc), 0);
	/* and the SERVFAIL a relay gets when nobody answers */
	uint8_t q[300];
	size_t len = query("www.example.com", DNS_TYPE_A, q);
	struct dns_query dq;
	assert_int_equal(dns_parse_query(q, len, &dq), 0);
	assert_int_equal(dns_servfail(q, &dq, out, sizeof(out)), len);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_SERVFAIL);
	assert_int_equal(dns_servfail(q, &dq, out, len - 1), 0); /* no room */
	/* an upstream's answer to another question, or id, is not the one */
	assert_false(dns_answers(out, len, 0xabce, q, dq.end));
	out[len - 5] ^= 1;
	assert_false(dns_answers(out, len, 0xabcd, q, dq.end));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse),
		cmocka_unit_test(t_answers),
	};
	return cmocka_run_group_tests_name("dns", tests, setup, teardown);
}
