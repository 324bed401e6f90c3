/*
 * playnet: the command line of the fabric. A thin layer over the library in
 * netd/lib: argument parsing, exit codes, and what is printed where
 * (messages on stderr, --json on stdout).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "graph.h"
#include "log.h"
#include "manifest.h"
#include "plan.h"
#include "plan_json.h"
#include "plan_text.h"
#include "util.h"

enum exit_code { EXIT_OK = 0, EXIT_USER = 1, EXIT_USAGE = 2, EXIT_SYSTEM = 3 };

struct options {
	const char *state_dir;
	const char *socket;
	const char *host_netns;
	struct manifest_limits limits;
};

static const char usage_text[] =
	"usage: playnet [global options] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  validate FILE                        check a manifest\n"
	"  plan FILE [--name P] [--json]        resolved topology, nothing created\n"
	"  graph FILE [--name P] [--format dot|svg]\n"
	"                                       draw the topology\n"
	"\n"
	"global options (each also from the environment):\n"
	"  --state-dir DIR       PLAYNET_STATE_DIR   (default /run/playnet)\n"
	"  --socket PATH         PLAYNET_SOCKET      (default /run/playnet/netd.sock)\n"
	"  --host-netns NAME     PLAYNET_HOST_NETNS  (default: the root netns)\n"
	"  --max-machines N      PLAYNET_MAX_MACHINES   (default 16)\n"
	"  --max-networks N      PLAYNET_MAX_NETWORKS   (default 8)\n"
	"  --max-interfaces N    PLAYNET_MAX_INTERFACES (default 8, per machine)\n"
	"\n"
	"exit status: 0 ok, 1 user error, 2 usage, 3 system error\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("playnet: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'playnet --help'.\n", stderr);
	return EXIT_USAGE;
}

static bool parse_limit(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || !isdigit((unsigned char)s[0]) || v < 1 || v > 4096)
		return false;
	*out = v;
	return true;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

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

/* Loads FILE into a plan; prints errors and returns an exit code. */
static int load_plan(const struct options *o, const char *file,
		     const char *name, struct plan *p)
{
	char defname[NAMING_PLAYGROUND_MAX + 64];
	if (!name) {
		if (!default_playground_name(file, defname, sizeof(defname))) {
			fprintf(stderr,
				"playnet: cannot derive a playground name from '%s': give one with --name\n",
				file);
			return EXIT_USAGE;
		}
		name = defname;
	}
	struct manifest m;
	struct diag d;
	diag_init(&d, file);
	int e = manifest_load(file, &o->limits, &m, &d);
	if (e == 0)
		e = plan_build(&m, name, p, &d);
	manifest_free(&m);
	if (e < 0)
		diag_print(&d, stderr);
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

/* Options shared by plan and graph: FILE [--name P] plus one more. */
struct file_cmd {
	const char *file;
	const char *name;
	bool json;
	const char *format;
};

static int parse_file_cmd(int argc, char **argv, bool allow_json,
			  bool allow_format, struct file_cmd *c)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	memset(c, 0, sizeof(*c));
	c->format = "dot";
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
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
	rc = load_plan(o, c.file, c.name, &p);
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
	rc = load_plan(o, c.file, c.name, &p);
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

struct command {
	const char *name;
	int (*run)(const struct options *o, int argc, char **argv);
};

static const struct command commands[] = {
	{ "validate", cmd_validate },
	{ "plan", cmd_plan },
	{ "graph", cmd_graph },
};

static int parse_global(int argc, char **argv, struct options *o)
{
	enum { OPT_STATE = 256, OPT_SOCKET, OPT_HOSTNS, OPT_MAXM, OPT_MAXN, OPT_MAXI };
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "host-netns", required_argument, NULL, OPT_HOSTNS },
		{ "max-machines", required_argument, NULL, OPT_MAXM },
		{ "max-networks", required_argument, NULL, OPT_MAXN },
		{ "max-interfaces", required_argument, NULL, OPT_MAXI },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	*o = (struct options){
		.state_dir = env_or("PLAYNET_STATE_DIR", "/run/playnet"),
		.socket = env_or("PLAYNET_SOCKET", "/run/playnet/netd.sock"),
		.host_netns = env_or("PLAYNET_HOST_NETNS", NULL),
		.limits = MANIFEST_LIMITS_DEFAULT,
	};
	static const struct { const char *env; int opt; } limit_env[] = {
		{ "PLAYNET_MAX_MACHINES", OPT_MAXM },
		{ "PLAYNET_MAX_NETWORKS", OPT_MAXN },
		{ "PLAYNET_MAX_INTERFACES", OPT_MAXI },
	};
	size_t *limit_of[] = { &o->limits.max_machines, &o->limits.max_networks,
			       &o->limits.max_interfaces };
	for (size_t i = 0; i < ARRAY_SIZE(limit_env); i++) {
		const char *v = getenv(limit_env[i].env);
		if (v && *v && !parse_limit(v, limit_of[i]))
			return usage_error("%s: expected a number from 1 to 4096, got '%s'",
					   limit_env[i].env, v);
	}

	int ch;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_STATE:
			o->state_dir = optarg;
			break;
		case OPT_SOCKET:
			o->socket = optarg;
			break;
		case OPT_HOSTNS:
			o->host_netns = optarg;
			break;
		case OPT_MAXM:
		case OPT_MAXN:
		case OPT_MAXI:
			if (!parse_limit(optarg, limit_of[ch - OPT_MAXM]))
				return usage_error("--%s: expected a number from 1 to 4096, got '%s'",
						   longopts[ch - OPT_STATE].name, optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		default:
			return usage_error("unknown global option");
		}
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
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
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].run(&o, argc - optind, argv + optind);
	return usage_error("unknown command '%s'", name);
}
