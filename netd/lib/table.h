/* Plain text tables for people: columns padded to their widest cell. */
#ifndef PLAYNET_TABLE_H
#define PLAYNET_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

struct table {
	size_t n_cols;
	char **cells; /* row-major, n_rows * n_cols, owned */
	size_t n_rows;
	size_t cap_rows;
};

void table_init(struct table *t, size_t n_cols);
/* Adds a row of n_cols strings (copied); NULL prints as "-". */
int table_add(struct table *t, const char *const *row);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
