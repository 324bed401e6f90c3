/* libFuzzer target: the DNS packet logic on any datagram a guest may send,
 * against the routing challenge's plan (and the upstream-answer check on
 * the same bytes as an answer): whatever the input, a query is read or
 * refused, and an answer built for one is a well-formed answer to it, no
 * larger than the buffer, with the query's id and question. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "dns.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct plan P;

static void load_plan(void)
{
	static const char manifest[] =
		"kind: playground\nplayground:\n  networks:\n"
		"    - {name: net-1, subnet: 172.16.1.0/24}\n"
		"    - {name: net-2, subnet: 10.0.0.0/16, private: true}\n"
		"  machines:\n"
		"    - {name: leaf-01, network: {interfaces: [{network: net-1}]}}\n"
		"    - {name: router, network: {interfaces: [{network: net-1}, {network: net-2}]}}\n";
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	diag_init(&d, "fuzz");
	if (plan_parse(manifest, sizeof(manifest) - 1, "fuzz", &lim, &P, &d) < 0)
		abort();
	diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!P.n_machines)
		load_plan();
	struct dns_query q;
	if (dns_parse_query(data, size, &q) < 0)
		return 0;
	if (q.end > size || q.end < DNS_HEADER_LEN + 5 || strlen(q.name) > DNS_NAME_MAX)
		abort();
	static uint8_t out[DNS_MAX_PACKET];
	size_t outlen = size % 2 ? sizeof(out) : q.end + 16; /* sometimes short */
	for (size_t ni = 0; ni < P.n_networks; ni++) {
		size_t n = dns_answer(&P, ni, data, &q, out, outlen);
		if (n && (n > outlen || n < q.end || dns_id(out) != q.id || !(out[2] & 0x80) ||
			  !dns_answers(out, n, q.id, data, q.end)))
			abort();
	}
	size_t n = dns_servfail(data, &q, out, sizeof(out));
	if (n != q.end || (out[3] & 0x0f) != DNS_RCODE_SERVFAIL)
		abort();
	return 0;
}
