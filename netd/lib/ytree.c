#include "ytree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct ytree_builder {
	struct ytree *t;
	const struct ytree_limits *lim;
	struct diag *d;
	const char *buf;
	size_t len;
	struct ytree_node **stack; /* open collections */
	size_t depth;
	struct ytree_node **anchors;
	size_t n_anchors;
	bool done_document;
};

const char *ytree_kind_name(enum ytree_kind k)
{
	switch (k) {
	case YTREE_SCALAR:
		return "a scalar";
	case YTREE_SEQ:
		return "a list";
	case YTREE_MAP:
		return "a mapping";
	}
	return "?";
}

void ytree_free(struct ytree *t)
{
	for (size_t i = 0; i < t->n_nodes; i++) {
		free(t->nodes[i]->value);
		free(t->nodes[i]->items);
		free(t->nodes[i]->anchor);
		free(t->nodes[i]);
	}
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static int push_ptr(struct ytree_node ***v, size_t *n, size_t *cap,
		    struct ytree_node *p)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct ytree_node **nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = p;
	return 0;
}

static int builder_error(struct ytree_builder *b, const yaml_mark_t *m,
			 const char *msg)
{
	diag_add(b->d, (int)m->line + 1, (int)m->column + 1, "%s", msg);
	return -EINVAL;
}

/* Attach a finished (or aliased) node to its parent or make it the root. */
static int builder_attach(struct ytree_builder *b, struct ytree_node *n)
{
	if (b->depth == 0) {
		b->t->root = n;
		return 0;
	}
	struct ytree_node *parent = b->stack[b->depth - 1];
	return push_ptr(&parent->items, &parent->n, &parent->cap, n);
}

static int builder_new_node(struct ytree_builder *b, enum ytree_kind kind,
			    const yaml_mark_t *m, const yaml_char_t *anchor,
			    struct ytree_node **out)
{
	if (b->t->n_nodes >= b->lim->max_nodes)
		return builder_error(b, m, "document too large: too many YAML nodes");
	struct ytree_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (push_ptr(&b->t->nodes, &b->t->n_nodes, &b->t->cap_nodes, n) < 0) {
		free(n);
		return -ENOMEM;
	}
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->column = (int)m->column + 1;
	if (anchor) {
		n->anchor = strdup((const char *)anchor);
		if (!n->anchor)
			return -ENOMEM;
	}
	*out = n;
	return 0;
}

/* Anchors become visible once their node is complete, so no alias can
 * point into its own ancestor and the tree stays acyclic. */
static int builder_register_anchor(struct ytree_builder *b,
				   struct ytree_node *n, const yaml_mark_t *m)
{
	if (!n->anchor)
		return 0;
	if (b->n_anchors >= b->lim->max_anchors)
		return builder_error(b, m, "too many YAML anchors");
	b->anchors[b->n_anchors++] = n;
	return 0;
}

static int builder_alias(struct ytree_builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	/* Latest definition wins, as YAML allows redefining an anchor. */
	for (size_t i = b->n_anchors; i-- > 0;) {
		if (strcmp(b->anchors[i]->anchor, name) == 0)
			return builder_attach(b, b->anchors[i]);
	}
	diag_add(b->d, (int)ev->start_mark.line + 1,
		 (int)ev->start_mark.column + 1,
		 "alias *%s refers to no anchor defined before it", name);
	return -EINVAL;
}

static int builder_scalar(struct ytree_builder *b, const yaml_event_t *ev)
{
	struct ytree_node *n;
	int r = builder_new_node(b, YTREE_SCALAR, &ev->start_mark,
				 ev->data.scalar.anchor, &n);
	if (r < 0)
		return r;
	n->len = ev->data.scalar.length;
	n->value = malloc(n->len + 1);
	if (!n->value)
		return -ENOMEM;
	memcpy(n->value, ev->data.scalar.value, n->len);
	n->value[n->len] = '\0';
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	r = builder_attach(b, n);
	if (r < 0)
		return r;
	return builder_register_anchor(b, n, &ev->start_mark);
}

static int builder_open(struct ytree_builder *b, const yaml_event_t *ev,
			enum ytree_kind kind, const yaml_char_t *anchor)
{
	if (b->depth >= b->lim->max_depth)
		return builder_error(b, &ev->start_mark,
				     "document nested too deeply");
	struct ytree_node *n;
	int r = builder_new_node(b, kind, &ev->start_mark, anchor, &n);
	if (r < 0)
		return r;
	r = builder_attach(b, n);
	if (r < 0)
		return r;
	b->stack[b->depth++] = n;
	return 0;
}

static int builder_close(struct ytree_builder *b, const yaml_event_t *ev)
{
	struct ytree_node *n = b->stack[--b->depth];
	return builder_register_anchor(b, n, &ev->start_mark);
}

static int builder_event(struct ytree_builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->done_document)
			return builder_error(b, &ev->start_mark,
					     "only one YAML document is allowed");
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		b->done_document = true;
		return 0;
	case YAML_SCALAR_EVENT:
		return builder_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return builder_open(b, ev, YTREE_SEQ,
				    ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return builder_open(b, ev, YTREE_MAP,
				    ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return builder_close(b, ev);
	case YAML_ALIAS_EVENT:
		return builder_alias(b, ev);
	default:
		return 0;
	}
}

static void builder_syntax_error(struct ytree_builder *b,
				 const yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;
	if (p->error == YAML_MEMORY_ERROR) {
		diag_add(b->d, 0, 0, "out of memory while reading YAML");
		return;
	}
	if (m->index < b->len && b->buf[m->index] == '\t') {
		builder_error(b, m,
			      "tab character in indentation: YAML allows spaces only");
		return;
	}
	char msg[256];
	if (p->context)
		snprintf(msg, sizeof(msg), "invalid YAML: %s %s", p->problem,
			 p->context);
	else
		snprintf(msg, sizeof(msg), "invalid YAML: %s",
			 p->problem ? p->problem : "syntax error");
	builder_error(b, m, msg);
}

int ytree_parse(const char *buf, size_t len, const struct ytree_limits *lim,
		struct ytree *t, struct diag *d)
{
	memset(t, 0, sizeof(*t));
	struct ytree_builder b = {
		.t = t, .lim = lim, .d = d, .buf = buf, .len = len,
	};
	b.stack = calloc(lim->max_depth, sizeof(*b.stack));
	b.anchors = calloc(lim->max_anchors ? lim->max_anchors : 1,
			   sizeof(*b.anchors));
	yaml_parser_t parser;
	if (!b.stack || !b.anchors || !yaml_parser_initialize(&parser)) {
		free(b.stack);
		free(b.anchors);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

	int r = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			builder_syntax_error(&b, &parser);
			r = -EINVAL;
			break;
		}
		bool end = ev.type == YAML_STREAM_END_EVENT;
		r = builder_event(&b, &ev);
		yaml_event_delete(&ev);
		if (r < 0 || end)
			break;
	}
	yaml_parser_delete(&parser);
	free(b.stack);
	free(b.anchors);
	if (r < 0)
		ytree_free(t);
	return r;
}
