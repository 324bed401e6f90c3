#define _GNU_SOURCE
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
	d->max = DIAG_MAX_DEFAULT;
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->entries[i].message);
	free(d->entries);
	d->entries = NULL;
	d->count = 0;
	d->dropped = 0;
}

void diag_add(struct diag *d, int line, int column, const char *fmt, ...)
{
	if (d->count >= d->max) {
		d->dropped++;
		return;
	}
	if (!d->entries) {
		d->entries = calloc(d->max, sizeof(*d->entries));
		if (!d->entries) {
			d->dropped++;
			return;
		}
	}
	va_list ap;
	char *msg = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		d->dropped++;
		return;
	}
	d->entries[d->count++] = (struct diag_entry){ line, column, msg };
}

void diag_print(const struct diag *d, FILE *out)
{
	const char *file = d->file ? d->file : "<input>";
	for (size_t i = 0; i < d->count; i++) {
		const struct diag_entry *e = &d->entries[i];
		if (e->line > 0)
			fprintf(out, "%s:%d:%d: %s\n", file, e->line, e->column,
				e->message);
		else
			fprintf(out, "%s: %s\n", file, e->message);
	}
	if (d->dropped)
		fprintf(out, "%s: %zu more error%s not shown\n", file, d->dropped,
			d->dropped == 1 ? "" : "s");
}
