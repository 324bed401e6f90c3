/* What playnet and vmlaunch share as command-line programs: their exit
 * codes, and how a usage error is said. */
#ifndef PLAYNET_CLI_H
#define PLAYNET_CLI_H

enum exit_code { EXIT_OK = 0, EXIT_USER = 1, EXIT_USAGE = 2, EXIT_SYSTEM = 3 };

/* The program's name in its messages ("playnet"). */
void cli_set_program(const char *name);

/* "PROGRAM: message", then how to get help; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
