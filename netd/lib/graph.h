/* `playnet graph`: networks as boxes, machines as nodes, one edge per
 * interface labelled with its address, in Graphviz DOT. */
#ifndef PLAYNET_GRAPH_H
#define PLAYNET_GRAPH_H

#include <stdio.h>

#include "plan.h"

void graph_write_dot(const struct plan *p, FILE *out);

#endif
