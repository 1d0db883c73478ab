/* Reliability diagrams (see svg_calibration.h). In each square box: the diagonal (perfect
   calibration) dashed; per bin a dot at (mean confidence, accuracy) whose area is proportional
   to the bin's share of the rows, joined by a line, and a vertical stroke from the diagonal to
   the dot, the bin's gap |confidence - accuracy|, whose weighted mean is the ECE. */
#include "eval/svg_calibration.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval/svg_draw.h"

#define LEFT 84
#define SIDE 230
#define GAP_X 100
#define ROW_H (SIDE + 100)
#define TOP 100

static void panel(FILE *f, const eval_reliability_panel *p, double x0, double y0) {
  eval_svg_text(f, x0, y0 - 22, "", "", "%s, %s = %.4g", p->binning, p->fitted ? "fitted T" : "T", p->temperature);
  eval_svg_text(f, x0, y0 - 8, "small", "", "ECE %.2f%%, MCE %.2f%%", 100.0 * p->ece, 100.0 * p->mce);
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#bbb' stroke-dasharray='4 3'/>\n", x0,
          y0 + SIDE, x0 + SIDE, y0);
  double total = 0.0;
  for (int64_t k = 0; k < p->bins; ++k) total += p->count[k];
  const char *colour = p->fitted ? eval_svg_ood_colour(1) : eval_svg_ood_colour(0);
  for (int64_t k = 0; k < p->bins; ++k) {
    double x = x0 + p->confidence[k] * SIDE;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#d62728' stroke-width='1.5'/>\n", x,
            y0 + SIDE - p->confidence[k] * SIDE, x, y0 + SIDE - p->accuracy[k] * SIDE);
  }
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.2' points='", colour);
  for (int64_t k = 0; k < p->bins; ++k)
    fprintf(f, "%.1f,%.1f ", x0 + p->confidence[k] * SIDE, y0 + SIDE - p->accuracy[k] * SIDE);
  fprintf(f, "'/>\n");
  for (int64_t k = 0; k < p->bins; ++k) {
    double r = 1.5 + 9.0 * sqrt(total > 0 ? p->count[k] / total : 0.0);
    fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s' fill-opacity='0.6'/>\n",
            x0 + p->confidence[k] * SIDE, y0 + SIDE - p->accuracy[k] * SIDE, r, colour);
  }
  eval_svg_box(f, x0, y0, SIDE, SIDE);
  eval_svg_y_ticks(f, x0, y0, SIDE, 0.0, 1.0, 0.25, "%g%%", 100.0);
  eval_svg_y_title(f, x0 - 46, y0 + SIDE / 2.0, "accuracy of the bin");
  eval_svg_unit_x_axis(f, x0, y0, SIDE, SIDE, "mean confidence of the bin");
}

int eval_svg_write_reliability(const char *path, const eval_reliability_plot *p, eval_error *err) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return eval_fail(err, "%s: cannot write: %s", path, strerror(errno));
  double width = fmax(LEFT + p->cols * (SIDE + GAP_X), 1000.0), height = TOP + p->rows * ROW_H;
  eval_svg_begin(f, width, height);
  eval_svg_text(f, LEFT, 26, "title", "", "%s", p->title);
  eval_svg_text(f, LEFT, 46, "", "", "%s", p->subtitle);
  eval_svg_text(f, LEFT, 68, "small", "",
                "Dots: the bins that hold rows, area proportional to their rows; red: each bin's gap between "
                "confidence and accuracy; dashed: perfect calibration.");
  for (int r = 0; r < p->rows; ++r)
    for (int c = 0; c < p->cols; ++c)
      panel(f, &p->panels[r * p->cols + c], LEFT + c * (SIDE + GAP_X), TOP + 30 + r * ROW_H);
  fprintf(f, "</svg>\n");
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return eval_fail(err, "%s: error while writing", path);
  return 0;
}
