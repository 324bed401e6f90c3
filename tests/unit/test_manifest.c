/* The manifest reader: one test per rule of DESIGN.md section 1, each with
 * the exact message and position. */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>

#include "ipam.h"

#define HEAD "kind: playground\nplayground:\n"
/* line 3 onwards: */
#define ONE_NET(extra)                                                         \
	"  networks:\n"                                                        \
	"    - name: net-1\n"                                                  \
	"      subnet: 10.0.0.0/24\n" extra
#define ONE_MACHINE(iface_extra)                                               \
	"  machines:\n"                                                        \
	"    - name: m1\n"                                                     \
	"      network:\n"                                                     \
	"        interfaces:\n"                                                \
	"          - network: net-1\n" iface_extra

/* Document level */

static void t_empty_document(void **state)
{
	(void)state;
	expect_only_error("", 1, 1,
			  "empty manifest: expected 'kind: playground' and a 'playground' mapping");
}

static void t_top_not_mapping(void **state)
{
	(void)state;
	expect_only_error("- a\n- b\n", 1, 1,
			  "manifest: expected a mapping with 'kind' and 'playground', got a list");
}

static void t_kind_missing(void **state)
{
	(void)state;
	expect_only_error("playground:\n" ONE_NET("") ONE_MACHINE(""), 1, 1,
			  "manifest: missing required key 'kind' (expected 'kind: playground')");
}

static void t_kind_wrong(void **state)
{
	(void)state;
	expect_only_error("kind: challenge\nplayground:\n" ONE_NET("") ONE_MACHINE(""),
			  1, 7, "kind: expected 'playground', got 'challenge'");
}

static void t_playground_missing(void **state)
{
	(void)state;
	expect_only_error("kind: playground\ntitle: x\n", 1, 1,
			  "manifest: missing required key 'playground' (a mapping with networks and machines)");
}

static void t_playground_not_mapping(void **state)
{
	(void)state;
	expect_only_error("kind: playground\nplayground: [1, 2]\n", 2, 13,
			  "playground: expected a mapping with networks and machines, got a list");
}

static void t_machines_missing(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET(""), 3, 3,
			  "playground: missing required key 'machines' (a list of machines)");
}

static void t_machines_empty(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines: []\n", 6, 13,
			  "playground.machines: expected at least one machine");
}

static void t_wrong_type_networks(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks: net-1\n" ONE_MACHINE(""), 3, 13,
			  "playground.networks: expected a list of networks, got a scalar");
}

static void t_duplicate_key(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      subnet: 10.0.1.0/24\n") ONE_MACHINE(""),
			  6, 7,
			  "playground.networks[0]: duplicate key 'subnet' (first at line 5)");
}

/* Networks */

static void t_network_name_invalid(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - name: Net_1\n      subnet: 10.0.0.0/24\n"
			  "  machines:\n    - name: m1\n",
			  4, 13,
			  "playground.networks[0].name: invalid network name 'Net_1': expected at most 32 characters of a-z, 0-9 and '-', starting with a letter or digit");
}

static void t_network_name_too_long(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - name: n234567890123456789012345678901234\n"
			  "      subnet: 10.0.0.0/24\n  machines:\n    - name: m1\n",
			  4, 13,
			  "playground.networks[0].name: invalid network name 'n234567890123456789012345678901234': expected at most 32 characters of a-z, 0-9 and '-', starting with a letter or digit");
}

static void t_network_name_duplicate(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("    - name: net-1\n      subnet: 10.1.0.0/24\n")
			  ONE_MACHINE(""),
			  6, 13,
			  "playground.networks[1].name: duplicate network name 'net-1' (first defined at line 4)");
}

static void t_network_name_missing(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - subnet: 10.0.0.0/24\n  machines:\n    - name: m1\n",
			  4, 7,
			  "playground.networks[0]: missing required key 'name' (a network name such as net-1)");
}

static void t_subnet_missing(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - name: net-1\n  machines:\n    - name: m1\n",
			  4, 7,
			  "playground.networks[0]: missing required key 'subnet' (an IPv4 CIDR such as 10.0.0.0/24)");
}

static void t_subnet_malformed(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - name: net-1\n      subnet: 10.0.0/24\n"
			  "  machines:\n    - name: m1\n",
			  5, 15,
			  "playground.networks[0].subnet: expected an IPv4 CIDR such as 10.0.0.0/24, got '10.0.0/24'");
}

static void t_subnet_prefix_range(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - name: net-1\n      subnet: 10.0.0.0/31\n"
			  "  machines:\n    - name: m1\n",
			  5, 15,
			  "playground.networks[0].subnet: prefix /31 is out of range (/8 to /30)");
	expect_only_error(HEAD "  networks:\n    - name: net-1\n      subnet: 10.0.0.0/7\n"
			  "  machines:\n    - name: m1\n",
			  5, 15,
			  "playground.networks[0].subnet: prefix /7 is out of range (/8 to /30)");
}

static void t_subnet_host_bits(void **state)
{
	(void)state;
	expect_only_error(HEAD "  networks:\n    - name: net-1\n      subnet: 192.168.178.5/24\n"
			  "  machines:\n    - name: m1\n",
			  5, 15,
			  "playground.networks[0].subnet: '192.168.178.5/24' has host bits set (did you mean 192.168.178.0/24?)");
}

static void t_subnets_overlap(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("    - name: net-2\n      subnet: 10.0.0.128/25\n")
			  ONE_MACHINE(""),
			  7, 15,
			  "playground.networks[1].subnet: overlaps the subnet 10.0.0.0/24 of network 'net-1'");
}

static void t_private_not_bool(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      private: yes please\n") ONE_MACHINE(""),
			  6, 16,
			  "playground.networks[0].private: expected true or false, got 'yes please'");
}

static void t_private_quoted_bool(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      private: \"true\"\n") ONE_MACHINE(""),
			  6, 16,
			  "playground.networks[0].private: expected true or false, got 'true'");
}

static void t_gateway_outside(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      gateway: 10.0.1.1\n") ONE_MACHINE(""),
			  6, 16,
			  "playground.networks[0].gateway: 10.0.1.1 is outside the subnet 10.0.0.0/24");
}

static void t_gateway_network_address(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      gateway: 10.0.0.0\n") ONE_MACHINE(""),
			  6, 16,
			  "playground.networks[0].gateway: 10.0.0.0 is the network address of 10.0.0.0/24");
}

static void t_gateway_broadcast(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      gateway: 10.0.0.255\n") ONE_MACHINE(""),
			  6, 16,
			  "playground.networks[0].gateway: 10.0.0.255 is the broadcast address of 10.0.0.0/24");
}

static void t_gateway_on_private(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      private: true\n      gateway: 10.0.0.1\n")
			  ONE_MACHINE(""),
			  7, 16,
			  "playground.networks[0].gateway: a private network has no gateway (the fabric holds no address on it)");
}

static void t_gateway_given(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD ONE_NET("      gateway: 10.0.0.254\n") ONE_MACHINE(""), &m);
	assert_int_equal(manifest_gateway(&m.networks[0]), 0x0a0000fe);
	/* .1 is free for machines when the gateway is elsewhere */
	assert_int_equal(m.machines[0].interfaces[0].address, 0x0a000001);
	manifest_free(&m);
}

static void t_mtu_range(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      mtu: 20000\n") ONE_MACHINE(""), 6, 12,
			  "playground.networks[0].mtu: 20000 is out of range (576 to 9000)");
	expect_only_error(HEAD ONE_NET("      mtu: big\n") ONE_MACHINE(""), 6, 12,
			  "playground.networks[0].mtu: expected a whole number from 576 to 9000, got 'big'");
}

static void t_dns(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      dns: [1.1.1.1, 8.8.8]\n") ONE_MACHINE(""),
			  6, 22,
			  "playground.networks[0].dns[1]: expected an IPv4 address such as 10.0.0.1, got '8.8.8'");
	expect_only_error(HEAD ONE_NET("      private: true\n      dns: [1.1.1.1]\n")
			  ONE_MACHINE(""),
			  7, 12,
			  "playground.networks[0].dns: DNS servers are only handed out on networks that are not private");
}

static void t_network_unknown_key(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("      privat: true\n") ONE_MACHINE(""), 6, 7,
			  "playground.networks[0]: unknown key 'privat' (did you mean 'private'? expected one of: name, subnet, private, gateway, mtu, dns, vlans)");
	expect_only_error(HEAD ONE_NET("      color: blue\n") ONE_MACHINE(""), 6, 7,
			  "playground.networks[0]: unknown key 'color' (expected one of: name, subnet, private, gateway, mtu, dns, vlans)");
}

static void t_unknown_keys_kept(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok("kind: playground\nname: lab\ndescription: d\n"
		  "playground:\n  accessControl: {canList: [anyone]}\n  categories: [x]\n"
		  ONE_NET("")
		  "  machines:\n    - name: m1\n      users: [{name: root}]\n"
		  "      drives: [{source: oci://x, mount: /}]\n"
		  "      noSSH: true\n      network:\n        interfaces:\n"
		  "          - network: net-1\n",
		  &m);
	assert_int_equal(m.n_machines, 1);
	manifest_free(&m);
}

/* Machines */

static void t_machine_name_invalid(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: -bad\n", 7, 13,
			  "playground.machines[0].name: invalid machine name '-bad': expected a host name of at most 63 characters of a-z, A-Z, 0-9 and '-', not starting or ending with '-'");
}

static void t_machine_name_missing(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - runtime: vm\n", 7, 7,
			  "playground.machines[0]: missing required key 'name' (a host name such as leaf-01)");
}

static void t_machine_name_duplicate(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: web\n    - name: WEB\n",
			  8, 13,
			  "playground.machines[1].name: duplicate machine name 'WEB' (first defined at line 7)");
}

static void t_runtime(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: a\n      runtime: docker\n",
			  8, 16,
			  "playground.machines[0].runtime: expected vm or netns, got 'docker'");
	struct manifest m;
	expect_ok(HEAD ONE_NET("") "  machines:\n    - name: a\n      runtime: netns\n"
		  "      network: {interfaces: [{network: net-1}]}\n", &m);
	assert_int_equal(m.machines[0].runtime, MANIFEST_RUNTIME_NETNS);
	manifest_free(&m);
}

static void t_resources(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: a\n      resources: {cpuCount: 0}\n",
			  8, 29,
			  "playground.machines[0].resources.cpuCount: 0 is out of range (1 to 256)");
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: a\n      resources: {ramSize: lots}\n",
			  8, 28,
			  "playground.machines[0].resources.ramSize: expected a size such as 512M or 4G, got 'lots'");
	struct manifest m;
	expect_ok(HEAD ONE_NET("") "  machines:\n    - name: a\n      resources: {cpuCount: 2, ramSize: 4GiB}\n", &m);
	assert_int_equal(m.machines[0].cpu_count, 2);
	assert_int_equal(m.machines[0].ram_bytes, 4ull << 30);
	manifest_free(&m);
}

/* Interfaces */

static void t_interface_network_missing(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: m1\n      network:\n"
			  "        interfaces:\n          - address: 10.0.0.5\n",
			  10, 13,
			  "playground.machines[0].network.interfaces[0]: missing required key 'network' (the name of a network)");
}

static void t_interface_unknown_network(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: m1\n      network:\n"
			  "        interfaces:\n          - network: net-9\n",
			  10, 22,
			  "playground.machines[0].network.interfaces[0].network: unknown network 'net-9' (defined: net-1)");
}

static void t_interface_unknown_key(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            adress: 10.0.0.5\n"),
			  11, 13,
			  "playground.machines[0].network.interfaces[0]: unknown key 'adress' (did you mean 'address'? expected one of: network, address, mac, guard, impair)");
}

static void t_machine_network_unknown_key(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") "  machines:\n    - name: m1\n      network:\n"
			  "        interface:\n          - network: net-1\n",
			  9, 9,
			  "playground.machines[0].network: unknown key 'interface' (did you mean 'interfaces'? expected one of: interfaces)");
}

static void t_default_network(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD "  machines:\n    - name: a\n    - name: b\n", &m);
	assert_int_equal(m.n_networks, 1);
	assert_string_equal(m.networks[0].name, "local");
	assert_true(m.networks[0].implicit);
	assert_false(m.networks[0].private_net);
	assert_int_equal(m.networks[0].subnet, 0xac100000);
	assert_int_equal(m.networks[0].prefix, 24);
	assert_int_equal(m.machines[0].n_interfaces, 1);
	/* .1 is the gateway */
	assert_int_equal(m.machines[0].interfaces[0].address, 0xac100002);
	assert_int_equal(m.machines[1].interfaces[0].address, 0xac100003);
	manifest_free(&m);
}

static void t_local_referenced_not_defined(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD ONE_NET("") "  machines:\n    - name: m1\n      network:\n"
		  "        interfaces:\n          - network: net-1\n          - network: local\n",
		  &m);
	assert_int_equal(m.n_networks, 2);
	assert_string_equal(m.networks[1].name, "local");
	assert_int_equal(m.machines[0].interfaces[1].network_index, 1);
	manifest_free(&m);
}

static void t_address_outside(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            address: 10.0.1.5\n"),
			  11, 22,
			  "playground.machines[0].network.interfaces[0].address: 10.0.1.5 is outside network 'net-1' (10.0.0.0/24)");
}

static void t_address_network(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            address: 10.0.0.0\n"),
			  11, 22,
			  "playground.machines[0].network.interfaces[0].address: 10.0.0.0 is the network address of network 'net-1' (10.0.0.0/24)");
}

static void t_address_broadcast(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            address: 10.0.0.255\n"),
			  11, 22,
			  "playground.machines[0].network.interfaces[0].address: 10.0.0.255 is the broadcast address of network 'net-1' (10.0.0.0/24)");
}

static void t_address_gateway(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            address: 10.0.0.1\n"),
			  11, 22,
			  "playground.machines[0].network.interfaces[0].address: 10.0.0.1 is the gateway of network 'net-1' (10.0.0.0/24)");
	/* On a private network .1 is an ordinary host address. */
	struct manifest m;
	expect_ok(HEAD ONE_NET("      private: true\n") ONE_MACHINE("            address: 10.0.0.1\n"), &m);
	manifest_free(&m);
}

static void t_address_duplicate(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            address: 10.0.0.7\n")
			  "    - name: m2\n      network:\n        interfaces:\n"
			  "          - network: net-1\n            address: 10.0.0.7\n",
			  16, 22,
			  "playground.machines[1].network.interfaces[0].address: 10.0.0.7 is already used by m1 eth0 (line 11) on network 'net-1' (10.0.0.0/24)");
}

static void t_address_malformed(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            address: 10.0.0.07\n"),
			  11, 22,
			  "playground.machines[0].network.interfaces[0].address: expected an IPv4 address such as 10.0.0.1, got '10.0.0.07'");
}

static void t_address_allocation_order(void **state)
{
	(void)state;
	struct manifest m;
	/* m1 gets the lowest free host address that no given address takes,
	 * even though m2's given address comes later in the file. */
	expect_ok(HEAD ONE_NET("") ONE_MACHINE("")
		  "    - name: m2\n      network:\n        interfaces:\n"
		  "          - network: net-1\n            address: 10.0.0.2\n"
		  "    - name: m3\n      network:\n        interfaces:\n"
		  "          - network: net-1\n",
		  &m);
	assert_int_equal(m.machines[0].interfaces[0].address, 0x0a000003);
	assert_int_equal(m.machines[1].interfaces[0].address, 0x0a000002);
	assert_int_equal(m.machines[2].interfaces[0].address, 0x0a000004);
	assert_false(m.machines[0].interfaces[0].has_address);
	assert_true(m.machines[1].interfaces[0].has_address);
	manifest_free(&m);
}

static void t_address_exhausted(void **state)
{
	(void)state;
	/* a /30 has two host addresses; the gateway takes one */
	expect_only_error(HEAD "  networks:\n    - name: net-1\n      subnet: 10.0.0.0/30\n"
			  ONE_MACHINE("")
			  "    - name: m2\n      network: {interfaces: [{network: net-1}]}\n",
			  12, 30,
			  "playground.machines[1].network.interfaces[0]: no free address left in network 'net-1' (10.0.0.0/30)");
}

static void t_mac(void **state)
{
	(void)state;
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            mac: 02:00:00:00:00\n"),
			  11, 18,
			  "playground.machines[0].network.interfaces[0].mac: expected a MAC address such as 02:00:00:00:00:01, got '02:00:00:00:00'");
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            mac: 01:00:5e:00:00:01\n"),
			  11, 18,
			  "playground.machines[0].network.interfaces[0].mac: 01:00:5e:00:00:01 is a multicast address; a machine needs a unicast MAC");
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            mac: 02:00:00:00:00:01\n"
						       "          - network: net-1\n"
						       "            mac: 02:00:00:00:00:01\n"),
			  13, 18,
			  "playground.machines[0].network.interfaces[1].mac: already used by m1 eth0 (line 11)");
}

static void t_guard(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD ONE_NET("") ONE_MACHINE("            guard: {ipSource: true, dhcpServer: true}\n"), &m);
	assert_true(m.machines[0].interfaces[0].guard.ip_source);
	assert_true(m.machines[0].interfaces[0].guard.dhcp_server);
	manifest_free(&m);
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            guard: {ipsource: true}\n"),
			  11, 21,
			  "playground.machines[0].network.interfaces[0].guard: unknown key 'ipsource' (did you mean 'ipSource'? expected one of: ipSource, dhcpServer)");
}

static void t_forwards(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD ONE_NET("") "  machines:\n"
		  "    - name: m1\n"
		  "      forwards: [{port: 80, hostPort: 8080}, {port: 53, protocol: udp, hostAddress: 192.0.2.1}]\n"
		  "      network:\n"
		  "        interfaces:\n"
		  "          - network: net-1\n", &m);
	const struct manifest_machine *mc = &m.machines[0];
	assert_int_equal(mc->n_forwards, 2);
	assert_int_equal(mc->forwards[0].proto, 6);
	assert_int_equal(mc->forwards[0].port, 80);
	assert_int_equal(mc->forwards[0].host_port, 8080);
	assert_int_equal(mc->forwards[0].host_addr, 0);
	assert_int_equal(mc->forwards[1].proto, 17);
	assert_int_equal(mc->forwards[1].host_port, 53); /* hostPort defaults to port */
	assert_int_equal(mc->forwards[1].host_addr, 0xc0000201);
	manifest_free(&m);
#define FWD(list) HEAD ONE_NET("") "  machines:\n    - name: m1\n      forwards: " list "\n" \
	"      network:\n        interfaces:\n          - network: net-1\n"
	expect_only_error(FWD("[{port: 80, hostPort: 0}]"), 8, 39,
			  "playground.machines[0].forwards[0].hostPort: 0 is out of range (1 to 65535)");
	expect_only_error(FWD("[{hostPort: 80}]"), 8, 18,
			  "playground.machines[0].forwards[0]: missing required key 'port' (the machine's port, 1 to 65535)");
	expect_only_error(FWD("[{port: 80, hostAddress: 127.0.0.1}]"), 8, 42,
			  "playground.machines[0].forwards[0].hostAddress: expected one of the host's unicast addresses (not 0.0.0.0, 127.0.0.0/8, multicast or broadcast): the kernel forwards none of those");
	expect_only_error(FWD("[{port: 80}, {port: 81, hostPort: 80}]"), 8, 30,
			  "playground.machines[0].forwards[1]: host port 80/tcp is already forwarded to m1 (line 8)");
	expect_ok(FWD("[{port: 80}, {port: 80, protocol: udp}]"), &m); /* tcp and udp apart */
	manifest_free(&m);
	expect_only_error(HEAD ONE_NET("      private: true\n") "  machines:\n    - name: m1\n      forwards: [{port: 80}]\n"
			  "      network:\n        interfaces:\n          - network: net-1\n",
			  9, 17,
			  "playground.machines[0].forwards: machine m1 is on no non-private network; a forward reaches a machine through its playground's uplink, which private networks do not have");
#undef FWD
	/* the runtime route reads one entry alone */
	struct manifest_forward one;
	struct diag d;
	diag_init(&d, "forward");
	assert_int_equal(manifest_parse_forward("{\"port\": 22, \"hostPort\": 2222}", 30, &one, &d), 0);
	assert_int_equal(one.port, 22);
	assert_int_equal(one.host_port, 2222);
	assert_int_equal(manifest_parse_forward("{\"port\": 22, \"machine\": \"x\"}", 29, &one, &d), -EINVAL);
	diag_free(&d);
}

static void t_impair(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD ONE_NET("") ONE_MACHINE("            impair: {delay: 20ms, jitter: 5ms, loss: 0.5%, rate: 10mbit}\n"), &m);
	const struct manifest_impair *im = &m.machines[0].interfaces[0].impair;
	assert_true(im->set);
	assert_int_equal(im->delay_us, 20000);
	assert_int_equal(im->jitter_us, 5000);
	assert_int_equal(im->loss_ppm, 5000);
	assert_int_equal(im->rate_bps, 10000000);
	manifest_free(&m);
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            impair: {jitter: 5ms}\n"),
			  11, 30,
			  "playground.machines[0].network.interfaces[0].impair.jitter: jitter needs a delay to vary around");
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            impair: {delay: 20}\n"),
			  11, 29,
			  "playground.machines[0].network.interfaces[0].impair.delay: expected a duration such as 20ms, got '20'");
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            impair: {loss: 150%}\n"),
			  11, 28,
			  "playground.machines[0].network.interfaces[0].impair.loss: '150%' is too large");
	expect_ok(HEAD ONE_NET("") ONE_MACHINE("            impair: {delay: 10ms, duplicate: 1%, reorder: 25%, corrupt: 0.1%}\n"), &m);
	im = &m.machines[0].interfaces[0].impair;
	assert_int_equal(im->duplicate_ppm, 10000);
	assert_int_equal(im->reorder_ppm, 250000);
	assert_int_equal(im->corrupt_ppm, 1000);
	manifest_free(&m);
	expect_only_error(HEAD ONE_NET("") ONE_MACHINE("            impair: {reorder: 5%}\n"),
			  11, 31,
			  "playground.machines[0].network.interfaces[0].impair.reorder: reorder needs a delay: the packets it picks overtake the delayed rest");
	/* the runtime route reads the same mapping alone */
	struct manifest_impair one;
	struct diag d;
	diag_init(&d, "impair");
	assert_int_equal(manifest_parse_impair("{\"delay\": \"50ms\", \"loss\": \"1%\"}", 31, &one, &d), 0);
	assert_int_equal(one.delay_us, 50000);
	assert_int_equal(one.loss_ppm, 10000);
	assert_int_equal(manifest_parse_impair("[1]", 3, &one, &d), -EINVAL);
	diag_free(&d);
}

/* Limits */

static void t_limit_machines(void **state)
{
	(void)state;
	struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	lim.max_machines = 2;
	expect_only_error_lim(HEAD "  machines: [{name: a}, {name: b}, {name: c}]\n", &lim,
			      3, 13, "playground.machines: too many machines: 3 (the limit is 2)");
}

static void t_limit_networks(void **state)
{
	(void)state;
	struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	lim.max_networks = 1;
	expect_only_error_lim(HEAD "  networks: [{name: a, subnet: 10.0.0.0/24}, {name: b, subnet: 10.1.0.0/24}]\n"
			      "  machines: [{name: a}]\n", &lim,
			      3, 13, "playground.networks: too many networks: 2 (the limit is 1)");
}

static void t_limit_interfaces(void **state)
{
	(void)state;
	struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	lim.max_interfaces = 1;
	expect_only_error_lim(HEAD ONE_NET("") ONE_MACHINE("          - network: net-1\n"), &lim,
			      10, 11, "playground.machines[0].network.interfaces: too many interfaces: 2 (the limit is 1)");
}

static void t_default_limits(void **state)
{
	(void)state;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	assert_true(lim.max_machines >= 16);
	assert_true(lim.max_networks >= 8);
	assert_true(lim.max_interfaces >= 8);
}

/* Syntax and hostile input */

static void t_tab_indentation(void **state)
{
	(void)state;
	expect_only_error("kind: playground\nplayground:\n\tmachines: []\n", 3, 1,
			  "tab character in indentation: YAML allows spaces only");
}

static void t_truncated(void **state)
{
	(void)state;
	expect_only_error("kind: playground\nplayground:\n  machines: [{name: a, \n", 4, 1,
			  "invalid YAML: did not find expected node content while parsing a flow node");
}

static void t_two_documents(void **state)
{
	(void)state;
	expect_only_error("kind: playground\n---\nkind: playground\n", 2, 1,
			  "only one YAML document is allowed");
}

static void t_undefined_alias(void **state)
{
	(void)state;
	expect_only_error(HEAD "  machines: *nope\n", 3, 13,
			  "alias *nope refers to no anchor defined before it");
}

static void t_alias_ok(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok(HEAD "  networks:\n    - &n {name: net-1, subnet: 10.0.0.0/24}\n"
		  "  machines:\n    - name: a\n      network: &ifs {interfaces: [{network: net-1}]}\n"
		  "    - name: b\n      network: *ifs\n", &m);
	assert_int_equal(m.machines[1].interfaces[0].address, 0x0a000003);
	manifest_free(&m);
}

static void t_deep_nesting(void **state)
{
	(void)state;
	size_t depth = 100000;
	char *s = malloc(depth + 64);
	assert_non_null(s);
	strcpy(s, "kind: playground\nplayground: ");
	size_t len = strlen(s);
	memset(s + len, '[', depth);
	s[len + depth] = '\0';
	struct manifest m;
	struct diag d;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	assert_int_not_equal(parse_with(s, &lim, &m, &d), 0);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.entries[0].message, "document nested too deeply");
	diag_free(&d);
	free(s);
}

static void t_billion_laughs(void **state)
{
	(void)state;
	/* Nine levels of ten aliases each: 10^9 strings if expanded. */
	char buf[4096] = "kind: playground\nplayground:\n  lol0: &a0 [lol]\n";
	for (int i = 1; i < 10; i++) {
		char line[128];
		snprintf(line, sizeof(line),
			 "  lol%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n",
			 i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			 i - 1, i - 1);
		strcat(buf, line);
	}
	/* Ignored keys are never walked, so this costs nothing ... */
	struct manifest m;
	char ok[4200];
	snprintf(ok, sizeof(ok), "%s  machines: [{name: a}]\n", buf);
	expect_ok(ok, &m);
	manifest_free(&m);
	/* ... and where a list is walked, its length meets the limits first. */
	char bad[4200];
	snprintf(bad, sizeof(bad), "%s  machines: *a9\n", buf);
	struct diag d;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	assert_int_not_equal(parse_with(bad, &lim, &m, &d), 0);
	assert_int_equal(d.count, 10);
	assert_string_equal(d.entries[0].message,
			    "playground.machines[0]: expected a machine (a mapping with name), got a list");
	diag_free(&d);
}

static void t_too_large(void **state)
{
	(void)state;
	size_t n = MANIFEST_MAX_BYTES + 10;
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, '#', n);
	s[n] = '\0';
	struct manifest m;
	struct diag d;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	assert_int_not_equal(parse_with(s, &lim, &m, &d), 0);
	assert_string_equal(d.entries[0].message,
			    "manifest too large: 1048586 bytes (the limit is 1048576)");
	diag_free(&d);
	free(s);
}

static void t_many_errors_reported(void **state)
{
	(void)state;
	struct manifest m;
	struct diag d;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	const char *yaml = HEAD "  networks:\n"
			   "    - name: net-1\n      subnet: 10.0.0.0/33\n"
			   "    - name: BAD\n      subnet: 10.1.0.0/24\n"
			   "  machines:\n    - name: m1\n      runtime: lxc\n";
	assert_int_not_equal(parse_with(yaml, &lim, &m, &d), 0);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.entries[0].line, 5);
	assert_int_equal(d.entries[1].line, 6);
	assert_int_equal(d.entries[2].line, 10);
	diag_free(&d);

	/* Past the limit, errors are counted, not kept. */
	char big[8192] = HEAD "  machines:\n";
	for (int i = 0; i < 30; i++)
		strcat(big, "    - name: -x\n");
	struct manifest_limits many = MANIFEST_LIMITS_DEFAULT;
	many.max_machines = 64;
	assert_int_not_equal(parse_with(big, &many, &m, &d), 0);
	assert_int_equal(d.count, DIAG_MAX_DEFAULT);
	assert_true(d.dropped > 0);
	diag_free(&d);
}

static void t_json_input(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok("{\"kind\": \"playground\", \"playground\": {\"networks\": "
		  "[{\"name\": \"net-1\", \"subnet\": \"10.0.0.0/24\", \"private\": true}], "
		  "\"machines\": [{\"name\": \"a\", \"network\": {\"interfaces\": "
		  "[{\"network\": \"net-1\", \"address\": \"10.0.0.9\"}]}}]}}",
		  &m);
	assert_true(m.networks[0].private_net);
	assert_int_equal(m.machines[0].interfaces[0].address, 0x0a000009);
	manifest_free(&m);
}

static void t_nul_in_string(void **state)
{
	(void)state;
	const char yaml[] = HEAD "  machines:\n    - name: \"a\\0b\"\n";
	expect_only_error(yaml, 4, 13,
			  "playground.machines[0].name: expected a host name, got a string with a NUL byte");
}

/* labctl's initTasks and a challenge's tasks: read, ordered, checked. */
#define TASKS_HEAD "kind: playground\nplayground:\n  machines:\n    - name: a\n    - name: b\n"

static void t_tasks(void **state)
{
	(void)state;
	const char *yaml = TASKS_HEAD
		"  initTasks:\n"
		"    init_b:\n      machine: b\n      needs: [init_a]\n      run: echo b\n"
		"      env: {X: 1}\n"
		"    init_a:\n      machine: a\n      user: laborant\n      run: echo a\n"
		"      timeout_seconds: 5\n"
		"  tasks:\n"
		"    verify:\n      machine: a\n      needs: [init_b]\n      run: true\n"
		"      hintcheck: whatever\n"
		"    setup_late:\n      init: true\n      machine: b\n      run: true\n";
	struct manifest m;
	struct diag d;
	if (parse_with(yaml, &(struct manifest_limits)MANIFEST_LIMITS_DEFAULT, &m, &d))
		dump_diag(&d);
	assert_int_equal(m.n_tasks, 4);
	assert_string_equal(m.tasks[0].name, "init_b");
	assert_true(m.tasks[0].init);
	assert_int_equal(m.tasks[0].machine, 1);
	assert_int_equal(m.tasks[0].n_needs, 1);
	assert_int_equal(m.tasks[0].needs[0], 1);
	assert_int_equal(m.tasks[0].timeout_s, MANIFEST_TASK_TIMEOUT_DEFAULT);
	assert_string_equal(m.tasks[0].user, "root");
	assert_string_equal(m.tasks[1].user, "laborant");
	assert_int_equal(m.tasks[1].timeout_s, 5);
	assert_false(m.tasks[2].init);
	assert_true(m.tasks[3].init);
	assert_string_equal(m.tasks[2].run, "true");
	size_t order[MANIFEST_MAX_TASKS];
	manifest_task_order(&m, order);
	assert_int_equal(order[0], 1); /* init_a before init_b, before verify */
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	manifest_free(&m);
	diag_free(&d);
}

/* labctl's users: the default one is whom ssh logs in as. */
static void t_users(void **state)
{
	(void)state;
	struct manifest m;
	struct diag d;
	assert_int_equal(parse_with("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      users:\n        - name: root\n        - name: laborant\n"
				    "          default: true\n          welcome: hi\n",
				    &(struct manifest_limits)MANIFEST_LIMITS_DEFAULT, &m, &d),
			 0);
	assert_string_equal(m.machines[0].default_user, "laborant");
	manifest_free(&m);
	diag_free(&d);
	expect_only_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
			  "      users:\n        - name: x\n          default: true\n"
			  "        - name: y\n          default: true\n",
			  9, 20, "playground.machines[0].users[1].default: a second default user ('x' is one): ssh logs in as one");
	expect_only_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
			  "      users:\n        - name: Bob\n",
			  6, 17, "playground.machines[0].users[0].name: expected a user name (a-z, 0-9, '_' and '-', at most 32), got 'Bob'");
	expect_only_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
			  "      users:\n        - default: true\n",
			  6, 11, "playground.machines[0].users[0]: missing required key 'name' (a user name)");
}

static void t_task_errors(void **state)
{
	(void)state;
	expect_only_error(TASKS_HEAD "  initTasks:\n    t:\n      machine: c\n      run: x\n", 8, 16,
			  "playground.initTasks.t.machine: no machine named 'c' (the machines: a, b)");
	expect_only_error(TASKS_HEAD "  tasks:\n    t:\n      machine: a\n      needs: [u]\n      run: x\n",
			  9, 15, "tasks.t.needs[0]: no task named 'u'");
	expect_only_error(TASKS_HEAD "  tasks:\n    t:\n      machine: a\n", 8, 7,
			  "playground.tasks.t: missing required key 'run' (the script it runs)");
	expect_only_error(TASKS_HEAD "  tasks:\n    t:\n      run: x\n", 8, 7,
			  "playground.tasks.t: missing required key 'machine' (the machine it runs in)");
	expect_only_error(TASKS_HEAD "  tasks:\n    t:\n      machine: a\n      run: \"\"\n", 9, 12,
			  "playground.tasks.t.run: expected a script, got an empty string");
	expect_only_error(TASKS_HEAD "  tasks:\n    t:\n      machine: a\n      run: x\n      user: Root\n",
			  10, 13, "playground.tasks.t.user: expected a user name (a-z, 0-9, '_' and '-', at most 32), got 'Root'");
	expect_only_error(TASKS_HEAD "  tasks:\n    t:\n      machine: a\n      run: x\n      timeout_seconds: 0\n",
			  10, 24, "playground.tasks.t.timeout_seconds: 0 is out of range (1 to 86400)");
	expect_only_error(TASKS_HEAD "  initTasks:\n    t:\n      machine: a\n      run: x\n"
			  "  tasks:\n    t:\n      machine: b\n      run: y\n", 11, 5,
			  "playground.tasks.t: a second task named 't' (initTasks and tasks share their names)");
	expect_only_error(TASKS_HEAD "  tasks:\n    a b:\n      machine: a\n      run: x\n", 7, 5,
			  "playground.tasks.a b: expected a task name (1 to 63 of A-Z, a-z, 0-9, '_' and '-'), got 'a b'");
	expect_only_error(TASKS_HEAD "  initTasks:\n    i:\n      machine: a\n      needs: [c]\n      run: x\n"
			  "  tasks:\n    c:\n      machine: a\n      run: y\n", 9, 15,
			  "tasks.i.needs[0]: init task 'i' needs 'c', a check: init tasks run at up, checks at 'playnet check'");
	expect_only_error(TASKS_HEAD "  tasks:\n"
			  "    x:\n      machine: a\n      needs: [y]\n      run: x\n"
			  "    y:\n      machine: a\n      needs: [z]\n      run: y\n"
			  "    z:\n      machine: a\n      needs: [x]\n      run: z\n", 8, 7,
			  "playground tasks: 'x' needs itself, round a cycle: x -> y -> z -> x");
	expect_only_error(TASKS_HEAD "  tasks: [a, b]\n", 6, 10,
			  "playground.tasks: expected a mapping of task names to tasks, got a list");
	/* labctl's other keys pass; a near miss of ours does not. */
	struct manifest m;
	struct diag d;
	assert_int_equal(parse_with(TASKS_HEAD "  tasks:\n    t:\n      machnie: a\n      run: x\n",
				    &(struct manifest_limits)MANIFEST_LIMITS_DEFAULT, &m, &d),
			 -EINVAL);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.entries[0].message,
			    "playground.tasks.t: unknown key 'machnie' (did you mean 'machine'?)");
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_empty_document),
		cmocka_unit_test(t_top_not_mapping),
		cmocka_unit_test(t_kind_missing),
		cmocka_unit_test(t_kind_wrong),
		cmocka_unit_test(t_playground_missing),
		cmocka_unit_test(t_playground_not_mapping),
		cmocka_unit_test(t_machines_missing),
		cmocka_unit_test(t_machines_empty),
		cmocka_unit_test(t_wrong_type_networks),
		cmocka_unit_test(t_duplicate_key),
		cmocka_unit_test(t_network_name_invalid),
		cmocka_unit_test(t_network_name_too_long),
		cmocka_unit_test(t_network_name_duplicate),
		cmocka_unit_test(t_network_name_missing),
		cmocka_unit_test(t_subnet_missing),
		cmocka_unit_test(t_subnet_malformed),
		cmocka_unit_test(t_subnet_prefix_range),
		cmocka_unit_test(t_subnet_host_bits),
		cmocka_unit_test(t_subnets_overlap),
		cmocka_unit_test(t_private_not_bool),
		cmocka_unit_test(t_private_quoted_bool),
		cmocka_unit_test(t_gateway_outside),
		cmocka_unit_test(t_gateway_network_address),
		cmocka_unit_test(t_gateway_broadcast),
		cmocka_unit_test(t_gateway_on_private),
		cmocka_unit_test(t_gateway_given),
		cmocka_unit_test(t_mtu_range),
		cmocka_unit_test(t_dns),
		cmocka_unit_test(t_network_unknown_key),
		cmocka_unit_test(t_unknown_keys_kept),
		cmocka_unit_test(t_machine_name_invalid),
		cmocka_unit_test(t_machine_name_missing),
		cmocka_unit_test(t_machine_name_duplicate),
		cmocka_unit_test(t_runtime),
		cmocka_unit_test(t_resources),
		cmocka_unit_test(t_interface_network_missing),
		cmocka_unit_test(t_interface_unknown_network),
		cmocka_unit_test(t_interface_unknown_key),
		cmocka_unit_test(t_machine_network_unknown_key),
		cmocka_unit_test(t_default_network),
		cmocka_unit_test(t_local_referenced_not_defined),
		cmocka_unit_test(t_address_outside),
		cmocka_unit_test(t_address_network),
		cmocka_unit_test(t_address_broadcast),
		cmocka_unit_test(t_address_gateway),
		cmocka_unit_test(t_address_duplicate),
		cmocka_unit_test(t_address_malformed),
		cmocka_unit_test(t_address_allocation_order),
		cmocka_unit_test(t_address_exhausted),
		cmocka_unit_test(t_mac),
		cmocka_unit_test(t_guard),
		cmocka_unit_test(t_impair),
		cmocka_unit_test(t_forwards),
		cmocka_unit_test(t_limit_machines),
		cmocka_unit_test(t_limit_networks),
		cmocka_unit_test(t_limit_interfaces),
		cmocka_unit_test(t_default_limits),
		cmocka_unit_test(t_tab_indentation),
		cmocka_unit_test(t_truncated),
		cmocka_unit_test(t_two_documents),
		cmocka_unit_test(t_undefined_alias),
		cmocka_unit_test(t_alias_ok),
		cmocka_unit_test(t_deep_nesting),
		cmocka_unit_test(t_billion_laughs),
		cmocka_unit_test(t_too_large),
		cmocka_unit_test(t_many_errors_reported),
		cmocka_unit_test(t_json_input),
		cmocka_unit_test(t_nul_in_string),
		cmocka_unit_test(t_tasks),
		cmocka_unit_test(t_task_errors),
		cmocka_unit_test(t_users),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
