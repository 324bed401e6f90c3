/*
 * playnet: the command line of the fabric. A thin layer over the library in
 * netd/lib: its global options and the dispatch to the commands
 * (playnet.h), and what is printed where (messages on stderr, --json on
 * stdout).
 */

#define _GNU_SOURCE
#include "playnet.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliopt.h"
#include "diag.h"
#include "image.h"
#include "log.h"
#include "util.h"

static const char usage_text[] =
	"usage: playnet [global options] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  validate FILE                        check a manifest\n"
	"  plan FILE [--name P] [--json]        resolved topology, nothing created\n"
	"  graph FILE|P [--name P] [--format dot|svg]\n"
	"                                       draw the topology (of a file, or\n"
	"                                       of playground P when it is up)\n"
	"  up FILE [--name P] [--vms [VM OPTIONS]]\n"
	"                                       create a playground's fabric (and VMs)\n"
	"  down P                               stop its VMs, remove it (also when half\n"
	"                                       made or gone)\n"
	"  console P MACHINE                    a VM's serial console (Ctrl-] leaves)\n"
	"  ssh P MACHINE [--fresh] [-- CMD...]  OpenSSH into a VM, over its own channel\n"
	"  ssh-config P                         Host blocks for ssh -F, scp, sftp, rsync\n"
	"  cp P [MACHINE:]SRC [MACHINE:]DST     copy a file into or out of a VM\n"
	"  tasks P [--run] [--json]             its init tasks and checks, with output\n"
	"  check P                              run its checks: PASS/FAIL each\n"
	"  ls [--json]                          list playgrounds\n"
	"  show P [--json]                      what was made, checked against the kernel\n"
	"  exec P MACHINE [--timeout S] [--user U] -- CMD...\n"
	"                                       run CMD in a machine (VM or netns)\n"
	"  stats P [--json]                     guard counters per interface\n"
	"  impair P MACHINE/ethN [delay D] [jitter J] [loss L%] [rate R]\n"
	"         [duplicate P%] [reorder P%] [corrupt P%] | --clear\n"
	"                                       impair an interface, both ways\n"
	"  link P MACHINE/ethN down|up          take its link down (the guest sees\n"
	"                                       its carrier go) or up again\n"
	"  restart P MACHINE                    power-cycle a VM on the same taps\n"
	"  capture P NETWORK|MACHINE/ethN [-w FILE] [-c COUNT] [FILTER...]\n"
	"                                       its frames as pcap (tcpdump's filters),\n"
	"                                       into FILE or a pipe (| tshark -r -)\n"
	"  forward P [MACHINE PORT[/udp] [[ADDR:]HOSTPORT] | MACHINE --remove HOSTPORT[/udp]]\n"
	"                                       list, add or remove a host port sent on\n"
	"                                       to a machine's port\n"
	"  image ls | build NAME [--force] | rm NAME\n"
	"                                       root file systems for VMs: the catalog\n"
	"                                       (debian-12) and pulled oci:// images\n"
	"                                       (--image-dir DIR, PLAYNET_IMAGE_DIR,\n"
	"                                       default " IMAGE_DIR_DEFAULT ")\n"
	"\n"
	"VM OPTIONS (see vmlaunch --help): --backend qemu|firecracker|cloud-hypervisor,\n"
	"  --accel auto|kvm|tcg, --guest DIR, --vmm PROGRAM, --append MACHINE=WORDS,\n"
	"  --drive-dirs DIR[:DIR...], --image-dir DIR\n"
	"\n"
	"global options (each also from the environment):\n"
	"  --state-dir DIR       PLAYNET_STATE_DIR   (default /run/playnet)\n"
	"  --socket PATH         PLAYNET_SOCKET      (default /run/playnet/netd.sock)\n"
	"  --host-netns NAME     PLAYNET_HOST_NETNS  (default: the root netns)\n"
	"  --tap-owner UID[:GID] PLAYNET_TAP_OWNER   (default: root)\n"
	"  --transit-pool CIDR   PLAYNET_TRANSIT_POOL (default " FABRIC_POOL_DEFAULT ")\n"
	"  --guard-config FILE   PLAYNET_GUARD_CONFIG: 'deny CIDR' / 'allow CIDR' lines\n"
	"  --uplink-rate RATE    PLAYNET_UPLINK_RATE: each playground's egress, e.g. 100mbit\n"
	"  --bpf-dir DIR         PLAYNET_BPF_DIR (default /sys/fs/bpf/playnet, or one\n"
	"                        derived from --state-dir when that is not the default)\n"
	"  --max-machines N      PLAYNET_MAX_MACHINES   (default 16)\n"
	"  --max-networks N      PLAYNET_MAX_NETWORKS   (default 8)\n"
	"  --max-interfaces N    PLAYNET_MAX_INTERFACES (default 8, per machine)\n"
	"  --direct              PLAYNET_DIRECT=1: act on the state dir in this process,\n"
	"                        holding its lock, instead of through netd\n"
	"\n"
	"playnet talks to netd on its socket and starts it when nothing listens there;\n"
	"the options that shape the fabric are netd's, given when playnet starts it;\n"
	"given to playnet while a netd with other ones listens, they are refused.\n"
	"\n"
	"exit status: 0 ok, 1 user error, 2 usage, 3 system error\n";

struct command {
	const char *name;
	int (*run)(const struct options *o, int argc, char **argv);
};

static const struct command commands[] = {
	{ "validate", cmd_validate },
	{ "plan", cmd_plan },
	{ "graph", cmd_graph },
	{ "up", cmd_up },
	{ "down", cmd_down },
	{ "ls", cmd_ls },
	{ "show", cmd_show },
	{ "exec", cmd_exec },
	{ "console", cmd_console },
	{ "ssh", cmd_ssh },
	{ "ssh-config", cmd_ssh_config },
	{ "ssh-proxy", cmd_ssh_proxy },
	{ "cp", cmd_cp },
	{ "tasks", cmd_tasks },
	{ "check", cmd_check },
	{ "stats", cmd_stats },
	{ "impair", cmd_impair },
	{ "link", cmd_link },
	{ "restart", cmd_restart },
	{ "capture", cmd_capture },
	{ "forward", cmd_forward },
	{ "image", cmd_image },
};

static int parse_global(int argc, char **argv, struct options *o)
{
	enum { OPT_DIRECT = 256 };
	static const struct option own[] = {
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option longopts[32];
	if (!cliopt_fabric_longopts(own, longopts, ARRAY_SIZE(longopts)))
		abort();
	*o = (struct options){ 0 };
	struct cliopt_fabric fo;
	cliopt_fabric_init(&fo);
	o->direct = strcmp(cliopt_env("PLAYNET_DIRECT", "0"), "0") != 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (cliopt_fabric_set(&fo, ch, optarg))
			continue;
		switch (ch) {
		case OPT_DIRECT:
			o->direct = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		default:
			return usage_error("unknown global option");
		}
	}
	struct pn_error err = PN_ERROR_INIT;
	if (cliopt_fabric_finish(&fo, &err) < 0)
		return usage_error("%s", err.msg);
	const char *bpf_dir = fo.text[CLIOPT_BPF_DIR];
	if (bpf_dir && strlen(bpf_dir) >= sizeof(o->pin_dir))
		return usage_error("--bpf-dir: too long");
	o->state_dir = fo.text[CLIOPT_STATE_DIR];
	o->socket = fo.text[CLIOPT_SOCKET];
	o->guard_config = fo.text[CLIOPT_GUARD_CONFIG];
	o->limits = fo.limits;
	o->given = fo.given;
	fabric_opts_of(&fo, o->pin_dir, sizeof(o->pin_dir), &o->fabric);
	o->fabric.guard_config = &o->guard;
	/* netd starts with the fabric these describe */
	o->netd_argv[0] = "netd";
	size_t n = cliopt_fabric_argv(&fo, o->netd_argv + 1, ARRAY_SIZE(o->netd_argv) - 2);
	o->netd_argv[1 + n] = NULL;
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	cli_set_program("playnet");
	log_init("playnet", LOG_LVL_INFO);
	struct options o;
	int rc = parse_global(argc, argv, &o);
	if (rc)
		return rc;
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command '%s'", name);
	if (o.guard_config) {
		struct diag d;
		diag_init(&d, o.guard_config);
		int e = guard_config_load(o.guard_config, &o.guard, &d);
		diag_print(&d, stderr);
		diag_free(&d);
		if (e < 0)
			return e == -ENOMEM ? EXIT_SYSTEM : EXIT_USER;
	}
	rc = cmd->run(&o, argc - optind, argv + optind);
	guard_config_free(&o.guard);
	curl_global_cleanup();
	return rc;
}
