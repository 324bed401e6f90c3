#include "pn_error.h"

#include <stdio.h>
#include <string.h>

int pn_failxv(struct pn_error *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int pn_failx(struct pn_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pn_failxv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int pn_fail(struct pn_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	pn_failxv(err, code, fmt, ap);
	va_end(ap);
	size_t n = strlen(err->msg);
	if (n + 1 < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(-code));
	return code;
}

void pn_wrap(struct pn_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char context[PN_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	/* "context: message", cut at the end when it does not fit */
	const size_t max = sizeof(err->msg) - 1;
	size_t c = strlen(context), m = strlen(err->msg);
	if (c + 2 > max)
		c = max - 2;
	if (c + 2 + m > max)
		m = max - 2 - c;
	memmove(err->msg + c + 2, err->msg, m);
	memcpy(err->msg, context, c);
	memcpy(err->msg + c, ": ", 2);
	err->msg[c + 2 + m] = '\0';
}
