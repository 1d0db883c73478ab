/* Scores from the features through the classifier head z = W h + b:
     GRADNORM (Huang et al., NeurIPS 2021), closed form: with L = -sum_k log softmax(z)_k
       (the reference code's all-ones target), dL/dW = (C p - 1) h^T, so
       ||dL/dW||_1 = ||h||_1 * sum_k |C p_k - 1|;
     REACT (Sun et al., NeurIPS 2021): energy of W min(h, c) + b;
     ASH (Djurisic et al., ICLR 2023): per-row pruning of all but the top (100 - p)% of h,
       then S: scale by exp(sum h / sum kept), P: nothing more, B: kept set to sum h / kept;
       then energy;
     DICE (Sun & Li, ECCV 2022): W masked to the entries whose contribution m_j W_cj (m the
       mean fit feature) is above the p-th percentile; then energy.
   Energy is T logsumexp(z / T). */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "head.h"

logitnorm_status ln_head_fit(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf) {
  if (s->kind == LOGITNORM_SCORE_REACT) return ln_bank_append(s, n, h, ldf, LN_BANK_RAW);
  return ln_fit_feature_sum(s, n, h, ldf); /* DICE: the sum of the fit features */
}

static logitnorm_status ln_react_prepare(logitnorm_scorer *s) {
  if (s->bank_n == 0) {
    if (s->clip > 0.0) return LOGITNORM_OK; /* the clip was set directly */
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "ReAct needs fit activations or a CLIP value");
  }
  /* the percentile over every fit activation; the bank is reordered, then dropped */
  s->react_clip = ln_percentile_f32(s->bank, s->bank_n * s->feature_dim, s->percentile);
  ln_bank_drop(s);
  return LOGITNORM_OK;
}

static logitnorm_status ln_dice_prepare(logitnorm_scorer *s) {
  int64_t c = s->num_classes, d = s->feature_dim;
  if (s->fit_n == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "DICE was not fitted with any row");
  float *contrib = ln_calloc(c * d, sizeof *contrib), *masked = ln_calloc(c * d, sizeof *masked);
  if (contrib == NULL || masked == NULL) {
    ln_free(contrib);
    ln_free(masked);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the DICE contributions");
  }
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < d; ++j) contrib[i * d + j] = (float)(s->weight[i * d + j] * (s->feat_sum[j] / (double)s->fit_n));
  for (int64_t t = 0; t < c * d; ++t) masked[t] = contrib[t];
  double thr = ln_percentile_f32(masked, c * d, s->percentile);
  for (int64_t t = 0; t < c * d; ++t) masked[t] = contrib[t] > thr ? s->weight[t] : 0.0f;
  ln_free(contrib);
  s->dice_weight = masked;
  ln_free(s->feat_sum);
  s->feat_sum = NULL;
  return LOGITNORM_OK;
}

logitnorm_status ln_head_prepare(logitnorm_scorer *s) {
  return s->kind == LOGITNORM_SCORE_REACT ? ln_react_prepare(s) : ln_dice_prepare(s);
}

/* ASH on one row x (d values) into y; sorted is d floats of work. */
static void ln_ash_row(const logitnorm_scorer *s, const float *x, float *y, float *work) {
  int64_t d = s->feature_dim;
  int64_t keep = ln_kept_count(d, s->percentile);
  memset(y, 0, (size_t)d * sizeof *y);
  if (keep <= 0) return;
  memcpy(work, x, (size_t)d * sizeof *work);
  float thr = ln_kth_largest_f32(work, d, keep - 1);
  int64_t above = 0;
  for (int64_t j = 0; j < d; ++j) above += x[j] > thr;
  int64_t ties = keep - above; /* entries equal to the threshold, kept in index order */
  double s1 = 0.0, s2 = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    s1 += x[j];
    if (x[j] > thr || (x[j] == thr && ties-- > 0)) {
      y[j] = x[j];
      s2 += x[j];
    }
  }
  if (s->ash_variant == LOGITNORM_ASH_B) { /* the same kept set, every entry set to s1 / keep */
    float fill = (float)(s1 / (double)keep);
    ties = keep - above;
    for (int64_t j = 0; j < d; ++j)
      if (x[j] > thr || (x[j] == thr && ties-- > 0)) y[j] = fill;
  } else if (s->ash_variant == LOGITNORM_ASH_S && s2 != 0.0) {
    double e = s1 / s2;
    if (e > 80.0) e = 80.0; /* keeps exp(e) and the logits finite for unusual inputs */
    if (e < -80.0) e = -80.0;
    float scale = (float)exp(e);
    for (int64_t j = 0; j < d; ++j) y[j] *= scale;
  }
}

logitnorm_status ln_head_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, d = s->feature_dim, blk = LN_SCORE_BLOCK;
  float *x = ln_calloc(blk * d, sizeof *x), *z = ln_calloc(blk * c, sizeof *z), *work = ln_calloc(d, sizeof *work);
  double *zd = ln_calloc(c, sizeof *zd);
  if (x == NULL || z == NULL || work == NULL || zd == NULL) {
    ln_free(x);
    ln_free(z);
    ln_free(work);
    ln_free(zd);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for head scoring work space");
  }
  const float *weight = s->kind == LOGITNORM_SCORE_DICE ? s->dice_weight : s->weight;
  float clip = (float)(s->clip > 0.0 ? s->clip : s->react_clip);
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    const float *hb = h + i0 * ldf;
    const float *in = hb;
    int64_t ldi = ldf;
    if (s->kind == LOGITNORM_SCORE_REACT || s->kind == LOGITNORM_SCORE_ASH) {
      for (int64_t i = 0; i < rows; ++i) {
        if (s->kind == LOGITNORM_SCORE_ASH) {
          ln_ash_row(s, hb + i * ldf, x + i * d, work);
        } else {
          for (int64_t j = 0; j < d; ++j) x[i * d + j] = hb[i * ldf + j] < clip ? hb[i * ldf + j] : clip;
        }
      }
      in = x;
      ldi = d;
    }
    ln_scorer_head_logits(s, weight, rows, in, ldi, z);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < c; ++j) zd[j] = z[i * c + j];
      if (s->kind != LOGITNORM_SCORE_GRADNORM) {
        out[i0 + i] = (float)ln_energy(zd, c, s->temperature);
        continue;
      }
      double m = zd[0], sum = 0.0, l1 = 0.0, g = 0.0;
      for (int64_t j = 1; j < c; ++j)
        if (zd[j] > m) m = zd[j];
      for (int64_t j = 0; j < c; ++j) sum += zd[j] = exp(zd[j] - m);
      for (int64_t j = 0; j < c; ++j) g += fabs((double)c * (zd[j] / sum) - 1.0);
      for (int64_t j = 0; j < d; ++j) l1 += fabs((double)hb[i * ldf + j]);
      out[i0 + i] = (float)(l1 * g);
    }
  }
  ln_free(x);
  ln_free(z);
  ln_free(work);
  ln_free(zd);
  return LOGITNORM_OK;
}
