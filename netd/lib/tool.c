/* Child processes for the tools images and disks are made with. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"

int tool_present(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char file[PATH_MAX];
		if (n && snprintf(file, sizeof(file), "%.*s/%s", (int)n, path, prog) < (int)sizeof(file) &&
		    access(file, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* The last non-empty line of fd's file (from its start), at most len. */
static void last_line(int fd, char *out, size_t len)
{
	char buf[8192];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	buf[n > 0 ? n : 0] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	const char *nl = strrchr(buf, '\n');
	const char *from_line = nl ? nl + 1 : buf;
	size_t m = strlen(from_line);
	if (m >= len)
		m = len - 1;
	memcpy(out, from_line, m);
	out[m] = '\0';
}

static int run(char *const argv[], int out_fd, int log_fd, char *why, size_t why_len)
{
	if (!tool_present(argv[0])) {
		if (why)
			snprintf(why, why_len, "%s is not installed", argv[0]);
		return -ENOENT;
	}
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int err = log_fd >= 0 ? log_fd : null;
		if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd >= 0 ? out_fd : err, 1) < 0 ||
		    dup2(err, 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	if (why) {
		char line[512] = "";
		if (log_fd >= 0)
			last_line(log_fd, line, sizeof(line));
		if (WIFEXITED(ws))
			snprintf(why, why_len, "%s exited with status %d%s%s", argv[0],
				 WEXITSTATUS(ws), line[0] ? ": " : "", line);
		else
			snprintf(why, why_len, "%s was killed by signal %d", argv[0], WTERMSIG(ws));
	}
	return -EIO;
}

/* The log is where a failure's words are found: a temporary one when the
 * caller keeps none. */
static int open_log(const char *log)
{
	if (log)
		return open(log, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	char tmp[] = "/tmp/playnet-tool.XXXXXX";
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmp);
	return fd;
}

int tool_run(char *const argv[], const char *log, char *why, size_t why_len)
{
	cleanup_close int fd = open_log(log);
	if (fd < 0)
		return -errno;
	return run(argv, -1, fd, why, why_len);
}

int tool_run_stdout(char *const argv[], const char *out_path, char *why, size_t why_len)
{
	cleanup_close int log = open_log(NULL);
	cleanup_close int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || log < 0)
		return -errno;
	return run(argv, fd, log, why, why_len);
}

int tool_output(char *const argv[], char *out, size_t out_len, char *why, size_t why_len)
{
	cleanup_close int log = open_log(NULL);
	cleanup_close int fd = open_log(NULL); /* as unnamed a file as the log */
	if (fd < 0 || log < 0)
		return -errno;
	int e = run(argv, fd, log, why, why_len);
	if (e)
		return e;
	ssize_t n = pread(fd, out, out_len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}
