/* The plan as a person reads it: `playnet plan` without --json. */
#ifndef PLAYNET_PLAN_TEXT_H
#define PLAYNET_PLAN_TEXT_H

#include <stdio.h>

#include "plan.h"

int plan_print_text(const struct plan *p, FILE *out);

#endif
