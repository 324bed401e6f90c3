/*
 * playnet's own parts (netd/cli): the options every command gets, and the
 * commands by room: file commands (cmd_file.c), playground commands
 * (cmd_playground.c), VM commands (cmd_vm.c), and the way to netd or to the
 * backend in this process (transport.c). playnet.c parses the global
 * options and dispatches.
 */
#ifndef PLAYNET_CLI_PLAYNET_H
#define PLAYNET_CLI_PLAYNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cli.h"
#include "client.h"
#include "fabric.h"
#include "guard_config.h"
#include "manifest.h"
#include "plan.h"
#include "vm.h"

#define VM_STOP_GRACE_MS 10000

struct options {
	const char *state_dir;
	const char *socket;
	const char *guard_config; /* the file */
	struct guard_config guard; /* what it says */
	char pin_dir[256];
	struct fabric_opts fabric; /* what the options say of the fabric */
	struct manifest_limits limits;
	bool direct;     /* act in this process instead of through netd */
	unsigned given;  /* 1 << cliopt_key: fabric options set by a flag or the environment */
	const char *netd_argv[2 * CLIOPT_KEYS + 2]; /* how to start netd with these options */
};

/* Options shared by plan, graph and up: FILE [--name P] plus more. */
struct file_cmd {
	const char *file;
	const char *name;
	bool json;
	const char *format;
	bool vms;
	struct vm_options vm; /* up --vms */
};

/* transport.c */
/* One request to netd (started if need be) or, with --direct, to the
 * backend in this process: EXIT_OK with the answer in r, whatever its
 * status, or an exit code once the reason is said. */
int call(const struct options *o, const char *what, const char *method, const char *path,
	 const char *body, size_t len, bool text, struct client_response *r);
/* A stream from netd (a capture): an exit code once an error is said;
 * stopped by the caller (a signal) is a success. */
int stream_netd(const struct options *o, const char *what, const char *path,
		const struct client_stream *s);
/* The same, for an answer of success: an exit code once an error is said. */
int ask_netd(const struct options *o, const char *what, const char *method, const char *path,
	     const char *body, size_t len, bool text, struct client_response *r);
/* A JSON answer on stdout in playnet's stable form; member: only that. */
int print_json(const struct client_response *r, const char *member);
/* GET PATH as text or JSON, printed as it comes. */
int get_and_print(const struct options *o, const char *what, const char *path, bool json,
		  const char *member);

/* cmd_file.c: validate, plan, graph (need no netd) */
int load_plan(const struct options *o, const char *file, const char *name, struct plan *p,
	      char **text);
int parse_file_cmd(int argc, char **argv, bool allow_json, bool allow_format,
		   struct file_cmd *c);
int cmd_validate(const struct options *o, int argc, char **argv);

/* cmd_image.c */
int cmd_image(const struct options *o, int argc, char **argv);
int cmd_plan(const struct options *o, int argc, char **argv);
int cmd_graph(const struct options *o, int argc, char **argv);

/* exec's options beyond the command */
struct exec_opts {
	unsigned timeout_s; /* 0: none */
	const char *user;   /* NULL: root */
};

/* cmd_playground.c: up, down, ls, show, stats, exec */
double ms_since(const struct timespec *t0);
int parse_json_flag(int argc, char **argv, bool *json, int want_args);
int bad_name(const char *cmd, const char *name);
int cmd_up(const struct options *o, int argc, char **argv);
int cmd_down(const struct options *o, int argc, char **argv);
int cmd_ls(const struct options *o, int argc, char **argv);
int cmd_show(const struct options *o, int argc, char **argv);
int cmd_stats(const struct options *o, int argc, char **argv);
int cmd_exec(const struct options *o, int argc, char **argv);

/* cmd_vm.c: console, and the VMs of up --vms */
int start_vms(const struct options *o, const struct plan *p, const struct vm_options *vo);
int cmd_console(const struct options *o, int argc, char **argv);
/* The paths of VM m of pg, or an exit code once said why. */
int vm_paths_said(const struct options *o, const char *pg, const char *m, struct vm_paths *pa);
/* A stream to port of the agent of VM m (waiting while it boots), or an
 * exit code once said why (what: the command, for messages). */
int open_agent(const struct options *o, const char *what, const char *pg, const char *m,
	       unsigned port, int *fd);
/* cmd_tasks.c: init tasks at up, tasks, check */
int up_tasks(const struct options *o, const struct plan *p, const char *text, bool fresh,
	     bool vms);
int cmd_tasks(const struct options *o, int argc, char **argv);
int cmd_check(const struct options *o, int argc, char **argv);
/* cmd_ssh.c: ssh, ssh-config, ssh-proxy (ssh's ProxyCommand), cp */
int cmd_ssh(const struct options *o, int argc, char **argv);
int cmd_ssh_config(const struct options *o, int argc, char **argv);
int cmd_ssh_proxy(const struct options *o, int argc, char **argv);
int cmd_cp(const struct options *o, int argc, char **argv);
/* cmd_port.c: impair, link, restart */
int cmd_impair(const struct options *o, int argc, char **argv);
int cmd_link(const struct options *o, int argc, char **argv);
int cmd_restart(const struct options *o, int argc, char **argv);
/* cmd_capture.c */
int cmd_capture(const struct options *o, int argc, char **argv);
/* cmd_forward.c */
int cmd_forward(const struct options *o, int argc, char **argv);
/* exec in VM m: the command's exit status (124: timed out), or an exit
 * code once said why. */
int exec_vm(const struct options *o, const char *pg, const char *m, const struct exec_opts *x,
	    char *const *argv);

#endif
