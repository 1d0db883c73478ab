/* logitnorm-eval selective: risk-coverage metrics of a classifier that may abstain. The input is
   each sample's confidence and whether its prediction was right (--confidence, --correct), or
   logits and labels (--logits, --labels: the prediction is a row's first argmax, the confidence
   its --score). Right samples enter logitnorm_metrics with is_ood = 0 and wrong ones with
   is_ood = 1, as docs/metrics.md says. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/cli.h"
#include "eval/report.h"
#include "eval/svg_selective.h"

static const char *const rule_names[] = {"trapezoid", "geifman", "per-sample"}; /* logitnorm_risk_rule */
static const char *const rule_sources[] = {"fd-shifts", "the E-AURC paper's code", "torch-uncertainty"};

/* Every sample's confidence and whether its prediction was right. */
typedef struct selective_data {
  double *confidence;
  unsigned char *right;
  int64_t n, num_right;
  int64_t classes; /* logits: their columns */
} selective_data;

static void data_free(selective_data *d) {
  free(d->confidence);
  free(d->right);
}

static int alloc_data(selective_data *d, int64_t n, const char *file) {
  d->n = n;
  d->confidence = malloc((size_t)n * sizeof *d->confidence);
  d->right = malloc((size_t)n);
  if (d->confidence != NULL && d->right != NULL) return 0;
  fprintf(stderr, EVAL_PROG ": %s: out of memory for %lld samples\n", file, (long long)n);
  return -1;
}

static double value_at(const eval_array *a, int64_t i) { return a->f32 != NULL ? (double)a->f32[i] : a->f64[i]; }

/* --confidence and --correct: two 1-D files of one length; every confidence finite, every
   correctness 0 or 1. */
static int read_scored(const eval_settings *s, selective_data *d) {
  eval_array conf = {0}, corr = {0};
  int bad = eval_read_vector(s->confidence_path, &s->read, "confidences", &conf);
  if (!bad) bad = eval_read_vector(s->correct_path, &s->read, "correctness values", &corr);
  if (!bad && corr.rows != conf.rows) {
    fprintf(stderr, EVAL_PROG ": %s: %lld values, but the confidences (%s) are %lld\n", s->correct_path,
            (long long)corr.rows, s->confidence_path, (long long)conf.rows);
    bad = -1;
  }
  if (!bad) bad = alloc_data(d, conf.rows, s->confidence_path);
  for (int64_t i = 0; i < d->n && !bad; ++i) {
    double c = value_at(&conf, i), k = value_at(&corr, i);
    if (!isfinite(c)) {
      fprintf(stderr, EVAL_PROG ": %s: confidence %lld (counting from 0) is %s; the metrics need finite values\n",
              s->confidence_path, (long long)i, isnan(c) ? "NaN" : c > 0 ? "+inf" : "-inf");
      bad = -1;
    } else if (k != 0.0 && k != 1.0) {
      fprintf(stderr, EVAL_PROG ": %s: value %lld (counting from 0) is %g, not 1 (right) or 0 (wrong)\n",
              s->correct_path, (long long)i, k);
      bad = -1;
    } else {
      d->confidence[i] = c;
      d->right[i] = k == 1.0;
      d->num_right += k == 1.0;
    }
  }
  eval_array_free(&conf);
  eval_array_free(&corr);
  return bad;
}

/* --logits and --labels: the confidence is the chosen score of each row, the prediction the
   row's first largest logit (numpy's argmax). */
static int read_logits(const eval_settings *s, selective_data *d) {
  eval_array z = {0};
  int32_t *labels = NULL;
  float *scores = NULL;
  int bad = eval_read_logits(s->logits_path, &s->read, &z);
  if (!bad) bad = eval_read_labels(s->labels_path, &s->read, z.rows, z.cols, s->logits_path, &labels);
  if (!bad) bad = alloc_data(d, z.rows, s->logits_path);
  if (!bad) {
    scores = malloc((size_t)z.rows * sizeof *scores);
    if (scores == NULL) {
      fprintf(stderr, EVAL_PROG ": %s: out of memory for %lld scores\n", s->logits_path, (long long)z.rows);
      bad = -1;
    }
  }
  if (!bad) bad = eval_score_logits(s, &eval_score_kinds[s->score], z.cols, z.rows, z.f32, s->logits_path, scores);
  for (int64_t i = 0; i < d->n && !bad; ++i) {
    const float *row = z.f32 + i * z.cols;
    int64_t best = 0;
    for (int64_t j = 1; j < z.cols; ++j)
      if (row[j] > row[best]) best = j;
    d->confidence[i] = scores[i];
    d->right[i] = best == labels[i];
    d->num_right += best == labels[i];
  }
  d->classes = z.cols;
  free(scores);
  free(labels);
  eval_array_free(&z);
  return bad;
}

typedef struct selective_values {
  double aurc, e_aurc, augrc, risk_at_coverage, coverage_at_risk;
} selective_values;

static int compute(const eval_settings *s, const selective_data *d, const char *file, selective_values *v) {
  double *split = malloc((size_t)d->n * sizeof *split); /* right samples first, then wrong ones */
  if (split == NULL) {
    fprintf(stderr, EVAL_PROG ": %s: out of memory\n", file);
    return -1;
  }
  int64_t r = 0, w = d->num_right;
  for (int64_t i = 0; i < d->n; ++i) split[d->right[i] ? r++ : w++] = d->confidence[i];
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_COVERAGE, s->coverage);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK, s->risk);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK_RULE, s->risk_rule);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f64(m, split, d->num_right, 0);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f64(m, split + d->num_right, d->n - d->num_right, 1);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AURC, &v->aurc);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_E_AURC, &v->e_aurc);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUGRC, &v->augrc);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE, &v->risk_at_coverage);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK, &v->coverage_at_risk);
  logitnorm_metrics_free(m);
  free(split);
  return st == LOGITNORM_OK ? 0 : eval_library_error(file, st);
}

static void print_table(const eval_settings *s, const selective_data *d, const selective_values *v) {
  if (s->logits_path != NULL)
    printf("Logits: %s, %lld rows of %lld; labels: %s. Confidence: %s of the logits.\n", s->logits_path,
           (long long)d->n, (long long)d->classes, s->labels_path, eval_score_kinds[s->score].title);
  else
    printf("Confidences: %s; correctness: %s; %lld samples.\n", s->confidence_path, s->correct_path, (long long)d->n);
  printf("Right: %lld of %lld (accuracy %.2f%%). Risk rule: %s (%s).\n\n", (long long)d->num_right, (long long)d->n,
         100.0 * (double)d->num_right / (double)d->n, rule_names[s->risk_rule], rule_sources[s->risk_rule]);
  char risk_at[64], cov_at[64];
  snprintf(risk_at, sizeof risk_at, "risk at %g%% coverage", 100.0 * s->coverage);
  snprintf(cov_at, sizeof cov_at, "coverage at %g%% risk", 100.0 * s->risk);
  printf("%-28s %8.3f\n", "AURC", 100.0 * v->aurc);
  printf("%-28s %8.3f\n", "E-AURC", 100.0 * v->e_aurc);
  printf("%-28s %8.3f\n", "AUGRC", 100.0 * v->augrc);
  printf("%-28s %8.3f\n", risk_at, 100.0 * v->risk_at_coverage);
  printf("%-28s %8.3f\n", cov_at, 100.0 * v->coverage_at_risk);
  printf("%-28s %8.3f\n", "accuracy", 100.0 * (double)d->num_right / (double)d->n);
  printf("Values in %%. Risk: the error rate among the accepted samples; coverage: the share accepted.\n");
}

static void json_field(const char *key, double v, int last) {
  printf("\"%s\": ", key);
  eval_json_number(stdout, v);
  fputs(last ? "" : ", ", stdout);
}

static void print_json(const eval_settings *s, const selective_data *d, const selective_values *v) {
  printf("{\n  \"command\": \"selective\",\n  \"library_version\": ");
  eval_json_string(stdout, logitnorm_version_string());
  printf(",\n  \"inputs\": {");
  if (s->logits_path != NULL) {
    printf("\"logits\": ");
    eval_json_string(stdout, s->logits_path);
    printf(", \"labels\": ");
    eval_json_string(stdout, s->labels_path);
    printf(", \"classes\": %lld, \"score\": \"%s\"", (long long)d->classes, eval_score_kinds[s->score].key);
    if (eval_score_kinds[s->score].kind == LOGITNORM_SCORE_ODIN) {
      printf(", \"odin_temperature\": ");
      eval_json_number(stdout, s->odin_temperature);
    }
  } else {
    printf("\"confidence\": ");
    eval_json_string(stdout, s->confidence_path);
    printf(", \"correct\": ");
    eval_json_string(stdout, s->correct_path);
  }
  printf("},\n  \"count\": %lld,\n  \"right\": %lld,\n  \"accuracy\": ", (long long)d->n, (long long)d->num_right);
  eval_json_number(stdout, (double)d->num_right / (double)d->n);
  printf(",\n  \"rule\": \"%s\",\n  \"coverage_level\": ", rule_names[s->risk_rule]);
  eval_json_number(stdout, s->coverage);
  printf(",\n  \"risk_level\": ");
  eval_json_number(stdout, s->risk);
  printf(",\n  \"values\": {");
  json_field("aurc", v->aurc, 0);
  json_field("e_aurc", v->e_aurc, 0);
  json_field("augrc", v->augrc, 0);
  json_field("risk_at_coverage", v->risk_at_coverage, 0);
  json_field("coverage_at_risk", v->coverage_at_risk, 1);
  printf("}\n}\n");
}

/* ---------------------------------------------------------------- the figure */

static const double *sort_key; /* qsort has no context argument */

static int by_confidence_desc(const void *a, const void *b) {
  double x = sort_key[*(const int64_t *)a], y = sort_key[*(const int64_t *)b];
  return (x < y) - (x > y);
}

/* The risk-coverage points, one per distinct confidence (highest first), as the library
   defines them; then the SVG. */
static int write_svg(const eval_settings *s, const selective_data *d, const selective_values *v) {
  int64_t n = d->n, *order = malloc((size_t)n * sizeof *order);
  double *cov = malloc((size_t)n * sizeof *cov), *risk = malloc((size_t)n * sizeof *risk),
         *grisk = malloc((size_t)n * sizeof *grisk);
  int bad = order == NULL || cov == NULL || risk == NULL || grisk == NULL;
  if (bad) fprintf(stderr, EVAL_PROG ": %s: out of memory for the risk-coverage curve\n", s->svg_path);
  int64_t points = 0;
  if (!bad) {
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    sort_key = d->confidence;
    qsort(order, (size_t)n, sizeof *order, by_confidence_desc);
    int64_t errors = 0;
    for (int64_t i = 0; i < n; ++i) {
      errors += !d->right[order[i]];
      if (i + 1 < n && d->confidence[order[i + 1]] == d->confidence[order[i]]) continue; /* a tie block enters whole */
      cov[points] = (double)(i + 1) / (double)n;
      risk[points] = (double)errors / (double)(i + 1);
      grisk[points] = (double)errors / (double)n;
      ++points;
    }
  }
  if (!bad) {
    char subtitle[512], risk_at[64], cov_at[64];
    if (s->logits_path != NULL)
      snprintf(subtitle, sizeof subtitle, "%s of %s (labels %s): %lld samples, %lld wrong. Risk rule %s.",
               eval_score_kinds[s->score].title, s->logits_path, s->labels_path, (long long)n,
               (long long)(n - d->num_right), rule_names[s->risk_rule]);
    else
      snprintf(subtitle, sizeof subtitle, "Confidences %s, correctness %s: %lld samples, %lld wrong. Risk rule %s.",
               s->confidence_path, s->correct_path, (long long)n, (long long)(n - d->num_right),
               rule_names[s->risk_rule]);
    snprintf(risk_at, sizeof risk_at, "risk at %g%% cov.", 100.0 * s->coverage);
    snprintf(cov_at, sizeof cov_at, "cov. at %g%% risk", 100.0 * s->risk);
    const char *names[] = {"AURC", "E-AURC", "AUGRC", risk_at, cov_at, "accuracy"};
    double values[] = {v->aurc, v->e_aurc, v->augrc, v->risk_at_coverage, v->coverage_at_risk,
                       (double)d->num_right / (double)n};
    eval_rc_plot plot = {.title = "logitnorm-eval selective: risk against coverage",
                         .subtitle = subtitle,
                         .coverage = cov,
                         .risk = risk,
                         .grisk = grisk,
                         .points = points,
                         .count = n,
                         .right = d->num_right,
                         .coverage_level = s->coverage,
                         .risk_level = s->risk,
                         .value_names = names,
                         .values = values,
                         .num_values = 6};
    eval_error err;
    bad = eval_svg_write_risk_coverage(s->svg_path, &plot, &err);
    if (bad) fprintf(stderr, EVAL_PROG ": %s\n", err.text);
  }
  free(order);
  free(cov);
  free(risk);
  free(grisk);
  return bad;
}

int eval_run_selective(const eval_settings *s) {
  selective_data d = {0};
  selective_values v = {0};
  const char *file = s->logits_path != NULL ? s->logits_path : s->confidence_path;
  int bad = s->logits_path != NULL ? read_logits(s, &d) : read_scored(s, &d);
  if (!bad) bad = compute(s, &d, file, &v);
  if (!bad) {
    if (s->json)
      print_json(s, &d, &v);
    else
      print_table(s, &d, &v);
    bad = eval_flush_stdout();
  }
  if (!bad && s->svg_path != NULL) bad = write_svg(s, &d, &v);
  data_free(&d);
  return bad ? EVAL_EXIT_DATA : EXIT_SUCCESS;
}
