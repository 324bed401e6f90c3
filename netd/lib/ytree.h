/*
 * A YAML document as a small tree, built from libyaml's event API so that we
 * can bound depth, node count and anchors while parsing, and keep the line
 * and column of every node for error messages.
 *
 * Aliases point at the anchored node, they are never copied: a "billion
 * laughs" document costs one node per anchor, and readers that walk it bound
 * what they visit by the manifest's own limits.
 */
#ifndef PLAYNET_YTREE_H
#define PLAYNET_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum ytree_kind { YTREE_SCALAR, YTREE_SEQ, YTREE_MAP };

struct ytree_node {
	enum ytree_kind kind;
	int line;   /* 1-based */
	int column; /* 1-based */
	/* scalar */
	char *value;
	size_t len;
	bool plain; /* unquoted: only plain scalars are numbers or booleans */
	/* sequence: items[i]; mapping: items[2i] key, items[2i+1] value */
	struct ytree_node **items;
	size_t n;
	size_t cap;
	char *anchor; /* while parsing only */
};

struct ytree_limits {
	size_t max_depth;
	size_t max_nodes;
	size_t max_anchors;
};

#define YTREE_LIMITS_DEFAULT { .max_depth = 64, .max_nodes = 100000, .max_anchors = 256 }

struct ytree {
	struct ytree_node *root; /* NULL for an empty document */
	struct ytree_node **nodes; /* every node, for freeing */
	size_t n_nodes;
	size_t cap_nodes;
};

/*
 * Parses buf into t. Returns 0, or -EINVAL with the reason in d (syntax
 * errors, limits), or -ENOMEM.
 */
int ytree_parse(const char *buf, size_t len, const struct ytree_limits *lim,
		struct ytree *t, struct diag *d);
void ytree_free(struct ytree *t);

/* Number of key/value pairs of a mapping, items of a sequence. */
static inline size_t ytree_len(const struct ytree_node *n)
{
	return n->kind == YTREE_MAP ? n->n / 2 : n->n;
}

const char *ytree_kind_name(enum ytree_kind k);

#endif
