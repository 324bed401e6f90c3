/* Address parsing, formatting, containment and the allocation rules. */
#include "testutil.h"

#include "ipam.h"

static void t_parse_addr(void **state)
{
	(void)state;
	uint32_t a;
	assert_true(ipam_parse_addr("192.168.178.10", &a));
	assert_int_equal(a, 0xc0a8b20a);
	assert_true(ipam_parse_addr("0.0.0.0", &a));
	assert_true(ipam_parse_addr("255.255.255.255", &a));
	assert_int_equal(a, 0xffffffff);
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
			      "1.2.3.4 ", " 1.2.3.4", "1..3.4", "a.b.c.d", "1.2.3.-4",
			      "1.2.3.1000", "1.2.3.4/24" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ipam_parse_addr(bad[i], &a));
}

static void t_parse_cidr(void **state)
{
	(void)state;
	uint32_t a;
	uint8_t p;
	assert_true(ipam_parse_cidr("10.0.0.0/16", &a, &p));
	assert_int_equal(a, 0x0a000000);
	assert_int_equal(p, 16);
	assert_true(ipam_parse_cidr("10.0.0.5/32", &a, &p));
	const char *bad[] = { "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08",
			      "10.0.0.0/1a", "/24", "10.0.0.0/24/1", "10.0.0.0/-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ipam_parse_cidr(bad[i], &a, &p));
}

static void t_format(void **state)
{
	(void)state;
	char s[IPAM_CIDR_STRLEN];
	ipam_format_cidr(0xc0a8b200, 24, s);
	assert_string_equal(s, "192.168.178.0/24");
	char a[IPAM_ADDR_STRLEN];
	ipam_format_addr(0xffffffff, a);
	assert_string_equal(a, "255.255.255.255");
}

static void t_masks(void **state)
{
	(void)state;
	assert_int_equal(ipam_mask(24), 0xffffff00);
	assert_int_equal(ipam_mask(0), 0);
	assert_int_equal(ipam_mask(32), 0xffffffff);
	assert_int_equal(ipam_broadcast(0x0a000000, 16), 0x0a00ffff);
	assert_true(ipam_contains(0x0a000000, 16, 0x0a00ff01));
	assert_false(ipam_contains(0x0a000000, 16, 0x0a010001));
	assert_true(ipam_overlap(0x0a000000, 8, 0x0a0a0000, 16));
	assert_false(ipam_overlap(0x0a000000, 16, 0x0a010000, 16));
}

static void t_allocation_skips_gateway_and_given(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok("kind: playground\nplayground:\n"
		  "  networks: [{name: n, subnet: 10.0.0.0/29, gateway: 10.0.0.3}]\n"
		  "  machines:\n"
		  "    - {name: a, network: {interfaces: [{network: n}]}}\n"
		  "    - {name: b, network: {interfaces: [{network: n}]}}\n"
		  "    - {name: c, network: {interfaces: [{network: n, address: 10.0.0.2}]}}\n"
		  "    - {name: d, network: {interfaces: [{network: n}]}}\n",
		  &m);
	assert_int_equal(m.machines[0].interfaces[0].address, 0x0a000001);
	assert_int_equal(m.machines[1].interfaces[0].address, 0x0a000004);
	assert_int_equal(m.machines[2].interfaces[0].address, 0x0a000002);
	assert_int_equal(m.machines[3].interfaces[0].address, 0x0a000005);
	manifest_free(&m);
}

static void t_same_address_other_network(void **state)
{
	(void)state;
	struct manifest m;
	/* Uniqueness is per network: two networks may not overlap, but a
	 * router's two legs each take the lowest free address of their own. */
	expect_ok("kind: playground\nplayground:\n"
		  "  networks: [{name: a, subnet: 10.0.0.0/24, private: true},\n"
		  "             {name: b, subnet: 10.1.0.0/24, private: true}]\n"
		  "  machines:\n"
		  "    - {name: r, network: {interfaces: [{network: a}, {network: b}]}}\n",
		  &m);
	assert_int_equal(m.machines[0].interfaces[0].address, 0x0a000001);
	assert_int_equal(m.machines[0].interfaces[1].address, 0x0a010001);
	manifest_free(&m);
}

static void t_large_subnet(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok("kind: playground\nplayground:\n"
		  "  networks: [{name: a, subnet: 10.0.0.0/8}]\n"
		  "  machines: [{name: r, network: {interfaces: [{network: a, address: 10.255.255.254}]}}]\n",
		  &m);
	assert_int_equal(m.machines[0].interfaces[0].address, 0x0afffffe);
	manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse_addr),
		cmocka_unit_test(t_parse_cidr),
		cmocka_unit_test(t_format),
		cmocka_unit_test(t_masks),
		cmocka_unit_test(t_allocation_skips_gateway_and_given),
		cmocka_unit_test(t_same_address_other_network),
		cmocka_unit_test(t_large_subnet),
	};
	return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
