/* The mlp_ood outputs for other tools: a JSON summary, a self-contained SVG report in the order of
   the paper's argument (the logit norm, the MSP histograms, the ROC curves, every score), and the
   tau sweep's SVG (average FPR95, accuracy and the loss's lower bound against tau).

   Layout rule of both SVGs: every text sits outside the plot boxes (titles above, ticks and
   legends below or beside), so no label can cover a curve or another label. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logitnorm.h>

#include "mlp_ood.h"

/* ---------------------------------------------------------------- JSON */

static void json_model(FILE *f, const model_result *r) {
  fprintf(f, "{\"loss\":\"%s\",", r->logitnorm ? "logitnorm" : "ce");
  if (r->logitnorm)
    fprintf(f, "\"tau\":%.17g,", r->tau);
  else
    fprintf(f, "\"tau\":null,"); /* cross-entropy has no temperature */
  fprintf(f, "\"accuracy\":%.6f,\"ece\":%.6f,\"ood\":{", r->accuracy, r->ece);
  for (int k = 0; k < r->num_ood; k++)
    fprintf(f, "%s\"%s\":{\"fpr95\":%.6f,\"auroc\":%.6f,\"aupr_in\":%.6f}", k ? "," : "", r->ood[k].name,
            r->ood[k].fpr95, r->ood[k].auroc, r->ood[k].aupr_in);
  fprintf(f, "},\"avg_fpr95\":%.6f,\"avg_auroc\":%.6f,", r->avg_fpr95, r->avg_auroc);
  fprintf(f, "\n  \"logit_norm_by_epoch\":[");
  for (int e = 0; e < r->epochs; e++) fprintf(f, "%s%.6g", e ? "," : "", r->norm_by_epoch[e]);
  fprintf(f, "],\n  \"logit_norm\":{\"ID\":%.6g", r->id_norm_mean);
  for (int k = 0; k < r->num_ood; k++) fprintf(f, ",\"%s\":%.6g", r->ood[k].name, r->ood[k].norm_mean);
  fprintf(f, "},\n  ");
  if (r->has_lower_bound)
    fprintf(f, "\"lower_bound\":%.17g,", r->lower_bound);
  else
    fprintf(f, "\"lower_bound\":null,"); /* cross-entropy without smoothing: infimum 0, not attained */
  fprintf(f, "\"final_train_loss\":%.17g,\n  \"scores\":{", r->final_train_loss);
  for (int k = 0; k < NUM_SCORES; k++)
    fprintf(f, "%s\"%s\":{\"avg_fpr95\":%.6f,\"avg_auroc\":%.6f}", k ? "," : "", score_names[k],
            r->scores[k].avg_fpr95, r->scores[k].avg_auroc);
  fprintf(f, "}}");
}

static int close_checked(FILE *f, const char *path) {
  int bad = ferror(f);
  if (fclose(f) || bad) {
    fprintf(stderr, "mlp_ood: error writing %s\n", path);
    return -1;
  }
  return 0;
}

int write_json(const char *path, const model_result *models, int num_models) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    return -1;
  }
  fprintf(f, "{\"models\":[");
  for (int i = 0; i < num_models; i++) {
    fprintf(f, "%s\n ", i ? "," : "");
    json_model(f, &models[i]);
  }
  fprintf(f, "\n]}\n");
  return close_checked(f, path);
}

/* ---------------------------------------------------------------- SVG helpers */

#define HIST_BINS 30
#define PANEL_W 260
#define PANEL_H 140
#define LEFT 60     /* room for the first column's y tick labels */
#define COL_GAP 80  /* between panels: the next panel's y ticks and title */
#define LINE 13     /* height of one small text line */
#define ROC_POINTS 400 /* the most points drawn per ROC curve */

static const char *const id_colour = "#1b9e77";
static const char *const ood_colours[OOD_MAX_SETS] = {"#d95f02", "#7570b3", "#e7298a", "#66a61e"};
/* model colours, apart from the set colours above */
static const char *const model_colours[] = {"#1f78b4", "#b2182b", "#8c510a", "#35978f",
                                            "#762a83", "#bf812d", "#2166ac", "#4d4d4d"};

/* Cross-entropy draws in dark grey; the LogitNorm models take the palette in order. */
static const char *model_colour(const model_result *models, int i) {
  if (!models[i].logitnorm) return "#000000";
  int j = 0;
  for (int m = 0; m < i; m++) j += models[m].logitnorm;
  return model_colours[j % (int)(sizeof model_colours / sizeof *model_colours)];
}

static void model_title(const model_result *r, char *buf, size_t len) {
  if (r->logitnorm)
    snprintf(buf, len, "LogitNorm, \xcf\x84 = %g", r->tau); /* UTF-8 tau */
  else
    snprintf(buf, len, "Cross-entropy");
}

/* <text> at (x, y) with a class ("" for the default size), an anchor and printf arguments. */
static void text(FILE *f, double x, double y, const char *cls, const char *anchor, const char *fmt, ...) {
  fprintf(f, "<text x='%.1f' y='%.1f'", x, y);
  if (cls[0]) fprintf(f, " class='%s'", cls);
  if (anchor[0]) fprintf(f, " text-anchor='%s'", anchor);
  fprintf(f, ">");
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fprintf(f, "</text>\n");
}

static void box(FILE *f, double x0, double y0, double w, double h) {
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n", x0, y0, w, h);
}

/* A short coloured line and a label: one legend entry. */
static void legend_entry(FILE *f, double x, double y, const char *colour, const char *dash, const char *label) {
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s%s%s/>\n", x, y - 4,
          x + 16, y - 4, colour, dash[0] ? " stroke-dasharray='" : "", dash, dash[0] ? "'" : "");
  text(f, x + 20, y, "small", "", "%s", label);
}

/* A step outline of a histogram (bins fractions, ymax at the top of the box). */
static void hist_outline(FILE *f, const double *bins, int nbins, double ymax, double x0, double y0,
                         const char *colour, int filled) {
  double w = (double)PANEL_W / nbins;
  fprintf(f, "<polyline fill='%s' fill-opacity='0.25' stroke='%s' stroke-width='1.3' points='%.1f,%.1f ",
          filled ? colour : "none", colour, x0, y0 + PANEL_H);
  for (int b = 0; b < nbins; b++) {
    double y = y0 + PANEL_H - (ymax > 0 ? bins[b] / ymax * PANEL_H : 0.0);
    fprintf(f, "%.1f,%.1f %.1f,%.1f ", x0 + b * w, y, x0 + (b + 1) * w, y);
  }
  fprintf(f, "%.1f,%.1f'/>\n", x0 + PANEL_W, y0 + PANEL_H);
}

/* Fractions of values per bin over [lo, hi]; values outside go to the end bins. */
static void histogram(const float *v, int64_t n, double lo, double hi, double *bins) {
  for (int b = 0; b < HIST_BINS; b++) bins[b] = 0.0;
  for (int64_t i = 0; i < n; i++) {
    int b = (int)floor((v[i] - lo) / (hi - lo) * HIST_BINS);
    b = b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b;
    bins[b] += 1.0 / (double)n;
  }
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n values, by sorting a copy; 0 if the copy cannot be made. */
static double quantile(const float *v, int64_t n, double q) {
  float *c = malloc((size_t)n * sizeof *c);
  if (!c || n == 0) {
    free(c);
    return 0.0;
  }
  memcpy(c, v, (size_t)n * sizeof *c);
  qsort(c, (size_t)n, sizeof *c, cmp_float);
  double r = c[(int64_t)floor(q * (double)(n - 1))];
  free(c);
  return r;
}

/* A round step for about `ticks` intervals over [0, hi]. */
static double nice_step(double hi, int ticks) {
  double raw = hi / ticks, p = pow(10.0, floor(log10(raw))), m = raw / p;
  return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 2.5 ? 2.5 : m <= 5.0 ? 5.0 : 10.0) * p;
}

/* y ticks 0, step, ... up to hi on the left of a box of height h. */
static void y_ticks(FILE *f, double x0, double y0, double h, double lo, double hi, double step, const char *fmt,
                    double scale) {
  for (double v = lo; v <= hi * (1 + 1e-9); v += step) {
    double y = y0 + h - (v - lo) / (hi - lo) * h;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x0 - 4, y, x0, y);
    char buf[32];
    snprintf(buf, sizeof buf, fmt, v * scale);
    text(f, x0 - 6, y + 3.5, "small", "end", "%s", buf);
  }
}

/* ---------------------------------------------------------------- report panels */

/* Panel 1a: mean ||z|| of the training logits against epoch, one line per model. Returns the
   height used below the box by its legend. */
static double norm_epoch_panel(FILE *f, const model_result *models, int num_models, double x0, double y0) {
  int epochs = 0;
  double ymax = 0.0;
  for (int i = 0; i < num_models; i++) {
    if (models[i].epochs > epochs) epochs = models[i].epochs;
    for (int e = 0; e < models[i].epochs; e++) ymax = fmax(ymax, models[i].norm_by_epoch[e]);
  }
  double step = nice_step(ymax > 0 ? ymax : 1.0, 4);
  ymax = step * ceil((ymax > 0 ? ymax : 1.0) / step);
  text(f, x0, y0 - 8, "", "", "Mean ||z|| of the training logits");
  box(f, x0, y0, PANEL_W, PANEL_H);
  y_ticks(f, x0, y0, PANEL_H, 0.0, ymax, step, "%g", 1.0);
  double dx = epochs > 1 ? (double)PANEL_W / (epochs - 1) : 0.0;
  for (int i = 0; i < num_models; i++) {
    const model_result *r = &models[i];
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.8' points='", model_colour(models, i));
    for (int e = 0; e < r->epochs; e++)
      fprintf(f, "%.1f,%.1f ", x0 + (epochs > 1 ? e * dx : PANEL_W / 2.0),
              y0 + PANEL_H - r->norm_by_epoch[e] / ymax * PANEL_H);
    fprintf(f, "'/>\n");
  }
  text(f, x0, y0 + PANEL_H + 12, "small", "", "1");
  text(f, x0 + PANEL_W / 2.0, y0 + PANEL_H + 12, "small", "middle", "epoch");
  text(f, x0 + PANEL_W, y0 + PANEL_H + 12, "small", "end", "%d", epochs);
  double y = y0 + PANEL_H + 12 + LINE + 4;
  for (int i = 0; i < num_models; i++) {
    char title[64];
    model_title(&models[i], title, sizeof title);
    legend_entry(f, x0 + (i % 2) * (PANEL_W / 2.0), y + (i / 2) * LINE, model_colour(models, i), "", title);
  }
  return 12 + LINE * (1 + (num_models + 1) / 2) + 4;
}

/* Panel 1b: the ||z|| distribution of the ID test set and of each OOD set, for one model. The
   x range ends at the largest per-set 99th percentile, so one far tail cannot flatten the rest. */
static void norm_hist_panel(FILE *f, const model_result *r, double x0, double y0) {
  double hi = quantile(r->id_norms, r->n_id, 0.99), bins[OOD_MAX_SETS + 1][HIST_BINS], ymax = 0.0;
  for (int k = 0; k < r->num_ood; k++) hi = fmax(hi, quantile(r->ood[k].norms, r->ood[k].n, 0.99));
  if (!(hi > 0)) hi = 1.0;
  histogram(r->id_norms, r->n_id, 0.0, hi, bins[0]);
  for (int k = 0; k < r->num_ood; k++) histogram(r->ood[k].norms, r->ood[k].n, 0.0, hi, bins[k + 1]);
  for (int k = 0; k <= r->num_ood; k++)
    for (int b = 0; b < HIST_BINS; b++) ymax = fmax(ymax, bins[k][b]);
  char title[64];
  model_title(r, title, sizeof title);
  text(f, x0, y0 - 8, "", "", "||z|| per test set, %s", title);
  hist_outline(f, bins[0], HIST_BINS, ymax, x0, y0, id_colour, 1);
  for (int k = 0; k < r->num_ood; k++) hist_outline(f, bins[k + 1], HIST_BINS, ymax, x0, y0, ood_colours[k], 0);
  box(f, x0, y0, PANEL_W, PANEL_H);
  text(f, x0, y0 + PANEL_H + 12, "small", "", "0");
  text(f, x0 + PANEL_W / 2.0, y0 + PANEL_H + 12, "small", "middle", "||z||");
  text(f, x0 + PANEL_W, y0 + PANEL_H + 12, "small", "end", "%.3g", hi);
  text(f, x0, y0 + PANEL_H + 12 + LINE, "small", "", "mean ||z||: ID %.2f  (last bin: %.3g and more)", r->id_norm_mean,
       hi);
  for (int k = 0; k < r->num_ood; k++)
    text(f, x0 + (k % 2 ? PANEL_W / 2.0 : 0.0), y0 + PANEL_H + 12 + LINE * (2 + k / 2), "small", "", "%s %.2f",
         r->ood[k].name, r->ood[k].norm_mean);
}

/* The largest MSP of a model on any test set, rounded up to a tenth: the right end of its MSP
   histograms. A LogitNorm model's raw logits are small, so its MSP stays far below 1. */
static double msp_top(const model_result *r) {
  float top = 0.0f;
  for (int64_t i = 0; i < r->n_id; i++) top = r->id_scores[i] > top ? r->id_scores[i] : top;
  for (int k = 0; k < r->num_ood; k++)
    for (int64_t i = 0; i < r->ood[k].n; i++) top = r->ood[k].scores[i] > top ? r->ood[k].scores[i] : top;
  double hi = ceil(top * 10.0 - 1e-9) / 10.0;
  return hi > 1.0 ? 1.0 : hi;
}

/* Panel 2: the ID MSP against one OOD set's MSP (the paper's Figure 1), over [1/C, msp_top]. */
static void msp_panel(FILE *f, const model_result *r, int k, int num_classes, double x0, double y0) {
  double lo = 1.0 / num_classes, hi = msp_top(r), id_bins[HIST_BINS], ood_bins[HIST_BINS], ymax = 0.0;
  if (!(hi > lo)) hi = 1.0;
  histogram(r->id_scores, r->n_id, lo, hi, id_bins);
  histogram(r->ood[k].scores, r->ood[k].n, lo, hi, ood_bins);
  for (int b = 0; b < HIST_BINS; b++) ymax = fmax(ymax, fmax(id_bins[b], ood_bins[b]));
  text(f, x0, y0 - 5, "small", "", "ID vs %s: FPR95 %.1f%%", r->ood[k].name, 100 * r->ood[k].fpr95);
  hist_outline(f, id_bins, HIST_BINS, ymax, x0, y0, id_colour, 1);
  hist_outline(f, ood_bins, HIST_BINS, ymax, x0, y0, ood_colours[k], 1);
  box(f, x0, y0, PANEL_W, PANEL_H);
  text(f, x0, y0 + PANEL_H + 12, "small", "", "%.2f", lo);
  text(f, x0 + PANEL_W / 2.0, y0 + PANEL_H + 12, "small", "middle", "MSP");
  text(f, x0 + PANEL_W, y0 + PANEL_H + 12, "small", "end", "%.1f", hi);
}

/* Panel 3: ROC curves of one model, the legend with the AUROCs below the box. */
static void roc_panel(FILE *f, const model_result *r, double x0, double y0) {
  char title[64];
  model_title(r, title, sizeof title);
  text(f, x0, y0 - 8, "", "", "ROC by MSP, %s", title);
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#bbb' stroke-dasharray='4 3'/>\n", x0,
          y0 + PANEL_H, x0 + PANEL_W, y0);
  for (int k = 0; k < r->num_ood; k++) {
    const ood_result *o = &r->ood[k];
    int64_t stride = o->roc_n > ROC_POINTS ? (o->roc_n + ROC_POINTS - 1) / ROC_POINTS : 1;
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", ood_colours[k]);
    for (int64_t i = 0; i < o->roc_n; i += stride)
      fprintf(f, "%.1f,%.1f ", x0 + o->roc_fpr[i] * PANEL_W, y0 + (1.0 - o->roc_tpr[i]) * PANEL_H);
    if (o->roc_n > 0 && (o->roc_n - 1) % stride != 0) /* always end at the last point */
      fprintf(f, "%.1f,%.1f", x0 + o->roc_fpr[o->roc_n - 1] * PANEL_W,
              y0 + (1.0 - o->roc_tpr[o->roc_n - 1]) * PANEL_H);
    fprintf(f, "'/>\n");
  }
  box(f, x0, y0, PANEL_W, PANEL_H);
  y_ticks(f, x0, y0, PANEL_H, 0.0, 1.0, 0.5, "%g", 1.0);
  text(f, x0, y0 + PANEL_H + 12, "small", "", "0");
  text(f, x0 + PANEL_W / 2.0, y0 + PANEL_H + 12, "small", "middle", "FPR (y: TPR)");
  text(f, x0 + PANEL_W, y0 + PANEL_H + 12, "small", "end", "1");
  for (int k = 0; k < r->num_ood; k++) {
    char label[64];
    snprintf(label, sizeof label, "%s: AUROC %.1f%%", r->ood[k].name, 100 * r->ood[k].auroc);
    legend_entry(f, x0, y0 + PANEL_H + 12 + LINE * (1 + k) + 4, ood_colours[k], "", label);
  }
}

#define TABLE_NAME_W 110
#define TABLE_GROUP_W 250
#define TABLE_ROW_H 20
#define TABLE_BAR_W 90

/* Panel 4: average FPR95 (with a bar, 0 to 100%) and AUROC per score and model; the lowest FPR95
   of each row in bold. Returns its height. */
static double score_table(FILE *f, const model_result *models, int num_models, double x0, double y0) {
  double y = y0;
  for (int i = 0; i < num_models; i++) {
    char title[64];
    model_title(&models[i], title, sizeof title);
    double gx = x0 + TABLE_NAME_W + i * TABLE_GROUP_W;
    text(f, gx, y, "", "", "%s", title);
    text(f, gx, y + LINE + 2, "small", "", "avg FPR95");
    text(f, gx + TABLE_BAR_W + 80, y + LINE + 2, "small", "", "avg AUROC");
  }
  text(f, x0, y + LINE + 2, "small", "", "score");
  y += LINE + 8;
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x0, y,
          x0 + TABLE_NAME_W + num_models * TABLE_GROUP_W, y);
  for (int k = 0; k < NUM_SCORES; k++) {
    double best = INFINITY;
    for (int i = 0; i < num_models; i++) best = fmin(best, models[i].scores[k].avg_fpr95);
    double ty = y + (k + 1) * TABLE_ROW_H - 6;
    if (k % 2 == 0)
      fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='#f2f2f2'/>\n", x0, y + k * TABLE_ROW_H,
              (double)(TABLE_NAME_W + num_models * TABLE_GROUP_W), TABLE_ROW_H);
    text(f, x0 + 4, ty, "", "", "%s", score_titles[k]);
    for (int i = 0; i < num_models; i++) {
      const score_summary *s = &models[i].scores[k];
      double gx = x0 + TABLE_NAME_W + i * TABLE_GROUP_W;
      fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='%s' fill-opacity='0.6'/>\n", gx,
              y + k * TABLE_ROW_H + 4, s->avg_fpr95 * TABLE_BAR_W, TABLE_ROW_H - 8, model_colour(models, i));
      fprintf(f, "<rect x='%.1f' y='%.1f' width='%d' height='%d' fill='none' stroke='#bbb'/>\n", gx,
              y + k * TABLE_ROW_H + 4, TABLE_BAR_W, TABLE_ROW_H - 8);
      text(f, gx + TABLE_BAR_W + 6, ty, s->avg_fpr95 == best && num_models > 1 ? "bold" : "", "", "%.1f%%",
           100 * s->avg_fpr95);
      text(f, gx + TABLE_BAR_W + 80, ty, "", "", "%.1f%%", 100 * s->avg_auroc);
    }
  }
  y += NUM_SCORES * TABLE_ROW_H;
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x0, y,
          x0 + TABLE_NAME_W + num_models * TABLE_GROUP_W, y);
  text(f, x0, y + LINE + 2, "small", "",
       "Bars: average FPR95 on a 0-100%% scale; bold: the lowest of the row. Energy at T = 1; ODIN: T = 1000, "
       "input step 0.0014 on standardised pixels; GradNorm: the last layer as the head.");
  return y + LINE + 2 - y0;
}

/* ---------------------------------------------------------------- the report */

static void svg_header(FILE *f, double width, double height) {
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f'>\n", width,
          height, width, height);
  fprintf(f, "<style>text{font-family:sans-serif;font-size:13px} .small{font-size:10px} "
             ".title{font-size:17px;font-weight:bold} .section{font-size:15px;font-weight:bold} "
             ".bold{font-weight:bold}</style>\n");
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
}

/* The set colours, once for the whole report. */
static void set_legend(FILE *f, const model_result *r, double x, double y) {
  text(f, x, y, "small", "", "Colours:");
  legend_entry(f, x + 50, y, id_colour, "", "ID test set");
  for (int k = 0; k < r->num_ood; k++) legend_entry(f, x + 140 + 100 * k, y, ood_colours[k], "", r->ood[k].name);
}

int write_svg_report(const char *path, const model_result *models, int num_models, int num_classes,
                     const char *subtitle) {
  if (num_models < 1) return 0;
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    return -1;
  }
  int num_ood = models[0].num_ood;
  double col_w = PANEL_W + COL_GAP;
  /* Section tops: each section is a heading (20), then panels with their titles above (22). */
  double legend_h = 12 + LINE * (1 + (num_models + 1) / 2) + 4;
  double norm_below = fmax(legend_h, 12 + LINE * (2 + (OOD_MAX_SETS + 1) / 2));
  double s1 = 118, p1 = s1 + 42;
  double s2 = p1 + PANEL_H + norm_below + 30, p2 = s2 + 58;
  double msp_row = PANEL_H + 16 + 22;
  double s3 = p2 + num_ood * msp_row + 16, p3 = s3 + 42;
  double s4 = p3 + PANEL_H + 12 + LINE * (1 + OOD_MAX_SETS) + 34, p4 = s4 + 30;
  double table_h = LINE + 8 + NUM_SCORES * TABLE_ROW_H + LINE + 2;
  double height = p4 + table_h + 20;
  double width = LEFT + (num_models + 1) * col_w;
  width = fmax(width, LEFT + TABLE_NAME_W + num_models * TABLE_GROUP_W + 40);
  width = fmax(width, 900);

  svg_header(f, width, height);
  text(f, LEFT, 26, "title", "", "liblogitnorm: cross-entropy vs LogitNorm, out-of-distribution detection");
  text(f, LEFT, 46, "", "", "%s", subtitle);
  set_legend(f, &models[0], LEFT, 70);
  text(f, LEFT, 88, "small", "",
       "ID = the test set of the training data (the positive class); FPR95 = share of an OOD set accepted at 95%% ID "
       "recall.");

  fprintf(f, "<g id='panel-logit-norm'>\n");
  text(f, LEFT, s1, "section", "",
       "1. The logit norm ||z||: during training, and on each test set after it");
  norm_epoch_panel(f, models, num_models, LEFT, p1);
  fprintf(f, "</g>\n<g id='panel-norm-histograms'>\n");
  for (int i = 0; i < num_models; i++) norm_hist_panel(f, &models[i], LEFT + (i + 1) * col_w, p1);
  fprintf(f, "</g>\n<g id='panel-msp-histograms'>\n");
  text(f, LEFT, s2, "section", "", "2. Max softmax probability (MSP): ID test set against each OOD set");
  for (int i = 0; i < num_models; i++) {
    char title[64];
    model_title(&models[i], title, sizeof title);
    double x0 = LEFT + i * col_w;
    text(f, x0, s2 + 22, "bold", "", "%s", title);
    text(f, x0, s2 + 22 + LINE + 2, "small", "", "accuracy %.3f, average FPR95 %.1f%%; MSP axis 1/C to %.1f",
         models[i].accuracy, 100 * models[i].avg_fpr95, msp_top(&models[i]));
    for (int k = 0; k < models[i].num_ood; k++) msp_panel(f, &models[i], k, num_classes, x0, p2 + k * msp_row);
  }
  fprintf(f, "</g>\n<g id='panel-roc'>\n");
  text(f, LEFT, s3, "section", "", "3. ROC curves by MSP (ID positive)");
  for (int i = 0; i < num_models; i++) roc_panel(f, &models[i], LEFT + i * col_w, p3);
  fprintf(f, "</g>\n<g id='panel-score-table'>\n");
  text(f, LEFT, s4, "section", "", "4. Every score, averaged over the OOD sets");
  score_table(f, models, num_models, LEFT, p4);
  fprintf(f, "</g>\n</svg>\n");
  return close_checked(f, path);
}

/* ---------------------------------------------------------------- the tau sweep */

#define SWEEP_W 560
#define SWEEP_H 150
#define SWEEP_POINTS 80

typedef struct tau_axis {
  double lo, hi; /* log(tau) at the left and right edges */
  double x0;
} tau_axis;

static double tau_x(const tau_axis *a, double tau) { return a->x0 + (log(tau) - a->lo) / (a->hi - a->lo) * SWEEP_W; }

/* The y axis of one sweep panel: range, tick step, tick and value formats, and the scale applied
   to a value before printing (100 for rates printed in %). */
typedef struct sweep_axis {
  double lo, hi, step;
  const char *tick_fmt, *value_fmt;
  double scale;
} sweep_axis;

/* One sweep panel: a LogitNorm line over tau (values[i] for models[i]), the CE value as a dashed
   line labelled on the right, and below the box each trained tau with its value (and, if extra is
   not NULL, a third row of numbers named extra_name). */
static void sweep_panel(FILE *f, const model_result *models, int num_models, const double *values, double ce,
                        const tau_axis *a, double y0, const sweep_axis *y, const char *title, const double *extra,
                        const char *extra_name) {
  char buf[32];
  text(f, a->x0, y0 - 8, "", "", "%s", title);
  box(f, a->x0, y0, SWEEP_W, SWEEP_H);
  y_ticks(f, a->x0, y0, SWEEP_H, y->lo, y->hi, y->step, y->tick_fmt, y->scale);
#define SWEEP_Y(v) (y0 + SWEEP_H - ((v) - y->lo) / (y->hi - y->lo) * SWEEP_H)
  if (!isnan(ce)) {
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333' stroke-dasharray='5 3'/>\n", a->x0,
            SWEEP_Y(ce), a->x0 + SWEEP_W, SWEEP_Y(ce));
    snprintf(buf, sizeof buf, y->value_fmt, ce * y->scale);
    text(f, a->x0 + SWEEP_W + 6, SWEEP_Y(ce) + 3.5, "small", "", "CE %s", buf);
  }
  fprintf(f, "<polyline fill='none' stroke='#d95f02' stroke-width='2' points='");
  for (int i = 0; i < num_models; i++)
    if (models[i].logitnorm) fprintf(f, "%.1f,%.1f ", tau_x(a, models[i].tau), SWEEP_Y(values[i]));
  fprintf(f, "'/>\n");
  double row = y0 + SWEEP_H + 18;
  text(f, a->x0 - 6, row, "small", "end", "\xcf\x84");
  text(f, a->x0 - 6, row + LINE, "small", "end", "value");
  if (extra) text(f, a->x0 - 6, row + 2 * LINE, "small", "end", "%s", extra_name);
  for (int i = 0; i < num_models; i++)
    if (models[i].logitnorm) {
      double x = tau_x(a, models[i].tau);
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='#d95f02'/>\n", x, SWEEP_Y(values[i]));
      text(f, x, row, "small", "middle", "%g", models[i].tau);
      snprintf(buf, sizeof buf, y->value_fmt, values[i] * y->scale);
      text(f, x, row + LINE, "small", "middle", "%s", buf);
      if (extra) {
        snprintf(buf, sizeof buf, y->value_fmt, extra[i] * y->scale);
        text(f, x, row + 2 * LINE, "small", "middle", "%s", buf);
      }
    }
#undef SWEEP_Y
}

int write_tau_svg(const char *path, const model_result *models, int num_models, int num_classes,
                  const char *subtitle) {
  double tmin = INFINITY, tmax = -INFINITY, ce_fpr = NAN, ce_acc = NAN, ce_loss = NAN;
  double acc_lo = INFINITY, acc_hi = -INFINITY, loss_hi = 0.0;
  double fpr[64], acc[64], loss[64], bound[64];
  if (num_models > 64) num_models = 64;
  for (int i = 0; i < num_models; i++) {
    const model_result *r = &models[i];
    fpr[i] = r->avg_fpr95;
    acc[i] = r->accuracy;
    loss[i] = r->final_train_loss;
    bound[i] = r->lower_bound;
    acc_lo = fmin(acc_lo, r->accuracy);
    acc_hi = fmax(acc_hi, r->accuracy);
    if (!r->logitnorm) {
      ce_fpr = r->avg_fpr95;
      ce_acc = r->accuracy;
      ce_loss = r->final_train_loss;
      loss_hi = fmax(loss_hi, r->final_train_loss);
      continue;
    }
    tmin = fmin(tmin, r->tau);
    tmax = fmax(tmax, r->tau);
    loss_hi = fmax(loss_hi, fmax(r->final_train_loss, r->lower_bound));
  }
  if (!(tmin <= tmax)) {
    fprintf(stderr, "mlp_ood: the tau report needs at least one LogitNorm model\n");
    return -1;
  }
  /* the lower bound on a fine grid over the drawn range, from the library */
  tau_axis a = {log(tmin) - 0.35, log(tmax) + 0.35, LEFT + 10};
  double curve[SWEEP_POINTS];
  logitnorm_loss *loss_h = NULL;
  logitnorm_status st = logitnorm_loss_create(&loss_h, LOGITNORM_LOSS_LOGITNORM, num_classes);
  for (int p = 0; p < SWEEP_POINTS && st == LOGITNORM_OK; p++) {
    double tau = exp(a.lo + (a.hi - a.lo) * p / (SWEEP_POINTS - 1));
    st = logitnorm_loss_set(loss_h, LOGITNORM_LOSS_TEMPERATURE, tau);
    if (st == LOGITNORM_OK) st = logitnorm_loss_lower_bound(loss_h, &curve[p]);
    if (st == LOGITNORM_OK) loss_hi = fmax(loss_hi, curve[p]);
  }
  logitnorm_loss_free(loss_h);
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "mlp_ood: lower bound for the tau report: %s (%s)\n", logitnorm_status_string(st),
            logitnorm_last_error());
    return -1;
  }
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    return -1;
  }
  double gap = SWEEP_H + 80, top = 96;
  double width = a.x0 + SWEEP_W + 110, height = top + 3 * gap + 20;
  svg_header(f, width, height);
  text(f, LEFT, 26, "title", "", "liblogitnorm: the LogitNorm temperature \xcf\x84");
  text(f, LEFT, 46, "", "", "%s", subtitle);
  text(f, LEFT, 64, "small", "",
       "Orange: LogitNorm at each trained \xcf\x84 (log scale); dashed: cross-entropy. C = %d classes.", num_classes);

  fprintf(f, "<g id='panel-tau-fpr95'>\n");
  sweep_axis fpr_axis = {0.0, 1.0, 0.25, "%g%%", "%.1f%%", 100.0};
  sweep_panel(f, models, num_models, fpr, ce_fpr, &a, top, &fpr_axis, "Average FPR95 by MSP (lower is better)",
              NULL, "");
  fprintf(f, "</g>\n<g id='panel-tau-accuracy'>\n");
  /* accuracy: a round range around the values, about 4 ticks */
  double astep = nice_step(fmax(acc_hi - acc_lo, 0.01), 4);
  sweep_axis acc_axis = {astep * floor(acc_lo / astep), astep * ceil(acc_hi / astep), astep, "%.3g", "%.3f", 1.0};
  if (acc_axis.hi <= acc_axis.lo) acc_axis.hi = acc_axis.lo + astep;
  sweep_panel(f, models, num_models, acc, ce_acc, &a, top + gap, &acc_axis, "ID test accuracy", NULL, "");
  fprintf(f, "</g>\n<g id='panel-tau-bound'>\n");
  double lstep = nice_step(loss_hi > 0 ? loss_hi : 1.0, 4), lhi = lstep * ceil((loss_hi > 0 ? loss_hi : 1.0) / lstep);
  double y0 = top + 2 * gap;
  sweep_axis loss_axis = {0.0, lhi, lstep, "%g", "%.3g", 1.0};
  sweep_panel(f, models, num_models, loss, ce_loss, &a, y0, &loss_axis,
              "Final training loss (orange, value) and the loss's lower bound (blue, bound)", bound, "bound");
  fprintf(f, "<polyline fill='none' stroke='#1f78b4' stroke-width='2' points='");
  for (int p = 0; p < SWEEP_POINTS; p++)
    fprintf(f, "%.1f,%.1f ", a.x0 + SWEEP_W * (double)p / (SWEEP_POINTS - 1),
            y0 + SWEEP_H - curve[p] / lhi * SWEEP_H);
  fprintf(f, "'/>\n");
  text(f, a.x0, y0 + SWEEP_H + 18 + 3 * LINE + 4, "small", "",
       "Lower bound: logitnorm_loss_lower_bound, the infimum of the LogitNorm loss over all logits at C = %d", num_classes);
  text(f, a.x0, y0 + SWEEP_H + 18 + 4 * LINE + 4, "small", "",
       "(cross-entropy: 0). The training loss is the mean over the last epoch's batches.");
  fprintf(f, "</g>\n</svg>\n");
  return close_checked(f, path);
}
