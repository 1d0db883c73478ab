/* OOD detection metrics of logitnorm-eval's `ood` and `scores` commands. */
#ifndef EVAL_DETECT_H
#define EVAL_DETECT_H

#include "eval/cli.h"
#include "eval/report.h"

/* Metrics of every (score, OOD set) pair of r under s's conventions, then the tables or JSON on
   standard output and the SVG when s asks for one. views[i * (num_ood + 1) + k]: score i's
   values of the ID set (k = 0) and of OOD set k - 1. Returns the exit status. */
int eval_detect_report(const eval_settings *s, eval_report *r, const eval_view *views);

#endif
