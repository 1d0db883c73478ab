/* The SVG of logitnorm-eval calibration: reliability diagrams in a grid (one row per binning,
   one column per temperature), each with the accuracy of every bin against its mean confidence. */
#ifndef EVAL_SVG_CALIBRATION_H
#define EVAL_SVG_CALIBRATION_H

#include <stdint.h>

#include "eval/array.h"

typedef struct eval_reliability_panel {
  const char *binning; /* "equal-width bins" */
  double temperature;
  int fitted; /* the temperature is the fitted one */
  const double *count, *confidence, *accuracy; /* per bin that holds rows, ascending confidence */
  int64_t bins;
  double ece, mce;
} eval_reliability_panel;

typedef struct eval_reliability_plot {
  const char *title, *subtitle;
  const eval_reliability_panel *panels; /* rows x cols, row-major */
  int rows, cols;
} eval_reliability_plot;

/* Writes the SVG to path. Returns 0, or -1 with err naming the file. */
int eval_svg_write_reliability(const char *path, const eval_reliability_plot *p, eval_error *err);

#endif
