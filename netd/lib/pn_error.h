/*
 * One error object for what fails below the programs: a negative errno and
 * a message that says what failed, filled by the function that failed and
 * read by its caller (crun's libcrun_error_t, without the heap). Each call
 * gets its caller's own, so an undo that fails too keeps its message apart
 * from the one that made it undo.
 *
 * Errors of input files are struct diag's (diag.h), tied to lines.
 */
#ifndef PLAYNET_PN_ERROR_H
#define PLAYNET_PN_ERROR_H

#include <stdarg.h>

#define PN_ERROR_MAX 512

struct pn_error {
	int code;                /* negative errno; 0: none */
	char msg[PN_ERROR_MAX];  /* "" when none */
};

#define PN_ERROR_INIT {0, ""}

/* Sets err (NULL: none kept) to code and "what: strerror(-code)";
 * returns code, so that "return pn_fail(err, e, ...)" reads as one. */
int pn_fail(struct pn_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, with the message as given: no strerror after it. */
int pn_failx(struct pn_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pn_failxv(struct pn_error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Puts "context: " before err's message. */
void pn_wrap(struct pn_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
