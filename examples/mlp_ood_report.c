/* The mlp_ood outputs for other tools: a JSON summary, a self-contained SVG report in the order of
   the paper's argument (the logit norm, the MSP histograms, the ROC curves, every score), and the
   tau sweep's SVG (average FPR95, accuracy and the loss's lower bound against tau).

   The report's sections fill its width: panels sit in equal columns (one per OOD set for the MSP
   histograms and the ROC curves, one row per model), and the score table's groups share the
   width. Every text sits outside the plot frames (mlp_ood_svg.h), so no label covers a curve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logitnorm.h>

#include "mlp_ood.h"
#include "mlp_ood_svg.h"

/* ---------------------------------------------------------------- JSON */

static void json_model(FILE *f, const model_result *r) {
  fprintf(f, "{\"loss\":\"%s\",", r->logitnorm ? "logitnorm" : "ce");
  if (r->logitnorm)
    fprintf(f, "\"tau\":%.17g,", r->tau);
  else
    fprintf(f, "\"tau\":null,"); /* cross-entropy has no temperature */
  fprintf(f, "\"accuracy\":%.6f,\"ece\":%.6f,\"aurc\":%.6f,\"e_aurc\":%.6f,", r->accuracy, r->ece, r->aurc, r->e_aurc);
  if (isnan(r->temperature)) /* no finite minimiser on the held-out images */
    fprintf(f, "\"temperature\":null,\"held_out\":%lld,\"ece_scaled\":null,\"ood\":{", (long long)r->n_fit);
  else
    fprintf(f, "\"temperature\":%.17g,\"held_out\":%lld,\"ece_scaled\":%.6f,\"ood\":{", r->temperature,
            (long long)r->n_fit, r->ece_scaled);
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
  fprintf(f, "\"final_train_loss\":%.17g,\n  ", r->final_train_loss);
  /* the fitted scorers' training images, the KNN and NNGUIDE bank among them, DML's LAMBDA */
  fprintf(f, "\"feature_fit_rows\":%lld,\"bank_rows\":%lld,\"dml_lambda\":%.6g,\n  \"scores\":{",
          (long long)r->feature_fit_rows, (long long)r->bank_rows, r->dml_lambda);
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

/* ---------------------------------------------------------------- report layout */

#define HIST_BINS 30
#define PANEL_H 140
#define MIN_WIDTH 1080
#define LEFT (Y_AXIS_ROOM + 16)   /* the first column's y axis, and a margin */
#define RIGHT 16
#define COL_GAP (Y_AXIS_ROOM + 12) /* between panels: the next panel's y axis, and some air */
#define MAX_COLS 4
#define PANEL_TITLE_H 30 /* above a frame: its title */
#define ROC_POINTS 400   /* the most points drawn per ROC curve */
#define MAX_MODELS 64    /* the most models a row of bold marks compares (the demo trains at most 16) */

static const char *const id_colour = "#1b9e77";
static const char *const ood_colours[OOD_MAX_SETS] = {"#d95f02", "#7570b3", "#e7298a", "#66a61e"};
/* model colours, apart from the set colours above */
static const char *const model_colours[] = {"#1f78b4", "#b2182b", "#8c510a", "#35978f",
                                            "#762a83", "#bf812d", "#2166ac", "#4d4d4d"};

/* What every section draws from: the models and the report's width. */
typedef struct report {
  FILE *f;
  const model_result *models;
  int num_models, num_classes;
  double width;
} report;

/* Equal columns across the report's width; column i starts at x0 + i (w + gap). */
typedef struct grid {
  double x0, w, gap;
  int cols;
} grid;

static grid grid_across(double width, int cols) {
  return (grid){.x0 = LEFT, .w = (width - LEFT - RIGHT - (cols - 1) * COL_GAP) / cols, .gap = COL_GAP, .cols = cols};
}

static double grid_x(const grid *g, int i) { return g->x0 + (i % g->cols) * (g->w + g->gap); }

/* Cross-entropy draws in black; the LogitNorm models take the palette in order. */
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

/* The value a reader sees: v times mult, printed with fmt and read back. */
static double shown_value(double v, const char *fmt, double mult) {
  char buf[64];
  snprintf(buf, sizeof buf, fmt, v * mult);
  return strtod(buf, NULL);
}

/* 1 if values[i], as shown, is the best of the n (lowest if lower_is_better, else highest) and
   some other value shows worse: bold marks a difference the reader can see, never a tie. */
static int best_shown(const double *values, int n, int i, const char *fmt, double mult, int lower_is_better) {
  double mine = shown_value(values[i], fmt, mult);
  int worse = 0;
  for (int j = 0; j < n; j++) {
    double other = shown_value(values[j], fmt, mult);
    if (lower_is_better ? other < mine : other > mine) return 0;
    worse += other != mine;
  }
  return worse > 0;
}

/* A section's heading at y and its one-line introduction below. Returns the y under them. */
static double section_head(FILE *f, double y, const char *heading, const char *intro) {
  svg_text(f, LEFT, y, "section", "", "%s", heading);
  svg_text(f, LEFT, y + 18, "small", "", "%s", intro);
  return y + 18;
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

/* The y axis of histograms of fractions: 0 to the largest bin, ticks in %. */
static scale fraction_scale(double (*bins)[HIST_BINS], int sets) {
  double top = 0.0;
  for (int k = 0; k < sets; k++)
    for (int b = 0; b < HIST_BINS; b++) top = fmax(top, bins[k][b]);
  return scale_from_zero(top, 5, "%g%%", 100.0);
}

#define FRACTION_LABEL "% of set per bin"

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

/* ---------------------------------------------------------------- 1. the logit norm */

/* Model legend entries per line under a panel of width w. */
static int legend_per_line(double w) { return w >= 250 ? 2 : 1; }

/* Mean ||z|| of the training logits against epoch, one line per model, the model legend below. */
static void norm_epoch_panel(const report *rp, const frame *fr) {
  FILE *f = rp->f;
  int epochs = 1;
  double top = 0.0;
  for (int i = 0; i < rp->num_models; i++) {
    epochs = rp->models[i].epochs > epochs ? rp->models[i].epochs : epochs;
    for (int e = 0; e < rp->models[i].epochs; e++) top = fmax(top, rp->models[i].norm_by_epoch[e]);
  }
  double xstep = nice_step(epochs - 1.0, 4);
  scale xs = {.lo = 1, .hi = epochs > 1 ? epochs : 2, .step = xstep < 1 ? 1 : xstep, .fmt = "%g", .mult = 1};
  scale ys = scale_from_zero(top, 4, "%g", 1.0);
  svg_text(f, fr->x, fr->y - 8, "", "", "Mean ||z|| of the training logits");
  svg_box(f, fr);
  svg_x_axis(f, fr, &xs, "epoch");
  svg_y_axis(f, fr, &ys, "mean ||z||");
  for (int i = 0; i < rp->num_models; i++) {
    const model_result *r = &rp->models[i];
    const char *colour = model_colour(rp->models, i);
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.8' points='", colour);
    for (int e = 0; e < r->epochs; e++)
      fprintf(f, "%.1f,%.1f ", frame_x(fr, &xs, e + 1), frame_y(fr, &ys, r->norm_by_epoch[e]));
    fprintf(f, "'/>\n");
    for (int e = 0; e < r->epochs; e++)
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='2' fill='%s'/>\n", frame_x(fr, &xs, e + 1),
              frame_y(fr, &ys, r->norm_by_epoch[e]), colour);
  }
  int per_line = legend_per_line(fr->w);
  for (int i = 0; i < rp->num_models; i++) {
    char title[64];
    model_title(&rp->models[i], title, sizeof title);
    double x = fr->x + (i % per_line) * (fr->w / per_line), y = fr->y + fr->h + X_AXIS_ROOM + LINE * (1 + i / per_line);
    svg_legend_entry(f, x, y, model_colour(rp->models, i), "small", title);
  }
}

/* The ||z|| distribution of the ID test set and of each OOD set, for one model. The x range
   ends at the largest per-set 99th percentile rounded up, so one far tail cannot flatten the
   rest; the last bin also holds the values beyond it. The mean ||z|| per set below. */
static void norm_hist_panel(const report *rp, const model_result *r, const frame *fr) {
  FILE *f = rp->f;
  double q99 = quantile(r->id_norms, r->n_id, 0.99), bins[OOD_MAX_SETS + 1][HIST_BINS];
  for (int k = 0; k < r->num_ood; k++) q99 = fmax(q99, quantile(r->ood[k].norms, r->ood[k].n, 0.99));
  scale xs = scale_from_zero(q99, 5, "%g", 1.0);
  histogram(r->id_norms, r->n_id, 0.0, xs.hi, bins[0]);
  for (int k = 0; k < r->num_ood; k++) histogram(r->ood[k].norms, r->ood[k].n, 0.0, xs.hi, bins[k + 1]);
  scale ys = fraction_scale(bins, r->num_ood + 1);
  char title[64];
  model_title(r, title, sizeof title);
  svg_text(f, fr->x, fr->y - 8, "", "", "%s", title);
  svg_hist_outline(f, fr, bins[0], HIST_BINS, &ys, id_colour, 1);
  for (int k = 0; k < r->num_ood; k++) svg_hist_outline(f, fr, bins[k + 1], HIST_BINS, &ys, ood_colours[k], 0);
  svg_box(f, fr);
  svg_x_axis(f, fr, &xs, "||z|| of a test sample");
  svg_y_axis(f, fr, &ys, FRACTION_LABEL);
  double y = fr->y + fr->h + X_AXIS_ROOM + LINE;
  svg_text(f, fr->x, y, "small", "", "mean ||z||: ID %.2f", r->id_norm_mean);
  for (int k = 0; k < r->num_ood; k++)
    svg_text(f, fr->x + (k % 2) * (fr->w / 2.0), y + LINE * (1 + k / 2), "small", "", "%s %.2f", r->ood[k].name,
             r->ood[k].norm_mean);
}

/* Section 1: the epoch panel, then one ||z|| histogram per model, MAX_COLS panels a row. */
static double logit_norm_section(const report *rp, double y) {
  FILE *f = rp->f;
  int panels = 1 + rp->num_models, cols = panels < MAX_COLS ? panels : MAX_COLS;
  grid g = grid_across(rp->width, cols);
  int legend_lines = (rp->num_models + legend_per_line(g.w) - 1) / legend_per_line(g.w);
  int mean_lines = 1 + (OOD_MAX_SETS + 1) / 2;
  int lines_below = legend_lines > mean_lines ? legend_lines : mean_lines;
  double row_h = PANEL_TITLE_H + PANEL_H + X_AXIS_ROOM + LINE * lines_below + 12;
  char intro[256];
  snprintf(intro, sizeof intro,
           "Histograms: the height of a bin is the share of that set's samples in it (%d bins; the last one also "
           "holds the values beyond the axis).",
           HIST_BINS);
  fprintf(f, "<g id='panel-logit-norm'>\n");
  double top = section_head(f, y, "1. The logit norm ||z||: during training, and on each test set after it (one "
                            "panel per model)", intro) + PANEL_TITLE_H;
  norm_epoch_panel(rp, &(frame){.x = grid_x(&g, 0), .y = top, .w = g.w, .h = PANEL_H});
  fprintf(f, "</g>\n<g id='panel-norm-histograms'>\n");
  for (int p = 1; p < panels; p++) {
    frame fr = {.x = grid_x(&g, p), .y = top + (p / cols) * row_h, .w = g.w, .h = PANEL_H};
    norm_hist_panel(rp, &rp->models[p - 1], &fr);
  }
  fprintf(f, "</g>\n");
  return top + ((panels + cols - 1) / cols) * row_h;
}

/* ---------------------------------------------------------------- 2. MSP histograms */

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

/* The ID MSP against one OOD set's MSP (the paper's Figure 1), over [1/C, msp_top]. */
static void msp_panel(const report *rp, const model_result *r, int k, const frame *fr) {
  FILE *f = rp->f;
  double lo = 1.0 / rp->num_classes, hi = msp_top(r), bins[2][HIST_BINS];
  if (!(hi > lo)) hi = 1.0;
  scale xs = {.lo = lo, .hi = hi, .step = nice_step(hi - lo, 5), .fmt = "%g", .mult = 1.0};
  histogram(r->id_scores, r->n_id, lo, hi, bins[0]);
  histogram(r->ood[k].scores, r->ood[k].n, lo, hi, bins[1]);
  scale ys = fraction_scale(bins, 2);
  svg_text(f, fr->x, fr->y - 6, "small", "", "ID vs %s: FPR95 %.1f%%", r->ood[k].name, 100 * r->ood[k].fpr95);
  svg_hist_outline(f, fr, bins[0], HIST_BINS, &ys, id_colour, 1);
  svg_hist_outline(f, fr, bins[1], HIST_BINS, &ys, ood_colours[k], 1);
  svg_box(f, fr);
  svg_x_axis(f, fr, &xs, "MSP");
  svg_y_axis(f, fr, &ys, FRACTION_LABEL);
}

/* Section 2: one row per model, one column per OOD set. */
static double msp_section(const report *rp, double y) {
  FILE *f = rp->f;
  int num_ood = rp->models[0].num_ood;
  grid g = grid_across(rp->width, num_ood);
  double header_h = 2 * LINE + 20, row_h = header_h + PANEL_H + X_AXIS_ROOM + 22;
  char intro[256];
  snprintf(intro, sizeof intro,
           "Each panel: the share of each set's samples per bin, %d bins from 1/C to the model's largest MSP "
           "rounded up to a tenth. Filled green: the ID test set.",
           HIST_BINS);
  fprintf(f, "<g id='panel-msp-histograms'>\n");
  double row_y = section_head(f, y, "2. Max softmax probability (MSP): ID test set against each OOD set", intro) + 26;
  for (int i = 0; i < rp->num_models; i++, row_y += row_h) {
    const model_result *r = &rp->models[i];
    char title[64];
    model_title(r, title, sizeof title);
    svg_text(f, LEFT, row_y, "bold", "", "%s", title);
    svg_text(f, LEFT, row_y + LINE + 2, "small", "", "accuracy %.3f, average FPR95 %.1f%%", r->accuracy,
             100 * r->avg_fpr95);
    for (int k = 0; k < r->num_ood; k++)
      msp_panel(rp, r, k, &(frame){.x = grid_x(&g, k), .y = row_y + header_h, .w = g.w, .h = PANEL_H});
  }
  fprintf(f, "</g>\n");
  return row_y + 14;
}

/* ---------------------------------------------------------------- 3. ROC curves */

/* One model's ROC curve on one OOD set, at most ROC_POINTS points, always with the last. */
static void roc_curve(FILE *f, const frame *fr, const scale *unit, const ood_result *o, const char *colour) {
  int64_t stride = o->roc_n > ROC_POINTS ? (o->roc_n + ROC_POINTS - 1) / ROC_POINTS : 1;
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", colour);
  for (int64_t i = 0; i < o->roc_n; i += stride)
    fprintf(f, "%.1f,%.1f ", frame_x(fr, unit, o->roc_fpr[i]), frame_y(fr, unit, o->roc_tpr[i]));
  if (o->roc_n > 0 && (o->roc_n - 1) % stride != 0)
    fprintf(f, "%.1f,%.1f", frame_x(fr, unit, o->roc_fpr[o->roc_n - 1]), frame_y(fr, unit, o->roc_tpr[o->roc_n - 1]));
  fprintf(f, "'/>\n");
}

/* The ROC curves of every model on OOD set k, the AUROC of each below (the best in bold). */
static void roc_panel(const report *rp, int k, const frame *fr) {
  FILE *f = rp->f;
  scale unit = {.lo = 0.0, .hi = 1.0, .step = 0.25, .fmt = "%g", .mult = 1.0};
  svg_text(f, fr->x, fr->y - 8, "", "", "%s", rp->models[0].ood[k].name);
  svg_line(f, fr->x, fr->y + fr->h, fr->x + fr->w, fr->y, "stroke='#bbb' stroke-dasharray='4 3'");
  for (int i = 0; i < rp->num_models; i++) roc_curve(f, fr, &unit, &rp->models[i].ood[k], model_colour(rp->models, i));
  svg_box(f, fr);
  svg_x_axis(f, fr, &unit, "FPR (OOD accepted)");
  svg_y_axis(f, fr, &unit, "TPR (ID accepted)");
  double auroc[MAX_MODELS], y = fr->y + fr->h + X_AXIS_ROOM + LINE;
  int n = rp->num_models < MAX_MODELS ? rp->num_models : MAX_MODELS;
  for (int i = 0; i < n; i++) auroc[i] = rp->models[i].ood[k].auroc;
  svg_text(f, fr->x, y, "small", "", "AUROC");
  for (int i = 0; i < n; i++) {
    char title[64], label[96];
    model_title(&rp->models[i], title, sizeof title);
    snprintf(label, sizeof label, "%s: %.1f%%", title, 100 * auroc[i]);
    svg_legend_entry(f, fr->x, y + LINE * (1 + i), model_colour(rp->models, i),
                     best_shown(auroc, n, i, "%.1f", 100.0, 0) ? "small bold" : "small", label);
  }
}

/* Section 3: one ROC panel per OOD set, every model in each. */
static double roc_section(const report *rp, double y) {
  FILE *f = rp->f;
  int num_ood = rp->models[0].num_ood;
  grid g = grid_across(rp->width, num_ood);
  double h = fmin(g.w * 0.85, 200.0);
  fprintf(f, "<g id='panel-roc'>\n");
  double top = section_head(f, y, "3. ROC curves by MSP (ID positive), one panel per OOD set",
                            "A point is a threshold: the share of the OOD set accepted (FPR) against the share of "
                            "the ID test set accepted (TPR). Dashed: chance. Bold: the highest AUROC.") +
               PANEL_TITLE_H;
  for (int k = 0; k < num_ood; k++) roc_panel(rp, k, &(frame){.x = grid_x(&g, k), .y = top, .w = g.w, .h = h});
  fprintf(f, "</g>\n");
  return top + h + X_AXIS_ROOM + LINE * (1 + rp->num_models) + 34;
}

/* ---------------------------------------------------------------- 4. the score table */

#define TABLE_NAME_W 110
#define TABLE_ROW_H 20
#define TABLE_TEXT_W 140 /* in a model's group, right of its bar: FPR95 and AUROC numbers */
#define TABLE_GROUP_MIN (TABLE_TEXT_W + 50)
#define TABLE_BAR_MAX 240

/* The width of one model's group of columns: an equal share of the report's width. */
static double table_group_w(const report *rp) { return (rp->width - LEFT - RIGHT - TABLE_NAME_W) / rp->num_models; }

/* The length of the FPR95 bar at 100% in a group: the group's width less its numbers, capped. */
static double table_bar_w(const report *rp) { return fmin(table_group_w(rp) - TABLE_TEXT_W, TABLE_BAR_MAX); }

/* One number of the table, with an id naming its row, column and model, bold if best. */
static void table_cell(FILE *f, double x, double y, const char *score, const char *column, int model, int bold,
                       double rate) {
  fprintf(f, "<text x='%.1f' y='%.1f' id='cell-%s-%s-%d'%s>%.1f%%</text>\n", x, y, score, column, model,
          bold ? " class='bold'" : "", 100 * rate);
}

/* The table's head: each model's name over its group, and the column names. */
static void table_head(const report *rp, double x0, double y) {
  double gw = table_group_w(rp);
  for (int i = 0; i < rp->num_models; i++) {
    char title[64];
    model_title(&rp->models[i], title, sizeof title);
    double gx = x0 + TABLE_NAME_W + i * gw, bar_w = table_bar_w(rp);
    svg_text(rp->f, gx, y, "", "", "%s", title);
    svg_text(rp->f, gx, y + LINE + 2, "small", "", "avg FPR95");
    svg_text(rp->f, gx + bar_w + 70, y + LINE + 2, "small", "", "avg AUROC");
  }
  svg_text(rp->f, x0, y + LINE + 2, "small", "", "score");
}

/* Row k: the score's name, then per model a bar of its FPR95, the FPR95 and the AUROC. */
static void table_row(const report *rp, int k, double x0, double y) {
  FILE *f = rp->f;
  double gw = table_group_w(rp), bar_w = table_bar_w(rp), fpr[MAX_MODELS], auroc[MAX_MODELS];
  double ty = y + TABLE_ROW_H - 6;
  int n = rp->num_models < MAX_MODELS ? rp->num_models : MAX_MODELS;
  for (int i = 0; i < n; i++) {
    fpr[i] = rp->models[i].scores[k].avg_fpr95;
    auroc[i] = rp->models[i].scores[k].avg_auroc;
  }
  if (k % 2 == 0)
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='#f2f2f2'/>\n", x0, y, rp->width - RIGHT - x0,
            TABLE_ROW_H);
  svg_text(f, x0 + 4, ty, "", "", "%s", score_titles[k]);
  for (int i = 0; i < n; i++) {
    double gx = x0 + TABLE_NAME_W + i * gw;
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='%s' fill-opacity='0.6'/>\n", gx, y + 4,
            fpr[i] * bar_w, TABLE_ROW_H - 8, model_colour(rp->models, i));
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='none' stroke='#bbb'/>\n", gx, y + 4, bar_w,
            TABLE_ROW_H - 8);
    table_cell(f, gx + bar_w + 6, ty, score_names[k], "fpr95", i, best_shown(fpr, n, i, "%.1f", 100.0, 1), fpr[i]);
    table_cell(f, gx + bar_w + 70, ty, score_names[k], "auroc", i, best_shown(auroc, n, i, "%.1f", 100.0, 0),
               auroc[i]);
  }
}

/* Section 4: average FPR95 and AUROC per score and model, the better model's numbers in bold. */
static double score_table_section(const report *rp, double y) {
  FILE *f = rp->f;
  double x0 = LEFT, x1 = rp->width - RIGHT;
  fprintf(f, "<g id='panel-score-table'>\n");
  svg_text(f, x0, y, "section", "", "4. Every score, averaged over the OOD sets");
  y += 30;
  table_head(rp, x0, y);
  y += LINE + 8;
  svg_line(f, x0, y, x1, y, "stroke='#444'");
  /* Two groups, each under its own heading row: the logit scores, then the feature scores. */
  for (int k = 0; k < NUM_SCORES; k++) {
    if (k == 0 || k == FIRST_FEATURE_SCORE) {
      svg_text(f, x0 + 4, y + TABLE_ROW_H - 6, "small bold", "", "%s",
               k == 0 ? "Logit scores"
                      : "Feature scores: the second hidden layer's ReLU outputs, the last layer as the head");
      y += TABLE_ROW_H;
    }
    table_row(rp, k, x0, y);
    y += TABLE_ROW_H;
  }
  svg_line(f, x0, y, x1, y, "stroke='#444'");
  svg_text(f, x0, y + LINE + 2, "small", "",
           "Bars: average FPR95 on a 0-100%% scale. Bold: the better model of the row (lower FPR95, higher AUROC).");
  svg_text(f, x0, y + 2 * LINE + 2, "small", "",
           "Energy at T = 1; ODIN: T = 1000, input step 0.0014 on standardised pixels; KL matching: templates from the "
           "training logits.");
  svg_text(f, x0, y + 3 * LINE + 2, "small", "",
           "Fitted on the %lld training images (KNN and NNGuide banks: the first %lld); DML's lambda from the "
           "held-out images; the rest at their defaults.",
           (long long)rp->models[0].feature_fit_rows, (long long)rp->models[0].bank_rows);
  fprintf(f, "</g>\n");
  return y + 3 * LINE + 2 + 20;
}

/* ---------------------------------------------------------------- the report */

/* ---------------------------------------------------------------- 5. calibration */

/* One reliability curve: a dot per bin at (mean confidence, accuracy), area by the bin's rows. */
static void reliability_curve(FILE *f, const frame *fr, const scale *unit, const reliability *rel, const char *colour) {
  double total = 0.0;
  for (int64_t k = 0; k < rel->bins; k++) total += rel->count[k];
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.3' points='", colour);
  for (int64_t k = 0; k < rel->bins; k++)
    fprintf(f, "%.1f,%.1f ", frame_x(fr, unit, rel->confidence[k]), frame_y(fr, unit, rel->accuracy[k]));
  fprintf(f, "'/>\n");
  for (int64_t k = 0; k < rel->bins; k++)
    fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s' fill-opacity='0.6'/>\n",
            frame_x(fr, unit, rel->confidence[k]), frame_y(fr, unit, rel->accuracy[k]),
            1.5 + 7.0 * sqrt(total > 0 ? rel->count[k] / total : 0.0), colour);
}

/* One model's reliability diagram: the raw logits in grey, at the fitted T in its colour. */
static void reliability_panel(const report *rp, int i, const frame *fr) {
  FILE *f = rp->f;
  const model_result *r = &rp->models[i];
  scale unit = {.lo = 0.0, .hi = 1.0, .step = 0.25, .fmt = "%g", .mult = 1.0};
  char title[64];
  model_title(r, title, sizeof title);
  svg_text(f, fr->x, fr->y - 8, "", "", "%s", title);
  svg_line(f, fr->x, fr->y + fr->h, fr->x + fr->w, fr->y, "stroke='#bbb' stroke-dasharray='4 3'");
  reliability_curve(f, fr, &unit, &r->reliability[0], "#999999");
  if (!isnan(r->temperature)) reliability_curve(f, fr, &unit, &r->reliability[1], model_colour(rp->models, i));
  svg_box(f, fr);
  svg_x_axis(f, fr, &unit, "mean confidence (MSP) of the bin");
  svg_y_axis(f, fr, &unit, "accuracy of the bin");
  double y = fr->y + fr->h + X_AXIS_ROOM + LINE;
  /* one text per line, the ECE after its label: a narrow panel has no room for a second column */
  char line[96];
  snprintf(line, sizeof line, "raw logits: ECE %.1f%%", 100 * r->ece);
  svg_legend_entry(f, fr->x, y, "#999999", "small", line);
  if (isnan(r->temperature)) {
    svg_text(f, fr->x, y + LINE, "small", "", "no finite temperature");
  } else {
    snprintf(line, sizeof line, "logits / %.3g: ECE %.1f%%", r->temperature, 100 * r->ece_scaled);
    svg_legend_entry(f, fr->x, y + LINE, model_colour(rp->models, i), "small", line);
  }
  svg_text(f, fr->x, y + 2 * LINE, "small", "", "AURC (MSP) %.2f%%, E-AURC %.2f%%", 100 * r->aurc, 100 * r->e_aurc);
}

/* Section 5: one reliability diagram per model, MAX_COLS panels a row. */
static double calibration_section(const report *rp, double y) {
  FILE *f = rp->f;
  int cols = rp->num_models < MAX_COLS ? rp->num_models : MAX_COLS;
  grid g = grid_across(rp->width, cols < 2 ? 2 : cols);
  double side = fmin(g.w * 0.85, 200.0), row_h = PANEL_TITLE_H + side + X_AXIS_ROOM + 3 * LINE + 24;
  char intro[256];
  snprintf(intro, sizeof intro,
           "The ID test set in %d equal-width bins of the MSP; a dot's area is its bin's share of the images. "
           "T is fitted on the %lld held-out training images. Dashed: perfect calibration.",
           RELIABILITY_BINS, (long long)rp->models[0].n_fit);
  fprintf(f, "<g id='panel-reliability'>\n");
  double top = section_head(f, y, "5. Calibration: reliability before and after temperature scaling", intro) +
               PANEL_TITLE_H;
  for (int i = 0; i < rp->num_models; i++)
    reliability_panel(rp, i, &(frame){.x = grid_x(&g, i), .y = top + (i / cols) * row_h, .w = side, .h = side});
  fprintf(f, "</g>\n");
  return top + ((rp->num_models + cols - 1) / cols) * row_h;
}

static void svg_header(FILE *f, double width, double height) {
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f'>\n", width,
          height, width, height);
  fprintf(f, "<style>text{font-family:sans-serif;font-size:13px} .small{font-size:10px} "
             ".title{font-size:17px;font-weight:bold} .section{font-size:15px;font-weight:bold} "
             ".bold{font-weight:bold}</style>\n");
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
}

/* The report's title, subtitle and the set colours, once for the whole report. */
static double report_head(const report *rp, const char *subtitle) {
  FILE *f = rp->f;
  const model_result *r = &rp->models[0];
  svg_text(f, LEFT, 26, "title", "", "liblogitnorm: cross-entropy vs LogitNorm, out-of-distribution detection");
  svg_text(f, LEFT, 46, "", "", "%s", subtitle);
  svg_text(f, LEFT, 70, "small", "", "Colours:");
  svg_legend_entry(f, LEFT + 50, 70, id_colour, "small", "ID test set");
  for (int k = 0; k < r->num_ood; k++)
    svg_legend_entry(f, LEFT + 140 + 100 * k, 70, ood_colours[k], "small", r->ood[k].name);
  svg_text(f, LEFT, 88, "small", "",
           "ID = the test set of the training data (the positive class); FPR95 = share of an OOD set accepted at "
           "95%% ID recall.");
  return 118;
}

/* Copies the rest of `from` (rewound) to `to`. */
static int copy_file(FILE *from, FILE *to) {
  char buf[1 << 14];
  size_t n;
  rewind(from);
  while ((n = fread(buf, 1, sizeof buf, from)) > 0)
    if (fwrite(buf, 1, n, to) != n) return -1;
  return ferror(from) ? -1 : 0;
}

int write_svg_report(const char *path, const model_result *models, int num_models, int num_classes,
                     const char *subtitle) {
  if (num_models < 1) return 0;
  /* The sections go to a temporary file first: the height is known once they are drawn. */
  FILE *body = tmpfile();
  if (!body) {
    fprintf(stderr, "mlp_ood: cannot create a temporary file for %s\n", path);
    return -1;
  }
  report rp = {.f = body, .models = models, .num_models = num_models, .num_classes = num_classes,
               .width = fmax(MIN_WIDTH, LEFT + RIGHT + TABLE_NAME_W + num_models * TABLE_GROUP_MIN)};
  double y = report_head(&rp, subtitle);
  y = logit_norm_section(&rp, y);
  y = msp_section(&rp, y);
  y = roc_section(&rp, y);
  y = score_table_section(&rp, y);
  y = calibration_section(&rp, y);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    fclose(body);
    return -1;
  }
  svg_header(f, rp.width, y);
  int copied = copy_file(body, f);
  fclose(body);
  fprintf(f, "</svg>\n");
  if (copied) fprintf(stderr, "mlp_ood: error copying the report body to %s\n", path);
  return close_checked(f, path) || copied ? -1 : 0;
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

/* One sweep panel's data: a value per model (drawn for the LogitNorm models against tau, the
   cross-entropy value as a dashed line), its y axis, how a value is printed below the frame,
   which way is better (the best printed value in bold), and an optional second row of numbers. */
typedef struct sweep_series {
  const char *title;
  const double *values;
  double ce;             /* NAN: no cross-entropy model */
  scale y;
  const char *value_fmt; /* printf format of a value times y.mult */
  int better;            /* -1: lower is better, +1: higher is better, 0: no bold */
  const double *extra;   /* NULL: no second row */
  const char *extra_name;
} sweep_series;

/* Whether model i's value is the best shown in the sweep panel. */
static int sweep_best(const sweep_series *s, int num_models, int i) {
  return s->better != 0 && best_shown(s->values, num_models, i, s->value_fmt, s->y.mult, s->better < 0);
}

static void sweep_panel(FILE *f, const model_result *models, int num_models, const tau_axis *a, double y0,
                        const sweep_series *s) {
  char buf[32];
  frame fr = {.x = a->x0, .y = y0, .w = SWEEP_W, .h = SWEEP_H};
  svg_text(f, fr.x, y0 - 8, "", "", "%s", s->title);
  svg_box(f, &fr);
  svg_y_axis(f, &fr, &s->y, NULL);
  for (int i = 0; i < num_models; i++)
    if (!models[i].logitnorm) {
      double y = frame_y(&fr, &s->y, s->ce);
      svg_line(f, fr.x, y, fr.x + SWEEP_W, y, "stroke='#333' stroke-dasharray='5 3'");
      snprintf(buf, sizeof buf, s->value_fmt, s->ce * s->y.mult);
      svg_text(f, fr.x + SWEEP_W + 6, y + 3.5, sweep_best(s, num_models, i) ? "small bold value" : "small value", "",
               "CE %s", buf);
    }
  fprintf(f, "<polyline fill='none' stroke='#d95f02' stroke-width='2' points='");
  for (int i = 0; i < num_models; i++)
    if (models[i].logitnorm) fprintf(f, "%.1f,%.1f ", tau_x(a, models[i].tau), frame_y(&fr, &s->y, s->values[i]));
  fprintf(f, "'/>\n");
  double row = y0 + SWEEP_H + 18;
  svg_text(f, fr.x - 6, row, "small", "end", "\xcf\x84");
  svg_text(f, fr.x - 6, row + LINE, "small", "end", "value");
  if (s->extra) svg_text(f, fr.x - 6, row + 2 * LINE, "small", "end", "%s", s->extra_name);
  for (int i = 0; i < num_models; i++)
    if (models[i].logitnorm) {
      double x = tau_x(a, models[i].tau);
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='#d95f02'/>\n", x, frame_y(&fr, &s->y, s->values[i]));
      svg_text(f, x, row, "small", "middle", "%g", models[i].tau);
      snprintf(buf, sizeof buf, s->value_fmt, s->values[i] * s->y.mult);
      svg_text(f, x, row + LINE, sweep_best(s, num_models, i) ? "small bold value" : "small value", "middle", "%s",
               buf);
      if (s->extra) {
        snprintf(buf, sizeof buf, s->value_fmt, s->extra[i] * s->y.mult);
        svg_text(f, x, row + 2 * LINE, "small", "middle", "%s", buf);
      }
    }
}

/* The loss's lower bound at SWEEP_POINTS temperatures evenly spaced in log(tau) over the axis,
   from the library; the largest in *top. Returns 0 or -1. */
static int lower_bound_curve(const tau_axis *a, int num_classes, double *curve, double *top) {
  logitnorm_loss *loss_h = NULL;
  logitnorm_status st = logitnorm_loss_create(&loss_h, LOGITNORM_LOSS_LOGITNORM, num_classes);
  for (int p = 0; p < SWEEP_POINTS && st == LOGITNORM_OK; p++) {
    double tau = exp(a->lo + (a->hi - a->lo) * p / (SWEEP_POINTS - 1));
    st = logitnorm_loss_set(loss_h, LOGITNORM_LOSS_TEMPERATURE, tau);
    if (st == LOGITNORM_OK) st = logitnorm_loss_lower_bound(loss_h, &curve[p]);
    if (st == LOGITNORM_OK) *top = fmax(*top, curve[p]);
  }
  logitnorm_loss_free(loss_h);
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "mlp_ood: lower bound for the tau report: %s (%s)\n", logitnorm_status_string(st),
            logitnorm_last_error());
    return -1;
  }
  return 0;
}

int write_tau_svg(const char *path, const model_result *models, int num_models, int num_classes,
                  const char *subtitle) {
  double tmin = INFINITY, tmax = -INFINITY, ce_fpr = NAN, ce_acc = NAN, ce_loss = NAN;
  double acc_lo = INFINITY, acc_hi = -INFINITY, loss_hi = 0.0;
  double fpr[MAX_MODELS], acc[MAX_MODELS], loss[MAX_MODELS], bound[MAX_MODELS];
  if (num_models > MAX_MODELS) num_models = MAX_MODELS;
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
  tau_axis a = {log(tmin) - 0.35, log(tmax) + 0.35, LEFT + 10};
  double curve[SWEEP_POINTS];
  if (lower_bound_curve(&a, num_classes, curve, &loss_hi)) return -1;
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mlp_ood: cannot write %s\n", path);
    return -1;
  }
  double gap = SWEEP_H + 80, top = 96;
  double width = a.x0 + SWEEP_W + 110, height = top + 3 * gap + 20;
  svg_header(f, width, height);
  svg_text(f, LEFT, 26, "title", "", "liblogitnorm: the LogitNorm temperature \xcf\x84");
  svg_text(f, LEFT, 46, "", "", "%s", subtitle);
  svg_text(f, LEFT, 64, "small", "",
           "Orange: LogitNorm at each trained \xcf\x84 (log scale); dashed: cross-entropy. Bold: the best value. "
           "C = %d classes.",
           num_classes);

  fprintf(f, "<g id='panel-tau-fpr95'>\n");
  sweep_series fpr_s = {.title = "Average FPR95 by MSP (lower is better)", .values = fpr, .ce = ce_fpr,
                        .y = {.lo = 0.0, .hi = 1.0, .step = 0.25, .fmt = "%g%%", .mult = 100.0},
                        .value_fmt = "%.1f%%", .better = -1};
  sweep_panel(f, models, num_models, &a, top, &fpr_s);
  fprintf(f, "</g>\n<g id='panel-tau-accuracy'>\n");
  /* accuracy: a round range around the values, about 4 ticks */
  double astep = nice_step(fmax(acc_hi - acc_lo, 0.01), 4);
  sweep_series acc_s = {.title = "ID test accuracy (higher is better)", .values = acc, .ce = ce_acc,
                        .y = {.lo = astep * floor(acc_lo / astep), .hi = astep * ceil(acc_hi / astep), .step = astep,
                              .fmt = "%.3g", .mult = 1.0},
                        .value_fmt = "%.3f", .better = 1};
  if (acc_s.y.hi <= acc_s.y.lo) acc_s.y.hi = acc_s.y.lo + astep;
  sweep_panel(f, models, num_models, &a, top + gap, &acc_s);
  fprintf(f, "</g>\n<g id='panel-tau-bound'>\n");
  double y0 = top + 2 * gap;
  sweep_series loss_s = {.title = "Final training loss (orange, value) and the loss's lower bound (blue, bound)",
                         .values = loss, .ce = ce_loss, .y = scale_from_zero(loss_hi, 4, "%g", 1.0),
                         .value_fmt = "%.3g", .better = 0, .extra = bound, .extra_name = "bound"};
  sweep_panel(f, models, num_models, &a, y0, &loss_s);
  frame fr = {.x = a.x0, .y = y0, .w = SWEEP_W, .h = SWEEP_H};
  fprintf(f, "<polyline fill='none' stroke='#1f78b4' stroke-width='2' points='");
  for (int p = 0; p < SWEEP_POINTS; p++)
    fprintf(f, "%.1f,%.1f ", a.x0 + SWEEP_W * (double)p / (SWEEP_POINTS - 1), frame_y(&fr, &loss_s.y, curve[p]));
  fprintf(f, "'/>\n");
  svg_text(f, a.x0, y0 + SWEEP_H + 18 + 3 * LINE + 4, "small", "",
           "Lower bound: logitnorm_loss_lower_bound, the infimum of the LogitNorm loss over all logits at C = %d",
           num_classes);
  svg_text(f, a.x0, y0 + SWEEP_H + 18 + 4 * LINE + 4, "small", "",
           "(cross-entropy: 0). The training loss is the mean over the last epoch's batches.");
  fprintf(f, "</g>\n</svg>\n");
  return close_checked(f, path);
}
