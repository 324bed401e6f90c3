#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, size_t n_cols)
{
	memset(t, 0, sizeof(*t));
	t->n_cols = n_cols < TABLE_MAX_COLS ? n_cols : TABLE_MAX_COLS;
}

int table_add(struct table *t, const char *const *row)
{
	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **c = realloc(t->cells, cap * t->n_cols * sizeof(*c));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap_rows = cap;
	}
	char **dst = &t->cells[t->n_rows * t->n_cols];
	for (size_t i = 0; i < t->n_cols; i++) {
		dst[i] = strdup(row[i] ? row[i] : "-");
		if (!dst[i]) {
			while (i-- > 0)
				free(dst[i]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

void table_print(const struct table *t, FILE *out)
{
	size_t w[TABLE_MAX_COLS] = { 0 };
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++) {
			size_t len = strlen(t->cells[r * t->n_cols + c]);
			if (len > w[c])
				w[c] = len;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *s = t->cells[r * t->n_cols + c];
			if (c + 1 == t->n_cols)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%-*s  ", (int)w[c], s);
		}
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
