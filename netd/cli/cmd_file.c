/* playnet validate, plan and graph: a manifest file (or, for graph, a running
 * playground), read and planned here; none needs netd. */
#define _GNU_SOURCE
#include "playnet.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "image.h"
#include "graph.h"
#include "ipam.h"
#include "log.h"
#include "naming.h"
#include "plan_json.h"
#include "plan_text.h"
#include "report.h"
#include "util.h"

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
int load_plan(const struct options *o, const char *file,
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

/* The images a manifest's VMs name: in the catalog, or well-formed
 * oci:// references (up --vms checks the rest: files, and fetches). */
static int check_images(const struct manifest *m, struct diag *d)
{
	int e = 0;
	for (size_t i = 0; i < m->n_machines; i++)
		for (size_t j = 0; j < m->machines[i].n_drives; j++) {
			const struct manifest_drive *dr = &m->machines[i].drives[j];
			char why[IMAGE_WHY_MAX];
			enum image_source k = dr->source ? image_source_of(dr->source) : IMAGE_SOURCE_FILE;
			if ((k == IMAGE_SOURCE_CATALOG || k == IMAGE_SOURCE_OCI) &&
			    image_check(dr->source, why, sizeof(why)) < 0) {
				diag_add(d, dr->source_pos.line, dr->source_pos.column,
					 "machine %s: drives[%zu].source: %s", m->machines[i].name, j, why);
				e = -EINVAL;
			}
		}
	return e;
}

int cmd_validate(const struct options *o, int argc, char **argv)
{
	if (argc != 2)
		return usage_error("validate takes exactly one FILE");
	const char *file = argv[1];
	struct manifest m;
	struct diag d;
	diag_init(&d, file);
	int e = manifest_load(file, &o->limits, &m, &d);
	if (e == 0 && (e = check_images(&m, &d)) < 0)
		manifest_free(&m);
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

int parse_file_cmd(int argc, char **argv, bool allow_json,
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

int cmd_plan(const struct options *o, int argc, char **argv)
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

/* What graph draws of a playground, from its show JSON. */
static int plan_of_show(struct json_object *j, struct plan *p)
{
	struct json_object *nets, *ms, *v;
	memset(p, 0, sizeof(*p));
	if (!json_object_object_get_ex(j, "networks", &nets) ||
	    !json_object_object_get_ex(j, "machines", &ms))
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "%s", report_member(j, "name", ""));
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
		snprintf(pn->name, sizeof(pn->name), "%s", report_member(n, "name", ""));
		ipam_parse_cidr(report_member(n, "subnet", ""), &pn->subnet, &pn->prefix);
		pn->private_net = json_object_object_get_ex(n, "private", &v) &&
				  json_object_get_boolean(v);
		pn->has_gateway = ipam_parse_addr(report_member(n, "gateway", ""), &pn->gateway);
	}
	for (size_t i = 0; i < p->n_machines; i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *ifs;
		struct plan_machine *mc = &p->machines[i];
		snprintf(mc->name, sizeof(mc->name), "%s", report_member(m, "name", ""));
		bool netns = strcmp(report_member(m, "runtime", ""), "netns") == 0;
		mc->runtime = netns ? MANIFEST_RUNTIME_NETNS : MANIFEST_RUNTIME_VM;
		if (!json_object_object_get_ex(m, "interfaces", &ifs))
			continue;
		mc->n_interfaces = json_object_array_length(ifs);
		if (!(mc->interfaces = calloc(mc->n_interfaces + 1, sizeof(*mc->interfaces))))
			return -ENOMEM;
		for (size_t k = 0; k < mc->n_interfaces; k++) {
			struct json_object *f = json_object_array_get_idx(ifs, k);
			struct plan_interface *pi = &mc->interfaces[k];
			snprintf(pi->name, sizeof(pi->name), "%s", report_member(f, "name", ""));
			ipam_parse_addr(report_member(f, "address", ""), &pi->address);
			for (size_t n = 0; n < p->n_networks; n++)
				if (strcmp(p->networks[n].name, report_member(f, "network", "")) == 0)
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

int cmd_graph(const struct options *o, int argc, char **argv)
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
