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
	for (size_t i = 0; i < d->n_warnings; i++)
		free(d->warnings[i].message);
	free(d->warnings);
	d->warnings = NULL;
	d->n_warnings = 0;
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

void diag_warn(struct diag *d, int line, int column, const char *fmt, ...)
{
	if (d->n_warnings >= d->max)
		return;
	struct diag_entry *grown = realloc(d->warnings, (d->n_warnings + 1) * sizeof(*grown));
	if (!grown)
		return;
	d->warnings = grown;
	va_list ap;
	char *msg = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0)
		d->warnings[d->n_warnings++] = (struct diag_entry){ line, column, msg };
}

static void print_entries(const struct diag *d, const struct diag_entry *es, size_t n,
			  const char *kind, FILE *out)
{
	const char *file = d->file ? d->file : "<input>";
	for (size_t i = 0; i < n; i++) {
		const struct diag_entry *e = &es[i];
		if (e->line > 0)
			fprintf(out, "%s:%d:%d: %s%s\n", file, e->line, e->column, kind,
				e->message);
		else
			fprintf(out, "%s: %s%s\n", file, kind, e->message);
	}
}

void diag_print_warnings(const struct diag *d, FILE *out)
{
	print_entries(d, d->warnings, d->n_warnings, "warning: ", out);
}

void diag_print(const struct diag *d, FILE *out)
{
	const char *file = d->file ? d->file : "<input>";
	print_entries(d, d->entries, d->count, "", out);
	if (d->dropped)
		fprintf(out, "%s: %zu more error%s not shown\n", file, d->dropped,
			d->dropped == 1 ? "" : "s");
}
