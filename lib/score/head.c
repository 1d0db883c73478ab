/* The head logits and the feature bank, shared by the feature families (head.h). */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "head.h"

void ln_scorer_head_logits(const logitnorm_scorer *s, const float *weight, int64_t n, const float *h, int64_t ldf,
                           float *z) {
  int64_t c = s->num_classes, d = s->feature_dim;
  for (int64_t i = 0; i < n; ++i) memcpy(z + i * c, s->bias, (size_t)c * sizeof *z);
  /* z = h W^T + z: W^T (d x c) read in place from the row-major C x D head */
  ln_gemm_f32(s->blas, n, c, d, 1.0f, h, ldf, 1, weight, 1, d, 1.0f, z, c, 1);
}

void ln_bank_normalise_row(const float *h, int64_t d, float *x) {
  double sq = 0.0;
  for (int64_t j = 0; j < d; ++j) sq += (double)h[j] * h[j];
  double inv = sq > 0.0 ? 1.0 / sqrt(sq) : 0.0;
  for (int64_t j = 0; j < d; ++j) x[j] = (float)(h[j] * inv);
}

logitnorm_status ln_bank_append(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf, ln_bank_rows rows) {
  int64_t d = s->feature_dim, need = s->bank_n + n;
  if (need > s->bank_cap) {
    int64_t cap = s->bank_cap * 2 > need ? s->bank_cap * 2 : need; /* geometric growth */
    if (cap < 1024) cap = 1024;
    float *b = (cap > INT64_MAX / d) ? NULL : ln_realloc(s->bank, cap * d, sizeof *b);
    if (b == NULL)
      return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for a feature bank of %lld rows", (long long)cap);
    s->bank = b;
    s->bank_cap = cap;
  }
  for (int64_t i = 0; i < n; ++i) {
    float *x = s->bank + (s->bank_n + i) * d;
    if (rows == LN_BANK_NORMALISED)
      ln_bank_normalise_row(h + i * ldf, d, x);
    else
      memcpy(x, h + i * ldf, (size_t)d * sizeof *x);
  }
  s->bank_n = need;
  s->fit_n += n;
  return LOGITNORM_OK;
}

void ln_bank_drop(logitnorm_scorer *s) {
  ln_free(s->bank);
  s->bank = NULL;
  s->bank_n = s->bank_cap = 0;
}

logitnorm_status ln_fit_feature_sum(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf) {
  int64_t d = s->feature_dim;
  if (s->feat_sum == NULL) {
    s->feat_sum = ln_calloc(d, sizeof *s->feat_sum);
    if (s->feat_sum == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the feature mean");
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) s->feat_sum[j] += h[i * ldf + j];
  s->fit_n += n;
  return LOGITNORM_OK;
}

int64_t ln_kept_count(int64_t d, double pct) {
  return d - (int64_t)rint((double)d * pct / 100.0); /* rint: the default rounding, half to even */
}

logitnorm_status ln_head_derive(const logitnorm_scorer *s, const float *w, float **out) {
  switch (s->kind) {
    case LOGITNORM_SCORE_FDBD: return ln_fdbd_pairs(s, w, out);
    case LOGITNORM_SCORE_DML: return ln_dml_units(s, w, out);
  }
  *out = NULL;
  return LOGITNORM_OK;
}
