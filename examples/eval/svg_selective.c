/* The risk-coverage figure (see svg_selective.h). Two boxes side by side, coverage on both x
   axes: the selective risk (errors accepted / accepted) and the generalised risk (errors
   accepted / all samples), then a column of values. Every text sits outside the boxes. */
#include "eval/svg_selective.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval/svg_draw.h"

#define LEFT 84
#define SIDE 240 /* each box is square */
#define GAP 90
#define TOP 100
#define VALUES_W 230

/* The perfect ranking with C right of N: after k samples, max(0, k - C) errors. */
static double perfect_risk(int64_t k, const eval_rc_plot *p) {
  return k <= p->right ? 0.0 : (double)(k - p->right) / (double)k;
}

/* A polyline through (x[i], y[i]) mapped into the box at (x0, y0) with y on [0, ymax]. */
static void curve(FILE *f, const double *x, const double *y, int64_t n, double x0, double y0, double ymax,
                  const char *style) {
  fprintf(f, "<polyline fill='none' %s points='", style);
  for (int64_t i = 0; i < n; ++i) fprintf(f, "%.1f,%.1f ", x0 + x[i] * SIDE, y0 + SIDE - y[i] / ymax * SIDE);
  fprintf(f, "'/>\n");
}

/* One box: the data's curve (thinned to about a point per pixel), the perfect ranking dashed,
   the coverage level dotted (and the risk level on the risk box). */
static void panel(FILE *f, const eval_rc_plot *p, int generalised, double x0, double y0) {
  const double *y = generalised ? p->grisk : p->risk;
  double top = 0.0;
  for (int64_t i = 0; i < p->points; ++i) top = fmax(top, y[i]);
  if (!generalised) top = fmax(top, p->risk_level);
  double step = eval_svg_nice_step(top > 0 ? top : 1.0, 4);
  double ymax = step * ceil((top > 0 ? top : 1.0) / step - 1e-9);
  eval_svg_text(f, x0, y0 - 8, "", "", generalised ? "Generalised risk against coverage" : "Risk against coverage");

  /* the perfect ranking: zero up to coverage C/N, then (k - C)/k (risk) or (k - C)/N (linear) */
  enum { STEPS = 256 };
  double px[STEPS + 2], py[STEPS + 2];
  int m = 0;
  int64_t n = p->count, c = p->right;
  px[m] = 1.0 / (double)n, py[m++] = perfect_risk(1, p);
  for (int s = 0; s <= STEPS; ++s) {
    int64_t k = c + (int64_t)((double)(n - c) * s / STEPS);
    if (k < 1) continue;
    px[m] = (double)k / (double)n;
    py[m++] = generalised ? (double)(k > c ? k - c : 0) / (double)n : perfect_risk(k, p);
  }
  curve(f, px, py, m, x0, y0, ymax, "stroke='#888' stroke-width='1.2' stroke-dasharray='5 3'");

  double lx = x0 + p->coverage_level * SIDE;
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-dasharray='1 2'/>\n", lx, y0, lx,
          y0 + SIDE);
  if (!generalised) {
    double ly = y0 + SIDE - p->risk_level / ymax * SIDE;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-dasharray='1 2'/>\n", x0, ly,
            x0 + SIDE, ly);
  }
  /* the data: thinned in the box's unit coordinates, so that a million points stay a small file */
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.6' points='", eval_svg_ood_colour(0));
  double last_x = -1, last_y = -1;
  for (int64_t i = 0; i < p->points; ++i) {
    double ux = p->coverage[i], uy = y[i] / ymax;
    if (i + 1 < p->points && i > 0 && fabs(ux - last_x) + fabs(uy - last_y) < 0.003) continue;
    fprintf(f, "%.1f,%.1f ", x0 + ux * SIDE, y0 + SIDE - uy * SIDE);
    last_x = ux;
    last_y = uy;
  }
  fprintf(f, "'/>\n");
  eval_svg_box(f, x0, y0, SIDE, SIDE);
  eval_svg_y_ticks(f, x0, y0, SIDE, 0.0, ymax, step, step * 100 >= 1 ? "%g%%" : "%.2g%%", 100.0);
  eval_svg_y_title(f, x0 - 46, y0 + SIDE / 2.0,
                   generalised ? "errors accepted / all samples" : "errors accepted / accepted");
  eval_svg_unit_x_axis(f, x0, y0, SIDE, SIDE, "coverage: share of the samples accepted");
}

int eval_svg_write_risk_coverage(const char *path, const eval_rc_plot *p, eval_error *err) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return eval_fail(err, "%s: cannot write: %s", path, strerror(errno));
  double x1 = LEFT, x2 = x1 + SIDE + GAP, x3 = x2 + SIDE + 40;
  double width = x3 + VALUES_W, height = TOP + 20 + SIDE + 60;
  eval_svg_begin(f, width, height);
  eval_svg_text(f, LEFT, 26, "title", "", "%s", p->title);
  eval_svg_text(f, LEFT, 46, "", "", "%s", p->subtitle);
  eval_svg_legend(f, LEFT, 70, eval_svg_ood_colour(0), "the samples, one point per distinct confidence");
  eval_svg_text(f, LEFT + 300, 70, "small", "", "dashed: a perfect ranking with the same errors; dotted: coverage %g%%, "
                "risk %g%%", 100.0 * p->coverage_level, 100.0 * p->risk_level);
  double y0 = TOP + 20;
  panel(f, p, 0, x1, y0);
  panel(f, p, 1, x2, y0);
  eval_svg_text(f, x3, y0 - 8, "", "", "Values");
  for (int i = 0; i < p->num_values; ++i) {
    double y = y0 + 8 + (EVAL_SVG_LINE + 3) * (i + 1);
    eval_svg_text(f, x3, y, "small", "", "%s", p->value_names[i]);
    eval_svg_text(f, x3 + 170, y, "small", "end", "%.3f%%", 100.0 * p->values[i]);
  }
  fprintf(f, "</svg>\n");
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return eval_fail(err, "%s: error while writing", path);
  return 0;
}
