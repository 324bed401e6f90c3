/* The console relay: two file descriptors each way, poll, and a raw tty. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "agent_proto.h"
#include "util.h"
#include "vm.h"
#include "vm_agent.h"
#include "vm_console.h"

#define ESCAPE_KEY 0x1d /* Ctrl-] as telnet and virsh console use it */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies one read from 'from' to 'to'; 0 at the end, 1 when on a terminal
 * the escape key came, -errno on error. */
static int pump(int from, int to, bool tty_in)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR ? 2 : -errno;
	if (n == 0)
		return 0;
	if (tty_in) {
		char *esc = memchr(buf, ESCAPE_KEY, (size_t)n);
		if (esc) {
			write_all(to, buf, (size_t)(esc - buf));
			return 1;
		}
	}
	int e = write_all(to, buf, (size_t)n);
	return e < 0 ? e : 2;
}

/* 1 when the escape key came, 0 when the console's side ended (or, from
 * a pipe, the input and then the answers), -errno on error. */
static int relay(int sock, bool tty, unsigned linger_ms)
{
	bool in_open = true;
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int r = poll(p, in_open ? 2 : 1, in_open ? -1 : (int)linger_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : 0; /* quiet after the input ended */
		if (p[0].revents) {
			int e = pump(sock, 1, false);
			if (e <= 0)
				return e;
		}
		if (in_open && p[1].revents) {
			int e = pump(0, sock, tty);
			if (e == 1 || e < 0)
				return e;
			/* No half-close: QEMU drops a client whose side reads EOF. */
			if (e == 0)
				in_open = false;
		}
	}
}

int vm_console_attach(const char *path, unsigned linger_ms)
{
	cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	struct termios saved, raw;
	bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
	if (tty) {
		fputs("connected; Ctrl-] leaves the console\r\n", stderr);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	int e = relay(sock, tty, linger_ms);
	if (tty) {
		tcsetattr(0, TCSANOW, &saved);
		fputs(e == 1 ? "\nleft the console (Ctrl-]); the VM runs on\n" :
		      e == 0 ? "\nthe console closed: its VM stopped or restarted\n" : "\n",
		      stderr);
	}
	return e < 0 ? e : 0;
}

/* The terminal's size, told to the guest's serial console (through its
 * agent, when it is up) so that full-screen programs fit; a serial line
 * carries no size of its own. */
static void tell_size(const struct vm_paths *pa)
{
	struct winsize ws;
	if (!isatty(STDIN_FILENO) || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row ||
	    !ws.ws_col)
		return;
	char why[128], rows[16], cols[16];
	int fd = vm_agent_connect(pa->agent, AGENT_PORT_EXEC, 0, why, sizeof(why));
	if (fd < 0)
		return;
	snprintf(rows, sizeof(rows), "%u", ws.ws_row);
	snprintf(cols, sizeof(cols), "%u", ws.ws_col);
	char *argv[] = { "stty", "-F", "/dev/ttyS0", "rows", rows, "cols", cols, NULL };
	struct vm_agent_command c = { .argv = argv, .timeout_s = 5, .stdin_fd = -1 };
	struct vm_agent_result r;
	vm_agent_exec(fd, &c, vm_agent_discard, NULL, &r);
	close(fd);
}

int vm_console_machine(const char *state_dir, const char *pg, const char *m,
		       struct diag *d)
{
	struct vm_paths pa;
	int e = vm_paths_for(state_dir, pg, m, &pa, d);
	if (e < 0)
		return e;
	/* The VMM serves one client at a time and leaves the next waiting
	 * unseen: a second session is refused, never queued. */
	if (access(pa.console, F_OK) < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	char lock[PATH_MAX];
	snprintf(lock, sizeof(lock), "%s.lock", pa.console);
	cleanup_close int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return -errno;
		diag_add(d, 0, 0,
			 "the console of %s/%s is in use by another session: one at a time (Ctrl-] leaves a console)",
			 pg, m);
		return -EBUSY;
	}
	tell_size(&pa);
	e = vm_console_attach(pa.console, VM_CONSOLE_LINGER_MS);
	/* No socket, or one that nobody serves: a VM that is not running. */
	return e == -ECONNREFUSED ? -ENOENT : e;
}
