/* logitnorm-eval calibration: how well the softmax confidences of logits match their accuracy,
   before and after temperature scaling. T is fitted (logitnorm_calibration_fit_temperature_f32)
   on --fit-logits/--fit-labels when given, else on the evaluated rows themselves; every
   calibration value is then computed at T = 1 and at the fitted T, under equal-width and
   equal-mass binning, with one logitnorm_calibration accumulator per (T, binning). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/cli.h"
#include "eval/report.h"
#include "eval/svg_calibration.h"

enum { NUM_BINNINGS = 2, NUM_TEMPS = 2 };
static const char *const binning_keys[NUM_BINNINGS] = {"equal_width", "equal_mass"};
static const char *const binning_titles[NUM_BINNINGS] = {"equal-width bins", "equal-mass bins"};

/* One accumulator's values and reliability data. classwise_ece is NaN under equal-mass binning,
   where the library does not define it. */
typedef struct binned {
  double ece, mce, rmsce, classwise_ece;
  double *count, *confidence, *accuracy;
  int64_t bins;
} binned;

typedef struct calibrated {
  double temperature, accuracy, nll, brier;
  binned by[NUM_BINNINGS];
} calibrated;

/* Logits and their labels, read and checked together. */
typedef struct labelled {
  eval_array z;
  int32_t *y;
} labelled;

static int read_labelled(const eval_settings *s, const char *logits, const char *labels, labelled *out) {
  if (eval_read_logits(logits, &s->read, &out->z) != 0) return -1;
  return eval_read_labels(labels, &s->read, out->z.rows, out->z.cols, logits, &out->y);
}

static void labelled_free(labelled *l) {
  eval_array_free(&l->z);
  free(l->y);
}

static void binned_free(binned *b) {
  free(b->count);
  free(b->confidence);
  free(b->accuracy);
}

/* Values of one (T, binning) accumulator into b; the binning-free ones into c when `first`. */
static logitnorm_status measure(const eval_settings *s, const labelled *d, int binning, calibrated *c, int first) {
  binned *b = &c->by[binning];
  logitnorm_calibration *cal = NULL;
  logitnorm_status st = logitnorm_calibration_create(&cal, d->z.cols);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_BINS, s->bins);
  if (st == LOGITNORM_OK)
    st = logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_BINNING,
                                   binning == 0 ? LOGITNORM_BINNING_EQUAL_WIDTH : LOGITNORM_BINNING_EQUAL_MASS);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_TEMPERATURE, c->temperature);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_add_f32(cal, d->z.rows, d->z.f32, d->z.cols, d->y);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ECE, &b->ece);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_MCE, &b->mce);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_RMSCE, &b->rmsce);
  b->classwise_ece = NAN;
  if (st == LOGITNORM_OK && binning == 0)
    st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &b->classwise_ece);
  if (st == LOGITNORM_OK && first) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ACCURACY, &c->accuracy);
  if (st == LOGITNORM_OK && first) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_NLL, &c->nll);
  if (st == LOGITNORM_OK && first) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_BRIER, &c->brier);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_bins(cal, NULL, NULL, NULL, 0, &b->bins);
  if (st == LOGITNORM_OK) {
    b->count = malloc((size_t)b->bins * sizeof *b->count);
    b->confidence = malloc((size_t)b->bins * sizeof *b->confidence);
    b->accuracy = malloc((size_t)b->bins * sizeof *b->accuracy);
    if (b->count == NULL || b->confidence == NULL || b->accuracy == NULL) st = LOGITNORM_ERR_OUT_OF_MEMORY;
  }
  if (st == LOGITNORM_OK) st = logitnorm_calibration_bins(cal, b->count, b->confidence, b->accuracy, b->bins, &b->bins);
  logitnorm_calibration_free(cal);
  return st;
}

/* ---------------------------------------------------------------- outputs */

static void value_row(const char *name, const calibrated *c, int binning, int which, int percent) {
  printf("  %-16s", name);
  for (int t = 0; t < NUM_TEMPS; ++t) {
    const binned *b = &c[t].by[binning < 0 ? 0 : binning];
    double v = which == 0   ? c[t].accuracy
               : which == 1 ? c[t].nll
               : which == 2 ? c[t].brier
               : which == 3 ? b->ece
               : which == 4 ? b->mce
               : which == 5 ? b->rmsce
                            : b->classwise_ece;
    if (isnan(v))
      printf(" %20s", "-");
    else
      printf(" %20.*f", percent ? 2 : 4, percent ? 100.0 * v : v);
  }
  printf("\n");
}

static void print_table(const eval_settings *s, const labelled *d, int64_t fit_rows, const calibrated *c) {
  printf("Logits: %s, %lld rows of %lld; labels: %s. Bins: %d.\n", s->logits_path, (long long)d->z.rows,
         (long long)d->z.cols, s->labels_path, s->bins);
  if (s->fit_logits_path != NULL)
    printf("T = %.6g, fitted on %s (%lld rows; labels %s).\n\n", c[1].temperature, s->fit_logits_path,
           (long long)fit_rows, s->fit_labels_path);
  else
    printf("T = %.6g, fitted on the evaluated rows themselves (no --fit-logits): the values after scaling are\n"
           "optimistic; fit T on held-out rows to report them.\n\n",
           c[1].temperature);
  char after[64];
  snprintf(after, sizeof after, "after (T = %.4g)", c[1].temperature);
  printf("  %-16s %20s %20s\n", "", "before (T = 1)", after);
  value_row("accuracy", c, -1, 0, 1);
  value_row("NLL", c, -1, 1, 0);
  value_row("Brier", c, -1, 2, 0);
  for (int b = 0; b < NUM_BINNINGS; ++b) {
    printf("  %s\n", binning_titles[b]);
    value_row("  ECE", c, b, 3, 1);
    value_row("  MCE", c, b, 4, 1);
    value_row("  RMSCE", c, b, 5, 1);
    if (b == 0) value_row("  classwise ECE", c, b, 6, 1);
  }
  printf("Values in %% except NLL and Brier (means per row). Accuracy does not change with T.\n");
}

static void json_key_number(const char *key, double v, const char *after) {
  printf("\"%s\": ", key);
  eval_json_number(stdout, v);
  fputs(after, stdout);
}

static void json_array(const char *key, const double *v, int64_t n, const char *after) {
  printf("\"%s\": [", key);
  for (int64_t i = 0; i < n; ++i) {
    if (i) fputs(", ", stdout);
    eval_json_number(stdout, v[i]);
  }
  printf("]%s", after);
}

static void print_json(const eval_settings *s, const labelled *d, int64_t fit_rows, const calibrated *c) {
  printf("{\n  \"command\": \"calibration\",\n  \"library_version\": ");
  eval_json_string(stdout, logitnorm_version_string());
  printf(",\n  \"inputs\": {\"logits\": ");
  eval_json_string(stdout, s->logits_path);
  printf(", \"labels\": ");
  eval_json_string(stdout, s->labels_path);
  printf(", \"count\": %lld, \"classes\": %lld},\n  \"fit\": {", (long long)d->z.rows, (long long)d->z.cols);
  if (s->fit_logits_path != NULL) {
    printf("\"logits\": ");
    eval_json_string(stdout, s->fit_logits_path);
    printf(", \"labels\": ");
    eval_json_string(stdout, s->fit_labels_path);
    printf(", \"count\": %lld, ", (long long)fit_rows);
  } else {
    printf("\"logits\": null, \"labels\": null, \"count\": %lld, ", (long long)fit_rows);
  }
  json_key_number("temperature", c[1].temperature, "},\n");
  printf("  \"bins\": %d,\n  \"results\": [", s->bins);
  for (int t = 0; t < NUM_TEMPS; ++t) {
    printf("%s\n    {", t ? "," : "");
    json_key_number("temperature", c[t].temperature, ", ");
    json_key_number("accuracy", c[t].accuracy, ", ");
    json_key_number("nll", c[t].nll, ", ");
    json_key_number("brier", c[t].brier, "");
    for (int b = 0; b < NUM_BINNINGS; ++b) {
      const binned *v = &c[t].by[b];
      printf(",\n     \"%s\": {", binning_keys[b]);
      json_key_number("ece", v->ece, ", ");
      json_key_number("mce", v->mce, ", ");
      json_key_number("rmsce", v->rmsce, ", ");
      if (b == 0) json_key_number("classwise_ece", v->classwise_ece, ", ");
      printf("\n      \"reliability\": {");
      json_array("count", v->count, v->bins, ", ");
      json_array("confidence", v->confidence, v->bins, ", ");
      json_array("accuracy", v->accuracy, v->bins, "}}");
    }
    printf("}");
  }
  printf("\n  ]\n}\n");
}

static int write_svg(const eval_settings *s, const labelled *d, const calibrated *c) {
  eval_reliability_panel panels[NUM_BINNINGS * NUM_TEMPS];
  for (int b = 0; b < NUM_BINNINGS; ++b)
    for (int t = 0; t < NUM_TEMPS; ++t) {
      const binned *v = &c[t].by[b];
      panels[b * NUM_TEMPS + t] = (eval_reliability_panel){.binning = binning_titles[b],
                                                           .temperature = c[t].temperature,
                                                           .fitted = t == 1,
                                                           .count = v->count,
                                                           .confidence = v->confidence,
                                                           .accuracy = v->accuracy,
                                                           .bins = v->bins,
                                                           .ece = v->ece,
                                                           .mce = v->mce};
    }
  char subtitle[512];
  snprintf(subtitle, sizeof subtitle, "%s (labels %s): %lld rows of %lld classes, %d bins; T fitted on %s.",
           s->logits_path, s->labels_path, (long long)d->z.rows, (long long)d->z.cols, s->bins,
           s->fit_logits_path != NULL ? s->fit_logits_path : "the same rows");
  eval_reliability_plot plot = {.title = "logitnorm-eval calibration: reliability before and after temperature scaling",
                                .subtitle = subtitle,
                                .panels = panels,
                                .rows = NUM_BINNINGS,
                                .cols = NUM_TEMPS};
  eval_error err;
  if (eval_svg_write_reliability(s->svg_path, &plot, &err) == 0) return 0;
  fprintf(stderr, EVAL_PROG ": %s\n", err.text);
  return -1;
}

int eval_run_calibration(const eval_settings *s) {
  labelled data = {0}, fit = {0};
  calibrated c[NUM_TEMPS];
  memset(c, 0, sizeof c);
  int bad = read_labelled(s, s->logits_path, s->labels_path, &data);
  const labelled *fit_on = &data;
  const char *fit_file = s->logits_path;
  if (!bad && s->fit_logits_path != NULL) {
    bad = read_labelled(s, s->fit_logits_path, s->fit_labels_path, &fit);
    if (!bad && fit.z.cols != data.z.cols) {
      fprintf(stderr, EVAL_PROG ": %s: %lld columns, but the logits (%s) have %lld\n", s->fit_logits_path,
              (long long)fit.z.cols, s->logits_path, (long long)data.z.cols);
      bad = -1;
    }
    fit_on = &fit;
    fit_file = s->fit_logits_path;
  }
  c[0].temperature = 1.0;
  if (!bad) {
    logitnorm_status st = logitnorm_calibration_fit_temperature_f32(fit_on->z.rows, fit_on->z.cols, fit_on->z.f32,
                                                                    fit_on->z.cols, fit_on->y, &c[1].temperature);
    if (st != LOGITNORM_OK) bad = eval_library_error(fit_file, st);
  }
  for (int t = 0; t < NUM_TEMPS && !bad; ++t)
    for (int b = 0; b < NUM_BINNINGS && !bad; ++b) {
      logitnorm_status st = measure(s, &data, b, &c[t], b == 0);
      if (st != LOGITNORM_OK) bad = eval_library_error(s->logits_path, st);
    }
  if (!bad) {
    if (s->json)
      print_json(s, &data, fit_on->z.rows, c);
    else
      print_table(s, &data, fit_on->z.rows, c);
    bad = eval_flush_stdout();
  }
  if (!bad && s->svg_path != NULL) bad = write_svg(s, &data, c);
  for (int t = 0; t < NUM_TEMPS; ++t)
    for (int b = 0; b < NUM_BINNINGS; ++b) binned_free(&c[t].by[b]);
  labelled_free(&data);
  labelled_free(&fit);
  return bad ? EVAL_EXIT_DATA : EXIT_SUCCESS;
}
