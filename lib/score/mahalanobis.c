/* Mahalanobis (Lee et al., NeurIPS 2018) with a tied covariance, and its relative form RMDS
   (Ren et al., 2021). Fit accumulates, in double and about the first fitted row (so that
   large means do not cancel), the class sums and the scatter sum_i x_i x_i^T through GEMM.
   Prepare forms Sigma = (1/N) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T plus a ridge
   r * trace / D * I, factors Sigma = L L^T and keeps A = L^{-1}, so that
   (h - mu)^T Sigma^{-1} (h - mu) = ||A (h - mu)||^2. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "linalg.h"
#include "scorer_internal.h"

logitnorm_status ln_maha_fit(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf, const int32_t *labels) {
  int64_t c = s->num_classes, d = s->feature_dim, blk = LN_SCORE_BLOCK;
  double *x = ln_calloc(blk * d, sizeof *x);
  if (x == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the fit work space");
  if (s->scatter == NULL) {
    double *shift = ln_calloc(d, sizeof *shift), *sum = ln_calloc(d, sizeof *sum);
    double *cs = ln_calloc(c * d, sizeof *cs), *sc = ln_calloc(d * d, sizeof *sc);
    int64_t *cn = ln_calloc(c, sizeof *cn);
    if (shift == NULL || sum == NULL || cs == NULL || sc == NULL || cn == NULL) {
      ln_free(shift);
      ln_free(sum);
      ln_free(cs);
      ln_free(sc);
      ln_free(cn);
      ln_free(x);
      return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for a %lld x %lld scatter matrix", (long long)d,
                     (long long)d);
    }
    for (int64_t j = 0; j < d; ++j) shift[j] = h[j];
    s->shift = shift;
    s->feat_sum = sum;
    s->class_sum = cs;
    s->scatter = sc;
    s->class_n = cn;
  }
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    for (int64_t i = 0; i < rows; ++i) {
      const float *hi = h + (i0 + i) * ldf;
      int64_t y = labels[i0 + i];
      double *xi = x + i * d;
      for (int64_t j = 0; j < d; ++j) {
        xi[j] = (double)hi[j] - s->shift[j];
        s->feat_sum[j] += xi[j];
        s->class_sum[y * d + j] += xi[j];
      }
      s->class_n[y] += 1;
    }
    /* scatter += X^T X */
    ln_gemm_f64(s->blas, d, d, rows, 1.0, x, 1, d, x, d, 1, 1.0, s->scatter, d, 1);
  }
  s->fit_n += n;
  ln_free(x);
  return LOGITNORM_OK;
}

/* Adds the ridge r * trace / D (scale 1 when the trace is 0), factors, and returns A = L^{-1}
   as floats in `out`. cov is destroyed. */
static logitnorm_status ln_whitener(double *cov, int64_t d, double ridge, double *a, float *out, const char *what) {
  double tr = 0.0;
  for (int64_t j = 0; j < d; ++j) tr += cov[j * d + j];
  double add = ridge * (tr > 0.0 ? tr / (double)d : 1.0);
  for (int64_t j = 0; j < d; ++j) cov[j * d + j] += add;
  if (ln_cholesky(cov, d) != 0)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the %s covariance is not positive definite; raise RIDGE", what);
  ln_lower_inverse(cov, d, a);
  for (int64_t j = 0; j < d * d; ++j) out[j] = (float)a[j];
  return LOGITNORM_OK;
}

logitnorm_status ln_maha_prepare(logitnorm_scorer *s) {
  int64_t c = s->num_classes, d = s->feature_dim, nn = s->fit_n;
  int rmds = s->kind == LOGITNORM_SCORE_RMDS;
  if (nn == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the scorer was not fitted with any row");
  int64_t k = 0;
  for (int64_t y = 0; y < c; ++y) k += s->class_n[y] > 0;
  double *cov = ln_calloc(d * d, sizeof *cov), *a = ln_calloc(d * d, sizeof *a), *mu = ln_calloc(d, sizeof *mu);
  double *means = ln_calloc(k * d, sizeof *means);
  float *center = ln_calloc(d, sizeof *center), *wh = ln_calloc(d * d, sizeof *wh);
  float *wb = rmds ? ln_calloc(d * d, sizeof *wb) : NULL;
  logitnorm_status st = LOGITNORM_OK;
  if (cov == NULL || a == NULL || mu == NULL || means == NULL || center == NULL || wh == NULL || (rmds && wb == NULL)) {
    st = ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory preparing a %lld-dimensional covariance", (long long)d);
    goto done;
  }
  for (int64_t j = 0; j < d; ++j) mu[j] = s->feat_sum[j] / (double)nn; /* global mean, shifted */
  if (rmds) { /* background: S / N - mu mu^T */
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) cov[i * d + j] = s->scatter[i * d + j] / (double)nn - mu[i] * mu[j];
    st = ln_whitener(cov, d, s->ridge, a, wb, "background");
    if (st != LOGITNORM_OK) goto done;
  }
  /* tied: S / N - sum_c (n_c / N) mu_c mu_c^T */
  for (int64_t j = 0; j < d * d; ++j) cov[j] = s->scatter[j] / (double)nn;
  for (int64_t y = 0; y < c; ++y) {
    if (s->class_n[y] == 0) continue;
    const double *cy = s->class_sum + y * d;
    double w = 1.0 / ((double)s->class_n[y] * (double)nn); /* (n_c / N) (sum / n_c)(sum / n_c)^T */
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) cov[i * d + j] -= w * cy[i] * cy[j];
  }
  st = ln_whitener(cov, d, s->ridge, a, wh, "class-tied");
  if (st != LOGITNORM_OK) goto done;
  /* whitened class means A (mu_c - g), with g the global mean */
  int64_t r = 0;
  for (int64_t y = 0; y < c; ++y) {
    if (s->class_n[y] == 0) continue;
    for (int64_t j = 0; j < d; ++j) cov[j] = s->class_sum[y * d + j] / (double)s->class_n[y] - mu[j];
    for (int64_t i = 0; i < d; ++i) {
      double acc = 0.0;
      for (int64_t j = 0; j <= i; ++j) acc += a[i * d + j] * cov[j];
      means[r * d + i] = acc;
    }
    ++r;
  }
  for (int64_t j = 0; j < d; ++j) center[j] = (float)(s->shift[j] + mu[j]);
  s->n_templates = k;
  s->templates = means;
  s->center = center;
  s->whiten = wh;
  s->whiten_bg = wb;
  means = NULL;
  center = NULL;
  wh = wb = NULL;
  ln_free(s->scatter);
  ln_free(s->class_sum);
  ln_free(s->class_n);
  ln_free(s->feat_sum);
  ln_free(s->shift);
  s->scatter = s->class_sum = s->feat_sum = s->shift = NULL;
  s->class_n = NULL;
done:
  ln_free(cov);
  ln_free(a);
  ln_free(mu);
  ln_free(means);
  ln_free(center);
  ln_free(wh);
  ln_free(wb);
  return st;
}

/* ||a - b||^2 in float with 8 independent partial sums, so the loop vectorises without
   reassociation by the compiler. Single precision loses nothing here: a is a row of a float
   GEMM, whose own rounding (about sqrt(D) float ulps) dominates. */
static float ln_sq_dist(const float *a, const float *b, int64_t d) {
  float acc[8] = {0};
  int64_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (int l = 0; l < 8; ++l) {
      float e = a[j + l] - b[j + l];
      acc[l] += e * e;
    }
  float tail = 0.0f;
  for (; j < d; ++j) tail += (a[j] - b[j]) * (a[j] - b[j]);
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

/* Per block of rows: Hc = h - g, Y = Hc A^T by GEMM, then the squared distances
   ||y - m_c||^2 to the whitened class means. RMDS adds ||A0 (h - g)||^2. */
logitnorm_status ln_maha_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t d = s->feature_dim, k = s->n_templates, blk = LN_SCORE_BLOCK;
  int rmds = s->whiten_bg != NULL;
  float *hc = ln_calloc(blk * d, sizeof *hc), *y = ln_calloc(blk * d, sizeof *y);
  float *y0 = rmds ? ln_calloc(blk * d, sizeof *y0) : NULL, *means = ln_calloc(k * d, sizeof *means);
  float *zero = rmds ? ln_calloc(d, sizeof *zero) : NULL;
  if (hc == NULL || y == NULL || means == NULL || (rmds && (y0 == NULL || zero == NULL))) {
    ln_free(hc);
    ln_free(y);
    ln_free(y0);
    ln_free(means);
    ln_free(zero);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for Mahalanobis work space");
  }
  for (int64_t i = 0; i < k * d; ++i) means[i] = (float)s->templates[i];
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < d; ++j) hc[i * d + j] = h[(i0 + i) * ldf + j] - s->center[j];
    ln_gemm_f32(s->blas, rows, d, d, 1.0f, hc, d, 1, s->whiten, 1, d, 0.0f, y, d, 1);
    if (rmds) ln_gemm_f32(s->blas, rows, d, d, 1.0f, hc, d, 1, s->whiten_bg, 1, d, 0.0f, y0, d, 1);
    for (int64_t i = 0; i < rows; ++i) {
      float best = INFINITY;
      for (int64_t t = 0; t < k; ++t) best = fminf(best, ln_sq_dist(y + i * d, means + t * d, d));
      double score = -(double)best;
      if (rmds) score += ln_sq_dist(y0 + i * d, zero, d); /* -(min_c MD_c - MD_0) */
      out[i0 + i] = (float)score;
    }
  }
  ln_free(hc);
  ln_free(y);
  ln_free(y0);
  ln_free(means);
  ln_free(zero);
  return LOGITNORM_OK;
}
