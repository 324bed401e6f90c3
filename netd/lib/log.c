#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_prog = "playnet";
static enum log_level log_level = LOG_LVL_INFO;

void log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_level = level;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

/* A log in a file (playnet's netd, a test's) never grows past LOG_CAP: it
 * starts again, saying so, whatever makes it write. */
#define LOG_CAP (16 << 20)

static void log_cap(void)
{
	struct stat st;
	if (fstat(STDERR_FILENO, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < LOG_CAP)
		return;
	fflush(stderr);
	if (ftruncate(STDERR_FILENO, 0) == 0 && lseek(STDERR_FILENO, 0, SEEK_SET) == 0)
		fprintf(stderr, "%s: the log reached %d MiB and starts again\n", log_prog,
			LOG_CAP >> 20);
}

static void log_vmsg(enum log_level level, int errnum, const char *fmt,
		     va_list ap)
{
	if (level > log_level)
		return;
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnum)
		fprintf(stderr, "%s: %s: %s\n", log_prog, buf, strerror(errnum));
	else
		fprintf(stderr, "%s: %s\n", log_prog, buf);
	log_cap();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level level, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, errnum < 0 ? -errnum : errnum, fmt, ap);
	va_end(ap);
}
