/* Loss handle: creation, parameters and class weights. */
#include "loss.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/validate.h"

LOGITNORM_API logitnorm_status logitnorm_loss_create(logitnorm_loss **out, logitnorm_loss_kind kind,
                                                     int64_t num_classes) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  if (kind != LOGITNORM_LOSS_CROSS_ENTROPY && kind != LOGITNORM_LOSS_LOGITNORM)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown loss kind %d", (int)kind);
  if (num_classes < 1 || num_classes > INT32_MAX)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "num_classes = %lld is outside [1, %d]", (long long)num_classes,
                   INT32_MAX);
  logitnorm_loss *h = ln_calloc(1, sizeof *h);
  ln_blas *blas = h == NULL ? NULL : ln_blas_create(1);
  if (blas == NULL) {
    ln_free(h);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the loss handle");
  }
  h->blas = blas;
  h->kind = kind;
  h->num_classes = num_classes;
  h->tau = 0.04;
  h->eps = 1e-7;
  h->smoothing = 0.0;
  h->reduction = LOGITNORM_REDUCTION_MEAN;
  h->ignore_index = -100;
  h->check_finite = 1;
  h->threads = 1;
  h->workspace_bytes = LN_LOSS_WORKSPACE_DEFAULT;
  h->weights = NULL;
  h->weight_sum = (double)num_classes;
  *out = h;
  return LOGITNORM_OK;
}

LOGITNORM_API void logitnorm_loss_free(logitnorm_loss *loss) {
  if (loss == NULL) return;
  ln_blas_free(loss->blas);
  ln_free(loss->weights);
  ln_free(loss);
}

LOGITNORM_API logitnorm_status logitnorm_loss_set(logitnorm_loss *loss, logitnorm_loss_param param, double value) {
  logitnorm_status st = ln_check_ptr(loss, "loss");
  if (st != LOGITNORM_OK) return st;
  switch (param) {
    case LOGITNORM_LOSS_TEMPERATURE:
      if (loss->kind != LOGITNORM_LOSS_LOGITNORM)
        return ln_fail(LOGITNORM_ERR_UNSUPPORTED, "temperature applies to LOGITNORM handles only");
      st = ln_check_param(value, LN_TAU_MIN, 0, INFINITY, 1, "temperature");
      if (st == LOGITNORM_OK) loss->tau = value;
      return st;
    case LOGITNORM_LOSS_EPSILON:
      st = ln_check_param(value, 0.0, 0, INFINITY, 1, "epsilon");
      if (st == LOGITNORM_OK) loss->eps = value;
      return st;
    case LOGITNORM_LOSS_REDUCTION:
      st = ln_check_param_int(value, LOGITNORM_REDUCTION_MEAN, LOGITNORM_REDUCTION_NONE, "reduction");
      if (st == LOGITNORM_OK) loss->reduction = (int)value;
      return st;
    case LOGITNORM_LOSS_LABEL_SMOOTHING:
      st = ln_check_param(value, 0.0, 0, 1.0, 0, "label_smoothing");
      if (st == LOGITNORM_OK) loss->smoothing = value;
      return st;
    case LOGITNORM_LOSS_IGNORE_INDEX:
      st = ln_check_param_int(value, INT32_MIN, INT32_MAX, "ignore_index");
      if (st == LOGITNORM_OK) loss->ignore_index = (int64_t)value;
      return st;
    case LOGITNORM_LOSS_CHECK_FINITE:
      st = ln_check_param_int(value, 0, 1, "check_finite");
      if (st == LOGITNORM_OK) loss->check_finite = (int)value;
      return st;
    case LOGITNORM_LOSS_THREADS:
      st = ln_check_param_int(value, 1, 1024, "threads");
      if (st == LOGITNORM_OK) {
        loss->threads = (int)value;
        ln_blas_set_threads(loss->blas, loss->threads);
      }
      return st;
    case LOGITNORM_LOSS_WORKSPACE_BYTES:
      st = ln_check_param(value, 1.0, 0, 0x1p62, 0, "workspace_bytes"); /* whole bytes: rounded down */
      if (st == LOGITNORM_OK) loss->workspace_bytes = (int64_t)value;
      return st;
  }
  return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown loss parameter %d", (int)param);
}

LOGITNORM_API logitnorm_status logitnorm_loss_get(const logitnorm_loss *loss, logitnorm_loss_param param,
                                                  double *value) {
  logitnorm_status st = ln_check_ptr(loss, "loss");
  if (st == LOGITNORM_OK) st = ln_check_ptr(value, "value");
  if (st != LOGITNORM_OK) return st;
  switch (param) {
    case LOGITNORM_LOSS_TEMPERATURE: *value = loss->tau; return LOGITNORM_OK;
    case LOGITNORM_LOSS_EPSILON: *value = loss->eps; return LOGITNORM_OK;
    case LOGITNORM_LOSS_REDUCTION: *value = loss->reduction; return LOGITNORM_OK;
    case LOGITNORM_LOSS_LABEL_SMOOTHING: *value = loss->smoothing; return LOGITNORM_OK;
    case LOGITNORM_LOSS_IGNORE_INDEX: *value = (double)loss->ignore_index; return LOGITNORM_OK;
    case LOGITNORM_LOSS_CHECK_FINITE: *value = loss->check_finite; return LOGITNORM_OK;
    case LOGITNORM_LOSS_THREADS: *value = loss->threads; return LOGITNORM_OK;
    case LOGITNORM_LOSS_WORKSPACE_BYTES: *value = (double)loss->workspace_bytes; return LOGITNORM_OK;
  }
  return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown loss parameter %d", (int)param);
}

LOGITNORM_API logitnorm_status logitnorm_loss_set_class_weights(logitnorm_loss *loss, const float *weights) {
  logitnorm_status st = ln_check_ptr(loss, "loss");
  if (st != LOGITNORM_OK) return st;
  int64_t C = loss->num_classes;
  if (weights == NULL) {
    ln_free(loss->weights);
    loss->weights = NULL;
    loss->weight_sum = (double)C;
    return LOGITNORM_OK;
  }
  for (int64_t c = 0; c < C; ++c)
    if (!isfinite(weights[c]) || weights[c] < 0.0f)
      return ln_fail(isfinite(weights[c]) ? LOGITNORM_ERR_INVALID_ARGUMENT : LOGITNORM_ERR_NONFINITE,
                     "class weight %lld is %g; weights must be finite and >= 0", (long long)c, weights[c]);
  double *w = ln_calloc(C, sizeof *w);
  if (w == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld class weights", (long long)C);
  double sum = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    w[c] = weights[c];
    sum += w[c];
  }
  ln_free(loss->weights);
  loss->weights = w;
  loss->weight_sum = sum;
  return LOGITNORM_OK;
}
