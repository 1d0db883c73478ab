/* The OOD metrics that `ood` and `scores` share: every (score, OOD set) pair under the chosen
   conventions, the average over the sets, then the tables or JSON and the SVG (eval/detect.h). */
#include "eval/detect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/svg.h"

static logitnorm_status set_convention(logitnorm_metrics *m, const eval_convention *c, double level) {
  logitnorm_status st = logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, level);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, c->positive);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, c->fpr_rule);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_AUPR_RULE, c->aupr_rule);
  return st;
}

/* A ROC curve kept for the SVG. */
typedef struct eval_curve {
  double *x, *y;
  int64_t n;
} eval_curve;

static int roc_curve(logitnorm_metrics *m, eval_curve *curve) {
  int64_t count = 0;
  logitnorm_status st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, NULL, NULL, NULL, 0, &count);
  if (st != LOGITNORM_OK) return st;
  curve->x = malloc((size_t)count * sizeof *curve->x);
  curve->y = malloc((size_t)count * sizeof *curve->y);
  if (curve->x == NULL || curve->y == NULL) return LOGITNORM_ERR_OUT_OF_MEMORY;
  st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, curve->x, curve->y, NULL, count, &count);
  if (st == LOGITNORM_OK) curve->n = eval_thin_curve(curve->x, curve->y, count, 0.002);
  return st;
}

/* Where the metrics of one ID/OOD pair go, and which conventions. out[c * stride] receives
   convention conv[c]; curve (or NULL) receives the ROC under conv[0]. */
typedef struct pair_job {
  const int *conv;
  int num_conv;
  double level;
  eval_values *out;
  size_t stride;
  eval_curve *curve;
} pair_job;

static int evaluate_pair(const eval_view *id, const eval_view *ood, const pair_job *job) {
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st != LOGITNORM_OK) return eval_library_error(id->file, st);
  int bad = eval_add_view(m, id, 0);
  if (!bad) bad = eval_add_view(m, ood, 1);
  for (int c = 0; c < job->num_conv && !bad; ++c) {
    st = set_convention(m, &eval_conventions[job->conv[c]], job->level);
    eval_values *v = &job->out[(size_t)c * job->stride];
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUROC, &v->auroc);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUPR_IN, &v->aupr_in);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUPR_OUT, &v->aupr_out);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_FPR_AT_TPR, &v->fpr);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR, &v->threshold);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_DETECTION_ERROR, &v->detection_error);
    if (st != LOGITNORM_OK) bad = eval_library_error(ood->file, st);
  }
  if (!bad && job->curve != NULL) {
    st = set_convention(m, &eval_conventions[job->conv[0]], job->level);
    if (st == LOGITNORM_OK) st = roc_curve(m, job->curve);
    if (st != LOGITNORM_OK) bad = eval_library_error(ood->file, st);
  }
  logitnorm_metrics_free(m);
  return bad;
}

/* values[..., k = num_ood] = the mean over the sets (no threshold: it has no mean). */
static void fill_averages(eval_values *values, int num_conv, int num_scores, int num_ood) {
  for (int c = 0; c < num_conv; ++c)
    for (int s = 0; s < num_scores; ++s) {
      eval_values *row = &values[((size_t)c * (size_t)num_scores + (size_t)s) * (size_t)(num_ood + 1)];
      eval_values avg = {.threshold = NAN};
      for (int k = 0; k < num_ood; ++k) {
        avg.auroc += row[k].auroc / num_ood;
        avg.aupr_in += row[k].aupr_in / num_ood;
        avg.aupr_out += row[k].aupr_out / num_ood;
        avg.fpr += row[k].fpr / num_ood;
        avg.detection_error += row[k].detection_error / num_ood;
      }
      row[num_ood] = avg;
    }
}

/* ---------------------------------------------------------------- outputs */

/* views[i * (num_ood + 1) + k]: score i's values of the ID set (k = 0) and OOD set k - 1;
   curves[i * num_ood + k]. Bold marks the best score per OOD set when there are several. */
static int write_svg(const eval_settings *s, const eval_report *r, const eval_view *views,
                     const eval_curve *curves) {
  int nk = r->num_ood, ns = r->num_scores;
  eval_plot_row *rows = calloc((size_t)ns, sizeof *rows);
  eval_plot_set *sets = calloc((size_t)ns * (size_t)nk, sizeof *sets);
  if (rows == NULL || sets == NULL) {
    free(rows);
    free(sets);
    fprintf(stderr, EVAL_PROG ": %s: out of memory\n", s->svg_path);
    return -1;
  }
  for (int i = 0; i < ns; ++i) {
    const eval_view *v = &views[(size_t)i * (size_t)(nk + 1)];
    rows[i].score = r->score_titles[i];
    rows[i].id = (eval_plot_set){.name = r->id.name, .f32 = v[0].f32, .f64 = v[0].f64, .n = v[0].n};
    rows[i].ood = &sets[(size_t)i * (size_t)nk];
    for (int k = 0; k < nk; ++k) {
      const eval_values *val = eval_report_value(r, 0, i, k);
      const eval_curve *cu = &curves[(size_t)i * (size_t)nk + (size_t)k];
      sets[(size_t)i * (size_t)nk + (size_t)k] = (eval_plot_set){
          .name = r->ood[k].name, .f32 = v[k + 1].f32, .f64 = v[k + 1].f64, .n = v[k + 1].n,
          .roc_x = cu->x, .roc_y = cu->y, .roc_n = cu->n, .auroc = val->auroc, .fpr = val->fpr};
    }
  }
  for (int k = 0; k < nk && ns > 1; ++k) {
    double best_auroc = -INFINITY, best_fpr = INFINITY;
    for (int i = 0; i < ns; ++i) {
      best_auroc = fmax(best_auroc, sets[(size_t)i * (size_t)nk + (size_t)k].auroc);
      best_fpr = fmin(best_fpr, sets[(size_t)i * (size_t)nk + (size_t)k].fpr);
    }
    for (int i = 0; i < ns; ++i) {
      eval_plot_set *p = &sets[(size_t)i * (size_t)nk + (size_t)k];
      p->best_auroc = p->auroc == best_auroc;
      p->best_fpr = p->fpr == best_fpr;
    }
  }
  const eval_convention *cv = &eval_conventions[r->conventions[0]];
  char subtitle[512];
  snprintf(subtitle, sizeof subtitle, "ID: %s (%lld %s). Convention %s: %s positive, FPR rule %s, AUPR %s.",
           r->id.file, (long long)r->id.count, ns > 1 ? "rows" : "scores", cv->name,
           cv->positive == LOGITNORM_POSITIVE_ID ? "ID" : "OOD", cv->fpr_rule_name, cv->aupr_rule_name);
  eval_plot plot = {
      .title = ns > 1 ? "logitnorm-eval scores: OOD detection by each logit score"
                      : "logitnorm-eval ood: OOD detection by saved scores",
      .subtitle = subtitle,
      .ood_positive = cv->positive == LOGITNORM_POSITIVE_OOD,
      .tpr_level = r->tpr_level,
      .num_ood = nk,
      .rows = rows,
      .num_rows = ns,
  };
  eval_error err;
  int st = eval_svg_write(s->svg_path, &plot, &err);
  if (st != 0) fprintf(stderr, EVAL_PROG ": %s\n", err.text);
  free(rows);
  free(sets);
  return st;
}

/* The selected conventions into conv; returns their number. */
static int selected_conventions(const eval_settings *s, int conv[EVAL_NUM_CONVENTIONS]) {
  if (!s->all_conventions) {
    conv[0] = s->convention;
    return 1;
  }
  for (int c = 0; c < EVAL_NUM_CONVENTIONS; ++c) conv[c] = c;
  return EVAL_NUM_CONVENTIONS;
}

/* Metrics of every (score, OOD set) pair into values, curves when an SVG is wanted, then the
   tables or JSON and the SVG. views as in write_svg. */
int eval_detect_report(const eval_settings *s, eval_report *r, const eval_view *views) {
  int conv[EVAL_NUM_CONVENTIONS], nc = selected_conventions(s, conv);
  int nk = r->num_ood, ns = r->num_scores;
  size_t stride = (size_t)ns * (size_t)(nk + 1);
  eval_values *values = calloc((size_t)nc * stride, sizeof *values);
  eval_curve *curves = s->svg_path ? calloc((size_t)ns * (size_t)nk, sizeof *curves) : NULL;
  int bad = values == NULL || (s->svg_path && curves == NULL);
  if (bad) fprintf(stderr, EVAL_PROG ": out of memory for the results\n");
  for (int i = 0; i < ns && !bad; ++i)
    for (int k = 0; k < nk && !bad; ++k) {
      pair_job job = {.conv = conv,
                      .num_conv = nc,
                      .level = s->tpr,
                      .out = &values[(size_t)i * (size_t)(nk + 1) + (size_t)k],
                      .stride = stride,
                      .curve = curves ? &curves[(size_t)i * (size_t)nk + (size_t)k] : NULL};
      bad = evaluate_pair(&views[(size_t)i * (size_t)(nk + 1)], &views[(size_t)i * (size_t)(nk + 1) + 1 + k], &job);
    }
  if (!bad) {
    fill_averages(values, nc, ns, nk);
    r->conventions = conv;
    r->num_conventions = nc;
    r->values = values;
    r->tpr_level = s->tpr;
    if (s->json)
      eval_print_json(stdout, r);
    else
      eval_print_tables(stdout, r);
    bad = eval_flush_stdout();
    if (!bad && s->svg_path) bad = write_svg(s, r, views, curves);
    r->values = NULL;
    r->conventions = NULL;
  }
  for (int i = 0; curves && i < ns * nk; ++i) {
    free(curves[i].x);
    free(curves[i].y);
  }
  free(curves);
  free(values);
  return bad ? EVAL_EXIT_DATA : EXIT_SUCCESS;
}
