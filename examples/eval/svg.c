/* The SVG of logitnorm-eval (see svg.h). Layout of a row, left to right: the histogram box
   (HIST_W x PANEL_H) with its y axis (share of the set per bin) and x axis (the score), the ROC
   box (PANEL_H square) with both axes labelled, and a column of AUROC and FPR per OOD set.
   Every text sits outside the boxes, so no label covers a curve. */
#include "eval/svg.h"

#include "eval/svg_draw.h"

#include <errno.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEFT 84      /* room for the histogram's y ticks and its rotated axis title */
#define HIST_W 340
#define PANEL_H 170  /* the histogram's height and the ROC's side */
#define GAP 76       /* between boxes: the next box's y ticks and axis title */
#define METRIC_W 300 /* the metrics column */
#define LINE 13
#define HIST_BINS 40
#define ROW_HEAD 34 /* from a row's heading to its boxes */

static double value_at(const eval_plot_set *s, int64_t i) { return s->f32 != NULL ? (double)s->f32[i] : s->f64[i]; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q and 1 - q quantiles of a set (NaN when the copy cannot be made or the set is empty). */
static void quantiles(const eval_plot_set *s, double q, double *lo, double *hi) {
  *lo = *hi = NAN;
  if (s->n <= 0) return;
  double *c = malloc((size_t)s->n * sizeof *c);
  if (c == NULL) return;
  for (int64_t i = 0; i < s->n; ++i) c[i] = value_at(s, i);
  qsort(c, (size_t)s->n, sizeof *c, cmp_double);
  *lo = c[(int64_t)floor(q * (double)(s->n - 1))];
  *hi = c[(int64_t)ceil((1.0 - q) * (double)(s->n - 1))];
  free(c);
}

/* Shares of a set's values per bin over [lo, hi]; values outside go to the end bins. */
static void histogram(const eval_plot_set *s, double lo, double hi, double bins[HIST_BINS]) {
  for (int b = 0; b < HIST_BINS; ++b) bins[b] = 0.0;
  if (s->n <= 0) return;
  for (int64_t i = 0; i < s->n; ++i) {
    double v = (value_at(s, i) - lo) / (hi - lo) * HIST_BINS;
    int b = v < 0 ? 0 : v >= HIST_BINS ? HIST_BINS - 1 : (int)v;
    bins[b] += 1.0;
  }
  for (int b = 0; b < HIST_BINS; ++b) bins[b] /= (double)s->n;
}

static void hist_outline(FILE *f, const double bins[HIST_BINS], double ymax, double x0, double y0, const char *colour,
                         int filled) {
  double w = (double)HIST_W / HIST_BINS;
  fprintf(f, "<polyline fill='%s' fill-opacity='0.25' stroke='%s' stroke-width='1.3' points='%.1f,%.1f ",
          filled ? colour : "none", colour, x0, y0 + PANEL_H);
  for (int b = 0; b < HIST_BINS; ++b) {
    double y = y0 + PANEL_H - bins[b] / ymax * PANEL_H;
    fprintf(f, "%.1f,%.1f %.1f,%.1f ", x0 + b * w, y, x0 + (b + 1) * w, y);
  }
  fprintf(f, "%.1f,%.1f'/>\n", x0 + HIST_W, y0 + PANEL_H);
}

/* The histogram box of one row. The x range is from the lowest 0.5 % quantile to the highest
   99.5 % quantile of the sets, so that one far tail cannot flatten the rest; the end bins hold
   the tails. */
static int hist_panel(FILE *f, const eval_plot *p, const eval_plot_row *r, double x0, double y0) {
  double lo = INFINITY, hi = -INFINITY, qlo, qhi;
  for (int k = -1; k < p->num_ood; ++k) {
    quantiles(k < 0 ? &r->id : &r->ood[k], 0.005, &qlo, &qhi);
    if (isnan(qlo)) return -1;
    lo = fmin(lo, qlo);
    hi = fmax(hi, qhi);
  }
  if (!(hi > lo)) { /* constant scores: a unit-wide window around them */
    double pad = fabs(lo) > 0 ? fabs(lo) * 0.05 : 0.5;
    lo -= pad;
    hi += pad;
  }
  double(*bins)[HIST_BINS] = malloc((size_t)(p->num_ood + 1) * sizeof *bins);
  if (bins == NULL) return -1;
  double ymax = 0.0;
  for (int k = -1; k < p->num_ood; ++k) {
    histogram(k < 0 ? &r->id : &r->ood[k], lo, hi, bins[k + 1]);
    for (int b = 0; b < HIST_BINS; ++b) ymax = fmax(ymax, bins[k + 1][b]);
  }
  double step = eval_svg_nice_step(ymax > 0 ? ymax : 1.0, 4);
  ymax = step * ceil((ymax > 0 ? ymax : 1.0) / step - 1e-9);
  eval_svg_text(f, x0, y0 - 8, "", "", "Distribution of %s", r->score);
  hist_outline(f, bins[0], ymax, x0, y0, eval_svg_id_colour, 1);
  for (int k = 0; k < p->num_ood; ++k) hist_outline(f, bins[k + 1], ymax, x0, y0, eval_svg_ood_colour(k), 0);
  eval_svg_box(f, x0, y0, HIST_W, PANEL_H);
  eval_svg_y_ticks(f, x0, y0, PANEL_H, 0.0, ymax, step, step * 100 >= 1 ? "%g%%" : "%.2g%%", 100.0);
  eval_svg_y_title(f, x0 - 46, y0 + PANEL_H / 2.0, "share of the set per bin");
  /* round ticks inside [lo, hi], with the decimals their step needs */
  double xstep = eval_svg_nice_step(hi - lo, 6);
  int decimals = xstep >= 1 ? 0 : (int)ceil(-log10(xstep) - 1e-9);
  for (double v = ceil(lo / xstep) * xstep; v <= hi + 1e-9 * xstep; v += xstep) {
    double x = x0 + (v - lo) / (hi - lo) * HIST_W;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x, y0 + PANEL_H, x,
            y0 + PANEL_H + 4);
    eval_svg_text(f, x, y0 + PANEL_H + 14, "small", "middle", "%.*f", decimals, fabs(v) < 1e-9 * xstep ? 0.0 : v);
  }
  eval_svg_text(f, x0 + HIST_W / 2.0, y0 + PANEL_H + 14 + LINE, "small", "middle",
       "%s (higher = more in-distribution); the end bins hold the tails", r->score);
  free(bins);
  return 0;
}

/* The ROC box of one row: a curve per OOD set, the chance diagonal, the TPR level dotted. */
static void roc_panel(FILE *f, const eval_plot *p, const eval_plot_row *r, double x0, double y0) {
  const double side = PANEL_H;
  eval_svg_text(f, x0, y0 - 8, "", "", "ROC, %s positive", p->ood_positive ? "OOD" : "ID");
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#bbb' stroke-dasharray='4 3'/>\n", x0,
          y0 + side, x0 + side, y0);
  double ly = y0 + (1.0 - p->tpr_level) * side;
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-dasharray='1 2'/>\n", x0, ly,
          x0 + side, ly);
  for (int k = 0; k < p->num_ood; ++k) {
    const eval_plot_set *s = &r->ood[k];
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", eval_svg_ood_colour(k));
    for (int64_t i = 0; i < s->roc_n; ++i)
      fprintf(f, "%.1f,%.1f ", x0 + s->roc_x[i] * side, y0 + (1.0 - s->roc_y[i]) * side);
    fprintf(f, "'/>\n");
  }
  eval_svg_box(f, x0, y0, side, side);
  eval_svg_y_ticks(f, x0, y0, PANEL_H, 0.0, 1.0, 0.5, "%g", 1.0);
  for (int i = 0; i <= 2; ++i) {
    double x = x0 + side * i / 2.0;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x, y0 + side, x, y0 + side + 4);
    eval_svg_text(f, x, y0 + side + 14, "small", i == 0 ? "start" : i == 2 ? "end" : "middle", "%g", i / 2.0);
  }
  if (p->ood_positive) {
    eval_svg_y_title(f, x0 - 30, y0 + side / 2.0, "TPR: OOD flagged");
    eval_svg_text(f, x0 + side / 2.0, y0 + side + 14 + LINE, "small", "middle", "FPR: ID flagged as OOD");
  } else {
    eval_svg_y_title(f, x0 - 30, y0 + side / 2.0, "TPR: ID accepted");
    eval_svg_text(f, x0 + side / 2.0, y0 + side + 14 + LINE, "small", "middle", "FPR: OOD accepted as ID");
  }
}

/* The metrics column of one row: per OOD set its colour, name, AUROC and FPR (bold: the best). */
static double metrics_column(FILE *f, const eval_plot *p, const eval_plot_row *r, double x0, double y0) {
  double col1 = x0 + 150, col2 = x0 + 225;
  eval_svg_text(f, x0, y0 - 8, "", "", "Per OOD set");
  eval_svg_text(f, col1, y0 + 4, "small", "end", "AUROC");
  eval_svg_text(f, col2, y0 + 4, "small", "end", "FPR@%g%%", 100.0 * p->tpr_level);
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x0, y0 + 8, col2 + 4, y0 + 8);
  double y = y0 + 8 + LINE + 2;
  for (int k = 0; k < p->num_ood; ++k, y += LINE + 3) {
    const eval_plot_set *s = &r->ood[k];
    char name[24];
    snprintf(name, sizeof name, "%s", s->name);
    eval_svg_legend(f, x0, y, eval_svg_ood_colour(k), name);
    eval_svg_text(f, col1, y, s->best_auroc ? "small bold" : "small", "end", "%.2f%%", 100.0 * s->auroc);
    eval_svg_text(f, col2, y, s->best_fpr ? "small bold" : "small", "end", "%.2f%%", 100.0 * s->fpr);
  }
  return y - y0;
}

static void set_legend(FILE *f, const eval_plot *p, double x, double y) {
  eval_svg_text(f, x, y, "small", "", "Colours:");
  char id_label[160];
  snprintf(id_label, sizeof id_label, "%s (ID)", p->rows[0].id.name);
  eval_svg_legend(f, x + 50, y, eval_svg_id_colour, id_label);
  double at = x + 50 + 40 + 6.0 * (double)strlen(id_label);
  for (int k = 0; k < p->num_ood; ++k) {
    const char *name = p->rows[0].ood[k].name;
    eval_svg_legend(f, at, y, eval_svg_ood_colour(k), name);
    at += 40 + 6.0 * (double)strlen(name);
  }
}

int eval_svg_write(const char *path, const eval_plot *p, eval_error *err) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return eval_fail(err, "%s: cannot write: %s", path, strerror(errno));
  double hist_x = LEFT, roc_x = hist_x + HIST_W + GAP, met_x = roc_x + PANEL_H + GAP - 20;
  double width = met_x + METRIC_W;
  double below = 14 + LINE + 40; /* tick labels, axis title, space before the next row */
  double metrics_h = 8 + (LINE + 3) * (p->num_ood + 1);
  double row_h = ROW_HEAD + fmax(PANEL_H + below, metrics_h + 24);
  double top = 110, height = top + p->num_rows * row_h + 10;

  eval_svg_begin(f, width, height);
  eval_svg_text(f, LEFT, 26, "title", "", "%s", p->title);
  eval_svg_text(f, LEFT, 46, "", "", "%s", p->subtitle);
  set_legend(f, p, LEFT, 70);
  eval_svg_text(f, LEFT, 88, "small", "",
       "Histograms: ID filled, OOD sets outlined. ROC: dashed = chance, dotted = TPR %g%%.%s", 100.0 * p->tpr_level,
       p->num_rows > 1 ? " Bold: the best score for the set." : "");
  int st = 0;
  for (int i = 0; i < p->num_rows && st == 0; ++i) {
    const eval_plot_row *r = &p->rows[i];
    double y = top + i * row_h;
    fprintf(f, "<g id='row-%d'>\n", i + 1);
    if (p->num_rows > 1)
      eval_svg_text(f, LEFT, y + 12, "section", "", "%d. %s", i + 1, r->score);
    else
      eval_svg_text(f, LEFT, y + 12, "section", "", "Scores of the ID set against each OOD set");
    double y0 = y + ROW_HEAD + 14;
    st = hist_panel(f, p, r, hist_x, y0);
    roc_panel(f, p, r, roc_x, y0);
    metrics_column(f, p, r, met_x, y0);
    fprintf(f, "</g>\n");
  }
  fprintf(f, "</svg>\n");
  int bad = ferror(f);
  if (fclose(f) != 0 || bad || st != 0)
    return eval_fail(err, "%s: %s", path, st != 0 ? "out of memory for the histograms" : "error while writing");
  return 0;
}
