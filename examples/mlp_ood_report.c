/* The mlp_ood outputs for other tools: a JSON summary and a self-contained SVG report
   (MSP histograms of ID against each OOD set, ROC curves, and average FPR95 against tau). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlp_ood.h"

/* ---------------------------------------------------------------- JSON */

int write_json(const char *path, const model_result *models, int num_models) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    return -1;
  }
  fprintf(f, "{\"models\":[");
  for (int i = 0; i < num_models; i++) {
    const model_result *r = &models[i];
    fprintf(f, "%s\n {\"loss\":\"%s\",", i ? "," : "", r->logitnorm ? "logitnorm" : "ce");
    if (r->logitnorm)
      fprintf(f, "\"tau\":%.17g,", r->tau);
    else
      fprintf(f, "\"tau\":null,"); /* cross-entropy has no temperature */
    fprintf(f, "\"accuracy\":%.6f,\"ece\":%.6f,\"ood\":{", r->accuracy, r->ece);
    for (int k = 0; k < r->num_ood; k++)
      fprintf(f, "%s\"%s\":{\"fpr95\":%.6f,\"auroc\":%.6f,\"aupr_in\":%.6f}", k ? "," : "", r->ood[k].name,
              r->ood[k].fpr95, r->ood[k].auroc, r->ood[k].aupr_in);
    fprintf(f, "},\"avg_fpr95\":%.6f,\"avg_auroc\":%.6f}", r->avg_fpr95, r->avg_auroc);
  }
  fprintf(f, "\n]}\n");
  int bad = ferror(f);
  if (fclose(f) || bad) {
    fprintf(stderr, "mlp_ood: error writing %s\n", path);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- SVG */

#define HIST_BINS 30
#define PANEL_W 230
#define PANEL_H 130
#define MARGIN 40
#define ROC_POINTS 400 /* the most points drawn per ROC curve */

static const char *const ood_colours[OOD_MAX_SETS] = {"#d95f02", "#7570b3", "#e7298a", "#66a61e"};

static void model_title(const model_result *r, char *buf, size_t len) {
  if (r->logitnorm)
    snprintf(buf, len, "LogitNorm, tau = %g", r->tau);
  else
    snprintf(buf, len, "Cross-entropy");
}

/* Fractions of scores per bin over [lo, 1]; MSP is at least 1/C, so lo = 1/C. */
static void histogram(const float *scores, int64_t n, double lo, double *bins) {
  for (int b = 0; b < HIST_BINS; b++) bins[b] = 0.0;
  for (int64_t i = 0; i < n; i++) {
    int b = (int)floor((scores[i] - lo) / (1.0 - lo) * HIST_BINS);
    b = b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b;
    bins[b] += 1.0 / (double)n;
  }
}

static void bars(FILE *f, const double *bins, double ymax, double x0, double y0, const char *colour) {
  double w = (double)PANEL_W / HIST_BINS;
  for (int b = 0; b < HIST_BINS; b++) {
    double h = ymax > 0 ? bins[b] / ymax * PANEL_H : 0.0;
    if (h > 0)
      fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' fill-opacity='0.55'/>\n",
              x0 + b * w, y0 + PANEL_H - h, w, h, colour);
  }
}

static void axes_box(FILE *f, double x0, double y0) {
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%d' height='%d' fill='none' stroke='#444'/>\n", x0, y0, PANEL_W,
          PANEL_H);
}

/* One histogram panel: the ID MSP against one OOD set's MSP (the paper's Figure 1). */
static void histogram_panel(FILE *f, const model_result *r, int k, int num_classes, double x0, double y0) {
  double lo = 1.0 / num_classes, id_bins[HIST_BINS], ood_bins[HIST_BINS], ymax = 0.0;
  histogram(r->id_scores, r->n_id, lo, id_bins);
  histogram(r->ood[k].scores, r->ood[k].n, lo, ood_bins);
  for (int b = 0; b < HIST_BINS; b++) ymax = fmax(ymax, fmax(id_bins[b], ood_bins[b]));
  bars(f, id_bins, ymax, x0, y0, "#1b9e77");
  bars(f, ood_bins, ymax, x0, y0, ood_colours[k]);
  axes_box(f, x0, y0);
  fprintf(f, "<text x='%.1f' y='%.1f' class='small'>%.2f</text>\n", x0, y0 + PANEL_H + 12, lo);
  fprintf(f, "<text x='%.1f' y='%.1f' class='small' text-anchor='end'>MSP 1.0</text>\n", x0 + PANEL_W,
          y0 + PANEL_H + 12);
  fprintf(f, "<text x='%.1f' y='%.1f' class='small'>ID vs %s: FPR95 %.1f%%</text>\n", x0 + 4, y0 + 12,
          r->ood[k].name, 100 * r->ood[k].fpr95);
}

static void roc_panel(FILE *f, const model_result *r, double x0, double y0) {
  axes_box(f, x0, y0);
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#bbb' stroke-dasharray='4 3'/>\n", x0,
          y0 + PANEL_H, x0 + PANEL_W, y0);
  for (int k = 0; k < r->num_ood; k++) {
    const ood_result *o = &r->ood[k];
    int64_t stride = o->roc_n > ROC_POINTS ? (o->roc_n + ROC_POINTS - 1) / ROC_POINTS : 1;
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", ood_colours[k]);
    for (int64_t i = 0; i < o->roc_n; i += stride)
      fprintf(f, "%.1f,%.1f ", x0 + o->roc_fpr[i] * PANEL_W, y0 + (1.0 - o->roc_tpr[i]) * PANEL_H);
    if (o->roc_n > 0 && (o->roc_n - 1) % stride != 0) /* always end at the last point */
      fprintf(f, "%.1f,%.1f", x0 + o->roc_fpr[o->roc_n - 1] * PANEL_W, y0 + (1.0 - o->roc_tpr[o->roc_n - 1]) * PANEL_H);
    fprintf(f, "'/>\n");
    fprintf(f, "<text x='%.1f' y='%.1f' class='small' fill='%s'>%s AUROC %.1f%%</text>\n", x0 + PANEL_W - 4,
            y0 + PANEL_H - 8 - 12 * (r->num_ood - 1 - k), ood_colours[k], o->name, 100 * o->auroc);
  }
  fprintf(f, "<text x='%.1f' y='%.1f' class='small'>FPR</text>\n", x0 + PANEL_W / 2.0, y0 + PANEL_H + 12);
  fprintf(f, "<text x='%.1f' y='%.1f' class='small'>TPR</text>\n", x0 - 24, y0 + PANEL_H / 2.0);
}

/* Average FPR95 against tau (log axis), with cross-entropy as a dashed line. */
static void sweep_panel(FILE *f, const model_result *models, int num_models, double x0, double y0) {
  double tmin = INFINITY, tmax = -INFINITY, ce = -1.0;
  int count = 0;
  for (int i = 0; i < num_models; i++) {
    if (!models[i].logitnorm) {
      ce = models[i].avg_fpr95;
      continue;
    }
    tmin = fmin(tmin, models[i].tau);
    tmax = fmax(tmax, models[i].tau);
    count++;
  }
  double w = 2.0 * PANEL_W, span = log(tmax / tmin);
  if (span <= 0) span = 1.0;
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='none' stroke='#444'/>\n", x0, y0, w, PANEL_H);
  if (ce >= 0) {
    double y = y0 + (1.0 - ce) * PANEL_H;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#1b9e77' stroke-dasharray='5 3'/>\n", x0, y,
            x0 + w, y);
    fprintf(f, "<text x='%.1f' y='%.1f' class='small' fill='#1b9e77'>CE %.1f%%</text>\n", x0 + 4, y - 3, 100 * ce);
  }
  fprintf(f, "<polyline fill='none' stroke='#d95f02' stroke-width='2' points='");
  for (int i = 0; i < num_models; i++)
    if (models[i].logitnorm)
      fprintf(f, "%.1f,%.1f ", x0 + 20 + (w - 40) * (count > 1 ? log(models[i].tau / tmin) / span : 0.5),
              y0 + (1.0 - models[i].avg_fpr95) * PANEL_H);
  fprintf(f, "'/>\n");
  for (int i = 0; i < num_models; i++)
    if (models[i].logitnorm) {
      double x = x0 + 20 + (w - 40) * (count > 1 ? log(models[i].tau / tmin) / span : 0.5);
      double y = y0 + (1.0 - models[i].avg_fpr95) * PANEL_H;
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='#d95f02'/>\n", x, y);
      fprintf(f, "<text x='%.1f' y='%.1f' class='small' text-anchor='middle'>%g</text>\n", x, y0 + PANEL_H + 12,
              models[i].tau);
      fprintf(f, "<text x='%.1f' y='%.1f' class='small' text-anchor='middle'>%.1f%%</text>\n", x, y - 6,
              100 * models[i].avg_fpr95);
    }
  fprintf(f, "<text x='%.1f' y='%.1f' class='small'>tau (log scale); y: average FPR95, 0 to 100%%</text>\n", x0,
          y0 + PANEL_H + 26);
}

int write_svg_report(const char *path, const model_result *models, int num_models, int num_classes,
                     const char *subtitle) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    return -1;
  }
  int num_ood = num_models > 0 ? models[0].num_ood : 0, logitnorm_count = 0;
  for (int i = 0; i < num_models; i++) logitnorm_count += models[i].logitnorm;
  int has_sweep = logitnorm_count > 1;
  double col_w = PANEL_W + MARGIN, row_h = PANEL_H + 30;
  double width = MARGIN + num_models * col_w;
  if (width < 3 * PANEL_W) width = 3 * PANEL_W;
  double hist_top = 90, roc_top = hist_top + num_ood * row_h + 40, sweep_top = roc_top + row_h + 40;
  double height = (has_sweep ? sweep_top + row_h + 30 : roc_top + row_h + 10);

  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f'>\n", width,
          height, width, height);
  fprintf(f, "<style>text{font-family:sans-serif;font-size:13px} .small{font-size:10px} "
             ".title{font-size:17px;font-weight:bold}</style>\n");
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  fprintf(f, "<text x='%d' y='24' class='title'>liblogitnorm: cross-entropy vs LogitNorm, OOD detection by MSP</text>\n",
          MARGIN);
  fprintf(f, "<text x='%d' y='44'>%s</text>\n", MARGIN, subtitle);
  fprintf(f, "<text x='%d' y='62' class='small'>Histograms: fraction of samples per MSP bin; green = ID test "
             "set, colour = OOD set. FPR95: OOD accepted at 95%% ID recall.</text>\n", MARGIN);

  for (int i = 0; i < num_models; i++) {
    char title[64];
    model_title(&models[i], title, sizeof title);
    double x0 = MARGIN + i * col_w;
    fprintf(f, "<text x='%.1f' y='%.1f'>%s: acc %.3f, avg FPR95 %.1f%%</text>\n", x0, hist_top - 8, title,
            models[i].accuracy, 100 * models[i].avg_fpr95);
    for (int k = 0; k < models[i].num_ood; k++)
      histogram_panel(f, &models[i], k, num_classes, x0, hist_top + k * row_h);
    fprintf(f, "<text x='%.1f' y='%.1f'>ROC, %s</text>\n", x0, roc_top - 8, title);
    roc_panel(f, &models[i], x0, roc_top);
  }
  if (has_sweep) {
    fprintf(f, "<text x='%d' y='%.1f'>Average FPR95 against the LogitNorm temperature tau</text>\n", MARGIN,
            sweep_top - 8);
    sweep_panel(f, models, num_models, MARGIN, sweep_top);
  }
  fprintf(f, "</svg>\n");
  int bad = ferror(f);
  if (fclose(f) || bad) {
    fprintf(stderr, "mlp_ood: error writing %s\n", path);
    return -1;
  }
  return 0;
}
