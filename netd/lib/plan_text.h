/* The plan as a person reads it: `playnet plan` without --json. */
#ifndef PLAYNET_PLAN_TEXT_H
#define PLAYNET_PLAN_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "plan.h"

int plan_print_text(const struct plan *p, FILE *out);

/* "delay 50ms loss 1% rate 10mbit", in the manifest's units; "none". */
void plan_impair_text(const struct manifest_impair *im, char *buf, size_t len);

#endif
