/* How far the demo's models can be trusted on the ID test set: selective classification by the
   MSP (the risk-coverage metrics of logitnorm_metrics: right predictions are added with
   is_ood = 0, wrong ones with is_ood = 1), and calibration before and after temperature
   scaling, with T fitted on training images held out from training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <logitnorm.h>

#include "mlp_ood.h"

int selective_metrics(const float *msp, const float *logits, const int32_t *labels, int64_t n, int64_t classes,
                      model_result *r) {
  float *split = malloc((size_t)n * sizeof *split); /* the right ones first, then the wrong ones */
  if (split == NULL) return -1;
  int64_t right = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *z = logits + i * classes;
    int64_t best = 0;
    for (int64_t j = 1; j < classes; j++)
      if (z[j] > z[best]) best = j;
    if (best == labels[i]) split[right++] = msp[i];
  }
  for (int64_t i = 0, w = right; i < n; i++) {
    const float *z = logits + i * classes;
    int64_t best = 0;
    for (int64_t j = 1; j < classes; j++)
      if (z[j] > z[best]) best = j;
    if (best != labels[i]) split[w++] = msp[i];
  }
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, split, right, 0);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, split + right, n - right, 1);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AURC, &r->aurc);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_E_AURC, &r->e_aurc);
  logitnorm_metrics_free(m);
  free(split);
  return st == LOGITNORM_OK ? 0 : -1;
}

/* The reliability data of one accumulator into rel (at most RELIABILITY_BINS bins). */
static logitnorm_status reliability_of(const logitnorm_calibration *cal, reliability *rel) {
  logitnorm_status st = logitnorm_calibration_bins(cal, NULL, NULL, NULL, 0, &rel->bins);
  if (st == LOGITNORM_OK)
    st = logitnorm_calibration_bins(cal, rel->count, rel->confidence, rel->accuracy, RELIABILITY_BINS, &rel->bins);
  return st;
}

int temperature_scaling(const float *fit_logits, const int32_t *fit_labels, int64_t n_fit, const float *logits,
                        const int32_t *labels, int64_t n, int64_t classes, model_result *r) {
  logitnorm_status st = logitnorm_calibration_fit_temperature_f32(n_fit, classes, fit_logits, classes, fit_labels,
                                                                  &r->temperature);
  r->n_fit = n_fit;
  int fitted = st == LOGITNORM_OK;
  if (st == LOGITNORM_ERR_INVALID_STATE) { /* no finite minimiser, e.g. every held-out image classified right */
    snprintf(r->no_temperature, sizeof r->no_temperature, "%s", logitnorm_last_error());
    r->temperature = r->ece_scaled = NAN;
    st = LOGITNORM_OK;
  }
  for (int t = 0; t < 1 + fitted && st == LOGITNORM_OK; t++) {
    logitnorm_calibration *cal = NULL;
    st = logitnorm_calibration_create(&cal, classes);
    if (st == LOGITNORM_OK) st = logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_BINS, RELIABILITY_BINS);
    if (st == LOGITNORM_OK && t == 1)
      st = logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_TEMPERATURE, r->temperature);
    if (st == LOGITNORM_OK) st = logitnorm_calibration_add_f32(cal, n, logits, classes, labels);
    if (st == LOGITNORM_OK && t == 1) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ECE, &r->ece_scaled);
    if (st == LOGITNORM_OK) st = reliability_of(cal, &r->reliability[t]);
    logitnorm_calibration_free(cal);
  }
  return st == LOGITNORM_OK ? 0 : -1;
}
