/* The agent's channel end to end without a VM: a "guest" process serves
 * the mux (agent_serve_port) on a unix socket standing for QEMU's
 * virtio-serial port, a "supervisor" carries clients' streams over it
 * (vm_agent_serve), and clients run commands (vm_agent_connect,
 * vm_agent_exec) as playnet exec does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "agent_proto.h"
#include "vm_agent.h"

struct world {
	char dir[64];
	char agent[128], vport[128];
	pid_t guest, vmm, supervisor;
};

static struct world W;

static int listen_at(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
		return -1;
	return fd;
}

static int setup(void **state)
{
	(void)state;
	snprintf(W.dir, sizeof(W.dir), "/tmp/pn-agent.XXXXXX");
	if (!mkdtemp(W.dir))
		return -1;
	snprintf(W.agent, sizeof(W.agent), "%s/m.agent", W.dir);
	snprintf(W.vport, sizeof(W.vport), "%s/m.vport", W.dir);
	int port = listen_at(W.vport); /* as QEMU's chardev, server=on */
	if (port < 0)
		return -1;
	if ((W.guest = fork()) == 0) {
		int fd = accept4(port, NULL, NULL, SOCK_NONBLOCK);
		close(port);
		agent_serve_port(fd, false);
		_exit(0);
	}
	close(port);
	if ((W.vmm = fork()) == 0) {
		pause();
		_exit(0);
	}
	int lfd = vm_agent_listen(W.agent);
	if (lfd < 0)
		return -1;
	if ((W.supervisor = fork()) == 0) {
		int pidfd = (int)syscall(SYS_pidfd_open, W.vmm, 0);
		vm_agent_serve(lfd, W.vport, pidfd);
		_exit(0);
	}
	close(lfd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kill(W.vmm, SIGKILL);
	waitpid(W.vmm, NULL, 0);
	waitpid(W.supervisor, NULL, 0); /* it ends with the VMM, */
	waitpid(W.guest, NULL, 0);      /* and the guest with its port */
	unlink(W.agent);
	unlink(W.vport);
	rmdir(W.dir);
	return 0;
}

struct output {
	char out[4096], err[4096];
	size_t n_out, n_err;
	size_t total;
};

static void collect(void *ctx, int which, const char *p, size_t n)
{
	struct output *o = ctx;
	char *buf = which == 1 ? o->out : o->err;
	size_t *len = which == 1 ? &o->n_out : &o->n_err;
	size_t room = sizeof(o->out) - 1 - *len;
	memcpy(buf + *len, p, n < room ? n : room);
	*len += n < room ? n : room;
	buf[*len] = '\0';
	o->total += n;
}

static int run(struct vm_agent_command *c, struct output *o, struct vm_agent_result *r)
{
	char why[256];
	int fd = vm_agent_connect(W.agent, AGENT_PORT_EXEC, 10000, why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "connect: %s\n", why);
		return fd;
	}
	memset(o, 0, sizeof(*o));
	c->stdin_fd = c->stdin_fd ? c->stdin_fd : -1;
	int e = vm_agent_exec(fd, c, collect, o, r);
	close(fd);
	return e;
}

static void t_exec_status_and_streams(void **state)
{
	(void)state;
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 7", NULL };
	struct vm_agent_command c = { .argv = argv };
	struct output o;
	struct vm_agent_result r;
	assert_int_equal(run(&c, &o, &r), 0);
	assert_int_equal(r.how, VM_AGENT_EXITED);
	assert_int_equal(r.code, 7);
	assert_string_equal(o.out, "out\n");
	assert_string_equal(o.err, "err\n");
	assert_int_equal(vm_agent_exit_code(&r), 7);

	char *ok[] = { "true", NULL };
	c.argv = ok;
	assert_int_equal(run(&c, &o, &r), 0);
	assert_int_equal(vm_agent_exit_code(&r), 0);

	char *missing[] = { "no-such-program-here", NULL };
	c.argv = missing;
	assert_int_equal(run(&c, &o, &r), 0);
	assert_int_equal(vm_agent_exit_code(&r), 127);
	assert_non_null(strstr(o.err, "no-such-program-here"));
}

static void t_exec_stdin_and_volume(void **state)
{
	(void)state;
	char *cat[] = { "cat", NULL };
	struct vm_agent_command c = { .argv = cat, .stdin_data = "hello, agent", .stdin_len = 12 };
	struct output o;
	struct vm_agent_result r;
	assert_int_equal(run(&c, &o, &r), 0);
	assert_string_equal(o.out, "hello, agent");

	/* Ten windows' worth: credits must flow back for it to finish. */
	char *big[] = { "head", "-c", "2621440", "/dev/zero", NULL };
	struct vm_agent_command b = { .argv = big };
	assert_int_equal(run(&b, &o, &r), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(o.total, 2621440);
}

static void t_exec_timeout_user_signal(void **state)
{
	(void)state;
	char *slow[] = { "sleep", "30", NULL };
	struct vm_agent_command c = { .argv = slow, .timeout_s = 1 };
	struct output o;
	struct vm_agent_result r;
	assert_int_equal(run(&c, &o, &r), 0);
	assert_int_equal(r.how, VM_AGENT_TIMED_OUT);
	assert_int_equal(vm_agent_exit_code(&r), 124);

	char *self_kill[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct vm_agent_command k = { .argv = self_kill };
	assert_int_equal(run(&k, &o, &r), 0);
	assert_int_equal(r.how, VM_AGENT_SIGNALED);
	assert_int_equal(vm_agent_exit_code(&r), 128 + SIGTERM);

	char *id[] = { "id", "-u", NULL };
	struct vm_agent_command u = { .argv = id, .user = "no-such-user" };
	assert_int_equal(run(&u, &o, &r), 0);
	assert_int_equal(r.how, VM_AGENT_FAILED);
	assert_non_null(strstr(r.error, "no user no-such-user"));

	/* Refused at once, while stdin still comes: the refusal still
	 * arrives (its server hung up; what it said is read first). */
	static char lots[512 * 1024];
	u.stdin_data = lots;
	u.stdin_len = sizeof(lots);
	assert_int_equal(run(&u, &o, &r), 0);
	assert_int_equal(r.how, VM_AGENT_FAILED);
	assert_non_null(strstr(r.error, "no user no-such-user"));
}

/* Streams at once, each its own; a port nobody serves is refused. */
static void t_streams_at_once_and_refusal(void **state)
{
	(void)state;
	char why[256];
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = vm_agent_connect(W.agent, AGENT_PORT_EXEC, 10000, why, sizeof(why));
		assert_true(fds[i] >= 0);
	}
	for (int i = 2; i >= 0; i--) {
		char script[64];
		snprintf(script, sizeof(script), "echo stream-%d", i);
		char *argv[] = { "sh", "-c", script, NULL };
		struct vm_agent_command c = { .argv = argv, .stdin_fd = -1 };
		struct output o = { 0 };
		struct vm_agent_result r;
		assert_int_equal(vm_agent_exec(fds[i], &c, collect, &o, &r), 0);
		char want[32];
		snprintf(want, sizeof(want), "stream-%d\n", i);
		assert_string_equal(o.out, want);
		close(fds[i]);
	}
	int fd = vm_agent_connect(W.agent, 4242, 10000, why, sizeof(why));
	assert_int_equal(fd, -ECONNREFUSED);
	assert_string_equal(why, "no such port");
}

/* A reader slower than the command: the command ends while its stream
 * has no credit left, and its end still comes, after all of its output. */
static void t_end_waits_for_credit(void **state)
{
	(void)state;
	char why[256];
	int fd = vm_agent_connect(W.agent, AGENT_PORT_EXEC, 10000, why, sizeof(why));
	assert_true(fd >= 0);
	char *argv[] = { "head", "-c", "307200", "/dev/zero", NULL };
	char *req;
	size_t len;
	assert_int_equal(agent_request_encode(argv, NULL, 0, NULL, &req, &len), 0);
	assert_int_equal(agent_send(fd, AGENT_REQUEST, req, len), 0);
	assert_int_equal(agent_send(fd, AGENT_STDIN_END, NULL, 0), 0);
	free(req);
	sleep(1); /* the window fills, the command ends, its server hangs up */
	size_t out = 0;
	bool ended = false;
	while (!ended) {
		enum agent_exec_type type;
		char *p;
		size_t n;
		assert_int_equal(agent_recv(fd, &type, &p, &n), 0);
		if (type == AGENT_STDOUT)
			out += n;
		if (type == AGENT_EXIT) {
			assert_string_equal(p, "exit 0");
			ended = true;
		}
		free(p);
	}
	assert_int_equal(out, 307200);
	close(fd);
}

/* Three streams at once, each reading a few windows' worth in turns. */
static void t_streams_in_parallel(void **state)
{
	(void)state;
	pid_t kids[3];
	for (int i = 0; i < 3; i++) {
		if ((kids[i] = fork()) == 0) {
			char *big[] = { "head", "-c", "1048576", "/dev/urandom", NULL };
			struct vm_agent_command c = { .argv = big };
			struct output o;
			struct vm_agent_result r;
			_exit(run(&c, &o, &r) == 0 && r.how == VM_AGENT_EXITED && r.code == 0 &&
					      o.total == 1048576 ? 0 : 1);
		}
	}
	for (int i = 0; i < 3; i++) {
		int ws;
		assert_int_equal(waitpid(kids[i], &ws, 0), kids[i]);
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	}
}

/* A client that goes takes its command with it. */
static void t_client_gone_kills(void **state)
{
	(void)state;
	char pidfile[160];
	snprintf(pidfile, sizeof(pidfile), "%s/pid", W.dir);
	char script[256];
	snprintf(script, sizeof(script), "echo $$ > %s; exec sleep 60", pidfile);
	char why[256];
	int fd = vm_agent_connect(W.agent, AGENT_PORT_EXEC, 10000, why, sizeof(why));
	assert_true(fd >= 0);
	char req[512];
	int n = snprintf(req, sizeof(req), "a:sh%ca:-c%ca:%s%c", 0, 0, script, 0);
	assert_int_equal(agent_send(fd, AGENT_REQUEST, req, (size_t)n), 0);
	pid_t pid = 0;
	for (int i = 0; i < 100 && !pid; i++) {
		FILE *f = fopen(pidfile, "r");
		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		usleep(50000);
	}
	assert_true(pid > 0);
	close(fd);
	bool gone = false;
	for (int i = 0; i < 100 && !gone; i++) {
		gone = kill(pid, 0) < 0 && errno == ESRCH;
		usleep(50000);
	}
	assert_true(gone);
	unlink(pidfile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_exec_status_and_streams),
		cmocka_unit_test(t_exec_stdin_and_volume),
		cmocka_unit_test(t_exec_timeout_user_signal),
		cmocka_unit_test(t_streams_at_once_and_refusal),
		cmocka_unit_test(t_end_waits_for_credit),
		cmocka_unit_test(t_streams_in_parallel),
		cmocka_unit_test(t_client_gone_kills),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
