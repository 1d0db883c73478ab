/* The SVG of logitnorm-eval selective: the risk and the generalised risk against coverage, each
   with the perfect ranking's curve (dashed) for the same errors, and the values in a column. */
#ifndef EVAL_SVG_SELECTIVE_H
#define EVAL_SVG_SELECTIVE_H

#include <stdint.h>

#include "eval/array.h"

typedef struct eval_rc_plot {
  const char *title, *subtitle;
  const double *coverage, *risk, *grisk; /* the points, in ascending coverage */
  int64_t points;
  int64_t count, right; /* N samples, of which `right` were right: the perfect ranking */
  double coverage_level, risk_level; /* drawn dotted */
  const char *const *value_names;    /* printed in the column, as % */
  const double *values;
  int num_values;
} eval_rc_plot;

/* Writes the SVG to path. Returns 0, or -1 with err naming the file. */
int eval_svg_write_risk_coverage(const char *path, const eval_rc_plot *p, eval_error *err);

#endif
