/* Scorer handle: creation, parameters, head, and the fit -> prepare half of the state machine
   (the score calls are in score_entry.c). Fitting after prepare is an INVALID_STATE error;
   fitting a kind that does not fit is UNSUPPORTED. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/validate.h"
#include "head.h"

int ln_kind_valid(int kind) {
  return (kind >= LOGITNORM_SCORE_MSP && kind <= LOGITNORM_SCORE_MAX_COSINE) ||
         (kind >= LOGITNORM_SCORE_KL_MATCHING && kind <= LOGITNORM_SCORE_FDBD) ||
         (kind >= LOGITNORM_SCORE_GRADNORM && kind <= LOGITNORM_SCORE_DML);
}

int ln_kind_logit_only(int kind) { return kind >= LOGITNORM_SCORE_MSP && kind <= LOGITNORM_SCORE_MAX_COSINE; }

int ln_kind_fits(int kind) {
  return (kind >= LOGITNORM_SCORE_KL_MATCHING && kind <= LOGITNORM_SCORE_FDBD) || kind == LOGITNORM_SCORE_REACT ||
         kind == LOGITNORM_SCORE_DICE;
}

int ln_kind_needs_features(int kind) { return kind >= LOGITNORM_SCORE_MAHALANOBIS; }

int ln_kind_needs_head(int kind) {
  return (kind >= LOGITNORM_SCORE_VIM && kind <= LOGITNORM_SCORE_FDBD) || kind >= LOGITNORM_SCORE_GRADNORM;
}

/* Kinds whose prepared state was computed with the head, which therefore cannot change after prepare. */
static int ln_head_in_state(int kind) {
  return kind == LOGITNORM_SCORE_VIM || kind == LOGITNORM_SCORE_DICE || kind == LOGITNORM_SCORE_NNGUIDE;
}

/* Parameters that shape the prepared state cannot change after prepare. */
static int ln_param_frozen(const logitnorm_scorer *s, int param) {
  if (!s->prepared) return 0;
  switch (param) {
    case LOGITNORM_SCORER_PERCENTILE: return s->kind == LOGITNORM_SCORE_REACT || s->kind == LOGITNORM_SCORE_DICE;
    case LOGITNORM_SCORER_VIM_DIM: return s->kind == LOGITNORM_SCORE_VIM;
    case LOGITNORM_SCORER_RIDGE: return s->kind == LOGITNORM_SCORE_MAHALANOBIS || s->kind == LOGITNORM_SCORE_RMDS;
  }
  return 0;
}

logitnorm_status ln_scorer_check_param(const logitnorm_scorer *s, int param, double v) {
  switch (param) {
    case LOGITNORM_SCORER_TEMPERATURE: return ln_check_param(v, 0.0, 1, INFINITY, 1, "temperature");
    case LOGITNORM_SCORER_GAMMA: return ln_check_param(v, 0.0, 1, INFINITY, 1, "gamma");
    case LOGITNORM_SCORER_TOP_M: return ln_check_param_int(v, 1, (double)INT64_MAX / 2, "top_m");
    case LOGITNORM_SCORER_K: return ln_check_param_int(v, 1, (double)INT32_MAX, "k");
    case LOGITNORM_SCORER_PERCENTILE: return ln_check_param(v, 0.0, 0, 100.0, 1, "percentile");
    case LOGITNORM_SCORER_CLIP: return ln_check_param(v, 0.0, 0, INFINITY, 1, "clip");
    case LOGITNORM_SCORER_ASH_VARIANT: return ln_check_param_int(v, LOGITNORM_ASH_S, LOGITNORM_ASH_B, "ash_variant");
    case LOGITNORM_SCORER_VIM_DIM: {
      /* 0 means the default; otherwise at least one residual dimension must remain. */
      double hi = s->feature_dim > 1 ? (double)(s->feature_dim - 1) : 0.0;
      return ln_check_param_int(v, 0, hi, "vim_dim");
    }
    case LOGITNORM_SCORER_THREADS: return ln_check_param_int(v, 1, 1024, "threads");
    case LOGITNORM_SCORER_RIDGE: return ln_check_param(v, 0.0, 0, INFINITY, 1, "ridge");
    case LOGITNORM_SCORER_LAMBDA: return ln_check_param(v, 0.0, 0, INFINITY, 1, "lambda");
  }
  return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown scorer parameter %d", param);
}

void ln_scorer_store_param(logitnorm_scorer *s, int param, double v) {
  switch (param) {
    case LOGITNORM_SCORER_TEMPERATURE: s->temperature = v; break;
    case LOGITNORM_SCORER_GAMMA: s->gamma = v; break;
    case LOGITNORM_SCORER_TOP_M: s->top_m = (int64_t)v; break;
    case LOGITNORM_SCORER_K: s->k = (int64_t)v; break;
    case LOGITNORM_SCORER_PERCENTILE: s->percentile = v; break;
    case LOGITNORM_SCORER_CLIP: s->clip = v; break;
    case LOGITNORM_SCORER_ASH_VARIANT: s->ash_variant = (int)v; break;
    case LOGITNORM_SCORER_VIM_DIM: s->vim_dim = (int64_t)v; break;
    case LOGITNORM_SCORER_THREADS:
      s->threads = (int)v;
      ln_blas_set_threads(s->blas, s->threads);
      break;
    case LOGITNORM_SCORER_RIDGE: s->ridge = v; break;
    case LOGITNORM_SCORER_LAMBDA: s->lambda = v; break;
  }
}

logitnorm_status ln_scorer_new(logitnorm_scorer **out, int kind, int64_t num_classes, int64_t feature_dim) {
  logitnorm_scorer *s = ln_calloc(1, sizeof *s);
  ln_blas *b = ln_blas_create(1);
  if (s == NULL || b == NULL) {
    ln_free(s);
    ln_blas_free(b);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the scorer handle");
  }
  s->kind = kind;
  s->num_classes = num_classes;
  s->feature_dim = feature_dim;
  s->temperature = kind == LOGITNORM_SCORE_ODIN ? 1000.0 : 1.0;
  s->gamma = 0.1;
  s->top_m = 100;
  s->k = kind == LOGITNORM_SCORE_NNGUIDE ? 100 : 50;            /* OpenOOD's nnguide.yml: K = 100 */
  s->percentile = kind == LOGITNORM_SCORE_SCALE ? 85.0 : 90.0;  /* OpenOOD's scale.yml: 85 */
  s->clip = 0.0;
  s->ash_variant = LOGITNORM_ASH_S;
  s->vim_dim = 0;
  s->threads = 1;
  s->ridge = 1e-6;
  s->lambda = 0.0;
  s->blas = b;
  *out = s;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_scorer_create(logitnorm_scorer **out, logitnorm_score_kind kind,
                                                       int64_t num_classes, int64_t feature_dim) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  if (!ln_kind_valid((int)kind)) return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown score kind %d", (int)kind);
  if (num_classes < 1 || num_classes > INT32_MAX)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "num_classes = %lld is outside [1, %d]", (long long)num_classes,
                   INT32_MAX);
  if (ln_kind_needs_features((int)kind) && (feature_dim < 1 || feature_dim > INT32_MAX))
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "score kind %d needs feature_dim in [1, %d], got %lld", (int)kind,
                   INT32_MAX, (long long)feature_dim);
  if (!ln_kind_needs_features((int)kind) && feature_dim != 0 && (feature_dim < 0 || feature_dim > INT32_MAX))
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "feature_dim = %lld is outside [0, %d]", (long long)feature_dim,
                   INT32_MAX);
  if (kind == LOGITNORM_SCORE_FDBD && num_classes < 2)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "FDBD needs num_classes >= 2 (a decision boundary), got %lld",
                   (long long)num_classes);
  return ln_scorer_new(out, (int)kind, num_classes, feature_dim);
}

LOGITNORM_API void logitnorm_scorer_free(logitnorm_scorer *s) {
  if (s == NULL) return;
  ln_blas_free(s->blas);
  ln_free(s->weight);
  ln_free(s->bias);
  ln_free(s->head_aux);
  ln_free(s->class_n);
  ln_free(s->class_sum);
  ln_free(s->shift);
  ln_free(s->feat_sum);
  ln_free(s->scatter);
  ln_free(s->bank);
  ln_free(s->templates);
  ln_free(s->center);
  ln_free(s->whiten);
  ln_free(s->whiten_bg);
  ln_free(s->bank_sq);
  ln_free(s->vim_basis);
  ln_free(s->dice_weight);
  ln_free(s->fit_mean);
  ln_free(s);
}

LOGITNORM_API logitnorm_status logitnorm_scorer_set(logitnorm_scorer *s, int param, double value) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st != LOGITNORM_OK) return st;
  st = ln_scorer_check_param(s, param, value);
  if (st != LOGITNORM_OK) return st;
  if (ln_param_frozen(s, param))
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "parameter %d shapes the prepared state and cannot change after prepare",
                   param);
  ln_scorer_store_param(s, param, value);
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_scorer_get(const logitnorm_scorer *s, int param, double *value) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st == LOGITNORM_OK) st = ln_check_ptr(value, "value");
  if (st != LOGITNORM_OK) return st;
  switch (param) {
    case LOGITNORM_SCORER_TEMPERATURE: *value = s->temperature; return LOGITNORM_OK;
    case LOGITNORM_SCORER_GAMMA: *value = s->gamma; return LOGITNORM_OK;
    case LOGITNORM_SCORER_TOP_M: *value = (double)s->top_m; return LOGITNORM_OK;
    case LOGITNORM_SCORER_K: *value = (double)s->k; return LOGITNORM_OK;
    case LOGITNORM_SCORER_PERCENTILE: *value = s->percentile; return LOGITNORM_OK;
    case LOGITNORM_SCORER_CLIP: *value = s->clip; return LOGITNORM_OK;
    case LOGITNORM_SCORER_ASH_VARIANT: *value = s->ash_variant; return LOGITNORM_OK;
    case LOGITNORM_SCORER_VIM_DIM: *value = (double)s->vim_dim; return LOGITNORM_OK;
    case LOGITNORM_SCORER_THREADS: *value = s->threads; return LOGITNORM_OK;
    case LOGITNORM_SCORER_RIDGE: *value = s->ridge; return LOGITNORM_OK;
    case LOGITNORM_SCORER_LAMBDA: *value = s->lambda; return LOGITNORM_OK;
  }
  return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown scorer parameter %d", param);
}

LOGITNORM_API logitnorm_status logitnorm_scorer_set_head_f32(logitnorm_scorer *s, const float *weight, int64_t ldw,
                                                             const float *bias) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st != LOGITNORM_OK) return st;
  if (!ln_kind_needs_head(s->kind))
    return ln_fail(LOGITNORM_ERR_UNSUPPORTED, "score kind %d does not use a head", s->kind);
  if (s->prepared && ln_head_in_state(s->kind))
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the head of kind %d is part of its prepared state", s->kind);
  int64_t c = s->num_classes, d = s->feature_dim;
  st = ln_check_matrix(weight, c, d, ldw, sizeof *weight, "weight");
  if (st == LOGITNORM_OK) st = ln_check_finite_f32(weight, c, d, ldw, "weight");
  if (st == LOGITNORM_OK && bias != NULL) st = ln_check_finite_f32(bias, 1, c, c, "bias");
  if (st != LOGITNORM_OK) return st;
  float *w = ln_calloc(c * d, sizeof *w), *b = ln_calloc(c, sizeof *b), *aux = NULL;
  if (w == NULL || b == NULL) {
    ln_free(w);
    ln_free(b);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for a %lld x %lld head", (long long)c, (long long)d);
  }
  for (int64_t i = 0; i < c; ++i) memcpy(w + i * d, weight + i * ldw, (size_t)d * sizeof *w);
  if (bias != NULL) memcpy(b, bias, (size_t)c * sizeof *b);
  st = ln_head_derive(s, w, &aux); /* FDBD rejects a head with two equal rows here */
  if (st != LOGITNORM_OK) {
    ln_free(w);
    ln_free(b);
    return st;
  }
  ln_free(s->weight);
  ln_free(s->bias);
  ln_free(s->head_aux);
  s->weight = w;
  s->bias = b;
  s->head_aux = aux;
  s->has_head = 1;
  s->has_bias = bias != NULL;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_scorer_fit_f32(logitnorm_scorer *s, int64_t n, const float *features,
                                                        int64_t ldf, const float *logits, int64_t ld,
                                                        const int32_t *labels) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st != LOGITNORM_OK) return st;
  if (!ln_kind_fits(s->kind)) return ln_fail(LOGITNORM_ERR_UNSUPPORTED, "score kind %d does not fit", s->kind);
  if (s->prepared)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the scorer is prepared; fitting is closed (create a new one)");
  st = ln_check_count(n, "n");
  if (st != LOGITNORM_OK) return st;
  int64_t c = s->num_classes, d = s->feature_dim;
  if (s->kind == LOGITNORM_SCORE_KL_MATCHING) {
    st = ln_check_matrix(logits, n, c, ld, sizeof *logits, "logits");
  } else {
    st = ln_check_matrix(features, n, d, ldf, sizeof *features, "features");
    if (st == LOGITNORM_OK) st = ln_check_finite_f32(features, n, d, ldf, "features");
  }
  int labelled = s->kind == LOGITNORM_SCORE_MAHALANOBIS || s->kind == LOGITNORM_SCORE_RMDS;
  if (st == LOGITNORM_OK && labelled) st = ln_check_ptr(labels, "labels");
  if (st == LOGITNORM_OK && labels != NULL && (labelled || s->kind == LOGITNORM_SCORE_KL_MATCHING))
    st = ln_check_labels(labels, n, c, INT64_MIN);
  /* -inf is a masked class (DESIGN.md, Version 1.1); a label may not name one */
  if (st == LOGITNORM_OK && s->kind == LOGITNORM_SCORE_KL_MATCHING)
    st = labels != NULL ? ln_check_masked_labelled_f32(logits, n, c, ld, labels, INT64_MIN, "logits")
                        : ln_check_masked_f32(logits, n, c, ld, NULL, 0, "logits");
  if (st != LOGITNORM_OK) return st;
  if (n == 0) return LOGITNORM_OK;
  switch (s->kind) {
    case LOGITNORM_SCORE_KL_MATCHING: return ln_klm_fit(s, n, logits, ld, labels);
    case LOGITNORM_SCORE_MAHALANOBIS:
    case LOGITNORM_SCORE_RMDS: return ln_maha_fit(s, n, features, ldf, labels);
    case LOGITNORM_SCORE_KNN: return ln_bank_append(s, n, features, ldf, LN_BANK_NORMALISED);
    case LOGITNORM_SCORE_VIM:
    case LOGITNORM_SCORE_NNGUIDE: return ln_bank_append(s, n, features, ldf, LN_BANK_RAW);
    case LOGITNORM_SCORE_FDBD: return ln_fit_feature_sum(s, n, features, ldf);
    default: return ln_head_fit(s, n, features, ldf);
  }
}

LOGITNORM_API logitnorm_status logitnorm_scorer_prepare(logitnorm_scorer *s) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st != LOGITNORM_OK) return st;
  if (!ln_kind_fits(s->kind)) return LOGITNORM_OK; /* nothing to prepare */
  if (s->prepared) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the scorer is already prepared");
  if (ln_kind_needs_head(s->kind) && !s->has_head && s->kind != LOGITNORM_SCORE_REACT)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "score kind %d needs set_head_f32 before prepare", s->kind);
  switch (s->kind) {
    case LOGITNORM_SCORE_KL_MATCHING: st = ln_klm_prepare(s); break;
    case LOGITNORM_SCORE_MAHALANOBIS:
    case LOGITNORM_SCORE_RMDS: st = ln_maha_prepare(s); break;
    case LOGITNORM_SCORE_KNN: st = ln_knn_prepare(s); break;
    case LOGITNORM_SCORE_VIM: st = ln_vim_prepare(s); break;
    case LOGITNORM_SCORE_NNGUIDE: st = ln_nnguide_prepare(s); break;
    case LOGITNORM_SCORE_FDBD: st = ln_fdbd_prepare(s); break;
    default: st = ln_head_prepare(s); break;
  }
  if (st == LOGITNORM_OK) s->prepared = 1;
  return st;
}
