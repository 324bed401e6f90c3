/*
 * playnet: the command line of the fabric. A thin layer over the library in
 * netd/lib: argument parsing, exit codes, and what is printed where
 * (messages on stderr, --json on stdout).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cliopt.h"
#include "cli.h"
#include "client.h"
#include "local.h"
#include "diag.h"
#include "fabric.h"
#include "ipam.h"
#include "netns.h"
#include "state.h"
#include "table.h"
#include "graph.h"
#include "guard.h"
#include "guard_config.h"
#include "log.h"
#include "manifest.h"
#include "plan.h"
#include "plan_json.h"
#include "plan_text.h"
#include "report.h"
#include "util.h"
#include "vm.h"
#include "vm_console.h"
#include "vm_run.h"

#define VM_STOP_GRACE_MS 10000



struct options {
	const char *state_dir;
	const char *socket;
	const char *host_netns;
	long tap_uid;
	long tap_gid;
	uint32_t pool;
	uint8_t pool_prefix;
	uint64_t uplink_rate;
	const char *guard_config; /* the file */
	struct guard_config guard; /* what it says */
	char pin_dir[256];
	struct fabric_opts fabric; /* for --direct */
	struct manifest_limits limits;
	bool direct;     /* act in this process instead of through netd */
	unsigned given;  /* 1 << cliopt_key: fabric options set by a flag or the environment */
	const char *netd_argv[2 * CLIOPT_KEYS + 2]; /* how to start netd with these options */
};

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
	"  ls [--json]                          list playgrounds\n"
	"  show P [--json]                      what was made, checked against the kernel\n"
	"  exec P MACHINE -- CMD...             run CMD in a netns machine\n"
	"  stats P [--json]                     guard counters per interface\n"
	"\n"
	"VM OPTIONS (see vmlaunch --help): --backend qemu|firecracker|cloud-hypervisor,\n"
	"  --accel auto|kvm|tcg, --guest DIR, --vmm PROGRAM, --append MACHINE=WORDS,\n"
	"  --drive-dirs DIR[:DIR...]\n"
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


/* The playground name when --name is not given: the file's base name
 * without its extension, if that is a valid name. */
static bool default_playground_name(const char *file, char *out, size_t len)
{
	cleanup_free char *copy = strdup(file);
	if (!copy)
		return false;
	const char *base = basename(copy);
	snprintf(out, len, "%s", base);
	char *dot = strchr(out, '.');
	if (dot)
		*dot = '\0';
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return naming_valid_playground(out);
}

/* Loads FILE into a plan; prints errors and returns an exit code. The
 * file's text is handed back in *text when text is not NULL. */
static int load_plan(const struct options *o, const char *file,
		     const char *name, struct plan *p, char **text)
{
	/* --name, else the manifest's own name:, else the file's name */
	char defname[NAMING_PLAYGROUND_MAX + 64];
	bool derived = !name && default_playground_name(file, defname, sizeof(defname));
	struct diag d;
	diag_init(&d, file);
	int e = name ? plan_load_file(file, name, &o->limits, p, text, &d)
		     : plan_load_file_default(file, derived ? defname : NULL, &o->limits, p, text,
					      &d);
	if (e == -EDESTADDRREQ) {
		diag_free(&d);
		fprintf(stderr,
			"playnet: cannot derive a playground name from '%s': give one with --name (or a top-level name: in it)\n",
			file);
		return EXIT_USAGE;
	}
	if (e < 0)
		diag_print(&d, stderr);
	else
		diag_print_warnings(&d, stderr);
	diag_free(&d);
	if (e == -ENOMEM) {
		fputs("playnet: out of memory\n", stderr);
		return EXIT_SYSTEM;
	}
	return e < 0 ? EXIT_USER : EXIT_OK;
}

static int cmd_validate(const struct options *o, int argc, char **argv)
{
	if (argc != 2)
		return usage_error("validate takes exactly one FILE");
	const char *file = argv[1];
	struct manifest m;
	struct diag d;
	diag_init(&d, file);
	int e = manifest_load(file, &o->limits, &m, &d);
	if (e < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		return e == -ENOMEM ? EXIT_SYSTEM : EXIT_USER;
	}
	diag_print_warnings(&d, stderr);
	size_t n_if = 0;
	for (size_t i = 0; i < m.n_machines; i++)
		n_if += m.machines[i].n_interfaces;
	fprintf(stderr,
		"%s: configuration OK (%zu network%s, %zu machine%s, %zu interface%s)\n",
		file, m.n_networks, m.n_networks == 1 ? "" : "s", m.n_machines,
		m.n_machines == 1 ? "" : "s", n_if, n_if == 1 ? "" : "s");
	manifest_free(&m);
	diag_free(&d);
	return EXIT_OK;
}

/* Options shared by plan, graph and up: FILE [--name P] plus more. */
struct file_cmd {
	const char *file;
	const char *name;
	bool json;
	const char *format;
	bool vms;
	struct vm_options vm; /* up --vms */
};

static int parse_vm_option(struct file_cmd *c, const char *opt, const char *value)
{
	struct diag d;
	diag_init(&d, "playnet");
	int e = vm_options_set(&c->vm, opt, value, &d);
	if (e < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		return EXIT_USAGE;
	}
	diag_free(&d);
	return EXIT_OK;
}

static int parse_file_cmd(int argc, char **argv, bool allow_json,
			  bool allow_format, struct file_cmd *c)
{
	enum { OPT_VMS = 256, OPT_BACKEND, OPT_ACCEL, OPT_APPEND, OPT_GUEST, OPT_VMM };
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "vms", no_argument, NULL, OPT_VMS },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "guest", required_argument, NULL, OPT_GUEST },
		{ "vmm", required_argument, NULL, OPT_VMM },
		{ 0 },
	};
	memset(c, 0, sizeof(*c));
	c->format = "dot";
	bool up = strcmp(argv[0], "up") == 0;
	if (up) {
		struct diag d;
		diag_init(&d, "playnet");
		int e = vm_options_init(&c->vm, &d);
		diag_print(&d, stderr);
		diag_free(&d);
		if (e)
			return EXIT_USAGE;
	}
	/* 0, not 1: GNU getopt starts afresh, permuting again, so options may
	 * follow FILE as in "up FILE --vms". */
	optind = 0;
	int ch, rc;
	/* The VM options follow name, json and format in longopts. */
#define VM_OPT(ch) longopts[3 + (ch) - OPT_VMS]
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch >= OPT_VMS && !up)
			return usage_error("%s does not take --%s", argv[0], VM_OPT(ch).name);
		switch (ch) {
		case OPT_VMS:
			c->vms = true;
			break;
		case OPT_BACKEND:
		case OPT_ACCEL:
		case OPT_APPEND:
		case OPT_GUEST:
		case OPT_VMM: {
			char opt[32];
			snprintf(opt, sizeof(opt), "--%s", VM_OPT(ch).name);
			if ((rc = parse_vm_option(c, opt, optarg)))
				return rc;
			break;
		}
		case 'n':
			c->name = optarg;
			break;
		case 'j':
			if (!allow_json)
				return usage_error("%s does not take --json", argv[0]);
			c->json = true;
			break;
		case 'f':
			if (!allow_format)
				return usage_error("%s does not take --format", argv[0]);
			c->format = optarg;
			break;
		default:
			return usage_error("bad option for %s", argv[0]);
		}
	}
#undef VM_OPT
	if (optind + 1 != argc)
		return usage_error("%s takes exactly one FILE", argv[0]);
	c->file = argv[optind];
	return EXIT_OK;
}

static int cmd_plan(const struct options *o, int argc, char **argv)
{
	struct file_cmd c;
	int rc = parse_file_cmd(argc, argv, true, false, &c);
	if (rc)
		return rc;
	struct plan p;
	rc = load_plan(o, c.file, c.name, &p, NULL);
	if (rc)
		return rc;
	if (c.json) {
		struct json_object *j = plan_to_json(&p);
		if (!j) {
			plan_free(&p);
			fputs("playnet: out of memory\n", stderr);
			return EXIT_SYSTEM;
		}
		puts(json_object_to_json_string_ext(j, PLAN_JSON_FLAGS));
		json_object_put(j);
	} else if (plan_print_text(&p, stdout) < 0) {
		rc = EXIT_SYSTEM;
	}
	plan_free(&p);
	return rc;
}

/* Renders DOT to SVG through Graphviz's dot program, which reads stdin. */
static int render_svg(const struct plan *p)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_errno(LOG_LVL_ERR, errno, "pipe");
		return EXIT_SYSTEM;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	char *const args[] = { "dot", "-Tsvg", NULL };
	pid_t pid;
	extern char **environ;
	int e = posix_spawnp(&pid, "dot", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (e) {
		close(fds[1]);
		if (e == ENOENT)
			fputs("playnet: graph: --format svg needs the 'dot' program from Graphviz, which is not installed (apt-get install graphviz), or use --format dot\n",
			      stderr);
		else
			log_errno(LOG_LVL_ERR, e, "graph: cannot run dot");
		return EXIT_SYSTEM;
	}
	FILE *f = fdopen(fds[1], "w");
	if (f) {
		graph_write_dot(p, f);
		fclose(f);
	} else {
		close(fds[1]);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!f || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fputs("playnet: graph: dot failed to render the graph\n", stderr);
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static int ask_netd(const struct options *o, const char *what, const char *method,
		    const char *path, const char *body, size_t len, bool text,
		    struct client_response *r);

static const char *member_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

/* What graph draws of a playground, from its show JSON. */
static int plan_of_show(struct json_object *j, struct plan *p)
{
	struct json_object *nets, *ms, *v;
	memset(p, 0, sizeof(*p));
	if (!json_object_object_get_ex(j, "networks", &nets) ||
	    !json_object_object_get_ex(j, "machines", &ms))
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "%s", member_str(j, "name"));
	if (json_object_object_get_ex(j, "title", &v) && v)
		p->title = strdup(json_object_get_string(v));
	p->n_networks = json_object_array_length(nets);
	p->n_machines = json_object_array_length(ms);
	p->networks = calloc(p->n_networks + 1, sizeof(*p->networks));
	p->machines = calloc(p->n_machines + 1, sizeof(*p->machines));
	if (!p->networks || !p->machines)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_networks; i++) {
		struct json_object *n = json_object_array_get_idx(nets, i);
		struct plan_network *pn = &p->networks[i];
		snprintf(pn->name, sizeof(pn->name), "%s", member_str(n, "name"));
		ipam_parse_cidr(member_str(n, "subnet"), &pn->subnet, &pn->prefix);
		pn->private_net = json_object_object_get_ex(n, "private", &v) &&
				  json_object_get_boolean(v);
		pn->has_gateway = ipam_parse_addr(member_str(n, "gateway"), &pn->gateway);
	}
	for (size_t i = 0; i < p->n_machines; i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *ifs;
		struct plan_machine *mc = &p->machines[i];
		snprintf(mc->name, sizeof(mc->name), "%s", member_str(m, "name"));
		mc->runtime = strcmp(member_str(m, "runtime"), "netns") == 0 ? MANIFEST_RUNTIME_NETNS
									      : MANIFEST_RUNTIME_VM;
		if (!json_object_object_get_ex(m, "interfaces", &ifs))
			continue;
		mc->n_interfaces = json_object_array_length(ifs);
		if (!(mc->interfaces = calloc(mc->n_interfaces + 1, sizeof(*mc->interfaces))))
			return -ENOMEM;
		for (size_t k = 0; k < mc->n_interfaces; k++) {
			struct json_object *f = json_object_array_get_idx(ifs, k);
			struct plan_interface *pi = &mc->interfaces[k];
			snprintf(pi->name, sizeof(pi->name), "%s", member_str(f, "name"));
			ipam_parse_addr(member_str(f, "address"), &pi->address);
			for (size_t n = 0; n < p->n_networks; n++)
				if (strcmp(p->networks[n].name, member_str(f, "network")) == 0)
					pi->network = n;
		}
	}
	return 0;
}

static int running_plan(const struct options *o, const char *name, struct plan *p)
{
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", name);
	snprintf(what, sizeof(what), "graph %s", name);
	struct client_response r;
	int rc = ask_netd(o, what, "GET", path, NULL, 0, false, &r);
	if (rc)
		return rc;
	struct json_object *j = json_tokener_parse(r.body ? r.body : "");
	client_response_free(&r);
	int e = j ? plan_of_show(j, p) : -EINVAL;
	json_object_put(j);
	if (e < 0) {
		plan_free(p);
		fprintf(stderr, "playnet: graph %s: netd answered something that is not a playground\n", name);
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static int cmd_graph(const struct options *o, int argc, char **argv)
{
	struct file_cmd c;
	int rc = parse_file_cmd(argc, argv, false, true, &c);
	if (rc)
		return rc;
	bool svg = strcmp(c.format, "svg") == 0;
	if (!svg && strcmp(c.format, "dot") != 0)
		return usage_error("graph: unknown format '%s' (expected dot or svg)",
				   c.format);
	struct plan p;
	/* A playground that is up, by name, when no such file is there. */
	struct stat st;
	bool running = !c.name && stat(c.file, &st) < 0 && errno == ENOENT &&
		       naming_valid_playground(c.file);
	rc = running ? running_plan(o, c.file, &p) : load_plan(o, c.file, c.name, &p, NULL);
	if (rc)
		return rc;
	if (svg) {
		fflush(stdout);
		rc = render_svg(&p);
	} else {
		graph_write_dot(&p, stdout);
	}
	plan_free(&p);
	return rc;
}


/* --- through netd ------------------------------------------------------ */

/* What the user can mend (a name, a manifest, a pool too small for one
 * more playground) is theirs; the rest is the system's. */
static int exit_for_status(long status, const char *code)
{
	if (status >= 200 && status < 300)
		return EXIT_OK;
	return status == 400 || status == 404 || status == 409 || status == 413 ||
			       status == 422 || (status == 503 && code && strcmp(code, "exhausted") == 0)
		       ? EXIT_USER
		       : EXIT_SYSTEM;
}

/* The message of an API error body, or the body itself; the exit code. */
static int print_api_error(const char *what, const struct client_response *r)
{
	struct json_object *j = r->body ? json_tokener_parse(r->body) : NULL, *e, *m, *c;
	const char *code = NULL;
	if (j && json_object_object_get_ex(j, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m)) {
		fprintf(stderr, "playnet: %s: %s\n", what, json_object_get_string(m));
		if (json_object_object_get_ex(e, "code", &c))
			code = json_object_get_string(c);
	} else {
		fprintf(stderr, "playnet: %s: HTTP %ld %s\n", what, r->status,
			r->body ? r->body : "");
	}
	int rc = exit_for_status(r->status, code);
	json_object_put(j);
	return rc;
}

/* Two paths are the same file. */
static bool same_path(const char *a, const char *b)
{
	cleanup_free char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	return ra && rb ? strcmp(ra, rb) == 0 : strcmp(a, b) == 0;
}

/* One setting of netd's against what playnet was asked for; false: said. */
static bool fabric_same(const struct options *o, struct json_object *fo, enum cliopt_key k,
			const char *key, const char *option, const char *want, bool path)
{
	struct json_object *v;
	if (!(o->given & (1u << k)) || !json_object_object_get_ex(fo, key, &v))
		return true;
	const char *have = json_object_get_string(v);
	if (path && *want && *have ? same_path(want, have) : strcmp(want, have) == 0)
		return true;
	fprintf(stderr,
		"playnet: netd on %s runs with %s '%s', not '%s' as asked: playnet would act on its fabric, not the one asked for. Stop that netd first (kill $(cat %s/netd.pid)), or give this fabric a socket of its own (--socket / PLAYNET_SOCKET)\n",
		o->socket, option, *have ? have : "(none)", *want ? want : "(none)",
		json_object_get_string(json_object_object_get(fo, "stateDir")));
	return false;
}

/* The fabric options given to playnet are the running netd's: a netd
 * already listening with others would silently build elsewhere (another
 * host netns, another pool) than what the user asked for. */
static int fabric_check(const struct options *o, const struct client *c)
{
	if (!o->given)
		return EXIT_OK;
	struct client_response r;
	char err[512];
	if (client_call(c, "GET", "/healthz", NULL, 0, false, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "playnet: %s\n", err);
		return EXIT_SYSTEM;
	}
	struct json_object *j = json_tokener_parse(r.body ? r.body : ""), *fo;
	client_response_free(&r);
	if (!j || !json_object_object_get_ex(j, "fabric", &fo)) {
		json_object_put(j);
		return EXIT_OK; /* a netd that does not say: nothing to compare */
	}
	char pool[IPAM_CIDR_STRLEN], owner[48], rate[24], lim[3][24];
	ipam_format_cidr(o->pool, o->pool_prefix, pool);
	snprintf(owner, sizeof(owner), "%ld:%ld", o->tap_uid, o->tap_gid);
	snprintf(rate, sizeof(rate), "%llu", (unsigned long long)o->uplink_rate);
	snprintf(lim[0], sizeof(lim[0]), "%zu", o->limits.max_machines);
	snprintf(lim[1], sizeof(lim[1]), "%zu", o->limits.max_networks);
	snprintf(lim[2], sizeof(lim[2]), "%zu", o->limits.max_interfaces);
	bool same = fabric_same(o, fo, CLIOPT_STATE_DIR, "stateDir", "--state-dir", o->state_dir, true) &&
		    fabric_same(o, fo, CLIOPT_HOST_NETNS, "hostNetns", "--host-netns",
				o->host_netns ? o->host_netns : "", false) &&
		    fabric_same(o, fo, CLIOPT_POOL, "transitPool", "--transit-pool", pool, false) &&
		    fabric_same(o, fo, CLIOPT_TAP_OWNER, "tapOwner", "--tap-owner", owner, false) &&
		    fabric_same(o, fo, CLIOPT_RATE, "uplinkRate", "--uplink-rate (bit/s)", rate, false) &&
		    fabric_same(o, fo, CLIOPT_BPF_DIR, "bpfDir", "--bpf-dir", o->pin_dir, true) &&
		    fabric_same(o, fo, CLIOPT_GUARD_CONFIG, "guardConfig", "--guard-config",
				o->guard_config ? o->guard_config : "", true) &&
		    fabric_same(o, fo, CLIOPT_MAX_MACHINES, "maxMachines", "--max-machines", lim[0], false) &&
		    fabric_same(o, fo, CLIOPT_MAX_NETWORKS, "maxNetworks", "--max-networks", lim[1], false) &&
		    fabric_same(o, fo, CLIOPT_MAX_INTERFACES, "maxInterfaces", "--max-interfaces", lim[2], false);
	json_object_put(j);
	return same ? EXIT_OK : EXIT_USER;
}

/* One request to netd, started if need be, or to the backend in this
 * process (--direct): EXIT_OK with the answer in r, whatever its status,
 * or an exit code once the reason is said. */
static int call(const struct options *o, const char *what, const char *method,
		const char *path, const char *body, size_t len, bool text,
		struct client_response *r)
{
	const struct client c = { o->socket, o->state_dir, o->netd_argv };
	const struct local l = { &o->fabric, o->limits };
	char err[512];
	static bool checked;
	if (!o->direct && !checked) {
		checked = true;
		int rc = fabric_check(o, &c);
		if (rc)
			return rc;
	}
	int e = o->direct ? local_call(&l, method, path, body, len, text, r, err, sizeof(err))
			  : client_call(&c, method, path, body, len, text, r, err, sizeof(err));
	if (e < 0) {
		fprintf(stderr, "playnet: %s: %s\n", what, err);
		return e == -ENOENT && o->direct ? EXIT_USER : EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* The same, for an answer of success: an exit code once an error is said. */
static int ask_netd(const struct options *o, const char *what, const char *method,
		    const char *path, const char *body, size_t len, bool text,
		    struct client_response *r)
{
	int rc = call(o, what, method, path, body, len, text, r);
	if (rc)
		return rc;
	rc = exit_for_status(r->status, NULL);
	if (rc != EXIT_OK) {
		rc = print_api_error(what, r);
		client_response_free(r);
	}
	return rc;
}

/* A JSON answer on stdout in playnet's stable form; member: only that. */
static int print_json(const struct client_response *r, const char *member)
{
	struct json_object *j = json_tokener_parse(r->body ? r->body : ""), *m = j;
	if (!j || (member && !json_object_object_get_ex(j, member, &m))) {
		fprintf(stderr, "playnet: netd answered something that is not the JSON expected\n");
		json_object_put(j);
		return EXIT_SYSTEM;
	}
	puts(json_object_to_json_string_ext(m, PLAN_JSON_FLAGS));
	json_object_put(j);
	return EXIT_OK;
}

/* GET PATH as text or JSON, printed as it comes. */
static int get_and_print(const struct options *o, const char *what, const char *path,
			 bool json, const char *member)
{
	struct client_response r;
	int rc = ask_netd(o, what, "GET", path, NULL, 0, !json, &r);
	if (rc)
		return rc;
	if (json)
		rc = print_json(&r, member);
	else
		fputs(r.body ? r.body : "", stdout);
	client_response_free(&r);
	return rc;
}

/* The netns of machine m of playground name, from the answer for it. */
static int machine_netns(const struct options *o, const char *name, const char *m,
			      char *ns, size_t len, bool *is_vm, bool *found)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", name);
	struct client_response r;
	int rc = ask_netd(o, "exec", "GET", path, NULL, 0, false, &r);
	if (rc)
		return rc;
	struct json_object *j = json_tokener_parse(r.body ? r.body : ""), *ms, *v;
	client_response_free(&r);
	if (!j || !json_object_object_get_ex(j, "machines", &ms)) {
		json_object_put(j);
		fprintf(stderr, "playnet: exec: netd's answer lacks the machines\n");
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *mc = json_object_array_get_idx(ms, i);
		if (!json_object_object_get_ex(mc, "name", &v) ||
		    strcmp(json_object_get_string(v), m) != 0)
			continue;
		*found = true;
		json_object_object_get_ex(mc, "netns", &v);
		*is_vm = !v;
		snprintf(ns, len, "%s", v ? json_object_get_string(v) : "");
	}
	json_object_put(j);
	return EXIT_OK;
}

/* --- the commands ---------------------------------------------------------- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int parse_json_flag(int argc, char **argv, bool *json, int want_args)
{
	*json = false;
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else if (argv[i][0] == '-')
			return usage_error("%s: unknown option '%s'", argv[0], argv[i]);
		else
			argv[1 + n++] = argv[i];
	}
	if (n != want_args)
		return usage_error("%s takes %s", argv[0],
				   want_args ? "one playground name" : "no arguments");
	return EXIT_OK;
}

static int bad_name(const char *cmd, const char *name)
{
	fprintf(stderr, "playnet: %s: invalid playground name '%s'\n", cmd, name);
	return EXIT_USER;
}

/* up --vms: the fabric is up; its VMs start on it. A VM that cannot start
 * leaves the fabric as it is, for another try with vmlaunch. */
static int start_vms(const struct options *o, const struct plan *p, const struct vm_options *vo)
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

static int cmd_up(const struct options *o, int argc, char **argv)
{
	struct file_cmd c;
	int rc = parse_file_cmd(argc, argv, false, false, &c);
	if (rc)
		return rc;
	cleanup_free char *text = NULL;
	struct plan p;
	if ((rc = load_plan(o, c.file, c.name, &p, &text)) != EXIT_OK)
		return rc;
	if (c.vms) {
		struct diag d;
		diag_init(&d, c.file);
		int e = vm_check(o->state_dir, &p, &c.vm, &d);
		diag_print(&d, stderr);
		diag_free(&d);
		if (e < 0) {
			plan_free(&p);
			return e == -ENOMEM ? EXIT_SYSTEM : EXIT_USER;
		}
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", p.name);
	snprintf(what, sizeof(what), "up %s", p.name);
	struct client_response r;
	rc = ask_netd(o, what, "PUT", path, text, strlen(text), false, &r);
	long status = r.status;
	if (rc == EXIT_OK)
		client_response_free(&r);
	if (rc == EXIT_OK && status == 200) {
		fprintf(stderr, "playground %s is up already, from the same manifest\n", p.name);
	} else if (rc == EXIT_OK) {
		size_t taps = 0, veths = 0;
		for (size_t i = 0; i < p.n_machines; i++)
			for (size_t j = 0; j < p.machines[i].n_interfaces; j++)
				p.machines[i].interfaces[j].kind == PLAN_PORT_TAP ? taps++ : veths++;
		fprintf(stderr,
			"playground %s is up in %.1f ms: netns %s, %zu bridge%s, %zu tap%s, %zu netns machine port%s\n",
			p.name, ms_since(&t0), p.netns, p.n_networks,
			p.n_networks == 1 ? "" : "s", taps, taps == 1 ? "" : "s", veths,
			veths == 1 ? "" : "s");
	}
	if (rc == EXIT_OK && c.vms)
		rc = start_vms(o, &p, &c.vm);
	plan_free(&p);
	return rc;
}

static int cmd_down(const struct options *o, int argc, char **argv)
{
	if (argc != 2)
		return usage_error("down takes exactly one playground name");
	const char *name = argv[1];
	if (!naming_valid_playground(name))
		return bad_name("down", name);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The guests power off before their taps go; the fabric's delete
	 * would only force them. */
	int stopped = vm_stop(o->state_dir, name, VM_STOP_GRACE_MS, NULL);
	if (stopped > 0)
		fprintf(stderr, "stopped %d VM%s of %s\n", stopped, stopped == 1 ? "" : "s", name);
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s", name);
	snprintf(what, sizeof(what), "down %s", name);
	/* A delete of nothing is no error (it is idempotent), but it is not
	 * news that a playground went either. */
	struct client_response r;
	int rc = call(o, what, "GET", path, NULL, 0, false, &r);
	if (rc)
		return rc;
	bool absent = r.status == 404;
	client_response_free(&r);
	if (absent)
		fprintf(stderr, "playnet: no playground named %s: nothing to take down\n", name);
	if ((rc = ask_netd(o, what, "DELETE", path, NULL, 0, false, &r)) == EXIT_OK)
		client_response_free(&r);
	if (absent)
		return rc;
	if (rc == EXIT_OK)
		fprintf(stderr, "playground %s is down (%.1f ms)\n", name, ms_since(&t0));
	return rc;
}

/* "CMD P [--json]": show and stats, the same route with another suffix. */
static int playground_cmd(const struct options *o, int argc, char **argv, const char *suffix)
{
	bool json;
	int rc = parse_json_flag(argc, argv, &json, 1);
	if (rc)
		return rc;
	if (!naming_valid_playground(argv[1]))
		return bad_name(argv[0], argv[1]);
	char path[128], what[128];
	snprintf(path, sizeof(path), "/v1/playgrounds/%s%s", argv[1], suffix);
	snprintf(what, sizeof(what), "%s %s", argv[0], argv[1]);
	return get_and_print(o, what, path, json, NULL);
}

static int cmd_console(const struct options *o, int argc, char **argv)
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
	if (e == -EINVAL)
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

static int cmd_show(const struct options *o, int argc, char **argv)
{
	return playground_cmd(o, argc, argv, "");
}

static int cmd_stats(const struct options *o, int argc, char **argv)
{
	return playground_cmd(o, argc, argv, "/stats");
}

static int cmd_ls(const struct options *o, int argc, char **argv)
{
	bool json;
	int rc = parse_json_flag(argc, argv, &json, 0);
	if (rc)
		return rc;
	return get_and_print(o, "ls", "/v1/playgrounds", json, "playgrounds");
}

static int cmd_exec(const struct options *o, int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--") != 0)
		return usage_error("usage: exec P MACHINE -- CMD [ARGS...]");
	if (!naming_valid_playground(argv[1]))
		return bad_name("exec", argv[1]);
	char ns[NAMING_NETNS_MAX] = "";
	bool is_vm = false, found = false;
	int rc = machine_netns(o, argv[1], argv[2], ns, sizeof(ns), &is_vm, &found);
	if (rc)
		return rc;
	if (!found) {
		fprintf(stderr, "playnet: exec: %s has no machine named %s\n", argv[1], argv[2]);
		return EXIT_USER;
	}
	if (is_vm) {
		fprintf(stderr, "playnet: exec: %s is a VM; exec runs commands in netns machines (use its console)\n",
			argv[2]);
		return EXIT_USER;
	}
	int fd = netns_open(ns);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "playnet: exec: netns %s: %s\n", ns,
			strerror(fd < 0 ? -fd : errno));
		return EXIT_SYSTEM;
	}
	close(fd);
	execvp(argv[4], argv + 4);
	fprintf(stderr, "playnet: exec: %s: %s\n", argv[4], strerror(errno));
	return EXIT_SYSTEM;
}

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
	{ "stats", cmd_stats },
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
	char err[256];
	if (cliopt_fabric_finish(&fo, err, sizeof(err)) < 0)
		return usage_error("%s", err);
	const char *bpf_dir = fo.text[CLIOPT_BPF_DIR];
	if (bpf_dir && strlen(bpf_dir) >= sizeof(o->pin_dir))
		return usage_error("--bpf-dir: too long");
	o->state_dir = fo.text[CLIOPT_STATE_DIR];
	o->socket = fo.text[CLIOPT_SOCKET];
	o->host_netns = fo.text[CLIOPT_HOST_NETNS];
	o->guard_config = fo.text[CLIOPT_GUARD_CONFIG];
	o->tap_uid = fo.tap_uid;
	o->tap_gid = fo.tap_gid;
	o->pool = fo.pool;
	o->pool_prefix = fo.pool_prefix;
	o->uplink_rate = fo.uplink_rate;
	o->limits = fo.limits;
	o->given = fo.given;
	fabric_pin_dir(o->state_dir, bpf_dir, o->pin_dir, sizeof(o->pin_dir));
	o->fabric = (struct fabric_opts){
		.pin_dir = o->pin_dir,
		.uplink_rate = o->uplink_rate,
		.guard_config = &o->guard,
		.state_dir = o->state_dir,
		.host_netns = o->host_netns,
		.tap_uid = o->tap_uid,
		.tap_gid = o->tap_gid,
		.pool = o->pool,
		.pool_prefix = o->pool_prefix,
	};
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
