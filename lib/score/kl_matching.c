/* KL matching (Hendrycks et al., "Scaling Out-of-Distribution Detection for Real-World
   Settings", ICML 2022): one template per class, the mean softmax of the fit rows of that
   class (the label when given, else the predicted class). score = -min_k KL(p || d_k).
   Masks: a -inf logit is a masked class with p = +0 exactly (exp(-inf) = 0 after the finite
   row maximum); it adds 0 to the template means and, as 0 log 0 = 0, nothing to KL. A fit
   label on a masked class is rejected by the caller's validation. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "scorer_internal.h"

/* Softmax of one row in double: p_j = exp(z_j - max) / sum. Returns log(sum) - (-max), i.e.
   logsumexp(z), so that log p_j = z_j - lse. */
static double ln_softmax_row(const float *z, int64_t c, double *p) {
  double m = z[0];
  for (int64_t j = 1; j < c; ++j)
    if (z[j] > m) m = z[j];
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j) sum += p[j] = exp((double)z[j] - m);
  for (int64_t j = 0; j < c; ++j) p[j] /= sum;
  return m + log(sum);
}

logitnorm_status ln_klm_fit(logitnorm_scorer *s, int64_t n, const float *logits, int64_t ld, const int32_t *labels) {
  int64_t c = s->num_classes;
  if (s->class_n == NULL) {
    int64_t *cn = ln_calloc(c, sizeof *cn);
    double *cs = ln_calloc(c * c, sizeof *cs);
    if (cn == NULL || cs == NULL) {
      ln_free(cn);
      ln_free(cs);
      return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld class templates", (long long)c);
    }
    s->class_n = cn;
    s->class_sum = cs;
  }
  double *p = ln_calloc(c, sizeof *p);
  if (p == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for a softmax row");
  for (int64_t i = 0; i < n; ++i) {
    const float *z = logits + i * ld;
    ln_softmax_row(z, c, p);
    int64_t y = 0;
    if (labels != NULL) {
      y = labels[i];
    } else {
      for (int64_t j = 1; j < c; ++j)
        if (z[j] > z[y]) y = j;
    }
    s->class_n[y] += 1;
    for (int64_t j = 0; j < c; ++j) s->class_sum[y * c + j] += p[j];
  }
  s->fit_n += n;
  ln_free(p);
  return LOGITNORM_OK;
}

logitnorm_status ln_klm_prepare(logitnorm_scorer *s) {
  int64_t c = s->num_classes, k = 0;
  for (int64_t y = 0; s->class_n != NULL && y < c; ++y) k += s->class_n[y] > 0;
  if (k == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "KL matching was not fitted with any row");
  double *t = ln_calloc(k * c, sizeof *t);
  if (t == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld templates", (long long)k);
  int64_t r = 0;
  for (int64_t y = 0; y < c; ++y) {
    if (s->class_n[y] == 0) continue; /* a class never seen has no template */
    for (int64_t j = 0; j < c; ++j) {
      double d = s->class_sum[y * c + j] / (double)s->class_n[y];
      t[r * c + j] = log(d > 1e-300 ? d : 1e-300); /* keeps KL finite where a mean underflowed */
    }
    ++r;
  }
  s->n_templates = k;
  s->templates = t;
  ln_free(s->class_sum);
  ln_free(s->class_n);
  s->class_sum = NULL;
  s->class_n = NULL;
  return LOGITNORM_OK;
}

/* KL(p || d_k) = sum_j p_j log p_j - sum_j p_j log d_kj; the cross term for a block of rows
   and all templates is one GEMM, P (rows x C) times log-templates^T (C x K). */
logitnorm_status ln_klm_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ld = b->ld;
  const float *logits = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, k = s->n_templates, blk = LN_SCORE_BLOCK;
  double *p = ln_calloc(blk * c, sizeof *p), *cross = ln_calloc(blk * k, sizeof *cross);
  double *negent = ln_calloc(blk, sizeof *negent);
  if (p == NULL || cross == NULL || negent == NULL) {
    ln_free(p);
    ln_free(cross);
    ln_free(negent);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for KL matching work space");
  }
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    for (int64_t i = 0; i < rows; ++i) {
      const float *z = logits + (i0 + i) * ld;
      double *pi = p + i * c;
      double lse = ln_softmax_row(z, c, pi), h = 0.0;
      for (int64_t j = 0; j < c; ++j) h += pi[j] * ((double)z[j] - lse);
      if (isnan(h)) { /* only a masked term, 0 * -inf, makes a NaN: sum again without them */
        h = 0.0;
        for (int64_t j = 0; j < c; ++j)
          if (z[j] != -INFINITY) h += pi[j] * ((double)z[j] - lse);
      }
      negent[i] = h;
    }
    ln_gemm_f64(s->blas, rows, k, c, 1.0, p, c, 1, s->templates, 1, c, 0.0, cross, k, 1);
    for (int64_t i = 0; i < rows; ++i) {
      double best = cross[i * k];
      for (int64_t t = 1; t < k; ++t)
        if (cross[i * k + t] > best) best = cross[i * k + t];
      out[i0 + i] = (float)(best - negent[i]); /* -min_k KL = max_k cross_k - sum p log p */
    }
  }
  ln_free(p);
  ln_free(cross);
  ln_free(negent);
  return LOGITNORM_OK;
}
