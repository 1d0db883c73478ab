/* Calibration values and reliability-diagram data, from the bins of the current binning
   (ln_bin_table) and the accumulated sums. */
#include <math.h>

#include "calibration.h"
#include "common/error.h"
#include "common/validate.h"

/* Over the bins, with S_k the confidence sum, A_k the number correct and n_k the count of bin k:
     ECE   = sum_k (n_k / N) |S_k/n_k - A_k/n_k| = sum_k |S_k - A_k| / N
     MCE   = max over non-empty bins of |S_k - A_k| / n_k
     RMSCE = sqrt(sum_k (n_k / N) (S_k/n_k - A_k/n_k)^2) = sqrt(sum_k (S_k - A_k)^2 / n_k / N) */
static double ln_binned_value(const ln_bin_table *t, int which, double N) {
  double v = 0.0;
  for (int64_t k = 0; k < t->n; ++k) {
    double gap = fabs(ln_xsum_value(&t->conf[k]) - (double)t->correct[k]);
    if (which == LOGITNORM_CALIBRATION_ECE) v += gap;
    else if (t->count[k] == 0) continue;
    else if (which == LOGITNORM_CALIBRATION_MCE) v = fmax(v, gap / (double)t->count[k]);
    else v += gap * gap / (double)t->count[k];
  }
  if (which == LOGITNORM_CALIBRATION_ECE) return v / N;
  if (which == LOGITNORM_CALIBRATION_RMSCE) return sqrt(v / N);
  return v;
}

static logitnorm_status ln_classwise_value(const logitnorm_calibration *c, double *v) {
  if (c->binning == LOGITNORM_BINNING_EQUAL_MASS)
    return ln_fail(LOGITNORM_ERR_UNSUPPORTED, "CLASSWISE_ECE uses equal-width bins; it is not computed under "
                   "EQUAL_MASS binning");
  if (c->classwise == NULL)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "CLASSWISE_ECE is not available: some of the %lld rows came from a "
                   "calibration blob of format version 1 (liblogitnorm 1.0 or 1.1), which holds no per-class sums",
                   (long long)c->count);
  *v = ln_classwise_ece(c);
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_value(const logitnorm_calibration *c, int which, double *out) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st == LOGITNORM_OK) st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  if (which < LOGITNORM_CALIBRATION_ECE || which > LOGITNORM_CALIBRATION_CLASSWISE_ECE)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown calibration value %d", which);
  if (which == LOGITNORM_CALIBRATION_COUNT) {
    *out = (double)c->count;
    return LOGITNORM_OK;
  }
  if (c->count == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the calibration accumulator is empty");
  double N = (double)c->count, v = 0.0;
  switch (which) {
    case LOGITNORM_CALIBRATION_ECE:
    case LOGITNORM_CALIBRATION_MCE:
    case LOGITNORM_CALIBRATION_RMSCE: {
      ln_bin_table t;
      st = ln_bin_table_make(c, &t);
      if (st != LOGITNORM_OK) return st;
      v = ln_binned_value(&t, which, N);
      ln_bin_table_free(&t);
      break;
    }
    case LOGITNORM_CALIBRATION_CLASSWISE_ECE:
      st = ln_classwise_value(c, &v);
      if (st != LOGITNORM_OK) return st;
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

static int64_t ln_nonempty_bins(const ln_bin_table *t) {
  int64_t n = 0;
  for (int64_t k = 0; k < t->n; ++k) n += t->count[k] > 0;
  return n;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_bins(const logitnorm_calibration *c, double *count,
    double *confidence, double *accuracy, int64_t capacity, int64_t *bins) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st == LOGITNORM_OK) st = ln_check_ptr(bins, "bins");
  if (st == LOGITNORM_OK) st = ln_check_count(capacity, "capacity");
  if (st != LOGITNORM_OK) return st;
  if (c->count == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the calibration accumulator is empty");
  if (capacity > 0) {
    size_t bytes = ln_array_bytes(capacity, sizeof(double));
    st = ln_check_disjoint(count, bytes, "count", confidence, bytes, "confidence");
    if (st == LOGITNORM_OK) st = ln_check_disjoint(count, bytes, "count", accuracy, bytes, "accuracy");
    if (st == LOGITNORM_OK) st = ln_check_disjoint(confidence, bytes, "confidence", accuracy, bytes, "accuracy");
    if (st != LOGITNORM_OK) return st;
  }
  ln_bin_table t;
  st = ln_bin_table_make(c, &t);
  if (st != LOGITNORM_OK) return st;
  int64_t n = ln_nonempty_bins(&t);
  if (capacity > 0 && capacity < n) {
    ln_bin_table_free(&t);
    return ln_fail(LOGITNORM_ERR_BUFFER_TOO_SMALL, "the accumulator has %lld non-empty bins, capacity is %lld",
                   (long long)n, (long long)capacity);
  }
  for (int64_t k = 0, out = 0; capacity > 0 && k < t.n; ++k) {
    if (t.count[k] == 0) continue;
    double nk = (double)t.count[k];
    if (count != NULL) count[out] = nk;
    if (confidence != NULL) confidence[out] = ln_xsum_value(&t.conf[k]) / nk;
    if (accuracy != NULL) accuracy[out] = (double)t.correct[k] / nk;
    ++out;
  }
  ln_bin_table_free(&t);
  *bins = n;
  return LOGITNORM_OK;
}
