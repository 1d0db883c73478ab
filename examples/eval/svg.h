/* logitnorm-eval's SVG: one row per score, each with the score histograms of the ID set and of
   every OOD set, the ROC curves, and the AUROC and FPR per set; in the style of the demo report
   (examples/mlp_ood_report.c): every text outside the plot boxes, the same colours. */
#ifndef EVAL_SVG_H
#define EVAL_SVG_H

#include <stdint.h>

#include "eval/array.h"

typedef struct eval_plot_set {
  const char *name;
  const float *f32; /* the set's scores: f32 or f64, n values */
  const double *f64;
  int64_t n;
  const double *roc_x, *roc_y; /* OOD sets: the ROC against the ID set, roc_n points */
  int64_t roc_n;
  double auroc, fpr;
  int best_auroc, best_fpr; /* drawn in bold */
} eval_plot_set;

typedef struct eval_plot_row {
  const char *score; /* the score's name, for the row heading and the histogram's axis */
  eval_plot_set id;
  const eval_plot_set *ood; /* num_ood sets */
} eval_plot_row;

typedef struct eval_plot {
  const char *title, *subtitle;
  int ood_positive; /* the ROC's positive class: 0 ID, 1 OOD */
  double tpr_level;
  int num_ood;
  const eval_plot_row *rows;
  int num_rows;
} eval_plot;

/* Writes the SVG to path. Returns 0, or -1 with err naming the file. */
int eval_svg_write(const char *path, const eval_plot *plot, eval_error *err);

#endif
