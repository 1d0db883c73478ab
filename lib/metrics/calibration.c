/* Calibration: ECE, MCE, accuracy, NLL and Brier score of softmax(z / T). */
#include "calibration.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/validate.h"

logitnorm_status ln_calibration_alloc_bins(logitnorm_calibration *c, int64_t bins) {
  int64_t *count = ln_calloc(bins, sizeof *count);
  int64_t *correct = ln_calloc(bins, sizeof *correct);
  ln_xsum *conf = ln_calloc(bins, sizeof *conf);
  if (count == NULL || correct == NULL || conf == NULL) {
    ln_free(count);
    ln_free(correct);
    ln_free(conf);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld calibration bins", (long long)bins);
  }
  ln_free(c->bin_count);
  ln_free(c->bin_correct);
  ln_free(c->bin_conf);
  c->bin_count = count;
  c->bin_correct = correct;
  c->bin_conf = conf;
  c->bins = bins;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_create(logitnorm_calibration **out, int64_t num_classes) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  if (num_classes < 1 || num_classes > INT32_MAX)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "num_classes = %lld is outside [1, %d]", (long long)num_classes,
                   INT32_MAX);
  logitnorm_calibration *c = ln_calloc(1, sizeof *c);
  if (c == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the calibration handle");
  st = ln_calibration_alloc_bins(c, 15); /* 15 bins as in the official LogitNorm code */
  if (st != LOGITNORM_OK) {
    ln_free(c);
    return st;
  }
  c->num_classes = num_classes;
  c->temperature = 1.0;
  *out = c;
  return LOGITNORM_OK;
}

LOGITNORM_API void logitnorm_calibration_free(logitnorm_calibration *c) {
  if (c == NULL) return;
  ln_free(c->bin_count);
  ln_free(c->bin_correct);
  ln_free(c->bin_conf);
  ln_free(c);
}

/* Bins and temperature shape what is accumulated, so they can change only while empty. */
LOGITNORM_API logitnorm_status logitnorm_calibration_set(logitnorm_calibration *c, int param, double value) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  if (param != LOGITNORM_CALIBRATION_BINS && param != LOGITNORM_CALIBRATION_TEMPERATURE)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown calibration parameter %d", param);
  if (param == LOGITNORM_CALIBRATION_BINS) st = ln_check_param_int(value, 1, LN_CALIBRATION_MAX_BINS, "bins");
  else
    st = ln_check_param(value, LN_CALIBRATION_MIN_TEMPERATURE, 0, LN_CALIBRATION_MAX_TEMPERATURE, 0,
                        "temperature");
  if (st != LOGITNORM_OK) return st;
  if (c->count > 0)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "calibration parameter %d cannot change after %lld samples were "
                   "added; reset first", param, (long long)c->count);
  if (param == LOGITNORM_CALIBRATION_BINS) return ln_calibration_alloc_bins(c, (int64_t)value);
  c->temperature = value;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_get(const logitnorm_calibration *c, int param, double *value) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st == LOGITNORM_OK) st = ln_check_ptr(value, "value");
  if (st != LOGITNORM_OK) return st;
  if (param == LOGITNORM_CALIBRATION_BINS) *value = (double)c->bins;
  else if (param == LOGITNORM_CALIBRATION_TEMPERATURE) *value = c->temperature;
  else return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown calibration parameter %d", param);
  return LOGITNORM_OK;
}

int64_t ln_calibration_bin(double conf, int64_t bins) {
  /* First guess ceil(conf B) - 1, then corrected against the boundaries k / B as doubles so
     that the rule lo < conf <= hi holds exactly for the boundaries as computed. */
  double B = (double)bins;
  int64_t k = (int64_t)ceil(conf * B) - 1;
  if (k < 0) k = 0;
  if (k > bins - 1) k = bins - 1;
  while (k > 0 && conf <= (double)k / B) --k;
  while (k < bins - 1 && conf > (double)(k + 1) / B) ++k;
  return k;
}

/* One row: prediction = first argmax of z; with m = max z/T, e_c = exp(z_c/T - m), s = sum e_c:
     confidence = 1 / s                     (the softmax of the argmax, whose e is 1)
     NLL        = (m - z_y/T) + log s       (= -log softmax(z/T)_y, both terms >= 0)
     Brier      = sum_{c != y} e_c^2 / s^2 + (sum_{c != y} e_c / s)^2
   The last form avoids 1 - p_y, which cancels when p_y is near 1.
   Masks: a -inf logit is a masked class. Validation leaves at least one finite logit and
   keeps y off the masked ones, so z[pred] is finite, a masked e_c is exp(-inf) = +0 exactly,
   and adding +0 or +0^2 to a positive sum changes no bit: every quantity is that of the row
   with the masked columns removed, with no test in this loop. */
static void ln_calibration_row(logitnorm_calibration *c, const float *z, int32_t y) {
  int64_t C = c->num_classes;
  double T = c->temperature;
  int64_t pred = 0;
  for (int64_t j = 1; j < C; ++j)
    if (z[j] > z[pred]) pred = j;
  double m = (double)z[pred] / T;
  double s = 0.0, s_other = 0.0, sq_other = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    double e = exp((double)z[j] / T - m);
    s += e;
    if (j != y) {
      s_other += e;
      sq_other += e * e;
    }
  }
  double conf = 1.0 / s;
  double nll = (m - (double)z[y] / T) + log(s);
  double q = s_other / s;
  double brier = sq_other / (s * s) + q * q;
  int64_t k = ln_calibration_bin(conf, c->bins);
  int correct = pred == y;
  c->bin_count[k]++;
  c->bin_correct[k] += correct;
  ln_xsum_add(&c->bin_conf[k], conf);
  ln_xsum_add(&c->nll, nll);
  ln_xsum_add(&c->brier, brier);
  c->count++;
  c->correct += correct;
}

static void ln_calibration_normalize(logitnorm_calibration *c) {
  for (int64_t k = 0; k < c->bins; ++k) ln_xsum_normalize(&c->bin_conf[k]);
  ln_xsum_normalize(&c->nll);
  ln_xsum_normalize(&c->brier);
}

/* Everything is validated first; with T within its range no row can overflow, so the
   handle changes only when the whole batch is accepted. */
LOGITNORM_API logitnorm_status logitnorm_calibration_add_f32(logitnorm_calibration *c, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  st = ln_check_count(n, "n");
  if (st == LOGITNORM_OK) st = ln_check_matrix(logits, n, c->num_classes, ld, sizeof(float), "logits");
  if (st == LOGITNORM_OK) st = ln_check_ptr(labels, "labels");
  if (st == LOGITNORM_OK) st = ln_check_labels(labels, n, c->num_classes, INT64_MIN);
  /* -inf is a masked class (DESIGN.md, Version 1.1): NaN, +inf, an all-masked row and a label
     on a masked class are bad input */
  if (st == LOGITNORM_OK) st = ln_check_masked_labelled_f32(logits, n, c->num_classes, ld, labels, INT64_MIN, "logits");
  if (st == LOGITNORM_OK && n > INT64_MAX - c->count)
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%lld more samples overflow the count", (long long)n);
  if (st != LOGITNORM_OK) return st;
  for (int64_t i = 0; i < n; ++i) {
    ln_calibration_row(c, logits + i * ld, labels[i]);
    if ((i + 1) % LN_XSUM_ADDS_PER_NORMALIZE == 0) ln_calibration_normalize(c);
  }
  ln_calibration_normalize(c);
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_value(const logitnorm_calibration *c, int which, double *out) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st == LOGITNORM_OK) st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  if (which < LOGITNORM_CALIBRATION_ECE || which > LOGITNORM_CALIBRATION_COUNT)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown calibration value %d", which);
  if (which == LOGITNORM_CALIBRATION_COUNT) {
    *out = (double)c->count;
    return LOGITNORM_OK;
  }
  if (c->count == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the calibration accumulator is empty");
  double N = (double)c->count, v = 0.0;
  switch (which) {
    case LOGITNORM_CALIBRATION_ECE: {
      /* sum_k (n_k / N) |conf_k - acc_k| = sum_k |S_k - A_k| / N, S_k the confidence sum,
         A_k the number correct in bin k. */
      double sum = 0.0;
      for (int64_t k = 0; k < c->bins; ++k)
        sum += fabs(ln_xsum_value(&c->bin_conf[k]) - (double)c->bin_correct[k]);
      v = sum / N;
      break;
    }
    case LOGITNORM_CALIBRATION_MCE:
      /* max over non-empty bins of |conf_k - acc_k|. */
      for (int64_t k = 0; k < c->bins; ++k)
        if (c->bin_count[k] > 0) {
          double gap = fabs(ln_xsum_value(&c->bin_conf[k]) - (double)c->bin_correct[k]) / (double)c->bin_count[k];
          if (gap > v) v = gap;
        }
      break;
    case LOGITNORM_CALIBRATION_ACCURACY: v = (double)c->correct / N; break;
    case LOGITNORM_CALIBRATION_NLL: v = ln_xsum_value(&c->nll) / N; break;
    case LOGITNORM_CALIBRATION_BRIER: v = ln_xsum_value(&c->brier) / N; break;
  }
  /* the exact NLL sum can exceed DBL_MAX (huge logits over a tiny temperature, or merges) */
  if (!isfinite(v)) return ln_fail(LOGITNORM_ERR_NONFINITE, "calibration value %d overflows a double", which);
  *out = v;
  return LOGITNORM_OK;
}

/* Exact: counts add as integers and the sums as exact fixed-point integers. The two handles
   must agree on classes, bins and temperature. dst == src doubles the data. */
LOGITNORM_API logitnorm_status logitnorm_calibration_merge(logitnorm_calibration *dst,
                                                           const logitnorm_calibration *src) {
  logitnorm_status st = ln_check_ptr(dst, "dst");
  if (st == LOGITNORM_OK) st = ln_check_ptr(src, "src");
  if (st != LOGITNORM_OK) return st;
  if (dst->num_classes != src->num_classes || dst->bins != src->bins || dst->temperature != src->temperature)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "cannot merge calibration accumulators with different classes "
                   "(%lld, %lld), bins (%lld, %lld) or temperature (%g, %g)", (long long)dst->num_classes,
                   (long long)src->num_classes, (long long)dst->bins, (long long)src->bins, dst->temperature,
                   src->temperature);
  if (src->count > INT64_MAX - dst->count)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "merged sample count overflows");
  for (int64_t k = 0; k < dst->bins; ++k) {
    dst->bin_count[k] += src->bin_count[k];
    dst->bin_correct[k] += src->bin_correct[k];
    ln_xsum_merge(&dst->bin_conf[k], &src->bin_conf[k]);
  }
  ln_xsum_merge(&dst->nll, &src->nll);
  ln_xsum_merge(&dst->brier, &src->brier);
  dst->count += src->count;
  dst->correct += src->correct;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_reset(logitnorm_calibration *c) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  memset(c->bin_count, 0, (size_t)c->bins * sizeof *c->bin_count);
  memset(c->bin_correct, 0, (size_t)c->bins * sizeof *c->bin_correct);
  memset(c->bin_conf, 0, (size_t)c->bins * sizeof *c->bin_conf);
  memset(&c->nll, 0, sizeof c->nll);
  memset(&c->brier, 0, sizeof c->brier);
  c->count = 0;
  c->correct = 0;
  return LOGITNORM_OK;
}
