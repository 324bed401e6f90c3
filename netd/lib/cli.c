#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

static const char *program = "playnet";

void cli_set_program(const char *name)
{
	program = name;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", program);
	return EXIT_USAGE;
}
