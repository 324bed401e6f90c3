/* The plan and its JSON form, on the example manifests. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "ipam.h"
#include "plan.h"
#include "plan_json.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static void load(const char *rel, const char *name, struct plan *p)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", SRCDIR, rel);
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct manifest m;
	struct diag d;
	diag_init(&d, path);
	int r = manifest_load(path, &lim, &m, &d);
	if (r)
		diag_print(&d, stderr);
	assert_int_equal(r, 0);
	assert_int_equal(plan_build(&m, name, p, &d), 0);
	manifest_free(&m);
	diag_free(&d);
}

static char *plan_json_string(const struct plan *p)
{
	struct json_object *j = plan_to_json(p);
	assert_non_null(j);
	char *s = strdup(json_object_to_json_string_ext(j, PLAN_JSON_FLAGS));
	json_object_put(j);
	return s;
}

static const char *addr_of(const struct plan *p, const char *machine, size_t i)
{
	static char s[IPAM_CIDR_STRLEN];
	for (size_t k = 0; k < p->n_machines; k++)
		if (strcmp(p->machines[k].name, machine) == 0) {
			const struct plan_interface *ifc = &p->machines[k].interfaces[i];
			ipam_format_cidr(ifc->address, ifc->prefix, s);
			return s;
		}
	return "?";
}

static void t_routing_challenge(void **state)
{
	(void)state;
	struct plan p;
	load("manifests/routing-challenge.yaml", "routing-challenge", &p);
	assert_int_equal(p.n_networks, 2);
	assert_false(p.networks[0].has_gateway);
	assert_false(p.networks[1].has_gateway);
	assert_string_equal(addr_of(&p, "leaf-01", 0), "192.168.178.10/24");
	assert_string_equal(addr_of(&p, "router", 0), "192.168.178.2/24");
	assert_string_equal(addr_of(&p, "router", 1), "10.0.0.2/16");
	assert_string_equal(addr_of(&p, "leaf-02", 0), "10.0.0.20/16");
	for (size_t i = 0; i < p.n_machines; i++)
		assert_false(p.machines[i].has_default_gateway);
	plan_free(&p);
}

/* Byte for byte the golden file: the JSON shape is a contract. */
static void t_routing_challenge_json_golden(void **state)
{
	(void)state;
	struct plan p;
	load("manifests/routing-challenge.yaml", "routing-challenge", &p);
	char *got = plan_json_string(&p);
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/golden/routing-challenge.plan.json", SRCDIR);
	char *want = read_all(path);
	assert_non_null(want);
	size_t len = strlen(want);
	if (len && want[len - 1] == '\n')
		want[len - 1] = '\0';
	assert_string_equal(got, want);
	free(got);
	free(want);
	plan_free(&p);
}

static void t_deterministic(void **state)
{
	(void)state;
	struct plan a, b, c;
	load("manifests/five-machine-lab.yaml", "lab", &a);
	load("manifests/five-machine-lab.yaml", "lab", &b);
	load("manifests/five-machine-lab.yaml", "lab2", &c);
	char *ja = plan_json_string(&a), *jb = plan_json_string(&b), *jc = plan_json_string(&c);
	assert_string_equal(ja, jb);
	/* Another playground name: other MACs, same addresses. */
	assert_string_not_equal(ja, jc);
	assert_memory_not_equal(a.machines[0].interfaces[0].mac, c.machines[0].interfaces[0].mac, 6);
	assert_int_equal(a.machines[0].interfaces[0].address, c.machines[0].interfaces[0].address);
	free(ja);
	free(jb);
	free(jc);
	plan_free(&a);
	plan_free(&b);
	plan_free(&c);
}

static void t_nat_gateway(void **state)
{
	(void)state;
	struct plan p;
	load("manifests/nat-gateway.yaml", "nat", &p);
	assert_true(p.networks[0].has_gateway);
	assert_int_equal(p.networks[0].gateway, 0xac100001);
	assert_false(p.networks[1].has_gateway);
	assert_true(p.machines[0].has_default_gateway);
	assert_false(p.machines[1].has_default_gateway);
	/* .1 of the private network is the gateway machine's own address */
	assert_string_equal(addr_of(&p, "client-1", 0), "192.168.10.2/24");
	assert_string_equal(addr_of(&p, "client-2", 0), "192.168.10.3/24");
	plan_free(&p);
}

static void t_five_machine_lab(void **state)
{
	(void)state;
	struct plan p;
	load("manifests/five-machine-lab.yaml", "lab", &p);
	assert_int_equal(p.n_machines, 5);
	assert_int_equal(p.n_networks, 3);
	assert_string_equal(addr_of(&p, "router", 0), "172.20.0.2/24");
	assert_string_equal(addr_of(&p, "web", 0), "172.20.0.3/24");
	assert_string_equal(addr_of(&p, "app-a", 0), "10.1.0.2/24");
	assert_string_equal(addr_of(&p, "ops", 1), "10.2.0.3/24");
	assert_int_equal(p.networks[0].n_dns, 1);
	plan_free(&p);
}

static void t_single_vm(void **state)
{
	(void)state;
	struct plan p;
	load("manifests/single-vm.yaml", "one", &p);
	assert_int_equal(p.n_networks, 1);
	assert_string_equal(p.networks[0].name, "local");
	assert_string_equal(addr_of(&p, "box", 0), "172.16.0.2/24");
	assert_true(p.machines[0].has_default_gateway);
	assert_int_equal(p.machines[0].default_gateway, 0xac100001);
	assert_string_equal(p.machines[0].interfaces[0].device, "t-box-0");
	plan_free(&p);
}

/* Every manifest shipped in manifests/ is valid. */
static void t_all_examples_valid(void **state)
{
	(void)state;
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/manifests", SRCDIR);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		char rel[300];
		snprintf(rel, sizeof(rel), "manifests/%s", e->d_name);
		struct plan p;
		load(rel, "example", &p);
		plan_free(&p);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
}

static void t_bad_playground_name(void **state)
{
	(void)state;
	struct manifest m;
	expect_ok("kind: playground\nplayground:\n  machines: [{name: a}]\n", &m);
	struct plan p;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(plan_build(&m, "../etc", &p, &d), -EINVAL);
	assert_string_equal(d.entries[0].message,
			    "invalid playground name '../etc': expected at most 32 characters of a-z, 0-9 and '-', starting with a letter or digit");
	manifest_free(&m);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_routing_challenge),
		cmocka_unit_test(t_routing_challenge_json_golden),
		cmocka_unit_test(t_deterministic),
		cmocka_unit_test(t_nat_gateway),
		cmocka_unit_test(t_five_machine_lab),
		cmocka_unit_test(t_single_vm),
		cmocka_unit_test(t_all_examples_valid),
		cmocka_unit_test(t_bad_playground_name),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
