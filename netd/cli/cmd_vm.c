/* playnet console, and the VMs that up --vms starts: through the library
 * in this process, on the fabric netd made. */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "naming.h"
#include "vm_console.h"
#include "vm_run.h"

/* up --vms: the fabric is up; its VMs start on it. A VM that cannot start
 * leaves the fabric as it is, for another try with vmlaunch. */
int start_vms(const struct options *o, const struct plan *p, const struct vm_options *vo)
{
	struct diag d;
	diag_init(&d, p->name);
	int e = vm_start(o->state_dir, p, vo, NULL, 0, stderr, &d);
	if (e == 0) {
		diag_free(&d);
		fprintf(stderr, "no VM to start: %s's VM machines are running, or it has none\n",
			p->name);
		return EXIT_OK;
	}
	if (e < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		fprintf(stderr, "playnet: the fabric of %s is up without its VMs: 'vmlaunch start %s' tries again, 'playnet down %s' removes it\n",
			p->name, p->name, p->name);
		return e == -ENOMEM || e == -EIO ? EXIT_SYSTEM : EXIT_USER;
	}
	diag_free(&d);
	fprintf(stderr, "console: playnet console %s MACHINE (Ctrl-] leaves); all down: playnet down %s\n",
		p->name, p->name);
	return EXIT_OK;
}

int cmd_console(const struct options *o, int argc, char **argv)
{
	if (argc != 3)
		return usage_error("console takes a playground and a machine name");
	if (!naming_valid_playground(argv[1]))
		return bad_name("console", argv[1]);
	struct diag d;
	diag_init(&d, argv[1]);
	int e = vm_console_machine(o->state_dir, argv[1], argv[2], &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (e == -EINVAL || e == -EBUSY)
		return EXIT_USER;
	if (e == -ENOENT) {
		fprintf(stderr, "playnet: %s/%s has no console: no such VM running (playnet show %s)\n",
			argv[1], argv[2], argv[1]);
		return EXIT_USER;
	}
	if (e < 0) {
		fprintf(stderr, "playnet: console of %s/%s: %s\n", argv[1], argv[2], strerror(-e));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}
