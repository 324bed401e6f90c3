/*
 * The fabric through the library, as netd calls it: create and delete of a
 * manifest's playground, guards and state included, timed around
 * playground_create and playground_delete. Prints one line per operation,
 * "create|delete MICROSECONDS", for scripts/bench.sh to summarise.
 *
 * usage: bench_fabric [-n N] [-m cycle|up|down] [-p PREFIX] MANIFEST
 *   -n N       N playgrounds PREFIX0 .. PREFIX(N-1) (default 100)
 *   -m cycle   create and delete each in turn (the default)
 *   -m up      create all N and leave them up
 *   -m down    delete all N
 * The state dir, host netns and bpffs dir come from PLAYNET_STATE_DIR,
 * PLAYNET_HOST_NETNS and PLAYNET_BPF_DIR, as for netd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "playground.h"
#include "fabric.h"
#include "ipam.h"
#include "manifest.h"
#include "plan.h"
#include "util.h"

static int load(const char *file, const char *name, struct plan *p, char **text)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct diag d;
	diag_init(&d, file);
	int e = plan_load_file(file, name, &lim, p, text, &d);
	if (e < 0)
		diag_print(&d, stderr);
	diag_free(&d);
	return e;
}

static int op(struct fabric *f, const char *manifest, const char *prefix, int i,
	      bool create)
{
	char name[64];
	snprintf(name, sizeof(name), "%s%d", prefix, i);
	struct plan p;
	char *text = NULL;
	int e = 0;
	if (create && (e = load(manifest, name, &p, &text)) < 0)
		return e;
	double t0 = now_seconds();
	struct pn_error err = PN_ERROR_INIT;
	e = create ? playground_create(f, &p, text, NULL, &err) : playground_delete(f, name, &err);
	double t1 = now_seconds();
	if (create) {
		plan_free(&p);
		free(text);
	}
	if (e < 0) {
		fprintf(stderr, "bench_fabric: %s %s: %s\n", create ? "create" : "delete",
			name, err.msg);
		return e;
	}
	printf("%s %.0f\n", create ? "create" : "delete", (t1 - t0) * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 100, c;
	const char *mode = "cycle", *prefix = "lb";
	while ((c = getopt(argc, argv, "n:m:p:")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'm': mode = optarg; break;
		case 'p': prefix = optarg; break;
		default: goto usage;
		}
	}
	bool up = !strcmp(mode, "up") || !strcmp(mode, "cycle");
	bool down = !strcmp(mode, "down") || !strcmp(mode, "cycle");
	if (optind != argc - 1 || n <= 0 || !(up || down))
		goto usage;
	const char *manifest = argv[optind];
	const char *state = getenv("PLAYNET_STATE_DIR");
	if (!state || !*state) {
		fputs("bench_fabric: set PLAYNET_STATE_DIR\n", stderr);
		return 2;
	}
	char pin[256];
	fabric_pin_dir(state, getenv("PLAYNET_BPF_DIR"), pin, sizeof(pin));
	struct fabric_opts o = { .state_dir = state, .host_netns = getenv("PLAYNET_HOST_NETNS"),
				 .tap_uid = -1, .tap_gid = -1, .pin_dir = pin };
	ipam_parse_cidr(FABRIC_POOL_DEFAULT, &o.pool, &o.pool_prefix);
	struct fabric *f;
	struct pn_error err = PN_ERROR_INIT;
	if (fabric_open(&f, &o, &err) < 0) {
		fprintf(stderr, "bench_fabric: %s\n", err.msg);
		return 1;
	}
	int e = 0;
	for (int i = 0; e == 0 && i < n; i++) {
		if (up)
			e = op(f, manifest, prefix, i, true);
		if (e == 0 && down)
			e = op(f, manifest, prefix, i, false);
	}
	fflush(stdout);
	fabric_close(f);
	return e < 0 ? 1 : 0;
usage:
	fputs("usage: bench_fabric [-n N] [-m cycle|up|down] [-p PREFIX] MANIFEST\n", stderr);
	return 2;
}
