/*
 * vmlaunch: starts, stops and lists the VMs of a playground that netd (or
 * playnet --direct) has made, each VMM inside the playground's namespace on
 * its taps. The work is in netd/lib/vm*.c, which playnet uses too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "playground.h"
#include "cliopt.h"
#include "diag.h"
#include "image.h"
#include "log.h"
#include "naming.h"
#include "report.h"
#include "util.h"
#include "vm.h"
#include "vm_backend.h"
#include "vm_console.h"
#include "vm_run.h"


#define GRACE_DEFAULT_MS 10000

static const char usage_text[] =
	"usage: vmlaunch [--state-dir DIR] COMMAND ...\n"
	"\n"
	"  start P [--machine M]... [VM OPTIONS]   start the playground's VMs\n"
	"  stop P [--timeout SECONDS]              power button, then force\n"
	"  ls P [--json]                           the VMs and their state\n"
	"  console P MACHINE                       attach to the serial console\n"
	"  config P MACHINE [VM OPTIONS]           what the VMM would be given\n"
	"\n"
	"VM OPTIONS: --backend qemu|firecracker|cloud-hypervisor, --accel auto|kvm|tcg,\n"
	"  --guest DIR (the default guest), --vmm PROGRAM, --append MACHINE=WORDS,\n"
	"  --drive-dirs DIR[:DIR...] (where a manifest's drives may be; default\n"
	"  " VM_DRIVE_DIRS_DEFAULT "), --image-dir DIR (the cache of catalog and\n"
	"  oci:// images; default " IMAGE_DIR_DEFAULT ").\n"
	"Environment: PLAYNET_STATE_DIR, PLAYNET_VM_BACKEND, PLAYNET_VM_ACCEL,\n"
	"  PLAYNET_VM_VMM, PLAYNET_GUEST_DIR, PLAYNET_DRIVE_DIRS, PLAYNET_DRIVE_DEVICES=1\n"
	"  (block and character devices allowed as drives), PLAYNET_IMAGE_DIR,\n"
	"  PLAYNET_DEBIAN_MIRROR and PLAYNET_DEBIAN_SECURITY (where catalog images'\n"
	"  packages come from).\n";


static int fail(struct diag *d, int e)
{
	diag_print(d, stderr);
	diag_free(d);
	return e == -ENOMEM || e == -EIO ? EXIT_SYSTEM : EXIT_USER;
}

static int load(const char *state_dir, const char *name, struct plan *p)
{
	if (!naming_valid_playground(name)) {
		fprintf(stderr, "vmlaunch: invalid playground name '%s'\n", name);
		return EXIT_USER;
	}
	struct state_record rec;
	struct diag d;
	diag_init(&d, name);
	int e = playground_load(state_dir, name, &rec, p, &d);
	if (e == -ENOENT) {
		fprintf(stderr, "vmlaunch: no playground named %s in %s\n", name, state_dir);
		diag_free(&d);
		return EXIT_USER;
	}
	if (e < 0)
		return fail(&d, e);
	state_record_free(&rec);
	diag_free(&d);
	return EXIT_OK;
}

/* P then options; machines named with --machine go to only[]. */
static int parse_vm_args(int argc, char **argv, int nargs, struct vm_options *o,
			 const char **only, size_t *n_only)
{
	struct diag d;
	diag_init(&d, "vmlaunch");
	if (vm_options_init(o, &d) < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		return EXIT_USAGE;
	}
	int e;
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			if (++pos > nargs)
				return usage_error("%s: unexpected argument '%s'", argv[0], a);
			continue;
		}
		if (i + 1 >= argc)
			return usage_error("%s: %s needs a value", argv[0], a);
		const char *v = argv[++i];
		if (only && strcmp(a, "--machine") == 0) {
			if (*n_only == VM_APPEND_MAX)
				return usage_error("too many --machine");
			only[(*n_only)++] = v;
			continue;
		}
		e = vm_options_set(o, a, v, &d);
		if (e == -ENOENT)
			return usage_error("%s: unknown option %s", argv[0], a);
		if (e) {
			diag_print(&d, stderr);
			diag_free(&d);
			return EXIT_USAGE;
		}
	}
	diag_free(&d);
	if (pos != nargs)
		return usage_error("%s takes %d argument%s", argv[0], nargs, nargs == 1 ? "" : "s");
	return EXIT_OK;
}

/* The first non-option arguments, in order. */
static const char *arg(int argc, char **argv, int which)
{
	for (int i = 1, pos = 0; i < argc; i++) {
		if (argv[i][0] == '-') {
			i++;
			continue;
		}
		if (pos++ == which)
			return argv[i];
	}
	return NULL;
}

static int cmd_start(const char *state_dir, int argc, char **argv)
{
	struct vm_options o;
	const char *only[VM_APPEND_MAX];
	size_t n_only = 0;
	int rc = parse_vm_args(argc, argv, 1, &o, only, &n_only);
	if (rc)
		return rc;
	struct plan p;
	if ((rc = load(state_dir, arg(argc, argv, 0), &p)))
		return rc;
	struct diag d;
	diag_init(&d, p.name);
	int e = vm_start(state_dir, &p, &o, only, n_only, stdout, &d);
	if (e == 0)
		printf("nothing to start: every VM machine of %s is running\n", p.name);
	plan_free(&p);
	if (e < 0)
		return fail(&d, e);
	diag_free(&d);
	return EXIT_OK;
}

static int cmd_stop(const char *state_dir, int argc, char **argv)
{
	unsigned grace = GRACE_DEFAULT_MS;
	if (argc == 4 && strcmp(argv[2], "--timeout") == 0) {
		char *end;
		unsigned long s = strtoul(argv[3], &end, 10);
		if (*end || end == argv[3] || s > 3600)
			return usage_error("--timeout: expected seconds from 0 to 3600, got '%s'",
					   argv[3]);
		grace = (unsigned)s * 1000;
	} else if (argc != 2) {
		return usage_error("stop takes P [--timeout SECONDS]");
	}
	if (!naming_valid_playground(argv[1])) {
		fprintf(stderr, "vmlaunch: invalid playground name '%s'\n", argv[1]);
		return EXIT_USER;
	}
	int n = vm_stop(state_dir, argv[1], grace, stdout);
	if (n < 0) {
		fprintf(stderr, "vmlaunch: stop %s: %s\n", argv[1], strerror(-n));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static int ls_one(const char *machine, const struct vm_status *st, void *arg)
{
	struct json_object *arr = arg;
	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "machine", json_object_new_string(machine));
		json_object_object_add(o, "state", json_object_new_string(vm_state_name(st->state)));
		json_object_object_add(o, "backend", json_object_new_string(vm_backend_name(st->backend)));
		json_object_object_add(o, "accel", json_object_new_string(vm_accel_name(st->accel)));
		json_object_object_add(o, "pid", json_object_new_int(st->pid));
		json_object_object_add(o, "reason", json_object_new_string(st->reason));
		json_object_array_add(arr, o);
		return 0;
	}
	printf("%-16s %-9s %-17s %-5s %-8d %s\n", machine, vm_state_name(st->state),
	       vm_backend_name(st->backend), vm_accel_name(st->accel), (int)st->pid, st->reason);
	return 0;
}

static int cmd_ls(const char *state_dir, int argc, char **argv)
{
	bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
	if (argc != 2 && !json)
		return usage_error("ls takes P [--json]");
	if (!naming_valid_playground(argv[1])) {
		fprintf(stderr, "vmlaunch: invalid playground name '%s'\n", argv[1]);
		return EXIT_USER;
	}
	struct json_object *arr = json ? json_object_new_array() : NULL;
	if (!json)
		printf("%-16s %-9s %-17s %-5s %-8s %s\n", "MACHINE", "STATE", "BACKEND", "ACCEL",
		       "PID", "");
	int e = vm_each(state_dir, argv[1], ls_one, arr);
	if (json)
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED));
	json_object_put(arr);
	return e < 0 ? EXIT_SYSTEM : EXIT_OK;
}

static int cmd_console(const char *state_dir, int argc, char **argv)
{
	if (argc != 3)
		return usage_error("console takes P MACHINE");
	if (!naming_valid_playground(argv[1])) {
		fprintf(stderr, "vmlaunch: invalid playground name '%s'\n", argv[1]);
		return EXIT_USER;
	}
	struct diag d;
	diag_init(&d, argv[1]);
	int e = vm_console_machine(state_dir, argv[1], argv[2], &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (e == -EINVAL || e == -EBUSY)
		return EXIT_USER;
	if (e == -ENOENT) {
		fprintf(stderr, "vmlaunch: %s/%s has no console (is its VM running?)\n", argv[1], argv[2]);
		return EXIT_USER;
	}
	return e < 0 ? EXIT_SYSTEM : EXIT_OK;
}

static void print_argv(const struct vm_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		puts(a->v[i]);
}

static int cmd_config(const char *state_dir, int argc, char **argv)
{
	struct vm_options o;
	int rc = parse_vm_args(argc, argv, 2, &o, NULL, NULL);
	if (rc)
		return rc;
	struct plan p;
	if ((rc = load(state_dir, arg(argc, argv, 0), &p)))
		return rc;
	const char *machine = arg(argc, argv, 1);
	size_t mi = 0;
	while (mi < p.n_machines && strcmp(p.machines[mi].name, machine) != 0)
		mi++;
	if (mi == p.n_machines || p.machines[mi].runtime != MANIFEST_RUNTIME_VM) {
		fprintf(stderr, "vmlaunch: playground %s has no VM machine '%s'\n", p.name, machine);
		plan_free(&p);
		return EXIT_USER;
	}
	struct diag d;
	diag_init(&d, p.name);
	struct vm_spec s;
	int e = vm_spec_build(state_dir, &p, mi, &o, &s, &d);
	if (e < 0) {
		plan_free(&p);
		return fail(&d, e);
	}
	diag_free(&d);
	struct vm_argv a;
	cleanup_free char *cfg = NULL;
	e = vm_resolve_accel(state_dir, o.vmm, &s);
	if (!e)
		e = vm_backend_argv(&s, o.vmm, &a);
	if (!e) {
		print_argv(&a);
		vm_argv_free(&a);
	}
	if (!e && s.backend == VM_FIRECRACKER && !(e = vm_backend_firecracker_config(&s, &cfg)))
		printf("\n%s:\n%s", s.paths.config, cfg);
	vm_spec_free(&s);
	plan_free(&p);
	return e < 0 ? EXIT_SYSTEM : EXIT_OK;
}

int main(int argc, char **argv)
{
	cli_set_program("vmlaunch");
	log_init("vmlaunch", LOG_LVL_INFO);
	struct cliopt_fabric fo; /* the state dir, read as playnet and netd read it */
	cliopt_fabric_init(&fo);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--state-dir") != 0 || i + 1 >= argc)
			return usage_error("unknown global option %s", argv[i]);
		cliopt_fabric_set(&fo, CLIOPT_OPT + CLIOPT_STATE_DIR, argv[++i]);
	}
	const char *state_dir = fo.text[CLIOPT_STATE_DIR];
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	static const struct {
		const char *name;
		int (*fn)(const char *state_dir, int argc, char **argv);
	} cmds[] = {
		{ "start", cmd_start }, { "stop", cmd_stop }, { "ls", cmd_ls },
		{ "console", cmd_console }, { "config", cmd_config },
	};
	for (size_t k = 0; k < ARRAY_SIZE(cmds); k++)
		if (strcmp(argv[i], cmds[k].name) == 0) {
			if (argc - i < 2)
				return usage_error("%s needs a playground name", argv[i]);
			return cmds[k].fn(state_dir, argc - i, argv + i);
		}
	return usage_error("unknown command '%s'", argv[i]);
}
