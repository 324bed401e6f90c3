/* Names of kernel objects: fit IFNAMSIZ, readable when they can be, never
 * colliding; deterministic MACs. */
#include "testutil.h"

#include <net/if.h>
#include <stdlib.h>

#include "mac.h"
#include "naming.h"
#include "plan.h"

static void t_playground_names(void **state)
{
	(void)state;
	assert_true(naming_valid_playground("lab-1"));
	assert_true(naming_valid_playground("0"));
	assert_true(naming_valid_playground("abcdefghijabcdefghijabcdefghij12"));
	const char *bad[] = { "", "-a", "Lab", "a/b", "..", "a b", "a.b", "a_b",
			      "abcdefghijabcdefghijabcdefghij123" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(naming_valid_playground(bad[i]));
}

static void t_short_names_readable(void **state)
{
	(void)state;
	char n[IFNAMSIZ];
	naming_bridge("net-1", n);
	assert_string_equal(n, "br-net-1");
	naming_port(false, "leaf-01", 0, n);
	assert_string_equal(n, "t-leaf-01-0");
	naming_port(true, "leaf-01", 2, n);
	assert_string_equal(n, "v-leaf-01-2");
	naming_uplink_host("lab", n);
	assert_string_equal(n, "pn-lab");
	char ns[NAMING_NETNS_MAX];
	naming_netns("lab", ns);
	assert_string_equal(ns, "pg-lab");
	naming_machine_netns("lab", "leaf-01", ns);
	assert_string_equal(ns, "pg-lab.leaf-01");
}

static void t_long_names_fit(void **state)
{
	(void)state;
	char n[IFNAMSIZ];
	naming_bridge("a-very-long-network-name-of-32ch", n);
	assert_true(strlen(n) <= IFNAMSIZ - 1);
	assert_non_null(strchr(n, '.'));
	assert_memory_equal(n, "br-a-very", 9);
	naming_port(false, "a-machine-with-a-rather-long-host-name", 7, n);
	assert_true(strlen(n) <= IFNAMSIZ - 1);
	assert_true(strncmp(n, "t-a-mac", 7) == 0);
	assert_string_equal(n + strlen(n) - 2, "-7");
	naming_uplink_host("abcdefghijabcdefghijabcdefghij12", n);
	assert_int_equal(strlen(n), IFNAMSIZ - 1);
	assert_true(strncmp(n, "pn-abc.", 7) == 0);
}

static void t_cut_names_distinct(void **state)
{
	(void)state;
	char a[IFNAMSIZ], b[IFNAMSIZ];
	naming_bridge("long-network-name-one", a);
	naming_bridge("long-network-name-two", b);
	assert_string_not_equal(a, b);
	naming_uplink_host("playground-number-0001", a);
	naming_uplink_host("playground-number-0002", b);
	assert_string_not_equal(a, b);
}

/* Whatever the names, a plan's interface names are unique in their netns
 * and fit IFNAMSIZ. Machines with long names that share a long prefix are
 * the hard case: they are cut to the same readable part. */
static void t_plan_names_unique(void **state)
{
	(void)state;
	char yaml[16384] = "kind: playground\nplayground:\n  networks:\n";
	for (int i = 0; i < 8; i++) {
		char line[200];
		snprintf(line, sizeof(line),
			 "    - {name: network-with-long-shared-pfx-%d, subnet: 10.%d.0.0/24}\n",
			 i, i);
		strcat(yaml, line);
	}
	strcat(yaml, "  machines:\n");
	for (int i = 0; i < 16; i++) {
		char line[400];
		snprintf(line, sizeof(line),
			 "    - name: machine-with-a-long-shared-prefix-%02d\n"
			 "      runtime: %s\n"
			 "      network: {interfaces: [{network: network-with-long-shared-pfx-%d}, {network: network-with-long-shared-pfx-%d}]}\n",
			 i, i % 2 ? "netns" : "vm", i % 8, (i + 1) % 8);
		strcat(yaml, line);
	}
	struct manifest m;
	expect_ok(yaml, &m);
	struct plan p;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(plan_build(&m, "abcdefghijabcdefghijabcdefghij12", &p, &d), 0);
	size_t n = 0;
	const char *names[64];
	for (size_t i = 0; i < p.n_networks; i++)
		names[n++] = p.networks[i].bridge;
	for (size_t i = 0; i < p.n_machines; i++)
		for (size_t j = 0; j < p.machines[i].n_interfaces; j++)
			names[n++] = p.machines[i].interfaces[j].device;
	names[n++] = NAMING_UPLINK_INSIDE;
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(names[i]) >= 1);
		assert_true(strlen(names[i]) <= IFNAMSIZ - 1);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	plan_free(&p);
	manifest_free(&m);
	diag_free(&d);
}

/* Two machines whose cut names collide: the later one takes its index
 * name. Found by search, so the test does not depend on hash values. */
static void t_collision_fallback(void **state)
{
	(void)state;
	char base[IFNAMSIZ], other[IFNAMSIZ], name[80], found[80] = "";
	naming_port(false, "collide-machine-name-0", 0, base);
	for (int i = 1; i < 2000000 && !found[0]; i++) {
		snprintf(name, sizeof(name), "collide-machine-name-%d", i);
		naming_port(false, name, 0, other);
		if (strcmp(base, other) == 0)
			strcpy(found, name);
	}
	assert_true(found[0]);
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "kind: playground\nplayground:\n  machines:\n"
		 "    - name: collide-machine-name-0\n    - name: %s\n", found);
	struct manifest m;
	expect_ok(yaml, &m);
	struct plan p;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(plan_build(&m, "p", &p, &d), 0);
	assert_string_equal(p.machines[0].interfaces[0].device, base);
	assert_string_equal(p.machines[1].interfaces[0].device, "t1-0");
	plan_free(&p);
	manifest_free(&m);
	diag_free(&d);
}

static void t_mac_deterministic(void **state)
{
	(void)state;
	uint8_t a[6], b[6], c[6], e[6];
	mac_derive("lab", "leaf-01", 0, 0, a);
	mac_derive("lab", "leaf-01", 0, 0, b);
	assert_memory_equal(a, b, 6);
	assert_int_equal(a[0], 0x02); /* locally administered, unicast */
	mac_derive("lab", "leaf-01", 1, 0, c);
	assert_memory_not_equal(a, c, 6);
	mac_derive("lab2", "leaf-01", 0, 0, c);
	assert_memory_not_equal(a, c, 6);
	mac_derive("la", "bleaf-01", 0, 0, c);
	assert_memory_not_equal(a, c, 6);
	mac_derive("lab", "leaf-01", 0, 1, e);
	assert_memory_not_equal(a, e, 6);
	char s[MAC_STRLEN];
	mac_format((const uint8_t[]){ 2, 0xab, 0, 1, 0xff, 0x10 }, s);
	assert_string_equal(s, "02:ab:00:01:ff:10");
}

static void t_mac_given_wins(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok("kind: playground\nplayground:\n  machines:\n"
		  "    - {name: a, network: {interfaces: [{network: local, mac: '52:54:00:12:34:56'}]}}\n",
		  &m);
	struct plan p;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(plan_build(&m, "p", &p, &d), 0);
	assert_memory_equal(p.machines[0].interfaces[0].mac,
			    ((const uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }), 6);
	plan_free(&p);
	manifest_free(&m);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_playground_names),
		cmocka_unit_test(t_short_names_readable),
		cmocka_unit_test(t_long_names_fit),
		cmocka_unit_test(t_cut_names_distinct),
		cmocka_unit_test(t_plan_names_unique),
		cmocka_unit_test(t_collision_fallback),
		cmocka_unit_test(t_mac_deterministic),
		cmocka_unit_test(t_mac_given_wins),
	};
	return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
