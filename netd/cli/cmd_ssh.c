/* playnet ssh, ssh-config, ssh-proxy and cp: into a VM over its agent's
 * channel (vm_agent.h), never over the lab's network. ssh is the
 * system's OpenSSH client with a ProxyCommand (playnet ssh-proxy), the
 * state dir's key and the VM's recorded host key (vm_config.h), so scp,
 * sftp and rsync -e work with the same options; cp runs cat over exec,
 * so it needs no sshd in the guest. */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_proto.h"
#include "machine_exec.h"
#include "naming.h"
#include "util.h"
#include "vm_agent.h"
#include "vm_config.h"
#include "vm_run.h"

#define SSH_OPTS_MAX 32
#define SSH_BOOT_WAIT_MS 300000 /* a Debian VM under TCG boots in most of a minute */

struct ssh_opts {
	char *v[SSH_OPTS_MAX];
	size_t n;
};

static void ssh_opts_free(struct ssh_opts *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static int __attribute__((format(printf, 2, 3))) opt(struct ssh_opts *s, const char *fmt, ...)
{
	if (s->n + 1 >= SSH_OPTS_MAX)
		return -ENOMEM;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s->v[s->n], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	s->v[++s->n] = NULL;
	return 0;
}

/* s in single quotes for the shell that runs a ProxyCommand. */
static void shell_quote(const char *s, char *out, size_t len)
{
	size_t n = 0;
	out[n++] = '\'';
	for (; *s && n + 6 < len; s++) {
		if (*s == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *s;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
}

/* The options (as "Key=Value") that take ssh to VM m of pg; reuse: one
 * connection shared by every session (ControlMaster). */
static int ssh_settings(const struct options *o, const char *pg, const char *m, bool reuse,
			struct ssh_opts *s, char *alias, size_t alias_len)
{
	struct vm_paths pa;
	if (vm_paths_said(o, pg, m, &pa))
		return -EINVAL;
	char self[PATH_MAX], q_self[2 * PATH_MAX], q_state[2 * PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	shell_quote(self, q_self, sizeof(q_self));
	shell_quote(o->state_dir, q_state, sizeof(q_state));
	vm_config_alias(pg, m, alias, alias_len);
	/* The manifest's default user, as vmlaunch recorded it at start. */
	char user[MANIFEST_USER_MAX + 2] = "root";
	FILE *f = fopen(pa.login, "re");
	if (f && (!fgets(user, sizeof(user), f) || !manifest_valid_user(user)))
		strcpy(user, "root");
	if (f)
		fclose(f);
	int e = 0;
	e |= opt(s, "User=%s", user);
	e |= opt(s, "IdentityFile=%s", pa.ssh_key);
	e |= opt(s, "IdentitiesOnly=yes");
	e |= opt(s, "UserKnownHostsFile=%s", pa.known_hosts);
	e |= opt(s, "StrictHostKeyChecking=yes");
	e |= opt(s, "HostKeyAlias=%s", alias);
	e |= opt(s, "ProxyCommand=%s --state-dir %s ssh-proxy %s %s", q_self, q_state, pg, m);
	e |= opt(s, "LogLevel=ERROR");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", pa.ssh_key);
	dirname(dir);
	/* The control socket is a unix socket: a path of 108 bytes at most,
	 * and %C is 40 of them. A state dir too deep shares no connection. */
	if (reuse && strlen(dir) + sizeof("/cm-") + 40 <= VM_SOCK_MAX) {
		e |= opt(s, "ControlMaster=auto");
		e |= opt(s, "ControlPath=%s/cm-%%C", dir);
		e |= opt(s, "ControlPersist=60");
	}
	return e ? -ENOMEM : 0;
}

/* The VM is there and running; else an exit code once said why. */
static int check_vm(const struct options *o, const char *what, const char *pg, const char *m)
{
	if (!naming_valid_playground(pg))
		return bad_name(what, pg);
	struct vm_paths pa;
	struct vm_status st;
	if (vm_paths_said(o, pg, m, &pa))
		return EXIT_USER;
	if (vm_status_read(pa.status, &st) < 0 || !vm_state_live(st.state)) {
		fprintf(stderr, "playnet: %s: no VM %s is running in %s ('playnet show %s' says what there is; netns machines: playnet exec)\n",
			what, m, pg, pg);
		return EXIT_USER;
	}
	char why[512];
	if (vm_config_client_key(pa.ssh_key, why, sizeof(why)) < 0) {
		fprintf(stderr, "playnet: %s: %s\n", what, why);
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* ssh P MACHINE [--fresh] [-- CMD...] */
int cmd_ssh(const struct options *o, int argc, char **argv)
{
	bool reuse = true;
	int at = 3;
	if (at < argc && strcmp(argv[at], "--fresh") == 0) {
		reuse = false;
		at++;
	}
	if (argc < 3 || (at < argc && strcmp(argv[at], "--") != 0))
		return usage_error("usage: ssh P MACHINE [--fresh] [-- CMD [ARGS...]]");
	int rc = check_vm(o, "ssh", argv[1], argv[2]);
	if (rc)
		return rc;
	struct ssh_opts s = { 0 };
	char alias[VM_CONFIG_ALIAS_MAX];
	if (ssh_settings(o, argv[1], argv[2], reuse, &s, alias, sizeof(alias)) < 0) {
		ssh_opts_free(&s);
		return EXIT_SYSTEM;
	}
	size_t extra = at < argc ? (size_t)(argc - at - 1) : 0;
	char **v = calloc(2 * s.n + extra + 6, sizeof(*v));
	if (!v) {
		ssh_opts_free(&s);
		return EXIT_SYSTEM;
	}
	size_t n = 0;
	v[n++] = "ssh";
	v[n++] = "-F";
	v[n++] = "/dev/null";
	for (size_t i = 0; i < s.n; i++) {
		v[n++] = "-o";
		v[n++] = s.v[i];
	}
	v[n++] = alias;
	for (size_t i = 0; i < extra; i++)
		v[n++] = argv[at + 1 + i];
	v[n] = NULL;
	fflush(stdout);
	execvp("ssh", v);
	fprintf(stderr, "playnet: ssh: cannot run ssh: %s%s\n", strerror(errno),
		errno == ENOENT ? " (install openssh-client)" : "");
	free(v);
	ssh_opts_free(&s);
	return EXIT_SYSTEM;
}

struct ssh_config_ctx {
	const struct options *o;
	const char *pg;
	int rc;
	size_t n;
};

static int print_host(const char *machine, const struct vm_status *st, void *arg)
{
	(void)st;
	struct ssh_config_ctx *c = arg;
	struct ssh_opts s = { 0 };
	char alias[VM_CONFIG_ALIAS_MAX];
	if (ssh_settings(c->o, c->pg, machine, true, &s, alias, sizeof(alias)) < 0) {
		c->rc = EXIT_SYSTEM;
	} else {
		if (!c->n++)
			printf("# playnet ssh-config %s: then 'ssh -F FILE MACHINE.%s', scp, sftp, rsync -e 'ssh -F FILE'\n",
			       c->pg, c->pg);
		printf("Host %s\n", alias);
		for (size_t i = 0; i < s.n; i++) {
			char *eq = strchr(s.v[i], '=');
			printf("    %.*s %s\n", (int)(eq - s.v[i]), s.v[i], eq + 1);
		}
	}
	ssh_opts_free(&s);
	return 0;
}

/* ssh-config P: a Host block per VM, for ~/.ssh/config or ssh -F. */
int cmd_ssh_config(const struct options *o, int argc, char **argv)
{
	if (argc != 2)
		return usage_error("usage: ssh-config P");
	if (!naming_valid_playground(argv[1]))
		return bad_name("ssh-config", argv[1]);
	struct ssh_config_ctx c = { o, argv[1], EXIT_OK, 0 };
	char why[512], key[PATH_MAX];
	snprintf(key, sizeof(key), "%s/ssh/id_ed25519", o->state_dir);
	if (vm_config_client_key(key, why, sizeof(why)) < 0) {
		fprintf(stderr, "playnet: ssh-config: %s\n", why);
		return EXIT_SYSTEM;
	}
	int e = vm_each(o->state_dir, argv[1], print_host, &c);
	if ((e == 0 && !c.n) || e == -ENOENT) {
		fprintf(stderr, "playnet: ssh-config: %s has no VMs (netns machines: playnet exec)\n",
			argv[1]);
		return EXIT_USER;
	}
	return e < 0 ? EXIT_SYSTEM : c.rc;
}

/* The VM's own init up: its sshd is one of the services it starts. */
static int wait_booted(const struct options *o, const char *pg, const char *m)
{
	char why[512];
	if (machine_wait_booted(o->state_dir, pg, m, SSH_BOOT_WAIT_MS, why, sizeof(why)) == 0)
		return EXIT_OK;
	fprintf(stderr, "playnet: ssh: %s/%s: %s\n", pg, m, why);
	return EXIT_USER;
}

/* ssh-proxy P MACHINE: stdin and stdout to the VM's sshd (ssh's
 * ProxyCommand), once the VM has booted. */
int cmd_ssh_proxy(const struct options *o, int argc, char **argv)
{
	if (argc != 3)
		return usage_error("usage: ssh-proxy P MACHINE");
	int rc = check_vm(o, "ssh", argv[1], argv[2]);
	int fd;
	if (!rc)
		rc = wait_booted(o, argv[1], argv[2]);
	if (!rc)
		rc = open_agent(o, "ssh", argv[1], argv[2], AGENT_PORT_SSH, &fd);
	if (rc)
		return rc;
	agent_relay(STDIN_FILENO, STDOUT_FILENO, fd);
	close(fd);
	return EXIT_OK;
}

/* --- cp --- */

/* "MACHINE:PATH": the machine into m, the path returned; NULL for a local
 * path (one with a '/' before any ':', as scp reads them). */
static const char *remote_path(const char *arg, char *m, size_t len)
{
	const char *colon = strchr(arg, ':');
	const char *slash = strchr(arg, '/');
	if (!colon || colon == arg || (slash && slash < colon) || (size_t)(colon - arg) >= len)
		return NULL;
	memcpy(m, arg, (size_t)(colon - arg));
	m[colon - arg] = '\0';
	return colon + 1;
}

struct download {
	int fd;
	int err;
};

static void to_file(void *ctx, int which, const char *p, size_t n)
{
	struct download *d = ctx;
	if (which == 2) {
		agent_write_all(STDERR_FILENO, p, n);
		return;
	}
	if (!d->err && agent_write_all(d->fd, p, n) < 0)
		d->err = errno;
}

static int run_cp(const struct options *o, const char *pg, const char *m, char **cmd,
		  int stdin_fd, vm_agent_sink *sink, void *ctx)
{
	int fd;
	int rc = open_agent(o, "cp", pg, m, AGENT_PORT_EXEC, &fd);
	if (rc)
		return rc;
	struct vm_agent_command c = { .argv = cmd, .stdin_fd = stdin_fd };
	struct vm_agent_result r;
	int e = vm_agent_exec(fd, &c, sink, ctx, &r);
	close(fd);
	if (e < 0 || r.how != VM_AGENT_EXITED || r.code != 0) {
		fprintf(stderr, "playnet: cp: in %s/%s: %s\n", pg, m,
			e < 0 || r.how == VM_AGENT_FAILED ? r.error : "the copy failed");
		return EXIT_USER;
	}
	return EXIT_OK;
}

static int upload(const struct options *o, const char *pg, const char *m, const char *src,
		  const char *dst)
{
	cleanup_close int fd = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "playnet: cp: %s: %s\n", src,
			fd < 0 ? strerror(errno) : "not a regular file (cp copies files; for trees: scp -r with playnet ssh-config)");
		return EXIT_USER;
	}
	char base[PATH_MAX], mode[8], to[PATH_MAX];
	snprintf(base, sizeof(base), "%s", src);
	snprintf(to, sizeof(to), "%s", dst);
	snprintf(mode, sizeof(mode), "%o", (unsigned)(st.st_mode & 07777));
	/* Into a directory: under the source's name, as cp does. */
	char *cmd[] = { "sh", "-c",
			"d=$1; [ -d \"$d\" ] && d=$d/$2; cat > \"$d\" && chmod \"$3\" \"$d\"",
			"playnet-cp", to, basename(base), mode, NULL };
	return run_cp(o, pg, m, cmd, fd, NULL, NULL);
}

static int download(const struct options *o, const char *pg, const char *m, const char *src,
		    const char *dst)
{
	char path[PATH_MAX], base[PATH_MAX];
	struct stat st;
	snprintf(base, sizeof(base), "%s", src);
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/%s", dst, basename(base));
	else
		snprintf(path, sizeof(path), "%s", dst);
	char tmp[PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.playnet-cp", path);
	struct download d = { open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), 0 };
	if (d.fd < 0) {
		fprintf(stderr, "playnet: cp: %s: %s\n", tmp, strerror(errno));
		return EXIT_USER;
	}
	char from[PATH_MAX];
	snprintf(from, sizeof(from), "%s", src);
	char *cmd[] = { "cat", "--", from, NULL };
	int rc = run_cp(o, pg, m, cmd, -1, to_file, &d);
	if (close(d.fd) < 0 && !d.err)
		d.err = errno;
	if (!rc && d.err) {
		fprintf(stderr, "playnet: cp: %s: %s\n", tmp, strerror(d.err));
		rc = EXIT_SYSTEM;
	}
	if (rc || rename(tmp, path) < 0) {
		unlink(tmp);
		return rc ? rc : EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* cp P SRC DST: one of them MACHINE:PATH. */
int cmd_cp(const struct options *o, int argc, char **argv)
{
	if (argc != 4)
		return usage_error("usage: cp P [MACHINE:]SRC [MACHINE:]DST (one side in a VM)");
	char ms[MANIFEST_HOSTNAME_MAX + 1], md[MANIFEST_HOSTNAME_MAX + 1];
	const char *rs = remote_path(argv[2], ms, sizeof(ms));
	const char *rd = remote_path(argv[3], md, sizeof(md));
	if (!rs == !rd)
		return usage_error("cp: one of SRC and DST is MACHINE:PATH, the other a local path");
	const char *m = rs ? ms : md;
	int rc = check_vm(o, "cp", argv[1], m);
	if (rc)
		return rc;
	if (rs && !*rs)
		return usage_error("cp: %s names no file", argv[2]);
	return rs ? download(o, argv[1], m, rs, argv[3]) :
		    upload(o, argv[1], m, argv[2], *rd ? rd : ".");
}
