/* Calibration: ECE, MCE, accuracy, NLL and Brier score of softmax(z / T). */
#include "calibration.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/matrix_in.h"
#include "common/validate.h"
#include "radix_sort.h"

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
  ln_classwise_free(c);
  ln_mass_free(c);
  ln_free(c);
}

/* Bins, temperature and binning shape what is accumulated, so they can change only while empty. */
LOGITNORM_API logitnorm_status logitnorm_calibration_set(logitnorm_calibration *c, int param, double value) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  if (param == LOGITNORM_CALIBRATION_BINS) st = ln_check_param_int(value, 1, LN_CALIBRATION_MAX_BINS, "bins");
  else if (param == LOGITNORM_CALIBRATION_TEMPERATURE)
    st = ln_check_param(value, LN_CALIBRATION_MIN_TEMPERATURE, 0, LN_CALIBRATION_MAX_TEMPERATURE, 0,
                        "temperature");
  else if (param == LOGITNORM_CALIBRATION_BINNING)
    st = ln_check_param_int(value, LOGITNORM_BINNING_EQUAL_WIDTH, LOGITNORM_BINNING_EQUAL_MASS, "binning");
  else return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown calibration parameter %d", param);
  if (st != LOGITNORM_OK) return st;
  if (c->count > 0)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "calibration parameter %d cannot change after %lld samples were "
                   "added; reset first", param, (long long)c->count);
  if (param == LOGITNORM_CALIBRATION_BINS) {
    st = ln_calibration_alloc_bins(c, (int64_t)value);
    /* the classwise cells have the old shape: the next add allocates them anew */
    if (st == LOGITNORM_OK) ln_classwise_free(c);
    return st;
  }
  if (param == LOGITNORM_CALIBRATION_BINNING) {
    c->binning = (int)value;
    ln_classwise_free(c);
    ln_mass_free(c);
    return LOGITNORM_OK;
  }
  c->temperature = value;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_get(const logitnorm_calibration *c, int param, double *value) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st == LOGITNORM_OK) st = ln_check_ptr(value, "value");
  if (st != LOGITNORM_OK) return st;
  if (param == LOGITNORM_CALIBRATION_BINS) *value = (double)c->bins;
  else if (param == LOGITNORM_CALIBRATION_TEMPERATURE) *value = c->temperature;
  else if (param == LOGITNORM_CALIBRATION_BINNING) *value = (double)c->binning;
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
   The last form avoids 1 - p_y, which cancels when p_y is near 1. With classwise sums on, each
   e_c is kept in c->probs and p_c = e_c / s goes to the (c, bin) cells.
   Masks: a -inf logit is a masked class. Validation leaves at least one finite logit and
   keeps y off the masked ones, so z[pred] is finite, a masked e_c is exp(-inf) = +0 exactly,
   and adding +0 or +0^2 to a positive sum changes no bit: every quantity is that of the row
   with the masked columns removed, with no test in this loop (a masked class has p_c = 0 in
   its classwise bin 0, and its label indicator is 0). */
static void ln_calibration_row(logitnorm_calibration *c, const float *z, int32_t y, int classwise) {
  int64_t C = c->num_classes;
  double T = c->temperature;
  int64_t pred = 0;
  for (int64_t j = 1; j < C; ++j)
    if (z[j] > z[pred]) pred = j;
  double m = (double)z[pred] / T;
  double s = 0.0, s_other = 0.0, sq_other = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    double e = exp((double)z[j] / T - m);
    if (classwise) c->probs[j] = e;
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
  if (classwise) {
    for (int64_t j = 0; j < C; ++j) c->probs[j] /= s;
    ln_classwise_add(c, c->probs, y);
  }
  if (c->binning == LOGITNORM_BINNING_EQUAL_MASS)
    c->mass_keys[correct][c->mass_count[correct]++] = ln_key_from_double(conf);
}

static void ln_calibration_normalize(logitnorm_calibration *c) {
  for (int64_t k = 0; k < c->bins; ++k) ln_xsum_normalize(&c->bin_conf[k]);
  ln_xsum_normalize(&c->nll);
  ln_xsum_normalize(&c->brier);
}

/* Under EQUAL_MASS: room for the batch's keys, counted by correctness (the prediction is the
   first argmax of z, as in ln_calibration_row). row holds C floats for a half row's widening. */
static logitnorm_status ln_reserve_mass_rows(logitnorm_calibration *c, int64_t n, const ln_matrix_in *logits,
                                             const int32_t *labels, float *row) {
  int64_t right = 0, ld = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float *z = ln_rows_f32(logits, i, 1, c->num_classes, row, &ld);
    int64_t pred = 0;
    for (int64_t j = 1; j < c->num_classes; ++j)
      if (z[j] > z[pred]) pred = j;
    right += pred == labels[i];
  }
  logitnorm_status st = ln_mass_reserve(c, 0, n - right);
  return st == LOGITNORM_OK ? ln_mass_reserve(c, 1, right) : st;
}

/* The body of every add call. Everything is validated, and every buffer the batch needs
   allocated, first; with T within its range no row can overflow, so the handle changes only
   when the whole batch is accepted (a failed allocation leaves at most spare capacity behind).
   A half call widens each row into one scratch row of C floats (its one allocation more than
   the _f32 call's, made before anything else), so every pass sees the _f32 call's values. */
static logitnorm_status ln_calibration_add(logitnorm_calibration *c, int64_t n, const ln_matrix_in *logits,
                                           const int32_t *labels) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  st = ln_check_count(n, "n");
  if (st == LOGITNORM_OK) st = ln_check_matrix_in(logits, n, c->num_classes, "logits");
  if (st == LOGITNORM_OK) st = ln_check_ptr(labels, "labels");
  if (st == LOGITNORM_OK) st = ln_check_labels(labels, n, c->num_classes, INT64_MIN);
  /* -inf is a masked class (DESIGN.md, Version 1.1): NaN, +inf, an all-masked row and a label
     on a masked class are bad input */
  if (st == LOGITNORM_OK) st = ln_check_masked_labelled_in(logits, n, c->num_classes, labels, "logits");
  if (st == LOGITNORM_OK && n > INT64_MAX - c->count)
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%lld more samples overflow the count", (long long)n);
  if (st != LOGITNORM_OK || n == 0) return st;
  float *row = NULL;
  if (logits->type != LN_STORE_F32 && (row = ln_malloc(c->num_classes, sizeof *row)) == NULL)
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for a row of %lld widened logits",
                   (long long)c->num_classes);
  /* classwise sums from the first row on, or never until a reset (calibration.h) */
  int classwise = c->binning == LOGITNORM_BINNING_EQUAL_WIDTH && (c->count == 0 || c->classwise != NULL);
  if (classwise) st = ln_classwise_alloc(c);
  if (st == LOGITNORM_OK && c->binning == LOGITNORM_BINNING_EQUAL_MASS)
    st = ln_reserve_mass_rows(c, n, logits, labels, row);
  if (st == LOGITNORM_OK) {
    int64_t ld = 0;
    for (int64_t i = 0; i < n; ++i) {
      ln_calibration_row(c, ln_rows_f32(logits, i, 1, c->num_classes, row, &ld), labels[i], classwise);
      if ((i + 1) % LN_XSUM_ADDS_PER_NORMALIZE == 0) ln_calibration_normalize(c);
    }
    ln_calibration_normalize(c);
  }
  ln_free(row);
  return st;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_add_f32(logitnorm_calibration *c, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels) {
  const ln_matrix_in z = {.type = LN_STORE_F32, .p = logits, .ld = ld};
  return ln_calibration_add(c, n, &z, labels);
}

LOGITNORM_API logitnorm_status logitnorm_calibration_add_bf16(logitnorm_calibration *c, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels) {
  const ln_matrix_in z = {.type = LN_STORE_BF16, .p = logits, .ld = ld};
  return ln_calibration_add(c, n, &z, labels);
}

LOGITNORM_API logitnorm_status logitnorm_calibration_add_f16(logitnorm_calibration *c, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels) {
  const ln_matrix_in z = {.type = LN_STORE_F16, .p = logits, .ld = ld};
  return ln_calibration_add(c, n, &z, labels);
}

/* The classwise part of a merge (calibration.h): the result keeps per-class sums only when
   every row of both sides has them. */
static logitnorm_status ln_merge_classwise(logitnorm_calibration *dst, const logitnorm_calibration *src) {
  if (dst->binning != LOGITNORM_BINNING_EQUAL_WIDTH || src->count == 0) return LOGITNORM_OK;
  int dst_has = dst->count == 0 || dst->classwise != NULL;
  if (!dst_has || src->classwise == NULL) {
    ln_classwise_free(dst);
    return LOGITNORM_OK;
  }
  logitnorm_status st = ln_classwise_alloc(dst); /* zeroed when dst had none */
  if (st == LOGITNORM_OK) ln_classwise_merge(dst, src);
  return st;
}

/* Exact: counts add as integers and the sums as exact fixed-point integers; the equal-mass
   keys are concatenated. The two handles must agree on classes, bins, temperature and
   binning. dst == src doubles the data. */
LOGITNORM_API logitnorm_status logitnorm_calibration_merge(logitnorm_calibration *dst,
                                                           const logitnorm_calibration *src) {
  logitnorm_status st = ln_check_ptr(dst, "dst");
  if (st == LOGITNORM_OK) st = ln_check_ptr(src, "src");
  if (st != LOGITNORM_OK) return st;
  if (dst->num_classes != src->num_classes || dst->bins != src->bins || dst->temperature != src->temperature ||
      dst->binning != src->binning)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "cannot merge calibration accumulators with different classes "
                   "(%lld, %lld), bins (%lld, %lld), temperature (%g, %g) or binning (%d, %d)",
                   (long long)dst->num_classes, (long long)src->num_classes, (long long)dst->bins,
                   (long long)src->bins, dst->temperature, src->temperature, dst->binning, src->binning);
  if (src->count > INT64_MAX - dst->count)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "merged sample count overflows");
  int64_t add[2] = {src->mass_count[0], src->mass_count[1]}; /* before dst grows: src may be dst */
  for (int k = 0; k < 2 && st == LOGITNORM_OK; ++k) st = ln_mass_reserve(dst, k, add[k]);
  /* the classwise cells last: after them nothing can fail */
  if (st == LOGITNORM_OK) st = ln_merge_classwise(dst, src);
  if (st != LOGITNORM_OK) return st;
  for (int k = 0; k < 2; ++k) {
    if (add[k] > 0)
      memmove(dst->mass_keys[k] + dst->mass_count[k], src->mass_keys[k], (size_t)add[k] * sizeof(uint64_t));
    dst->mass_count[k] += add[k];
  }
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
  if (c->classwise != NULL) memset(c->classwise, 0, (size_t)(c->num_classes * c->bins) * sizeof *c->classwise);
  c->mass_count[0] = 0;
  c->mass_count[1] = 0;
  c->count = 0;
  c->correct = 0;
  return LOGITNORM_OK;
}
