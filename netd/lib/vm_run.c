/* Starting, stopping and watching VMMs inside a playground's namespace. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "tool.h"
#include "util.h"
#include "vm_disk.h"
#include "vm_agent.h"
#include "vm_backend.h"
#include "vm_config.h"
#include "vm_run.h"

#define READY_TIMEOUT_MS 10000
#define TERM_TIMEOUT_MS 3000
#define PROBE_TIMEOUT_MS 5000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static bool vmm_alive(const struct vm_status *st)
{
	return st->pid > 0 && vm_proc_start(st->pid) == st->start;
}

static int sock_connect(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads QMP messages (one JSON object per line) until one answers a
 * command; events in between are skipped. */
static int qmp_answer(int fd)
{
	char buf[4096];
	size_t have = 0;
	for (;;) {
		char *nl;
		while ((nl = memchr(buf, '\n', have))) {
			*nl = '\0';
			struct json_object *o = json_tokener_parse(buf);
			int e = 1;
			if (o && json_object_object_get_ex(o, "return", NULL))
				e = 0;
			else if (o && json_object_object_get_ex(o, "error", NULL))
				e = -EIO;
			json_object_put(o);
			if (e <= 0)
				return e;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf))
			have = 0; /* a line longer than any answer: an event; drop it */
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		have += (size_t)n;
	}
}

/* line: one command, a JSON object and its newline. */
static int qmp_execute(const char *path, const char *line)
{
	cleanup_close int fd = sock_connect(path);
	if (fd < 0)
		return fd;
	char greeting[1024];
	if (read(fd, greeting, sizeof(greeting)) <= 0)
		return -ECONNRESET;
	static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
	if (write(fd, caps, sizeof(caps) - 1) < 0)
		return -errno;
	int e = qmp_answer(fd);
	if (e < 0)
		return e;
	if (write(fd, line, strlen(line)) < 0)
		return -errno;
	return qmp_answer(fd);
}

static int qmp_command(const char *path, const char *command)
{
	char line[128];
	snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\n", command);
	return qmp_execute(path, line);
}

/* The guest's carrier on its interface iface (netdev n<iface>). */
static int qmp_set_link(const char *path, size_t iface, bool up)
{
	char line[128];
	snprintf(line, sizeof(line),
		 "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"n%zu\",\"up\":%s}}\n",
		 iface, up ? "true" : "false");
	return qmp_execute(path, line);
}

int vm_link(const char *state_dir, const char *pg, const char *machine, size_t iface, bool up)
{
	struct vm_paths pa;
	struct diag d = { 0 };
	int e = vm_paths_for(state_dir, pg, machine, &pa, &d);
	diag_free(&d);
	struct vm_status st;
	if (e < 0 || vm_status_read(pa.status, &st) < 0 || !vm_state_live(st.state))
		return 0; /* not running: told as it starts */
	return st.backend == VM_QEMU ? qmp_set_link(pa.api, iface, up) : 0;
}

/* The links the plan has down, told to a guest just started. */
static int tell_links(const struct vm_spec *s, struct diag *d)
{
	for (size_t i = 0; s->backend == VM_QEMU && i < s->m->n_interfaces; i++) {
		if (!s->m->interfaces[i].link_down)
			continue;
		int e = qmp_set_link(s->paths.api, i, false);
		if (e < 0) {
			diag_add(d, 0, 0, "machine %s: cannot take its eth%zu down over QMP: %s",
				 s->machine, i, strerror(-e));
			return e;
		}
	}
	return 0;
}

static size_t discard(void *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* A PUT to the VMM's HTTP API on its unix socket. */
static int api_put(const char *sock, const char *path, const char *body)
{
	CURL *h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	char url[256];
	snprintf(url, sizeof(url), "http://localhost%s", path);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 2L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	long code = 0;
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc == CURLE_OK && code / 100 == 2 ? 0 : -EIO;
}

/* The guest's power button: ACPI through QMP for QEMU, Ctrl-Alt-Del for
 * Firecracker (its only graceful stop), the API's power button for Cloud
 * Hypervisor. */
static int power_button(enum vm_backend b, const char *api)
{
	switch (b) {
	case VM_QEMU:
		return qmp_command(api, "system_powerdown");
	case VM_FIRECRACKER:
		return api_put(api, "/actions", "{\"action_type\": \"SendCtrlAltDel\"}");
	case VM_CLOUD_HYPERVISOR:
		return api_put(api, "/api/v1/vm.power-button", "");
	}
	return -EINVAL;
}

/* --- the supervisor --- */

static void stop_marker(const struct vm_paths *pa, char out[PATH_MAX + 8])
{
	snprintf(out, PATH_MAX + 8, "%s.stop", pa->status);
}

static void describe_exit(int ws, bool asked, char *out, size_t len)
{
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		snprintf(out, len, asked ? "stopped" : "the guest powered off");
	else if (WIFEXITED(ws))
		snprintf(out, len, "exit status %d", WEXITSTATUS(ws));
	else if (WIFSIGNALED(ws))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(ws), strsignal(WTERMSIG(ws)));
	else
		snprintf(out, len, "ended");
}

static void __attribute__((noreturn))
exec_vmm(const struct vm_paths *pa, char *const *argv)
{
	int in = open("/dev/null", O_RDONLY);
	int out = open(pa->vmm_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	dprintf(2, "vmlaunch: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Runs in the grandchild: enters the namespace, starts the VMM, says so
 * on ready, and waits to record how it ended. A VMM that exits on its own
 * with status 0 was powered off from inside; a stop asked for leaves a
 * marker; anything else is a crash. */
static void __attribute__((noreturn))
supervise(const struct vm_spec *s, char *const *argv, int ready)
{
	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int ns = netns_open(s->netns);
	if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
		_exit(1);
	close(ns);
	/* Under QEMU the supervisor carries the agent's streams; under the
	 * others their vsock device listens itself. */
	int agent = -1;
	if (s->default_initrd && s->backend == VM_QEMU &&
	    (agent = vm_agent_listen(s->paths.agent)) < 0)
		_exit(1);
	pid_t vmm = fork();
	if (vmm < 0)
		_exit(1);
	if (vmm == 0)
		exec_vmm(&s->paths, argv);

	struct vm_status st = {
		.state = VM_RUNNING,
		.backend = s->backend,
		.accel = s->accel,
		.pid = vmm,
		.start = vm_proc_start(vmm),
		.supervisor = getpid(),
	};
	if (vm_status_write(s->paths.status, &st) < 0) {
		kill(vmm, SIGKILL);
		_exit(1);
	}
	/* A launcher that went away meanwhile changes nothing: the VM runs on. */
	ssize_t told = write(ready, "1", 1);
	(void)told;
	close(ready);

	if (agent >= 0) {
		int pidfd = (int)syscall(SYS_pidfd_open, vmm, 0);
		if (pidfd >= 0) {
			vm_agent_serve(agent, s->paths.vport, pidfd);
			close(pidfd);
		}
		close(agent);
	}
	int ws = 0;
	while (waitpid(vmm, &ws, 0) < 0 && errno == EINTR)
		;
	char marker[PATH_MAX + 8];
	stop_marker(&s->paths, marker);
	bool asked = access(marker, F_OK) == 0;
	describe_exit(ws, asked, st.reason, sizeof(st.reason));
	st.state = asked || (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) ? VM_STOPPED : VM_CRASHED;
	vm_status_write(s->paths.status, &st);
	unlink(marker);
	unlink(s->paths.console);
	unlink(s->paths.api);
	unlink(s->paths.agent);
	unlink(s->paths.vport);
	_exit(0);
}

/* Forks twice so that the supervisor belongs to init, not to whoever
 * launched it (playnet exits; netd never waits for it). */
static int spawn_supervisor(const struct vm_spec *s, char *const *argv, int *ready_rd)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid_t mid = fork();
	if (mid < 0) {
		int e = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (mid == 0) {
		close(pfd[0]);
		if (fork() == 0) {
			/* Nothing of the launcher's stays open in a daemon. */
			if (pfd[1] != 3 && (dup3(pfd[1], 3, 0) < 0 || close(pfd[1]) < 0))
				_exit(1);
			close_range(4, ~0U, 0);
			int devnull = open("/dev/null", O_RDWR);
			if (devnull >= 0) {
				dup2(devnull, 0);
				dup2(devnull, 1);
				dup2(devnull, 2);
				if (devnull > 2)
					close(devnull);
			}
			supervise(s, argv, 3);
		}
		_exit(0);
	}
	close(pfd[1]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	*ready_rd = pfd[0];
	return 0;
}

/* The last lines the VMM printed, for an error message. */
static void vmm_log_tail(const char *path, char *out, size_t len)
{
	out[0] = '\0';
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)len - 1 ? end - (off_t)len + 1 : 0;
	ssize_t n = pread(fd, out, len - 1, from);
	if (n <= 0)
		return;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/* Up once its control socket answers; the console socket is made first. */
static int wait_ready(const struct vm_spec *s, struct diag *d)
{
	for (unsigned waited = 0; waited < READY_TIMEOUT_MS; waited += 20) {
		struct vm_status st;
		if (vm_status_read(s->paths.status, &st) == 0 && st.state != VM_RUNNING) {
			char tail[512];
			vmm_log_tail(s->paths.vmm_log, tail, sizeof(tail));
			diag_add(d, 0, 0, "machine %s: %s ended at once (%s): %s", s->machine,
				 vm_backend_name(s->backend), st.reason, tail[0] ? tail : "no output");
			return -EIO;
		}
		int fd = sock_connect(s->paths.api);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		sleep_ms(20);
	}
	diag_add(d, 0, 0, "machine %s: %s did not open %s within %d s", s->machine,
		 vm_backend_name(s->backend), s->paths.api, READY_TIMEOUT_MS / 1000);
	return -ETIMEDOUT;
}

static int write_file(const char *path, const char *text)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	return write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
}

static int launch(const struct vm_spec *s, const char *vmm, struct diag *d)
{
	for (size_t i = 0; i < s->n_disks; i++) {
		char why[1024];
		int e = vm_disk_make(&s->disks[i], why, sizeof(why));
		if (e < 0) {
			diag_add(d, 0, 0, "machine %s: disk %s: %s", s->machine, s->disks[i].path, why);
			return e;
		}
	}
	if (s->default_initrd) {
		char why[1024];
		int e = vm_config_make(s, why, sizeof(why));
		if (e < 0) {
			diag_add(d, 0, 0, "machine %s: its config disk: %s", s->machine, why);
			return e;
		}
	}
	struct vm_argv a;
	int e = vm_backend_argv(s, vmm, &a);
	if (e < 0)
		return e;
	if (s->backend == VM_FIRECRACKER) {
		cleanup_free char *cfg = NULL;
		if ((e = vm_backend_firecracker_config(s, &cfg)) < 0 ||
		    (e = write_file(s->paths.config, cfg)) < 0) {
			diag_add(d, 0, 0, "machine %s: cannot write %s: %s", s->machine,
				 s->paths.config, strerror(-e));
			goto out;
		}
	}
	char marker[PATH_MAX + 8];
	stop_marker(&s->paths, marker);
	unlink(marker);
	unlink(s->paths.console);
	unlink(s->paths.api);
	unlink(s->paths.agent);
	unlink(s->paths.vport);
	unlink(s->paths.status);
	int ready = -1;
	if ((e = spawn_supervisor(s, a.v, &ready)) < 0) {
		diag_add(d, 0, 0, "machine %s: cannot fork: %s", s->machine, strerror(-e));
		goto out;
	}
	char c;
	ssize_t n = read(ready, &c, 1);
	close(ready);
	if (n != 1) {
		diag_add(d, 0, 0, "machine %s: its supervisor could not enter %s or write %s",
			 s->machine, s->netns, s->paths.status);
		e = -EIO;
		goto out;
	}
	if ((e = wait_ready(s, d)) == 0)
		e = tell_links(s, d);
out:
	vm_argv_free(&a);
	return e;
}

/* --- checks before anything starts --- */

static bool is_elf(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char b[4];
	return fd >= 0 && read(fd, b, 4) == 4 && memcmp(b, "\x7f" "ELF", 4) == 0;
}

static int check_file(const struct vm_spec *s, const char *what, const char *path,
		      struct diag *d)
{
	if (access(path, R_OK) == 0)
		return 0;
	int e = errno;
	if (s->default_guest)
		diag_add(d, 0, 0, "machine %s: the default guest's %s %s: %s (build it with scripts/build-guest.sh, or give the machine a kernel drive)",
			 s->machine, what, path, strerror(e));
	else
		diag_add(d, 0, 0, "machine %s: %s %s: %s", s->machine, what, path, strerror(e));
	return -EINVAL;
}

/* A disk's base is there to be read, and the tool that makes its own
 * file is installed. */
static int check_disk(const struct vm_spec *s, const struct vm_disk *dk, struct diag *d)
{
	const char *pkg, *tool = vm_disk_tool(dk, &pkg);
	if (tool && !tool_present(tool)) {
		diag_add(d, 0, 0, "machine %s: %s is not installed: run scripts/install-deps.sh (%s)",
			 s->machine, tool, pkg);
		return -EINVAL;
	}
	if (dk->blank || dk->image)
		return 0;
	return check_file(s, "disk", dk->base, d);
}

static int check_spec(const struct vm_spec *s, const char *vmm, struct diag *d)
{
	int e = check_file(s, "kernel", s->kernel, d);
	if (!e && s->initrd)
		e = check_file(s, "initramfs", s->initrd, d);
	for (size_t i = 0; !e && i < s->n_disks; i++)
		e = check_disk(s, &s->disks[i], d);
	if (e)
		return e;
	/* Neither boots a bzImage on x86: they want an ELF vmlinux. */
	if (s->backend != VM_QEMU && !is_elf(s->kernel)) {
		diag_add(d, 0, 0, "machine %s: %s boots an uncompressed ELF kernel (vmlinux); %s is not one",
			 s->machine, vm_backend_name(s->backend), s->kernel);
		return -EINVAL;
	}
	const char *prog = vm_backend_program(s->backend, vmm);
	if (tool_present(prog))
		return 0;
	diag_add(d, 0, 0, "%s is not installed (not found in PATH)%s", prog,
		 s->backend == VM_QEMU ? ": run scripts/install-deps.sh" : "");
	return -EINVAL;
}

static bool wanted(const char *machine, const char *const *only, size_t n_only)
{
	for (size_t i = 0; i < n_only; i++)
		if (strcmp(only[i], machine) == 0)
			return true;
	return n_only == 0;
}

static bool running(const struct vm_spec *s)
{
	struct vm_status st;
	return vm_status_read(s->paths.status, &st) == 0 && vm_state_live(st.state);
}

static int check_only(const struct plan *p, const char *const *only, size_t n_only, struct diag *d)
{
	for (size_t i = 0; i < n_only; i++) {
		size_t j = 0;
		while (j < p->n_machines && strcmp(p->machines[j].name, only[i]) != 0)
			j++;
		if (j == p->n_machines) {
			diag_add(d, 0, 0, "playground %s has no machine '%s'", p->name, only[i]);
			return -EINVAL;
		}
		if (p->machines[j].runtime != MANIFEST_RUNTIME_VM) {
			diag_add(d, 0, 0, "machine %s is a netns machine, not a VM", only[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int mkdir_p2(const char *state_dir, const char *dir)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s/vm", state_dir);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void free_specs(struct vm_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vm_spec_free(&specs[i]);
	free(specs);
}

/* The specs of the VMs to start, all checked; n is how many. */
static int prepare(const char *state_dir, const struct plan *p, const struct vm_options *o,
		   const char *const *only, size_t n_only, struct vm_spec **out, size_t *n,
		   struct diag *d)
{
	*n = 0;
	int e = check_only(p, only, n_only, d);
	if (e)
		return e;
	struct vm_spec *specs = calloc(p->n_machines ? p->n_machines : 1, sizeof(*specs));
	if (!specs)
		return -ENOMEM;
	for (size_t i = 0; !e && i < p->n_machines; i++) {
		const struct plan_machine *m = &p->machines[i];
		if (m->runtime != MANIFEST_RUNTIME_VM || !wanted(m->name, only, n_only))
			continue;
		struct vm_spec *s = &specs[*n];
		if ((e = vm_spec_build(state_dir, p, i, o, s, d)) < 0)
			break;
		(*n)++;
		if (running(s)) {
			vm_spec_free(s);
			(*n)--;
			continue;
		}
		e = check_spec(s, o->vmm, d);
		if (!e)
			e = vm_spec_images(s, o, d);
	}
	if (e) {
		free_specs(specs, *n);
		*n = 0;
		return e;
	}
	*out = specs;
	return 0;
}

static int stop_vms(const char *state_dir, const char *playground, unsigned grace_ms, FILE *out,
		    const char *const *only, size_t n_only);

int vm_check(const char *state_dir, const struct plan *p, const struct vm_options *o,
	     struct diag *d)
{
	struct vm_spec *specs = NULL;
	size_t n = 0;
	int e = prepare(state_dir, p, o, NULL, 0, &specs, &n, d);
	if (!e)
		free_specs(specs, n);
	return e;
}

int vm_start(const char *state_dir, const struct plan *p, const struct vm_options *o,
	     const char *const *only, size_t n_only, FILE *out, struct diag *d)
{
	if (!netns_exists(p->netns)) {
		diag_add(d, 0, 0, "playground %s has no namespace %s: bring it up first",
			 p->name, p->netns);
		return -EINVAL;
	}
	struct vm_spec *specs = NULL;
	size_t n = 0;
	int e = prepare(state_dir, p, o, only, n_only, &specs, &n, d);
	if (e)
		return e;
	size_t started = 0;
	if (n && (e = mkdir_p2(state_dir, specs[0].paths.dir)) < 0) {
		diag_add(d, 0, 0, "cannot make %s: %s", specs[0].paths.dir, strerror(-e));
		goto out;
	}
	for (size_t i = 0; !e && i < n; i++)
		if ((e = vm_resolve_accel(state_dir, o->vmm, &specs[i])) < 0)
			diag_add(d, 0, 0, "machine %s: the kernel command line would be too long",
				 specs[i].machine);
	for (; !e && started < n; started++) {
		struct vm_spec *s = &specs[started];
		if ((e = launch(s, o->vmm, d)) < 0)
			break;
		if (out)
			fprintf(out, "%s: %s (%s, %u CPU, %llu MiB), console %s\n", s->machine,
				vm_backend_name(s->backend),
				s->backend == VM_QEMU ? vm_accel_name(s->accel) : "-", s->cpus,
				(unsigned long long)s->mem_mib, s->paths.console);
	}
	if (e < 0 && started) {
		const char *names[started];
		for (size_t i = 0; i < started; i++)
			names[i] = specs[i].machine;
		stop_vms(state_dir, p->name, 0, NULL, names, started);
	}
out:
	free_specs(specs, n);
	return e < 0 ? e : (int)started;
}

/* --- stopping and listing --- */

struct vm_entry {
	char machine[MANIFEST_HOSTNAME_MAX + 1];
	struct vm_paths paths;
	struct vm_status st;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct vm_entry *)a)->machine, ((const struct vm_entry *)b)->machine);
}

/* The VMs with a status file in STATE/vm/P, sorted by name. */
static int list_vms(const char *state_dir, const char *pg, struct vm_entry **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	char dir[PATH_MAX];
	if (vm_dir(state_dir, pg, dir) < 0)
		return -ENAMETOOLONG;
	DIR *dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	struct vm_entry *v = NULL;
	size_t cap = 0;
	int e = 0;
	struct dirent *de;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);
		if (len <= 7 || strcmp(de->d_name + len - 7, ".status") != 0 ||
		    len - 7 > MANIFEST_HOSTNAME_MAX)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct vm_entry *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				e = -ENOMEM;
				break;
			}
			v = nv;
		}
		struct vm_entry *en = &v[*n];
		memset(en, 0, sizeof(*en));
		memcpy(en->machine, de->d_name, len - 7);
		struct diag d = { 0 };
		if (vm_paths_for(state_dir, pg, en->machine, &en->paths, &d) < 0 ||
		    vm_status_read(en->paths.status, &en->st) < 0) {
			diag_free(&d);
			continue;
		}
		diag_free(&d);
		(*n)++;
	}
	closedir(dh);
	if (e) {
		free(v);
		*n = 0;
		return e;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_entry);
	*out = v;
	return 0;
}

int vm_each(const char *state_dir, const char *playground,
	    int (*fn)(const char *machine, const struct vm_status *st, void *arg), void *arg)
{
	struct vm_entry *v;
	size_t n;
	int e = list_vms(state_dir, playground, &v, &n);
	for (size_t i = 0; !e && i < n; i++)
		e = fn(v[i].machine, &v[i].st, arg);
	free(v);
	return e;
}

static bool any_alive(struct vm_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vmm_alive(&v[i].st))
			return true;
	return false;
}

static void wait_gone(struct vm_entry *v, size_t n, unsigned ms)
{
	for (unsigned waited = 0; waited < ms && any_alive(v, n); waited += 20)
		sleep_ms(20);
}

static void signal_all(struct vm_entry *v, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (vmm_alive(&v[i].st))
			kill(v[i].st.pid, sig);
}

/* The supervisor writes the last word; wait for it, or write it for a
 * supervisor that is gone. */
static void settle(struct vm_entry *en)
{
	for (unsigned waited = 0; waited < TERM_TIMEOUT_MS; waited += 20) {
		struct vm_status st;
		if (vm_status_read(en->paths.status, &st) < 0 || !vm_state_live(st.state))
			return;
		if (st.supervisor <= 0 || kill(st.supervisor, 0) < 0)
			break;
		sleep_ms(20);
	}
	en->st.state = VM_STOPPED;
	snprintf(en->st.reason, sizeof(en->st.reason), "stopped");
	vm_status_write(en->paths.status, &en->st);
}

static int stop_vms(const char *state_dir, const char *playground, unsigned grace_ms, FILE *out,
		    const char *const *only, size_t n_only)
{
	struct vm_entry *v;
	size_t n;
	int e = list_vms(state_dir, playground, &v, &n);
	if (e < 0)
		return e;
	size_t live = 0;
	for (size_t i = 0; i < n; i++) {
		if (!vmm_alive(&v[i].st) || !wanted(v[i].machine, only, n_only)) {
			v[i].st.pid = 0;
			continue;
		}
		char marker[PATH_MAX + 8];
		stop_marker(&v[i].paths, marker);
		int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		if (grace_ms && power_button(v[i].st.backend, v[i].paths.api) < 0)
			kill(v[i].st.pid, SIGTERM);
		live++;
	}
	if (grace_ms)
		wait_gone(v, n, grace_ms);
	signal_all(v, n, SIGTERM);
	wait_gone(v, n, TERM_TIMEOUT_MS);
	signal_all(v, n, SIGKILL);
	wait_gone(v, n, TERM_TIMEOUT_MS);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].st.pid)
			continue;
		settle(&v[i]);
		if (out) {
			struct vm_status st;
			vm_status_read(v[i].paths.status, &st);
			fprintf(out, "%s: %s\n", v[i].machine, st.reason);
		}
	}
	free(v);
	return (int)live;
}

int vm_stop(const char *state_dir, const char *playground, unsigned grace_ms, FILE *out)
{
	return stop_vms(state_dir, playground, grace_ms, out, NULL, 0);
}

int vm_restart(const char *state_dir, const struct plan *p, const struct vm_options *o,
	       const char *machine, FILE *out, struct diag *d)
{
	const char *const only[] = { machine };
	int e = stop_vms(state_dir, p->name, 0, NULL, only, 1);
	if (e < 0) {
		diag_add(d, 0, 0, "machine %s: cannot stop it: %s", machine, strerror(-e));
		return e;
	}
	return vm_start(state_dir, p, o, only, 1, out, d);
}

int vm_remove(const char *state_dir, const char *playground)
{
	vm_stop(state_dir, playground, 0, NULL);
	char dir[PATH_MAX];
	if (vm_dir(state_dir, playground, dir) < 0)
		return -ENAMETOOLONG;
	DIR *dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(dh), de->d_name, 0);
	closedir(dh);
	return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

/* --- choosing KVM or TCG --- */

static bool probe_cached(const char *cache, const char *key, bool *kvm)
{
	char line[PATH_MAX + 128];
	cleanup_fclose FILE *f = fopen(cache, "re");
	if (!f)
		return false;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*kvm = strncmp(line + klen + 1, "kvm", 3) == 0;
			return true;
		}
	return false;
}

/* Boots kernel under KVM with an init that does not exist: a kernel that
 * works gets to its panic, reboots, and QEMU (-no-reboot) exits 0 within
 * a second or so; on this kind of machine a stock kernel hangs instead. */
static bool probe_kvm(const char *qemu, const char *kernel, const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		char serial[PATH_MAX + 8];
		snprintf(serial, sizeof(serial), "file:%s", log);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp(qemu, qemu, "-accel", "kvm", "-cpu", "host", "-M", "microvm", "-m", "128",
		       "-no-user-config", "-display", "none", "-monitor", "none", "-net", "none",
		       "-no-reboot", "-kernel", kernel, "-append",
		       "console=ttyS0 panic=-1 reboot=t rdinit=/playnet-kvm-probe", "-serial",
		       serial, (char *)NULL);
		_exit(127);
	}
	int ws = 0;
	for (unsigned waited = 0; waited < PROBE_TIMEOUT_MS; waited += 20) {
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			char buf[65536];
			cleanup_close int fd = open(log, O_RDONLY | O_CLOEXEC);
			ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && strstr(buf, "Kernel panic");
		}
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return false;
}

enum vm_accel vm_accel_detect(const char *state_dir, const char *qemu, const char *kernel)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return VM_ACCEL_TCG;
	close(fd);
	qemu = vm_backend_program(VM_QEMU, qemu);
	struct stat st;
	if (stat(kernel, &st) < 0)
		return VM_ACCEL_TCG;
	char key[PATH_MAX + 64], cache[PATH_MAX], log[PATH_MAX];
	snprintf(key, sizeof(key), "%s:%lld:%lld", kernel, (long long)st.st_size,
		 (long long)st.st_mtime);
	snprintf(cache, sizeof(cache), "%s/vm/kvm-probe", state_dir);
	snprintf(log, sizeof(log), "%s/vm/kvm-probe.log", state_dir);
	bool kvm;
	if (probe_cached(cache, key, &kvm))
		return kvm ? VM_ACCEL_KVM : VM_ACCEL_TCG;
	kvm = probe_kvm(qemu, kernel, log);
	unlink(log);
	FILE *f = fopen(cache, "ae");
	if (f) {
		fprintf(f, "%s %s\n", key, kvm ? "kvm" : "tcg");
		fclose(f);
	}
	return kvm ? VM_ACCEL_KVM : VM_ACCEL_TCG;
}

/* The host's TSC rate, which a TCG guest's TSC runs at: the first
 * "cpu MHz" of /proc/cpuinfo. 0 when unknown. */
static unsigned host_tsc_khz(void)
{
	cleanup_fclose FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1 && mhz > 0 && mhz < 1e6)
			return (unsigned)(mhz * 1000);
	return 0;
}

int vm_resolve_accel(const char *state_dir, const char *vmm, struct vm_spec *s)
{
	if (s->backend != VM_QEMU)
		return 0;
	enum vm_accel a = s->accel;
	if (a == VM_ACCEL_AUTO)
		a = vm_accel_detect(state_dir, vmm, s->kernel);
	return vm_spec_set_accel(s, a, a == VM_ACCEL_TCG ? host_tsc_khz() : 0);
}
