/* The plan as netd's parent reads it from its front end and its records:
 * every plan the planner makes reads back as it was, names and all, and
 * every field a hostile front end could bend is refused, saying where. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "plan.h"
#include "plan_json.h"
#include "plan_wire.h"

static const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;

static int plan_file(const char *path, const char *name, struct plan *p)
{
	struct diag d;
	diag_init(&d, path);
	int e = plan_load_file(path, name, &lim, p, NULL, &d);
	diag_free(&d);
	return e;
}

static char *show(const struct plan *p)
{
	struct json_object *j = plan_to_json(p);
	char *s = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	return s;
}

/* The plan read back equals the plan sent, in its wire form and in the
 * show form, which holds every derived name. */
static size_t tripped;

static void round_trip(const char *path)
{
	struct plan p, q;
	if (plan_file(path, "round-trip", &p) < 0)
		return; /* a manifest of the bad kind */
	tripped++;
	size_t len, len2;
	char *text = plan_wire_text(&p, &len);
	struct pn_error err = PN_ERROR_INIT;
	assert_non_null(text);
	int e = plan_wire_parse(text, len, "round-trip", &lim, &q, &err);
	if (e)
		fprintf(stderr, "%s: %s\n%s\n", path, err.msg, text);
	assert_int_equal(e, 0);
	char *again = plan_wire_text(&q, &len2), *a = show(&p), *b = show(&q);
	assert_string_equal(again, text);
	assert_string_equal(a, b);
	for (size_t i = 0; i < p.n_machines; i++) {
		assert_int_equal(q.machines[i].n_drives, p.machines[i].n_drives);
		for (size_t j = 0; j < p.machines[i].n_drives; j++) {
			const struct manifest_drive *x = &p.machines[i].drives[j], *y = &q.machines[i].drives[j];
			if (x->source)
				assert_string_equal(y->source, x->source);
			else
				assert_null(y->source);
			assert_int_equal(y->kind, x->kind);
			assert_string_equal(y->mount, x->mount);
			assert_int_equal(y->size, x->size);
			assert_int_equal(y->filesystem, x->filesystem);
		}
	}
	free(text);
	free(again);
	free(a);
	free(b);
	plan_free(&p);
	plan_free(&q);
}

static void round_trip_dir(const char *rel)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", SRCDIR, rel);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 5, ".yaml") != 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		round_trip(path);
	}
	closedir(d);
}

static void t_round_trip(void **state)
{
	(void)state;
	round_trip_dir("manifests");
	round_trip_dir("tests/netns");
	round_trip_dir("tests/bench");
	assert_true(tripped >= 10);
}

/* A plan to bend: two networks (one NAT, one private), a VM with a drive
 * and an impairment, a netns machine. */
static const char *const base_yaml =
	"kind: playground\n"
	"title: bend me\n"
	"playground:\n"
	"  networks:\n"
	"    - name: wan\n"
	"      subnet: 172.16.0.0/24\n"
	"      dns: [192.0.2.53]\n"
	"    - name: lan\n"
	"      subnet: 10.1.0.0/24\n"
	"      private: true\n"
	"  machines:\n"
	"    - name: gw\n"
	"      drives:\n"
	"        - source: /var/lib/playnet/disk.img\n"
	"        - { mount: /data, size: 1G, filesystem: xfs }\n"
	"      forwards: [{port: 80, hostPort: 8080}, {port: 53, protocol: udp, hostAddress: 192.0.2.1}]\n"
	"      network:\n"
	"        interfaces:\n"
	"          - network: wan\n"
	"            impair: { delay: 10ms, loss: 1% }\n"
	"          - network: lan\n"
	"    - name: client\n"
	"      runtime: netns\n"
	"      network:\n"
	"        interfaces:\n"
	"          - network: lan\n";

static struct json_object *base_plan(void)
{
	struct plan p;
	struct diag d;
	diag_init(&d, "base");
	int e = plan_parse(base_yaml, strlen(base_yaml), "bend", &lim, &p, &d);
	if (e)
		dump_diag(&d);
	assert_int_equal(e, 0);
	diag_free(&d);
	struct json_object *o = plan_wire_encode(&p);
	plan_free(&p);
	return o;
}

/* o at a dotted path ("machines.0.interfaces.1"), or NULL. */
static struct json_object *at(struct json_object *o, const char *path, char *last, size_t len)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *dot = strrchr(buf, '.');
	snprintf(last, len, "%s", dot ? dot + 1 : buf);
	if (!dot)
		return o;
	*dot = '\0';
	for (char *save, *part = strtok_r(buf, ".", &save); part && o;
	     part = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(part));
		else if (!json_object_object_get_ex(o, part, &o))
			o = NULL;
	}
	return o;
}

/* The base plan with PATH set to VALUE (JSON text; NULL deletes the key)
 * must be refused with an error that holds WANT. */
static void refused(const char *path, const char *value, const char *want)
{
	struct json_object *o = base_plan(), *parent;
	char key[64];
	assert_non_null(parent = at(o, path, key, sizeof(key)));
	struct json_object *v = value ? json_tokener_parse(value) : NULL;
	if (value && strcmp(value, "null") != 0)
		assert_non_null(v);
	if (json_object_is_type(parent, json_type_array)) {
		if (value)
			json_object_array_put_idx(parent, (size_t)atoi(key), v);
		else
			json_object_array_del_idx(parent, (size_t)atoi(key), 1);
	} else if (value) {
		json_object_object_add(parent, key, v);
	} else {
		json_object_object_del(parent, key);
	}
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	struct plan p;
	struct pn_error err = PN_ERROR_INIT;
	int e = plan_wire_parse(text, strlen(text), "bend", &lim, &p, &err);
	if (e != -EINVAL || !strstr(err.msg, want))
		fprintf(stderr, "%s = %s: got %d '%s', wanted '%s'\n", path, value ? value : "(gone)",
			e, err.msg, want);
	assert_int_equal(e, -EINVAL);
	assert_non_null(strstr(err.msg, want));
	json_object_put(o);
}

static void t_base_is_taken(void **state)
{
	(void)state;
	struct json_object *o = base_plan();
	struct plan p;
	struct pn_error err = PN_ERROR_INIT;
	assert_int_equal(plan_wire_decode(o, "bend", &lim, &p, &err), 0);
	/* the names are netd's own, whatever the sender meant */
	assert_string_equal(p.netns, "pg-bend");
	assert_string_equal(p.networks[0].bridge, "br-wan");
	assert_string_equal(p.machines[0].interfaces[1].device, "t-gw-1");
	assert_string_equal(p.machines[1].netns, "pg-bend.client");
	assert_true(p.machines[0].has_default_gateway);
	plan_free(&p);
	/* and no other name plans it */
	assert_int_equal(plan_wire_decode(o, "Bend", &lim, &p, &err), -EINVAL);
	json_object_put(o);
}

static void t_top_level(void **state)
{
	(void)state;
	refused("extra", "1", "holds keys other than version");
	refused("version", "2", "version: 2 is out of range");
	refused("version", NULL, "version: missing");
	refused("title", "\"a\\u0000b\"", "title: holds a NUL byte");
	refused("title", "7", "title: expected a string");
	refused("networks", "{}", "networks: expected an array");
	refused("machines", "[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}]",
		"machines: at most 16 entries, got 17");
}

static void t_networks(void **state)
{
	(void)state;
	refused("networks.0.name", "\"Wan\"", "networks[0].name: is not a network name");
	refused("networks.1.name", "\"wan\"", "networks[1].name: is also the name of networks[0]");
	refused("networks.0.subnet", "\"127.0.0.0/24\"", "networks[0].subnet: is in 127.0.0.0/8");
	refused("networks.0.subnet", "\"224.1.0.0/16\"", "is in 224.0.0.0/4");
	refused("networks.0.subnet", "\"172.16.0.1/24\"", "without host bits");
	refused("networks.0.subnet", "\"172.16.0.0/31\"", "/8 to /30");
	refused("networks.1.subnet", "\"172.16.0.0/16\"", "networks[1].subnet: overlaps");
	refused("networks.1.gateway", "\"10.1.0.1\"", "networks[1].gateway: a private network has none");
	refused("networks.0.gateway", "null", "networks[0].gateway: expected a string");
	refused("networks.0.gateway", "\"172.16.1.1\"", "not a host address of the subnet");
	refused("networks.0.gateway", "\"172.16.0.255\"", "not a host address of the subnet");
	refused("networks.0.private", "1", "networks[0].private: expected true or false");
	refused("networks.0.mtu", "100", "networks[0].mtu: 100 is out of range");
	refused("networks.0.dns", "[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\",\"1.1.1.5\"]",
		"at most 4 entries");
	refused("networks.1.dns", "[\"1.1.1.1\"]", "networks[1].dns: at most 0 entries");
	refused("networks.0.dns", "[\"1.1.1\"]", "entry 0 is not an IPv4 address");
	refused("networks.0.bridge", "\"eth0\"", "networks[0]: holds keys other than name");
}

static void t_machines(void **state)
{
	(void)state;
	refused("machines.1.name", "\"gw\"", "machines[1].name: is also the name of machines[0]");
	refused("machines.0.name", "\"-x\"", "machines[0].name: is not a machine name");
	refused("machines.0.name", "\"a/../b\"", "is not a machine name");
	refused("machines.0.runtime", "\"container\"", "machines[0].runtime: expected vm or netns");
	refused("machines.0.cpuCount", "1000", "cpuCount: 1000 is out of range");
	refused("machines.0.cpuCount", "-1", "cpuCount: -1 is out of range");
	refused("machines.0.ramBytes", "1", "ramBytes: must be 0 or at least");
	refused("machines.0.ramBytes", "1e9", "ramBytes: expected an integer");
	refused("machines.0.netns", "\"init\"", "machines[0]: holds keys other than name");
	refused("machines.0.drives.0.source", "\"\"", "drives[0].source: expected 1 to 4095 bytes");
	refused("machines.0.drives.0.source", "\"/x\\u0000y\"", "drives[0].source: holds a NUL byte");
	refused("machines.0.drives.0.kind", "\"floppy\"", "drives[0].kind: expected kernel");
	refused("machines.0.interfaces", "[{},{},{},{},{},{},{},{},{}]", "at most 8 entries");
}

static void t_forwards(void **state)
{
	(void)state;
	refused("machines.0.forwards.0.protocol", "\"ftp\"", "forwards[0].protocol: expected tcp or udp");
	refused("machines.0.forwards.0.port", "0", "forwards[0].port: 0 is out of range");
	refused("machines.0.forwards.0.hostPort", "65536", "forwards[0].hostPort: 65536 is out of range");
	refused("machines.0.forwards.0.hostAddress", "\"127.0.0.1\"", "is not a unicast address");
	refused("machines.0.forwards.0.extra", "1", "forwards[0]: holds keys other than protocol");
	refused("machines.0.forwards.1", "{\"protocol\": \"tcp\", \"port\": 1, \"hostPort\": 8080, \"hostAddress\": null}",
		"forwards[1].hostPort: is also forwarded to machines[0]");
	refused("machines.1.forwards", "[{\"protocol\": \"tcp\", \"port\": 1, \"hostPort\": 1, \"hostAddress\": null}]",
		"machine client is on no non-private network");
	refused("machines.0.forwards", "{}", "forwards: expected an array");
}

static void t_interfaces(void **state)
{
	(void)state;
	const char *i0 = "machines.0.interfaces.0.";
	char p[96];
#define AT(k) (snprintf(p, sizeof(p), "%s%s", i0, k), p)
	refused(AT("network"), "2", "machines[0].interfaces[0].network: 2 is out of range");
	refused(AT("network"), "\"0\"", "network: expected an integer");
	refused(AT("mac"), "\"03:00:00:00:00:01\"", "mac: expected a unicast MAC");
	refused(AT("mac"), "\"00:00:00:00:00:00\"", "mac: expected a unicast MAC");
	refused(AT("mac"), "\"02:00:00:00:00:0A\"", "mac: expected a unicast MAC");
	refused(AT("mac"), "\"02:00:00:00:00:01x\"", "mac:");
	refused(AT("address"), "\"10.1.0.5\"", "address: is not a free host address of networks[0]");
	refused(AT("address"), "\"172.16.0.0\"", "is not a free host address");
	refused(AT("address"), "\"172.16.0.1\"", "is not a free host address"); /* the gateway */
	refused(AT("address"), "\"172.16.0.255\"", "is not a free host address");
	refused(AT("ipSource"), "\"yes\"", "ipSource: expected true or false");
	refused(AT("impair"), "{\"delayUs\":1}", "interfaces[0].impair.jitterUs: missing");
#define SHARES "\"duplicatePpm\":0,\"reorderPpm\":0,\"corruptPpm\":0"
	refused(AT("impair"),
		"{\"delayUs\":1,\"jitterUs\":0,\"lossPpm\":2000000,\"rateBps\":0," SHARES "}",
		"lossPpm: 2000000 is out of range");
	refused(AT("impair"), "{\"delayUs\":1,\"jitterUs\":0,\"lossPpm\":0,\"rateBps\":100," SHARES "}",
		"rateBps: must be 0 or at least 8000");
	refused(AT("impair"),
		"{\"delayUs\":1,\"jitterUs\":0,\"lossPpm\":0,\"rateBps\":0,\"duplicatePpm\":0,"
		"\"reorderPpm\":1000001,\"corruptPpm\":0}",
		"reorderPpm: 1000001 is out of range");
#undef SHARES
	refused(AT("linkDown"), "1", "linkDown: expected true or false");
	refused(AT("device"), "\"eth0\"", "holds keys other than network");
#undef AT
	/* what another interface holds already */
	struct json_object *o = base_plan(), *a, *b, *mac;
	assert_non_null(a = at(o, "machines.0.interfaces.1.x", p, sizeof(p)));
	assert_non_null(b = at(o, "machines.1.interfaces.0.x", p, sizeof(p)));
	json_object_object_get_ex(a, "mac", &mac);
	char m[32];
	snprintf(m, sizeof(m), "\"%s\"", json_object_get_string(mac));
	refused("machines.1.interfaces.0.mac", m,
		"machines[1].interfaces[0].mac: is also machines[0].interfaces[1]'s");
	json_object_object_get_ex(a, "address", &mac);
	snprintf(m, sizeof(m), "\"%s\"", json_object_get_string(mac));
	refused("machines.1.interfaces.0.address", m,
		"machines[1].interfaces[0].address: is also machines[0].interfaces[1]'s");
	json_object_put(o);
}

static void t_text(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "[]", "1", "{} {}", "{\"version\":1", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct plan p;
		struct pn_error err = PN_ERROR_INIT;
		assert_int_equal(plan_wire_parse(bad[i], strlen(bad[i]), "t", &lim, &p, &err),
				 -EINVAL);
		assert_true(err.msg[0]);
	}
}

/* A record from before plans were recorded is planned from its manifest. */
static void t_legacy_record(void **state)
{
	(void)state;
	struct state_record rec = { .name = "old", .manifest = (char *)(uintptr_t)base_yaml };
	struct plan p;
	struct pn_error err = PN_ERROR_INIT;
	assert_int_equal(plan_wire_of_record(&rec, &p, &err), 0);
	assert_int_equal(p.n_machines, 2);
	assert_string_equal(p.name, "old");
	plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_round_trip),   cmocka_unit_test(t_base_is_taken),
		cmocka_unit_test(t_top_level),    cmocka_unit_test(t_networks),
		cmocka_unit_test(t_machines),
		cmocka_unit_test(t_forwards),     cmocka_unit_test(t_interfaces),
		cmocka_unit_test(t_text),         cmocka_unit_test(t_legacy_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
